//! Runs one scenario and writes its result directory.

use crate::output::{function_rows, write_csv, write_json, FileRecorder, SummaryRow};
use crate::scenario::{LoadedScenario, Scenario};
use crate::shared::SharedTrace;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why a run produced no results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Trace(#[from] faasim_traces::TraceError),
    #[error("{scenario}: {source}")]
    Policy {
        scenario: PathBuf,
        source: faasim_policies::SpecError,
    },
    #[error(transparent)]
    Sim(#[from] faasim_sim::SimError),
    #[error(transparent)]
    Vm(#[from] faasim_sim::vm::VmError),
    #[error(transparent)]
    InstanceTable(#[from] crate::instance_table::TableError),
    #[error(transparent)]
    Parquet(#[from] faasim_plots::PlotError),
    #[error("{scenario}: the workload has no invocation (an empty trace, or a sample or window that keeps nothing); set [run] allow_empty = true if that is expected")]
    EmptyWorkload { scenario: PathBuf },
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub summary: SummaryRow,
    /// Bad trace rows skipped (`--lenient`), and the first one's error.
    pub skipped_rows: u64,
    pub first_skipped: Option<String>,
    /// Things the run noticed that are probably mistakes (also in `manifest.json`).
    pub warnings: Vec<String>,
    pub out_dir: PathBuf,
}

/// `manifest.json`: what produced the results, enough to reproduce them.
#[derive(Debug, Serialize)]
struct Manifest<'a> {
    faasim_version: &'static str,
    scenario_file: String,
    seed: u64,
    trace_checksum_sha256: Option<String>,
    /// Bad trace rows skipped with `--lenient`.
    skipped_rows: u64,
    /// Things the run noticed that are probably mistakes.
    warnings: &'a [String],
    files: Vec<&'static str>,
    scenario: &'a Scenario,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Runs `loaded` with `seed` and writes `summary.csv`, `functions.csv`, `timeseries.csv`,
/// `manifest.json` (and `invocations.csv` if asked) into `out_dir`. On any error no
/// `summary.csv` is left in `out_dir` (a stale one from an earlier run is removed first).
pub fn run_scenario(
    loaded: &LoadedScenario,
    seed: u64,
    out_dir: &Path,
) -> Result<RunOutcome, RunError> {
    run_scenario_with(loaded, seed, out_dir, None)
}

/// [`run_scenario`], replaying `shared` (the scenario's trace, already in memory) if given.
pub fn run_scenario_with(
    loaded: &LoadedScenario,
    seed: u64,
    out_dir: &Path,
    shared: Option<&SharedTrace>,
) -> Result<RunOutcome, RunError> {
    let sc = &loaded.scenario;
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let summary_path = out_dir.join("summary.csv");
    match std::fs::remove_file(&summary_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err(&summary_path)(e)),
        _ => {}
    }
    if let Some(spec) = sc.vm.spec(sc.platform.mode) {
        return run_vm(loaded, seed, out_dir, &spec, shared);
    }
    let policies =
        faasim_policies::build(&sc.placement, &sc.routing, &sc.keep_alive).map_err(|source| {
            RunError::Policy {
                scenario: loaded.path.clone(),
                source,
            }
        })?;
    let autoscaler = sc.autoscaling.build().map_err(|source| RunError::Policy {
        scenario: loaded.path.clone(),
        source,
    })?;
    let config = sc.engine_config(seed);
    let mut recorder =
        FileRecorder::create(out_dir, sc.output.invocations).map_err(io_err(out_dir))?;
    let started = Instant::now();
    let (mut report, checksum, skipped) = match shared {
        Some(t) => (
            faasim_sim::engine::run_with(
                &config,
                policies,
                autoscaler,
                &mut t.source(),
                &mut recorder,
            )?,
            t.checksum.clone(),
            (0, None),
        ),
        None => {
            let mut trace = loaded.open_trace(seed)?;
            let report = faasim_sim::engine::run_with(
                &config,
                policies,
                autoscaler,
                trace.source_mut(),
                &mut recorder,
            )?;
            let skipped = (
                trace.skipped_rows(),
                trace.first_skipped().map(String::from),
            );
            (report, trace.checksum_hex(), skipped)
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    if report.stats.invocations == 0 && !sc.run.allow_empty {
        return Err(RunError::EmptyWorkload {
            scenario: loaded.path.clone(),
        });
    }
    let warnings: Vec<String> = report
        .unused_cold_start_names
        .iter()
        .map(|n| {
            format!("platform.function_cold_start_ms names `{n}`, which the trace never invokes")
        })
        .collect();

    recorder.finish().map_err(io_err(out_dir))?;
    let parquet = sc.output.invocations
        && sc.output.invocations_format == crate::scenario::InvocationsFormat::Parquet;
    if parquet {
        // Rows stream to CSV during the run; converted in bounded memory at the end.
        let csv_path = out_dir.join("invocations.csv");
        faasim_plots::csv_to_parquet(&csv_path, &out_dir.join("invocations.parquet"))?;
        std::fs::remove_file(&csv_path).map_err(io_err(&csv_path))?;
    }
    let functions = function_rows(&mut report);
    let summary = SummaryRow::new(
        &sc.name,
        seed,
        &mut report.stats,
        wall_s,
        sc.billing.worker_hour_usd,
        sc.cluster.workers,
    );
    let path = out_dir.join("functions.csv");
    write_csv(&path, &functions).map_err(io_err(&path))?;

    let mut files = vec!["summary.csv", "functions.csv", "timeseries.csv"];
    if sc.output.invocations {
        files.push(if parquet {
            "invocations.parquet"
        } else {
            "invocations.csv"
        });
    }
    let manifest = Manifest {
        faasim_version: env!("CARGO_PKG_VERSION"),
        scenario_file: loaded.path.display().to_string(),
        seed,
        trace_checksum_sha256: checksum,
        skipped_rows: skipped.0,
        warnings: &warnings,
        files,
        scenario: sc,
    };
    let path = out_dir.join("manifest.json");
    write_json(&path, &manifest).map_err(io_err(&path))?;
    // summary.csv last: its presence means the run completed.
    write_csv(&summary_path, std::slice::from_ref(&summary)).map_err(io_err(&summary_path))?;
    Ok(RunOutcome {
        summary,
        skipped_rows: skipped.0,
        first_skipped: skipped.1,
        warnings,
        out_dir: out_dir.to_owned(),
    })
}

/// The serverful baseline: the same trace on a VM fleet. Writes `summary.csv` (the same
/// columns as a serverless run) and `manifest.json`.
fn run_vm(
    loaded: &LoadedScenario,
    seed: u64,
    out_dir: &Path,
    spec: &faasim_sim::vm::VmSpec,
    shared: Option<&SharedTrace>,
) -> Result<RunOutcome, RunError> {
    use faasim_sim::vm;
    let sc = &loaded.scenario;
    let table = match spec.instance_table() {
        Some(p) => {
            let path = loaded.base_dir.join(p);
            let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
            crate::instance_table::parse_instance_table(&text, &path.display().to_string())?
        }
        None => crate::instance_table::default_instance_table(),
    };
    let started = Instant::now();
    // Sizing a static fleet for the trace's demand takes a first pass over the trace.
    let demand = if spec.needs_demand() {
        Some(match shared {
            Some(t) => vm::measure_demand(&mut t.source())?,
            None => {
                let mut trace = loaded.open_trace(seed)?;
                vm::measure_demand(trace.source_mut())?
            }
        })
    } else {
        None
    };
    let cfg = spec.build(&table, demand.as_ref())?;
    let (mut report, checksum) = match shared {
        Some(t) => (vm::run_fleet(&cfg, &mut t.source())?, t.checksum.clone()),
        None => {
            let mut trace = loaded.open_trace(seed)?;
            let r = vm::run_fleet(&cfg, trace.source_mut())?;
            (r, trace.checksum_hex())
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    if report.invocations == 0 && !sc.run.allow_empty {
        return Err(RunError::EmptyWorkload {
            scenario: loaded.path.clone(),
        });
    }
    let summary = SummaryRow::from_vm(&sc.name, seed, spec.kind(), &mut report, wall_s);
    let manifest = Manifest {
        faasim_version: env!("CARGO_PKG_VERSION"),
        scenario_file: loaded.path.display().to_string(),
        seed,
        trace_checksum_sha256: checksum,
        skipped_rows: 0,
        warnings: &[],
        files: vec!["summary.csv"],
        scenario: sc,
    };
    let path = out_dir.join("manifest.json");
    write_json(&path, &manifest).map_err(io_err(&path))?;
    let summary_path = out_dir.join("summary.csv");
    write_csv(&summary_path, std::slice::from_ref(&summary)).map_err(io_err(&summary_path))?;
    Ok(RunOutcome {
        summary,
        skipped_rows: 0,
        first_skipped: None,
        warnings: Vec::new(),
        out_dir: out_dir.to_owned(),
    })
}
