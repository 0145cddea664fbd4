//! The figures: what each one draws, from which file, and how.

use crate::data::{self, Config, Dataset, Est, Layout, TimeseriesRow};
use crate::render::{color, fmt_num, padded, render, DrawErr, Figure, FONT};
use crate::{PlotError, PlotOptions, PlotReport, FIGURE_SIZE, TIMESERIES_SIZE};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

pub(crate) mod break_even;
pub(crate) mod by_param;
pub(crate) mod workflow_latency;

pub(crate) const LATENCY_CDF: &str = "latency_cdf";
pub(crate) const TRADE_OFF: &str = "cold_start_vs_idle_memory";
pub(crate) const COST: &str = "cost_breakdown";
pub(crate) const TIMESERIES: &str = "timeseries";
pub(crate) const FUNCTION_CDF: &str = "function_cold_start_cdf";
pub(crate) const BREAK_EVEN: &str = "break_even";
pub(crate) const BY_PARAM: &str = "metrics_by_parameter";
pub(crate) const COST_LATENCY: &str = "cost_vs_p99_latency";
pub(crate) const WORKFLOW_LATENCY: &str = "workflow_latency";

const TITLE_PX: u32 = 30;
const SUBTITLE_PX: u32 = 18;
const DESC_PX: u32 = 20;
const LABEL_PX: u32 = 16;
const GREY: RGBColor = RGBColor(90, 90, 90);
/// How much of white the request-cost part of a configuration's bar mixes in: the same
/// hue as its duration part, lighter, so a colour always means a configuration.
const REQUEST_LIGHTEN: f64 = 0.55;

/// `c` mixed with white: `t` = 0 is `c`, 1 is white.
fn lighten(c: RGBColor, t: f64) -> RGBColor {
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * t).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// Stroke width of curve `i` of `n`: the first widest, down to 2 px, so that curves that
/// coincide show as a band with the later ones inside it instead of hiding each other.
pub(crate) fn line_width(i: usize, n: usize) -> u32 {
    if n <= 1 {
        return 2;
    }
    let widest = (2 + 2 * (n as u32 - 1)).min(6);
    let w = widest as f64 - (widest as f64 - 2.0) * i as f64 / (n - 1) as f64;
    w.round() as u32
}

/// Colours of the series of one run's time series: none of them is a configuration's.
const SERIES_COLORS: [RGBColor; 5] = [
    RGBColor(40, 40, 40),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
];

/// Any of the figures.
enum AnyFigure {
    Cdf(CdfFigure),
    TradeOff(TradeOff),
    Cost(CostFigure),
    Timeseries(TimeseriesFigure),
    BreakEven(break_even::BreakEvenFigure),
    ByParam(by_param::ByParamFigure),
    WorkflowLatency(workflow_latency::WorkflowLatencyFigure),
}

impl Figure for AnyFigure {
    fn size(&self) -> (u32, u32) {
        match self {
            AnyFigure::Cdf(f) => f.size(),
            AnyFigure::TradeOff(f) => f.size(),
            AnyFigure::Cost(f) => f.size(),
            AnyFigure::Timeseries(f) => f.size(),
            AnyFigure::BreakEven(f) => f.size(),
            AnyFigure::ByParam(f) => f.size(),
            AnyFigure::WorkflowLatency(f) => f.size(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        match self {
            AnyFigure::Cdf(f) => f.draw(root),
            AnyFigure::TradeOff(f) => f.draw(root),
            AnyFigure::Cost(f) => f.draw(root),
            AnyFigure::Timeseries(f) => f.draw(root),
            AnyFigure::BreakEven(f) => f.draw(root),
            AnyFigure::ByParam(f) => f.draw(root),
            AnyFigure::WorkflowLatency(f) => f.draw(root),
        }
    }
}

/// Draws every figure the data allows into `out`. Every input file is read before the
/// first figure is written, so bad input leaves no new figure behind.
pub(crate) fn draw_all(
    data: &Dataset,
    out: &Path,
    options: &PlotOptions,
) -> Result<PlotReport, PlotError> {
    let (todo, mut report) = build_all(data, options)?;
    std::fs::create_dir_all(out).map_err(|source| PlotError::Io {
        path: out.to_owned(),
        source,
    })?;
    for (name, fig) in &todo {
        report.written.extend(render(fig, out, name)?);
    }
    Ok(report)
}

/// The figures to draw, and a report with no file written yet.
type Built = (Vec<(&'static str, AnyFigure)>, PlotReport);

/// Reads the files and builds the figures, with notes on the ones skipped and on what
/// they found.
fn build_all(data: &Dataset, options: &PlotOptions) -> Result<Built, PlotError> {
    let mut todo: Vec<(&'static str, AnyFigure)> = Vec::new();
    let mut report = PlotReport::default();
    let sweep = data.layout == Layout::Sweep;
    let first_rep = if sweep {
        "first replication of each configuration"
    } else {
        ""
    };

    // 1. Latency CDF.
    let mut curves = Vec::new();
    let mut without = Vec::new();
    for (i, c) in data.configs.iter().enumerate() {
        match c.first_with("invocations.csv") {
            Some((_, dir)) => {
                let points = data::read_latency_cdf(dir)?;
                if points.is_empty() {
                    without.push(c.label.clone());
                } else {
                    curves.push(Curve::new(&c.label, color(i), points));
                }
            }
            None => without.push(c.label.clone()),
        }
    }
    if curves.is_empty() {
        report.skipped.push(format!(
            "{LATENCY_CDF}: no invocations.csv with completed invocations \
             (set [output] invocations = true to get one)"
        ));
    } else {
        let mut subtitle = join_nonempty(&["completed invocations", first_rep]);
        if !without.is_empty() {
            subtitle.push_str(&format!(
                "; not shown (no invocations.csv): {}",
                without.join(", ")
            ));
        }
        let fig = CdfFigure {
            title: format!("{}: latency CDF", data.name),
            subtitle,
            x_desc: "latency (ms, log scale)",
            y_desc: "fraction of completed invocations",
            log_x: true,
            x_range: None,
            curves,
        };
        todo.push((LATENCY_CDF, AnyFigure::Cdf(fig)));
    }

    // 2. Cold-start ratio vs idle memory.
    let totals: Option<Vec<(usize, &Config, &data::Totals)>> = data
        .configs
        .iter()
        .enumerate()
        .map(|(i, c)| c.totals.as_ref().map(|t| (i, c, t)))
        .collect();
    let ci_note = if data.replications > 1 {
        format!(
            "mean of {} replications; bars: 95% confidence interval",
            data.replications
        )
    } else {
        "one replication per configuration: no confidence interval".to_owned()
    };
    match (&data.layout, &totals, &data.no_totals) {
        (Layout::Run, _, _) => report.skipped.push(format!(
            "{TRADE_OFF}: a sweep figure (one point per configuration); a run is one point"
        )),
        (_, _, Some(why)) => report.skipped.push(format!("{TRADE_OFF}: {why}")),
        (_, None, None) => report
            .skipped
            .push(format!("{TRADE_OFF}: no aggregate figures")),
        (Layout::Sweep, Some(t), None) => {
            let mut order: Vec<usize> = (0..t.len()).collect();
            let line = if t.iter().all(|(_, c, _)| c.numeric_key.is_some()) {
                order.sort_by(|&a, &b| {
                    let ka = t[a].1.numeric_key.unwrap_or(0.0);
                    let kb = t[b].1.numeric_key.unwrap_or(0.0);
                    ka.total_cmp(&kb)
                });
                Some(order)
            } else {
                None
            };
            let fig = TradeOff {
                title: format!("{}: cold starts vs idle memory", data.name),
                subtitle: ci_note.clone(),
                x_desc: "idle memory held by warm instances (GB·s)",
                y_desc: "cold-start ratio (cold starts / completed)",
                points: t
                    .iter()
                    .map(|(i, c, t)| TradeOffPoint {
                        label: c.label.clone(),
                        color: color(*i),
                        x: t.wasted_memory_gb_s,
                        y: t.cold_start_ratio,
                    })
                    .collect(),
                line,
            };
            todo.push((TRADE_OFF, AnyFigure::TradeOff(fig)));
        }
    }

    // 3. Cost breakdown.
    match (&totals, &data.no_totals) {
        (Some(t), None) => {
            let fig = CostFigure {
                title: format!("{}: cost per configuration", data.name),
                subtitle: if sweep {
                    ci_note.clone()
                } else {
                    "one run".to_owned()
                },
                bars: t
                    .iter()
                    .map(|(i, c, t)| CostBar {
                        label: c.label.clone(),
                        color: color(*i),
                        request: t.request_cost_usd.mean,
                        duration: t.duration_cost_usd.mean,
                        total: t.user_cost_usd,
                        idle: t.wasted_memory_gb_s,
                    })
                    .collect(),
            };
            todo.push((COST, AnyFigure::Cost(fig)));
        }
        (_, Some(why)) => report.skipped.push(format!("{COST}: {why}")),
        (None, None) => report.skipped.push(format!("{COST}: no aggregate figures")),
    }

    // 4. Time series.
    let chosen = match (&options.run, data.layout) {
        (Some(id), Layout::Sweep) => {
            let found = data.configs.iter().find_map(|c| {
                c.runs
                    .iter()
                    .find(|(rid, _)| rid == id)
                    .map(|(_, dir)| (c, dir))
            });
            match found {
                Some(x) => Some((id.clone(), x)),
                None => {
                    return Err(PlotError::Invalid {
                        path: data.dir.join("manifest.json"),
                        message: format!("no run `{id}` in the plan"),
                    })
                }
            }
        }
        _ => None,
    };
    let ts_fig = match (data.layout, chosen) {
        (Layout::Sweep, Some((id, (cfg, dir)))) => Some(TimeseriesFigure::Single {
            title: format!("{}: cluster over time", data.name),
            subtitle: format!("run {id} ({})", cfg.label),
            rows: data::read_timeseries(dir)?,
        }),
        (Layout::Run, _) => {
            let dir = &data.configs[0].runs[0].1;
            Some(TimeseriesFigure::Single {
                title: format!("{}: cluster over time", data.name),
                subtitle: String::new(),
                rows: data::read_timeseries(dir)?,
            })
        }
        (Layout::Sweep, None) => {
            let mut series = Vec::new();
            for (i, c) in data.configs.iter().enumerate() {
                if let Some((_, dir)) = c.first_with("timeseries.csv") {
                    series.push((c.label.clone(), color(i), data::read_timeseries(dir)?));
                }
            }
            if series.is_empty() {
                report.skipped.push(format!(
                    "{TIMESERIES}: no run of the sweep has a timeseries.csv"
                ));
                None
            } else {
                Some(TimeseriesFigure::Multi {
                    title: format!("{}: cluster over time", data.name),
                    subtitle: first_rep.to_owned(),
                    series,
                })
            }
        }
    };
    if let Some(fig) = ts_fig {
        todo.push((TIMESERIES, AnyFigure::Timeseries(fig)));
    }

    // 5. Per-function cold-start ratio CDF.
    let mut curves = Vec::new();
    for (i, c) in data.configs.iter().enumerate() {
        if let Some((_, dir)) = c.first_with("functions.csv") {
            let ratios = data::read_function_ratios(dir)?;
            if !ratios.is_empty() {
                curves.push(Curve::new(
                    &c.label,
                    color(i),
                    data::ecdf(ratios, data::MAX_CURVE_POINTS),
                ));
            }
        }
    }
    if curves.is_empty() {
        report.skipped.push(format!(
            "{FUNCTION_CDF}: no functions.csv with a function that completed an invocation"
        ));
    } else {
        let fig = CdfFigure {
            title: format!("{}: per-function cold-start ratio", data.name),
            subtitle: join_nonempty(&[
                "functions with at least one completed invocation",
                first_rep,
            ]),
            x_desc: "cold-start ratio of a function (cold starts / completed)",
            y_desc: "fraction of functions",
            log_x: false,
            // Up to the largest ratio: small ratios would be squashed at the left of 0-1.
            x_range: Some(ratio_range(
                curves
                    .iter()
                    .flat_map(|c| c.points.iter().map(|p| p.0))
                    .fold(0.0, f64::max),
            )),
            curves,
        };
        todo.push((FUNCTION_CDF, AnyFigure::Cdf(fig)));
    }

    // 5b. Cost against p99 latency, one point per configuration.
    if sweep && data.no_totals.is_none() && data.configs.len() > 1 {
        let columns: Vec<String> = ["user_cost_usd", "latency_p99_ms"]
            .iter()
            .flat_map(|m| {
                [
                    format!("{m}_mean"),
                    format!("{m}_ci95_lo"),
                    format!("{m}_ci95_hi"),
                ]
            })
            .collect();
        let keys: Vec<Vec<String>> = data.configs.iter().map(|c| c.key.clone()).collect();
        let vals = data::read_aggregate_optional(
            &data.dir.join("aggregate.csv"),
            &data.key_cols,
            &keys,
            &columns,
        )?;
        let est = |v: &[Option<f64>]| Est {
            mean: v[0].unwrap_or(f64::NAN),
            ci: v[1].zip(v[2]),
        };
        let fig = TradeOff {
            title: format!("{}: cost against p99 latency", data.name),
            subtitle: ci_note.clone(),
            x_desc: "p99 latency (ms)",
            y_desc: "user's bill (USD)",
            points: data
                .configs
                .iter()
                .zip(&vals)
                .enumerate()
                .map(|(i, (c, v))| TradeOffPoint {
                    label: c.label.clone(),
                    color: color(i),
                    x: est(&v[3..6]),
                    y: est(&v[0..3]),
                })
                .collect(),
            line: None,
        };
        todo.push((COST_LATENCY, AnyFigure::TradeOff(fig)));
    }

    // 6. Serverless vs VM break-even.
    match break_even::load(data)? {
        Ok(be) => {
            report
                .notes
                .extend(be.notes.iter().map(|n| format!("{BREAK_EVEN}: {n}")));
            let fig = break_even::BreakEvenFigure::new(data, be);
            todo.push((BREAK_EVEN, AnyFigure::BreakEven(fig)));
        }
        Err(why) => report.skipped.push(format!("{BREAK_EVEN}: {why}")),
    }

    // 7. Each metric against the swept parameter.
    match by_param::load(data)? {
        Ok(fig) => todo.push((BY_PARAM, AnyFigure::ByParam(fig))),
        Err(why) => report.skipped.push(format!("{BY_PARAM}: {why}")),
    }
    // 8. Per-workflow latency breakdown.
    match workflow_latency::load(data)? {
        Ok(Some(fig)) => todo.push((WORKFLOW_LATENCY, AnyFigure::WorkflowLatency(fig))),
        Ok(None) => {}
        Err(why) => report.skipped.push(format!("{WORKFLOW_LATENCY}: {why}")),
    }
    Ok((todo, report))
}

fn join_nonempty(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("; ")
}

/// Draws the title (and a grey subtitle) and returns the area below.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, DrawErr> {
    let root = root.margin(8, 8, 8, 8);
    let area = root.titled(title, (FONT, TITLE_PX).into_font().style(FontStyle::Bold))?;
    if subtitle.is_empty() {
        Ok(area)
    } else {
        Ok(area.titled(subtitle, (FONT, SUBTITLE_PX).into_font().color(&GREY))?)
    }
}

/// A labelled curve.
struct Curve {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

impl Curve {
    fn new(label: &str, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Curve {
            label: label.to_owned(),
            color,
            points,
        }
    }
}

/// Draws `curves` on `chart` with a legend at `legend`.
fn draw_curves<'a, DB, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    curves: &[Curve],
    legend: Option<SeriesLabelPosition>,
) -> Result<(), DrawErr>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    for (i, c) in curves.iter().enumerate() {
        let col = c.color;
        chart
            .draw_series(LineSeries::new(
                c.points.iter().copied(),
                col.stroke_width(line_width(i, curves.len())),
            ))?
            .label(c.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], col.stroke_width(3)));
    }
    if let Some(pos) = legend {
        chart
            .configure_series_labels()
            .position(pos)
            .margin(12)
            .legend_area_size(30)
            .label_font((FONT, LABEL_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 1 and 5: empirical CDFs

struct CdfFigure {
    title: String,
    subtitle: String,
    x_desc: &'static str,
    y_desc: &'static str,
    log_x: bool,
    /// Fixed x range (linear axis), else fitted to the data.
    x_range: Option<(f64, f64)>,
    curves: Vec<Curve>,
}

impl Figure for CdfFigure {
    fn size(&self) -> (u32, u32) {
        FIGURE_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let xs = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0));
        let (min, max) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let mut builder = ChartBuilder::on(&area);
        builder
            .margin(16)
            .margin_right(40)
            .x_label_area_size(60)
            .y_label_area_size(90);
        if self.log_x {
            let lo = if min.is_finite() && min > 0.0 {
                min / 1.5
            } else {
                data::LATENCY_FLOOR_MS
            };
            let hi = if max.is_finite() && max > lo {
                max * 1.5
            } else {
                lo * 10.0
            };
            let mut chart = builder.build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)?;
            self.body(&mut chart)
        } else {
            let (lo, hi) = self.x_range.unwrap_or_else(|| padded(min, max, 0.02));
            let mut chart = builder.build_cartesian_2d(lo..hi, 0.0..1.0)?;
            self.body(&mut chart)
        }
    }
}

impl CdfFigure {
    fn body<'a, DB, X>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    ) -> Result<(), DrawErr>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .axis_desc_style((FONT, DESC_PX))
            .label_style((FONT, LABEL_PX))
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .y_labels(11)
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.15))
            .draw()?;
        draw_curves(chart, &self.curves, Some(SeriesLabelPosition::LowerRight))
    }
}

// ---------------------------------------------------------------------------------------
// 2: the keep-alive trade-off

struct TradeOffPoint {
    label: String,
    color: RGBColor,
    /// Idle memory, GB·s.
    x: Est,
    /// Cold-start ratio.
    y: Est,
}

struct TradeOff {
    title: String,
    subtitle: String,
    x_desc: &'static str,
    y_desc: &'static str,
    points: Vec<TradeOffPoint>,
    /// Join the points in this order (the varied key's order), when one numeric key varies.
    line: Option<Vec<usize>>,
}

/// An axis range for non-negative data: from 0 unless the data sits far from it, with room
/// above for labels.
fn nonneg_range(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.max(0.0);
    let hi = hi.max(lo);
    if hi <= 0.0 {
        return (0.0, 1.0);
    }
    if lo <= 0.5 * hi {
        (0.0, hi * 1.15)
    } else {
        let (a, b) = padded(lo, hi, 0.15);
        (a.max(0.0), b)
    }
}

impl Figure for TradeOff {
    fn size(&self) -> (u32, u32) {
        FIGURE_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        let area = titled(root, &self.title, &self.subtitle)?;
        // Intervals are clipped at 0: both quantities are non-negative.
        let clip = |e: &Est| {
            let (l, h) = e.lo_hi();
            (l.max(0.0), h.max(0.0))
        };
        let fold = |f: &dyn Fn(&TradeOffPoint) -> (f64, f64)| {
            self.points
                .iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (l, h)| {
                    (a.min(l), b.max(h))
                })
        };
        let (xl, xh) = fold(&|p| {
            let (l, h) = clip(&p.x);
            (l.min(p.x.mean), h.max(p.x.mean))
        });
        let (yl, yh) = fold(&|p| {
            let (l, h) = clip(&p.y);
            (l.min(p.y.mean), h.max(p.y.mean))
        });
        let (x0, x1) = nonneg_range(xl, xh);
        let (y0, y1) = nonneg_range(yl, yh);
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_right(40)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .axis_desc_style((FONT, DESC_PX))
            .label_style((FONT, LABEL_PX))
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.15))
            .draw()?;
        if let Some(order) = &self.line {
            let pts: Vec<(f64, f64)> = order
                .iter()
                .filter_map(|&i| self.points.get(i))
                .map(|p| (p.x.mean, p.y.mean))
                .collect();
            chart.draw_series(LineSeries::new(pts, GREY.mix(0.6).stroke_width(2)))?;
        }
        let offsets = self.label_offsets(&chart)?;
        for (p, offset) in self.points.iter().zip(offsets) {
            let col = p.color;
            let (xl, xh) = clip(&p.x);
            let (yl, yh) = clip(&p.y);
            if p.x.ci.is_some() {
                chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                    p.y.mean,
                    xl,
                    p.x.mean,
                    xh,
                    col.stroke_width(2),
                    12,
                )))?;
            }
            if p.y.ci.is_some() {
                chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                    p.x.mean,
                    yl,
                    p.y.mean,
                    yh,
                    col.stroke_width(2),
                    12,
                )))?;
            }
            let label = offset.map_or_else(String::new, |_| p.label.clone());
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((p.x.mean, p.y.mean))
                        + Circle::new((0, 0), 7, col.filled())
                        + Circle::new((0, 0), 7, BLACK.stroke_width(1))
                        + Text::new(label, offset.unwrap_or((0, 0)), (FONT, LABEL_PX)),
                ))?
                .label(p.label.clone())
                .legend(move |(x, y)| Circle::new((x + 10, y), 6, col.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .margin(12)
            .legend_area_size(26)
            .label_font((FONT, LABEL_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }
}

impl TradeOff {
    /// Where each point's label goes, relative to the point (pixels, the text's top-left
    /// corner), or `None` where every spot is taken: the first of eight spots around the
    /// point that overlaps no point, no label placed before and stays in the plot. A label
    /// left out is still in the legend.
    fn label_offsets<DB: DrawingBackend>(
        &self,
        chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    ) -> Result<Vec<Option<(i32, i32)>>, DrawErr> {
        let area = chart.plotting_area();
        let ((x0, y0), (x1, y1)) = {
            let r = area.get_pixel_range();
            ((r.0.start, r.1.start), (r.0.end, r.1.end))
        };
        let centres: Vec<(i32, i32)> = self
            .points
            .iter()
            .map(|p| chart.backend_coord(&(p.x.mean, p.y.mean)))
            .collect();
        // Boxes as (left, top, right, bottom) in backend pixels.
        let mut taken: Vec<(i32, i32, i32, i32)> = centres
            .iter()
            .map(|&(x, y)| (x - 8, y - 8, x + 8, y + 8))
            .collect();
        let font = TextStyle::from((FONT, LABEL_PX).into_font());
        let mut out = Vec::with_capacity(self.points.len());
        for (p, &(cx, cy)) in self.points.iter().zip(&centres) {
            let (w, h) = area.estimate_text_size(&p.label, &font)?;
            let (w, h) = (w as i32, h as i32);
            let spots = [
                (11, -h / 2),
                (-w - 11, -h / 2),
                (-w / 2, -h - 11),
                (-w / 2, 11),
                (9, -h - 7),
                (9, 7),
                (-w - 9, -h - 7),
                (-w - 9, 7),
            ];
            let free = spots.iter().copied().find(|&(dx, dy)| {
                let b = (cx + dx, cy + dy, cx + dx + w, cy + dy + h);
                b.0 >= x0
                    && b.2 <= x1
                    && b.1 >= y0
                    && b.3 <= y1
                    && taken
                        .iter()
                        .all(|t| b.2 <= t.0 || t.2 <= b.0 || b.3 <= t.1 || t.3 <= b.1)
            });
            if let Some((dx, dy)) = free {
                taken.push((cx + dx, cy + dy, cx + dx + w, cy + dy + h));
            }
            out.push(free);
        }
        Ok(out)
    }
}

/// The x range of the per-function cold-start CDF: from 0 to just past the largest ratio
/// (at least 0.01, at most 1).
fn ratio_range(max: f64) -> (f64, f64) {
    let hi = if max.is_finite() && max > 0.0 {
        (max * 1.05).clamp(0.01, 1.0)
    } else {
        1.0
    };
    (-hi * 0.02, hi * 1.02)
}

// ---------------------------------------------------------------------------------------
// 3: cost breakdown

struct CostBar {
    label: String,
    color: RGBColor,
    request: f64,
    duration: f64,
    total: Est,
    idle: Est,
}

struct CostFigure {
    title: String,
    subtitle: String,
    bars: Vec<CostBar>,
}

/// A category axis: `n` categories at 0, 1, ..., n - 1, with a tick (and label) at each.
#[derive(Clone, Copy)]
struct Categories(usize);

impl Ranged for Categories {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let r = self.range();
        let t = (v - r.start) / (r.end - r.start);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() || hint.max_num_points() == 0 {
            return Vec::new();
        }
        (0..self.0).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.6..(self.0.max(1) as f64 - 0.4)
    }
}

/// Pixels for a column of bar labels: room for the longest (DejaVu Sans at 16 px: about 9 px
/// a character), between 60 px and `max_px`.
pub(crate) fn label_width<'a>(labels: impl Iterator<Item = &'a str>, max_px: u32) -> u32 {
    let longest = labels.map(|l| l.chars().count()).max().unwrap_or(0);
    ((longest as u32) * 9 + 30).clamp(60, max_px.max(60))
}

/// Horizontal bar geometry: configuration `i` (top to bottom) sits at `y = n - 1 - i`.
fn bar_y(n: usize, i: usize) -> f64 {
    (n - 1 - i) as f64
}

impl Figure for CostFigure {
    fn size(&self) -> (u32, u32) {
        FIGURE_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let n = self.bars.len().max(1);
        let (w, _) = area.dim_in_pixel();
        let label_px = label_width(self.bars.iter().map(|b| b.label.as_str()), w * 3 / 10);
        let (legend, area) = area.split_vertically(36);
        let (left, right) = area.split_horizontally(label_px + (w - label_px) * 58 / 100);
        // A colour is a configuration, as in every figure: the request cost is the lighter
        // part of its bar, the duration cost the darker.
        let mut entries = vec![
            LegendEntry::new(
                "request cost (lighter)",
                lighten(GREY, REQUEST_LIGHTEN),
                Marker::Box,
            ),
            LegendEntry::new("duration cost (GB-ms billed, darker)", GREY, Marker::Box),
        ];
        if self
            .bars
            .iter()
            .any(|b| b.total.ci.is_some() || b.idle.ci.is_some())
        {
            entries.push(LegendEntry::new(
                "95% confidence interval",
                BLACK,
                Marker::Line,
            ));
        }
        legend_row(&legend, &entries, 24)?;
        let y_range = || Categories(n);
        let labels: Vec<String> = (0..n)
            .map(|k| {
                self.bars
                    .get(n - 1 - k)
                    .map(|b| b.label.clone())
                    .unwrap_or_default()
            })
            .collect();
        let label_of = |v: &f64| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 {
                labels.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let half = 0.32;

        // Left: the user's bill, request cost then duration cost, stacked.
        let cost_hi = self
            .bars
            .iter()
            .map(|b| (b.request + b.duration).max(b.total.lo_hi().1))
            .fold(0.0, f64::max);
        let cost_hi = if cost_hi > 0.0 { cost_hi * 1.12 } else { 1.0 };
        let mut chart = ChartBuilder::on(&left)
            .caption("user's bill", (FONT, DESC_PX))
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(label_px)
            .build_cartesian_2d(0.0..cost_hi, y_range())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("cost (USD)")
            .axis_desc_style((FONT, DESC_PX))
            .label_style((FONT, LABEL_PX))
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&label_of)
            .x_labels(6)
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.15))
            .draw()?;
        let rects = |f: &dyn Fn(&CostBar) -> (f64, f64), lighter: f64| {
            self.bars
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let (a, z) = f(b);
                    let y = bar_y(n, i);
                    Rectangle::new(
                        [(a, y - half), (z, y + half)],
                        lighten(b.color, lighter).filled(),
                    )
                })
                .collect::<Vec<_>>()
        };
        chart.draw_series(rects(&|b| (0.0, b.request), REQUEST_LIGHTEN))?;
        chart.draw_series(rects(&|b| (b.request, b.request + b.duration), 0.0))?;
        chart.draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
            b.total.ci.map(|(l, h)| {
                ErrorBar::new_horizontal(
                    bar_y(n, i),
                    l.max(0.0),
                    b.total.mean,
                    h,
                    BLACK.stroke_width(2),
                    12,
                )
            })
        }))?;

        // Right: idle memory, one bar per configuration in its colour.
        let idle_hi = self
            .bars
            .iter()
            .map(|b| b.idle.mean.max(b.idle.lo_hi().1))
            .fold(0.0, f64::max);
        let idle_hi = if idle_hi > 0.0 { idle_hi * 1.12 } else { 1.0 };
        let mut chart = ChartBuilder::on(&right)
            .caption("idle memory (held warm, not billed)", (FONT, DESC_PX))
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(10)
            .build_cartesian_2d(0.0..idle_hi, y_range())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("idle memory (GB·s)")
            .axis_desc_style((FONT, DESC_PX))
            .label_style((FONT, LABEL_PX))
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|_| String::new())
            .x_labels(5)
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.15))
            .draw()?;
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            let y = bar_y(n, i);
            Rectangle::new([(0.0, y - half), (b.idle.mean, y + half)], b.color.filled())
        }))?;
        chart.draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
            b.idle.ci.map(|(l, h)| {
                ErrorBar::new_horizontal(
                    bar_y(n, i),
                    l.max(0.0),
                    b.idle.mean,
                    h,
                    BLACK.stroke_width(2),
                    12,
                )
            })
        }))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// 4: time series

enum TimeseriesFigure {
    /// One run: instances, memory and queue in three panels.
    Single {
        title: String,
        subtitle: String,
        rows: Vec<TimeseriesRow>,
    },
    /// One curve per configuration in five panels and a legend.
    Multi {
        title: String,
        subtitle: String,
        series: Vec<(String, RGBColor, Vec<TimeseriesRow>)>,
    },
}

fn time_range<'a>(rows: impl Iterator<Item = &'a TimeseriesRow>) -> (f64, f64) {
    let (lo, hi) = rows.fold((0.0f64, f64::NEG_INFINITY), |(a, b), r| {
        (a.min(r.time_s), b.max(r.time_s))
    });
    if hi > lo {
        (lo, hi)
    } else {
        (lo, lo + 1.0)
    }
}

/// A panel of curves over time; with `legend`, the legend sits in a column on its right.
fn line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    (x0, x1): (f64, f64),
    curves: &[Curve],
    legend: bool,
) -> Result<(), DrawErr> {
    let area = if legend {
        let (w, _) = area.dim_in_pixel();
        let (plot, side) = area.split_horizontally(w.saturating_sub(170));
        let entries: Vec<LegendEntry> = curves
            .iter()
            .map(|c| LegendEntry::new(&c.label, c.color, Marker::Line))
            .collect();
        legend_column(&side, &entries, None, 10, 50)?;
        plot
    } else {
        area.clone()
    };
    let y_hi = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let y_hi = if y_hi > 0.0 { y_hi * 1.08 } else { 1.0 };
    let mut chart = ChartBuilder::on(&area)
        .caption(caption, (FONT, DESC_PX))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, 0.0..y_hi)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .axis_desc_style((FONT, LABEL_PX))
        .label_style((FONT, LABEL_PX - 2))
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| fmt_num(*v))
        .x_labels(8)
        .y_labels(6)
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    draw_curves(&mut chart, curves, None)
}

fn series(rows: &[TimeseriesRow], f: impl Fn(&TimeseriesRow) -> f64) -> Vec<(f64, f64)> {
    rows.iter().map(|r| (r.time_s, f(r))).collect()
}

impl Figure for TimeseriesFigure {
    fn size(&self) -> (u32, u32) {
        TIMESERIES_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        match self {
            TimeseriesFigure::Single {
                title,
                subtitle,
                rows,
            } => {
                let area = titled(root, title, subtitle)?;
                let panels = area.split_evenly((3, 1));
                let xr = time_range(rows.iter());
                let c = |label: &str, i: usize, f: fn(&TimeseriesRow) -> f64| {
                    Curve::new(label, SERIES_COLORS[i], series(rows, f))
                };
                line_panel(
                    &panels[0],
                    "instances",
                    "instances",
                    xr,
                    &[
                        c("live", 0, |r| r.live_instances),
                        c("busy", 2, |r| r.busy_instances),
                        c("idle", 1, |r| r.idle_instances),
                        c("starting", 4, |r| r.starting_instances),
                    ],
                    true,
                )?;
                line_panel(
                    &panels[1],
                    "memory held by instances",
                    "memory (MB)",
                    xr,
                    &[
                        c("used", 0, |r| r.memory_used_mb),
                        c("idle", 1, |r| r.memory_idle_mb),
                    ],
                    true,
                )?;
                line_panel(
                    &panels[2],
                    "queue",
                    "queued requests",
                    xr,
                    &[c("queue length", 3, |r| r.queue_length)],
                    true,
                )
            }
            TimeseriesFigure::Multi {
                title,
                subtitle,
                series: all,
            } => {
                let area = titled(root, title, subtitle)?;
                let panels = area.split_evenly((3, 2));
                let xr = time_range(all.iter().flat_map(|(_, _, rows)| rows.iter()));
                type Metric = (&'static str, &'static str, fn(&TimeseriesRow) -> f64);
                let metrics: [Metric; 5] = [
                    ("live instances", "instances", |r| r.live_instances),
                    ("busy instances", "instances", |r| r.busy_instances),
                    ("idle instances", "instances", |r| r.idle_instances),
                    ("memory used", "memory (MB)", |r| r.memory_used_mb),
                    ("queue length", "queued requests", |r| r.queue_length),
                ];
                for ((caption, y_desc, f), panel) in metrics.iter().zip(&panels) {
                    let curves: Vec<Curve> = all
                        .iter()
                        .map(|(label, col, rows)| Curve::new(label, *col, series(rows, f)))
                        .collect();
                    line_panel(panel, caption, y_desc, xr, &curves, false)?;
                }
                let entries: Vec<LegendEntry> = all
                    .iter()
                    .map(|(l, c, _)| LegendEntry::new(l, *c, Marker::Line))
                    .collect();
                legend_column(&panels[5], &entries, Some("configuration"), 40, 20)
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Marker {
    Line,
    Box,
    Dashed,
}

struct LegendEntry {
    label: String,
    color: RGBColor,
    marker: Marker,
}

impl LegendEntry {
    fn new(label: &str, color: RGBColor, marker: Marker) -> Self {
        LegendEntry {
            label: label.to_owned(),
            color,
            marker,
        }
    }
}

fn left_center() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Left, VPos::Center)
}

/// Draws one legend entry centred vertically on `y`; returns its width in pixels.
fn legend_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    e: &LegendEntry,
    (x, y): (i32, i32),
) -> Result<i32, DrawErr> {
    let text_x = match e.marker {
        Marker::Line => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 28, y)],
                e.color.stroke_width(3),
            ))?;
            x + 36
        }
        Marker::Dashed => {
            area.draw(&plotters::element::DashedPathElement::new(
                vec![(x, y), (x + 28, y)],
                6,
                4,
                e.color.stroke_width(2),
            ))?;
            x + 36
        }
        Marker::Box => {
            area.draw(&Rectangle::new(
                [(x, y - 8), (x + 18, y + 8)],
                e.color.filled(),
            ))?;
            x + 26
        }
    };
    let style = (FONT, LABEL_PX)
        .into_font()
        .color(&BLACK)
        .pos(left_center());
    area.draw(&Text::new(e.label.clone(), (text_x, y), style.clone()))?;
    let (tw, _) = area.estimate_text_size(&e.label, &style)?;
    Ok(text_x - x + tw as i32)
}

/// A legend laid out in rows of `row` pixels from `(x0, y0)`, in as many columns as needed.
fn legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    title: Option<&str>,
    x0: i32,
    y0: i32,
) -> Result<(), DrawErr> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let mut y0 = y0;
    if let Some(t) = title {
        area.draw(&Text::new(
            t.to_owned(),
            (x0, y0),
            (FONT, DESC_PX).into_font().style(FontStyle::Bold),
        ))?;
        y0 += 40;
    }
    let row = 26;
    let per_col = ((h - y0) / row).max(1) as usize;
    let cols = entries.len().div_ceil(per_col).max(1) as i32;
    let col_w = ((w - x0) / cols).max(60);
    for (i, e) in entries.iter().enumerate() {
        let x = x0 + (i / per_col) as i32 * col_w;
        let y = y0 + (i % per_col) as i32 * row;
        legend_entry(area, e, (x, y))?;
    }
    Ok(())
}

/// A legend laid out left to right on one line, from `x0`, centred vertically.
fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    x0: i32,
) -> Result<(), DrawErr> {
    let (_, h) = area.dim_in_pixel();
    let y = h as i32 / 2;
    let mut x = x0;
    for e in entries {
        x += legend_entry(area, e, (x, y))? + 28;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonneg_ranges() {
        assert_eq!(nonneg_range(0.0, 0.0), (0.0, 1.0));
        let (a, b) = nonneg_range(0.1, 1.0);
        assert_eq!(a, 0.0);
        assert!(b > 1.0);
        let (a, b) = nonneg_range(90.0, 100.0);
        assert!(a > 0.0 && a < 90.0 && b > 100.0);
        assert_eq!(nonneg_range(-5.0, 10.0).0, 0.0);
    }
}
