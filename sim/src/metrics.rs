//! What a run measures. The engine keeps the run-wide and per-function aggregates itself
//! (bounded memory); per-invocation records and periodic samples go to a [`Recorder`],
//! an observer that may stream them to disk.

use crate::billing::{Bill, Billing, Charge, Money};
use crate::digest::Digest;
use crate::ids::{FunctionId, InstanceId, WorkerId};
use crate::time::{SimDuration, SimTime};

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Executed to the end (and billed).
    Completed,
    /// Rejected on arrival: no room and `on_full = "drop"`.
    DroppedFull,
    /// Waited in the queue for `queue_timeout_ms` without being served.
    DroppedTimeout,
    /// Still queued or running when the run stopped at its horizon.
    Unfinished,
    /// Refused by a concurrency limit or the scaling rate (HTTP 429): a synchronous request
    /// at once; an asynchronous event is retried and never ends throttled.
    Throttled,
    /// Its execution failed (a function error, billed in full, or its worker failed), or an
    /// asynchronous event ran out of retries or grew older than its maximum age.
    Failed,
    /// Killed at its function's timeout, billed up to it.
    TimedOut,
}

impl Outcome {
    /// The outcome's name in result files (`completed`, `dropped-full`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::DroppedFull => "dropped-full",
            Outcome::DroppedTimeout => "dropped-timeout",
            Outcome::Unfinished => "unfinished",
            Outcome::Throttled => "throttled",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed-out",
        }
    }
}

/// One invocation, reported once when it ends (completed, dropped, throttled, failed, timed
/// out, or unfinished at the horizon), however often it was retried: its times are those of
/// its last attempt and its charge is the sum of its attempts'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvocationRecord {
    /// Sequence number in arrival order.
    pub id: u64,
    /// The function invoked.
    pub function: FunctionId,
    /// How it ended.
    pub outcome: Outcome,
    /// When it arrived.
    pub arrival: SimTime,
    /// When it left the queue and was bound to an instance (= arrival if it never waited).
    pub dispatched: SimTime,
    /// When it started executing (after the cold start, if any).
    pub start: SimTime,
    /// When it completed, was dropped, or was cut at the horizon.
    pub end: SimTime,
    /// Whether it waited for a new instance's cold start.
    pub cold_start: bool,
    /// The cold-start latency it waited for (zero when warm).
    pub init: SimDuration,
    /// The worker of its instance; `None` if it never got one.
    pub worker: Option<WorkerId>,
    /// The instance that served it (or was starting for it); `None` if it never got one.
    pub instance: Option<InstanceId>,
    /// Its function's memory, MB.
    pub memory_mb: u32,
    /// What it cost at list (first-tier) prices: every attempt that executed (completed,
    /// failed or timed out), zero for one that never ran.
    pub charge: Charge,
}

impl InvocationRecord {
    /// Completion minus arrival (zero for drops).
    pub fn latency(&self) -> SimDuration {
        match self.outcome {
            Outcome::Completed => self.end - self.arrival,
            _ => SimDuration::ZERO,
        }
    }
    /// Dispatch minus arrival: time spent waiting in the queue.
    pub fn queue_delay(&self) -> SimDuration {
        self.dispatched - self.arrival
    }
}

/// The cluster at one instant (the end of a sampling interval, after every event at it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// The sampling instant.
    pub time: SimTime,
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
    /// Arrivals during the interval that ends here.
    pub arrivals: u64,
    /// Instances created during the interval, for whatever reason (a request's cold start,
    /// a pre-warm, the autoscaler, provisioned concurrency).
    pub instances_started: u64,
    /// Invocations that completed during the interval after waiting for a new instance
    /// (the summary's `cold_starts`, per interval).
    pub cold_starts: u64,
    /// Invocations dropped during the interval.
    pub dropped: u64,
}

/// An observer of a run.
pub trait Recorder {
    /// Called once per invocation when it ends, after the engine has accounted for it.
    fn invocation(&mut self, _r: &InvocationRecord) {}
    /// With a sampling interval, called at each multiple of it and once at the end of the run.
    fn sample(&mut self, _s: &Sample) {}
    /// Whether [`Recorder::invocation`] wants completed invocations at all, asked once at
    /// the start of a run: a recorder that does not may miss them, which spares the engine
    /// building a record per completion. The run's figures are the same either way.
    fn wants_completions(&self) -> bool {
        true
    }
    /// Whether [`Recorder::invocation`] reads the `charge` of completed invocations, asked
    /// once at the start of a run: a recorder that does not may be given completed records
    /// with an empty charge, which lets the engine price completions once at the end of the
    /// run rather than one by one. The run's figures are the same either way.
    fn reads_charges(&self) -> bool {
        true
    }
}

/// A recorder that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullRecorder;
impl Recorder for NullRecorder {
    fn wants_completions(&self) -> bool {
        false
    }
    fn reads_charges(&self) -> bool {
        false
    }
}

/// A recorder that keeps everything in memory (tests, small runs).
#[derive(Debug, Default, Clone)]
pub struct VecRecorder {
    /// Every invocation, in the order they ended.
    pub invocations: Vec<InvocationRecord>,
    /// Every sample, in time order.
    pub samples: Vec<Sample>,
}

impl Recorder for VecRecorder {
    fn invocation(&mut self, r: &InvocationRecord) {
        self.invocations.push(*r);
    }
    fn sample(&mut self, s: &Sample) {
        self.samples.push(*s);
    }
}

/// Per-function aggregates.
#[derive(Debug, Clone)]
pub struct FunctionStats {
    /// The function.
    pub function: FunctionId,
    /// Its arrivals (the trace's and submitted ones).
    pub invocations: u64,
    /// Its invocations that completed.
    pub completed: u64,
    /// Its invocations dropped (queue full or timed out).
    pub dropped: u64,
    /// Still queued or running at the horizon.
    pub unfinished: u64,
    /// Its invocations throttled (synchronous ones: asynchronous events are retried).
    pub throttled: u64,
    /// Its invocations that failed.
    pub failed: u64,
    /// Its invocations killed at their timeout.
    pub timed_out: u64,
    /// Its completed invocations that waited for a cold start.
    pub cold_starts: u64,
    /// Completion minus arrival of its completed invocations, µs.
    pub latency_us: Digest,
    /// Billed memory-time of its charges, MB-ms.
    pub mb_ms: u128,
    /// The function's charges at list (first-tier) prices: the functions' costs add up to
    /// the run's `list_cost`, not to the invoice, whose tiers and free tier are per account.
    pub cost: Money,
    /// Idle memory of its instances, MB x microseconds.
    pub idle_mb_us: u128,
    /// Its instances created, for any reason.
    pub instances_created: u64,
    /// Its invocations completed within its SLO (0 without one).
    pub slo_met: u64,
}

impl FunctionStats {
    /// Zeroed figures for `function`.
    pub fn new(function: FunctionId) -> Self {
        FunctionStats {
            function,
            invocations: 0,
            completed: 0,
            dropped: 0,
            unfinished: 0,
            throttled: 0,
            failed: 0,
            timed_out: 0,
            cold_starts: 0,
            latency_us: Digest::per_function(),
            mb_ms: 0,
            cost: Money::ZERO,
            idle_mb_us: 0,
            instances_created: 0,
            slo_met: 0,
        }
    }
}

/// Run-wide aggregates.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// Arrivals (the trace's and submitted ones).
    pub invocations: u64,
    /// Invocations that completed.
    pub completed: u64,
    /// Invocations dropped, for any reason (timeouts included).
    pub dropped: u64,
    /// The part of `dropped` that timed out in the queue.
    pub dropped_timeout: u64,
    /// Still queued or running at the horizon (`RunEnd::Horizon`).
    pub unfinished: u64,
    /// Invocations throttled: `completed + dropped + throttled + failed + timed_out +
    /// unfinished = invocations`, each invocation counted once however often it was retried.
    pub throttled: u64,
    /// Invocations that failed (function errors, worker failures, asynchronous events out of
    /// retries or too old).
    pub failed: u64,
    /// Invocations killed at their timeout.
    pub timed_out: u64,
    /// Asynchronous re-deliveries: attempts after the first, for any reason.
    pub retries: u64,
    /// Age of asynchronous events when delivered to the function (every attempt), µs.
    pub event_age_us: Digest,
    /// Completed invocations that waited for a cold start.
    pub cold_starts: u64,
    /// Completion minus arrival of completed invocations, µs.
    pub latency_us: Digest,
    /// Arrival to dispatch of completed invocations (zero if it never waited), µs.
    pub queue_delay_us: Digest,
    /// Cold-start latency of the completed invocations that had one, µs.
    pub init_us: Digest,
    /// Instances created, for any reason (cold starts, pre-warms, autoscaler, provisioned).
    pub instances_created: u64,
    /// Instances evicted when their keep-alive ran out.
    pub evictions_expired: u64,
    /// Idle instances evicted to make room for another instance.
    pub evictions_reclaimed: u64,
    /// Instances removed by the autoscaler.
    pub evictions_scaled_down: u64,
    /// Most instances alive at once.
    pub peak_instances: u32,
    /// Most memory held by instances at once, MB.
    pub peak_memory_mb: u64,
    /// Longest queue of waiting requests.
    pub peak_queue: u32,
    /// Memory held by idle instances (warm, nothing running), MB x microseconds.
    pub idle_mb_us: u128,
    /// Memory held by instances still starting, MB x microseconds.
    pub init_mb_us: u128,
    /// Instance lifetimes summed, microseconds.
    pub instance_us: u128,
    /// Memory in use integrated over time, MB x microseconds.
    pub used_mb_us: u128,
    /// Busy cores integrated over time (min(executions, cores) per worker), core-microseconds.
    pub busy_core_us: u128,
    /// The cluster's memory, MB.
    pub total_memory_mb: u64,
    /// The cluster's cores.
    pub total_cores: u64,
    /// Billed memory-time of every charge, MB-ms.
    pub billed_mb_ms: u128,
    /// Request fees at list prices.
    pub request_cost: Money,
    /// Time-based charges (memory, CPU, instance and provisioned time) at list prices.
    pub duration_cost: Money,
    /// The instant the run ended (last event processed).
    pub end: SimTime,
    /// Events processed (arrivals included), for throughput figures.
    pub events: u64,
    /// The month's bill: every charge, with tiers and the free tier applied at the end.
    pub bill: Bill,
    /// Instances that booted (a new sandbox: every start unless snapshots or forks are on;
    /// provisioned instances boot ahead). `boots + restores + forks = instances_created`.
    pub boots: u64,
    /// Instances restored from their function's snapshot.
    pub restores: u64,
    /// Instances forked from a ready instance of their function on the same worker.
    pub forks: u64,
    /// Snapshots taken (a function's first, and again after an eviction).
    pub snapshots_created: u64,
    /// Snapshots evicted from a full store.
    pub snapshots_evicted: u64,
    /// Snapshot data the restores read from the store, MB.
    pub snapshot_read_mb: u128,
    /// Arrivals of functions that have an SLO (`slo_ms`).
    pub slo_invocations: u64,
    /// Of those, the invocations that completed within their function's SLO.
    pub slo_met: u64,
    /// Functions with an SLO that the run invoked.
    pub slo_functions: u64,
    /// Of those, the functions that met it: at least 99% of their invocations completed
    /// within it.
    pub slo_functions_met: u64,
    /// GPU-second charges of model-serving instances (outside the per-request bill: no
    /// tiers, no free tier), included in [`RunStats::user_cost`] and [`RunStats::list_cost`].
    pub gpu_cost: Money,
    /// The earliest and the latest arrival among the run's invocations, as their records
    /// say (`None` with no invocation).
    pub arrival_span: Option<(SimTime, SimTime)>,
    /// The latest end of a completed invocation (zero with none).
    pub last_completion: SimTime,
    /// Execution time (start to end) of the completed invocations on each worker, µs, by
    /// worker id: how evenly the run loaded its workers.
    pub worker_exec_us: Vec<u64>,
}

impl RunStats {
    pub(crate) fn new(total_memory_mb: u64, total_cores: u64, billing: Billing) -> Self {
        RunStats {
            invocations: 0,
            completed: 0,
            dropped: 0,
            dropped_timeout: 0,
            unfinished: 0,
            throttled: 0,
            failed: 0,
            timed_out: 0,
            retries: 0,
            event_age_us: Digest::run_wide(),
            cold_starts: 0,
            latency_us: Digest::run_wide(),
            queue_delay_us: Digest::run_wide(),
            init_us: Digest::new(1 << 16, 8),
            instances_created: 0,
            evictions_expired: 0,
            evictions_reclaimed: 0,
            evictions_scaled_down: 0,
            peak_instances: 0,
            peak_memory_mb: 0,
            peak_queue: 0,
            idle_mb_us: 0,
            init_mb_us: 0,
            instance_us: 0,
            used_mb_us: 0,
            busy_core_us: 0,
            total_memory_mb,
            total_cores,
            billed_mb_ms: 0,
            request_cost: Money::ZERO,
            duration_cost: Money::ZERO,
            end: SimTime::ZERO,
            events: 0,
            bill: Bill::new(billing),
            boots: 0,
            restores: 0,
            forks: 0,
            snapshots_created: 0,
            snapshots_evicted: 0,
            snapshot_read_mb: 0,
            slo_invocations: 0,
            slo_met: 0,
            slo_functions: 0,
            slo_functions_met: 0,
            gpu_cost: Money::ZERO,
            arrival_span: None,
            last_completion: SimTime::ZERO,
            worker_exec_us: Vec::new(),
        }
    }

    /// The most execution time run on one of `workers` workers over the mean across them
    /// (0 when nothing ran).
    pub fn load_imbalance(&self, workers: u32) -> f64 {
        let total: u64 = self.worker_exec_us.iter().sum();
        let max = self.worker_exec_us.iter().copied().max().unwrap_or(0);
        if total == 0 || workers == 0 {
            0.0
        } else {
            max as f64 * workers as f64 / total as f64
        }
    }

    /// The user's bill for the run (treated as one month): list price minus volume tiers
    /// and the free tier. The same figure as `summary.csv`'s `user_cost_usd`.
    pub fn user_cost(&self) -> Money {
        self.bill.invoice().total + self.gpu_cost
    }
    /// The run's charges at list (first-tier) prices: exactly the sum of every invocation's
    /// (and instance lifetime's) charge, and of the functions' `cost`.
    pub fn list_cost(&self) -> Money {
        self.bill.invoice().list + self.gpu_cost
    }
    /// Completed within their SLO over the invocations of functions with an SLO (0 when no
    /// function has one).
    pub fn slo_attainment(&self) -> f64 {
        ratio(self.slo_met, self.slo_invocations)
    }
    /// Cold starts per completed invocation.
    pub fn cold_start_ratio(&self) -> f64 {
        ratio(self.cold_starts, self.completed)
    }
    /// Dropped invocations per arrival.
    pub fn drop_ratio(&self) -> f64 {
        ratio(self.dropped, self.invocations)
    }
    /// Invocations completed successfully per invocation (0 with none).
    pub fn goodput(&self) -> f64 {
        ratio(self.completed, self.invocations)
    }
    /// Idle ("wasted") memory in GB-seconds (1 GB = 1024 MB).
    pub fn wasted_memory_gb_s(&self) -> f64 {
        self.idle_mb_us as f64 / 1024.0 / 1e6
    }
    /// Instance lifetimes summed, seconds.
    pub fn instance_seconds(&self) -> f64 {
        self.instance_us as f64 / 1e6
    }
    /// Mean fraction of the cluster's memory in use over the run.
    pub fn memory_utilisation(&self) -> f64 {
        let denom = self.total_memory_mb as f64 * self.end.as_micros() as f64;
        if denom == 0.0 {
            0.0
        } else {
            self.used_mb_us as f64 / denom
        }
    }
    /// Mean fraction of the cluster's cores busy over the run.
    pub fn cpu_utilisation(&self) -> f64 {
        let denom = self.total_cores as f64 * self.end.as_micros() as f64;
        if denom == 0.0 {
            0.0
        } else {
            self.busy_core_us as f64 / denom
        }
    }
}

pub(crate) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Everything a run reports.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Run-wide figures.
    pub stats: RunStats,
    /// Per-function figures, indexed by [`FunctionId`].
    pub functions: Vec<FunctionStats>,
    /// The functions the run saw (names and memory).
    pub function_table: crate::workload::FunctionTable,
    /// Names given per-function cold starts that the run never saw: a likely typo.
    pub unused_cold_start_names: Vec<String>,
    /// `[functions."NAME"]` entries naming a function the run never saw.
    pub unused_function_settings: Vec<String>,
    /// The parts of the cold starts drawn from recorded tables (empty when none is used).
    pub cold_start_parts: ColdStartParts,
    /// Model serving's figures, when the run served models.
    pub serving: Option<crate::models::ServingReport>,
}

/// The breakdown of the cold starts drawn from recorded tables
/// ([`DistSpec::Recorded`](crate::DistSpec)): for every instance start whose latency was
/// a recorded row, each part's value is added up, run-wide and per function, so a run can
/// report the mean of each part over its starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColdStartParts {
    /// The part names of every recorded table of the run, in order of first appearance.
    pub names: Vec<String>,
    /// Run-wide sums.
    pub run: PartSums,
    /// Per function, indexed by [`FunctionId`] (shorter than the
    /// function table when the last functions drew none).
    pub functions: Vec<PartSums>,
}

/// Starts drawn from recorded rows and each part's sum over them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartSums {
    /// Instance starts whose cold start was a recorded row.
    pub starts: u64,
    /// The longest of those cold starts (the row's total), µs.
    pub max_us: u64,
    /// Each part's sum over those starts, µs, in the order of [`ColdStartParts::names`] (a
    /// part a table does not have counts 0 for its starts).
    pub sums_us: Vec<u128>,
}

impl PartSums {
    /// The mean cold start (the parts' sums added up) over the starts, ms (0 with no start).
    pub fn mean_ms(&self) -> f64 {
        if self.starts == 0 {
            return 0.0;
        }
        self.sums_us.iter().sum::<u128>() as f64 / self.starts as f64 / 1e3
    }

    /// Each part's mean over the starts, ms (0 with no start).
    pub fn means_ms(&self) -> Vec<f64> {
        self.sums_us
            .iter()
            .map(|&s| {
                if self.starts == 0 {
                    0.0
                } else {
                    s as f64 / self.starts as f64 / 1e3
                }
            })
            .collect()
    }

    pub(crate) fn add(&mut self, parts: usize, map: &[usize], row: &[u64]) {
        if self.sums_us.len() < parts {
            self.sums_us.resize(parts, 0);
        }
        self.starts += 1;
        self.max_us = self.max_us.max(row.iter().sum());
        for (&g, &v) in map.iter().zip(row) {
            self.sums_us[g] += v as u128;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_imbalance_is_the_busiest_worker_over_the_mean() {
        // By hand: 3 workers ran 6 s, 2 s and 0 s; the mean is 8/3 s and the busiest 6 s,
        // so 6 / (8/3) = 2.25. With nothing run, 0.
        let mut s = RunStats::new(1024, 4, Billing::default());
        s.worker_exec_us = vec![6_000_000, 2_000_000, 0];
        assert_eq!(s.load_imbalance(3), 2.25);
        s.worker_exec_us = vec![0, 0, 0];
        assert_eq!(s.load_imbalance(3), 0.0);
    }
}
