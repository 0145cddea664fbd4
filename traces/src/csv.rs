//! The canonical CSV trace: one row per invocation, streamed.
//!
//! ```text
//! timestamp_ms,function,duration_ms,memory_mb[,cold_start_ms][,mode][,app][,any other column]
//! 0,thumbnail,120.5,256
//! 12.25,resize,80,512,300
//! ```
//!
//! Columns are found by header name (surrounding spaces ignored), in any order; unknown
//! columns are ignored. An `app` column is not used by the replay; a function's app (its
//! first row's, if not empty) is reported through [`TraceInfo`] so
//! that trace statistics can count apps.
//!
//! - `timestamp_ms`: arrival time in milliseconds since the start, a decimal >= 0. Rows must
//!   be in non-decreasing time order (after rounding to whole microseconds).
//! - `function`: the function's name, any non-empty UTF-8 text, taken as written (no trimming).
//! - `duration_ms`: execution time on an uncontended core, a decimal >= 0.
//! - `memory_mb`: a whole number > 0; `256.0` is accepted too, because tools that write
//!   integer columns as floats (pandas with missing values) are common. Every row must hold a
//!   valid value, but a function's memory is the value of its **first** row: later rows with
//!   another value do not change it (the engine sizes instances per function).
//! - `cold_start_ms` (optional): a per-invocation cold-start latency used instead of the
//!   platform's model if this invocation causes a cold start; an empty field means "use the
//!   model".
//! - `mode` (optional): `sync` or `async`, how this invocation is made (an asynchronous one
//!   is retried by the platform); an empty field takes the function's setting
//!   (`[functions."NAME"] invocation`, synchronous by default).
//!
//! Times are converted once, here, to whole microseconds (rounded to nearest); a timestamp,
//! duration or cold start above 100 years ([`MAX_SPAN_MS`](crate::limits::MAX_SPAN_MS)) is
//! out of range. An empty file (no header) is an error; a header with no rows is a trace of
//! zero arrivals ([`CsvSource::arrivals_read`] says 0 at the end). Any other bad input is a
//! [`TraceError`] naming the file, line and column; the reader never panics on input, and a
//! record longer than [`MAX_RECORD_BYTES`](crate::limits::MAX_RECORD_BYTES) is an error, so
//! memory stays bounded whatever the file holds.
//!
//! **Lenient mode** ([`CsvSource::lenient`], `OpenOptions::lenient`): a row with a bad field
//! or the wrong number of fields is skipped and counted ([`CsvSource::skipped_rows`])
//! instead of stopping the replay. A row that goes back in time is still an error: it
//! usually means the whole file is unsorted (sort it first), and skipping rows until time
//! catches up would silently drop a large part of the trace. I/O errors stay errors too.
//!
//! Speed: plain lines (no quotes, no `\r`, the header's number of fields, fields that
//! parse) are split straight out of a buffer of the file (line ends found with `memchr`);
//! the first line that is anything else hands the rest of the file to the `csv` crate's
//! reader (one reused `ByteRecord`), which gives every error message, so both read alike
//! (see `fast_rows`). Fields are parsed straight from bytes, function names interned in a
//! hash map keyed by their bytes (looked up without building a `String`, allocated once per
//! function). The SHA-256 of the file is computed by the reader as it streams the bytes, so
//! the checksum costs no second pass.

use crate::error::TraceError;
use crate::fast_rows::{FastRows, Line, Opened, Resume};
use crate::rows::{hex, ms_field, Header, Rows, Skipped, TimeError, Unit};
use crate::TraceInfo;
use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, InvocationMode, SimDuration,
    SimTime, SourceError,
};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

const TIMESTAMP: &str = "timestamp_ms";
const FUNCTION: &str = "function";
const DURATION: &str = "duration_ms";
const MEMORY: &str = "memory_mb";
const COLD_START: &str = "cold_start_ms";
const MODE: &str = "mode";
const APP: &str = "app";

/// Where the columns the reader uses sit in each record.
#[derive(Debug, Clone, Copy)]
struct Columns {
    timestamp: usize,
    function: usize,
    duration: usize,
    memory: usize,
    cold_start: Option<usize>,
    mode: Option<usize>,
    app: Option<usize>,
}

/// The header the reader needs, for the message about an empty file.
const EXPECTED_HEADER: &str = "timestamp_ms, function, duration_ms, memory_mb";

/// A streaming reader of a canonical CSV trace; see the [module docs](self).
#[derive(Debug)]
pub struct CsvSource<R: Read> {
    input: Input<R>,
    st: State,
}

/// Where the rows come from: the fast path until its first line it does not read, then the
/// general reader.
// Inline, not boxed: a reader holds one of them, read on every row.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Input<R: Read> {
    Fast(Box<FastRows<R>>),
    General(Rows<Resume<R>>),
    /// Only if handing over failed (it cannot: the header it replays was read already).
    Stopped,
}

/// What the reader knows beside the rows.
#[derive(Debug)]
struct State {
    columns: Columns,
    /// Each function's id, memory and the line of its first row, by its name's bytes.
    ids: FxHashMap<Box<[u8]>, (FunctionId, u32, u64)>,
    previous: SimTime,
    previous_ms: f64,
    arrivals: u64,
    skipped: Skipped,
    /// Per function registered by this source (by id): its app, when the file has an `app`
    /// column and the function's first row names one.
    apps: FxHashMap<u32, Box<str>>,
}

impl CsvSource<File> {
    /// Opens the file at `path` and reads its header.
    pub fn from_path(path: &Path) -> Result<Self, TraceError> {
        let file = File::open(path).map_err(|source| TraceError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(file, path)
    }
}

impl<R: Read> CsvSource<R> {
    /// Reads a trace from any byte stream (a file, a slice in tests); `path` only names it in
    /// error messages. Reads the header now, so an empty file or a missing column fails
    /// before the run starts.
    pub fn from_reader(reader: R, path: impl Into<PathBuf>) -> Result<Self, TraceError> {
        let (input, columns) = match FastRows::open(reader, path.into())? {
            Opened::Fast(fast, header) => {
                let columns = find_columns(Header {
                    path: &fast.path,
                    header: &header,
                })?;
                (Input::Fast(fast), columns)
            }
            Opened::General(rows) => {
                rows.require_header(EXPECTED_HEADER)?;
                let columns = find_columns(rows.columns())?;
                (Input::General(*rows), columns)
            }
        };
        Ok(Self::with_input(input, columns))
    }

    /// The general reader alone, from the first byte (to compare the fast path with).
    #[cfg(test)]
    fn general_only(reader: R, path: &str) -> Result<Self, TraceError> {
        let rows = Rows::new(Resume::plain(reader), path)?;
        rows.require_header(EXPECTED_HEADER)?;
        let columns = find_columns(rows.columns())?;
        Ok(Self::with_input(Input::General(rows), columns))
    }

    fn with_input(input: Input<R>, columns: Columns) -> Self {
        Self {
            input,
            st: State {
                columns,
                ids: FxHashMap::default(),
                previous: SimTime::ZERO,
                previous_ms: 0.0,
                arrivals: 0,
                skipped: Skipped::new(false),
                apps: FxHashMap::default(),
            },
        }
    }

    /// Sets lenient mode (see the [module docs](self)): bad rows are skipped and counted.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.st.skipped.lenient = lenient;
        self
    }

    /// How many bad rows lenient mode has skipped so far (always 0 when strict).
    pub fn skipped_rows(&self) -> u64 {
        self.st.skipped.rows
    }

    /// The error message of the first row lenient mode skipped.
    pub fn first_skipped(&self) -> Option<&str> {
        self.st.skipped.first.as_deref()
    }

    /// The hex SHA-256 of every byte of the input, once the source has returned `None` (the
    /// engine reads a source to its end on every successful run); `None` before that, since
    /// a checksum of part of a file would be misleading.
    pub fn checksum_hex(&self) -> Option<String> {
        let digest = match &self.input {
            Input::Fast(fast) => fast.digest(),
            Input::General(rows) => rows.digest(),
            Input::Stopped => None,
        };
        digest.map(|d| hex(&d))
    }

    /// Whether the file has a `mode` column (invocation modes to carry through a
    /// conversion).
    pub fn has_mode_column(&self) -> bool {
        self.st.columns.mode.is_some()
    }

    /// How many arrivals have been returned so far.
    pub fn arrivals_read(&self) -> u64 {
        self.st.arrivals
    }

    fn next(&mut self, functions: &mut FunctionTable) -> Result<Option<Arrival>, TraceError> {
        if let Input::Fast(fast) = &mut self.input {
            loop {
                match fast.next_line() {
                    Line::End => return Ok(None),
                    Line::General => break,
                    // A blank line: the CSV reader passes over it too.
                    Line::Record(start, end) if start == end => fast.consume(end),
                    Line::Record(start, end) => {
                        if !fast.split(start, end) {
                            break;
                        }
                        let Some(arrival) = self.st.parse_plain(fast, functions) else {
                            break;
                        };
                        fast.consume(end);
                        self.st.arrivals += 1;
                        return Ok(Some(arrival));
                    }
                }
            }
            // This line (and every one after) is the general reader's.
            if let Input::Fast(fast) = std::mem::replace(&mut self.input, Input::Stopped) {
                self.input = Input::General(fast.into_general()?);
            }
        }
        let Input::General(rows) = &mut self.input else {
            return Ok(None);
        };
        loop {
            if !rows.advance_lenient(&mut self.st.skipped)? {
                return Ok(None);
            }
            match self.st.parse_row(rows, functions) {
                Ok(arrival) => {
                    self.st.arrivals += 1;
                    return Ok(Some(arrival));
                }
                Err(e) => self.st.skipped.skip_or_fail(e)?,
            }
        }
    }
}

impl State {
    /// The fast path's row: the arrival, or `None` for anything the general reader must
    /// read (an error, a row lenient mode would count), having changed nothing.
    #[inline]
    fn parse_plain<R: Read>(
        &mut self,
        row: &FastRows<R>,
        functions: &mut FunctionTable,
    ) -> Option<Arrival> {
        let cols = self.columns;
        let (time_ms, time_us) = ms_field(row.field(cols.timestamp)).ok()?;
        let time = SimTime(time_us);
        if time < self.previous {
            return None;
        }
        let duration = ms_duration(row.field(cols.duration)).ok()?;
        let memory_mb = parse_memory(row.field(cols.memory))?;
        let cold_start = match cols.cold_start.map(|i| row.field(i)) {
            Some(raw) if !raw.trim_ascii().is_empty() => Some(ms_duration(raw).ok()?),
            _ => None,
        };
        let mode = match cols.mode.map(|i| row.field(i).trim_ascii()) {
            None | Some(b"") => None,
            Some(b"sync") => Some(InvocationMode::Sync),
            Some(b"async") => Some(InvocationMode::Async),
            Some(_) => return None,
        };
        let name = row.field(cols.function);
        let function = match self.ids.get(name) {
            Some(&(id, first_mb, _)) if first_mb == memory_mb => id,
            Some(_) => return None,
            None => {
                let name = std::str::from_utf8(name).ok().filter(|s| !s.is_empty())?;
                let app = cols.app.map(|i| row.field(i));
                self.register(name, memory_mb, row.line(), app, functions)
            }
        };
        self.previous = time;
        self.previous_ms = time_ms;
        Some(Arrival {
            time,
            function,
            duration,
            cold_start,
            mode,
        })
    }

    /// Registers a function met for the first time, on `line`, with its app if any.
    fn register(
        &mut self,
        name: &str,
        memory_mb: u32,
        line: u64,
        app: Option<&[u8]>,
        functions: &mut FunctionTable,
    ) -> FunctionId {
        let id = functions.push(FunctionSpec {
            name: name.to_owned(),
            memory_mb,
        });
        self.ids
            .insert(name.as_bytes().into(), (id, memory_mb, line));
        if let Some(app) = app
            .and_then(|a| std::str::from_utf8(a).ok())
            .filter(|a| !a.is_empty())
        {
            self.apps.insert(id.0, app.into());
        }
        id
    }

    fn parse_row<R: Read>(
        &mut self,
        rows: &Rows<R>,
        functions: &mut FunctionTable,
    ) -> Result<Arrival, TraceError> {
        let cols = self.columns;
        let rec = rows.record();
        let ts_raw = &rec[cols.timestamp];
        let (time_ms, time) = ms_field(ts_raw)
            .map(|(ms, us)| (ms, SimTime(us)))
            .map_err(|e| {
                rows.bad_time(
                    TIMESTAMP,
                    "a timestamp in milliseconds >= 0 (a decimal number)",
                    ts_raw,
                    e,
                    Unit::Ms,
                )
            })?;
        if time < self.previous {
            return Err(TraceError::Unsorted {
                path: rows.path().to_owned(),
                line: rows.line(),
                time_ms,
                previous_ms: self.previous_ms,
            });
        }
        let dur_raw = &rec[cols.duration];
        let duration = ms_duration(dur_raw).map_err(|e| {
            rows.bad_time(
                DURATION,
                "a number of milliseconds >= 0",
                dur_raw,
                e,
                Unit::Ms,
            )
        })?;
        let mem_raw = &rec[cols.memory];
        let memory_mb = parse_memory(mem_raw)
            .ok_or_else(|| rows.bad(MEMORY, "a whole number of MB > 0", mem_raw))?;
        let cold_start = match cols.cold_start {
            Some(i) if !rec[i].trim_ascii().is_empty() => {
                Some(ms_duration(&rec[i]).map_err(|e| {
                    rows.bad_time(
                        COLD_START,
                        "a number of milliseconds >= 0 or an empty field",
                        &rec[i],
                        e,
                        Unit::Ms,
                    )
                })?)
            }
            _ => None,
        };
        let mode = match cols.mode {
            Some(i) => match rec[i].trim_ascii() {
                b"" => None,
                b"sync" => Some(InvocationMode::Sync),
                b"async" => Some(InvocationMode::Async),
                raw => return Err(rows.bad(MODE, "`sync`, `async` or an empty field", raw)),
            },
            None => None,
        };
        let name_raw = &rec[cols.function];
        let name = std::str::from_utf8(name_raw)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                rows.bad(FUNCTION, "a function name (non-empty UTF-8 text)", name_raw)
            })?;
        let function = match self.ids.get(name.as_bytes()) {
            Some(&(id, first_mb, _)) if first_mb == memory_mb => id,
            Some(&(id, first_mb, first_line)) => {
                // One function, one memory size: a row that disagrees is an error; in
                // lenient mode the first value wins and the row is counted.
                let e = TraceError::Row {
                    path: rows.path().to_owned(),
                    line: rows.line(),
                    column: MEMORY.into(),
                    message: format!(
                        "function `{}` has memory_mb = {memory_mb} here but {first_mb} on line \
                         {first_line}; a function has one memory size",
                        name.escape_debug()
                    ),
                };
                if !self.skipped.lenient {
                    return Err(e);
                }
                self.skipped.note(&e);
                id
            }
            None => {
                let app = cols.app.map(|i| &rec[i]);
                self.register(name, memory_mb, rows.line(), app, functions)
            }
        };
        self.previous = time;
        self.previous_ms = time_ms;
        Ok(Arrival {
            time,
            function,
            duration,
            cold_start,
            mode,
        })
    }
}

impl<R: Read> TraceInfo for CsvSource<R> {
    /// The `app` field of the function's first row, if the file has that column.
    fn app_of(&self, function: FunctionId) -> Option<String> {
        self.st.apps.get(&function.0).map(|a| a.to_string())
    }
}

impl<R: Read> ArrivalSource for CsvSource<R> {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        Ok(self.next(functions)?)
    }
}

fn find_columns(header: Header<'_>) -> Result<Columns, TraceError> {
    Ok(Columns {
        timestamp: header.required(TIMESTAMP)?,
        function: header.required(FUNCTION)?,
        duration: header.required(DURATION)?,
        memory: header.required(MEMORY)?,
        cold_start: header.find(COLD_START)?,
        mode: header.find(MODE)?,
        app: header.find(APP)?,
    })
}

/// Milliseconds as a duration of whole microseconds (see [`ms_field`]).
fn ms_duration(raw: &[u8]) -> Result<SimDuration, TimeError> {
    ms_field(raw).map(|(_, us)| SimDuration(us))
}

/// A whole number of MB > 0, written as an integer or as a float with no fraction.
fn parse_memory(raw: &[u8]) -> Option<u32> {
    // Fast path: plain digits (what traces hold), at most 9 so no overflow.
    let digits = raw.trim_ascii();
    if !digits.is_empty() && digits.len() <= 9 && digits.iter().all(u8::is_ascii_digit) {
        let mb = digits.iter().fold(0u32, |n, &b| n * 10 + (b - b'0') as u32);
        return (mb > 0).then_some(mb);
    }
    let s = std::str::from_utf8(raw).ok()?.trim();
    if let Ok(mb) = s.parse::<u32>() {
        return (mb > 0).then_some(mb);
    }
    let mb: f64 = s.parse().ok()?;
    (mb.is_finite() && mb >= 1.0 && mb.fract() == 0.0 && mb <= u32::MAX as f64).then_some(mb as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn source(text: &[u8]) -> Result<CsvSource<&[u8]>, TraceError> {
        CsvSource::from_reader(text, "trace.csv")
    }

    /// Reads every arrival, or the first error.
    fn read_all(text: &[u8]) -> Result<(Vec<Arrival>, FunctionTable), TraceError> {
        let mut src = source(text)?;
        let mut table = FunctionTable::new();
        let mut out = Vec::new();
        while let Some(a) = src.next(&mut table)? {
            out.push(a);
        }
        Ok((out, table))
    }

    /// Everything a read gives: each arrival (or the error that stopped it), the functions,
    /// apps, checksum and skipped rows.
    fn outcome(mut src: CsvSource<&[u8]>, lenient: bool) -> String {
        src = src.lenient(lenient);
        let mut table = FunctionTable::new();
        let mut out = String::new();
        loop {
            match src.next(&mut table) {
                Ok(Some(a)) => out.push_str(&format!("{a:?}\n")),
                Ok(None) => break,
                Err(e) => {
                    out.push_str(&format!("error: {e}\n"));
                    break;
                }
            }
        }
        for (id, f) in table.iter() {
            out.push_str(&format!("{id:?} {f:?} app {:?}\n", src.app_of(id)));
        }
        out.push_str(&format!(
            "checksum {:?} skipped {} {:?} read {}\n",
            src.checksum_hex(),
            src.skipped_rows(),
            src.first_skipped(),
            src.arrivals_read()
        ));
        out
    }

    /// The fast path (with its hand-over) and the general reader alone read `text` alike,
    /// strict and lenient, errors included.
    fn same_both_ways(text: &[u8]) {
        for lenient in [false, true] {
            let fast = source(text).map(|s| outcome(s, lenient));
            let general = CsvSource::general_only(text, "trace.csv").map(|s| outcome(s, lenient));
            match (fast, general) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{:?}", String::from_utf8_lossy(text)),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn the_fast_path_reads_tricky_files_as_the_csv_reader_does() {
        let h = "timestamp_ms,function,duration_ms,memory_mb,cold_start_ms";
        let files = [
            format!("{h}\n0,f,1,128,\n1.5,g,2.25,256,300\n2,f,1,128, \n"),
            // No line end at the end; blank lines inside and at the end.
            format!("{h}\n0,f,1,128,\n\n1,g,2,256,5"),
            format!("{h}\n0,f,1,128,\n\n\n1,g,2,256,5\n\n"),
            // CRLF from the header, or from a row on.
            format!("{h}\r\n0,f,1,128,\r\n1,g,2,256,\r\n"),
            format!("{h}\n0,f,1,128,\n1,g,2,256,\r\n2,g,3,256,\n3,g,x,256,\n"),
            // A quoted field (with a comma, a line end) mid-file, then plain lines again.
            format!(
                "{h}\n0,f,1,128,\n1,\"a,b\",2,256,\n2,\"c\nd\",1,64,\n3,f,1,128,\n4,f,z,128,\n"
            ),
            // A byte-order mark; blank lines before the header; spaces in the header.
            format!("\u{feff}{h}\n0,f,1,128,\n"),
            format!("\n\n{h}\n0,f,1,128,\n"),
            " timestamp_ms , function ,duration_ms,memory_mb\n0, f ,1,128\n".into(),
            // Bad rows of every kind, for the same messages (and lenient skips).
            format!("{h}\n0,f,1,128,\n1,f,-1,128,\n2,f,1,128,\n"),
            format!("{h}\n0,f,1,128,\n1,f,1,256,\n2,f,1,128,\n"),
            format!("{h}\n5,f,1,128,\n1,f,1,128,\n"),
            format!("{h}\n0,f,1,128,\n1,f,1\n2,f,1,128,\n3,f,1,128,,\n"),
            format!("{h}\n0,f,1,128,\n1,,1,128,\n2,f,1,0,\n3,f,1,128,x\n4,f,1e3,128,\n"),
            format!("{h}\n0,f,1,128,\n1,f,99999999999999999999,128,\n"),
            "timestamp_ms,function,duration_ms,memory_mb,mode,app\n0,f,1,128,async,a1\n\
             1,g,1,128,,\n2,f,1,128,later,a2\n3,h,1,64, sync ,a3\n"
                .into(),
            "app,memory_mb,note,duration_ms,function,timestamp_ms\na1,256,x,120.5,thumb,0\n\
             a2,512,\"y\",80,resize,12.25\n"
                .into(),
            // An unclosed quote; an empty file; a header alone.
            format!("{h}\n0,f,1,128,\n1,\"f,1,128,\n"),
            String::new(),
            "\n\n".into(),
            format!("{h}\n"),
            h.to_string(),
        ];
        for text in &files {
            same_both_ways(text.as_bytes());
        }
        same_both_ways(b"timestamp_ms,function,duration_ms,memory_mb\n0,f\xff,1,128\n");
        // Past the fast path's buffer: a quote, an error and a CRLF line deep in the file.
        let mut text = format!("{h}\n");
        for i in 0..40_000 {
            text.push_str(&format!("{i},f{},1.5,128,\n", i % 13));
            if i % 997 == 0 {
                text.push('\n');
            }
        }
        for tail in [
            "",
            "40000,\"q\",1,128,\n",
            "40000,f1,x,128,\n",
            "40000,f1,1,128,\r\n",
        ] {
            let mut t = text.clone();
            t.push_str(tail);
            t.push_str("40001,f1,2,128,\n");
            same_both_ways(t.as_bytes());
        }
    }

    #[test]
    fn plain_files_stay_on_the_fast_path_and_others_hand_over() {
        let text = b"timestamp_ms,function,duration_ms,memory_mb\n0,f,1,128\n\n1,g,2,64";
        let mut src = source(text).unwrap();
        let mut table = FunctionTable::new();
        while src.next(&mut table).unwrap().is_some() {}
        assert!(matches!(src.input, Input::Fast(_)));
        assert_eq!(src.arrivals_read(), 2);
        let text = b"timestamp_ms,function,duration_ms,memory_mb\n0,f,1,128\n1,\"g\",2,64\n";
        let mut src = source(text).unwrap();
        assert!(src.next(&mut table).unwrap().is_some());
        assert!(matches!(src.input, Input::Fast(_)));
        assert!(src.next(&mut table).unwrap().is_some());
        assert!(matches!(src.input, Input::General(_)));
    }

    proptest::proptest! {
        /// Rows made of plain and awkward fields read alike both ways.
        #[test]
        fn generated_rows_read_alike_both_ways(
            rows in proptest::collection::vec(
                (0usize..6, 0usize..6, 0usize..5, 0usize..5, 0usize..4, 0usize..5), 0..40),
            crlf_end in proptest::bool::ANY,
        ) {
            const TIMES: [&str; 6] = ["1", "2.5", " 3 ", "0.0005", "x", "1e1"];
            const NAMES: [&str; 6] = ["f", "g", "\"h,i\"", "", " f", "\"j\"\"k\""];
            const DURATIONS: [&str; 5] = ["1", "0.25", "-1", "", "inf"];
            const MEMORY: [&str; 5] = ["128", "256", "128.0", "0", "64"];
            const COLD: [&str; 4] = ["", "5", " ", "y"];
            const EXTRA: [&str; 5] = ["", ",", "\n", "\r\n", ",9"];
            let mut text = String::from("timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n");
            let mut t = 0;
            for &(ti, n, d, m, c, e) in &rows {
                t += ti;
                let time = if ti < 2 { t.to_string() } else { TIMES[ti].to_string() };
                text.push_str(&format!(
                    "{time},{},{},{},{}{}\n",
                    NAMES[n], DURATIONS[d], MEMORY[m], COLD[c], EXTRA[e]
                ));
            }
            if crlf_end {
                text.push_str("\r\n");
            }
            same_both_ways(text.as_bytes());
        }
    }

    /// A reader that fails after `left` bytes.
    struct Failing<'a> {
        bytes: &'a [u8],
        left: usize,
    }

    impl std::io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = buf.len().min(self.left).min(self.bytes.len()).min(1000);
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn an_io_error_reads_alike_both_ways() {
        let mut text = b"timestamp_ms,function,duration_ms,memory_mb\n".to_vec();
        for i in 0..20_000 {
            text.extend_from_slice(format!("{i},f,1,128\n").as_bytes());
        }
        for left in [10, 5_000, 150_000] {
            let read = |mut src: CsvSource<Failing<'_>>| {
                let mut table = FunctionTable::new();
                let mut n = 0;
                loop {
                    match src.next(&mut table) {
                        Ok(Some(_)) => n += 1,
                        Ok(None) => return format!("{n} then the end"),
                        Err(e) => return format!("{n} then {e}"),
                    }
                }
            };
            let fast = CsvSource::from_reader(Failing { bytes: &text, left }, "trace.csv")
                .map(read)
                .map_err(|e| e.to_string());
            let general = CsvSource::general_only(Failing { bytes: &text, left }, "trace.csv")
                .map(read)
                .map_err(|e| e.to_string());
            assert_eq!(fast, general, "{left}");
            assert!(format!("{fast:?}").contains("disk gone"), "{fast:?}");
        }
    }

    #[test]
    fn a_function_has_one_memory_size() {
        let text: &[u8] = b"timestamp_ms,function,duration_ms,memory_mb\n\
                            0,f,1,128\n5,g,1,256\n10,f,1,512\n20,f,1,128\n";
        assert_eq!(
            err(text),
            "trace.csv line 4, column memory_mb: function `f` has memory_mb = 512 here but 128 \
             on line 2; a function has one memory size"
        );
        // Lenient: the first value wins, the row is kept and counted.
        let mut src = source(text).unwrap().lenient(true);
        let mut table = FunctionTable::new();
        let mut n = 0;
        while src.next(&mut table).unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 4);
        assert_eq!(table.get(FunctionId(0)).memory_mb, 128);
        assert_eq!(src.skipped_rows(), 1);
        assert!(src.first_skipped().unwrap().contains("line 4"));
    }

    fn err(text: &[u8]) -> String {
        match read_all(text) {
            Ok(_) => panic!("expected an error for {:?}", String::from_utf8_lossy(text)),
            Err(e) => {
                let s = e.to_string();
                assert!(!s.contains('\n'), "one line: {s}");
                s
            }
        }
    }

    #[test]
    fn the_mode_column_says_sync_async_or_nothing() {
        let text = b"timestamp_ms,function,duration_ms,memory_mb,mode\n\
                     0,f,1,128,async\n\
                     1,f,1,128, sync\n\
                     2,f,1,128,\n";
        let (arrivals, _) = read_all(text).unwrap();
        let modes: Vec<_> = arrivals.iter().map(|a| a.mode).collect();
        assert_eq!(
            modes,
            [
                Some(InvocationMode::Async),
                Some(InvocationMode::Sync),
                None
            ]
        );
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb,mode\n0,f,1,128,later\n");
        assert!(e.contains("line 2, column mode"), "{e}");
        assert!(e.contains("`sync`, `async` or an empty field"), "{e}");
    }

    #[test]
    fn reads_columns_by_name_in_any_order_with_extra_columns() {
        let text = b"app,memory_mb,note,duration_ms,function,timestamp_ms,cold_start_ms\n\
                     a1,256,x,120.5,thumb,0,\n\
                     a1,512,y,80,resize,12.25,300\n\
                     a1,256,z,0.0015,thumb,12.25,\n";
        let (arrivals, table) = read_all(text).unwrap();
        assert_eq!(arrivals.len(), 3);
        assert_eq!(
            arrivals[0],
            Arrival {
                time: SimTime(0),
                function: FunctionId(0),
                duration: SimDuration(120_500),
                cold_start: None,
                mode: None,
            }
        );
        assert_eq!(
            arrivals[1],
            Arrival {
                time: SimTime(12_250),
                function: FunctionId(1),
                duration: SimDuration(80_000),
                cold_start: Some(SimDuration(300_000)),
                mode: None,
            }
        );
        // Same function again: same id; 1.5 us rounds to 2 us; equal timestamps are in order.
        assert_eq!(arrivals[2].function, FunctionId(0));
        assert_eq!(arrivals[2].duration, SimDuration(2));
        assert_eq!(table.len(), 2);
        assert_eq!(
            table.get(FunctionId(0)),
            &FunctionSpec {
                name: "thumb".into(),
                memory_mb: 256
            }
        );
        assert_eq!(table.get(FunctionId(1)).memory_mb, 512);
    }

    #[test]
    fn quoted_fields_crlf_and_spaces_around_numbers_and_headers() {
        let text = b" timestamp_ms , function ,duration_ms,memory_mb\r\n\
                     1,\"a,b\", 2 ,256.0\r\n\
                     2, g ,1,128\r\n";
        let (arrivals, table) = read_all(text).unwrap();
        assert_eq!(arrivals[0].time, SimTime(1_000));
        assert_eq!(arrivals[0].duration, SimDuration(2_000));
        assert_eq!(table.get(FunctionId(0)).name, "a,b");
        // Names are taken as written, spaces included.
        assert_eq!(table.get(FunctionId(1)).name, " g ");
        // Line numbers count CRLF lines too.
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\r\n0,f,1,128\r\n1,f,x,128\r\n");
        assert!(e.starts_with("trace.csv line 3, column duration_ms"), "{e}");
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\r\n0,f,1,128\r\n1,f,1\r\n");
        assert!(e.starts_with("trace.csv line 3:"), "{e}");
    }

    #[test]
    fn line_numbers_are_true_after_blank_lines_quoted_newlines_and_crlf() {
        for nl in ["\n", "\r\n"] {
            let text = [
                "timestamp_ms,function,duration_ms,memory_mb",
                "0,f,1,128",
                "",
                "1,\"multi",
                "line\",1,128",
                "",
                "",
                "2,f,oops,128",
                "",
            ]
            .join(nl);
            let e = err(text.as_bytes());
            assert!(
                e.starts_with("trace.csv line 8, column duration_ms"),
                "{nl:?}: {e}"
            );
            let text = text
                .replace("oops", "1")
                .replace("2,f,1,128", "0.5,f,1,128");
            let e = err(text.as_bytes());
            assert!(
                e.starts_with("trace.csv line 8, column timestamp_ms"),
                "{nl:?}: {e}"
            );
            let text = text.replace("0.5,f,1,128", "2,f,1");
            let e = err(text.as_bytes());
            assert!(
                e.starts_with("trace.csv line 8: expected 4 fields"),
                "{nl:?}: {e}"
            );
        }
    }

    #[test]
    fn line_numbers_stay_true_deep_into_a_long_file() {
        let mut text = b"timestamp_ms,function,duration_ms,memory_mb\n".to_vec();
        for i in 0..50_000 {
            text.extend_from_slice(format!("{i},f,1,128\n\n").as_bytes());
        }
        text.extend_from_slice(b"99999,f,-1,128\n");
        // Header, then two lines per row.
        let e = err(&text);
        assert!(
            e.starts_with("trace.csv line 100002, column duration_ms"),
            "{e}"
        );
    }

    #[test]
    fn error_message_names_file_line_column_and_expectation() {
        let mut text = b"timestamp_ms,function,duration_ms,memory_mb\n".to_vec();
        for i in 0..5 {
            text.extend_from_slice(format!("{i},f,1,128\n").as_bytes());
        }
        text.extend_from_slice(b"9,f,abc,128\n");
        assert_eq!(
            err(&text),
            r#"trace.csv line 7, column duration_ms: expected a number of milliseconds >= 0, got "abc""#
        );
    }

    #[test]
    fn missing_required_column_is_named() {
        let e = err(b"timestamp_ms,function,memory_mb\n1,f,128\n");
        assert!(
            e.starts_with("trace.csv line 1: missing required column `duration_ms`"),
            "{e}"
        );
        assert!(e.contains("timestamp_ms, function, memory_mb"), "{e}");
        let e = err(b"function,duration_ms,memory_mb\n");
        assert!(e.contains("`timestamp_ms`"), "{e}");
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb,function\n");
        assert!(
            e.contains("column `function` appears more than once"),
            "{e}"
        );
    }

    #[test]
    fn bad_durations_are_rejected() {
        for bad in ["abc", "-1", "NaN", "inf", "-inf", ""] {
            let text = format!("timestamp_ms,function,duration_ms,memory_mb\n0,f,{bad},128\n");
            let e = err(text.as_bytes());
            assert_eq!(
                e,
                format!(
                    "trace.csv line 2, column duration_ms: expected a number of milliseconds \
                     >= 0, got {bad:?}"
                )
            );
        }
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n-5,f,1,128\n");
        assert!(
            e.contains("line 2, column timestamp_ms: expected a timestamp"),
            "{e}"
        );
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n0,f,1,128,x\n");
        assert!(e.contains("column cold_start_ms"), "{e}");
    }

    #[test]
    fn timestamps_going_backwards_name_both_values() {
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n100,f,1,128\n150.5,f,1,128\n120,g,1,128\n");
        assert_eq!(
            e,
            "trace.csv line 4, column timestamp_ms: rows must be in time order, got 120 after 150.5"
        );
    }

    #[test]
    fn non_utf8_bytes_are_an_error_not_a_panic() {
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n0,f\xff\xfe,1,128\n");
        assert!(
            e.starts_with("trace.csv line 2, column function: expected a function name"),
            "{e}"
        );
        assert!(e.contains('\u{fffd}'), "{e}");
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n0,f,1\xff,128\n");
        assert!(e.contains("column duration_ms"), "{e}");
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n0,,1,128\n");
        assert!(
            e.contains("column function: expected a function name"),
            "{e}"
        );
    }

    #[test]
    fn wrong_number_of_fields_names_the_line() {
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n0,f,1,128\n1,f,1\n");
        assert_eq!(
            e,
            "trace.csv line 3: expected 4 fields (as in the header), got 3"
        );
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n0,f,1,128,9\n");
        assert_eq!(
            e,
            "trace.csv line 2: expected 4 fields (as in the header), got 5"
        );
    }

    #[test]
    fn memory_must_be_a_positive_whole_number() {
        for bad in ["0", "-256", "256.5", "abc", "0.0", "NaN", "5000000000"] {
            let text = format!("timestamp_ms,function,duration_ms,memory_mb\n0,f,1,{bad}\n");
            let e = err(text.as_bytes());
            assert!(
                e.starts_with(
                    "trace.csv line 2, column memory_mb: expected a whole number of MB > 0"
                ),
                "{bad}: {e}"
            );
        }
        for (good, mb) in [("256", 256), ("256.0", 256), (" 512 ", 512), ("1e3", 1000)] {
            let text = format!("timestamp_ms,function,duration_ms,memory_mb\n0,f,1,{good}\n");
            let (_, table) = read_all(text.as_bytes()).unwrap();
            assert_eq!(table.get(FunctionId(0)).memory_mb, mb, "{good}");
        }
        // Every row is checked, not only a function's first.
        let e = err(b"timestamp_ms,function,duration_ms,memory_mb\n0,f,1,128\n1,f,1,x\n");
        assert!(e.contains("line 3, column memory_mb"), "{e}");
    }

    #[test]
    fn empty_file_is_an_error_and_header_only_is_zero_arrivals() {
        for text in [&b""[..], b"\n\n", b"\r\n"] {
            assert_eq!(
                err(text),
                "trace.csv: empty file, expected a header line with the columns \
                 timestamp_ms, function, duration_ms, memory_mb"
            );
        }
        let text = b"timestamp_ms,function,duration_ms,memory_mb\n";
        let (arrivals, table) = read_all(text).unwrap();
        assert!(arrivals.is_empty());
        assert!(table.is_empty());
        let mut src = source(text).unwrap();
        assert_eq!(src.next(&mut FunctionTable::new()).unwrap(), None);
        assert_eq!(src.arrivals_read(), 0);
        assert_eq!(src.checksum_hex().unwrap(), hex(&Sha256::digest(text)));
    }

    #[test]
    fn checksum_is_sha256_of_every_byte_and_only_given_at_the_end() {
        let mut text = b"timestamp_ms,function,duration_ms,memory_mb\n".to_vec();
        // Larger than the reader's buffer, so the digest spans many reads.
        for i in 0..20_000 {
            text.extend_from_slice(format!("{i},f{},1.5,128\n", i % 7).as_bytes());
        }
        let mut src = source(&text).unwrap();
        let mut table = FunctionTable::new();
        assert!(src.next(&mut table).unwrap().is_some());
        assert_eq!(src.checksum_hex(), None);
        while src.next(&mut table).unwrap().is_some() {}
        assert_eq!(src.arrivals_read(), 20_000);
        assert_eq!(src.checksum_hex().unwrap(), hex(&Sha256::digest(&text)));
        // Pinned: SHA-256("abc").
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let path = std::env::temp_dir().join("faasim-traces-no-such-file.csv");
        let e = CsvSource::from_path(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot open trace file", path.display())),
            "{e}"
        );
    }

    /// Throughput check: `cargo test -p faasim-traces --release -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        let mut text = b"timestamp_ms,function,duration_ms,memory_mb,app\n".to_vec();
        // `FAASIM_CSV_ROWS` makes it shorter (for callgrind).
        let rows = std::env::var("FAASIM_CSV_ROWS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(5_000_000u64);
        for i in 0..rows {
            let line = format!(
                "{}.{},func-{},{}.25,{},app-{}\n",
                i / 4,
                (i % 4) * 25,
                i % 1000,
                i % 977,
                128 + (i % 4) * 64,
                i % 10
            );
            text.extend_from_slice(line.as_bytes());
        }
        let t = std::time::Instant::now();
        let mut src = source(&text).unwrap();
        let mut table = FunctionTable::new();
        let mut n = 0u64;
        while src.next(&mut table).unwrap().is_some() {
            n += 1;
        }
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(n, rows);
        println!(
            "{n} rows, {:.1} MB in {secs:.3} s: {:.2} M rows/s, {:.0} MB/s",
            text.len() as f64 / 1e6,
            n as f64 / secs / 1e6,
            text.len() as f64 / 1e6 / secs
        );
    }
}
