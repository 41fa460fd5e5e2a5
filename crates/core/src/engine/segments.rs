//! User segments (Personalize's `item-affinity` and `item-attribute-affinity`): the known users
//! most likely to interact with a set of items, ranked by a factor recommender.

use super::Engine;
use crate::error::{RequestError, quoted};
use crate::model::RecommenderModel;
use crate::topk::TopK;

/// One user of a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentUser {
    pub user_id: String,
    pub score: f32,
}

impl Engine {
    /// The `num_results` known users with the highest affinity to `items` (catalogue rows): the
    /// dot product of the user's factors with the mean of the items' factors. Users who already
    /// interacted with one of the items are left out. Needs a factor recommender
    /// (`user-personalization`).
    pub fn users_for_items(
        &self,
        recommender: &str,
        items: &[u32],
        num_results: usize,
    ) -> Result<Vec<SegmentUser>, RequestError> {
        let model = self.model();
        let rec = model
            .recommender(recommender)
            .ok_or_else(|| RequestError::NotFound {
                what: "recommender",
                name: recommender.to_owned(),
            })?;
        let RecommenderModel::Factors(fm) = &rec.model else {
            return Err(RequestError::invalid(
                "recommender",
                format!(
                    "{} is a {} recommender; segments need user-personalization factors",
                    quoted(recommender),
                    rec.recipe.name()
                ),
            ));
        };
        let rows = fm.item_factors.rows();
        let items: Vec<usize> = items
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| i < rows)
            .collect();
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let d = fm.dim();
        let mut query = vec![0.0f32; d];
        let mut row = vec![0.0f32; d];
        for &i in &items {
            fm.item_factors.row_into(i, &mut row);
            query.iter_mut().zip(&row).for_each(|(q, r)| *q += r);
        }
        #[allow(clippy::cast_precision_loss)]
        let n = items.len() as f32;
        query.iter_mut().for_each(|q| *q /= n);
        let mut wanted = vec![false; rows];
        for &i in &items {
            wanted[i] = true;
        }
        let mut top = TopK::new(num_results);
        fm.user_factors.score_all(&query, |u, s| {
            let seen = model
                .histories
                .items_of(u)
                .iter()
                .any(|&i| wanted.get(i as usize).copied().unwrap_or(false));
            if !seen && let Ok(u) = u32::try_from(u) {
                top.push(u, s);
            }
        });
        Ok(top
            .into_sorted()
            .into_iter()
            .filter_map(|s| {
                Some(SegmentUser {
                    user_id: model.users.user_ids.get(s.item as usize)?.to_owned(),
                    score: s.score,
                })
            })
            .collect())
    }
}
