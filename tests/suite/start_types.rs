//! Start types, hand-traced: snapshot restores (the first execution's slowdown, the store's
//! LRU eviction, SnapStart's charges) and forks from a ready instance (and the placement
//! they override). Every time is an exact integer of microseconds; every charge exact.

use crate::common::*;
use faasim_policies::{KeepAliveSpec, PlacementSpec, RoutingSpec};
use faasim_sim::{
    Billing, BillingModel, CpuModel, ForkConfig, ForkPlacement, FunctionOverrides,
    FunctionSettings, FunctionSnapshot, Money, Policies, RestoreSpec, SnapshotConfig,
    SnapshotCreate, WorkerSpec,
};

/// An exact USD amount given as `digits` × 10^-`decimals`.
fn usd(digits: u128, decimals: u32) -> Money {
    let scale = 10u128.pow(decimals);
    assert_eq!((digits * Money::UNITS_PER_USD) % scale, 0, "inexact");
    Money(digits * Money::UNITS_PER_USD / scale)
}

fn snapshots(restore_ms: f64, slowdown: f64) -> SnapshotConfig {
    SnapshotConfig {
        enabled: true,
        restore_ms: RestoreSpec::Millis(restore_ms),
        slowdown,
        ..SnapshotConfig::default()
    }
}

/// 1 worker of 1024 MB, boots of 100 ms, CPU ignored, fixed keep-alive of 1 s.
fn base() -> faasim_sim::EngineConfig {
    let mut cfg = config(1024, 1, 100.0);
    cfg.cpu = CpuModel::Ignore;
    cfg
}

#[test]
fn a_restore_after_the_first_boot_with_its_slowdown_and_snapstart_charges() {
    // f0 of 128 MB; restores of 10 ms; the first execution after a restore runs 1.5x.
    // A0 @0 (50 ms): no snapshot yet -> boot, instance 0 ready at 100 ms, runs 100 -> 150 ms.
    //   When instance 0 is ready (100 ms), f0's snapshot is taken.
    // A1 @120 ms (50 ms): instance 0 busy -> a new instance: the snapshot is there ->
    //   restore, instance 1 ready at 130 ms; its first execution runs 50 x 1.5 = 75 ms:
    //   130 -> 205 ms. Latency 85 ms.
    // Both expire 1 s after their last use (1.15 s, 1.205 s).
    // A2 @2 s (50 ms): restore again: ready 2.010 s, runs 75 ms to 2.085 s; latency 85 ms.
    //   It expires at 3.085 s, the end of the drained run.
    // SnapStart charges (aws-lambda-x86): two restores of 128 MB = 0.25 GB x $0.0001397998
    //   = $0.00003494995; the snapshot kept from 100 ms to 3.085 s (2.985 s) is billed its
    //   3-hour minimum: 10 800 s x 0.125 GB = 1 350 GB-s x $0.0000015046 = $0.00203121.
    // With bill_init, A0 bills its 100 ms boot (150 ms in all); a restore's 10 ms is not
    // billed: A1 and A2 bill their 75 ms.
    let mut cfg = base();
    cfg.snapshot = snapshots(10.0, 1.5);
    cfg.billing = Billing {
        bill_init: true,
        ..Billing::default()
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(1.0, true)),
        vec![func("f0", 128)],
        vec![
            arr(0, 0, 50 * MS),
            arr(120 * MS, 0, 50 * MS),
            arr(2 * S, 0, 50 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, true, true]);
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, 150 * MS),
            (130 * MS, 205 * MS),
            (2 * S + 10 * MS, 2 * S + 85 * MS)
        ]
    );
    assert_eq!(latencies(r), vec![150 * MS, 85 * MS, 85 * MS]);
    assert_eq!(
        r.iter().map(|r| r.init.as_micros()).collect::<Vec<_>>(),
        vec![100 * MS, 10 * MS, 10 * MS]
    );
    assert_eq!(
        r.iter().map(|r| r.charge.billed_ms).collect::<Vec<_>>(),
        vec![150, 75, 75]
    );
    let s = &rep.stats;
    assert_eq!((s.boots, s.restores, s.forks), (1, 2, 0));
    assert_eq!(s.instances_created, 3);
    assert_eq!((s.snapshots_created, s.snapshots_evicted), (1, 0));
    assert_eq!(s.snapshot_read_mb, 256);
    assert_eq!(s.cold_starts, 3);
    assert_eq!(s.end, t(3 * S + 85 * MS));
    let inv = s.bill.invoice();
    assert_eq!(inv.snapshot, usd(206_615_995, 11));
    assert_eq!(inv.usage.snapshot_restored_mb, 256);
    assert_eq!(inv.usage.snapshot_cache_mb_ms, 10_800_000 * 128);
    // The snapshot charges are the function's too, and in the bill's total.
    let invocations: Money = r.iter().map(|r| r.charge.total()).sum();
    assert_eq!(rep.functions[0].cost, invocations + inv.snapshot);
    assert_eq!(inv.list, invocations + inv.snapshot);
    assert_eq!(inv.total, inv.list);

    // Java functions' snapshots are free: the same run without charges, same times.
    cfg.snapshot.billed = false;
    let (rep2, rec2) = simulate(
        &cfg,
        policies(&fixed(1.0, true)),
        vec![func("f0", 128)],
        vec![
            arr(0, 0, 50 * MS),
            arr(120 * MS, 0, 50 * MS),
            arr(2 * S, 0, 50 * MS),
        ],
    );
    assert_eq!(spans(&rec2.invocations), spans(r));
    assert_eq!(rep2.stats.bill.invoice().snapshot, Money::ZERO);
}

#[test]
fn deploy_snapshots_make_even_the_first_start_a_restore() {
    // create = "deploy": f0's snapshot exists from its registration, so A0 @0 (50 ms)
    // restores in 10 ms (no slowdown: slowdown = 1) and ends at 60 ms.
    let mut cfg = base();
    cfg.snapshot = SnapshotConfig {
        create: SnapshotCreate::Deploy,
        ..snapshots(10.0, 1.0)
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(1.0, true)),
        vec![func("f0", 128)],
        vec![arr(0, 0, 50 * MS)],
    );
    assert_eq!(spans(&rec.invocations), vec![(10 * MS, 60 * MS)]);
    assert_eq!((rep.stats.boots, rep.stats.restores), (0, 1));
    assert_eq!(rep.stats.snapshots_created, 1);
}

#[test]
fn the_bandwidth_model_and_per_function_entries() {
    // [platform.snapshot] off; f1 alone turns it on with a table: a 200 MB snapshot read at
    // 1000 MB/s after 5 ms = 205 ms, slowdown 1 (an eager restore). f0 never restores.
    // f0 A0 @0 and A1 @10 ms (1 s each): both boot (100 ms).
    // f1 B0 @0 (1 s): boot, ready 100 ms, snapshot taken. B1 @10 ms: f1's snapshot not yet
    //   taken (its boot is not over) -> boot. B2 @500 ms: both busy -> restore, ready 705 ms.
    let mut cfg = base();
    cfg.workers = vec![WorkerSpec {
        memory_mb: 4096,
        cores: 1,
    }];
    cfg.functions = FunctionSettings {
        all: FunctionOverrides::default(),
        named: vec![(
            "f1".into(),
            FunctionOverrides {
                snapshot: Some(FunctionSnapshot {
                    enabled: Some(true),
                    snapshot_mb: Some(200),
                    restore_ms: Some(RestoreSpec::Bandwidth {
                        base_ms: 5.0,
                        restore_mb_per_s: 1000.0,
                    }),
                    slowdown: Some(1.0),
                }),
                ..Default::default()
            },
        )],
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128), func("f1", 512)],
        vec![
            arr(0, 0, S),
            arr(0, 1, S),
            arr(10 * MS, 0, S),
            arr(10 * MS, 1, S),
            arr(500 * MS, 1, S),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(
        r.iter().map(|r| r.init.as_micros()).collect::<Vec<_>>(),
        vec![100 * MS, 100 * MS, 100 * MS, 100 * MS, 205 * MS]
    );
    assert_eq!(spans(r)[4], (705 * MS, S + 705 * MS));
    assert_eq!((rep.stats.boots, rep.stats.restores), (4, 1));
    assert_eq!(rep.stats.snapshot_read_mb, 200);
}

#[test]
fn a_full_snapshot_store_evicts_the_least_recently_used_snapshot() {
    // Store of 300 MB; f0, f1, f2 of 128 MB (snapshots of 128 MB: two fit, not three);
    // boots of 100 ms, restores of 10 ms, slowdown 1; every execution 50 ms; keep-alive
    // 0.5 s, so no instance outlives the gap to the next arrival.
    //   @0 s f0 boots; snapshot f0 at 0.1 s.            store: f0
    //   @1 s f1 boots; snapshot f1 at 1.1 s.            store: f0 f1
    //   @2 s f2 boots; at 2.1 s f2 needs room: f0 (least recently used) is evicted.
    //                                                   store: f1 f2
    //   @3 s f0 boots (its snapshot is gone); at 3.1 s f1 is evicted.   store: f2 f0
    //   @4 s f2 restores (10 ms) and becomes the most recently used.    store: f0 f2
    //   @5 s f1 boots; at 5.1 s f0 is evicted.                          store: f2 f1
    // Cache charges: each span is billed as kept (f0: 0.1-2.1 s and 3.1-5.1 s; f1: 1.1-3.1 s
    // and 5.1 s to the end of the run at 5.65 s, when its instance expires; f2: 2.1-5.65 s),
    // then each function is topped up to the 3-hour minimum, once: the minimum is per
    // function, not per span, so eviction churn does not multiply it.
    let mut cfg = base();
    cfg.workers = vec![WorkerSpec {
        memory_mb: 4096,
        cores: 1,
    }];
    cfg.snapshot = SnapshotConfig {
        capacity_mb: Some(300),
        ..snapshots(10.0, 1.0)
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(0.5, true)),
        vec![func("f0", 128), func("f1", 128), func("f2", 128)],
        vec![
            arr(0, 0, 50 * MS),
            arr(S, 1, 50 * MS),
            arr(2 * S, 2, 50 * MS),
            arr(3 * S, 0, 50 * MS),
            arr(4 * S, 2, 50 * MS),
            arr(5 * S, 1, 50 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(
        r.iter().map(|r| r.init.as_micros()).collect::<Vec<_>>(),
        vec![100 * MS, 100 * MS, 100 * MS, 100 * MS, 10 * MS, 100 * MS]
    );
    let s = &rep.stats;
    assert_eq!((s.boots, s.restores), (5, 1));
    assert_eq!((s.snapshots_created, s.snapshots_evicted), (5, 3));
    let inv = s.bill.invoice();
    assert_eq!(s.end, t(5 * S + 650 * MS));
    assert_eq!(inv.usage.snapshot_cache_mb_ms, 3 * 10_800_000 * 128);
    assert_eq!(inv.usage.snapshot_restored_mb, 128);
    // Each function's cost holds its own 3 hours (f2 also its restore).
    let cache = |spans: u128| Money::for_mb_ms(spans * 10_800_000 * 128, 15_046);
    let own = |f: usize| -> Money {
        r.iter()
            .filter(|x| x.function.index() == f)
            .map(|x| x.charge.total())
            .sum()
    };
    assert_eq!(rep.functions[0].cost, own(0) + cache(1));
    assert_eq!(rep.functions[1].cost, own(1) + cache(1));
    let restore = Money::for_mb_ms(128 * 1_000, 1_397_998);
    assert_eq!(rep.functions[2].cost, own(2) + cache(1) + restore);
}

fn placed(placement: PlacementSpec) -> Policies {
    faasim_policies::build(
        &placement,
        &RoutingSpec::MostRecentlyUsed {},
        &KeepAliveSpec::Fixed {
            ttl_s: 10.0,
            reset_on_use: true,
        },
        &Default::default(),
    )
    .expect("valid policy specs")
}

#[test]
fn forks_trade_locality_for_start_time() {
    // 2 workers of 256 MB; f0 of 128 MB; boots 100 ms, forks 1 ms; least-loaded placement,
    // which spreads instances: with forks preferred they gather where a template is.
    // A0 @0 (1 s): no instance -> least-loaded: w0 (tie, lowest id) -> boot, ready 100 ms,
    //   runs to 1.1 s.
    // A1 @200 ms (1 s): A0 busy -> a new instance. prefer-fork: w0 holds a ready f0 with
    //   room (128 MB free) -> fork there, ready 201 ms, runs to 1.201 s. Latency 1.001 s.
    // A2 @300 ms (1 s): w0 is full (256 MB) -> least-loaded: w1, no template -> boot,
    //   ready 400 ms, runs to 1.4 s.
    // With placement = "policy", A1 goes where least-loaded sends it, w1 (empty), and boots
    // there (ready 300 ms); A2 then goes to w0 (tie at 128 MB each, lowest id) and forks
    // from A0's instance: ready 301 ms.
    let mut cfg = base();
    cfg.workers = vec![
        WorkerSpec {
            memory_mb: 256,
            cores: 1
        };
        2
    ];
    cfg.fork = ForkConfig {
        enabled: true,
        ..ForkConfig::default()
    };
    let arrivals = || vec![arr(0, 0, S), arr(200 * MS, 0, S), arr(300 * MS, 0, S)];
    let (rep, rec) = simulate(
        &cfg,
        placed(PlacementSpec::LeastLoaded {}),
        vec![func("f0", 128)],
        arrivals(),
    );
    let r = &rec.invocations;
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, S + 100 * MS),
            (201 * MS, S + 201 * MS),
            (400 * MS, S + 400 * MS)
        ]
    );
    assert_eq!(
        r.iter().map(|r| r.worker.unwrap().0).collect::<Vec<_>>(),
        vec![0, 0, 1]
    );
    assert_eq!(
        (rep.stats.boots, rep.stats.restores, rep.stats.forks),
        (2, 0, 1)
    );

    cfg.fork.placement = ForkPlacement::Policy;
    let (rep, rec) = simulate(
        &cfg,
        placed(PlacementSpec::LeastLoaded {}),
        vec![func("f0", 128)],
        arrivals(),
    );
    let r = &rec.invocations;
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, S + 100 * MS),
            (300 * MS, S + 300 * MS),
            (301 * MS, S + 301 * MS)
        ]
    );
    assert_eq!(
        r.iter().map(|r| r.worker.unwrap().0).collect::<Vec<_>>(),
        vec![0, 1, 0]
    );
    assert_eq!(rep.stats.forks, 1);
}

#[test]
fn a_fork_wins_over_a_restore_and_bills_no_init() {
    // One worker; f0 of 128 MB; snapshots (restore 10 ms) and forks (1 ms) both on,
    // bill_init on. A0 @0 boots (100 ms, billed 100 + 50 ms); A1 @120 ms: the snapshot is
    // there, but a template is ready on the worker -> fork, ready 121 ms, runs 50 ms to
    // 171 ms, billed 50 ms (a fork's wait is not INIT time).
    let mut cfg = base();
    cfg.snapshot = snapshots(10.0, 1.5);
    cfg.fork = ForkConfig {
        enabled: true,
        ..ForkConfig::default()
    };
    cfg.billing = Billing {
        model: BillingModel::AwsLambdaX86,
        bill_init: true,
        ..Billing::default()
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(1.0, true)),
        vec![func("f0", 128)],
        vec![arr(0, 0, 50 * MS), arr(120 * MS, 0, 50 * MS)],
    );
    let r = &rec.invocations;
    assert_eq!(spans(r), vec![(100 * MS, 150 * MS), (121 * MS, 171 * MS)]);
    assert_eq!(
        r.iter().map(|r| r.charge.billed_ms).collect::<Vec<_>>(),
        vec![150, 50]
    );
    assert_eq!((rep.stats.boots, rep.stats.forks), (1, 1));
    assert_eq!(rep.stats.restores, 0);
}

#[test]
fn a_template_lost_with_its_worker_is_not_forked_from() {
    // One worker of 256 MB; f0 of 128 MB; boots 100 ms, forks 1 ms; keep-alive 10 s.
    // A0 @0 (100 ms): boots, ready 100 ms, done 200 ms, then idle: a template on w0.
    // w0 fails at 500 ms and is repaired at 1 s: the idle instance is lost with it.
    // A1 @2 s (100 ms): no instance and no template anywhere -> it boots: ready 2.1 s,
    // done 2.2 s (a fork from the lost instance would have been ready at 2.001 s).
    let mut cfg = base();
    cfg.workers = vec![WorkerSpec {
        memory_mb: 256,
        cores: 1,
    }];
    cfg.fork = ForkConfig {
        enabled: true,
        ..ForkConfig::default()
    };
    cfg.provider.faults = faasim_sim::provider::Faults {
        schedule: vec![faasim_sim::provider::Outage {
            worker: 0,
            at: faasim_sim::SimTime::from_ms(500),
            down: faasim_sim::SimDuration::from_ms(500),
        }],
        ..Default::default()
    };
    let (rep, rec) = simulate(
        &cfg,
        placed(PlacementSpec::FirstFit {}),
        vec![func("f0", 128)],
        vec![arr(0, 0, 100 * MS), arr(2 * S, 0, 100 * MS)],
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![(100 * MS, 200 * MS), (2 * S + 100 * MS, 2 * S + 200 * MS)]
    );
    assert_eq!(
        (rep.stats.boots, rep.stats.restores, rep.stats.forks),
        (2, 0, 0)
    );
}
