//! Item popularity over time: each item's new users per time bin, decayed to any moment.
//! Serves the short-session prior of neighbour models (`CAP_POPULARITY_TIMELINE`).

use serde::{Deserialize, Serialize};

use crate::model::csr_row;

/// Bin ages whose decay weights are tabulated when the timeline is built.
const WEIGHT_TABLE: u32 = 1024;

/// Each item's new users per time bin (a user counts once per item, at their first
/// interaction with it), for popularity as of a given time: a bin `a` bins before the one
/// holding that time counts `exp(−a · bin_seconds / window_seconds)`, and later bins do not
/// count. Built with [`PopularityTimeline::new`], which also derives the peak count as of
/// every bin, so a request decays only its candidates' bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "TimelineParts")]
pub struct PopularityTimeline {
    /// Start of bin 0, seconds since the epoch.
    pub origin: f64,
    /// Width of a bin in seconds (> 0).
    pub bin_seconds: f64,
    /// Time constant of the decay in seconds (> 0).
    pub window_seconds: f64,
    /// Per item (CSR, `items + 1` entries), its non-empty bins.
    pub offsets: Vec<u32>,
    /// Bin numbers, ascending within an item.
    pub bins: Vec<u32>,
    /// New users in the bin (> 0).
    pub counts: Vec<u32>,
    /// Derived: the distinct bins in ascending order with the largest decayed count of any
    /// item as of each.
    #[serde(skip)]
    peaks: Vec<(u32, f32)>,
    /// Derived: the decay over 0, 1, 2, … bins (as far as the bins reach, at most
    /// `WEIGHT_TABLE`).
    #[serde(skip)]
    decays: Vec<f32>,
}

/// The stored fields, so a deserialised timeline derives its tables through
/// [`PopularityTimeline::new`] as a decoded one does.
#[derive(Deserialize)]
struct TimelineParts {
    origin: f64,
    bin_seconds: f64,
    window_seconds: f64,
    offsets: Vec<u32>,
    bins: Vec<u32>,
    counts: Vec<u32>,
}

impl From<TimelineParts> for PopularityTimeline {
    fn from(p: TimelineParts) -> Self {
        PopularityTimeline::new(
            p.origin,
            p.bin_seconds,
            p.window_seconds,
            p.offsets,
            p.bins,
            p.counts,
        )
    }
}

/// The time a request is scored at: a bin of the timeline.
#[derive(Debug, Clone, Copy)]
pub struct TimelineAt<'t> {
    timeline: &'t PopularityTimeline,
    current: u32,
}

impl PopularityTimeline {
    #[must_use]
    pub fn new(
        origin: f64,
        bin_seconds: f64,
        window_seconds: f64,
        offsets: Vec<u32>,
        bins: Vec<u32>,
        counts: Vec<u32>,
    ) -> Self {
        let mut t = PopularityTimeline {
            origin,
            bin_seconds,
            window_seconds,
            offsets,
            bins,
            counts,
            peaks: Vec::new(),
            decays: Vec::new(),
        };
        t.peaks = t.derive_peaks();
        let span = match (t.peaks.first(), t.peaks.last()) {
            (Some(&(a, _)), Some(&(b, _))) => b - a + 1,
            _ => 0,
        };
        t.decays = (0..span.min(WEIGHT_TABLE)).map(|a| t.decay(a)).collect();
        t
    }

    /// Decay factor over `age` bins.
    fn decay(&self, age: u32) -> f32 {
        #[allow(clippy::cast_possible_truncation)]
        let w = (-f64::from(age) * self.bin_seconds / self.window_seconds).exp() as f32;
        if w.is_finite() { w } else { 0.0 }
    }

    /// Item `i`'s bins and counts (empty when the CSR does not hold it).
    fn item(&self, i: usize) -> (&[u32], &[u32]) {
        let r = csr_row(&self.offsets, i, self.bins.len().min(self.counts.len()));
        (&self.bins[r.clone()], &self.counts[r])
    }

    /// Every item's count decayed to each of its bins gives, with a running maximum that
    /// decays between bins, the peak as of every distinct bin (a count only grows at an
    /// item's bins, so the peak is reached at one of them).
    fn derive_peaks(&self) -> Vec<(u32, f32)> {
        let mut at_bin: Vec<(u32, f32)> = Vec::with_capacity(self.bins.len());
        for i in 0..self.offsets.len().saturating_sub(1) {
            let (bins, counts) = self.item(i);
            let mut value = 0.0f32;
            let mut prev: Option<u32> = None;
            for (&b, &c) in bins.iter().zip(counts) {
                if let Some(p) = prev {
                    value *= self.decay(b.saturating_sub(p));
                }
                #[allow(clippy::cast_precision_loss)]
                let c = c as f32;
                value += c;
                at_bin.push((b, value));
                prev = Some(b);
            }
        }
        let mut peaks: Vec<(u32, f32)> = Vec::new();
        for (b, v) in by_bin(at_bin) {
            match peaks.last_mut() {
                Some(last) if last.0 == b => last.1 = last.1.max(v),
                Some(&mut (pb, pv)) => peaks.push((b, v.max(pv * self.decay(b - pb)))),
                None => peaks.push((b, v)),
            }
        }
        peaks
    }

    /// The end of the last bin: the time of a request that says nothing about its time.
    #[must_use]
    pub fn end(&self) -> f64 {
        let last = self.peaks.last().map_or(0, |&(b, _)| b.saturating_add(1));
        self.origin + f64::from(last) * self.bin_seconds
    }

    /// The timeline as of `t` (seconds since the epoch): `None` before the first bin (nothing
    /// was popular yet) or for a time that is not a number. After the last bin it is the last
    /// bin, as every count would decay by the same factor.
    #[must_use]
    pub fn at(&self, t: f64) -> Option<TimelineAt<'_>> {
        if !(t.is_finite() && self.bin_seconds > 0.0 && self.window_seconds > 0.0) {
            return None;
        }
        let span = (t - self.origin) / self.bin_seconds;
        let &(first, _) = self.peaks.first()?;
        let &(last, _) = self.peaks.last()?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let current = (span.max(-1.0).floor().min(f64::from(u32::MAX)) as i64).min(i64::from(last));
        let current = u32::try_from(current).ok().filter(|&c| c >= first)?;
        Some(TimelineAt {
            timeline: self,
            current,
        })
    }

    /// Every item's decayed count as of `t`; all zero when [`PopularityTimeline::at`] is
    /// `None`.
    #[must_use]
    pub fn counts_at(&self, t: f64) -> Vec<f32> {
        let items = self.offsets.len().saturating_sub(1);
        match self.at(t) {
            Some(at) => (0..items).map(|i| at.count(i)).collect(),
            None => vec![0.0; items],
        }
    }

    #[must_use]
    pub fn is_consistent(&self, items: usize) -> bool {
        let n = self.bins.len();
        self.origin.is_finite()
            && self.bin_seconds.is_finite()
            && self.bin_seconds > 0.0
            && self.window_seconds.is_finite()
            && self.window_seconds > 0.0
            && self.offsets.len() == items + 1
            && self.offsets.first() == Some(&0)
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.offsets.last().is_some_and(|&o| o as usize == n)
            && self.counts.len() == n
            && self.counts.iter().all(|&c| c > 0)
            && (0..items).all(|i| self.item(i).0.windows(2).all(|b| b[0] < b[1]))
    }
}

impl TimelineAt<'_> {
    /// Item `i`'s count decayed to this time.
    #[must_use]
    pub fn count(&self, i: usize) -> f32 {
        let t = self.timeline;
        let (bins, counts) = t.item(i);
        let mut sum = 0.0f32;
        for (&b, &c) in bins.iter().zip(counts) {
            if b > self.current {
                break;
            }
            let age = self.current - b;
            let w = t
                .decays
                .get(age as usize)
                .copied()
                .unwrap_or_else(|| t.decay(age));
            #[allow(clippy::cast_precision_loss)]
            let c = c as f32;
            sum += c * w;
        }
        sum
    }

    /// The largest decayed count of any item at this time.
    #[must_use]
    pub fn peak(&self) -> f32 {
        let peaks = &self.timeline.peaks;
        let k = peaks.partition_point(|&(b, _)| b <= self.current);
        match k.checked_sub(1).and_then(|k| peaks.get(k)) {
            Some(&(b, v)) => v * self.timeline.decay(self.current - b),
            None => 0.0,
        }
    }
}

/// `(bin, value)` pairs ordered by bin, each bin once with its largest value (values are
/// positive). Bins that are dense enough go through a table indexed by bin (linear time);
/// sparse ones (a bin number far above the pair count) are sorted.
fn by_bin(mut pairs: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    let Some(last) = pairs.iter().map(|&(b, _)| b as usize).max() else {
        return pairs;
    };
    if last > pairs.len().saturating_mul(4).saturating_add(1024) {
        crate::sort::sort_by_key(&mut pairs, |&(b, _)| b);
        pairs.dedup_by(|next, kept| {
            let same = next.0 == kept.0;
            if same {
                kept.1 = kept.1.max(next.1);
            }
            same
        });
        return pairs;
    }
    let mut best = vec![f32::NEG_INFINITY; last + 1];
    for (b, v) in pairs {
        best[b as usize] = best[b as usize].max(v);
    }
    best.into_iter()
        .zip(0u32..)
        .filter(|&(v, _)| v > f32::NEG_INFINITY)
        .map(|(v, b)| (b, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::by_bin;

    #[test]
    fn pairs_by_bin_keep_each_bins_largest_value_whether_dense_or_sparse() {
        let dense = vec![(3, 1.0), (1, 2.0), (3, 5.0), (0, 0.5), (1, 1.0)];
        let want = vec![(0, 0.5), (1, 2.0), (3, 5.0)];
        assert_eq!(by_bin(dense), want);
        // A bin far above the pair count takes the sorting path, with the same result.
        let sparse = vec![(4_000_000, 1.0), (7, 3.0), (4_000_000, 2.0), (7, 1.0)];
        assert_eq!(by_bin(sparse), vec![(7, 3.0), (4_000_000, 2.0)]);
        assert!(by_bin(Vec::new()).is_empty());
    }
}
