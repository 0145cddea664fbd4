//! Criterion benches for the event queue and the engine. Fixed seeds; trace generation is
//! done before timing (arrivals are held in memory), so the figures are the engine's own.
//!
//! Run: `cargo bench -p faasim-sim --bench engine`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use faasim_sim::{run, CpuModel, NullRecorder, SimDuration, VecSource};

mod support;

use support::{
    balanced_policies, config, one_function, policies, policies_with_ttl, queue_churn, workload,
    QueueShape,
};

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
        b.iter(|| queue_churn(n, QueueShape::Plain))
    });
    // Engine-like traffic: most events end within a second (executions), one in ten is a
    // keep-alive timer ten minutes ahead, which waits on the outer wheel.
    g.bench_function("push_pop_100k_with_1k_live_and_timers", |b| {
        b.iter(|| queue_churn(n, QueueShape::Timers))
    });
    g.finish();
}

/// The request path alone, one shape at a time: every request warm (route to the idle
/// instance, run, go idle), every request cold (place, start, run, evict at once), and the
/// per-request load-balancing stage on the Zipf workload.
fn bench_request_path(c: &mut Criterion) {
    let n = 200_000;
    let mut g = c.benchmark_group("request_path");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    let cfg = config(CpuModel::Ignore);
    let ms = |v: u64| SimDuration(v * 1_000);
    let (f, warm) = one_function(n, ms(10), ms(1));
    g.bench_function("200k_warm_hits", |b| {
        b.iter_batched(
            || VecSource::new(f.clone(), warm.clone()),
            |mut src| {
                let r = run(&cfg, policies(), &mut src, &mut NullRecorder).unwrap();
                assert_eq!(r.stats.cold_starts, 1);
                r.stats.completed
            },
            BatchSize::LargeInput,
        )
    });
    // 200 ms apart, 150 ms cold start + 1 ms: each instance ends before the next request.
    let (f, cold) = one_function(n, ms(200), ms(1));
    g.bench_function("200k_cold_starts", |b| {
        b.iter_batched(
            || VecSource::new(f.clone(), cold.clone()),
            |mut src| {
                let r = run(
                    &cfg,
                    policies_with_ttl(SimDuration::ZERO),
                    &mut src,
                    &mut NullRecorder,
                )
                .unwrap();
                assert_eq!(r.stats.cold_starts, n as u64);
                r.stats.completed
            },
            BatchSize::LargeInput,
        )
    });
    let (f, zipf) = workload(n);
    g.bench_function("200k_zipf_load_balanced", |b| {
        b.iter_batched(
            || VecSource::new(f.clone(), zipf.clone()),
            |mut src| {
                let r = run(&cfg, balanced_policies(), &mut src, &mut NullRecorder).unwrap();
                assert_eq!(r.stats.completed, n as u64);
                r.stats.cold_starts
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_queue, bench_request_path, bench_engine);
criterion_main!(benches);
