//! Exploration for `user-personalization` (Personalize's `explorationWeight` and
//! `explorationItemAgeCutOff`), with impression discounting.
//!
//! With weight `w > 0`, a share of about `w / 2` of the top-K slots goes to exploration
//! candidates: items created within the cut-off before the model's data time, or items with
//! little interaction data (at most half the median unique-user count, and at least
//! [`FEW_INTERACTIONS`]). Candidates are ranked by their standardised model relevance plus an
//! exploration bonus, plus a small seeded noise so that repeated requests explore different
//! items. The bonus shrinks with the number of times the user or session was shown the item
//! without interacting with it (impressions), so items shown and not chosen are explored less.
//!
//! Everything random is drawn from a generator seeded with the recommendation id: the same
//! request gives the same list. Blocked items (interactions, filters) are never candidates.

use std::collections::{HashMap, HashSet, VecDeque};

use super::Engine;
use super::history::Interaction;
use super::scoring::{self, Actor};
use crate::bitset::BitSet;
use crate::idindex::fnv1a;
use crate::model::{Exploration, FactorModel, Model, Recommender, RecommenderModel};
use crate::topk::{Scored, TopK};

/// Items with at most this many unique users always count as having little interaction data.
pub const FEW_INTERACTIONS: u32 = 4;

/// Bonus of a new item (in standard deviations of relevance); a merely little-seen item gets
/// half of it. Divided by `1 + impressions without interaction`.
const BONUS: f32 = 2.0;

/// Scale of the seeded Gumbel noise added to candidate scores.
const NOISE: f32 = 0.5;

/// Seconds per day.
const DAY: f64 = 86_400.0;

/// One slot of an explored list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    pub scored: Scored,
    /// True for items placed by exploration.
    pub explored: bool,
}

/// What the user or session has seen and done, for impression discounting.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// Impressions per item (explicit lists and recommendations the session acted on).
    pub impressions: Option<&'a HashMap<u32, u32>>,
    /// Items the user or session interacted with (their impressions are not discounted).
    pub interacted: &'a HashSet<u32>,
}

impl Engine {
    /// The request's list with exploration applied, or the list unchanged (`Err`) when the
    /// recommender does not explore or the request has no user vector to explore around.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn explore(
        &self,
        rec: &Recommender,
        actor: &Actor<'_>,
        recent: &[Interaction<'_>],
        blocked: &BitSet,
        items: Vec<Scored>,
        k: usize,
        recommendation_id: &str,
    ) -> Result<Vec<Slot>, Vec<Scored>> {
        let (Some(e), RecommenderModel::Factors(fm), None) =
            (rec.serving.exploration, &rec.model, actor.item)
        else {
            return Err(items);
        };
        if e.weight <= 0.0 {
            return Err(items);
        }
        let Some(query) = scoring::factor_query(fm, actor) else {
            return Err(items);
        };
        let interacted: HashSet<u32> = recent.iter().map(|i| i.item).collect();
        let seen = Seen {
            impressions: actor.session.map(|s| &s.impressions),
            interacted: &interacted,
        };
        let mut rng = Rng::from_id(recommendation_id);
        Ok(explore(
            &self.model,
            fm,
            &e,
            &query,
            blocked,
            items,
            k,
            &seen,
            &mut rng,
        ))
    }

    /// Remembers what a response of an exploring recommender showed (implicit impressions).
    pub(super) fn record_issued(&self, recommendation_id: &str, items: Vec<u32>) {
        if let Ok(mut log) = self.issued.lock() {
            log.record(recommendation_id, items);
        }
    }

    /// The items a response showed under `recommendation_id`, once.
    pub(super) fn take_issued(&mut self, recommendation_id: &str) -> Option<Vec<u32>> {
        self.issued
            .lock()
            .ok()
            .and_then(|mut log| log.take(recommendation_id))
    }
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from a recommendation id.
    #[must_use]
    pub fn from_id(id: &str) -> Self {
        Rng(fnv1a(id.as_bytes()) ^ 0x5EED_0E49_1A7E_C0DE)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in the open interval (0, 1).
    pub fn unit(&mut self) -> f64 {
        unit(self.next_u64())
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[allow(clippy::cast_precision_loss)]
fn unit(x: u64) -> f64 {
    ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Bins of the Gumbel quantile table.
const GUMBEL_BINS: usize = 4096;

/// A standard Gumbel draw `−ln(−ln u)` from 32 random bits of `x`: the quantile function
/// tabulated at 4096 points of `u` and interpolated linearly. The noise is drawn for every
/// candidate (every item of a new catalogue), where two logarithms each would cost more than
/// scoring the item; the table is built once, with the standard library's `ln`, the same on
/// every platform.
fn gumbel(x: u64) -> f32 {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=GUMBEL_BINS)
            .map(|b| {
                // bin edges, pulled in by half a bin at the ends so that both are finite
                #[allow(clippy::cast_precision_loss)]
                let u = (b as f64).clamp(0.5, GUMBEL_BINS as f64 - 0.5) / GUMBEL_BINS as f64;
                #[allow(clippy::cast_possible_truncation)]
                let g = -(-u.ln()).ln() as f32;
                g
            })
            .collect()
    });
    #[allow(clippy::cast_possible_truncation)]
    let bits = (x >> 32) as u32;
    let bin = (bits >> 20) as usize;
    #[allow(clippy::cast_precision_loss)]
    let frac = (bits & 0x000F_FFFF) as f32 * (1.0 / 1_048_576.0);
    match (table.get(bin), table.get(bin + 1)) {
        (Some(&a), Some(&b)) => a + (b - a) * frac,
        _ => 0.0,
    }
}

/// How many of `k` slots to explore: `k · w / 2`, rounded up or down at random in proportion
/// to the fraction, so that the expected share is exactly `w / 2`.
#[must_use]
pub fn explore_count(k: usize, weight: f32, rng: &mut Rng) -> usize {
    if weight <= 0.0 || k == 0 {
        return 0;
    }
    #[allow(clippy::cast_precision_loss)]
    let x = k as f64 * f64::from(weight.min(1.0)) / 2.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (x + rng.unit()).floor() as usize;
    n.min(k)
}

/// Whether each item is an exploration candidate by age or by interaction count.
#[derive(Debug)]
struct Coldness<'a> {
    model: &'a Model,
    new_since: Option<i64>,
    few: u32,
}

impl<'a> Coldness<'a> {
    fn new(model: &'a Model, e: &Exploration) -> Self {
        let p = &model.popularity;
        let median = p
            .ranked
            .get(p.ranked.len() / 2)
            .and_then(|&i| p.counts.get(i as usize))
            .copied()
            .unwrap_or(0);
        #[allow(clippy::cast_possible_truncation)]
        let cut = (f64::from(e.item_age_cut_off_days) * DAY) as i64;
        Coldness {
            model,
            new_since: (!model.catalog.creation_time.is_empty())
                .then(|| model.meta.data_time.saturating_sub(cut)),
            few: (median / 2).max(FEW_INTERACTIONS),
        }
    }

    /// Novelty of item `i`: 1 for a new item, 0.5 for a little-seen one, `None` otherwise.
    fn novelty(&self, i: usize) -> Option<f32> {
        let is_new = self.new_since.is_some_and(|since| {
            self.model
                .catalog
                .creation_time
                .get(i)
                .is_some_and(|t| t >= since)
        });
        if is_new {
            return Some(1.0);
        }
        let count = self.model.popularity.counts.get(i).copied().unwrap_or(0);
        (count <= self.few).then_some(0.5)
    }
}

/// Replaces a share of `exploit` (the top `k` by relevance, best first) with exploration
/// candidates, at seeded positions after the first slot. `blocked` items are never explored.
#[must_use]
#[allow(clippy::too_many_arguments)]
pub fn explore(
    model: &Model,
    fm: &FactorModel,
    e: &Exploration,
    query: &[f32],
    blocked: &BitSet,
    exploit: Vec<Scored>,
    k: usize,
    seen: &Seen<'_>,
    rng: &mut Rng,
) -> Vec<Slot> {
    let plain = |v: Vec<Scored>| {
        v.into_iter()
            .map(|scored| Slot {
                scored,
                explored: false,
            })
            .collect()
    };
    let n = explore_count(k.min(exploit.len().max(1)), e.weight, rng);
    if n == 0 || query.is_empty() {
        return plain(exploit);
    }
    let keep = exploit.len().min(k).saturating_sub(n);
    let cold = Coldness::new(model, e);
    // Candidates with relevance, for the standardisation: one batched scan of the factors.
    let limit = fm.item_factors.rows().min(model.catalog.len());
    let mut cands: Vec<(u32, f32, f32)> = Vec::new();
    fm.item_factors.score_all(query, |i, rel| {
        if i < limit
            && !blocked.contains(i)
            && let (Some(novelty), Ok(item)) = (cold.novelty(i), u32::try_from(i))
        {
            cands.push((item, rel, novelty));
        }
    });
    if cands.is_empty() {
        return plain(exploit);
    }
    #[allow(clippy::cast_precision_loss)]
    let len = cands.len() as f64;
    let mean = cands.iter().map(|c| f64::from(c.1)).sum::<f64>() / len;
    let var = cands
        .iter()
        .map(|c| (f64::from(c.1) - mean).powi(2))
        .sum::<f64>()
        / len;
    #[allow(clippy::cast_possible_truncation)]
    let (mean, sd) = (mean as f32, var.sqrt().max(1e-9) as f32);
    let salt = rng.next_u64();
    // The best `n + keep` by exploration value: the `keep` items staying from `exploit` can
    // take at most `keep` of them, so at least `n` others remain.
    let kept: Vec<u32> = exploit.iter().take(keep).map(|s| s.item).collect();
    let mut top = TopK::new(n + kept.len());
    for &(item, rel, novelty) in &cands {
        let shown = seen
            .impressions
            .and_then(|m| m.get(&item))
            .copied()
            .filter(|_| !seen.interacted.contains(&item))
            .unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let bonus = BONUS * novelty / (1.0 + shown as f32);
        let gumbel = gumbel(mix(
            salt ^ u64::from(item).wrapping_mul(0xD6E8_FEB8_6659_FD93)
        ));
        top.push(item, (rel - mean) / sd + bonus + NOISE * gumbel);
    }
    let explored: Vec<Scored> = top
        .into_sorted()
        .into_iter()
        .filter(|s| !kept.contains(&s.item))
        .take(n)
        .map(|s| Scored {
            item: s.item,
            score: fm.item_factors.score_row(s.item as usize, query),
        })
        .collect();
    let keep = exploit.len().min(k).saturating_sub(explored.len());
    let mut out: Vec<Slot> = plain(exploit.into_iter().take(keep).collect());
    let total = out.len() + explored.len();
    for (slot, s) in slots(explored.len(), total, rng).into_iter().zip(explored) {
        out.insert(
            slot.min(out.len()),
            Slot {
                scored: s,
                explored: true,
            },
        );
    }
    out
}

/// `n` distinct positions in `1..total` (in `0..total` when `total` is 1), ascending, drawn
/// from `rng`: the first slot stays with the most relevant item.
fn slots(n: usize, total: usize, rng: &mut Rng) -> Vec<usize> {
    let first = usize::from(total > 1 && n < total);
    let mut pool: Vec<usize> = (first..total).collect();
    let n = n.min(pool.len());
    for j in 0..n {
        #[allow(clippy::cast_possible_truncation)]
        let r = j + (rng.next_u64() % (pool.len() - j) as u64) as usize;
        pool.swap(j, r);
    }
    pool.truncate(n);
    crate::sort::sort(&mut pool);
    pool
}

/// Lists a recent response showed, by recommendation id, so that a later `PutEvents` event
/// carrying that id counts them as impressions (Personalize's implicit impressions).
#[derive(Debug, Default)]
pub struct IssuedLog {
    lists: HashMap<String, Vec<u32>>,
    order: VecDeque<String>,
}

/// Most recommendation ids remembered for implicit impressions.
pub const ISSUED_CAPACITY: usize = 1024;

impl IssuedLog {
    /// Remembers the items a response showed (evicting the oldest id when full).
    pub fn record(&mut self, id: &str, items: Vec<u32>) {
        if self.lists.insert(id.to_owned(), items).is_none() {
            self.order.push_back(id.to_owned());
            while self.order.len() > ISSUED_CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.lists.remove(&old);
                }
            }
        }
    }

    /// The items shown under `id`, once: a second event with the same id adds nothing.
    pub fn take(&mut self, id: &str) -> Option<Vec<u32>> {
        let items = self.lists.remove(id)?;
        self.order.retain(|x| x != id);
        Some(items)
    }
}

#[cfg(test)]
mod gumbel_tests {
    /// The tabulated draws have the standard Gumbel's mean (Euler's γ) and variance (π²/6).
    #[test]
    fn draws_are_standard_gumbel() {
        let n = 200_000u64;
        let draws: Vec<f64> = (0..n)
            .map(|i| {
                f64::from(super::gumbel(super::mix(
                    i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                )))
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let mean = draws.iter().sum::<f64>() / n as f64;
        #[allow(clippy::cast_precision_loss)]
        let var = draws.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.5772).abs() < 0.02, "mean {mean}");
        assert!((var - 1.6449).abs() < 0.05, "variance {var}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explore_count_has_the_expected_share() {
        let mut rng = Rng::from_id("rid-1");
        assert_eq!(explore_count(10, 0.0, &mut rng), 0);
        let total: usize = (0..2000).map(|_| explore_count(10, 0.3, &mut rng)).sum();
        // expected 1.5 per request
        assert!((2800..3200).contains(&total), "{total}");
        assert!((0..100).all(|_| explore_count(10, 1.0, &mut rng) == 5));
    }

    #[test]
    fn slots_skip_the_first_and_are_distinct() {
        let mut rng = Rng::from_id("x");
        for _ in 0..100 {
            let s = slots(3, 10, &mut rng);
            assert_eq!(s.len(), 3);
            assert!(s.windows(2).all(|w| w[0] < w[1]));
            assert!(s.iter().all(|&p| (1..10).contains(&p)));
        }
        assert_eq!(slots(1, 1, &mut rng), vec![0]);
    }

    #[test]
    fn issued_log_is_bounded_and_consumed_once() {
        let mut log = IssuedLog::default();
        for i in 0..(ISSUED_CAPACITY + 10) {
            log.record(&format!("r{i}"), vec![1, 2]);
        }
        assert_eq!(log.lists.len(), ISSUED_CAPACITY);
        assert!(log.take("r9").is_none());
        assert!(log.take("r10").is_some());
        assert_eq!(log.take("r20"), Some(vec![1, 2]));
        assert!(log.take("r20").is_none());
    }
}
