//! The canonical CSV trace's fast path: plain lines (no quotes, no `\r`, exactly the
//! header's number of fields) are found with `memchr` and split by a byte loop straight out
//! of a buffer of the file, with no per-record copy. The first line that is anything else
//! (a quote, a CRLF line end, a field that does not parse, a line longer than the buffer,
//! an I/O error) hands the rest of the file, from that line on, to the general reader
//! ([`Rows`], the `csv` crate), which then reads it exactly as it would have from the
//! start: the header is replayed before the buffered bytes so the field count is checked
//! alike, line numbers go on from the line reached, the checksum from the bytes hashed so
//! far, and an I/O error met while filling the buffer is returned where the general reader
//! would have met it. So the fast path never makes an error of its own: every error, and
//! every row lenient mode skips, comes from the general reader.

use crate::error::TraceError;
use crate::rows::Rows;
use ::csv::ByteRecord;
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::PathBuf;

/// Bytes buffered; a line longer than this goes to the general reader.
const BUFFER: usize = 256 * 1024;

/// A canonical CSV file read line by line from a buffer of its bytes; see the module docs.
pub(crate) struct FastRows<R> {
    inner: R,
    pub(crate) path: PathBuf,
    /// SHA-256 of every byte read from `inner` so far.
    hasher: Sha256,
    buf: Box<[u8]>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// An error `inner` returned, for the general reader to meet.
    error: Option<io::Error>,
    /// The 1-based line at `start`.
    line: u64,
    /// The header line as read (for the replay).
    header_line: Vec<u8>,
    fields: usize,
    /// The record last split: where it starts, and where each of its fields ends.
    record_start: usize,
    ends: Vec<usize>,
    digest: Option<[u8; 32]>,
}

impl<R> std::fmt::Debug for FastRows<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastRows")
            .field("path", &self.path)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// A reader opened on a file: the fast path with the header's fields, or the general reader
/// from the first byte (a header with quotes, CRLF, a byte-order mark or blank lines
/// before it).
pub(crate) enum Opened<R: Read> {
    Fast(Box<FastRows<R>>, ByteRecord),
    General(Box<Rows<Resume<R>>>),
}

/// What [`FastRows::next_line`] found.
pub(crate) enum Line {
    /// A line, `buf[start..end]` without its `\n`.
    Record(usize, usize),
    /// The end of the input.
    End,
    /// A line the fast path does not read: hand over to the general reader.
    General,
}

/// The bytes the fast path had buffered (after the header line, replayed first), then the
/// rest of the input.
#[derive(Debug)]
pub(crate) struct Resume<R> {
    replay: Vec<u8>,
    at: usize,
    inner: R,
    error: Option<io::Error>,
}

impl<R> Resume<R> {
    /// All of `inner`, nothing replayed: the general reader alone, to compare with.
    #[cfg(test)]
    pub(crate) fn plain(inner: R) -> Self {
        Resume {
            replay: Vec::new(),
            at: 0,
            inner,
            error: None,
        }
    }
}

impl<R: Read> Read for Resume<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.replay.len() {
            let n = (self.replay.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.replay[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.inner.read(buf)
    }
}

/// A header line the fast path reads as the `csv` crate would: no quotes, no `\r`, no
/// byte-order mark, not blank.
fn plain_header(line: &[u8]) -> bool {
    !line.is_empty()
        && !line.starts_with(b"\xEF\xBB\xBF")
        && memchr::memchr2(b'"', b'\r', line).is_none()
}

impl<R: Read> FastRows<R> {
    /// Reads the header line of `inner`.
    pub(crate) fn open(inner: R, path: PathBuf) -> Result<Opened<R>, TraceError> {
        let mut f = FastRows {
            inner,
            path,
            hasher: Sha256::new(),
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            error: None,
            line: 1,
            header_line: Vec::new(),
            fields: 0,
            record_start: 0,
            ends: Vec::new(),
            digest: None,
        };
        let newline = loop {
            if let Some(i) = memchr::memchr(b'\n', &f.buf[..f.end]) {
                break Some(i);
            }
            if f.eof || f.error.is_some() || f.end == f.buf.len() {
                break None;
            }
            f.fill();
        };
        match newline.filter(|&i| plain_header(&f.buf[..i])) {
            Some(i) => {
                f.header_line = f.buf[..i].to_vec();
                let header =
                    ByteRecord::from(f.header_line.split(|&b| b == b',').collect::<Vec<_>>());
                f.fields = header.len();
                f.start = i + 1;
                f.line = 2;
                Ok(Opened::Fast(Box::new(f), header))
            }
            None => {
                // Everything read so far, as it was: the general reader from the start.
                let replay = f.buf[..f.end].to_vec();
                let already_hashed = replay.len() as u64;
                let resume = Resume {
                    replay,
                    at: 0,
                    inner: f.inner,
                    error: f.error,
                };
                Ok(Opened::General(Box::new(Rows::resume(
                    resume,
                    f.path,
                    f.hasher,
                    already_hashed,
                    0,
                )?)))
            }
        }
    }

    /// Reads more of the input after the unread bytes (moved to the front).
    fn fill(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        match self.inner.read(&mut self.buf[self.end..]) {
            Ok(0) => self.eof = true,
            Ok(n) => {
                self.hasher.update(&self.buf[self.end..self.end + n]);
                self.end += n;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The next line (see [`Line`]); [`consume`](Self::consume) passes over it.
    pub(crate) fn next_line(&mut self) -> Line {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                return Line::Record(self.start, self.start + i);
            }
            if self.error.is_some() {
                return Line::General;
            }
            if self.eof {
                if self.start < self.end {
                    // The last line, with no line end: a record all the same.
                    return Line::Record(self.start, self.end);
                }
                if self.digest.is_none() {
                    self.digest = Some(self.hasher.clone().finalize().into());
                }
                return Line::End;
            }
            if self.start == 0 && self.end == self.buf.len() {
                return Line::General;
            }
            self.fill();
        }
    }

    /// Passes over the line that ends at `end`.
    pub(crate) fn consume(&mut self, end: usize) {
        self.start = (end + 1).min(self.end);
        self.line += 1;
    }

    /// Splits the line `buf[start..end]` at its commas; `false` unless it is a plain line
    /// (no quote, no `\r`) with the header's number of fields.
    pub(crate) fn split(&mut self, start: usize, end: usize) -> bool {
        self.record_start = start;
        self.ends.clear();
        let line = &self.buf[start..end];
        let commas = self.fields - 1;
        // Eight bytes at a time (lines are a few dozen bytes: too short for a vector search
        // to pay, long enough for a word's worth of comparisons at once), then the rest.
        let mut words = line.chunks_exact(8);
        let mut at = start;
        for word in &mut words {
            let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if bytes_equal(w, b'"') | bytes_equal(w, b'\r') != 0 {
                return false;
            }
            let mut m = bytes_equal(w, b',');
            while m != 0 {
                if self.ends.len() == commas {
                    return false;
                }
                self.ends.push(at + (m.trailing_zeros() / 8) as usize);
                m &= m - 1;
            }
            at += 8;
        }
        for (i, &b) in words.remainder().iter().enumerate() {
            match b {
                b',' if self.ends.len() < commas => self.ends.push(at + i),
                b',' | b'"' | b'\r' => return false,
                _ => {}
            }
        }
        self.ends.push(end);
        self.ends.len() == self.fields
    }

    /// Field `k` of the line last split.
    #[inline]
    pub(crate) fn field(&self, k: usize) -> &[u8] {
        let from = match k {
            0 => self.record_start,
            _ => self.ends[k - 1] + 1,
        };
        &self.buf[from..self.ends[k]]
    }

    /// The line of the record last split.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The SHA-256 of every byte, once [`next_line`](Self::next_line) has reached the end.
    pub(crate) fn digest(&self) -> Option<[u8; 32]> {
        self.digest
    }

    /// The general reader, from the line at `start` on (the header replayed before it).
    pub(crate) fn into_general(self) -> Result<Rows<Resume<R>>, TraceError> {
        let mut replay = Vec::with_capacity(self.header_line.len() + 1 + self.end - self.start);
        replay.extend_from_slice(&self.header_line);
        replay.push(b'\n');
        replay.extend_from_slice(&self.buf[self.start..self.end]);
        let already_hashed = replay.len() as u64;
        let resume = Resume {
            replay,
            at: 0,
            inner: self.inner,
            error: self.error,
        };
        // The replayed header is one line, so the next is line `self.line`.
        Rows::resume(
            resume,
            self.path,
            self.hasher,
            already_hashed,
            self.line - 2,
        )
    }
}

/// The high bit of each byte of `w` that equals `c`, and no other bit (exact per byte: no
/// carry crosses from one byte to the next).
#[inline(always)]
fn bytes_equal(w: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (c as u64 * 0x0101_0101_0101_0101);
    // A byte of `x` is zero exactly when neither its low seven bits, added to 0x7f, nor
    // its high bit set the high bit.
    !(((x & LOW7) + LOW7) | x | LOW7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The word-wide comparison marks exactly the bytes equal to `c`, whatever the
        /// bytes around them (a byte just above an equal one is where a borrow or carry
        /// would show).
        #[test]
        fn bytes_equal_marks_exactly_the_equal_bytes(
            bytes in prop::array::uniform8(prop::sample::select(vec![0u8, 1, b',', b'-', 0x7f, 0x80, 0xac, 0xff])),
            c in prop::sample::select(vec![b',', b'"', b'\r', 0u8, 0xff]),
        ) {
            let w = u64::from_le_bytes(bytes);
            let want = bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == c)
                .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i));
            prop_assert_eq!(bytes_equal(w, c), want);
        }
    }
}
