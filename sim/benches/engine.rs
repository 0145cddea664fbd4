//! Criterion benches for the event queue and the engine. Fixed seeds; trace generation is
//! done before timing (arrivals are held in memory), so the figures are the engine's own.
//!
//! Run: `cargo bench -p faasim-sim --bench engine`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use faasim_sim::queue::{EventClass, EventQueue};
use faasim_sim::{run, CpuModel, NullRecorder, SimDuration, SimRng, SimTime, VecSource};

mod support;

use support::{config, policies, workload};

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
