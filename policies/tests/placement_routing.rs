//! Placement and routing policies run through the real engine on tiny in-memory workloads;
//! decisions are read back from the per-invocation records (`worker`, `instance`).

use faasim_policies::{KeepAliveSpec, PlacementSpec, RoutingSpec};
use faasim_sim::rng::streams;
use faasim_sim::{
    run, Arrival, ClusterView, CpuModel, EngineConfig, FunctionSpec, FunctionView,
    InvocationRecord, OnFull, Placement, Policies, PolicyRng, RunReport, SimDuration, SimRng,
    SimTime, VecRecorder, VecSource, WorkerId,
};

mod common;

use common::{arr, config, func, MS, S};

fn policies(p: &PlacementSpec, r: &RoutingSpec, k: &KeepAliveSpec) -> Policies {
    faasim_policies::build(p, r, k, &Default::default()).expect("valid specs")
}

/// Runs the workload; the report and the records in arrival order.
fn simulate(
    cfg: &EngineConfig,
    pol: Policies,
    functions: Vec<FunctionSpec>,
    arrivals: Vec<Arrival>,
) -> (RunReport, Vec<InvocationRecord>) {
    let mut source = VecSource::new(functions, arrivals);
    let mut rec = VecRecorder::default();
    let report = run(cfg, pol, &mut source, &mut rec).expect("the run succeeds");
    rec.invocations.sort_by_key(|r| r.id);
    (report, rec.invocations)
}

fn placed(
    cfg: &EngineConfig,
    placement: &PlacementSpec,
    keep_alive: &KeepAliveSpec,
    functions: Vec<FunctionSpec>,
    arrivals: Vec<Arrival>,
) -> Vec<u32> {
    let pol = policies(placement, &RoutingSpec::MostRecentlyUsed {}, keep_alive);
    let (_, recs) = simulate(cfg, pol, functions, arrivals);
    recs.iter().map(|r| r.worker.expect("placed").0).collect()
}

fn forever() -> KeepAliveSpec {
    KeepAliveSpec::Infinite {}
}

// ----- placement -----

#[test]
fn worst_fit_takes_the_worker_with_the_most_free_memory() {
    let cfg = config(&[(1000, 4), (3000, 4), (2000, 4)]);
    // Overlapping invocations: every one needs a new 500 MB instance.
    let arrivals = (0..8).map(|i| arr(i * MS, 0, 1000 * S)).collect();
    let got = placed(
        &cfg,
        &PlacementSpec::WorstFit {},
        &forever(),
        vec![func("f", 500)],
        arrivals,
    );
    // Free before each: [1000,3000,2000] -> w1; [1000,2500,2000] -> w1;
    // [1000,2000,2000] tie -> w1; [1000,1500,2000] -> w2; [1000,1500,1500] -> w1;
    // [1000,1000,1500] -> w2; [1000,1000,1000] -> w0; [500,1000,1000] -> w1.
    assert_eq!(got, vec![1, 1, 1, 2, 1, 2, 0, 1]);
}

#[test]
fn power_of_two_picks_the_less_loaded_of_each_sampled_pair() {
    let cfg = config(&[(100_000, 64); 4]);
    let n = 40;
    let arrivals = (0..n).map(|i| arr(i * MS, 0, 1000 * S)).collect();
    let got = placed(
        &cfg,
        &PlacementSpec::PowerOfTwo { d: 2 },
        &forever(),
        vec![func("f", 100)],
        arrivals,
    );
    // Replay the policy's stream: two uniform draws per decision; the less loaded of the
    // pair (equal capacities, so used memory decides), ties to the lower id.
    let mut rng = SimRng::stream(cfg.seed, streams::PLACEMENT);
    let mut used = [0u32; 4];
    let mut decisive = 0;
    for (i, &w) in got.iter().enumerate() {
        let a = rng.below(4) as usize;
        let b = rng.below(4) as usize;
        let expected = if (used[a], a) <= (used[b], b) { a } else { b };
        if used[a] != used[b] {
            decisive += 1;
        }
        assert_eq!(
            w as usize, expected,
            "decision {i}: pair ({a}, {b}), used {used:?}"
        );
        used[expected] += 100;
    }
    assert!(decisive >= 10, "only {decisive} pairs had different loads");
    // Two choices keep the maximum close to the average (10 instances per worker).
    assert!(*used.iter().max().unwrap() <= 1300, "{used:?}");
}

#[test]
fn power_of_two_falls_back_to_least_loaded_when_neither_sample_fits() {
    // One roomy worker among full ones: whatever is drawn, instances end up with room.
    let cfg = config(&[(200, 4), (200, 4), (200, 4), (10_000, 4)]);
    let arrivals = (0..12).map(|i| arr(i * MS, 0, 1000 * S)).collect();
    let got = placed(
        &cfg,
        &PlacementSpec::PowerOfTwo { d: 2 },
        &forever(),
        vec![func("f", 200)],
        arrivals,
    );
    assert_eq!(got.len(), 12);
    for w in 0..3 {
        assert!(got.iter().filter(|&&x| x == w).count() <= 1);
    }
}

// ----- routing -----

/// Two instances of one function: A (first invocation, idle from 110 ms) and B (second,
/// idle from 111 ms); a third invocation at 200 ms finds both warm.
fn two_warm_instances(routing: &RoutingSpec) -> Vec<InvocationRecord> {
    let cfg = config(&[(100_000, 4)]);
    let arrivals = vec![
        arr(0, 0, 10 * MS),
        arr(MS, 0, 10 * MS),
        arr(200 * MS, 0, 10 * MS),
    ];
    let pol = policies(&PlacementSpec::FirstFit {}, routing, &forever());
    simulate(&cfg, pol, vec![func("f", 128)], arrivals).1
}

#[test]
fn lru_and_mru_routing_choose_different_instances() {
    let mru = two_warm_instances(&RoutingSpec::MostRecentlyUsed {});
    let lru = two_warm_instances(&RoutingSpec::LeastRecentlyUsed {});
    for recs in [&mru, &lru] {
        assert!(recs[0].cold_start && recs[1].cold_start && !recs[2].cold_start);
        assert_ne!(recs[0].instance, recs[1].instance);
        assert_eq!(
            [recs[0].end, recs[1].end],
            [SimTime(110 * MS), SimTime(111 * MS)]
        );
    }
    // B was used last (111 ms), A least recently (110 ms).
    assert_eq!(mru[2].instance, mru[1].instance);
    assert_eq!(lru[2].instance, lru[0].instance);
}

#[test]
fn least_loaded_routing_balances_executions_across_instances() {
    let mut cfg = config(&[(100_000, 8)]);
    cfg.instance_concurrency = 3;
    // A (created at 0) and B (at 1 ms, A still starting) are ready with one execution each;
    // at 200 ms both run 1 and the most recently used, B, takes the request (ties -> MRU);
    // at 300 ms A runs 1, B runs 2.
    let arrivals = vec![
        arr(0, 0, 1000 * S),
        arr(MS, 0, 1000 * S),
        arr(200 * MS, 0, 1000 * S),
        arr(300 * MS, 0, 1000 * S),
    ];
    let go = |r: RoutingSpec| {
        let pol = policies(&PlacementSpec::FirstFit {}, &r, &forever());
        simulate(&cfg, pol, vec![func("f", 128)], arrivals.clone()).1
    };
    let ll = go(RoutingSpec::LeastLoaded {});
    let mru = go(RoutingSpec::MostRecentlyUsed {});
    for recs in [&ll, &mru] {
        assert_ne!(recs[0].instance, recs[1].instance);
        assert_eq!(recs[2].instance, recs[1].instance);
        assert!(!recs[2].cold_start && !recs[3].cold_start);
    }
    assert_eq!(ll[3].instance, ll[0].instance);
    assert_eq!(mru[3].instance, mru[1].instance);
}

#[test]
fn random_routing_uses_every_warm_instance() {
    let cfg = config(&[(100_000, 4)]);
    let mut arrivals = vec![arr(0, 0, 10 * MS), arr(MS, 0, 10 * MS)];
    arrivals.extend((1..=40u64).map(|i| arr(i * S, 0, 10 * MS)));
    let go = |r: RoutingSpec| {
        let pol = policies(&PlacementSpec::FirstFit {}, &r, &forever());
        simulate(&cfg, pol, vec![func("f", 128)], arrivals.clone()).1
    };
    let random = go(RoutingSpec::Random {});
    let mru = go(RoutingSpec::MostRecentlyUsed {});
    let used = |recs: &[InvocationRecord]| {
        let mut v: Vec<u32> = recs[2..].iter().map(|r| r.instance.unwrap().0).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    assert!(random[2..].iter().all(|r| !r.cold_start));
    assert_eq!(used(&random), 2);
    assert_eq!(used(&mru), 1);
    // Same seed, same choices.
    let again = go(RoutingSpec::Random {});
    assert_eq!(random, again);
}

// ----- all policies -----

/// A bursty synthetic workload: 8 functions (128..1024 MB), 3000 arrivals over 60 s.
fn synthetic() -> (Vec<FunctionSpec>, Vec<Arrival>) {
    let functions: Vec<FunctionSpec> = (0..8u32)
        .map(|i| func(&format!("fn-{i}"), 128 << (i % 4)))
        .collect();
    let mut rng = SimRng::stream(7, "test-workload");
    let mut t = 0u64;
    let mut arrivals = Vec::new();
    for i in 0..3000u64 {
        // Bursts: a tenth of the gaps are long.
        t += if i % 10 == 0 {
            rng.below(500 * MS)
        } else {
            rng.below(20 * MS)
        };
        let f = (rng.below(8) * rng.below(8) / 8) as u32; // skewed towards low ids
        let dur = 10 * MS + rng.below(S);
        arrivals.push(arr(t, f, dur));
    }
    (functions, arrivals)
}

#[test]
fn every_placement_and_routing_policy_accounts_for_every_invocation() {
    let (functions, arrivals) = synthetic();
    let n = arrivals.len() as u64;
    let keep = KeepAliveSpec::Fixed {
        ttl_s: 10.0,
        reset_on_use: true,
    };
    let mut dropped = 0;
    for placement in PlacementSpec::all_defaults() {
        let mut mru_c1 = None;
        for routing in RoutingSpec::all() {
            for (concurrency, on_full, timeout) in [
                (1, OnFull::Drop, None),
                (2, OnFull::Queue, Some(SimDuration::from_ms(500))),
            ] {
                let mut cfg = config(&[(4096, 4); 4]);
                cfg.cpu = CpuModel::ProcessorSharing;
                cfg.instance_concurrency = concurrency;
                cfg.on_full = on_full;
                cfg.queue_timeout = timeout;
                let pol = policies(&placement, &routing, &keep);
                let (report, recs) = simulate(&cfg, pol, functions.clone(), arrivals.clone());
                let s = &report.stats;
                let what = format!("{} x {:?} x c{concurrency}", placement.name(), routing);
                assert_eq!(s.invocations, n, "{what}");
                assert_eq!(s.completed + s.dropped, n, "{what}");
                assert_eq!(recs.len() as u64, n, "{what}");
                assert!(s.completed > n / 2, "{what}: {} completed", s.completed);
                dropped += s.dropped;
                // With one execution per instance every warm instance is idle, and
                // least-loaded routing is most-recently-used routing.
                if concurrency == 1 {
                    match routing {
                        RoutingSpec::MostRecentlyUsed {} => mru_c1 = Some(recs),
                        RoutingSpec::LeastLoaded {} => {
                            assert!(mru_c1.as_ref() == Some(&recs), "{what}")
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    // The workload is heavy enough to drop some requests (and light enough to serve most).
    assert!(dropped > 0);
}

/// Wraps a placement and checks `ClusterView::live_instances` at every call.
struct CheckLive {
    inner: Box<dyn Placement>,
    calls: std::rc::Rc<std::cell::Cell<u64>>,
}

impl Placement for CheckLive {
    fn place(
        &mut self,
        f: &FunctionView,
        c: &ClusterView,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let sum: u64 = (0..c.worker_count() as u32)
            .map(|w| c.worker(WorkerId(w)).instances as u64)
            .sum();
        assert_eq!(c.live_instances(), sum, "at {}", c.now());
        self.calls.set(self.calls.get() + 1);
        self.inner.place(f, c, rng)
    }
}

#[test]
fn the_live_instance_count_matches_the_workers_through_evictions_and_reclaims() {
    let (functions, arrivals) = synthetic();
    // Tight memory and short keep-alive: many expiries and reclaims.
    let mut cfg = config(&[(2048, 2); 3]);
    cfg.on_full = OnFull::Drop;
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let pol = Policies {
        placement: Box::new(CheckLive {
            inner: PlacementSpec::RoundRobin {}.build().unwrap(),
            calls: calls.clone(),
        }),
        routing: RoutingSpec::MostRecentlyUsed {}.build(),
        keep_alive: KeepAliveSpec::Fixed {
            ttl_s: 1.0,
            reset_on_use: true,
        }
        .build()
        .unwrap(),
        load_balancer: None,
    };
    let (report, _) = simulate(&cfg, pol, functions, arrivals);
    assert!(calls.get() > 100, "{} placements", calls.get());
    assert!(report.stats.evictions_expired > 0);
    assert!(report.stats.evictions_reclaimed > 0);
}
