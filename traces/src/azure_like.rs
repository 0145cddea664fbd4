//! A generator of Azure-Functions-like workloads: per-function invocation rates, triggers,
//! execution times and memory drawn from the published characterisation of the Azure
//! Functions 2019 trace (Shahrad et al., "Serverless in the Wild", USENIX ATC'20, §3), and
//! streamed in O(functions) memory.
//!
//! ```toml
//! [trace]
//! format = "azure-like"    # every key below is optional
//! functions = 1000
//! duration_s = 86400
//! rate_scale = 1.0
//! invocation_sigma = 0.5
//! timer_jitter_ms = 100
//! ```
//!
//! ## The model, and what it is fitted to
//! Every function `f0`, `f1`, … is an independent unit (its own app: the generator has no
//! app grouping, so the paper's per-application figures are applied per function).
//!
//! **Invocation rate.** Each function's mean number of invocations per day, `R`, has a
//! piecewise-linear CDF in `log10 R` through the knots ([`RATE_KNOTS`]):
//!
//! | log10 R (per day) | CDF | source |
//! |---|---|---|
//! | 0 (1/day) | 0 | the trace lists only invoked functions: at least about one a day |
//! | log10 24 = 1.380 (1/hour) | 0.45 | Shahrad et al. §3.3, Fig. 5: 45% of apps are invoked at most once per hour on average |
//! | log10 1440 = 3.158 (1/minute) | 0.81 | same: 81% at most once per minute |
//! | 4.25 | 0.95 | the 95th percentile of the real 500-function sample of the 2019 trace (`azure2019-sample-500-min480-959`, 10^4.24) |
//! | 5.35 | 0.99 | its 99th percentile (10^5.35) |
//! | log10 20,820,188 = 7.318 | 1 | the busiest real function in the published samples (`azure2019-sample-1`), 7.3 orders of magnitude above the least popular (the paper: "8 orders of magnitude") |
//!
//! so `log10 R` is uniform inside each segment. The mean is about 5·10⁴ invocations per
//! function per day, dominated by the top 1% (the paper: the most popular 18.6% of apps
//! account for 99.6% of invocations; here the 19% above one per minute carry about 99.7%).
//! A full day of 20,000 functions is therefore about a billion invocations. `rate_scale`
//! multiplies every rate (timer periods are divided by it).
//!
//! **Trigger.** Drawn per function with the paper's shares of functions per trigger (§3.2,
//! Fig. 2, rounded): HTTP 55%, timer 16%, queue 15%, orchestration 7%, storage 3%, event 2%,
//! others 2% ([`TRIGGER_SHARES`]). Timers fire **periodically**: the period is the one of
//! 10 s, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 4, 6, 12, 24 h ([`TIMER_PERIODS_S`]) nearest
//! (in log) to `1 / R` — so timers keep the population's rate CDF up to that rounding, and
//! being capped at one firing per 10 s they carry a small share of the invocations (the
//! paper: 16% of functions, 2% of invocations). A timer starts at a uniform phase in
//! `[0, period)` and fires at `phase + k·period + jitter_k`, `jitter_k` uniform in
//! `[0, timer_jitter_ms)` (capped at half the period) and not accumulated, so the firings
//! are exactly periodic up to the jitter. Every other trigger is a **Poisson** process of
//! rate `R` from t = 0 (stationary). Diurnal patterns and burstiness beyond Poisson are not
//! modelled.
//!
//! **Execution time.** Each function's mean execution time is lognormal: `ln(mean / 1 s) ~
//! N(−0.38, 2.36²)`, the paper's log-normal fit to the per-function average execution times
//! (§3.4, Fig. 7): median 0.68 s, and Φ(0.38 / 2.36) = 56% of functions average under 1 s
//! (the paper: "50% of functions run for less than 1 s on average"; the real 500-function
//! sample has 59%). The mean is clamped to [1 ms, 1 h] (single invocations are not
//! clamped, so a few exceed an hour). Each invocation is lognormal around
//! it with log-sigma `invocation_sigma` (default 0.5; the median over the real 500-function
//! sample of `ln(p75/p25) / 1.349` is 0.44, for 30-second averages, so single invocations
//! vary at least that much), with median `mean·exp(−σ²/2)` so that the function's mean is
//! kept.
//!
//! **Memory.** One Burr XII draw per function from the paper's fit (§3.5: c = 11.652,
//! k = 0.221, λ = 107.083 MB, median 139.6 MB), rounded up to a whole MB and clamped to
//! [`BURR_MIN_MB`], [`BURR_MAX_MB`] (as [`burr_memory_mb`](crate::burr_memory_mb); the paper
//! fits it per application).
//!
//! ## Randomness
//! Per-function named streams of the run seed: `functions/<k>` (function k's rate, trigger,
//! mean duration, memory and timer phase, five draws in that order), `arrivals/<k>` (its
//! gaps or jitters) and `durations/<k>` (its execution times). So function k's properties
//! and invocations depend only on the seed, k and the parameters: a population of 2,000
//! functions starts with exactly the 1,000 of a population of 1,000, and changing
//! `invocation_sigma` changes no arrival time.
//!
//! ## Streaming
//! A min-heap holds each function's next arrival `(time, function)` (ties by function
//! index); an arrival is popped, and the function's following arrival computed and pushed
//! back (one sift-down). Memory is O(functions) (under 200 bytes per function), each arrival
//! costs O(log functions), and neither grows with the length of the run: a full day of tens
//! of thousands of functions and billions of invocations streams in constant memory. All
//! functions are registered (in index order) before the first arrival, invoked or not.

use crate::common::{burr_quantile_mb, within_span, BURR_MAX_MB, BURR_MIN_MB};
use crate::error::TraceError;
use crate::limits::{
    show_f64, MAX_EXPECTED_INVOCATIONS, MAX_GENERATED_FUNCTIONS, MAX_SPAN_MS, MAX_SPAN_S,
};
use crate::{spec_error, TraceInfo};
use faasim_sim::rng::streams;
use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, SimDuration, SimRng, SimTime,
    SourceError,
};
use rand_distr::{Distribution, Exp1, StandardNormal};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

const FORMAT: &str = "azure-like";

/// More functions than this is almost surely a typo (under 200 bytes each, see
/// [`MAX_GENERATED_FUNCTIONS`]).
pub const MAX_FUNCTIONS: u32 = MAX_GENERATED_FUNCTIONS;

/// The range of `rate_scale`: six orders of magnitude either way. Beyond it a timer's period
/// would not be a meaningful number of microseconds; the expected number of invocations is
/// bounded separately ([`MAX_EXPECTED_INVOCATIONS`]).
pub const RATE_SCALE_RANGE: (f64, f64) = (1e-6, 1e6);

/// The knots `(log10 of the mean invocations per day, CDF)` of the per-function rate
/// distribution; see the [module docs](self) for their sources.
pub const RATE_KNOTS: [(f64, f64); 6] = [
    (0.0, 0.0),
    (1.380_211_241_711_606, 0.45),   // log10 24: once per hour
    (3.158_362_492_095_249_6, 0.81), // log10 1440: once per minute
    (4.25, 0.95),
    (5.35, 0.99),
    (7.318_485_327_330_898, 1.0), // log10 20,820,188
];

/// Shares of functions per trigger (Shahrad et al. §3.2, Fig. 2, rounded); they sum to 1.
pub const TRIGGER_SHARES: [(&str, f64); 7] = [
    ("http", 0.55),
    ("timer", 0.16),
    ("queue", 0.15),
    ("orchestration", 0.07),
    ("storage", 0.03),
    ("event", 0.02),
    ("others", 0.02),
];

/// The periods a timer function may have, seconds.
pub const TIMER_PERIODS_S: [u64; 14] = [
    10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400,
];

/// The lognormal fit of per-function mean execution times, `ln(seconds)`: location and
/// scale (Shahrad et al. §3.4).
pub const DURATION_LN_MU: f64 = -0.38;
/// See [`DURATION_LN_MU`].
pub const DURATION_LN_SIGMA: f64 = 2.36;
/// Per-function mean execution times are clamped to this range, ms.
pub const MEAN_DURATION_RANGE_MS: (f64, f64) = (1.0, 3_600_000.0);

/// The mean invocations per day of the `u`-quantile (0 ≤ u ≤ 1) of the rate distribution.
pub fn daily_rate_quantile(u: f64) -> f64 {
    let u = u.clamp(0.0, 1.0);
    let i = RATE_KNOTS[1..]
        .iter()
        .position(|&(_, c)| u < c)
        .unwrap_or(RATE_KNOTS.len() - 2);
    let ((x0, c0), (x1, c1)) = (RATE_KNOTS[i], RATE_KNOTS[i + 1]);
    10f64.powf(x0 + (u - c0) / (c1 - c0) * (x1 - x0))
}

/// The timer period (seconds) of [`TIMER_PERIODS_S`] nearest in log to one firing every
/// `86400 / daily` seconds (ties to the shorter period).
pub fn timer_period_s(daily: f64) -> u64 {
    let target = (86_400.0 / daily).ln();
    let mut best = TIMER_PERIODS_S[0];
    for &p in &TIMER_PERIODS_S {
        if ((p as f64).ln() - target).abs() < ((best as f64).ln() - target).abs() {
            best = p;
        }
    }
    best
}

/// The `[trace]` table of `format = "azure-like"`; every key has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzureLikeSpec {
    /// Number of functions, named `f0`, `f1`, … (default 1000, at most [`MAX_FUNCTIONS`]).
    pub functions: u32,
    /// Length of the trace in seconds (default 86400, one day): arrivals fall in
    /// `[0, duration_s)`, and the run's horizon is `duration_s`.
    pub duration_s: f64,
    /// Multiplies every function's rate, timers included (default 1; within
    /// [`RATE_SCALE_RANGE`]).
    pub rate_scale: f64,
    /// Log-sigma of each invocation's execution time around its function's mean (default
    /// 0.5; 0 makes every invocation of a function last its mean).
    pub invocation_sigma: f64,
    /// Timer firings are late by a uniform jitter in `[0, timer_jitter_ms)` (default 100;
    /// capped at half the period).
    pub timer_jitter_ms: f64,
}

impl Default for AzureLikeSpec {
    fn default() -> Self {
        Self {
            functions: 1000,
            duration_s: 86_400.0,
            rate_scale: 1.0,
            invocation_sigma: 0.5,
            timer_jitter_ms: 100.0,
        }
    }
}

impl AzureLikeSpec {
    /// Checks every parameter, naming the first bad key.
    pub fn validate(&self) -> Result<(), TraceError> {
        if self.functions == 0 || self.functions > MAX_FUNCTIONS {
            return Err(spec_error(
                FORMAT,
                "functions",
                format!(
                    "must be between 1 and {MAX_FUNCTIONS}, got {}",
                    self.functions
                ),
            ));
        }
        if !(self.duration_s.is_finite()
            && self.duration_s > 0.0
            && self.duration_s <= MAX_SPAN_S as f64)
        {
            return Err(spec_error(
                FORMAT,
                "duration_s",
                format!(
                    "must be a number of seconds > 0 and at most {MAX_SPAN_S} (100 years, the \
                     longest span faasim simulates), got {}",
                    show_f64(self.duration_s)
                ),
            ));
        }
        let (lo, hi) = RATE_SCALE_RANGE;
        if !(self.rate_scale >= lo && self.rate_scale <= hi) {
            return Err(spec_error(
                FORMAT,
                "rate_scale",
                format!(
                    "must be a number from {lo:e} to {hi:e}, got {}",
                    show_f64(self.rate_scale)
                ),
            ));
        }
        if !(self.invocation_sigma.is_finite() && self.invocation_sigma >= 0.0) {
            return Err(spec_error(
                FORMAT,
                "invocation_sigma",
                format!(
                    "must be a finite number >= 0, got {}",
                    show_f64(self.invocation_sigma)
                ),
            ));
        }
        if !(self.timer_jitter_ms >= 0.0 && self.timer_jitter_ms <= MAX_SPAN_MS as f64) {
            return Err(spec_error(
                FORMAT,
                "timer_jitter_ms",
                format!(
                    "must be a number of ms from 0 to {MAX_SPAN_MS} (100 years), got {}",
                    show_f64(self.timer_jitter_ms)
                ),
            ));
        }
        Ok(())
    }
}

/// What the generator drew for one function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionProfile {
    /// Mean invocations per day, `rate_scale` included (for a timer: its firings per day).
    pub daily_invocations: f64,
    /// One of the names of [`TRIGGER_SHARES`].
    pub trigger: &'static str,
    /// A timer's period (after `rate_scale`); `None` for Poisson functions.
    pub period: Option<SimDuration>,
    /// Mean execution time, ms.
    pub mean_duration_ms: f64,
    /// Memory, MB: a Burr XII draw rounded up and clamped to
    /// [`BURR_MIN_MB`]–[`BURR_MAX_MB`].
    pub memory_mb: u32,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Next arrival at `clock_us`; gaps exponential of mean `mean_gap_us`.
    Poisson { clock_us: f64, mean_gap_us: f64 },
    /// Firing `k` at `phase_us + k·period_us + jitter`.
    Timer {
        phase_us: u64,
        period_us: u64,
        jitter_us: u64,
        k: u64,
    },
}

#[derive(Debug, Clone)]
struct Func {
    kind: Kind,
    /// ln of the median execution time of one invocation, ms.
    ln_median_ms: f64,
    arrivals: SimRng,
    durations: SimRng,
}

/// The streaming Azure-like generator; see the [module docs](self).
#[derive(Debug)]
pub struct AzureLikeSource {
    funcs: Vec<Func>,
    profiles: Vec<FunctionProfile>,
    /// `(next arrival µs, function index)`, smallest first.
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    /// The engine id of function 0 (the others follow it), once registered.
    first_id: Option<FunctionId>,
    invocation_sigma: f64,
    horizon: SimTime,
}

impl AzureLikeSource {
    /// Draws the population and each function's first arrival; `seed` is the run seed.
    pub fn new(spec: &AzureLikeSpec, seed: u64) -> Result<Self, TraceError> {
        spec.validate()?;
        let n = spec.functions as usize;
        let horizon_us = (spec.duration_s * 1e6).round() as u64;
        let jitter_us = (spec.timer_jitter_ms * 1e3).round() as u64;
        let mut funcs = Vec::with_capacity(n);
        let mut profiles = Vec::with_capacity(n);
        let mut heap = BinaryHeap::with_capacity(n);
        for k in 0..n {
            let mut props = SimRng::stream(seed, &format!("{}/{k}", streams::FUNCTIONS));
            let mut arrivals = SimRng::stream(seed, &format!("{}/{k}", streams::ARRIVALS));
            let durations = SimRng::stream(seed, &format!("{}/{k}", streams::DURATIONS));
            let u_rate = props.unit_f64();
            let u_trigger = props.unit_f64();
            let z_duration: f64 = StandardNormal.sample(&mut props);
            let u_memory = props.unit_f64();
            let u_phase = props.unit_f64();

            let base_daily = daily_rate_quantile(u_rate);
            let mut acc = 0.0;
            let trigger = TRIGGER_SHARES
                .iter()
                .find(|&&(_, share)| {
                    acc += share;
                    u_trigger < acc
                })
                .map_or(TRIGGER_SHARES[TRIGGER_SHARES.len() - 1].0, |&(t, _)| t);
            let (mut kind, daily, period) = if trigger == "timer" {
                let period_s = timer_period_s(base_daily);
                let period_us = ((period_s as f64 * 1e6 / spec.rate_scale).round() as u64).max(1);
                let phase_us = (u_phase * period_us as f64) as u64;
                let kind = Kind::Timer {
                    phase_us,
                    period_us,
                    jitter_us: jitter_us.min(period_us / 2),
                    k: 0,
                };
                let daily = 86_400e6 / period_us as f64;
                (kind, daily, Some(SimDuration(period_us)))
            } else {
                let daily = base_daily * spec.rate_scale;
                let mean_gap_us = 86_400e6 / daily;
                let kind = Kind::Poisson {
                    clock_us: 0.0,
                    mean_gap_us,
                };
                (kind, daily, None)
            };
            let (lo, hi) = MEAN_DURATION_RANGE_MS;
            let mean_ms =
                ((DURATION_LN_MU + DURATION_LN_SIGMA * z_duration).exp() * 1e3).clamp(lo, hi);
            let mb = burr_quantile_mb(u_memory).ceil();
            let memory_mb = if mb.is_nan() {
                BURR_MIN_MB
            } else {
                mb.clamp(f64::from(BURR_MIN_MB), f64::from(BURR_MAX_MB)) as u32
            };
            let first = next_time(&mut kind, &mut arrivals);
            if first < horizon_us {
                heap.push(Reverse((first, k as u32)));
            }
            funcs.push(Func {
                kind,
                ln_median_ms: mean_ms.ln() - spec.invocation_sigma.powi(2) / 2.0,
                arrivals,
                durations,
            });
            profiles.push(FunctionProfile {
                daily_invocations: daily,
                trigger,
                period,
                mean_duration_ms: mean_ms,
                memory_mb,
            });
        }
        let per_day: f64 = profiles.iter().map(|p| p.daily_invocations).sum();
        let expected = per_day * spec.duration_s / 86_400.0;
        if expected > MAX_EXPECTED_INVOCATIONS {
            return Err(spec_error(
                FORMAT,
                "rate_scale",
                format!(
                    "the {} functions at rate_scale {} over duration_s {} would make \
                     {expected:.3e} invocations on average, more than the \
                     {MAX_EXPECTED_INVOCATIONS:.0e} a generated trace may hold",
                    spec.functions,
                    show_f64(spec.rate_scale),
                    show_f64(spec.duration_s)
                ),
            ));
        }
        Ok(Self {
            funcs,
            profiles,
            heap,
            first_id: None,
            invocation_sigma: spec.invocation_sigma,
            horizon: SimTime(horizon_us),
        })
    }

    /// What was drawn for each function, by index (`f<k>` is `profiles()[k]`).
    pub fn profiles(&self) -> &[FunctionProfile] {
        &self.profiles
    }

    fn register(&mut self, functions: &mut FunctionTable) -> FunctionId {
        let mut first = None;
        for (k, p) in self.profiles.iter().enumerate() {
            let id = functions.push(FunctionSpec {
                name: format!("f{k}"),
                memory_mb: p.memory_mb,
            });
            first.get_or_insert(id);
        }
        let first = first.unwrap_or(FunctionId(functions.len() as u32));
        self.first_id = Some(first);
        first
    }
}

/// The next arrival time (µs) of a function, advancing its state.
fn next_time(kind: &mut Kind, rng: &mut SimRng) -> u64 {
    match kind {
        Kind::Poisson {
            clock_us,
            mean_gap_us,
        } => {
            let e: f64 = Exp1.sample(rng);
            *clock_us += e * *mean_gap_us;
            if *clock_us >= u64::MAX as f64 {
                u64::MAX
            } else {
                *clock_us as u64
            }
        }
        Kind::Timer {
            phase_us,
            period_us,
            jitter_us,
            k,
        } => {
            let jitter = if *jitter_us > 0 {
                rng.below(*jitter_us)
            } else {
                0
            };
            // A firing past u64 is past every horizon (at most MAX_SPAN_US): it ends the
            // function's stream exactly as a firing past the horizon does.
            let t = k
                .checked_mul(*period_us)
                .and_then(|t| t.checked_add(*phase_us))
                .and_then(|t| t.checked_add(jitter))
                .unwrap_or(u64::MAX);
            *k += 1;
            t
        }
    }
}

impl TraceInfo for AzureLikeSource {
    /// The function's drawn trigger (`http`, `timer`, …).
    fn trigger_of(&self, function: FunctionId) -> Option<String> {
        let k = function.0.checked_sub(self.first_id?.0)? as usize;
        self.profiles.get(k).map(|p| p.trigger.to_string())
    }
}

impl ArrivalSource for AzureLikeSource {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        let first = match self.first_id {
            Some(id) => id,
            None => self.register(functions),
        };
        let horizon = self.horizon.0;
        let Some(mut top) = self.heap.peek_mut() else {
            return Ok(None);
        };
        let Reverse((time, k)) = *top;
        let f = &mut self.funcs[k as usize];
        let next = next_time(&mut f.kind, &mut f.arrivals);
        if next < horizon {
            *top = Reverse((next, k));
        } else {
            PeekMut::pop(top);
        }
        let z: f64 = if self.invocation_sigma > 0.0 {
            StandardNormal.sample(&mut f.durations)
        } else {
            0.0
        };
        let ms = (f.ln_median_ms + self.invocation_sigma * z).exp();
        let duration = SimDuration::try_from_ms_f64(ms)
            .and_then(within_span)
            .ok_or_else(|| {
                spec_error(
                    FORMAT,
                    "invocation_sigma",
                    format!(
                        "drew an execution time of {ms:.3e} ms for f{k}, more than \
                         {MAX_SPAN_MS} ms (100 years, the longest span faasim simulates); lower \
                         invocation_sigma"
                    ),
                )
            })?;
        Ok(Some(Arrival {
            time: SimTime(time),
            function: FunctionId(first.0 + k),
            duration,
            cold_start: None,
            mode: None,
        }))
    }

    fn horizon(&self) -> Option<SimTime> {
        Some(self.horizon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(f: impl FnOnce(&mut AzureLikeSpec)) -> AzureLikeSpec {
        let mut s = AzureLikeSpec::default();
        f(&mut s);
        s
    }

    fn generate(s: &AzureLikeSpec, seed: u64) -> (Vec<Arrival>, FunctionTable) {
        let mut src = AzureLikeSource::new(s, seed).unwrap();
        let mut table = FunctionTable::new();
        let mut out = Vec::new();
        while let Some(a) = src.next_arrival(&mut table).unwrap() {
            out.push(a);
        }
        (out, table)
    }

    #[test]
    fn rate_quantiles_pass_through_the_knots() {
        for (x, c) in RATE_KNOTS {
            assert!((daily_rate_quantile(c).log10() - x).abs() < 1e-9, "{c}");
        }
        assert!((daily_rate_quantile(0.45) - 24.0).abs() < 1e-9);
        assert!((daily_rate_quantile(0.81) - 1440.0).abs() < 1e-6);
        // Halfway through the first segment in log.
        let mid = daily_rate_quantile(0.225).log10();
        assert!((mid - RATE_KNOTS[1].0 / 2.0).abs() < 1e-12);
        assert_eq!(timer_period_s(1440.0), 60);
        assert_eq!(timer_period_s(24.0), 3600);
        assert_eq!(timer_period_s(1.0), 86_400);
        assert_eq!(timer_period_s(1e7), 10);
        assert_eq!(timer_period_s(0.01), 86_400);
        let total: f64 = TRIGGER_SHARES.iter().map(|&(_, s)| s).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    /// The published shares on a population of 20,000 functions. Tolerances: 4 binomial
    /// standard deviations (±0.014 at p = 0.5), plus 0.01 for the timers' rounding to round
    /// periods where a rate share is checked over all functions.
    #[test]
    fn the_population_follows_the_published_shares() {
        let n = 20_000;
        let src = AzureLikeSource::new(&spec(|s| s.functions = n), 1).unwrap();
        let p = src.profiles();
        let share = |f: &dyn Fn(&FunctionProfile) -> bool, over: &[&FunctionProfile]| {
            over.iter().filter(|x| f(x)).count() as f64 / over.len() as f64
        };
        let all: Vec<&FunctionProfile> = p.iter().collect();
        let poisson: Vec<&FunctionProfile> = p.iter().filter(|x| x.period.is_none()).collect();
        let tol = |p: f64, m: usize| 4.0 * (p * (1.0 - p) / m as f64).sqrt();
        for (limit, expected) in [(24.0, 0.45), (1440.0, 0.81)] {
            let s = share(&|x| x.daily_invocations <= limit, &poisson);
            assert!(
                (s - expected).abs() < tol(expected, poisson.len()),
                "Poisson functions at most {limit}/day: {s}"
            );
            let s = share(&|x| x.daily_invocations <= limit * (1.0 + 1e-9), &all);
            assert!(
                (s - expected).abs() < tol(expected, n as usize) + 0.01,
                "all functions at most {limit}/day: {s}"
            );
        }
        // Eight orders of magnitude, near enough: 1/day to 2·10^7/day.
        let max = p.iter().map(|x| x.daily_invocations).fold(0.0, f64::max);
        let min = p
            .iter()
            .map(|x| x.daily_invocations)
            .fold(f64::MAX, f64::min);
        assert!(max / min > 1e6, "{min} .. {max}");
        // Half of the functions (56% by the fit) average under 1 s.
        let s = share(&|x| x.mean_duration_ms < 1000.0, &all);
        assert!((s - 0.564).abs() < tol(0.564, n as usize), "{s}");
        // Memory median near the Burr median, 139.6 MB (±2% of the CDF around it).
        let mut mem: Vec<u32> = p.iter().map(|x| x.memory_mb).collect();
        mem.sort_unstable();
        let median = mem[mem.len() / 2];
        assert!(
            f64::from(median) >= burr_quantile_mb(0.48).floor()
                && f64::from(median) <= burr_quantile_mb(0.52).ceil(),
            "{median}"
        );
        // Trigger shares.
        for (t, expected) in TRIGGER_SHARES {
            let s = share(&|x| x.trigger == t, &all);
            assert!((s - expected).abs() < tol(expected, n as usize), "{t}: {s}");
        }
        assert!(p
            .iter()
            .all(|x| (x.trigger == "timer") == x.period.is_some()));
    }

    #[test]
    fn timers_are_periodic_up_to_the_jitter() {
        let s = spec(|s| {
            s.functions = 300;
            s.duration_s = 6.0 * 3600.0;
            s.rate_scale = 0.05; // keep the Poisson functions light
        });
        let src = AzureLikeSource::new(&s, 3).unwrap();
        let profiles = src.profiles().to_vec();
        let (a, _) = generate(&s, 3);
        let mut checked = 0;
        for (k, p) in profiles.iter().enumerate() {
            let Some(period) = p.period else { continue };
            let times: Vec<u64> = a
                .iter()
                .filter(|x| x.function.0 == k as u32)
                .map(|x| x.time.0)
                .collect();
            let jitter = 100_000u64.min(period.0 / 2);
            // Firing i is at phase + i·P + jitter_i with jitter_i in [0, jitter): the offsets
            // t_i − i·P all lie within one jitter of each other, and inside the first period.
            let offsets: Vec<u64> = times
                .iter()
                .enumerate()
                .map(|(i, &t)| t - i as u64 * period.0)
                .collect();
            if let (Some(lo), Some(hi)) = (offsets.iter().min(), offsets.iter().max()) {
                assert!(
                    hi - lo < jitter,
                    "f{k}: offsets {lo}..{hi}, jitter {jitter}"
                );
                assert!(*hi < period.0 + jitter);
            }
            let expected = s.duration_s * 1e6 / period.0 as f64;
            assert!((times.len() as f64 - expected).abs() <= 1.0, "f{k}");
            checked += 1;
        }
        assert!(checked > 20, "{checked} timers");
    }

    #[test]
    fn poisson_functions_have_their_rate_and_arrivals_are_sorted() {
        let s = spec(|s| {
            s.functions = 200;
            s.duration_s = 3600.0;
            s.rate_scale = 0.2;
        });
        let src = AzureLikeSource::new(&s, 5).unwrap();
        let profiles = src.profiles().to_vec();
        let (a, table) = generate(&s, 5);
        assert_eq!(table.len(), 200);
        assert_eq!(table.get(FunctionId(7)).name, "f7");
        assert_eq!(table.get(FunctionId(7)).memory_mb, profiles[7].memory_mb);
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(a.iter().all(|x| x.time < SimTime(3_600_000_000)));
        // The total count of the Poisson functions: Poisson with the sum of the means.
        let mean: f64 = profiles
            .iter()
            .filter(|p| p.period.is_none())
            .map(|p| p.daily_invocations / 24.0)
            .sum();
        let n = a
            .iter()
            .filter(|x| profiles[x.function.index()].period.is_none())
            .count() as f64;
        assert!((n - mean).abs() < 4.0 * mean.sqrt(), "{n} vs {mean}");
    }

    #[test]
    fn durations_keep_each_functions_mean() {
        let s = spec(|s| {
            s.functions = 50;
            s.duration_s = 3600.0;
        });
        let src = AzureLikeSource::new(&s, 8).unwrap();
        let profiles = src.profiles().to_vec();
        let (a, _) = generate(&s, 8);
        // The busiest function: its sample mean within 4 standard errors of its mean (the
        // lognormal's CV is sqrt(exp(σ²) − 1) = 0.533 for σ = 0.5).
        let busiest = (0..50)
            .max_by_key(|&k| a.iter().filter(|x| x.function.0 == k).count())
            .unwrap();
        let d: Vec<f64> = a
            .iter()
            .filter(|x| x.function.0 == busiest)
            .map(|x| x.duration.as_ms_f64())
            .collect();
        assert!(d.len() > 1000, "{}", d.len());
        let m = d.iter().sum::<f64>() / d.len() as f64;
        let mean = profiles[busiest as usize].mean_duration_ms;
        let tol = 4.0 * 0.533 * mean / (d.len() as f64).sqrt();
        assert!((m - mean).abs() < tol, "{m} vs {mean} ± {tol}");
        // σ = 0: every invocation lasts its function's mean.
        let s0 = spec(|s| {
            s.functions = 50;
            s.duration_s = 600.0;
            s.invocation_sigma = 0.0;
        });
        let (a0, _) = generate(&s0, 8);
        for x in &a0 {
            let mean = profiles[x.function.index()].mean_duration_ms;
            assert_eq!(x.duration, SimDuration::try_from_ms_f64(mean).unwrap());
        }
    }

    #[test]
    fn deterministic_under_a_seed_and_prefix_stable() {
        let s = spec(|s| {
            s.functions = 100;
            s.duration_s = 600.0;
        });
        let (a, _) = generate(&s, 9);
        let (b, _) = generate(&s, 9);
        let (c, _) = generate(&s, 10);
        assert!(a.len() > 1000);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // The first 100 functions of a population of 200 are the same functions.
        let s2 = spec(|s| {
            s.functions = 200;
            s.duration_s = 600.0;
        });
        let (d, _) = generate(&s2, 9);
        let first100: Vec<Arrival> = d.into_iter().filter(|x| x.function.0 < 100).collect();
        assert_eq!(first100, a);
        // Changing the duration spread leaves arrival times alone.
        let s3 = spec(|s| {
            s.functions = 100;
            s.duration_s = 600.0;
            s.invocation_sigma = 1.5;
        });
        let (e, _) = generate(&s3, 9);
        let key = |v: &[Arrival]| v.iter().map(|x| (x.time, x.function)).collect::<Vec<_>>();
        assert_eq!(key(&a), key(&e));
    }

    #[test]
    fn memory_stays_constant_while_streaming() {
        // 2 M arrivals from 50,000 functions: nothing the source holds grows.
        let s = spec(|s| s.functions = 50_000);
        let mut src = AzureLikeSource::new(&s, 1).unwrap();
        let mut table = FunctionTable::new();
        src.next_arrival(&mut table).unwrap();
        let caps = (
            src.heap.capacity(),
            src.funcs.capacity(),
            src.profiles.capacity(),
        );
        let live = src.heap.len();
        assert!(live <= 50_000);
        let mut last = SimTime::ZERO;
        for _ in 0..2_000_000 {
            let a = src.next_arrival(&mut table).unwrap().unwrap();
            assert!(a.time >= last);
            last = a.time;
        }
        assert_eq!(
            caps,
            (
                src.heap.capacity(),
                src.funcs.capacity(),
                src.profiles.capacity()
            )
        );
        assert!(src.heap.len() <= live);
        assert_eq!(table.len(), 50_000);
    }

    #[test]
    fn bad_parameters_name_their_key() {
        for (s, key) in [
            (spec(|s| s.functions = 0), "functions"),
            (spec(|s| s.duration_s = 0.0), "duration_s"),
            (spec(|s| s.duration_s = f64::INFINITY), "duration_s"),
            (spec(|s| s.rate_scale = 0.0), "rate_scale"),
            (spec(|s| s.invocation_sigma = -1.0), "invocation_sigma"),
            (spec(|s| s.timer_jitter_ms = f64::NAN), "timer_jitter_ms"),
        ] {
            let e = AzureLikeSource::new(&s, 1).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("azure-like trace, key `{key}`")),
                "{e}"
            );
        }
    }

    /// `cargo test -p faasim-traces --release azure_like -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn throughput() {
        for (functions, scale) in [(1_000, 1.0), (50_000, 1.0)] {
            let s = spec(|s| {
                s.functions = functions;
                s.rate_scale = scale;
            });
            let t = std::time::Instant::now();
            let mut src = AzureLikeSource::new(&s, 1).unwrap();
            let setup = t.elapsed().as_secs_f64();
            let mut table = FunctionTable::new();
            let t = std::time::Instant::now();
            let mut n = 0u64;
            let mut sum = 0u64;
            while n < 50_000_000 {
                match src.next_arrival(&mut table).unwrap() {
                    Some(a) => {
                        n += 1;
                        sum = sum.wrapping_add(a.duration.0);
                    }
                    None => break,
                }
            }
            let secs = t.elapsed().as_secs_f64();
            let expected: f64 = src.profiles().iter().map(|p| p.daily_invocations).sum();
            println!(
                "azure-like {functions} functions: setup {setup:.3} s; {n} arrivals in \
                 {secs:.3} s = {:.1} M arrivals/s (checksum {sum}); expected per day {:.3e}",
                n as f64 / secs / 1e6,
                expected
            );
        }
    }
}
