//! The Azure Functions invocation trace 2021 (Zhang et al., "Faster and Cheaper Serverless
//! Computing on Harvested Resources", SOSP'21), as published on the Azure Public Dataset
//! (`AzureFunctionsInvocationTraceForTwoWeeksJan2021`).
//!
//! ```toml
//! [trace]
//! format = "azure2021"
//! path = "AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt"
//! unit = "app"       # or "function" (see DeployUnit)
//! ```
//!
//! One row per invocation, columns found by header name: `app` (application id), `func`
//! (function id, unique only within its app), `end_timestamp` (seconds since the trace
//! start, a decimal), `duration` (seconds, a decimal); other columns are ignored. Times are
//! converted once to whole microseconds (rounded to nearest), and must be at most 100 years
//! ([`MAX_SPAN_S`](crate::limits::MAX_SPAN_S)); an invocation starts at
//! `end_timestamp − duration` and runs for `duration`. A row whose duration is longer than
//! its end time (a start before the trace's origin) is an error naming the line.
//!
//! The rows are **not** sorted in the file, so the reader reads the whole file when the trace
//! is opened and keeps one compact record per invocation (start, duration, function: 24
//! bytes, ~48 MB for the full 1.98 M-row file), sorted by start time, ties in file order (a
//! stable sort). Bad rows therefore fail before the run starts. An empty file (no header) is
//! an error; a header with no rows is a trace of zero invocations ([`Azure2021Source::len`]).
//! In **lenient mode**
//! ([`Azure2021Source::open_lenient`], `OpenOptions::lenient`) a row with a bad field or the
//! wrong number of fields is skipped and counted instead ([`Azure2021Source::skipped_rows`]).
//! (Order is no concern here: the reader sorts.)
//!
//! The trace has no memory column: every application's memory is a seeded draw from the
//! Burr XII fit of the 2019 trace ([`burr_memory_mb`]), keyed by the
//! app id; with `unit = "function"` each function gets its app's draw. Function-table
//! entries are named by the `app` id, or `app/func` with `unit = "function"`, and are
//! registered when their first invocation is replayed. The checksum is the file's SHA-256,
//! available as soon as the trace is open. Each entry's app (the `app` id) is reported
//! through [`TraceInfo`], so statistics can count apps with either
//! unit.

use crate::burr_memory_mb;
use crate::common::DeployUnit;
use crate::error::TraceError;
use crate::rows::{hex, seconds_field, shown_text, Rows, Skipped, Unit};
use crate::TraceInfo;
use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, SimDuration, SimTime,
    SourceError,
};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const APP: &str = "app";
const FUNC: &str = "func";
const END: &str = "end_timestamp";
const DURATION: &str = "duration";
const NONE: u32 = u32::MAX;

/// The `[trace]` table of `format = "azure2021"`; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Azure2021Spec {
    /// The trace file; a relative path is relative to the scenario file's folder.
    pub path: PathBuf,
    /// What a function-table entry is (default `app`).
    #[serde(default)]
    pub unit: DeployUnit,
}

/// One invocation, as kept in memory.
#[derive(Debug, Clone, Copy)]
struct Record {
    start_us: u64,
    duration_us: u64,
    entity: u32,
}

/// A replay of an Azure Functions 2021 trace; see the [module docs](self).
#[derive(Debug)]
pub struct Azure2021Source {
    records: Vec<Record>,
    pos: usize,
    /// Per entity: its name, its app (an index into `app_names`), its memory and its
    /// engine id.
    names: Vec<Box<str>>,
    entity_app: Vec<u32>,
    app_names: Vec<Box<str>>,
    memory_mb: Vec<u32>,
    registered: Vec<u32>,
    /// Engine id (as registered by this source) -> entity.
    entity_of_id: Vec<u32>,
    checksum: String,
    skipped: Skipped,
}

impl Azure2021Source {
    /// Reads and sorts the whole file `spec` names (a relative path is resolved against
    /// `base_dir`); `seed` is the run seed, for the memory draws.
    pub fn open(spec: &Azure2021Spec, base_dir: &Path, seed: u64) -> Result<Self, TraceError> {
        Self::open_lenient(spec, base_dir, seed, false)
    }

    /// [`open`](Self::open), skipping and counting bad rows if `lenient` (see the
    /// [module docs](self)).
    pub fn open_lenient(
        spec: &Azure2021Spec,
        base_dir: &Path,
        seed: u64,
        lenient: bool,
    ) -> Result<Self, TraceError> {
        let path = base_dir.join(&spec.path);
        let mut rows = Rows::open(&path)?;
        rows.require_header("app, func, end_timestamp, duration")?;
        let mut skipped = Skipped::new(lenient);
        let mut records = Vec::new();
        let mut names: Vec<Box<str>> = Vec::new();
        let mut entity_app = Vec::new();
        let mut app_names: Vec<Box<str>> = Vec::new();
        let mut memory_mb = Vec::new();
        let mut ids: FxHashMap<Box<str>, u32> = FxHashMap::default();
        // App id -> (its index in `app_names`, its memory).
        let mut apps: FxHashMap<Box<str>, (u32, u32)> = FxHashMap::default();
        let mut key = String::new();
        {
            let h = rows.columns();
            let (app, func, end, duration) = (
                h.required(APP)?,
                h.required(FUNC)?,
                h.required(END)?,
                h.required(DURATION)?,
            );
            while rows.advance_lenient(&mut skipped)? {
                let rec = rows.record();
                let id_of = |col: usize, name: &'static str| {
                    std::str::from_utf8(&rec[col])
                        .ok()
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| rows.bad(name, "an id (non-empty UTF-8 text)", &rec[col]))
                };
                let parsed = (|| {
                    let app_s = id_of(app, APP)?;
                    let func_s = id_of(func, FUNC)?;
                    let end_us = seconds_field(&rec[end]).map_err(|e| {
                        rows.bad_time(
                            END,
                            "a time in seconds >= 0 (a decimal number)",
                            &rec[end],
                            e,
                            Unit::S,
                        )
                    })?;
                    let duration_us = seconds_field(&rec[duration]).map_err(|e| {
                        rows.bad_time(
                            DURATION,
                            "a duration in seconds >= 0 (a decimal number)",
                            &rec[duration],
                            e,
                            Unit::S,
                        )
                    })?;
                    let start_us = end_us.checked_sub(duration_us).ok_or_else(|| {
                        rows.row_error(
                            DURATION,
                            format!(
                                "the invocation would start before the trace does: duration \
                                 {} s is longer than end_timestamp {} s",
                                shown_text(rec[duration].trim_ascii()),
                                shown_text(rec[end].trim_ascii()),
                            ),
                        )
                    })?;
                    Ok::<_, TraceError>((app_s, func_s, start_us, duration_us))
                })();
                let (app_s, func_s, start_us, duration_us) = match parsed {
                    Ok(p) => p,
                    Err(e) => {
                        skipped.skip_or_fail(e)?;
                        continue;
                    }
                };
                key.clear();
                key.push_str(app_s);
                if spec.unit == DeployUnit::Function {
                    key.push('/');
                    key.push_str(func_s);
                }
                let entity = match ids.get(key.as_str()) {
                    Some(&e) => e,
                    None => {
                        let e = u32::try_from(names.len()).map_err(|_| TraceError::Content {
                            path: path.clone(),
                            message: "more than 4 billion functions".into(),
                        })?;
                        let (a, mb) = *apps.entry(app_s.into()).or_insert_with(|| {
                            app_names.push(app_s.into());
                            ((app_names.len() - 1) as u32, burr_memory_mb(seed, app_s))
                        });
                        ids.insert(key.as_str().into(), e);
                        names.push(key.as_str().into());
                        entity_app.push(a);
                        memory_mb.push(mb);
                        e
                    }
                };
                records.push(Record {
                    start_us,
                    duration_us,
                    entity,
                });
            }
        }
        records.shrink_to_fit();
        records.sort_by_key(|r| r.start_us);
        let checksum = rows
            .digest()
            .map(|d| hex(&d))
            .ok_or_else(|| TraceError::Content {
                path: path.clone(),
                message: "not read to its end".into(),
            })?;
        Ok(Self {
            records,
            pos: 0,
            registered: vec![NONE; names.len()],
            names,
            entity_app,
            app_names,
            memory_mb,
            entity_of_id: Vec::new(),
            checksum,
            skipped,
        })
    }

    /// How many bad rows lenient mode skipped (always 0 when strict).
    pub fn skipped_rows(&self) -> u64 {
        self.skipped.rows
    }

    /// The error message of the first row lenient mode skipped.
    pub fn first_skipped(&self) -> Option<&str> {
        self.skipped.first.as_deref()
    }

    /// The file's SHA-256 (the whole file is read when the trace is opened).
    pub fn checksum_hex(&self) -> Option<String> {
        Some(self.checksum.clone())
    }

    /// How many invocations the trace holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the trace holds no invocation.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl TraceInfo for Azure2021Source {
    /// The `app` id of the entry (the entry itself with `unit = "app"`).
    fn app_of(&self, function: FunctionId) -> Option<String> {
        let e = *self.entity_of_id.get(function.index())?;
        let a = *self.entity_app.get(e as usize)?;
        Some(self.app_names[a as usize].to_string())
    }
}

impl ArrivalSource for Azure2021Source {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        let Some(r) = self.records.get(self.pos).copied() else {
            return Ok(None);
        };
        self.pos += 1;
        let e = r.entity as usize;
        if self.registered[e] == NONE {
            let id = functions.push(FunctionSpec {
                name: self.names[e].to_string(),
                memory_mb: self.memory_mb[e],
            });
            self.registered[e] = id.0;
            let i = id.index();
            if self.entity_of_id.len() <= i {
                self.entity_of_id.resize(i + 1, NONE);
            }
            self.entity_of_id[i] = r.entity;
        }
        Ok(Some(Arrival {
            time: SimTime(r.start_us),
            function: FunctionId(self.registered[e]),
            duration: SimDuration(r.duration_us),
            cold_start: None,
            mode: None,
        }))
    }
}
