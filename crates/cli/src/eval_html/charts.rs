//! Inline SVG charts of the evaluation report: horizontal bars with optional error bars, and
//! lines over session lengths. Every mark carries its numbers as `data-*` attributes and a
//! `<title>` (the tooltip), so the page can be checked against the JSON report.

use std::fmt::Write as _;

/// Width of a chart in one column of the page, in SVG user units (the page scales it).
pub const WIDTH: f64 = 560.0;
const ROW: f64 = 30.0;
const BAR: f64 = 18.0;
const TOP: f64 = 8.0;
const AXIS: f64 = 28.0;
const LABEL_CHAR: f64 = 6.6;

/// Escapes text for HTML and SVG content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Round tick values from 0 to at least `max` (about five steps of 1, 2, 2.5 or 5 × 10^k).
pub fn ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let pow = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * pow);
    let mut out = vec![0.0];
    let mut k = 1.0;
    while out.last().is_some_and(|&t| t < max * (1.0 - 1e-9)) {
        out.push(step * k);
        k += 1.0;
    }
    out
}

/// One panel of a [`BarChart`]: a value (and standard error) per row, on its own axis from 0.
#[derive(Debug)]
pub struct Panel<'a> {
    /// `data-chart` of the panel and `data-metric` of its bars (the JSON field it shows).
    pub metric: &'a str,
    /// What the value axis measures, e.g. "NDCG@10"; the panel's title when there are several.
    pub axis: &'a str,
    /// One `(value, standard error)` per row.
    pub values: Vec<(f64, Option<f64>)>,
    /// Formats a value for the labels and ticks.
    pub format: fn(f64) -> String,
    /// A dashed vertical line at this value, with its label (the popularity baseline).
    pub reference: Option<(f64, &'a str)>,
}

/// Horizontal bars: one row per recommender (its name and colour), one or more panels side by
/// side that share the names.
#[derive(Debug)]
pub struct BarChart<'a> {
    pub rows: Vec<(&'a str, &'a str)>,
    pub panels: Vec<Panel<'a>>,
    /// The SVG's width in user units.
    pub width: f64,
}

/// The label column's width for these names (capped; longer names are cut, the title keeps them).
fn label_width<'a>(names: impl Iterator<Item = &'a str>) -> f64 {
    let longest = names.map(|n| n.chars().count()).max().unwrap_or(0).min(30);
    #[allow(clippy::cast_precision_loss)]
    let w = longest as f64 * LABEL_CHAR + 12.0;
    w.max(60.0)
}

fn short(name: &str) -> String {
    if name.chars().count() > 30 {
        let cut: String = name.chars().take(29).collect();
        format!("{cut}…")
    } else {
        name.to_owned()
    }
}

impl BarChart<'_> {
    pub fn svg(&self) -> String {
        let left = label_width(self.rows.iter().map(|r| r.0));
        let titled = self.panels.len() > 1;
        let top = if titled { TOP + 22.0 } else { TOP };
        #[allow(clippy::cast_precision_loss)]
        let rows = self.rows.len() as f64;
        let bottom = top + rows * ROW;
        let height = bottom + AXIS;
        #[allow(clippy::cast_precision_loss)]
        let slot = (self.width - left) / self.panels.len().max(1) as f64;
        let aria: Vec<&str> = self.panels.iter().map(|p| p.axis).collect();
        let mut s = format!(
            "<svg class=\"chart\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"{}\">",
            self.width,
            esc(&aria.join(", "))
        );
        for (k, (name, _)) in self.rows.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let mid = top + (k as f64 + 0.5) * ROW;
            let _ = write!(
                s,
                "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\"><title>{}</title>{}</text>",
                left - 8.0,
                mid + 4.0,
                esc(name),
                esc(&short(name))
            );
        }
        for (j, panel) in self.panels.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let x0 = left + slot * j as f64 + if j > 0 { 18.0 } else { 0.0 };
            let plot = left + slot * (j + 1) as f64 - x0 - 72.0;
            panel.draw(&mut s, &self.rows, x0, plot, top, bottom, titled);
        }
        s.push_str("</svg>");
        s
    }
}

impl Panel<'_> {
    #[allow(clippy::too_many_arguments)]
    fn draw(
        &self,
        s: &mut String,
        rows: &[(&str, &str)],
        x0: f64,
        plot: f64,
        top: f64,
        bottom: f64,
        titled: bool,
    ) {
        let top_value = self
            .values
            .iter()
            .map(|(v, se)| v + se.unwrap_or(0.0))
            .chain(self.reference.map(|r| r.0))
            .fold(0.0f64, f64::max);
        let ticks = ticks(top_value);
        let max = ticks.last().copied().unwrap_or(1.0);
        let x = |v: f64| x0 + (v.max(0.0) / max) * plot;
        let _ = write!(
            s,
            "<g class=\"panel\" data-chart=\"{}\" data-origin=\"{x0}\" data-scale=\"{}\">",
            esc(self.metric),
            plot / max
        );
        if titled {
            let _ = write!(
                s,
                "<text class=\"panel-title\" x=\"{x0:.1}\" y=\"{:.1}\">{}</text>",
                top - 12.0,
                esc(self.axis)
            );
        }
        axis_x(s, &ticks, &x, top, bottom, self.format);
        for (k, ((name, color), &(value, se))) in rows.iter().zip(&self.values).enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let y = top + k as f64 * ROW + (ROW - BAR) / 2.0;
            let mid = y + BAR / 2.0;
            let title = match se {
                Some(se) => format!(
                    "{name}: {} {} ± {} (standard error)",
                    self.axis,
                    (self.format)(value),
                    (self.format)(se)
                ),
                None => format!("{name}: {} {}", self.axis, (self.format)(value)),
            };
            let _ = write!(
                s,
                "<g class=\"bar\" data-recommender=\"{}\" data-metric=\"{}\" data-value=\"{value}\"{}><title>{}</title>",
                esc(name),
                esc(self.metric),
                se.map_or(String::new(), |se| format!(" data-se=\"{se}\"")),
                esc(&title)
            );
            let _ = write!(
                s,
                "<rect x=\"{x0:.2}\" y=\"{y:.2}\" width=\"{:.3}\" height=\"{BAR}\" rx=\"2\" fill=\"{color}\"/>",
                x(value) - x0
            );
            let mut end = x(value);
            if let Some(se) = se {
                let (lo, hi) = (x(value - se), x(value + se));
                let _ = write!(
                    s,
                    "<path class=\"err\" d=\"M{lo:.2} {mid:.2}H{hi:.2}M{lo:.2} {:.2}V{:.2}M{hi:.2} {:.2}V{:.2}\"/>",
                    mid - 5.0,
                    mid + 5.0,
                    mid - 5.0,
                    mid + 5.0
                );
                end = end.max(hi);
            }
            let _ = write!(
                s,
                "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
                end + 6.0,
                mid + 4.0,
                (self.format)(value)
            );
        }
        if let Some((v, label)) = self.reference {
            let _ = write!(
                s,
                "<g class=\"reference\" data-value=\"{v}\"><title>{}</title><path d=\"M{:.2} {:.2}V{bottom:.2}\"/></g>",
                esc(&format!("{label}: {}", (self.format)(v))),
                x(v),
                top - 4.0
            );
        }
        s.push_str("</g>");
    }
}

/// A tick label: the value's format without trailing zeros (`0.0500` → `0.05`, `200.0 kB` → `200 kB`).
fn tick_label(format: fn(f64) -> String, v: f64) -> String {
    let text = format(v);
    let (number, unit) = text.split_at(
        text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(text.len()),
    );
    let number = if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    };
    format!("{number}{unit}")
}

/// Vertical grid lines and tick labels under a horizontal value axis.
fn axis_x(
    s: &mut String,
    ticks: &[f64],
    x: &dyn Fn(f64) -> f64,
    top: f64,
    bottom: f64,
    format: fn(f64) -> String,
) {
    s.push_str("<g class=\"axis\">");
    for &t in ticks {
        let _ = write!(
            s,
            "<path class=\"grid\" d=\"M{:.2} {top:.2}V{bottom:.2}\"/><text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{}</text>",
            x(t),
            x(t),
            bottom + 16.0,
            tick_label(format, t)
        );
    }
    s.push_str("</g>");
}

/// One line of a [`Lines`] chart: a recommender's value (and standard error) at each x.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub label: &'a str,
    pub color: &'a str,
    /// `(x, value, standard error)`, in the order of the chart's xs.
    pub points: Vec<(usize, f64, f64)>,
    /// Drawn dashed (the baseline).
    pub dashed: bool,
}

/// A line chart over a few whole-number xs (session lengths), with error bars and a legend.
#[derive(Debug)]
pub struct Lines<'a> {
    pub metric: &'a str,
    pub axis: &'a str,
    pub x_label: &'a str,
    pub xs: Vec<usize>,
    pub lines: Vec<Line<'a>>,
    pub format: fn(f64) -> String,
}

/// Where a [`Lines`] chart draws: the plot area and the y axis's ticks.
struct Frame {
    left: f64,
    right: f64,
    bottom: f64,
    plot_w: f64,
    plot_h: f64,
    height: f64,
    ticks: Vec<f64>,
    /// The value at the top of the y axis (the last tick).
    max: f64,
    /// The distance between two xs.
    step: f64,
}

impl Frame {
    /// The y coordinate of value `v`.
    fn y(&self, v: f64) -> f64 {
        self.bottom - (v.max(0.0) / self.max) * self.plot_h
    }
}

impl Lines<'_> {
    pub fn svg(&self) -> String {
        let f = self.frame();
        let mut s = format!(
            "<svg class=\"chart\" data-chart=\"{}\" viewBox=\"0 0 {WIDTH} {}\" role=\"img\" aria-label=\"{}\" data-origin=\"{}\" data-scale=\"{}\">",
            esc(self.metric),
            f.height,
            esc(self.axis),
            f.bottom,
            f.plot_h / f.max
        );
        self.axes(&mut s, &f);
        for (k, l) in self.lines.iter().enumerate() {
            self.series(&mut s, &f, k, l);
        }
        self.legend(&mut s, &f);
        s.push_str("</svg>");
        s
    }

    fn frame(&self) -> Frame {
        let (left, right, top, plot_h) = (52.0, 16.0, 12.0, 250.0);
        let legend_rows = self.lines.len().div_ceil(2);
        let bottom = top + plot_h;
        #[allow(clippy::cast_precision_loss)]
        let height = bottom + 44.0 + legend_rows as f64 * 20.0;
        let plot_w = WIDTH - left - right;
        let top_value = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1 + p.2))
            .fold(0.0f64, f64::max);
        let ticks = ticks(top_value);
        let max = ticks.last().copied().unwrap_or(1.0);
        #[allow(clippy::cast_precision_loss)]
        let step = plot_w / self.xs.len().max(1) as f64;
        Frame {
            left,
            right,
            bottom,
            plot_w,
            plot_h,
            height,
            ticks,
            max,
            step,
        }
    }

    /// The xs sit at equal steps with half a step of margin.
    #[allow(clippy::cast_precision_loss)]
    fn centre(&self, f: &Frame, x: usize) -> f64 {
        self.xs
            .iter()
            .position(|&v| v == x)
            .map_or(f.left, |c| f.left + f.step * (c as f64 + 0.5))
    }

    /// Line `k`'s x for `x`: lines are spread a little around each x so that their error bars
    /// do not hide one another.
    #[allow(clippy::cast_precision_loss)]
    fn px(&self, f: &Frame, x: usize, k: usize) -> f64 {
        let n = self.lines.len().max(1) as f64;
        self.centre(f, x) + (k as f64 - (n - 1.0) / 2.0) * (f.step * 0.5 / n).min(7.0)
    }

    /// The grid and tick labels, the xs and the axis title.
    fn axes(&self, s: &mut String, f: &Frame) {
        let (left, bottom) = (f.left, f.bottom);
        s.push_str("<g class=\"axis\">");
        for &t in &f.ticks {
            let _ = write!(
                s,
                "<path class=\"grid\" d=\"M{left:.2} {:.2}H{:.2}\"/><text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\">{}</text>",
                f.y(t),
                WIDTH - f.right,
                left - 6.0,
                f.y(t) + 4.0,
                tick_label(self.format, t)
            );
        }
        for &x in &self.xs {
            let _ = write!(
                s,
                "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{x}</text>",
                self.centre(f, x),
                bottom + 16.0
            );
        }
        let _ = write!(
            s,
            "<text class=\"title\" x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{}</text>",
            left + f.plot_w / 2.0,
            bottom + 32.0,
            esc(self.x_label)
        );
        s.push_str("</g>");
    }

    /// Line `k`: its path, then each point with its error bar and tooltip.
    fn series(&self, s: &mut String, f: &Frame, k: usize, l: &Line<'_>) {
        let _ = write!(
            s,
            "<g class=\"series\" data-recommender=\"{}\"><path class=\"line{}\" stroke=\"{}\" d=\"",
            esc(l.label),
            if l.dashed { " dashed" } else { "" },
            l.color
        );
        for (j, &(x, v, _)) in l.points.iter().enumerate() {
            let _ = write!(
                s,
                "{}{:.2} {:.2}",
                if j == 0 { "M" } else { "L" },
                self.px(f, x, k),
                f.y(v)
            );
        }
        s.push_str("\"/>");
        for &(x, v, se) in &l.points {
            let (cx, cy) = (self.px(f, x, k), f.y(v));
            let title = format!(
                "{}, N = {x}: {} {} ± {} (standard error)",
                l.label,
                self.axis,
                (self.format)(v),
                (self.format)(se)
            );
            let _ = write!(
                s,
                "<g class=\"point\" data-recommender=\"{}\" data-metric=\"{}\" data-n=\"{x}\" data-value=\"{v}\" data-se=\"{se}\"><title>{}</title><path class=\"err\" stroke=\"{}\" d=\"M{cx:.2} {:.2}V{:.2}M{:.2} {:.2}H{:.2}M{:.2} {:.2}H{:.2}\"/><circle cx=\"{cx:.2}\" cy=\"{cy:.2}\" r=\"4\" fill=\"{}\"/></g>",
                esc(l.label),
                esc(self.metric),
                esc(&title),
                l.color,
                f.y(v - se),
                f.y(v + se),
                cx - 3.0,
                f.y(v - se),
                cx + 3.0,
                cx - 3.0,
                f.y(v + se),
                cx + 3.0,
                l.color
            );
        }
        s.push_str("</g>");
    }

    /// The legend: two columns under the axis title.
    fn legend(&self, s: &mut String, f: &Frame) {
        for (k, l) in self.lines.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let (lx, ly) = (
                f.left + (k % 2) as f64 * f.plot_w / 2.0,
                f.bottom + 52.0 + (k / 2) as f64 * 20.0,
            );
            let _ = write!(
                s,
                "<g class=\"legend\"><path class=\"line{}\" stroke=\"{}\" d=\"M{lx:.2} {:.2}h22\"/><circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"4\" fill=\"{}\"/><text x=\"{:.2}\" y=\"{:.2}\">{}</text></g>",
                if l.dashed { " dashed" } else { "" },
                l.color,
                ly - 4.0,
                lx + 11.0,
                ly - 4.0,
                l.color,
                lx + 30.0,
                ly,
                esc(&short(l.label))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(
            ticks(0.22),
            vec![0.0, 0.05, 0.1, 0.15000000000000002, 0.2, 0.25]
        );
        assert_eq!(
            ticks(1.0),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(ticks(7_300_000.0), vec![0.0, 2e6, 4e6, 6e6, 8e6]);
        assert_eq!(ticks(0.0), ticks(1.0));
        assert_eq!(ticks(f64::NAN), ticks(1.0));
        for max in [0.013, 0.2, 3.3, 48.0, 999.0, 1e-7, 0.0189] {
            let t = ticks(max);
            assert!(*t.last().unwrap() >= max, "{max}: {t:?}");
            assert!((4..=7).contains(&t.len()), "{max}: {t:?}");
        }
    }

    #[test]
    fn tick_labels_drop_trailing_zeros_and_keep_units() {
        assert_eq!(tick_label(|v| format!("{v:.4}"), 0.05), "0.05");
        assert_eq!(tick_label(|v| format!("{v:.4}"), 0.0), "0");
        assert_eq!(
            tick_label(|v| format!("{:.1} kB", v / 1e3), 200_000.0),
            "200 kB"
        );
        assert_eq!(tick_label(|v| format!("{v:.0} B"), 100.0), "100 B");
        assert_eq!(tick_label(|v| format!("{v:.3} s"), 0.25), "0.25 s");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn bars_carry_their_numbers_and_scale_from_zero() {
        let chart = BarChart {
            rows: vec![("a<b", "#111"), ("c", "#222")],
            panels: vec![
                Panel {
                    metric: "m",
                    axis: "NDCG@10",
                    values: vec![(0.2, Some(0.01)), (0.1, None)],
                    format: |v| format!("{v:.3}"),
                    reference: Some((0.1, "baseline")),
                },
                Panel {
                    metric: "n",
                    axis: "bytes",
                    values: vec![(10.0, None), (30.0, None)],
                    format: |v| format!("{v:.0} B"),
                    reference: None,
                },
            ],
            width: 900.0,
        };
        let svg = chart.svg();
        assert!(svg.contains(
            "data-recommender=\"a&lt;b\" data-metric=\"m\" data-value=\"0.2\" data-se=\"0.01\""
        ));
        assert!(
            svg.contains("data-recommender=\"c\" data-metric=\"m\" data-value=\"0.1\"><title>")
        );
        assert!(svg.contains("<title>a&lt;b: NDCG@10 0.200 ± 0.010 (standard error)</title>"));
        assert!(svg.contains("data-recommender=\"c\" data-metric=\"n\" data-value=\"30\""));
        // Titles over the panels when there are several; the names once, on the left.
        assert!(svg.contains(">NDCG@10</text>") && svg.contains(">bytes</text>"));
        assert_eq!(svg.matches("class=\"label\"").count(), 2);
        let widths: Vec<f64> = svg
            .split("<rect ")
            .skip(1)
            .map(|r| {
                let w = r.split("width=\"").nth(1).unwrap();
                w[..w.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 4);
        assert!((widths[0] / widths[1] - 2.0).abs() < 1e-3, "{widths:?}");
        assert!((widths[3] / widths[2] - 3.0).abs() < 1e-3, "{widths:?}");
        assert!(svg.contains("class=\"reference\" data-value=\"0.1\""));
    }

    /// Every byte of a line chart, pinned: the page's script and tests read its marks.
    #[test]
    fn lines_are_pinned() {
        let chart = Lines {
            metric: "cold_ndcg_at_10",
            axis: "NDCG@10",
            x_label: "N <events>",
            xs: vec![1, 3, 5],
            lines: vec![
                Line {
                    label: "a<b",
                    color: "#111",
                    points: vec![(1, 0.1, 0.01), (3, 0.15, 0.02), (5, 0.2, 0.0)],
                    dashed: false,
                },
                Line {
                    label: "a-recommender-name-long-enough-to-be-shortened-in-the-legend",
                    color: "#222",
                    points: vec![(1, 0.05, 0.005), (5, 0.12, 0.01)],
                    dashed: true,
                },
                Line {
                    label: "c",
                    color: "#333",
                    points: vec![(3, 0.3, 0.03)],
                    dashed: false,
                },
            ],
            format: |v| format!("{v:.3}"),
        };
        // One mark per line below (the output has no line breaks of its own).
        let svg = chart.svg();
        assert!(!svg.contains('\n'));
        assert_eq!(svg.replace("><", ">\n<"), LINES_SVG);
    }

    const LINES_SVG: &str = r##"<svg class="chart" data-chart="cold_ndcg_at_10" viewBox="0 0 560 346" role="img" aria-label="NDCG@10" data-origin="262" data-scale="625">
<g class="axis">
<path class="grid" d="M52.00 262.00H544.00"/>
<text x="46.00" y="266.00" text-anchor="end">0</text>
<path class="grid" d="M52.00 199.50H544.00"/>
<text x="46.00" y="203.50" text-anchor="end">0.1</text>
<path class="grid" d="M52.00 137.00H544.00"/>
<text x="46.00" y="141.00" text-anchor="end">0.2</text>
<path class="grid" d="M52.00 74.50H544.00"/>
<text x="46.00" y="78.50" text-anchor="end">0.3</text>
<path class="grid" d="M52.00 12.00H544.00"/>
<text x="46.00" y="16.00" text-anchor="end">0.4</text>
<text x="134.00" y="278.00" text-anchor="middle">1</text>
<text x="298.00" y="278.00" text-anchor="middle">3</text>
<text x="462.00" y="278.00" text-anchor="middle">5</text>
<text class="title" x="298.00" y="294.00" text-anchor="middle">N &lt;events&gt;</text>
</g>
<g class="series" data-recommender="a&lt;b">
<path class="line" stroke="#111" d="M127.00 199.50L291.00 168.25L455.00 137.00"/>
<g class="point" data-recommender="a&lt;b" data-metric="cold_ndcg_at_10" data-n="1" data-value="0.1" data-se="0.01">
<title>a&lt;b, N = 1: NDCG@10 0.100 ± 0.010 (standard error)</title>
<path class="err" stroke="#111" d="M127.00 205.75V193.25M124.00 205.75H130.00M124.00 193.25H130.00"/>
<circle cx="127.00" cy="199.50" r="4" fill="#111"/>
</g>
<g class="point" data-recommender="a&lt;b" data-metric="cold_ndcg_at_10" data-n="3" data-value="0.15" data-se="0.02">
<title>a&lt;b, N = 3: NDCG@10 0.150 ± 0.020 (standard error)</title>
<path class="err" stroke="#111" d="M291.00 180.75V155.75M288.00 180.75H294.00M288.00 155.75H294.00"/>
<circle cx="291.00" cy="168.25" r="4" fill="#111"/>
</g>
<g class="point" data-recommender="a&lt;b" data-metric="cold_ndcg_at_10" data-n="5" data-value="0.2" data-se="0">
<title>a&lt;b, N = 5: NDCG@10 0.200 ± 0.000 (standard error)</title>
<path class="err" stroke="#111" d="M455.00 137.00V137.00M452.00 137.00H458.00M452.00 137.00H458.00"/>
<circle cx="455.00" cy="137.00" r="4" fill="#111"/>
</g>
</g>
<g class="series" data-recommender="a-recommender-name-long-enough-to-be-shortened-in-the-legend">
<path class="line dashed" stroke="#222" d="M134.00 230.75L462.00 187.00"/>
<g class="point" data-recommender="a-recommender-name-long-enough-to-be-shortened-in-the-legend" data-metric="cold_ndcg_at_10" data-n="1" data-value="0.05" data-se="0.005">
<title>a-recommender-name-long-enough-to-be-shortened-in-the-legend, N = 1: NDCG@10 0.050 ± 0.005 (standard error)</title>
<path class="err" stroke="#222" d="M134.00 233.88V227.62M131.00 233.88H137.00M131.00 227.62H137.00"/>
<circle cx="134.00" cy="230.75" r="4" fill="#222"/>
</g>
<g class="point" data-recommender="a-recommender-name-long-enough-to-be-shortened-in-the-legend" data-metric="cold_ndcg_at_10" data-n="5" data-value="0.12" data-se="0.01">
<title>a-recommender-name-long-enough-to-be-shortened-in-the-legend, N = 5: NDCG@10 0.120 ± 0.010 (standard error)</title>
<path class="err" stroke="#222" d="M462.00 193.25V180.75M459.00 193.25H465.00M459.00 180.75H465.00"/>
<circle cx="462.00" cy="187.00" r="4" fill="#222"/>
</g>
</g>
<g class="series" data-recommender="c">
<path class="line" stroke="#333" d="M305.00 74.50"/>
<g class="point" data-recommender="c" data-metric="cold_ndcg_at_10" data-n="3" data-value="0.3" data-se="0.03">
<title>c, N = 3: NDCG@10 0.300 ± 0.030 (standard error)</title>
<path class="err" stroke="#333" d="M305.00 93.25V55.75M302.00 93.25H308.00M302.00 55.75H308.00"/>
<circle cx="305.00" cy="74.50" r="4" fill="#333"/>
</g>
</g>
<g class="legend">
<path class="line" stroke="#111" d="M52.00 310.00h22"/>
<circle cx="63.00" cy="310.00" r="4" fill="#111"/>
<text x="82.00" y="314.00">a&lt;b</text>
</g>
<g class="legend">
<path class="line dashed" stroke="#222" d="M298.00 310.00h22"/>
<circle cx="309.00" cy="310.00" r="4" fill="#222"/>
<text x="328.00" y="314.00">a-recommender-name-long-enoug…</text>
</g>
<g class="legend">
<path class="line" stroke="#333" d="M52.00 330.00h22"/>
<circle cx="63.00" cy="330.00" r="4" fill="#333"/>
<text x="82.00" y="334.00">c</text>
</g>
</svg>"##;
}
