//! Builds the session pairs of a public model ([`edgerec_core::session::pairs`]): what session
//! neighbours read from the stored histories, aggregated so that no one's sequence remains.
//!
//! Every user `u` with item `i` gives each other item `j` of their history the weight session
//! neighbours would, `Σ exp(−(d − 1) / position_decay) / √|u|` over `j`'s entries, `d` the
//! distance to the nearest entry of `i`, on the day `u` first interacted with `i`. A pair's
//! users, ordered by that day, are grouped into cells of at least `min_users` users (what is
//! left at the end joins the last cell; a pair with fewer users in all is dropped). A cell
//! stores its users' mean day and the sum of their weights, so every stored unit is backed by
//! at least `min_users` distinct users and names none of them.

use edgerec_core::{Histories, SessionPairs};
use rayon::prelude::*;

/// Seconds per day.
const DAY: i64 = 86_400;

/// A neighbour weight below this is not counted (as session neighbours skip it).
const MIN_POSITION_WEIGHT: f32 = edgerec_core::session::neighbors::MIN_POSITION_WEIGHT;

/// How the pairs are built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairParams {
    /// The session neighbours' position constant (0: every position alike).
    pub position_decay: f32,
    /// Fewest distinct users in a cell.
    pub min_users: u32,
    /// Most cells of one pair: a pair with more users gets cells of `users / max_cells`.
    pub max_cells: usize,
    /// Most neighbouring items kept per item, those with the strongest cell first.
    pub max_neighbors: usize,
}

/// The session pairs of `h` over a catalogue of `items` items; `None` when no pair has
/// `min_users` users.
#[must_use]
pub fn build(h: &Histories, items: usize, p: &PairParams) -> Option<SessionPairs> {
    let occurrences = occurrences(h, items);
    let reach = reach(p.position_decay);
    let rows: Vec<Vec<Cell>> = (0..items)
        .into_par_iter()
        .map(|i| row(h, &occurrences[i], reach, p))
        .collect();
    let mut out = SessionPairs {
        offsets: vec![0],
        ..SessionPairs::default()
    };
    for row in rows {
        for c in row {
            out.neighbors.push(c.item);
            out.days.push(c.day);
            out.weights.push(c.weight);
        }
        out.offsets
            .push(u32::try_from(out.neighbors.len()).unwrap_or(u32::MAX));
    }
    (!out.neighbors.is_empty()).then_some(out)
}

/// One stored cell.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cell {
    item: u32,
    day: i64,
    weight: f32,
}

/// Every history entry of each item: `(user, position in the user's history)`.
fn occurrences(h: &Histories, items: usize) -> Vec<Vec<(u32, u32)>> {
    let mut out: Vec<Vec<(u32, u32)>> = vec![Vec::new(); items];
    for u in 0..h.users() {
        let Ok(user) = u32::try_from(u) else { break };
        for (pos, &i) in h.items_of(u).iter().enumerate() {
            if let (Some(o), Ok(pos)) = (out.get_mut(i as usize), u32::try_from(pos)) {
                o.push((user, pos));
            }
        }
    }
    out
}

/// The farthest distance whose weight is counted.
fn reach(position_decay: f32) -> usize {
    if position_decay <= 0.0 {
        return usize::MAX;
    }
    // exp(−(d − 1) / c) ≥ MIN_POSITION_WEIGHT ⇔ d ≤ 1 + c · ln(1 / MIN_POSITION_WEIGHT)
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let d = (1.0 + f64::from(position_decay) * (1.0 / f64::from(MIN_POSITION_WEIGHT)).ln())
        .floor()
        .min(1e9) as usize;
    d.max(1)
}

/// The weight of an entry `d` positions from the nearest entry of the item.
fn position_weight(d: usize, position_decay: f32) -> f32 {
    if position_decay <= 0.0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let w = (-((d - 1) as f32) / position_decay).exp();
    if w >= MIN_POSITION_WEIGHT { w } else { 0.0 }
}

/// Item `i`'s cells from its `occurrences` (grouped by user, positions ascending).
fn row(h: &Histories, occurrences: &[(u32, u32)], reach: usize, p: &PairParams) -> Vec<Cell> {
    // One record per (user, neighbouring item): the item, the user's day, the weight.
    let mut records: Vec<(u32, i64, f32)> = Vec::new();
    let mut weights: Vec<(u32, f32)> = Vec::new();
    for run in occurrences.chunk_by(|a, b| a.0 == b.0) {
        let u = run[0].0 as usize;
        let range = h.range(u);
        let hist = &h.items[range.clone()];
        let Some(&item) = hist.get(run[0].1 as usize) else {
            continue;
        };
        let first = range.start + run[0].1 as usize;
        let day = h.timestamps.get(first).unwrap_or(0).div_euclid(DAY);
        #[allow(clippy::cast_precision_loss)]
        let norm = 1.0 / (hist.len().max(1) as f32).sqrt();
        weights.clear();
        let positions: Vec<usize> = run.iter().map(|&(_, q)| q as usize).collect();
        let mut next = 0;
        for (q, &j) in hist.iter().enumerate() {
            if j == item {
                continue;
            }
            while next + 1 < positions.len() && positions[next + 1] <= q {
                next += 1;
            }
            let d = positions
                .get(next)
                .map_or(usize::MAX, |&a| a.abs_diff(q))
                .min(
                    positions
                        .get(next + 1)
                        .map_or(usize::MAX, |&b| b.abs_diff(q)),
                );
            if d > reach {
                continue;
            }
            let w = position_weight(d, p.position_decay);
            if w > 0.0 {
                weights.push((j, w));
            }
        }
        weights.sort_unstable_by_key(|&(j, _)| j);
        for run in weights.chunk_by(|a, b| a.0 == b.0) {
            let w: f32 = run.iter().map(|x| x.1).sum();
            records.push((run[0].0, day, w * norm));
        }
    }
    records.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let k = p.min_users.max(1) as usize;
    let mut cells: Vec<Vec<Cell>> = Vec::new();
    for pair in records.chunk_by(|a, b| a.0 == b.0) {
        if pair.len() < k {
            continue;
        }
        let size = k.max(pair.len().div_ceil(p.max_cells.max(1)));
        // Consecutive users (by day) in groups of `size`.
        let mut groups: Vec<&[(u32, i64, f32)]> = pair.chunks(size).collect();
        // A short last group joins the one before it.
        if groups.len() > 1 && groups.last().is_some_and(|g| g.len() < k) {
            let n = groups.len();
            let from = pair.len() - groups[n - 1].len() - groups[n - 2].len();
            groups.truncate(n - 2);
            groups.push(&pair[from..]);
        }
        cells.push(
            groups
                .into_iter()
                .filter(|g| g.iter().any(|r| r.2 > 0.0))
                .map(|g| {
                    let days: i128 = g.iter().map(|r| i128::from(r.1)).sum();
                    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                    let n = g.len() as i128;
                    Cell {
                        item: pair[0].0,
                        day: i64::try_from((2 * days + n).div_euclid(2 * n)).unwrap_or(0),
                        weight: g.iter().map(|r| r.2).sum(),
                    }
                })
                .collect(),
        );
    }
    cells.retain(|c| !c.is_empty());
    // The strongest cell decides which neighbours stay.
    let strongest = |c: &[Cell]| c.iter().map(|x| x.weight).fold(0.0f32, f32::max);
    if cells.len() > p.max_neighbors {
        cells.sort_by(|a, b| {
            strongest(b)
                .total_cmp(&strongest(a))
                .then(a[0].item.cmp(&b[0].item))
        });
        cells.truncate(p.max_neighbors);
        cells.sort_by_key(|c| c[0].item);
    }
    cells.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Histories of `(items, day)` per user: one entry per item, all on that day.
    fn histories(users: &[(&[u32], i64)]) -> Histories {
        let mut h = Histories {
            offsets: vec![0],
            ..Histories::default()
        };
        for (items, day) in users {
            for &i in *items {
                h.items.push(i);
                h.event_types.push(0);
                h.timestamps.push(day * DAY);
            }
            h.offsets.push(u32::try_from(h.items.len()).unwrap_or(0));
        }
        h
    }

    fn params(k: u32) -> PairParams {
        PairParams {
            position_decay: 10.0,
            min_users: k,
            max_cells: 16,
            max_neighbors: 100,
        }
    }

    #[test]
    fn each_cell_holds_at_least_k_users_and_their_mean_day() {
        // Five users pair 0 with 1 (days 10–14), three pair 0 with 2, on day 20 too.
        let mut users: Vec<(&[u32], i64)> = (10..15).map(|d| (&[0u32, 1][..], d)).collect();
        users.extend((0..3).map(|_| (&[0u32, 2][..], 20)));
        let h = histories(&users);
        let pairs = build(&h, 3, &params(5)).expect("one pair has five users");
        assert!(pairs.is_consistent(3));
        let r = pairs.range(0);
        assert_eq!(&pairs.neighbors[r.clone()], [1]);
        assert_eq!(pairs.days.get(r.start), Some(12));
        // Each user weighs exp(0) / √2.
        assert!((pairs.weights[r.start] - 5.0 / 2f32.sqrt()).abs() < 1e-5);
        // Item 1's row names item 0; item 2 has three users only.
        assert_eq!(&pairs.neighbors[pairs.range(1)], [0]);
        assert!(pairs.range(2).is_empty());
        assert!(build(&h, 3, &params(6)).is_none());
    }

    #[test]
    fn a_pair_seen_in_two_periods_gets_a_cell_each_and_a_short_rest_joins_the_last() {
        let mut users: Vec<(&[u32], i64)> = (0..5).map(|d| (&[0u32, 1][..], d)).collect();
        users.extend((0..7).map(|d| (&[0u32, 1][..], 1000 + d)));
        let pairs = build(&histories(&users), 2, &params(5)).expect("pairs");
        let r = pairs.range(0);
        assert_eq!(r.len(), 2);
        // Days 0–4 (mean 2), then the seven later users (mean 1003).
        assert_eq!(pairs.days.get(r.start), Some(2));
        assert_eq!(pairs.days.get(r.start + 1), Some(1003));
    }

    #[test]
    fn distance_weights_follow_the_nearest_entry_and_fade() {
        // Item 5 sits next to item 0 for every user; item 6 is 30 positions away.
        let mut long: Vec<u32> = vec![0, 5];
        long.extend(std::iter::repeat_n(7, 28));
        long.push(6);
        let users: Vec<(&[u32], i64)> = (0..5).map(|_| (long.as_slice(), 1)).collect();
        let pairs = build(&histories(&users), 8, &params(5)).expect("pairs");
        let r = pairs.range(0);
        let of = |j: u32| {
            pairs.neighbors[r.clone()]
                .iter()
                .position(|&x| x == j)
                .map(|k| pairs.weights[r.start + k])
        };
        let near = of(5).expect("adjacent");
        let far = of(6).expect("30 positions is within reach");
        assert!((far / near - (-29.0f32 / 10.0).exp()).abs() < 1e-4);
        // Item 7's 28 entries all count, each at its own distance.
        assert!(of(7).expect("counted") > near);
        assert_eq!(reach(10.0), 70);
        assert_eq!(reach(0.0), usize::MAX);
    }
}
