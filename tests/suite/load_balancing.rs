//! Per-request load balancing at cluster scale: the locality the hash-based balancers exist
//! for survives memory pressure, and the balancers differ the way their designs say.

use super::common::{func, S};
use faasim_policies::load_balancing::probe_order;
use faasim_policies::{
    hash::fnv1a64, KeepAliveSpec, LoadBalancingSpec, PlacementSpec, RoutingSpec,
};
use faasim_sim::{
    run, Arrival, EngineConfig, FunctionId, FunctionSpec, InvocationRecord, SimDuration, SimRng,
    SimTime, VecRecorder, VecSource, WorkerSpec,
};

/// 300 functions of 256 MB with Zipf-like rates (function i at 0.5 / (i + 1) per second,
/// about 3.1 requests/s in all) of 1 s executions for two hours: ~22,000 requests.
/// Ten workers of 4 GiB hold 160 instances, far fewer than the 300 functions that a 600 s
/// keep-alive would keep warm: memory is under pressure all the time.
fn pressured() -> (Vec<FunctionSpec>, Vec<Arrival>) {
    let functions: Vec<FunctionSpec> = (0..300).map(|i| func(&format!("fn-{i}"), 256)).collect();
    let mut rng = SimRng::stream(11, "load-balancing-suite");
    let horizon = 7200.0;
    let mut arrivals = Vec::new();
    for i in 0..300u32 {
        let rate = 0.5 / (i as f64 + 1.0);
        let mut t = 0.0;
        loop {
            t += -(1.0 - rng.unit_f64()).ln() / rate;
            if t >= horizon {
                break;
            }
            arrivals.push(Arrival {
                time: SimTime((t * 1e6) as u64),
                function: FunctionId(i),
                duration: SimDuration(S),
                cold_start: None,
                mode: None,
            });
        }
    }
    arrivals.sort_by_key(|a| (a.time, a.function));
    (functions, arrivals)
}

fn run_pressured(lb: &LoadBalancingSpec) -> Vec<InvocationRecord> {
    let (functions, arrivals) = pressured();
    let cfg = EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: 4096,
                cores: 8
            };
            10
        ],
        ..EngineConfig::default()
    };
    let pol = faasim_policies::build(
        &PlacementSpec::LeastLoaded {},
        &RoutingSpec::MostRecentlyUsed {},
        &KeepAliveSpec::Fixed {
            ttl_s: 600.0,
            reset_on_use: true,
        },
        lb,
    )
    .unwrap();
    let mut rec = VecRecorder::default();
    let mut source = VecSource::new(functions, arrivals);
    let report = run(&cfg, pol, &mut source, &mut rec).unwrap();
    assert_eq!(report.stats.completed, report.stats.invocations);
    rec.invocations
}

/// Share of the cold starts that happened on the function's OpenWhisk home invoker.
fn home_share(recs: &[InvocationRecord]) -> f64 {
    let home: Vec<u32> = (0..300)
        .map(|i| {
            probe_order(fnv1a64(format!("fn-{i}").as_bytes()), 9)
                .next()
                .unwrap() as u32
        })
        .collect();
    let cold: Vec<&InvocationRecord> = recs.iter().filter(|r| r.cold_start).collect();
    let at_home = cold
        .iter()
        .filter(|r| r.worker.unwrap().0 == home[r.function.index()])
        .count();
    at_home as f64 / cold.len() as f64
}

#[test]
fn openwhisk_starts_nearly_every_instance_on_the_home_invoker_under_memory_pressure() {
    // OpenWhisk's semaphore counts only running activations (at most a handful per invoker
    // here, against 16 × 256 MB of capacity), and each invoker evicts its own idle
    // containers, so a function's requests go home whatever the idle memory: the share is
    // 1 unless a home invoker has 16 activations running at once.
    let recs = run_pressured(&LoadBalancingSpec::OpenWhisk {
        managed_fraction: 0.9,
    });
    let share = home_share(&recs);
    eprintln!(
        "openwhisk: {:.4} of the cold starts on the home invoker",
        share
    );
    assert!(share > 0.99, "home share {share}");
    // The tenth invoker serves blackbox actions only: no ordinary request reaches it.
    assert!(recs.iter().all(|r| r.worker.unwrap().0 < 9));
    // Cluster-wide mode (placement by memory) has no home: about 1 in 9 by chance.
    let cluster = home_share(&run_pressured(&LoadBalancingSpec::ClusterWide {}));
    eprintln!("cluster-wide: {cluster:.4} of the cold starts on the home invoker");
    assert!(cluster < 0.3, "cluster-wide home share {cluster}");
}

#[test]
fn locality_buys_warm_starts_that_random_balancing_loses() {
    // Same workload: a function's requests always on one worker (consistent hashing) find
    // its warm instance there; random balancing scatters them over ten workers' memory.
    let cold = |lb: &LoadBalancingSpec| run_pressured(lb).iter().filter(|r| r.cold_start).count();
    let hashed = cold(&LoadBalancingSpec::ConsistentHashingBounded {
        virtual_nodes: 100,
        epsilon: 0.25,
        load: faasim_policies::load_balancing::BoundedLoad::Requests,
    });
    let random = cold(&LoadBalancingSpec::Random {});
    eprintln!("cold starts: consistent hashing {hashed}, random {random}");
    assert!(
        (hashed as f64) < 0.8 * random as f64,
        "hashed {hashed} vs random {random} cold starts"
    );
}
