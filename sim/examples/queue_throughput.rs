//! Times the event queue alone on the shapes of its criterion bench, for profiling:
//! `cargo run --release -p faasim-sim --example queue_throughput -- 1000000 timers`
//! (`plain`: every event within a second; `timers`: one in ten a keep-alive timer ten
//! minutes ahead; `engine`: lognormal delays of median 50 ms, as the engine's executions).

// Only the queue's traffic of the shared bench support is used here.
#[allow(dead_code)]
#[path = "../benches/support/mod.rs"]
mod support;

use support::{queue_churn, QueueShape};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let name = args.next().unwrap_or_else(|| "plain".into());
    let shape = match name.as_str() {
        "timers" => QueueShape::Timers,
        "engine" => QueueShape::Engine,
        _ => QueueShape::Plain,
    };
    let t0 = std::time::Instant::now();
    let sum = queue_churn(n, shape);
    let wall = t0.elapsed().as_secs_f64();
    println!(
        "{n} pops and pushes ({name}), 1,000 live: {wall:.3} s, {:.1} M/s (checksum {sum})",
        n as f64 / wall / 1e6
    );
}
