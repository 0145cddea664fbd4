//! # faasim-traces: where workloads come from
//!
//! The engine replays a *workload*: a table of functions and a time-ordered stream of
//! arrivals ([`faasim_sim::ArrivalSource`]). This crate produces that stream, either from a
//! trace file or from a generator, and never holds the whole of it in memory: a source hands
//! the engine one arrival at a time and registers functions in the engine's
//! [`FunctionTable`] as it first meets them.
//!
//! ## Choosing a trace
//! A scenario's `[trace]` table is a [`TraceSpec`], tagged by `format`. Every table rejects
//! unknown keys, and relative paths are relative to the scenario file's folder.
//!
//! | `format` | what | spec | keys (defaults) |
//! |---|---|---|---|
//! | `csv` | the canonical CSV trace | [`TraceSpec::Csv`] | `path` |
//! | `synthetic` | the built-in generator | [`SyntheticSpec`] | all optional |
//! | `azure-like` | a generator fitted to the Azure 2019 characterisation | [`AzureLikeSpec`] | `functions` (1000), `duration_s` (86400), `rate_scale` (1), `invocation_sigma` (0.5), `timer_jitter_ms` (100) |
//! | `azure2019` | Azure Functions 2019 (Shahrad et al., ATC'20) | [`Azure2019Spec`] | `invocations`, `durations`, `memory` (a path or a list), `spread` (`"equidistant"`), `unit` (`"app"`), `missing_durations` (`"error"`) |
//! | `azure2021` | Azure Functions 2021 (Zhang et al., SOSP'21) | [`Azure2021Spec`] | `path`, `unit` (`"app"`) |
//! | `azure-llm-2023` | Azure LLM inference 2023 (Patel et al., Splitwise, ISCA'24) | [`AzureLlm2023Spec`] | `path`, `function` (`"llm"`), `memory_mb` (81920), `prefill_ms_per_token` (0.2), `decode_ms_per_token` (30), `overhead_ms` (0) |
//! | `huawei2023` | Huawei Cloud 2023 (Joosen et al., SoCC'23) | [`Huawei2023Spec`] | `path` (a path or a list), `duration_ms` (a distribution), `memory_mb`, `spread` (`"equidistant"`), `interval_s` (60) |
//! | `huawei2025` | Huawei Cloud 2025 requests (Joosen et al., EuroSys'25) | [`Huawei2025Spec`] | `path` (a path or a list), `duration` (`"worker"`), `runtimes` (none) |
//!
//! ```toml
//! [trace]
//! format = "csv"
//! path = "traces/day1.csv"
//! ```
//!
//! ```toml
//! [trace]
//! format = "azure2019"
//! invocations = ["d01/invocations.csv", "d02/invocations.csv"]   # one file per day
//! durations = "d01/durations.csv"      # one file, or one per day
//! memory = "d01/memory.csv"            # any number of files, [] for none
//! spread = "poisson"
//! ```
//!
//! [`open`] turns a spec into an [`OpenTrace`], ready for `faasim_sim::run`;
//! [`open_with`] adds [`OpenOptions`] (lenient reading, a sample) and [`open_sampled`] a
//! sample alone; [`convert_to_csv`] writes any opened trace as a canonical CSV file, and
//! [`OpenTrace::stats`] summarises it.
//!
//! ## The canonical CSV trace
//! One row per invocation with the columns `timestamp_ms,function,duration_ms,memory_mb`
//! (found by name, in any order, extra columns allowed) and optionally `cold_start_ms`; see
//! [`csv`] for the exact rules. Milliseconds become integer microseconds once, at the reader.
//! [`convert_to_csv`] writes exact decimal milliseconds, so a converted trace reads back to
//! the very same arrivals.
//!
//! ## The generators
//! - [`synthetic`]: Zipf-distributed function popularity, Poisson or bursty (two-state
//!   Markov-modulated) arrivals, lognormal per-function durations and memory.
//! - [`azure_like`]: a population shaped like the Azure Functions 2019 trace (Shahrad et
//!   al., ATC'20, §3): per-function rates spanning seven orders of magnitude with 45% of
//!   functions invoked at most once per hour and 81% at most once per minute, the paper's
//!   trigger mix with periodic timers, its lognormal fit of mean execution times (about half
//!   under 1 s) and its Burr XII fit of memory. Poisson functions and timers stream from a
//!   heap of per-function next arrivals: O(functions) memory, O(log functions) per arrival
//!   (12–20 M arrivals/s), so a day of 50,000 functions (about 2·10⁹ invocations) runs in
//!   constant memory.
//!
//! ## Published traces
//! The readers take the files as published (columns found by header name, so the layout
//! variants of samplers are read too) and fill in what a trace does not record with
//! documented models. In short (each module has the details and sources):
//!
//! - [`azure2019`]: per-minute counts per function, replayed minute by minute; each minute's
//!   count is placed inside the minute by [`Spread`] — `equidistant` (slot centres, no
//!   randomness), `uniform` (one uniform point per equal slot) or `poisson` (that many
//!   independent uniform points: a Poisson process conditioned on the count). Durations are
//!   drawn from each function's percentile table as a piecewise-linear inverse CDF; a
//!   function without a row uses its row of another day, else is an error (or, with
//!   `missing_durations = "median"`, uses the trace-wide element-wise median table). Memory is the app's `AverageAllocatedMb_pct99` rounded up (the size an
//!   instance must reserve to almost always fit); an app without a row draws from the Burr
//!   XII fit of the paper ([`burr_memory_mb`]: c = 11.652, k = 0.221, λ = 107.083 MB, clamped
//!   to 32–16384 MB). The function-table entry is the app (`unit = "app"`: Azure scales
//!   apps, and all functions of an app share its instances) or the function. Streaming: one
//!   day's sparse minute table (8 bytes per non-zero cell) and one minute's arrivals are in
//!   memory at a time.
//! - [`azure2021`]: one row per invocation, unsorted: the file is read at open into compact
//!   24-byte records and sorted stably by start (`end_timestamp − duration`). Memory is the
//!   Burr fallback per app.
//! - [`azure_llm`]: one row per request, streamed; times relative to the first row; service
//!   time from a linear token model (prefill and decode cost per token; round defaults of the
//!   order Splitwise reports, approximations to be set per model and hardware); one function
//!   with a GPU-sized instance.
//! - [`huawei2023`]: wide per-minute request counts (`time` column plus one column per
//!   function). **Implemented from the published schema with hand-made fixtures only; no real
//!   sample was available.** Durations from a `duration_ms` distribution and one
//!   `memory_mb`, both required.
//! - [`huawei2025`]: one row per request (day 30 of the cold-start release), streamed;
//!   execution time and the pool's memory limit from each row; the release's cold-start
//!   table and runtime table are read by [`huawei2025::ColdStartTable`] and
//!   [`huawei2025::RuntimeTable`] (cold starts drawn from production data). **Written from
//!   the published schema with hand-made fixtures only.**
//!
//! ## Statistics
//! [`OpenTrace::stats`] (or [`trace_stats`] for any [`ArrivalSource`]) reads a trace once, in
//! O(functions) memory, and reports [`TraceStats`]: invocations, functions, apps, span and
//! observation period, mean rate, the per-function rate distribution (shares at most once
//! per hour / minute, the CDF of daily rates at powers of ten, as the paper's Fig. 5),
//! duration percentiles and the share of functions averaging under 1 s, memory percentiles,
//! the trigger mix, and inter-arrival coefficients of variation (median and share above 1
//! over functions, and of the merged stream). It prints as an aligned table and writes as
//! `metric,value` CSV; see [`stats`] for the exact definitions. What only a trace knows
//! (apps, triggers, where its timeline starts) it tells through [`TraceInfo`].
//!
//! ## Sampling
//! A [`SampleSpec`] (the scenario's `[sample]` table, every key optional) keeps a window
//! `[from_s, to_s)` shifted to start at 0, a subset of the functions (or apps, with
//! `unit = "app"`) — `random`, `top` k by invocations, `representative` (stratified by rate
//! quantile), `rare` (below a rate) — and thins the rest with `keep_fraction`, all seeded by
//! streams of their own. Kept functions get dense ids in order of first appearance. Choosing
//! functions by their counts reads the trace twice (a counting pass, then the replay); see
//! [`sample`].
//!
//! ## Lenient reading
//! With [`OpenOptions::lenient`], the row-oriented readers (`csv`, `azure2021`,
//! `azure-llm-2023`, `huawei2025`) skip a row with a bad or out-of-range field, fields that do not fit
//! together, or the wrong number of fields, and count it ([`OpenTrace::skipped_rows`],
//! [`OpenTrace::first_skipped`]) instead of failing. Rows out of time order still fail: they
//! usually mean the whole file is unsorted, and skipping them would silently drop much of
//! the trace. Empty files, bad headers, missing files, records longer than
//! [`limits::MAX_RECORD_BYTES`], quotes left open at the end of the file and I/O errors
//! always fail. `azure2019` uses the option for
//! duplicate rows only (the first row of a key wins, the others are counted); `huawei2023`
//! and the generators ignore it.
//!
//! ## Limits
//! Every reader and generator bounds what one input can ask for ([`limits`]): times and
//! durations within 100 years, records within 1 MiB, counts per bin, generated functions
//! and expected invocations. Beyond a bound the input is refused with a one-line error
//! naming the file, line and column (or the key) and the bound; arithmetic on input times
//! is checked, never saturated.
//!
//! ## Randomness
//! Everything random draws from the run seed's named streams ([`faasim_sim::rng::streams`]),
//! never from a policy's stream, so every policy of a comparison sees exactly the same
//! invocations: `arrivals` (placing counts inside a bin, the generator's arrivals),
//! `durations` (execution-time draws), `functions` (the generator's function properties;
//! the Burr memory fallback uses `functions/memory/<app id>`, one stream per app, so an app's
//! memory does not depend on which other apps a trace holds). The azure-like generator uses
//! one stream of each kind per function (`functions/<k>`, `arrivals/<k>`, `durations/<k>`).
//! Sampling draws from `sample/functions` and `sample/keep` (of the run seed, or of the
//! sample's own `seed`), never from the trace's streams, so a sample keeps exactly the
//! invocations the full trace has.
//!
//! ## Reproducibility
//! A file-backed source computes the SHA-256 of the bytes it reads while it streams them (no
//! second pass); [`OpenTrace::checksum_hex`] gives it once the run has read the files to
//! their end, for the run's manifest. A trace of several files reports the SHA-256 of their
//! SHA-256 digests (in the order the reader documents). A generated trace is reproduced by
//! its parameters and seed instead. A sample whose window ends before the end of a file
//! does not read the file to its end, and so has no checksum.
//!
//! ## Errors
//! Bad input is a [`TraceError`], never a panic: one line that names the file, the line
//! (1-based, the header is line 1), the column, what was expected and what was found. The
//! engine receives it boxed as a `SourceError` and stops the run. Headers (and the side
//! files of the Azure 2019 trace, and the whole Azure 2021 file) are checked when the trace
//! is opened; the rows of a streamed file when the replay reaches them.

#![warn(missing_docs)]

pub mod azure2019;
pub mod azure2021;
pub mod azure_like;
pub mod azure_llm;
mod common;
mod convert;
pub mod csv;
mod error;
mod fast_rows;
pub mod huawei2023;
pub mod huawei2025;
pub mod limits;
pub mod prefetch;
mod rows;
pub mod sample;
pub mod stats;
pub mod synthetic;

pub use crate::azure2019::{Azure2019Source, Azure2019Spec, MissingDurations};
pub use crate::azure2021::{Azure2021Source, Azure2021Spec};
pub use crate::azure_like::{AzureLikeSource, AzureLikeSpec, FunctionProfile};
pub use crate::azure_llm::{AzureLlm2023Source, AzureLlm2023Spec};
pub use crate::common::{
    burr_memory_mb, burr_quantile_mb, DeployUnit, PathList, Spread, BURR_C, BURR_K, BURR_LAMBDA_MB,
    BURR_MAX_MB, BURR_MIN_MB,
};
pub use crate::convert::{convert_to_csv, convert_to_csv_with};
pub use crate::csv::CsvSource;
pub use crate::error::TraceError;
pub use crate::huawei2023::{Huawei2023Source, Huawei2023Spec};
pub use crate::huawei2025::{Huawei2025Source, Huawei2025Spec};
pub use crate::limits::MAX_COUNT_PER_BIN;
pub use crate::prefetch::Prefetch;
pub use crate::sample::{SampleSpec, SampledSource, Select};
pub use crate::stats::{
    trace_stats, Percentiles, StatsCollector, StatsOptions, StatsRow, TraceStats, TriggerMix,
};
pub use crate::synthetic::{ArrivalPattern, SyntheticSource, SyntheticSpec};

use faasim_sim::{Arrival, ArrivalSource, FunctionId, FunctionTable, SimTime, SourceError};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The `[trace]` table of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TraceSpec {
    /// A canonical CSV trace; a relative `path` is relative to the scenario file's folder.
    Csv {
        /// The CSV file.
        path: PathBuf,
    },
    /// The built-in generator.
    Synthetic(SyntheticSpec),
    /// Azure Functions 2019 (per-minute counts, duration and memory percentiles).
    #[serde(rename = "azure2019")]
    Azure2019(Azure2019Spec),
    /// Azure Functions 2021 (one row per invocation, unsorted).
    #[serde(rename = "azure2021")]
    Azure2021(Azure2021Spec),
    /// Azure LLM inference 2023 (one row per request, tokens).
    #[serde(rename = "azure-llm-2023")]
    AzureLlm2023(AzureLlm2023Spec),
    /// Huawei Cloud 2023 (per-minute request counts, wide layout).
    #[serde(rename = "huawei2023")]
    Huawei2023(Huawei2023Spec),
    /// Huawei Cloud 2025 (one row per request, day 30 of the cold-start release).
    #[serde(rename = "huawei2025")]
    Huawei2025(Huawei2025Spec),
    /// The Azure-like generator (rates, triggers, durations and memory after Shahrad et al.).
    #[serde(rename = "azure-like")]
    AzureLike(AzureLikeSpec),
}

impl TraceSpec {
    /// Checks what can be checked without opening files (parameters, file counts).
    pub fn validate(&self) -> Result<(), TraceError> {
        match self {
            TraceSpec::Csv { .. } | TraceSpec::Azure2021(_) => Ok(()),
            TraceSpec::Synthetic(s) => s.validate(),
            TraceSpec::Azure2019(s) => s.validate(),
            TraceSpec::AzureLlm2023(s) => s.validate(),
            TraceSpec::Huawei2023(s) => s.validate(),
            TraceSpec::Huawei2025(s) => s.validate(),
            TraceSpec::AzureLike(s) => s.validate(),
        }
    }
}

/// What a source knows beyond the arrivals and the [`FunctionTable`] (names and memory):
/// the app and trigger of the functions it registered, and where its timeline starts — for
/// statistics ([`OpenTrace::stats`]) and sampling. `function` is an id the source itself
/// registered; every method answers `None` when the trace does not record the fact (the
/// default, so `impl TraceInfo for MySource {}` is enough for a source that knows nothing
/// more). Implemented by [`OpenTrace`] and by the readers that know something: Azure 2019
/// (apps, triggers where the files have a `Trigger` column, its start), Azure 2021 (apps),
/// the canonical CSV trace (apps, from an optional `app` column), the azure-like generator
/// (triggers) and [`SampledSource`] (whatever its inner source knows).
pub trait TraceInfo {
    /// The id of the function's application (any text that is equal for functions of the
    /// same app and differs otherwise).
    fn app_of(&self, function: FunctionId) -> Option<String> {
        let _ = function;
        None
    }
    /// The function's trigger as the trace names it (`http`, `timer`, `queue`, …).
    fn trigger_of(&self, function: FunctionId) -> Option<String> {
        let _ = function;
        None
    }
    /// Where the trace's observation starts, if not at time 0: an Azure 2019 trace whose
    /// first day holds a window of minutes (`480…959`) starts at the window (479 min). With
    /// the horizon it bounds the period over which rates are computed ([`stats`]).
    fn start(&self) -> Option<SimTime> {
        None
    }
}

/// A source in memory knows nothing more.
impl TraceInfo for faasim_sim::VecSource {}

/// A reader-parameter error.
pub(crate) fn spec_error(
    format: &'static str,
    key: &'static str,
    message: impl Into<String>,
) -> TraceError {
    TraceError::Spec {
        format,
        key,
        message: message.into(),
    }
}

/// An opened trace: an arrival source for the engine, plus what the manifest records.
#[derive(Debug)]
pub struct OpenTrace {
    source: Source,
    /// Arrivals handed out so far.
    arrivals: u64,
}

/// The plain variant is the common one and is kept inline (no indirection per arrival); the
/// sampled one, rarer and larger, is boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Source {
    Plain(Inner),
    Sampled(Box<SampledSource<Inner>>),
}

#[derive(Debug)]
enum Inner {
    Csv(CsvSource<File>),
    Synthetic(SyntheticSource),
    Azure2019(Box<Azure2019Source>),
    Azure2021(Azure2021Source),
    AzureLlm2023(AzureLlm2023Source),
    Huawei2023(Huawei2023Source),
    Huawei2025(Huawei2025Source),
    AzureLike(AzureLikeSource),
}

impl Inner {
    fn source(&mut self) -> &mut dyn ArrivalSource {
        match self {
            Inner::Csv(s) => s,
            Inner::Synthetic(s) => s,
            Inner::Azure2019(s) => s.as_mut(),
            Inner::Azure2021(s) => s,
            Inner::AzureLlm2023(s) => s,
            Inner::Huawei2023(s) => s,
            Inner::Huawei2025(s) => s,
            Inner::AzureLike(s) => s,
        }
    }

    fn checksum_hex(&self) -> Option<String> {
        match self {
            Inner::Csv(s) => s.checksum_hex(),
            Inner::Synthetic(_) | Inner::AzureLike(_) => None,
            Inner::Azure2019(s) => s.checksum_hex(),
            Inner::Azure2021(s) => s.checksum_hex(),
            Inner::AzureLlm2023(s) => s.checksum_hex(),
            Inner::Huawei2023(s) => s.checksum_hex(),
            Inner::Huawei2025(s) => s.checksum_hex(),
        }
    }

    fn skipped(&self) -> (u64, Option<&str>) {
        match self {
            Inner::Csv(s) => (s.skipped_rows(), s.first_skipped()),
            Inner::Azure2019(s) => (s.skipped_rows(), s.first_skipped()),
            Inner::Azure2021(s) => (s.skipped_rows(), s.first_skipped()),
            Inner::AzureLlm2023(s) => (s.skipped_rows(), s.first_skipped()),
            Inner::Huawei2025(s) => (s.skipped_rows(), s.first_skipped()),
            _ => (0, None),
        }
    }

    fn info(&self) -> Option<&dyn TraceInfo> {
        match self {
            Inner::Csv(s) => Some(s),
            Inner::Azure2019(s) => Some(s.as_ref()),
            Inner::Azure2021(s) => Some(s),
            Inner::AzureLike(s) => Some(s),
            Inner::Huawei2025(s) => Some(s),
            _ => None,
        }
    }
}

impl ArrivalSource for Inner {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        self.source().next_arrival(functions)
    }

    fn horizon(&self) -> Option<SimTime> {
        match self {
            Inner::Csv(s) => s.horizon(),
            Inner::Synthetic(s) => s.horizon(),
            Inner::Azure2019(s) => s.horizon(),
            Inner::Azure2021(s) => s.horizon(),
            Inner::AzureLlm2023(s) => s.horizon(),
            Inner::Huawei2023(s) => s.horizon(),
            Inner::Huawei2025(s) => s.horizon(),
            Inner::AzureLike(s) => s.horizon(),
        }
    }

    fn tokens(&self) -> Option<faasim_sim::Tokens> {
        match self {
            Inner::AzureLlm2023(s) => s.tokens(),
            _ => None,
        }
    }
}

impl TraceInfo for Inner {
    fn app_of(&self, function: FunctionId) -> Option<String> {
        self.info()?.app_of(function)
    }
    fn trigger_of(&self, function: FunctionId) -> Option<String> {
        self.info()?.trigger_of(function)
    }
    fn start(&self) -> Option<SimTime> {
        self.info()?.start()
    }
}

impl OpenTrace {
    /// The source to hand to `faasim_sim::run` (the trace itself: sampling included).
    pub fn source_mut(&mut self) -> &mut dyn ArrivalSource {
        self
    }

    fn inner(&self) -> &Inner {
        match &self.source {
            Source::Plain(i) => i,
            Source::Sampled(s) => s.inner(),
        }
    }

    /// Whether the trace says how each invocation is made (a CSV trace with a `mode`
    /// column): a conversion then writes the column too ([`convert_to_csv_with`]).
    pub fn has_modes(&self) -> bool {
        matches!(self.inner(), Inner::Csv(s) if s.has_mode_column())
    }

    /// The hex SHA-256 of the trace file (for a trace of several files, the SHA-256 of their
    /// SHA-256 digests, see each reader), once the run has read it to its end (every
    /// successful run does); `None` before that, for generated traces, and for a sample
    /// whose window ends before the file does (see [`sample`]).
    pub fn checksum_hex(&self) -> Option<String> {
        self.inner().checksum_hex()
    }

    /// How many bad rows lenient mode has skipped so far ([`OpenOptions::lenient`]; always
    /// 0 when strict). Final once the trace has been read to its end.
    pub fn skipped_rows(&self) -> u64 {
        self.inner().skipped().0
    }

    /// The error message of the first row lenient mode skipped, to show the user.
    pub fn first_skipped(&self) -> Option<&str> {
        self.inner().skipped().1
    }

    /// How many arrivals the trace has handed out so far (after sampling). Once the trace
    /// has been read to its end this is its number of invocations: 0 for a file with a
    /// header and no rows, which is a valid, empty workload as far as the readers are
    /// concerned (whether an empty workload may be run is the caller's decision).
    pub fn arrivals_read(&self) -> u64 {
        self.arrivals
    }
}

impl ArrivalSource for OpenTrace {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        let next = match &mut self.source {
            Source::Plain(i) => i.next_arrival(functions),
            Source::Sampled(s) => s.next_arrival(functions),
        };
        if let Ok(Some(_)) = next {
            self.arrivals += 1;
        }
        next
    }

    fn horizon(&self) -> Option<SimTime> {
        match &self.source {
            Source::Plain(i) => i.horizon(),
            Source::Sampled(s) => s.horizon(),
        }
    }

    fn tokens(&self) -> Option<faasim_sim::Tokens> {
        match &self.source {
            Source::Plain(i) => i.tokens(),
            Source::Sampled(s) => s.tokens(),
        }
    }
}

impl TraceInfo for OpenTrace {
    fn app_of(&self, function: FunctionId) -> Option<String> {
        match &self.source {
            Source::Plain(i) => i.app_of(function),
            Source::Sampled(s) => s.app_of(function),
        }
    }
    fn trigger_of(&self, function: FunctionId) -> Option<String> {
        match &self.source {
            Source::Plain(i) => i.trigger_of(function),
            Source::Sampled(s) => s.trigger_of(function),
        }
    }
    fn start(&self) -> Option<SimTime> {
        match &self.source {
            Source::Plain(i) => i.start(),
            Source::Sampled(s) => s.start(),
        }
    }
}

/// How [`open_with`] opens a trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenOptions {
    /// Skip and count bad rows instead of failing (`--lenient`): see
    /// [`OpenTrace::skipped_rows`]. Applies to the row-oriented readers — `csv`,
    /// `azure2021`, `azure-llm-2023` — where one row is one invocation; a bad row is one with
    /// a field that does not parse or is out of range, fields that do not fit together (an
    /// Azure 2021 invocation starting before the trace) or the wrong number of fields. Rows
    /// out of time order stay an error (see [`csv`]), and so do I/O errors, empty files and
    /// bad headers. In `azure2019`, where a row is a whole function-day, it only resolves
    /// duplicate rows (the first row of a key wins, the others are counted); `huawei2023`
    /// and the generators ignore it.
    pub lenient: bool,
    /// A sample to apply (the scenario's `[sample]` table); see [`sample`].
    pub sample: Option<SampleSpec>,
}

/// Opens the trace `spec` describes. Relative paths are resolved against `base_dir` (the
/// scenario file's folder); `seed` is the run seed, used by generators and by the readers'
/// seeded choices (spreading counts, drawing durations and fallback memory). Headers (and the
/// small side files of the Azure 2019 trace, and the whole unsorted Azure 2021 file) are read
/// now, so a missing file or column fails before the run starts.
pub fn open(spec: &TraceSpec, base_dir: &Path, seed: u64) -> Result<OpenTrace, TraceError> {
    open_with(spec, base_dir, seed, &OpenOptions::default())
}

/// [`open`], with a sample (`None` for the whole trace): see [`sample`]. A sample that
/// selects functions opens the trace twice (a counting pass, then the replay).
pub fn open_sampled(
    spec: &TraceSpec,
    sample: Option<&SampleSpec>,
    base_dir: &Path,
    seed: u64,
) -> Result<OpenTrace, TraceError> {
    let opts = OpenOptions {
        lenient: false,
        sample: sample.cloned(),
    };
    open_with(spec, base_dir, seed, &opts)
}

/// [`open`], with options: lenient reading and a sample (see [`OpenOptions`]). The sample
/// spec is checked before any file is opened.
pub fn open_with(
    spec: &TraceSpec,
    base_dir: &Path,
    seed: u64,
    opts: &OpenOptions,
) -> Result<OpenTrace, TraceError> {
    let open_inner = || open_inner(spec, base_dir, seed, opts.lenient);
    let source = match &opts.sample {
        None => Source::Plain(open_inner()?),
        Some(sample) => Source::Sampled(Box::new(SampledSource::new(open_inner, sample, seed)?)),
    };
    Ok(OpenTrace {
        source,
        arrivals: 0,
    })
}

fn open_inner(
    spec: &TraceSpec,
    base_dir: &Path,
    seed: u64,
    lenient: bool,
) -> Result<Inner, TraceError> {
    Ok(match spec {
        TraceSpec::Csv { path } => {
            Inner::Csv(CsvSource::from_path(&base_dir.join(path))?.lenient(lenient))
        }
        TraceSpec::Synthetic(s) => Inner::Synthetic(SyntheticSource::new(s, seed)?),
        TraceSpec::Azure2019(s) => Inner::Azure2019(Box::new(Azure2019Source::open_lenient(
            s, base_dir, seed, lenient,
        )?)),
        TraceSpec::Azure2021(s) => {
            Inner::Azure2021(Azure2021Source::open_lenient(s, base_dir, seed, lenient)?)
        }
        TraceSpec::AzureLlm2023(s) => {
            Inner::AzureLlm2023(AzureLlm2023Source::open_lenient(s, base_dir, lenient)?)
        }
        TraceSpec::Huawei2023(s) => Inner::Huawei2023(Huawei2023Source::open(s, base_dir, seed)?),
        TraceSpec::Huawei2025(s) => {
            Inner::Huawei2025(Huawei2025Source::open_lenient(s, base_dir, lenient)?)
        }
        TraceSpec::AzureLike(s) => Inner::AzureLike(AzureLikeSource::new(s, seed)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_sim::DistSpec;

    /// Parses a `[trace]` table as a scenario would.
    fn parse(text: &str) -> Result<TraceSpec, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Scenario {
            trace: TraceSpec,
        }
        toml::from_str::<Scenario>(text)
            .map(|s| s.trace)
            .map_err(|e| e.to_string())
    }

    fn round_trip(spec: &TraceSpec) {
        let text = toml::to_string(spec).unwrap();
        let back: TraceSpec = toml::from_str(&text).unwrap();
        assert_eq!(&back, spec, "{text}");
    }

    #[test]
    fn synthetic_alone_is_all_defaults() {
        let spec = parse("[trace]\nformat = \"synthetic\"\n").unwrap();
        assert_eq!(spec, TraceSpec::Synthetic(SyntheticSpec::default()));
        round_trip(&spec);
    }

    #[test]
    fn every_synthetic_key_parses_and_round_trips() {
        let spec = parse(
            r#"
            [trace]
            format = "synthetic"
            functions = 50
            duration_s = 600
            rate_per_s = 2.5
            zipf_s = 0.8
            arrivals = "bursty"
            burst_factor = 3
            burst_on_s = 5
            burst_off_s = 20.5
            duration_median_ms = 80
            duration_sigma = 0.5
            invocation_sigma = 0.1
            duration_ms = { dist = "exponential", mean_ms = 50 }
            memory_median_mb = 512
            memory_sigma = 0.25
            memory_min_mb = 64
            memory_max_mb = 10240
            memory_mb = 1024
            "#,
        )
        .unwrap();
        let expected = TraceSpec::Synthetic(SyntheticSpec {
            functions: 50,
            duration_s: 600.0,
            rate_per_s: 2.5,
            zipf_s: 0.8,
            arrivals: ArrivalPattern::Bursty,
            burst_factor: 3.0,
            burst_on_s: 5.0,
            burst_off_s: 20.5,
            duration_median_ms: 80.0,
            duration_sigma: 0.5,
            invocation_sigma: 0.1,
            duration_ms: Some(DistSpec::Exponential { mean_ms: 50.0 }),
            memory_median_mb: 512.0,
            memory_sigma: 0.25,
            memory_min_mb: 64,
            memory_max_mb: 10240,
            memory_mb: Some(1024),
        });
        assert_eq!(spec, expected);
        assert!(spec.validate().is_ok());
        round_trip(&spec);
    }

    #[test]
    fn csv_parses_and_round_trips() {
        let spec = parse("[trace]\nformat = \"csv\"\npath = \"traces/day1.csv\"\n").unwrap();
        assert_eq!(
            spec,
            TraceSpec::Csv {
                path: "traces/day1.csv".into()
            }
        );
        round_trip(&spec);
    }

    #[test]
    fn unknown_keys_and_formats_are_named() {
        let e = parse("[trace]\nformat = \"synthetic\"\nrate_per_sec = 3\n").unwrap_err();
        assert!(e.contains("unknown field `rate_per_sec`"), "{e}");
        let e = parse("[trace]\nformat = \"csv\"\npath = \"a.csv\"\nlenient = true\n").unwrap_err();
        assert!(e.contains("unknown field `lenient`"), "{e}");
        let e = parse("[trace]\nformat = \"azure\"\n").unwrap_err();
        assert!(e.contains("unknown variant `azure`"), "{e}");
        let e = parse("[trace]\nformat = \"csv\"\n").unwrap_err();
        assert!(e.contains("missing field `path`"), "{e}");
        let e = parse("[trace]\npath = \"a.csv\"\n").unwrap_err();
        assert!(e.contains("format"), "{e}");
        let e = parse("[trace]\nformat = \"synthetic\"\narrivals = \"poison\"\n").unwrap_err();
        assert!(e.contains("poison"), "{e}");
        let e = parse(
            "[trace]\nformat = \"synthetic\"\nduration_ms = { dist = \"exponential\", mean = 5 }\n",
        )
        .unwrap_err();
        assert!(e.contains("unknown field `mean`"), "{e}");
    }

    #[test]
    fn azure2019_parses_with_defaults_and_round_trips() {
        let spec = parse(
            "[trace]\nformat = \"azure2019\"\ninvocations = \"inv.csv\"\n\
             durations = \"dur.csv\"\nmemory = \"mem.csv\"\n",
        )
        .unwrap();
        assert_eq!(
            spec,
            TraceSpec::Azure2019(Azure2019Spec {
                invocations: "inv.csv".into(),
                durations: "dur.csv".into(),
                memory: "mem.csv".into(),
                spread: Spread::Equidistant,
                unit: DeployUnit::App,
                missing_durations: MissingDurations::Error,
            })
        );
        round_trip(&spec);
        let spec = parse(
            r#"
            [trace]
            format = "azure2019"
            invocations = ["d01.csv", "d02.csv"]
            durations = ["r01.csv", "r02.csv"]
            memory = []
            spread = "poisson"
            unit = "function"
            "#,
        )
        .unwrap();
        let TraceSpec::Azure2019(s) = &spec else {
            panic!("{spec:?}")
        };
        assert_eq!(s.invocations.len(), 2);
        assert!(s.memory.is_empty());
        assert_eq!((s.spread, s.unit), (Spread::Poisson, DeployUnit::Function));
        assert!(spec.validate().is_ok());
        round_trip(&spec);
        let spec = parse(
            "[trace]\nformat = \"azure2019\"\ninvocations = \"i\"\ndurations = \"d\"\n\
             memory = \"m\"\nspread = \"uniform\"\n",
        )
        .unwrap();
        round_trip(&spec);
    }

    #[test]
    fn azure2021_llm_and_huawei_parse_and_round_trip() {
        let spec = parse("[trace]\nformat = \"azure2021\"\npath = \"t.csv\"\n").unwrap();
        assert_eq!(
            spec,
            TraceSpec::Azure2021(Azure2021Spec {
                path: "t.csv".into(),
                unit: DeployUnit::App
            })
        );
        round_trip(&spec);
        let spec =
            parse("[trace]\nformat = \"azure2021\"\npath = \"t.csv\"\nunit = \"function\"\n")
                .unwrap();
        round_trip(&spec);

        let spec = parse("[trace]\nformat = \"azure-llm-2023\"\npath = \"c.csv\"\n").unwrap();
        assert_eq!(
            spec,
            TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("c.csv"))
        );
        round_trip(&spec);
        let spec = parse(
            r#"
            [trace]
            format = "azure-llm-2023"
            path = "c.csv"
            function = "code"
            memory_mb = 40960
            prefill_ms_per_token = 0.5
            decode_ms_per_token = 20
            overhead_ms = 3
            "#,
        )
        .unwrap();
        assert_eq!(
            spec,
            TraceSpec::AzureLlm2023(AzureLlm2023Spec {
                path: "c.csv".into(),
                function: "code".into(),
                memory_mb: 40960,
                prefill_ms_per_token: 0.5,
                decode_ms_per_token: 20.0,
                overhead_ms: 3.0,
                functions: 1,
            })
        );
        assert!(spec.validate().is_ok());
        round_trip(&spec);

        let spec = parse(
            r#"
            [trace]
            format = "huawei2023"
            path = ["day_00.csv", "day_01.csv"]
            duration_ms = { dist = "lognormal", median_ms = 100, sigma = 1.0 }
            memory_mb = 256
            "#,
        )
        .unwrap();
        assert_eq!(
            spec,
            TraceSpec::Huawei2023(Huawei2023Spec {
                path: PathList::Many(vec!["day_00.csv".into(), "day_01.csv".into()]),
                duration_ms: DistSpec::Lognormal {
                    median_ms: 100.0,
                    sigma: 1.0
                },
                memory_mb: 256,
                spread: Spread::Equidistant,
                interval_s: 60.0,
            })
        );
        round_trip(&spec);
        let spec = parse(
            "[trace]\nformat = \"huawei2023\"\npath = \"d.csv\"\nmemory_mb = 1\n\
             duration_ms = { dist = \"constant\", value_ms = 5 }\nspread = \"uniform\"\n\
             interval_s = 1\n",
        )
        .unwrap();
        assert!(spec.validate().is_ok());
        round_trip(&spec);
    }

    #[test]
    fn new_formats_reject_unknown_and_missing_keys() {
        let base = "invocations = \"i\"\ndurations = \"d\"\nmemory = \"m\"\n";
        let e = parse(&format!(
            "[trace]\nformat = \"azure2019\"\n{base}days = 2\n"
        ))
        .unwrap_err();
        assert!(e.contains("unknown field `days`"), "{e}");
        let e = parse("[trace]\nformat = \"azure2019\"\ninvocations = \"i\"\ndurations = \"d\"\n")
            .unwrap_err();
        assert!(e.contains("missing field `memory`"), "{e}");
        let e = parse(&format!(
            "[trace]\nformat = \"azure2019\"\n{base}spread = \"bursty\"\n"
        ))
        .unwrap_err();
        assert!(e.contains("bursty"), "{e}");
        let e = parse(&format!(
            "[trace]\nformat = \"azure2019\"\n{base}unit = \"owner\"\n"
        ))
        .unwrap_err();
        assert!(e.contains("owner"), "{e}");
        let e =
            parse("[trace]\nformat = \"azure2021\"\npath = \"t\"\nmemory_mb = 5\n").unwrap_err();
        assert!(e.contains("unknown field `memory_mb`"), "{e}");
        let e = parse("[trace]\nformat = \"azure-llm-2023\"\npath = \"t\"\nprefill_ms = 5\n")
            .unwrap_err();
        assert!(e.contains("unknown field `prefill_ms`"), "{e}");
        let e = parse("[trace]\nformat = \"azure-llm-2023\"\n").unwrap_err();
        assert!(e.contains("missing field `path`"), "{e}");
        let e = parse(
            "[trace]\nformat = \"huawei2023\"\npath = \"d\"\nmemory_mb = 1\n\
             duration_ms = { dist = \"constant\", value_ms = 5 }\ninterval = 1\n",
        )
        .unwrap_err();
        assert!(e.contains("unknown field `interval`"), "{e}");
        let e =
            parse("[trace]\nformat = \"huawei2023\"\npath = \"d\"\nmemory_mb = 1\n").unwrap_err();
        assert!(e.contains("missing field `duration_ms`"), "{e}");
        let e = parse("[trace]\nformat = \"azure-llm2023\"\npath = \"t\"\n").unwrap_err();
        assert!(e.contains("unknown variant `azure-llm2023`"), "{e}");
    }

    #[test]
    fn validate_checks_reader_parameters() {
        let mut llm = AzureLlm2023Spec::new("x");
        llm.memory_mb = 0;
        let e = TraceSpec::AzureLlm2023(llm)
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(e, "azure-llm-2023 trace, key `memory_mb`: must be > 0");
        let hw = Huawei2023Spec {
            path: PathList::Many(vec![]),
            duration_ms: DistSpec::Constant { value_ms: 1.0 },
            memory_mb: 1,
            spread: Spread::Equidistant,
            interval_s: 60.0,
        };
        let e = TraceSpec::Huawei2023(hw.clone())
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("huawei2023 trace, key `path`"), "{e}");
        let hw = Huawei2023Spec {
            path: "d".into(),
            duration_ms: DistSpec::Exponential { mean_ms: -1.0 },
            ..hw
        };
        let e = TraceSpec::Huawei2023(hw)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("huawei2023 trace, key `duration_ms`"), "{e}");
        let az = Azure2019Spec::new(PathList::Many(vec![]), "d", "m");
        let e = TraceSpec::Azure2019(az).validate().unwrap_err().to_string();
        assert!(e.starts_with("azure2019 trace, key `invocations`"), "{e}");
    }

    #[test]
    fn sources_can_move_to_worker_threads() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<OpenTrace>();
        assert_send::<CsvSource<File>>();
        assert_send::<SyntheticSource>();
        assert_send::<Azure2019Source>();
        assert_send::<Azure2021Source>();
        assert_send::<AzureLlm2023Source>();
        assert_send::<Huawei2023Source>();
        assert_send::<Huawei2025Source>();
        assert_send::<AzureLikeSource>();
        assert_send::<SampledSource<CsvSource<File>>>();
    }

    #[test]
    fn azure_like_parses_with_defaults_and_round_trips() {
        let spec = parse("[trace]\nformat = \"azure-like\"\n").unwrap();
        assert_eq!(spec, TraceSpec::AzureLike(AzureLikeSpec::default()));
        round_trip(&spec);
        let spec = parse(
            "[trace]\nformat = \"azure-like\"\nfunctions = 50000\nduration_s = 3600\n\
             rate_scale = 0.5\ninvocation_sigma = 0\ntimer_jitter_ms = 0\n",
        )
        .unwrap();
        assert_eq!(
            spec,
            TraceSpec::AzureLike(AzureLikeSpec {
                functions: 50_000,
                duration_s: 3600.0,
                rate_scale: 0.5,
                invocation_sigma: 0.0,
                timer_jitter_ms: 0.0,
            })
        );
        assert!(spec.validate().is_ok());
        round_trip(&spec);
        let e = parse("[trace]\nformat = \"azure-like\"\nrate_scale = -1\n")
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("azure-like trace, key `rate_scale`"), "{e}");
    }

    #[test]
    fn validate_checks_generator_parameters_without_opening_anything() {
        let bad = TraceSpec::Synthetic(SyntheticSpec {
            rate_per_s: -1.0,
            ..SyntheticSpec::default()
        });
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("rate_per_s"));
        let csv = TraceSpec::Csv {
            path: "does/not/exist.csv".into(),
        };
        assert!(csv.validate().is_ok());
    }
}
