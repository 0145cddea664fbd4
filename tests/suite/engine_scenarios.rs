//! Hand-traced scenarios of a few invocations. Each test states its trace; every time is an
//! exact integer of microseconds. Same-instant order (crate docs of `faasim_sim`):
//! completion < instance ready < keep-alive expiry < queue timeout < pre-warm < arrival <
//! sample.

use crate::common::*;
use faasim_policies::KeepAliveSpec;
use faasim_sim::{
    FunctionId, InstanceId, InstanceView, KeepAlive, KeepAliveDecision, OnFull, Outcome, Policies,
    SimDuration, SimTime, WorkerId, WorkerSpec,
};

#[test]
fn cold_start_then_warm_reuse_and_completion_before_arrival() {
    // 1 worker 1024 MB / 1 core, cold start 100 ms, fixed keep-alive 10 s; f0 of 128 MB.
    // A0 @0 (50 ms): no instance -> cold. Instance 0 created at 0, ready at 100 ms, runs
    //   100 -> 150 ms. Latency 150 ms.
    // A1 @200 ms (50 ms): instance 0 idle since 150 ms -> warm, runs 200 -> 250 ms.
    // A2 @250 ms (50 ms): A1's completion at 250 ms is processed before the arrival at
    //   250 ms (completion < arrival) -> warm on the same instance, runs 250 -> 300 ms.
    // Idle memory: 150 -> 200 ms (50 000 us) + 250 -> 250 ms (0) = 50 000 us x 128 MB.
    // The run drains: after A2 the instance stays idle for its 10 s keep-alive, 300 ms ->
    // 10.3 s, is evicted then, and the run ends there: idle 50 000 + 10 000 000 us, a life
    // of 10.3 s. Stopped at a horizon of 300 ms instead, the instance is closed then.
    let cfg = config(1024, 1, 100.0);
    let arrivals = || {
        vec![
            arr(0, 0, 50 * MS),
            arr(200 * MS, 0, 50 * MS),
            arr(250 * MS, 0, 50 * MS),
        ]
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128)],
        arrivals(),
    );
    let r = &rec.invocations;
    assert_eq!(r.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(colds(r), vec![true, false, false]);
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, 150 * MS),
            (200 * MS, 250 * MS),
            (250 * MS, 300 * MS)
        ]
    );
    assert_eq!(latencies(r), vec![150 * MS, 50 * MS, 50 * MS]);
    assert_eq!(r[0].init, d(100 * MS));
    assert_eq!(r[0].dispatched, t(0));
    assert_eq!(r[1].init, SimDuration::ZERO);
    for x in r {
        assert_eq!(x.outcome, Outcome::Completed);
        assert_eq!(x.instance, Some(InstanceId(0)));
        assert_eq!(x.worker, Some(WorkerId(0)));
        assert_eq!(x.memory_mb, 128);
    }
    let s = &rep.stats;
    assert_eq!((s.invocations, s.completed, s.dropped), (3, 3, 0));
    assert_eq!(s.cold_starts, 1);
    assert_eq!(s.instances_created, 1);
    assert_eq!(s.evictions_expired, 1);
    assert_eq!(s.idle_mb_us, 128 * (50 * MS + 10 * S) as u128);
    assert_eq!(s.instance_us, (10 * S + 300 * MS) as u128);
    assert_eq!(s.init_mb_us, 128 * 100 * MS as u128);
    assert_eq!(s.latency_us.sum(), 250 * MS as u128);
    assert_eq!(s.end, t(10 * S + 300 * MS));
    assert_eq!(rep.functions[0].cold_starts, 1);
    assert_eq!(
        rep.functions[0].idle_mb_us,
        128 * (50 * MS + 10 * S) as u128
    );

    let mut at_horizon = cfg.clone();
    at_horizon.end = faasim_sim::RunEnd::Horizon {
        at: Some(t(300 * MS)),
    };
    let (rep, rec) = simulate(
        &at_horizon,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128)],
        arrivals(),
    );
    assert_eq!(spans(&rec.invocations)[2], (250 * MS, 300 * MS));
    let s = &rep.stats;
    assert_eq!((s.completed, s.unfinished, s.evictions_expired), (3, 0, 0));
    assert_eq!(s.idle_mb_us, 128 * 50 * MS as u128);
    assert_eq!(s.instance_us, 300 * MS as u128);
    assert_eq!(s.end, t(300 * MS));
}

#[test]
fn keep_alive_window_is_half_open() {
    // 1 worker 1024 MB / 1 core, cold start 100 ms, fixed keep-alive 1 s reset on use, f0 of
    // 128 MB. A0 @0 (100 ms): cold, runs 100 -> 200 ms; idle since t = 200 ms, kept for
    // [200 ms, 1.2 s).
    // Run 1: A1 @1_199_999 us (1 us before the end of the window) -> warm, runs to
    //   1_299_999. Idle 200 000 -> 1 199 999 = 999 999 us, then 1 s more until the drained
    //   run evicts it at 2_299_999 (its life).
    // Run 2: A1 @1_200_000 us -> the expiry at 1.2 s (class 3) is processed before the
    //   arrival (class 6): the instance is gone -> cold: ready 1.3 s, ends 1.4 s, latency
    //   200 ms, expires at 2.4 s. Idle exactly 1 000 000 us each; lifetimes 1.2 s + 1.2 s.
    let cfg = config(1024, 1, 100.0);
    let f = || vec![func("f0", 128)];

    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(1.0, true)),
        f(),
        vec![arr(0, 0, 100 * MS), arr(S + 200 * MS - 1, 0, 100 * MS)],
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, false]);
    assert_eq!(spans(r), vec![(100 * MS, 200 * MS), (1_199_999, 1_299_999)]);
    assert_eq!(latencies(r), vec![200 * MS, 100 * MS]);
    assert_eq!(rep.stats.instances_created, 1);
    assert_eq!(rep.stats.evictions_expired, 1);
    assert_eq!(rep.stats.idle_mb_us, 128 * (999_999 + 1_000_000));
    assert_eq!(rep.stats.instance_us, 2_299_999);

    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(1.0, true)),
        f(),
        vec![arr(0, 0, 100 * MS), arr(S + 200 * MS, 0, 100 * MS)],
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, true]);
    assert_eq!(spans(r), vec![(100 * MS, 200 * MS), (1_300_000, 1_400_000)]);
    assert_eq!(latencies(r), vec![200 * MS, 200 * MS]);
    assert_eq!(r[1].dispatched, t(1_200_000));
    assert_eq!(rep.stats.instances_created, 2);
    assert_eq!(rep.stats.evictions_expired, 2);
    assert_eq!(rep.stats.idle_mb_us, 128 * 2 * 1_000_000);
    assert_eq!(rep.stats.instance_us, 1_200_000 + 1_200_000);
}

#[test]
fn keep_alive_without_reset_counts_from_the_first_idle() {
    // cold start 100 ms, fixed keep-alive 1 s, f0 of 128 MB, 1 worker / 1 core.
    // A0 @0 (100 ms): cold, runs 100 -> 200 ms. First idle at 200 ms.
    // A1 @500 ms (100 ms): warm, runs 500 -> 600 ms.
    // A2 @1_199_999 (100 ms): warm, runs to 1_299_999.
    // A3 @1.3 s (100 ms).
    // reset_on_use = false: the window is [200 ms, 1.2 s) for good. A2 arrives inside it
    //   (warm) but ends after it: becoming idle at 1_299_999 past its deadline, the instance
    //   is evicted at once (KeepUntil(1.2 s) <= now). A3 is cold: ready 1.4 s, ends 1.5 s.
    //   Idle: 200->500 ms (300 000) + 600 000->1 199 999 (599 999) + 0 = 899 999 us, plus
    //   A3's instance from 1.5 s to its expiry at 2.5 s (1 000 000), where the run ends.
    // reset_on_use = true: after A2 the window is [1_299_999, 2_299_999): A3 is warm,
    //   runs 1.3 -> 1.4 s. Idle: 300 000 + 599 999 + 1 = 900 000 us, plus 1.4 -> 2.4 s.
    let cfg = config(1024, 1, 100.0);
    let arrivals = || {
        vec![
            arr(0, 0, 100 * MS),
            arr(500 * MS, 0, 100 * MS),
            arr(1_199_999, 0, 100 * MS),
            arr(1_300_000, 0, 100 * MS),
        ]
    };

    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(1.0, false)),
        vec![func("f0", 128)],
        arrivals(),
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, false, false, true]);
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, 200 * MS),
            (500 * MS, 600 * MS),
            (1_199_999, 1_299_999),
            (1_400_000, 1_500_000)
        ]
    );
    assert_eq!(rep.stats.evictions_expired, 2);
    assert_eq!(rep.stats.instances_created, 2);
    assert_eq!(rep.stats.idle_mb_us, 128 * (899_999 + 1_000_000));
    assert_eq!(rep.stats.end, t(2_500_000));

    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(1.0, true)),
        vec![func("f0", 128)],
        arrivals(),
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, false, false, false]);
    assert_eq!(r[3].start, t(1_300_000));
    assert_eq!(r[3].end, t(1_400_000));
    assert_eq!(rep.stats.evictions_expired, 1);
    assert_eq!(rep.stats.instances_created, 1);
    assert_eq!(rep.stats.idle_mb_us, 128 * (900_000 + 1_000_000));
    assert_eq!(rep.stats.end, t(2_400_000));
}

#[test]
fn queue_is_fifo_and_queue_delays_are_exact() {
    // 1 worker 256 MB / 1 core, cold start 100 ms, fixed keep-alive 10 s; f0, f1, f2 of
    // 256 MB: one instance fits at a time.
    // A(f0) @0 (1 s): cold, runs 100 ms -> 1.1 s.
    // B(f1) @10 ms (500 ms): no room, nothing idle to reclaim -> queued.
    // C(f2) @20 ms (500 ms): the queue is not empty -> queued behind B.
    // 1.1 s: A completes; its instance is idle; the head B reclaims it: dispatched 1.1 s,
    //   ready 1.2 s, runs to 1.7 s. C still does not fit.
    // 1.7 s: B completes; C reclaims B's instance: dispatched 1.7 s, ready 1.8 s, ends 2.3 s.
    // Queue delays: A 0, B 1.09 s, C 1.68 s.
    let cfg = config(256, 1, 100.0);
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 256), func("f1", 256), func("f2", 256)],
        vec![
            arr(0, 0, S),
            arr(10 * MS, 1, 500 * MS),
            arr(20 * MS, 2, 500 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, true, true]);
    assert_eq!(
        r.iter()
            .map(|x| x.dispatched.as_micros())
            .collect::<Vec<_>>(),
        vec![0, 1_100_000, 1_700_000]
    );
    assert_eq!(
        r.iter()
            .map(|x| x.queue_delay().as_micros())
            .collect::<Vec<_>>(),
        vec![0, 1_090_000, 1_680_000]
    );
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, 1_100_000),
            (1_200_000, 1_700_000),
            (1_800_000, 2_300_000)
        ]
    );
    assert_eq!(latencies(r), vec![1_100_000, 1_690_000, 2_280_000]);
    let s = &rep.stats;
    assert_eq!(s.peak_queue, 2);
    assert_eq!(s.queue_delay_us.sum(), 1_090_000 + 1_680_000);
    assert_eq!(s.evictions_reclaimed, 2);
    assert_eq!(s.instances_created, 3);
    assert_eq!(s.peak_memory_mb, 256);
    // Completion order: A, B, C.
    let mut by_end: Vec<_> = r.iter().map(|x| (x.end, x.id)).collect();
    by_end.sort();
    assert_eq!(
        by_end.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}

#[test]
fn a_freed_slot_serves_a_queued_request_of_its_own_function_first() {
    // As above with f0, f1 of 256 MB. A(f0) @0 (1 s) runs 100 ms -> 1.1 s.
    // B(f1) @10 ms (500 ms) queued; C(f0) @20 ms (500 ms) queued behind B.
    // 1.1 s: A's instance frees a slot: C, a request of its function, takes it warm
    //   (documented: "served by the first instance of its function that frees a slot"),
    //   runs 1.1 -> 1.6 s, although B waited longer.
    // 1.6 s: C completes; B reclaims the idle instance: ready 1.7 s, ends 2.2 s.
    let cfg = config(256, 1, 100.0);
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 256), func("f1", 256)],
        vec![
            arr(0, 0, S),
            arr(10 * MS, 1, 500 * MS),
            arr(20 * MS, 0, 500 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, true, false]);
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, 1_100_000),
            (1_700_000, 2_200_000),
            (1_100_000, 1_600_000)
        ]
    );
    assert_eq!(r[1].dispatched, t(1_600_000));
    assert_eq!(r[2].dispatched, t(1_100_000));
    assert_eq!(rep.stats.evictions_reclaimed, 1);
}

#[test]
fn queue_timeout_drops_and_its_boundary_follows_the_event_order() {
    // 1 worker 256 MB / 1 core, cold 100 ms; f0, f1 of 256 MB.
    // A(f0) @0 (1 s): runs 100 ms -> 1.1 s. B(f1) @10 ms (500 ms): queued.
    let run_with = |timeout_us: u64| {
        let mut cfg = config(256, 1, 100.0);
        cfg.queue_timeout = Some(d(timeout_us));
        simulate(
            &cfg,
            policies(&fixed(10.0, true)),
            vec![func("f0", 256), func("f1", 256)],
            vec![arr(0, 0, S), arr(10 * MS, 1, 500 * MS)],
        )
    };
    // Timeout 500 ms: B is dropped at 510 ms, with no instance, no charge, latency 0.
    let (rep, rec) = run_with(500 * MS);
    let b = rec.invocations[1];
    assert_eq!(b.outcome, Outcome::DroppedTimeout);
    assert_eq!(b.end, t(510 * MS));
    assert_eq!(b.arrival, t(10 * MS));
    assert_eq!(b.instance, None);
    assert_eq!(b.worker, None);
    assert_eq!(b.charge, Default::default());
    assert_eq!(b.latency(), SimDuration::ZERO);
    assert_eq!(rec.invocations[0].end, t(1_100_000));
    let s = &rep.stats;
    assert_eq!((s.completed, s.dropped, s.dropped_timeout), (1, 1, 1));
    assert_eq!(rep.functions[1].dropped, 1);

    // Timeout 1.09 s: B's deadline is 1.1 s, the instant A completes. Completions come
    // before queue timeouts, so B is served: dispatched 1.1 s, ready 1.2 s, ends 1.7 s.
    let (rep, rec) = run_with(1_090_000);
    let b = rec.invocations[1];
    assert_eq!(b.outcome, Outcome::Completed);
    assert_eq!(
        (b.dispatched, b.start, b.end),
        (t(1_100_000), t(1_200_000), t(1_700_000))
    );
    assert_eq!(rep.stats.dropped, 0);

    // Timeout 1 us shorter: dropped at 1_099_999.
    let (rep, rec) = run_with(1_089_999);
    assert_eq!(rec.invocations[1].outcome, Outcome::DroppedTimeout);
    assert_eq!(rec.invocations[1].end, t(1_099_999));
    assert_eq!(rep.stats.dropped_timeout, 1);
}

#[test]
fn when_the_queue_head_times_out_the_next_request_gets_the_free_memory() {
    // 1 worker 512 MB / 4 cores, cold 100 ms, queue timeout 100 ms, fixed keep-alive 10 s;
    // f0 384 MB, f1 256 MB, f2 128 MB.
    // A(f0) @0 (10 s): runs 100 ms -> 10.1 s; 128 MB stay free.
    // B(f1) @1 ms (100 ms): 128 MB free < 256, nothing idle -> queued (deadline 101 ms).
    // C(f2) @50 ms (100 ms): would fit, but new requests do not overtake the queue ->
    //   queued behind B (deadline 150 ms).
    // 101 ms: B times out. C is now the head and fits in the free 128 MB: it is dispatched
    //   at 101 ms (cold), ready 201 ms, runs to 301 ms.
    let mut cfg = config(512, 4, 100.0);
    cfg.queue_timeout = Some(d(100 * MS));
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 384), func("f1", 256), func("f2", 128)],
        vec![
            arr(0, 0, 10 * S),
            arr(MS, 1, 100 * MS),
            arr(50 * MS, 2, 100 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(r[1].outcome, Outcome::DroppedTimeout);
    assert_eq!(r[1].end, t(101 * MS));
    assert_eq!(r[2].outcome, Outcome::Completed, "{:?}", r[2]);
    assert_eq!(r[2].dispatched, t(101 * MS));
    assert_eq!((r[2].start, r[2].end), (t(201 * MS), t(301 * MS)));
    assert_eq!(rep.stats.dropped, 1);
    assert_eq!(r[0].end, t(10_100_000));
}

#[test]
fn on_full_drop_rejects_at_arrival_and_frees_nothing() {
    // on_full = drop; 1 worker 256 MB / 1 core, cold 100 ms, fixed 10 s; f0, f1 of 256 MB.
    // A(f0) @0 (1 s): runs 100 ms -> 1.1 s.
    // B(f1) @10 ms: no room, nothing idle -> DroppedFull at 10 ms.
    // C(f1) @1.5 s (500 ms): A's instance is idle since 1.1 s -> reclaimed; C cold,
    //   ready 1.6 s, ends 2.1 s.
    let mut cfg = config(256, 1, 100.0);
    cfg.on_full = OnFull::Drop;
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 256), func("f1", 256)],
        vec![
            arr(0, 0, S),
            arr(10 * MS, 1, 500 * MS),
            arr(1_500_000, 1, 500 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(
        r.iter().map(|x| x.outcome).collect::<Vec<_>>(),
        vec![Outcome::Completed, Outcome::DroppedFull, Outcome::Completed]
    );
    assert_eq!((r[1].arrival, r[1].end), (t(10 * MS), t(10 * MS)));
    assert_eq!(r[1].instance, None);
    assert_eq!(spans(&r[2..]), vec![(1_600_000, 2_100_000)]);
    assert!(r[2].cold_start);
    let s = &rep.stats;
    assert_eq!((s.invocations, s.completed, s.dropped), (3, 2, 1));
    assert_eq!(s.dropped_timeout, 0);
    assert_eq!(s.peak_queue, 0);
    assert_eq!(s.evictions_reclaimed, 1);
    assert_eq!(
        s.request_cost,
        cfg.billing.request_charge() + cfg.billing.request_charge()
    );
}

#[test]
fn reclaiming_takes_the_least_recently_idle_instance_first() {
    // 1 worker 384 MB / 4 cores (no CPU sharing), cold 10 ms, infinite keep-alive;
    // f0..f3 of 128 MB: three instances fit.
    // f0 @0 (100 ms): instance 0, runs 10 -> 110 ms.
    // f1 @10 ms: instance 1, runs 20 -> 120 ms.  f2 @20 ms: instance 2, runs 30 -> 130 ms.
    // f0 @200 ms: warm on instance 0, runs 200 -> 300 ms. Idle order now:
    //   f1 (since 120 ms), f2 (130 ms), f0 (300 ms).
    // f3 @400 ms: no room -> reclaim the least recently idle, f1's instance 1 (slot reused):
    //   f3 cold on instance 1, runs 410 -> 510 ms.
    // f2 @600 ms: warm (instance 2). f0 @610 ms: warm (instance 0).
    // f1 @620 ms: cold (its instance was reclaimed); the only idle one, f3's, is
    //   reclaimed: instance 1 again, runs 630 -> 730 ms.
    let (rep, rec) = simulate(
        &config(384, 4, 10.0),
        policies(&KeepAliveSpec::Infinite {}),
        vec![
            func("f0", 128),
            func("f1", 128),
            func("f2", 128),
            func("f3", 128),
        ],
        vec![
            arr(0, 0, 100 * MS),
            arr(10 * MS, 1, 100 * MS),
            arr(20 * MS, 2, 100 * MS),
            arr(200 * MS, 0, 100 * MS),
            arr(400 * MS, 3, 100 * MS),
            arr(600 * MS, 2, 100 * MS),
            arr(610 * MS, 0, 100 * MS),
            arr(620 * MS, 1, 100 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(
        colds(r),
        vec![true, true, true, false, true, false, false, true]
    );
    assert_eq!(
        r.iter().map(|x| x.instance.unwrap().0).collect::<Vec<_>>(),
        vec![0, 1, 2, 0, 1, 2, 0, 1]
    );
    assert_eq!(
        spans(r),
        vec![
            (10 * MS, 110 * MS),
            (20 * MS, 120 * MS),
            (30 * MS, 130 * MS),
            (200 * MS, 300 * MS),
            (410 * MS, 510 * MS),
            (600 * MS, 700 * MS),
            (610 * MS, 710 * MS),
            (630 * MS, 730 * MS)
        ]
    );
    assert_eq!(rep.stats.evictions_reclaimed, 2);
    assert_eq!(rep.stats.evictions_expired, 0);
    assert_eq!(rep.stats.peak_memory_mb, 384);
}

#[test]
fn reclaiming_skips_idle_instances_on_workers_that_cannot_make_room() {
    // 2 workers of 256 MB / 4 cores, first fit, cold 10 ms, infinite keep-alive;
    // f0..f3 of 128 MB, f4 of 256 MB.
    // f0 @0 (100 ms) -> w0, runs 10 -> 110 ms.   f1 @1 ms (10 s) -> w0, busy to 10.011 s.
    // f2 @2 ms (100 ms) -> w1, 12 -> 112 ms.      f3 @3 ms (100 ms) -> w1, 13 -> 113 ms.
    // Idle order at 200 ms: f0 (w0, 110 ms), f2 (w1, 112 ms), f3 (w1, 113 ms).
    // f4 @200 ms needs 256 MB: f0 comes first, but w0 can free only 128 MB (f1 is busy), so
    //   w1 is the target: evict f2 then f3. f4 on w1, runs 210 -> 310 ms.
    // f0 @400 ms: warm on w0 (it survived).
    let cfg = crate::common::config(256, 4, 10.0);
    let cfg = faasim_sim::EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: 256,
                cores: 4
            };
            2
        ],
        ..cfg
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&KeepAliveSpec::Infinite {}),
        vec![
            func("f0", 128),
            func("f1", 128),
            func("f2", 128),
            func("f3", 128),
            func("f4", 256),
        ],
        vec![
            arr(0, 0, 100 * MS),
            arr(MS, 1, 10 * S),
            arr(2 * MS, 2, 100 * MS),
            arr(3 * MS, 3, 100 * MS),
            arr(200 * MS, 4, 100 * MS),
            arr(400 * MS, 0, 100 * MS),
        ],
    );
    let r = &rec.invocations;
    assert_eq!(
        r.iter().map(|x| x.worker.unwrap().0).collect::<Vec<_>>(),
        vec![0, 0, 1, 1, 1, 0]
    );
    assert_eq!(colds(r), vec![true, true, true, true, true, false]);
    assert_eq!(
        spans(&r[4..]),
        vec![(210 * MS, 310 * MS), (400 * MS, 500 * MS)]
    );
    assert_eq!(rep.stats.evictions_reclaimed, 2);
    assert_eq!(rep.stats.end, t(10_011_000));
}

#[test]
fn concurrency_two_shares_one_instance_once_it_is_ready() {
    // instance_concurrency 2; 1 worker 1024 MB / 4 cores; cold 100 ms; fixed 10 s; f0 128 MB.
    // A @0 (1 s): cold, instance 0 ready at 100 ms, runs 100 ms -> 1.1 s; it keeps a free slot.
    // B @100 ms (1 s): the ready event (class 2) precedes the arrival (class 6) at 100 ms,
    //   so B shares instance 0 warm, runs 100 ms -> 1.1 s (4 cores: no slowdown).
    // C @150 ms (1 s): instance 0 is full (2 active) -> instance 1, cold, ready 250 ms,
    //   ends 1.25 s.
    let mut cfg = config(1024, 4, 100.0);
    cfg.instance_concurrency = 2;
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128)],
        vec![arr(0, 0, S), arr(100 * MS, 0, S), arr(150 * MS, 0, S)],
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, false, true]);
    assert_eq!(
        r.iter().map(|x| x.instance.unwrap().0).collect::<Vec<_>>(),
        vec![0, 0, 1]
    );
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, 1_100_000),
            (100 * MS, 1_100_000),
            (250 * MS, 1_250_000)
        ]
    );
    assert_eq!(latencies(r), vec![1_100_000, 1_000_000, 1_100_000]);
    assert_eq!(rep.stats.cold_starts, 2);
    assert_eq!(rep.stats.instances_created, 2);
    // Drained: instance 0 idle 1.1 -> 11.1 s, instance 1 1.25 -> 11.25 s (10 s keep-alive).
    assert_eq!(rep.stats.idle_mb_us, 128 * 2 * 10 * S as u128);
    assert_eq!(rep.stats.end, t(11_250_000));

    // B @50 ms arrives during instance 0's cold start: it does not wait for it but starts
    // its own instance 1 (documented), ready 150 ms, ends 1.15 s.
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128)],
        vec![arr(0, 0, S), arr(50 * MS, 0, S)],
    );
    assert_eq!(colds(&rec.invocations), vec![true, true]);
    assert_eq!(
        spans(&rec.invocations),
        vec![(100 * MS, 1_100_000), (150 * MS, 1_150_000)]
    );
    assert_eq!(rep.stats.instances_created, 2);
}

#[test]
fn two_functions_share_one_core_then_warm_reuse_just_before_expiry() {
    // 1 worker (1024 MB, 1 core, processor sharing), cold start 1 s, fixed keep-alive 1 s
    // reset on use; f0 of 256 MB, f1 of 128 MB.
    // A(f0) @0 (1 s), B(f1) @0 (1 s): two cold starts together, both ready at 1 s; they
    //   share the single core at half speed each -> both end at 3 s (latency 3 s).
    // Both idle from 3 s; their windows are [3 s, 4 s).
    // A'(f0) @4 s - 1 us (1 s): f0's instance is still warm -> warm start, alone on the core:
    //   runs 3_999_999 -> 4_999_999 (latency 1 s).
    // 4 s: f1's instance expires (evicted); f0's is busy (its pending expiry is ignored).
    // 4_999_999: A' completes; f0's instance is idle until 5_999_999, where it expires and
    //   the drained run ends.
    // Idle memory: f0 256 MB x ((3 s -> 3_999_999) + 1 s) = 256 x 1 999 999;
    //              f1 128 MB x (3 s -> 4 s) = 128 x 1 000 000.
    // Lifetimes: f0's instance 0 -> 5_999_999, f1's 0 -> 4 s.
    let (rep, rec) = simulate(
        &config(1024, 1, 1000.0),
        policies(&fixed(1.0, true)),
        vec![func("f0", 256), func("f1", 128)],
        vec![arr(0, 0, S), arr(0, 1, S), arr(4 * S - 1, 0, S)],
    );
    let r = &rec.invocations;
    assert_eq!(colds(r), vec![true, true, false]);
    assert_eq!(
        spans(r),
        vec![(S, 3 * S), (S, 3 * S), (4 * S - 1, 5 * S - 1)]
    );
    assert_eq!(latencies(r), vec![3 * S, 3 * S, S]);
    assert_eq!(r[2].instance, r[0].instance);
    let s = &rep.stats;
    assert_eq!((s.invocations, s.completed, s.cold_starts), (3, 3, 2));
    assert_eq!(s.instances_created, 2);
    assert_eq!(s.evictions_expired, 2);
    assert_eq!(s.idle_mb_us, 256 * 1_999_999 + 128 * 1_000_000);
    assert_eq!(rep.functions[0].idle_mb_us, 256 * 1_999_999);
    assert_eq!(rep.functions[1].idle_mb_us, 128 * 1_000_000);
    assert_eq!(s.instance_us, (6 * S - 1) as u128 + (4 * S) as u128);
    assert_eq!(s.end, t(6 * S - 1));
    // One core busy from 1 s to 3 s and from 3_999_999 to 4_999_999.
    assert_eq!(s.busy_core_us, (2 * S + S) as u128);
}

/// Keeps pre-warmed instances (never executed) forever, evicts the others as soon as they
/// are idle, and pre-warms a function right after each expiry.
struct PrewarmAfterExpiry;

impl KeepAlive for PrewarmAfterExpiry {
    fn on_idle(&mut self, i: &InstanceView, _now: SimTime) -> KeepAliveDecision {
        if i.executions == 0 {
            KeepAliveDecision::KeepForever
        } else {
            KeepAliveDecision::EvictNow
        }
    }
    fn prewarm(&mut self, _f: FunctionId, _now: SimTime) -> Option<SimDuration> {
        Some(SimDuration::ZERO)
    }
}

fn prewarm_policies() -> Policies {
    let base = policies(&KeepAliveSpec::None {});
    Policies {
        keep_alive: Box::new(PrewarmAfterExpiry),
        ..base
    }
}

#[test]
fn a_prewarmed_instance_serves_a_queued_request_of_its_function() {
    // 1 worker 128 MB / 1 core, cold 10 ms; f0 of 128 MB; keep-alive: PrewarmAfterExpiry.
    // A @0 (100 ms): cold, runs 10 -> 110 ms; evicted at 110 ms -> pre-warm timer at 110 ms.
    // 110 ms: the pre-warm creates an instance of f0 (the memory is free), ready at 120 ms.
    // B @115 ms (100 ms): the only instance is starting (requests do not wait for a cold
    //   start) and memory is full -> queued.
    // 120 ms: the pre-warmed instance is ready with a free slot: it serves B (warm),
    //   dispatched 120 ms, runs 120 -> 220 ms.
    let (rep, rec) = simulate(
        &config(128, 1, 10.0),
        prewarm_policies(),
        vec![func("f0", 128)],
        vec![arr(0, 0, 100 * MS), arr(115 * MS, 0, 100 * MS)],
    );
    assert_eq!(rep.stats.completed, 2, "{:?}", rec.invocations);
    let b = rec.invocations[1];
    assert!(!b.cold_start);
    assert_eq!(
        (b.dispatched, b.start, b.end),
        (t(120 * MS), t(120 * MS), t(220 * MS))
    );
    assert_eq!(rep.stats.instances_created, 2);
}

#[test]
fn a_prewarmed_idle_instance_is_reclaimed_for_the_queue_head() {
    // 1 worker 256 MB / 1 core, cold 10 ms; f0 of 128 MB, f1 of 256 MB;
    // keep-alive: PrewarmAfterExpiry.
    // A(f0) @0 (100 ms): runs 10 -> 110 ms, evicted at 110 ms; the pre-warm at 110 ms
    //   creates an f0 instance, ready at 120 ms.
    // B(f1) @115 ms (100 ms): 128 MB free < 256 MB and nothing idle (the pre-warm is still
    //   starting) -> queued.
    // 120 ms: the pre-warmed instance becomes idle, hence reclaimable: the head B takes its
    //   memory: dispatched 120 ms (cold), ready 130 ms, runs 130 -> 230 ms.
    let (rep, rec) = simulate(
        &config(256, 1, 10.0),
        prewarm_policies(),
        vec![func("f0", 128), func("f1", 256)],
        vec![arr(0, 0, 100 * MS), arr(115 * MS, 1, 100 * MS)],
    );
    assert_eq!(rep.stats.completed, 2, "{:?}", rec.invocations);
    let b = rec.invocations[1];
    assert!(b.cold_start);
    assert_eq!(
        (b.dispatched, b.start, b.end),
        (t(120 * MS), t(130 * MS), t(230 * MS))
    );
    assert_eq!(rep.stats.evictions_reclaimed, 1);
}

#[test]
fn samples_see_the_state_after_every_event_at_their_instant() {
    // 1 worker 1024 MB / 1 core, cold 100 ms, fixed 10 s, samples every 100 ms; f0 128 MB.
    // A0 @0 (50 ms): cold, instance 0 ready at 100 ms, runs 100 -> 150 ms.
    // A1 @100 ms (200 ms): arrives after instance 0's ready event but finds it busy with A0
    //   (concurrency 1) -> instance 1, cold, ready 200 ms, runs 200 -> 400 ms.
    // Sample @100 ms (after the ready event and the arrival): 2 live, 1 starting, 1 busy,
    //   1 executing, 256 MB used; the interval (0, 100 ms] saw 2 arrivals, 2 cold starts.
    // Sample @200 ms: instance 0 idle since 150 ms, instance 1 just started: 1 busy, 1 idle,
    //   128 MB idle. @300 ms: unchanged, no arrivals.
    // Sample @400 ms: after A1's completion at 400 ms: 2 idle, 256 MB idle.
    // `instances_started` counts the two instances in the first interval; `cold_starts`
    // counts invocations that waited for one, when they complete: A0 in (100, 200 ms], A1
    // in (300, 400 ms].
    // The run drains: instance 0 expires at 10.15 s, instance 1 at 10.4 s, where the run
    // ends; samples go on every 100 ms to 10.4 s.
    // Stopped at a horizon of 450 ms, the last, partial interval (400, 450 ms] still gets
    // its row, at 450 ms.
    let mut cfg = config(1024, 1, 100.0);
    cfg.sample_interval = Some(d(100 * MS));
    let (_, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128)],
        vec![arr(0, 0, 50 * MS), arr(100 * MS, 0, 200 * MS)],
    );
    let s = &rec.samples;
    assert_eq!(
        s.iter().map(|x| x.time.as_micros()).collect::<Vec<_>>(),
        (1..=104).map(|i| i * 100 * MS).collect::<Vec<_>>()
    );
    let row = |x: &faasim_sim::Sample| {
        (
            x.live_instances,
            x.starting_instances,
            x.busy_instances,
            x.idle_instances,
            x.executing,
            x.memory_used_mb,
            x.memory_idle_mb,
            x.arrivals,
            x.instances_started,
            x.cold_starts,
        )
    };
    assert_eq!(
        s[..4].iter().map(row).collect::<Vec<_>>(),
        vec![
            (2, 1, 1, 0, 1, 256, 0, 2, 2, 0),
            (2, 0, 1, 1, 1, 256, 128, 0, 0, 1),
            (2, 0, 1, 1, 1, 256, 128, 0, 0, 0),
            (2, 0, 0, 2, 0, 256, 256, 0, 0, 1),
        ]
    );
    assert_eq!(row(&s[101]), (1, 0, 0, 1, 0, 128, 128, 0, 0, 0));
    assert_eq!(row(&s[103]), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

    let mut at_horizon = cfg.clone();
    at_horizon.end = faasim_sim::RunEnd::Horizon {
        at: Some(t(450 * MS)),
    };
    let (_, rec) = simulate(
        &at_horizon,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128)],
        vec![arr(0, 0, 50 * MS), arr(100 * MS, 0, 200 * MS)],
    );
    assert_eq!(
        rec.samples
            .iter()
            .map(|x| x.time.as_micros())
            .collect::<Vec<_>>(),
        vec![100 * MS, 200 * MS, 300 * MS, 400 * MS, 450 * MS]
    );
    assert_eq!(row(&rec.samples[4]), (2, 0, 0, 2, 0, 256, 256, 0, 0, 0));
    assert!(s.iter().all(|x| x.queue_length == 0 && x.dropped == 0));
    assert_eq!(
        spans(&rec.invocations),
        vec![(100 * MS, 150 * MS), (200 * MS, 400 * MS)]
    );
}

#[test]
fn a_prewarmed_instance_takes_the_functions_latest_cold_start_from_the_trace() {
    // 1 worker 128 MB / 1 core, model cold start 10 ms; f0 of 128 MB; keep-alive:
    // PrewarmAfterExpiry. The trace gives A @0 (100 ms) a cold start of 30 ms: ready 30 ms,
    // runs 30 -> 130 ms, evicted at 130 ms; the pre-warm at 130 ms starts an instance with no
    // request: it takes f0's latest cold start from the trace (30 ms), not the model's 10 ms,
    // so it is ready at 160 ms and B @200 ms runs warm, 200 -> 300 ms.
    // Memory held during cold starts: 128 MB x (30 + 30) ms.
    let mut a = arr(0, 0, 100 * MS);
    a.cold_start = Some(d(30 * MS));
    let (rep, rec) = simulate(
        &config(128, 1, 10.0),
        prewarm_policies(),
        vec![func("f0", 128)],
        vec![a, arr(200 * MS, 0, 100 * MS)],
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![(30 * MS, 130 * MS), (200 * MS, 300 * MS)]
    );
    assert_eq!(colds(&rec.invocations), vec![true, false]);
    assert_eq!(rep.stats.instances_created, 2);
    assert_eq!(rep.stats.init_mb_us, 128 * 60 * MS as u128);
}

#[test]
fn per_function_settings_override_memory_and_cold_start_most_specific_first() {
    // 1 worker 1024 MB / 1 core, scenario-wide cold start 100 ms, fixed keep-alive 10 s.
    // f0 (trace: 128 MB): `[functions."f0"]` memory 512 MB, cold start 300 ms.
    // f1 (128 MB): no entry of its own -> `[functions."*"]` cold start 40 ms.
    // f2 (128 MB): `[platform.function_cold_start_ms] f2 = 70` beats the wildcard's 40 ms.
    // `[functions."nope"]` matches nothing and is reported.
    // A0 @0 f0 (10 ms): cold 300 ms -> ends 310 ms; its instance holds 512 MB.
    // A1 @0 f1 (10 ms): cold 40 ms -> ends 50 ms. A2 @0 f2 (10 ms): cold 70 -> ends 80 ms.
    // Peak memory 512 + 128 + 128 = 768 MB.
    let mut cfg = config(1024, 1, 100.0);
    let ms = |v: f64| Some(faasim_sim::DistSpec::Constant { value_ms: v });
    cfg.cold_start_per_function = vec![(
        "f2".into(),
        faasim_sim::DistSpec::Constant { value_ms: 70.0 },
    )];
    cfg.functions = faasim_sim::FunctionSettings {
        all: faasim_sim::FunctionOverrides {
            cold_start: ms(40.0),
            ..Default::default()
        },
        named: vec![
            (
                "f0".into(),
                faasim_sim::FunctionOverrides {
                    memory_mb: Some(512),
                    cold_start: ms(300.0),
                    ..Default::default()
                },
            ),
            ("nope".into(), Default::default()),
        ],
    };
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128), func("f1", 128), func("f2", 128)],
        vec![arr(0, 0, 10 * MS), arr(0, 1, 10 * MS), arr(0, 2, 10 * MS)],
    );
    let r = &rec.invocations;
    assert_eq!(
        spans(r),
        vec![(300 * MS, 310 * MS), (40 * MS, 50 * MS), (70 * MS, 80 * MS)]
    );
    assert_eq!(
        r.iter().map(|r| r.memory_mb).collect::<Vec<_>>(),
        vec![512, 128, 128]
    );
    assert_eq!(rep.stats.peak_memory_mb, 768);
    assert_eq!(rep.function_table.get(FunctionId(0)).memory_mb, 512);
    assert_eq!(rep.unused_function_settings, vec!["nope".to_string()]);
}
