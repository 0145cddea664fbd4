//! Small builders shared by the suite: workloads in memory, a one-call run, and records in
//! arrival order.

#![allow(dead_code)]

use faasim_policies::{KeepAliveSpec, PlacementSpec, RoutingSpec};
use faasim_sim::{
    run, Arrival, Billing, CpuModel, DistSpec, EngineConfig, FunctionSpec, InvocationRecord,
    OnFull, Policies, RunReport, SimDuration, SimTime, VecRecorder, VecSource, WorkerSpec,
};

pub const MS: u64 = 1_000;
pub const S: u64 = 1_000_000;

pub fn t(us: u64) -> SimTime {
    SimTime(us)
}

pub fn d(us: u64) -> SimDuration {
    SimDuration(us)
}

pub fn func(name: &str, memory_mb: u32) -> FunctionSpec {
    FunctionSpec {
        name: name.to_string(),
        memory_mb,
    }
}

/// An arrival of function `f` at `at_us` running `dur_us` on an uncontended core.
pub fn arr(at_us: u64, f: u32, dur_us: u64) -> Arrival {
    Arrival {
        time: SimTime(at_us),
        function: faasim_sim::FunctionId(f),
        duration: SimDuration(dur_us),
        cold_start: None,
        mode: None,
    }
}

/// One worker, instance concurrency 1, queue on full, no timeout, a constant cold start,
/// processor sharing, default billing, seed 1, no samples.
pub fn config(memory_mb: u32, cores: u32, cold_start_ms: f64) -> EngineConfig {
    EngineConfig {
        workers: vec![WorkerSpec { memory_mb, cores }],
        instance_concurrency: 1,
        on_full: OnFull::Queue,
        queue_timeout: None,
        cold_start: DistSpec::Constant {
            value_ms: cold_start_ms,
        },
        cold_start_per_function: Vec::new(),
        functions: Default::default(),
        provider: Default::default(),
        cpu: CpuModel::ProcessorSharing,
        billing: Billing::default(),
        seed: 1,
        sample_interval: None,
        provisioned_per_function: 0,
        end: faasim_sim::RunEnd::Drain,
    }
}

pub fn fixed(ttl_s: f64, reset_on_use: bool) -> KeepAliveSpec {
    KeepAliveSpec::Fixed {
        ttl_s,
        reset_on_use,
    }
}

/// First-fit placement, most-recently-used routing, and the given keep-alive.
pub fn policies(keep_alive: &KeepAliveSpec) -> Policies {
    faasim_policies::build(
        &PlacementSpec::FirstFit {},
        &RoutingSpec::MostRecentlyUsed {},
        keep_alive,
        &Default::default(),
    )
    .expect("valid policy specs")
}

/// Runs the workload; returns the report and the invocation records sorted by id.
pub fn simulate(
    cfg: &EngineConfig,
    pol: Policies,
    functions: Vec<FunctionSpec>,
    arrivals: Vec<Arrival>,
) -> (RunReport, VecRecorder) {
    let mut source = VecSource::new(functions, arrivals);
    let mut rec = VecRecorder::default();
    let report = run(cfg, pol, &mut source, &mut rec).expect("the run succeeds");
    rec.invocations.sort_by_key(|r| r.id);
    (report, rec)
}

/// `(start, end)` of each record, in µs, for compact exact comparisons.
pub fn spans(recs: &[InvocationRecord]) -> Vec<(u64, u64)> {
    recs.iter()
        .map(|r| (r.start.as_micros(), r.end.as_micros()))
        .collect()
}

pub fn colds(recs: &[InvocationRecord]) -> Vec<bool> {
    recs.iter().map(|r| r.cold_start).collect()
}

pub fn latencies(recs: &[InvocationRecord]) -> Vec<u64> {
    recs.iter().map(|r| r.latency().as_micros()).collect()
}
