//! Hybrid histogram keep-alive with pre-warming: Shahrad et al., "Serverless in the Wild:
//! Characterizing and Optimizing the Serverless Workload at a Large Cloud Provider",
//! USENIX ATC'20, §4.2 (the hybrid histogram policy, its pre-warming and its fallbacks).
//!
//! Each function (faasim's `FunctionId` is the deployment unit: an app or a function) gets a
//! histogram of its *idle times*, and from it two windows:
//!
//! - the **pre-warm window** P: how long after an instance becomes idle to wait before
//!   loading the function again. With P > 0 the instance is evicted as soon as it becomes
//!   idle and a fresh one is created P later (the cold start then runs in the background);
//! - the **keep-alive window** K: how long after the end of the execution the function stays
//!   loaded. With P = 0 the idle instance is simply kept until `now + K`; with P > 0 the
//!   pre-warmed instance is kept for K − P from the moment it is created (the cold start
//!   counts against that window, as loading time does in the paper).
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
//! safe direction. The first arrival of a function records nothing.
//!
//! ## Windows
//! Idle times shorter than `range_s` go to bins of `bin_s` (bin b holds [b·bin, (b+1)·bin));
//! longer ones are *out of bound* (OOB). Then, in this order:
//!
//! 1. fewer than `min_observations` idle times in all (in range plus OOB): not
//!    representative yet, the paper's fallback — no pre-warming, keep alive for the whole
//!    range (P = 0, K = `range_s`);
//! 2. OOB share ≥ `oob_threshold`: the histogram cannot see these idle times; forecast the
//!    next one, F, from the last `forecast_history` OOB idle times (the paper fits ARIMA; here
//!    a least-squares AR(1) about the window mean, see below) and use P = F·(1 − m),
//!    K = P + F·2m with m = `forecast_margin` (kept alive over [F(1−m), F(1+m)]);
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
//!
//! **The forecaster.** Over the window x₀…x₋₁ (oldest first, n values, mean x̄):
//! φ = Σₜ₌₁ (xₜ − x̄)(xₜ₋₁ − x̄) / Σₜ₌₁ (xₜ₋₁ − x̄)², clamped to [−1, 1] (0 when the
//! denominator is 0, e.g. a constant series or a single value), and F = max(0, x̄ + φ·(xₙ₋₁ − x̄)).
//! Total, deterministic, no random numbers.
//!
//! ## In faasim
//! `on_idle` of an instance that just ran: record the idle start; P > 0 → `EvictNow`, and the
//! `prewarm` call that the engine makes right after that eviction returns `Some(P)`;
//! P = 0 → `KeepUntil(now + K)`. `on_idle` of a pre-warmed instance (`executions == 0`):
//! `KeepUntil(created_at + K − P)` with the windows of the eviction that asked for it; when
//! it expires unused, `prewarm` returns `None` (the next invocation is a cold start, as in the
//! paper). A pre-warmed instance created at another time than the latest request asked for
//! (a stale pre-warm event from an earlier eviction, still in the engine's queue) is evicted
//! at once; the up-to-date request is still pending. Under memory pressure instances are
//! reclaimed least recently used first. Pre-warmed instances are charged as idle memory.
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
//! | `min_observations` | 10 | fewer idle times than this: fallback (not in the paper, which has no explicit minimum; one idle time alone has a CV of √(B−1) and would pass the CV test) |
//! | `oob_threshold` | 0.5 | OOB share at or above which the forecaster is used |
//! | `forecast_margin` | 0.15 | margin m around the forecast |
//! | `forecast_history` | 10 | OOB idle times the forecaster fits |
//!
//! ## Cost per decision
//! `observe(Arrival)`: O(1) (one bin update, O(1) CV bookkeeping). `on_idle`: O(1) when no
//! idle time was recorded since the function's last decision; otherwise the windows are
//! recomputed in O(B + k), B = `range_s / bin_s` = 240 bins, k = `forecast_history`.
//! `prewarm`: O(1). Memory: B counters per function that ever recorded an idle time.

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
    /// (default 10).
    pub min_observations: u32,
    /// Share of out-of-bound idle times at or above which the forecaster is used (default 0.5).
    pub oob_threshold: f64,
    /// Margin around the forecast idle time (default 0.15).
    pub forecast_margin: f64,
    /// Number of most recent out-of-bound idle times the forecaster fits (default 10).
    pub forecast_history: u32,
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
            min_observations: 10,
            oob_threshold: 0.5,
            forecast_margin: 0.15,
            forecast_history: 10,
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
    /// The most recent out-of-bound idle times, microseconds, oldest first.
    oob_recent: VecDeque<u64>,
    /// When the function's most recent instance went idle after an execution, if no arrival
    /// of it came since.
    idle_since: Option<SimTime>,
    /// Windows computed since the last recorded idle time.
    cached: Option<Windows>,
    /// Set by an `on_idle` that evicted to pre-warm; taken by the `prewarm` call that follows.
    pending_prewarm: Option<SimDuration>,
    /// When the latest requested pre-warm is due, and how long to keep it once created.
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
    fns: Vec<FnState>,
}

fn scaled(us: f64) -> SimDuration {
    // Inputs are finite and >= 0 (validated parameters times bounded durations).
    SimDuration(us.max(0.0).round().min(u64::MAX as f64 / 2.0) as u64)
}

/// One-step forecast of a least-squares AR(1) about the mean (see the module docs).
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
            if st.oob_recent.len() == k {
                st.oob_recent.pop_front();
            }
            st.oob_recent.push_back(idle.as_micros());
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
            let xs: Vec<f64> = st.oob_recent.iter().map(|&x| x as f64).collect();
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
                Some((at, keep)) if at == i.created_at => KeepAliveDecision::KeepUntil(at + keep),
                // A stale pre-warm (an older request): the latest one is still to come.
                _ => KeepAliveDecision::EvictNow,
            };
        }
        self.state(f).idle_since = Some(now);
        let w = self.windows(f);
        let st = self.state(f);
        if w.prewarm > SimDuration::ZERO {
            st.pending_prewarm = Some(w.prewarm);
            st.expected_prewarm = Some((
                now + w.prewarm,
                SimDuration(w.keep_alive.0.saturating_sub(w.prewarm.0)),
            ));
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
