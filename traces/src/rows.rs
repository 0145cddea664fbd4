//! The CSV plumbing every reader shares: a record reader that hashes the bytes as it streams
//! them and knows the true line of each record, header lookups by name, and field parsers
//! that work on bytes. Nothing here panics on input.

use crate::error::TraceError;
use crate::limits::{max_span_ms_text, max_span_s_text, MAX_RECORD_BYTES, MAX_SPAN_US};
use ::csv::{ByteRecord, ErrorKind, Reader, ReaderBuilder};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Passes bytes through, hashing them on the way (so the checksum needs no second read),
/// noting where the newlines are (so errors can name the true line: the CSV parser's own
/// line count is off after blank lines and with CRLF line ends), and refusing to read on
/// once the record being parsed is longer than [`MAX_RECORD_BYTES`] (so a file without line
/// ends, such as `/dev/zero`, fails in bounded memory).
#[derive(Debug)]
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    /// Bytes read so far.
    offset: u64,
    /// Byte offsets of the `\n`s not yet pruned, in increasing order.
    newlines: VecDeque<u64>,
    /// How many `\n`s were pruned (all before any record still to be reported).
    pruned: u64,
    /// Where the record being parsed starts (the parser's position when it began).
    record_start: u64,
    /// Whether the input has reported its end.
    eof: bool,
    /// The first bytes that were hashed before (a replay of bytes already read): not hashed.
    already_hashed: u64,
}

/// The marker inside the I/O error a [`HashingReader`] returns for a record that is too
/// long, told apart from real I/O errors in [`csv_error`].
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record longer than {MAX_RECORD_BYTES} bytes")
    }
}

impl std::error::Error for RecordTooLong {}

impl<R> HashingReader<R> {
    /// The 1-based line of the record being parsed, from where it starts (a start on a
    /// line end, left by a CRLF, is the next line's).
    fn line_of_start(&self) -> u64 {
        let start = self.record_start;
        self.line_at(start) + u64::from(self.is_newline(start))
    }

    /// The 1-based line of the byte at `offset`.
    fn line_at(&self, offset: u64) -> u64 {
        1 + self.pruned + self.newlines.partition_point(|&o| o < offset) as u64
    }
    fn is_newline(&self, offset: u64) -> bool {
        self.newlines.binary_search(&offset).is_ok()
    }
    /// Forgets the newlines before `offset`, keeping their count.
    fn prune(&mut self, offset: u64) {
        while self.newlines.front().is_some_and(|&o| o < offset) {
            self.newlines.pop_front();
            self.pruned += 1;
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // The parser's buffer asks for more only once it has used every byte read so far,
        // so everything from `record_start` to `offset` belongs to the record being parsed.
        if self.offset.saturating_sub(self.record_start) > MAX_RECORD_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        let bytes = &buf[..n];
        let skip = (self.already_hashed.saturating_sub(self.offset) as usize).min(n);
        self.hasher.update(&bytes[skip..]);
        let offset = self.offset;
        self.newlines
            .extend(memchr::memchr_iter(b'\n', bytes).map(|i| offset + i as u64));
        self.offset += n as u64;
        Ok(n)
    }
}

/// A CSV file read record by record, with its header, true line numbers and SHA-256.
#[derive(Debug)]
pub(crate) struct Rows<R: Read> {
    /// Names the file in error messages.
    path: PathBuf,
    reader: Reader<HashingReader<R>>,
    header: ByteRecord,
    record: ByteRecord,
    /// SHA-256 of every byte, set once the end is reached.
    digest: Option<[u8; 32]>,
}

impl Rows<File> {
    /// Opens the file at `path` and reads its header.
    pub(crate) fn open(path: &Path) -> Result<Self, TraceError> {
        let file = File::open(path).map_err(|source| TraceError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::new(file, path)
    }
}

impl<R: Read> Rows<R> {
    /// Reads the header from `reader`; `path` only names the input in error messages. An
    /// empty input has an empty header and no records.
    pub(crate) fn new(reader: R, path: impl Into<PathBuf>) -> Result<Self, TraceError> {
        Self::resume(reader, path, Sha256::new(), 0, 0)
    }

    /// Like [`new`](Self::new), for an input whose first `already_hashed` bytes `hasher` has
    /// already hashed and whose first line is line `lines_before + 1` of the file (a reader
    /// that read part of the file itself hands the rest over).
    pub(crate) fn resume(
        reader: R,
        path: impl Into<PathBuf>,
        hasher: Sha256,
        already_hashed: u64,
        lines_before: u64,
    ) -> Result<Self, TraceError> {
        let path = path.into();
        let mut reader = ReaderBuilder::new()
            .has_headers(true)
            .buffer_capacity(64 * 1024)
            .from_reader(HashingReader {
                inner: reader,
                hasher,
                offset: 0,
                newlines: VecDeque::new(),
                pruned: lines_before,
                record_start: 0,
                eof: false,
                already_hashed,
            });
        let header = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let line = reader.get_ref().line_of_start();
                return Err(csv_error(&path, line, e));
            }
        };
        Ok(Self {
            path,
            reader,
            header,
            record: ByteRecord::new(),
            digest: None,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn header(&self) -> &ByteRecord {
        &self.header
    }

    /// An error if the file has no header (it is empty, or holds blank lines only);
    /// `expected` lists the columns the reader needs, for the message.
    pub(crate) fn require_header(&self, expected: &'static str) -> Result<(), TraceError> {
        if self.header.is_empty() {
            return Err(TraceError::EmptyFile {
                path: self.path.clone(),
                expected,
            });
        }
        Ok(())
    }

    /// Column lookups in this file's header.
    pub(crate) fn columns(&self) -> Header<'_> {
        Header {
            path: &self.path,
            header: &self.header,
        }
    }

    /// The record last read by [`advance`](Self::advance).
    pub(crate) fn record(&self) -> &ByteRecord {
        &self.record
    }

    /// Reads the next record; `false` at the end of the input (and every time after), when
    /// the digest becomes available.
    pub(crate) fn advance(&mut self) -> Result<bool, TraceError> {
        if self.digest.is_some() {
            return Ok(false);
        }
        // Keep the newline index small; every record still to come starts after this.
        let start = self.reader.position().byte();
        let bytes = self.reader.get_mut();
        bytes.record_start = start;
        if bytes.newlines.len() > 4096 {
            bytes.prune(start);
        }
        let more = match self.reader.read_byte_record(&mut self.record) {
            Ok(more) => more,
            Err(e) => {
                let line = match e.kind() {
                    ErrorKind::Io(_) => self.reader.get_ref().line_of_start(),
                    _ => self.line(),
                };
                // A quote left open swallows the rest of the file into one field, which
                // then usually gives the record too few fields: say what happened.
                if matches!(e.kind(), ErrorKind::UnequalLengths { .. })
                    && self.ended_inside_quotes()
                {
                    return Err(TraceError::UnclosedQuote {
                        path: self.path.clone(),
                        line,
                    });
                }
                return Err(csv_error(&self.path, line, e));
            }
        };
        if more && self.ended_inside_quotes() {
            return Err(TraceError::UnclosedQuote {
                path: self.path.clone(),
                line: self.line(),
            });
        }
        if !more {
            let digest = self.reader.get_ref().hasher.clone().finalize();
            self.digest = Some(digest.into());
        }
        Ok(more)
    }

    /// Like [`advance`](Self::advance), but in lenient mode a record with the wrong number
    /// of fields is noted in `skipped` and passed over instead of being an error (the CSV
    /// parser has consumed it, so reading goes on with the next record). Any other error
    /// (an I/O failure) is returned as it is.
    pub(crate) fn advance_lenient(&mut self, skipped: &mut Skipped) -> Result<bool, TraceError> {
        loop {
            match self.advance() {
                Err(e @ TraceError::FieldCount { .. }) if skipped.lenient => skipped.note(&e),
                other => return other,
            }
        }
    }

    /// The SHA-256 of every byte of the input, once [`advance`](Self::advance) has returned
    /// `false`; `None` before (a checksum of part of a file would be misleading).
    pub(crate) fn digest(&self) -> Option<[u8; 32]> {
        self.digest
    }

    /// Whether the record just read was ended by the end of the input rather than by a line
    /// end: the parser took every byte there was.
    fn ended_by_eof(&self) -> bool {
        let bytes = self.reader.get_ref();
        bytes.eof && self.reader.position().byte() == bytes.offset
    }

    /// Whether the record just read is a quoted field left open: it runs to the end of the
    /// input and its last field holds a line end (which only a quoted field can).
    fn ended_inside_quotes(&self) -> bool {
        self.ended_by_eof()
            && self
                .record
                .iter()
                .next_back()
                .is_some_and(|f| f.contains(&b'\n') || f.contains(&b'\r'))
    }

    /// The 1-based line where the record just read starts: the line after the last byte
    /// the parser took (found from where it stopped), minus the line ends it took for the
    /// record: those inside its quoted fields, and its own line end unless the input ended
    /// first.
    pub(crate) fn line(&self) -> u64 {
        let bytes = self.reader.get_ref();
        let end = self.reader.position().byte();
        let after = bytes.line_at(end);
        let own_end = end > 0 && bytes.is_newline(end - 1) && !self.ended_by_eof();
        let inside = self
            .record
            .as_slice()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        after.saturating_sub(inside + u64::from(own_end)).max(1)
    }

    /// A bad field of the record just read.
    pub(crate) fn bad(
        &self,
        column: impl Into<Cow<'static, str>>,
        expected: &'static str,
        raw: &[u8],
    ) -> TraceError {
        TraceError::Field {
            path: self.path.clone(),
            line: self.line(),
            column: column.into(),
            expected,
            got: shown(raw),
        }
    }
}

/// The bad rows a lenient reader passed over: how many, and the first one's error message.
/// A strict reader (`lenient == false`) never notes any: its first bad row is an error.
#[derive(Debug, Clone, Default)]
pub(crate) struct Skipped {
    pub(crate) lenient: bool,
    pub(crate) rows: u64,
    pub(crate) first: Option<String>,
}

impl Skipped {
    pub(crate) fn new(lenient: bool) -> Self {
        Self {
            lenient,
            ..Self::default()
        }
    }

    /// Counts one skipped row (keeping the first error's message).
    pub(crate) fn note(&mut self, e: &TraceError) {
        self.rows += 1;
        if self.first.is_none() {
            self.first = Some(e.to_string());
        }
    }

    /// In lenient mode, notes a bad-row error and returns `Ok(())`; otherwise returns it.
    pub(crate) fn skip_or_fail(&mut self, e: TraceError) -> Result<(), TraceError> {
        if self.lenient && e.is_row_error() {
            self.note(&e);
            Ok(())
        } else {
            Err(e)
        }
    }
}

/// Column lookups by name in a header (surrounding spaces ignored).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    pub(crate) path: &'a Path,
    pub(crate) header: &'a ByteRecord,
}

impl Header<'_> {
    /// The column named `name`, if any; an error if it is named twice.
    pub(crate) fn find(&self, name: &'static str) -> Result<Option<usize>, TraceError> {
        let mut hits = self
            .header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.trim_ascii() == name.as_bytes());
        let first = hits.next().map(|(i, _)| i);
        if hits.next().is_some() {
            return Err(TraceError::DuplicateColumn {
                path: self.path.to_owned(),
                column: name.into(),
            });
        }
        Ok(first)
    }

    /// The column named `name`; an error naming the header if it is missing.
    pub(crate) fn required(&self, name: &'static str) -> Result<usize, TraceError> {
        self.find(name)?.ok_or_else(|| TraceError::MissingColumn {
            path: self.path.to_owned(),
            column: name.into(),
            header: self.joined(),
        })
    }

    /// The header as `a, b, c` for messages (cut after 20 names: real headers can have
    /// thousands of columns).
    pub(crate) fn joined(&self) -> String {
        let mut names: Vec<String> = self.header.iter().take(20).map(shown_text).collect();
        if self.header.len() > 20 {
            names.push(format!("... ({} columns)", self.header.len()));
        }
        names.join(", ")
    }
}

/// Text for a one-line message: control characters (line ends, tabs, NUL, ...) written as
/// escapes (`\n`), everything else as it is.
pub(crate) fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A path for a one-line message.
pub(crate) fn path_text(path: &Path) -> String {
    one_line(&path.display().to_string())
}

/// A field or header name for a message: lossy UTF-8, on one line, at most 60 characters.
pub(crate) fn shown_text(raw: &[u8]) -> String {
    one_line(&shown(raw))
}

/// A field for an error message: lossy UTF-8, at most 60 characters.
pub(crate) fn shown(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    match s.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.into_owned(),
    }
}

fn csv_error(path: &Path, line: u64, e: ::csv::Error) -> TraceError {
    let message = one_line(&e.to_string());
    match e.into_kind() {
        ErrorKind::Io(source) if source.get_ref().is_some_and(|e| e.is::<RecordTooLong>()) => {
            TraceError::RecordTooLong {
                path: path.to_owned(),
                line,
                max: MAX_RECORD_BYTES,
            }
        }
        ErrorKind::Io(source) => TraceError::Read {
            path: path.to_owned(),
            line,
            source,
        },
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => TraceError::FieldCount {
            path: path.to_owned(),
            line,
            expected: expected_len,
            got: len,
        },
        _ => TraceError::Csv {
            path: path.to_owned(),
            line,
            message,
        },
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The checksum of a trace read from several files: the file's own SHA-256 if there is one
/// file, else the SHA-256 of the files' 32-byte digests concatenated in the given order.
/// `None` unless every file has been read to its end.
pub(crate) fn combined_digest(digests: &[Option<[u8; 32]>]) -> Option<String> {
    if let [one] = digests {
        return one.map(|d| hex(&d));
    }
    let mut h = Sha256::new();
    for d in digests {
        h.update((*d)?);
    }
    Some(hex(&h.finalize()))
}

/// The field as trimmed UTF-8 text, or `None`.
pub(crate) fn text(raw: &[u8]) -> Option<&str> {
    std::str::from_utf8(raw.trim_ascii()).ok()
}

/// A finite decimal >= 0 (surrounding spaces allowed).
pub(crate) fn non_negative_f64(raw: &[u8]) -> Option<f64> {
    let v: f64 = text(raw)?.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Why a time field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeError {
    /// Not a finite decimal >= 0.
    Malformed,
    /// A number >= 0 (or +inf) whose microseconds exceed [`MAX_SPAN_US`].
    OutOfRange,
}

/// A time in 10^`unit_exp` microseconds per unit (a finite decimal >= 0), as it was written
/// and as whole microseconds rounded to nearest, at most [`MAX_SPAN_US`].
fn time_field(raw: &[u8], unit_exp: u32) -> Result<(f64, u64), TimeError> {
    if let Some(exact) = exact_time(raw, unit_exp) {
        return exact;
    }
    let t = text(raw).ok_or(TimeError::Malformed)?;
    let v: f64 = t.parse().map_err(|_| TimeError::Malformed)?;
    // `inf` and `infinity` are words, not numbers too large (as `1e400` is).
    if v.is_nan() || v < 0.0 || (v.is_infinite() && t.bytes().any(|b| b == b'n' || b == b'N')) {
        return Err(TimeError::Malformed);
    }
    let us = (v * 10f64.powi(unit_exp as i32)).round();
    if us > MAX_SPAN_US as f64 {
        return Err(TimeError::OutOfRange);
    }
    Ok((v, us as u64))
}

/// The fast path of [`time_field`], for the plain decimals traces are made of: `digits` or
/// `digits.digits` with at most `unit_exp` fraction digits and 15 digits in all (so the
/// value is a whole number of microseconds below 2^50). It gives exactly what the general
/// path gives: `N / 10^k` as f64 is the correctly rounded quotient, which is what parsing
/// the text yields, and the microseconds are the integer `N * 10^(unit_exp - k)`, which the
/// general path's product rounds back to (its error is far below half a microsecond at
/// these sizes). `None` for any other form (exponents, signs, more digits), which the
/// general path reads.
#[inline]
fn exact_time(raw: &[u8], unit_exp: u32) -> Option<Result<(f64, u64), TimeError>> {
    let raw = raw.trim_ascii();
    // At most 15 digits and a point: anything longer is the general path's (and `n` below
    // then stays under 10^16).
    if raw.len() > 16 {
        return None;
    }
    let digit = |b: u8| {
        let d = b.wrapping_sub(b'0');
        (d <= 9).then_some(d as u64)
    };
    let mut n = 0u64;
    let mut i = 0;
    while let Some(d) = raw.get(i).copied().and_then(digit) {
        n = n * 10 + d;
        i += 1;
    }
    let whole = i;
    let mut k = 0;
    if i < raw.len() {
        // A point, then at least one digit to the end (`5.` and `.5` are the general
        // path's, as is any other byte).
        if whole == 0 || raw[i] != b'.' || i + 1 == raw.len() {
            return None;
        }
        for &b in &raw[i + 1..] {
            n = n * 10 + digit(b)?;
        }
        k = (raw.len() - i - 1) as u32;
    }
    if whole == 0 || whole + k as usize > 15 || k > unit_exp {
        return None;
    }
    const POW10: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
    // Fifteen digits of seconds overflow 64 bits as microseconds: out of range, as the
    // general path finds them.
    match n.checked_mul(POW10[(unit_exp - k) as usize]) {
        Some(us) if us <= MAX_SPAN_US => Some(Ok((n as f64 / POW10[k as usize] as f64, us))),
        _ => Some(Err(TimeError::OutOfRange)),
    }
}

/// Milliseconds, as written and as whole microseconds (see [`time_field`]).
pub(crate) fn ms_field(raw: &[u8]) -> Result<(f64, u64), TimeError> {
    time_field(raw, 3)
}

/// Seconds as whole microseconds (see [`time_field`]).
pub(crate) fn seconds_field(raw: &[u8]) -> Result<u64, TimeError> {
    time_field(raw, 6).map(|(_, us)| us)
}

/// The unit of a time column, for out-of-range messages.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unit {
    Ms,
    S,
    /// A wall-clock time replayed relative to the first row.
    FromFirstRow,
}

impl<R: Read> Rows<R> {
    /// The error for a time field `raw` of the record just read: `expected` if malformed,
    /// out of range (naming the bound in `unit`) if too large.
    pub(crate) fn bad_time(
        &self,
        column: impl Into<Cow<'static, str>>,
        expected: &'static str,
        raw: &[u8],
        e: TimeError,
        unit: Unit,
    ) -> TraceError {
        match e {
            TimeError::Malformed => self.bad(column, expected, raw),
            TimeError::OutOfRange => self.out_of_range(column, raw, unit),
        }
    }

    /// A field of the record just read that is beyond [`MAX_SPAN_US`].
    pub(crate) fn out_of_range(
        &self,
        column: impl Into<Cow<'static, str>>,
        raw: &[u8],
        unit: Unit,
    ) -> TraceError {
        TraceError::OutOfRange {
            path: self.path.clone(),
            line: self.line(),
            column: column.into(),
            got: shown(raw.trim_ascii()),
            max: match unit {
                Unit::Ms => max_span_ms_text(),
                Unit::S => max_span_s_text(),
                Unit::FromFirstRow => format!("{} after the first row", max_span_s_text()),
            },
        }
    }

    /// A row whose fields do not fit together, at the record just read.
    pub(crate) fn row_error(
        &self,
        column: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> TraceError {
        TraceError::Row {
            path: self.path.clone(),
            line: self.line(),
            column: column.into(),
            message: message.into(),
        }
    }
}

/// A count: an integer >= 0, or a float with no fraction (`12.0`, as pandas writes integer
/// columns that have missing values). A fast path handles plain digits.
pub(crate) fn count(raw: &[u8]) -> Option<u64> {
    let raw = raw.trim_ascii();
    if !raw.is_empty() && raw.len() <= 18 && raw.iter().all(u8::is_ascii_digit) {
        return Some(raw.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0')));
    }
    let v: f64 = std::str::from_utf8(raw).ok()?.parse().ok()?;
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e18).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The general path alone, as `time_field` was before its fast path.
    fn general(raw: &[u8], unit_exp: u32) -> Result<(f64, u64), TimeError> {
        let t = text(raw).ok_or(TimeError::Malformed)?;
        let v: f64 = t.parse().map_err(|_| TimeError::Malformed)?;
        if v.is_nan() || v < 0.0 {
            return Err(TimeError::Malformed);
        }
        let us = (v * 10f64.powi(unit_exp as i32)).round();
        if us > MAX_SPAN_US as f64 {
            return Err(TimeError::OutOfRange);
        }
        Ok((v, us as u64))
    }

    proptest! {
        /// The fast path gives the general path's value and microseconds, bit for bit.
        #[test]
        fn the_fast_decimal_path_equals_the_general_one(
            int in 0u64..10_000_000_000_000,
            frac in 0u64..1_000_000,
            frac_digits in 0usize..=7,
            unit_exp in prop::sample::select(vec![3u32, 6]),
            pad in any::<bool>(),
        ) {
            let text = match frac_digits {
                0 => format!("{int}"),
                d => format!("{int}.{:0d$}", frac % 10u64.pow(d as u32)),
            };
            let text = if pad { format!(" {text} ") } else { text };
            let fast = exact_time(text.as_bytes(), unit_exp);
            let general = general(text.as_bytes(), unit_exp);
            if let Some(fast) = fast {
                prop_assert_eq!(fast.map(|(v, us)| (v.to_bits(), us)), general.map(|(v, us)| (v.to_bits(), us)));
            }
            prop_assert_eq!(time_field(text.as_bytes(), unit_exp), general);
        }

        /// Any short string of digits, points, signs, exponents, spaces and other bytes: the
        /// fast path reads a field exactly when it is a plain decimal it may read (`None`
        /// otherwise), and then as the general path does.
        #[test]
        fn the_fast_decimal_path_reads_exactly_the_plain_decimals(
            bytes in prop::collection::vec(
                prop::sample::select(b"0123456789000999....e+- /:\x00\xff".to_vec()),
                0..=18,
            ),
            unit_exp in prop::sample::select(vec![3u32, 6]),
        ) {
            let trimmed = bytes.trim_ascii();
            let text = std::str::from_utf8(trimmed).unwrap_or("");
            // The forms the fast path takes, written out plainly.
            let plain = match text.split_once('.') {
                None => !text.is_empty() && text.len() <= 15 && text.bytes().all(|b| b.is_ascii_digit()),
                Some((w, f)) => !w.is_empty() && !f.is_empty() && w.len() + f.len() <= 15
                    && f.len() <= unit_exp as usize
                    && (w.bytes().chain(f.bytes())).all(|b| b.is_ascii_digit()),
            };
            let fast = exact_time(&bytes, unit_exp);
            prop_assert_eq!(fast.is_some(), plain, "{:?}", String::from_utf8_lossy(&bytes));
            if let Some(fast) = fast {
                let general = general(&bytes, unit_exp);
                prop_assert_eq!(fast.map(|(v, us)| (v.to_bits(), us)), general.map(|(v, us)| (v.to_bits(), us)));
            }
        }
    }

    #[test]
    fn the_fast_decimal_path_leaves_other_forms_to_the_general_one() {
        for other in [
            &b"1e3"[..],
            b"+5",
            b"5.",
            b".5",
            b"1.2345",
            b"-1",
            b"",
            b"  ",
            b".",
            b"1.2.3",
            b"12a",
            b"1,5",
            b"1234567890123456",
            b"123456789012.3456",
        ] {
            assert_eq!(
                exact_time(other, 3),
                None,
                "{:?}",
                String::from_utf8_lossy(other)
            );
        }
        assert_eq!(exact_time(b"12.25", 3), Some(Ok((12.25, 12_250))));
        assert_eq!(exact_time(b" 7 ", 6), Some(Ok((7.0, 7_000_000))));
        assert_eq!(exact_time(b"007.500", 3), Some(Ok((7.5, 7_500))));
        // Fifteen digits of seconds are past 64 bits of microseconds: out of range, as the
        // general path finds them.
        assert_eq!(
            exact_time(b"999999999999999", 6),
            Some(Err(TimeError::OutOfRange))
        );
        assert_eq!(
            seconds_field(b"999999999999999"),
            Err(TimeError::OutOfRange)
        );
        // 18,446,744,073,710 s is 2^64 + 448,384 µs: wrapped, it would read as 0.45 s.
        assert_eq!(seconds_field(b"18446744073710"), Err(TimeError::OutOfRange));
    }

    #[test]
    fn counts_accept_integers_and_whole_floats_only() {
        assert_eq!(count(b"0"), Some(0));
        assert_eq!(count(b" 42 "), Some(42));
        assert_eq!(count(b"12.0"), Some(12));
        assert_eq!(count(b"1e3"), Some(1000));
        for bad in [&b""[..], b"-1", b"1.5", b"x", b"NaN", b"inf", b"1e30"] {
            assert_eq!(count(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn times_round_to_the_nearest_microsecond_within_the_span() {
        assert_eq!(seconds_field(b"57.15786004066467"), Ok(57_157_860));
        assert_eq!(seconds_field(b"0.0000005"), Ok(1));
        assert_eq!(seconds_field(b"-1"), Err(TimeError::Malformed));
        assert_eq!(seconds_field(b"NaN"), Err(TimeError::Malformed));
        assert_eq!(seconds_field(b"x"), Err(TimeError::Malformed));
        assert_eq!(seconds_field(b"1e300"), Err(TimeError::OutOfRange));
        assert_eq!(seconds_field(b"inf"), Err(TimeError::Malformed));
        assert_eq!(seconds_field(b"1e400"), Err(TimeError::OutOfRange));
        assert_eq!(ms_field(b" 1.5 "), Ok((1.5, 1_500)));
        // The bound itself is in range, one microsecond more is not.
        assert_eq!(ms_field(b"3155760000000"), Ok((3.15576e12, MAX_SPAN_US)));
        assert_eq!(ms_field(b"3155760000000.001"), Err(TimeError::OutOfRange));
        assert_eq!(ms_field(b"1e16"), Err(TimeError::OutOfRange));
    }

    #[test]
    fn combined_digest_is_the_file_digest_for_one_file() {
        let a = Some([1u8; 32]);
        assert_eq!(combined_digest(&[a]), Some(hex(&[1u8; 32])));
        assert_eq!(combined_digest(&[a, None]), None);
        let mut h = Sha256::new();
        h.update([1u8; 32]);
        h.update([2u8; 32]);
        assert_eq!(
            combined_digest(&[a, Some([2u8; 32])]),
            Some(hex(&h.finalize()))
        );
    }

    #[test]
    fn header_lookup_names_missing_and_duplicate_columns() {
        let header = ByteRecord::from(vec!["a", " b ", "a"]);
        let h = Header {
            path: Path::new("f.csv"),
            header: &header,
        };
        assert_eq!(h.find("b").unwrap(), Some(1));
        assert!(h
            .find("a")
            .unwrap_err()
            .to_string()
            .contains("column `a` appears more than once"));
        assert_eq!(
            h.required("c").unwrap_err().to_string(),
            "f.csv line 1: missing required column `c` (the header has: a,  b , a)"
        );
    }
}
