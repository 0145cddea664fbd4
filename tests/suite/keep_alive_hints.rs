//! A keep-alive policy's hints (`observes`, `fixed_window`) let the engine skip calls; the
//! run must be the one it gets making every call.

use crate::provider::{build, mix, run_mix_keeping};
use faasim_sim::{
    FunctionId, InstanceView, KeepAlive, KeepAliveDecision, Observation, SimDuration, SimTime,
    VecRecorder,
};
use proptest::prelude::*;

/// Passes every call on, and gives no hint (the trait's defaults).
struct Hidden(Box<dyn KeepAlive>);

impl KeepAlive for Hidden {
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn fixed_keep_alive_runs_the_same_with_and_without_its_hints(m in mix()) {
        let (cfg, functions, arrivals) = build(&m);
        let mut a = VecRecorder::default();
        let ra = run_mix_keeping(&m, &cfg, functions.clone(), arrivals.clone(), &mut a, |k| {
            assert!(k.fixed_window().is_some() && !k.observes(), "the mixes use a fixed window");
            k
        });
        let mut b = VecRecorder::default();
        let rb = run_mix_keeping(&m, &cfg, functions, arrivals, &mut b, |k| Box::new(Hidden(k)));
        prop_assert_eq!(format!("{:?}", ra.stats), format!("{:?}", rb.stats));
        prop_assert_eq!(format!("{:?}", ra.functions), format!("{:?}", rb.functions));
        prop_assert_eq!(a.invocations, b.invocations);
    }
}
