//! Blends (`auto`, `CAP_BLEND`): a recommender that ranks by other recommenders of the model.
//!
//! Each part with a weight for the actor answers the request as it would alone (its own
//! exclusions come from the blend's, so every part skips the same items) and returns its best
//! `depth` items. A list is scaled so that its first item scores 1 and its last 0, and an item
//! scores the weighted sum of its scaled scores over the lists it is in. Known users use the
//! `known` weights; sessions without a known user use the `session` weights of their length,
//! and related-items requests those of one event. A part that has nothing of its own for the
//! actor (no factors for an unknown user, no neighbours for an empty history) adds nothing.
//!
//! The trainer fits the weights with [`fuse`] on part lists from [`Engine::part_lists`], so the
//! weights are chosen on exactly what serving computes.

use std::collections::HashMap;

use super::Engine;
use super::history::{self, Interaction};
use super::scoring::{self, Actor};
use crate::bitset::BitSet;
use crate::error::RequestError;
use crate::model::{BlendModel, Model, RecommenderModel};
use crate::request::check_id;
use crate::topk::{Scored, TopK};

/// The weight of part `p` of `blend` for the actor (`recent`: the actor's interactions).
fn weight(blend: &BlendModel, p: usize, actor: &Actor<'_>, recent: usize) -> f32 {
    match (actor.user, actor.item) {
        (Some(_), None) => blend.known.get(p).copied().unwrap_or(0.0),
        (_, Some(_)) => blend.session_weight(p, 1),
        (None, None) => blend.session_weight(p, recent),
    }
}

/// The blend's top `k` for the actor; `None` when no part has anything of its own.
// Kept out of the scoring of single recipes, which every request runs.
#[inline(never)]
pub(super) fn score(
    model: &Model,
    blend: &BlendModel,
    actor: &Actor<'_>,
    recent: &[Interaction<'_>],
    blocked: &BitSet,
    k: usize,
) -> Option<Vec<Scored>> {
    let depth = (blend.depth as usize).max(k);
    let mut acc = HashMap::new();
    let mut any = false;
    for (p, &part) in blend.parts.iter().enumerate() {
        let w = weight(blend, p, actor, recent.len());
        if w > 0.0
            && let Some(list) = part_list(model, part as usize, actor, recent, blocked, depth)
        {
            add_scaled(&mut acc, w, &list);
            any = true;
        }
    }
    any.then(|| top_of(acc, k))
}

/// Part `part`'s best `depth` items for the actor, as a blend sees them: `None` when the part
/// has nothing of its own for the actor (or is itself a blend).
fn part_list(
    model: &Model,
    part: usize,
    actor: &Actor<'_>,
    recent: &[Interaction<'_>],
    blocked: &BitSet,
    depth: usize,
) -> Option<Vec<Scored>> {
    let rec = model.recommenders.get(part)?;
    let actor = Actor {
        recommender: part,
        ..*actor
    };
    let (items, _) = scoring::own(model, rec, &actor, recent, blocked, depth)?;
    (!items.is_empty()).then_some(items)
}

/// A list's items with their scores scaled so that its first item (the best) counts 1 and its
/// last 0 (every item 1 when all scores are equal).
pub fn scaled(list: &[Scored]) -> impl Iterator<Item = (u32, f32)> + '_ {
    let (top, low) = match (list.first(), list.last()) {
        (Some(a), Some(b)) => (a.score, b.score),
        _ => (0.0, 0.0),
    };
    let span = top - low;
    list.iter().map(move |s| {
        let x = if span > 0.0 && span.is_finite() {
            (s.score - low) / span
        } else {
            1.0
        };
        (s.item, x)
    })
}

/// Adds `w ×` the [`scaled`] scores of `list` to `acc` (nothing unless `w` is positive).
fn add_scaled(acc: &mut HashMap<u32, f32>, w: f32, list: &[Scored]) {
    if w > 0.0 && w.is_finite() {
        for (item, x) in scaled(list) {
            *acc.entry(item).or_default() += w * x;
        }
    }
}

/// The best `k` of the summed scores, ties by lower item index.
fn top_of(acc: HashMap<u32, f32>, k: usize) -> Vec<Scored> {
    let mut top = TopK::new(k);
    for (j, s) in acc {
        top.push(j, s);
    }
    top.into_sorted()
}

/// Ranks items by the weighted sum of their [`scaled`] scores in `lists` (each best first)
/// and returns the best `k`, ties by lower item index, exactly as a blend ranks its parts'
/// lists. Lists with a weight that is not positive are left out.
#[must_use]
pub fn fuse(lists: &[(f32, &[Scored])], k: usize) -> Vec<Scored> {
    let mut acc = HashMap::new();
    for &(w, list) in lists {
        add_scaled(&mut acc, w, list);
    }
    top_of(acc, k)
}

impl Engine {
    /// The lists a blend recommender fuses for `user_id` (a known user or a session), one per
    /// part in the blend's order: each part's best `depth` items with their scores, after the
    /// blend's exclusions, or `None` where the part has nothing of its own for this actor.
    /// Every part is scored, whatever its weight: the trainer fits the weights on these.
    pub fn part_lists(
        &self,
        recommender: &str,
        user_id: &str,
        depth: usize,
    ) -> Result<Vec<Option<Vec<Scored>>>, RequestError> {
        check_id("userId", user_id)?;
        let (ri, rec) = self.find_recommender(recommender)?;
        let RecommenderModel::Blend(blend) = &rec.model else {
            return Err(RequestError::invalid(
                "recommender",
                format!("{recommender:?} is not a blend"),
            ));
        };
        let (user, session) = self.actor(Some(user_id));
        let blocked = self.blocked(rec, user, session, None);
        let recent = history::collect(&self.model, user, session, rec.serving.max_history as usize);
        let actor = Actor {
            user,
            session,
            recommender: ri,
            item: None,
            context: None,
        };
        Ok(blend
            .parts
            .iter()
            .map(|&p| part_list(&self.model, p as usize, &actor, &recent, &blocked, depth))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(u32, f32)]) -> Vec<Scored> {
        items
            .iter()
            .map(|&(item, score)| Scored { item, score })
            .collect()
    }

    #[test]
    fn fuse_scales_each_list_and_sums_the_weights() {
        let a = list(&[(1, 10.0), (2, 6.0), (3, 2.0)]);
        let b = list(&[(3, 1.0), (4, 0.625), (1, 0.25)]);
        // a: 1 → 1, 2 → 0.5, 3 → 0; b: 3 → 1, 4 → 0.5, 1 → 0 (all exact in f32), so 1 and 4
        // tie at 1 and the lower index comes first.
        let got = fuse(&[(1.0, a.as_slice()), (2.0, b.as_slice())], 4);
        let items: Vec<u32> = got.iter().map(|s| s.item).collect();
        assert_eq!(items, [3, 1, 4, 2]);
        assert_eq!(got[0].score, 2.0);
        assert_eq!((got[1].score, got[2].score), (1.0, 1.0));
        // One list alone keeps its order; a zero weight leaves a list out.
        let alone = fuse(&[(1.0, a.as_slice()), (0.0, b.as_slice())], 2);
        assert_eq!(alone.iter().map(|s| s.item).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn fuse_handles_flat_and_empty_lists() {
        let flat = list(&[(5, 1.0), (2, 1.0)]);
        let got = fuse(&[(1.0, flat.as_slice()), (1.0, &[][..])], 3);
        // Equal scores: ties by lower item index.
        assert_eq!(got.iter().map(|s| s.item).collect::<Vec<_>>(), [2, 5]);
        assert!(fuse(&[(f32::NAN, flat.as_slice())], 3).is_empty());
    }
}
