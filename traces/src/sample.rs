//! Sampling a trace: a subset of its functions, a time window, a thinned rate.
//!
//! ```toml
//! [sample]                 # every key is optional
//! select = "top"           # "all" (default), "random", "top", "representative", "rare"
//! count = 100              # k, for random, top and representative
//! max_per_hour = 1.0       # rare: the rate threshold (default 1 per hour)
//! from_s = 3600            # window start (default 0)
//! to_s = 7200              # window end (default: the end of the trace)
//! keep_fraction = 0.5      # keep each invocation with this probability (default 1)
//! seed = 42                # sampling seed (default: the run seed)
//! ```
//!
//! A [`SampleSpec`] is applied by [`open_sampled`](crate::open_sampled) (or
//! [`open_with`](crate::open_with)) to any trace, or by [`SampledSource`] to any source that
//! can be opened twice. The steps, in order:
//!
//! 1. **Window** `[from_s, to_s)`: arrivals before `from_s` are dropped, the replay stops at
//!    the first arrival at or after `to_s`, and times are shifted so the window starts at 0.
//!    The horizon becomes `min(to_s, horizon) − from_s` (or `horizon − from_s`, or `to_s −
//!    from_s` when the trace has none). A file-backed trace cut by `to_s` is not read to its
//!    end, so it has no checksum.
//! 2. **Functions** (`select`): which function-table entries are kept — functions, or apps
//!    when the trace's unit is `app`. Only entries with at least one invocation in the
//!    window are candidates (n of them), and `count` is capped at n. Invocation counts are
//!    counted in the window.
//!    - `all`: every entry (no counting pass).
//!    - `random`: `count` entries uniformly without replacement (a partial Fisher–Yates
//!      shuffle of the candidates in order of first appearance).
//!    - `top`: the `count` entries with the most invocations (ties: first appearance first).
//!    - `representative`: stratified by rate, after Shahrad et al. and the invitro sampler:
//!      the candidates sorted by invocation count (ties: first appearance first) are cut into
//!      `count` strata of equal size — stratum i holds positions `[⌊i·n/k⌋, ⌊(i+1)·n/k⌋)` —
//!      and one entry is drawn uniformly from each, so the sample's rates follow the
//!      population's rate quantiles from the rarest to the busiest.
//!    - `rare`: every entry invoked on average at most `max_per_hour` times per hour over the
//!      window's observation period `T` (as in [`crate::stats`]: from the window's start to
//!      its horizon, or from its first to its last arrival if it has no horizon):
//!      `n_f · 3600 s ≤ max_per_hour · T`.
//!
//!    Every mode but `all` needs the invocation counts before the replay starts, so the
//!    trace is read **twice**: a counting pass (opening it, reading the window, O(functions)
//!    memory) and the replay (opening it again with the same seed, which gives the very same
//!    arrivals and entry order, and keeping the chosen entries). The counting pass costs as
//!    much reading (or generating) as the replay.
//! 3. **Thinning** (`keep_fraction` p): each remaining invocation is kept independently with
//!    probability p. Thinning a Poisson process of rate λ this way gives a Poisson process
//!    of rate pλ (independent marking), so the load scales by p and Poisson arrivals stay
//!    Poisson; a periodic function loses firings at random instead. p = 1 keeps everything
//!    (and draws nothing).
//!
//! The kept entries are registered in the engine's table in order of their first kept
//! arrival, with dense ids 0, 1, …; the table holds the kept entries only. An entry whose
//! every invocation was thinned away is not registered.
//!
//! **Randomness**: the named streams `sample/functions` (random and representative) and
//! `sample/keep` (thinning) of the run seed, or of `seed` if given — a fixed `seed` keeps the
//! same functions in every replication of a sweep, while the run seed draws a new sample
//! per replication. The trace's own streams are untouched, so a sampled trace's kept
//! invocations are exactly those of the full trace.

use crate::convert::source_error;
use crate::error::TraceError;
use crate::limits::{show_f64, MAX_SPAN_S, MAX_SPAN_US};
use crate::stats::observation_period_us;
use crate::{spec_error, TraceInfo};
use faasim_sim::{Arrival, ArrivalSource, FunctionId, FunctionTable, SimRng, SimTime, SourceError};
use serde::{Deserialize, Serialize};

const FORMAT: &str = "sample";
const NONE: u32 = u32::MAX;
/// The stream for choosing functions.
pub const FUNCTIONS_STREAM: &str = "sample/functions";
/// The stream for thinning.
pub const KEEP_STREAM: &str = "sample/keep";

/// Which function-table entries a sample keeps; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Select {
    /// Every entry (the default; no counting pass).
    #[default]
    All,
    /// `count` entries drawn uniformly without replacement.
    Random,
    /// The `count` entries with the most invocations in the window.
    Top,
    /// One entry from each of `count` equal strata of the entries sorted by invocations.
    Representative,
    /// Every entry invoked on average at most `max_per_hour` times per hour.
    Rare,
}

fn default_max_per_hour() -> f64 {
    1.0
}
fn default_keep_fraction() -> f64 {
    1.0
}

/// The `[sample]` table; see the [module docs](self). Every key is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    /// Which entries to keep (default `all`).
    #[serde(default)]
    pub select: Select,
    /// How many, for `random`, `top` and `representative` (required by them, rejected by
    /// the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// `rare`: the most invocations per hour, on average, of a kept entry (default 1).
    #[serde(default = "default_max_per_hour")]
    pub max_per_hour: f64,
    /// Window start, seconds (default 0).
    #[serde(default)]
    pub from_s: f64,
    /// Window end, seconds (default: none, to the end of the trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_s: Option<f64>,
    /// Probability of keeping each invocation (default 1).
    #[serde(default = "default_keep_fraction")]
    pub keep_fraction: f64,
    /// Seed of the sampling streams (default: the run seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl Default for SampleSpec {
    fn default() -> Self {
        Self {
            select: Select::All,
            count: None,
            max_per_hour: default_max_per_hour(),
            from_s: 0.0,
            to_s: None,
            keep_fraction: default_keep_fraction(),
            seed: None,
        }
    }
}

/// Seconds as whole microseconds, if finite, >= 0 and at most
/// [`MAX_SPAN_US`](crate::limits::MAX_SPAN_US) (100 years).
fn seconds_us(s: f64) -> Option<u64> {
    let us = (s * 1e6).round();
    (s.is_finite() && s >= 0.0 && us <= MAX_SPAN_US as f64).then_some(us as u64)
}

impl SampleSpec {
    /// Checks every key, naming the first bad one.
    pub fn validate(&self) -> Result<(), TraceError> {
        let needs_count = matches!(
            self.select,
            Select::Random | Select::Top | Select::Representative
        );
        match (needs_count, self.count) {
            (true, None) => {
                return Err(spec_error(
                    FORMAT,
                    "count",
                    "is required by select = \"random\", \"top\" and \"representative\"",
                ))
            }
            (true, Some(0)) => return Err(spec_error(FORMAT, "count", "must be >= 1")),
            (false, Some(_)) => {
                return Err(spec_error(
                    FORMAT,
                    "count",
                    "is used only by select = \"random\", \"top\" and \"representative\"",
                ))
            }
            _ => {}
        }
        if !(self.max_per_hour.is_finite() && self.max_per_hour > 0.0) {
            return Err(spec_error(
                FORMAT,
                "max_per_hour",
                format!("must be a finite number > 0, got {}", self.max_per_hour),
            ));
        }
        if seconds_us(self.from_s).is_none() {
            return Err(spec_error(
                FORMAT,
                "from_s",
                format!(
                    "must be a number of seconds from 0 to {MAX_SPAN_S} (100 years), got {}",
                    show_f64(self.from_s)
                ),
            ));
        }
        if let Some(to) = self.to_s {
            if seconds_us(to).is_none() || to <= self.from_s {
                return Err(spec_error(
                    FORMAT,
                    "to_s",
                    format!(
                        "must be a number of seconds > from_s ({}) and at most {MAX_SPAN_S} \
                         (100 years), got {}",
                        self.from_s,
                        show_f64(to)
                    ),
                ));
            }
        }
        if !(self.keep_fraction > 0.0 && self.keep_fraction <= 1.0) {
            return Err(spec_error(
                FORMAT,
                "keep_fraction",
                format!("must be in (0, 1], got {}", self.keep_fraction),
            ));
        }
        Ok(())
    }

    /// Whether applying this spec needs a counting pass (every `select` but `all`).
    pub fn needs_counting_pass(&self) -> bool {
        self.select != Select::All
    }
}

/// A source seen through a [`SampleSpec`]; see the [module docs](self).
#[derive(Debug)]
pub struct SampledSource<S> {
    inner: S,
    /// The table the inner source registers into (every entry it meets).
    inner_table: FunctionTable,
    from_us: u64,
    to_us: Option<u64>,
    /// By inner id: whether the entry is kept (`None`: all are).
    kept: Option<Vec<bool>>,
    keep_fraction: f64,
    keep: SimRng,
    /// By inner id: the engine id, or `NONE` until the first kept arrival.
    outer_of_inner: Vec<u32>,
    /// By engine id (as registered by this source): the inner id.
    inner_of_outer: Vec<u32>,
    done: bool,
}

impl<S> SampledSource<S> {
    /// The source being sampled.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The inner source's id of an entry this source registered.
    pub fn inner_id(&self, function: FunctionId) -> Option<FunctionId> {
        self.inner_of_outer
            .get(function.index())
            .filter(|&&i| i != NONE)
            .map(|&i| FunctionId(i))
    }
}

impl<S: ArrivalSource + TraceInfo> SampledSource<S> {
    /// Applies `spec` to the source `open` returns; `seed` is the run seed (used unless the
    /// spec has its own). `open` is called twice when the spec needs a counting pass, once
    /// otherwise; both calls must give the same arrivals (as opening a trace with the same
    /// spec and seed does).
    pub fn new(
        mut open: impl FnMut() -> Result<S, TraceError>,
        spec: &SampleSpec,
        seed: u64,
    ) -> Result<Self, TraceError> {
        spec.validate()?;
        let seed = spec.seed.unwrap_or(seed);
        let from_us = seconds_us(spec.from_s).unwrap_or(0);
        let to_us = spec.to_s.and_then(seconds_us);
        let kept = if spec.needs_counting_pass() {
            let mut first = open()?;
            let counts = count_window(&mut first, from_us, to_us)?;
            drop(first);
            Some(choose(spec, &counts, seed))
        } else {
            None
        };
        Ok(Self {
            inner: open()?,
            inner_table: FunctionTable::new(),
            from_us,
            to_us,
            kept,
            keep_fraction: spec.keep_fraction,
            keep: SimRng::stream(seed, KEEP_STREAM),
            outer_of_inner: Vec::new(),
            inner_of_outer: Vec::new(),
            done: false,
        })
    }

    fn register(&mut self, inner: FunctionId, functions: &mut FunctionTable) -> FunctionId {
        let i = inner.index();
        if self.outer_of_inner.len() <= i {
            self.outer_of_inner.resize(i + 1, NONE);
        }
        if self.outer_of_inner[i] != NONE {
            return FunctionId(self.outer_of_inner[i]);
        }
        let id = functions.push(self.inner_table.get(inner).clone());
        self.outer_of_inner[i] = id.0;
        if self.inner_of_outer.len() <= id.index() {
            self.inner_of_outer.resize(id.index() + 1, NONE);
        }
        self.inner_of_outer[id.index()] = inner.0;
        id
    }
}

impl<S: ArrivalSource + TraceInfo> ArrivalSource for SampledSource<S> {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        while !self.done {
            let Some(a) = self.inner.next_arrival(&mut self.inner_table)? else {
                self.done = true;
                break;
            };
            if a.time.0 < self.from_us {
                continue;
            }
            if self.to_us.is_some_and(|to| a.time.0 >= to) {
                self.done = true;
                break;
            }
            if let Some(kept) = &self.kept {
                if !kept.get(a.function.index()).copied().unwrap_or(false) {
                    continue;
                }
            }
            if self.keep_fraction < 1.0 && self.keep.unit_f64() >= self.keep_fraction {
                continue;
            }
            let function = self.register(a.function, functions);
            return Ok(Some(Arrival {
                time: SimTime(a.time.0 - self.from_us),
                function,
                ..a
            }));
        }
        Ok(None)
    }

    fn horizon(&self) -> Option<SimTime> {
        let end = match (self.to_us, self.inner.horizon()) {
            (Some(to), Some(h)) => Some(to.min(h.0)),
            (Some(to), None) => Some(to),
            (None, h) => h.map(|h| h.0),
        };
        end.map(|e| SimTime(e.saturating_sub(self.from_us)))
    }

    fn tokens(&self) -> Option<faasim_sim::Tokens> {
        self.inner.tokens()
    }
}

impl<S: TraceInfo> TraceInfo for SampledSource<S> {
    fn app_of(&self, function: FunctionId) -> Option<String> {
        self.inner.app_of(self.inner_id(function)?)
    }
    fn trigger_of(&self, function: FunctionId) -> Option<String> {
        self.inner.trigger_of(self.inner_id(function)?)
    }
    /// The inner start, shifted with the window (0 if the window starts after it).
    fn start(&self) -> Option<SimTime> {
        self.inner
            .start()
            .map(|s| SimTime(s.0.saturating_sub(self.from_us)))
    }
}

/// Invocation counts per inner id in a window, and the window's observation period.
#[derive(Debug, Default)]
struct Counts {
    per_function: Vec<u64>,
    period_us: u64,
}

/// The counting pass: reads the window of `source` (stopping at `to_us`).
fn count_window<S: ArrivalSource + TraceInfo>(
    source: &mut S,
    from_us: u64,
    to_us: Option<u64>,
) -> Result<Counts, TraceError> {
    let mut table = FunctionTable::new();
    let mut per_function = Vec::new();
    let mut first = None;
    let mut last = 0;
    while let Some(a) = source.next_arrival(&mut table).map_err(source_error)? {
        if a.time.0 < from_us {
            continue;
        }
        if to_us.is_some_and(|to| a.time.0 >= to) {
            break;
        }
        let i = a.function.index();
        if per_function.len() <= i {
            per_function.resize(i + 1, 0u64);
        }
        per_function[i] += 1;
        first.get_or_insert(a.time.0 - from_us);
        last = a.time.0 - from_us;
    }
    let horizon = match (to_us, source.horizon()) {
        (Some(to), Some(h)) => Some(to.min(h.0)),
        (Some(to), None) => Some(to),
        (None, h) => h.map(|h| h.0),
    }
    .map(|e| e.saturating_sub(from_us));
    let start = source.start().map_or(0, |s| s.0.saturating_sub(from_us));
    let period_us = first.map_or(0, |f| observation_period_us(start, f, last, horizon));
    Ok(Counts {
        per_function,
        period_us,
    })
}

/// Which inner ids to keep.
fn choose(spec: &SampleSpec, counts: &Counts, seed: u64) -> Vec<bool> {
    let n_ids = counts.per_function.len();
    let mut kept = vec![false; n_ids];
    // Candidates in order of first appearance (inner ids are).
    let candidates: Vec<usize> = (0..n_ids).filter(|&i| counts.per_function[i] > 0).collect();
    let n = candidates.len();
    let k = (spec.count.unwrap_or(0) as usize).min(n);
    let mut rng = SimRng::stream(seed, FUNCTIONS_STREAM);
    match spec.select {
        Select::All => kept.iter_mut().for_each(|x| *x = true),
        Select::Random => {
            let mut c = candidates;
            for j in 0..k {
                let r = j + rng.below((n - j) as u64) as usize;
                c.swap(j, r);
                kept[c[j]] = true;
            }
        }
        Select::Top => {
            let mut c = candidates;
            c.sort_by_key(|&i| (std::cmp::Reverse(counts.per_function[i]), i));
            for &i in &c[..k] {
                kept[i] = true;
            }
        }
        Select::Representative => {
            let mut c = candidates;
            c.sort_by_key(|&i| (counts.per_function[i], i));
            for s in 0..k {
                let (lo, hi) = (s * n / k, (s + 1) * n / k);
                let pick = lo + rng.below((hi - lo) as u64) as usize;
                kept[c[pick]] = true;
            }
        }
        Select::Rare => {
            let limit = spec.max_per_hour * counts.period_us as f64;
            for i in candidates {
                kept[i] = counts.per_function[i] as f64 * 3_600e6 <= limit;
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_sim::{FunctionSpec, SimDuration, VecSource};

    /// Functions `f0..f4` with 1, 5, 3, 5, 2 invocations: f1 and f3 tie as busiest.
    fn source() -> VecSource {
        let counts = [1u64, 5, 3, 5, 2];
        let mut v = Vec::new();
        for (f, &c) in counts.iter().enumerate() {
            for j in 0..c {
                v.push(Arrival {
                    time: SimTime(1_000_000 * (j * 7 + f as u64)),
                    function: FunctionId(f as u32),
                    duration: SimDuration(1),
                    cold_start: None,
                    mode: None,
                });
            }
        }
        v.sort_by_key(|a| (a.time, a.function));
        let functions = (0..5)
            .map(|i| FunctionSpec {
                name: format!("f{i}"),
                memory_mb: 128 * (i + 1),
            })
            .collect();
        VecSource::new(functions, v).with_horizon(SimTime(3_600_000_000))
    }

    fn sampled(spec: &SampleSpec, seed: u64) -> (Vec<Arrival>, FunctionTable) {
        let mut s = SampledSource::new(|| Ok(source()), spec, seed).unwrap();
        let mut table = FunctionTable::new();
        let mut out = Vec::new();
        while let Some(a) = s.next_arrival(&mut table).unwrap() {
            out.push(a);
        }
        (out, table)
    }

    fn names(t: &FunctionTable) -> Vec<String> {
        t.iter().map(|(_, f)| f.name.clone()).collect()
    }

    #[test]
    fn top_k_keeps_the_busiest_with_dense_ids() {
        let spec = SampleSpec {
            select: Select::Top,
            count: Some(2),
            ..SampleSpec::default()
        };
        let (a, t) = sampled(&spec, 1);
        assert_eq!(a.len(), 10);
        // f1 first arrives at 1 s, f3 at 3 s: registered in that order, ids 0 and 1.
        assert_eq!(names(&t), ["f1", "f3"]);
        assert_eq!(t.get(FunctionId(1)).memory_mb, 512);
        assert!(a.iter().all(|x| x.function.0 < 2));
        // Ties break by first appearance: top 1 of {f1: 5, f3: 5} is f1.
        let spec = SampleSpec {
            count: Some(1),
            ..spec
        };
        assert_eq!(names(&sampled(&spec, 1).1), ["f1"]);
        // More than there are: all of them.
        let spec = SampleSpec {
            count: Some(50),
            ..spec
        };
        assert_eq!(sampled(&spec, 1).0.len(), 16);
    }

    #[test]
    fn window_shifts_times_and_sets_the_horizon() {
        let spec = SampleSpec {
            from_s: 7.0,
            to_s: Some(15.0),
            ..SampleSpec::default()
        };
        let mut s = SampledSource::new(|| Ok(source()), &spec, 1).unwrap();
        assert_eq!(s.horizon(), Some(SimTime(8_000_000)));
        let mut t = FunctionTable::new();
        let mut a = Vec::new();
        while let Some(x) = s.next_arrival(&mut t).unwrap() {
            a.push(x);
        }
        // Function f arrives at j·7 + f s: in [7, 15) f1 at 8, f2 at 9, f3 at 10, f4 at 11
        // (15 is out).
        let times: Vec<u64> = a.iter().map(|x| x.time.0 / 1_000_000).collect();
        assert_eq!(times, [1, 2, 3, 4]);
        assert_eq!(names(&t), ["f1", "f2", "f3", "f4"]);
        // No window end: the horizon moves by from_s.
        let spec = SampleSpec {
            from_s: 7.0,
            ..SampleSpec::default()
        };
        let s = SampledSource::new(|| Ok(source()), &spec, 1).unwrap();
        assert_eq!(s.horizon(), Some(SimTime(3_593_000_000)));
    }

    #[test]
    fn random_and_representative_are_deterministic_and_sized() {
        for select in [Select::Random, Select::Representative] {
            let spec = SampleSpec {
                select,
                count: Some(3),
                ..SampleSpec::default()
            };
            let (a, t) = sampled(&spec, 4);
            assert_eq!(t.len(), 3, "{select:?}");
            let (a2, t2) = sampled(&spec, 4);
            assert_eq!((a2, names(&t2)), (a, names(&t)));
            let differs = (0..20).any(|s| names(&sampled(&spec, s).1) != names(&t));
            assert!(differs, "{select:?}");
            // A fixed sampling seed ignores the run seed.
            let fixed = SampleSpec {
                seed: Some(9),
                ..spec.clone()
            };
            assert_eq!(names(&sampled(&fixed, 1).1), names(&sampled(&fixed, 2).1));
        }
        // Representative with k = n keeps everything.
        let spec = SampleSpec {
            select: Select::Representative,
            count: Some(5),
            ..SampleSpec::default()
        };
        assert_eq!(sampled(&spec, 1).1.len(), 5);
    }

    #[test]
    fn representative_draws_one_per_rate_stratum() {
        // Sorted by count: f0 (1), f4 (2), f2 (3), f1 (5), f3 (5). k = 2: strata
        // [0, 2) = {f0, f4} and [2, 5) = {f2, f1, f3}.
        let spec = SampleSpec {
            select: Select::Representative,
            count: Some(2),
            ..SampleSpec::default()
        };
        for seed in 0..20 {
            let t = sampled(&spec, seed).1;
            let n = names(&t);
            assert_eq!(n.len(), 2);
            let low = n.iter().filter(|x| *x == "f0" || *x == "f4").count();
            assert_eq!(low, 1, "{n:?}");
        }
    }

    #[test]
    fn rare_keeps_functions_below_the_rate() {
        // Horizon 3600 s, first arrival 0: T = 1 h. At most 2 per hour: f0 (1), f4 (2).
        let spec = SampleSpec {
            select: Select::Rare,
            max_per_hour: 2.0,
            ..SampleSpec::default()
        };
        let (a, t) = sampled(&spec, 1);
        assert_eq!(names(&t), ["f0", "f4"]);
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn keep_fraction_thins_binomially() {
        let spec = SampleSpec {
            keep_fraction: 1.0,
            ..SampleSpec::default()
        };
        assert_eq!(sampled(&spec, 1).0.len(), 16);
        // A big source: 100,000 arrivals of one function, p = 0.5: within 4 SD (632).
        let n = 100_000u64;
        let big = || {
            Ok(VecSource::new(
                vec![FunctionSpec {
                    name: "f".into(),
                    memory_mb: 1,
                }],
                (0..n)
                    .map(|i| Arrival {
                        time: SimTime(i),
                        function: FunctionId(0),
                        duration: SimDuration(1),
                        cold_start: None,
                        mode: None,
                    })
                    .collect(),
            ))
        };
        let spec = SampleSpec {
            keep_fraction: 0.5,
            ..SampleSpec::default()
        };
        let mut s = SampledSource::new(big, &spec, 3).unwrap();
        let mut t = FunctionTable::new();
        let mut kept = 0u64;
        while s.next_arrival(&mut t).unwrap().is_some() {
            kept += 1;
        }
        let sd = (n as f64 * 0.25).sqrt();
        assert!((kept as f64 - n as f64 / 2.0).abs() < 4.0 * sd, "{kept}");
    }

    #[test]
    fn bad_keys_are_named() {
        for (spec, key) in [
            (
                SampleSpec {
                    select: Select::Top,
                    ..SampleSpec::default()
                },
                "count",
            ),
            (
                SampleSpec {
                    count: Some(3),
                    ..SampleSpec::default()
                },
                "count",
            ),
            (
                SampleSpec {
                    select: Select::Random,
                    count: Some(0),
                    ..SampleSpec::default()
                },
                "count",
            ),
            (
                SampleSpec {
                    max_per_hour: 0.0,
                    ..SampleSpec::default()
                },
                "max_per_hour",
            ),
            (
                SampleSpec {
                    from_s: -1.0,
                    ..SampleSpec::default()
                },
                "from_s",
            ),
            (
                SampleSpec {
                    from_s: 5.0,
                    to_s: Some(5.0),
                    ..SampleSpec::default()
                },
                "to_s",
            ),
            (
                SampleSpec {
                    keep_fraction: 0.0,
                    ..SampleSpec::default()
                },
                "keep_fraction",
            ),
            (
                SampleSpec {
                    keep_fraction: 1.5,
                    ..SampleSpec::default()
                },
                "keep_fraction",
            ),
        ] {
            let e = spec.validate().unwrap_err().to_string();
            assert!(e.starts_with(&format!("sample trace, key `{key}`")), "{e}");
        }
    }

    #[test]
    fn sample_table_parses_round_trips_and_rejects_unknown_keys() {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Scenario {
            sample: SampleSpec,
        }
        let parse = |t: &str| toml::from_str::<Scenario>(t).map(|s| s.sample);
        assert_eq!(parse("[sample]\n").unwrap(), SampleSpec::default());
        let s = parse(
            "[sample]\nselect = \"representative\"\ncount = 7\nfrom_s = 10\nto_s = 20.5\n\
             keep_fraction = 0.25\nseed = 3\nmax_per_hour = 4\n",
        )
        .unwrap();
        assert_eq!(
            s,
            SampleSpec {
                select: Select::Representative,
                count: Some(7),
                max_per_hour: 4.0,
                from_s: 10.0,
                to_s: Some(20.5),
                keep_fraction: 0.25,
                seed: Some(3),
            }
        );
        let back: SampleSpec = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let back: SampleSpec =
            toml::from_str(&toml::to_string(&SampleSpec::default()).unwrap()).unwrap();
        assert_eq!(back, SampleSpec::default());
        let e = parse("[sample]\nfraction = 0.5\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `fraction`"), "{e}");
        let e = parse("[sample]\nselect = \"busiest\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("busiest"), "{e}");
    }
}
