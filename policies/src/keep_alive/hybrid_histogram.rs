//! Hybrid histogram keep-alive with pre-warming: Shahrad et al., "Serverless in the Wild:
//! Characterizing and Optimizing the Serverless Workload at a Large Cloud Provider",
//! USENIX ATC'20, §4.2 (the hybrid histogram policy, its pre-warming and its fallbacks).
//! Checked against DSLab-FaaS's implementation (github.com/osukhoroslov/dslab, commit
//! a6c155e8db4b3704dbaa3f4b3e99d987ad0da2d2, `crates/dslab-faas/src/extra/hybrid_histogram.rs`);
//! where the two differ, faasim follows the paper and says so below.
//!
//! Each function (faasim's `FunctionId` is the deployment unit: an app or a function) gets a
//! histogram of its *idle times*, and from it two windows:
//!
//! - the **pre-warm window** P: how long after an instance becomes idle to wait before
//!   loading the function again. With P > 0 the instance is evicted as soon as it becomes
//!   idle and a fresh one is created P later (the cold start then runs in the background);
//! - the **keep-alive window** K, measured from the end of the execution: the function
//!   should stay loaded until then. With P = 0 the idle instance is simply kept until
//!   `now + K`.
//!
//! ## The pre-warmed instance's lifetime (`prewarm_lifetime`)
//! The paper's keep-alive window counts from the moment the image "has been loaded to
//! memory" when P > 0, and the histogram's head and tail bound the predicted idle time, so
//! a pre-warmed instance covers the span from the head to the tail:
//!
//! - `"keep-minus-prewarm"` (default): the pre-warmed instance stays for K − P after it has
//!   finished loading (its `ready_at`), i.e. until K after the execution end plus its cold
//!   start;
//! - `"keep"`: as DSLab does (`Host::on_container_start` asks for a new keep-alive window
//!   when the pre-warmed container has started, and `keepalive_decision` returns the
//!   histogram's K): the pre-warmed instance stays for K after it has finished loading. For
//!   forecast windows DSLab's keep-alive is 2·m·F = K − P, so there both rules agree.
//!
//! ## Idle times, precisely
//! The paper's idle time is the time from the end of one execution of an app to the start
//! of its next invocation. faasim's policy sees the end of an execution when an instance
//! becomes idle (`on_idle` with `executions > 0`; a pre-warmed instance that never ran is
//! not an execution end) and the start of an invocation in `Observation::Arrival`. Per
//! function the policy remembers the time its most recent instance went idle; the next
//! arrival of the function records `arrival − that time` and forgets it, so a burst of
//! arrivals records one idle time, and an arrival while nothing went idle since the last one
//! records nothing. With several instances of one function, an arrival can come while another
//! instance is still busy; it then records the (short) gap since the last instance that
//! went idle: such gaps land in the first bins and can only lower the pre-warm window, the
//! safe direction. The first arrival of a function records nothing. (DSLab records, at the
//! end of each invocation, its arrival minus the previous invocation's end, clamped at 0.)
//!
//! ## Windows
//! Idle times shorter than `range_s` go to bins of `bin_s` (bin b holds [b·bin, (b+1)·bin));
//! longer ones are *out of bound* (OOB). Then, in this order:
//!
//! 1. fewer than `min_observations` idle times in all (in range plus OOB): not
//!    representative yet, the paper's fallback — no pre-warming, keep alive for the whole
//!    range (P = 0, K = `range_s`). The default, 1, is the paper's and DSLab's: the
//!    histogram is used from the first idle time on, subject to the CV test (a single idle
//!    time gives CV = √(B−1) ≈ 15.5, which passes it); before any idle time is known the
//!    fallback applies;
//! 2. OOB share ≥ `oob_threshold`: the histogram cannot see these idle times; forecast the
//!    next one, F, from the function's idle times and use P = F·(1 − m), K = P + F·2m with
//!    m = `forecast_margin` (kept alive over [F(1−m), F(1+m)]);
//! 3. coefficient of variation of the bin counts < `cv_threshold`: the distribution is
//!    too flat to predict from, same fallback as 1;
//! 4. otherwise the histogram: with `head` the bin where the cumulative count first reaches
//!    `head_pct` % of the in-range idle times and `tail` the same for `tail_pct` %,
//!    P = head·bin·(1 − `prewarm_margin`) (the head bin's lower edge, minus the margin) and
//!    K = (tail + 1)·bin·(1 + `keepalive_margin`) (the tail bin's upper edge, plus the
//!    margin). Windows are rounded to whole microseconds.
//!
//! The CV is that of the `range_s / bin_s` bin counts (in-range idle times only), with the
//! population standard deviation: CV² = B·Σc²/N² − 1 for B bins holding N idle times with
//! counts c; it is compared in that closed form, so the test is exact on the integer counts.
//! (DSLab divides by B − 1 and updates its sum of squares incrementally for the changed bin
//! only; at B = 240 the two CVs differ by well under 1%.)
//!
//! **The forecaster.** The paper fits an ARIMA model to the idle times of an app whose idle
//! times are mostly out of bound; DSLab fits it (`arima_extra.rs`, an ARIMA whose orders are
//! chosen from the ACF and PACF) on *every* idle time the app has had, in range and out of
//! bound. faasim fits the same series — the last `forecast_history` idle times of either
//! kind, oldest first — with the simplest member of that family, an AR(1) about the window
//! mean by least squares, which needs no order search and no optimiser: over x₀…x₋₁
//! (n values, mean x̄),
//! φ = Σₜ₌₁ (xₜ − x̄)(xₜ₋₁ − x̄) / Σₜ₌₁ (xₜ₋₁ − x̄)², clamped to [−1, 1] (0 when the
//! denominator is 0, e.g. a constant series or a single value), and F = max(0, x̄ + φ·(xₙ₋₁ − x̄)).
//! With one idle time F is that idle time, as in DSLab.
//!
//! ## In faasim
//! `on_idle` of an instance that just ran: record the idle start; P > 0 → `EvictNow`, and the
//! `prewarm` call that the engine makes right after that eviction returns `Some(P)`;
//! P = 0 → `KeepUntil(now + K)`. `on_idle` of a pre-warmed instance (`executions == 0`, at
//! the end of its cold start): `KeepUntil(ready_at + lifetime)` with the lifetime of
//! `prewarm_lifetime` and the windows of the eviction that asked for it; when it expires
//! unused, `prewarm` returns `None` (the next invocation is a cold start, as in the paper).
//! A pre-warmed instance created at another time than the latest request asked for (a stale
//! pre-warm event from an earlier eviction, still in the engine's queue) is evicted at once;
//! the up-to-date request is still pending. Under memory pressure instances are reclaimed
//! least recently used first. Pre-warmed instances are charged as idle memory.
//!
//! DSLab also keeps a container kept alive by the fallback until the end of the first
//! fallback window it was given, whatever it serves later (`already_set`); faasim, like the
//! paper, counts every window from the end of the latest execution.
//!
//! ## Parameters (defaults: the paper's)
//! | key | default | meaning |
//! |---|---|---|
//! | `bin_s` | 60 | bin width, seconds (1-minute bins) |
//! | `range_s` | 14400 | histogram range, seconds (4 hours); also the fallback keep-alive |
//! | `head_pct` | 5 | percentile for the pre-warm window |
//! | `tail_pct` | 99 | percentile for the keep-alive window |
//! | `prewarm_margin` | 0.10 | pre-warm window shortened by this fraction |
//! | `keepalive_margin` | 0.10 | keep-alive window lengthened by this fraction |
//! | `cv_threshold` | 2 | below this CV of the bin counts the histogram is not trusted |
//! | `min_observations` | 1 | fewer idle times than this: fallback (the paper has no minimum beyond the CV test; a larger value keeps functions in the 4-hour fallback longer) |
//! | `oob_threshold` | 0.5 | OOB share at or above which the forecaster is used |
//! | `forecast_margin` | 0.15 | margin m around the forecast |
//! | `forecast_history` | 10 | most recent idle times (in range and OOB) the forecaster fits (DSLab fits all of them; the paper does not say) |
//! | `prewarm_lifetime` | `"keep-minus-prewarm"` | how long a pre-warmed instance stays after loading: K − P (the paper's head-to-tail span) or K (DSLab) |
//!
//! ## Cost per decision
//! `observe(Arrival)`: O(1) (one bin update, O(1) CV bookkeeping). `on_idle`: O(1) when no
//! idle time was recorded since the function's last decision; otherwise the windows are
//! recomputed in O(B + k), B = `range_s / bin_s` = 240 bins, k = `forecast_history`.
//! `prewarm`: O(1). Memory: B counters and k idle times per function that ever recorded an
//! idle time.

use crate::SpecError;
use faasim_sim::{
    FunctionId, InstanceView, KeepAlive, KeepAliveDecision, Observation, SimDuration, SimTime,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

const POLICY: &str = "hybrid-histogram";
/// More bins than this per function is almost surely a typo (and costs memory per function).
const MAX_BINS: u64 = 1_000_000;
const MAX_FORECAST_HISTORY: u32 = 100_000;

/// `[keep_alive] policy = "hybrid-histogram"` and its parameters; every key is optional
/// and defaults to the paper's value (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HybridHistogramSpec {
    /// Bin width, seconds (default 60).
    pub bin_s: f64,
    /// Histogram range, seconds (default 14400 = 4 h); idle times at or beyond it are out of
    /// bound. Also the fallback keep-alive.
    pub range_s: f64,
    /// Head percentile, for the pre-warm window (default 5).
    pub head_pct: f64,
    /// Tail percentile, for the keep-alive window (default 99).
    pub tail_pct: f64,
    /// Fraction taken off the pre-warm window (default 0.10).
    pub prewarm_margin: f64,
    /// Fraction added to the keep-alive window (default 0.10).
    pub keepalive_margin: f64,
    /// Minimum coefficient of variation of the bin counts for the histogram to be trusted
    /// (default 2).
    pub cv_threshold: f64,
    /// Minimum number of idle times (in range and out of bound) before any prediction
    /// (default 1: from the first idle time, as the paper and DSLab).
    pub min_observations: u32,
    /// Share of out-of-bound idle times at or above which the forecaster is used (default 0.5).
    pub oob_threshold: f64,
    /// Margin around the forecast idle time (default 0.15).
    pub forecast_margin: f64,
    /// Number of most recent idle times, in range and out of bound, the forecaster fits
    /// (default 10).
    pub forecast_history: u32,
    /// How long a pre-warmed instance stays after it has finished loading (default
    /// `"keep-minus-prewarm"`).
    pub prewarm_lifetime: PrewarmLifetime,
}

/// `prewarm_lifetime`: how long a pre-warmed instance stays warm after it has finished
/// loading, for windows P (pre-warm) and K (keep-alive, from the end of the execution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrewarmLifetime {
    /// K − P: the span from the histogram's head to its tail, the paper's keep-alive window
    /// after loading (default).
    #[default]
    KeepMinusPrewarm,
    /// K: as DSLab-FaaS keeps a pre-warmed container (K − P for forecast windows, as DSLab
    /// too).
    Keep,
}

impl Default for HybridHistogramSpec {
    fn default() -> Self {
        HybridHistogramSpec {
            bin_s: 60.0,
            range_s: 14_400.0,
            head_pct: 5.0,
            tail_pct: 99.0,
            prewarm_margin: 0.10,
            keepalive_margin: 0.10,
            cv_threshold: 2.0,
            min_observations: 1,
            oob_threshold: 0.5,
            forecast_margin: 0.15,
            forecast_history: 10,
            prewarm_lifetime: PrewarmLifetime::KeepMinusPrewarm,
        }
    }
}

fn err(message: String) -> SpecError {
    SpecError {
        policy: POLICY,
        message,
    }
}

fn seconds(key: &str, v: f64) -> Result<SimDuration, SpecError> {
    let d = SimDuration::try_from_ms_f64(v * 1e3)
        .ok_or_else(|| err(format!("{key} must be a finite number >= 0, got {v}")))?;
    if d == SimDuration::ZERO {
        return Err(err(format!(
            "{key} must be at least 1 microsecond, got {v}"
        )));
    }
    Ok(d)
}

fn in_range(key: &str, v: f64, lo: f64, hi: f64) -> Result<(), SpecError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(err(format!(
            "{key} must be a number between {lo} and {hi}, got {v}"
        )))
    }
}

impl HybridHistogramSpec {
    /// Checks every parameter (naming the first bad one) and builds the policy.
    pub fn build(&self) -> Result<HybridHistogram, SpecError> {
        let bin = seconds("bin_s", self.bin_s)?;
        let range = seconds("range_s", self.range_s)?;
        if range < bin {
            return Err(err(format!(
                "range_s must be at least bin_s ({}), got {}",
                self.bin_s, self.range_s
            )));
        }
        let bins = range.as_micros().div_ceil(bin.as_micros());
        if bins > MAX_BINS {
            return Err(err(format!(
                "range_s / bin_s must be at most {MAX_BINS} bins, got {bins}"
            )));
        }
        in_range("head_pct", self.head_pct, 0.0, 100.0)?;
        in_range("tail_pct", self.tail_pct, self.head_pct, 100.0)?;
        in_range("prewarm_margin", self.prewarm_margin, 0.0, 1.0)?;
        in_range("keepalive_margin", self.keepalive_margin, 0.0, 1e6)?;
        in_range("cv_threshold", self.cv_threshold, 0.0, 1e6)?;
        if !(self.oob_threshold.is_finite()
            && self.oob_threshold > 0.0
            && self.oob_threshold <= 1.0)
        {
            return Err(err(format!(
                "oob_threshold must be a number in (0, 1], got {}",
                self.oob_threshold
            )));
        }
        in_range("forecast_margin", self.forecast_margin, 0.0, 1.0)?;
        if self.forecast_history == 0 || self.forecast_history > MAX_FORECAST_HISTORY {
            return Err(err(format!(
                "forecast_history must be between 1 and {MAX_FORECAST_HISTORY}, got {}",
                self.forecast_history
            )));
        }
        Ok(HybridHistogram {
            bin,
            range,
            bins: bins as usize,
            head: self.head_pct / 100.0,
            tail: self.tail_pct / 100.0,
            prewarm_margin: self.prewarm_margin,
            keepalive_margin: self.keepalive_margin,
            cv_threshold: self.cv_threshold,
            min_observations: self.min_observations as u64,
            oob_threshold: self.oob_threshold,
            forecast_margin: self.forecast_margin,
            forecast_history: self.forecast_history as usize,
            prewarm_lifetime: self.prewarm_lifetime,
            fns: Vec::new(),
        })
    }
}

/// Which rule produced a function's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSource {
    /// Not representative (too few idle times, or CV below the threshold): keep alive for
    /// the whole range, no pre-warming.
    Fallback,
    /// Head and tail percentiles of the histogram.
    Histogram,
    /// Mostly out-of-bound idle times: the forecaster.
    Forecast,
}

/// A function's current windows, both measured from the end of an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Pre-warm window P: evict on idle and re-create the instance this much later (0: no
    /// pre-warming).
    pub prewarm: SimDuration,
    /// Keep-alive window K: the function stays loaded until this long after the end of the
    /// execution (a pre-warmed instance for K − P after its creation).
    pub keep_alive: SimDuration,
    /// Which rule produced these windows (fallback, histogram or forecast).
    pub source: WindowSource,
}

#[derive(Debug, Clone, Default)]
struct FnState {
    /// Bin counts, allocated at the first in-range idle time.
    counts: Vec<u32>,
    in_range: u64,
    /// Σ c² over the bins.
    sum_sq: u128,
    oob: u64,
    /// The most recent idle times (in range and out of bound), microseconds, oldest first.
    recent: VecDeque<u64>,
    /// When the function's most recent instance went idle after an execution, if no arrival
    /// of it came since.
    idle_since: Option<SimTime>,
    /// Windows computed since the last recorded idle time.
    cached: Option<Windows>,
    /// Set by an `on_idle` that evicted to pre-warm; taken by the `prewarm` call that follows.
    pending_prewarm: Option<SimDuration>,
    /// When the latest requested pre-warm is due, and how long to keep it once loaded.
    expected_prewarm: Option<(SimTime, SimDuration)>,
}

/// The hybrid histogram policy; build it from a [`HybridHistogramSpec`].
#[derive(Debug, Clone)]
pub struct HybridHistogram {
    bin: SimDuration,
    range: SimDuration,
    bins: usize,
    /// Percentiles as fractions.
    head: f64,
    tail: f64,
    prewarm_margin: f64,
    keepalive_margin: f64,
    cv_threshold: f64,
    min_observations: u64,
    oob_threshold: f64,
    forecast_margin: f64,
    forecast_history: usize,
    prewarm_lifetime: PrewarmLifetime,
    fns: Vec<FnState>,
}

fn scaled(us: f64) -> SimDuration {
    // Inputs are finite and >= 0 (validated parameters times bounded durations).
    SimDuration(us.max(0.0).round().min(u64::MAX as f64 / 2.0) as u64)
}

/// One-step forecast of a least-squares AR(1) about the mean of `xs` (oldest first; see
/// the module docs).
pub fn ar1_forecast(xs: &[f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for t in 1..n {
        let prev = xs[t - 1] - mean;
        num += (xs[t] - mean) * prev;
        den += prev * prev;
    }
    let phi = if den > 0.0 {
        (num / den).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    (mean + phi * (xs[n - 1] - mean)).max(0.0)
}

impl HybridHistogram {
    fn state(&mut self, f: FunctionId) -> &mut FnState {
        if f.index() >= self.fns.len() {
            self.fns.resize_with(f.index() + 1, FnState::default);
        }
        &mut self.fns[f.index()]
    }

    /// Adds one idle time of `f` to its histogram (or to its out-of-bound history).
    pub fn record_idle_time(&mut self, f: FunctionId, idle: SimDuration) {
        let (bin_us, bins, k) = (self.bin.as_micros(), self.bins, self.forecast_history);
        let st = self.state(f);
        st.cached = None;
        if st.recent.len() == k {
            st.recent.pop_front();
        }
        st.recent.push_back(idle.as_micros());
        let b = idle.as_micros() / bin_us;
        if b < bins as u64 {
            if st.counts.is_empty() {
                st.counts = vec![0; bins];
            }
            let c = &mut st.counts[b as usize];
            // (c + 1)² − c² = 2c + 1
            st.sum_sq += 2 * *c as u128 + 1;
            *c += 1;
            st.in_range += 1;
        } else {
            st.oob += 1;
        }
    }

    /// Idle times recorded for `f`: (in range, out of bound).
    pub fn observations(&self, f: FunctionId) -> (u64, u64) {
        self.fns
            .get(f.index())
            .map_or((0, 0), |s| (s.in_range, s.oob))
    }

    /// `f`'s bin counts (empty before its first in-range idle time).
    pub fn bin_counts(&self, f: FunctionId) -> &[u32] {
        self.fns.get(f.index()).map_or(&[], |s| &s.counts)
    }

    /// Coefficient of variation of `f`'s bin counts (population standard deviation over
    /// all bins), `None` before any in-range idle time.
    pub fn cv(&self, f: FunctionId) -> Option<f64> {
        let st = self.fns.get(f.index())?;
        if st.in_range == 0 {
            return None;
        }
        let n = st.in_range as f64;
        let ratio = self.bins as f64 * st.sum_sq as f64 / (n * n);
        Some((ratio - 1.0).max(0.0).sqrt())
    }

    /// The first bin where the cumulative count reaches fraction `p` of the in-range idle times.
    fn percentile_bin(counts: &[u32], total: u64, p: f64) -> usize {
        let target = p * total as f64;
        let mut cum = 0u64;
        for (i, &c) in counts.iter().enumerate() {
            cum += c as u64;
            if cum as f64 >= target && cum > 0 {
                return i;
            }
        }
        counts.len() - 1
    }

    /// `f`'s current windows (recomputed only after a new idle time).
    pub fn windows(&mut self, f: FunctionId) -> Windows {
        if let Some(w) = self.state(f).cached {
            return w;
        }
        let w = self.compute_windows(f);
        self.state(f).cached = Some(w);
        w
    }

    fn compute_windows(&self, f: FunctionId) -> Windows {
        let fallback = Windows {
            prewarm: SimDuration::ZERO,
            keep_alive: self.range,
            source: WindowSource::Fallback,
        };
        let Some(st) = self.fns.get(f.index()) else {
            return fallback;
        };
        let total = st.in_range + st.oob;
        if total == 0 || total < self.min_observations {
            return fallback;
        }
        if st.oob as f64 >= self.oob_threshold * total as f64 {
            let xs: Vec<f64> = st.recent.iter().map(|&x| x as f64).collect();
            let forecast = ar1_forecast(&xs);
            let m = self.forecast_margin;
            let prewarm = scaled(forecast * (1.0 - m));
            return Windows {
                prewarm,
                keep_alive: prewarm + scaled(forecast * 2.0 * m),
                source: WindowSource::Forecast,
            };
        }
        // CV < threshold  <=>  B·Σc² < (1 + threshold²)·N²  (see the module docs).
        let (n, b) = (st.in_range as f64, self.bins as f64);
        let thr2 = self.cv_threshold * self.cv_threshold;
        if st.in_range == 0 || b * (st.sum_sq as f64) < (1.0 + thr2) * n * n {
            return fallback;
        }
        let head = Self::percentile_bin(&st.counts, st.in_range, self.head);
        let tail = Self::percentile_bin(&st.counts, st.in_range, self.tail);
        let bin = self.bin.as_micros() as f64;
        Windows {
            prewarm: scaled(head as f64 * bin * (1.0 - self.prewarm_margin)),
            keep_alive: scaled((tail + 1) as f64 * bin * (1.0 + self.keepalive_margin)),
            source: WindowSource::Histogram,
        }
    }
}

impl KeepAlive for HybridHistogram {
    fn on_idle(&mut self, i: &InstanceView, now: SimTime) -> KeepAliveDecision {
        let f = i.function;
        if i.executions == 0 {
            // A pre-warmed instance that has not served anything yet.
            let st = self.state(f);
            st.pending_prewarm = None;
            return match st.expected_prewarm {
                Some((at, keep)) if at == i.created_at => {
                    KeepAliveDecision::KeepUntil(i.ready_at + keep)
                }
                // A stale pre-warm (an older request): the latest one is still to come.
                _ => KeepAliveDecision::EvictNow,
            };
        }
        self.state(f).idle_since = Some(now);
        let w = self.windows(f);
        let keep_whole = self.prewarm_lifetime == PrewarmLifetime::Keep;
        let st = self.state(f);
        if w.prewarm > SimDuration::ZERO {
            st.pending_prewarm = Some(w.prewarm);
            let lifetime = match w.source {
                WindowSource::Histogram if keep_whole => w.keep_alive,
                // DSLab keeps a forecast's pre-warm for 2·m·F = K − P too.
                _ => SimDuration(w.keep_alive.0.saturating_sub(w.prewarm.0)),
            };
            st.expected_prewarm = Some((now + w.prewarm, lifetime));
            KeepAliveDecision::EvictNow
        } else {
            st.pending_prewarm = None;
            KeepAliveDecision::KeepUntil(now + w.keep_alive)
        }
    }

    fn observe(&mut self, ev: &Observation) {
        if let Observation::Arrival { function, time } = *ev {
            if let Some(since) = self.state(function).idle_since.take() {
                self.record_idle_time(function, time - since);
            }
        }
    }

    fn prewarm(&mut self, f: FunctionId, _now: SimTime) -> Option<SimDuration> {
        self.state(f).pending_prewarm.take()
    }
}
