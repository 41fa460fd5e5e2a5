//! Bulk synthetic interactions for scale measurements: any number of rows, streamed to a CSV.
//!
//! Where the storefront simulation ([`super::generate`]) models shoppers over a real catalogue,
//! this generator only has to look like a large storefront's log to the trainer: item popularity
//! follows a Zipf law over `items` items, and user activity is log-normal (most users have a few
//! events, a few have hundreds). Each user also has one of `clusters` tastes, and draws
//! `cluster_share` of their items from their cluster's own Zipf law, so the data has structure that
//! co-occurrence and factor models can learn (pure popularity draws would give them none).
//!
//! Rows are written user by user (each user's events in time order), as
//! `USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE` with ids `u<n>` / `i<n>`, and never held in memory: a
//! billion rows need no more memory than ten. The same settings give the same file on the same
//! platform (the log-normal draw uses the platform's `ln`/`exp`/`cos`).

use std::io::Write;

use super::SynthError;
use super::rng::Rng;

/// Settings of the bulk generator.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkConfig {
    /// Rows to write.
    pub interactions: u64,
    /// Catalogue size (item ids `i0 .. i<items-1>`; the least popular may never be drawn).
    pub items: u32,
    /// Mean events per user (the log-normal's mean); the number of users follows from it.
    pub mean_activity: f64,
    /// Spread of the user activity (the log-normal's σ).
    pub activity_sigma: f64,
    /// Zipf exponent of item popularity (1 = weight `1/rank`).
    pub zipf: f64,
    /// Number of taste clusters.
    pub clusters: u32,
    /// Share of a user's events drawn from their cluster (the rest from the whole catalogue).
    pub cluster_share: f64,
    /// Length of the period in days.
    pub days: u32,
    /// First second of the period (epoch seconds).
    pub start: i64,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for BulkConfig {
    fn default() -> Self {
        BulkConfig {
            interactions: 1_000_000,
            items: 100_000,
            mean_activity: 25.0,
            activity_sigma: 1.0,
            zipf: 1.0,
            clusters: 200,
            cluster_share: 0.7,
            days: 90,
            start: super::DEFAULT_START,
            seed: 42,
        }
    }
}

impl BulkConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`SynthError::Config`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |m: &str| Err(SynthError::Config(m.to_string()));
        if self.items == 0 {
            return bad("items must be at least 1");
        }
        if self.clusters == 0 || self.clusters > self.items {
            return bad("clusters must be between 1 and the number of items");
        }
        if !(self.mean_activity >= 1.0 && self.mean_activity.is_finite()) {
            return bad("mean activity must be a number of at least 1");
        }
        if !(self.activity_sigma >= 0.0 && self.activity_sigma <= 4.0) {
            return bad("activity sigma must be between 0 and 4");
        }
        if !(self.zipf >= 0.0 && self.zipf <= 4.0) {
            return bad("the Zipf exponent must be between 0 and 4");
        }
        if !(0.0..=1.0).contains(&self.cluster_share) {
            return bad("the cluster share must be between 0 and 1");
        }
        if self.days == 0 {
            return bad("days must be at least 1");
        }
        if !(0..=super::MAX_START).contains(&self.start) {
            return bad("start must be between 0 and 32503680000 (year 3000)");
        }
        Ok(())
    }
}

/// What [`write_bulk`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkSummary {
    pub interactions: u64,
    pub users: u64,
    /// Items drawn at least once.
    pub items_seen: u32,
}

/// Cumulative Zipf weights over ranks `0..n`, for drawing a rank by binary search.
fn zipf_table(n: usize, exponent: f64) -> Vec<f64> {
    let mut total = 0.0;
    (1..=n)
        .map(|rank| {
            total += (rank as f64).powf(-exponent);
            total
        })
        .collect()
}

/// A rank drawn from a cumulative table.
fn draw(table: &[f64], rng: &mut Rng) -> usize {
    let total = table.last().copied().unwrap_or(0.0);
    let x = rng.unit() * total;
    table.partition_point(|&c| c <= x).min(table.len() - 1)
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut Rng) -> f64 {
    let u = 1.0 - rng.unit();
    let v = rng.unit();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Writes `cfg.interactions` rows (plus a header) to `out`, calling `progress` with the rows
/// written so far every 100,000 rows.
///
/// # Errors
/// [`SynthError::Config`] for bad settings, [`SynthError::Io`] (naming `path`) when writing fails.
pub fn write_bulk(
    cfg: &BulkConfig,
    out: &mut dyn Write,
    path: &std::path::Path,
    mut progress: impl FnMut(u64),
) -> Result<BulkSummary, SynthError> {
    cfg.validate()?;
    let io = |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    };
    let items = cfg.items as usize;
    let clusters = cfg.clusters as usize;
    // A random popularity order: rank r is item order[r]. Cluster c holds the ranks ≡ c (mod
    // clusters), so each cluster has popular and rare items and its own Zipf over them.
    let mut order: Vec<u32> = (0..cfg.items).collect();
    let mut rng = Rng::stream(cfg.seed, 1, 0);
    for i in (1..items).rev() {
        order.swap(i, rng.index(i + 1));
    }
    let global = zipf_table(items, cfg.zipf);
    let per_cluster = zipf_table(items.div_ceil(clusters), cfg.zipf);
    // The log-normal's μ for the asked mean: mean = exp(μ + σ²/2).
    let sigma = cfg.activity_sigma;
    let mu = cfg.mean_activity.ln() - sigma * sigma / 2.0;
    let span = i64::from(cfg.days) * 86_400;

    writeln!(out, "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE").map_err(io)?;
    let mut seen = vec![false; items];
    let mut summary = BulkSummary::default();
    let mut times: Vec<i64> = Vec::new();
    let mut next_report = 100_000;
    while summary.interactions < cfg.interactions {
        let user = summary.users;
        let mut rng = Rng::stream(cfg.seed, 2, user);
        let wanted = (mu + sigma * normal(&mut rng)).exp().round().max(1.0);
        let left = cfg.interactions - summary.interactions;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = (wanted.min(1e9) as u64).min(left);
        let cluster = rng.index(clusters);
        times.clear();
        times.extend((0..n).map(|_| cfg.start + rng.below(span.unsigned_abs()) as i64));
        times.sort_unstable();
        for &t in &times {
            let rank = if rng.chance(cfg.cluster_share) {
                let r = cluster + clusters * draw(&per_cluster, &mut rng);
                if r < items {
                    r
                } else {
                    draw(&global, &mut rng)
                }
            } else {
                draw(&global, &mut rng)
            };
            let item = order[rank] as usize;
            seen[item] = true;
            writeln!(out, "u{user},i{item},{t},click").map_err(io)?;
        }
        summary.users += 1;
        summary.interactions += n;
        if summary.interactions >= next_report {
            progress(summary.interactions);
            next_report = summary.interactions + 100_000;
        }
    }
    out.flush().map_err(io)?;
    #[allow(clippy::cast_possible_truncation)]
    {
        summary.items_seen = seen.iter().filter(|&&s| s).count() as u32;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cfg: &BulkConfig) -> (String, BulkSummary) {
        let mut out = Vec::new();
        let s =
            write_bulk(cfg, &mut out, std::path::Path::new("mem"), |_| {}).expect("valid settings");
        (String::from_utf8(out).expect("ascii"), s)
    }

    #[test]
    fn writes_exactly_the_rows_asked_for_with_log_normal_users() {
        let cfg = BulkConfig {
            interactions: 20_000,
            items: 2_000,
            clusters: 20,
            ..BulkConfig::default()
        };
        let (text, s) = run(&cfg);
        assert_eq!(text.lines().count(), 20_001);
        assert_eq!(s.interactions, 20_000);
        // Mean activity 25: about 800 users (the last one cut short).
        assert!((650..=950).contains(&s.users), "{} users", s.users);
        assert!(s.items_seen > 500 && s.items_seen <= 2_000);
        // Zipf: the most drawn item is far above the mean of 10 draws per item.
        let mut counts = std::collections::HashMap::new();
        for line in text.lines().skip(1) {
            let item = line.split(',').nth(1).expect("item column");
            *counts.entry(item.to_string()).or_insert(0u32) += 1;
        }
        assert!(counts.values().copied().max().unwrap_or(0) > 200);
        // Same settings, same bytes.
        assert_eq!(run(&cfg).0, text);
    }

    #[test]
    fn each_user_is_written_in_time_order_within_the_period() {
        let cfg = BulkConfig {
            interactions: 5_000,
            items: 500,
            clusters: 5,
            days: 3,
            ..BulkConfig::default()
        };
        let (text, _) = run(&cfg);
        let mut last: Option<(String, i64)> = None;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let t: i64 = f[2].parse().expect("timestamp");
            assert!((cfg.start..cfg.start + 3 * 86_400).contains(&t));
            if let Some((u, prev)) = &last
                && u == f[0]
            {
                assert!(t >= *prev);
            }
            last = Some((f[0].to_string(), t));
        }
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let cfg = BulkConfig {
            clusters: 0,
            ..BulkConfig::default()
        };
        let err = write_bulk(&cfg, &mut Vec::new(), std::path::Path::new("x"), |_| {});
        assert!(matches!(err, Err(SynthError::Config(m)) if m.contains("clusters")));
    }
}
