//! Workflows in a run: loading the definitions (the scenario's `[workflows.NAME]` tables and
//! `workflows_file`), building the orchestrator, and writing `workflows.csv` and
//! `executions.csv`.

use crate::output::AtomicFile;
use crate::scenario::{LoadedScenario, Scenario, ScenarioError};
use faasim_sim::{Money, SimDuration};
use faasim_workflows::pricing::OrchestrationInvoice;
use faasim_workflows::{ExecutionRecord, RuntimeConfig, WorkflowReport, WorkflowSpec, Workflows};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::rc::Rc;

/// A TOML `workflows_file`: `[workflows.NAME]` tables and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowsFile {
    workflows: BTreeMap<String, WorkflowSpec>,
}

fn invalid(path: &Path, key: &'static str, message: String) -> ScenarioError {
    ScenarioError::Invalid {
        path: path.to_owned(),
        key,
        message,
    }
}

/// Every definition of a scenario: its own tables and its `workflows_file` (resolved
/// against `base`), `path` naming the scenario in errors. A name defined twice is an error.
pub fn definitions(
    sc: &Scenario,
    path: &Path,
    base: &Path,
) -> Result<BTreeMap<String, WorkflowSpec>, ScenarioError> {
    let mut all = sc.workflows.clone();
    let Some(file) = &sc.workflows_file else {
        if sc.sebs.is_some() {
            return Err(invalid(
                path,
                "sebs",
                "[sebs] options apply to a SeBS-Flow `workflows_file` (.json); there is none"
                    .into(),
            ));
        }
        return Ok(all);
    };
    let fpath = base.join(file);
    let text = std::fs::read_to_string(&fpath).map_err(|e| {
        invalid(
            path,
            "workflows_file",
            format!("{}: cannot read: {e}", fpath.display()),
        )
    })?;
    let more: BTreeMap<String, WorkflowSpec> = if fpath.extension().is_some_and(|e| e == "json") {
        let stem = fpath
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "workflow".into());
        let o = sc.sebs.clone().unwrap_or_default();
        let (name, spec) = faasim_workflows::sebs::import(&text, &stem, &o)
            .map_err(|e| invalid(path, "workflows_file", format!("{}: {e}", fpath.display())))?;
        BTreeMap::from([(name, spec)])
    } else {
        if sc.sebs.is_some() {
            return Err(invalid(
                    path,
                    "sebs",
                    "[sebs] options apply to a SeBS-Flow definition (.json), not to a TOML workflows_file".into(),
                ));
        }
        let f: WorkflowsFile = toml::from_str(&text).map_err(|e| {
            invalid(
                path,
                "workflows_file",
                format!("{}: {}", fpath.display(), e.message().trim()),
            )
        })?;
        f.workflows
    };
    for (name, spec) in more {
        if all.contains_key(&name) {
            return Err(invalid(
                path,
                "workflows_file",
                format!(
                    "workflow `{name}` is defined both in the scenario and in {}",
                    fpath.display()
                ),
            ));
        }
        all.insert(name, spec);
    }
    Ok(all)
}

/// Compiles the definitions (`None` when the scenario has none).
pub fn compile(
    sc: &Scenario,
    path: &Path,
    base: &Path,
) -> Result<Option<Workflows>, ScenarioError> {
    let defs = definitions(sc, path, base)?;
    if defs.is_empty() {
        return Ok(None);
    }
    Workflows::compile(&defs)
        .map(Some)
        .map_err(|e| invalid(path, "workflows", e.to_string()))
}

impl LoadedScenario {
    /// The scenario's workflows, compiled (`None` without any).
    pub fn workflows(&self) -> Result<Option<Workflows>, ScenarioError> {
        compile(&self.scenario, &self.path, &self.base_dir)
    }
}

/// The orchestrator's settings for a run: data passing, the seed, and each workflow
/// function's expected cold start (the mean of its cold-start distribution in `engine`,
/// the run's engine configuration, tables of recorded cold starts read).
pub fn runtime_config(
    sc: &Scenario,
    wfs: &Workflows,
    seed: u64,
    engine: &faasim_sim::EngineConfig,
) -> RuntimeConfig {
    let default = engine.cold_start.mean_ms();
    let mut per: BTreeMap<&str, &faasim_sim::DistSpec> = BTreeMap::new();
    for (k, v) in &engine.cold_start_per_function {
        per.entry(k.as_str()).or_insert(v);
    }
    let est = wfs
        .functions
        .iter()
        .map(|f| {
            let ms = per.get(f.name.as_str()).map_or(default, |s| s.mean_ms());
            SimDuration::try_from_ms_f64(ms.max(0.0)).map_or(0, SimDuration::as_micros)
        })
        .collect();
    RuntimeConfig {
        data: sc.data.clone(),
        seed,
        cold_start_estimate_us: est,
    }
}

/// One row of `workflows.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowRow {
    /// The workflow's name.
    pub workflow: String,
    /// Its orchestrator.
    pub orchestrator: &'static str,
    /// Executions started (trace rows).
    pub executions: u64,
    /// Executions completed.
    pub completed: u64,
    /// Executions failed (a task dropped).
    pub failed: u64,
    /// End-to-end latency of completed executions, ms: mean, p50, p95, p99.
    pub latency_mean_ms: f64,
    /// Median.
    pub latency_p50_ms: f64,
    /// 95th percentile.
    pub latency_p95_ms: f64,
    /// 99th percentile.
    pub latency_p99_ms: f64,
    /// Cold starts of the executions' tasks.
    pub cold_starts: u64,
    /// Task invocations (map items included; Durable replays not).
    pub tasks: u64,
    /// Mean orchestration overhead of completed executions, ms: end to end minus the
    /// critical path's execution time.
    pub overhead_mean_ms: f64,
    /// Critical-path breakdown of completed executions, mean ms: execution, cold start,
    /// transitions (with Durable replays), data.
    pub critical_exec_mean_ms: f64,
    /// See `critical_exec_mean_ms`.
    pub critical_cold_start_mean_ms: f64,
    /// See `critical_exec_mean_ms`.
    pub critical_transition_mean_ms: f64,
    /// See `critical_exec_mean_ms`.
    pub critical_data_mean_ms: f64,
    /// State transitions (each state entered, each map item).
    pub state_transitions: u64,
    /// Durable orchestrator replays.
    pub replays: u64,
    /// Bytes moved between states.
    pub bytes_moved: u64,
    /// Data transfer time summed over every hop, ms.
    pub data_transfer_ms: f64,
    /// The executions' function charges, USD (list prices).
    pub function_cost_usd: f64,
    /// Orchestration charges, USD (list prices; Durable replays included).
    pub orchestration_cost_usd: f64,
    /// Storage requests of data passing, USD.
    pub storage_cost_usd: f64,
}

/// `workflows.csv`'s rows.
pub fn workflow_rows(r: &mut WorkflowReport) -> Vec<WorkflowRow> {
    r.workflows
        .iter_mut()
        .map(|w| {
            let ms = |us: u64| us as f64 / 1e3;
            WorkflowRow {
                workflow: w.name.clone(),
                orchestrator: w.orchestrator.as_str(),
                executions: w.executions,
                completed: w.completed,
                failed: w.failed,
                latency_mean_ms: w.latency_us.mean() / 1e3,
                latency_p50_ms: ms(w.latency_us.quantile(0.5)),
                latency_p95_ms: ms(w.latency_us.quantile(0.95)),
                latency_p99_ms: ms(w.latency_us.quantile(0.99)),
                cold_starts: w.cold_starts,
                tasks: w.tasks,
                overhead_mean_ms: w.mean_ms(w.overhead_us),
                critical_exec_mean_ms: w.mean_ms(w.exec_us),
                critical_cold_start_mean_ms: w.mean_ms(w.cold_us),
                critical_transition_mean_ms: w.mean_ms(w.transition_us),
                critical_data_mean_ms: w.mean_ms(w.path_data_us),
                state_transitions: w.transitions,
                replays: w.replays,
                bytes_moved: w.bytes,
                data_transfer_ms: w.data_us as f64 / 1e3,
                function_cost_usd: w.function_cost.to_usd(),
                orchestration_cost_usd: w.orchestration_cost.to_usd(),
                storage_cost_usd: w.storage_cost.to_usd(),
            }
        })
        .collect()
}

/// One row of `executions.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionRow<'a> {
    /// Arrival order among executions.
    pub id: u64,
    /// The workflow.
    pub workflow: &'a str,
    /// `completed` or `failed`.
    pub outcome: &'static str,
    /// When its trace row arrived, ms.
    pub arrival_ms: f64,
    /// When it ended, ms.
    pub end_ms: f64,
    /// End to end, ms.
    pub latency_ms: f64,
    /// Critical path: execution, cold start, transitions, data, ms.
    pub exec_ms: f64,
    /// See `exec_ms`.
    pub cold_start_ms: f64,
    /// See `exec_ms`.
    pub transition_ms: f64,
    /// See `exec_ms`.
    pub data_ms: f64,
    /// End to end minus the critical path's execution time, ms.
    pub overhead_ms: f64,
    /// Task invocations.
    pub tasks: u64,
    /// Of those, cold starts.
    pub cold_starts: u64,
    /// State transitions.
    pub transitions: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Function, orchestration and storage charges, USD (list prices).
    pub function_cost_usd: f64,
    /// See `function_cost_usd`.
    pub orchestration_cost_usd: f64,
    /// See `function_cost_usd`.
    pub storage_cost_usd: f64,
}

/// Streams `executions.csv` (rows in the order executions finish).
pub struct ExecutionWriter {
    names: Vec<String>,
    w: Option<csv::Writer<AtomicFile>>,
    error: Option<io::Error>,
}

impl ExecutionWriter {
    /// Creates `executions.csv` in `dir`.
    pub fn create(dir: &Path, wfs: &Workflows) -> io::Result<Self> {
        Ok(ExecutionWriter {
            names: wfs.workflows.iter().map(|w| w.name.clone()).collect(),
            w: Some(csv::Writer::from_writer(AtomicFile::create(
                &dir.join("executions.csv"),
            )?)),
            error: None,
        })
    }

    /// Writes one row.
    pub fn write(&mut self, r: &ExecutionRecord) {
        if self.error.is_some() {
            return;
        }
        let ms = |us: u64| us as f64 / 1e3;
        let row = ExecutionRow {
            id: r.id,
            workflow: &self.names[r.workflow as usize],
            outcome: if r.completed { "completed" } else { "failed" },
            arrival_ms: r.arrival.as_ms_f64(),
            end_ms: r.end.as_ms_f64(),
            latency_ms: ms(r.latency_us()),
            exec_ms: ms(r.path.exec_us),
            cold_start_ms: ms(r.path.cold_us),
            transition_ms: ms(r.path.transition_us),
            data_ms: ms(r.path.data_us),
            overhead_ms: ms(r.overhead_us()),
            tasks: r.tasks,
            cold_starts: r.cold_starts,
            transitions: r.transitions,
            bytes: r.bytes,
            function_cost_usd: r.function_cost.to_usd(),
            orchestration_cost_usd: r.orchestration_cost.to_usd(),
            storage_cost_usd: r.storage_cost.to_usd(),
        };
        if let Some(w) = self.w.as_mut() {
            if let Err(e) = w.serialize(row) {
                self.error = Some(io::Error::other(e));
            }
        }
    }

    /// Flushes and renames into place.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(w) = self.w.take() {
            w.into_inner().map_err(|e| e.into_error())?.commit()?;
        }
        Ok(())
    }
}

/// A shared [`ExecutionWriter`] and the sink the orchestrator writes through.
pub fn execution_sink(
    writer: ExecutionWriter,
) -> (
    Rc<RefCell<ExecutionWriter>>,
    faasim_workflows::runtime::ExecutionSink,
) {
    let w = Rc::new(RefCell::new(writer));
    let s = Rc::clone(&w);
    (
        w,
        Box::new(move |r: &ExecutionRecord| s.borrow_mut().write(r)),
    )
}

/// The run-wide workflow figures of `summary.csv`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WorkflowSummary {
    /// Executions started.
    pub executions: u64,
    /// Completed.
    pub completed: u64,
    /// End-to-end latency of completed executions, ms.
    pub latency_mean_ms: f64,
    /// Median.
    pub latency_p50_ms: f64,
    /// 99th percentile.
    pub latency_p99_ms: f64,
    /// Cold starts of the executions' tasks.
    pub cold_starts: u64,
    /// State transitions.
    pub transitions: u64,
    /// The month's orchestration bill (tiers and free tier applied), USD.
    pub orchestration_cost_usd: f64,
    /// Storage requests of data passing, USD.
    pub storage_cost_usd: f64,
    /// What to add to the functions' bill for the user's: orchestration not already billed
    /// as function invocations, plus storage.
    pub extra_user_cost: Money,
    /// Mean data transfer time per execution, ms.
    pub data_transfer_ms_mean: f64,
}

/// Run-wide figures from the report; `free_tier` as `[billing] free_tier`.
pub fn summary(r: &mut WorkflowReport, free_tier: bool) -> WorkflowSummary {
    let inv: OrchestrationInvoice = r
        .usage
        .invoice(free_tier, r.storage_prices.expect("set by the runtime"));
    let mut s = WorkflowSummary::default();
    let mut data_us: u128 = 0;
    let mut ended = 0u64;
    for w in &r.workflows {
        s.executions += w.executions;
        s.completed += w.completed;
        s.cold_starts += w.cold_starts;
        s.transitions += w.transitions;
        data_us += w.data_us;
        ended += w.completed + w.failed;
    }
    s.latency_mean_ms = r.latency_us.mean() / 1e3;
    s.latency_p50_ms = r.latency_us.quantile(0.5) as f64 / 1e3;
    s.latency_p99_ms = r.latency_us.quantile(0.99) as f64 / 1e3;
    s.orchestration_cost_usd = inv.orchestration.to_usd();
    s.storage_cost_usd = inv.storage.to_usd();
    s.extra_user_cost = Money(inv.orchestration.0 - inv.in_function_bill.0) + inv.storage;
    s.data_transfer_ms_mean = if ended == 0 {
        0.0
    } else {
        data_us as f64 / ended as f64 / 1e3
    };
    s
}
