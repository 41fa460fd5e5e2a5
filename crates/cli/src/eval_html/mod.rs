//! The HTML report of `edgerec evaluate --html`: one self-contained page (inline CSS and SVG,
//! no scripts, nothing fetched) that opens anywhere, offline. Plots: NDCG@10 per recommender
//! with standard errors, split B by session length, coverage, training time and model bytes;
//! then every number in a table, and the text report.
//!
//! It renders a plain [`Report`], which `evaluate` fills from the evaluation's numbers, so this
//! module depends on nothing of the evaluation.

mod charts;

use std::fmt::Write as _;

use charts::{BarChart, Line, Lines, Panel, WIDTH, esc};

/// A value and its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub se: f64,
}

/// One recommender's numbers.
#[derive(Debug, Clone)]
pub struct Recommender {
    pub name: String,
    pub recipe: String,
    /// Split A (warm users, leave last out).
    pub ndcg_at_10: Estimate,
    pub hr_at_10: f64,
    pub mrr_at_25: f64,
    pub recall_at_20: f64,
    /// Personalize's `coverage`: distinct items in all top-25 lists / catalogue.
    pub coverage: f64,
    /// Split B: `(N, NDCG@10)` after a session of N events.
    pub cold_ndcg_at_10: Vec<(usize, Estimate)>,
    pub train_seconds: f64,
    /// Bytes of the recommender's own section of the model file.
    pub model_bytes: usize,
}

/// What the page shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub dataset: String,
    /// `test`, or `validation` when tuning.
    pub split: String,
    pub test_users: usize,
    pub cold_users: usize,
    pub catalogue: usize,
    /// The whole model file (every recommender and the shared catalogue, users and histories).
    pub model_bytes: usize,
    pub seconds: f64,
    /// The name of the popularity baseline among `recommenders`.
    pub baseline: String,
    pub recommenders: Vec<Recommender>,
    /// The text report, shown at the end.
    pub text: String,
}

/// Colours of the recommenders (Tableau 10, readable with the common colour-vision deficiencies);
/// the baseline is grey.
const PALETTE: [&str; 9] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
    "#ff9da7",
];
const BASELINE_COLOR: &str = "#8c8c8c";
/// Width of a chart across both columns, in SVG user units.
const WIDE: f64 = 1130.0;

const STYLE: &str = "
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--card:#fff;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:15px;margin:0 0 2px}
.sub{color:var(--muted);margin:0 0 18px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
figcaption p{color:var(--muted);margin:0 0 8px;font-size:12.5px}
figure.wide{grid-column:1/-1}
svg.chart{width:100%;height:auto;display:block;font-size:12px}
svg text{fill:var(--ink)}
svg .axis text{fill:var(--muted);font-size:11px}
svg .axis .title{font-size:12px}
svg .panel-title{font-weight:600;font-size:13px}
svg .grid{stroke:#e6eaef;stroke-width:1}
svg .err{stroke:#1f2328;stroke-width:1.4;fill:none}
svg .point .err{stroke-width:1.6}
svg .value{font-variant-numeric:tabular-nums}
svg .reference path{stroke:#1f2328;stroke-width:1.2;stroke-dasharray:4 3}
svg .line{fill:none;stroke-width:2.2}
svg .line.dashed{stroke-dasharray:6 4}
section{margin-top:20px;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;width:100%}
th,td{padding:5px 7px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap;font-size:13px}
td .se{display:block;color:var(--muted);font-size:11px;line-height:1.1}
tr.group th{text-align:center;border-bottom:none;padding-bottom:0}
tr.group th.span{border-bottom:1px solid var(--line)}
th{font-weight:600;font-size:12.5px;color:var(--muted)}
td:first-child,th:first-child{text-align:left}
td .recipe{display:block;color:var(--muted);font-size:11px;line-height:1.1;margin-left:16px}
tr.baseline td{color:var(--muted)}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.lift.up{color:#1a7f37}.lift.down{color:#cf222e}
details pre{font-size:12px;overflow-x:auto}
";

fn ndcg(v: f64) -> String {
    format!("{v:.4}")
}

fn percent(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

fn seconds(v: f64) -> String {
    if v == 0.0 {
        "0 s".to_owned()
    } else if v < 1.0 {
        format!("{v:.3} s")
    } else if v < 100.0 {
        format!("{v:.2} s")
    } else {
        format!("{v:.0} s")
    }
}

/// Bytes in SI units (kB = 1000 B), as file managers show them.
fn bytes(v: f64) -> String {
    if v < 1e3 {
        format!("{v:.0} B")
    } else if v < 1e6 {
        format!("{:.1} kB", v / 1e3)
    } else {
        format!("{:.2} MB", v / 1e6)
    }
}

/// `(x / base − 1)` in percent; `None` when the base is 0.
fn lift(x: f64, base: f64) -> Option<f64> {
    (base > 0.0).then(|| (x / base - 1.0) * 100.0)
}

impl Report {
    fn color(&self, k: usize) -> &'static str {
        let mut seen = 0;
        for (j, r) in self.recommenders.iter().enumerate() {
            if r.name == self.baseline {
                if j == k {
                    return BASELINE_COLOR;
                }
            } else {
                if j == k {
                    return PALETTE[seen % PALETTE.len()];
                }
                seen += 1;
            }
        }
        BASELINE_COLOR
    }

    fn baseline(&self) -> Option<&Recommender> {
        self.recommenders.iter().find(|r| r.name == self.baseline)
    }

    /// Each recommender's name and colour: the rows of the bar charts.
    fn rows(&self) -> Vec<(&str, &'static str)> {
        self.recommenders
            .iter()
            .enumerate()
            .map(|(k, r)| (r.name.as_str(), self.color(k)))
            .collect()
    }

    fn values(
        &self,
        value: impl Fn(&Recommender) -> (f64, Option<f64>),
    ) -> Vec<(f64, Option<f64>)> {
        self.recommenders.iter().map(value).collect()
    }

    fn session_lengths(&self) -> Vec<usize> {
        let mut xs: Vec<usize> = self
            .recommenders
            .iter()
            .flat_map(|r| r.cold_ndcg_at_10.iter().map(|c| c.0))
            .collect();
        xs.sort_unstable();
        xs.dedup();
        xs
    }
}

fn figure(s: &mut String, id: &str, class: &str, title: &str, note: &str, svg: &str) {
    let _ = write!(
        s,
        "<figure id=\"{id}\" class=\"{class}\"><figcaption><h2>{}</h2><p>{}</p></figcaption>{svg}</figure>",
        esc(title),
        esc(note)
    );
}

/// Renders the page.
#[must_use]
pub fn render(r: &Report) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>edgerec evaluation: {}</title><style>{STYLE}</style></head><body><main>",
        esc(&r.dataset)
    );
    let _ = write!(
        s,
        "<h1>edgerec evaluation: {}</h1><p class=\"sub\">{} split · {} warm test users · {} cold users · {} items · model file {} · evaluated in {}</p>",
        esc(&r.dataset),
        esc(&r.split),
        r.test_users,
        r.cold_users,
        r.catalogue,
        bytes(usize_f64(r.model_bytes)),
        seconds(r.seconds)
    );
    s.push_str("<div class=\"grid\">");
    let base = r.baseline();
    let chart = BarChart {
        rows: r.rows(),
        panels: vec![Panel {
            metric: "ndcg_at_10",
            axis: "NDCG@10",
            values: r.values(|x| (x.ndcg_at_10.mean, Some(x.ndcg_at_10.se))),
            format: ndcg,
            reference: base.map(|b| (b.ndcg_at_10.mean, "popularity baseline")),
        }],
        width: WIDTH,
    };
    figure(
        &mut s,
        "ndcg",
        "",
        "NDCG@10 of warm users (split A, leave last out)",
        &format!(
            "Bars: mean over {} test users; whiskers: ± 1 standard error; dashed line: the popularity baseline. Higher is better.",
            r.test_users
        ),
        &chart.svg(),
    );
    let lines = Lines {
        metric: "cold_ndcg_at_10",
        axis: "NDCG@10",
        x_label: "N: events in the session (putEvents, no retraining)",
        xs: r.session_lengths(),
        lines: r
            .recommenders
            .iter()
            .enumerate()
            .map(|(k, x)| Line {
                label: &x.name,
                color: r.color(k),
                points: x
                    .cold_ndcg_at_10
                    .iter()
                    .map(|(n, e)| (*n, e.mean, e.se))
                    .collect(),
                dashed: x.name == r.baseline,
            })
            .collect(),
        format: ndcg,
    };
    figure(
        &mut s,
        "cold",
        "",
        "NDCG@10 of new users by session length (split B)",
        &format!(
            "Each of {} cold users starts a session with their first N events; the next 10 are the targets. Whiskers: ± 1 standard error.",
            r.cold_users
        ),
        &lines.svg(),
    );
    let own: usize = r.recommenders.iter().map(|x| x.model_bytes).sum();
    let cost = BarChart {
        rows: r.rows(),
        panels: vec![
            Panel {
                metric: "coverage",
                axis: "Coverage",
                values: r.values(|x| (x.coverage, None)),
                format: percent,
                reference: None,
            },
            Panel {
                metric: "train_seconds",
                axis: "Training time",
                values: r.values(|x| (x.train_seconds, None)),
                format: seconds,
                reference: None,
            },
            Panel {
                metric: "model_bytes",
                axis: "Model bytes",
                values: r.values(|x| (usize_f64(x.model_bytes), None)),
                format: bytes,
                reference: None,
            },
        ],
        width: WIDE,
    };
    figure(
        &mut s,
        "cost",
        "wide",
        "Coverage, training time and model bytes (split A)",
        &format!(
            "Coverage: share of the catalogue in any test user's top 25 (Personalize's coverage). Training time: wall time on the split-A training set. Model bytes: the recommender's own section of the model file; the catalogue, users and histories they share add {} (file: {}).",
            bytes(usize_f64(r.model_bytes.saturating_sub(own))),
            bytes(usize_f64(r.model_bytes))
        ),
        &cost.svg(),
    );
    s.push_str("</div>");
    table(&mut s, r);
    let _ = write!(
        s,
        "<details><summary>The text report</summary><pre>{}</pre></details></main></body></html>",
        esc(&r.text)
    );
    s
}

/// A table cell: the NDCG and, smaller, its standard error.
fn with_se(e: Estimate) -> String {
    format!("{}<span class=\"se\"> ±{}</span>", ndcg(e.mean), ndcg(e.se))
}

#[allow(clippy::cast_precision_loss)]
fn usize_f64(v: usize) -> f64 {
    v as f64
}

fn table(s: &mut String, r: &Report) {
    let xs = r.session_lengths();
    let _ = write!(
        s,
        "<section id=\"numbers\"><h2>The numbers</h2><table><thead><tr class=\"group\"><th></th><th class=\"span\" colspan=\"6\">split A: warm users</th><th class=\"span\" colspan=\"{}\">split B: NDCG@10 after N events</th><th colspan=\"2\"></th></tr><tr><th>recommender (recipe)</th><th>NDCG@10 ± se</th><th>vs baseline</th><th>HR@10</th><th>MRR@25</th><th>Recall@20</th><th>coverage</th>",
        xs.len()
    );
    for n in &xs {
        let _ = write!(s, "<th>N = {n}</th>");
    }
    s.push_str("<th>training</th><th>bytes</th></tr></thead><tbody>");
    let base = r.baseline().map(|b| b.ndcg_at_10.mean);
    for (k, x) in r.recommenders.iter().enumerate() {
        let is_base = x.name == r.baseline;
        let lift = match (is_base, base.and_then(|b| lift(x.ndcg_at_10.mean, b))) {
            (true, _) => "baseline".to_owned(),
            (false, Some(l)) => format!(
                "<span class=\"lift {}\">{l:+.1} %</span>",
                if l >= 0.0 { "up" } else { "down" }
            ),
            (false, None) => "–".to_owned(),
        };
        let _ = write!(
            s,
            "<tr data-recommender=\"{}\"{}><td><span class=\"swatch\" style=\"background:{}\"></span>{}<span class=\"recipe\">{}</span></td><td>{}</td><td>{lift}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td>",
            esc(&x.name),
            if is_base { " class=\"baseline\"" } else { "" },
            r.color(k),
            esc(&x.name),
            esc(&x.recipe),
            with_se(x.ndcg_at_10),
            x.hr_at_10,
            x.mrr_at_25,
            x.recall_at_20,
            percent(x.coverage)
        );
        for n in &xs {
            let cell = x
                .cold_ndcg_at_10
                .iter()
                .find(|c| c.0 == *n)
                .map_or("–".to_owned(), |c| with_se(c.1));
            let _ = write!(s, "<td>{cell}</td>");
        }
        let _ = write!(
            s,
            "<td>{}</td><td>{}</td></tr>",
            seconds(x.train_seconds),
            bytes(usize_f64(x.model_bytes))
        );
    }
    s.push_str("</tbody></table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let rec = |name: &str, ndcg: f64, bytes: usize| Recommender {
            name: name.to_owned(),
            recipe: "user-personalization".to_owned(),
            ndcg_at_10: Estimate {
                mean: ndcg,
                se: 0.004,
            },
            hr_at_10: 0.2,
            mrr_at_25: 0.1,
            recall_at_20: 0.3,
            coverage: 0.25,
            cold_ndcg_at_10: vec![
                (
                    1,
                    Estimate {
                        mean: ndcg / 3.0,
                        se: 0.01,
                    },
                ),
                (
                    3,
                    Estimate {
                        mean: ndcg / 2.0,
                        se: 0.01,
                    },
                ),
                (
                    5,
                    Estimate {
                        mean: ndcg,
                        se: 0.01,
                    },
                ),
            ],
            train_seconds: 1.5,
            model_bytes: bytes,
        };
        Report {
            dataset: "shop <demo>".to_owned(),
            split: "test".to_owned(),
            test_users: 500,
            cold_users: 80,
            catalogue: 2449,
            model_bytes: 1_000_000,
            seconds: 12.0,
            baseline: "popularity-baseline".to_owned(),
            recommenders: vec![
                rec("for-you", 0.12, 600_000),
                rec("popularity-baseline", 0.06, 10_000),
            ],
            text: "Split A <table>".to_owned(),
        }
    }

    #[test]
    fn the_page_is_self_contained_and_escaped() {
        let html = render(&report());
        assert!(html.starts_with("<!doctype html>"));
        for external in ["<script", "src=", "href=", "url(", "@import"] {
            assert!(!html.contains(external), "{external}");
        }
        assert!(html.contains("edgerec evaluation: shop &lt;demo&gt;"));
        assert!(html.contains("<pre>Split A &lt;table&gt;</pre>"));
    }

    #[test]
    fn every_plot_holds_each_recommender() {
        let html = render(&report());
        for chart in [
            "ndcg_at_10",
            "cold_ndcg_at_10",
            "coverage",
            "train_seconds",
            "model_bytes",
        ] {
            assert!(html.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
        }
        assert!(html.contains("data-recommender=\"for-you\" data-metric=\"ndcg_at_10\" data-value=\"0.12\" data-se=\"0.004\""));
        assert!(html.contains(
            "data-metric=\"cold_ndcg_at_10\" data-n=\"3\" data-value=\"0.06\" data-se=\"0.01\""
        ));
        assert!(html.contains("data-metric=\"model_bytes\" data-value=\"600000\""));
        // The shared sections: the file minus the recommenders' own.
        assert!(html.contains("add 390.0 kB (file: 1.00 MB)"));
        assert!(html.contains("<span class=\"lift up\">+100.0 %</span>"));
        // The baseline is grey everywhere; the other recommender takes the first colour.
        assert!(html.contains(&format!(
            "background:{BASELINE_COLOR}\"></span>popularity-baseline"
        )));
        assert!(html.contains(&format!("background:{}\"></span>for-you", PALETTE[0])));
    }

    #[test]
    fn units_read_as_people_write_them() {
        assert_eq!(bytes(950.0), "950 B");
        assert_eq!(bytes(12_345.0), "12.3 kB");
        assert_eq!(bytes(9_200_000.0), "9.20 MB");
        assert_eq!(seconds(0.0123), "0.012 s");
        assert_eq!(seconds(12.345), "12.35 s");
        assert_eq!(seconds(512.0), "512 s");
        assert_eq!(percent(0.4123), "41.2 %");
        assert_eq!(lift(0.12, 0.06), Some(100.0));
        assert_eq!(lift(0.12, 0.0), None);
    }
}
