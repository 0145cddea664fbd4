//! The plain request path (`sim/src/engine/plain.rs`) against the general one: on random
//! workloads and configurations the plain path may take, run once as chosen
//! (`RequestPath::Auto`) and once with every arrival on the general path
//! (`RequestPath::General`), the runs must agree on every figure of the report (the
//! `events` count and the digests' values included), every invocation record in the order
//! they ended, and every time-series sample. The workloads are made to reach the general
//! path's code from the plain one: small clusters that fill up (reclaim, the FIFO queue and
//! its timeout, drops), asynchronous arrivals from the trace, trace-given cold starts, routing
//! policies that draw or rank,
//! same-instant ties on whole milliseconds, keep-alive policies that pre-warm or rank
//! victims, and a horizon that cuts what is still running or starting.

use crate::common::*;
use faasim_policies::keep_alive::HybridHistogramSpec;
use faasim_policies::{KeepAliveSpec, PlacementSpec, RoutingSpec};
use faasim_sim::provider::InvocationMode;
use faasim_sim::{
    Arrival, Billing, BillingModel, CpuModel, EngineConfig, FunctionSpec, InvocationRecord,
    NullRecorder, OnFull, Recorder, RequestPath, RunEnd, RunReport, Sample, SimDuration, SimRng,
    SimTime, VecRecorder, VecSource, WorkerSpec,
};
use proptest::prelude::*;

/// Wants completions but not their charges (completions then priced at the end).
#[derive(Default)]
struct NoCharges(Vec<InvocationRecord>, Vec<Sample>);

impl Recorder for NoCharges {
    fn invocation(&mut self, r: &InvocationRecord) {
        self.0.push(*r);
    }
    fn sample(&mut self, s: &Sample) {
        self.1.push(*s);
    }
    fn reads_charges(&self) -> bool {
        false
    }
}

/// One random case: the workload and everything of the configuration that varies.
#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    functions: u32,
    n: usize,
    workers: usize,
    worker_mb: u32,
    placement: u8,
    routing: u8,
    keep_alive: u8,
    on_full_drop: bool,
    queue_timeout_ms: Option<u64>,
    horizon: bool,
    sample_ms: Option<u64>,
    billing: u8,
    recorder: u8,
    async_share: u8,
    traced_cold: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (any::<u64>(), 2u32..30, 50usize..1_500, 1usize..6, 0u8..3),
        (0u8..5, 0u8..6, any::<bool>(), prop::option::of(1u64..3_000)),
        (
            any::<bool>(),
            prop::option::of(100u64..20_000),
            0u8..3,
            0u8..3,
        ),
        (0u8..3, any::<bool>(), 0u8..4),
    )
        .prop_map(
            |(
                (seed, functions, n, workers, size),
                (placement, keep_alive, on_full_drop, queue_timeout_ms),
                (horizon, sample_ms, billing, recorder),
                (async_share, traced_cold, routing),
            )| Case {
                seed,
                functions,
                n,
                workers,
                worker_mb: [1_024, 4_096, 65_536][size as usize],
                placement,
                routing,
                keep_alive,
                on_full_drop,
                queue_timeout_ms,
                horizon,
                sample_ms,
                billing,
                recorder,
                async_share,
                traced_cold,
            },
        )
}

/// Arrivals on whole milliseconds (ties with executions' ends), skewed popularity, some
/// asynchronous (`async_share` in eighths, 0 = none) and some with the trace's cold start.
fn workload(c: &Case) -> (Vec<FunctionSpec>, Vec<Arrival>) {
    let mut rng = SimRng::stream(c.seed, "plain-path");
    let specs = (0..c.functions)
        .map(|i| func(&format!("f{i}"), 128 << (i % 4)))
        .collect();
    let mut t = 0;
    let arrivals = (0..c.n)
        .map(|_| {
            t += rng.below(300) * MS;
            let f = ((c.functions as f64).powf(rng.unit_f64()) as u32 - 1).min(c.functions - 1);
            let mut a = arr(t, f, (1 + rng.below(2_000)) * MS);
            if c.async_share > 0 && rng.below(8) < u64::from(c.async_share) {
                a.mode = Some(InvocationMode::Async);
            } else if rng.below(4) == 0 {
                a.mode = Some(InvocationMode::Sync);
            }
            if c.traced_cold && rng.below(3) == 0 {
                a.cold_start = Some(SimDuration(rng.below(900) * MS));
            }
            a
        })
        .collect();
    (specs, arrivals)
}

fn config(c: &Case, path: RequestPath) -> EngineConfig {
    EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: c.worker_mb,
                cores: 4,
            };
            c.workers
        ],
        instance_concurrency: 1,
        on_full: if c.on_full_drop {
            OnFull::Drop
        } else {
            OnFull::Queue
        },
        queue_timeout: c.queue_timeout_ms.map(|ms| SimDuration(ms * MS)),
        cold_start: faasim_sim::DistSpec::Exponential { mean_ms: 250.0 },
        cpu: CpuModel::Ignore,
        billing: match c.billing {
            0 => Billing::default(),
            1 => Billing::new(BillingModel::CloudRunInstance),
            _ => Billing {
                granularity_ms: 100,
                bill_init: true,
                ..Billing::new(BillingModel::AwsLambdaArm)
            },
        },
        seed: c.seed,
        sample_interval: c.sample_ms.map(|ms| SimDuration(ms * MS)),
        end: if c.horizon {
            RunEnd::Horizon {
                at: Some(SimTime(c.n as u64 * 100 * MS)),
            }
        } else {
            RunEnd::Drain
        },
        request_path: path,
        ..EngineConfig::default()
    }
}

fn policies(c: &Case) -> faasim_sim::Policies {
    let placement = match c.placement {
        0 => PlacementSpec::FirstFit {},
        1 => PlacementSpec::LeastLoaded {},
        2 => PlacementSpec::BestFit {},
        3 => PlacementSpec::Random {},
        _ => PlacementSpec::PowerOfTwo { d: 2 },
    };
    let keep_alive = match c.keep_alive {
        0 => fixed(5.0, true),
        1 => fixed(3.0, false),
        2 => KeepAliveSpec::None {},
        3 => KeepAliveSpec::HybridHistogram(HybridHistogramSpec::default()),
        4 => KeepAliveSpec::GreedyDual {},
        _ => KeepAliveSpec::Infinite {},
    };
    let routing = match c.routing {
        0 => RoutingSpec::MostRecentlyUsed {},
        1 => RoutingSpec::LeastRecentlyUsed {},
        2 => RoutingSpec::LeastLoaded {},
        _ => RoutingSpec::Random {},
    };
    faasim_policies::build(&placement, &routing, &keep_alive, &Default::default())
        .expect("valid policy specs")
}

/// Every figure of a report as text: the run's (`events` included), each function's with
/// its digest, the invoice and the cold-start parts.
fn figures(r: &RunReport) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        r.stats,
        r.functions,
        r.stats.bill.invoice(),
        r.cold_start_parts
    )
}

/// The report, the records and the samples of one run of `c` on `path`.
fn run_on(c: &Case, path: RequestPath) -> (String, Vec<InvocationRecord>, Vec<Sample>) {
    let (functions, arrivals) = workload(c);
    let cfg = config(c, path);
    let mut source = VecSource::new(functions, arrivals);
    let run = |rec: &mut dyn Recorder, source: &mut VecSource| {
        faasim_sim::run(&cfg, policies(c), source, rec).expect("the run succeeds")
    };
    match c.recorder {
        0 => {
            let mut rec = VecRecorder::default();
            let r = run(&mut rec, &mut source);
            (figures(&r), rec.invocations, rec.samples)
        }
        1 => {
            let mut rec = NoCharges::default();
            let r = run(&mut rec, &mut source);
            (figures(&r), rec.0, rec.1)
        }
        _ => (
            figures(&run(&mut NullRecorder, &mut source)),
            vec![],
            vec![],
        ),
    }
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let (fa, ra, sa) = run_on(c, RequestPath::Auto);
    let (fg, rg, sg) = run_on(c, RequestPath::General);
    prop_assert_eq!(fa, fg);
    prop_assert_eq!(ra.len(), rg.len());
    for (a, g) in ra.iter().zip(&rg) {
        prop_assert_eq!(a, g);
    }
    prop_assert_eq!(sa, sg);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_plain_path_gives_the_general_paths_results(c in case()) {
        check(&c)?;
    }
}

/// A hand-traced case on the plain path, and the same on the general one: one worker of
/// 1 GB, 512 MB functions, 100 ms cold starts, a 1 s keep-alive restarted at each use.
/// - f0 @0 runs 200 ms: cold on instance A (ready 100 ms), ends at 300 ms.
/// - f0 @300 ms: A's end comes first at that instant, so it is warm on A; ends at 400 ms.
/// - f1 @350 ms: cold on B, the worker's other 512 MB (ready 450 ms), ends at 650 ms.
/// - f2 @500 ms: no room (A idle, B busy): reclaim evicts A after 100 ms idle; cold on C
///   (ready 600 ms), ends at 700 ms.
/// - B and C stay idle for their 1 s and expire at 1.65 s and 1.7 s, the end of the run.
///
/// Latencies 300, 100, 300 and 200 ms; idle memory 512 MB x (0 + 100 + 1,000 + 1,000) ms.
#[test]
fn a_hand_traced_run_on_the_plain_path() {
    let functions = vec![func("f0", 512), func("f1", 512), func("f2", 512)];
    let arrivals = vec![
        arr(0, 0, 200 * MS),
        arr(300 * MS, 0, 100 * MS),
        arr(350 * MS, 1, 200 * MS),
        arr(500 * MS, 2, 100 * MS),
    ];
    let mut reports = Vec::new();
    for path in [RequestPath::Auto, RequestPath::General] {
        let mut cfg = crate::common::config(1_024, 2, 100.0);
        cfg.cpu = CpuModel::Ignore;
        cfg.request_path = path;
        let pol = crate::common::policies(&fixed(1.0, true));
        let (r, rec) = simulate(&cfg, pol, functions.clone(), arrivals.clone());
        assert_eq!(
            latencies(&rec.invocations),
            [300 * MS, 100 * MS, 300 * MS, 200 * MS]
        );
        assert_eq!(colds(&rec.invocations), [true, false, true, true]);
        assert_eq!(r.stats.cold_starts, 3);
        assert_eq!(r.stats.evictions_reclaimed, 1);
        assert_eq!(r.stats.evictions_expired, 2);
        assert_eq!(r.stats.end, SimTime(1_700 * MS));
        assert_eq!(r.stats.idle_mb_us, 512 * 2_100 * MS as u128);
        reports.push(figures(&r));
    }
    assert_eq!(reports[0], reports[1]);
}
