//! `popularity-count`: items ranked by the number of unique users who interacted with them.
//! With `lookback_days`, only the most recent interactions count (a "trending now" list).

use edgerec_core::{PopularityModel, PopularityTimeline};
use serde::{Deserialize, Serialize};

use super::TrainingMatrix;
use super::matrix::Entry;

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
    pub fn since(&self, max_time: i64) -> Result<i64, String> {
        let d = self.lookback_days;
        if !(d.is_finite() && d >= 0.0) {
            return Err(format!(
                "lookback_days must be a number of days >= 0, found {d}"
            ));
        }
        if d == 0.0 {
            return Ok(i64::MIN);
        }
        // Whole seconds; a lookback longer than the data simply counts everything.
        let seconds = (d * 86_400.0).min(1e15) as i64;
        Ok(max_time.saturating_sub(seconds))
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
    let mut seen = vec![u32::MAX; m.n_items()];
    for u in 0..m.n_users() {
        let tag = u32::try_from(u).unwrap_or(u32::MAX);
        for e in m.row(u) {
            let i = e.item as usize;
            if keep(e) && seen[i] != tag {
                seen[i] = tag;
                counts[i] += 1;
            }
        }
    }
    counts
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
    let mut seen = vec![u32::MAX; m.n_items()];
    for u in 0..m.n_users() {
        let tag = u32::try_from(u).unwrap_or(u32::MAX);
        for e in m.row(u) {
            let i = e.item as usize;
            if keep(e) && seen[i] != tag {
                seen[i] = tag;
                first.push((e.item, e.timestamp));
            }
        }
    }
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
    let mut offsets = Vec::with_capacity(m.n_items() + 1);
    let (mut bins, mut counts) = (Vec::new(), Vec::new());
    let mut k = 0;
    offsets.push(0u32);
    for item in 0..m.n_items() {
        while let Some(&(i, b)) = keyed.get(k) {
            if i as usize != item {
                break;
            }
            if bins.len() > offsets[offsets.len() - 1] as usize && bins.last() == Some(&b) {
                if let Some(c) = counts.last_mut() {
                    *c += 1;
                }
            } else {
                bins.push(b);
                counts.push(1u32);
            }
            k += 1;
        }
        offsets.push(u32::try_from(bins.len()).unwrap_or(u32::MAX));
    }
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
