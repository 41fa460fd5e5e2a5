//! A previous model's rows mapped by id onto the training matrix of an update (`--mode
//! update`): the model's item and user rows follow its own catalogue, which the new data may
//! have grown or reordered.

use std::collections::HashMap;

use edgerec_core::{IdList, Model};

use super::TrainingMatrix;
use super::ease::EaseRows;
use crate::dataset::Dataset;

/// Row of each id of `ids`.
#[must_use]
pub fn rows_by_id(ids: &IdList) -> HashMap<&str, usize> {
    ids.iter().enumerate().map(|(r, id)| (id, r)).collect()
}

/// Rows of the previous model's items (`row` of a previous item index), mapped by item id
/// onto the catalogue of `m`: items it did not know get empty rows, and entries naming items
/// no longer in the catalogue are dropped.
#[must_use]
pub fn rows_onto<'p>(
    prev: &Model,
    ds: &Dataset,
    m: &TrainingMatrix,
    row: impl Fn(usize) -> (&'p [u32], &'p [f32]),
) -> EaseRows {
    let prev_items = rows_by_id(&prev.catalog.item_ids);
    let mut new_of_prev = vec![u32::MAX; prev.catalog.item_ids.len()];
    let mut prev_of_new = vec![usize::MAX; m.items.len()];
    for (c, &d) in m.items.iter().enumerate() {
        let Some(&r) = ds
            .item_ids
            .get(d as usize)
            .and_then(|id| prev_items.get(id.as_str()))
        else {
            continue;
        };
        if let Some(slot) = new_of_prev.get_mut(r) {
            *slot = u32::try_from(c).unwrap_or(u32::MAX);
            prev_of_new[c] = r;
        }
    }
    prev_of_new
        .iter()
        .map(|&r| {
            if r == usize::MAX {
                return Vec::new();
            }
            let (js, ws) = row(r);
            js.iter()
                .zip(ws)
                .filter_map(|(&j, &w)| {
                    let c = *new_of_prev.get(j as usize)?;
                    (c != u32::MAX).then_some((c, w))
                })
                .collect()
        })
        .collect()
}
