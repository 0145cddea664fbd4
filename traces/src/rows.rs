//! The CSV plumbing every reader shares: a record reader that hashes the bytes as it streams
//! them and knows the true line of each record, header lookups by name, and field parsers
//! that work on bytes. Nothing here panics on input.

use crate::error::TraceError;
use ::csv::{ByteRecord, ErrorKind, Reader, ReaderBuilder};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Passes bytes through, hashing them on the way (so the checksum needs no second read) and
/// noting where the newlines are (so errors can name the true line: the CSV parser's own
/// line count is off after blank lines and with CRLF line ends).
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
}

impl<R> HashingReader<R> {
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
        let n = self.inner.read(buf)?;
        let bytes = &buf[..n];
        self.hasher.update(bytes);
        let mut start = 0;
        while let Some(i) = bytes[start..].iter().position(|&b| b == b'\n') {
            self.newlines.push_back(self.offset + (start + i) as u64);
            start += i + 1;
        }
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
        let path = path.into();
        let mut reader = ReaderBuilder::new()
            .has_headers(true)
            .buffer_capacity(64 * 1024)
            .from_reader(HashingReader {
                inner: reader,
                hasher: Sha256::new(),
                offset: 0,
                newlines: VecDeque::new(),
                pruned: 0,
            });
        let header = reader
            .byte_headers()
            .map_err(|e| csv_error(&path, 1, e))?
            .clone();
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
        if self.reader.get_ref().newlines.len() > 4096 {
            let start = self.reader.position().byte();
            self.reader.get_mut().prune(start);
        }
        let more = match self.reader.read_byte_record(&mut self.record) {
            Ok(more) => more,
            Err(e) => return Err(csv_error(&self.path, self.line(), e)),
        };
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

    /// The 1-based line where the record just read starts: the line of its last byte (found
    /// from where the parser stopped) minus the newlines inside its quoted fields.
    pub(crate) fn line(&self) -> u64 {
        let bytes = self.reader.get_ref();
        let end = self.reader.position().byte();
        let last = if end > 0 && bytes.is_newline(end - 1) {
            bytes.line_at(end - 1)
        } else {
            bytes.line_at(end)
        };
        let inside = self
            .record
            .as_slice()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        last.saturating_sub(inside).max(1)
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
        let mut names: Vec<String> = self
            .header
            .iter()
            .take(20)
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        if self.header.len() > 20 {
            names.push(format!("... ({} columns)", self.header.len()));
        }
        names.join(", ")
    }
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
    let message = e.to_string();
    match e.into_kind() {
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

/// Seconds (a finite decimal >= 0) as whole microseconds, rounded to nearest.
pub(crate) fn seconds_to_us(raw: &[u8]) -> Option<u64> {
    let s = non_negative_f64(raw)?;
    let us = (s * 1e6).round();
    (us < 1.8e19).then_some(us as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn seconds_round_to_the_nearest_microsecond() {
        assert_eq!(seconds_to_us(b"57.15786004066467"), Some(57_157_860));
        assert_eq!(seconds_to_us(b"0.0000005"), Some(1));
        assert_eq!(seconds_to_us(b"-1"), None);
        assert_eq!(seconds_to_us(b"1e300"), None);
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
