//! The Azure Functions trace 2019 (Shahrad et al., "Serverless in the Wild: Characterizing
//! and Optimizing the Serverless Workload at a Large Cloud Provider", USENIX ATC'20), as
//! published on the Azure Public Dataset (`AzureFunctionsDataset2019`) and as cut by samplers
//! such as vhive-serverless/invitro.
//!
//! ```toml
//! [trace]
//! format = "azure2019"
//! invocations = ["invocations_per_function_md.anon.d01.csv", "invocations_per_function_md.anon.d02.csv"]
//! durations = ["function_durations_percentiles.anon.d01.csv", "function_durations_percentiles.anon.d02.csv"]
//! memory = "app_memory_percentiles.anon.d01.csv"
//! spread = "equidistant"   # or "uniform", "poisson" (see Spread)
//! unit = "app"             # or "function" (see DeployUnit)
//! missing_durations = "error"   # or "median" (see MissingDurations)
//! ```
//!
//! ## Files
//! Every column is found **by header name** (surrounding spaces ignored), in any order;
//! columns not named below are ignored.
//!
//! - **invocations** (one file per day; required): `HashOwner`, `HashApp`, `HashFunction`
//!   and minute columns, one row per function. A minute column is named `N` or `minute_N`
//!   with N in 1..=1440 (minute N of the day covers `[N−1, N)` minutes). All of them, a
//!   window (`480…959`) or any subset may be present, in any order; every minute column
//!   present is replayed and absent minutes have no arrivals. `Trigger` is optional; the
//!   replay does not use it, but it is reported through [`TraceInfo::trigger_of`] (see
//!   below). A count is an integer >= 0 (`12.0` accepted), at most [`MAX_COUNT_PER_BIN`];
//!   an empty count is an error.
//!   Day k (0-based, the order of the list) starts at k × 1440 minutes, so minute N of day k
//!   is replayed in `[(k·1440 + N − 1)·60 s, (k·1440 + N)·60 s)`; minutes are absolute, so a
//!   window `480…959` starts at 479 minutes, not at 0. With several days, every file must
//!   have the same minute columns as the first (a day with fewer would silently leave a gap
//!   in the replay); at most [`MAX_DAYS`] files.
//! - **durations** (required): `HashOwner`, `HashApp`, `HashFunction`,
//!   `percentile_Average_{0,1,25,50,75,99,100}` in ms, non-decreasing from left to right (a
//!   row out of order is an error naming its line and column), each at most 100 years
//!   ([`MAX_SPAN_MS`](crate::limits::MAX_SPAN_MS)). Where the file has `Minimum` and `Maximum` columns, `Minimum` must not
//!   exceed `Maximum`. Either one file, used for every day, or one per invocations file (same
//!   count), day k using file k.
//! - **memory** (required, may be an empty list): `HashOwner`, `HashApp`,
//!   `AverageAllocatedMb_pct99` (MB, > 0); an extra `HashFunction` column (added by invitro,
//!   or one row per function) is only part of the row's key, since memory is per
//!   application. No file, one file (for every day) or one per invocations file.
//!
//! An empty file (0 bytes, no header) is an error; a header with no rows is a file of no
//! rows (an invocations file of that kind is a day with no invocations).
//!
//! A function is identified by `HashOwner + HashApp + HashFunction` (function hashes are
//! unique only within their app), an application by `HashOwner + HashApp`. Ids must be
//! non-empty UTF-8.
//!
//! **Duplicate rows.** A key (function, or app in a memory file: `HashFunction` included
//! where the file has that column) may have one row per file; a second row is an error
//! naming both lines. In lenient mode (`OpenOptions::lenient`) the first row wins and each
//! later one is skipped and counted ([`Azure2019Source::skipped_rows`]); lenient mode
//! repairs nothing else in this format.
//!
//! ## Arrivals
//! Each minute's count is spread inside the minute by [`Spread`] (stream `arrivals` of the
//! run seed for `uniform` and `poisson`), and the arrivals of the minute are sorted by time,
//! then by the row of the file (ties at the same microsecond keep file order). The replay
//! holds exactly the sum of all counts.
//!
//! ## Durations
//! Each invocation's execution time is one draw (stream `durations`) from its function's
//! percentile table, read as a piecewise-linear inverse CDF through the points
//! (0, p0), (0.01, p1), (0.25, p25), (0.5, p50), (0.75, p75), (0.99, p99), (1, p100) (ms),
//! rounded to whole microseconds. The table is that of the function's own day; a function
//! with no row in its day's file uses its own row in the first durations file that has one.
//! A function with no row in any durations file is an **error** naming the function, the
//! invocations line and the durations files — unless the spec asks for a fallback with
//! `missing_durations = "median"` ([`MissingDurations::Median`]): then it uses the
//! **trace-wide median table**, for each of the seven percentiles the median of that
//! percentile over every row of every durations file (still an error if the durations files
//! have no rows at all). The trace's percentiles are of
//! 30-second averages and exclude cold starts, so the draws are smoother than single
//! invocations and hold no cold-start time. The durations `Count` column is not used:
//! arrivals come from the invocation counts only.
//!
//! ## Memory
//! An application's memory is its `AverageAllocatedMb_pct99`, rounded up to a whole MB (a
//! value of 0, negative or not a number is an error, as is one above 10⁹ MB); with several
//! rows for one app (several days, or one row per function), the largest. The 99th percentile, not the median: a function-table entry is the memory one
//! instance reserves, and an instance sized at the median would be exceeded half of the
//! time, while the 100th percentile is a single (often transient) sample; p99 is what a
//! provider sizing instances to "almost always fit" would choose. An app with no memory row
//! gets a seeded Burr XII draw ([`burr_memory_mb`], keyed by `HashOwner` U+001F `HashApp`,
//! i.e. stream `functions/memory/<HashOwner>\u{1f}<HashApp>`). With
//! `unit = "function"`, each function gets its app's memory.
//!
//! ## Apps, triggers and start
//! [`TraceInfo`] reports, for a registered entry, its app
//! (`HashOwner/HashApp`) and its trigger: with `unit = "function"`, the function's `Trigger`
//! as written (its first non-empty one); with `unit = "app"`, the distinct triggers of the
//! app's functions, sorted and joined by `+` (`http+timer`), as in the paper's per-app
//! trigger combinations. `None` where the files have no `Trigger` column. (At most 64
//! distinct trigger names are tracked per app; the trace has 7.) The trace's start is the
//! start of the first file's first minute column (479 min for a window `480…959`), so that
//! statistics compute rates over the minutes the files cover.
//!
//! ## Streaming and memory use
//! Durations and memory files are read when the trace is opened (small: one row per
//! function or app), as are the headers of every invocations file, so a missing file or
//! column fails before the run starts. An invocations file is read when the replay reaches
//! its day, row by row, into a sparse minute-major table: for each minute, the
//! `(row, count)` pairs with a non-zero count (8 bytes each), so a day costs 8 bytes per
//! non-zero cell plus a few bytes per function, never `functions × 1440`; the previous day's
//! table is dropped first. The arrivals of one minute are generated into one buffer (8 bytes
//! per arrival of that minute) and sorted. A bad row of day k is therefore reported when the
//! replay reaches day k.
//!
//! The checksum is the SHA-256 of the files' SHA-256 digests, in the order invocations,
//! durations, memory, available once the last day has been read.

use crate::common::{spread_into, DeployUnit, PathList, Spread};
use crate::error::TraceError;
use crate::limits::{MAX_ARRIVALS_PER_BIN, MAX_COUNT_PER_BIN, MAX_DAYS};
use crate::rows::{
    combined_digest, count, ms_field, non_negative_f64, one_line, path_text, shown_text, Rows,
    Skipped, Unit,
};
use crate::{burr_memory_mb, spec_error, TraceInfo};
use faasim_sim::rng::streams;
use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, SimDuration, SimRng, SimTime,
    SourceError,
};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};

const OWNER: &str = "HashOwner";
const APP: &str = "HashApp";
const FUNCTION: &str = "HashFunction";
const MEMORY_PCT99: &str = "AverageAllocatedMb_pct99";
/// The duration percentile columns of the durations file, from the 0th to the 100th percentile.
pub const PERCENTILES: [&str; 7] = [
    "percentile_Average_0",
    "percentile_Average_1",
    "percentile_Average_25",
    "percentile_Average_50",
    "percentile_Average_75",
    "percentile_Average_99",
    "percentile_Average_100",
];
/// Where the percentile columns sit on the CDF.
const QUANTILES: [f64; 7] = [0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0];
const MINIMUM: &str = "Minimum";
const MAXIMUM: &str = "Maximum";
const MINUTES_PER_DAY: u64 = 1440;
const MINUTE_US: u64 = 60_000_000;
/// Memory above this many MB (1 PB) is treated as bad input.
const MAX_MEMORY_MB: f64 = 1e9;
const NONE: u32 = u32::MAX;
const TRIGGER: &str = "Trigger";
/// No trigger known (also the cap on distinct trigger names).
const NO_TRIGGER: u8 = u8::MAX;

/// The `[trace]` table of `format = "azure2019"`; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Azure2019Spec {
    /// Per-minute invocation counts: one file per day, replayed one after the other.
    pub invocations: PathList,
    /// Duration percentiles: one file for all days, or one per invocations file.
    pub durations: PathList,
    /// Application memory percentiles: any number of files (an empty list gives every app
    /// the Burr XII fallback).
    pub memory: PathList,
    /// How a minute's count is placed inside the minute (default `equidistant`).
    #[serde(default)]
    pub spread: Spread,
    /// What a function-table entry is (default `app`).
    #[serde(default)]
    pub unit: DeployUnit,
    /// What a function with no row in any durations file gets (default `error`).
    #[serde(default)]
    pub missing_durations: MissingDurations,
}

/// What the reader does with a function that has no row in any durations file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingDurations {
    /// Stop with an error naming the function, its invocations line and the durations
    /// files: its execution times are unknown.
    #[default]
    Error,
    /// Draw its execution times from the trace-wide median table (the element-wise median
    /// of every row of every durations file), i.e. from other functions' rows.
    Median,
}

impl Azure2019Spec {
    /// A spec reading these files, with every other key at its default.
    pub fn new(
        invocations: impl Into<PathList>,
        durations: impl Into<PathList>,
        memory: impl Into<PathList>,
    ) -> Self {
        Self {
            invocations: invocations.into(),
            durations: durations.into(),
            memory: memory.into(),
            spread: Spread::default(),
            unit: DeployUnit::default(),
            missing_durations: MissingDurations::default(),
        }
    }

    /// Checks the file counts (not the files).
    pub fn validate(&self) -> Result<(), TraceError> {
        const F: &str = "azure2019";
        if self.invocations.is_empty() {
            return Err(spec_error(F, "invocations", "must name at least one file"));
        }
        if self.invocations.len() > MAX_DAYS {
            return Err(spec_error(
                F,
                "invocations",
                format!(
                    "names {} files, more than the {MAX_DAYS} days (100 years) a trace may span",
                    self.invocations.len()
                ),
            ));
        }
        if self.durations.is_empty() {
            return Err(spec_error(F, "durations", "must name at least one file"));
        }
        if self.durations.len() != 1 && self.durations.len() != self.invocations.len() {
            return Err(spec_error(
                F,
                "durations",
                format!(
                    "must name one file (for every day) or one per invocations file ({}), \
                     got {}",
                    self.invocations.len(),
                    self.durations.len()
                ),
            ));
        }
        if self.memory.len() > 1 && self.memory.len() != self.invocations.len() {
            return Err(spec_error(
                F,
                "memory",
                format!(
                    "must name no file, one file (for every day) or one per invocations file \
                     ({}), got {}",
                    self.invocations.len(),
                    self.memory.len()
                ),
            ));
        }
        Ok(())
    }
}

/// Interned ids: text to a dense index, and back.
#[derive(Debug, Default)]
struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    fn get_or_insert(&mut self, key: &str) -> (u32, bool) {
        if let Some(&id) = self.ids.get(key) {
            return (id, false);
        }
        let id = self.names.len() as u32;
        self.ids.insert(key.into(), id);
        self.names.push(key.into());
        (id, true)
    }
}

/// Where an invocations file keeps its columns.
#[derive(Debug)]
struct DayLayout {
    owner: usize,
    app: usize,
    function: usize,
    trigger: Option<usize>,
    /// `(column, minute of the day 1..=1440)`, sorted by minute.
    minutes: Vec<(usize, u16)>,
}

/// One function row of the day being replayed.
#[derive(Debug, Clone, Copy)]
struct DayRow {
    entity: u32,
    table: u32,
}

/// A streaming replay of an Azure Functions 2019 trace; see the [module docs](self).
#[derive(Debug)]
pub struct Azure2019Source {
    spread: Spread,
    unit: DeployUnit,
    missing_durations: MissingDurations,
    /// Duplicate rows skipped in lenient mode.
    skipped: Skipped,
    seed: u64,
    /// Invocations files not yet replayed (header already read).
    pending: Vec<Option<Rows<File>>>,
    layouts: Vec<DayLayout>,
    /// Digests of invocations, durations then memory files.
    digests: Vec<Option<[u8; 32]>>,
    /// The day to load next.
    next_day: usize,
    /// Functions (owner, app, function) and apps (owner, app), interned.
    functions: Interner,
    /// Per function: its app.
    function_app: Vec<u32>,
    /// Per function: its `HashFunction`.
    function_hash: Vec<Box<str>>,
    /// Per function: its trigger (an index into `trigger_names`), or `NO_TRIGGER`.
    function_trigger: Vec<u8>,
    trigger_names: Vec<Box<str>>,
    /// Per app: the triggers of its functions, one bit per index into `trigger_names`.
    app_triggers: Vec<u64>,
    /// Engine id (as registered by this source) -> entity.
    entity_of_id: Vec<u32>,
    apps: Interner,
    /// Per app: its `HashApp`.
    app_hash: Vec<Box<str>>,
    /// Memory from the memory files, by app id (`NONE` where the app has no row).
    app_memory: Vec<u32>,
    /// Duration tables (ms, non-decreasing).
    tables: Vec<[f64; 7]>,
    /// Per durations file: function -> table.
    tables_by_file: Vec<FxHashMap<u32, u32>>,
    /// Function -> its table in the first durations file that has one.
    first_table: FxHashMap<u32, u32>,
    /// The trace-wide median table, if the durations files have any row.
    fallback_table: Option<u32>,
    durations_path: Vec<PathBuf>,
    /// The invocations files, for messages.
    day_paths: Vec<PathBuf>,
    /// Per entity (app or function, by `unit`): its id in the engine's table, or `NONE`.
    registered: Vec<u32>,
    /// The rows of the current day.
    rows: Vec<DayRow>,
    /// Per minute slot of the current day: the minute's start and its non-zero
    /// `(row, count)` pairs.
    slots: Vec<(u64, Vec<(u32, u32)>)>,
    /// How many slots of the current day are in use, and the next one to expand.
    slot_count: usize,
    next_slot: usize,
    /// The minute being replayed: its start and its arrivals, `offset_us << 32 | row`.
    minute_start_us: u64,
    buffer: Vec<u64>,
    pos: usize,
    arrivals: SimRng,
    durations: SimRng,
    horizon: Option<SimTime>,
    /// The start of the first day's first minute column.
    start: Option<SimTime>,
    /// Reused for building keys.
    key: String,
}

impl Azure2019Source {
    /// Opens the files `spec` names (relative paths resolved against `base_dir`): reads the
    /// durations and memory files and the header of every invocations file.
    pub fn open(spec: &Azure2019Spec, base_dir: &Path, seed: u64) -> Result<Self, TraceError> {
        Self::open_lenient(spec, base_dir, seed, false)
    }

    /// [`open`](Self::open); if `lenient`, a duplicate row is skipped and counted instead of
    /// being an error (see the [module docs](self)).
    pub fn open_lenient(
        spec: &Azure2019Spec,
        base_dir: &Path,
        seed: u64,
        lenient: bool,
    ) -> Result<Self, TraceError> {
        spec.validate()?;
        let inv_paths = spec.invocations.resolved(base_dir);
        let dur_paths = spec.durations.resolved(base_dir);
        let mem_paths = spec.memory.resolved(base_dir);
        let mut pending = Vec::with_capacity(inv_paths.len());
        let mut layouts = Vec::with_capacity(inv_paths.len());
        let mut horizon = None;
        let mut start = None;
        for (day, path) in inv_paths.iter().enumerate() {
            let rows = Rows::open(path)?;
            let layout = day_layout(&rows)?;
            if let Some(first) = layouts.first() {
                same_minutes(&inv_paths[0], first, path, &layout)?;
            }
            if let Some(&(_, last)) = layout.minutes.last() {
                // At most MAX_DAYS days of 1440 minutes: within MAX_SPAN_US, no overflow.
                let end_min = day as u64 * MINUTES_PER_DAY + u64::from(last);
                horizon = Some(SimTime(end_min * MINUTE_US));
            }
            if let (0, Some(&(_, first))) = (day, layout.minutes.first()) {
                start = Some(SimTime((u64::from(first) - 1) * MINUTE_US));
            }
            layouts.push(layout);
            pending.push(Some(rows));
        }
        let mut src = Self {
            spread: spec.spread,
            unit: spec.unit,
            missing_durations: spec.missing_durations,
            skipped: Skipped::new(lenient),
            seed,
            pending,
            layouts,
            digests: vec![None; inv_paths.len()],
            next_day: 0,
            functions: Interner::default(),
            function_app: Vec::new(),
            function_hash: Vec::new(),
            function_trigger: Vec::new(),
            trigger_names: Vec::new(),
            app_triggers: Vec::new(),
            entity_of_id: Vec::new(),
            apps: Interner::default(),
            app_hash: Vec::new(),
            app_memory: Vec::new(),
            tables: Vec::new(),
            tables_by_file: Vec::new(),
            first_table: FxHashMap::default(),
            fallback_table: None,
            durations_path: dur_paths.clone(),
            day_paths: inv_paths.clone(),
            registered: Vec::new(),
            rows: Vec::new(),
            slots: Vec::new(),
            slot_count: 0,
            next_slot: 0,
            minute_start_us: 0,
            buffer: Vec::new(),
            pos: 0,
            arrivals: SimRng::stream(seed, streams::ARRIVALS),
            durations: SimRng::stream(seed, streams::DURATIONS),
            horizon,
            start,
            key: String::new(),
        };
        for path in &dur_paths {
            let digest = src.read_durations(path)?;
            src.digests.push(Some(digest));
        }
        src.fallback_table = median_table(&src.tables).map(|t| {
            src.tables.push(t);
            (src.tables.len() - 1) as u32
        });
        for path in &mem_paths {
            let digest = src.read_memory(path)?;
            src.digests.push(Some(digest));
        }
        Ok(src)
    }

    /// The checksum of all files (see the [module docs](self)), once the replay has read the
    /// last invocations file to its end.
    pub fn checksum_hex(&self) -> Option<String> {
        combined_digest(&self.digests)
    }

    /// How many duplicate rows lenient mode has skipped so far (always 0 when strict).
    pub fn skipped_rows(&self) -> u64 {
        self.skipped.rows
    }

    /// The error message of the first row lenient mode skipped.
    pub fn first_skipped(&self) -> Option<&str> {
        self.skipped.first.as_deref()
    }

    /// A second row for `key` (first on `first_line`) at the record just read: an error, or
    /// in lenient mode noted and `Ok(())` (the caller then skips the row).
    fn duplicate(
        &mut self,
        rows: &Rows<File>,
        first_line: u64,
        what: &'static str,
        key: &str,
    ) -> Result<(), TraceError> {
        let e = TraceError::Duplicate {
            path: rows.path().to_owned(),
            line: rows.line(),
            first_line,
            what,
            key: one_line(&key.replace('\u{1f}', "/")),
        };
        if self.skipped.lenient {
            self.skipped.note(&e);
            Ok(())
        } else {
            Err(e)
        }
    }

    /// Interns the function and app of the record's id columns.
    fn intern(
        &mut self,
        rows: &Rows<File>,
        owner: usize,
        app: usize,
        function: usize,
    ) -> Result<u32, TraceError> {
        let rec = rows.record();
        let owner_s = id_field(rows, OWNER, &rec[owner])?;
        let app_s = id_field(rows, APP, &rec[app])?;
        let function_s = id_field(rows, FUNCTION, &rec[function])?;
        let app_id = self.intern_app(owner_s, app_s);
        self.key.clear();
        self.key.push_str(owner_s);
        self.key.push('\u{1f}');
        self.key.push_str(app_s);
        self.key.push('\u{1f}');
        self.key.push_str(function_s);
        let (id, new) = self.functions.get_or_insert(&self.key);
        if new {
            self.function_app.push(app_id);
            self.function_hash.push(function_s.into());
            self.function_trigger.push(NO_TRIGGER);
        }
        Ok(id)
    }

    fn intern_app(&mut self, owner: &str, app: &str) -> u32 {
        self.key.clear();
        self.key.push_str(owner);
        self.key.push('\u{1f}');
        self.key.push_str(app);
        let (id, new) = self.apps.get_or_insert(&self.key);
        if new {
            self.app_hash.push(app.into());
            self.app_memory.push(NONE);
            self.app_triggers.push(0);
        }
        id
    }

    fn read_durations(&mut self, path: &Path) -> Result<[u8; 32], TraceError> {
        let mut rows = Rows::open(path)?;
        rows.require_header(
            "HashOwner, HashApp, HashFunction, percentile_Average_0, ..., \
             percentile_Average_100",
        )?;
        let mut by_function = FxHashMap::default();
        // Per function of this file: the line of its row.
        let mut lines: FxHashMap<u32, u64> = FxHashMap::default();
        let h = rows.columns();
        let (owner, app, function) = (h.required(OWNER)?, h.required(APP)?, h.required(FUNCTION)?);
        let mut cols = [0usize; 7];
        for (c, name) in cols.iter_mut().zip(PERCENTILES) {
            *c = h.required(name)?;
        }
        let min_max = match (h.find(MINIMUM)?, h.find(MAXIMUM)?) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        while rows.advance()? {
            let f = self.intern(&rows, owner, app, function)?;
            let rec = rows.record();
            let mut t = [0f64; 7];
            for (i, (v, &c)) in t.iter_mut().zip(&cols).enumerate() {
                let name = PERCENTILES[i];
                *v = ms_field(&rec[c]).map(|(ms, _)| ms).map_err(|e| {
                    rows.bad_time(
                        name,
                        "a duration in milliseconds >= 0",
                        &rec[c],
                        e,
                        Unit::Ms,
                    )
                })?;
            }
            if let Some(i) = (1..7).find(|&i| t[i] < t[i - 1]) {
                return Err(rows.row_error(
                    PERCENTILES[i],
                    format!(
                        "percentiles must not decrease from left to right, got {} after {} = {}",
                        shown_text(rec[cols[i]].trim_ascii()),
                        PERCENTILES[i - 1],
                        shown_text(rec[cols[i - 1]].trim_ascii()),
                    ),
                ));
            }
            if let Some((lo, hi)) = min_max {
                let min = ms_field(&rec[lo]).map_err(|e| {
                    rows.bad_time(
                        MINIMUM,
                        "a duration in milliseconds >= 0",
                        &rec[lo],
                        e,
                        Unit::Ms,
                    )
                })?;
                let max = ms_field(&rec[hi]).map_err(|e| {
                    rows.bad_time(
                        MAXIMUM,
                        "a duration in milliseconds >= 0",
                        &rec[hi],
                        e,
                        Unit::Ms,
                    )
                })?;
                if min.0 > max.0 {
                    return Err(rows.row_error(
                        MINIMUM,
                        format!(
                            "expected at most {MAXIMUM} ({}), got {}",
                            shown_text(rec[hi].trim_ascii()),
                            shown_text(rec[lo].trim_ascii()),
                        ),
                    ));
                }
            }
            let line = rows.line();
            if let Some(&first_line) = lines.get(&f) {
                let key = self.functions.names[f as usize].clone();
                self.duplicate(&rows, first_line, "function", &key)?;
                continue;
            }
            lines.insert(f, line);
            let table = self.tables.len() as u32;
            self.tables.push(t);
            by_function.insert(f, table);
            self.first_table.entry(f).or_insert(table);
        }
        self.tables_by_file.push(by_function);
        rows.digest().ok_or_else(|| TraceError::Content {
            path: path.to_owned(),
            message: "not read to its end".into(),
        })
    }

    fn read_memory(&mut self, path: &Path) -> Result<[u8; 32], TraceError> {
        let mut rows = Rows::open(path)?;
        rows.require_header("HashOwner, HashApp, AverageAllocatedMb_pct99")?;
        let h = rows.columns();
        let (owner, app, pct99) = (
            h.required(OWNER)?,
            h.required(APP)?,
            h.required(MEMORY_PCT99)?,
        );
        // One row per app, or per function where the file has the column.
        let function = h.find(FUNCTION)?;
        let mut lines: FxHashMap<Box<str>, u64> = FxHashMap::default();
        let mut key = String::new();
        while rows.advance()? {
            let rec = rows.record();
            let owner_s = id_field(&rows, OWNER, &rec[owner])?;
            let app_s = id_field(&rows, APP, &rec[app])?;
            let mb = non_negative_f64(&rec[pct99])
                .filter(|&mb| mb > 0.0)
                .ok_or_else(|| rows.bad(MEMORY_PCT99, "a memory size in MB > 0", &rec[pct99]))?;
            if mb > MAX_MEMORY_MB {
                return Err(rows.bad(
                    MEMORY_PCT99,
                    "a memory size in MB of at most 1000000000",
                    &rec[pct99],
                ));
            }
            key.clear();
            key.push_str(owner_s);
            key.push('\u{1f}');
            key.push_str(app_s);
            if let Some(col) = function {
                key.push('\u{1f}');
                key.push_str(id_field(&rows, FUNCTION, &rec[col])?);
            }
            if let Some(&first_line) = lines.get(key.as_str()) {
                let (what, k) = (
                    if function.is_some() {
                        "function"
                    } else {
                        "app"
                    },
                    key.clone(),
                );
                self.duplicate(&rows, first_line, what, &k)?;
                continue;
            }
            lines.insert(key.as_str().into(), rows.line());
            // mb is in (0, 1e9]: the ceiling is a whole number of MB from 1 to 1e9.
            let mb = mb.ceil() as u32;
            let a = self.intern_app(owner_s, app_s) as usize;
            let slot = &mut self.app_memory[a];
            *slot = if *slot == NONE { mb } else { (*slot).max(mb) };
        }
        rows.digest().ok_or_else(|| TraceError::Content {
            path: path.to_owned(),
            message: "not read to its end".into(),
        })
    }

    /// Reads invocations file `day` into the sparse minute table.
    fn load_day(&mut self, day: usize) -> Result<(), TraceError> {
        let Some(mut rows) = self.pending[day].take() else {
            return Ok(());
        };
        // Drop the previous day's table before reading the next.
        self.rows.clear();
        self.rows.shrink_to(0);
        let layout = &self.layouts[day];
        let (owner, app, function) = (layout.owner, layout.app, layout.function);
        let trigger = layout.trigger;
        let minutes = layout.minutes.clone();
        self.slot_count = minutes.len();
        if self.slots.len() < minutes.len() {
            self.slots.resize_with(minutes.len(), || (0, Vec::new()));
        }
        for (slot, &(_, minute)) in self.slots.iter_mut().zip(&minutes) {
            slot.0 = (day as u64 * MINUTES_PER_DAY + u64::from(minute) - 1) * MINUTE_US;
            slot.1.clear();
            slot.1.shrink_to(0);
        }
        let file = if self.tables_by_file.len() == 1 {
            0
        } else {
            day
        };
        // Per function of this day: the line of its row.
        let mut lines: FxHashMap<u32, u64> = FxHashMap::default();
        while rows.advance()? {
            let f = self.intern(&rows, owner, app, function)?;
            if let Some(&first_line) = lines.get(&f) {
                let key = self.functions.names[f as usize].clone();
                self.duplicate(&rows, first_line, "function", &key)?;
                continue;
            }
            lines.insert(f, rows.line());
            if let Some(col) = trigger {
                self.note_trigger(f, &rows.record()[col]);
            }
            let own = self.tables_by_file[file]
                .get(&f)
                .or_else(|| self.first_table.get(&f))
                .copied();
            let table = match (own, self.missing_durations, self.fallback_table) {
                (Some(t), _, _) => t,
                (None, MissingDurations::Median, Some(t)) => t,
                (None, missing, _) => {
                    let files = self
                        .durations_path
                        .iter()
                        .map(|p| path_text(p))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let name = one_line(&self.functions.names[f as usize].replace('\u{1f}', "/"));
                    return Err(rows.row_error(
                        FUNCTION,
                        match missing {
                            MissingDurations::Error => format!(
                                "function {name} has no row in the durations file(s) {files}, so \
                                 its execution times are unknown (missing_durations = \
                                 \"median\" draws them from the median of the other functions' \
                                 rows instead)"
                            ),
                            MissingDurations::Median => format!(
                                "function {name} has no row in the durations file(s) {files}, \
                                 and they have no rows to build the median table from"
                            ),
                        },
                    ));
                }
            };
            let entity = match self.unit {
                DeployUnit::App => self.function_app[f as usize],
                DeployUnit::Function => f,
            };
            // The packed sort key keeps a row index in 32 bits; the tag u32::MAX is free.
            let row = u32::try_from(self.rows.len())
                .ok()
                .filter(|&r| r < u32::MAX)
                .ok_or_else(|| TraceError::Content {
                    path: rows.path().to_owned(),
                    message: "more than 4 billion rows".into(),
                })?;
            self.rows.push(DayRow { entity, table });
            let rec = rows.record();
            for (slot, &(col, _)) in self.slots.iter_mut().zip(&minutes) {
                let raw = &rec[col];
                if raw == b"0" {
                    continue;
                }
                match count(raw) {
                    Some(0) => {}
                    Some(c) if c <= MAX_COUNT_PER_BIN => slot.1.push((row, c as u32)),
                    _ => {
                        let name = shown_text(&rows.header()[col]);
                        return Err(rows.bad(
                            Cow::Owned(name),
                            "a count of invocations (a whole number from 0 to 60000000)",
                            raw,
                        ));
                    }
                }
            }
        }
        self.digests[day] = rows.digest();
        self.next_slot = 0;
        Ok(())
    }

    /// Records function `f`'s trigger (its first non-empty one) and adds it to its app's set.
    fn note_trigger(&mut self, f: u32, raw: &[u8]) {
        let f = f as usize;
        if self.function_trigger[f] != NO_TRIGGER {
            return;
        }
        let Some(name) = std::str::from_utf8(raw.trim_ascii())
            .ok()
            .filter(|t| !t.is_empty())
        else {
            return;
        };
        let t = match self.trigger_names.iter().position(|n| &**n == name) {
            Some(t) => t,
            None if self.trigger_names.len() < usize::from(NO_TRIGGER) => {
                self.trigger_names.push(name.into());
                self.trigger_names.len() - 1
            }
            None => return,
        };
        self.function_trigger[f] = t as u8;
        if t < 64 {
            self.app_triggers[self.function_app[f] as usize] |= 1 << t;
        }
    }

    /// Generates and sorts the arrivals of slot `s` of the current day.
    fn expand(&mut self, s: usize) -> Result<(), TraceError> {
        let (start, entries) = &self.slots[s];
        let total: u64 = entries.iter().map(|&(_, c)| u64::from(c)).sum();
        if total > MAX_ARRIVALS_PER_BIN {
            let day = (start / MINUTE_US / MINUTES_PER_DAY) as usize;
            return Err(TraceError::Content {
                path: self.day_paths[day].clone(),
                message: format!(
                    "minute {} holds {total} invocations, more than the \
                     {MAX_ARRIVALS_PER_BIN} one minute may hold",
                    start / MINUTE_US % MINUTES_PER_DAY + 1
                ),
            });
        }
        self.minute_start_us = *start;
        self.buffer.clear();
        for &(row, c) in entries {
            spread_into(
                &mut self.buffer,
                self.spread,
                u64::from(c),
                MINUTE_US,
                row,
                &mut self.arrivals,
            );
        }
        self.buffer.sort_unstable();
        self.pos = 0;
        Ok(())
    }

    fn register(&mut self, entity: u32, functions: &mut FunctionTable) -> FunctionId {
        let e = entity as usize;
        if self.registered.len() <= e {
            self.registered.resize(e + 1, NONE);
        }
        if self.registered[e] != NONE {
            return FunctionId(self.registered[e]);
        }
        let (name, app) = match self.unit {
            DeployUnit::App => (self.app_hash[e].to_string(), e),
            DeployUnit::Function => {
                let app = self.function_app[e] as usize;
                (
                    format!("{}/{}", self.app_hash[app], self.function_hash[e]),
                    app,
                )
            }
        };
        let memory_mb = match self.app_memory[app] {
            NONE => burr_memory_mb(self.seed, &self.apps.names[app]),
            mb => mb,
        };
        let id = functions.push(FunctionSpec { name, memory_mb });
        self.registered[e] = id.0;
        let i = id.index();
        if self.entity_of_id.len() <= i {
            self.entity_of_id.resize(i + 1, NONE);
        }
        self.entity_of_id[i] = entity;
        id
    }

    fn next(&mut self, functions: &mut FunctionTable) -> Result<Option<Arrival>, TraceError> {
        loop {
            if let Some(&v) = self.buffer.get(self.pos) {
                self.pos += 1;
                let row = self.rows[(v & 0xffff_ffff) as usize];
                let id = self
                    .registered
                    .get(row.entity as usize)
                    .copied()
                    .unwrap_or(NONE);
                let function = if id != NONE {
                    FunctionId(id)
                } else {
                    self.register(row.entity, functions)
                };
                let u = self.durations.unit_f64();
                let ms = sample_table(&self.tables[row.table as usize], u);
                return Ok(Some(Arrival {
                    time: SimTime(self.minute_start_us + (v >> 32)),
                    function,
                    duration: SimDuration((ms * 1000.0).round() as u64),
                    cold_start: None,
                    mode: None,
                }));
            }
            if self.next_slot < self.slot_count {
                let s = self.next_slot;
                self.next_slot += 1;
                self.buffer.clear();
                self.pos = 0;
                self.expand(s)?;
                continue;
            }
            if self.next_day < self.pending.len() {
                let day = self.next_day;
                self.next_day += 1;
                self.buffer.clear();
                self.pos = 0;
                self.load_day(day)?;
                continue;
            }
            return Ok(None);
        }
    }
}

impl TraceInfo for Azure2019Source {
    /// `HashOwner/HashApp` of the entry's app.
    fn app_of(&self, function: FunctionId) -> Option<String> {
        let e = *self
            .entity_of_id
            .get(function.index())
            .filter(|&&e| e != NONE)? as usize;
        let app = match self.unit {
            DeployUnit::App => e,
            DeployUnit::Function => self.function_app[e] as usize,
        };
        Some(self.apps.names[app].replace('\u{1f}', "/"))
    }

    /// See the [module docs](self): the function's trigger, or the app's sorted set.
    fn trigger_of(&self, function: FunctionId) -> Option<String> {
        let e = *self
            .entity_of_id
            .get(function.index())
            .filter(|&&e| e != NONE)? as usize;
        match self.unit {
            DeployUnit::Function => match self.function_trigger[e] {
                NO_TRIGGER => None,
                t => Some(self.trigger_names[usize::from(t)].to_string()),
            },
            DeployUnit::App => {
                let bits = self.app_triggers[e];
                if bits == 0 {
                    return None;
                }
                let mut names: Vec<&str> = (0..self.trigger_names.len().min(64))
                    .filter(|&t| bits >> t & 1 == 1)
                    .map(|t| &*self.trigger_names[t])
                    .collect();
                names.sort_unstable();
                Some(names.join("+"))
            }
        }
    }

    /// The start of the first invocations file's first minute column (479 min for a window
    /// `480…959`).
    fn start(&self) -> Option<SimTime> {
        self.start
    }
}

impl ArrivalSource for Azure2019Source {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        Ok(self.next(functions)?)
    }

    /// The end of the last minute column of the last day that has one.
    fn horizon(&self) -> Option<SimTime> {
        self.horizon
    }
}

/// A non-empty UTF-8 id field.
fn id_field<'r>(
    rows: &Rows<File>,
    column: &'static str,
    raw: &'r [u8],
) -> Result<&'r str, TraceError> {
    std::str::from_utf8(raw)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| rows.bad(column, "an id (non-empty UTF-8 text)", raw))
}

/// The minute number of a header name: `N` or `minute_N`; `None` if it is not a minute
/// column.
fn minute_of(name: &[u8]) -> Option<&[u8]> {
    let name = name.trim_ascii();
    let digits = name.strip_prefix(b"minute_").unwrap_or(name);
    (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some(digits)
}

fn day_layout(rows: &Rows<File>) -> Result<DayLayout, TraceError> {
    rows.require_header("HashOwner, HashApp, HashFunction and minute columns 1 ... 1440")?;
    let h = rows.columns();
    let (owner, app, function) = (h.required(OWNER)?, h.required(APP)?, h.required(FUNCTION)?);
    let mut minutes = Vec::new();
    for (col, name) in rows.header().iter().enumerate() {
        let Some(digits) = minute_of(name) else {
            continue;
        };
        let column = || Cow::Owned(shown_text(name.trim_ascii()));
        let minute = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|m| (1..=MINUTES_PER_DAY as u16).contains(m))
            .ok_or_else(|| TraceError::Header {
                path: rows.path().to_owned(),
                column: column(),
                message: "minute columns must be numbered 1 to 1440".into(),
            })?;
        minutes.push((col, minute));
    }
    minutes.sort_by_key(|&(_, m)| m);
    if let Some(w) = minutes.windows(2).find(|w| w[0].1 == w[1].1) {
        return Err(TraceError::DuplicateColumn {
            path: rows.path().to_owned(),
            column: Cow::Owned(format!(
                "{} (minute {})",
                shown_text(rows.header()[w[1].0].trim_ascii()),
                w[1].1
            )),
        });
    }
    Ok(DayLayout {
        owner,
        app,
        function,
        trigger: h.find(TRIGGER)?,
        minutes,
    })
}

/// An error unless day `layout` (of file `path`) has the same minute columns as the first
/// day (of `first_path`).
fn same_minutes(
    first_path: &Path,
    first: &DayLayout,
    path: &Path,
    layout: &DayLayout,
) -> Result<(), TraceError> {
    let minutes = |l: &DayLayout| l.minutes.iter().map(|&(_, m)| m).collect::<Vec<u16>>();
    let (a, b) = (minutes(first), minutes(layout));
    if a == b {
        return Ok(());
    }
    let describe = |m: &[u16]| match (m.first(), m.last()) {
        (Some(lo), Some(hi)) => format!("{} minute columns ({lo} to {hi})", m.len()),
        _ => "no minute columns".to_owned(),
    };
    Err(TraceError::Header {
        path: path.to_owned(),
        column: "minutes".into(),
        message: format!(
            "has {}, but the first day ({}) has {}; every day of a trace must cover the same \
             minutes",
            describe(&b),
            path_text(first_path),
            describe(&a)
        ),
    })
}

/// The element-wise median of the tables (the mean of the two middle values for an even
/// count); `None` if there are none. Each column's median is monotone in the column, so the
/// result is a valid table.
fn median_table(tables: &[[f64; 7]]) -> Option<[f64; 7]> {
    if tables.is_empty() {
        return None;
    }
    let n = tables.len();
    let mut col = Vec::with_capacity(n);
    let mut out = [0f64; 7];
    for (i, o) in out.iter_mut().enumerate() {
        col.clear();
        col.extend(tables.iter().map(|t| t[i]));
        col.sort_by(f64::total_cmp);
        *o = (col[(n - 1) / 2] + col[n / 2]) / 2.0;
    }
    Some(out)
}

/// The piecewise-linear inverse CDF of a percentile table at `u` in [0, 1), in ms.
pub(crate) fn sample_table(t: &[f64; 7], u: f64) -> f64 {
    let mut i = 0;
    while i < 5 && u >= QUANTILES[i + 1] {
        i += 1;
    }
    let frac = (u - QUANTILES[i]) / (QUANTILES[i + 1] - QUANTILES[i]);
    t[i] + (t[i + 1] - t[i]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_cdf_passes_through_the_percentiles() {
        let t = [1.0, 2.0, 10.0, 20.0, 40.0, 100.0, 1000.0];
        for (q, v) in QUANTILES.iter().zip(t).take(6) {
            assert!((sample_table(&t, *q) - v).abs() < 1e-9, "{q}");
        }
        assert!((sample_table(&t, 0.005) - 1.5).abs() < 1e-9);
        assert!((sample_table(&t, 0.375) - 15.0).abs() < 1e-9);
        assert!((sample_table(&t, 0.995) - 550.0).abs() < 1e-9);
        assert!(sample_table(&t, 1.0 - 1e-16) <= 1000.0);
    }

    #[test]
    fn median_table_is_elementwise() {
        let a = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0];
        let c = [2.0; 7];
        assert_eq!(median_table(&[]), None);
        assert_eq!(median_table(&[a]), Some(a));
        assert_eq!(
            median_table(&[a, b]),
            Some([5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
        );
        assert_eq!(
            median_table(&[a, b, c]),
            Some([2.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
    }

    #[test]
    fn minute_columns_are_numbers_or_minute_numbers() {
        assert_eq!(minute_of(b"1"), Some(&b"1"[..]));
        assert_eq!(minute_of(b" minute_480 "), Some(&b"480"[..]));
        assert_eq!(minute_of(b"Trigger"), None);
        assert_eq!(minute_of(b"minute_"), None);
        assert_eq!(minute_of(b""), None);
        assert_eq!(minute_of(b"1a"), None);
    }
}
