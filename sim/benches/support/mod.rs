//! The engine benchmark's workload and policies, shared by `benches/engine.rs` and
//! `examples/engine_throughput.rs` so both measure the same thing.

use faasim_sim::{
    Arrival, ClusterView, CpuModel, DistSpec, EngineConfig, FunctionId, FunctionSpec, FunctionView,
    InstanceView, InvocationView, KeepAlive, KeepAliveDecision, LoadBalancer, Placement, Policies,
    PolicyRng, RequestView, Route, Routing, SimDuration, SimRng, SimTime, WorkerId, WorkerSpec,
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
    fn routes_most_recent(&self) -> bool {
        true
    }
}
/// A function's home worker (id mod W), the least-loaded of the rest when its requests
/// there exceed its cores: the cost of the per-request path with an O(1) decision.
struct HomeBalancer;
impl LoadBalancer for HomeBalancer {
    fn select(&mut self, r: &RequestView, c: &ClusterView, _: &mut PolicyRng) -> WorkerId {
        let n = c.worker_count() as u32;
        let home = WorkerId(r.function.0 % n);
        let v = c.worker(home);
        if v.assigned < v.cores {
            home
        } else {
            WorkerId((r.function.0 + 1) % n)
        }
    }
}
struct Fixed(SimDuration);
impl KeepAlive for Fixed {
    fn on_idle(&mut self, _: &InstanceView, now: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::KeepUntil(now + self.0)
    }
    fn observes(&self) -> bool {
        false
    }
    fn fixed_window(&self) -> Option<SimDuration> {
        Some(self.0)
    }
}

/// `n` arrivals over 1,000 functions with Zipf(1) popularity at 20,000 per second,
/// lognormal durations (median 50 ms), 128-1024 MB functions.
pub fn workload(n: usize) -> (Vec<FunctionSpec>, Vec<Arrival>) {
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
                mode: None,
            }
        })
        .collect();
    (functions, arrivals)
}

pub fn config(cpu: CpuModel) -> EngineConfig {
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

pub fn policies() -> Policies {
    Policies {
        placement: Box::new(LeastLoaded),
        routing: Box::new(Mru),
        keep_alive: Box::new(Fixed(SimDuration::from_secs(600))),
        load_balancer: None,
    }
}

/// [`policies`] with another fixed keep-alive (zero: every request starts cold).
#[allow(dead_code)]
pub fn policies_with_ttl(ttl: SimDuration) -> Policies {
    Policies {
        keep_alive: Box::new(Fixed(ttl)),
        ..policies()
    }
}

/// `n` arrivals of one 128 MB function, `gap` apart, each running `run`.
#[allow(dead_code)]
pub fn one_function(
    n: usize,
    gap: SimDuration,
    run: SimDuration,
) -> (Vec<FunctionSpec>, Vec<Arrival>) {
    let functions = vec![FunctionSpec {
        name: "f".into(),
        memory_mb: 128,
    }];
    let arrivals = (0..n as u64)
        .map(|i| Arrival {
            time: SimTime(i * gap.as_micros()),
            function: FunctionId(0),
            duration: run,
            cold_start: None,
            mode: None,
        })
        .collect();
    (functions, arrivals)
}

/// [`policies`] with per-request load balancing (worker-local reuse, reclaim and queues).
#[allow(dead_code)]
pub fn balanced_policies() -> Policies {
    Policies {
        load_balancer: Some(Box::new(HomeBalancer)),
        ..policies()
    }
}

/// How far ahead [`queue_churn`] pushes its events.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug)]
pub enum QueueShape {
    /// Every event within a second, uniform.
    Plain,
    /// As `Plain`, but one in ten a keep-alive timer ten minutes ahead (the outer wheel).
    Timers,
    /// Lognormal delays of median 50 ms, as the engine's executions.
    Engine,
}

/// The event queue's traffic, shared by its criterion bench and `examples/queue_throughput.rs`:
/// 1,000 events live, then `n` times the next one popped and one pushed `shape` ahead.
/// Returns a checksum of the popped events, so the work is not optimised away.
#[allow(dead_code)]
pub fn queue_churn(n: u64, shape: QueueShape) -> u64 {
    use faasim_sim::queue::{EventClass, EventQueue};
    let mut rng = SimRng::stream(2, "queue");
    let exec = LogNormal::new(50_000f64.ln(), 1.0).unwrap();
    let mut q = EventQueue::new();
    for i in 0..1_000u64 {
        q.push(SimTime(rng.below(1_000_000)), EventClass::Completion, i);
    }
    let mut sum = 0u64;
    for i in 0..n {
        let (t, e) = q.pop().unwrap();
        sum = sum.wrapping_add(e);
        let (dt, class) = match shape {
            QueueShape::Timers if i % 10 == 0 => (
                SimDuration::from_secs(600) + SimDuration(rng.below(1_000_000)),
                EventClass::KeepAliveExpiry,
            ),
            QueueShape::Engine => (
                SimDuration(exec.sample(&mut rng) as u64),
                EventClass::Completion,
            ),
            _ => (SimDuration(rng.below(1_000_000)), EventClass::Completion),
        };
        q.push(t + dt, class, i);
    }
    sum
}
