//! The Huawei Cloud request traces 2023 (Joosen et al., "How Does It Function?
//! Characterizing Long-term Trends in Production Serverless Workloads", ACM SoCC'23), as
//! released in github.com/sir-lab/data-release (`README_data_release_2023.md`).
//!
//! **No real sample of this dataset is available to this project**: the reader implements the
//! published schema as described by the release's README and its demo notebook
//! (`src/demo_public.ipynb`), and is tested on hand-made fixtures only. What is assumed:
//!
//! - The per-minute request files (`requests_minute/day_NN.csv`, Huawei Public: 26 days,
//!   5,093 functions; Huawei Private: 200 functions) are **wide**: one row per time bin, a
//!   `time` column, a `day` column, and one column per function, headed by the function's id
//!   (`0`, `1`, …), holding the number of requests of that function in the bin.
//! - `time` is in **seconds since the start of the whole trace** (not of the day: the notebook
//!   shows day 25 at `time` 2246100), a decimal >= 0 and at most 100 years
//!   ([`MAX_SPAN_S`](crate::limits::MAX_SPAN_S)). `day` is ignored (redundant with `time`).
//!   Columns are found by header name (surrounding spaces ignored), in any order. An empty
//!   file (no header) is an error; a header with no rows holds no requests.
//! - A function with no requests in a bin has an **empty** cell (pandas writes NaN so), and
//!   counts may be written as floats (`2.0`) for the same reason. An empty cell, `NaN` or
//!   `nan` is 0; otherwise a count is a whole number >= 0 (at most
//!   [`MAX_COUNT_PER_BIN`]).
//! - A column headed by an empty name or by `Unnamed: …` is a pandas index column and is
//!   ignored; every other column except `time` and `day` is a function, named by its header.
//!   A function is the same function in every file that has its column.
//! - Bins are `interval_s` wide (default 60; set 1 for the Private per-second files,
//!   `requests_second`). Rows must be in time order, each at least `interval_s` after the
//!   previous one (across files too), so the bins do not overlap.
//! - The long layout (`function,minute,count` rows) is **not** supported.
//!
//! ```toml
//! [trace]
//! format = "huawei2023"
//! path = ["requests_minute/day_00.csv", "requests_minute/day_01.csv"]
//! duration_ms = { dist = "lognormal", median_ms = 100, sigma = 1.0 }
//! memory_mb = 256
//! spread = "equidistant"     # optional, see Spread
//! interval_s = 60            # optional
//! ```
//!
//! Each bin's count is spread over `[time, time + interval_s)` by [`Spread`] (stream
//! `arrivals`), and the bin's arrivals are sorted by time, then by column. Rows are streamed:
//! one bin's arrivals are held at a time. The request files carry no execution times and no
//! memory, so every invocation's duration is a draw from `duration_ms` (stream
//! `durations`) and every function's instance reserves `memory_mb`; both keys are required,
//! as no default would be grounded in the data. (The Private release also has
//! `function_delay_minute` and `memory_limit_minute` files; they are not read.) Functions are
//! registered at their first request. The checksum is the file's SHA-256 (one file) or the
//! SHA-256 of the files' digests (several), once the last file has been read.

use crate::common::{check_dist_span, spread_into, within_span, PathList, Spread};
use crate::error::TraceError;
use crate::limits::{MAX_ARRIVALS_PER_BIN, MAX_COUNT_PER_BIN, MAX_SPAN_MS};
use crate::rows::{combined_digest, count, one_line, seconds_field, shown_text, Rows, Unit};
use crate::spec_error;
use faasim_sim::rng::streams;
use faasim_sim::{
    Arrival, ArrivalSource, DistSpec, FunctionId, FunctionSpec, FunctionTable, Sampler, SimRng,
    SimTime, SourceError,
};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

const TIME: &str = "time";
const DAY: &str = "day";
const FORMAT: &str = "huawei2023";
const NONE: u32 = u32::MAX;
/// Wider bins would not fit the packed sort key (offsets below 2^32 µs).
const MAX_INTERVAL_S: f64 = 3600.0;

fn default_interval_s() -> f64 {
    60.0
}

/// The `[trace]` table of `format = "huawei2023"`; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Huawei2023Spec {
    /// The request files, read one after the other.
    pub path: PathList,
    /// Execution time of every invocation (required).
    pub duration_ms: DistSpec,
    /// Memory of every function's instance, MB (required).
    pub memory_mb: u32,
    /// How a bin's count is placed inside the bin (default `equidistant`).
    #[serde(default)]
    pub spread: Spread,
    /// Width of a bin, seconds (default 60; 1 for per-second files; at most 3600).
    #[serde(default = "default_interval_s")]
    pub interval_s: f64,
}

impl Huawei2023Spec {
    /// Checks the parameters, naming the first bad key.
    pub fn validate(&self) -> Result<(), TraceError> {
        if self.path.is_empty() {
            return Err(spec_error(FORMAT, "path", "must name at least one file"));
        }
        self.duration_ms
            .validate()
            .and_then(|()| check_dist_span(&self.duration_ms))
            .map_err(|m| spec_error(FORMAT, "duration_ms", m))?;
        if self.memory_mb == 0 {
            return Err(spec_error(FORMAT, "memory_mb", "must be > 0"));
        }
        let i = self.interval_s;
        if !(i.is_finite() && i > 0.0 && i <= MAX_INTERVAL_S && (i * 1e6).round() >= 1.0) {
            return Err(spec_error(
                FORMAT,
                "interval_s",
                format!("must be a number of seconds in (0, {MAX_INTERVAL_S}], got {i}"),
            ));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Layout {
    time: usize,
    /// `(column, function)`.
    functions: Vec<(usize, u32)>,
}

/// A streaming replay of Huawei 2023 request files; see the [module docs](self).
#[derive(Debug)]
pub struct Huawei2023Source {
    files: Vec<Rows<File>>,
    layouts: Vec<Layout>,
    current: usize,
    names: Vec<Box<str>>,
    registered: Vec<u32>,
    memory_mb: u32,
    sampler: Sampler,
    spread: Spread,
    interval_us: u64,
    /// The current bin: its start and its arrivals, `offset << 32 | function`.
    bin_start_us: u64,
    buffer: Vec<u64>,
    pos: usize,
    /// The current row's non-zero `(function, count)` cells.
    counts: Vec<(u32, u64)>,
    /// The previous row's time (µs) and its text, for order errors.
    previous: Option<(u64, String)>,
    arrivals: SimRng,
    durations: SimRng,
}

impl Huawei2023Source {
    /// Opens every file `spec` names (relative paths resolved against `base_dir`) and reads
    /// their headers.
    pub fn open(spec: &Huawei2023Spec, base_dir: &Path, seed: u64) -> Result<Self, TraceError> {
        spec.validate()?;
        let sampler =
            Sampler::new(&spec.duration_ms).map_err(|m| spec_error(FORMAT, "duration_ms", m))?;
        let mut files = Vec::new();
        let mut layouts = Vec::new();
        let mut ids: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut names: Vec<Box<str>> = Vec::new();
        for path in spec.path.resolved(base_dir) {
            let rows = Rows::open(&path)?;
            rows.require_header("time, and one column of counts per function")?;
            let layout = {
                let h = rows.columns();
                let time = h.required(TIME)?;
                h.find(DAY)?;
                let mut functions = Vec::new();
                let mut seen: FxHashMap<&[u8], ()> = FxHashMap::default();
                for (col, raw) in rows.header().iter().enumerate() {
                    let name = raw.trim_ascii();
                    if col == time
                        || name == DAY.as_bytes()
                        || name.is_empty()
                        || name.starts_with(b"Unnamed:")
                    {
                        continue;
                    }
                    let name = std::str::from_utf8(name).map_err(|_| TraceError::Header {
                        path: path.clone(),
                        column: Cow::Owned(shown_text(name)),
                        message: "a function column must be named in UTF-8".into(),
                    })?;
                    if seen.insert(name.as_bytes(), ()).is_some() {
                        return Err(TraceError::DuplicateColumn {
                            path: path.clone(),
                            column: Cow::Owned(one_line(name)),
                        });
                    }
                    let id = match ids.get(name) {
                        Some(&id) => id,
                        None => {
                            let id = names.len() as u32;
                            ids.insert(name.into(), id);
                            names.push(name.into());
                            id
                        }
                    };
                    functions.push((col, id));
                }
                Layout { time, functions }
            };
            files.push(rows);
            layouts.push(layout);
        }
        Ok(Self {
            files,
            layouts,
            current: 0,
            registered: vec![NONE; names.len()],
            names,
            memory_mb: spec.memory_mb,
            sampler,
            spread: spec.spread,
            interval_us: (spec.interval_s * 1e6).round() as u64,
            bin_start_us: 0,
            buffer: Vec::new(),
            pos: 0,
            counts: Vec::new(),
            previous: None,
            arrivals: SimRng::stream(seed, streams::ARRIVALS),
            durations: SimRng::stream(seed, streams::DURATIONS),
        })
    }

    /// The checksum (see the [module docs](self)), once every file has been read.
    pub fn checksum_hex(&self) -> Option<String> {
        let digests: Vec<_> = self.files.iter().map(|f| f.digest()).collect();
        combined_digest(&digests)
    }

    /// Reads the next row of the current file into the buffer; `false` when every file is
    /// read.
    fn read_bin(&mut self) -> Result<bool, TraceError> {
        loop {
            let Some(rows) = self.files.get_mut(self.current) else {
                return Ok(false);
            };
            if !rows.advance()? {
                self.current += 1;
                continue;
            }
            let rows = &self.files[self.current];
            let layout = &self.layouts[self.current];
            let rec = rows.record();
            let raw = &rec[layout.time];
            let time_us = seconds_field(raw).map_err(|e| {
                rows.bad_time(
                    TIME,
                    "a time in seconds >= 0 (a decimal number)",
                    raw,
                    e,
                    Unit::S,
                )
            })?;
            if let Some((prev, text)) = &self.previous {
                // No overflow: a time is at most MAX_SPAN_US, an interval at most 3600 s.
                if time_us < prev + self.interval_us {
                    return Err(TraceError::OutOfOrder {
                        path: rows.path().to_owned(),
                        line: rows.line(),
                        column: TIME.into(),
                        got: shown_text(raw.trim_ascii()),
                        previous: format!(
                            "{text} (rows must be at least interval_s = {} s apart)",
                            self.interval_us as f64 / 1e6
                        ),
                    });
                }
            }
            self.buffer.clear();
            self.pos = 0;
            let mut total = 0u64;
            self.counts.clear();
            for &(col, function) in &layout.functions {
                let cell = rec[col].trim_ascii();
                if cell.is_empty() || cell == b"0" || cell.eq_ignore_ascii_case(b"nan") {
                    continue;
                }
                let c = count(cell)
                    .filter(|&c| c <= MAX_COUNT_PER_BIN)
                    .ok_or_else(|| {
                        let name = shown_text(rows.header()[col].trim_ascii());
                        rows.bad(
                            Cow::Owned(name),
                            "a count of requests (empty, NaN or a whole number from 0 to \
                             60000000)",
                            &rec[col],
                        )
                    })?;
                total += c;
                self.counts.push((function, c));
            }
            if total > MAX_ARRIVALS_PER_BIN {
                return Err(TraceError::Content {
                    path: rows.path().to_owned(),
                    message: format!(
                        "line {}: the row holds {total} requests, more than the \
                         {MAX_ARRIVALS_PER_BIN} one bin may hold",
                        rows.line()
                    ),
                });
            }
            for &(function, c) in &self.counts {
                spread_into(
                    &mut self.buffer,
                    self.spread,
                    c,
                    self.interval_us,
                    function,
                    &mut self.arrivals,
                );
            }
            self.buffer.sort_unstable();
            self.bin_start_us = time_us;
            self.previous = Some((time_us, shown_text(raw.trim_ascii())));
            return Ok(true);
        }
    }

    fn next(&mut self, functions: &mut FunctionTable) -> Result<Option<Arrival>, TraceError> {
        while self.pos >= self.buffer.len() {
            if !self.read_bin()? {
                return Ok(None);
            }
        }
        let v = self.buffer[self.pos];
        self.pos += 1;
        let f = (v & 0xffff_ffff) as usize;
        if self.registered[f] == NONE {
            let id = functions.push(FunctionSpec {
                name: self.names[f].to_string(),
                memory_mb: self.memory_mb,
            });
            self.registered[f] = id.0;
        }
        let d = self.sampler.sample(&mut self.durations);
        let duration = within_span(d).ok_or_else(|| {
            spec_error(
                FORMAT,
                "duration_ms",
                format!(
                    "drew an execution time of {:.3e} ms, more than {MAX_SPAN_MS} ms (100 years, \
                     the longest span faasim simulates); narrow the distribution",
                    d.as_ms_f64()
                ),
            )
        })?;
        Ok(Some(Arrival {
            // No overflow: the bin starts at most at MAX_SPAN_US, the offset is below 2^32.
            time: SimTime(self.bin_start_us + (v >> 32)),
            function: FunctionId(self.registered[f]),
            duration,
            cold_start: None,
            mode: None,
        }))
    }
}

impl ArrivalSource for Huawei2023Source {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        Ok(self.next(functions)?)
    }
}
