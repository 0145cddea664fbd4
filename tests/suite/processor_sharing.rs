//! The CPU model, hand-traced: n executions on c cores each progress at min(1, c/n) of
//! full speed; cold starts use no CPU; `CpuModel::Ignore` runs everything at full speed.

use crate::common::*;
use faasim_policies::KeepAliveSpec;
use faasim_sim::{run, CpuModel, DistSpec, VecRecorder, VecSource};

/// `n` invocations of one function with instance concurrency `n`, all arriving at 0 and
/// running `dur_us` each; cold start 0, infinite keep-alive.
fn together_on_one_instance(
    n: u32,
    cores: u32,
    dur_us: u64,
    cpu: CpuModel,
) -> (faasim_sim::RunReport, faasim_sim::VecRecorder) {
    let mut cfg = config(1024, cores, 0.0);
    cfg.instance_concurrency = n;
    cfg.cpu = cpu;
    simulate(
        &cfg,
        policies(&KeepAliveSpec::Infinite {}),
        vec![func("f0", 128)],
        (0..n).map(|_| arr(0, 0, dur_us)).collect(),
    )
}

#[test]
fn ten_one_second_jobs_on_four_cores_all_end_at_two_and_a_half_seconds() {
    // Cold start 0: A0 creates instance 0 at 0; its ready event at 0 (class 2) precedes the
    // other arrivals at 0 (class 6), so A1..A9 join it warm (concurrency 10). All ten start
    // at 0 and run at 4/10 speed: 1 s of work takes 2.5 s. Four cores busy for 2.5 s.
    let (rep, rec) = together_on_one_instance(10, 4, S, CpuModel::ProcessorSharing);
    assert_eq!(spans(&rec.invocations), vec![(0, 2_500_000); 10]);
    assert_eq!(rep.stats.cold_starts, 1);
    assert_eq!(rep.stats.instances_created, 1);
    assert_eq!(rep.stats.busy_core_us, 4 * 2_500_000);
    assert_eq!(rep.stats.end, t(2_500_000));
    // Billing follows the wall clock: 2.5 s each at 1 ms granularity.
    assert!(rec.invocations.iter().all(|r| r.charge.billed_ms == 2_500));

    // The same with ten functions (one instance each, concurrency 1).
    let mut cfg = config(2048, 4, 0.0);
    cfg.instance_concurrency = 1;
    let (rep, rec) = simulate(
        &cfg,
        policies(&KeepAliveSpec::Infinite {}),
        (0..10).map(|i| func(&format!("f{i}"), 128)).collect(),
        (0..10).map(|i| arr(0, i, S)).collect(),
    );
    assert_eq!(spans(&rec.invocations), vec![(0, 2_500_000); 10]);
    assert_eq!(rep.stats.cold_starts, 10);
}

#[test]
fn five_one_second_jobs_on_ten_cores_run_at_full_speed() {
    let (rep, rec) = together_on_one_instance(5, 10, S, CpuModel::ProcessorSharing);
    assert_eq!(spans(&rec.invocations), vec![(0, S); 5]);
    assert_eq!(rep.stats.busy_core_us, 5 * S as u128);
}

#[test]
fn cpu_ignore_runs_everything_at_full_speed() {
    // Ten 1 s jobs on one core: with the CPU ignored they all end at 1 s. Busy cores are
    // still counted as min(executions, cores) = 1.
    let (rep, rec) = together_on_one_instance(10, 1, S, CpuModel::Ignore);
    assert_eq!(spans(&rec.invocations), vec![(0, S); 10]);
    assert_eq!(rep.stats.busy_core_us, S as u128);
    // Under processor sharing the same load takes ten times as long.
    let (_, rec) = together_on_one_instance(10, 1, S, CpuModel::ProcessorSharing);
    assert_eq!(spans(&rec.invocations), vec![(0, 10 * S); 10]);
}

#[test]
fn a_job_joining_midway_shares_the_core_from_then_on() {
    // 1 worker, 1 core, cold start 0, f0 and f1 (one instance each).
    // A(f0) @0 (2 s) runs alone until 1 s: 1 s of work done, 1 s left.
    // Case 1: B(f1) @1 s (1 s). From 1 s both run at 1/2 speed: B needs 2 s of wall time
    //   -> 3 s; A's remaining 1 s also takes 2 s -> 3 s.
    // Case 2: B(f1) @1 s (0.5 s). B needs 1 s of wall time -> 2 s; by then A has done
    //   1.5 s of work, then runs alone for its last 0.5 s -> 2.5 s.
    let cfg = config(1024, 1, 0.0);
    let run_b = |b_us: u64| {
        simulate(
            &cfg,
            policies(&KeepAliveSpec::Infinite {}),
            vec![func("f0", 128), func("f1", 128)],
            vec![arr(0, 0, 2 * S), arr(S, 1, b_us)],
        )
    };
    let (rep, rec) = run_b(S);
    assert_eq!(spans(&rec.invocations), vec![(0, 3 * S), (S, 3 * S)]);
    assert_eq!(rep.stats.busy_core_us, 3 * S as u128);
    let (_, rec) = run_b(S / 2);
    assert_eq!(spans(&rec.invocations), vec![(0, 2_500_000), (S, 2 * S)]);
}

#[test]
fn oversubscription_starts_only_when_jobs_outnumber_cores() {
    // 1 worker, 2 cores, cold start 0, concurrency 3. J0, J1 @0 (1 s), J2 @0.5 s (1 s).
    // 0 -> 0.5 s: two jobs on two cores, full speed; J0, J1 have 0.5 s left.
    // From 0.5 s: three jobs, speed 2/3: J0, J1 need 0.75 s -> end at 1.25 s; J2 has done
    //   0.5 s by then and runs its last 0.5 s alone at full speed -> 1.75 s.
    let mut cfg = config(1024, 2, 0.0);
    cfg.instance_concurrency = 3;
    let (rep, rec) = simulate(
        &cfg,
        policies(&KeepAliveSpec::Infinite {}),
        vec![func("f0", 128)],
        vec![arr(0, 0, S), arr(0, 0, S), arr(S / 2, 0, S)],
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![(0, 1_250_000), (0, 1_250_000), (500_000, 1_750_000)]
    );
    // Busy cores: 2 from 0 to 1.25 s, 1 from 1.25 to 1.75 s.
    assert_eq!(rep.stats.busy_core_us, 2 * 1_250_000 + 500_000);
}

#[test]
fn shared_completion_instants_round_up_to_the_next_microsecond() {
    // Three 1 us jobs on 2 cores: each runs at 2/3 speed and needs 1.5 us; integer time
    // rounds the completion up to 2 us (never early).
    let (_, rec) = together_on_one_instance(3, 2, 1, CpuModel::ProcessorSharing);
    assert_eq!(spans(&rec.invocations), vec![(0, 2); 3]);
    // Three 1 ms jobs on 2 cores: exactly 1.5 ms.
    let (_, rec) = together_on_one_instance(3, 2, MS, CpuModel::ProcessorSharing);
    assert_eq!(spans(&rec.invocations), vec![(0, 1_500); 3]);
}

#[test]
fn cold_starts_use_no_cpu() {
    // 1 worker, 1 core. f0 has no cold start, f1 a 500 ms one (per-function override).
    // A(f0) @0 (1 s) runs alone while B(f1) @0 is starting: 0.5 s done by 0.5 s.
    // 0.5 s: B starts; both at half speed: A's last 0.5 s takes 1 s -> 1.5 s; B has done
    //   0.5 s by then and finishes alone -> 2 s.
    let mut cfg = config(1024, 1, 0.0);
    cfg.cold_start_per_function = vec![("f1".into(), DistSpec::Constant { value_ms: 500.0 })];
    let (_, rec) = simulate(
        &cfg,
        policies(&KeepAliveSpec::Infinite {}),
        vec![func("f0", 128), func("f1", 128)],
        vec![arr(0, 0, S), arr(0, 1, S)],
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![(0, 1_500_000), (500_000, 2 * S)]
    );
    assert_eq!(rec.invocations[0].init, d(0));
    assert_eq!(rec.invocations[1].init, d(500 * MS));
}

#[test]
fn jobs_ending_at_one_wakeup_end_in_arrival_order() {
    // 1 worker, 1 core, cold start 0, concurrency 3. A @0 (5 ms) and X @0 (25 ms) share
    // the core: A ends at 10 ms, when X has done 5 ms; X runs alone to 11 ms (6 ms done).
    // B arrives at 11 ms (19 ms) and takes the invocation slot A left: X's last 19 ms and
    // B's 19 ms at half speed both end at 49 ms, at one wakeup. They end in arrival order
    // (X, then B), not in the order of their slots.
    let mut cfg = config(1024, 1, 0.0);
    cfg.instance_concurrency = 3;
    // Run directly: `simulate` sorts the records by id, and the order they come in is the
    // point here.
    let mut source = VecSource::new(
        vec![func("f0", 128)],
        vec![
            arr(0, 0, 5 * MS),
            arr(0, 0, 25 * MS),
            arr(11 * MS, 0, 19 * MS),
        ],
    );
    let mut rec = VecRecorder::default();
    run(
        &cfg,
        policies(&KeepAliveSpec::Infinite {}),
        &mut source,
        &mut rec,
    )
    .unwrap();
    let ends: Vec<(u64, u64)> = rec
        .invocations
        .iter()
        .map(|r| (r.id, r.end.as_micros()))
        .collect();
    assert_eq!(ends, vec![(0, 10 * MS), (1, 49 * MS), (2, 49 * MS)]);
}
