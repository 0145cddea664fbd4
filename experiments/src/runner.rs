//! Runs one scenario and writes its result directory.

use crate::limits::{MAX_PROVISIONED_INSTANCES, MAX_TIMESERIES_ROWS};
use crate::output::{
    create_output_dir, function_rows, remove_owned, write_csv, write_json, FileRecorder,
    OutputDirError, SummaryRow,
};
use crate::scenario::{LoadedScenario, Scenario};
use crate::shared::SharedTrace;
use faasim_sim::{Arrival, ArrivalSource, FunctionTable, SimTime, SourceError};
use serde::Serialize;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What a run may write into its folder, `summary.csv` first: a run removes all of them
/// (and their temporary files) before it starts, so the folder only ever holds the files of
/// one run. `figures` is the folder `faasim plot` draws into.
pub const RUN_FILES: [&str; 11] = [
    "summary.csv",
    "functions.csv",
    "timeseries.csv",
    "invocations.csv",
    "invocations.parquet",
    "workflows.csv",
    "executions.csv",
    "manifest.json",
    "figures",
    "cold_starts.csv",
    "models.csv",
];

/// Why a run produced no results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder at fault.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] faasim_traces::TraceError),
    /// The scenario's policies could not be built.
    #[error("{scenario}: {source}")]
    Policy {
        /// The scenario file.
        scenario: PathBuf,
        /// What is wrong with the policy settings.
        source: faasim_policies::SpecError,
    },
    /// The engine stopped: an invalid configuration, a bad trace row, a function too large.
    #[error(transparent)]
    Sim(#[from] faasim_sim::SimError),
    /// The VM fleet could not be set up (unknown instance type, no price) or stopped early.
    #[error(transparent)]
    Vm(#[from] faasim_sim::vm::VmError),
    /// The VM instance table could not be read.
    #[error(transparent)]
    InstanceTable(#[from] crate::instance_table::TableError),
    /// Converting `invocations.csv` to `invocations.parquet` failed.
    #[error(transparent)]
    Parquet(#[from] faasim_plots::PlotError),
    /// The workload has no invocation and `[run] allow_empty` is false.
    #[error("{scenario}: the workload has no invocation (an empty trace, or a sample or window that keeps nothing); set [run] allow_empty = true if that is expected")]
    EmptyWorkload {
        /// The scenario file.
        scenario: PathBuf,
    },
    /// The output folder cannot be made.
    #[error(transparent)]
    OutputDir(#[from] OutputDirError),
    /// The VM instance type cannot serve the functions (memory, burstable, unknown).
    #[error("{}: {source}", .scenario.display())]
    VmFit {
        /// The scenario file.
        scenario: PathBuf,
        /// Why.
        source: crate::vm_fit::FitError,
    },
    /// A count past one of the limits of [`crate::limits`].
    #[error("{0}")]
    Limit(String),
    /// The scenario's workflows cannot be loaded.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// A table of recorded cold starts cannot be read.
    #[error("{}: {source}", .scenario.display())]
    ColdStarts {
        /// The scenario file.
        scenario: PathBuf,
        /// The key and the table's error.
        source: crate::cold_starts::ColdStartError,
    },
    /// A policy given in code ([`CodePolicies`]) failed, or cannot run with this scenario.
    #[error("{0}")]
    CodePolicy(String),
}

/// Where a policy given in code reports that it failed (an exception, an invalid decision):
/// the message of the first failure.
pub type PolicyFailure = Rc<RefCell<Option<String>>>;

/// Policies given in code in place of the scenario's `[placement]`, `[routing]` and
/// `[keep_alive]` tables (the Python package's policies), for [`run_scenario_code`]. The
/// policy traits return decisions, not errors: a policy that fails records why in
/// `failure` and returns a harmless decision; the run then stops at its next read of the
/// trace (and, at the latest, when the engine returns) with that message and no results.
#[derive(Default)]
pub struct CodePolicies {
    /// Replaces `[placement]`.
    pub placement: Option<Box<dyn faasim_sim::Placement>>,
    /// Replaces `[routing]`.
    pub routing: Option<Box<dyn faasim_sim::Routing>>,
    /// Replaces `[keep_alive]`.
    pub keep_alive: Option<Box<dyn faasim_sim::KeepAlive>>,
    /// What replaced what, for `manifest.json` (`("keep_alive", "python:module.Class")`).
    pub names: Vec<(&'static str, String)>,
    /// Set by a policy that failed.
    pub failure: PolicyFailure,
}

/// A limit of [`crate::limits`] met while the trace streams in.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct LimitError(String);

/// The limits that depend on the trace: provisioned instances (per function × the
/// functions registered so far) and time-series rows (the recorder raises `overflow`; the
/// run stops at the next pull).
struct Limits<'a> {
    scenario: &'a Path,
    provisioned: u64,
    overflow: &'a AtomicBool,
    overflow_message: &'a str,
    /// Set when an arrival carries the trace's own cold start (a `cold_start_ms` column).
    traced_cold_start: AtomicBool,
    /// Show a progress bar on a terminal (a single run).
    progress: bool,
    /// A policy given in code failed: the run stops at the next pull.
    failure: Option<PolicyFailure>,
}

impl<'a> Limits<'a> {
    fn guard<'s>(&'s self, inner: &'s mut dyn ArrivalSource) -> Guarded<'s> {
        let progress = self
            .progress
            .then(|| crate::progress::RunProgress::on_terminal(inner.horizon()))
            .flatten();
        Guarded {
            inner,
            limits: self,
            progress,
            checked_functions: 0,
        }
    }
}

/// The trace as the engine sees it, checked against [`Limits`].
struct Guarded<'a> {
    inner: &'a mut dyn ArrivalSource,
    limits: &'a Limits<'a>,
    progress: Option<crate::progress::RunProgress>,
    /// The function count the provisioned-instances limit was last checked at: it can
    /// only be passed when functions are added, so the check runs only then.
    checked_functions: usize,
}

impl Drop for Guarded<'_> {
    fn drop(&mut self) {
        if let Some(p) = &self.progress {
            p.finish();
        }
    }
}

impl Guarded<'_> {
    /// The limits' state before a call: a time-series overflow or a failed policy in code
    /// stops the run.
    fn check_before(&self) -> Result<(), SourceError> {
        let l = self.limits;
        if l.overflow.load(Ordering::Relaxed) {
            return Err(Box::new(LimitError(l.overflow_message.to_owned())));
        }
        if let Some(m) = l.failure.as_ref().and_then(|f| f.borrow().clone()) {
            return Err(Box::new(LimitError(m)));
        }
        Ok(())
    }

    /// The limits after a call that returned `arrivals`.
    fn check_after(
        &mut self,
        functions: &FunctionTable,
        arrivals: &[Arrival],
    ) -> Result<(), SourceError> {
        let l = self.limits;
        if arrivals.iter().any(|a| a.cold_start.is_some()) {
            l.traced_cold_start.store(true, Ordering::Relaxed);
        }
        if let Some(p) = &mut self.progress {
            for a in arrivals {
                p.arrival(a.time);
            }
        }
        if functions.len() == self.checked_functions {
            return Ok(());
        }
        self.checked_functions = functions.len();
        let total = functions.len() as u64 * l.provisioned;
        if total > MAX_PROVISIONED_INSTANCES {
            return Err(Box::new(LimitError(format!(
                "{}: platform.provisioned_instances: {} per function × {} functions = {total} instances, more than the limit of {MAX_PROVISIONED_INSTANCES}",
                l.scenario.display(),
                l.provisioned,
                functions.len()
            ))));
        }
        Ok(())
    }
}

impl ArrivalSource for Guarded<'_> {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        self.check_before()?;
        let a = self.inner.next_arrival(functions)?;
        self.check_after(functions, a.as_slice())?;
        Ok(a)
    }

    // The checks once per batch: what stops the run stops it at the next call.
    fn next_arrivals(
        &mut self,
        functions: &mut FunctionTable,
        out: &mut Vec<Arrival>,
        max: usize,
    ) -> Result<usize, SourceError> {
        self.check_before()?;
        let start = out.len();
        let n = self.inner.next_arrivals(functions, out, max)?;
        self.check_after(functions, &out[start..])?;
        Ok(n)
    }

    fn horizon(&self) -> Option<SimTime> {
        self.inner.horizon()
    }

    fn tokens(&self) -> Option<faasim_sim::Tokens> {
        self.inner.tokens()
    }
}

/// The scenario's `[run] end` rule for a VM fleet, which runs to its source's horizon when it
/// has one: draining, the fleet stops after the last completion (the horizon is hidden);
/// with `end = "horizon"` and `end_s`, `end_s` is the horizon. A fleet has no keep-alive, so
/// draining is its last completion, and a trace and its conversion agree.
struct VmEnd<'a> {
    inner: &'a mut dyn ArrivalSource,
    horizon: Option<Option<SimTime>>,
    /// First and last arrival seen, for the warnings.
    arrivals: Option<(SimTime, SimTime)>,
}

impl<'a> VmEnd<'a> {
    fn new(inner: &'a mut dyn ArrivalSource, sc: &crate::scenario::Scenario) -> Self {
        use crate::scenario::RunEndSpec;
        let horizon = match sc.run.end {
            RunEndSpec::Drain => Some(None),
            RunEndSpec::Horizon => sc.run.end_at().map(Some),
        };
        VmEnd {
            inner,
            horizon,
            arrivals: None,
        }
    }
}

impl ArrivalSource for VmEnd<'_> {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        let a = self.inner.next_arrival(functions)?;
        if let Some(a) = &a {
            let first = self.arrivals.map_or(a.time, |(f, _)| f);
            self.arrivals = Some((first, a.time));
        }
        Ok(a)
    }
    fn horizon(&self) -> Option<SimTime> {
        match self.horizon {
            Some(h) => h,
            None => self.inner.horizon(),
        }
    }
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The row written to `summary.csv`.
    pub summary: SummaryRow,
    /// Bad trace rows skipped (`--lenient`), and the first one's error.
    pub skipped_rows: u64,
    /// The error of the first bad row skipped, if any.
    pub first_skipped: Option<String>,
    /// Things the run noticed that are probably mistakes (also in `manifest.json`).
    pub warnings: Vec<String>,
    /// The folder the run wrote into.
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
    /// `[functions."NAME"]` entries whose function the trace never invokes.
    #[serde(skip_serializing_if = "is_zero")]
    unused_function_settings: usize,
    files: Vec<&'static str>,
    /// Policies given in code in place of the scenario's tables (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_policies: Vec<(&'static str, String)>,
    scenario: &'a Scenario,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    run_limited(loaded, seed, out_dir, None, MAX_TIMESERIES_ROWS, true, None)
}

/// Makes `out_dir` and removes every file of [`RUN_FILES`] from it, `summary.csv` first.
pub fn clear_run_dir(out_dir: &Path) -> Result<(), RunError> {
    create_output_dir(out_dir)?;
    for name in RUN_FILES {
        remove_owned(out_dir, name).map_err(io_err(&out_dir.join(name)))?;
    }
    Ok(())
}

/// [`run_scenario`], replaying `shared` (the scenario's trace, already in memory) if given.
pub fn run_scenario_with(
    loaded: &LoadedScenario,
    seed: u64,
    out_dir: &Path,
    shared: Option<&SharedTrace>,
) -> Result<RunOutcome, RunError> {
    run_limited(
        loaded,
        seed,
        out_dir,
        shared,
        MAX_TIMESERIES_ROWS,
        false,
        None,
    )
}

/// [`run_scenario`] with policies given in code in place of some of the scenario's: the
/// same run, files and checks. Only a serverless platform has these policies, and a
/// keep-alive policy cannot run beside an autoscaler (which decides how long instances
/// stay).
pub fn run_scenario_code(
    loaded: &LoadedScenario,
    seed: u64,
    out_dir: &Path,
    code: CodePolicies,
) -> Result<RunOutcome, RunError> {
    run_limited(
        loaded,
        seed,
        out_dir,
        None,
        MAX_TIMESERIES_ROWS,
        false,
        Some(code),
    )
}

/// `progress`: show a progress bar if stderr is a terminal (a single run, not a sweep's).
fn run_limited(
    loaded: &LoadedScenario,
    seed: u64,
    out_dir: &Path,
    shared: Option<&SharedTrace>,
    max_rows: u64,
    progress: bool,
    code: Option<CodePolicies>,
) -> Result<RunOutcome, RunError> {
    let sc = &loaded.scenario;
    let in_code = |c: &CodePolicies| {
        c.names
            .iter()
            .map(|(k, _)| *k)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(c) = code.as_ref().filter(|c| !c.names.is_empty()) {
        if sc.vm.spec(sc.platform.mode).is_some() {
            return Err(RunError::CodePolicy(format!(
                "{}: policies given in code ({}) need platform.mode = \"serverless\"; a VM fleet has no placement, routing or keep-alive",
                loaded.path.display(),
                in_code(c)
            )));
        }
        if c.keep_alive.is_some()
            && !matches!(
                sc.autoscaling,
                faasim_policies::AutoscalingSpec::PerRequest {}
            )
        {
            return Err(RunError::CodePolicy(format!(
                "{}: a keep-alive policy given in code cannot run beside an autoscaler ([autoscaling] policy decides how long instances stay)",
                loaded.path.display()
            )));
        }
    }
    clear_run_dir(out_dir)?;
    let summary_path = out_dir.join("summary.csv");
    if let Some(spec) = sc.vm.spec(sc.platform.mode) {
        return run_vm(loaded, seed, out_dir, &spec, shared);
    }
    let mut policies = faasim_policies::build(
        &sc.placement,
        &sc.routing,
        &sc.keep_alive,
        &sc.load_balancing,
    )
    .map_err(|source| RunError::Policy {
        scenario: loaded.path.clone(),
        source,
    })?;
    let (failure, code_names) = match code {
        Some(c) => {
            if let Some(p) = c.placement {
                policies.placement = p;
            }
            if let Some(r) = c.routing {
                policies.routing = r;
            }
            if let Some(k) = c.keep_alive {
                policies.keep_alive = k;
            }
            (Some(c.failure), c.names)
        }
        None => (None, vec![]),
    };
    let keep_alive_in_code = code_names.iter().any(|(k, _)| *k == "keep_alive");
    let autoscaler = sc.autoscaling.build().map_err(|source| RunError::Policy {
        scenario: loaded.path.clone(),
        source,
    })?;
    let config = loaded
        .engine_config(seed)
        .map_err(|source| RunError::ColdStarts {
            scenario: loaded.path.clone(),
            source,
        })?;
    let mut recorder = FileRecorder::with_max_rows(out_dir, sc.output.invocations, max_rows)
        .map_err(io_err(out_dir))?;
    let overflow: Arc<AtomicBool> = recorder.overflow_flag();
    let overflow_message = format!(
        "{}: output.timeseries_interval_s: {} s makes more than {max_rows} rows of timeseries.csv (the limit); use a longer interval",
        loaded.path.display(),
        sc.output.timeseries_interval_s
    );
    let limits = Limits {
        scenario: &loaded.path,
        provisioned: sc.platform.provisioned_instances as u64,
        overflow: &overflow,
        overflow_message: &overflow_message,
        traced_cold_start: AtomicBool::new(false),
        progress,
        failure: failure.clone(),
    };
    let workflows = loaded.workflows()?;
    let mut wf_run = None;
    let mut exec_writer = None;
    if let Some(w) = &workflows {
        let sink = if sc.output.executions {
            let writer =
                crate::workflows::ExecutionWriter::create(out_dir, w).map_err(io_err(out_dir))?;
            let (shared_writer, sink) = crate::workflows::execution_sink(writer);
            exec_writer = Some(shared_writer);
            Some(sink)
        } else {
            None
        };
        let cfg = crate::workflows::runtime_config(sc, w, seed, &config);
        let (ext, handle) = faasim_workflows::orchestration(w.clone(), cfg, sink);
        wf_run = Some((Box::new(ext) as Box<dyn faasim_sim::Extension>, handle));
    }
    let (extension, wf_handle) = match wf_run {
        Some((e, h)) => (Some(e), Some(h)),
        None => (None, None),
    };
    let wf_functions = workflows.as_ref().map(|w| w.functions.clone());
    let serving = crate::models::serving(sc);
    let started = Instant::now();
    let engine = |source: &mut dyn ArrivalSource,
                  recorder: &mut FileRecorder|
     -> Result<faasim_sim::RunReport, faasim_sim::SimError> {
        match &wf_functions {
            Some(f) => faasim_sim::engine::run_serving(
                &config,
                serving,
                policies,
                autoscaler,
                extension,
                &mut faasim_workflows::WorkflowSource::new(source, f.clone()),
                recorder,
            ),
            None if serving.is_some() => faasim_sim::engine::run_serving(
                &config, serving, policies, autoscaler, None, source, recorder,
            ),
            None => faasim_sim::engine::run_with(&config, policies, autoscaler, source, recorder),
        }
    };
    // Token counts travel beside each arrival, which the second-thread reader does not carry.
    let prefetch = !crate::models::uses_tokens(sc);
    let result = match shared {
        Some(t) => engine(&mut limits.guard(&mut t.source()), &mut recorder)
            .map(|r| (r, t.checksum.clone(), (0, None))),
        None if config.end == faasim_sim::RunEnd::Drain && prefetch => {
            // The run reads the whole trace: parse it on a second thread meanwhile.
            let mut trace = faasim_traces::Prefetch::start(loaded.open_trace(seed)?);
            let report = engine(&mut limits.guard(&mut trace), &mut recorder);
            let read_all = trace.reached_end();
            match (report, trace.finish()) {
                (Ok(report), Ok(trace)) => {
                    let skipped = (
                        trace.skipped_rows(),
                        trace.first_skipped().map(String::from),
                    );
                    let checksum = trace.checksum_hex().filter(|_| read_all);
                    Ok((report, checksum, skipped))
                }
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(faasim_sim::SimError::Source(e)),
            }
        }
        None => {
            let mut trace = loaded.open_trace(seed)?;
            let report = engine(&mut limits.guard(trace.source_mut()), &mut recorder);
            report.map(|report| {
                let skipped = (
                    trace.skipped_rows(),
                    trace.first_skipped().map(String::from),
                );
                (report, trace.checksum_hex(), skipped)
            })
        }
    };
    if overflow.load(Ordering::Relaxed) {
        return Err(RunError::Limit(overflow_message));
    }
    if let Some(m) = failure.as_ref().and_then(|f| f.borrow_mut().take()) {
        return Err(RunError::CodePolicy(m));
    }
    let (mut report, checksum, skipped) = result?;
    let wall_s = started.elapsed().as_secs_f64();
    if report.stats.invocations == 0 && !sc.run.allow_empty {
        return Err(RunError::EmptyWorkload {
            scenario: loaded.path.clone(),
        });
    }
    // Names a table of recorded cold starts adds are not the user's: no warning for them.
    let mut warnings: Vec<String> = report
        .unused_cold_start_names
        .iter()
        .filter(|n| sc.platform.function_cold_start_ms.contains_key(*n))
        .map(|n| {
            format!("platform.function_cold_start_ms names `{n}`, which the trace never invokes")
        })
        .collect();
    let unused_settings = report.unused_function_settings.len();
    warnings.extend(
        report
            .unused_function_settings
            .iter()
            .map(|n| format!("functions.\"{n}\" names a function the trace never invokes")),
    );
    let traced = limits.traced_cold_start.load(Ordering::Relaxed);
    if !keep_alive_in_code {
        warnings.extend(uniform_cost_warning(sc, &report.function_table, traced));
    }
    let span = crate::warnings::ArrivalSpan::of(&report.stats);
    let load_imbalance = report.stats.load_imbalance(sc.cluster.workers);

    recorder.finish().map_err(io_err(out_dir))?;
    let parquet = sc.output.invocations
        && sc.output.invocations_format == crate::scenario::InvocationsFormat::Parquet;
    if parquet {
        // Rows stream to CSV during the run; converted in bounded memory at the end.
        let csv_path = out_dir.join("invocations.csv");
        faasim_plots::csv_to_parquet(&csv_path, &out_dir.join("invocations.parquet"))?;
        std::fs::remove_file(&csv_path).map_err(io_err(&csv_path))?;
    }
    let mut functions = function_rows(&mut report);
    let mut summary = SummaryRow::new(
        &sc.name,
        seed,
        &mut report.stats,
        wall_s,
        sc.billing.worker_hour_usd,
        sc.cluster.workers,
    );
    let mut files = vec!["summary.csv", "functions.csv", "timeseries.csv"];
    if let (Some(h), Some(w)) = (wf_handle, &workflows) {
        // A workflow's own name is not a deployed function: no row.
        functions.retain(|f| w.by_name(&f.function).is_none());
        let mut wr = h.finish();
        let rows = crate::workflows::workflow_rows(&mut wr);
        let path = out_dir.join("workflows.csv");
        write_csv(&path, &rows).map_err(io_err(&path))?;
        files.push("workflows.csv");
        let ws = crate::workflows::summary(&mut wr, sc.billing.free_tier);
        summary.add_workflows(&ws, report.stats.bill.invoice().total);
        if let Some(wr) = exec_writer {
            let writer = Rc::try_unwrap(wr)
                .map_err(|_| RunError::Limit("executions.csv: writer still shared".into()))?
                .into_inner();
            writer.finish().map_err(io_err(out_dir))?;
            files.push("executions.csv");
        }
    }
    summary.load_imbalance = load_imbalance;
    if let Some(r) = report.serving.as_mut() {
        summary.add_serving(r, report.stats.end);
        let path = out_dir.join("models.csv");
        write_csv(&path, &crate::models::model_rows(r)).map_err(io_err(&path))?;
        files.push("models.csv");
    }
    warnings.extend(crate::warnings::run_warnings(&summary, &span));
    let path = out_dir.join("functions.csv");
    write_csv(&path, &functions).map_err(io_err(&path))?;
    if !report.cold_start_parts.names.is_empty() {
        let (header, rows) = crate::output::cold_start_rows(&report);
        let path = out_dir.join("cold_starts.csv");
        crate::output::write_csv_records(&path, &header, &rows).map_err(io_err(&path))?;
        files.push("cold_starts.csv");
    }

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
        unused_function_settings: unused_settings,
        files,
        code_policies: code_names,
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

/// Greedy-Dual's (and Landlord's) Cost is a function's cold-start cost (FaasCache,
/// ASPLOS'21 §4): when every function the run invoked (two or more) drew its cold starts from
/// one distribution and the trace gave none of its own, Cost is the same for all, and the
/// policy ranks by Clock + Frequency / Size alone (Landlord: by Size and recency). That is
/// worth a warning: it is rarely what a study of these policies means to measure.
fn uniform_cost_warning(
    sc: &Scenario,
    functions: &FunctionTable,
    traced_cold_start: bool,
) -> Option<String> {
    use faasim_policies::KeepAliveSpec;
    let policy = match sc.keep_alive {
        KeepAliveSpec::GreedyDual {} => "greedy-dual",
        KeepAliveSpec::Landlord {} => "landlord",
        _ => return None,
    };
    if traced_cold_start || functions.len() < 2 {
        return None;
    }
    let p = &sc.platform;
    // The most specific cold start of each function (as the engine resolves it).
    let entry = |name: &str| {
        sc.functions
            .get(name)
            .and_then(|e| e.cold_start_ms.as_ref())
    };
    let mut dists = functions.iter().map(|(_, f)| {
        entry(&f.name)
            .or(p.function_cold_start_ms.get(&f.name))
            .or(entry("*"))
            .unwrap_or(&p.cold_start_ms)
            .model()
            .map(|m| m.to_dist())
    });
    // A table of recorded cold starts gives each function its group's: not one for all.
    let first = dists.next()??;
    if dists.any(|d| d.as_ref() != Some(&first)) {
        return None;
    }
    Some(format!(
        "keep_alive.policy = \"{policy}\": all {} functions have the same cold-start distribution and the trace gives no cold starts of its own, so the policy's Cost (a function's cold-start cost) is the same for every function and it ranks by Frequency / Size alone; give per-function cold starts ([platform.function_cold_start_ms], or a cold_start_ms column in a CSV trace) to rank by cold-start cost",
        functions.len()
    ))
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
    // The functions' memory decides which types fit, and how many requests a VM runs at
    // once: a first pass over the trace.
    let largest_mb = match shared {
        Some(t) => largest_function_mb(&mut t.source())?,
        None => {
            let mut trace = loaded.open_trace(seed)?;
            largest_function_mb(trace.source_mut())?
        }
    };
    let fit = crate::vm_fit::fit(
        &table,
        &sc.vm.instance_type,
        sc.vm.price,
        largest_mb,
        sc.vm.allow_burstable,
    )
    .map_err(|source| RunError::VmFit {
        scenario: loaded.path.clone(),
        source,
    })?;
    let mut vm_table = sc.vm.clone();
    vm_table.instance_type = fit.api_name.clone();
    let spec = &vm_table
        .spec(sc.platform.mode)
        .unwrap_or_else(|| spec.clone());
    let table = fit.table;
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
    let (mut report, checksum, arrivals) = match shared {
        Some(t) => {
            let mut source = t.source();
            let mut end = VmEnd::new(&mut source, sc);
            let r = vm::run_fleet(&cfg, &mut end)?;
            (r, t.checksum.clone(), end.arrivals)
        }
        None => {
            let mut trace = loaded.open_trace(seed)?;
            let mut end = VmEnd::new(trace.source_mut(), sc);
            let r = vm::run_fleet(&cfg, &mut end)?;
            let arrivals = end.arrivals;
            (r, trace.checksum_hex(), arrivals)
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    if report.invocations == 0 && !sc.run.allow_empty {
        return Err(RunError::EmptyWorkload {
            scenario: loaded.path.clone(),
        });
    }
    let summary = SummaryRow::from_vm(&sc.name, seed, spec.kind(), &mut report, wall_s);
    // Every request completes on a fleet, by the report's end (or the horizon, if later)
    // and at most the longest latency after the last arrival.
    let last_arrival_s = arrivals.map_or(0.0, |(_, l)| l.as_secs_f64());
    let span = crate::warnings::ArrivalSpan {
        first_arrival_s: arrivals.map(|(f, _)| f.as_secs_f64()),
        last_arrival_s,
        last_completion_s: report
            .end
            .as_secs_f64()
            .min(last_arrival_s + summary.latency_max_ms / 1e3),
    };
    let mut warnings = fit.warnings;
    warnings.extend(crate::warnings::run_warnings(&summary, &span));
    let manifest = Manifest {
        faasim_version: env!("CARGO_PKG_VERSION"),
        scenario_file: loaded.path.display().to_string(),
        seed,
        trace_checksum_sha256: checksum,
        skipped_rows: 0,
        warnings: &warnings,
        unused_function_settings: 0,
        files: vec!["summary.csv"],
        code_policies: vec![],
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
        warnings,
        out_dir: out_dir.to_owned(),
    })
}

/// The largest memory of the functions the trace invokes, MB (0 with no arrival).
fn largest_function_mb(source: &mut dyn ArrivalSource) -> Result<u32, RunError> {
    let mut functions = FunctionTable::new();
    while source
        .next_arrival(&mut functions)
        .map_err(faasim_sim::vm::VmError::Source)?
        .is_some()
    {}
    Ok(functions
        .iter()
        .map(|(_, f)| f.memory_mb)
        .max()
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(text: &str, base: &Path) -> LoadedScenario {
        let path = base.join("s.toml");
        LoadedScenario {
            scenario: crate::scenario::parse(text, &path, &[]).unwrap(),
            lenient: false,
            path,
            base_dir: base.to_owned(),
        }
    }

    /// Greedy-Dual ranks by Clock + Frequency × Cost / Size with Cost the function's
    /// cold-start cost (FaasCache §4): one cold-start distribution for all functions makes
    /// Cost a constant. The run says so in its warnings and in `manifest.json`; per-function
    /// cold starts (for at least one invoked function) or a trace's own cold starts silence
    /// it, and so do the policies that do not use Cost.
    #[test]
    fn greedy_dual_with_one_cold_start_distribution_is_warned_about() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path();
        let synthetic = "name = \"gd\"\n[trace]\nformat = \"synthetic\"\nfunctions = 3\nduration_s = 60\nrate_per_s = 2\n";
        let run = |text: &str| {
            let out = base.join("out");
            let o = run_scenario(&loaded(text, base), 1, &out).unwrap();
            let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
            (o.warnings, manifest)
        };
        let (w, manifest) = run(&format!(
            "{synthetic}[keep_alive]\npolicy = \"greedy-dual\"\n"
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("keep_alive.policy = \"greedy-dual\": all 3 functions have the same cold-start distribution"),
            "{w:?}"
        );
        assert!(manifest.contains("Frequency / Size alone"), "{manifest}");
        let (w, _) = run(&format!("{synthetic}[keep_alive]\npolicy = \"landlord\"\n"));
        assert_eq!(w.len(), 1, "{w:?}");
        // The same distribution named per function is still one distribution ...
        let (w, _) = run(&format!(
            "{synthetic}[platform.function_cold_start_ms]\n\"f1\" = \"lambda\"\n[keep_alive]\npolicy = \"greedy-dual\"\n"
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        // ... another one for f1 is not.
        let (w, _) = run(&format!(
            "{synthetic}[platform.function_cold_start_ms]\n\"f1\" = 2000\n[keep_alive]\npolicy = \"greedy-dual\"\n"
        ));
        assert!(w.is_empty(), "{w:?}");
        let (w, _) = run(&format!("{synthetic}[keep_alive]\npolicy = \"lru\"\n"));
        assert!(w.is_empty(), "{w:?}");
        // A CSV trace with its own cold starts.
        std::fs::write(
            base.join("t.csv"),
            "timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n0,a,10,128,300\n5,b,10,128,900\n",
        )
        .unwrap();
        let (w, _) = run("name = \"gd\"\n[trace]\nformat = \"csv\"\npath = \"t.csv\"\n[keep_alive]\npolicy = \"greedy-dual\"\n");
        // (Two invocations: only the run's "few completed" warning.)
        assert!(w.iter().all(|x| !x.contains("greedy-dual")), "{w:?}");
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn a_run_stops_at_the_time_series_limit_and_leaves_no_results() {
        let text = "name = \"ts\"\n[trace]\nformat = \"synthetic\"\nfunctions = 3\nduration_s = 600\nrate_per_s = 5\n[keep_alive]\npolicy = \"fixed\"\nttl_s = 60\n[output]\ntimeseries_interval_s = 1\n";
        let path = Path::new("s.toml");
        let loaded = LoadedScenario {
            scenario: crate::scenario::parse(text, path, &[]).unwrap(),
            lenient: false,
            path: path.to_owned(),
            base_dir: PathBuf::from("."),
        };
        let t = tempfile::tempdir().unwrap();
        let e = run_limited(&loaded, 1, t.path(), None, 5, false, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s.toml: output.timeseries_interval_s: 1 s makes more than 5 rows of timeseries.csv (the limit); use a longer interval"
        );
        let left: Vec<_> = std::fs::read_dir(t.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        // Within the limit, the same run completes with every row.
        let out = run_limited(&loaded, 1, t.path(), None, 1000, false, None).unwrap();
        let rows = std::fs::read_to_string(t.path().join("timeseries.csv")).unwrap();
        // One row at the end of every whole second of the run, and one at its end (the
        // drained run ends when the last keep-alive runs out, 60 s after the last execution).
        let seconds = out.summary.sim_end_s.ceil() as usize;
        assert!((600..=700).contains(&seconds), "{seconds}");
        assert_eq!(rows.lines().count(), 1 + seconds);
    }
}
