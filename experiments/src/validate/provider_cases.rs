//! The provider's rules against AWS's published behaviour: the legacy burst example, the
//! 2023 scaling rate, the asynchronous retry policy, and a timeout's bill.

use super::*;
use faasim_sim::provider::{AsyncPolicy, Limits, ScalingBucket};
use faasim_sim::{FunctionOverrides, FunctionSettings, InvocationMode, ProviderRules};

/// A cluster of `workers` × 16 GiB: room for 128 instances of 128 MB each.
fn big_cluster(workers: usize) -> Vec<WorkerSpec> {
    cluster(workers, 16_384, 64)
}

fn one_function(memory_mb: u32) -> Vec<FunctionSpec> {
    vec![FunctionSpec {
        name: "f".into(),
        memory_mb,
    }]
}

fn at(us: u64, duration: SimDuration) -> Arrival {
    Arrival {
        time: SimTime(us),
        function: FunctionId(0),
        duration,
        cold_start: None,
        mode: None,
    }
}

/// AWS Lambda Operator Guide, "On-demand scaling example" (read 2025): 10,000 synchronous
/// requests, an account concurrency of 10,000, the legacy burst of 3,000 then 500 more
/// environments each minute; each minute's requests arrive at once at its start.
pub(super) fn legacy_burst_case(_: &Context) -> Vec<Check> {
    let c = "aws-legacy-burst";
    let mut checks = vec![];
    // (minutes, throttled by AWS's account of it)
    for (minutes, expected) in [(1u64, 7_000.0), (2, 3_500.0), (3, 333.0), (4, 0.0)] {
        let mut cfg = engine(big_cluster(80), CpuModel::Ignore, 100.0, OnFull::Queue, 1);
        cfg.provider.limits = Limits {
            account_concurrency: Some(10_000),
            scaling: Some(ScalingBucket::aws_legacy(3_000)),
        };
        // 10,000 / minutes per minute, the remainder in the last minute (3,333, 3,333, 3,334).
        let per = 10_000 / minutes;
        let mut arrivals = vec![];
        for m in 0..minutes {
            let n = if m + 1 == minutes {
                10_000 - per * (minutes - 1)
            } else {
                per
            };
            for _ in 0..n {
                arrivals.push(at(m * 60_000_000, SimDuration::from_ms(100)));
            }
        }
        let r = simulate(
            &cfg,
            policies(Box::new(Mru), Some(SimDuration::from_secs(600))),
            &mut VecSource::new(one_function(128), arrivals),
            &mut NullRecorder,
        );
        checks.push(Check::exact(
            c,
            format!("requests over {minutes} minute(s): throttled"),
            expected,
            r.stats.throttled as f64,
            0.0,
        ));
        if minutes == 1 {
            checks.push(Check::exact(
                c,
                "requests at once: served by new environments",
                3_000.0,
                r.stats.completed as f64,
                0.0,
            ));
        }
    }
    checks
}

/// "Lambda scaling behavior" (AWS Lambda Developer Guide, since November 2023): a function
/// adds at most 1,000 environments every 10 s, refilled continuously, so going from 0 to
/// 10,000 concurrent executions takes 90 s: 1,000 at once, then 100 a second.
pub(super) fn scaling_2023_case(_: &Context) -> Vec<Check> {
    let c = "aws-2023-scaling";
    let mut cfg = engine(big_cluster(110), CpuModel::Ignore, 0.0, OnFull::Queue, 1);
    cfg.provider.limits = Limits {
        account_concurrency: Some(100_000),
        scaling: Some(ScalingBucket::aws_2023()),
    };
    // A request every millisecond from 0 to 120 s, each running 1,000 s: concurrency only
    // grows.
    let arrivals: Vec<Arrival> = (0..=120_000u64)
        .map(|i| at(i * 1_000, SimDuration::from_secs(1_000)))
        .collect();
    let mut rec = VecRecorder::default();
    let r = simulate(
        &cfg,
        policies(Box::new(Mru), None),
        &mut VecSource::new(one_function(128), arrivals),
        &mut rec,
    );
    let mut starts: Vec<u64> = rec
        .invocations
        .iter()
        .filter(|x| x.outcome == Outcome::Completed)
        .map(|x| x.start.as_micros())
        .collect();
    starts.sort_unstable();
    let reached = starts.get(9_999).map_or(f64::NAN, |&t| t as f64 / 1e6);
    vec![
        Check::exact(
            c,
            "time to 10,000 concurrent executions (s)",
            90.0,
            reached,
            0.0,
        ),
        Check::holds(
            c,
            "no sooner: fewer than 10,000 executions started before 90 s",
            starts.iter().filter(|&&t| t < 90_000_000).count() < 10_000,
        ),
        // 1,000 + 100 / s × 120 s environments by 120 s; every other request throttled.
        Check::exact(
            c,
            "executions started by 120 s",
            13_000.0,
            r.stats.completed as f64,
            0.0,
        ),
    ]
}

/// "How Lambda handles errors and retries with asynchronous invocation": a function error is
/// retried twice; with independent errors of probability p an event fails for good with
/// probability p^(retries + 1), after 1 + p + ... + p^retries billed attempts on average.
pub(super) fn async_retries_case(_: &Context) -> Vec<Check> {
    let c = "async-retries";
    let p = 0.3;
    let n = 20_000u64;
    let mut checks = vec![];
    for retries in [0u32, 1, 2] {
        let est = replicate(161 + retries as u64, REPLICATIONS, |seed| {
            let mut cfg = engine(big_cluster(4), CpuModel::Ignore, 0.0, OnFull::Queue, seed);
            cfg.functions = FunctionSettings {
                all: FunctionOverrides {
                    error_rate: Some(p),
                    invocation: Some(InvocationMode::Async),
                    ..Default::default()
                },
                named: vec![],
            };
            cfg.provider = ProviderRules {
                async_events: AsyncPolicy {
                    retries,
                    ..AsyncPolicy::default()
                },
                ..Default::default()
            };
            let mut src = Poisson::new(seed, 10.0, None, SimDuration::from_ms(50)).count(n);
            let r = simulate(
                &cfg,
                policies(Box::new(Mru), Some(SimDuration::from_secs(600))),
                &mut src,
                &mut NullRecorder,
            );
            let requests = r.stats.bill.invoice().usage.requests as f64;
            vec![
                r.stats.failed as f64 / r.stats.invocations as f64,
                requests / r.stats.invocations as f64,
            ]
        });
        let expected = p.powi(retries as i32 + 1);
        checks.push(Check::within_se(
            c,
            format!("final failure probability, error_rate {p}, {retries} retries"),
            expected,
            est[0].mean,
            est[0].se(),
        ));
        let attempts: f64 = (0..=retries).map(|k| p.powi(k as i32)).sum();
        checks.push(Check::within_se(
            c,
            format!("billed attempts per event, {retries} retries"),
            attempts,
            est[1].mean,
            est[1].se(),
        ));
    }
    checks
}

/// A timeout's bill (AWS Lambda, x86, 1 ms rounding): an execution killed at its 3 s timeout
/// is billed 3,000 ms; at 1,024 MB that is 3 GB-s × $0.0000166667 plus the $0.0000002
/// request, $0.0000502001. Under processor sharing, two executions on one core (0.8 s and
/// 0.3 s of work, timeout 1 s) share it until 0.6 s, when the short one ends; the long one,
/// 0.3 s done, would end at 1.1 s and is cut at 1 s, billed 1,000 ms.
pub(super) fn timeout_bill_case(_: &Context) -> Vec<Check> {
    let c = "timeout-bill";
    let mut checks = vec![];
    let timed = |timeout_s: u64| FunctionSettings {
        all: FunctionOverrides {
            timeout: Some(SimDuration::from_secs(timeout_s)),
            ..Default::default()
        },
        named: vec![],
    };
    for cpu in [CpuModel::Ignore, CpuModel::ProcessorSharing] {
        let mut cfg = engine(cluster(1, 4_096, 1), cpu, 0.0, OnFull::Queue, 1);
        cfg.functions = timed(3);
        let mut rec = VecRecorder::default();
        simulate(
            &cfg,
            policies(Box::new(Mru), None),
            &mut VecSource::new(one_function(1_024), vec![at(0, SimDuration::from_secs(5))]),
            &mut rec,
        );
        let r = rec.invocations[0];
        let name = match cpu {
            CpuModel::Ignore => "durations as given",
            CpuModel::ProcessorSharing => "processor sharing",
        };
        checks.push(Check::holds(
            c,
            format!("{name}: a 5 s execution with a 3 s timeout ends timed-out at 3 s"),
            r.outcome == Outcome::TimedOut && r.end == SimTime::from_secs(3),
        ));
        checks.push(Check::exact(
            c,
            format!("{name}: its bill (USD)"),
            0.000_050_200_1,
            r.charge.total().to_usd(),
            1e-15,
        ));
    }
    let mut cfg = engine(
        cluster(1, 4_096, 1),
        CpuModel::ProcessorSharing,
        0.0,
        OnFull::Queue,
        1,
    );
    cfg.functions = timed(1);
    let mut rec = VecRecorder::default();
    simulate(
        &cfg,
        policies(Box::new(Mru), None),
        &mut VecSource::new(
            one_function(1_024),
            vec![
                at(0, SimDuration::from_ms(800)),
                at(0, SimDuration::from_ms(300)),
            ],
        ),
        &mut rec,
    );
    let long = rec.invocations.iter().find(|x| x.id == 0).copied();
    checks.push(Check::holds(
        c,
        "processor sharing, two executions on one core: the 0.8 s one is cut at 1 s",
        long.is_some_and(|x| x.outcome == Outcome::TimedOut && x.end == SimTime::from_secs(1)),
    ));
    checks.push(Check::exact(
        c,
        "processor sharing, two executions on one core: its billed ms",
        1_000.0,
        long.map_or(f64::NAN, |x| x.charge.billed_ms as f64),
        0.0,
    ));
    checks
}
