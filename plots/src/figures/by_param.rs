//! 7: the swept parameter on the x axis, one panel per metric (mean and 95% interval of
//! each combination), one line per value of the other varied keys.

use super::{legend_row, line_width, titled, Categories, LegendEntry, Marker, DESC_PX, LABEL_PX};
use crate::data::{self, label_part, short_keys, Dataset, Est, Layout};
use crate::render::{color, fmt_num, padded, DrawErr, Figure, FONT};
use crate::{PlotError, FIGURE_SIZE};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The metrics drawn when the experiment chooses none (`[experiment] plot_metrics`):
/// `aggregate.csv` `<metric>_mean`, `_ci95_lo`, `_ci95_hi`.
pub(crate) const METRICS: [&str; 4] = [
    "cold_start_ratio",
    "latency_p99_ms",
    "wasted_memory_gb_s",
    "user_cost_usd",
];

/// Axis descriptions of common metrics; any other metric is described by its column name.
const DESCRIPTIONS: [(&str, &str); 29] = [
    ("cold_start_ratio", "cold-start ratio"),
    ("latency_p99_ms", "p99 latency (ms)"),
    ("latency_mean_ms", "mean latency (ms)"),
    ("wasted_memory_gb_s", "idle memory (GB·s)"),
    ("user_cost_usd", "user's bill (USD)"),
    ("load_imbalance", "load imbalance (max / mean worker)"),
    ("billed_gb_s", "billed GB·s"),
    ("orchestration_cost_usd", "orchestration bill (USD)"),
    ("workflow_latency_mean_ms", "workflow latency, mean (ms)"),
    ("workflow_latency_p99_ms", "workflow latency, p99 (ms)"),
    ("workflow_cold_starts", "cold starts in workflows"),
    ("cold_starts", "cold starts"),
    ("memory_utilisation", "memory utilisation"),
    ("provider_cost_usd", "provider's cost (USD)"),
    ("throttled", "throttled invocations"),
    ("failed", "failed invocations"),
    ("timed_out", "invocations timed out"),
    ("retries", "asynchronous retries"),
    ("event_age_p99_ms", "event age at delivery, p99 (ms)"),
    ("goodput", "goodput (completed / invocations)"),
    ("slo_attainment", "SLO attainment"),
    ("slo_functions_met", "functions meeting their SLO"),
    ("ttft_p50_ms", "time to first token, p50 (ms)"),
    ("ttft_p99_ms", "time to first token, p99 (ms)"),
    ("model_load_ms_mean", "model load time, mean (ms)"),
    ("loads_from_remote", "model loads from remote storage"),
    ("loads_from_dram", "model loads from DRAM"),
    ("gpu_utilisation", "GPU utilisation"),
    ("gpu_cost_usd", "GPU bill (USD)"),
];

/// The axis description of `metric`.
fn describe(metric: &str) -> String {
    DESCRIPTIONS
        .iter()
        .find(|(m, _)| *m == metric)
        .map_or_else(|| metric.to_owned(), |(_, d)| (*d).to_owned())
}

/// How the x axis shows the swept key.
#[derive(Clone, PartialEq)]
enum XAxis {
    /// Numbers, linear.
    Linear,
    /// Numbers spanning more than a factor 20, all positive.
    Log,
    /// Values in plan order at 0, 1, 2, ...
    Categories(Vec<String>),
}

struct Line {
    label: String,
    color: RGBColor,
    /// `(x, estimate per metric)`, in increasing x.
    points: Vec<(f64, Vec<Est>)>,
}

pub(crate) struct ByParamFigure {
    /// The axis description of each panel's metric, in panel order.
    metrics: Vec<String>,
    title: String,
    subtitle: String,
    key: String,
    axis: XAxis,
    lines: Vec<Line>,
}

/// The figure for a sweep with a varied key, or why there is none.
pub(crate) fn load(data: &Dataset) -> Result<Result<ByParamFigure, String>, PlotError> {
    if data.layout != Layout::Sweep {
        return Ok(Err(
            "a sweep figure (a metric against a swept parameter)".into()
        ));
    }
    if let Some(why) = &data.no_totals {
        return Ok(Err(why.clone()));
    }
    // Varied keys with more than one value, in plan order, and their values.
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for c in &data.configs {
        for (k, v) in &c.params {
            match keys.iter_mut().find(|(key, _)| key == k) {
                Some((_, vs)) if !vs.contains(v) => vs.push(v.clone()),
                Some(_) => {}
                None => keys.push((k.clone(), vec![v.clone()])),
            }
        }
    }
    keys.retain(|(_, vs)| vs.len() > 1);
    if keys.is_empty() {
        return Ok(Err("no varied key takes more than one value".into()));
    }
    let numeric = |vs: &[String]| vs.iter().all(|v| v.parse::<f64>().is_ok());
    // The x key: the numeric key with the most values, else the first key.
    let xi = keys
        .iter()
        .enumerate()
        .filter(|(_, (_, vs))| numeric(vs))
        .max_by_key(|(i, (_, vs))| (vs.len(), usize::MAX - i))
        .map_or(0, |(i, _)| i);
    let (key, values) = keys[xi].clone();
    let axis = if numeric(&values) {
        let xs: Vec<f64> = values.iter().filter_map(|v| v.parse().ok()).collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if lo > 0.0 && hi / lo > 20.0 {
            XAxis::Log
        } else {
            XAxis::Linear
        }
    } else {
        XAxis::Categories(values.clone())
    };
    let others: Vec<String> = keys
        .iter()
        .filter(|(k, _)| *k != key)
        .map(|(k, _)| k.clone())
        .collect();
    let short = short_keys(&others);
    let metrics: Vec<String> = if data.plot_metrics.is_empty() {
        METRICS.iter().map(|m| (*m).to_owned()).collect()
    } else {
        data.plot_metrics.clone()
    };
    let aggregate = data.dir.join("aggregate.csv");
    let header = data::CsvFile::open(&aggregate)?;
    if let Some(m) = metrics
        .iter()
        .find(|m| header.col(&format!("{m}_mean")).is_err())
    {
        return Err(PlotError::Invalid {
            path: data.dir.join("manifest.json"),
            message: format!(
                "plot_metrics: unknown metric `{m}` (aggregate.csv has no `{m}_mean`); the metrics are the numeric columns of summary.csv"
            ),
        });
    }
    let columns: Vec<String> = metrics
        .iter()
        .flat_map(|m| {
            [
                format!("{m}_mean"),
                format!("{m}_ci95_lo"),
                format!("{m}_ci95_hi"),
            ]
        })
        .collect();
    let keys_of: Vec<Vec<String>> = data.configs.iter().map(|c| c.key.clone()).collect();
    let values_of = data::read_aggregate_optional(&aggregate, &data.key_cols, &keys_of, &columns)?;
    let mut lines: Vec<Line> = Vec::new();
    for (c, vals) in data.configs.iter().zip(values_of) {
        let Some(v) = c.params.iter().find(|(k, _)| *k == key).map(|(_, v)| v) else {
            continue;
        };
        let x = match &axis {
            XAxis::Categories(cats) => cats.iter().position(|c| c == v).unwrap_or(0) as f64,
            _ => v.parse().unwrap_or(f64::NAN),
        };
        let mut label: Vec<String> = Vec::new();
        if data.several_scenarios {
            label.push(c.key.first().cloned().unwrap_or_default());
        }
        for (k, s) in others.iter().zip(&short) {
            if let Some((_, v)) = c.params.iter().find(|(p, _)| p == k) {
                label.push(label_part(s, v));
            }
        }
        let label = if label.is_empty() {
            data.name.clone()
        } else {
            label.join(", ")
        };
        let ests: Vec<Est> = vals
            .chunks(3)
            .map(|m| Est {
                mean: m[0].unwrap_or(f64::NAN),
                ci: m[1].zip(m[2]),
            })
            .collect();
        match lines.iter_mut().find(|l| l.label == label) {
            Some(l) => l.points.push((x, ests)),
            None => {
                let n = lines.len();
                lines.push(Line {
                    label,
                    color: color(n),
                    points: vec![(x, ests)],
                })
            }
        }
    }
    for l in &mut lines {
        l.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let ci = if data.replications > 1 {
        format!(
            "mean of {} replications; bars: 95% confidence interval",
            data.replications
        )
    } else {
        "one replication per configuration: no confidence interval".to_owned()
    };
    Ok(Ok(ByParamFigure {
        metrics: metrics.iter().map(|m| describe(m)).collect(),
        title: format!("{}: metrics against {}", data.name, key),
        subtitle: ci,
        key,
        axis,
        lines,
    }))
}

impl ByParamFigure {
    fn panel<'a, DB, X>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
        m: usize,
        y_desc: &str,
        x_label: &dyn Fn(&f64) -> String,
    ) -> Result<(), DrawErr>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc(self.key.as_str())
            .y_desc(y_desc)
            .axis_desc_style((FONT, LABEL_PX))
            .label_style((FONT, LABEL_PX - 2))
            .x_label_formatter(x_label)
            .y_label_formatter(&|v| fmt_num(*v))
            .y_labels(6)
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        let n = self.lines.len();
        for (i, l) in self.lines.iter().enumerate() {
            let col = l.color;
            let pts: Vec<(f64, f64)> = l
                .points
                .iter()
                .filter(|(x, e)| x.is_finite() && e[m].mean.is_finite())
                .map(|(x, e)| (*x, e[m].mean))
                .collect();
            // Wider lines first: a line that coincides with a later one shows around it.
            chart.draw_series(LineSeries::new(
                pts.iter().copied(),
                col.stroke_width(line_width(i, n)),
            ))?;
            chart.draw_series(l.points.iter().filter_map(|(x, e)| {
                let (lo, hi) = e[m].ci?;
                Some(ErrorBar::new_vertical(
                    *x,
                    lo,
                    e[m].mean,
                    hi,
                    col.stroke_width(2),
                    10,
                ))
            }))?;
            // Marker shapes differ between lines: circle, triangle, square, diamond.
            let at = |p: (f64, f64)| EmptyElement::at(p);
            match i % 4 {
                0 => chart.draw_series(
                    pts.iter()
                        .map(|&p| at(p) + Circle::new((0, 0), 5, col.filled())),
                )?,
                1 => chart.draw_series(
                    pts.iter()
                        .map(|&p| at(p) + TriangleMarker::new((0, 0), 7, col.filled())),
                )?,
                2 => chart.draw_series(
                    pts.iter()
                        .map(|&p| at(p) + Rectangle::new([(-5, -5), (5, 5)], col.filled())),
                )?,
                _ => chart.draw_series(pts.iter().map(|&p| {
                    at(p) + Polygon::new(vec![(0, -7), (6, 0), (0, 7), (-6, 0)], col.filled())
                }))?,
            };
        }
        Ok(())
    }
}

/// The y range of metric `m`: from 0 when the values are non-negative, padded above.
fn y_range(lines: &[Line], m: usize) -> (f64, f64) {
    let (lo, hi) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(_, e)| e[m]))
        .flat_map(|e| {
            let (l, h) = e.lo_hi();
            [e.mean, l, h]
        })
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if lo >= 0.0 {
        super::nonneg_range(lo, hi)
    } else {
        padded(lo, hi, 0.1)
    }
}

impl Figure for ByParamFigure {
    fn size(&self) -> (u32, u32) {
        FIGURE_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let area = if self.lines.len() > 1 {
            let (legend, rest) = area.split_vertically(36);
            let entries: Vec<LegendEntry> = self
                .lines
                .iter()
                .map(|l| LegendEntry::new(&l.label, l.color, Marker::Line))
                .collect();
            legend_row(&legend, &entries, 24)?;
            rest
        } else {
            area
        };
        let xs: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0))
            .filter(|x| x.is_finite())
            .collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        // Two panels a row (one alone fills the area).
        let n = self.metrics.len().max(1);
        let cols = n.min(2);
        let rows = n.div_ceil(cols);
        for (m, (y_desc, panel)) in self
            .metrics
            .iter()
            .zip(area.split_evenly((rows, cols)))
            .enumerate()
        {
            let (y0, y1) = y_range(&self.lines, m);
            let mut builder = ChartBuilder::on(&panel);
            builder
                .caption(y_desc.as_str(), (FONT, DESC_PX))
                .margin(10)
                .margin_right(24)
                .x_label_area_size(48)
                .y_label_area_size(80);
            match &self.axis {
                XAxis::Log => {
                    let mut chart = builder.build_cartesian_2d(
                        super::break_even::log_axis(lo / 1.25, hi * 1.25),
                        y0..y1,
                    )?;
                    self.panel(&mut chart, m, y_desc, &|v| fmt_num(*v))?;
                }
                XAxis::Linear => {
                    let (a, b) = padded(lo, hi, 0.05);
                    let mut chart = builder.build_cartesian_2d(a..b, y0..y1)?;
                    self.panel(&mut chart, m, y_desc, &|v| fmt_num(*v))?;
                }
                XAxis::Categories(cats) => {
                    let mut chart = builder.build_cartesian_2d(Categories(cats.len()), y0..y1)?;
                    let label = |v: &f64| {
                        let k = v.round();
                        if (v - k).abs() < 1e-6 && k >= 0.0 {
                            cats.get(k as usize)
                                .map(|c| label_part("", c).trim_start_matches('=').to_owned())
                                .unwrap_or_default()
                        } else {
                            String::new()
                        }
                    };
                    self.panel(&mut chart, m, y_desc, &label)?;
                }
            }
        }
        Ok(())
    }
}
