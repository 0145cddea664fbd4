//! Policies' hints (keep-alive `observes` and `fixed_window`, routing
//! `routes_most_recent`, a balancer's `likely_worker`) let the engine skip calls or prefetch;
//! the run must be the one it gets making every call, and with no prefetching.

use crate::provider::{balanced_mix, build, mix, run_mix_with};
use faasim_policies::{KeepAliveSpec, LoadBalancingSpec, PlacementSpec, RoutingSpec};
use faasim_sim::{
    ClusterView, FunctionId, InstanceView, InvocationView, KeepAlive, KeepAliveDecision,
    LoadBalancer, Observation, Policies, PolicyRng, RequestView, Route, Routing, SimDuration,
    SimTime, VecRecorder, WorkerId,
};
use proptest::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

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

/// A balancer's prefetch guesses ([`LoadBalancer::likely_worker`]) must never change a run:
/// the balancer as it is, with no guesses, and with guesses that are always wrong (one
/// outside the cluster, one a worker it did not choose) give the same run. Each guess of
/// the next call is also checked against the choice that call makes, where the balancer
/// can know it (round robin, random and power of two), and of the call after
/// where nothing in between can change it (round robin and random: nothing else draws from
/// their stream).
#[derive(Clone, Copy, PartialEq)]
enum Guesses {
    AsIs,
    None,
    Wrong,
}

struct Guessing {
    inner: Box<dyn LoadBalancer>,
    guesses: Guesses,
    /// Round robin, random, power of two: each guess of the next call must be its choice.
    exact_next: bool,
    /// Round robin, random: each guess of the call after next too.
    exact_later: bool,
    ahead: Rc<Cell<u64>>,
    missed: Rc<Cell<u64>>,
    /// The guess the previous call made of this one.
    pending: Option<Option<WorkerId>>,
}

impl LoadBalancer for Guessing {
    fn select(
        &mut self,
        r: &RequestView<'_>,
        c: &ClusterView<'_>,
        rng: &mut PolicyRng,
    ) -> WorkerId {
        let now = self.inner.likely_worker(0, r.function, c, rng);
        let later = self.inner.likely_worker(1, r.function, c, rng);
        let w = self.inner.select(r, c, rng);
        // (checked, the guess: None if there is nothing to check, Some(None) if no guess).
        let checked = [
            (self.exact_next, Some(now)),
            (self.exact_later, self.pending.take()),
        ];
        for (_, guess) in checked.into_iter().filter(|c| c.0) {
            if let Some(guess) = guess {
                self.ahead.set(self.ahead.get() + 1);
                if guess != Some(w) {
                    self.missed.set(self.missed.get() + 1);
                }
            }
        }
        self.pending = Some(later);
        w
    }

    fn guesses(&self) -> bool {
        match self.guesses {
            Guesses::AsIs => self.inner.guesses(),
            Guesses::None => false,
            Guesses::Wrong => true,
        }
    }

    fn likely_worker(
        &self,
        ahead: u32,
        function: FunctionId,
        c: &ClusterView<'_>,
        rng: &PolicyRng,
    ) -> Option<WorkerId> {
        match self.guesses {
            Guesses::AsIs => self.inner.likely_worker(ahead, function, c, rng),
            Guesses::None => None,
            Guesses::Wrong => match ahead % 2 {
                0 => Some(WorkerId(u32::MAX)),
                _ => {
                    let w = self.inner.likely_worker(ahead, function, c, rng)?;
                    Some(WorkerId((w.0 + 1) % c.worker_count() as u32))
                }
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_balancers_prefetch_guesses_change_nothing_and_are_exact_where_it_can_know(
        m in balanced_mix(),
        which in 1usize..LoadBalancingSpec::all_defaults().len(),
    ) {
        let spec = LoadBalancingSpec::all_defaults()[which].clone();
        let name = spec.name();
        let exact_next = matches!(name, "round-robin" | "random" | "power-of-two");
        let exact_later = matches!(name, "round-robin" | "random");
        let (cfg, functions, arrivals) = build(&m);
        let mut runs = Vec::new();
        for guesses in [Guesses::AsIs, Guesses::None, Guesses::Wrong] {
            let (ahead, missed) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
            let mut rec = VecRecorder::default();
            let report = run_mix_with(&m, &cfg, functions.clone(), arrivals.clone(), &mut rec, |p| {
                let inner = faasim_policies::build(
                    &PlacementSpec::FirstFit {},
                    &RoutingSpec::default(),
                    &KeepAliveSpec::Infinite {},
                    &spec,
                )
                .expect("valid specs")
                .load_balancer
                .expect("a balancer");
                Policies {
                    load_balancer: Some(Box::new(Guessing {
                        inner,
                        guesses,
                        exact_next: exact_next && guesses == Guesses::AsIs,
                        exact_later: exact_later && guesses == Guesses::AsIs,
                        ahead: ahead.clone(),
                        missed: missed.clone(),
                        pending: None,
                    })),
                    ..p
                }
            });
            prop_assert_eq!(missed.get(), 0, "{}: {} of {} guesses missed", name, missed.get(), ahead.get());
            runs.push((format!("{:?}", report.stats), format!("{:?}", report.functions), rec.invocations));
        }
        prop_assert_eq!(&runs[0], &runs[1], "{}: with and without its guesses", name);
        prop_assert_eq!(&runs[0], &runs[2], "{}: with its guesses and with wrong ones", name);
    }
}
