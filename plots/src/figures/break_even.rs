//! 6: serverless against VMs: the user's cost and the p99 latency of each `platform.mode`
//! against the sweep's one numeric key, and where the serverless cost line crosses each VM
//! line.

use super::{legend_row, titled, LegendEntry, Marker, DESC_PX, GREY, LABEL_PX};
use crate::data::{self, Dataset, Layout};
use crate::render::{color, fmt_num, padded, DrawErr, Figure, FONT};
use crate::{PlotError, FIGURE_SIZE};
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The varied key that picks the platform.
pub(crate) const MODE_KEY: &str = "platform.mode";
/// The `platform.mode` value of the serverless platform; every other value is a VM mode.
pub(crate) const SERVERLESS: &str = "serverless";
/// The `aggregate.csv` columns drawn.
pub(crate) const COST_COL: &str = "user_cost_usd_mean";
pub(crate) const P99_COL: &str = "latency_p99_ms_mean";

/// One platform mode: `(x, user's cost in USD, p99 latency in ms)` per value of the numeric
/// key, in increasing x.
pub(crate) struct ModeLine {
    pub mode: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64, f64)>,
}

/// Where the serverless cost line meets a VM mode's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Crossing {
    /// The VM mode (`vm-static`, `vm-autoscaled`).
    pub vm: String,
    /// The value of the numeric key where the two cost the same.
    pub x: f64,
}

/// The break-even data of a sweep of `platform.mode` × one numeric key.
pub(crate) struct BreakEven {
    /// The numeric key path, e.g. `trace.rate_per_s`.
    pub key: String,
    /// Serverless first, then the VM modes in plan order.
    pub lines: Vec<ModeLine>,
    /// By VM mode (plan order), then by x.
    pub crossings: Vec<Crossing>,
    /// One sentence per VM mode: the crossings, or which is cheaper throughout.
    pub notes: Vec<String>,
}

/// Which of a sweep's varied keys is the numeric one, or why the sweep is not a
/// `platform.mode` × numeric-key sweep.
fn numeric_key(data: &Dataset) -> Result<String, String> {
    if data.layout != Layout::Sweep {
        return Err(format!(
            "a sweep figure ({MODE_KEY} against one numeric key); a run is one platform at \
             one point"
        ));
    }
    if data.several_scenarios {
        return Err(format!(
            "the sweep names several scenario files; the figure needs {MODE_KEY} and one \
             numeric key varied on one scenario"
        ));
    }
    // Keys that take a single value are constants, not varied.
    let mut keys: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in &data.configs {
        for (k, v) in &c.params {
            match keys.iter_mut().find(|(key, _)| key == k) {
                Some((_, values)) if !values.contains(&v.as_str()) => values.push(v),
                Some(_) => {}
                None => keys.push((k, vec![v])),
            }
        }
    }
    keys.retain(|(_, values)| values.len() > 1);
    if !keys.iter().any(|(k, _)| *k == MODE_KEY) {
        return Err(format!(
            "`{MODE_KEY}` is not varied (the figure compares platform modes)"
        ));
    }
    let others: Vec<&(&str, Vec<&str>)> = keys.iter().filter(|(k, _)| *k != MODE_KEY).collect();
    let (key, values) = match others.as_slice() {
        [] => return Err(format!("no key is varied besides `{MODE_KEY}`")),
        [one] => *one,
        many => {
            return Err(format!(
                "{} keys are varied besides `{MODE_KEY}` ({}); the figure needs exactly one",
                many.len(),
                many.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ))
        }
    };
    if let Some(v) = values
        .iter()
        .find(|v| !v.parse::<f64>().is_ok_and(f64::is_finite))
    {
        return Err(format!(
            "`{key}`, varied besides `{MODE_KEY}`, is not numeric (value `{v}`)"
        ));
    }
    Ok((*key).to_owned())
}

/// The colour of a platform mode, the same in every sweep: serverless, vm-static and
/// vm-autoscaled have colours 0, 1 and 2, other modes the next ones in plan order.
fn mode_color(mode: &str, others_before: usize) -> RGBColor {
    match mode {
        SERVERLESS => color(0),
        "vm-static" => color(1),
        "vm-autoscaled" => color(2),
        _ => color(3 + others_before),
    }
}

/// Reads the break-even data of a sweep: `Ok(Err(why))` when the sweep is not a sweep of
/// `platform.mode` × one numeric key (or has no `aggregate.csv`); an error when
/// `aggregate.csv` lacks a column or a combination, or holds a value that is not a number.
pub(crate) fn load(data: &Dataset) -> Result<Result<BreakEven, String>, PlotError> {
    let key = match numeric_key(data) {
        Ok(k) => k,
        Err(why) => return Ok(Err(why)),
    };
    if let Some(why) = &data.no_totals {
        return Ok(Err(why.clone()));
    }
    let keys: Vec<Vec<String>> = data.configs.iter().map(|c| c.key.clone()).collect();
    let means = data::read_aggregate_columns(
        &data.dir.join("aggregate.csv"),
        &data.key_cols,
        &keys,
        &[COST_COL, P99_COL],
    )?;
    let param = |c: &data::Config, k: &str| {
        c.params
            .iter()
            .find(|(p, _)| p == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut lines: Vec<ModeLine> = Vec::new();
    for (c, m) in data.configs.iter().zip(&means) {
        let mode = param(c, MODE_KEY);
        // Checked numeric by `numeric_key`.
        let x: f64 = param(c, &key).parse().unwrap_or(f64::NAN);
        let point = (x, m[0], m[1]);
        match lines.iter_mut().find(|l| l.mode == mode) {
            Some(l) => l.points.push(point),
            None => {
                let unknown = lines
                    .iter()
                    .filter(|l| {
                        !matches!(l.mode.as_str(), SERVERLESS | "vm-static" | "vm-autoscaled")
                    })
                    .count();
                lines.push(ModeLine {
                    color: mode_color(&mode, unknown),
                    mode,
                    points: vec![point],
                })
            }
        }
    }
    for l in &mut lines {
        l.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    // Serverless first (a stable sort keeps the VM modes in plan order).
    lines.sort_by_key(|l| l.mode != SERVERLESS);

    let (lo, hi) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    let range = format!("{key} = {}..{}", fmt_exact(lo), fmt_exact(hi));
    let mut crossings = Vec::new();
    let mut notes = Vec::new();
    match lines.iter().find(|l| l.mode == SERVERLESS) {
        None => notes.push(format!(
            "no `{MODE_KEY} = {SERVERLESS}` line: nothing to break even with"
        )),
        Some(s) => {
            let cost = |l: &ModeLine| l.points.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>();
            let sc = cost(s);
            for vm in lines.iter().filter(|l| l.mode != SERVERLESS) {
                let vc = cost(vm);
                let found = crossings_of(&sc, &vc);
                if found.is_empty() {
                    notes.push(match compare(&sc, &vc) {
                        Some(std::cmp::Ordering::Less) => {
                            format!("serverless is cheaper than {} over {range}", vm.mode)
                        }
                        Some(std::cmp::Ordering::Greater) => {
                            format!("{} is cheaper than serverless over {range}", vm.mode)
                        }
                        _ => format!(
                            "the serverless and {} costs do not cross over {range}",
                            vm.mode
                        ),
                    });
                }
                for (x, below) in found {
                    let (cheap_lo, cheap_hi) = if below {
                        (SERVERLESS, vm.mode.as_str())
                    } else {
                        (vm.mode.as_str(), SERVERLESS)
                    };
                    notes.push(format!(
                        "serverless and {} cost the same at {key} ≈ {} ({cheap_lo} cheaper \
                         below, {cheap_hi} above)",
                        vm.mode,
                        fmt_exact(x)
                    ));
                    crossings.push(Crossing {
                        vm: vm.mode.clone(),
                        x,
                    });
                }
            }
        }
    }
    Ok(Ok(BreakEven {
        key,
        lines,
        crossings,
        notes,
    }))
}

/// 6 significant digits (every digit of a larger integer part), trailing zeros dropped:
/// `500`, `316.228`, `0.00125`, `1234567`.
pub(crate) fn fmt_exact(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (5 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// The points of `a` and `b` (each in increasing x) at the x values both have, with
/// finite values: `(x, a, b)`.
fn common(a: &[(f64, f64)], b: &[(f64, f64)]) -> Vec<(f64, f64, f64)> {
    a.iter()
        .filter_map(|&(x, ya)| b.iter().find(|p| p.0 == x).map(|&(_, yb)| (x, ya, yb)))
        .filter(|(x, ya, yb)| x.is_finite() && ya.is_finite() && yb.is_finite())
        .collect()
}

/// `Less` when `a` is below `b` at every common x, `Greater` when above at every one.
fn compare(a: &[(f64, f64)], b: &[(f64, f64)]) -> Option<std::cmp::Ordering> {
    let pts = common(a, b);
    let first = pts.first().map(|p| p.1.total_cmp(&p.2))?;
    (first != std::cmp::Ordering::Equal && pts.iter().all(|p| p.1.total_cmp(&p.2) == first))
        .then_some(first)
}

/// Where curve `a` crosses curve `b`, both given as `(x, y)` in increasing x and compared
/// at the x values they share: `(x, a is below b just before x)`.
///
/// A crossing is a change of the sign of `a - b` between neighbouring x values; it is
/// placed by linear interpolation of `ln a - ln b` against `ln x` (exact when both curves
/// are power laws, straight lines on log-log axes). In an interval where a value is not
/// positive (a free tier's zero cost) the costs are interpolated linearly, and where an x
/// is not positive, x is. Where `a = b` exactly at a sample, the crossing is that sample
/// when the sign on either side differs (or the sample ends the range); a touch with the
/// same sign on both sides is not a crossing, nor are curves equal everywhere. Where the
/// curves are equal over several samples, the crossing is the first of them.
pub(crate) fn crossings_of(a: &[(f64, f64)], b: &[(f64, f64)]) -> Vec<(f64, bool)> {
    let pts = common(a, b);
    let sign = |p: &(f64, f64, f64)| match p.1.total_cmp(&p.2) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    };
    let signs: Vec<i32> = pts.iter().map(sign).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < pts.len() {
        if signs[i] == 0 {
            // A run of equal samples i..j.
            let mut j = i;
            while j + 1 < pts.len() && signs[j + 1] == 0 {
                j += 1;
            }
            let before = (i > 0).then(|| signs[i - 1]);
            let after = signs.get(j + 1).copied();
            match (before, after) {
                (Some(s), Some(t)) if s != t => out.push((pts[i].0, s < 0)),
                (None, Some(t)) => out.push((pts[i].0, t > 0)),
                (Some(s), None) => out.push((pts[i].0, s < 0)),
                _ => {}
            }
            i = j + 1;
            continue;
        }
        if let (Some(&s), Some(&t)) = (signs.get(i), signs.get(i + 1)) {
            if s != 0 && t != 0 && s != t {
                out.push((interpolate(pts[i], pts[i + 1]), s < 0));
            }
        }
        i += 1;
    }
    out
}

/// The x between two samples `(x, a, b)` where `a = b`: `ln a - ln b` interpolated
/// linearly in `ln x` (linearly in the values or in x where they are not positive).
fn interpolate((x0, a0, b0): (f64, f64, f64), (x1, a1, b1): (f64, f64, f64)) -> f64 {
    let (d0, d1) = if a0 > 0.0 && b0 > 0.0 && a1 > 0.0 && b1 > 0.0 {
        (a0.ln() - b0.ln(), a1.ln() - b1.ln())
    } else {
        (a0 - b0, a1 - b1)
    };
    let t = d0 / (d0 - d1);
    if x0 > 0.0 && x1 > 0.0 {
        (x0.ln() + t * (x1.ln() - x0.ln())).exp()
    } else {
        x0 + t * (x1 - x0)
    }
}

// ---------------------------------------------------------------------------------------
// The figure

pub(crate) struct BreakEvenFigure {
    title: String,
    subtitle: String,
    x_desc: String,
    log_x: bool,
    lines: Vec<ModeLine>,
    crossings: Vec<(Crossing, RGBColor)>,
}

/// The x axis is logarithmic when the key spans more than this factor.
const LOG_X_SPAN: f64 = 20.0;

impl BreakEvenFigure {
    pub(crate) fn new(data: &Dataset, be: BreakEven) -> Self {
        let (lo, hi) = x_extent(&be.lines);
        let log_x = lo > 0.0 && hi / lo > LOG_X_SPAN;
        let crossings = be
            .crossings
            .into_iter()
            .map(|c| {
                let col = be
                    .lines
                    .iter()
                    .find(|l| l.mode == c.vm)
                    .map_or(GREY, |l| l.color);
                (c, col)
            })
            .collect();
        let reps = if data.replications > 1 {
            format!(
                "mean of {} replications per point (aggregate.csv)",
                data.replications
            )
        } else {
            "one replication per point (aggregate.csv)".to_owned()
        };
        let mut subtitle =
            format!("{reps}; dashed: serverless cost = VM cost, interpolated in log-log space");
        let nonpositive = be
            .lines
            .iter()
            .flat_map(|l| l.points.iter())
            .any(|p| !(p.1 > 0.0 && p.2 > 0.0));
        if nonpositive {
            subtitle.push_str("; values <= 0 not drawn (log axis)");
        }
        BreakEvenFigure {
            title: format!("{}: serverless vs VM break-even", data.name),
            subtitle,
            x_desc: if log_x {
                format!("{} (log scale)", be.key)
            } else {
                be.key.clone()
            },
            log_x,
            lines: be.lines,
            crossings,
        }
    }

    /// Where `x` sits across the x axis `(x0, x1)`, from 0 (left) to 1 (right).
    fn x_fraction(&self, x: f64, (x0, x1): (f64, f64)) -> f64 {
        if self.log_x {
            (x.ln() - x0.ln()) / (x1.ln() - x0.ln())
        } else {
            (x - x0) / (x1 - x0)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn panel<'a, DB, X, Y>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
        value: fn(&(f64, f64, f64)) -> f64,
        y_desc: &str,
        labels: bool,
        xr: (f64, f64),
        (y0, y1): (f64, f64),
    ) -> Result<(), DrawErr>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc(self.x_desc.as_str())
            .y_desc(y_desc)
            .axis_desc_style((FONT, LABEL_PX))
            .label_style((FONT, LABEL_PX - 2))
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        // The break-even lines under the curves, labelled in the top panel.
        for (k, (c, col)) in self.crossings.iter().enumerate() {
            chart.draw_series(DashedLineSeries::new(
                vec![(c.x, y0), (c.x, y1)],
                8,
                6,
                col.stroke_width(2),
            ))?;
            if labels {
                let (dx, h) = if self.x_fraction(c.x, xr) > 0.6 {
                    (-6, HPos::Right)
                } else {
                    (6, HPos::Left)
                };
                let style = (FONT, LABEL_PX)
                    .into_font()
                    .color(col)
                    .pos(Pos::new(h, VPos::Top));
                chart.draw_series(std::iter::once(
                    EmptyElement::at((c.x, y1))
                        + Text::new(
                            format!("break-even ≈ {}", fmt_num(c.x)),
                            (dx, 6 + 20 * k as i32),
                            style,
                        ),
                ))?;
            }
        }
        for l in &self.lines {
            let col = l.color;
            // Runs of drawable (positive) points: a log axis cannot show 0.
            let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
            let mut run: Vec<(f64, f64)> = Vec::new();
            for p in &l.points {
                let y = value(p);
                if y > 0.0 && y.is_finite() && p.0.is_finite() && (!self.log_x || p.0 > 0.0) {
                    run.push((p.0, y));
                } else if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
            runs.push(run);
            for run in runs.iter().filter(|r| !r.is_empty()) {
                let path = if self.log_x {
                    run.clone()
                } else {
                    power_law_path(run)
                };
                chart.draw_series(LineSeries::new(path, col.stroke_width(2)))?;
                chart.draw_series(run.iter().map(|&p| Circle::new(p, 4, col.filled())))?;
            }
        }
        Ok(())
    }
}

/// The points joined as straight lines in log-log space, i.e. a power law between each
/// two, sampled finely: on a linear x axis the curve then meets the other curves where the
/// break-even interpolation puts the crossing. Segments with an x <= 0 stay straight.
fn power_law_path(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    const STEPS: usize = 12;
    let mut out = Vec::with_capacity(points.len() * STEPS);
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        out.push((x0, y0));
        if x0 > 0.0 && x1 > 0.0 && y0 > 0.0 && y1 > 0.0 {
            let (lx, ly) = ((x1 / x0).ln(), (y1 / y0).ln());
            out.extend((1..STEPS).map(|k| {
                let t = k as f64 / STEPS as f64;
                (x0 * (t * lx).exp(), y0 * (t * ly).exp())
            }));
        }
    }
    out.extend(points.last().copied());
    out
}

fn x_extent(lines: &[ModeLine]) -> (f64, f64) {
    lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        })
}

/// A log axis range around the positive values, with a margin of a factor 1.5 each side.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.1, 10.0);
    }
    (lo / 1.5, hi * 1.5)
}

/// The labelled ticks of a log axis over `lo..hi`: the powers of ten over three decades
/// or more, 1, 2 and 5 times them over one to three decades, every multiple under one
/// decade. Plotters' own log axis labels only from the first power of ten up, which
/// leaves a narrow range with one label or none.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = (hi / lo).log10();
    let multiples: &[f64] = if decades >= 3.0 {
        &[1.0]
    } else if decades >= 1.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    };
    decade_multiples(lo, hi, multiples)
}

/// `m × 10^k` for every `m` of `multiples` and integer k, within `lo..=hi`, increasing.
fn decade_multiples(lo: f64, hi: f64, multiples: &[f64]) -> Vec<f64> {
    let mut out = Vec::new();
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return out;
    }
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    for k in k0..=k1 {
        let p = 10f64.powi(k);
        out.extend(
            multiples
                .iter()
                .map(|m| m * p)
                .filter(|v| *v >= lo && *v <= hi),
        );
    }
    out
}

/// A log axis over `lo..hi` with [`log_ticks`] labelled and light grid lines at every
/// multiple of a power of ten (under six decades).
pub(crate) fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    let light = if (hi / lo).log10() < 6.0 {
        decade_multiples(lo, hi, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    } else {
        Vec::new()
    };
    (lo..hi)
        .log_scale()
        .with_key_points(log_ticks(lo, hi))
        .with_light_points(light)
}

impl Figure for BreakEvenFigure {
    fn size(&self) -> (u32, u32) {
        FIGURE_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let (legend, area) = area.split_vertically(36);
        let mut entries: Vec<LegendEntry> = self
            .lines
            .iter()
            .map(|l| LegendEntry::new(&l.mode, l.color, Marker::Line))
            .collect();
        if !self.crossings.is_empty() {
            entries.push(LegendEntry::new(
                "break-even (serverless cost = VM cost)",
                GREY,
                Marker::Dashed,
            ));
        }
        legend_row(&legend, &entries, 24)?;

        let (lo, hi) = x_extent(&self.lines);
        let (lo, hi) = if lo.is_finite() {
            (lo, hi)
        } else {
            (1.0, 10.0)
        };
        let xr = if self.log_x {
            (lo / 1.25, hi * 1.25)
        } else {
            padded(lo, hi, 0.04)
        };
        type Panel = (&'static str, &'static str, fn(&(f64, f64, f64)) -> f64);
        let panels: [Panel; 2] = [
            ("user's bill", "cost (USD, log scale)", |p| p.1),
            ("p99 latency", "p99 latency (ms, log scale)", |p| p.2),
        ];
        let areas = area.split_evenly((2, 1));
        for (k, ((caption, y_desc, value), panel)) in panels.iter().zip(&areas).enumerate() {
            let yr = log_range(self.lines.iter().flat_map(|l| l.points.iter().map(value)));
            let mut builder = ChartBuilder::on(panel);
            builder
                .caption(*caption, (FONT, DESC_PX))
                .margin(10)
                .margin_right(30)
                .x_label_area_size(48)
                .y_label_area_size(90);
            let labels = k == 0;
            if self.log_x {
                let mut chart =
                    builder.build_cartesian_2d(log_axis(xr.0, xr.1), log_axis(yr.0, yr.1))?;
                self.panel(&mut chart, *value, y_desc, labels, xr, yr)?;
            } else {
                let mut chart = builder.build_cartesian_2d(xr.0..xr.1, log_axis(yr.0, yr.1))?;
                self.panel(&mut chart, *value, y_desc, labels, xr, yr)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn power_laws_cross_exactly() {
        let xs = [10.0, 100.0, 1000.0, 10000.0];
        let serverless: Vec<(f64, f64)> = xs.iter().map(|&x| (x, 0.001 * x)).collect();
        let flat: Vec<(f64, f64)> = xs.iter().map(|&x| (x, 0.5)).collect();
        let c = crossings_of(&serverless, &flat);
        assert_eq!(c.len(), 1);
        assert!(rel(c[0].0, 500.0) < 1e-12, "{c:?}");
        assert!(c[0].1, "serverless is cheaper below");
        // Square root: 0.001 x = 0.05 sqrt(x) at x = 2500.
        let sqrt: Vec<(f64, f64)> = xs.iter().map(|&x| (x, 0.05 * x.sqrt())).collect();
        let c = crossings_of(&serverless, &sqrt);
        assert_eq!(c.len(), 1);
        assert!(rel(c[0].0, 2500.0) < 1e-12, "{c:?}");
        // Reversed roles: the direction flips.
        let c = crossings_of(&flat, &serverless);
        assert!(rel(c[0].0, 500.0) < 1e-12 && !c[0].1);
    }

    #[test]
    fn equal_samples_touches_and_edges() {
        let pts = |v: &[(f64, f64)]| v.to_vec();
        let b = pts(&[(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)]);
        // Crossing exactly at a sample.
        let a = pts(&[(1.0, 0.5), (2.0, 1.0), (3.0, 2.0), (4.0, 3.0)]);
        assert_eq!(crossings_of(&a, &b), vec![(2.0, true)]);
        // A touch is not a crossing.
        let a = pts(&[(1.0, 0.5), (2.0, 1.0), (3.0, 0.5), (4.0, 0.5)]);
        assert!(crossings_of(&a, &b).is_empty());
        // Equal at the first sample, above after it: a crossing from below.
        let a = pts(&[(1.0, 1.0), (2.0, 2.0), (3.0, 2.0), (4.0, 2.0)]);
        assert_eq!(crossings_of(&a, &b), vec![(1.0, true)]);
        // Equal at the last sample, below before it.
        let a = pts(&[(1.0, 0.5), (2.0, 0.5), (3.0, 0.5), (4.0, 1.0)]);
        assert_eq!(crossings_of(&a, &b), vec![(4.0, true)]);
        // Equal everywhere: no crossing.
        assert!(crossings_of(&b, &b).is_empty());
        // Equal over a range: the first sample of it.
        let a = pts(&[(1.0, 0.5), (2.0, 1.0), (3.0, 1.0), (4.0, 2.0)]);
        assert_eq!(crossings_of(&a, &b), vec![(2.0, true)]);
        // Two crossings.
        let a = pts(&[(1.0, 0.5), (2.0, 2.0), (3.0, 0.5), (4.0, 0.5)]);
        let c = crossings_of(&a, &b);
        assert_eq!(c.len(), 2);
        assert!(c[0].0 > 1.0 && c[0].0 < 2.0 && c[0].1);
        assert!(c[1].0 > 2.0 && c[1].0 < 3.0 && !c[1].1);
    }

    #[test]
    fn zero_costs_fall_back_to_linear_values() {
        // A free tier: serverless costs nothing at x = 10.
        let a = vec![(10.0, 0.0), (100.0, 1.0)];
        let b = vec![(10.0, 0.5), (100.0, 0.5)];
        let c = crossings_of(&a, &b);
        assert_eq!(c.len(), 1);
        // Halfway in value, interpolated in ln x: sqrt(10 * 100).
        assert!(rel(c[0].0, 1000f64.sqrt()) < 1e-12, "{c:?}");
        // Only x values both curves have are compared; NaNs are ignored.
        let a = vec![(1.0, 0.1), (2.0, f64::NAN), (3.0, 10.0)];
        let b = vec![(1.0, 1.0), (3.0, 1.0), (5.0, 0.0)];
        let c = crossings_of(&a, &b);
        assert_eq!(c.len(), 1);
        assert!(rel(c[0].0, 3f64.sqrt()) < 1e-12, "{c:?}");
    }

    #[test]
    fn exact_formatting_and_log_ranges() {
        assert_eq!(fmt_exact(500.0), "500");
        assert_eq!(fmt_exact(500.0000000001), "500");
        assert_eq!(fmt_exact(316.227766), "316.228");
        assert_eq!(fmt_exact(0.00125), "0.00125");
        assert_eq!(fmt_exact(1234567.0), "1234567");
        assert_eq!(log_range([3.0, 4.0, 0.0].into_iter()), (2.0, 6.0));
        assert_eq!(log_range([0.0, -1.0].into_iter()), (0.1, 10.0));
        assert_eq!(log_ticks(2.0, 6.0), vec![2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            log_ticks(8.0, 600.0),
            vec![10.0, 20.0, 50.0, 100.0, 200.0, 500.0]
        );
        assert_eq!(
            log_ticks(0.5, 20000.0),
            vec![1.0, 10.0, 100.0, 1000.0, 10000.0]
        );
        assert!(log_ticks(0.0, 1.0).is_empty());
        // A power law through both ends: y = x^2 between (1, 1) and (10, 100).
        let p = power_law_path(&[(1.0, 1.0), (10.0, 100.0)]);
        assert_eq!((p[0], *p.last().unwrap()), ((1.0, 1.0), (10.0, 100.0)));
        assert!(p.iter().all(|(x, y)| ((x * x) / y - 1.0).abs() < 1e-12));
        assert_eq!(power_law_path(&[(0.0, 1.0), (1.0, 2.0)]).len(), 2);
        assert_eq!(power_law_path(&[(1.0, 2.0)]), vec![(1.0, 2.0)]);
    }
}
