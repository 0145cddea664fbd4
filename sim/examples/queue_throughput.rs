//! Times the event queue alone on the shapes of its criterion bench, for profiling:
//! `cargo run --release -p faasim-sim --example queue_throughput -- 1000000 timers`
//! (`plain`: every event within a second; `timers`: one in ten a keep-alive timer ten
//! minutes ahead; `engine`: lognormal delays of median 50 ms, as the engine's executions).

use faasim_sim::queue::{EventClass, EventQueue};
use faasim_sim::{SimDuration, SimRng, SimTime};
use rand_distr::{Distribution, LogNormal};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let shape = args.next().unwrap_or_else(|| "plain".into());
    let mut rng = SimRng::stream(2, "queue");
    let exec = LogNormal::new(50_000f64.ln(), 1.0).unwrap();
    let t0 = std::time::Instant::now();
    let mut q = EventQueue::new();
    for i in 0..1_000u64 {
        q.push(SimTime(rng.below(1_000_000)), EventClass::Completion, i);
    }
    let mut sum = 0u64;
    for i in 0..n {
        let (t, e) = q.pop().unwrap();
        sum = sum.wrapping_add(e);
        let (dt, class) = match shape.as_str() {
            "timers" if i % 10 == 0 => (
                SimDuration::from_secs(600) + SimDuration(rng.below(1_000_000)),
                EventClass::KeepAliveExpiry,
            ),
            "engine" => (
                SimDuration(exec.sample(&mut rng) as u64),
                EventClass::Completion,
            ),
            _ => (SimDuration(rng.below(1_000_000)), EventClass::Completion),
        };
        q.push(t + dt, class, i);
    }
    let wall = t0.elapsed().as_secs_f64();
    println!(
        "{n} pops and pushes ({shape}), 1,000 live: {wall:.3} s, {:.1} M/s (checksum {sum})",
        n as f64 / wall / 1e6
    );
}
