//! `popularity-count`: items ranked by the number of unique users who interacted with them.
//! With `lookback_days`, only the most recent interactions count (a "trending now" list).

use edgerec_core::PopularityModel;
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
