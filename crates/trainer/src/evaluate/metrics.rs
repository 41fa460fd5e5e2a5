//! Offline metrics of the evaluation protocol: split A (one held-out item per warm user),
//! split B (the next [`N_TARGETS`](super::protocol::N_TARGETS) items of a cold user's session)
//! and Amazon Personalize's `GetSolutionMetrics` names.
//!
//! Each accumulator takes one ranked list per evaluated user (best first, raw item ids) and
//! `finish()`es into a serialisable report. A list may be shorter than K (missing slots are
//! misses); a relevant item the model cannot recommend (outside the catalogue) is a miss that
//! stays in the denominator.

use std::collections::HashSet;

use serde::Serialize;

/// Length of the ranked lists split A needs (MRR@25).
pub const WARM_LIST_LEN: usize = 25;
/// Length of the ranked lists split B needs.
pub const COLD_LIST_LEN: usize = 10;

/// `1 / log2(position + 1)` for a 1-based position.
fn discount(position: usize) -> f64 {
    1.0 / (as_f64(position) + 1.0).log2()
}

#[allow(clippy::cast_precision_loss)]
fn mean(sum: f64, n: usize) -> f64 {
    if n == 0 { 0.0 } else { sum / n as f64 }
}

#[allow(clippy::cast_precision_loss)]
fn mean_of(values: &[f64]) -> f64 {
    mean(values.iter().sum(), values.len())
}

/// Standard error of the mean (sample standard deviation, n − 1, over √n); 0 below 2 values.
#[allow(clippy::cast_precision_loss)]
fn standard_error(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let m = mean_of(values);
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    (ss / (n - 1) as f64).sqrt() / (n as f64).sqrt()
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

// ------------------------------------------------------------------------------------------
// Personalize names
// ------------------------------------------------------------------------------------------

/// Amazon Personalize's offline metric names (serialised under exactly these keys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PersonalizeReport {
    /// Distinct items over all returned lists (top 25) / catalogue size.
    pub coverage: f64,
    pub mean_reciprocal_rank_at_25: f64,
    pub normalized_discounted_cumulative_gain_at_5: f64,
    pub normalized_discounted_cumulative_gain_at_10: f64,
    pub normalized_discounted_cumulative_gain_at_25: f64,
    pub precision_at_5: f64,
    pub precision_at_10: f64,
    pub precision_at_25: f64,
}

/// Accumulates [`PersonalizeReport`] over requests with any number of relevant items.
///
/// Per request: reciprocal rank of the best-ranked relevant item within the top 25 (0 if none);
/// NDCG@K = Σ over relevant items in the top K of `1/log2(1 + position)`, divided by the ideal
/// DCG of min(K, |relevant|) relevant items (0 when nothing is relevant); precision@K =
/// relevant items in the top K / K. All are averaged over requests.
#[derive(Debug, Clone, Default)]
pub struct PersonalizeMetrics {
    catalogue_size: usize,
    requests: usize,
    reciprocal_rank: f64,
    ndcg: [f64; 3],
    precision: [f64; 3],
    recommended: HashSet<String>,
}

const PERSONALIZE_KS: [usize; 3] = [5, 10, 25];

impl PersonalizeMetrics {
    /// `catalogue_size` = the denominator of `coverage`.
    #[must_use]
    pub fn new(catalogue_size: usize) -> Self {
        PersonalizeMetrics {
            catalogue_size,
            ..Self::default()
        }
    }

    /// One request: `ranked` = recommended item ids, best first; `relevant` = the items the
    /// user went on to interact with.
    pub fn add<R: AsRef<str>, T: AsRef<str>>(&mut self, ranked: &[R], relevant: &[T]) {
        let relevant: HashSet<&str> = relevant.iter().map(AsRef::as_ref).collect();
        self.add_set(ranked, &relevant);
    }

    fn add_set<R: AsRef<str>>(&mut self, ranked: &[R], relevant: &HashSet<&str>) {
        self.requests += 1;
        let top = &ranked[..ranked.len().min(WARM_LIST_LEN)];
        for item in top {
            if !self.recommended.contains(item.as_ref()) {
                self.recommended.insert(item.as_ref().to_owned());
            }
        }
        // Hit positions (1-based), each relevant item counted once.
        let mut found: HashSet<&str> = HashSet::new();
        let mut hits = Vec::new();
        for (p, item) in top.iter().enumerate() {
            let item = item.as_ref();
            if relevant.contains(item) && found.insert(item) {
                hits.push(p + 1);
            }
        }
        if let Some(&first) = hits.first() {
            self.reciprocal_rank += 1.0 / as_f64(first);
        }
        for (k, &cut) in PERSONALIZE_KS.iter().enumerate() {
            let dcg: f64 = hits
                .iter()
                .filter(|&&p| p <= cut)
                .map(|&p| discount(p))
                .sum();
            let ideal: f64 = (1..=cut.min(relevant.len())).map(discount).sum();
            if ideal > 0.0 {
                self.ndcg[k] += dcg / ideal;
            }
            self.precision[k] += ratio(hits.iter().filter(|&&p| p <= cut).count(), cut);
        }
    }

    #[must_use]
    pub fn finish(&self) -> PersonalizeReport {
        let n = self.requests;
        PersonalizeReport {
            coverage: ratio(self.recommended.len(), self.catalogue_size),
            mean_reciprocal_rank_at_25: mean(self.reciprocal_rank, n),
            normalized_discounted_cumulative_gain_at_5: mean(self.ndcg[0], n),
            normalized_discounted_cumulative_gain_at_10: mean(self.ndcg[1], n),
            normalized_discounted_cumulative_gain_at_25: mean(self.ndcg[2], n),
            precision_at_5: mean(self.precision[0], n),
            precision_at_10: mean(self.precision[1], n),
            precision_at_25: mean(self.precision[2], n),
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn as_f64(rank: usize) -> f64 {
    rank as f64
}

// ------------------------------------------------------------------------------------------
// split A
// ------------------------------------------------------------------------------------------

/// Split-A metrics (docs/protocol.md), with the peer benchmark's keys, plus Personalize's names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WarmReport {
    /// Test users evaluated.
    pub users: usize,
    #[serde(rename = "HR@10")]
    pub hr_at_10: f64,
    #[serde(rename = "NDCG@10")]
    pub ndcg_at_10: f64,
    #[serde(rename = "NDCG@10_se")]
    pub ndcg_at_10_se: f64,
    #[serde(rename = "MRR@25")]
    pub mrr_at_25: f64,
    #[serde(rename = "Recall@20")]
    pub recall_at_20: f64,
    /// |∪ over test users of their top 10| / |catalogue|.
    #[serde(rename = "Cov@10")]
    pub coverage_at_10: f64,
    pub personalize: PersonalizeReport,
}

/// Accumulates [`WarmReport`]: one ranked list (top 25) and one held-out item per test user.
#[derive(Debug, Clone, Default)]
pub struct WarmMetrics {
    catalogue_size: usize,
    hits_10: usize,
    hits_20: usize,
    reciprocal_rank: f64,
    ndcg: Vec<f64>,
    top10: HashSet<String>,
    personalize: PersonalizeMetrics,
}

impl WarmMetrics {
    /// `catalogue_size` = number of items of the run's catalogue (coverage denominator).
    #[must_use]
    pub fn new(catalogue_size: usize) -> Self {
        WarmMetrics {
            catalogue_size,
            personalize: PersonalizeMetrics::new(catalogue_size),
            ..Self::default()
        }
    }

    /// One test user: `ranked` = recommended item ids, best first (only the first 25 count);
    /// `target` = the held-out item.
    pub fn add<R: AsRef<str>>(&mut self, ranked: &[R], target: &str) {
        let top = &ranked[..ranked.len().min(WARM_LIST_LEN)];
        let rank = top.iter().position(|i| i.as_ref() == target).map(|p| p + 1);
        for item in &top[..top.len().min(10)] {
            if !self.top10.contains(item.as_ref()) {
                self.top10.insert(item.as_ref().to_owned());
            }
        }
        let mut ndcg = 0.0;
        if let Some(rank) = rank {
            if rank <= 10 {
                self.hits_10 += 1;
                ndcg = discount(rank);
            }
            if rank <= 20 {
                self.hits_20 += 1;
            }
            self.reciprocal_rank += 1.0 / as_f64(rank);
        }
        self.ndcg.push(ndcg);
        let relevant: HashSet<&str> = std::iter::once(target).collect();
        self.personalize.add_set(top, &relevant);
    }

    /// Test users added so far.
    #[must_use]
    pub fn users(&self) -> usize {
        self.ndcg.len()
    }

    #[must_use]
    pub fn finish(&self) -> WarmReport {
        let n = self.ndcg.len();
        WarmReport {
            users: n,
            hr_at_10: ratio(self.hits_10, n),
            ndcg_at_10: mean_of(&self.ndcg),
            ndcg_at_10_se: standard_error(&self.ndcg),
            mrr_at_25: mean(self.reciprocal_rank, n),
            recall_at_20: ratio(self.hits_20, n),
            coverage_at_10: ratio(self.top10.len(), self.catalogue_size),
            personalize: self.personalize.finish(),
        }
    }
}

// ------------------------------------------------------------------------------------------
// split B
// ------------------------------------------------------------------------------------------

/// Split-B metrics for one session length N (docs/protocol.md), with the peer benchmark's keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ColdReport {
    /// Session length.
    #[serde(rename = "N")]
    pub session_length: usize,
    /// Cold users evaluated.
    pub users: usize,
    #[serde(rename = "Recall@10")]
    pub recall_at_10: f64,
    #[serde(rename = "Recall@10_se")]
    pub recall_at_10_se: f64,
    #[serde(rename = "NDCG@10")]
    pub ndcg_at_10: f64,
    #[serde(rename = "NDCG@10_se")]
    pub ndcg_at_10_se: f64,
    #[serde(rename = "HR@10")]
    pub hr_at_10: f64,
    #[serde(rename = "HR@10_se")]
    pub hr_at_10_se: f64,
}

/// Accumulates [`ColdReport`] for one session length: one top-10 list and the targets per
/// cold user.
///
/// Recall@10 = |top 10 ∩ targets| / |targets|; NDCG@10 = Σ over hit positions p of
/// `1/log2(p + 1)` / Σ_{p = 1..min(10, |targets|)} `1/log2(p + 1)`; HR@10 = any hit.
#[derive(Debug, Clone, Default)]
pub struct ColdMetrics {
    session_length: usize,
    recall: Vec<f64>,
    ndcg: Vec<f64>,
    hit: Vec<f64>,
}

impl ColdMetrics {
    #[must_use]
    pub fn new(session_length: usize) -> Self {
        ColdMetrics {
            session_length,
            ..Self::default()
        }
    }

    /// One cold user: `ranked` = recommended item ids, best first (only the first 10 count);
    /// `targets` = the items that followed the session. Users without targets are skipped.
    pub fn add<R: AsRef<str>, T: AsRef<str>>(&mut self, ranked: &[R], targets: &[T]) {
        if targets.is_empty() {
            return;
        }
        let targets_set: HashSet<&str> = targets.iter().map(AsRef::as_ref).collect();
        let mut found: HashSet<&str> = HashSet::new();
        let mut hits = 0usize;
        let mut dcg = 0.0;
        for (p, item) in ranked.iter().take(COLD_LIST_LEN).enumerate() {
            let item = item.as_ref();
            if targets_set.contains(item) && found.insert(item) {
                hits += 1;
                dcg += discount(p + 1);
            }
        }
        let ideal: f64 = (1..=COLD_LIST_LEN.min(targets.len())).map(discount).sum();
        self.recall.push(ratio(hits, targets.len()));
        self.ndcg.push(dcg / ideal);
        self.hit.push(if hits > 0 { 1.0 } else { 0.0 });
    }

    #[must_use]
    pub fn finish(&self) -> ColdReport {
        ColdReport {
            session_length: self.session_length,
            users: self.ndcg.len(),
            recall_at_10: mean_of(&self.recall),
            recall_at_10_se: standard_error(&self.recall),
            ndcg_at_10: mean_of(&self.ndcg),
            ndcg_at_10_se: standard_error(&self.ndcg),
            hr_at_10: mean_of(&self.hit),
            hr_at_10_se: standard_error(&self.hit),
        }
    }
}

/// Mean NDCG@10 over session lengths: the split-B tuning criterion (over N = 1, 3, 5).
#[must_use]
pub fn mean_ndcg_at_10(reports: &[ColdReport]) -> f64 {
    mean_of(&reports.iter().map(|r| r.ndcg_at_10).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn personalize_worked_example() {
        // Relevant at positions 2 and 5, K = 5.
        let mut m = PersonalizeMetrics::new(10);
        m.add(&["a", "r1", "b", "c", "r2"], &["r1", "r2"]);
        let r = m.finish();
        assert!(close(r.mean_reciprocal_rank_at_25, 0.5));
        assert_eq!(
            format!("{:.4}", r.normalized_discounted_cumulative_gain_at_5),
            "0.6241"
        );
        assert!(close(r.precision_at_5, 0.4));
        assert!(close(r.precision_at_10, 0.2));
        assert!(close(r.coverage, 0.5));
    }

    #[test]
    fn warm_ranks_and_short_lists() {
        let mut m = WarmMetrics::new(20);
        m.add(&["x", "t"], "t"); // rank 2
        m.add(&["x"], "t"); // miss, short list
        let few: [&str; 0] = [];
        m.add(&few, "u"); // empty list, target outside the catalogue
        let mut long: Vec<String> = (0..30).map(|i| format!("i{i}")).collect();
        long[14] = "t".into(); // rank 15: a Recall@20 / MRR hit, not an HR@10 hit
        m.add(&long, "t");
        let r = m.finish();
        assert_eq!(r.users, 4);
        assert!(close(r.hr_at_10, 0.25));
        assert!(close(r.recall_at_20, 0.5));
        assert!(close(r.ndcg_at_10, 1.0 / 3f64.log2() / 4.0));
        assert!(close(r.mrr_at_25, (0.5 + 1.0 / 15.0) / 4.0));
        // top-10 union: x, t, i0..i9 = 12 of 20 catalogue items
        assert!(close(r.coverage_at_10, 12.0 / 20.0));
        assert!(close(r.personalize.precision_at_5, 0.2 / 4.0));
        assert!(close(
            r.personalize.normalized_discounted_cumulative_gain_at_25,
            (1.0 / 3f64.log2() + 1.0 / 16f64.log2()) / 4.0
        ));
    }

    #[test]
    fn cold_formula() {
        let targets: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let mut m = ColdMetrics::new(5);
        m.add(&["t3", "a", "t0", "t0"], &targets); // duplicate counted once
        m.add(&["a", "b"], &targets);
        let r = m.finish();
        let ideal: f64 = (1..=10).map(discount).sum();
        assert_eq!(r.users, 2);
        assert!(close(r.recall_at_10, 0.1));
        assert!(close(r.hr_at_10, 0.5));
        assert!(close(r.ndcg_at_10, (1.0 + 0.5) / ideal / 2.0));
        // Three targets: the ideal DCG covers three positions.
        let mut few = ColdMetrics::new(1);
        few.add(&["a", "b", "c"], &["a", "b", "c"]);
        assert!(close(few.finish().ndcg_at_10, 1.0));
    }

    #[test]
    fn standard_error_matches_sample_formula() {
        let v = [0.0, 1.0, 0.0, 1.0];
        // sample sd = sqrt(1/3), se = sd / 2
        assert!(close(standard_error(&v), (1.0f64 / 3.0).sqrt() / 2.0));
        assert!(close(standard_error(&[1.0]), 0.0));
    }
}
