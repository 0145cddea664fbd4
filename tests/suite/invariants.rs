//! Property tests over small random workloads and clusters: conservation (every invocation
//! reported exactly once), exact money sums, capacity, and the record fields' consistency.

use faasim_policies::{KeepAliveSpec, LoadBalancingSpec, PlacementSpec, RoutingSpec};
use faasim_sim::{
    run, Arrival, Billing, BillingModel, ClusterView, CpuModel, DistSpec, EngineConfig, FunctionId,
    FunctionSpec, FunctionView, InstanceView, InvocationRecord, KeepAlive, KeepAliveDecision,
    LoadBalancer, Money, OnFull, Outcome, Placement, PolicyRng, Recorder, RequestView, RunEnd,
    Sample, SimDuration, SimTime, VecRecorder, VecSource, WorkerId, WorkerSpec,
};
use proptest::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

#[derive(Debug, Clone)]
struct Case {
    function_mb: Vec<u32>,
    workers: Vec<(u32, u32)>,
    /// (time us, function index (mod the function count), duration us)
    arrivals: Vec<(u64, u32, u64)>,
    concurrency: u32,
    drop_on_full: bool,
    queue_timeout_ms: Option<u64>,
    placement: PlacementSpec,
    /// `cluster-wide` or a per-request balancer (worker-local reuse, reclaim and queues).
    load_balancing: LoadBalancingSpec,
    keep_alive: KeepAliveChoice,
    cpu: CpuModel,
    cold_start: DistSpec,
    granularity_ms: u64,
    bill_init: bool,
    seed: u64,
    /// Snapshot restores, when on.
    snapshot: Option<faasim_sim::SnapshotConfig>,
    /// Forks, when on.
    fork: Option<faasim_sim::ForkConfig>,
}

#[derive(Debug, Clone)]
enum KeepAliveChoice {
    Spec(KeepAliveSpec),
    /// [`PrewarmKeepAlive`]: exercises pre-warming and ranked reclaiming.
    Prewarm {
        ttl_ms: u64,
        delay_ms: u64,
        ranked: bool,
    },
}

/// Keeps executed instances `ttl` after their last use and pre-warmed ones (never executed)
/// until reclaimed; re-creates an instance `delay` after each expiry; optionally ranks
/// reclaim victims most recently idle first (the opposite of the default order).
struct PrewarmKeepAlive {
    ttl: SimDuration,
    delay: SimDuration,
    ranked: bool,
}

impl KeepAlive for PrewarmKeepAlive {
    fn on_idle(&mut self, i: &InstanceView, now: SimTime) -> KeepAliveDecision {
        if i.executions == 0 {
            KeepAliveDecision::KeepForever
        } else {
            KeepAliveDecision::KeepUntil(now + self.ttl)
        }
    }
    fn victim_priority(&mut self, i: &InstanceView, _now: SimTime) -> Option<u64> {
        self.ranked.then(|| u64::MAX - i.idle_since.as_micros())
    }
    fn prewarm(&mut self, _f: FunctionId, _now: SimTime) -> Option<SimDuration> {
        Some(self.delay)
    }
}

fn case() -> impl Strategy<Value = Case> {
    let placement = prop_oneof![
        Just(PlacementSpec::FirstFit {}),
        Just(PlacementSpec::BestFit {}),
        Just(PlacementSpec::LeastLoaded {}),
        Just(PlacementSpec::Random {}),
        Just(PlacementSpec::RoundRobin {}),
    ];
    let keep_alive = prop_oneof![
        Just(KeepAliveChoice::Spec(KeepAliveSpec::None {})),
        Just(KeepAliveChoice::Spec(KeepAliveSpec::Infinite {})),
        (0u64..2_000, any::<bool>()).prop_map(|(ms, reset)| {
            KeepAliveChoice::Spec(KeepAliveSpec::Fixed {
                ttl_s: ms as f64 / 1000.0,
                reset_on_use: reset,
            })
        }),
        (0u64..500, 0u64..100, any::<bool>()).prop_map(|(ttl_ms, delay_ms, ranked)| {
            KeepAliveChoice::Prewarm {
                ttl_ms,
                delay_ms,
                ranked,
            }
        }),
    ];
    let cold_start = prop_oneof![
        (0u64..200).prop_map(|ms| DistSpec::Constant {
            value_ms: ms as f64
        }),
        Just(DistSpec::Lognormal {
            median_ms: 50.0,
            sigma: 0.5
        }),
    ];
    let cpu = prop_oneof![
        2 => Just(CpuModel::ProcessorSharing),
        2 => Just(CpuModel::Ignore),
        1 => any::<bool>().prop_map(|durations_at_one_vcpu| CpuModel::Proportional {
            durations_at_one_vcpu
        }),
    ];
    (
        prop::collection::vec(prop::sample::select(vec![64u32, 128, 256, 512]), 1..=5),
        prop::collection::vec(
            (prop::sample::select(vec![512u32, 768, 1024]), 1u32..=4),
            1..=3,
        ),
        prop::collection::vec((0u64..3_000_000, 0u32..5, 1u64..400_000), 1..=60),
        1u32..=3,
        any::<bool>(),
        prop::option::of(0u64..1_000),
        placement,
        keep_alive,
        cpu,
        cold_start,
        (
            prop::sample::select(vec![1u64, 100]),
            any::<bool>(),
            any::<u64>(),
            prop::sample::select(LoadBalancingSpec::all_defaults()),
            starts(),
        ),
    )
        .prop_map(
            |(
                function_mb,
                workers,
                arrivals,
                concurrency,
                drop_on_full,
                queue_timeout_ms,
                placement,
                keep_alive,
                cpu,
                cold_start,
                (granularity_ms, bill_init, seed, load_balancing, (snapshot, fork)),
            )| Case {
                function_mb,
                workers,
                arrivals,
                concurrency,
                drop_on_full,
                queue_timeout_ms,
                placement,
                load_balancing,
                keep_alive,
                cpu,
                cold_start,
                granularity_ms,
                bill_init,
                seed,
                snapshot,
                fork,
            },
        )
}

/// Start types: none (half the cases), snapshots (store small or unlimited, lazy or
/// eager, made at the first boot or at deployment), forks (preferred or not), or both.
fn starts() -> impl Strategy<
    Value = (
        Option<faasim_sim::SnapshotConfig>,
        Option<faasim_sim::ForkConfig>,
    ),
> {
    use faasim_sim::{ForkConfig, ForkPlacement, RestoreSpec, SnapshotConfig, SnapshotCreate};
    let snapshot = (
        prop::option::of(100u64..1_000),
        prop::sample::select(vec![1.0, 1.5, 2.25]),
        any::<bool>(),
        0u64..50,
    )
        .prop_map(
            |(capacity_mb, slowdown, deploy, restore_ms)| SnapshotConfig {
                enabled: true,
                restore_ms: RestoreSpec::Millis(restore_ms as f64),
                create: if deploy {
                    SnapshotCreate::Deploy
                } else {
                    SnapshotCreate::FirstColdStart
                },
                slowdown,
                capacity_mb,
                billed: true,
            },
        );
    let fork = (any::<bool>(), 0u64..5).prop_map(|(prefer, ms)| ForkConfig {
        enabled: true,
        fork_ms: RestoreSpec::Millis(ms as f64),
        placement: if prefer {
            ForkPlacement::PreferFork
        } else {
            ForkPlacement::Policy
        },
    });
    prop_oneof![
        4 => Just((None, None)),
        1 => snapshot.clone().prop_map(|s| (Some(s), None)),
        1 => fork.clone().prop_map(|f| (None, Some(f))),
        2 => (snapshot, fork).prop_map(|(s, f)| (Some(s), Some(f))),
    ]
}

/// Wraps a placement policy and checks, at every decision, that no worker holds more
/// memory than it has (the engine's own check is a `debug_assert`, off in release).
struct CapacityCheck {
    inner: Box<dyn Placement>,
    violations: Rc<Cell<u64>>,
    calls: Rc<Cell<u64>>,
}

impl Placement for CapacityCheck {
    fn place(
        &mut self,
        f: &FunctionView<'_>,
        c: &ClusterView<'_>,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        self.calls.set(self.calls.get() + 1);
        for w in 0..c.worker_count() {
            let v = c.worker(WorkerId(w as u32));
            if v.used_mb > v.memory_mb
                || v.idle_mb > v.used_mb
                || v.reserved_cpu_mb > v.cores as u64 * 1769
            {
                self.violations.set(self.violations.get() + 1);
            }
        }
        self.inner.place(f, c, rng)
    }
}

/// The same check at every load-balancing decision, plus the balancer's bookkeeping: the
/// requests assigned to workers add up to the cluster's count.
struct BalancerCheck {
    inner: Box<dyn LoadBalancer>,
    violations: Rc<Cell<u64>>,
    calls: Rc<Cell<u64>>,
}

impl LoadBalancer for BalancerCheck {
    fn select(
        &mut self,
        r: &RequestView<'_>,
        c: &ClusterView<'_>,
        rng: &mut PolicyRng,
    ) -> WorkerId {
        self.calls.set(self.calls.get() + 1);
        let mut assigned = 0u64;
        for w in 0..c.worker_count() {
            let v = c.worker(WorkerId(w as u32));
            assigned += v.assigned as u64;
            if v.used_mb > v.memory_mb
                || v.idle_mb > v.used_mb
                || v.queued > v.assigned
                || v.reserved_cpu_mb > v.cores as u64 * 1769
            {
                self.violations.set(self.violations.get() + 1);
            }
        }
        if assigned != c.assigned_requests() {
            self.violations.set(self.violations.get() + 1);
        }
        self.inner.select(r, c, rng)
    }
}

/// Every workload here is over within a few simulated minutes, so more samples than this
/// (at 1 ms) mean the run would never end: an invocation stranded in the queue keeps the
/// sampling clock going forever. Fail instead of hanging.
const MAX_SAMPLES: usize = 600_000;

struct Bounded(VecRecorder);

impl Recorder for Bounded {
    fn invocation(&mut self, r: &InvocationRecord) {
        self.0.invocation(r);
    }
    fn sample(&mut self, s: &Sample) {
        assert!(
            self.0.samples.len() < MAX_SAMPLES,
            "the run does not end: {} invocations reported, last sample {:?}",
            self.0.invocations.len(),
            s
        );
        self.0.sample(s);
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let nf = case.function_mb.len() as u32;
    let functions: Vec<FunctionSpec> = case
        .function_mb
        .iter()
        .enumerate()
        .map(|(i, &mb)| FunctionSpec {
            name: format!("f{i}"),
            memory_mb: mb,
        })
        .collect();
    let mut arrivals: Vec<Arrival> = case
        .arrivals
        .iter()
        .map(|&(at, f, dur)| Arrival {
            time: SimTime(at),
            function: FunctionId(f % nf),
            duration: SimDuration(dur),
            cold_start: None,
            mode: None,
        })
        .collect();
    arrivals.sort_by_key(|a| a.time);
    let horizon = (case.seed.is_multiple_of(3) && !arrivals.is_empty())
        .then(|| arrivals[arrivals.len() / 2].time + SimDuration(1));
    let admitted = arrivals
        .iter()
        .filter(|a| horizon.is_none_or(|h| a.time < h))
        .count();
    let n = admitted;
    let cfg = EngineConfig {
        workers: case
            .workers
            .iter()
            .map(|&(memory_mb, cores)| WorkerSpec { memory_mb, cores })
            .collect(),
        // vCPU shares are per instance: one execution each.
        instance_concurrency: match case.cpu {
            CpuModel::Proportional { .. } => 1,
            _ => case.concurrency,
        },
        on_full: if case.drop_on_full {
            OnFull::Drop
        } else {
            OnFull::Queue
        },
        queue_timeout: case.queue_timeout_ms.map(SimDuration::from_ms),
        cold_start: case.cold_start.clone(),
        cold_start_per_function: Vec::new(),
        functions: Default::default(),
        provider: Default::default(),
        cpu: case.cpu,
        billing: Billing {
            model: BillingModel::AwsLambdaX86,
            granularity_ms: case.granularity_ms,
            bill_init: case.bill_init,
            ..Billing::default()
        },
        seed: case.seed,
        sample_interval: Some(SimDuration::from_ms(1)),
        provisioned_per_function: 0,
        // A third of the cases stop at a horizon in the middle of the workload.
        end: match horizon {
            Some(h) => RunEnd::Horizon { at: Some(h) },
            None => RunEnd::Drain,
        },
        snapshot: case.snapshot.clone().unwrap_or_default(),
        fork: case.fork.clone().unwrap_or_default(),
        // The invariants hold on either request path (where the run allows the plain one).
        request_path: match case.seed & 4 {
            0 => faasim_sim::RequestPath::Auto,
            _ => faasim_sim::RequestPath::General,
        },
    };
    let spec = match &case.keep_alive {
        KeepAliveChoice::Spec(s) => s.clone(),
        KeepAliveChoice::Prewarm { .. } => KeepAliveSpec::None {},
    };
    let mut base = faasim_policies::build(
        &case.placement,
        &RoutingSpec::MostRecentlyUsed {},
        &spec,
        &case.load_balancing,
    )
    .expect("valid specs");
    if let KeepAliveChoice::Prewarm {
        ttl_ms,
        delay_ms,
        ranked,
    } = case.keep_alive
    {
        base.keep_alive = Box::new(PrewarmKeepAlive {
            ttl: SimDuration::from_ms(ttl_ms),
            delay: SimDuration::from_ms(delay_ms),
            ranked,
        });
    }
    let violations = Rc::new(Cell::new(0));
    let calls = Rc::new(Cell::new(0));
    let load_balancer = base
        .load_balancer
        .take()
        .map(|inner| -> Box<dyn LoadBalancer> {
            Box::new(BalancerCheck {
                inner,
                violations: violations.clone(),
                calls: calls.clone(),
            })
        });
    let pol = faasim_sim::Policies {
        placement: Box::new(CapacityCheck {
            inner: base.placement,
            violations: violations.clone(),
            calls: calls.clone(),
        }),
        load_balancer,
        ..base
    };
    let mut source = VecSource::new(functions, arrivals.clone());
    let mut bounded = Bounded(VecRecorder::default());
    let rep = run(&cfg, pol, &mut source, &mut bounded).expect("run");
    let rec = bounded.0;
    let s = &rep.stats;

    // Conservation: every invocation reported exactly once.
    let mut ids: Vec<u64> = rec.invocations.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    prop_assert_eq!(ids, (0..n as u64).collect::<Vec<_>>());
    prop_assert_eq!(s.invocations, n as u64);
    prop_assert_eq!(s.completed + s.dropped + s.unfinished, s.invocations);
    if horizon.is_none() {
        prop_assert_eq!(s.unfinished, 0);
    }
    prop_assert!(s.dropped_timeout <= s.dropped);
    let completed = rec
        .invocations
        .iter()
        .filter(|r| r.outcome == Outcome::Completed)
        .count() as u64;
    prop_assert_eq!(completed, s.completed);
    if case.drop_on_full {
        prop_assert_eq!(s.dropped_timeout, 0);
        prop_assert_eq!(s.peak_queue, 0);
    }
    if !case.drop_on_full && case.queue_timeout_ms.is_none() {
        prop_assert_eq!(s.dropped, 0);
    }

    // Money: the run's totals are the exact sums of the invocations' charges.
    let req: Money = rec.invocations.iter().map(|r| r.charge.request).sum();
    let dur: Money = rec.invocations.iter().map(|r| r.charge.duration).sum();
    let mb_ms: u128 = rec.invocations.iter().map(|r| r.charge.mb_ms).sum();
    prop_assert_eq!(req + dur, s.request_cost + s.duration_cost);
    prop_assert_eq!(req, s.request_cost);
    prop_assert_eq!(dur, s.duration_cost);
    prop_assert_eq!(mb_ms, s.billed_mb_ms);

    // Each record is consistent with its arrival and with the model.
    for r in &rec.invocations {
        let a = arrivals[r.id as usize];
        prop_assert_eq!(r.arrival, a.time);
        prop_assert_eq!(r.function, a.function);
        prop_assert!(r.arrival <= r.dispatched && r.dispatched <= r.start && r.start <= r.end);
        match r.outcome {
            Outcome::Completed => {
                prop_assert!(r.latency() >= a.duration, "latency < duration: {:?}", r);
                let exec = r.end - r.start;
                // The first execution after a lazy restore runs longer.
                let slowed = case.snapshot.as_ref().is_some_and(|c| c.slowdown > 1.0);
                match case.cpu {
                    CpuModel::Ignore
                    | CpuModel::Proportional {
                        durations_at_one_vcpu: false,
                    } if !slowed => prop_assert_eq!(exec, a.duration),
                    _ => prop_assert!(exec >= a.duration),
                }
                if r.cold_start {
                    prop_assert_eq!(r.start - r.dispatched, r.init);
                } else {
                    prop_assert_eq!(r.start, r.dispatched);
                    prop_assert_eq!(r.init, SimDuration::ZERO);
                }
                prop_assert!(r.instance.is_some() && r.worker.is_some());
                // A restore's or a fork's wait is not billed as INIT time.
                let boot = cfg.billing.charge(exec, r.init, r.memory_mb);
                let other = cfg.billing.charge(exec, SimDuration::ZERO, r.memory_mb);
                if case.snapshot.is_none() && case.fork.is_none() {
                    prop_assert_eq!(r.charge, boot);
                } else {
                    prop_assert!(r.charge == boot || r.charge == other);
                }
                prop_assert_eq!(r.memory_mb, case.function_mb[a.function.index()]);
            }
            Outcome::Unfinished => {
                prop_assert_eq!(r.charge, Default::default());
                prop_assert_eq!(Some(r.end), horizon);
            }
            Outcome::Throttled | Outcome::Failed | Outcome::TimedOut => {
                prop_assert!(false, "no provider rule is on: {:?}", r);
            }
            Outcome::DroppedFull | Outcome::DroppedTimeout => {
                prop_assert_eq!(r.charge, Default::default());
                prop_assert!(r.instance.is_none());
                if r.outcome == Outcome::DroppedFull {
                    prop_assert_eq!(r.end, r.arrival);
                } else {
                    let timeout = cfg.queue_timeout.expect("a timeout drop needs a timeout");
                    prop_assert_eq!(r.end, r.arrival + timeout);
                }
            }
        }
    }

    // Counts.
    prop_assert!(s.cold_starts <= s.instances_created);
    prop_assert!(
        s.evictions_expired + s.evictions_reclaimed + s.evictions_scaled_down
            <= s.instances_created
    );
    let total_mb: u64 = case.workers.iter().map(|w| w.0 as u64).sum();
    let total_cores: u64 = case.workers.iter().map(|w| w.1 as u64).sum();
    prop_assert!(s.peak_memory_mb <= total_mb);
    prop_assert!(s.idle_mb_us <= s.used_mb_us);
    prop_assert!(s.used_mb_us <= total_mb as u128 * s.end.as_micros() as u128);
    prop_assert!(s.busy_core_us <= total_cores as u128 * s.end.as_micros() as u128);

    // Per-function statistics add up to the run's.
    let f = &rep.functions;
    prop_assert_eq!(f.iter().map(|x| x.invocations).sum::<u64>(), s.invocations);
    prop_assert_eq!(f.iter().map(|x| x.completed).sum::<u64>(), s.completed);
    prop_assert_eq!(f.iter().map(|x| x.dropped).sum::<u64>(), s.dropped);
    prop_assert_eq!(f.iter().map(|x| x.cold_starts).sum::<u64>(), s.cold_starts);
    prop_assert_eq!(
        f.iter().map(|x| x.instances_created).sum::<u64>(),
        s.instances_created
    );
    prop_assert_eq!(f.iter().map(|x| x.mb_ms).sum::<u128>(), s.billed_mb_ms);
    prop_assert_eq!(f.iter().map(|x| x.idle_mb_us).sum::<u128>(), s.idle_mb_us);
    prop_assert_eq!(f.iter().map(|x| x.unfinished).sum::<u64>(), s.unfinished);
    prop_assert_eq!(f.iter().map(|x| x.cost).sum::<Money>(), s.list_cost());
    let snapshot_cost = s.bill.invoice().snapshot;
    prop_assert_eq!(
        s.list_cost(),
        s.request_cost + s.duration_cost + snapshot_cost
    );

    // Every instance started one way; restores and forks only when asked for.
    prop_assert_eq!(s.boots + s.restores + s.forks, s.instances_created);
    if case.snapshot.is_none() {
        prop_assert_eq!((s.restores, s.snapshots_created), (0, 0));
        prop_assert_eq!(snapshot_cost, Money::ZERO);
    } else {
        prop_assert!(s.snapshots_evicted <= s.snapshots_created);
        // A restore needs a snapshot, and every snapshot taken is charged (3 h at least).
        prop_assert!(s.restores == 0 || s.snapshots_created > 0);
        prop_assert_eq!(s.snapshots_created > 0, snapshot_cost > Money::ZERO);
    }
    if case.fork.is_none() {
        prop_assert_eq!(s.forks, 0);
    }

    // Capacity, at every placement or load-balancing decision and at every 1 ms sample.
    prop_assert_eq!(violations.get(), 0);
    prop_assert!(calls.get() > 0 || n == 0);
    // Samples every 1 ms, the last one at the end of the run (a partial interval).
    let k = rec.samples.len();
    for (i, w) in rec.samples.windows(2).enumerate() {
        if i + 2 < k {
            prop_assert_eq!(w[1].time - w[0].time, SimDuration::from_ms(1));
        } else {
            prop_assert!(w[1].time - w[0].time <= SimDuration::from_ms(1));
        }
    }
    if s.end > SimTime::ZERO {
        prop_assert_eq!(rec.samples.last().map(|x| x.time), Some(s.end));
    }
    if let Some(h) = horizon {
        prop_assert_eq!(s.end, h);
    }
    for sm in &rec.samples {
        prop_assert!(sm.memory_used_mb <= total_mb, "{:?}", sm);
        prop_assert!(sm.memory_idle_mb <= sm.memory_used_mb, "{:?}", sm);
        prop_assert!(
            sm.starting_instances + sm.busy_instances + sm.idle_instances == sm.live_instances,
            "{:?}",
            sm
        );
        prop_assert!(
            sm.executing <= sm.busy_instances * case.concurrency,
            "{:?}",
            sm
        );
    }
    // The intervals add up to the run's figures.
    prop_assert_eq!(
        rec.samples.iter().map(|x| x.arrivals).sum::<u64>(),
        s.invocations
    );
    prop_assert_eq!(
        rec.samples.iter().map(|x| x.cold_starts).sum::<u64>(),
        s.cold_starts
    );
    prop_assert_eq!(
        rec.samples.iter().map(|x| x.dropped).sum::<u64>(),
        s.dropped
    );
    prop_assert_eq!(
        rec.samples.iter().map(|x| x.instances_started).sum::<u64>(),
        s.instances_created
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn conservation_money_and_capacity(c in case()) {
        check(&c)?;
    }
}

#[test]
fn many_seeds_of_a_crowded_cluster_keep_the_invariants() {
    // A deterministic sweep on top of the property test: a small cluster under pressure
    // (queueing with timeouts and reclaiming), every placement, both CPU models.
    let mut rng = faasim_sim::SimRng::stream(5, "invariants");
    let placements = [
        PlacementSpec::FirstFit {},
        PlacementSpec::BestFit {},
        PlacementSpec::LeastLoaded {},
        PlacementSpec::Random {},
        PlacementSpec::RoundRobin {},
    ];
    for k in 0..40u64 {
        let arrivals = (0..200)
            .map(|_| {
                (
                    rng.below(2_000_000),
                    rng.below(5) as u32,
                    1 + rng.below(300_000),
                )
            })
            .collect();
        let case = Case {
            function_mb: vec![128, 256, 512, 128, 64],
            workers: vec![(768, 2), (512, 1)],
            arrivals,
            concurrency: 1 + (k % 3) as u32,
            drop_on_full: k % 4 == 0,
            queue_timeout_ms: if k % 2 == 0 { Some(200) } else { None },
            placement: placements[(k % 5) as usize].clone(),
            load_balancing: LoadBalancingSpec::all_defaults()[(k % 9) as usize].clone(),
            keep_alive: match k % 4 {
                0 => KeepAliveChoice::Spec(KeepAliveSpec::None {}),
                1 => KeepAliveChoice::Spec(KeepAliveSpec::Infinite {}),
                2 => KeepAliveChoice::Spec(KeepAliveSpec::Fixed {
                    ttl_s: 0.3,
                    reset_on_use: k % 8 == 2,
                }),
                _ => KeepAliveChoice::Prewarm {
                    ttl_ms: 100,
                    delay_ms: k % 3 * 20,
                    ranked: k % 8 == 3,
                },
            },
            cpu: if k % 6 == 1 {
                CpuModel::Proportional {
                    durations_at_one_vcpu: k % 4 == 1,
                }
            } else if k % 2 == 0 {
                CpuModel::ProcessorSharing
            } else {
                CpuModel::Ignore
            },
            cold_start: DistSpec::Lognormal {
                median_ms: 50.0,
                sigma: 0.5,
            },
            granularity_ms: 100,
            bill_init: k % 2 == 1,
            seed: k,
            snapshot: (k % 3 != 0).then(|| faasim_sim::SnapshotConfig {
                enabled: true,
                restore_ms: faasim_sim::RestoreSpec::Millis(10.0),
                capacity_mb: (k % 2 == 0).then_some(300),
                ..Default::default()
            }),
            fork: (k % 3 == 2 || k % 5 == 0).then(|| faasim_sim::ForkConfig {
                enabled: true,
                ..Default::default()
            }),
        };
        if let Err(e) = check(&case) {
            panic!("case {k}: {e}\n{case:?}");
        }
    }
}

#[test]
fn prewarming_under_memory_pressure_never_strands_a_request() {
    // One small worker, pre-warming after every expiry (pre-warmed instances kept until
    // reclaimed), a queue without timeout: every request must still be served. Before the
    // engine served the queue when a cold start ended with no bound request, such runs left
    // a queued request waiting behind an idle pre-warmed instance forever.
    let mut rng = faasim_sim::SimRng::stream(9, "prewarm-sweep");
    for k in 0..200u64 {
        let arrivals = (0..30)
            .map(|_| {
                (
                    rng.below(1_000_000),
                    rng.below(3) as u32,
                    1 + rng.below(100_000),
                )
            })
            .collect();
        let case = Case {
            function_mb: vec![128, 256, 128],
            workers: vec![(512, 1)],
            arrivals,
            concurrency: 1 + (k % 2) as u32,
            drop_on_full: false,
            queue_timeout_ms: None,
            placement: PlacementSpec::FirstFit {},
            load_balancing: if k % 2 == 0 {
                LoadBalancingSpec::ClusterWide {}
            } else {
                LoadBalancingSpec::RoundRobin {}
            },
            keep_alive: KeepAliveChoice::Prewarm {
                ttl_ms: k % 5 * 10,
                delay_ms: k % 3 * 10,
                ranked: k % 7 == 0,
            },
            cpu: CpuModel::Ignore,
            cold_start: DistSpec::Constant { value_ms: 20.0 },
            granularity_ms: 1,
            bill_init: false,
            seed: k,
            snapshot: (k % 4 == 1).then(|| faasim_sim::SnapshotConfig {
                enabled: true,
                create: faasim_sim::SnapshotCreate::Deploy,
                ..Default::default()
            }),
            fork: (k % 4 == 2).then(|| faasim_sim::ForkConfig {
                enabled: true,
                ..Default::default()
            }),
        };
        if let Err(e) = check(&case) {
            panic!("case {k}: {e}\n{case:?}");
        }
    }
}
