//! Why a trace could not be read or generated.

use std::path::PathBuf;

/// A bad trace file or bad generator parameters. Each message is one line that names the
/// file, the line (1-based; the header is line 1) and the column, and what was expected,
/// e.g. `trace.csv line 7, column duration_ms: expected a number of milliseconds >= 0, got "abc"`.
///
/// It is `Send + Sync + 'static`, so the engine can carry it as a `SourceError`.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened.
    #[error("{}: cannot open trace file: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Reading failed part-way (a disk error, a directory given as the path, ...).
    #[error("{} line {line}: read error: {source}", path.display())]
    Read {
        path: PathBuf,
        line: u64,
        source: std::io::Error,
    },
    /// A required column is not in the header.
    #[error(
        "{} line 1: missing required column `{column}` (the header has: {header})",
        path.display()
    )]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        header: String,
    },
    /// A known column is named twice in the header, so which one to read is ambiguous.
    #[error("{} line 1: column `{column}` appears more than once in the header", path.display())]
    DuplicateColumn { path: PathBuf, column: &'static str },
    /// A field that does not hold what its column needs.
    #[error("{} line {line}, column {column}: expected {expected}, got {got:?}", path.display())]
    Field {
        path: PathBuf,
        line: u64,
        column: &'static str,
        expected: &'static str,
        /// The field as written (invalid UTF-8 shown as U+FFFD), cut to 60 characters.
        got: String,
    },
    /// A row earlier in time than the row before it.
    #[error(
        "{} line {line}, column timestamp_ms: rows must be in time order, \
         got {time_ms} after {previous_ms}",
        path.display()
    )]
    Unsorted {
        path: PathBuf,
        line: u64,
        time_ms: f64,
        previous_ms: f64,
    },
    /// A row with more or fewer fields than the header.
    #[error("{} line {line}: expected {expected} fields (as in the header), got {got}", path.display())]
    FieldCount {
        path: PathBuf,
        line: u64,
        expected: u64,
        got: u64,
    },
    /// Any other CSV syntax error.
    #[error("{} line {line}: {message}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A synthetic-generator parameter out of its range.
    #[error("synthetic trace, key `{key}`: {message}")]
    Synthetic { key: &'static str, message: String },
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
            column: "duration_ms",
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
