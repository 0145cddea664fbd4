//! Policies' hints (keep-alive `observes` and `fixed_window`, routing
//! `routes_most_recent`) let the engine skip calls; the run must be the one it gets making
//! every call.

use crate::provider::{build, mix, run_mix_with};
use faasim_sim::{
    ClusterView, FunctionId, InstanceView, InvocationView, KeepAlive, KeepAliveDecision,
    Observation, Policies, PolicyRng, Route, Routing, SimDuration, SimTime, VecRecorder,
};
use proptest::prelude::*;

/// Passes every call on, and gives no hint (the traits' defaults).
struct Hidden<T: ?Sized>(Box<T>);

impl KeepAlive for Hidden<dyn KeepAlive> {
    fn on_idle(&mut self, i: &InstanceView, now: SimTime) -> KeepAliveDecision {
        self.0.on_idle(i, now)
    }
    fn victim_priority(&mut self, i: &InstanceView, now: SimTime) -> Option<u64> {
        self.0.victim_priority(i, now)
    }
    fn observe(&mut self, ev: &Observation) {
        self.0.observe(ev)
    }
    fn prewarm(&mut self, f: FunctionId, now: SimTime) -> Option<SimDuration> {
        self.0.prewarm(f, now)
    }
}

impl Routing for Hidden<dyn Routing> {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView<'_>, rng: &mut PolicyRng) -> Route {
        self.0.route(inv, c, rng)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn runs_are_the_same_with_and_without_the_policies_hints(m in mix()) {
        let (cfg, functions, arrivals) = build(&m);
        let mut a = VecRecorder::default();
        let ra = run_mix_with(&m, &cfg, functions.clone(), arrivals.clone(), &mut a, |p| {
            assert!(p.keep_alive.fixed_window().is_some() && !p.keep_alive.observes());
            assert!(p.routing.routes_most_recent(), "the mixes route to the most recent");
            p
        });
        let mut b = VecRecorder::default();
        let rb = run_mix_with(&m, &cfg, functions, arrivals, &mut b, |p| Policies {
            keep_alive: Box::new(Hidden(p.keep_alive)),
            routing: Box::new(Hidden(p.routing)),
            ..p
        });
        prop_assert_eq!(format!("{:?}", ra.stats), format!("{:?}", rb.stats));
        prop_assert_eq!(format!("{:?}", ra.functions), format!("{:?}", rb.functions));
        prop_assert_eq!(a.invocations, b.invocations);
    }
}
