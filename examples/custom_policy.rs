//! Writing a policy outside faasim's crates and running it.
//!
//! A keep-alive policy that keeps an instance warm for as long as its function's last idle
//! gap (clamped to 1-30 minutes), and a placement that spreads a function's instances by
//! hashing its id. Run: `cargo run --release --example custom_policy` (a synthetic hour),
//! or `cargo run --release --example custom_policy -- scenarios/quickstart.toml` to run a
//! scenario file's trace, cluster and billing with these two policies in place of the
//! file's, beside the file's own policies.

use faasim_sim::{
    run, ClusterView, EngineConfig, FunctionId, FunctionView, InstanceView, KeepAlive,
    KeepAliveDecision, NullRecorder, Observation, Placement, Policies, PolicyRng, SimDuration,
    SimTime, WorkerId,
};
use faasim_traces::{SyntheticSource, SyntheticSpec};

/// Keep warm for the function's last observed gap between arrivals.
#[derive(Default)]
struct LastGap {
    last_arrival: Vec<Option<SimTime>>,
    gap: Vec<SimDuration>,
}

impl KeepAlive for LastGap {
    fn on_idle(&mut self, i: &InstanceView, now: SimTime) -> KeepAliveDecision {
        let gap = self
            .gap
            .get(i.function.index())
            .copied()
            .unwrap_or_default();
        let ttl = gap.as_micros().clamp(60_000_000, 1_800_000_000);
        KeepAliveDecision::KeepUntil(now + SimDuration(ttl))
    }

    fn observe(&mut self, ev: &Observation) {
        if let Observation::Arrival { function, time } = *ev {
            let f = function.index();
            if self.last_arrival.len() <= f {
                self.last_arrival.resize(f + 1, None);
                self.gap.resize(f + 1, SimDuration::ZERO);
            }
            if let Some(prev) = self.last_arrival[f] {
                self.gap[f] = time - prev;
            }
            self.last_arrival[f] = Some(time);
        }
    }
}

/// Start at worker `hash(function) mod n`, then the next one with room.
struct HashedHome;

impl Placement for HashedHome {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        let FunctionId(id) = f.id;
        let home = id.wrapping_mul(2_654_435_761) % c.worker_count() as u32;
        c.next_fit(WorkerId(home), f.memory_mb)
    }
}

/// Runs `path`'s trace, cluster and billing twice: with its own policies and with
/// [`LastGap`] and [`HashedHome`] in their place.
fn run_scenario_file(path: &str) {
    let loaded =
        faasim_experiments::load(std::path::Path::new(path), &[]).unwrap_or_else(|e| panic!("{e}"));
    let sc = &loaded.scenario;
    let config = sc.engine_config(sc.seed);
    let own = faasim_policies::build(
        &sc.placement,
        &sc.routing,
        &sc.keep_alive,
        &sc.load_balancing,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mine = Policies {
        placement: Box::new(HashedHome),
        routing: sc.routing.build(),
        keep_alive: Box::new(LastGap::default()),
        load_balancer: None,
    };
    for (name, policies) in [
        ("the scenario's policies", own),
        ("LastGap + HashedHome", mine),
    ] {
        let mut trace = loaded.open_trace(sc.seed).unwrap_or_else(|e| panic!("{e}"));
        let report = run(&config, policies, trace.source_mut(), &mut NullRecorder)
            .unwrap_or_else(|e| panic!("{e}"));
        let s = &report.stats;
        println!(
            "{path}, {name}: {} invocations, cold-start ratio {:.4}, idle memory {:.0} GB-s, cost ${:.4}",
            s.invocations,
            s.cold_start_ratio(),
            s.wasted_memory_gb_s(),
            s.user_cost().to_usd()
        );
    }
}

fn main() {
    if let Some(path) = std::env::args().nth(1) {
        run_scenario_file(&path);
        return;
    }
    let spec = SyntheticSpec {
        functions: 100,
        duration_s: 3600.0,
        rate_per_s: 20.0,
        ..SyntheticSpec::default()
    };
    let mut source = SyntheticSource::new(&spec, 1).expect("valid generator parameters");
    let policies = Policies {
        placement: Box::new(HashedHome),
        routing: faasim_policies::RoutingSpec::default().build(),
        keep_alive: Box::new(LastGap::default()),
        load_balancer: None,
    };
    let report = run(
        &EngineConfig::default(),
        policies,
        &mut source,
        &mut NullRecorder,
    )
    .expect("the run succeeds");
    let s = &report.stats;
    println!(
        "{} invocations, cold-start ratio {:.4}, idle memory {:.0} GB-s, cost ${:.4}",
        s.invocations,
        s.cold_start_ratio(),
        s.wasted_memory_gb_s(),
        s.user_cost().to_usd()
    );
    assert_eq!(s.completed + s.dropped, s.invocations);
}
