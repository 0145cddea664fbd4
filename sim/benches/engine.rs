//! Criterion benches for the event queue and the engine. Fixed seeds; trace generation is
//! done before timing (arrivals are held in memory), so the figures are the engine's own.
//!
//! Run: `cargo bench -p faasim-sim --bench engine`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use faasim_sim::queue::{EventClass, EventQueue};
use faasim_sim::{
    run, Arrival, ClusterView, CpuModel, DistSpec, EngineConfig, FunctionId, FunctionSpec,
    FunctionView, InstanceView, InvocationView, KeepAlive, KeepAliveDecision, NullRecorder,
    Placement, Policies, PolicyRng, Route, Routing, SimDuration, SimRng, SimTime, VecSource,
    WorkerId, WorkerSpec,
};
use rand_distr::{Distribution, Exp, LogNormal};

struct LeastLoaded;
impl Placement for LeastLoaded {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.least_loaded(f.memory_mb)
    }
}
struct Mru;
impl Routing for Mru {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        c.most_recent_warm(inv.function)
            .map_or(Route::Cold, Route::Warm)
    }
}
struct Fixed(SimDuration);
impl KeepAlive for Fixed {
    fn on_idle(&mut self, _: &InstanceView, now: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::KeepUntil(now + self.0)
    }
}

/// `n` arrivals over 1,000 functions with Zipf(1) popularity at 20,000 per second,
/// lognormal durations (median 50 ms), 128-1024 MB functions.
fn workload(n: usize) -> (Vec<FunctionSpec>, Vec<Arrival>) {
    let mut rng = SimRng::stream(1, "bench");
    let nf = 1_000;
    let functions: Vec<FunctionSpec> = (0..nf)
        .map(|i| FunctionSpec {
            name: format!("f{i}"),
            memory_mb: 128 << (i % 4),
        })
        .collect();
    let weights: Vec<f64> = (1..=nf).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(nf);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cdf.push(acc);
    }
    let gap = Exp::new(20_000.0).unwrap();
    let dur = LogNormal::new(50f64.ln(), 1.0).unwrap();
    let mut t = 0.0f64;
    let arrivals = (0..n)
        .map(|_| {
            t += gap.sample(&mut rng);
            let u = rng.unit_f64();
            let f = cdf.partition_point(|&c| c < u).min(nf - 1);
            Arrival {
                time: SimTime((t * 1e6) as u64),
                function: FunctionId(f as u32),
                duration: SimDuration((dur.sample(&mut rng) * 1e3) as u64),
                cold_start: None,
            }
        })
        .collect();
    (functions, arrivals)
}

fn config(cpu: CpuModel) -> EngineConfig {
    EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: 65_536,
                cores: 32,
            };
            100
        ],
        cold_start: DistSpec::Constant { value_ms: 150.0 },
        cpu,
        ..EngineConfig::default()
    }
}

fn policies() -> Policies {
    Policies {
        placement: Box::new(LeastLoaded),
        routing: Box::new(Mru),
        keep_alive: Box::new(Fixed(SimDuration::from_secs(600))),
    }
}

fn bench_engine(c: &mut Criterion) {
    let n = 1_000_000;
    let (functions, arrivals) = workload(n);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    for (name, cpu) in [
        ("1M_invocations_cpu_ignore", CpuModel::Ignore),
        (
            "1M_invocations_processor_sharing",
            CpuModel::ProcessorSharing,
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || VecSource::new(functions.clone(), arrivals.clone()),
                |mut src| {
                    let r = run(&config(cpu), policies(), &mut src, &mut NullRecorder).unwrap();
                    assert_eq!(r.stats.completed, n as u64);
                    r.stats.cold_starts
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn bench_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    let n = 100_000u64;
    g.throughput(Throughput::Elements(n));
    g.bench_function("push_pop_100k_with_1k_live", |b| {
        b.iter(|| {
            let mut q = EventQueue::new();
            let mut rng = SimRng::stream(2, "queue");
            for i in 0..1_000u64 {
                q.push(SimTime(rng.below(1_000_000)), EventClass::Completion, i);
            }
            let mut sum = 0u64;
            for i in 0..n {
                let (t, e) = q.pop().unwrap();
                sum = sum.wrapping_add(e);
                q.push(
                    t + SimDuration(rng.below(1_000_000)),
                    EventClass::Completion,
                    i,
                );
            }
            sum
        })
    });
    g.finish();
}

criterion_group!(benches, bench_queue, bench_engine);
criterion_main!(benches);
