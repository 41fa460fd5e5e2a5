//! Metric attribution (docs/personalize.md), read from the store: per recommender, the logged
//! recommendations and impressions, the events attributed to it per event type, CTR and
//! conversion, over time windows; and per A/B variant, rates with 95 % confidence intervals.
//!
//! An event is attributed to: its `metricAttribution.eventAttributionSource` or `recommender`
//! field when it has one, else the recommender that `POST /recommendations-log` recorded for
//! its `recommendationId`, else `SOURCE_NAME_UNDEFINED` (Personalize's name).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rusqlite::Connection;
use serde::Serialize;

use super::ab;
use super::db;

/// Personalize's name for events attributed to no recommender.
pub const UNDEFINED: &str = "SOURCE_NAME_UNDEFINED";

/// Time range in ms since the epoch, `[from, to)`.
pub type Range = (i64, i64);

/// One recommender's numbers.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommenderStats {
    pub recommender: String,
    pub recommendations: u64,
    pub impressions: u64,
    /// Attributed events per event type.
    pub events: BTreeMap<String, u64>,
    /// Clicks (events of the click type) per impression.
    pub ctr: Option<f64>,
    /// Attributed events of each type per logged recommendation.
    pub conversion: BTreeMap<String, f64>,
}

/// Per-recommender counts over `range` (all time when `None`).
pub fn per_recommender(
    c: &Connection,
    range: Option<Range>,
) -> rusqlite::Result<Vec<RecommenderStats>> {
    let (from, to) = range.unwrap_or((i64::MIN, i64::MAX));
    let mut by: BTreeMap<String, RecommenderStats> = BTreeMap::new();
    for l in db::attribution::logged(c, from, to)? {
        let e = by.entry(l.recommender.clone()).or_default();
        e.recommender = l.recommender;
        e.recommendations = u(l.recommendations);
        e.impressions = u(l.impressions);
    }
    for a in db::attribution::events(c, from, to, UNDEFINED)? {
        let e = by.entry(a.recommender.clone()).or_default();
        e.recommender = a.recommender;
        *e.events.entry(a.event_type).or_default() += u(a.events);
        e.impressions += u(a.impressions);
    }
    Ok(by.into_values().collect())
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[allow(clippy::cast_precision_loss)]
fn finish(mut s: RecommenderStats, click_type: &str) -> RecommenderStats {
    let clicks: u64 = s
        .events
        .iter()
        .filter(|(t, _)| t.eq_ignore_ascii_case(click_type))
        .map(|(_, n)| *n)
        .sum();
    s.ctr = (s.impressions > 0).then(|| clicks as f64 / s.impressions as f64);
    if s.recommendations > 0 {
        s.conversion = s
            .events
            .iter()
            .map(|(t, n)| (t.clone(), *n as f64 / s.recommendations as f64))
            .collect();
    }
    s
}

/// One time window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub recommenders: Vec<RecommenderStats>,
}

/// One variant's rate for one event type.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantRate {
    pub event_type: String,
    /// Recommendations followed by at least one event of the type.
    pub converted: u64,
    pub rate: f64,
    pub ci95: (f64, f64),
    /// Against the first variant: difference, its 95 % CI, and the p-value.
    pub diff_vs_control: Option<(f64, f64, f64, f64)>,
}

/// One variant.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantStats {
    pub variant: String,
    pub recommendations: u64,
    pub rates: Vec<VariantRate>,
}

/// An experiment's comparison.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentReport {
    pub experiment: String,
    pub control: String,
    pub variants: Vec<VariantStats>,
}

/// Everything `edgerec report` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub from: i64,
    pub to: i64,
    pub window_seconds: i64,
    pub click_event_type: String,
    pub totals: Vec<RecommenderStats>,
    pub windows: Vec<Window>,
    pub experiments: Vec<ExperimentReport>,
}

/// Builds the report for `[from, to)` (ms) with windows of `window_s` seconds (at most 1000
/// windows: the window is widened to fit).
pub fn build(
    c: &Connection,
    from: i64,
    to: i64,
    window_s: i64,
    click_type: &str,
) -> rusqlite::Result<Report> {
    let span = (to - from).max(1);
    let mut w_ms = window_s.max(1).saturating_mul(1000);
    if span / w_ms > 1000 {
        w_ms = span / 1000 + 1;
    }
    let totals = per_recommender(c, Some((from, to)))?
        .into_iter()
        .map(|s| finish(s, click_type))
        .collect();
    let mut windows = Vec::new();
    let mut start = from - from.rem_euclid(w_ms);
    while start < to {
        let end = start + w_ms;
        let recs: Vec<RecommenderStats> = per_recommender(c, Some((start.max(from), end.min(to))))?
            .into_iter()
            .map(|s| finish(s, click_type))
            .collect();
        if !recs.is_empty() {
            windows.push(Window {
                start,
                end,
                recommenders: recs,
            });
        }
        start = end;
    }
    Ok(Report {
        from,
        to,
        window_seconds: w_ms / 1000,
        click_event_type: click_type.to_owned(),
        totals,
        windows,
        experiments: experiments(c, from, to)?,
    })
}

fn experiments(c: &Connection, from: i64, to: i64) -> rusqlite::Result<Vec<ExperimentReport>> {
    let mut n: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for l in db::experiments::logged(c, from, to)? {
        n.entry(l.experiment)
            .or_default()
            .insert(l.variant, u(l.recommendations));
    }
    let mut k: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    for v in db::experiments::converted(c, from, to)? {
        k.entry((v.experiment, v.variant))
            .or_default()
            .insert(v.event_type, u(v.recommendations));
    }
    let mut out = Vec::new();
    for (exp, variants) in n {
        let types: std::collections::BTreeSet<String> = k
            .iter()
            .filter(|((e, _), _)| *e == exp)
            .flat_map(|(_, m)| m.keys().cloned())
            .collect();
        let Some((control, &nc)) = variants.iter().next() else {
            continue;
        };
        let control = control.clone();
        let empty = BTreeMap::new();
        let kc = k.get(&(exp.clone(), control.clone())).unwrap_or(&empty);
        let mut vs = Vec::new();
        for (variant, &nv) in &variants {
            let kv = k.get(&(exp.clone(), variant.clone())).unwrap_or(&empty);
            let rates = types
                .iter()
                .map(|t| {
                    let conv = kv.get(t).copied().unwrap_or(0);
                    #[allow(clippy::cast_precision_loss)]
                    let rate = if nv > 0 { conv as f64 / nv as f64 } else { 0.0 };
                    VariantRate {
                        event_type: t.clone(),
                        converted: conv,
                        rate,
                        ci95: ab::wilson(conv, nv),
                        diff_vs_control: if *variant == control {
                            None
                        } else {
                            ab::diff(kc.get(t).copied().unwrap_or(0), nc, conv, nv)
                        },
                    }
                })
                .collect();
            vs.push(VariantStats {
                variant: variant.clone(),
                recommendations: nv,
                rates,
            });
        }
        out.push(ExperimentReport {
            experiment: exp,
            control,
            variants: vs,
        });
    }
    Ok(out)
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn time(ms: i64) -> String {
    // UTC to the minute.
    let secs = ms.div_euclid(1000);
    let (y, m, d) = edgerec_core::calendar::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        sod / 3600,
        (sod % 3600) / 60
    )
}

fn stats_lines(s: &mut String, recs: &[RecommenderStats], indent: &str) {
    for r in recs {
        let _ = write!(
            s,
            "{indent}{:<28} recs {:>8}  impressions {:>9}  CTR {:>7}",
            r.recommender,
            r.recommendations,
            r.impressions,
            r.ctr.map_or_else(|| "-".into(), pct)
        );
        for (t, n) in &r.events {
            let conv = r
                .conversion
                .get(t)
                .map_or_else(String::new, |c| format!(" ({} per rec)", pct(*c)));
            let _ = write!(s, "  {t} {n}{conv}");
        }
        s.push('\n');
    }
}

impl Report {
    /// Plain-text rendering.
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "metric attribution {} .. {} UTC (click event type: {})",
            time(self.from),
            time(self.to),
            self.click_event_type
        );
        if self.totals.is_empty() {
            s.push_str("  no attributed events or logged recommendations in this range\n");
        }
        stats_lines(&mut s, &self.totals, "  ");
        if !self.windows.is_empty() {
            let _ = writeln!(s, "\nper {} s window:", self.window_seconds);
            for w in &self.windows {
                let _ = writeln!(s, "  {}", time(w.start));
                stats_lines(&mut s, &w.recommenders, "    ");
            }
        }
        for e in &self.experiments {
            let name = if e.experiment.is_empty() {
                "(unnamed)"
            } else {
                &e.experiment
            };
            let _ = writeln!(s, "\nexperiment {name} (control: {}):", e.control);
            for v in &e.variants {
                let _ = writeln!(
                    s,
                    "  variant {:<20} recommendations {}",
                    v.variant, v.recommendations
                );
                for r in &v.rates {
                    let _ = write!(
                        s,
                        "    {:<16} {:>6} converted  rate {} [{} .. {}]",
                        r.event_type,
                        r.converted,
                        pct(r.rate),
                        pct(r.ci95.0),
                        pct(r.ci95.1)
                    );
                    if let Some((d, lo, hi, p)) = r.diff_vs_control {
                        let _ = write!(
                            s,
                            "  vs control {:+.2} pp [{:+.2} .. {:+.2}] p={p:.3}",
                            d * 100.0,
                            lo * 100.0,
                            hi * 100.0
                        );
                    }
                    s.push('\n');
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::time;

    #[test]
    fn utc_time() {
        assert_eq!(time(0), "1970-01-01 00:00");
        assert_eq!(time(1_700_000_000_000), "2023-11-14 22:13");
    }
}
