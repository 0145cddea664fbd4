//! 7: where a workflow's end-to-end latency goes: one horizontal stacked bar per workflow
//! (per configuration and workflow in a sweep), split along the critical path into
//! execution, cold start, transitions and data transfer, and the rest of the mean
//! end-to-end latency (queueing, wait states).

use super::{
    bar_y, label_width, legend_row, titled, Categories, LegendEntry, Marker, DESC_PX, LABEL_PX,
};
use crate::data::{CsvFile, Dataset, Layout, Row};
use crate::render::{fmt_num, DrawErr, Figure, FONT};
use crate::{PlotError, FIGURE_SIZE};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;
use std::path::Path;

/// `workflows.csv`: the columns this figure reads.
#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowRow {
    pub workflow: String,
    pub completed: u64,
    pub latency_mean_ms: f64,
    pub critical_exec_mean_ms: f64,
    pub critical_cold_start_mean_ms: f64,
    pub critical_transition_mean_ms: f64,
    pub critical_data_mean_ms: f64,
}
impl Row for WorkflowRow {
    const COLUMNS: &'static [&'static str] = &[
        "workflow",
        "completed",
        "latency_mean_ms",
        "critical_exec_mean_ms",
        "critical_cold_start_mean_ms",
        "critical_transition_mean_ms",
        "critical_data_mean_ms",
    ];
}

/// The parts of a bar, in drawing order (left to right), with their legend text and colour.
const PARTS: [(&str, RGBColor); 5] = [
    ("execution", RGBColor(66, 146, 198)),
    ("cold start", RGBColor(253, 141, 60)),
    ("transitions (orchestration)", RGBColor(148, 103, 189)),
    ("data transfer", RGBColor(44, 160, 44)),
    ("other (queueing, waits)", RGBColor(189, 189, 189)),
];

/// One bar: a workflow (of a configuration), its parts in [`PARTS`] order, ms.
pub(crate) struct Bar {
    pub label: String,
    pub parts: [f64; 5],
}

impl Bar {
    fn of(label: String, r: &WorkflowRow) -> Bar {
        let path = [
            r.critical_exec_mean_ms,
            r.critical_cold_start_mean_ms,
            r.critical_transition_mean_ms,
            r.critical_data_mean_ms,
        ]
        .map(|v| v.max(0.0));
        // The critical path's parts sum to at most the end-to-end latency; what is left is
        // time the path spent neither running, starting, orchestrated nor moving data.
        let sum: f64 = path.iter().sum();
        let rest = r.latency_mean_ms - sum;
        let rest = if rest > 1e-6 * r.latency_mean_ms.abs().max(1.0) {
            rest
        } else {
            0.0
        };
        Bar {
            label,
            parts: [path[0], path[1], path[2], path[3], rest],
        }
    }

    fn total(&self) -> f64 {
        self.parts.iter().sum()
    }
}

pub(crate) struct WorkflowLatencyFigure {
    title: String,
    subtitle: String,
    bars: Vec<Bar>,
}

/// A configuration's label for this figure: a varied `workflows_file` shows as the file's
/// stem (`payload-1mb`), so labels stay short.
fn config_label(c: &crate::data::Config, fallback: &str) -> String {
    if c.params.is_empty() {
        return fallback.to_owned();
    }
    let short =
        crate::data::short_keys(&c.params.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>());
    c.params
        .iter()
        .zip(short)
        .map(|((k, v), s)| {
            if k == "workflows_file" {
                let v = v.trim().trim_matches('"');
                Path::new(v)
                    .file_stem()
                    .map_or_else(|| v.to_owned(), |s| s.to_string_lossy().into_owned())
            } else {
                crate::data::label_part(&s, v)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The figure; `Ok(None)` when no run has a `workflows.csv` (a run without workflows: the
/// figure does not apply, and saying so for every plain run would be noise); `Err` with why
/// when workflows ran but none completed an execution.
pub(crate) fn load(
    data: &Dataset,
) -> Result<Result<Option<WorkflowLatencyFigure>, String>, PlotError> {
    let mut per_config: Vec<(String, Vec<WorkflowRow>)> = Vec::new();
    for c in &data.configs {
        if let Some((_, dir)) = c.first_with("workflows.csv") {
            let rows: Vec<WorkflowRow> = CsvFile::open(&dir.join("workflows.csv"))?.rows()?;
            let label = if data.several_scenarios {
                c.label.clone()
            } else {
                config_label(c, &c.label)
            };
            per_config.push((label, rows));
        }
    }
    let names: std::collections::BTreeSet<&str> = per_config
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.workflow.as_str()))
        .collect();
    let one_name = names.len() == 1;
    let mut bars = Vec::new();
    let mut none_completed = Vec::new();
    for (label, rows) in &per_config {
        for r in rows {
            let l = match (data.layout, one_name) {
                (Layout::Run, _) => r.workflow.clone(),
                (Layout::Sweep, true) => label.clone(),
                (Layout::Sweep, false) => format!("{label}: {}", r.workflow),
            };
            if r.completed == 0 {
                none_completed.push(l);
            } else {
                bars.push(Bar::of(l, r));
            }
        }
    }
    if per_config.is_empty() {
        return Ok(Ok(None));
    }
    if bars.is_empty() {
        return Ok(Err("no workflow completed an execution".to_owned()));
    }
    let mut subtitle = "mean end-to-end latency of completed executions, split along the \
                        critical path"
        .to_owned();
    if data.layout == Layout::Sweep {
        subtitle.push_str("; first replication of each configuration");
    }
    if !none_completed.is_empty() {
        subtitle.push_str(&format!(
            "; no completed execution: {}",
            none_completed.join(", ")
        ));
    }
    Ok(Ok(Some(WorkflowLatencyFigure {
        title: format!("{}: workflow latency breakdown", data.name),
        subtitle,
        bars,
    })))
}

impl Figure for WorkflowLatencyFigure {
    fn size(&self) -> (u32, u32) {
        FIGURE_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let n = self.bars.len().max(1);
        let (w, _) = area.dim_in_pixel();
        let label_px = label_width(self.bars.iter().map(|b| b.label.as_str()), w * 4 / 10);
        let (legend, area) = area.split_vertically(36);
        let used: Vec<LegendEntry> = PARTS
            .iter()
            .enumerate()
            .filter(|(k, _)| self.bars.iter().any(|b| b.parts[*k] > 0.0))
            .map(|(_, (name, col))| LegendEntry::new(name, *col, Marker::Box))
            .collect();
        legend_row(&legend, &used, 24)?;
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
        let hi = self.bars.iter().map(Bar::total).fold(0.0, f64::max);
        // Room on the right for the total written after the longest bar.
        let hi = if hi > 0.0 { hi * 1.18 } else { 1.0 };
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(label_px)
            .build_cartesian_2d(0.0..hi, Categories(n))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("end-to-end latency (ms)")
            .axis_desc_style((FONT, DESC_PX))
            .label_style((FONT, LABEL_PX))
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&label_of)
            .x_labels(8)
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.15))
            .draw()?;
        // Bars a third of a slot thick at most for one or two workflows, so a lone bar does
        // not fill the chart; thicker when many share it.
        let half = match n {
            1 => 0.12,
            2 => 0.22,
            3..=12 => 0.32,
            _ => 0.38,
        };
        for (k, (_, col)) in PARTS.iter().enumerate() {
            chart.draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
                let a: f64 = b.parts[..k].iter().sum();
                let z = a + b.parts[k];
                (b.parts[k] > 0.0).then(|| {
                    let y = bar_y(n, i);
                    Rectangle::new([(a, y - half), (z, y + half)], col.filled())
                })
            }))?;
        }
        let style = (FONT, LABEL_PX)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            Text::new(
                format!(" {} ms", fmt_num(b.total())),
                (b.total(), bar_y(n, i)),
                style.clone(),
            )
        }))?;
        Ok(())
    }
}
