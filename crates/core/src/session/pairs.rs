//! Session pairs: what session neighbours add to a session, kept as an aggregate that holds
//! no one's history, for models that must not carry histories (the public profile).
//!
//! For each item `i`, its *cells*: an item `j` that lay near `i` in the histories of a group
//! of at least `k` training users, when those users interacted with `i` (their mean day) and
//! the sum over them of the weight session neighbours would give `j` (`exp(−(d − 1) /
//! position_decay) / √|u|`, `d` the distance from `i` in the user's history, `|u|` its
//! length). A pair's users are grouped by that day, so a pair seen in several periods has a
//! cell per period. A session sent at `t` adds, for each of its items, each cell's weight
//! times `exp(−|t − day| / window)`, which is what its session neighbours give a one-event
//! session when each neighbour's time is their cell's.

use serde::{Deserialize, Serialize};

use crate::bitset::BitSet;
use crate::histories::csr_row;
use crate::timestamps::Timestamps;
use crate::topk::Scored;

/// Seconds per day.
const DAY: f64 = 86_400.0;

/// Per item (CSR, `items + 1` offsets), its cells: the neighbouring item, the cell's day
/// (days since the Unix epoch) and its weight (finite, > 0).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionPairs {
    pub offsets: Vec<u32>,
    pub neighbors: Vec<u32>,
    pub days: Timestamps,
    pub weights: Vec<f32>,
}

impl SessionPairs {
    /// Items with a row.
    #[must_use]
    pub fn items(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Item `i`'s cells: their range in the arrays (empty when out of range or inconsistent).
    #[must_use]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        let len = self
            .neighbors
            .len()
            .min(self.days.len())
            .min(self.weights.len());
        csr_row(&self.offsets, i, len)
    }

    /// True when there is one row per catalogue item, the arrays agree with the offsets,
    /// items are below `items` and weights are finite and positive.
    #[must_use]
    pub fn is_consistent(&self, items: usize) -> bool {
        let n = self.neighbors.len();
        self.offsets.len() == items + 1
            && self.offsets.first() == Some(&0)
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.offsets.last().is_some_and(|&o| o as usize == n)
            && self.days.len() == n
            && self.weights.len() == n
            && self.neighbors.iter().all(|&j| (j as usize) < items)
            && self.weights.iter().all(|w| w.is_finite() && *w > 0.0)
    }

    /// The `best` items by summed cell weight over the session's items, each divided by the
    /// largest (so the best is 1), skipping session and blocked items. `at`: the session's
    /// latest event in seconds; `window_days` 0 or no `at`: no time factor.
    #[must_use]
    pub fn scores(
        &self,
        session: &[u32],
        at: Option<f64>,
        window_days: f32,
        blocked: &BitSet,
        best: usize,
    ) -> Vec<Scored> {
        let mut in_session = BitSet::empty(self.items());
        for &i in session {
            in_session.insert(i as usize);
        }
        let window = f64::from(window_days);
        let today = at.filter(|_| window > 0.0).map(|t| t / DAY);
        let mut acc = vec![0f32; self.items()];
        let mut reached: Vec<u32> = Vec::new();
        for (pos, &i) in session.iter().enumerate() {
            if session[..pos].contains(&i) {
                continue;
            }
            for c in self.range(i as usize) {
                let (j, day, w) = (
                    self.neighbors[c],
                    self.days.get(c).unwrap_or(0),
                    self.weights[c],
                );
                if in_session.contains(j as usize) {
                    continue;
                }
                let Some(slot) = acc.get_mut(j as usize) else {
                    continue;
                };
                if *slot == 0.0 {
                    if blocked.contains(j as usize) {
                        continue;
                    }
                    reached.push(j);
                }
                #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
                let f = today.map_or(1.0, |d| (-(d - day as f64).abs() / window).exp() as f32);
                // Keeps a reached slot above 0, so the first-visit test stays exact.
                *slot += (w * f).max(f32::MIN_POSITIVE);
            }
        }
        crate::session::neighbors::top_scaled(&acc, reached, best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> SessionPairs {
        // Item 0: item 1 on day 100 (weight 1) and day 400 (weight 2); item 2 on day 100
        // (weight 1.5). Item 1: item 2 on day 100 (weight 1). Item 2: none.
        SessionPairs {
            offsets: vec![0, 3, 4, 4],
            neighbors: vec![1, 1, 2, 2],
            days: vec![100, 400, 100, 100].into(),
            weights: vec![1.0, 2.0, 1.5, 1.0],
        }
    }

    #[test]
    fn cells_near_the_sessions_time_count_most() {
        let p = pairs();
        assert!(p.is_consistent(3));
        let none = BitSet::empty(3);
        // No time: item 1 has 3, item 2 has 1.5.
        let all = p.scores(&[0], None, 60.0, &none, 10);
        assert_eq!(all.iter().map(|s| s.item).collect::<Vec<_>>(), [1, 2]);
        assert!((all[1].score - 0.5).abs() < 1e-6);
        // On day 100, item 1's day-400 cell has decayed away: item 2 (1.5) beats item 1 (≈1).
        let early = p.scores(&[0], Some(100.0 * DAY), 60.0, &none, 10);
        assert_eq!(early[0].item, 2);
        // A session item is never scored, and blocked items are skipped.
        let with_one = p.scores(&[0, 1], None, 0.0, &none, 10);
        assert_eq!(with_one.iter().map(|s| s.item).collect::<Vec<_>>(), [2]);
        let mut blocked = BitSet::empty(3);
        blocked.insert(1);
        assert_eq!(p.scores(&[0], None, 0.0, &blocked, 10)[0].item, 2);
        assert!(p.scores(&[2], None, 0.0, &none, 10).is_empty());
        assert!(p.scores(&[9], None, 0.0, &none, 10).is_empty());
    }

    #[test]
    fn inconsistent_cells_are_refused() {
        let mut p = pairs();
        p.weights[0] = 0.0;
        assert!(!p.is_consistent(3));
        let mut p = pairs();
        p.neighbors[0] = 3;
        assert!(!p.is_consistent(3));
        let mut p = pairs();
        p.days.pop();
        assert!(!p.is_consistent(3));
        assert!(!pairs().is_consistent(4));
    }
}
