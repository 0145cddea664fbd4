//! Per-request load balancers run through the real engine on tiny in-memory workloads. Each
//! expected decision is worked out by hand from the reference code the balancer follows
//! (the reasoning is in the comments); decisions are read back from the records.

use faasim_policies::hash::{fnv1a64, Ring};
use faasim_policies::load_balancing::{capacity, probe_order, BoundedLoad, HermodLoad};
use faasim_policies::{KeepAliveSpec, LoadBalancingSpec, PlacementSpec, RoutingSpec};
use faasim_sim::{
    run, Arrival, EngineConfig, FunctionId, FunctionSpec, InvocationRecord, OnFull, Outcome,
    RunReport, SimTime, VecRecorder, VecSource,
};

mod common;

use common::{arr, config, func, MS, S};

/// Runs the workload under `lb` (MRU routing, first-fit placement for anything placed);
/// the report and the records in arrival order.
fn balanced(
    cfg: &EngineConfig,
    lb: &LoadBalancingSpec,
    keep_alive: &KeepAliveSpec,
    functions: Vec<FunctionSpec>,
    arrivals: Vec<Arrival>,
) -> (RunReport, Vec<InvocationRecord>) {
    let pol = faasim_policies::build(
        &PlacementSpec::FirstFit {},
        &RoutingSpec::MostRecentlyUsed {},
        keep_alive,
        lb,
    )
    .expect("valid specs");
    let mut source = VecSource::new(functions, arrivals);
    let mut rec = VecRecorder::default();
    let report = run(cfg, pol, &mut source, &mut rec).expect("the run succeeds");
    rec.invocations.sort_by_key(|r| r.id);
    (report, rec.invocations)
}

fn workers_of(recs: &[InvocationRecord]) -> Vec<u32> {
    recs.iter().map(|r| r.worker.expect("placed").0).collect()
}

fn forever() -> KeepAliveSpec {
    KeepAliveSpec::Infinite {}
}

// ----- the worker-local request path (the engine's side) -----

#[test]
fn a_warm_instance_on_another_worker_does_not_serve_the_request() {
    // Round robin over two workers. r0 -> w0 (cold, runs 100..110 ms, then idle and warm).
    // r1 at 200 ms -> w1: w0's warm instance does not help, a cold start on w1.
    // r2 at 400 ms -> w0: its own warm instance, a warm start.
    let cfg = config(&[(1024, 2), (1024, 2)]);
    let arrivals = vec![
        arr(0, 0, 10 * MS),
        arr(200 * MS, 0, 10 * MS),
        arr(400 * MS, 0, 10 * MS),
    ];
    let (_, recs) = balanced(
        &cfg,
        &LoadBalancingSpec::RoundRobin {},
        &forever(),
        vec![func("f", 256)],
        arrivals,
    );
    assert_eq!(workers_of(&recs), vec![0, 1, 0]);
    let cold: Vec<bool> = recs.iter().map(|r| r.cold_start).collect();
    assert_eq!(cold, vec![true, true, false]);
}

#[test]
fn a_full_worker_queues_its_requests_while_another_has_room() {
    // Round robin over two workers of 256 MB, function of 256 MB, 1 s executions.
    // r0 at 0 -> w0 cold, runs 100..1100 ms. r1 at 1 ms -> w1 cold, runs 101..1101 ms.
    // r2 at 2 ms -> w0: busy, no room, no idle instance: it waits in w0's queue, and at
    // 1100 ms takes r0's instance, warm: runs 1100..2100 ms (waited 1098 ms).
    // r3 at 3 ms -> w1, likewise from 1101 ms.
    let cfg = config(&[(256, 1), (256, 1)]);
    let arrivals = (0..4).map(|i| arr(i * MS, 0, S)).collect();
    let (report, recs) = balanced(
        &cfg,
        &LoadBalancingSpec::RoundRobin {},
        &forever(),
        vec![func("f", 256)],
        arrivals,
    );
    assert_eq!(workers_of(&recs), vec![0, 1, 0, 1]);
    assert_eq!(recs[2].start, SimTime(1100 * MS));
    assert_eq!(recs[3].start, SimTime(1101 * MS));
    assert!(!recs[2].cold_start && !recs[3].cold_start);
    assert_eq!(recs[2].end, SimTime(2100 * MS));
    assert_eq!(report.stats.cold_starts, 2);
}

#[test]
fn the_head_of_a_worker_queue_reclaims_that_workers_idle_memory() {
    // One worker of 512 MB. f (512 MB) at 0 runs 100..1100 ms. g (256 MB) at 1 ms must wait
    // (no room, f busy). At 1100 ms f's instance goes idle (kept forever), g is the queue
    // head: the worker evicts the idle f instance and starts g cold: 1100..1200 ms cold
    // start, runs to 1210 ms.
    let cfg = config(&[(512, 1)]);
    let arrivals = vec![arr(0, 0, S), arr(MS, 1, 10 * MS)];
    let (report, recs) = balanced(
        &cfg,
        &LoadBalancingSpec::LeastLoaded {},
        &forever(),
        vec![func("f", 512), func("g", 256)],
        arrivals,
    );
    assert_eq!(recs[1].dispatched, SimTime(1100 * MS));
    assert_eq!(recs[1].start, SimTime(1200 * MS));
    assert!(recs[1].cold_start);
    assert_eq!(report.stats.evictions_reclaimed, 1);
}

#[test]
fn drop_on_full_rejects_at_the_chosen_worker() {
    // Same as the queueing case, but on_full = drop: r2 and r3 are rejected although no
    // request elsewhere could have used their worker's capacity.
    let mut cfg = config(&[(256, 1), (256, 1)]);
    cfg.on_full = OnFull::Drop;
    let arrivals = (0..4).map(|i| arr(i * MS, 0, S)).collect();
    let (_, recs) = balanced(
        &cfg,
        &LoadBalancingSpec::RoundRobin {},
        &forever(),
        vec![func("f", 256)],
        arrivals,
    );
    let outcomes: Vec<Outcome> = recs.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Completed,
            Outcome::Completed,
            Outcome::DroppedFull,
            Outcome::DroppedFull
        ]
    );
}

// ----- OpenWhisk -----

fn openwhisk() -> LoadBalancingSpec {
    LoadBalancingSpec::OpenWhisk {
        managed_fraction: 0.9,
    }
}

#[test]
fn openwhisk_fills_each_invokers_semaphore_in_probe_order_then_overloads_at_random() {
    // 10 invokers of 1024 MB: the first ceil(0.9 × 10) = 9 serve ordinary actions. A
    // 256 MB action's semaphore holds 4 activations per invoker (4 × 256 = 1024), so 36
    // overlapping requests fill the 9 invokers 4 at a time in probe order over 9 invokers;
    // the 37th..40th find every semaphore full and go to a random managed invoker (never
    // invoker 9, which is reserved for blackbox actions).
    let cfg = config(&[(1024, 4); 10]);
    let arrivals = (0..40).map(|i| arr(i * MS, 0, 1000 * S)).collect();
    let (_, recs) = balanced(
        &cfg,
        &openwhisk(),
        &forever(),
        vec![func("thumbnail", 256)],
        arrivals,
    );
    let got = workers_of(&recs);
    let order: Vec<u32> = probe_order(fnv1a64(b"thumbnail"), 9)
        .map(|i| i as u32)
        .collect();
    let expected: Vec<u32> = order.iter().flat_map(|&w| [w; 4]).collect();
    assert_eq!(got[..36], expected[..]);
    assert!(got[36..].iter().all(|&w| w < 9), "{got:?}");
}

#[test]
fn openwhisk_counts_only_running_activations_and_the_invoker_evicts_its_idle_containers() {
    // Two actions with the same home invoker among 4 (managed: all 4, ceil(3.6)). `a`
    // (768 MB) runs and goes idle (kept forever); `b` (512 MB) arrives later: the semaphore
    // of the home invoker holds nothing running (0 + 512 <= 1024), so b goes home too, and
    // the invoker evicts the idle `a` container to start b (768 + 512 > 1024).
    let names: Vec<String> = (0..200).map(|i| format!("fn{i}")).collect();
    let home = |n: &str| probe_order(fnv1a64(n.as_bytes()), 4).next().unwrap();
    let a = names[0].clone();
    let b = names[1..]
        .iter()
        .find(|n| home(n) == home(&a))
        .expect("some name shares the home invoker")
        .clone();
    let cfg = config(&[(1024, 4); 4]);
    let arrivals = vec![arr(0, 0, 10 * MS), arr(S, 1, 10 * MS)];
    let (report, recs) = balanced(
        &cfg,
        &openwhisk(),
        &forever(),
        vec![func(&a, 768), func(&b, 512)],
        arrivals,
    );
    assert_eq!(workers_of(&recs), vec![home(&a) as u32; 2]);
    assert_eq!(report.stats.evictions_reclaimed, 1);
}

// ----- consistent hashing with bounded loads -----

#[test]
fn consistent_hashing_bounded_never_exceeds_the_bound_on_requests() {
    let w = 5;
    let cfg = config(&[(1_000_000, 64); 5]);
    let functions: Vec<FunctionSpec> = ["alpha", "beta", "gamma", "delta"]
        .iter()
        .map(|n| func(n, 100))
        .collect();
    // 120 overlapping requests: none ends, so a worker's load is the requests sent to it.
    let arrivals = (0..120u64)
        .map(|i| arr(i * MS, (i % 4) as u32, 1000 * S))
        .collect();
    let spec = LoadBalancingSpec::ConsistentHashingBounded {
        virtual_nodes: 100,
        epsilon: 0.25,
        load: BoundedLoad::Requests,
    };
    let (_, recs) = balanced(&cfg, &spec, &forever(), functions, arrivals);
    let mut count = vec![0u64; w];
    for (k, x) in workers_of(&recs).into_iter().enumerate() {
        count[x as usize] += 1;
        let cap = capacity(0.25, k as u64 + 1, w);
        assert!(
            count.iter().all(|&c| c <= cap),
            "after {k}: {count:?} above {cap}"
        );
    }
    // The four functions have distinct ring successors, each filled exactly to the final
    // bound ⌈1.25 · 120 / 5⌉ = 30.
    assert_eq!(*count.iter().max().unwrap(), 30, "{count:?}");
}

#[test]
fn consistent_hashing_bounded_keeps_sequential_requests_home_and_reuses_warm_instances() {
    // One request at a time (each ends before the next): the bound ⌈1.25 · 1 / 5⌉ = 1 is
    // never binding, so every request goes to its function's ring successor, and after the
    // first of each function every one is warm there.
    let cfg = config(&[(100_000, 8); 5]);
    let names = ["alpha", "beta", "gamma"];
    let functions: Vec<FunctionSpec> = names.iter().map(|n| func(n, 100)).collect();
    let arrivals: Vec<Arrival> = (0..30u64)
        .map(|i| arr(i * S, (i % 3) as u32, 10 * MS))
        .collect();
    let spec = LoadBalancingSpec::ConsistentHashingBounded {
        virtual_nodes: 100,
        epsilon: 0.25,
        load: BoundedLoad::Requests,
    };
    let (report, recs) = balanced(&cfg, &spec, &forever(), functions, arrivals);
    let ring = Ring::new(5, 100);
    for (i, w) in workers_of(&recs).into_iter().enumerate() {
        let home = ring.distinct(Ring::key(names[i % 3]), 1)[0];
        assert_eq!(w, home.0, "request {i}");
    }
    assert_eq!(report.stats.cold_starts, 3);
}

// ----- CH-RLU -----

fn ch_rlu(popular_fraction: f64) -> LoadBalancingSpec {
    LoadBalancingSpec::ChRlu {
        virtual_nodes: 3,
        chain_length: 4,
        load_bound: 1.4,
        popular_fraction,
        refresh_s: 2.0,
    }
}

fn chain(workers: usize, name: &str) -> Vec<u32> {
    Ring::new(workers, 3)
        .distinct(Ring::key(name), 4)
        .iter()
        .map(|w| w.0)
        .collect()
}

#[test]
fn ch_rlu_sends_unpopular_functions_home_whatever_the_load() {
    // One function: round(0.2 × 1) = 0 popular functions, so every request goes to the
    // chain's first worker with no load check, even with 30 executions on its one core.
    let cfg = config(&[(100_000, 1); 8]);
    let arrivals = (0..30u64).map(|i| arr(i * 3 * S, 0, 1000 * S)).collect();
    let (_, recs) = balanced(
        &cfg,
        &ch_rlu(0.2),
        &forever(),
        vec![func("hot", 100)],
        arrivals,
    );
    assert_eq!(workers_of(&recs), vec![chain(8, "hot")[0]; 30]);
}

#[test]
fn ch_rlu_forwards_a_popular_function_past_a_loaded_worker_and_keeps_an_unpopular_one_home() {
    // "hot" arrives every 50 ms for 1 s, "cool" every 100 ms for 1 s, all executions run
    // for 1000 s: before the first refresh at 2 s nothing is popular, so all of them stay
    // home: 20 executions on hot's home core, 10 on cool's (1 core per worker).
    // At 70 s the load averages have aged 14 ticks of 5 s with n = 20 (resp. 10) running:
    // 20 · (1 − e^(−70/60)) = 13.8 and 6.9 per core, far above the 1.4 bound (the noise
    // has sd 0.1). At 70 s "cool" arrives: its IAT average becomes 0.9 · 0.1 + 0.1 · 69 =
    // 6.99 s, and the refresh at 70 s ranks hot (0.05 s) first: round(0.5 × 2) = 1 popular
    // function, hot. cool, unpopular, goes home regardless of its load. At 70.001 s hot,
    // popular, skips every loaded chain worker and takes the first idle one (load 0 plus
    // noise of mean λ/1 with λ = 1 / mean IAT, about 0.28, far below 1.4).
    let n = 8;
    let cfg = config(&vec![(100_000, 1); n]);
    let (hot, cool) = ("hot", "cool");
    let mut arrivals: Vec<Arrival> = (0..20u64).map(|i| arr(i * 50 * MS, 0, 1000 * S)).collect();
    arrivals.extend((0..10u64).map(|i| arr(i * 100 * MS + 1, 1, 1000 * S)));
    arrivals.push(arr(70 * S, 1, 10 * MS));
    arrivals.push(arr(70 * S + MS, 0, 10 * MS));
    arrivals.sort_by_key(|a| a.time);
    let (_, recs) = balanced(
        &cfg,
        &ch_rlu(0.5),
        &forever(),
        vec![func(hot, 100), func(cool, 100)],
        arrivals,
    );
    let (hc, cc) = (chain(n, hot), chain(n, cool));
    let last_cool = recs
        .iter()
        .rev()
        .find(|r| r.function == FunctionId(1))
        .unwrap();
    let last_hot = recs
        .iter()
        .rev()
        .find(|r| r.function == FunctionId(0))
        .unwrap();
    assert_eq!(last_cool.worker.unwrap().0, cc[0]);
    let loaded = [hc[0], cc[0]];
    let expected = *hc.iter().find(|w| !loaded.contains(w)).unwrap();
    assert_eq!(
        last_hot.worker.unwrap().0,
        expected,
        "chain {hc:?}, cool home {}",
        cc[0]
    );
    // Every earlier request stayed home.
    for r in &recs[..30] {
        let home = if r.function == FunctionId(0) {
            hc[0]
        } else {
            cc[0]
        };
        assert_eq!(r.worker.unwrap().0, home);
    }
}

// ----- Hermod -----

fn hermod() -> LoadBalancingSpec {
    LoadBalancingSpec::Hermod {
        load: HermodLoad::Requests,
        prefer_warm: false,
        avoid_queueing: true,
    }
}

#[test]
fn hermod_packs_at_low_load() {
    // Six functions, one long request each, 10 ms apart, on 4 workers of 8 cores. The first
    // goes to w0 (all empty, priority 0, lowest id); each later one finds w0 non-empty with
    // fewer requests than cores (priority 2) and the others empty (priority 0): all on w0.
    let cfg = config(&[(100_000, 8); 4]);
    let functions: Vec<FunctionSpec> = (0..6).map(|i| func(&format!("f{i}"), 256)).collect();
    let arrivals: Vec<Arrival> = (0..6u32)
        .map(|i| arr(i as u64 * 10 * MS, i, 1000 * S))
        .collect();
    let (_, recs) = balanced(
        &cfg,
        &hermod(),
        &forever(),
        functions.clone(),
        arrivals.clone(),
    );
    assert_eq!(workers_of(&recs), vec![0; 6]);
    // Least-loaded balancing spreads the same requests.
    let (_, spread) = balanced(
        &cfg,
        &LoadBalancingSpec::LeastLoaded {},
        &forever(),
        functions,
        arrivals,
    );
    assert_eq!(workers_of(&spread), vec![0, 1, 2, 3, 0, 1]);
}

#[test]
fn hermod_opens_a_new_worker_when_cores_are_busy_and_balances_at_high_load() {
    // Two workers of 2 cores; a long request every 200 ms. t=0: w0. 200 ms: w0 has 1 < 2
    // -> w0. 400 ms: w0 has 2 (not below its cores), w1 empty -> w1. 600 ms: w1 has 1 ->
    // w1. 800 ms: both at 2: high load, least loaded, both could start an instance (the
    // no-queueing token ties), tie -> w0. 1 s: w0 has 3, w1 2 -> w1.
    let cfg = config(&[(100_000, 2); 2]);
    let functions: Vec<FunctionSpec> = (0..6).map(|i| func(&format!("f{i}"), 256)).collect();
    let arrivals = (0..6u32)
        .map(|i| arr(i as u64 * 200 * MS, i, 1000 * S))
        .collect();
    let (_, recs) = balanced(&cfg, &hermod(), &forever(), functions, arrivals);
    assert_eq!(workers_of(&recs), vec![0, 0, 1, 1, 0, 1]);
}

#[test]
fn hermod_prefers_a_busy_worker_that_holds_a_warm_instance() {
    // Three workers of 2 cores (100 ms cold starts).
    // a  at   0 ms (600 ms): all empty -> w0, runs 100..700.
    // a2 at 200 ms (1000 s): w0 has 1 request < 2 cores, non-empty -> w0 (priority 2).
    // b  at 400 ms (10 ms):  w0 has 2 -> skipped; w1, w2 empty -> w1, runs 500..510, then
    //                        idle and warm on w1.
    // d  at 600 ms (1000 s): w0 has 2 -> skipped; w1 has no request (b ended) -> empty,
    //                        priority 0, as w2 -> w1.
    // b  at 800 ms (10 ms):  w0 has 1 (a ended at 700): non-empty, no warm b -> 2; w1 has 1
    //                        (d) and a warm b -> 3: w1, a warm start.
    let cfg = config(&[(100_000, 2); 3]);
    let functions = vec![
        func("a", 256),
        func("a2", 256),
        func("b", 256),
        func("d", 256),
    ];
    let arrivals = vec![
        arr(0, 0, 600 * MS),
        arr(200 * MS, 1, 1000 * S),
        arr(400 * MS, 2, 10 * MS),
        arr(600 * MS, 3, 1000 * S),
        arr(800 * MS, 2, 10 * MS),
    ];
    let (_, recs) = balanced(&cfg, &hermod(), &forever(), functions, arrivals);
    assert_eq!(workers_of(&recs), vec![0, 0, 1, 1, 1]);
    assert!(!recs[4].cold_start);
}

// ----- baselines -----

#[test]
fn power_of_two_and_random_use_only_the_balancers_stream() {
    // The same seed gives the same choices; another seed other choices.
    let go = |seed: u64, spec: &LoadBalancingSpec| {
        let mut cfg = config(&[(100_000, 4); 8]);
        cfg.seed = seed;
        let arrivals = (0..50u64).map(|i| arr(i * MS, 0, S)).collect();
        workers_of(&balanced(&cfg, spec, &forever(), vec![func("f", 128)], arrivals).1)
    };
    for spec in [
        LoadBalancingSpec::PowerOfTwo { d: 2 },
        LoadBalancingSpec::Random {},
    ] {
        assert_eq!(go(1, &spec), go(1, &spec));
        assert_ne!(go(1, &spec), go(2, &spec));
    }
    // Power of two keeps every worker within a few requests of the mean (50 / 8 = 6.25).
    let got = go(3, &LoadBalancingSpec::PowerOfTwo { d: 2 });
    for w in 0..8 {
        let c = got.iter().filter(|&&x| x == w).count();
        assert!((3..=10).contains(&c), "worker {w}: {c} requests of {got:?}");
    }
}
