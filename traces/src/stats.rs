//! Statistics of a trace, in one streaming pass (`faasim trace stats`).
//!
//! [`trace_stats`] reads any [`ArrivalSource`] to its end; [`OpenTrace::stats`] does the same
//! for an opened trace and also asks the trace for what only it knows (apps, triggers; see
//! [`TraceInfo`]). Memory is O(functions) — 48 bytes per function, plus a bounded
//! percentile digest of the execution times ([`Digest::run_wide`]: exact up to 2^20
//! invocations, then within 0.1%) — whatever the number of invocations.
//!
//! ## Definitions
//! - **functions**: function-table entries with at least one invocation (a generator
//!   registers entries that may never be invoked: `functions_registered` counts them all).
//!   An entry is whatever the trace's unit is (an app with `unit = "app"`).
//! - **apps**: distinct apps of the invoked functions, when the trace can tell every
//!   function's app (Azure 2019 and 2021, a CSV trace with an `app` column); else `NA`.
//! - **span**: from the first to the last arrival. **period** `T`: the time the trace
//!   observes. With a horizon (the trace's nominal end: a generator's length, the end of the
//!   last minute of an Azure 2019 trace, a sample window's end), from the trace's start (time
//!   0, or [`TraceInfo::start`]: 479 min for an Azure 2019 window `480…959`) to the horizon;
//!   without one (a CSV trace), from the first to the last arrival. [`StatsOptions::period_s`]
//!   overrides it. Rates are over `T`: the mean rate is `invocations / T`, a function's mean
//!   rate `n_f / T`; so in a one-hour trace a function invoked once is invoked "at most once
//!   per hour".
//! - **rate distribution** (Shahrad et al., ATC'20, Fig. 5): the share of functions invoked
//!   on average at most once per hour (`n_f·3600 s ≤ T`) and at most once per minute, and
//!   the CDF of the mean invocations per day at each power of ten, `10^0 … 10^8` per day
//!   (exact integer comparisons).
//! - **durations**: percentiles of the per-invocation execution times (p1, p25, p50, p75,
//!   p99, max, and the mean), and the share of functions whose mean execution time is under
//!   1 s.
//! - **memory**: percentiles of the memory of the invoked functions (one value per
//!   function).
//! - **triggers**: per trigger, the share of functions and of invocations, when the trace
//!   knows triggers (Azure 2019 with a `Trigger` column, the azure-like generator); functions
//!   without one count as `unknown`.
//! - **inter-arrival CV**: per function with at least 3 invocations (2 gaps) and a positive
//!   mean gap, the coefficient of variation of its gaps (population standard deviation over
//!   the mean); reported as the number of such functions, the median CV and the share with
//!   CV > 1. **Overall**: the CV of the gaps of the merged stream of all arrivals.
//!
//! Percentiles use the nearest-rank method (the q-quantile of n values is the
//! `ceil(q·n)`-th smallest), as [`Digest`] does. A value that cannot be computed (no
//! invocations, a zero period) is `None`, printed `NA`.

use crate::convert::source_error;
use crate::error::TraceError;
use crate::{OpenTrace, TraceInfo};
use faasim_sim::digest::Digest;
use faasim_sim::{Arrival, ArrivalSource, FunctionId, FunctionTable, SimDuration, SimTime};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::fmt;
use std::io::Write;

const HOUR_US: u128 = 3_600_000_000;
const MINUTE_US: u128 = 60_000_000;
const DAY_US: u128 = 86_400_000_000;
/// The powers of ten (invocations per day) at which the rate CDF is reported.
pub const RATE_CDF_DECADES: std::ops::RangeInclusive<u32> = 0..=8;

/// Options of [`trace_stats`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsOptions {
    /// The observation period in seconds, overriding the one found from the trace (for
    /// example 86400 for a CSV trace known to cover one day).
    pub period_s: Option<f64>,
}

/// Percentiles of a set of values (nearest rank), and their mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// The 1st percentile.
    pub p1: f64,
    /// The 25th percentile (first quartile).
    pub p25: f64,
    /// The 50th percentile (median).
    pub p50: f64,
    /// The 75th percentile (third quartile).
    pub p75: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The largest value.
    pub max: f64,
    /// The arithmetic mean.
    pub mean: f64,
}

/// One trigger's share of the functions and of the invocations.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerMix {
    /// The trigger's name as the trace gives it (`http`, `timer`, ...; `unknown` if none).
    pub trigger: String,
    /// Invoked functions with this trigger.
    pub functions: u64,
    /// Invocations of those functions.
    pub invocations: u64,
    /// `functions` over all invoked functions, 0–1.
    pub share_functions: f64,
    /// `invocations` over all invocations, 0–1.
    pub share_invocations: f64,
}

/// The statistics of a trace; see the [module docs](self) for the definitions. `Display`
/// prints an aligned two-column table; [`rows`](Self::rows) and
/// [`write_csv`](Self::write_csv) give the same as `metric,value` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceStats {
    /// Arrivals in the trace.
    pub invocations: u64,
    /// Entries with at least one invocation.
    pub functions: u64,
    /// Every entry of the function table.
    pub functions_registered: u64,
    /// Distinct apps of the invoked functions; `None` unless the trace knows every app.
    pub apps: Option<u64>,
    /// Time of the first arrival; `None` for an empty trace.
    pub first_arrival: Option<SimTime>,
    /// Time of the last arrival; `None` for an empty trace.
    pub last_arrival: Option<SimTime>,
    /// The observation period `T`.
    pub period: SimDuration,
    /// `invocations / T`, per second; `None` for a zero period.
    pub mean_rate_per_s: Option<f64>,
    /// Share of functions invoked at most once per hour on average.
    pub share_at_most_hourly: Option<f64>,
    /// Share of functions invoked at most once per minute on average.
    pub share_at_most_minutely: Option<f64>,
    /// `(k, share of functions with at most 10^k invocations per day on average)` for `k`
    /// in [`RATE_CDF_DECADES`]; empty when undefined.
    pub daily_rate_cdf: Vec<(u32, f64)>,
    /// Per-invocation execution times, ms.
    pub duration_ms: Option<Percentiles>,
    /// Share of invoked functions whose mean execution time is under 1 s, 0–1.
    pub share_mean_duration_under_1s: Option<f64>,
    /// Memory of the invoked functions, MB.
    pub memory_mb: Option<Percentiles>,
    /// By trigger name, most functions first (ties by name).
    pub triggers: Option<Vec<TriggerMix>>,
    /// Functions with at least 3 invocations and a positive mean gap.
    pub cv_functions: u64,
    /// Median inter-arrival CV over the `cv_functions`; `None` if there are none.
    pub cv_median: Option<f64>,
    /// Share of the `cv_functions` with an inter-arrival CV above 1 (burstier than
    /// Poisson), 0–1.
    pub cv_share_above_1: Option<f64>,
    /// Inter-arrival CV of the merged stream of all arrivals.
    pub cv_overall: Option<f64>,
}

/// One `metric,value` row of `stats.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsRow {
    /// The metric's name (`invocations`, `duration_ms_p50`, ...).
    pub metric: String,
    /// Its value, formatted; `NA` when it cannot be computed.
    pub value: String,
}

/// Streaming mean and sum of squared deviations (Welford).
#[derive(Debug, Clone, Copy, Default)]
struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    fn add(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }
    /// Population standard deviation over the mean; `None` for fewer than `min_n` values
    /// or a zero mean.
    fn cv(&self, min_n: u64) -> Option<f64> {
        (self.n >= min_n && self.mean > 0.0).then(|| (self.m2 / self.n as f64).sqrt() / self.mean)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct PerFunction {
    count: u64,
    last_us: u64,
    gaps: Welford,
    duration_sum_us: u128,
}

/// The state of a statistics pass: feed it arrivals, then [`finish`](Self::finish).
#[derive(Debug, Clone)]
pub struct StatsCollector {
    per_function: Vec<PerFunction>,
    invocations: u64,
    first_us: Option<u64>,
    last_us: u64,
    gaps: Welford,
    durations: Digest,
}

impl Default for StatsCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl StatsCollector {
    /// An empty collector, before any arrival.
    pub fn new() -> Self {
        Self {
            per_function: Vec::new(),
            invocations: 0,
            first_us: None,
            last_us: 0,
            gaps: Welford::default(),
            durations: Digest::run_wide(),
        }
    }

    /// Counts one arrival (arrivals must come in time order, as a source gives them).
    pub fn add(&mut self, a: &Arrival) {
        let t = a.time.0;
        if self.first_us.is_none() {
            self.first_us = Some(t);
        } else {
            self.gaps.add(t.saturating_sub(self.last_us) as f64);
        }
        self.last_us = t;
        self.invocations += 1;
        self.durations.add(a.duration.0);
        let i = a.function.index();
        if i >= self.per_function.len() {
            self.per_function.resize(i + 1, PerFunction::default());
        }
        let f = &mut self.per_function[i];
        if f.count > 0 {
            f.gaps.add(t.saturating_sub(f.last_us) as f64);
        }
        f.count += 1;
        f.last_us = t;
        f.duration_sum_us += u128::from(a.duration.0);
    }

    /// The statistics: `table` is the function table the source filled, `info` what the
    /// source knows of its functions, `horizon` the source's.
    pub fn finish(
        mut self,
        table: &FunctionTable,
        info: Option<&dyn TraceInfo>,
        horizon: Option<SimTime>,
        opts: &StatsOptions,
    ) -> TraceStats {
        let invoked: Vec<(FunctionId, PerFunction)> = self
            .per_function
            .iter()
            .enumerate()
            .filter(|(_, f)| f.count > 0)
            .map(|(i, f)| (FunctionId(i as u32), *f))
            .collect();
        let nf = invoked.len() as u64;
        let share = |k: usize| k as f64 / nf as f64;
        let first = self.first_us;
        let period_us = match (opts.period_s, first) {
            (Some(s), _) if s.is_finite() && s >= 0.0 => (s * 1e6).round() as u64,
            (_, Some(first)) => {
                let start = info.and_then(|i| i.start()).map_or(0, |s| s.0);
                observation_period_us(start, first, self.last_us, horizon.map(|h| h.0))
            }
            _ => 0,
        };
        let t = u128::from(period_us);
        let rated = nf > 0 && period_us > 0;
        let count_share = |pred: &dyn Fn(u128) -> bool| {
            share(
                invoked
                    .iter()
                    .filter(|(_, f)| pred(u128::from(f.count)))
                    .count(),
            )
        };
        let share_at_most_hourly = rated.then(|| count_share(&|n| n * HOUR_US <= t));
        let share_at_most_minutely = rated.then(|| count_share(&|n| n * MINUTE_US <= t));
        let daily_rate_cdf = if rated {
            RATE_CDF_DECADES
                .map(|k| (k, count_share(&|n| n * DAY_US <= 10u128.pow(k) * t)))
                .collect()
        } else {
            Vec::new()
        };
        let duration_ms = (self.invocations > 0).then(|| {
            let d = &mut self.durations;
            let ms = |us: u64| us as f64 / 1e3;
            Percentiles {
                p1: ms(d.quantile(0.01)),
                p25: ms(d.quantile(0.25)),
                p50: ms(d.quantile(0.5)),
                p75: ms(d.quantile(0.75)),
                p99: ms(d.quantile(0.99)),
                max: ms(d.max()),
                mean: d.mean() / 1e3,
            }
        });
        let share_mean_duration_under_1s = (nf > 0).then(|| {
            share(
                invoked
                    .iter()
                    .filter(|(_, f)| f.duration_sum_us < 1_000_000 * u128::from(f.count))
                    .count(),
            )
        });
        let memory_mb = (nf > 0 && table.len() >= self.per_function.len()).then(|| {
            let mut mem: Vec<f64> = invoked
                .iter()
                .map(|(id, _)| f64::from(table.get(*id).memory_mb))
                .collect();
            percentiles(&mut mem)
        });
        let apps = info.filter(|_| nf > 0).and_then(|info| {
            let mut apps = FxHashSet::default();
            for (id, _) in &invoked {
                apps.insert(info.app_of(*id)?);
            }
            Some(apps.len() as u64)
        });
        let triggers = info.and_then(|info| {
            let mut by: FxHashMap<String, (u64, u64)> = FxHashMap::default();
            let mut known = false;
            for (id, f) in &invoked {
                let t = info.trigger_of(*id);
                known |= t.is_some();
                let e = by.entry(t.unwrap_or_else(|| "unknown".into())).or_default();
                e.0 += 1;
                e.1 += f.count;
            }
            known.then(|| {
                let mut mix: Vec<TriggerMix> = by
                    .into_iter()
                    .map(|(trigger, (functions, invocations))| TriggerMix {
                        trigger,
                        functions,
                        invocations,
                        share_functions: functions as f64 / nf as f64,
                        share_invocations: invocations as f64 / self.invocations as f64,
                    })
                    .collect();
                mix.sort_by(|a, b| {
                    b.functions
                        .cmp(&a.functions)
                        .then_with(|| a.trigger.cmp(&b.trigger))
                });
                mix
            })
        });
        let mut cvs: Vec<f64> = invoked.iter().filter_map(|(_, f)| f.gaps.cv(2)).collect();
        cvs.sort_by(f64::total_cmp);
        let cv_functions = cvs.len() as u64;
        let cv_median = (!cvs.is_empty()).then(|| nearest_rank(&cvs, 0.5));
        let cv_share_above_1 = (!cvs.is_empty())
            .then(|| cvs.iter().filter(|&&c| c > 1.0).count() as f64 / cvs.len() as f64);
        TraceStats {
            invocations: self.invocations,
            functions: nf,
            functions_registered: table.len() as u64,
            apps,
            first_arrival: first.map(SimTime),
            last_arrival: first.map(|_| SimTime(self.last_us)),
            period: SimDuration(period_us),
            mean_rate_per_s: (period_us > 0)
                .then(|| self.invocations as f64 / (period_us as f64 / 1e6)),
            share_at_most_hourly,
            share_at_most_minutely,
            daily_rate_cdf,
            duration_ms,
            share_mean_duration_under_1s,
            memory_mb,
            triggers,
            cv_functions,
            cv_median,
            cv_share_above_1,
            cv_overall: self.gaps.cv(2),
        }
    }
}

/// The observation period of a trace whose arrivals span `[first, last]` (µs): from its
/// start (0 unless the trace says otherwise) to its horizon if it has one (and the horizon
/// is not before the last arrival); else from the first to the last arrival.
pub(crate) fn observation_period_us(
    start: u64,
    first: u64,
    last: u64,
    horizon: Option<u64>,
) -> u64 {
    match horizon {
        Some(h) => h.max(last).saturating_sub(start.min(first)),
        None => last.saturating_sub(first),
    }
}

/// The q-quantile of sorted values by the nearest-rank method; `values` must not be empty.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}

fn percentiles(values: &mut [f64]) -> Percentiles {
    values.sort_by(f64::total_cmp);
    Percentiles {
        p1: nearest_rank(values, 0.01),
        p25: nearest_rank(values, 0.25),
        p50: nearest_rank(values, 0.5),
        p75: nearest_rank(values, 0.75),
        p99: nearest_rank(values, 0.99),
        max: values[values.len() - 1],
        mean: values.iter().sum::<f64>() / values.len() as f64,
    }
}

/// Reads `source` to its end and returns its statistics. The source's apps and triggers
/// are not known here (a bare [`ArrivalSource`] cannot tell them); use
/// [`OpenTrace::stats`] for an opened trace. A source error comes back as itself if it is a
/// [`TraceError`], else as [`TraceError::Source`].
pub fn trace_stats(
    source: &mut dyn ArrivalSource,
    opts: &StatsOptions,
) -> Result<TraceStats, TraceError> {
    let mut table = FunctionTable::new();
    let c = collect(source, &mut table)?;
    Ok(c.finish(&table, None, source.horizon(), opts))
}

fn collect(
    source: &mut dyn ArrivalSource,
    table: &mut FunctionTable,
) -> Result<StatsCollector, TraceError> {
    let mut c = StatsCollector::new();
    while let Some(a) = source.next_arrival(table).map_err(source_error)? {
        c.add(&a);
    }
    Ok(c)
}

impl OpenTrace {
    /// Reads the trace to its end and returns its statistics, with apps and triggers where
    /// the trace knows them (see [`TraceInfo`]). [`skipped_rows`](Self::skipped_rows)
    /// and [`checksum_hex`](Self::checksum_hex) are available afterwards as after a run.
    pub fn stats(&mut self, opts: &StatsOptions) -> Result<TraceStats, TraceError> {
        let mut table = FunctionTable::new();
        let c = collect(self, &mut table)?;
        let horizon = self.horizon();
        Ok(c.finish(&table, Some(&*self), horizon, opts))
    }
}

fn num(v: f64, digits: usize) -> String {
    format!("{v:.digits$}")
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "NA".into(), |v| num(v, digits))
}

impl TraceStats {
    /// The statistics as `(metric, value)` rows, in a fixed order; values that cannot be
    /// computed are `NA`. Times in seconds, durations in ms, memory in MB, shares as
    /// fractions (0 to 1).
    pub fn rows(&self) -> Vec<StatsRow> {
        let mut rows: Vec<(String, String)> = vec![
            ("invocations".into(), self.invocations.to_string()),
            ("functions".into(), self.functions.to_string()),
            (
                "functions_registered".into(),
                self.functions_registered.to_string(),
            ),
            (
                "apps".into(),
                self.apps.map_or_else(|| "NA".into(), |a| a.to_string()),
            ),
            (
                "first_arrival_s".into(),
                opt(self.first_arrival.map(|t| t.as_secs_f64()), 6),
            ),
            (
                "last_arrival_s".into(),
                opt(self.last_arrival.map(|t| t.as_secs_f64()), 6),
            ),
            (
                "span_s".into(),
                opt(
                    self.first_arrival
                        .zip(self.last_arrival)
                        .map(|(a, b)| b.since(a).as_secs_f64()),
                    6,
                ),
            ),
            ("period_s".into(), num(self.period.as_secs_f64(), 6)),
            ("mean_rate_per_s".into(), opt(self.mean_rate_per_s, 6)),
            (
                "functions_at_most_1_per_hour".into(),
                opt(self.share_at_most_hourly, 4),
            ),
            (
                "functions_at_most_1_per_minute".into(),
                opt(self.share_at_most_minutely, 4),
            ),
        ];
        for k in RATE_CDF_DECADES {
            let v = self
                .daily_rate_cdf
                .iter()
                .find(|&&(d, _)| d == k)
                .map(|&(_, s)| s);
            rows.push((format!("functions_at_most_1e{k}_per_day"), opt(v, 4)));
        }
        let pct = |rows: &mut Vec<(String, String)>, prefix: &str, p: Option<Percentiles>| {
            for (name, f) in [
                ("p1", (|p: Percentiles| p.p1) as fn(Percentiles) -> f64),
                ("p25", |p| p.p25),
                ("p50", |p| p.p50),
                ("p75", |p| p.p75),
                ("p99", |p| p.p99),
                ("max", |p| p.max),
                ("mean", |p| p.mean),
            ] {
                rows.push((format!("{prefix}_{name}"), opt(p.map(f), 3)));
            }
        };
        pct(&mut rows, "duration_ms", self.duration_ms);
        rows.push((
            "functions_mean_duration_under_1s".into(),
            opt(self.share_mean_duration_under_1s, 4),
        ));
        pct(&mut rows, "memory_mb", self.memory_mb);
        match &self.triggers {
            None => rows.push(("triggers".into(), "NA".into())),
            Some(mix) => {
                for m in mix {
                    rows.push((
                        format!("trigger_{}_functions", m.trigger),
                        num(m.share_functions, 4),
                    ));
                    rows.push((
                        format!("trigger_{}_invocations", m.trigger),
                        num(m.share_invocations, 4),
                    ));
                }
            }
        }
        rows.push(("cv_functions".into(), self.cv_functions.to_string()));
        rows.push(("cv_median".into(), opt(self.cv_median, 4)));
        rows.push(("cv_share_above_1".into(), opt(self.cv_share_above_1, 4)));
        rows.push(("cv_overall".into(), opt(self.cv_overall, 4)));
        rows.into_iter()
            .map(|(metric, value)| StatsRow { metric, value })
            .collect()
    }

    /// Writes [`rows`](Self::rows) as CSV with the header `metric,value`.
    pub fn write_csv(&self, out: impl Write) -> Result<(), TraceError> {
        let mut w = ::csv::Writer::from_writer(out);
        for r in self.rows() {
            w.serialize(r).map_err(|e| TraceError::Write {
                source: std::io::Error::other(e),
            })?;
        }
        w.flush().map_err(|source| TraceError::Write { source })
    }
}

impl fmt::Display for TraceStats {
    /// An aligned two-column table, one metric per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = self.rows();
        let width = rows.iter().map(|r| r.metric.len()).max().unwrap_or(0);
        for r in rows {
            writeln!(f, "{:<width$}  {}", r.metric, r.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_sim::{FunctionSpec, VecSource};

    fn arrival(t_s: f64, f: u32, d_ms: u64) -> Arrival {
        Arrival {
            time: SimTime((t_s * 1e6) as u64),
            function: FunctionId(f),
            duration: SimDuration(d_ms * 1000),
            cold_start: None,
            mode: None,
        }
    }

    fn spec(name: &str, mb: u32) -> FunctionSpec {
        FunctionSpec {
            name: name.into(),
            memory_mb: mb,
        }
    }

    /// Four functions over a 2-hour horizon:
    /// - `a`: every 10 minutes from t = 0 (13 invocations, gaps all 600 s: CV 0), 100 ms;
    /// - `b`: at 0, 1, 4 s (gaps 1 and 3 s: mean 2, population SD 1, CV 0.5), 2 s each;
    /// - `c`: once, at 3600 s, 500 ms;
    /// - `d`: registered, never invoked.
    fn fixture() -> VecSource {
        let mut v = Vec::new();
        for i in 0..13 {
            v.push(arrival(600.0 * i as f64, 0, 100));
        }
        for t in [0.0, 1.0, 4.0] {
            v.push(arrival(t, 1, 2000));
        }
        v.push(arrival(3600.0, 2, 500));
        v.sort_by_key(|a| (a.time, a.function));
        VecSource::new(
            vec![
                spec("a", 128),
                spec("b", 256),
                spec("c", 1024),
                spec("d", 64),
            ],
            v,
        )
        .with_horizon(SimTime(7_200_000_000))
    }

    #[test]
    fn hand_made_trace_has_its_known_answers() {
        let s = trace_stats(&mut fixture(), &StatsOptions::default()).unwrap();
        assert_eq!(s.invocations, 17);
        assert_eq!(s.functions, 3);
        assert_eq!(s.functions_registered, 4);
        assert_eq!(s.apps, None);
        assert_eq!(s.first_arrival, Some(SimTime(0)));
        assert_eq!(s.last_arrival, Some(SimTime(7_200_000_000)));
        // Horizon 7200 s = last arrival; T = 7200 s.
        assert_eq!(s.period, SimDuration(7_200_000_000));
        assert_eq!(s.mean_rate_per_s, Some(17.0 / 7200.0));
        // At most once per hour over 2 h: at most 2 invocations -> c only. Per minute: at
        // most 120 -> all three.
        assert_eq!(s.share_at_most_hourly, Some(1.0 / 3.0));
        assert_eq!(s.share_at_most_minutely, Some(1.0));
        // Per day: a 156, b 36, c 12. <= 1: none; <= 10: none; <= 100: b, c; <= 1000: all.
        assert_eq!(
            &s.daily_rate_cdf[..4],
            &[(0, 0.0), (1, 0.0), (2, 2.0 / 3.0), (3, 1.0)]
        );
        let d = s.duration_ms.unwrap();
        // 13 × 100, 1 × 500, 3 × 2000: ranks of 17 values.
        assert_eq!((d.p1, d.p25, d.p50, d.p75), (100.0, 100.0, 100.0, 100.0));
        assert_eq!((d.p99, d.max), (2000.0, 2000.0));
        assert!((d.mean - (1300.0 + 500.0 + 6000.0) / 17.0).abs() < 1e-9);
        // Means: a 0.1 s, b 2 s, c 0.5 s.
        assert_eq!(s.share_mean_duration_under_1s, Some(2.0 / 3.0));
        let m = s.memory_mb.unwrap();
        assert_eq!((m.p1, m.p50, m.max), (128.0, 256.0, 1024.0));
        assert_eq!(s.triggers, None);
        // CV: a 0 (exactly periodic), b 0.5; c has one invocation.
        assert_eq!(s.cv_functions, 2);
        assert_eq!(s.cv_median, Some(0.0));
        assert_eq!(s.cv_share_above_1, Some(0.0));
        // Merged gaps: 0, 1, 3, 596, 600 × 5, 0, 600 × 6 (16 gaps, mean 450 s).
        let gaps = [0.0, 1.0, 3.0, 596.0]
            .into_iter()
            .chain([600.0; 5])
            .chain([0.0])
            .chain([600.0; 6])
            .collect::<Vec<f64>>();
        let mean = gaps.iter().sum::<f64>() / 16.0;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / 16.0;
        assert!((s.cv_overall.unwrap() - var.sqrt() / mean).abs() < 1e-12);
        // The table prints and has one row per metric, aligned on the longest name.
        let text = s.to_string();
        let w = "functions_mean_duration_under_1s".len();
        assert!(
            text.contains(&format!("\n{:<w$}  3\n", "functions")),
            "{text}"
        );
        assert!(text.contains(&format!("\n{:<w$}  NA\n", "apps")), "{text}");
        let rows = s.rows();
        assert_eq!(rows.len(), text.lines().count());
        let mut csv = Vec::new();
        s.write_csv(&mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.starts_with("metric,value\ninvocations,17\nfunctions,3\n"),
            "{csv}"
        );
    }

    #[test]
    fn exact_cv_for_deterministic_gaps() {
        // x: gaps 1 s, 3 s: mean 2, population SD 1, CV 0.5 exactly.
        let mut c = StatsCollector::new();
        for t in [0.0, 1.0, 4.0] {
            c.add(&arrival(t, 0, 1));
        }
        for t in [0.0, 1.0, 2.0, 6.0] {
            c.add(&arrival(10.0 + t, 1, 1));
        }
        let mut table = FunctionTable::new();
        table.push(spec("x", 1));
        table.push(spec("y", 1));
        let s = c.finish(&table, None, None, &StatsOptions::default());
        assert_eq!(s.cv_functions, 2);
        // y: gaps 1, 1, 4: mean 2, population variance 2, CV sqrt(2) / 2.
        // Sorted CVs: 0.5, 0.7071; the median (nearest rank of 2) is 0.5.
        assert_eq!(s.cv_median, Some(0.5));
        assert_eq!(s.cv_share_above_1, Some(0.0));
        // No horizon: T = last − first = 16 s.
        assert_eq!(s.period, SimDuration(16_000_000));
    }

    #[test]
    fn apps_and_triggers_come_from_function_info() {
        struct Info;
        impl TraceInfo for Info {
            fn app_of(&self, f: FunctionId) -> Option<String> {
                Some(if f.0 < 2 { "app1" } else { "app2" }.into())
            }
            fn trigger_of(&self, f: FunctionId) -> Option<String> {
                (f.0 != 2).then(|| if f.0 == 0 { "timer" } else { "http" }.into())
            }
        }
        let mut src = fixture();
        let mut table = FunctionTable::new();
        let mut c = StatsCollector::new();
        while let Some(a) = src.next_arrival(&mut table).unwrap() {
            c.add(&a);
        }
        let s = c.finish(&table, Some(&Info), src.horizon(), &StatsOptions::default());
        assert_eq!(s.apps, Some(2));
        let mix = s.triggers.clone().unwrap();
        let names: Vec<&str> = mix.iter().map(|m| m.trigger.as_str()).collect();
        assert_eq!(names, ["http", "timer", "unknown"]);
        assert_eq!(mix[1].invocations, 13);
        assert_eq!(mix[1].share_functions, 1.0 / 3.0);
        assert_eq!(mix[1].share_invocations, 13.0 / 17.0);
        let text = s.to_string();
        assert!(text.contains("trigger_timer_invocations"), "{text}");
    }

    #[test]
    fn empty_trace_is_all_na_not_a_panic() {
        let mut src = VecSource::new(vec![spec("a", 1)], vec![]);
        let s = trace_stats(&mut src, &StatsOptions::default()).unwrap();
        assert_eq!(
            (s.invocations, s.functions, s.functions_registered),
            (0, 0, 1)
        );
        assert_eq!(s.duration_ms, None);
        assert_eq!(s.mean_rate_per_s, None);
        assert!(s.to_string().contains("NA"));
        // A period override gives rates even without a horizon.
        let s = trace_stats(
            &mut fixture(),
            &StatsOptions {
                period_s: Some(86_400.0),
            },
        )
        .unwrap();
        assert_eq!(s.period, SimDuration(86_400_000_000));
        // Over a day: a 13, b 3, c 1 -> all at most once per hour.
        assert_eq!(s.share_at_most_hourly, Some(1.0));
    }
}
