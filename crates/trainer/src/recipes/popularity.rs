//! `popularity-count`: items ranked by the number of unique users who interacted with them.
//! With `lookback_days`, only the most recent interactions count (a "trending now" list).

use edgerec_core::{PopularityModel, PopularityTimeline, RecommenderModel};
use serde::{Deserialize, Serialize};

use super::TrainingMatrix;
use super::error::RecipeError;
use super::matrix::Entry;
use super::trainable::{Inputs, RecipeTrainer};

/// Hyperparameters (snake case in the config: `lookbackDays` or `lookback_days`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopularityParams {
    /// Count only the interactions of the last `lookback_days` days before the newest one in the
    /// data; 0 (the default) counts all of them.
    pub lookback_days: f64,
}

impl PopularityParams {
    /// The first timestamp that counts, given the newest one in the data.
    ///
    /// # Errors
    /// When `lookback_days` is negative or not finite.
    pub fn since(&self, max_time: i64) -> Result<i64, RecipeError> {
        let d = self.lookback_days;
        if !(d.is_finite() && d >= 0.0) {
            return Err(RecipeError::LookbackDays(d));
        }
        if d == 0.0 {
            return Ok(i64::MIN);
        }
        // Whole seconds; a lookback longer than the data simply counts everything.
        let seconds = (d * 86_400.0).min(1e15) as i64;
        Ok(max_time.saturating_sub(seconds))
    }
}

/// The `popularity-count` recipe.
#[derive(Debug, Clone, Copy)]
pub struct PopularityCount;

impl RecipeTrainer for PopularityCount {
    type Params = PopularityParams;

    fn params(&self, input: &Inputs<'_>) -> Result<PopularityParams, RecipeError> {
        input.params()
    }

    /// Counts the interactions of the recommender's event type in the lookback window (an
    /// update recounts: cheap and exact).
    fn train(
        &self,
        input: &Inputs<'_>,
        p: &PopularityParams,
    ) -> Result<RecommenderModel, RecipeError> {
        let since = p.since(input.m.max_time)?;
        Ok(RecommenderModel::Popularity(train(input.m, |e| {
            input.keeps(e.event_type) && e.timestamp >= since
        })))
    }
}

/// Counts unique users per item over the entries `keep` accepts (e.g. one event type, a period).
#[must_use]
pub fn train(m: &TrainingMatrix, keep: impl Fn(&Entry) -> bool) -> PopularityModel {
    from_counts(unique_users(m, keep))
}

/// Unique users per item over the entries `keep` accepts.
#[must_use]
pub fn unique_users(m: &TrainingMatrix, keep: impl Fn(&Entry) -> bool) -> Vec<u32> {
    let mut counts = vec![0u32; m.n_items()];
    each_first(m, keep, |e| counts[e.item as usize] += 1);
    counts
}

/// Calls `f` with each user's first entry per item among those `keep` accepts (rows are in
/// time order, so the earliest).
fn each_first(m: &TrainingMatrix, keep: impl Fn(&Entry) -> bool, mut f: impl FnMut(&Entry)) {
    let mut seen = vec![u32::MAX; m.n_items()];
    for u in 0..m.n_users() {
        let tag = u32::try_from(u).unwrap_or(u32::MAX);
        for e in m.row(u) {
            let i = e.item as usize;
            if keep(e) && seen[i] != tag {
                seen[i] = tag;
                f(e);
            }
        }
    }
}

/// Bins per decay window of a [`timeline`].
const BINS_PER_WINDOW: f64 = 4.0;

/// Each item's new users over time (a user counts once per item, at the first entry `keep`
/// accepts), in bins a quarter of `window_days` wide, for popularity decayed over
/// `window_days` as of any time. `None` when the window is not a positive number of days or
/// nothing is kept.
#[must_use]
pub fn timeline(
    m: &TrainingMatrix,
    keep: impl Fn(&Entry) -> bool,
    window_days: f64,
) -> Option<PopularityTimeline> {
    if !(window_days.is_finite() && window_days > 0.0) {
        return None;
    }
    let window_seconds = (window_days * 86_400.0).min(1e15);
    let bin_seconds = window_seconds / BINS_PER_WINDOW;
    let mut first: Vec<(u32, i64)> = Vec::new();
    each_first(m, keep, |e| first.push((e.item, e.timestamp)));
    let origin = first.iter().map(|&(_, t)| t).min()?;
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let bin = |t: i64| {
        ((t.saturating_sub(origin)) as f64 / bin_seconds).min(f64::from(u32::MAX - 1)) as u32
    };
    let mut keyed: Vec<(u32, u32)> = first.iter().map(|&(i, t)| (i, bin(t))).collect();
    keyed.sort_unstable();
    // One bin per run of equal (item, bin) pairs, its length the count.
    let mut per_item = vec![0u32; m.n_items()];
    let (mut bins, mut counts) = (Vec::new(), Vec::new());
    for run in keyed.chunk_by(|a, b| a == b) {
        let (item, b) = run[0];
        per_item[item as usize] += 1;
        bins.push(b);
        counts.push(u32::try_from(run.len()).unwrap_or(u32::MAX));
    }
    let offsets: Vec<u32> = std::iter::once(0)
        .chain(per_item.iter().scan(0u32, |end, &n| {
            *end += n;
            Some(*end)
        }))
        .collect();
    #[allow(clippy::cast_precision_loss)]
    Some(PopularityTimeline::new(
        origin as f64,
        bin_seconds,
        window_seconds,
        offsets,
        bins,
        counts,
    ))
}

/// Ranks items by count (descending; ties → lower index), dropping zero counts.
#[must_use]
pub fn from_counts(counts: Vec<u32>) -> PopularityModel {
    let mut ranked: Vec<u32> = (0..counts.len())
        .filter(|&i| counts[i] > 0)
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    ranked.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    PopularityModel { counts, ranked }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::CatalogScope;
    use crate::recipes::trending::tests::{DAY, dataset};

    #[test]
    fn timeline_counts_each_users_first_interaction_in_its_bin() {
        // Window 8 days: bins of 2 days from day 10 (the first interaction).
        let d = dataset(&[
            (0, 0, 10),
            (0, 0, 30), // the same user again: not a new user of item 0
            (1, 0, 11),
            (2, 0, 15),
            (1, 2, 20),
            (2, 2, 21),
        ]);
        let m = TrainingMatrix::build(&d, CatalogScope::All);
        let t = timeline(&m, |_| true, 8.0).unwrap();
        assert_eq!(t.origin, (10 * DAY) as f64);
        assert_eq!(t.bin_seconds, 2.0 * DAY as f64);
        assert_eq!(t.window_seconds, 8.0 * DAY as f64);
        // Item 0: users 0 and 1 in bin 0, user 2 in bin 2; item 1 never; item 2 in bin 5.
        assert_eq!(t.offsets, [0, 2, 2, 3]);
        assert_eq!(t.bins, [0, 2, 5]);
        assert_eq!(t.counts, [2, 1, 2]);
        assert!(t.is_consistent(3));
        // The same totals as the all-time unique users.
        let per_item: Vec<u32> = t
            .offsets
            .windows(2)
            .map(|w| t.counts[w[0] as usize..w[1] as usize].iter().sum())
            .collect();
        assert_eq!(per_item, unique_users(&m, |_| true));
        // Only kept entries count: from day 20, user 0's return to item 0 (day 30, bin 5) is
        // their first kept one. No window, no timeline.
        let late = timeline(&m, |e| e.timestamp >= 20 * DAY, 8.0).unwrap();
        assert_eq!(late.origin, (20 * DAY) as f64);
        assert_eq!(late.offsets, [0, 1, 1, 2]);
        assert_eq!((late.bins, late.counts), (vec![5, 0], vec![1, 2]));
        assert!(timeline(&m, |_| true, 0.0).is_none());
        assert!(timeline(&m, |_| true, f64::NAN).is_none());
        assert!(timeline(&m, |_| false, 8.0).is_none());
    }
}
