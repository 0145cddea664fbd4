//! Billing through whole runs: rounding up to the granularity, `bill_init`, and the run's
//! money totals as exact sums of the per-invocation charges.

use crate::common::*;
use faasim_policies::KeepAliveSpec;
use faasim_sim::{Billing, BillingModel, Charge, CpuModel, Money};

/// 1 worker, cold start 150 ms, CPU ignored, f0 of 128 MB, fixed keep-alive 10 s.
/// A0 @0 (1 us): cold, ready 150 ms, ends 150.001 ms. A1 @1 s (1 us): warm.
fn run_with(billing: Billing) -> (faasim_sim::RunReport, faasim_sim::VecRecorder) {
    let mut cfg = config(1024, 1, 150.0);
    cfg.cpu = CpuModel::Ignore;
    cfg.billing = billing;
    simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128)],
        vec![arr(0, 0, 1), arr(S, 0, 1)],
    )
}

fn request() -> Money {
    // $0.20 per million requests = 2 000 units of 1e-10 USD per request.
    Money::from_price_units(2_000)
}

fn duration(mb_ms: u128) -> Money {
    // $0.0000166667 per GB-s = 166 667 units of 1e-10 USD per 1 024 000 MB-ms.
    Money::for_mb_ms(mb_ms, 166_667)
}

#[test]
fn hundred_ms_granularity_with_bill_init() {
    // A0: init 150 ms + run 0.001 ms = 150.001 ms -> 200 ms -> 200 x 128 = 25 600 MB-ms.
    // A1: 0.001 ms -> 100 ms -> 12 800 MB-ms.
    let (rep, rec) = run_with(Billing {
        model: BillingModel::AwsLambdaX86,
        granularity_ms: 100,
        bill_init: true,
        ..Billing::default()
    });
    let r = &rec.invocations;
    assert_eq!(spans(r), vec![(150 * MS, 150 * MS + 1), (S, S + 1)]);
    assert_eq!(
        r[0].charge,
        Charge {
            billed_ms: 200,
            mb_ms: 25_600,
            requests: 1,
            request: request(),
            duration: duration(25_600),
            ..Charge::default()
        }
    );
    assert_eq!(
        r[1].charge,
        Charge {
            billed_ms: 100,
            mb_ms: 12_800,
            requests: 1,
            request: request(),
            duration: duration(12_800),
            ..Charge::default()
        }
    );
    let s = &rep.stats;
    assert_eq!(s.billed_mb_ms, 38_400);
    assert_eq!(s.request_cost, Money(2 * request().0));
    assert_eq!(s.duration_cost, duration(38_400));
    assert_eq!(s.user_cost(), Money(2 * request().0) + duration(38_400));
    assert_eq!(rep.functions[0].mb_ms, 38_400);
    assert_eq!(rep.functions[0].cost, s.user_cost());
    // 38 400 MB-ms = 0.0375 GB-s -> $6.25e-7, plus $4e-7 of requests.
    assert!((s.user_cost().to_usd() - (0.0375 * 0.0000166667 + 0.0000004)).abs() < 1e-15);
}

#[test]
fn hundred_ms_granularity_without_bill_init() {
    // Both bill one 100 ms unit: 0.001 ms rounds up to 100 ms; the cold start is free.
    let (rep, rec) = run_with(Billing {
        model: BillingModel::AwsLambdaX86,
        granularity_ms: 100,
        bill_init: false,
        ..Billing::default()
    });
    assert!(rec.invocations.iter().all(|r| r.charge.billed_ms == 100));
    assert_eq!(rep.stats.billed_mb_ms, 2 * 12_800);
    assert_eq!(rep.stats.duration_cost, duration(25_600));
}

#[test]
fn one_ms_granularity_and_the_arm_price() {
    // 1 ms granularity: 0.001 ms bills 1 ms; with bill_init the cold one bills
    // 150.001 ms -> 151 ms. Arm: $0.0000133334 per GB-s.
    let (rep, rec) = run_with(Billing {
        model: BillingModel::AwsLambdaArm,
        granularity_ms: 1,
        bill_init: true,
        ..Billing::default()
    });
    let r = &rec.invocations;
    assert_eq!(
        r.iter().map(|x| x.charge.billed_ms).collect::<Vec<_>>(),
        vec![151, 1]
    );
    assert_eq!(rep.stats.billed_mb_ms, 152 * 128);
    assert_eq!(
        rep.stats.duration_cost,
        Money::for_mb_ms(152 * 128, 133_334)
    );
}

#[test]
fn processor_sharing_bills_the_wall_clock() {
    // Two 1 s jobs of two functions share one core from 0 (cold start 0): both end at
    // 2 s and each bills 2 000 ms at 1 ms granularity.
    let cfg = config(1024, 1, 0.0);
    let (rep, rec) = simulate(
        &cfg,
        policies(&fixed(10.0, true)),
        vec![func("f0", 128), func("f1", 256)],
        vec![arr(0, 0, S), arr(0, 1, S)],
    );
    assert_eq!(spans(&rec.invocations), vec![(0, 2 * S), (0, 2 * S)]);
    assert_eq!(
        rec.invocations
            .iter()
            .map(|x| x.charge.mb_ms)
            .collect::<Vec<_>>(),
        vec![2_000 * 128, 2_000 * 256]
    );
    assert_eq!(rep.stats.billed_mb_ms, 2_000 * 384);
}

#[test]
fn provisioned_concurrency_is_warm_and_billed_at_its_own_prices() {
    // One provisioned instance of a 1024 MB function, ready at t = 0. A @0 (1 s) and
    // A @2 s (1 s) both run warm on it; the run ends at 3 s.
    // Provisioned time: 3 s, rounded up to AWS's 5 minutes: 300 GB-s x $0.0000041667.
    // Invocations: 2 x 1 GB-s x $0.0000097222 (the provisioned duration price) + 2 requests.
    let mut cfg = config(4096, 1, 100.0);
    cfg.provisioned_per_function = 1;
    let (rep, rec) = simulate(
        &cfg,
        policies(&KeepAliveSpec::None {}),
        vec![func("f0", 1024)],
        vec![arr(0, 0, S), arr(2 * S, 0, S)],
    );
    assert_eq!(rep.stats.completed, 2);
    assert_eq!(rep.stats.cold_starts, 0);
    assert!(rec.invocations.iter().all(|r| r.latency().as_micros() == S));
    // Kept although keep-alive is `none`: provisioned instances are not subject to it.
    assert_eq!(rep.stats.instances_created, 1);
    let inv = rep.stats.bill.invoice();
    let usd = |m: faasim_sim::Money| m.to_usd();
    assert!((usd(inv.provisioned) - (300.0 * 0.0000041667 + 2.0 * 0.0000097222)).abs() < 1e-12);
    assert!(
        (usd(inv.total) - (300.0 * 0.0000041667 + 2.0 * 0.0000097222 + 2.0 * 0.0000002)).abs()
            < 1e-12
    );
}

#[test]
fn provisioned_instances_that_do_not_fit_are_a_clear_error() {
    let mut cfg = config(1024, 1, 100.0);
    cfg.provisioned_per_function = 2;
    let err = faasim_sim::run(
        &cfg,
        policies(&KeepAliveSpec::None {}),
        &mut faasim_sim::VecSource::new(vec![func("big", 1024)], vec![arr(0, 0, S)]),
        &mut faasim_sim::NullRecorder,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("provisioned") && err.contains("big"), "{err}");
}
