//! Sweeps: one experiment file, many runs (scenarios × grid × zip × replications), run in
//! parallel, resumable, shardable across machines, merged into one table.
//!
//! ```toml
//! [experiment]
//! name = "keepalive"
//! scenario = "base.toml"        # or scenarios = ["a.toml", "b.toml"]; relative to this file
//! replications = 3              # seeds derived from base_seed and the replication index
//! base_seed = 1
//! [grid]                        # cartesian product of scenario key paths
//! "keep_alive.ttl_s" = [60, 600]
//! "placement.policy" = ["first-fit", "least-loaded"]
//! [zip]                         # lists varied together (all the same length)
//! "cluster.workers" = [2, 4]
//! "cluster.worker_memory_mb" = [8192, 4096]
//! ```
//!
//! The plan is a pure function of the file: scenarios in the order given, then grid
//! combinations (keys in sorted order, the last key varying fastest), then zip positions,
//! then replications. Run `i` of the plan is `runs/<id>/` with id `run-<i>` (zero-padded);
//! a `DONE` marker is written after its files, holding the faasim version, the seed, a hash
//! of the resolved scenario and the SHA-256 of the files the run reads, so a rerun skips
//! finished runs and redoes interrupted or outdated ones. Shard K of N runs the plan
//! entries with `i % N == K - 1`; `merge` combines shard directories into the directory a
//! single machine would have written. A sweep or merge holds [`LOCK_FILE`] in its folder
//! while it writes there ([`DirLock`]).

use crate::limits::{MAX_JOBS, MAX_PLAN_RUNS, MAX_REPLICATIONS};
use crate::output::{create_output_dir, remove_owned, write_csv_records, AtomicFile};
use crate::runner::{run_scenario_with, RunError};
use crate::scenario::{self, LoadedScenario, ScenarioError};
use crate::shared::SharedTrace;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    experiment: ExperimentSection,
    #[serde(default)]
    grid: toml::Table,
    #[serde(default)]
    zip: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentSection {
    name: String,
    scenario: Option<PathBuf>,
    #[serde(default)]
    scenarios: Vec<PathBuf>,
    replications: Option<u32>,
    base_seed: Option<u64>,
    /// Explicit run seeds, one per replication (instead of `replications` and `base_seed`).
    seeds: Option<Vec<u64>>,
    /// The configuration the others are compared with, pairwise: varied key = value.
    #[serde(default)]
    baseline: toml::Table,
    /// The `summary.csv` metrics the `metrics_by_parameter` figure draws, one panel each.
    #[serde(default)]
    plot_metrics: Option<Vec<String>>,
}

/// One run of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Position in the plan, from 0.
    pub index: usize,
    /// `run-<index>`, zero-padded: the run's folder under `runs/`.
    pub id: String,
    /// The scenario file as written in the experiment file.
    pub scenario: String,
    /// Varied key paths and their values, as TOML text.
    pub params: Vec<(String, String)>,
    /// Replication index, from 0.
    pub replication: u32,
    /// The run seed: `seeds[replication]`, or derived from `base_seed` and `replication`.
    pub seed: u64,
}

/// The whole plan of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// `[experiment] name`.
    pub name: String,
    /// The experiment file, as given.
    pub experiment_file: String,
    /// `[experiment] base_seed`: the run seeds derive from it.
    pub base_seed: u64,
    /// Runs per combination, each with its own seed.
    pub replications: u32,
    /// Varied keys, in column order.
    pub varied: Vec<String>,
    /// Whether the plan names more than one scenario (then `scenario` is a column).
    pub several_scenarios: bool,
    /// Every run, in plan order.
    pub runs: Vec<PlannedRun>,
    /// The seed of each replication: replication `r` of every configuration runs with
    /// `seeds[r]`, so configurations see the same invocations (common random numbers).
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// `--set KEY=VALUE` overrides applied to every run before its varied values.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// The baseline configuration, `(varied key, value)`: `aggregate.csv` then holds paired
    /// differences of every configuration against the baseline with the same other values.
    #[serde(default)]
    pub baseline: Vec<(String, String)>,
    /// `[experiment] plot_metrics`: the `summary.csv` metrics the `metrics_by_parameter`
    /// figure draws, one panel each (empty: its four defaults).
    #[serde(default)]
    pub plot_metrics: Vec<String>,
}

impl Plan {
    /// The command that reruns `run` alone, as `faasim run` (the same files, byte for byte,
    /// but the `wall` columns and the manifest's scenario path), from the folder the sweep
    /// was started in.
    pub fn rerun_command(&self, run: &PlannedRun) -> String {
        let base = Path::new(&self.experiment_file)
            .parent()
            .unwrap_or(Path::new(""));
        let mut cmd = format!(
            "faasim run {} --seed {}",
            shell_word(&base.join(&run.scenario).display().to_string()),
            run.seed
        );
        for o in self
            .overrides
            .iter()
            .cloned()
            .chain(run.params.iter().map(|(k, v)| format!("{k}={v}")))
        {
            cmd.push_str(&format!(" --set {}", shell_word(&o)));
        }
        cmd.push_str(&format!(" --out results/{}", run.id));
        cmd
    }
}

/// `word` quoted for a POSIX shell when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Choices of a plan beyond the experiment file: `faasim sweep --set` and `--baseline`.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `KEY=VALUE` overrides applied to every run (not to a varied key, nor `seed`).
    pub overrides: Vec<String>,
    /// `KEY=VALUE`: the baseline configuration (replaces the file's `baseline`).
    pub baseline: Vec<String>,
}

/// `manifest.json` of a sweep directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepManifest {
    /// The faasim version that wrote the directory.
    pub faasim_version: String,
    /// `[k, n]` when this directory holds shard k of n.
    pub shard: Option<(usize, usize)>,
    /// The whole plan (a shard holds the whole plan too).
    pub plan: Plan,
}

/// Why a sweep, a plan or a merge failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The experiment file could not be read.
    #[error("{path}: cannot read the experiment: {source}")]
    Read {
        /// The experiment file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The experiment file is not valid TOML or describes no valid plan.
    #[error("{path}: {message}")]
    Invalid {
        /// The experiment file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A scenario of the plan could not be loaded.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A run failed.
    #[error("run {id}: {source}")]
    Run {
        /// The run's id (`run-<index>`).
        id: String,
        /// Why it failed.
        source: Box<RunError>,
    },
    /// Reading or writing a file of the sweep directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder at fault.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Shard directories that cannot be merged: an unfinished run, another plan, a bad file.
    #[error("{0}")]
    Merge(String),
    /// A bad command-line option.
    #[error("{0}")]
    Options(String),
    /// The output folder cannot be made.
    #[error(transparent)]
    OutputDir(#[from] crate::output::OutputDirError),
    #[error(
        "{} is in use by another sweep or merge (process {pid} on {host}, lock file {}); if none is running there, delete the lock file",
        .dir.display(), .lock.display()
    )]
    /// Another sweep or merge holds the folder's lock.
    Locked {
        /// The folder in use.
        dir: PathBuf,
        /// Its lock file.
        lock: PathBuf,
        /// The holder's process id (`?` if unreadable).
        pid: String,
        /// The holder's host name (`?` if unreadable).
        host: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads an experiment file and derives its plan; a plan of more than
/// [`MAX_PLAN_RUNS`] runs is refused.
pub fn plan(path: &Path) -> Result<Plan, SweepError> {
    plan_with(path, &PlanOptions::default())
}

/// [`plan`] with `--set` overrides and a `--baseline`.
pub fn plan_with(path: &Path, options: &PlanOptions) -> Result<Plan, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|source| SweepError::Read {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |message: String| SweepError::Invalid {
        path: path.to_owned(),
        message,
    };
    let file: ExperimentFile = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: ")
            })
            .unwrap_or_default();
        invalid(format!("{at}{}", e.message().trim().replace('\n', " ")))
    })?;
    let ex = file.experiment;
    if let Err(e) = scenario::check_folder_name(&ex.name) {
        return Err(invalid(format!("[experiment] name: {e}")));
    }
    if ex.scenario.is_some() && !ex.scenarios.is_empty() {
        return Err(invalid(
            "[experiment] has both `scenario` and `scenarios`: give one of them".into(),
        ));
    }
    if ex.plot_metrics.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid(
            "[experiment] plot_metrics: list at least one metric, or leave the key out for the figure's defaults".into(),
        ));
    }
    let plot_metrics = ex.plot_metrics.unwrap_or_default();
    check_plot_metrics(&plot_metrics).map_err(invalid)?;
    let mut scenarios: Vec<PathBuf> = ex.scenario.into_iter().collect();
    scenarios.extend(ex.scenarios);
    if scenarios.is_empty() {
        return Err(invalid(
            "[experiment] needs `scenario` or `scenarios`".into(),
        ));
    }
    let seeds: Vec<u64> = match (ex.seeds, ex.replications, ex.base_seed) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(invalid(
                "[experiment] has `seeds` and `replications` or `base_seed`: give the seeds, or a number of replications (and a base seed) to derive them from".into(),
            ))
        }
        (Some(seeds), None, None) => {
            if seeds.is_empty() {
                return Err(invalid("[experiment] seeds must list at least one seed".into()));
            }
            if let Some((i, s)) = seeds
                .iter()
                .enumerate()
                .find(|(i, s)| seeds[..*i].contains(s))
            {
                return Err(invalid(format!(
                    "[experiment] seeds: seed {s} is listed twice (positions {} and {}): replications would repeat each other",
                    seeds.iter().position(|x| x == s).unwrap_or(0) + 1,
                    i + 1
                )));
            }
            seeds
        }
        (None, replications, base_seed) => {
            let replications = replications.unwrap_or(1);
            if replications == 0 {
                return Err(invalid("[experiment] replications must be >= 1".into()));
            }
            if replications > MAX_REPLICATIONS {
                return Err(invalid(format!(
                    "[experiment] replications must be at most {MAX_REPLICATIONS}, got {replications}"
                )));
            }
            let base = base_seed.unwrap_or(1);
            (0..replications as u64)
                .map(|r| faasim_sim::rng::replication_seed(base, r))
                .collect()
        }
    };
    if seeds.len() > MAX_REPLICATIONS as usize {
        return Err(invalid(format!(
            "[experiment] seeds: at most {MAX_REPLICATIONS} seeds, got {}",
            seeds.len()
        )));
    }
    for (table, t) in [("grid", &file.grid), ("zip", &file.zip)] {
        if t.contains_key("seed") {
            return Err(invalid(format!(
                "[{table}] \"seed\": the run seed cannot be varied; list the seeds in [experiment] seeds = [1, 2, 3] (or give replications and base_seed)"
            )));
        }
    }
    let lists = |t: &toml::Table, table: &str| -> Result<Vec<(String, Vec<String>)>, SweepError> {
        t.iter()
            .map(|(k, v)| match v {
                toml::Value::Array(a) if !a.is_empty() => {
                    Ok((k.clone(), a.iter().map(value_text).collect()))
                }
                _ => Err(invalid(format!(
                    "[{table}] \"{k}\" must be a non-empty list of values"
                ))),
            })
            .collect()
    };
    let grid = lists(&file.grid, "grid")?;
    let zip = lists(&file.zip, "zip")?;
    let zip_len = zip.first().map_or(1, |(_, v)| v.len());
    if let Some((k, v)) = zip.iter().find(|(_, v)| v.len() != zip_len) {
        return Err(invalid(format!(
            "[zip] lists must have the same length: \"{k}\" has {} values, not {zip_len}",
            v.len()
        )));
    }
    if let Some((k, _)) = zip.iter().find(|(k, _)| file.grid.contains_key(k)) {
        return Err(invalid(format!("\"{k}\" is in both [grid] and [zip]")));
    }
    let mut varied: Vec<String> = grid.iter().map(|(k, _)| k.clone()).collect();
    varied.extend(zip.iter().map(|(k, _)| k.clone()));
    for o in &options.overrides {
        let key = o.split_once('=').map_or(o.as_str(), |(k, _)| k).trim();
        if key == "seed" {
            return Err(SweepError::Options(format!(
                "--set {o}: the run seeds come from [experiment] seeds (or replications and base_seed), not from --set"
            )));
        }
        if varied.iter().any(|v| v == key) {
            return Err(SweepError::Options(format!(
                "--set {o}: the experiment varies `{key}` in its grid or zip; --set sets keys it does not vary"
            )));
        }
    }
    // The baseline: `--baseline` replaces the file's table; values in the grid's text form.
    let baseline_given: Vec<(String, String)> = if options.baseline.is_empty() {
        ex.baseline
            .iter()
            .map(|(k, v)| (k.clone(), value_text(v)))
            .collect()
    } else {
        options
            .baseline
            .iter()
            .map(|b| {
                let (k, v) = b.split_once('=').ok_or_else(|| {
                    SweepError::Options(format!("--baseline {b}: expected KEY=VALUE"))
                })?;
                Ok((k.trim().to_owned(), normalise_value(v.trim())))
            })
            .collect::<Result<_, SweepError>>()?
    };
    let mut baseline: Vec<(String, String)> = Vec::new();
    for (k, v) in baseline_given {
        let values: Vec<String> = if k == "scenario_file" && scenarios.len() > 1 {
            scenarios.iter().map(|p| p.display().to_string()).collect()
        } else if let Some((_, vs)) = grid.iter().chain(zip.iter()).find(|(g, _)| *g == k) {
            vs.clone()
        } else {
            return Err(invalid(format!(
                "baseline `{k}`: not a varied key; the varied keys are: {}",
                if varied.is_empty() {
                    "none".to_owned()
                } else {
                    varied.join(", ")
                }
            )));
        };
        if !values.contains(&v) {
            return Err(invalid(format!(
                "baseline `{k}` = `{v}`: not one of its values ({})",
                values.join(", ")
            )));
        }
        if baseline.iter().any(|(b, _)| *b == k) {
            return Err(invalid(format!("baseline `{k}` is given twice")));
        }
        baseline.push((k, v));
    }

    let combos = grid
        .iter()
        .fold(1u64, |p, (_, v)| p.saturating_mul(v.len() as u64));
    let replications = seeds.len() as u32;
    let total = (scenarios.len() as u64)
        .saturating_mul(combos)
        .saturating_mul(zip_len as u64)
        .saturating_mul(replications as u64);
    if total > MAX_PLAN_RUNS {
        return Err(invalid(format!(
            "[experiment] {} scenario(s) × {combos} grid combination(s) × {zip_len} zip position(s) × {replications} replication(s) = {total} runs, more than the limit of {MAX_PLAN_RUNS} runs in one sweep",
            scenarios.len(),
        )));
    }
    let (combos, total) = (combos as usize, total as usize);
    let width = (total.max(1) - 1).to_string().len().max(4);
    let mut runs = Vec::with_capacity(total);
    for sc in &scenarios {
        for c in 0..combos {
            // Mixed-radix decoding: the last grid key varies fastest.
            let mut rest = c;
            let mut grid_params = vec![String::new(); grid.len()];
            for (gi, (_, values)) in grid.iter().enumerate().rev() {
                grid_params[gi] = values[rest % values.len()].clone();
                rest /= values.len();
            }
            for z in 0..zip_len {
                let mut params: Vec<(String, String)> = grid
                    .iter()
                    .zip(&grid_params)
                    .map(|((k, _), v)| (k.clone(), v.clone()))
                    .collect();
                params.extend(zip.iter().map(|(k, v)| (k.clone(), v[z].clone())));
                for (r, &seed) in seeds.iter().enumerate() {
                    let index = runs.len();
                    runs.push(PlannedRun {
                        index,
                        id: format!("run-{index:0width$}"),
                        scenario: sc.display().to_string(),
                        params: params.clone(),
                        replication: r as u32,
                        seed,
                    });
                }
            }
        }
    }
    Ok(Plan {
        name: ex.name,
        experiment_file: path.display().to_string(),
        base_seed: ex.base_seed.unwrap_or(1),
        replications,
        varied,
        several_scenarios: scenarios.len() > 1,
        runs,
        seeds,
        overrides: options.overrides.clone(),
        baseline,
        plot_metrics,
    })
}

/// The most panels the `metrics_by_parameter` figure lays out (three rows of two).
pub const MAX_PLOT_METRICS: usize = 6;

/// Checks `[experiment] plot_metrics`: one to [`MAX_PLOT_METRICS`] numeric `summary.csv`
/// columns, none twice. `Err` names the offending metric and lists the valid ones.
fn check_plot_metrics(metrics: &[String]) -> Result<(), String> {
    let known = crate::output::SummaryRow::numeric_columns();
    if metrics.len() > MAX_PLOT_METRICS {
        return Err(format!(
            "[experiment] plot_metrics: {} metrics, at most {MAX_PLOT_METRICS} fit the figure",
            metrics.len()
        ));
    }
    for (i, m) in metrics.iter().enumerate() {
        if !known.iter().any(|k| k == m) {
            return Err(format!(
                "[experiment] plot_metrics: unknown metric `{m}`; the metrics are the numeric columns of summary.csv: {}",
                known.join(", ")
            ));
        }
        if metrics[..i].contains(m) {
            return Err(format!("[experiment] plot_metrics: `{m}` is given twice"));
        }
    }
    Ok(())
}

/// A command-line value in the text form the plan gives grid values: a TOML value
/// (`600`, `"first-fit"`, `{ policy = "fixed" }`) as [`value_text`] writes it, anything
/// else as written.
fn normalise_value(v: &str) -> String {
    match toml::from_str::<toml::Table>(&format!("v = {v}")) {
        Ok(t) => t.get("v").map_or_else(|| v.to_owned(), value_text),
        Err(_) => v.to_owned(),
    }
}

/// A TOML value as override text: strings bare (`first-fit`), the rest as TOML.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Options of `faasim sweep`.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The sweep directory.
    pub out_dir: PathBuf,
    /// Runs at once (1 to [`MAX_JOBS`]).
    pub jobs: usize,
    /// `(k, n)`, 1 <= k <= n.
    pub shard: Option<(usize, usize)>,
    /// Print progress (a bar on a terminal, plain lines otherwise).
    pub progress: bool,
    /// `--set` overrides and `--baseline`.
    pub plan: PlanOptions,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// Runs of the plan (of this shard).
    pub planned: usize,
    /// Runs done now.
    pub ran: usize,
    /// Runs skipped: already done, with a matching `DONE` marker.
    pub skipped: usize,
    /// Invocations simulated by the runs done now.
    pub invocations: u64,
    /// Wall-clock time of the runs, s.
    pub wall_s: f64,
    /// The warnings of the runs (done now or before), `(run id, warning)`, in plan order.
    pub warnings: Vec<(String, String)>,
}

fn loaded_for(base: &Path, plan: &Plan, run: &PlannedRun) -> Result<LoadedScenario, ScenarioError> {
    let overrides: Vec<String> = plan
        .overrides
        .iter()
        .cloned()
        .chain(run.params.iter().map(|(k, v)| format!("{k}={v}")))
        .collect();
    scenario::load(&base.join(&run.scenario), &overrides)
}

/// The files a sweep writes once every run is done (and the figures drawn from them); a
/// sweep removes them when it starts.
pub const SWEEP_FILES: [&str; 3] = ["summary.csv", "aggregate.csv", "figures"];

/// The lock file a sweep (or a merge) holds in its output folder while it writes there.
pub const LOCK_FILE: &str = "sweep.lock";

/// An exclusive claim on an output folder: `LOCK_FILE`, created with `create_new` and
/// holding the process id and host name; removed when dropped. A lock left by a process
/// that died (`kill -9`, a crash, a power cut) is stale: on the host that took it, where
/// `/proc` tells whether that process still runs, it is taken over with a warning;
/// elsewhere the error says to delete it.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

impl DirLock {
    /// Takes `dir`'s lock (creating `dir`).
    pub fn acquire(dir: &Path) -> Result<DirLock, SweepError> {
        create_output_dir(dir)?;
        let path = dir.join(LOCK_FILE);
        let host = host_name();
        let me = format!(
            "pid {}\nhost {}\n",
            std::process::id(),
            host.as_deref().unwrap_or("unknown")
        );
        for attempt in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(me.as_bytes()).map_err(io(&path))?;
                    return Ok(DirLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let field = |name: &str| {
                        text.lines()
                            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                            .map(|v| v.trim().to_owned())
                    };
                    let (pid, their_host) = (field("pid"), field("host"));
                    let stale = attempt == 0
                        && host.is_some()
                        && their_host == host
                        && Path::new("/proc/self").exists()
                        && pid
                            .as_deref()
                            .and_then(|p| p.parse::<u32>().ok())
                            .is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists());
                    if stale {
                        eprintln!(
                            "warning: {} was left by process {} on this host, which no longer runs; taking it over",
                            path.display(),
                            pid.as_deref().unwrap_or("?")
                        );
                        match std::fs::remove_file(&path) {
                            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                                return Err(io(&path)(e))
                            }
                            _ => continue,
                        }
                    }
                    return Err(SweepError::Locked {
                        dir: dir.to_owned(),
                        lock: path,
                        pid: pid.unwrap_or_else(|| "?".into()),
                        host: their_host.unwrap_or_else(|| "?".into()),
                    });
                }
                Err(e) => return Err(io(&path)(e)),
            }
        }
        unreachable!("the second attempt returns")
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// SHA-256 (hex) of a file's bytes, or `missing` if it cannot be read (the run then fails
/// and says why).
fn file_sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let Ok(mut f) = std::fs::File::open(path) else {
        return "missing".into();
    };
    let mut h = Sha256::new();
    match std::io::copy(&mut f, &mut h) {
        Ok(_) => h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        Err(_) => "missing".into(),
    }
}

/// Runs an experiment's plan (or one shard of it) into `opts.out_dir`.
pub fn sweep(experiment: &Path, opts: &SweepOptions) -> Result<SweepOutcome, SweepError> {
    let plan = plan_with(experiment, &opts.plan)?;
    let base = experiment.parent().unwrap_or(Path::new(".")).to_path_buf();
    if let Some((k, n)) = opts.shard {
        if n == 0 || k == 0 || k > n {
            return Err(SweepError::Invalid {
                path: experiment.to_owned(),
                message: format!("--shard {k}/{n}: expected K/N with 1 <= K <= N"),
            });
        }
    }
    if opts.jobs == 0 || opts.jobs > MAX_JOBS {
        return Err(SweepError::Options(format!(
            "--jobs {}: must be between 1 and {MAX_JOBS} (runs at once)",
            opts.jobs
        )));
    }
    let mine: Vec<&PlannedRun> = plan
        .runs
        .iter()
        .filter(|r| opts.shard.is_none_or(|(k, n)| r.index % n == k - 1))
        .collect();
    // Load every scenario before running anything: a bad grid value fails fast.
    let mut loaded = Vec::with_capacity(mine.len());
    for r in &mine {
        loaded.push(loaded_for(&base, &plan, r)?);
    }
    let _lock = DirLock::acquire(&opts.out_dir)?;
    // The tables (and figures) of an earlier sweep go first: they are written again only
    // when every run is done.
    for name in SWEEP_FILES {
        remove_owned(&opts.out_dir, name).map_err(io(&opts.out_dir.join(name)))?;
    }
    let runs_dir = opts.out_dir.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(io(&runs_dir))?;
    let manifest = SweepManifest {
        faasim_version: env!("CARGO_PKG_VERSION").into(),
        shard: opts.shard,
        plan: plan.clone(),
    };
    write_json(&opts.out_dir.join("manifest.json"), &manifest)?;

    // A run is done when its marker names the same faasim version, resolved scenario, seed
    // and input files (by SHA-256): a new version, an edit of the base scenario or of a
    // trace between two invocations reruns what it changed.
    let mut checksums: BTreeMap<PathBuf, String> = BTreeMap::new();
    let stamps: Vec<String> = (0..mine.len())
        .map(|i| {
            let inputs: Vec<String> = loaded[i]
                .input_files()
                .into_iter()
                .map(|p| {
                    checksums
                        .entry(p)
                        .or_insert_with_key(|p| file_sha256(p))
                        .clone()
                })
                .collect();
            run_stamp(&loaded[i], mine[i].seed, &inputs)
        })
        .collect();
    let todo: Vec<usize> = (0..mine.len())
        .filter(|&i| {
            std::fs::read_to_string(runs_dir.join(&mine[i].id).join("DONE"))
                .map_or(true, |s| s != stamps[i])
        })
        .collect();
    let skipped = mine.len() - todo.len();

    // Traces that do not depend on the seed are read once and shared by every run.
    let cache: Mutex<BTreeMap<PathBuf, Arc<SharedTrace>>> = Mutex::new(BTreeMap::new());
    let invocations = AtomicU64::new(0);
    let done = AtomicU64::new(skipped as u64);
    let started = Instant::now();
    let progress = Progress::new(opts.progress, mine.len() as u64, skipped as u64);

    // Never more threads than runs to do.
    let threads = opts.jobs.min(todo.len()).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Options(format!("cannot start {threads} threads: {e}")))?;
    pool.install(|| {
        todo.par_iter()
            .try_for_each(|&i| -> Result<(), SweepError> {
                let run = mine[i];
                let ld = &loaded[i];
                let dir = runs_dir.join(&run.id);
                // The marker goes first: a run is done only once it is written again.
                if dir.is_dir() {
                    remove_owned(&dir, "DONE").map_err(io(&dir.join("DONE")))?;
                }
                let run_err = |e: RunError| SweepError::Run {
                    id: run.id.clone(),
                    source: Box::new(e),
                };
                // Then the files of an earlier run, before the trace is read (which may fail).
                crate::runner::clear_run_dir(&dir).map_err(run_err)?;
                let shared = SharedTrace::for_spec(ld, &cache).map_err(run_err)?;
                let outcome =
                    run_scenario_with(ld, run.seed, &dir, shared.as_deref()).map_err(run_err)?;
                let marker = dir.join("DONE");
                let mut f = AtomicFile::create(&marker).map_err(io(&marker))?;
                f.write_all(stamps[i].as_bytes())
                    .and_then(|_| f.commit())
                    .map_err(io(&marker))?;
                let inv = invocations.fetch_add(outcome.summary.invocations, Ordering::Relaxed)
                    + outcome.summary.invocations;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.tick(d, &run.id, inv as f64 / started.elapsed().as_secs_f64());
                Ok(())
            })
    })?;
    progress.finish();

    if opts.shard.is_none() {
        write_tables(&opts.out_dir, &plan)?;
    }
    let mut warnings = Vec::new();
    for r in &mine {
        for w in run_warnings(&runs_dir.join(&r.id)) {
            warnings.push((r.id.clone(), w));
        }
    }
    Ok(SweepOutcome {
        planned: mine.len(),
        ran: todo.len(),
        skipped,
        invocations: invocations.into_inner(),
        wall_s: started.elapsed().as_secs_f64(),
        warnings,
    })
}

/// The `warnings` of a run directory's `manifest.json` (none if it cannot be read).
pub fn run_warnings(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v.get("warnings")?.as_array().map(|a| {
                a.iter()
                    .filter_map(|w| w.as_str().map(String::from))
                    .collect()
            })
        })
        .unwrap_or_default()
}

struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: u64,
}

impl Progress {
    fn new(enabled: bool, total: u64, done: u64) -> Self {
        if !enabled {
            return Progress {
                bar: None,
                plain: false,
                total,
            };
        }
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} runs  {msg}  elapsed {elapsed}  ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_position(done);
            Progress {
                bar: Some(bar),
                plain: false,
                total,
            }
        } else {
            Progress {
                bar: None,
                plain: true,
                total,
            }
        }
    }

    fn tick(&self, done: u64, id: &str, rate: f64) {
        let msg = format!("{:.2} M invocations/s", rate / 1e6);
        if let Some(b) = &self.bar {
            b.set_position(done);
            b.set_message(msg);
        } else if self.plain {
            eprintln!("[{done}/{}] {id} done, {msg}", self.total);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// What a run's `DONE` marker holds: the faasim version, the seed, a hash of the resolved
/// scenario and the SHA-256 of every input file (`input_sha256` lines, in the order of
/// [`LoadedScenario::input_files`]).
fn run_stamp(ld: &LoadedScenario, seed: u64, inputs: &[String]) -> String {
    let text = toml::to_string(&ld.scenario).unwrap_or_default();
    let h = faasim_sim::rng::fnv1a(text.as_bytes());
    let mut s = format!(
        "complete\nfaasim {}\nseed {seed}\nscenario_fnv1a {h:016x}\n",
        env!("CARGO_PKG_VERSION")
    );
    for i in inputs {
        s.push_str(&format!("input_sha256 {i}\n"));
    }
    s
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), SweepError> {
    crate::output::write_json(path, v).map_err(io(path))
}

/// Reads one run's `summary.csv`: (header, row).
fn read_run_summary(dir: &Path) -> Result<(Vec<String>, Vec<String>), SweepError> {
    let path = dir.join("summary.csv");
    let mut r = csv::Reader::from_path(&path)
        .map_err(|e| SweepError::Merge(format!("{}: {e}", path.display())))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| SweepError::Merge(format!("{}: {e}", path.display())))?
        .iter()
        .map(String::from)
        .collect();
    let row = r
        .records()
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| SweepError::Merge(format!("{}: no row", path.display())))?;
    Ok((header, row.iter().map(String::from).collect()))
}

/// Writes `summary.csv` (one row per run, plan order) and `aggregate.csv` (mean, sd and
/// 95% Student-t confidence interval over the replications of each combination).
pub fn write_tables(out_dir: &Path, plan: &Plan) -> Result<(), SweepError> {
    let runs_dir = out_dir.join("runs");
    let mut prefix: Vec<String> = vec!["run_id".into()];
    if plan.several_scenarios {
        prefix.push("scenario_file".into());
    }
    prefix.extend(plan.varied.iter().cloned());
    prefix.push("replication".into());

    let mut header: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(plan.runs.len());
    // Per combination: (replication, summary row) of its runs, in plan order.
    type Members = Vec<(u32, Vec<String>)>;
    let mut groups: Vec<(Vec<String>, Members)> = Vec::new();
    for run in &plan.runs {
        let dir = runs_dir.join(&run.id);
        if !dir.join("DONE").exists() {
            return Err(SweepError::Merge(format!(
                "{}: run {} has not completed",
                out_dir.display(),
                run.id
            )));
        }
        let (h, r) = read_run_summary(&dir)?;
        if header.is_none() {
            header = Some(h);
        }
        let mut key: Vec<String> = Vec::new();
        if plan.several_scenarios {
            key.push(run.scenario.clone());
        }
        key.extend(run.params.iter().map(|(_, v)| v.clone()));
        let mut row = vec![run.id.clone()];
        row.extend(key.iter().cloned());
        row.push(run.replication.to_string());
        row.extend(r.iter().cloned());
        rows.push(row);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push((run.replication, r)),
            None => groups.push((key, vec![(run.replication, r)])),
        }
    }
    let metrics = header.unwrap_or_default();
    let mut full_header = prefix.clone();
    full_header.extend(metrics.iter().cloned());
    write_csv_records(&out_dir.join("summary.csv"), &full_header, &rows)
        .map_err(io(&out_dir.join("summary.csv")))?;

    // Aggregate every numeric metric but the seed.
    let numeric: Vec<usize> = (0..metrics.len())
        .filter(|&i| metrics[i] != "seed" && metrics[i] != "scenario")
        .collect();
    let mut agg_header: Vec<String> = prefix[1..prefix.len() - 1].to_vec();
    agg_header.push("runs".into());
    for &i in &numeric {
        for s in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            agg_header.push(format!("{}_{s}", metrics[i]));
        }
    }
    // Paired differences against the baseline: columns after all the others.
    let key_cols: Vec<String> = prefix[1..prefix.len() - 1].to_vec();
    let baseline_pos: Vec<(usize, &String)> = plan
        .baseline
        .iter()
        .filter_map(|(k, v)| key_cols.iter().position(|c| c == k).map(|i| (i, v)))
        .collect();
    if !baseline_pos.is_empty() {
        agg_header.push("paired_with".into());
        for &i in &numeric {
            for s in ["mean", "sd", "ci95_lo", "ci95_hi"] {
                agg_header.push(format!("{}_diff_{s}", metrics[i]));
            }
        }
    }
    let value = |m: &[String], i: usize| m.get(i).and_then(|v| v.parse::<f64>().ok());
    let mut agg_rows = Vec::with_capacity(groups.len());
    for (key, members) in &groups {
        let mut row = key.clone();
        row.push(members.len().to_string());
        for &i in &numeric {
            let xs: Vec<f64> = members.iter().filter_map(|(_, m)| value(m, i)).collect();
            push_stats(&mut row, &crate::stats::mean_ci95(&xs));
        }
        if !baseline_pos.is_empty() {
            let mut base_key = key.clone();
            for &(i, v) in &baseline_pos {
                base_key[i] = v.clone();
            }
            let base = groups.iter().find(|(k, _)| *k == base_key).map(|(_, m)| m);
            row.push(
                baseline_pos
                    .iter()
                    .map(|&(i, v)| format!("{}={v}", key_cols[i]))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            for &i in &numeric {
                // Replication r of this combination against replication r of the
                // baseline: the same seed, so the same invocations.
                let ds: Vec<f64> = members
                    .iter()
                    .filter_map(|(r, m)| {
                        let b = base?.iter().find(|(rb, _)| rb == r)?;
                        Some(value(m, i)? - value(&b.1, i)?)
                    })
                    .collect();
                push_stats(&mut row, &crate::stats::mean_ci95(&ds));
            }
        }
        agg_rows.push(row);
    }
    write_csv_records(&out_dir.join("aggregate.csv"), &agg_header, &agg_rows)
        .map_err(io(&out_dir.join("aggregate.csv")))
}

fn fmt(x: f64) -> String {
    format!("{x}")
}

/// Appends mean, sd, and the 95% interval's bounds (empty when undefined).
fn push_stats(row: &mut Vec<String>, s: &crate::stats::MeanCi) {
    row.push(fmt(s.mean));
    row.push(s.sd.map(fmt).unwrap_or_default());
    row.push(s.ci95.map(|(lo, _)| fmt(lo)).unwrap_or_default());
    row.push(s.ci95.map(|(_, hi)| fmt(hi)).unwrap_or_default());
}

/// Combines shard directories into `out`, as if one machine had run the whole plan.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize, SweepError> {
    // Copying a folder onto itself would truncate its files.
    if let Ok(o) = std::fs::canonicalize(out) {
        if let Some(d) = dirs
            .iter()
            .find(|d| std::fs::canonicalize(d).is_ok_and(|d| d == o))
        {
            return Err(SweepError::Options(format!(
                "merge: --out {} is one of the directories to merge ({}); merge into another directory",
                out.display(),
                d.display()
            )));
        }
    }
    let mut plan: Option<Plan> = None;
    let _lock = DirLock::acquire(out)?;
    for name in SWEEP_FILES {
        remove_owned(out, name).map_err(io(&out.join(name)))?;
    }
    let runs_out = out.join("runs");
    std::fs::create_dir_all(&runs_out).map_err(io(&runs_out))?;
    for d in dirs {
        let mpath = d.join("manifest.json");
        let text = std::fs::read_to_string(&mpath).map_err(io(&mpath))?;
        let m: SweepManifest = serde_json::from_str(&text)
            .map_err(|e| SweepError::Merge(format!("{}: {e}", mpath.display())))?;
        match &plan {
            None => plan = Some(m.plan.clone()),
            Some(p) if *p != m.plan => {
                return Err(SweepError::Merge(format!(
                    "{}: a different experiment plan than {}",
                    d.display(),
                    dirs[0].display()
                )))
            }
            _ => {}
        }
        let runs_in = d.join("runs");
        let entries = std::fs::read_dir(&runs_in).map_err(io(&runs_in))?;
        for e in entries {
            let e = e.map_err(io(&runs_in))?;
            let src = e.path();
            if !src.join("DONE").exists() {
                continue;
            }
            let dst = runs_out.join(e.file_name());
            copy_dir(&src, &dst)?;
        }
    }
    let plan = plan.ok_or_else(|| SweepError::Merge("no directories to merge".into()))?;
    let manifest = SweepManifest {
        faasim_version: env!("CARGO_PKG_VERSION").into(),
        shard: None,
        plan: plan.clone(),
    };
    write_json(&out.join("manifest.json"), &manifest)?;
    write_tables(out, &plan)?;
    Ok(plan.runs.len())
}

fn copy_dir(src: &Path, dst: &Path) -> Result<(), SweepError> {
    std::fs::create_dir_all(dst).map_err(io(dst))?;
    // What an earlier merge left there goes first, its marker before its files.
    for name in std::iter::once("DONE").chain(crate::runner::RUN_FILES) {
        remove_owned(dst, name).map_err(io(&dst.join(name)))?;
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(io(src))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    // DONE last, so an interrupted merge never marks a half-copied run complete.
    names.sort_by_key(|p| p.file_name().is_some_and(|n| n == "DONE"));
    for p in names {
        let target = dst.join(p.file_name().unwrap_or_default());
        std::fs::copy(&p, &target).map_err(io(&target))?;
    }
    Ok(())
}
