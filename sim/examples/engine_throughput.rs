//! Times the engine alone on an in-memory workload (generation excluded), for profiling:
//! `cargo run --release -p faasim-sim --example engine_throughput -- 1000000 ignore`
//! (`ps` for processor sharing; a third argument `balanced` adds a per-request load
//! balancer: worker-local warm reuse, reclaim and queues).

use faasim_sim::{run, CpuModel, NullRecorder, VecSource};

#[path = "../benches/support/mod.rs"]
mod support;

use support::{balanced_policies, config, policies, workload};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let cpu = match args.next().as_deref() {
        Some("ps") => CpuModel::ProcessorSharing,
        _ => CpuModel::Ignore,
    };
    let balanced = args.next().as_deref() == Some("balanced");
    let (functions, arrivals) = workload(n);
    let mut src = VecSource::new(functions, arrivals);
    let t = std::time::Instant::now();
    let pol = if balanced {
        balanced_policies()
    } else {
        policies()
    };
    let r = run(&config(cpu), pol, &mut src, &mut NullRecorder).unwrap();
    let wall = t.elapsed().as_secs_f64();
    println!(
        "{n} invocations, {} cold starts, {} events: {:.3} s, {:.2} M invocations/s",
        r.stats.cold_starts,
        r.stats.events,
        wall,
        n as f64 / wall / 1e6
    );
}
