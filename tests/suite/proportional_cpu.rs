//! CPU that follows memory (`CpuModel::Proportional`), hand-traced: instances reserve a vCPU
//! share of memory / 1,769 MB on their worker (placement fits memory and cores), and with
//! durations measured at 1 vCPU an execution with a smaller share is stretched.

use crate::common::*;
use faasim_sim::{CpuModel, OnFull, SimError, VecRecorder, VecSource, WorkerSpec};

fn proportional(one_vcpu: bool) -> faasim_sim::EngineConfig {
    let mut cfg = config(8192, 2, 100.0);
    cfg.cpu = CpuModel::Proportional {
        durations_at_one_vcpu: one_vcpu,
    };
    cfg
}

#[test]
fn instances_reserve_cores_so_placement_fits_memory_and_cores() {
    // One worker of 8192 MB and 2 cores; f0 of 1769 MB (exactly 1 vCPU). Memory holds four
    // instances, the cores two. A0, A1, A2 @0 (1 s each):
    //   A0, A1: cold, ready at 100 ms, run to 1.1 s (2 vCPUs reserved: the worker is full).
    //   A2: no room for a third instance (its core) -> queued; at 1.1 s A0's instance frees
    //   its slot and serves it warm: 1.1 -> 2.1 s, queue delay 1.1 s.
    // With cpu = "ignore" A2 starts a third instance at once and ends at 1.1 s.
    let arrivals = || vec![arr(0, 0, S), arr(0, 0, S), arr(0, 0, S)];
    let (rep, rec) = simulate(
        &proportional(false),
        policies(&fixed(10.0, true)),
        vec![func("f0", 1769)],
        arrivals(),
    );
    let r = &rec.invocations;
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, S + 100 * MS),
            (100 * MS, S + 100 * MS),
            (S + 100 * MS, 2 * S + 100 * MS)
        ]
    );
    assert_eq!(colds(r), vec![true, true, false]);
    assert_eq!(r[2].queue_delay(), d(S + 100 * MS));
    assert_eq!(rep.stats.instances_created, 2);
    // Busy cores: two shares of 1 vCPU for 1 s, then one for 1 s = 3 core-seconds.
    assert_eq!(rep.stats.busy_core_us, 3 * S as u128);

    let mut ignore = proportional(false);
    ignore.cpu = CpuModel::Ignore;
    let (rep, rec) = simulate(
        &ignore,
        policies(&fixed(10.0, true)),
        vec![func("f0", 1769)],
        arrivals(),
    );
    assert_eq!(spans(&rec.invocations)[2], (100 * MS, S + 100 * MS));
    assert_eq!(rep.stats.instances_created, 3);
}

#[test]
fn durations_measured_at_one_vcpu_stretch_below_one_vcpu() {
    // f1 of 442 MB: a share of 442 / 1769 vCPU. A0 @0 runs 100 ms at 1 vCPU.
    // durations_at = "1-vcpu": 100 000 x 1769 / 442 = 400 226.2 -> 400 227 us, from 100 ms
    //   (the cold start) to 500 227 us; its share busy for that long:
    //   442 x 400 227 / 1769 = 100 000.2 -> 100 000 core-us.
    // durations_at = "measured": 100 ms as in the trace.
    // f0 of 3538 MB (2 vCPUs): never stretched, never sped up: 100 ms either way.
    // A worker of 4 cores, so both fit (442 + 3538 MB of shares).
    let four = |one_vcpu| {
        let mut cfg = proportional(one_vcpu);
        cfg.workers = vec![WorkerSpec {
            memory_mb: 8192,
            cores: 4,
        }];
        cfg
    };
    let work = vec![arr(0, 0, 100 * MS), arr(0, 1, 100 * MS)];
    let functions = || vec![func("f1", 442), func("f0", 3538)];
    let (rep, rec) = simulate(
        &four(true),
        policies(&fixed(10.0, true)),
        functions(),
        work.clone(),
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![(100 * MS, 500_227), (100 * MS, 200 * MS)]
    );
    // 100 000 core-us for f1, 2 x 100 000 for f0.
    assert_eq!(rep.stats.busy_core_us, 300_000);
    // Billed for the stretched time (AWS bills the wall clock).
    assert_eq!(rec.invocations[0].charge.billed_ms, 401);
    let (_, rec) = simulate(
        &four(false),
        policies(&fixed(10.0, true)),
        functions(),
        work,
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![(100 * MS, 200 * MS), (100 * MS, 200 * MS)]
    );
}

#[test]
fn a_function_larger_than_any_worker_s_cores_and_concurrency_are_refused() {
    // 2 cores serve 3538 MB of shares: a 4000 MB function (2.26 vCPUs) never fits.
    let cfg = proportional(true);
    let mut src = VecSource::new(vec![func("big", 4000)], vec![arr(0, 0, MS)]);
    let e = faasim_sim::run(
        &cfg,
        policies(&fixed(1.0, true)),
        &mut src,
        &mut VecRecorder::default(),
    )
    .unwrap_err();
    assert!(matches!(e, SimError::Config(_)), "{e}");
    assert!(e.to_string().contains("reserves 2.26 vCPUs"), "{e}");
    let mut cfg = proportional(false);
    cfg.instance_concurrency = 2;
    cfg.on_full = OnFull::Queue;
    cfg.workers = vec![WorkerSpec {
        memory_mb: 1024,
        cores: 1,
    }];
    let mut src = VecSource::new(vec![func("f", 128)], vec![]);
    let e = faasim_sim::run(
        &cfg,
        policies(&fixed(1.0, true)),
        &mut src,
        &mut VecRecorder::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("instance_concurrency must be 1"),
        "{e}"
    );
}
