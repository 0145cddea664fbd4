//! The built-in workload generator: Zipf-popular functions, Poisson or bursty arrivals,
//! lognormal durations and memory sizes. Streaming: memory is O(functions), whatever the
//! length of the run.
//!
//! ```toml
//! [trace]
//! format = "synthetic"     # every key below is optional
//! functions = 20
//! duration_s = 3600
//! rate_per_s = 10
//! zipf_s = 1.0
//! arrivals = "bursty"
//! duration_ms = { dist = "exponential", mean_ms = 50 }
//! ```
//!
//! ## Randomness
//! Three named streams of the run seed ([`faasim_sim::rng::streams`]):
//! - `functions`: each function's median duration, then its memory, drawn for every function
//!   even when `duration_ms` or `memory_mb` overrides them, so overriding one property never
//!   changes another;
//! - `arrivals`: inter-arrival gaps, the bursty state's sojourns and which function arrives;
//! - `durations`: each invocation's execution time.
//!
//! So changing the duration parameters leaves arrival times and functions unchanged.

use crate::common::{check_dist_span, within_span};
use crate::error::TraceError;
use crate::limits::{
    show_f64, MAX_EXPECTED_INVOCATIONS, MAX_GENERATED_FUNCTIONS, MAX_SPAN_MS, MAX_SPAN_S,
};
use faasim_sim::rng::streams;
use faasim_sim::{
    Arrival, ArrivalSource, DistSpec, FunctionId, FunctionSpec, FunctionTable, Sampler,
    SimDuration, SimRng, SimTime, SourceError,
};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Exp1, StandardNormal};
use serde::{Deserialize, Serialize};

/// More functions than this is almost surely a typo, and would allocate gigabytes (see
/// [`MAX_GENERATED_FUNCTIONS`]).
pub const MAX_FUNCTIONS: u32 = MAX_GENERATED_FUNCTIONS;

/// How arrivals are spread in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArrivalPattern {
    /// A Poisson process of rate `rate_per_s`: exponential gaps, coefficient of variation 1.
    #[default]
    Poisson,
    /// A two-state Markov-modulated Poisson process (MMPP-2), see [`SyntheticSpec`].
    Bursty,
}

/// Parameters of the generator; every key has a default, so `format = "synthetic"` alone
/// is a valid trace.
///
/// **Bursty arrivals.** The process alternates between an ON and an OFF state with
/// exponential sojourns of means `burst_on_s` and `burst_off_s`, starting in ON with
/// probability p = on / (on + off) (the stationary law, so the rate is the same from t = 0).
/// The ON rate is `burst_factor × rate_per_s`; the OFF rate is chosen so the long-run mean
/// rate is `rate_per_s`:
///
/// ```text
/// rate_off = rate_per_s × (1 − burst_factor × p) / (1 − p),   p = on / (on + off)
/// ```
///
/// which needs `burst_factor × p <= 1`. The defaults (5, 10 s, 50 s) give p = 1/6,
/// rate_on = 5 × rate and rate_off = 0.2 × rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticSpec {
    /// Number of functions, named `f0`, `f1`, ... (default 20, at most [`MAX_FUNCTIONS`]).
    pub functions: u32,
    /// Length of the trace in seconds (default 3600): arrivals fall in [0, duration_s) and
    /// the run's horizon is `duration_s`.
    pub duration_s: f64,
    /// Mean total arrival rate, invocations per second over all functions (default 10).
    pub rate_per_s: f64,
    /// Popularity exponent (default 1.0): function k (1-based) is picked with probability
    /// proportional to 1/k^s, so `f0` is the most popular; 0 makes all equally popular.
    pub zipf_s: f64,
    /// `"poisson"` (default) or `"bursty"`.
    pub arrivals: ArrivalPattern,
    /// Bursty: ON-state rate as a multiple of `rate_per_s` (default 5, >= 1).
    pub burst_factor: f64,
    /// Bursty: mean length of an ON period in seconds (default 10).
    pub burst_on_s: f64,
    /// Bursty: mean length of an OFF period in seconds (default 50).
    pub burst_off_s: f64,
    /// Median over functions of the functions' median execution time, ms (default 100).
    pub duration_median_ms: f64,
    /// Spread over functions: sigma of the log of the function medians (default 1.0).
    pub duration_sigma: f64,
    /// Spread within a function: each invocation is lognormal around its function's median
    /// with this sigma (default 0.3; 0 makes every invocation of a function equal).
    pub invocation_sigma: f64,
    /// If set, every invocation's execution time is drawn from this distribution instead
    /// (the three keys above are then unused), e.g. `{ dist = "exponential", mean_ms = 50 }`
    /// for queueing-theory checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<DistSpec>,
    /// Median memory of a function, MB (default 256). Each function's memory is lognormal,
    /// rounded **up** to a multiple of 64 MB (providers allow 1 MB steps; 64 keeps tables
    /// readable), then clamped to [`memory_min_mb`, `memory_max_mb`] (the bounds win even if
    /// they are not multiples of 64).
    ///
    /// [`memory_min_mb`]: Self::memory_min_mb
    /// [`memory_max_mb`]: Self::memory_max_mb
    pub memory_median_mb: f64,
    /// Sigma of the log of function memory (default 0.5).
    pub memory_sigma: f64,
    /// Smallest function memory, MB (default 128).
    pub memory_min_mb: u32,
    /// Largest function memory, MB (default 3008, AWS Lambda's former maximum).
    pub memory_max_mb: u32,
    /// If set, every function gets exactly this memory (MB) and the four keys above are
    /// unused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            functions: 20,
            duration_s: 3600.0,
            rate_per_s: 10.0,
            zipf_s: 1.0,
            arrivals: ArrivalPattern::Poisson,
            burst_factor: 5.0,
            burst_on_s: 10.0,
            burst_off_s: 50.0,
            duration_median_ms: 100.0,
            duration_sigma: 1.0,
            invocation_sigma: 0.3,
            duration_ms: None,
            memory_median_mb: 256.0,
            memory_sigma: 0.5,
            memory_min_mb: 128,
            memory_max_mb: 3008,
            memory_mb: None,
        }
    }
}

fn bad(key: &'static str, message: String) -> TraceError {
    TraceError::Synthetic { key, message }
}

fn positive(key: &'static str, v: f64) -> Result<(), TraceError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(bad(
            key,
            format!("must be a finite number > 0, got {}", show_f64(v)),
        ))
    }
}

fn non_negative(key: &'static str, v: f64) -> Result<(), TraceError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(bad(
            key,
            format!("must be a finite number >= 0, got {}", show_f64(v)),
        ))
    }
}

impl SyntheticSpec {
    /// Checks every parameter, naming the first bad key.
    pub fn validate(&self) -> Result<(), TraceError> {
        if self.functions == 0 || self.functions > MAX_FUNCTIONS {
            return Err(bad(
                "functions",
                format!(
                    "must be between 1 and {MAX_FUNCTIONS}, got {}",
                    self.functions
                ),
            ));
        }
        positive("duration_s", self.duration_s)?;
        if self.duration_s > MAX_SPAN_S as f64 {
            return Err(bad(
                "duration_s",
                format!(
                    "must be at most {MAX_SPAN_S} s (100 years, the longest span faasim \
                     simulates), got {}",
                    show_f64(self.duration_s)
                ),
            ));
        }
        positive("rate_per_s", self.rate_per_s)?;
        let expected = self.rate_per_s * self.duration_s;
        if expected > MAX_EXPECTED_INVOCATIONS {
            return Err(bad(
                "rate_per_s",
                format!(
                    "rate_per_s × duration_s = {} × {} = {expected:.3e} expected invocations, \
                     more than the {MAX_EXPECTED_INVOCATIONS:.0e} a generated trace may hold",
                    show_f64(self.rate_per_s),
                    show_f64(self.duration_s)
                ),
            ));
        }
        non_negative("zipf_s", self.zipf_s)?;
        if !(self.burst_factor.is_finite() && self.burst_factor >= 1.0) {
            return Err(bad(
                "burst_factor",
                format!("must be a finite number >= 1, got {}", self.burst_factor),
            ));
        }
        positive("burst_on_s", self.burst_on_s)?;
        positive("burst_off_s", self.burst_off_s)?;
        for (key, v) in [
            ("burst_on_s", self.burst_on_s),
            ("burst_off_s", self.burst_off_s),
        ] {
            if v > MAX_SPAN_S as f64 {
                return Err(bad(
                    key,
                    format!(
                        "must be at most {MAX_SPAN_S} s (100 years), got {}",
                        show_f64(v)
                    ),
                ));
            }
        }
        if self.arrivals == ArrivalPattern::Bursty {
            // Every ON/OFF switch costs a step even when no arrival comes of it: bound them
            // as arrivals are bounded, or tiny periods over a long trace would never end.
            let switches = 2.0 * self.duration_s / (self.burst_on_s + self.burst_off_s);
            if switches > MAX_EXPECTED_INVOCATIONS {
                return Err(bad(
                    "burst_on_s",
                    format!(
                        "2 × duration_s / (burst_on_s + burst_off_s) = {switches:.3e} expected \
                         ON/OFF switches, more than the {MAX_EXPECTED_INVOCATIONS:.0e} a \
                         generated trace may make"
                    ),
                ));
            }
            let p_on = self.burst_on_s / (self.burst_on_s + self.burst_off_s);
            if self.burst_factor * p_on > 1.0 {
                return Err(bad(
                    "burst_factor",
                    format!(
                        "burst_factor × burst_on_s / (burst_on_s + burst_off_s) must be <= 1, \
                         or the OFF-state rate would be negative; got {} × {} / {} = {:.3}",
                        self.burst_factor,
                        self.burst_on_s,
                        self.burst_on_s + self.burst_off_s,
                        self.burst_factor * p_on
                    ),
                ));
            }
        }
        positive("duration_median_ms", self.duration_median_ms)?;
        if self.duration_median_ms > MAX_SPAN_MS as f64 {
            return Err(bad(
                "duration_median_ms",
                format!(
                    "must be at most {MAX_SPAN_MS} ms (100 years), got {}",
                    show_f64(self.duration_median_ms)
                ),
            ));
        }
        non_negative("duration_sigma", self.duration_sigma)?;
        non_negative("invocation_sigma", self.invocation_sigma)?;
        if let Some(d) = &self.duration_ms {
            d.validate().map_err(|m| bad("duration_ms", m))?;
            check_dist_span(d).map_err(|m| bad("duration_ms", m))?;
        }
        positive("memory_median_mb", self.memory_median_mb)?;
        non_negative("memory_sigma", self.memory_sigma)?;
        if self.memory_min_mb == 0 {
            return Err(bad("memory_min_mb", "must be > 0".into()));
        }
        if self.memory_max_mb < self.memory_min_mb {
            return Err(bad(
                "memory_max_mb",
                format!(
                    "must be >= memory_min_mb ({}), got {}",
                    self.memory_min_mb, self.memory_max_mb
                ),
            ));
        }
        if self.memory_mb == Some(0) {
            return Err(bad("memory_mb", "must be > 0".into()));
        }
        Ok(())
    }
}

/// A streaming generator of a [`SyntheticSpec`] workload; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    /// Pushed into the function table on the first call.
    pending: Vec<FunctionSpec>,
    ids: Vec<FunctionId>,
    ln_median_ms: Vec<f64>,
    invocation_sigma: f64,
    duration: Option<Sampler>,
    pick: WeightedAliasIndex<f64>,
    arrivals: SimRng,
    durations: SimRng,
    /// The arrival clock, in seconds (converted to whole microseconds per arrival).
    clock_s: f64,
    on: bool,
    /// When the current ON/OFF state ends (infinite for Poisson).
    state_end_s: f64,
    rate_on: f64,
    rate_off: f64,
    mean_on_s: f64,
    mean_off_s: f64,
    horizon_s: f64,
    horizon: SimTime,
    done: bool,
}

impl SyntheticSource {
    /// Validates `spec` and draws the functions' properties from the run `seed`.
    pub fn new(spec: &SyntheticSpec, seed: u64) -> Result<Self, TraceError> {
        spec.validate()?;
        let n = spec.functions as usize;
        let mut setup = SimRng::stream(seed, streams::FUNCTIONS);
        let mut pending = Vec::with_capacity(n);
        let mut ln_median_ms = Vec::with_capacity(n);
        for k in 0..n {
            let z_duration: f64 = StandardNormal.sample(&mut setup);
            let z_memory: f64 = StandardNormal.sample(&mut setup);
            ln_median_ms.push(spec.duration_median_ms.ln() + spec.duration_sigma * z_duration);
            let raw_mb = spec.memory_median_mb * (spec.memory_sigma * z_memory).exp();
            let memory_mb = spec.memory_mb.unwrap_or_else(|| {
                ((raw_mb / 64.0).ceil() * 64.0)
                    .clamp(spec.memory_min_mb as f64, spec.memory_max_mb as f64)
                    as u32
            });
            pending.push(FunctionSpec {
                name: format!("f{k}"),
                memory_mb,
            });
        }
        let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-spec.zipf_s)).collect();
        let pick = WeightedAliasIndex::new(weights)
            .map_err(|e| bad("zipf_s", format!("gives unusable weights: {e}")))?;
        let duration = match &spec.duration_ms {
            Some(d) => Some(Sampler::new(d).map_err(|m| bad("duration_ms", m))?),
            None => None,
        };
        let mut arrivals = SimRng::stream(seed, streams::ARRIVALS);
        let (on, state_end_s, rate_off) = match spec.arrivals {
            ArrivalPattern::Poisson => (true, f64::INFINITY, spec.rate_per_s),
            ArrivalPattern::Bursty => {
                let p_on = spec.burst_on_s / (spec.burst_on_s + spec.burst_off_s);
                let rate_off =
                    (spec.rate_per_s * (1.0 - spec.burst_factor * p_on) / (1.0 - p_on)).max(0.0);
                let on = arrivals.unit_f64() < p_on;
                let mean = if on {
                    spec.burst_on_s
                } else {
                    spec.burst_off_s
                };
                let first: f64 = Exp1.sample(&mut arrivals);
                (on, first * mean, rate_off)
            }
        };
        let rate_on = match spec.arrivals {
            ArrivalPattern::Poisson => spec.rate_per_s,
            ArrivalPattern::Bursty => spec.rate_per_s * spec.burst_factor,
        };
        let horizon = SimDuration::try_from_ms_f64(spec.duration_s * 1e3)
            .ok_or_else(|| bad("duration_s", format!("is too large: {}", spec.duration_s)))?;
        Ok(Self {
            pending,
            ids: Vec::with_capacity(n),
            ln_median_ms,
            invocation_sigma: spec.invocation_sigma,
            duration,
            pick,
            arrivals,
            durations: SimRng::stream(seed, streams::DURATIONS),
            clock_s: 0.0,
            on,
            state_end_s,
            rate_on,
            rate_off,
            mean_on_s: spec.burst_on_s,
            mean_off_s: spec.burst_off_s,
            horizon_s: spec.duration_s,
            horizon: SimTime(horizon.0),
            done: false,
        })
    }

    /// Advances the clock to the next arrival (or past the horizon). Gaps are exponential at
    /// the current state's rate; a gap that would cross a state switch is discarded and the
    /// clock restarts at the switch, which is exact because the exponential is memoryless.
    fn next_time_s(&mut self) -> f64 {
        loop {
            let rate = if self.on { self.rate_on } else { self.rate_off };
            let gap = if rate > 0.0 {
                let e: f64 = Exp1.sample(&mut self.arrivals);
                e / rate
            } else {
                f64::INFINITY
            };
            if self.clock_s + gap < self.state_end_s {
                self.clock_s += gap;
                return self.clock_s;
            }
            self.clock_s = self.state_end_s;
            if self.clock_s >= self.horizon_s {
                return self.clock_s;
            }
            self.on = !self.on;
            let mean = if self.on {
                self.mean_on_s
            } else {
                self.mean_off_s
            };
            let sojourn: f64 = Exp1.sample(&mut self.arrivals);
            self.state_end_s = self.clock_s + sojourn * mean;
        }
    }

    /// One execution time of function `k`; an error if the draw is beyond 100 years (a
    /// distribution so wide that its tail leaves the simulated span).
    fn draw_duration(&mut self, k: usize) -> Result<SimDuration, TraceError> {
        if let Some(s) = &self.duration {
            let d = s.sample(&mut self.durations);
            return within_span(d).ok_or_else(|| {
                bad(
                    "duration_ms",
                    format!(
                        "drew an execution time of {:.3e} ms, more than {MAX_SPAN_MS} ms (100 \
                         years, the longest span faasim simulates); narrow the distribution",
                        d.as_ms_f64()
                    ),
                )
            });
        }
        let z: f64 = StandardNormal.sample(&mut self.durations);
        let ms = (self.ln_median_ms[k] + self.invocation_sigma * z).exp();
        SimDuration::try_from_ms_f64(ms)
            .and_then(within_span)
            .ok_or_else(|| {
                bad(
                    "duration_sigma",
                    format!(
                        "drew an execution time of {ms:.3e} ms for f{k}, more than {MAX_SPAN_MS} \
                         ms (100 years, the longest span faasim simulates); lower \
                         duration_median_ms, duration_sigma or invocation_sigma"
                    ),
                )
            })
    }
}

impl ArrivalSource for SyntheticSource {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        if self.ids.is_empty() {
            self.ids = self.pending.drain(..).map(|f| functions.push(f)).collect();
        }
        if self.done {
            return Ok(None);
        }
        // Whole microseconds, rounded down, so the order of the float clock is kept.
        let time = SimTime((self.next_time_s() * 1e6) as u64);
        if time >= self.horizon {
            self.done = true;
            return Ok(None);
        }
        let k = self.pick.sample(&mut self.arrivals);
        Ok(Some(Arrival {
            time,
            function: self.ids[k],
            duration: self.draw_duration(k)?,
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

    fn generate(spec: &SyntheticSpec, seed: u64) -> (Vec<Arrival>, FunctionTable) {
        let mut src = SyntheticSource::new(spec, seed).unwrap();
        let mut table = FunctionTable::new();
        let mut out = Vec::new();
        while let Some(a) = src.next_arrival(&mut table).unwrap() {
            out.push(a);
        }
        (out, table)
    }

    fn gaps_cv(arrivals: &[Arrival]) -> f64 {
        let gaps: Vec<f64> = arrivals
            .windows(2)
            .map(|w| (w[1].time.0 - w[0].time.0) as f64)
            .collect();
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
        var.sqrt() / mean
    }

    fn spec(f: impl FnOnce(&mut SyntheticSpec)) -> SyntheticSpec {
        let mut s = SyntheticSpec::default();
        f(&mut s);
        s
    }

    #[test]
    fn same_seed_same_arrivals_other_seed_other_arrivals() {
        let s = spec(|s| s.duration_s = 600.0);
        let (a, ta) = generate(&s, 7);
        let (b, tb) = generate(&s, 7);
        let (c, _) = generate(&s, 8);
        assert!(a.len() > 1000);
        assert_eq!(a, b);
        assert_eq!(
            ta.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(),
            tb.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>()
        );
        assert_ne!(a, c);
        let bursty = spec(|s| {
            s.duration_s = 600.0;
            s.arrivals = ArrivalPattern::Bursty;
        });
        assert_eq!(generate(&bursty, 7).0, generate(&bursty, 7).0);
        assert_ne!(generate(&bursty, 7).0, generate(&bursty, 8).0);
    }

    #[test]
    fn arrivals_are_sorted_within_the_horizon_and_functions_are_named() {
        for arrivals in [ArrivalPattern::Poisson, ArrivalPattern::Bursty] {
            let s = spec(|s| {
                s.duration_s = 100.5;
                s.rate_per_s = 50.0;
                s.arrivals = arrivals;
            });
            let src = SyntheticSource::new(&s, 1).unwrap();
            assert_eq!(src.horizon(), Some(SimTime(100_500_000)));
            let (a, table) = generate(&s, 1);
            assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
            assert!(a.iter().all(|x| x.time < SimTime(100_500_000)));
            assert!(a
                .iter()
                .all(|x| x.function.index() < 20 && x.cold_start.is_none()));
            assert_eq!(table.len(), 20);
            assert_eq!(table.get(FunctionId(0)).name, "f0");
            assert_eq!(table.get(FunctionId(19)).name, "f19");
        }
        // Functions are registered even if none arrives.
        let s = spec(|s| {
            s.duration_s = 1e-6;
            s.rate_per_s = 1e-3;
        });
        let (a, table) = generate(&s, 1);
        assert!(a.is_empty());
        assert_eq!(table.len(), 20);
    }

    #[test]
    fn poisson_count_matches_rate_times_duration() {
        // N ~ Poisson(rate × duration): within 4 standard deviations (sqrt of the mean).
        let s = spec(|s| s.duration_s = 36_000.0);
        let (a, _) = generate(&s, 3);
        let expected = 10.0 * 36_000.0;
        let n = a.len() as f64;
        assert!(
            (n - expected).abs() < 4.0 * expected.sqrt(),
            "{n} vs {expected}"
        );
        let cv = gaps_cv(&a);
        assert!((cv - 1.0).abs() < 0.02, "Poisson gaps have CV 1, got {cv}");
    }

    #[test]
    fn zipf_share_of_the_most_popular_function_is_one_over_h() {
        for zipf_s in [1.0, 0.6] {
            let s = spec(|s| {
                s.duration_s = 20_000.0;
                s.zipf_s = zipf_s;
            });
            let (a, _) = generate(&s, 4);
            let h: f64 = (1..=20).map(|k| (k as f64).powf(-zipf_s)).sum();
            let p = 1.0 / h;
            let n = a.len() as f64;
            let share = a.iter().filter(|x| x.function == FunctionId(0)).count() as f64 / n;
            // Binomial: 4 standard deviations.
            let tol = 4.0 * (p * (1.0 - p) / n).sqrt();
            assert!(
                (share - p).abs() < tol,
                "s={zipf_s}: {share} vs {p} ± {tol}"
            );
        }
    }

    #[test]
    fn bursty_mean_rate_matches_and_gaps_are_more_variable_than_poisson() {
        let s = spec(|s| {
            s.duration_s = 200_000.0;
            s.arrivals = ArrivalPattern::Bursty;
        });
        let (a, _) = generate(&s, 5);
        // MMPP-2 count variance over T: rate × T + 2 Var(λ) T / (1/on + 1/off), with
        // Var(λ) = p (1 − p) (rate_on − rate_off)². Tolerance: 4 standard deviations (~6.5%).
        let (rate, t, on, off) = (10.0, 200_000.0, 10.0, 50.0);
        let p: f64 = on / (on + off);
        let (rate_on, rate_off) = (5.0 * rate, rate * (1.0 - 5.0 * p) / (1.0 - p));
        assert!((rate_off - 2.0).abs() < 1e-12);
        let var_rate = p * (1.0 - p) * (rate_on - rate_off).powi(2);
        let var_n = rate * t + 2.0 * var_rate * t / (1.0 / on + 1.0 / off);
        let n = a.len() as f64;
        assert!(
            (n - rate * t).abs() < 4.0 * var_n.sqrt(),
            "{n} arrivals vs {} ± {}",
            rate * t,
            4.0 * var_n.sqrt()
        );
        let cv = gaps_cv(&a);
        assert!(
            cv > 1.5,
            "bursty gaps should have CV well above 1, got {cv}"
        );
    }

    #[test]
    fn exponential_duration_override_has_the_right_mean() {
        let s = spec(|s| {
            s.duration_s = 4_000.0;
            s.duration_ms = Some(DistSpec::Exponential { mean_ms: 50.0 });
        });
        let (a, _) = generate(&s, 6);
        let n = a.len() as f64;
        let mean = a.iter().map(|x| x.duration.as_ms_f64()).sum::<f64>() / n;
        // The exponential's standard deviation equals its mean: 4 standard errors.
        let tol = 4.0 * 50.0 / n.sqrt();
        assert!((mean - 50.0).abs() < tol, "{mean} vs 50 ± {tol}");
    }

    #[test]
    fn lognormal_durations_center_on_each_functions_median() {
        let s = spec(|s| {
            s.duration_s = 600.0;
            s.invocation_sigma = 0.0;
        });
        let (a, _) = generate(&s, 9);
        let src = SyntheticSource::new(&s, 9).unwrap();
        for x in &a {
            let median = src.ln_median_ms[x.function.index()].exp();
            assert_eq!(x.duration, SimDuration::try_from_ms_f64(median).unwrap());
        }
        // With spread, half the invocations of f0 fall below its median.
        let s = spec(|s| s.duration_s = 4_000.0);
        let (a, _) = generate(&s, 9);
        let median0 = SyntheticSource::new(&s, 9).unwrap().ln_median_ms[0].exp();
        let f0: Vec<f64> = a
            .iter()
            .filter(|x| x.function == FunctionId(0))
            .map(|x| x.duration.as_ms_f64())
            .collect();
        let below = f0.iter().filter(|&&d| d < median0).count() as f64 / f0.len() as f64;
        let tol = 4.0 * (0.25 / f0.len() as f64).sqrt();
        assert!((below - 0.5).abs() < tol, "{below} ± {tol}");
    }

    #[test]
    fn changing_durations_leaves_arrival_times_and_functions_alone() {
        let base = spec(|s| s.duration_s = 600.0);
        let other = spec(|s| {
            s.duration_s = 600.0;
            s.duration_ms = Some(DistSpec::Constant { value_ms: 5.0 });
            s.memory_mb = Some(512);
        });
        let (a, ta) = generate(&base, 2);
        let (b, tb) = generate(&other, 2);
        let key = |v: &[Arrival]| v.iter().map(|x| (x.time, x.function)).collect::<Vec<_>>();
        assert_eq!(key(&a), key(&b));
        assert!(b.iter().all(|x| x.duration == SimDuration(5_000)));
        assert!(tb.iter().all(|(_, f)| f.memory_mb == 512));
        assert!(ta.iter().any(|(_, f)| f.memory_mb != 512));
    }

    #[test]
    fn memory_is_a_multiple_of_64_within_bounds() {
        let s = spec(|s| {
            s.functions = 5_000;
            s.duration_s = 1.0;
            s.memory_sigma = 1.5;
        });
        let (_, table) = generate(&s, 11);
        let mem: Vec<u32> = table.iter().map(|(_, f)| f.memory_mb).collect();
        assert!(mem
            .iter()
            .all(|&m| m % 64 == 0 && (128..=3008).contains(&m)));
        // Wide spread: both bounds are reached, and values in between are common.
        assert!(mem.contains(&128) && mem.contains(&3008));
        assert!(mem.iter().filter(|&&m| m == 256).count() > 100);
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let cases: Vec<(SyntheticSpec, &str)> = vec![
            (spec(|s| s.functions = 0), "functions"),
            (spec(|s| s.duration_s = f64::NAN), "duration_s"),
            (spec(|s| s.duration_s = 1e300), "duration_s"),
            (spec(|s| s.duration_s = 3.2e9), "duration_s"),
            (spec(|s| s.burst_off_s = 1e300), "burst_off_s"),
            (
                spec(|s| {
                    s.arrivals = ArrivalPattern::Bursty;
                    s.burst_on_s = 1e-9;
                    s.burst_off_s = 1e-9;
                    s.rate_per_s = 1e-9;
                }),
                "burst_on_s",
            ),
            (spec(|s| s.functions = 1_000_001), "functions"),
            (spec(|s| s.rate_per_s = 1e8), "rate_per_s"),
            (spec(|s| s.duration_median_ms = 1e13), "duration_median_ms"),
            (
                spec(|s| s.duration_ms = Some(DistSpec::Constant { value_ms: 1e16 })),
                "duration_ms",
            ),
            (spec(|s| s.rate_per_s = -1.0), "rate_per_s"),
            (spec(|s| s.rate_per_s = 0.0), "rate_per_s"),
            (spec(|s| s.zipf_s = f64::INFINITY), "zipf_s"),
            (spec(|s| s.burst_factor = 0.5), "burst_factor"),
            (spec(|s| s.burst_on_s = 0.0), "burst_on_s"),
            (spec(|s| s.burst_off_s = -3.0), "burst_off_s"),
            (spec(|s| s.duration_median_ms = 0.0), "duration_median_ms"),
            (spec(|s| s.duration_sigma = -0.1), "duration_sigma"),
            (spec(|s| s.invocation_sigma = f64::NAN), "invocation_sigma"),
            (
                spec(|s| s.duration_ms = Some(DistSpec::Exponential { mean_ms: 0.0 })),
                "duration_ms",
            ),
            (spec(|s| s.memory_median_mb = -5.0), "memory_median_mb"),
            (spec(|s| s.memory_sigma = -1.0), "memory_sigma"),
            (spec(|s| s.memory_min_mb = 0), "memory_min_mb"),
            (spec(|s| s.memory_max_mb = 64), "memory_max_mb"),
            (spec(|s| s.memory_mb = Some(0)), "memory_mb"),
        ];
        for (s, key) in cases {
            let e = SyntheticSource::new(&s, 1).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("synthetic trace, key `{key}`: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn bursty_parameters_must_leave_a_non_negative_off_rate() {
        // 10 × 10 / 60 > 1: the ON state alone would exceed the mean.
        let s = spec(|s| {
            s.arrivals = ArrivalPattern::Bursty;
            s.burst_factor = 10.0;
        });
        let e = SyntheticSource::new(&s, 1).unwrap_err().to_string();
        assert!(
            e.contains("`burst_factor`") && e.contains("OFF-state rate"),
            "{e}"
        );
        // The boundary case (factor × p = 1) has an OFF rate of zero: only bursts.
        let s = spec(|s| {
            s.arrivals = ArrivalPattern::Bursty;
            s.burst_factor = 6.0;
            s.duration_s = 2_000.0;
        });
        let (a, _) = generate(&s, 1);
        assert!(!a.is_empty());
        // The same factor is fine for Poisson arrivals, which ignore it.
        let s = spec(|s| s.burst_factor = 10.0);
        assert!(SyntheticSource::new(&s, 1).is_ok());
    }
}
