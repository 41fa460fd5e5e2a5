//! Session neighbours: a live session (a new or anonymous user's events) scored by the
//! training users whose histories share its items, as in session-based kNN. A neighbour
//! counts more when they were active near the session's time and less the more items they
//! have; each of their items counts more the closer it lies to a shared item in their
//! history. Serves neighbour models that store these settings
//! (`CAP_SESSION_NEIGHBORS`), from the model's stored user histories.

use serde::{Deserialize, Serialize};

use crate::bitset::BitSet;
pub use crate::histories::MAX_USERS_PER_ITEM;
use crate::histories::{Histories, ItemUsers};
use crate::topk::{Scored, TopK};

/// Most neighbours a model may ask for.
pub const MAX_SESSION_NEIGHBOR_USERS: u32 = 10_000;

/// History entries whose position weight falls below this are skipped (with the default
/// constant of 10 positions, those more than 70 positions from a shared item).
pub const MIN_POSITION_WEIGHT: f32 = 1e-3;

/// Farthest distance from a shared item that counts, in history positions (reached only with
/// a position constant above 9,000).
pub const MAX_POSITION_TABLE: u32 = 1 << 16;

/// Seconds per day.
const DAY: f64 = 86_400.0;

/// How a session is scored by the training users who share its items.
///
/// A training user `u` sharing `s` of the session's items is a candidate neighbour with
/// similarity `s / sqrt(|u|)` (`|u|` their history length), times
/// `exp(−|t − t_u| / window)` with `t` the session's latest event and `t_u` the mean time
/// at which `u` interacted with the shared items (`window_days` 0: no time decay). The
/// `users` most similar are kept. Each item `j` of a neighbour's history adds the
/// similarity times `exp(−(d − 1) / position_decay)`, with `d` its distance in history
/// positions to the nearest shared item (`position_decay` 0: every position alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionNeighbors {
    /// Blend weight for a one-event session; a session of `n` items weighs `weight / √n`.
    pub weight: f32,
    /// Neighbours kept (most similar first).
    pub users: u32,
    /// Time constant in days of the neighbours' time decay (0 = off).
    pub window_days: f32,
    /// Position constant of the decay along a neighbour's history (0 = off).
    pub position_decay: f32,
}

impl SessionNeighbors {
    #[must_use]
    pub fn new(weight: f32, users: u32, window_days: f32, position_decay: f32) -> Self {
        SessionNeighbors {
            weight,
            users,
            window_days,
            position_decay,
        }
    }

    /// Whether the settings can be served: finite, non-negative, at most
    /// [`MAX_SESSION_NEIGHBOR_USERS`] neighbours.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        [self.weight, self.window_days, self.position_decay]
            .iter()
            .all(|x| x.is_finite() && *x >= 0.0)
            && self.users <= MAX_SESSION_NEIGHBOR_USERS
    }

    /// The blend weight for a session of `n` items (`weight / √n`; 0 for none).
    #[must_use]
    pub fn weight_for(&self, n: usize) -> f32 {
        if n == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let root = (n as f32).sqrt();
        self.weight / root
    }

    /// The `best` items of the session's neighbours by score, best first, each divided by the
    /// largest (so the best is 1), skipping `session` items and blocked items; empty when no
    /// training user shares an item. `session`: the session's items; `at`: its latest
    /// event's time in seconds.
    #[must_use]
    pub fn scores(
        &self,
        histories: &Histories,
        session: &[u32],
        at: Option<f64>,
        blocked: &BitSet,
        best: usize,
    ) -> Vec<Scored> {
        if self.users == 0 || session.is_empty() {
            return Vec::new();
        }
        let index = histories.item_users.get(histories);
        let mut shared = session.to_vec();
        crate::sort::sort(&mut shared);
        shared.dedup();
        let neighbors = self.neighbors(histories, index, &shared, at);
        // Dense sums over the items the histories hold; a slot is 0 until first reached, as
        // every term is positive.
        let mut acc = vec![0f32; index.items()];
        let mut reached: Vec<u32> = Vec::new();
        let mut near = Vec::new();
        let weights = self.position_weights();
        let mut in_session = BitSet::empty(index.items());
        for &i in &shared {
            in_session.insert(i as usize);
        }
        for n in &neighbors {
            let items = histories.items_of(n.item as usize);
            nearest_shared(items, &in_session, &mut near);
            for (&j, &d) in items.iter().zip(&near) {
                let w = match &weights {
                    None if d != 0 && d != u32::MAX => 1.0,
                    Some(t) => match d.checked_sub(1).and_then(|i| t.get(i as usize)) {
                        Some(&w) => w,
                        None => continue,
                    },
                    None => continue,
                };
                let Some(slot) = acc.get_mut(j as usize) else {
                    continue;
                };
                if *slot == 0.0 {
                    if blocked.contains(j as usize) {
                        continue;
                    }
                    reached.push(j);
                }
                *slot += n.score * w;
            }
        }
        top_scaled(&acc, reached, best)
    }

    /// The `users` training users most similar to the session (as [`Scored`] with the user
    /// in `item`), best first.
    fn neighbors(
        &self,
        histories: &Histories,
        index: &ItemUsers,
        shared: &[u32],
        at: Option<f64>,
    ) -> Vec<Scored> {
        // Per candidate user: shared items, and the sum and number of their known times
        // (dense over users: zeroed allocations touch only the pages used).
        let users = histories.users();
        let mut count = vec![0f32; users];
        let mut time_sum = vec![0f64; users];
        let mut timed = vec![0u32; users];
        let mut candidates: Vec<u32> = Vec::new();
        for &i in shared {
            for &(u, k) in index.of(i) {
                let Some(c) = count.get_mut(u as usize) else {
                    continue;
                };
                if *c == 0.0 {
                    candidates.push(u);
                }
                *c += 1.0;
                if let Some(t) = histories.timestamps.get(k as usize) {
                    #[allow(clippy::cast_precision_loss)]
                    let t = t as f64;
                    time_sum[u as usize] += t;
                    timed[u as usize] += 1;
                }
            }
        }
        let window = f64::from(self.window_days) * DAY;
        let mut top = TopK::new(self.users as usize);
        for u in candidates {
            let (s, time_sum, timed) = (count[u as usize], time_sum[u as usize], timed[u as usize]);
            #[allow(clippy::cast_precision_loss)]
            let len = histories.range(u as usize).len().max(1) as f32;
            let mut sim = s / len.sqrt();
            if let Some(t) = at.filter(|_| window > 0.0 && timed > 0) {
                let mean = time_sum / f64::from(timed);
                #[allow(clippy::cast_possible_truncation)]
                let decay = (-(t - mean).abs() / window).exp() as f32;
                sim *= decay;
            }
            if sim > 0.0 {
                top.push(u, sim);
            }
        }
        top.into_sorted()
    }

    /// [`Self::position_weight`] of distances 1, 2, … while it is not `None` (at most
    /// [`MAX_POSITION_TABLE`] of them); `None` without a position decay (every weight 1).
    fn position_weights(&self) -> Option<Vec<f32>> {
        if self.position_decay <= 0.0 {
            return None;
        }
        Some(
            (1..=MAX_POSITION_TABLE)
                .map_while(|d| self.position_weight(d))
                .collect(),
        )
    }

    /// The weight of a history entry `d` positions from the nearest shared item:
    /// `exp(−(d − 1) / position_decay)`, `None` for a shared item itself (`d` = 0), for no
    /// shared item and where the weight falls below [`MIN_POSITION_WEIGHT`].
    #[inline]
    fn position_weight(&self, d: u32) -> Option<f32> {
        if d == 0 || d == u32::MAX {
            return None;
        }
        if self.position_decay <= 0.0 {
            return Some(1.0);
        }
        #[allow(clippy::cast_precision_loss)]
        let steps = (d - 1) as f32;
        let w = (-steps / self.position_decay).exp();
        (w >= MIN_POSITION_WEIGHT).then_some(w)
    }
}

/// Per history position, the distance to the nearest item of `shared`: 0 at a shared item
/// itself, `u32::MAX` when the history has none. Written into `near`.
fn nearest_shared(items: &[u32], shared: &BitSet, near: &mut Vec<u32>) {
    near.clear();
    let mut last: Option<usize> = None;
    for (q, &j) in items.iter().enumerate() {
        if shared.contains(j as usize) {
            last = Some(q);
        }
        near.push(last.map_or(u32::MAX, |p| u32::try_from(q - p).unwrap_or(u32::MAX)));
    }
    let mut next: Option<usize> = None;
    for (q, d) in near.iter_mut().enumerate().rev() {
        if *d == 0 {
            next = Some(q);
        } else if let Some(p) = next {
            *d = (*d).min(u32::try_from(p - q).unwrap_or(u32::MAX));
        }
    }
}

/// The `best` of the `reached` items by `acc`, scaled so that the highest is 1 (nothing when no
/// reached score is positive and finite). Session neighbours and session pairs both end so.
pub(crate) fn top_scaled(acc: &[f32], reached: Vec<u32>, best: usize) -> Vec<Scored> {
    let top = reached
        .iter()
        .map(|&j| acc[j as usize])
        .fold(0.0f32, f32::max);
    if !(top > 0.0 && top.is_finite()) {
        return Vec::new();
    }
    let mut kept = TopK::new(best);
    for j in reached {
        kept.push(j, acc[j as usize] / top);
    }
    kept.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_to_the_nearest_shared_item() {
        let mut near = vec![7];
        let mut one = BitSet::empty(10);
        one.insert(1);
        nearest_shared(&[5, 1, 7, 8, 1, 9], &one, &mut near);
        assert_eq!(near, [1, 0, 1, 1, 0, 1]);
        nearest_shared(&[5, 6], &one, &mut near);
        assert_eq!(near, [u32::MAX, u32::MAX]);
        nearest_shared(&[], &one, &mut near);
        assert!(near.is_empty());
        // Items past the set's length are not in it.
        nearest_shared(&[1, 40], &one, &mut near);
        assert_eq!(near, [0, 1]);
    }

    #[test]
    fn each_item_lists_its_users_once_latest_first() {
        let h = Histories {
            offsets: vec![0, 3, 5, 6],
            items: vec![2, 0, 2, 2, 1, 2],
            event_types: vec![0; 6],
            timestamps: vec![10, 11, 12, 30, 31, 20].into(),
            ..Histories::default()
        };
        let index = ItemUsers::new(&h);
        // Item 2: user 0 (their first entry), user 1, user 2.
        assert_eq!(index.of(2), [(0, 0), (1, 3), (2, 5)]);
        assert_eq!(index.of(0), [(0, 1)]);
        assert_eq!(index.of(1), [(1, 4)]);
        assert!(index.of(9).is_empty());
    }

    #[test]
    fn a_popular_item_keeps_its_latest_users() {
        // 1,001 users of item 0, user u at time 1000 − u: user 1000 is the earliest.
        let users = MAX_USERS_PER_ITEM + 1;
        let h = Histories {
            offsets: (0..=users).map(|u| u32::try_from(u).unwrap()).collect(),
            items: vec![0; users],
            event_types: vec![0; users],
            timestamps: (0..users)
                .map(|u| 1000 - i64::try_from(u).unwrap())
                .collect::<Vec<_>>()
                .into(),
            ..Histories::default()
        };
        let of = ItemUsers::new(&h).of(0).to_vec();
        assert_eq!(of.len(), MAX_USERS_PER_ITEM);
        assert_eq!(of[0], (0, 0), "the latest first");
        assert!(of.iter().all(|&(u, _)| u != 1000), "the earliest left out");
    }

    #[test]
    fn position_and_session_weights() {
        let sn = SessionNeighbors::new(0.5, 10, 0.0, 2.0);
        assert_eq!(sn.position_weight(1), Some(1.0));
        assert!((sn.position_weight(3).unwrap() - (-1.0f32).exp()).abs() < 1e-6);
        assert_eq!(sn.position_weight(0), None, "a shared item");
        assert_eq!(sn.position_weight(u32::MAX), None, "no shared item");
        // exp(−7) ≈ 0.0009 is under the cut-off, exp(−6.5) ≈ 0.0015 is not.
        assert!(sn.position_weight(14).is_some());
        assert_eq!(sn.position_weight(15), None);
        let flat = SessionNeighbors::new(0.5, 10, 0.0, 0.0);
        assert_eq!(flat.position_weight(1_000_000), Some(1.0));
        assert!((sn.weight_for(4) - 0.25).abs() < 1e-6);
        assert!(sn.weight_for(0).abs() < f32::EPSILON);
        assert!(!SessionNeighbors::new(-0.1, 10, 0.0, 0.0).is_valid());
    }
}
