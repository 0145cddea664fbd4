//! Figures from faasim's result files.
//!
//! [`plot_dir`] reads a **run directory** (`summary.csv`, `functions.csv`, `timeseries.csv`,
//! optionally `invocations.csv` and `workflows.csv`) or a **sweep directory** (`manifest.json` holding the plan,
//! `runs/<run-id>/` run directories, `aggregate.csv`) and writes every figure it can draw as
//! both `<name>.png` (a bitmap, for slides and quick looks) and `<name>.svg` (vector, for
//! papers). Nothing is drawn from memory of a run: the figures are a pure function of the
//! files, so they can be redrawn at any time, on any machine.
//!
//! # Configurations
//!
//! A *configuration* is what a figure compares. A run directory is one configuration,
//! named by its scenario. A sweep has one configuration per combination of varied values
//! (the plan's `varied` keys, and the scenario file when the plan names several), labelled
//! `ttl_s=60` (the last segment of each key path, or the whole path when two keys share a
//! last segment). Replications of a combination are pooled in `aggregate.csv` (mean and
//! 95% Student-t confidence interval); figures drawn from per-run files use the first
//! replication of each combination that has the file. A configuration keeps the same
//! colour in every figure.
//!
//! # Figures
//!
//! | file | shows | drawn from |
//! |---|---|---|
//! | `latency_cdf` | empirical CDF of the latency of completed invocations (ms, log x axis), one curve per configuration | `invocations.csv` (optional: the figure is skipped, with a note, when no run wrote it) |
//! | `cold_start_vs_idle_memory` | the keep-alive trade-off: mean cold-start ratio against mean idle memory (GB·s), one labelled point per configuration, 95% confidence bars on both axes; points joined in key order when a single numeric key is varied | `aggregate.csv` (sweeps only: one run is one point) |
//! | `cost_breakdown` | left panel: the user's bill (USD) as stacked bars, request cost under duration cost, with the 95% interval of the total; right panel: idle memory (GB·s), which the provider pays for and does not bill, with its 95% interval | `aggregate.csv`, or a run's `summary.csv` |
//! | `timeseries` | the cluster over time (s): a run shows live, busy, idle and starting instances, memory used and idle (MB) and the queue length in three panels; a sweep shows live, busy and idle instances, memory used (MB) and queue length in five panels, one curve per configuration | `timeseries.csv` |
//! | `function_cold_start_cdf` | empirical CDF over functions of each function's cold-start ratio, one curve per configuration; functions that completed nothing are left out | `functions.csv` |
//! | `cost_vs_p99_latency` | the user's bill (USD) against the p99 latency (ms), one labelled point per configuration with 95% confidence bars (e.g. the generations of virtualization serving one workload) | `aggregate.csv` (sweeps of two or more configurations) |
//! | `metrics_by_parameter` | the swept parameter on the x axis (the numeric varied key with the most values, else the first varied key as categories; log scale when it spans more than a factor 20), one panel per metric (the experiment's `plot_metrics`, one to six `summary.csv` columns two a row, else cold-start ratio, p99 latency, idle memory, user's bill) with 95% confidence bars, one line per value of the other varied keys | `aggregate.csv` (sweeps) |
//! | `break_even` | serverless against VMs: the user's bill (USD) and the p99 latency (ms), both on log axes, against the sweep's numeric key, one line per `platform.mode`; a dashed vertical line labelled `break-even ≈ <x>` where the serverless cost line crosses a VM line | `aggregate.csv` (`user_cost_usd_mean`, `latency_p99_ms_mean`; sweeps of `platform.mode` × one numeric key only) |
//! | `workflow_latency` | where each workflow's time goes: one horizontal stacked bar per workflow (a sweep: per configuration and workflow, labelled by the configuration alone when there is one workflow, a varied `workflows_file` by its file stem), the mean end-to-end latency of completed executions (ms) split along the critical path into execution, cold start, transitions (orchestration) and data transfer, plus what remains (queueing, wait states), the total written after the bar; workflows with no completed execution are named in the subtitle | `workflows.csv` (a sweep: the first replication of each configuration that has it); without any, the figure is left out with no note, as the run has no workflows |
//!
//! Every figure has a title naming the scenario (a run) or the experiment (a sweep), axes
//! with units, and a legend or point labels. A colour means a configuration in every
//! figure (the cost bars show the request and duration parts of a configuration's bill as a
//! lighter and a darker shade of its colour); only a single run's time series, which has
//! one configuration, colours its series. Curves are drawn from the widest (the first
//! configuration) to the thinnest, so curves that coincide show as a band with the later
//! ones inside it. Point labels go to the first of eight spots around their point that
//! overlaps no other point or label; a label with no free spot is left to the legend. The
//! per-function cold-start CDF spans 0 to just past the largest ratio, not always 0 to 1. Bitmaps are [`FIGURE_SIZE`] pixels
//! ([`TIMESERIES_SIZE`] for the time series); SVGs have the same size in user units.
//!
//! # Break-even
//!
//! `break_even` is drawn for a sweep on one scenario file whose plan varies `platform.mode`
//! and exactly one other key, with numeric values (`trace.rate_per_s`); a varied key given
//! a single value is a constant and does not count. Any other sweep, and a run, skips it
//! with a note. The x axis is that key, logarithmic when it spans more than a factor 20.
//! Lines join the points as power laws (straight on log-log axes, and sampled as curves on
//! a linear x axis); points with a value of 0 or less (a free tier's zero bill) are not
//! drawn. Serverless, vm-static and vm-autoscaled keep the colours 0, 1 and 2 of the
//! palette. A crossing is where the sign of serverless cost − VM cost changes between two
//! neighbouring values of the key; it is placed by linear interpolation of
//! ln(serverless cost) − ln(VM cost) against ln x (exact for power laws; linear in the cost
//! where a cost is 0). [`break_even_points`] returns the crossings, and
//! [`PlotReport::notes`] states them (or which platform is cheaper throughout) in words.
//!
//! Idle memory sits in its own panel rather than on a second axis of the cost chart: it is
//! in GB·s, not USD, and a second y axis over bars invites reading one bar against the
//! other's scale.
//!
//! # Text without system fonts
//!
//! Text is laid out and rasterised in pure Rust (`plotters`' `ab_glyph` feature) with
//! DejaVu Sans embedded in the binary (the `dejavu` crate), registered once as
//! `sans-serif`. No fontconfig, system font or font-kit is consulted, so the figures look
//! the same on every machine. SVG text is written as `<text font-family="sans-serif">`, so
//! a viewer renders it with its own sans-serif font; the layout was measured with DejaVu.
//!
//! # Large inputs
//!
//! `invocations.csv` is streamed: up to 2^20 completed latencies are kept exactly, beyond
//! that they are folded into a log-spaced histogram of 100 bins per decade (under 2.4%
//! relative error in x, invisible at plot resolution), so memory stays bounded. Curves are
//! thinned to at most a few thousand points so SVGs stay small. Latencies below 1 µs are
//! drawn at 1 µs (the log axis cannot show 0).
//!
//! # Parquet
//!
//! [`csv_to_parquet`] converts a run's `invocations.csv` into a typed Parquet file (one
//! row group per [`PARQUET_ROWS_PER_GROUP`] rows, zstd), streaming, in bounded memory.
//! This is the only crate of the workspace that depends on polars (with its default
//! features off and only `parquet` on), so only it pays polars' build time.
//!
//! # Errors
//!
//! Bad input never panics: a directory of neither layout, a missing file, a missing column
//! or a value that does not parse is a [`PlotError`] naming the file (and the column and
//! line). Figures are written under a temporary name and renamed when complete.

#![warn(missing_docs)]

mod data;
mod figures;
mod parquet;
mod render;

pub use parquet::{csv_to_parquet, csv_to_parquet_with, PARQUET_ROWS_PER_GROUP};

use std::path::{Path, PathBuf};

/// Width × height in pixels of every figure but the time series.
pub const FIGURE_SIZE: (u32, u32) = (1200, 800);
/// Width × height in pixels of the time-series figure (it stacks several panels).
pub const TIMESERIES_SIZE: (u32, u32) = (1200, 1000);

/// The names of the figures, without extension, in the order they are drawn.
pub const FIGURES: [&str; 9] = [
    figures::LATENCY_CDF,
    figures::TRADE_OFF,
    figures::COST,
    figures::TIMESERIES,
    figures::FUNCTION_CDF,
    figures::COST_LATENCY,
    figures::BREAK_EVEN,
    figures::BY_PARAM,
    figures::WORKFLOW_LATENCY,
];

/// Why figures could not be drawn (or a Parquet file written). Every variant names the
/// file at fault, so a message alone says where to look.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The directory is neither a run directory (`summary.csv` and `timeseries.csv`) nor a
    /// sweep directory (`manifest.json` with a plan, and `runs/`).
    #[error(
        "{}: neither a run directory (summary.csv and timeseries.csv) nor a sweep directory \
         (manifest.json with a plan, and runs/)",
        .0.display()
    )]
    UnknownLayout(PathBuf),
    /// A file could not be read, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file (or directory) at fault.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A CSV file lacks a column a figure needs.
    #[error("{}: missing column `{column}`", path.display())]
    MissingColumn {
        /// The CSV file.
        path: PathBuf,
        /// The name of the missing column, as in the header row.
        column: String,
    },
    /// A CSV value does not parse as its column's type.
    #[error("{}: line {line}, column `{column}`: {message}", path.display())]
    BadValue {
        /// The CSV file.
        path: PathBuf,
        /// The line of the file, counting the header as line 1.
        line: u64,
        /// The column's name, from the header row.
        column: String,
        /// What is wrong with the value.
        message: String,
    },
    /// The input is well-formed but unusable: an empty file, a row with the wrong number of
    /// fields, a run id not in the plan, a sweep of the wrong shape for a break-even.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file (or directory) at fault.
        path: PathBuf,
        /// Why it cannot be used.
        message: String,
    },
    /// The plotting backend failed while drawing a figure.
    #[error("{}: cannot draw: {message}", path.display())]
    Draw {
        /// The figure file (PNG or SVG) being drawn.
        path: PathBuf,
        /// The backend's error.
        message: String,
    },
    /// Polars could not encode or write the Parquet file `path`.
    #[error("{}: cannot write Parquet: {message}", path.display())]
    Parquet {
        /// The Parquet file being written.
        path: PathBuf,
        /// Polars' error.
        message: String,
    },
    /// The DejaVu Sans font embedded in the binary could not be registered with the
    /// plotting backend (no file is at fault: the build is).
    #[error("the embedded DejaVu Sans font could not be loaded")]
    Font,
}

/// Choices for [`plot_dir_with`].
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Sweep only: draw the time series of this run (a run id such as `run-0003`) alone,
    /// in the three-panel layout of a run directory, instead of one curve per
    /// configuration.
    pub run: Option<String>,
}

/// What [`plot_dir_with`] did.
#[derive(Debug, Clone, Default)]
pub struct PlotReport {
    /// The files written, PNG then SVG of each figure, in [`FIGURES`] order.
    pub written: Vec<PathBuf>,
    /// Figures not drawn and why, e.g. `latency_cdf: no invocations.csv ...`.
    pub skipped: Vec<String>,
    /// What the figures found, one sentence each, prefixed by the figure, e.g.
    /// `break_even: serverless and vm-static cost the same at trace.rate_per_s ≈ 500
    /// (serverless cheaper below, vm-static above)`.
    pub notes: Vec<String>,
}

/// Draws every figure the directory `dir` allows into `out` (created if needed) and returns
/// the files written. `dir` is a run directory (it has `summary.csv` and `timeseries.csv`)
/// or a sweep directory (its `manifest.json` holds a plan and it has `runs/`). Figures that
/// the data does not allow (a latency CDF without `invocations.csv`, the trade-off plot of
/// a single run) are skipped; [`plot_dir_with`] says which and why.
pub fn plot_dir(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    plot_dir_with(dir, out, &PlotOptions::default()).map(|r| r.written)
}

/// [`plot_dir`] with options, reporting the figures it skipped.
pub fn plot_dir_with(
    dir: &Path,
    out: &Path,
    options: &PlotOptions,
) -> Result<PlotReport, PlotError> {
    let data = data::Dataset::load(dir)?;
    render::register_font()?;
    figures::draw_all(&data, out, options)
}

/// Where the serverless cost line of a sweep crosses each VM mode's: `(VM mode, x)` with x
/// the value of the sweep's numeric key, by VM mode in plan order, then in increasing x —
/// the crossings the `break_even` figure marks.
///
/// `sweep_dir` is a sweep directory whose plan varies `platform.mode` and exactly one other
/// key, with numeric values (keys given a single value do not count), on one scenario file;
/// the costs are `user_cost_usd_mean` of its `aggregate.csv`. A crossing is a change of
/// sign of the cost difference between two neighbouring values of the key, placed by
/// linear interpolation in log-log space (exact for power laws). An empty vector means the
/// lines do not cross over the values swept (or there is no serverless line);
/// [`PlotReport::notes`] says which platform is cheaper then.
///
/// A run directory, or a sweep of another shape or without `aggregate.csv`, is a
/// [`PlotError::Invalid`] saying why; a missing column or combination in `aggregate.csv`,
/// or a value there that is not a number, is an error naming the file and the column.
pub fn break_even_points(sweep_dir: &Path) -> Result<Vec<(String, f64)>, PlotError> {
    let data = data::Dataset::load(sweep_dir)?;
    match figures::break_even::load(&data)? {
        Ok(be) => Ok(be.crossings.into_iter().map(|c| (c.vm, c.x)).collect()),
        Err(why) => Err(PlotError::Invalid {
            path: match data.layout {
                data::Layout::Sweep => sweep_dir.join("manifest.json"),
                data::Layout::Run => sweep_dir.to_owned(),
            },
            message: format!("no break-even points: {why}"),
        }),
    }
}
