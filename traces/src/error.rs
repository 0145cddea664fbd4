//! Why a trace could not be read or generated.

use crate::rows::path_text;
use std::borrow::Cow;
use std::path::PathBuf;

/// A bad trace file or bad generator parameters. Each message is one line that names the
/// file, the line (1-based; the header is line 1) and the column, and what was expected,
/// e.g. `trace.csv line 7, column duration_ms: expected a number of milliseconds >= 0, got "abc"`.
///
/// It is `Send + Sync + 'static`, so the engine can carry it as a `SourceError`.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened.
    #[error("{}: cannot open trace file: {source}", path_text(path))]
    Open {
        /// The file that could not be opened, as given.
        path: PathBuf,
        /// The operating system's reason (not found, permission denied, ...).
        source: std::io::Error,
    },
    /// Reading failed part-way (a disk error, a directory given as the path, ...).
    #[error("{} line {line}: read error: {source}", path_text(path))]
    Read {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line being read when the error occurred (the header is line 1).
        line: u64,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A required column is not in the header.
    #[error(
        "{} line 1: missing required column `{column}` (the header has: {header})",
        path_text(path)
    )]
    MissingColumn {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The name of the required column that is absent.
        column: Cow<'static, str>,
        /// The header's column names as read, joined for the message.
        header: String,
    },
    /// A known column is named twice in the header, so which one to read is ambiguous.
    #[error(
        "{} line 1: column `{column}` appears more than once in the header",
        path_text(path)
    )]
    DuplicateColumn {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The column name that appears more than once.
        column: Cow<'static, str>,
    },
    /// A header that cannot be used as it stands (a bad minute column, ...).
    #[error("{} line 1, column {column}: {message}", path_text(path))]
    Header {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The header column at fault, by name.
        column: Cow<'static, str>,
        /// What is wrong with it, one line.
        message: String,
    },
    /// A field that does not hold what its column needs.
    #[error(
        "{} line {line}, column {column}: expected {expected}, got {got:?}",
        path_text(path)
    )]
    Field {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number (the header is line 1).
        line: u64,
        /// The column, by its header name.
        column: Cow<'static, str>,
        /// What the column needs (`a number of milliseconds >= 0`), for the message.
        expected: &'static str,
        /// The field as written (invalid UTF-8 shown as U+FFFD), cut to 60 characters.
        got: String,
    },
    /// A number too large for the simulation: every time and duration read from a trace
    /// must fit in [`MAX_SPAN_US`](crate::limits::MAX_SPAN_US) (100 years).
    #[error(
        "{} line {line}, column {column}: {got:?} is out of range, expected at most {max} \
         (the longest span faasim simulates, 100 years)",
        path_text(path)
    )]
    OutOfRange {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number (the header is line 1).
        line: u64,
        /// The column, by its header name.
        column: Cow<'static, str>,
        /// The field as written, cut to 60 characters.
        got: String,
        /// The largest value accepted, with its unit (`3155760000000 ms`).
        max: String,
    },
    /// A row whose fields parse but do not fit together (percentiles out of order, an
    /// invocation ending before it started, a modelled service time out of range, ...).
    #[error("{} line {line}, column {column}: {message}", path_text(path))]
    Row {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number (the header is line 1).
        line: u64,
        /// The column the problem is reported against, by its header name.
        column: Cow<'static, str>,
        /// Why the fields do not fit together, one line.
        message: String,
    },
    /// A second row for a key that must have one row per file.
    #[error(
        "{} line {line}: duplicate row for {what} {key}, first on line {first_line}",
        path_text(path)
    )]
    Duplicate {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number of the duplicate row.
        line: u64,
        /// The 1-based line number of the first row with the same key.
        first_line: u64,
        /// What the key identifies (`function`, `app`).
        what: &'static str,
        /// The duplicated key as written (its hash columns joined by `/`).
        key: String,
    },
    /// A file with no header (0 bytes, or blank lines only).
    #[error(
        "{}: empty file, expected a header line with the columns {expected}",
        path_text(path)
    )]
    EmptyFile {
        /// The empty file, as given.
        path: PathBuf,
        /// The columns the reader needs, for the message.
        expected: &'static str,
    },
    /// A record longer than [`MAX_RECORD_BYTES`](crate::limits::MAX_RECORD_BYTES): not a
    /// text CSV file (`/dev/zero`, a binary file), a runaway quoted field, or a line too long.
    #[error(
        "{} line {line}: a record longer than {max} bytes (a line without end, an unclosed \
         quote, or not a CSV text file)",
        path_text(path)
    )]
    RecordTooLong {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number where the over-long record starts.
        line: u64,
        /// The longest record accepted, bytes.
        max: u64,
    },
    /// A quoted field still open at the end of the file.
    #[error(
        "{} line {line}: a quoted field is not closed before the end of the file",
        path_text(path)
    )]
    UnclosedQuote {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number of the record whose quote is left open.
        line: u64,
    },
    /// A row earlier in time than the row before it.
    #[error(
        "{} line {line}, column timestamp_ms: rows must be in time order, \
         got {time_ms} after {previous_ms}",
        path_text(path)
    )]
    Unsorted {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number of the row out of order.
        line: u64,
        /// This row's `timestamp_ms`, ms.
        time_ms: f64,
        /// The previous row's `timestamp_ms`, ms (later than `time_ms`).
        previous_ms: f64,
    },
    /// A time earlier than the row before it, in a format whose rows must be sorted.
    #[error(
        "{} line {line}, column {column}: rows must be in time order, got {got} after {previous}",
        path_text(path)
    )]
    OutOfOrder {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number of the row out of order.
        line: u64,
        /// The time column, by its header name.
        column: Cow<'static, str>,
        /// The time as written.
        got: String,
        /// The previous row's time as written.
        previous: String,
    },
    /// A row with more or fewer fields than the header.
    #[error(
        "{} line {line}: expected {expected} fields (as in the header), got {got}",
        path_text(path)
    )]
    FieldCount {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number (the header is line 1).
        line: u64,
        /// The number of fields in the header.
        expected: u64,
        /// The number of fields in this row.
        got: u64,
    },
    /// Any other CSV syntax error.
    #[error("{} line {line}: {message}", path_text(path))]
    Csv {
        /// The file being read (or opened), as given.
        path: PathBuf,
        /// The 1-based line number (the header is line 1).
        line: u64,
        /// The CSV parser's description, made one line.
        message: String,
    },
    /// A synthetic-generator parameter out of its range.
    #[error("synthetic trace, key `{key}`: {message}")]
    Synthetic {
        /// The `[trace]` key at fault.
        key: &'static str,
        /// What is wrong with its value and what is accepted.
        message: String,
    },
    /// A reader parameter out of its range (`format` names the trace format).
    #[error("{format} trace, key `{key}`: {message}")]
    Spec {
        /// The trace format, as in the `format` key (`azure2019`, `sample`, ...).
        format: &'static str,
        /// The key at fault.
        key: &'static str,
        /// What is wrong with its value and what is accepted.
        message: String,
    },
    /// Input that is readable but unusable as a whole (for example a function with no
    /// duration row when the durations files have no rows to fall back on).
    #[error("{}: {message}", path_text(path))]
    Content {
        /// The file the problem is found in.
        path: PathBuf,
        /// What is unusable, one line.
        message: String,
    },
    /// Writing a converted trace failed.
    #[error("cannot write the converted trace: {source}")]
    Write {
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// An error from a source that is not a trace reader of this crate (in
    /// [`convert_to_csv`](crate::convert_to_csv)).
    #[error("{0}")]
    Source(
        /// The source's own error, passed on unchanged.
        faasim_sim::SourceError,
    ),
}

impl TraceError {
    /// Whether this error is about one row only (a bad field, a field out of range, fields
    /// that do not fit together, a wrong number of fields), so that a lenient reader may
    /// skip the row and go on. Order errors are not row errors: a row out of time order
    /// usually means the whole file is unsorted, and skipping would silently drop a large
    /// part of it. Nor are duplicate rows: the readers that allow them count them apart.
    pub fn is_row_error(&self) -> bool {
        matches!(
            self,
            TraceError::Field { .. }
                | TraceError::FieldCount { .. }
                | TraceError::OutOfRange { .. }
                | TraceError::Row { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_static<T: Send + Sync + 'static>() {}

    #[test]
    fn error_is_a_source_error_and_one_line() {
        assert_send_sync_static::<TraceError>();
        let e = TraceError::Field {
            path: "trace.csv".into(),
            line: 7,
            column: "duration_ms".into(),
            expected: "a number of milliseconds >= 0",
            got: "abc".into(),
        };
        assert_eq!(
            e.to_string(),
            r#"trace.csv line 7, column duration_ms: expected a number of milliseconds >= 0, got "abc""#
        );
        let boxed: faasim_sim::SourceError = Box::new(e);
        assert!(!boxed.to_string().contains('\n'));
    }
}
