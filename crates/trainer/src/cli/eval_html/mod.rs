//! The HTML report of `edgerec evaluate`: tables plus inline SVG bar charts (no scripts,
//! no external assets), so it opens anywhere, offline.

use std::fmt::Write as _;

use edgerec_trainer::evaluate::run::EvalReport;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart of `(label, value)`.
fn bars(title: &str, rows: &[(String, f64)]) -> String {
    let max = rows.iter().map(|r| r.1).fold(0.0f64, f64::max).max(1e-9);
    let h = 24 * rows.len() + 30;
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg width=\"640\" height=\"{h}\" role=\"img\">",
        esc(title)
    );
    for (k, (label, v)) in rows.iter().enumerate() {
        let y = 10 + 24 * k;
        let w = (v / max * 380.0).max(1.0);
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"200\" y=\"{y}\" width=\"{w:.1}\" height=\"18\" fill=\"#3b82f6\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{v:.4}</text>",
            y + 14,
            esc(label),
            205.0 + w,
            y + 14
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// Renders the report.
#[must_use]
pub fn render(r: &EvalReport) -> String {
    let mut s = String::from(
        "<!doctype html><meta charset=\"utf-8\"><title>edgerec evaluation</title><style>body{font:14px system-ui;margin:2em;max-width:960px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}</style>",
    );
    let _ = write!(s, "<h1>edgerec evaluation — {}</h1>", esc(&r.dataset));
    let _ = write!(s, "<pre>{}</pre>", esc(&super::evaluate::text(r)));
    let a: Vec<(String, f64)> = r
        .results
        .iter()
        .map(|x| (x.name.clone(), x.split_a.ndcg_at_10))
        .collect();
    s.push_str(&bars("Split A NDCG@10 (warm users)", &a));
    for n in [1usize, 3, 5] {
        let b: Vec<(String, f64)> = r
            .results
            .iter()
            .map(|x| {
                (
                    x.name.clone(),
                    x.split_b
                        .iter()
                        .find(|c| c.session_length == n)
                        .map_or(0.0, |c| c.ndcg_at_10),
                )
            })
            .collect();
        s.push_str(&bars(&format!("Split B NDCG@10, session of N = {n}"), &b));
    }
    s
}
