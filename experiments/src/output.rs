//! Result files. One `#[derive(Serialize)]` row struct per CSV file: the column order is the
//! field order. Every file is written under a temporary name and renamed when complete, so
//! an interrupted or failed run never leaves a file that looks whole.

use faasim_sim::{FunctionTable, InvocationRecord, Money, Recorder, RunReport, RunStats, Sample};
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A file written under `.<name>.tmp` and renamed into place by [`AtomicFile::commit`].
/// Dropped without a commit, it deletes the temporary file.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates (truncates) the temporary file `.<name>.tmp` beside `dest`.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dest.with_file_name(format!(".{name}.tmp"));
        let file = File::create(&tmp)?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_owned(),
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Flushes, syncs and renames into place.
    pub fn commit(mut self) -> io::Result<()> {
        let w = self.writer.take().expect("writer present until commit");
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer
            .as_mut()
            .expect("writer present until commit")
            .write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer
            .as_mut()
            .expect("writer present until commit")
            .flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// An output folder that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum OutputDirError {
    /// The output path itself is a file.
    #[error("output path {} is a file, expected a directory", .path.display())]
    IsFile {
        /// The output path.
        path: PathBuf,
    },
    /// A folder above the output path is a file.
    #[error("output path {}: {} is a file, expected a directory", .path.display(), .file.display())]
    ParentIsFile {
        /// The output path.
        path: PathBuf,
        /// The folder above it that is a file.
        file: PathBuf,
    },
    /// Creating the folder failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The output path.
        path: PathBuf,
        /// The error of `create_dir_all`.
        source: io::Error,
    },
}

/// Creates the output folder `path` (and its parents), or says which part of it is a file.
pub fn create_output_dir(path: &Path) -> Result<(), OutputDirError> {
    check_output_dir(path)?;
    std::fs::create_dir_all(path).map_err(|source| OutputDirError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Checks that `path` can be an output folder: neither it nor a parent is a file.
pub fn check_output_dir(path: &Path) -> Result<(), OutputDirError> {
    for a in path.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        match std::fs::metadata(a) {
            Ok(m) if m.is_dir() => break,
            Ok(_) if a == path => {
                return Err(OutputDirError::IsFile {
                    path: path.to_owned(),
                })
            }
            Ok(_) => {
                return Err(OutputDirError::ParentIsFile {
                    path: path.to_owned(),
                    file: a.to_owned(),
                })
            }
            Err(_) => continue,
        }
    }
    Ok(())
}

/// Removes `dir/name` (a file, or a folder with its contents), and the temporary file an
/// interrupted [`AtomicFile`] may have left beside it; a missing one is not an error. The
/// error is that of `dir/name` or its temporary file.
pub fn remove_owned(dir: &Path, name: &str) -> io::Result<()> {
    for p in [dir.join(name), dir.join(format!(".{name}.tmp"))] {
        let r = match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p),
            Ok(_) => std::fs::remove_file(&p),
            Err(e) => Err(e),
        };
        match r {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Writes rows of one type to a CSV file atomically.
pub fn write_csv<R: Serialize>(path: &Path, rows: &[R]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(AtomicFile::create(path)?);
    for r in rows {
        w.serialize(r).map_err(io::Error::other)?;
    }
    w.flush()?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.commit()
}

/// Writes `v` as pretty JSON (and a final newline) atomically.
pub fn write_json<T: Serialize>(path: &Path, v: &T) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    serde_json::to_writer_pretty(&mut f, v).map_err(io::Error::other)?;
    f.write_all(b"\n")?;
    f.commit()
}

/// Writes a header and string records to a CSV file atomically.
pub fn write_csv_records(path: &Path, header: &[String], rows: &[Vec<String>]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(AtomicFile::create(path)?);
    w.write_record(header).map_err(io::Error::other)?;
    for r in rows {
        w.write_record(r).map_err(io::Error::other)?;
    }
    w.flush()?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.commit()
}

/// `cold_starts.csv`, written when a run draws cold starts from recorded tables: a first
/// row for the whole run (`function_id` empty, `function` = `(all)`), then one per function
/// that drew any, in function order: the instance starts drawn from recorded rows, their
/// mean and longest latency, and the mean of each part (`<part>_mean_ms`, the parts of
/// every table of the run, in order of first appearance).
pub fn cold_start_rows(report: &RunReport) -> (Vec<String>, Vec<Vec<String>>) {
    let p = &report.cold_start_parts;
    let mut header: Vec<String> = ["function_id", "function", "starts", "mean_ms", "max_ms"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(p.names.iter().map(|n| format!("{n}_mean_ms")));
    let row = |id: String, name: String, s: &faasim_sim::PartSums| {
        let mut r = vec![
            id,
            name,
            s.starts.to_string(),
            s.mean_ms().to_string(),
            ms(s.max_us).to_string(),
        ];
        let means = s.means_ms();
        r.extend((0..p.names.len()).map(|i| means.get(i).copied().unwrap_or(0.0).to_string()));
        r
    };
    let mut rows = vec![row(String::new(), "(all)".into(), &p.run)];
    for (i, s) in p.functions.iter().enumerate() {
        if s.starts > 0 {
            let f = faasim_sim::FunctionId(i as u32);
            rows.push(row(
                i.to_string(),
                report.function_table.get(f).name.clone(),
                s,
            ));
        }
    }
    (header, rows)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1e3
}

fn gb_s(mb_us: u128) -> f64 {
    mb_us as f64 / 1024.0 / 1e6
}

/// `summary.csv`: one row per run. Percentiles are exact up to 1,048,576 completed
/// invocations, then within 0.05% (a log-linear histogram).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct SummaryRow {
    /// The scenario's `name`.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// Arrivals in the run (the trace's, within the horizon with `end = "horizon"`).
    pub invocations: u64,
    /// Invocations that ran to completion.
    pub completed: u64,
    /// Invocations dropped: rejected on arrival (`on_full = "drop"`) or timed out in the queue.
    pub dropped: u64,
    /// Completed invocations that waited for a new instance's cold start.
    pub cold_starts: u64,
    /// `cold_starts / completed` (0 when nothing completed).
    pub cold_start_ratio: f64,
    /// Mean latency of completed invocations, ms: completion − arrival (queueing, cold start
    /// and execution).
    pub latency_mean_ms: f64,
    /// Median latency of completed invocations, ms.
    pub latency_p50_ms: f64,
    /// 95th-percentile latency of completed invocations, ms.
    pub latency_p95_ms: f64,
    /// 99th-percentile latency of completed invocations, ms.
    pub latency_p99_ms: f64,
    /// Mean time from arrival until an instance was assigned, completed invocations, ms.
    pub queue_delay_mean_ms: f64,
    /// Instances started for any reason (cold starts, pre-warms, autoscaler, provisioned).
    pub instances_created: u64,
    /// Most instances alive at once.
    pub peak_instances: u32,
    /// Memory held by idle instances (warm, nothing running), GB-s (1 GB = 1024 MB).
    pub wasted_memory_gb_s: f64,
    /// The user's bill, the run treated as one month, USD:
    /// `list_cost_usd − tier_discount_usd − free_tier_credit_usd`.
    pub user_cost_usd: f64,
    /// `dropped / invocations` (0 with no invocations).
    pub drop_ratio: f64,
    /// The part of `dropped` that waited in the queue for `queue_timeout_ms`.
    pub dropped_timeout: u64,
    /// Longest latency of a completed invocation, ms.
    pub latency_max_ms: f64,
    /// 99th-percentile queue delay of completed invocations, ms.
    pub queue_delay_p99_ms: f64,
    /// Mean cold-start latency waited for by the cold starts, ms.
    pub cold_start_latency_mean_ms: f64,
    /// Most requests waiting in the queue at once.
    pub peak_queue: u32,
    /// Instances evicted when their keep-alive ran out.
    pub evictions_expired: u64,
    /// Idle instances evicted to make room for another (memory pressure).
    pub evictions_reclaimed: u64,
    /// Instance lifetimes summed, creation to eviction, s.
    pub instance_seconds: f64,
    /// Memory held by instances during their cold starts, GB-s.
    pub init_memory_gb_s: f64,
    /// Most memory held by instances at once, cluster-wide, MB.
    pub peak_memory_mb: u64,
    /// Time-averaged fraction (0 to 1) of the cluster's memory held by instances.
    pub memory_utilisation: f64,
    /// Time-averaged fraction (0 to 1) of the cluster's cores busy (VM fleets: of the VMs'
    /// vCPU slots).
    pub cpu_utilisation: f64,
    /// Billed duration × billed memory, after the billing model's rounding, GB-s.
    pub billed_gb_s: f64,
    /// Request fees, after volume tiers and the free tier, USD.
    pub request_cost_usd: f64,
    /// Time-based charges (memory and CPU time), after volume tiers and the free tier, USD.
    pub duration_cost_usd: f64,
    /// Simulated time at the end of the run (see `[run] end`), s.
    pub sim_end_s: f64,
    /// Events processed, arrivals included (0 on a VM fleet).
    pub events: u64,
    /// `serverless`, `vm-static` or `vm-autoscaled`.
    pub platform: &'static str,
    /// The bill at first-tier prices, USD: exactly the sum of the invocations' (and instance
    /// lifetimes') charges, and of `functions.csv`'s `list_cost_usd`.
    pub list_cost_usd: f64,
    /// The CPU-time part of `duration_cost_usd` (Google Cloud Functions, Cloud Run), USD.
    pub cpu_cost_usd: f64,
    /// Provisioned-concurrency charges, USD.
    pub provisioned_cost_usd: f64,
    /// What volume tiers took off `list_cost_usd`, USD.
    pub tier_discount_usd: f64,
    /// What the free tier took off `list_cost_usd`, USD.
    pub free_tier_credit_usd: f64,
    /// The provider's cost of the workers (all of them, for the whole run) at
    /// `billing.worker_hour_usd`, USD; for a VM fleet, the fleet's bill.
    pub provider_cost_usd: f64,
    /// VM fleets: VMs launched (zero for serverless).
    pub vms_launched: u64,
    /// VM fleets: billed VM-hours (zero for serverless).
    pub vm_hours: f64,
    /// Invocations still queued or running when a `[run] end = "horizon"` run stopped
    /// (`completed + dropped + throttled + failed + timed_out + unfinished = invocations`).
    pub unfinished: u64,
    /// Instances removed by the autoscaler (KPA scale-downs), not keep-alive expiries.
    pub evictions_scaled_down: u64,
    /// Workflow executions started (trace rows of a workflow's name); 0 without workflows.
    pub workflow_executions: u64,
    /// Workflow executions completed.
    pub workflow_completed: u64,
    /// End-to-end latency of completed workflow executions, ms: mean, p50, p99.
    pub workflow_latency_mean_ms: f64,
    /// Median.
    pub workflow_latency_p50_ms: f64,
    /// 99th percentile.
    pub workflow_latency_p99_ms: f64,
    /// Cold starts of the executions' tasks.
    pub workflow_cold_starts: u64,
    /// State transitions of every execution.
    pub state_transitions: u64,
    /// The month's orchestration bill (tiers and free tier applied), USD; included in
    /// `user_cost_usd`.
    pub orchestration_cost_usd: f64,
    /// Mean data transfer time per ended execution, ms.
    pub data_transfer_ms_mean: f64,
    /// Storage requests of workflow data passing, USD; included in `user_cost_usd`.
    pub workflow_storage_cost_usd: f64,
    /// Wall-clock time of the simulation, s (not reproducible between runs).
    pub wall_s: f64,
    /// `invocations / wall_s`: invocations simulated per wall-clock second.
    pub wall_invocations_per_s: f64,
    /// How unevenly the workers were used: the most execution time run on one worker over
    /// the mean across all workers (1 = even, `workers` = everything on one). 0 on a VM
    /// fleet, or when nothing ran.
    pub load_imbalance: f64,
    /// Invocations throttled by `[limits]` (synchronous ones; asynchronous events are
    /// retried): `completed + dropped + throttled + failed + timed_out + unfinished =
    /// invocations`, each invocation counted once however often it was retried.
    pub throttled: u64,
    /// Invocations killed at their function's `timeout_s` (after their retries, if
    /// asynchronous).
    pub timed_out: u64,
    /// Invocations that failed: a function error (`error_rate`), a worker failure, or an
    /// asynchronous event out of retries or older than `max_event_age_s`.
    pub failed: u64,
    /// Asynchronous re-deliveries: attempts after the first, for any reason.
    pub retries: u64,
    /// 99th-percentile age of asynchronous events when delivered to the function (every
    /// delivery), ms; 0 without asynchronous invocations.
    pub event_age_p99_ms: f64,
    /// `completed / invocations`: invocations completed successfully (0 with none).
    pub goodput: f64,
    /// Instances that booted a new sandbox (provisioned ones included).
    /// `boots + restores + forks = instances_created`.
    pub boots: u64,
    /// Instances restored from their function's snapshot (`[platform.snapshot]`).
    pub restores: u64,
    /// Instances forked from a ready instance of their function (`[platform.fork]`).
    pub forks: u64,
    /// Snapshot charges (SnapStart's cache and restores), USD; included in `user_cost_usd`.
    pub snapshot_cost_usd: f64,
    /// Median cold-start latency waited for by the cold starts (a boot's, a restore's or
    /// a fork's), ms: exact up to 65,536 cold starts, then within 2^-8 (0.4%).
    pub cold_start_latency_p50_ms: f64,
    /// 99th-percentile cold-start latency of the cold starts, ms.
    pub cold_start_latency_p99_ms: f64,
    /// Invocations completed within their function's `slo_ms` over the invocations of
    /// functions with an SLO (0 when no function has one).
    pub slo_attainment: f64,
    /// Model loads (instance starts of model-serving functions; with `swap`, also batches).
    pub model_loads: u64,
    /// Mean load time: queueing for the worker's loading link plus transfers, ms.
    pub model_load_ms_mean: f64,
    /// Loads that found the weights already in GPU memory.
    pub loads_from_gpu: u64,
    /// Loads from a worker's DRAM cache (with `swap`: swap-ins from host memory).
    pub loads_from_dram: u64,
    /// Loads from a worker's SSD cache.
    pub loads_from_ssd: u64,
    /// Loads from remote storage.
    pub loads_from_remote: u64,
    /// Time-averaged fraction (0 to 1) of the cluster's GPUs computing a batch.
    pub gpu_utilisation: f64,
    /// Requests per batch of model-serving functions.
    pub batch_size_mean: f64,
    /// GPU-second charges of model-serving instances (each instance's life, loading
    /// included, rounded up to a second), USD; included in `user_cost_usd` and
    /// `list_cost_usd`.
    pub gpu_cost_usd: f64,
    /// Median time to first token of the completed requests of LLM models, ms.
    pub ttft_p50_ms: f64,
    /// 99th-percentile time to first token, ms.
    pub ttft_p99_ms: f64,
    /// Functions with an `slo_ms` that the run invoked.
    pub slo_functions: u64,
    /// Of those, the functions that met it: at least 99% of their invocations completed
    /// within it.
    pub slo_functions_met: u64,
}

impl SummaryRow {
    /// The numeric columns of `summary.csv` (the metrics), in file order.
    pub fn numeric_columns() -> Vec<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        // A default row's text columns are empty; its numbers are 0.
        let ok = w.serialize(SummaryRow::default()).is_ok();
        let text = w.into_inner().ok().filter(|_| ok).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let mut lines = text.lines();
        let (Some(head), Some(row)) = (lines.next(), lines.next()) else {
            return Vec::new();
        };
        head.split(',')
            .zip(row.split(','))
            .filter(|(_, v)| v.parse::<f64>().is_ok())
            .map(|(k, _)| k.to_owned())
            .collect()
    }

    /// The row of a serverless run; `worker_hours` prices the provider's workers.
    pub fn new(
        scenario: &str,
        seed: u64,
        s: &mut RunStats,
        wall_s: f64,
        worker_hour_usd: f64,
        workers: u32,
    ) -> Self {
        let inv = s.bill.invoice();
        let hours = s.end.as_secs_f64() / 3600.0;
        SummaryRow {
            scenario: scenario.to_owned(),
            seed,
            invocations: s.invocations,
            completed: s.completed,
            dropped: s.dropped,
            cold_starts: s.cold_starts,
            cold_start_ratio: s.cold_start_ratio(),
            latency_mean_ms: s.latency_us.mean() / 1e3,
            latency_p50_ms: ms(s.latency_us.quantile(0.50)),
            latency_p95_ms: ms(s.latency_us.quantile(0.95)),
            latency_p99_ms: ms(s.latency_us.quantile(0.99)),
            queue_delay_mean_ms: s.queue_delay_us.mean() / 1e3,
            instances_created: s.instances_created,
            peak_instances: s.peak_instances,
            wasted_memory_gb_s: s.wasted_memory_gb_s(),
            user_cost_usd: (inv.total + s.gpu_cost).to_usd(),
            drop_ratio: s.drop_ratio(),
            dropped_timeout: s.dropped_timeout,
            latency_max_ms: ms(s.latency_us.max()),
            queue_delay_p99_ms: ms(s.queue_delay_us.quantile(0.99)),
            cold_start_latency_mean_ms: s.init_us.mean() / 1e3,
            peak_queue: s.peak_queue,
            evictions_expired: s.evictions_expired,
            evictions_reclaimed: s.evictions_reclaimed,
            instance_seconds: s.instance_seconds(),
            init_memory_gb_s: gb_s(s.init_mb_us),
            peak_memory_mb: s.peak_memory_mb,
            memory_utilisation: s.memory_utilisation(),
            cpu_utilisation: s.cpu_utilisation(),
            billed_gb_s: s.billed_mb_ms as f64 / 1024.0 / 1e3,
            request_cost_usd: inv.requests.to_usd(),
            duration_cost_usd: (inv.memory + inv.cpu).to_usd(),
            sim_end_s: s.end.as_secs_f64(),
            events: s.events,
            platform: "serverless",
            list_cost_usd: (inv.list + s.gpu_cost).to_usd(),
            cpu_cost_usd: inv.cpu.to_usd(),
            provisioned_cost_usd: inv.provisioned.to_usd(),
            tier_discount_usd: inv.tier_discount.to_usd(),
            free_tier_credit_usd: inv.free_tier_credit.to_usd(),
            provider_cost_usd: worker_hour_usd * workers as f64 * hours,
            vms_launched: 0,
            vm_hours: 0.0,
            unfinished: s.unfinished,
            evictions_scaled_down: s.evictions_scaled_down,
            workflow_executions: 0,
            workflow_completed: 0,
            workflow_latency_mean_ms: 0.0,
            workflow_latency_p50_ms: 0.0,
            workflow_latency_p99_ms: 0.0,
            workflow_cold_starts: 0,
            state_transitions: 0,
            orchestration_cost_usd: 0.0,
            data_transfer_ms_mean: 0.0,
            workflow_storage_cost_usd: 0.0,
            wall_s,
            wall_invocations_per_s: if wall_s > 0.0 {
                s.invocations as f64 / wall_s
            } else {
                0.0
            },
            load_imbalance: 0.0,
            throttled: s.throttled,
            timed_out: s.timed_out,
            failed: s.failed,
            retries: s.retries,
            event_age_p99_ms: ms(s.event_age_us.quantile(0.99)),
            goodput: s.goodput(),
            boots: s.boots,
            restores: s.restores,
            forks: s.forks,
            snapshot_cost_usd: inv.snapshot.to_usd(),
            cold_start_latency_p50_ms: ms(s.init_us.quantile(0.50)),
            cold_start_latency_p99_ms: ms(s.init_us.quantile(0.99)),
            slo_attainment: s.slo_attainment(),
            gpu_cost_usd: s.gpu_cost.to_usd(),
            slo_functions: s.slo_functions,
            slo_functions_met: s.slo_functions_met,
            ..Default::default()
        }
    }

    /// Fills the model-serving columns from the run's serving report (the run ended at
    /// `end`).
    pub fn add_serving(&mut self, r: &mut faasim_sim::ServingReport, end: faasim_sim::SimTime) {
        let loads = r.loads();
        self.model_loads = loads.iter().sum();
        self.model_load_ms_mean = r.load_ms_mean();
        self.loads_from_gpu = loads[0];
        self.loads_from_dram = loads[1];
        self.loads_from_ssd = loads[2];
        self.loads_from_remote = loads[3];
        self.gpu_utilisation = r.gpu_utilisation(end);
        self.batch_size_mean = r.batch_size_mean();
        self.ttft_p50_ms = ms(r.ttft_us.quantile(0.50));
        self.ttft_p99_ms = ms(r.ttft_us.quantile(0.99));
    }
}

impl SummaryRow {
    /// Fills the workflow columns; `functions_total` is the functions' bill (after tiers and
    /// the free tier), to which orchestration and storage are added for `user_cost_usd`.
    pub fn add_workflows(&mut self, w: &crate::workflows::WorkflowSummary, functions_total: Money) {
        self.workflow_executions = w.executions;
        self.workflow_completed = w.completed;
        self.workflow_latency_mean_ms = w.latency_mean_ms;
        self.workflow_latency_p50_ms = w.latency_p50_ms;
        self.workflow_latency_p99_ms = w.latency_p99_ms;
        self.workflow_cold_starts = w.cold_starts;
        self.state_transitions = w.transitions;
        self.orchestration_cost_usd = w.orchestration_cost_usd;
        self.data_transfer_ms_mean = w.data_transfer_ms_mean;
        self.workflow_storage_cost_usd = w.storage_cost_usd;
        self.user_cost_usd = (functions_total + w.extra_user_cost).to_usd();
    }
}

impl SummaryRow {
    /// The row of the same trace replayed on a VM fleet, in the serverless columns where
    /// they mean the same: instances are VMs, the user's cost is the fleet's bill, CPU
    /// utilisation is the busy fraction of the VMs' vCPU slots; cold starts, drops and
    /// idle memory do not apply (zero).
    pub fn from_vm(
        scenario: &str,
        seed: u64,
        platform: &'static str,
        r: &mut faasim_sim::vm::VmReport,
        wall_s: f64,
    ) -> Self {
        let cost = r.cost_usd();
        let invocations = r.invocations;
        SummaryRow {
            scenario: scenario.to_owned(),
            seed,
            invocations,
            completed: r.completed,
            dropped: invocations - r.completed,
            cold_starts: 0,
            cold_start_ratio: 0.0,
            latency_mean_ms: r.latency_us.mean() / 1e3,
            latency_p50_ms: ms(r.latency_us.quantile(0.50)),
            latency_p95_ms: ms(r.latency_us.quantile(0.95)),
            latency_p99_ms: ms(r.latency_us.quantile(0.99)),
            queue_delay_mean_ms: r.queue_delay_us.mean() / 1e3,
            instances_created: r.vms_launched,
            peak_instances: r.peak_vms,
            wasted_memory_gb_s: 0.0,
            user_cost_usd: cost,
            drop_ratio: 0.0,
            dropped_timeout: 0,
            latency_max_ms: ms(r.latency_us.max()),
            queue_delay_p99_ms: ms(r.queue_delay_us.quantile(0.99)),
            cold_start_latency_mean_ms: 0.0,
            peak_queue: r.peak_queue.min(u32::MAX as u64) as u32,
            evictions_expired: 0,
            evictions_reclaimed: 0,
            instance_seconds: r.vm_us as f64 / 1e6,
            init_memory_gb_s: 0.0,
            peak_memory_mb: 0,
            memory_utilisation: 0.0,
            cpu_utilisation: r.utilisation(),
            billed_gb_s: 0.0,
            request_cost_usd: 0.0,
            duration_cost_usd: cost,
            sim_end_s: r.end.as_secs_f64(),
            events: 0,
            platform,
            list_cost_usd: cost,
            cpu_cost_usd: 0.0,
            provisioned_cost_usd: 0.0,
            tier_discount_usd: 0.0,
            free_tier_credit_usd: 0.0,
            provider_cost_usd: cost,
            vms_launched: r.vms_launched,
            vm_hours: r.billed_vm_s as f64 / 3600.0,
            unfinished: 0,
            evictions_scaled_down: 0,
            workflow_executions: 0,
            workflow_completed: 0,
            workflow_latency_mean_ms: 0.0,
            workflow_latency_p50_ms: 0.0,
            workflow_latency_p99_ms: 0.0,
            workflow_cold_starts: 0,
            state_transitions: 0,
            orchestration_cost_usd: 0.0,
            data_transfer_ms_mean: 0.0,
            workflow_storage_cost_usd: 0.0,
            wall_s,
            wall_invocations_per_s: if wall_s > 0.0 {
                invocations as f64 / wall_s
            } else {
                0.0
            },
            load_imbalance: 0.0,
            throttled: 0,
            timed_out: 0,
            failed: 0,
            retries: 0,
            event_age_p99_ms: 0.0,
            goodput: if invocations > 0 {
                r.completed as f64 / invocations as f64
            } else {
                0.0
            },
            ..Default::default()
        }
    }
}

/// `functions.csv`: one row per function, in order of first appearance. Percentiles are
/// exact up to 1,024 completed invocations of the function, then within 0.8%.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionRow {
    /// The function's id, as in `invocations.csv`'s `function_id`.
    pub function_id: u32,
    /// The function's name in the trace.
    pub function: String,
    /// The function's configured memory, MB.
    pub memory_mb: u32,
    /// Its arrivals in the run.
    pub invocations: u64,
    /// Its invocations that ran to completion.
    pub completed: u64,
    /// Its invocations dropped (rejected on arrival or timed out in the queue).
    pub dropped: u64,
    /// Its completed invocations that waited for a new instance's cold start.
    pub cold_starts: u64,
    /// `cold_starts / completed` (0 when nothing completed).
    pub cold_start_ratio: f64,
    /// Mean latency (completion − arrival) of its completed invocations, ms.
    pub latency_mean_ms: f64,
    /// Median latency of its completed invocations, ms.
    pub latency_p50_ms: f64,
    /// 95th-percentile latency of its completed invocations, ms.
    pub latency_p95_ms: f64,
    /// 99th-percentile latency of its completed invocations, ms.
    pub latency_p99_ms: f64,
    /// Its instances started, for any reason.
    pub instances_created: u64,
    /// Memory held by its idle instances, GB-s (1 GB = 1024 MB).
    pub wasted_memory_gb_s: f64,
    /// Billed duration × billed memory of its charges, GB-s.
    pub billed_gb_s: f64,
    /// The function's charges at list (first-tier) prices; the rows add up to the summary's
    /// `list_cost_usd` (tiers and the free tier apply to the account, not to a function).
    pub list_cost_usd: f64,
    /// Invocations still queued or running at the horizon.
    pub unfinished: u64,
}

/// The rows of `functions.csv`, one per function of the report, in order of first appearance.
pub fn function_rows(report: &mut RunReport) -> Vec<FunctionRow> {
    let table: &FunctionTable = &report.function_table;
    report
        .functions
        .iter_mut()
        .map(|f| {
            let spec = table.get(f.function);
            FunctionRow {
                function_id: f.function.0,
                function: spec.name.clone(),
                memory_mb: spec.memory_mb,
                invocations: f.invocations,
                completed: f.completed,
                dropped: f.dropped,
                cold_starts: f.cold_starts,
                cold_start_ratio: if f.completed == 0 {
                    0.0
                } else {
                    f.cold_starts as f64 / f.completed as f64
                },
                latency_mean_ms: f.latency_us.mean() / 1e3,
                latency_p50_ms: ms(f.latency_us.quantile(0.5)),
                latency_p95_ms: ms(f.latency_us.quantile(0.95)),
                latency_p99_ms: ms(f.latency_us.quantile(0.99)),
                instances_created: f.instances_created,
                wasted_memory_gb_s: gb_s(f.idle_mb_us),
                billed_gb_s: f.mb_ms as f64 / 1024.0 / 1e3,
                list_cost_usd: f.cost.to_usd(),
                unfinished: f.unfinished,
            }
        })
        .collect()
}

/// `timeseries.csv`: the cluster at the end of each interval. The state columns describe the
/// instant `time_s`, after every event at it; `arrivals`, `instances_started`, `cold_starts`
/// and `dropped` count the interval. The last row is at the end of the run, even when that
/// interval is shorter, so the rows add up to the summary's totals.
#[derive(Debug, Clone, Serialize)]
pub struct TimeseriesRow {
    /// End of the interval (the instant the state columns describe), simulated s.
    pub time_s: f64,
    /// Instances alive (starting, busy or idle).
    pub live_instances: u32,
    /// Instances in their cold start.
    pub starting_instances: u32,
    /// Ready instances running at least one execution.
    pub busy_instances: u32,
    /// Ready instances running nothing (warm, holding memory).
    pub idle_instances: u32,
    /// Memory held by all instances, MB.
    pub memory_used_mb: u64,
    /// Memory held by idle instances, MB.
    pub memory_idle_mb: u64,
    /// Executions running.
    pub executing: u32,
    /// Requests waiting in the queue.
    pub queue_length: u32,
    /// Arrivals during the interval.
    pub arrivals: u64,
    /// Instances created in the interval: requests' cold starts, pre-warms, autoscaler and
    /// provisioned instances.
    pub instances_started: u64,
    /// Invocations completed in the interval that waited for a new instance (the summary's
    /// `cold_starts`, per interval).
    pub cold_starts: u64,
    /// Invocations dropped during the interval.
    pub dropped: u64,
}

/// `invocations.csv`: one row per invocation, in the order they ended.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationRow {
    /// Sequence number in arrival order.
    pub id: u64,
    /// The function invoked (`functions.csv`'s `function_id`).
    pub function_id: u32,
    /// `completed`, `dropped-full`, `dropped-timeout` or `unfinished` (cut at the horizon).
    pub outcome: &'static str,
    /// Arrival time, simulated ms.
    pub arrival_ms: f64,
    /// Execution start (after the cold start, if any), simulated ms.
    pub start_ms: f64,
    /// When it completed, was dropped, or was cut at the horizon, simulated ms.
    pub end_ms: f64,
    /// `end_ms − arrival_ms` if completed, 0 otherwise, ms.
    pub latency_ms: f64,
    /// Time from arrival until an instance was assigned, ms.
    pub queue_delay_ms: f64,
    /// Whether it waited for a new instance's cold start.
    pub cold_start: bool,
    /// Cold-start latency it waited for, ms (0 when warm).
    pub init_ms: f64,
    /// The worker of its instance; empty if it never got one.
    pub worker: Option<u32>,
    /// The instance that served it (or was starting for it); empty if it never got one.
    pub instance: Option<u32>,
    /// Its function's memory, MB.
    pub memory_mb: u32,
    /// Billed duration after the billing model's rounding, ms (0 unless completed).
    pub billed_ms: u64,
    /// Its charge at list (first-tier) prices, request fee plus duration, USD (0 unless
    /// completed).
    pub cost_usd: f64,
}

/// Streams time-series samples and (optionally) invocation rows to temporary files.
/// The first write error is kept and reported when the run ends.
pub struct FileRecorder {
    timeseries: Option<csv::Writer<AtomicFile>>,
    invocations: Option<csv::Writer<AtomicFile>>,
    error: Option<io::Error>,
    /// Time-series rows written, and the most that may be.
    rows: u64,
    max_rows: u64,
    /// Set once a sample past `max_rows` came (and was not written).
    overflow: Arc<AtomicBool>,
}

impl FileRecorder {
    /// Writes at most [`MAX_TIMESERIES_ROWS`](crate::limits::MAX_TIMESERIES_ROWS) rows of
    /// `timeseries.csv`.
    pub fn create(dir: &Path, invocations: bool) -> io::Result<Self> {
        Self::with_max_rows(dir, invocations, crate::limits::MAX_TIMESERIES_ROWS)
    }

    /// Set (shared) once a time-series row past the limit was refused: the run must fail.
    pub fn overflow_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.overflow)
    }

    /// As [`create`](Self::create), with at most `max_rows` time-series rows: past them a
    /// sample is not written and the [`overflow_flag`](Self::overflow_flag) is set.
    pub fn with_max_rows(dir: &Path, invocations: bool, max_rows: u64) -> io::Result<Self> {
        let timeseries = Some(csv::Writer::from_writer(AtomicFile::create(
            &dir.join("timeseries.csv"),
        )?));
        let invocations = if invocations {
            Some(csv::Writer::from_writer(AtomicFile::create(
                &dir.join("invocations.csv"),
            )?))
        } else {
            None
        };
        Ok(FileRecorder {
            timeseries,
            invocations,
            error: None,
            rows: 0,
            max_rows,
            overflow: Arc::new(AtomicBool::new(false)),
        })
    }

    fn keep(&mut self, r: csv::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert_with(|| io::Error::other(e));
        }
    }

    /// Completes both files (renames them into place), or reports the first error.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for w in [self.timeseries.take(), self.invocations.take()]
            .into_iter()
            .flatten()
        {
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.commit()?;
        }
        Ok(())
    }
}

impl Recorder for FileRecorder {
    fn invocation(&mut self, r: &InvocationRecord) {
        let Some(w) = self.invocations.as_mut() else {
            return;
        };
        let row = InvocationRow {
            id: r.id,
            function_id: r.function.0,
            outcome: r.outcome.as_str(),
            arrival_ms: r.arrival.as_ms_f64(),
            start_ms: r.start.as_ms_f64(),
            end_ms: r.end.as_ms_f64(),
            latency_ms: r.latency().as_ms_f64(),
            queue_delay_ms: r.queue_delay().as_ms_f64(),
            cold_start: r.cold_start,
            init_ms: r.init.as_ms_f64(),
            worker: r.worker.map(|w| w.0),
            instance: r.instance.map(|i| i.0),
            memory_mb: r.memory_mb,
            billed_ms: r.charge.billed_ms,
            cost_usd: r.charge.total().to_usd(),
        };
        let res = w.serialize(row);
        self.keep(res);
    }

    // Completed invocations and their charges are written only in `invocations.csv`.
    fn wants_completions(&self) -> bool {
        self.invocations.is_some()
    }
    fn reads_charges(&self) -> bool {
        self.invocations.is_some()
    }

    fn sample(&mut self, s: &Sample) {
        let Some(w) = self.timeseries.as_mut() else {
            return;
        };
        if self.rows >= self.max_rows {
            self.overflow.store(true, Ordering::Relaxed);
            return;
        }
        self.rows += 1;
        let row = TimeseriesRow {
            time_s: s.time.as_secs_f64(),
            live_instances: s.live_instances,
            starting_instances: s.starting_instances,
            busy_instances: s.busy_instances,
            idle_instances: s.idle_instances,
            memory_used_mb: s.memory_used_mb,
            memory_idle_mb: s.memory_idle_mb,
            executing: s.executing,
            queue_length: s.queue_length,
            arrivals: s.arrivals,
            instances_started: s.instances_started,
            cold_starts: s.cold_starts,
            dropped: s.dropped,
        };
        let res = w.serialize(row);
        self.keep(res);
    }
}
