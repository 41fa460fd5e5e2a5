//! Filters in requests: resolving named filters, evaluating a compiled plan for the actor,
//! popular back-fill and promotions.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Engine, history};
use crate::bitset::BitSet;
use crate::error::RequestError;
use crate::filter::{CompiledFilter, FilterInput, ItemMask, validate_filter_values};
use crate::session::Session;
use crate::topk::Scored;

/// The request's actor as filters see it.
#[derive(Debug, Clone, Copy)]
pub(super) struct FilterActor<'a> {
    pub user: Option<u32>,
    pub session: Option<&'a Session>,
    pub item: Option<u32>,
}

impl Engine {
    /// The expression of a request's filter: `filter` (an expression or a named filter) or
    /// `filterArn` (a named filter by the ARN's last path segment).
    pub(super) fn filter_expression(
        &self,
        field: &str,
        filter: Option<&str>,
        filter_arn: Option<&str>,
    ) -> Result<Option<String>, RequestError> {
        let named = |name: &str| {
            self.model
                .meta
                .filters
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.expression.clone())
        };
        if let Some(f) = filter {
            return Ok(Some(named(f.trim()).unwrap_or_else(|| f.to_owned())));
        }
        if let Some(arn) = filter_arn {
            let name = arn.rsplit('/').next().unwrap_or(arn);
            return named(name).map(Some).ok_or_else(|| RequestError::NotFound {
                what: "filter",
                name: name.to_owned(),
            });
        }
        let _ = field;
        Ok(None)
    }

    fn compiled(&self, expr: &str) -> Result<Arc<CompiledFilter>, RequestError> {
        let mut cache = self
            .filters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(cache.get_or_compile(expr, &self.model.catalog, &self.model.users)?)
    }

    /// Evaluates `expr` for the actor; the mask holds the items the filter allows.
    pub(super) fn filter_mask(
        &self,
        expr: &str,
        values: &BTreeMap<String, String>,
        actor: FilterActor<'_>,
    ) -> Result<ItemMask, RequestError> {
        validate_filter_values(values)?;
        let plan = self.compiled(expr)?;
        let interactions = if plan.uses_interactions() {
            history::collect(&self.model, actor.user, actor.session, usize::MAX)
        } else {
            Vec::new()
        };
        let input = FilterInput {
            filter_values: values,
            current_item: actor.item,
            current_user: actor.user,
            interactions: &interactions,
        };
        Ok(plan.evaluate_items(&self.model.catalog, &self.model.users, &input)?)
    }
}

/// Adds the items a mask does not allow to `blocked`.
pub(super) fn block_outside(blocked: &mut BitSet, mask: &ItemMask) {
    if mask.is_all() {
        return;
    }
    match mask.as_bitset() {
        Some(allowed) => {
            let mut outside = allowed.clone();
            outside.invert();
            blocked.union_with(&outside);
        }
        None => {
            for i in 0..blocked.len() {
                if !mask.contains(i) {
                    blocked.insert(i);
                }
            }
        }
    }
}

/// Back-fills `items` up to `k` with the most popular items that are not blocked and not
/// already listed; returns how many were added (they carry `reason: ["Popular item"]`).
pub(super) fn backfill(
    ranked: &[u32],
    blocked: &BitSet,
    items: &mut Vec<Scored>,
    k: usize,
) -> usize {
    let before = items.len();
    for &i in ranked {
        if items.len() >= k {
            break;
        }
        if !blocked.contains(i as usize) && !items.iter().any(|s| s.item == i) {
            items.push(Scored {
                item: i,
                score: 0.0,
            });
        }
    }
    items.len() - before
}

/// Positions for `promoted` items among `total` slots, spread evenly and deterministically
/// (the first promoted item takes the second slot when there is room, so the top item stays
/// the model's best).
#[must_use]
pub(super) fn promotion_slots(promoted: usize, total: usize) -> Vec<usize> {
    if promoted == 0 || total == 0 {
        return Vec::new();
    }
    let promoted = promoted.min(total);
    let step = total as f64 / promoted as f64;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let mut slots: Vec<usize> = (0..promoted)
        .map(|j| (((j as f64 + 0.5) * step) as usize).min(total - 1))
        .collect();
    slots.dedup();
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spread_and_in_range() {
        assert_eq!(promotion_slots(2, 10), vec![2, 7]);
        assert_eq!(promotion_slots(1, 5), vec![2]);
        assert_eq!(promotion_slots(5, 5), vec![0, 1, 2, 3, 4]);
        assert!(promotion_slots(0, 5).is_empty());
    }
}
