//! Knative's KPA driving the engine: scale from zero through the activator, converge to
//! ⌈concurrency / (target × utilisation)⌉, scale back to zero after the window and grace.

use crate::common::{arr, func, MS, S};
use faasim_policies::{AutoscalingSpec, KeepAliveSpec, PlacementSpec, RoutingSpec};
use faasim_sim::engine::run_with;
use faasim_sim::{
    CpuModel, DistSpec, EngineConfig, RunEnd, SimDuration, SimTime, VecRecorder, VecSource,
    WorkerSpec,
};

fn kpa() -> AutoscalingSpec {
    toml::from_str("policy = \"kpa\"").unwrap()
}

/// One function, an arrival every 10 ms for `secs` seconds, 200 ms each: 20 requests in
/// flight in steady state.
fn run(spec: &AutoscalingSpec, secs: u64, horizon_s: u64) -> (faasim_sim::RunReport, VecRecorder) {
    let cfg = EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: 65_536,
                cores: 64
            };
            1
        ],
        instance_concurrency: 10,
        cold_start: DistSpec::Constant { value_ms: 500.0 },
        cpu: CpuModel::Ignore,
        sample_interval: Some(SimDuration::from_secs(10)),
        // Stop at the source's horizon, so the samples cover the quiet time after traffic.
        end: RunEnd::Horizon { at: None },
        ..EngineConfig::default()
    };
    let arrivals = (0..secs * 100)
        .map(|i| arr(i * 10 * MS, 0, 200 * MS))
        .collect();
    let policies = faasim_policies::build(
        &PlacementSpec::default(),
        &RoutingSpec::default(),
        &KeepAliveSpec::default(),
        &Default::default(),
    )
    .unwrap();
    let mut rec = VecRecorder::default();
    let report = run_with(
        &cfg,
        policies,
        spec.build().unwrap(),
        &mut VecSource::new(vec![func("f", 256)], arrivals)
            .with_horizon(SimTime::from_secs(horizon_s)),
        &mut rec,
    )
    .unwrap();
    (report, rec)
}

#[test]
fn kpa_converges_to_concurrency_over_target() {
    let (report, rec) = run(&kpa(), 300, 300);
    // The run stops at 300 s: the requests that arrived from 299.81 s on (200 ms each) are
    // still running then; the one of 299.80 s ends exactly at 300 s and counts.
    assert_eq!(report.stats.completed, 30_000 - 19);
    assert_eq!(report.stats.unfinished, 19);
    assert_eq!(report.stats.dropped, 0);
    // Steady state: 20 in flight / (10 x 0.7) -> 3 instances.
    let late: Vec<u32> = rec
        .samples
        .iter()
        .filter(|s| s.time.as_micros() >= 120 * S && s.time.as_micros() < 300 * S)
        .map(|s| s.live_instances)
        .collect();
    assert!(!late.is_empty());
    assert!(late.iter().all(|&n| n == 3), "{late:?}");
    // The first request scaled from zero: it waited for the whole 500 ms cold start.
    let first = rec.invocations.iter().find(|r| r.id == 0).unwrap();
    assert!(first.cold_start);
    assert_eq!(first.init.as_micros(), 500 * MS);
    assert_eq!(first.latency().as_micros(), 700 * MS);
    // Every instance was created by the autoscaler. Start-up overshoots (the backlog built
    // during the first cold start makes KPA panic to ~11 instances), then it settles at 3:
    // a handful in all, where per-request scaling starts one per concurrent request.
    assert!(
        report.stats.instances_created < 20,
        "{}",
        report.stats.instances_created
    );
}

#[test]
fn kpa_scales_to_zero_after_the_stable_window_once_traffic_stops() {
    let (report, rec) = run(&kpa(), 60, 200);
    // Traffic stops at 60 s; the last request completes at 60.19 s, so the last bucket with
    // concurrency is the tick at 62 s (bucket 31). The 60 s stable window (30 buckets) is
    // all zeros from the tick at 122 s (bucket 61): KPA wants 0 then, with one instance
    // left (scale-down halves the ready count per decision). Knative's `handleScaleToZero`
    // marks the revision inactive (activator into the path) and removes the last pod only
    // `scale-to-zero-grace-period` = 30 s later: at the 152 s tick. (Before, faasim counted
    // the grace from the last request, so it never mattered behind the 60 s window, and
    // nothing was alive at the 130 s sample.)
    let at = |s: u64| {
        rec.samples
            .iter()
            .find(|x| x.time.as_micros() == s * S)
            .map(|x| x.live_instances)
    };
    assert!(at(100).unwrap() > 0);
    assert_eq!(at(130), Some(1));
    assert_eq!(at(150), Some(1));
    assert_eq!(at(160), Some(0));
    // Scale-downs are the autoscaler's, not keep-alive expiries.
    assert!(report.stats.evictions_scaled_down >= 3);
    assert_eq!(report.stats.evictions_expired, 0);
    assert_eq!(report.stats.completed, 6_000);
}

#[test]
fn per_request_scaling_creates_more_instances_than_kpa() {
    let (kpa_report, _) = run(&kpa(), 120, 120);
    let (per_request, _) = run(&AutoscalingSpec::PerRequest {}, 120, 120);
    assert_eq!(per_request.stats.completed, kpa_report.stats.completed);
    assert!(
        per_request.stats.peak_instances > kpa_report.stats.peak_instances,
        "{} vs {}",
        per_request.stats.peak_instances,
        kpa_report.stats.peak_instances
    );
}

#[test]
fn with_drop_requests_wait_for_the_instance_started_from_zero() {
    // KPA, on_full = "drop", one function, concurrency 10 per instance, cold start 500 ms,
    // an arrival every 10 ms (200 ms each). At 0 the function has no instance: the activator
    // reports a concurrency of 1, KPA asks for ⌈1 / (10 × 0.7)⌉ = 1 instance (1/1 < 2: no
    // panic), and the request waits for it, as do the next nine (the instance's ten slots);
    // the arrivals from 100 ms to 490 ms find every slot of the starting instance promised
    // and are dropped at once. The ten waiting requests all start at 500 ms.
    let cfg = EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: 65_536,
                cores: 64
            };
            1
        ],
        instance_concurrency: 10,
        on_full: faasim_sim::OnFull::Drop,
        cold_start: DistSpec::Constant { value_ms: 500.0 },
        cpu: CpuModel::Ignore,
        ..EngineConfig::default()
    };
    let arrivals = (0..100).map(|i| arr(i * 10 * MS, 0, 200 * MS)).collect();
    let policies = faasim_policies::build(
        &PlacementSpec::default(),
        &RoutingSpec::default(),
        &KeepAliveSpec::default(),
        &Default::default(),
    )
    .unwrap();
    let mut rec = VecRecorder::default();
    run_with(
        &cfg,
        policies,
        kpa().build().unwrap(),
        &mut VecSource::new(vec![func("f", 256)], arrivals),
        &mut rec,
    )
    .unwrap();
    rec.invocations.sort_by_key(|r| r.id);
    let r = &rec.invocations;
    for x in &r[..10] {
        assert_eq!(x.outcome, faasim_sim::Outcome::Completed, "{x:?}");
        assert!(x.cold_start);
        assert_eq!(x.start.as_micros(), 500 * MS);
    }
    for x in &r[10..50] {
        assert_eq!(x.outcome, faasim_sim::Outcome::DroppedFull, "{x:?}");
        assert_eq!(x.end, x.arrival);
    }
}

/// Scale from zero is the autoscaler's decision (`Autoscaler::activate`). One request at
/// 0.5 s (100 ms, cold start 500 ms) for a function scaled to zero, instance concurrency 1
/// (Knative `containerConcurrency: 1`), default KPA:
///
/// - 0.5 s: the activator reports a concurrency of 1; a fresh window averages to 1;
///   dspc = dppc = ⌈1 / (1 × 0.7)⌉ = 2; readyPods = max(1, 0) = 1, limits [0, 1000];
///   2 / 1 ≥ 2: panic (`panicTime` 0.5 s), max(2, 2) = 2 instances start. The request
///   takes the first to be ready (1.0 s) and ends at 1.1 s;
/// - 2 s (bucket 1): measured 0.6 s / 2 s = 0.3 in flight, max(0.3, 1) = 1 with the
///   activator's report; 2 ready, 2 / 2 < 2: not over, but still panicking:
///   maxPanicPods 2. Active since 2 s (the first decision with an instance ready);
/// - 4..60 s: panicking (until a decision more than 60 s after 0.5 s), 2;
/// - 62 s (bucket 31): the panic ends; the stable window (buckets 2..31) is all zeros:
///   dspc 0, limited to ⌊2 / 2⌋ = 1: one instance goes;
/// - 64 s: 0 wanted (⌊1 / 2⌋ = 0), active for 62 s ≥ 60 s: inactive, kept;
/// - 94 s: inactive for 30 s (the grace): the last instance goes.
///
/// With instance concurrency 10 (target 7): ⌈1 / 7⌉ = 1, no panic: one instance.
#[test]
fn scale_from_zero_starts_what_kpa_asks_for() {
    let go = |concurrency: u32| {
        let cfg = EngineConfig {
            workers: vec![
                WorkerSpec {
                    memory_mb: 65_536,
                    cores: 64
                };
                1
            ],
            instance_concurrency: concurrency,
            cold_start: DistSpec::Constant { value_ms: 500.0 },
            cpu: CpuModel::Ignore,
            sample_interval: Some(SimDuration::from_secs(10)),
            end: RunEnd::Horizon { at: None },
            ..EngineConfig::default()
        };
        let policies = faasim_policies::build(
            &PlacementSpec::default(),
            &RoutingSpec::default(),
            &KeepAliveSpec::default(),
            &Default::default(),
        )
        .unwrap();
        let mut rec = VecRecorder::default();
        let report = run_with(
            &cfg,
            policies,
            kpa().build().unwrap(),
            &mut VecSource::new(vec![func("f", 256)], vec![arr(500 * MS, 0, 100 * MS)])
                .with_horizon(SimTime::from_secs(120)),
            &mut rec,
        )
        .unwrap();
        let live: Vec<(u64, u32)> = rec
            .samples
            .iter()
            .map(|x| (x.time.as_micros() / S, x.live_instances))
            .collect();
        (report, rec, live)
    };
    let (report, rec, live) = go(1);
    assert_eq!(report.stats.instances_created, 2);
    assert_eq!(report.stats.cold_starts, 1);
    assert_eq!(rec.invocations[0].latency().as_micros(), 600 * MS);
    assert_eq!(report.stats.evictions_scaled_down, 2);
    let expected: Vec<(u64, u32)> = (1..=12)
        .map(|k| {
            let t = 10 * k;
            (
                t,
                match t {
                    ..=60 => 2,
                    61..=90 => 1,
                    _ => 0,
                },
            )
        })
        .collect();
    assert_eq!(live, expected);

    let (report, _, _) = go(10);
    assert_eq!(report.stats.instances_created, 1);
}

/// An autoscaler that always asks for `n` instances and does not override `activate`: the
/// trait's default wakes a function with an immediate `desired_instances` evaluation, and
/// the engine starts at least one instance for the request that woke it.
struct Always(u32);
impl faasim_sim::Autoscaler for Always {
    fn tick(&self) -> SimDuration {
        SimDuration::from_secs(2)
    }
    fn desired_instances(&mut self, _: &faasim_sim::ScalingView) -> u32 {
        self.0
    }
}

#[test]
fn the_default_activation_asks_desired_instances_and_starts_at_least_one() {
    let go = |n: u32| {
        let cfg = EngineConfig {
            workers: vec![
                WorkerSpec {
                    memory_mb: 65_536,
                    cores: 64
                };
                1
            ],
            instance_concurrency: 1,
            cold_start: DistSpec::Constant { value_ms: 500.0 },
            cpu: CpuModel::Ignore,
            // Stop at 1 s: after the wake, before the first tick (2 s) could change anything.
            end: RunEnd::Horizon {
                at: Some(SimTime::from_secs(1)),
            },
            ..EngineConfig::default()
        };
        let policies = faasim_policies::build(
            &PlacementSpec::default(),
            &RoutingSpec::default(),
            &KeepAliveSpec::default(),
            &Default::default(),
        )
        .unwrap();
        run_with(
            &cfg,
            policies,
            Some(Box::new(Always(n))),
            &mut VecSource::new(vec![func("f", 256)], vec![arr(100 * MS, 0, 100 * MS)]),
            &mut VecRecorder::default(),
        )
        .unwrap()
        .stats
        .instances_created
    };
    assert_eq!(go(3), 3);
    assert_eq!(go(0), 1);
}
