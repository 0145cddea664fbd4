//! The Azure LLM inference trace 2023 (Patel et al., "Splitwise: Efficient Generative LLM
//! Inference Using Phase Splitting", ISCA'24), as published on the Azure Public Dataset
//! (`AzureLLMInferenceTrace_code.csv`, `AzureLLMInferenceTrace_conv.csv`).
//!
//! ```toml
//! [trace]
//! format = "azure-llm-2023"
//! path = "AzureLLMInferenceTrace_conv.csv"
//! # every key below is optional
//! function = "llm"
//! memory_mb = 81920
//! prefill_ms_per_token = 0.2
//! decode_ms_per_token = 30
//! overhead_ms = 0
//! ```
//!
//! One row per request, columns found by header name: `TIMESTAMP`, `ContextTokens`,
//! `GeneratedTokens` (whole numbers >= 0); other columns are ignored. Rows must be in time
//! order (they are in the published files) and are streamed.
//!
//! **Timestamps** are UTC wall-clock times `YYYY-MM-DD HH:MM:SS[.fffffff]` (a `T` instead of
//! the space and a trailing `Z` are accepted; 0 to 9 fraction digits, the published files
//! have 7, i.e. 100 ns). They are parsed by hand (proleptic Gregorian calendar, no leap
//! seconds), rounded to the nearest microsecond, and replayed relative to the **first row**,
//! which arrives at time 0; a row more than 100 years after the first
//! ([`MAX_SPAN_US`]) is out of range.
//!
//! **Service time.** The trace has no durations, so each request's execution time comes from
//! a linear token model of one request served alone (no batching):
//!
//! ```text
//! duration_ms = overhead_ms + prefill_ms_per_token × ContextTokens
//!                           + decode_ms_per_token  × GeneratedTokens
//! ```
//!
//! The defaults are round numbers, approximations of the order of magnitude Splitwise
//! (§II–III) reports for Llama2-70B and BLOOM-176B on 8-GPU DGX-A100/H100 machines: the
//! prompt (prefill) phase is compute-bound and processes thousands of tokens per second
//! (default 0.2 ms per token, i.e. 5,000 tokens/s), and the token (decode) phase is
//! memory-bound at tens of milliseconds per generated token (default 30 ms). They are not
//! measurements; set them for the model and hardware being simulated. `overhead_ms`
//! (default 0) adds a fixed per-request cost (scheduling, tokenisation, network). A row whose
//! modelled service time exceeds 100 years (a token count of 10¹⁵, say) is an error naming
//! its line and the token column that contributes most, rather than a request that would
//! keep the simulation running for ever.
//!
//! An empty file (no header) is an error; a header with no rows is a trace of no requests.
//!
//! **Functions and memory.** Every request invokes one function, named by `function`
//! (default `llm`), whose instance reserves `memory_mb` (default 81,920 MB: the 80 GB of HBM of
//! one A100-80GB or H100 GPU, so that an instance stands for one GPU-sized model server).
//! With `functions = n` (default 1, at most 1,000,000) the requests are spread over `n`
//! functions `llm-0` ... `llm-{n-1}` (many models behind one stream of requests, as
//! ServerlessLLM's evaluation maps the trace onto many models): row `i` (the `i`-th row
//! returned, from 0) invokes `llm-k` with `k = mix64(i) mod n` (SplitMix64's finaliser, the
//! same for every seed, so every configuration of a study sees the same mapping), each
//! function registered at its first request.
//! To replay both published files as two functions, run them as two traces or convert and
//! merge them.
//!
//! **Token counts** of each request are also handed to the engine
//! ([`ArrivalSource::tokens`]): a function that serves a model with a token model
//! (`[models."NAME"] latency = { prefill_ms_per_token, decode_ms_per_token }`) is timed by
//! the model from them, batch by batch, and the service time above is not used.
//!
//! The checksum is the file's SHA-256, available once the replay has read it to its end.
//!
//! **Lenient mode** ([`AzureLlm2023Source::open_lenient`], `OpenOptions::lenient`): a row with
//! a bad field or the wrong number of fields is skipped and counted; a row earlier than the
//! one before it is still an error (as for the canonical CSV trace).

use crate::error::TraceError;
use crate::limits::{show_f64, MAX_GENERATED_FUNCTIONS as MAX_FUNCTIONS, MAX_SPAN_MS, MAX_SPAN_US};
use crate::rows::{count, hex, shown_text, Rows, Skipped, Unit};
use crate::spec_error;
use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, SimDuration, SimTime,
    SourceError,
};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

const TIMESTAMP: &str = "TIMESTAMP";
const CONTEXT: &str = "ContextTokens";
const GENERATED: &str = "GeneratedTokens";
const FORMAT: &str = "azure-llm-2023";

fn default_function() -> String {
    "llm".into()
}
fn default_memory_mb() -> u32 {
    81_920
}
fn default_prefill() -> f64 {
    0.2
}
fn default_decode() -> f64 {
    30.0
}

/// The `[trace]` table of `format = "azure-llm-2023"`; see the [module docs](self) for the
/// token model and the sources of its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureLlm2023Spec {
    /// The trace file; a relative path is relative to the scenario file's folder.
    pub path: PathBuf,
    /// The function every request invokes (default `llm`).
    #[serde(default = "default_function")]
    pub function: String,
    /// Memory of one instance, MB (default 81920, one 80 GB GPU).
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u32,
    /// Prompt-phase cost per context token, ms (default 0.2, i.e. 5,000 tokens/s).
    #[serde(default = "default_prefill")]
    pub prefill_ms_per_token: f64,
    /// Decode-phase cost per generated token, ms (default 30).
    #[serde(default = "default_decode")]
    pub decode_ms_per_token: f64,
    /// Fixed cost per request, ms (default 0).
    #[serde(default)]
    pub overhead_ms: f64,
    /// Spread the requests over this many functions, `FUNCTION-0` to `FUNCTION-{n-1}`
    /// (default 1: every request invokes `function`); see the module docs.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub functions: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl AzureLlm2023Spec {
    /// A spec with every default, reading `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            function: default_function(),
            memory_mb: default_memory_mb(),
            prefill_ms_per_token: default_prefill(),
            decode_ms_per_token: default_decode(),
            overhead_ms: 0.0,
            functions: 1,
        }
    }

    /// Checks the parameters, naming the first bad key.
    pub fn validate(&self) -> Result<(), TraceError> {
        if self.function.is_empty() {
            return Err(spec_error(FORMAT, "function", "must not be empty"));
        }
        if self.memory_mb == 0 {
            return Err(spec_error(FORMAT, "memory_mb", "must be > 0"));
        }
        if !(1..=MAX_FUNCTIONS).contains(&self.functions) {
            return Err(spec_error(
                FORMAT,
                "functions",
                format!("must be from 1 to {MAX_FUNCTIONS}, got {}", self.functions),
            ));
        }
        for (key, v) in [
            ("prefill_ms_per_token", self.prefill_ms_per_token),
            ("decode_ms_per_token", self.decode_ms_per_token),
            ("overhead_ms", self.overhead_ms),
        ] {
            if !(v.is_finite() && v >= 0.0 && v <= MAX_SPAN_MS as f64) {
                return Err(spec_error(
                    FORMAT,
                    key,
                    format!(
                        "must be a number of ms from 0 to {MAX_SPAN_MS} (100 years), got {}",
                        show_f64(v)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The model's service time for one request, ms.
    pub fn service_ms(&self, context_tokens: u64, generated_tokens: u64) -> f64 {
        self.overhead_ms
            + self.prefill_ms_per_token * context_tokens as f64
            + self.decode_ms_per_token * generated_tokens as f64
    }
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    timestamp: usize,
    context: usize,
    generated: usize,
}

/// A streaming replay of an Azure LLM inference trace; see the [module docs](self).
#[derive(Debug)]
pub struct AzureLlm2023Source {
    spec: AzureLlm2023Spec,
    rows: Rows<File>,
    columns: Columns,
    function: Option<FunctionId>,
    /// With `functions` > 1: each function's id, once registered (first use registers it).
    spread: Vec<Option<FunctionId>>,
    /// The first row's time, µs since 1970.
    origin_us: Option<i64>,
    /// The previous row's time (µs since 1970) and its text, for order errors.
    previous: (i64, String),
    skipped: Skipped,
    /// Rows returned so far (the spreading over `functions` hashes the row's index).
    rows_read: u64,
    /// The token counts of the last row returned (for model serving's token models).
    last_tokens: Option<faasim_sim::Tokens>,
}

impl AzureLlm2023Source {
    /// Opens the file `spec` names (a relative path is resolved against `base_dir`) and
    /// reads its header.
    pub fn open(spec: &AzureLlm2023Spec, base_dir: &Path) -> Result<Self, TraceError> {
        Self::open_lenient(spec, base_dir, false)
    }

    /// [`open`](Self::open), skipping and counting bad rows if `lenient` (see the
    /// [module docs](self)).
    pub fn open_lenient(
        spec: &AzureLlm2023Spec,
        base_dir: &Path,
        lenient: bool,
    ) -> Result<Self, TraceError> {
        spec.validate()?;
        let rows = Rows::open(&base_dir.join(&spec.path))?;
        rows.require_header("TIMESTAMP, ContextTokens, GeneratedTokens")?;
        let h = rows.columns();
        let columns = Columns {
            timestamp: h.required(TIMESTAMP)?,
            context: h.required(CONTEXT)?,
            generated: h.required(GENERATED)?,
        };
        Ok(Self {
            spec: spec.clone(),
            rows,
            columns,
            function: None,
            spread: vec![None; spec.functions as usize],
            origin_us: None,
            previous: (i64::MIN, String::new()),
            skipped: Skipped::new(lenient),
            rows_read: 0,
            last_tokens: None,
        })
    }

    /// How many bad rows lenient mode has skipped so far (always 0 when strict).
    pub fn skipped_rows(&self) -> u64 {
        self.skipped.rows
    }

    /// The error message of the first row lenient mode skipped.
    pub fn first_skipped(&self) -> Option<&str> {
        self.skipped.first.as_deref()
    }

    /// The file's SHA-256, once the replay has read it to its end.
    pub fn checksum_hex(&self) -> Option<String> {
        self.rows.digest().map(|d| hex(&d))
    }

    fn next(&mut self, functions: &mut FunctionTable) -> Result<Option<Arrival>, TraceError> {
        loop {
            if !self.rows.advance_lenient(&mut self.skipped)? {
                return Ok(None);
            }
            match self.parse_row(self.columns, functions) {
                Ok(a) => return Ok(Some(a)),
                Err(e) => self.skipped.skip_or_fail(e)?,
            }
        }
    }

    /// The arrival of the record just read; nothing changes unless the row is valid.
    fn parse_row(
        &mut self,
        cols: Columns,
        functions: &mut FunctionTable,
    ) -> Result<Arrival, TraceError> {
        let rows = &self.rows;
        let rec = rows.record();
        let ts_raw = &rec[cols.timestamp];
        let ts = parse_timestamp_us(ts_raw).ok_or_else(|| {
            rows.bad(
                TIMESTAMP,
                "a UTC time YYYY-MM-DD HH:MM:SS[.fffffff]",
                ts_raw,
            )
        })?;
        if ts < self.previous.0 {
            return Err(TraceError::OutOfOrder {
                path: rows.path().to_owned(),
                line: rows.line(),
                column: TIMESTAMP.into(),
                got: shown_text(ts_raw.trim_ascii()),
                previous: self.previous.1.clone(),
            });
        }
        let context = count(&rec[cols.context]).ok_or_else(|| {
            rows.bad(
                CONTEXT,
                "a number of tokens (a whole number >= 0)",
                &rec[cols.context],
            )
        })?;
        let generated = count(&rec[cols.generated]).ok_or_else(|| {
            rows.bad(
                GENERATED,
                "a number of tokens (a whole number >= 0)",
                &rec[cols.generated],
            )
        })?;
        let service_ms = self.spec.service_ms(context, generated);
        let duration = SimDuration::try_from_ms_f64(service_ms)
            .filter(|d| d.0 <= MAX_SPAN_US)
            .ok_or_else(|| {
                // Name the token column that contributes most.
                let prefill = self.spec.prefill_ms_per_token * context as f64;
                let decode = self.spec.decode_ms_per_token * generated as f64;
                let column = if prefill >= decode {
                    CONTEXT
                } else {
                    GENERATED
                };
                rows.row_error(
                    column,
                    format!(
                        "the modelled service time overhead_ms + prefill_ms_per_token × \
                         {CONTEXT} + decode_ms_per_token × {GENERATED} = {service_ms:.6e} ms \
                         ({context} and {generated} tokens) is out of range, expected at most \
                         {MAX_SPAN_MS} ms (the longest span faasim simulates, 100 years)"
                    ),
                )
            })?;
        let origin = self.origin_us.unwrap_or(ts);
        let offset = ts
            .checked_sub(origin)
            .and_then(|d| u64::try_from(d).ok())
            .filter(|&d| d <= MAX_SPAN_US)
            .ok_or_else(|| rows.out_of_range(TIMESTAMP, ts_raw, Unit::FromFirstRow))?;
        self.origin_us = Some(origin);
        if self.previous.0 != ts {
            self.previous = (ts, shown_text(ts_raw.trim_ascii()));
        }
        self.last_tokens = Some(faasim_sim::Tokens {
            input: context,
            output: generated,
        });
        let n = self.spec.functions as u64;
        let function = if n <= 1 {
            *self.function.get_or_insert_with(|| {
                functions.push(FunctionSpec {
                    name: self.spec.function.clone(),
                    memory_mb: self.spec.memory_mb,
                })
            })
        } else {
            let k = (faasim_sim::rng::mix64(self.rows_read) % n) as usize;
            *self.spread[k].get_or_insert_with(|| {
                functions.push(FunctionSpec {
                    name: format!("{}-{k}", self.spec.function),
                    memory_mb: self.spec.memory_mb,
                })
            })
        };
        self.rows_read += 1;
        Ok(Arrival {
            time: SimTime(offset),
            function,
            duration,
            cold_start: None,
            mode: None,
        })
    }
}

impl ArrivalSource for AzureLlm2023Source {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        Ok(self.next(functions)?)
    }

    fn tokens(&self) -> Option<faasim_sim::Tokens> {
        self.last_tokens
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `YYYY-MM-DD HH:MM:SS[.f…]` (or `T` between date and time, optional trailing `Z`) as
/// microseconds since 1970-01-01 UTC, rounded to nearest; `None` if malformed or out of
/// range.
pub fn parse_timestamp_us(raw: &[u8]) -> Option<i64> {
    let s = raw.trim_ascii();
    let s = s.strip_suffix(b"Z").unwrap_or(s);
    if s.len() < 19 {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<i64> {
        let part = &s[a..b];
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, &c| n * 10 + i64::from(c - b'0')))
    };
    if s[4] != b'-' || s[7] != b'-' || !(s[10] == b' ' || s[10] == b'T') {
        return None;
    }
    if s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let frac_ns = match &s[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20, s.len())?;
            n * 10i64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec;
    Some(secs * 1_000_000 + (frac_ns + 500) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_by_hand_to_rounded_microseconds() {
        assert_eq!(parse_timestamp_us(b"1970-01-01 00:00:00"), Some(0));
        assert_eq!(
            parse_timestamp_us(b"1970-01-01 00:00:01.0000005"),
            Some(1_000_001)
        );
        assert_eq!(
            parse_timestamp_us(b"1970-01-01 00:00:01.0000004"),
            Some(1_000_000)
        );
        // 2023-11-16 is day 19,677 since 1970.
        let day = 19_677i64 * 86_400 * 1_000_000;
        let t = day + (18 * 3600 + 17 * 60 + 3) * 1_000_000 + 979_960;
        assert_eq!(parse_timestamp_us(b"2023-11-16 18:17:03.9799600"), Some(t));
        assert_eq!(parse_timestamp_us(b"2023-11-16T18:17:03.97996Z"), Some(t));
        // Rounding carries into the next second.
        assert_eq!(
            parse_timestamp_us(b"1970-01-01 00:00:00.9999996"),
            Some(1_000_000)
        );
        assert_eq!(
            parse_timestamp_us(b"2024-02-29 00:00:00"),
            Some(days_from_civil(2024, 2, 29) * 86_400_000_000)
        );
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for bad in [
            &b""[..],
            b"2023-11-16",
            b"2023-13-01 00:00:00",
            b"2023-02-29 00:00:00",
            b"2023-11-16 24:00:00",
            b"2023-11-16 18:17:60",
            b"2023-11-16 18:17:03.",
            b"2023-11-16 18:17:03.1234567890",
            b"2023-11-16 18:17:03,5",
            b"2023/11/16 18:17:03",
            b"2023-11-16 18:17:0x",
            b"+023-11-16 18:17:03",
        ] {
            assert_eq!(
                parse_timestamp_us(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn service_time_is_linear_in_tokens() {
        let mut spec = AzureLlm2023Spec::new("x.csv");
        assert_eq!(spec.service_ms(1000, 10), 0.2 * 1000.0 + 30.0 * 10.0);
        spec.overhead_ms = 5.0;
        assert_eq!(spec.service_ms(0, 0), 5.0);
        assert!(spec.validate().is_ok());
        spec.decode_ms_per_token = f64::NAN;
        assert!(spec
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("azure-llm-2023 trace, key `decode_ms_per_token`"));
    }
}
