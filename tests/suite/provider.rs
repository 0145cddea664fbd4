//! The provider's rules, hand-traced to the microsecond (a throttle at the burst boundary, a
//! retry schedule, a timeout's bill, a worker failure mid-execution, a duplicate delivery),
//! and the conservation invariant over random scenarios that mix all of them (with start
//! types and every CPU model).

use crate::common::*;
use faasim_policies::{AutoscalingSpec, KeepAliveSpec, LoadBalancingSpec, PlacementSpec};
use faasim_sim::engine::run_with;
use faasim_sim::provider::{AsyncPolicy, BucketScope, Faults, Limits, Outage, ScalingBucket};
use faasim_sim::{
    Arrival, CpuModel, DistSpec, EngineConfig, ForkConfig, FunctionId, FunctionOverrides,
    FunctionSettings, InvocationMode, InvocationRecord, Money, OnFull, Outcome, ProviderRules,
    RunEnd, RunReport, SimDuration, SimTime, SnapshotConfig, VecRecorder, VecSource, WorkerSpec,
};
use proptest::prelude::*;

/// One worker, durations as given, a constant cold start, keep-alive `ttl_s`.
fn base(memory_mb: u32, cold_ms: f64) -> EngineConfig {
    EngineConfig {
        cpu: CpuModel::Ignore,
        ..config(memory_mb, 4, cold_ms)
    }
}

fn all(o: FunctionOverrides) -> FunctionSettings {
    FunctionSettings {
        all: o,
        named: vec![],
    }
}

fn async_arr(at_us: u64, f: u32, dur_us: u64) -> Arrival {
    Arrival {
        mode: Some(InvocationMode::Async),
        ..arr(at_us, f, dur_us)
    }
}

fn outcomes(r: &[InvocationRecord]) -> Vec<Outcome> {
    r.iter().map(|x| x.outcome).collect()
}

#[test]
fn a_throttle_at_the_burst_boundary() {
    // An account-wide bucket of 3 environments, refilled by 1 a minute (1 unit of the
    // bucket's level per µs, a token = 60,000,000 units). Every execution runs 100 s, so no
    // instance is free for reuse during the trace.
    let mut cfg = base(4096, 100.0);
    cfg.provider.limits.scaling = Some(ScalingBucket {
        scope: BucketScope::Account,
        burst: 3,
        refill: 1,
        every: SimDuration::from_secs(60),
    });
    let arrivals = vec![
        arr(0, 0, 100 * S),
        arr(0, 0, 100 * S),
        arr(0, 0, 100 * S),
        // The bucket is empty: throttled at once.
        arr(0, 0, 100 * S),
        arr(0, 0, 100 * S),
        // One microsecond before the minute: 59,999,999 units, not a token.
        arr(60 * S - 1, 0, 100 * S),
        // At the minute: one token, and only one.
        arr(60 * S, 0, 100 * S),
        arr(60 * S, 0, 100 * S),
    ];
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f", 128)],
        arrivals,
    );
    use Outcome::*;
    assert_eq!(
        outcomes(&rec.invocations),
        [Completed, Completed, Completed, Throttled, Throttled, Throttled, Completed, Throttled]
    );
    let r = &rec.invocations;
    // A throttle ends at its arrival, holds nothing and costs nothing.
    for x in [&r[3], &r[4], &r[5], &r[7]] {
        assert_eq!(x.end, x.arrival);
        assert_eq!((x.instance, x.charge), (None, Default::default()));
    }
    // The one admitted at the minute: cold start 100 ms, then 100 s.
    assert_eq!((r[6].start, r[6].end), (t(60_100_000), t(160_100_000)));
    let s = &rep.stats;
    assert_eq!((s.completed, s.throttled, s.invocations), (4, 4, 8));
    // Throttles are left out of the latency figures: four cold starts of 100.1 s.
    assert_eq!(s.latency_us.max(), 100_100_000);
    assert_eq!(s.latency_us.count(), 4);
}

#[test]
fn each_function_has_its_own_bucket_under_the_2023_rule() {
    // 1 environment per 10 s per function: f0's second request is throttled, f1's first is
    // not; f0 gets its next token at 10 s.
    let mut cfg = base(4096, 0.0);
    cfg.provider.limits.scaling = Some(ScalingBucket {
        burst: 1,
        refill: 1,
        ..ScalingBucket::aws_2023()
    });
    let arrivals = vec![
        arr(0, 0, 60 * S),
        arr(0, 0, 60 * S),
        arr(0, 1, 60 * S),
        arr(10 * S - 1, 0, 60 * S),
        arr(10 * S, 0, 60 * S),
    ];
    let (_, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f0", 128), func("f1", 128)],
        arrivals,
    );
    use Outcome::*;
    assert_eq!(
        outcomes(&rec.invocations),
        [Completed, Throttled, Completed, Throttled, Completed]
    );
}

#[test]
fn reserved_concurrency_is_carved_out_of_the_account() {
    // Account 3, f0 reserves 1: f0 may run 1, the others share 3 - 1 = 2. An execution that
    // ends at 10.1 s frees its unit for an arrival at 10.1 s (completions come first).
    let mut cfg = base(4096, 100.0);
    cfg.provider.limits.account_concurrency = Some(3);
    cfg.functions = FunctionSettings {
        all: Default::default(),
        named: vec![(
            "f0".into(),
            FunctionOverrides {
                reserved_concurrency: Some(1),
                ..Default::default()
            },
        )],
    };
    let arrivals = vec![
        arr(0, 0, 10 * S),
        arr(0, 0, 10 * S),
        arr(0, 1, 10 * S),
        arr(0, 1, 10 * S),
        arr(0, 1, 10 * S),
        arr(10_100_000 - 1, 1, S),
        arr(10_100_000, 1, S),
        arr(10_100_000, 0, S),
    ];
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f0", 128), func("f1", 128)],
        arrivals,
    );
    use Outcome::*;
    assert_eq!(
        outcomes(&rec.invocations),
        [Completed, Throttled, Completed, Completed, Throttled, Throttled, Completed, Completed]
    );
    // The two at 10.1 s take warm instances freed at that instant.
    assert!(!rec.invocations[6].cold_start && !rec.invocations[7].cold_start);
    assert_eq!(rep.functions[0].throttled + rep.functions[1].throttled, 3);
}

#[test]
fn an_async_retry_schedule_after_function_errors() {
    // Every execution fails (error_rate 1): attempts at 0, 0.1 + 60 = 60.1 s and
    // 60.2 + 120 = 180.2 s, each 100 ms on the warm instance; after the second retry the
    // event fails for good at 180.3 s, billed three times.
    let mut cfg = base(4096, 0.0);
    cfg.functions = all(FunctionOverrides {
        error_rate: Some(1.0),
        invocation: Some(InvocationMode::Async),
        ..Default::default()
    });
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f", 1024)],
        vec![arr(0, 0, 100 * MS)],
    );
    let r = rec.invocations[0];
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        (r.dispatched, r.start, r.end),
        (t(180_200_000), t(180_200_000), t(180_300_000))
    );
    let one = cfg
        .billing
        .charge(SimDuration::from_ms(100), SimDuration::ZERO, 1024);
    assert_eq!(r.charge.requests, 3);
    assert_eq!(r.charge.billed_ms, 300);
    assert_eq!(r.charge.total(), Money(one.total().0 * 3));
    let s = &rep.stats;
    assert_eq!((s.failed, s.retries, s.completed), (1, 2, 0));
    // Delivered at ages 0, 60.1 s and 180.2 s.
    assert_eq!(s.event_age_us.count(), 3);
    assert_eq!(s.event_age_us.max(), 180_200_000);
    assert_eq!(s.list_cost(), r.charge.total());
}

#[test]
fn an_async_event_backs_off_while_throttled_and_expires_at_its_maximum_age() {
    // f reserves 1: A runs 0..10 s; B, throttled at 0, is delivered again at 1, 1 + 2 = 3,
    // 3 + 4 = 7 and 7 + 8 = 15 s, when A's instance is warm: it completes at 15.1 s.
    let mut cfg = base(4096, 0.0);
    cfg.functions = all(FunctionOverrides {
        reserved_concurrency: Some(1),
        invocation: Some(InvocationMode::Async),
        ..Default::default()
    });
    let run = |cfg: &EngineConfig| {
        simulate(
            cfg,
            policies(&fixed(600.0, true)),
            vec![func("f", 128)],
            vec![arr(0, 0, 10 * S), arr(0, 0, 100 * MS)],
        )
    };
    let (rep, rec) = run(&cfg);
    let b = rec.invocations[1];
    assert_eq!(b.outcome, Outcome::Completed);
    assert_eq!((b.start, b.end), (t(15 * S), t(15_100_000)));
    assert!(!b.cold_start);
    assert_eq!(b.latency(), d(15_100_000));
    assert_eq!(b.charge.requests, 1);
    assert_eq!(rep.stats.retries, 4);
    assert_eq!(rep.stats.event_age_us.max(), 15 * S);
    // With a maximum age of 10 s the delivery at 15 s never happens: B fails at 7 s.
    cfg.provider.async_events = AsyncPolicy {
        max_event_age: SimDuration::from_secs(10),
        ..AsyncPolicy::default()
    };
    let (rep, rec) = run(&cfg);
    let b = rec.invocations[1];
    assert_eq!((b.outcome, b.end), (Outcome::Failed, t(7 * S)));
    assert_eq!(b.charge, Default::default());
    assert_eq!((rep.stats.retries, rep.stats.failed), (3, 1));
}

#[test]
fn a_timeout_is_billed_up_to_it_under_both_cpu_models() {
    // 1,024 MB, timeout 1 s, 2.5 s of work: cut at 1 s, billed 1,000 ms. The request that
    // arrives at the instant of the cut reuses the instance warm.
    for cpu in [CpuModel::Ignore, CpuModel::ProcessorSharing] {
        let mut cfg = EngineConfig {
            cpu,
            ..config(4096, 4, 0.0)
        };
        cfg.functions = all(FunctionOverrides {
            timeout: Some(SimDuration::from_secs(1)),
            ..Default::default()
        });
        let (rep, rec) = simulate(
            &cfg,
            policies(&fixed(600.0, true)),
            vec![func("f", 1024)],
            vec![arr(0, 0, 2_500 * MS), arr(S, 0, 300 * MS)],
        );
        let (a, b) = (rec.invocations[0], rec.invocations[1]);
        assert_eq!((a.outcome, a.start, a.end), (Outcome::TimedOut, t(0), t(S)));
        let bill = cfg.billing.charge(SimDuration::from_secs(1), d(0), 1024);
        assert_eq!(a.charge, bill);
        assert_eq!(a.charge.billed_ms, 1_000);
        assert_eq!(
            (b.outcome, b.cold_start, b.end),
            (Outcome::Completed, false, t(1_300_000))
        );
        assert_eq!((rep.stats.timed_out, rep.stats.completed), (1, 1));
    }
    // Processor sharing on one core: A (0.8 s of work) and B (0.3 s) share it, B ends at
    // 0.6 s; A, 0.3 s done, would end at 1.1 s and is cut at its 1 s timeout.
    let mut cfg = config(4096, 1, 0.0);
    cfg.functions = all(FunctionOverrides {
        timeout: Some(SimDuration::from_secs(1)),
        ..Default::default()
    });
    let (_, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f", 1024)],
        vec![arr(0, 0, 800 * MS), arr(0, 0, 300 * MS)],
    );
    assert_eq!(spans(&rec.invocations), [(0, S), (0, 600 * MS)]);
    assert_eq!(
        outcomes(&rec.invocations),
        [Outcome::TimedOut, Outcome::Completed]
    );
    // An asynchronous timeout is a function error: retried after 1 and 2 minutes, each
    // attempt cut and billed at 1 s; the event ends timed-out at 183 s.
    let mut cfg = base(4096, 0.0);
    cfg.functions = all(FunctionOverrides {
        timeout: Some(SimDuration::from_secs(1)),
        invocation: Some(InvocationMode::Async),
        ..Default::default()
    });
    let (_, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f", 1024)],
        vec![arr(0, 0, 2_500 * MS)],
    );
    let r = rec.invocations[0];
    assert_eq!(
        (r.outcome, r.start, r.end),
        (Outcome::TimedOut, t(182 * S), t(183 * S))
    );
    assert_eq!((r.charge.requests, r.charge.billed_ms), (3, 3_000));
}

#[test]
fn a_worker_failure_mid_execution() {
    // Two workers of 1,024 MB, functions of 512 MB placed first-fit, cold start 100 ms.
    // Worker 0 fails at 4 s for 10 s. A (sync, 0 s, 10 s of work) and B (async, 1 s, 10 s)
    // run there: A fails at 4 s, billed 0.1 -> 4 s; B's attempt (1.1 -> 4 s, billed) is
    // retried 1 s later on worker 1: cold, 5.1 -> 15.1 s. C (6 s) starts on worker 1 too;
    // D (14 s, the instant of the repair) finds worker 1 full and worker 0 back, empty.
    let mut cfg = base(1024, 100.0);
    cfg.workers = vec![
        WorkerSpec {
            memory_mb: 1024,
            cores: 4
        };
        2
    ];
    cfg.provider.faults = Faults {
        schedule: vec![Outage {
            worker: 0,
            at: SimTime::from_secs(4),
            down: SimDuration::from_secs(10),
        }],
        ..Default::default()
    };
    let arrivals = vec![
        arr(0, 0, 10 * S),
        async_arr(S, 0, 10 * S),
        arr(6 * S, 0, 10 * S),
        arr(14 * S, 0, S),
    ];
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f", 512)],
        arrivals,
    );
    let r = &rec.invocations;
    let worker = |x: &InvocationRecord| x.worker.map(|w| w.0);
    assert_eq!(
        (r[0].outcome, r[0].start, r[0].end, worker(&r[0])),
        (Outcome::Failed, t(100 * MS), t(4 * S), Some(0))
    );
    let mb = 512;
    assert_eq!(
        r[0].charge,
        cfg.billing.charge(d(3_900 * MS), d(100 * MS), mb)
    );
    assert_eq!(
        (r[1].outcome, r[1].start, r[1].end, worker(&r[1])),
        (Outcome::Completed, t(5_100 * MS), t(15_100 * MS), Some(1))
    );
    assert!(r[1].cold_start);
    assert_eq!(
        (r[1].charge.requests, r[1].charge.billed_ms),
        (2, 2_900 + 10_000)
    );
    assert_eq!(
        (r[2].start, r[2].end, worker(&r[2])),
        (t(6_100 * MS), t(16_100 * MS), Some(1))
    );
    assert_eq!(
        (r[3].outcome, r[3].start, worker(&r[3]), r[3].cold_start),
        (Outcome::Completed, t(14_100 * MS), Some(0), true)
    );
    let s = &rep.stats;
    assert_eq!((s.completed, s.failed, s.retries), (3, 1, 1));
    // Two instances lost on worker 0, then one on each worker for B, C and D.
    assert_eq!(s.instances_created, 5);
}

#[test]
fn a_duplicate_delivery_is_billed_and_counted_once() {
    // duplicate_rate 1: the completed delivery (0.1 -> 0.2 s after a 100 ms cold start) is
    // delivered again at 0.2 s and runs warm to 0.3 s; the invocation is the first
    // delivery's (latency 0.2 s) with both charges.
    let mut cfg = base(4096, 100.0);
    cfg.functions = all(FunctionOverrides {
        invocation: Some(InvocationMode::Async),
        ..Default::default()
    });
    cfg.provider.async_events.duplicate_rate = 1.0;
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(600.0, true)),
        vec![func("f", 128)],
        vec![arr(0, 0, 100 * MS)],
    );
    let r = rec.invocations[0];
    assert_eq!(
        (r.outcome, r.end, r.latency()),
        (Outcome::Completed, t(200 * MS), d(200 * MS))
    );
    assert_eq!((r.charge.requests, r.charge.billed_ms), (2, 200));
    let s = &rep.stats;
    assert_eq!((s.invocations, s.completed, s.retries), (1, 1, 1));
    assert_eq!(s.list_cost(), r.charge.total());
    // The duplicate ran: the instance served two executions and stayed warm in between.
    assert_eq!(s.instances_created, 1);
}

// ----- conservation over random scenarios -----

/// A function of a mix: (memory MB, timeout ms, error rate ‰, reserved, async).
type MixFunction = (u32, Option<u64>, u32, Option<u32>, bool);

#[derive(Debug, Clone)]
pub(crate) struct Mix {
    workers: Vec<(u32, u32)>,
    functions: Vec<MixFunction>,
    /// (time us, function, duration us, mode: 0 = the function's, 1 = sync, 2 = async)
    arrivals: Vec<(u64, u32, u64, u8)>,
    cpu: CpuModel,
    concurrency: u32,
    drop_on_full: bool,
    queue_timeout_ms: Option<u64>,
    ttl_ms: u64,
    /// 0: cluster-wide, 1: a per-request balancer, 2: Knative's KPA.
    mode: u8,
    account: Option<u32>,
    bucket: Option<(bool, u32, u32, u64)>,
    retries: u32,
    max_age_ms: u64,
    duplicate_permille: u32,
    outages: Vec<(u32, u64, u64)>,
    mtbf_ms: Option<(u64, u64)>,
    horizon: bool,
    seed: u64,
    /// Start types: bit 0 snapshot restores (a small LRU store), bit 1 forks.
    starts: u8,
}

pub(crate) fn mix() -> impl Strategy<Value = Mix> {
    let function = (
        prop::sample::select(vec![128u32, 256, 512]),
        prop::option::of(1u64..400),
        prop::sample::select(vec![0u32, 0, 100, 500, 1000]),
        prop::option::of(1u32..4),
        any::<bool>(),
    );
    (
        (
            prop::collection::vec((prop::sample::select(vec![512u32, 1024]), 1u32..=3), 1..=3),
            prop::collection::vec(function, 1..=4),
            prop::collection::vec((0u64..3_000_000, 0u32..4, 1u64..300_000, 0u8..3), 1..=60),
            prop_oneof![
                Just(CpuModel::Ignore),
                Just(CpuModel::ProcessorSharing),
                Just(CpuModel::Proportional {
                    durations_at_one_vcpu: true
                }),
            ],
            1u32..=2,
            any::<bool>(),
            prop::option::of(0u64..500),
            0u64..1_000,
            0u8..4,
        ),
        (
            0u8..3,
            prop::option::of(1u32..6),
            prop::option::of((any::<bool>(), 1u32..4, 1u32..3, 1u64..500)),
            0u32..3,
            1u64..5_000,
            prop::sample::select(vec![0u32, 0, 300]),
            prop::collection::vec((0u32..3, 0u64..3_000, 1u64..1_500), 0..=2),
            prop::option::of((200u64..3_000, 10u64..800)),
            any::<bool>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (workers, functions, arrivals, cpu, concurrency, drop_on_full, qt, ttl_ms, starts),
                (
                    mode,
                    account,
                    bucket,
                    retries,
                    max_age_ms,
                    duplicate_permille,
                    outages,
                    mtbf_ms,
                    horizon,
                    seed,
                ),
            )| Mix {
                workers,
                functions,
                arrivals,
                cpu,
                concurrency,
                drop_on_full,
                queue_timeout_ms: if drop_on_full { None } else { qt },
                ttl_ms,
                mode,
                account,
                bucket,
                retries,
                max_age_ms,
                duplicate_permille,
                outages,
                mtbf_ms,
                horizon,
                seed,
                starts,
            },
        )
}

/// [`mix`] run under a per-request balancer (which one is the caller's to set).
pub(crate) fn balanced_mix() -> impl Strategy<Value = Mix> {
    mix().prop_map(|m| Mix { mode: 1, ..m })
}

pub(crate) fn build(m: &Mix) -> (EngineConfig, Vec<faasim_sim::FunctionSpec>, Vec<Arrival>) {
    let nf = m.functions.len() as u32;
    let functions = m
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| func(&format!("f{i}"), f.0))
        .collect();
    let mut arrivals: Vec<Arrival> = m
        .arrivals
        .iter()
        .map(|&(at, f, dur, mode)| Arrival {
            mode: match mode {
                1 => Some(InvocationMode::Sync),
                2 => Some(InvocationMode::Async),
                _ => None,
            },
            ..arr(at, f % nf, dur)
        })
        .collect();
    arrivals.sort_by_key(|a| a.time);
    let workers: Vec<WorkerSpec> = m
        .workers
        .iter()
        .map(|&(memory_mb, cores)| WorkerSpec { memory_mb, cores })
        .collect();
    let nw = workers.len() as u32;
    let cfg = EngineConfig {
        workers,
        // Proportional CPU runs one execution per instance, as AWS Lambda does.
        instance_concurrency: match m.cpu {
            CpuModel::Proportional { .. } => 1,
            _ => m.concurrency,
        },
        snapshot: SnapshotConfig {
            enabled: m.starts & 1 != 0,
            capacity_mb: Some(600),
            slowdown: 1.5,
            billed: false,
            ..Default::default()
        },
        fork: ForkConfig {
            enabled: m.starts & 2 != 0,
            ..Default::default()
        },
        on_full: if m.drop_on_full {
            OnFull::Drop
        } else {
            OnFull::Queue
        },
        queue_timeout: m.queue_timeout_ms.map(SimDuration::from_ms),
        cold_start: DistSpec::Lognormal {
            median_ms: 30.0,
            sigma: 0.5,
        },
        cpu: m.cpu,
        seed: m.seed,
        sample_interval: Some(SimDuration::from_ms(50)),
        functions: FunctionSettings {
            all: Default::default(),
            named: m
                .functions
                .iter()
                .enumerate()
                .map(|(i, &(_, timeout_ms, permille, reserved, asynchronous))| {
                    (
                        format!("f{i}"),
                        FunctionOverrides {
                            timeout: timeout_ms.map(SimDuration::from_ms),
                            error_rate: Some(permille as f64 / 1000.0),
                            reserved_concurrency: reserved,
                            invocation: Some(match asynchronous {
                                true => InvocationMode::Async,
                                false => InvocationMode::Sync,
                            }),
                            ..Default::default()
                        },
                    )
                })
                .collect(),
        },
        provider: ProviderRules {
            limits: Limits {
                account_concurrency: m.account,
                scaling: m
                    .bucket
                    .map(|(account, burst, refill, every_ms)| ScalingBucket {
                        scope: match account {
                            true => BucketScope::Account,
                            false => BucketScope::Function,
                        },
                        burst,
                        refill,
                        every: SimDuration::from_ms(every_ms),
                    }),
            },
            async_events: AsyncPolicy {
                retries: m.retries,
                retry_delays: vec![SimDuration::from_ms(100), SimDuration::from_ms(250)],
                max_event_age: SimDuration::from_ms(m.max_age_ms),
                backoff_initial: SimDuration::from_ms(10),
                backoff_max: SimDuration::from_ms(200),
                duplicate_rate: m.duplicate_permille as f64 / 1000.0,
            },
            faults: Faults {
                schedule: m
                    .outages
                    .iter()
                    .map(|&(w, at_ms, down_ms)| Outage {
                        worker: w % nw,
                        at: SimTime::from_ms(at_ms),
                        down: SimDuration::from_ms(down_ms),
                    })
                    .collect(),
                mtbf: m.mtbf_ms.map(|x| SimDuration::from_ms(x.0)),
                repair: m
                    .mtbf_ms
                    .map_or(SimDuration::ZERO, |x| SimDuration::from_ms(x.1)),
            },
        },
        end: match m.horizon {
            true => RunEnd::Horizon {
                at: Some(SimTime::from_secs(2)),
            },
            false => RunEnd::Drain,
        },
        ..EngineConfig::default()
    };
    (cfg, functions, arrivals)
}

fn run_mix(m: &Mix) -> (RunReport, VecRecorder) {
    let (cfg, functions, arrivals) = build(m);
    let mut rec = VecRecorder::default();
    let rep = run_mix_as(m, &cfg, functions, arrivals, &mut rec);
    rec.invocations.sort_by_key(|r| r.id);
    (rep, rec)
}

/// Runs a mix built by [`build`] (its `cfg` possibly changed) into `rec`.
pub(crate) fn run_mix_as(
    m: &Mix,
    cfg: &EngineConfig,
    functions: Vec<faasim_sim::FunctionSpec>,
    arrivals: Vec<Arrival>,
    rec: &mut dyn faasim_sim::Recorder,
) -> RunReport {
    run_mix_with(m, cfg, functions, arrivals, rec, |p| p)
}

/// [`run_mix_as`] with the policies passed through `wrap`.
pub(crate) fn run_mix_with(
    m: &Mix,
    cfg: &EngineConfig,
    functions: Vec<faasim_sim::FunctionSpec>,
    arrivals: Vec<Arrival>,
    rec: &mut dyn faasim_sim::Recorder,
    wrap: impl FnOnce(faasim_sim::Policies) -> faasim_sim::Policies,
) -> RunReport {
    let keep_alive = KeepAliveSpec::Fixed {
        ttl_s: m.ttl_ms as f64 / 1000.0,
        reset_on_use: true,
    };
    let lb = match m.mode {
        1 => LoadBalancingSpec::all_defaults()[1].clone(),
        _ => LoadBalancingSpec::ClusterWide {},
    };
    let pol = faasim_policies::build(
        &PlacementSpec::FirstFit {},
        &Default::default(),
        &keep_alive,
        &lb,
    )
    .expect("valid specs");
    let pol = wrap(pol);
    let autoscaler = match m.mode {
        2 => toml::from_str::<AutoscalingSpec>("policy = \"kpa\"\ntick_s = 0.05")
            .expect("kpa")
            .build()
            .expect("kpa"),
        _ => None,
    };
    run_with(
        cfg,
        pol,
        autoscaler,
        &mut VecSource::new(functions, arrivals),
        rec,
    )
    .expect("the run succeeds")
}

fn check_mix(m: &Mix) -> Result<(), TestCaseError> {
    let (rep, rec) = run_mix(m);
    let s = &rep.stats;
    let n = m
        .arrivals
        .iter()
        .filter(|a| !m.horizon || a.0 < 2 * S)
        .count() as u64;
    // Each invocation once, however often it was attempted.
    let ids: Vec<u64> = rec.invocations.iter().map(|r| r.id).collect();
    prop_assert_eq!(ids, (0..n).collect::<Vec<_>>());
    prop_assert_eq!(s.invocations, n);
    prop_assert_eq!(
        s.completed + s.dropped + s.throttled + s.failed + s.timed_out + s.unfinished,
        s.invocations
    );
    let count = |o: &[Outcome]| {
        rec.invocations
            .iter()
            .filter(|r| o.contains(&r.outcome))
            .count() as u64
    };
    prop_assert_eq!(count(&[Outcome::Completed]), s.completed);
    // Every instance started one way.
    prop_assert_eq!(s.boots + s.restores + s.forks, s.instances_created);
    if m.starts & 1 == 0 {
        prop_assert_eq!(s.restores, 0);
    }
    if m.starts & 2 == 0 {
        prop_assert_eq!(s.forks, 0);
    }
    prop_assert_eq!(count(&[Outcome::Throttled]), s.throttled);
    prop_assert_eq!(count(&[Outcome::Failed]), s.failed);
    prop_assert_eq!(count(&[Outcome::TimedOut]), s.timed_out);
    prop_assert_eq!(count(&[Outcome::Unfinished]), s.unfinished);
    prop_assert_eq!(
        count(&[Outcome::DroppedFull, Outcome::DroppedTimeout]),
        s.dropped
    );
    if !m.horizon {
        prop_assert_eq!(s.unfinished, 0);
    }
    // Money: the run's totals are the sums of the invocations' charges (every attempt).
    let req: Money = rec.invocations.iter().map(|r| r.charge.request).sum();
    let dur: Money = rec.invocations.iter().map(|r| r.charge.duration).sum();
    let mb_ms: u128 = rec.invocations.iter().map(|r| r.charge.mb_ms).sum();
    prop_assert_eq!(req, s.request_cost);
    prop_assert_eq!(dur, s.duration_cost);
    prop_assert_eq!(mb_ms, s.billed_mb_ms);
    prop_assert_eq!(s.list_cost(), s.request_cost + s.duration_cost);
    // Per function, the same sums.
    let f = &rep.functions;
    prop_assert_eq!(f.iter().map(|x| x.invocations).sum::<u64>(), s.invocations);
    prop_assert_eq!(f.iter().map(|x| x.completed).sum::<u64>(), s.completed);
    prop_assert_eq!(f.iter().map(|x| x.dropped).sum::<u64>(), s.dropped);
    prop_assert_eq!(f.iter().map(|x| x.throttled).sum::<u64>(), s.throttled);
    prop_assert_eq!(f.iter().map(|x| x.failed).sum::<u64>(), s.failed);
    prop_assert_eq!(f.iter().map(|x| x.timed_out).sum::<u64>(), s.timed_out);
    prop_assert_eq!(f.iter().map(|x| x.unfinished).sum::<u64>(), s.unfinished);
    prop_assert_eq!(f.iter().map(|x| x.cost).sum::<Money>(), s.list_cost());
    // Each record against its arrival and the rules.
    let (cfg, _, arrivals) = build(m);
    let mut any_async = false;
    for r in &rec.invocations {
        let a = arrivals[r.id as usize];
        let fi = a.function.index();
        let asynchronous = match a.mode {
            Some(mode) => mode == InvocationMode::Async,
            None => m.functions[fi].4,
        };
        any_async |= asynchronous;
        prop_assert!(r.arrival <= r.dispatched && r.dispatched <= r.start && r.start <= r.end);
        if asynchronous {
            // The platform retries: never throttled or dropped.
            prop_assert!(
                !matches!(
                    r.outcome,
                    Outcome::Throttled | Outcome::DroppedFull | Outcome::DroppedTimeout
                ),
                "{:?}",
                r
            );
        } else {
            prop_assert!(r.charge.requests <= 1, "{:?}", r);
        }
        if r.outcome == Outcome::TimedOut {
            let timeout = SimDuration::from_ms(m.functions[fi].1.expect("a timeout"));
            prop_assert_eq!(r.end - r.start, timeout);
            if !asynchronous {
                prop_assert_eq!(r.charge, cfg.billing.charge(timeout, r.init, r.memory_mb));
            }
        }
        if r.outcome == Outcome::Completed && m.functions[fi].1.is_some() {
            let timeout = SimDuration::from_ms(m.functions[fi].1.expect("a timeout"));
            prop_assert!(r.end - r.start <= timeout);
            prop_assert!(a.duration <= timeout, "completed past its timeout: {:?}", r);
        }
        if r.outcome == Outcome::Throttled {
            // At its arrival, or later if it waited in the queue for room and then needed a
            // new environment the scaling rate refused.
            prop_assert_eq!((r.instance, r.charge), (None, Default::default()));
            if m.bucket.is_none() {
                prop_assert_eq!(r.end, r.arrival);
            }
        }
    }
    if !any_async {
        prop_assert_eq!(s.retries, 0);
    }
    // Concurrency limits, when every invocation is synchronous: an invocation not throttled
    // held a unit from its arrival to its end.
    if !any_async && m.mode != 2 {
        let mut edges: Vec<(u64, i64, usize)> = vec![];
        for r in rec
            .invocations
            .iter()
            .filter(|r| r.outcome != Outcome::Throttled)
        {
            edges.push((r.arrival.as_micros(), 1, r.function.index()));
            edges.push((r.end.as_micros(), -1, r.function.index()));
        }
        // Ends before starts at one instant (completions come before arrivals).
        edges.sort_by_key(|e| (e.0, e.1));
        let reserved: u64 = m.functions.iter().filter_map(|f| f.3).map(u64::from).sum();
        let mut per = vec![0i64; m.functions.len()];
        let mut unreserved = 0i64;
        for (_, delta, fi) in edges {
            per[fi] += delta;
            match m.functions[fi].3 {
                Some(cap) => prop_assert!(per[fi] <= cap as i64),
                None => {
                    unreserved += delta;
                    if let Some(acct) = m.account {
                        prop_assert!(unreserved <= (acct as i64 - reserved as i64).max(0));
                    }
                }
            }
        }
    }
    // Capacity and the samples.
    let total_mb: u64 = m.workers.iter().map(|w| w.0 as u64).sum();
    for sm in &rec.samples {
        prop_assert!(sm.memory_used_mb <= total_mb);
        prop_assert_eq!(
            sm.starting_instances + sm.busy_instances + sm.idle_instances,
            sm.live_instances
        );
    }
    prop_assert_eq!(
        rec.samples.iter().map(|x| x.arrivals).sum::<u64>(),
        s.invocations
    );
    // Same seed, same results.
    let (rep2, rec2) = run_mix(m);
    prop_assert_eq!(rec.invocations, rec2.invocations);
    prop_assert_eq!(format!("{:?}", rep.stats), format!("{:?}", rep2.stats));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_invocation_ends_once_under_limits_retries_timeouts_errors_and_faults(m in mix()) {
        check_mix(&m)?;
    }
}

#[test]
fn a_run_without_rules_is_unchanged_by_their_presence_at_defaults() {
    // The defaults of every rule switch nothing on: the same run, event for event.
    let arrivals: Vec<Arrival> = (0..200)
        .map(|i| arr(i * 7 * MS, (i % 3) as u32, (i % 11 + 1) * 9 * MS))
        .collect();
    let functions = vec![func("a", 128), func("b", 256), func("c", 512)];
    let cfg = config(1024, 2, 50.0);
    let with = EngineConfig {
        provider: ProviderRules::default(),
        functions: all(FunctionOverrides {
            invocation: Some(InvocationMode::Sync),
            error_rate: Some(0.0),
            ..Default::default()
        }),
        ..cfg.clone()
    };
    let (r1, a) = simulate(
        &cfg,
        policies(&fixed(0.2, true)),
        functions.clone(),
        arrivals.clone(),
    );
    let (r2, b) = simulate(&with, policies(&fixed(0.2, true)), functions, arrivals);
    assert_eq!(a.invocations, b.invocations);
    assert_eq!(r1.stats.events, r2.stats.events);
    assert_eq!(FunctionId(0), a.invocations[0].function);
}
