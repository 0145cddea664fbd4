//! The engine against `sim/examples/day_floor.rs`: an independent minimal loop of the
//! 1,000-function day's setting (first-fit, a 600 s keep-alive that restarts at each use,
//! 1 s cold starts, the CPU ignored, the most recently used warm instance) written without
//! the engine. On the same rows both must find the same cold starts, keep-alive evictions,
//! idle memory, billed memory-time and latency percentiles, run-wide and per function, and
//! the same per-function counts. The workloads put arrivals on whole milliseconds, so
//! executions end at the instant of arrivals, and place arrivals at exactly the end of a
//! keep-alive window, where the documented same-instant order decides.

#[path = "../../sim/examples/day_floor.rs"]
#[allow(dead_code)]
mod day_floor;

use crate::common::{arr, config, fixed, func, policies, simulate, MS, S};
use faasim_sim::digest::Digest;
use faasim_sim::{Arrival, CpuModel, FunctionSpec, SimRng, WorkerSpec};

const WORKERS: usize = 16;
const WORKER_MB: u32 = 8_192;

/// `n` rows over `functions` functions with skewed popularity, gaps and durations in whole
/// milliseconds, and a few arrivals at exactly 600 s after an instance went idle (and one
/// microsecond before).
fn workload(seed: u64, functions: u32, n: usize) -> (Vec<FunctionSpec>, Vec<Arrival>) {
    let mut rng = SimRng::stream(seed, "floor");
    let specs: Vec<FunctionSpec> = (0..functions)
        .map(|i| func(&format!("f{i}"), 128 << (i % 3)))
        .collect();
    let mut arrivals = Vec::with_capacity(n + 4);
    let mut t = 0;
    for _ in 0..n {
        // Gaps of 0-400 ms: ties between arrivals and with executions' ends.
        t += rng.below(400) * MS;
        // Function k with weight about 1/k (k >= 1): some are idle for far longer than 600 s.
        let f = ((functions as f64).powf(rng.unit_f64()) as u32 - 1).min(functions - 1);
        let duration = (1 + rng.below(3_000)) * MS;
        arrivals.push(arr(t, f, duration));
    }
    // Function `last` once: cold at 0 (1 s start + 1 s run), idle from 2 s; an arrival at
    // exactly 602 s finds it gone. Function `last - 1`: idle from 2 s, warm at 601.999999 s.
    let (a, b) = (functions - 1, functions - 2);
    arrivals.extend([
        arr(0, a, S),
        arr(0, b, S),
        arr(602 * S - 1, b, S),
        arr(602 * S, a, S),
    ]);
    arrivals.sort_by_key(|x| x.time);
    (specs, arrivals)
}

/// The floor run on the same arrivals.
fn floor(specs: &[FunctionSpec], arrivals: &[Arrival]) -> day_floor::Floor {
    let rows: Vec<day_floor::Row> = arrivals
        .iter()
        .map(|a| {
            let f = a.function.0;
            let mb = specs[f as usize].memory_mb;
            (a.time.as_micros(), f, a.duration.as_micros(), mb)
        })
        .collect();
    let mut floor = day_floor::Floor::new(specs.len(), WORKERS, u64::from(WORKER_MB));
    day_floor::simulate(&mut floor, &rows).expect("the floor's workers have room");
    floor
}

fn compare(seed: u64, functions: u32, n: usize) {
    let (specs, arrivals) = workload(seed, functions, n);
    let mut floor = floor(&specs, &arrivals);

    let mut cfg = config(WORKER_MB, 64, 1_000.0);
    cfg.workers = vec![
        WorkerSpec {
            memory_mb: WORKER_MB,
            cores: 64
        };
        WORKERS
    ];
    cfg.cpu = CpuModel::Ignore;
    let (mut report, _) = simulate(&cfg, policies(&fixed(600.0, true)), specs, arrivals);
    let s = &mut report.stats;

    // The floor neither queues nor reclaims: the engine must not have had to either.
    assert_eq!((s.dropped, s.evictions_reclaimed, s.peak_queue), (0, 0, 0));
    assert_eq!(s.completed as usize, n + 4);
    assert_eq!(s.cold_starts, floor.cold_starts(), "cold starts");
    assert_eq!(s.evictions_expired, floor.evictions, "keep-alive evictions");
    assert_eq!(s.idle_mb_us, floor.idle_mb_us(), "idle MB-µs");
    assert_eq!(
        s.billed_mb_ms,
        u128::from(floor.billed_mb_ms()),
        "billed MB-ms"
    );
    // The latency digests: the same values, so the same percentiles, sums and maxima.
    let quantiles = |d: &mut Digest| {
        let q = [0.0, 0.5, 0.9, 0.95, 0.99, 1.0].map(|q| d.quantile(q));
        (d.count(), d.sum(), d.max(), q)
    };
    assert_eq!(quantiles(&mut s.latency_us), quantiles(&mut floor.latency));
    for (f, stats) in report.functions.iter_mut().enumerate() {
        let d = &mut floor.function_latency[f];
        assert_eq!(
            quantiles(&mut stats.latency_us),
            quantiles(d),
            "function {f}"
        );
        let figures = day_floor::FunctionFigures {
            invocations: stats.invocations,
            completed: stats.completed,
            cold_starts: stats.cold_starts,
            mb_ms: u64::try_from(stats.mb_ms).expect("MB-ms within 64 bits"),
            idle_mb_us: stats.idle_mb_us,
            instances_created: stats.instances_created,
        };
        assert_eq!(figures, floor.functions[f], "function {f}");
    }
}

#[test]
fn the_engine_agrees_with_the_minimal_loop_of_the_days_setting() {
    for seed in 1..=4 {
        compare(seed, 40, 20_000);
    }
}

#[test]
fn an_arrival_at_the_end_of_a_keep_alive_window_starts_cold_and_one_before_it_is_warm() {
    // Only the four rows at the end of `workload`: 2 cold starts at 0, then one warm (just
    // inside the window) and one cold (at its end).
    let (specs, arrivals) = workload(1, 2, 0);
    let floor = floor(&specs, &arrivals);
    assert_eq!((floor.cold_starts(), floor.evictions), (3, 3));
    // Idle, 256 MB f1: from 2 s to 602 s (evicted at its window's end), and its second
    // instance 600 s from 604 s; 128 MB f0: from 2 s to 602 s - 1 µs, then 600 s from
    // 603 s - 1 µs.
    let idle = 256 * 600 * S + 128 * (600 * S - 1) + 128 * 600 * S + 256 * 600 * S;
    assert_eq!(floor.idle_mb_us(), u128::from(idle));
    compare(1, 2, 0);
}
