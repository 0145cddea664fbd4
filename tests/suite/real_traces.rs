//! Policies on the real trace samples the repository ships (`traces/samples/`): what must
//! hold whatever the trace; and the experiment that replays one of them finds it.

use faasim_policies::{KeepAliveSpec, LoadBalancingSpec, PlacementSpec, RoutingSpec};
use faasim_sim::{run, CpuModel, DistSpec, EngineConfig, NullRecorder, WorkerSpec};
use std::path::{Path, PathBuf};

/// `traces/samples/`; panics, naming the path, when it is missing.
fn traces() -> PathBuf {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/samples")).to_path_buf();
    assert!(
        p.is_dir(),
        "the trace samples {} are missing (they ship with the repository)",
        p.display()
    );
    p
}

const AZURE2021: &str =
    "format = \"azure2021\"\npath = \"azure2021-head/Azure2021_200.csv\"\nunit = \"function\"\n";
const AZURE2019: &str = "format = \"azure2019\"\ninvocations = \"azure2019-sample-500-min480-959/invocations.csv\"\ndurations = \"azure2019-sample-500-min480-959/durations.csv\"\nmemory = \"azure2019-sample-500-min480-959/memory.csv\"\n";

fn ample() -> EngineConfig {
    EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: 1 << 22,
                cores: 4096
            };
            8
        ],
        cold_start: DistSpec::Constant { value_ms: 0.0 },
        cpu: CpuModel::Ignore,
        ..EngineConfig::default()
    }
}

fn run_on(dir: &Path, trace: &str, ka: &str, placement: &str) -> faasim_sim::RunReport {
    run_balanced(dir, trace, ka, placement, "policy = \"cluster-wide\"")
}

/// [`run_on`] with a `[load_balancing]` table.
fn run_balanced(
    dir: &Path,
    trace: &str,
    ka: &str,
    placement: &str,
    balancer: &str,
) -> faasim_sim::RunReport {
    let spec: faasim_traces::TraceSpec = toml::from_str(trace).unwrap();
    let mut t = faasim_traces::open(&spec, dir, 1).unwrap();
    let ka: KeepAliveSpec = toml::from_str(ka).unwrap();
    let pl: PlacementSpec = toml::from_str(placement).unwrap();
    let lb: LoadBalancingSpec = toml::from_str(balancer).unwrap();
    let policies = faasim_policies::build(&pl, &RoutingSpec::default(), &ka, &lb).unwrap();
    run(&ample(), policies, t.source_mut(), &mut NullRecorder).unwrap()
}

#[test]
fn no_keep_alive_makes_every_invocation_cold_on_a_real_trace() {
    let dir = traces();
    let r = run_on(
        &dir,
        AZURE2021,
        "policy = \"none\"",
        "policy = \"first-fit\"",
    );
    assert_eq!(r.stats.invocations, 199);
    assert_eq!(r.stats.completed, 199);
    assert_eq!(r.stats.cold_starts, 199);
}

#[test]
fn infinite_keep_alive_starts_one_instance_per_concurrent_execution_ever_needed() {
    let dir = traces();
    // The peak of concurrent executions per function, from the trace itself (a sweep over
    // start and end instants; with cold start 0 and no CPU contention, occupancy is exactly
    // [start, start + duration)).
    let spec: faasim_traces::TraceSpec = toml::from_str(AZURE2021).unwrap();
    let mut t = faasim_traces::open(&spec, &dir, 1).unwrap();
    let mut table = faasim_sim::FunctionTable::new();
    let mut events: Vec<(u32, u64, i32)> = vec![];
    while let Some(a) = t.source_mut().next_arrival(&mut table).unwrap() {
        events.push((a.function.0, a.time.as_micros(), 1));
        events.push((
            a.function.0,
            a.time.as_micros() + a.duration.as_micros(),
            -1,
        ));
    }
    // Ends before starts at the same instant: a finished instance is reused.
    events.sort_by_key(|&(f, t, d)| (f, t, d));
    let mut peak_sum = 0i64;
    let (mut cur_f, mut cur, mut peak) = (u32::MAX, 0i64, 0i64);
    for (f, _, d) in events {
        if f != cur_f {
            peak_sum += peak;
            (cur_f, cur, peak) = (f, 0, 0);
        }
        cur += d as i64;
        peak = peak.max(cur);
    }
    peak_sum += peak;
    let r = run_on(
        &dir,
        AZURE2021,
        "policy = \"infinite\"",
        "policy = \"first-fit\"",
    );
    assert_eq!(r.stats.cold_starts as i64, peak_sum);
    assert_eq!(r.stats.instances_created as i64, peak_sum);
}

#[test]
fn every_policy_completes_or_drops_each_real_invocation_once() {
    let dir = traces();
    let keep_alives = [
        "policy = \"none\"",
        "policy = \"fixed\"\nttl_s = 600",
        "policy = \"infinite\"",
        "policy = \"hybrid-histogram\"",
        "policy = \"greedy-dual\"",
        "policy = \"lru\"",
    ];
    let balancers = [
        "policy = \"cluster-wide\"",
        "policy = \"openwhisk\"",
        "policy = \"consistent-hashing-bounded\"",
        "policy = \"hermod\"",
        "policy = \"ch-rlu\"",
    ];
    let pl = "policy = \"least-loaded\"";
    for ka in keep_alives {
        for lb in balancers {
            let r = run_balanced(&dir, AZURE2021, ka, pl, lb);
            assert_eq!(r.stats.invocations, 199, "{ka} / {lb}");
            assert_eq!(r.stats.completed + r.stats.dropped, r.stats.invocations);
        }
    }
    // The richest pair on 3 M invocations of 476 apps of the 2019 trace.
    let r = run_balanced(&dir, AZURE2019, keep_alives[3], pl, balancers[4]);
    assert_eq!(r.stats.invocations, 3_037_902);
    assert_eq!(r.stats.completed, 3_037_902);
}

#[test]
fn the_keepalive_azure2019_experiment_reads_the_shipped_sample() {
    let scenario = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/keepalive-azure2019/base.toml"
    ));
    let loaded = faasim_experiments::load(scenario, &[]).unwrap();
    let mut t = loaded.open_trace(loaded.scenario.seed).unwrap();
    let s = t.stats(&faasim_traces::StatsOptions::default()).unwrap();
    assert_eq!((s.invocations, s.functions), (6_334_542, 400));
}
