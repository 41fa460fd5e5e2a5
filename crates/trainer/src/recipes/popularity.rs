//! `popularity-count`: items ranked by the number of unique users who interacted with them.

use edgerec_core::PopularityModel;

use super::TrainingMatrix;

/// Counts unique users per item over the entries `keep` accepts (e.g. one event type).
#[must_use]
pub fn train(m: &TrainingMatrix, keep: impl Fn(u16) -> bool) -> PopularityModel {
    let mut counts = vec![0u32; m.n_items()];
    let mut seen = vec![u32::MAX; m.n_items()];
    for u in 0..m.n_users() {
        let tag = u32::try_from(u).unwrap_or(u32::MAX);
        for e in m.row(u) {
            let i = e.item as usize;
            if keep(e.event_type) && seen[i] != tag {
                seen[i] = tag;
                counts[i] += 1;
            }
        }
    }
    from_counts(counts)
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
