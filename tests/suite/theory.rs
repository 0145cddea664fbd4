//! Statistical checks against closed forms, with fixed seeds and stated tolerances.
//!
//! Exponential variates come from `faasim_sim::SimRng` by inversion (x = -ln(1 - u) / rate),
//! rounded to whole microseconds; at the rates used here (about one event per second)
//! the rounding is far below the tolerances.

use crate::common::*;
use faasim_policies::KeepAliveSpec;
use faasim_sim::{Arrival, CpuModel, FunctionId, OnFull, SimDuration, SimRng, SimTime};

/// An exponential variate with the given mean, in whole microseconds.
fn exp_us(rng: &mut SimRng, mean_us: f64) -> u64 {
    (-(1.0 - rng.unit_f64()).ln() * mean_us).round() as u64
}

/// `n` Poisson arrivals of function 0 at `rate_per_s`, each with a duration drawn by `dur`.
fn poisson(
    n: usize,
    rate_per_s: f64,
    seed: u64,
    mut dur: impl FnMut(&mut SimRng) -> u64,
) -> Vec<Arrival> {
    let mut gaps = SimRng::stream(seed, faasim_sim::rng::streams::ARRIVALS);
    let mut durs = SimRng::stream(seed, faasim_sim::rng::streams::DURATIONS);
    let mut now = 0u64;
    (0..n)
        .map(|i| {
            if i > 0 {
                now += exp_us(&mut gaps, 1e6 / rate_per_s);
            }
            Arrival {
                time: SimTime(now),
                function: FunctionId(0),
                duration: SimDuration(dur(&mut durs)),
                cold_start: None,
                mode: None,
            }
        })
        .collect()
}

#[test]
fn fixed_keep_alive_under_poisson_arrivals() {
    // One function (128 MB), Poisson arrivals at rate lambda, fixed keep-alive T = 1 s reset on
    // use, cold start 0, durations 1 us. An invocation is cold exactly when the gap since
    // the previous one exceeds T (the instance expired), so with gaps X ~ Exp(lambda):
    //   P(cold) = P(X > T) = e^(-lambda T),
    // and each gap leaves the instance idle for min(X, T) (up to 1 us), so
    //   E[idle per gap] = E[min(X, T)] = (1 - e^(-lambda T)) / lambda,
    //   E[min(X, T)^2] = 2 / lambda^2 * (1 - e^(-lambda T) (1 + lambda T)).
    // The gaps are i.i.d., so the cold indicators are Bernoulli and the idle times i.i.d.:
    // tolerance 4 standard errors (binomial for the ratio, from the variance above for the
    // idle mean): a false failure has probability below 1e-4 per check. (Calibration: over
    // 40 seeds per value of lambda T, the z-scores of both checks had an rms of 0.95-1.12
    // and never exceeded 3 in absolute value.)
    let n = 50_000usize;
    let t_us = 1e6;
    for (lambda_t, seed) in [(0.5, 101u64), (1.0, 102), (2.0, 103)] {
        let lambda = lambda_t / 1.0; // per second, T = 1 s
        let mut cfg = config(4096, 4, 0.0);
        cfg.seed = seed;
        let (rep, _) = simulate(
            &cfg,
            policies(&fixed(1.0, true)),
            vec![func("f0", 128)],
            poisson(n, lambda, seed, |_| 1),
        );
        let s = &rep.stats;
        assert_eq!(s.completed, n as u64);

        let p = (-lambda_t).exp();
        let ratio = s.cold_start_ratio();
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (ratio - p).abs() < 4.0 * se,
            "lambda T = {lambda_t}: cold-start ratio {ratio:.5}, theory {p:.5} +- {:.5}",
            4.0 * se
        );

        // Idle memory per invocation, in MB-us. The last instance is closed at the last
        // completion (no idle tail), so n invocations have n - 1 idle gaps.
        let lambda_us = lambda / 1e6;
        let mean = (1.0 - p) / lambda_us;
        let second = 2.0 / (lambda_us * lambda_us) * (1.0 - p * (1.0 + lambda_t));
        let sd = (second - mean * mean).sqrt();
        let gaps = (n - 1) as f64;
        let expected = 128.0 * mean * gaps / n as f64;
        let observed = s.idle_mb_us as f64 / n as f64;
        let tol = 4.0 * 128.0 * sd / gaps.sqrt();
        assert!(
            (observed - expected).abs() < tol,
            "lambda T = {lambda_t}: idle MB-us per invocation {observed:.0}, theory \
             {expected:.0} +- {tol:.0} (mean idle {:.0} us of T = {t_us})",
            observed / 128.0
        );
    }
}

/// Erlang's loss formula by the standard recursion B(0) = 1,
/// B(k) = a B(k-1) / (k + a B(k-1)).
fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

#[test]
fn erlang_b_recursion_matches_known_values() {
    assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
    assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-12);
    // B(5, 3) = (3^5/5!) / sum_{k<=5} 3^k/k! = 2.025 / 18.4 = 0.110054...
    assert!((erlang_b(5, 3.0) - 2.025 / 18.4).abs() < 1e-12);
}

#[test]
fn loss_system_drops_at_the_erlang_b_rate() {
    // c = 5 instances of capacity: one worker with memory for exactly 5 instances of the one
    // function (5 x 128 MB), infinite keep-alive (instances never leave), cold start 0,
    // on_full = drop, CPU ignored, exponential durations with mean 1/mu = 1 s, Poisson
    // arrivals at lambda = 3/s: an M/M/5/5 loss system with offered load a = 3 Erlang.
    // By PASTA the fraction of arrivals dropped is Erlang B(5, 3) = 0.11005.
    // Tolerance: successive arrivals' outcomes are positively correlated, so the binomial
    // standard error sqrt(B (1 - B) / n) = 0.0007 (n = 200 000) understates the noise: over
    // 40 seeds, batch means put the true error at about 1.5 binomial errors (the z-scores'
    // rms was 1.44). We allow 6 binomial errors (+-0.0042, 3.8% relative), about 4 true ones.
    // The carried load (mean busy instances = busy core-us / time, with 8 cores >= 5) must
    // be a (1 - B) = 2.6698 within 1% (over the same 40 seeds the error stayed below 0.5%).
    let n = 200_000usize;
    let (c, a) = (5u32, 3.0);
    let b = erlang_b(c, a);
    let mut cfg = config(5 * 128, 8, 0.0);
    cfg.on_full = OnFull::Drop;
    cfg.cpu = CpuModel::Ignore;
    cfg.seed = 7;
    let (rep, rec) = simulate(
        &cfg,
        policies(&KeepAliveSpec::Infinite {}),
        vec![func("f0", 128)],
        poisson(n, a, 7, |r| exp_us(r, 1e6)),
    );
    let s = &rep.stats;
    assert_eq!(s.invocations, n as u64);
    assert_eq!(s.completed + s.dropped, n as u64);
    assert_eq!(s.instances_created, c as u64);
    assert_eq!(s.evictions_reclaimed + s.evictions_expired, 0);
    assert_eq!(rec.invocations.len(), n);

    let ratio = s.drop_ratio();
    let se = (b * (1.0 - b) / n as f64).sqrt();
    assert!(
        (ratio - b).abs() < 6.0 * se,
        "drop ratio {ratio:.5}, Erlang B({c}, {a}) = {b:.5} +- {:.5}",
        6.0 * se
    );
    let carried = s.busy_core_us as f64 / s.end.as_micros() as f64;
    let expected = a * (1.0 - b);
    assert!(
        (carried - expected).abs() < 0.01 * expected,
        "carried load {carried:.4}, theory {expected:.4}"
    );
}
