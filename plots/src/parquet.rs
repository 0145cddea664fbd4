//! `invocations.csv` → Parquet, in bounded memory.
//!
//! The CSV file is read in chunks of rows; each chunk becomes a polars `DataFrame` with
//! typed columns and is written as one Parquet row group by polars' batched writer. A
//! second thread parses the next chunk while the current one is encoded, so at most three
//! chunks (one being parsed, one queued, one being written) are in memory at once.

use crate::data::csv_err;
use crate::PlotError;
use polars::prelude::{
    Column, DataFrame, IntoColumn, ParquetCompression, ParquetWriter, PolarsError,
    StringChunkedBuilder,
};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

/// Rows per chunk, and so per Parquet row group, of [`csv_to_parquet`].
pub const PARQUET_ROWS_PER_GROUP: usize = 1_000_000;

/// The type of a column of `invocations.csv`.
#[derive(Debug, Clone, Copy)]
enum Kind {
    U64,
    U32,
    /// Empty means null.
    OptU32,
    F64,
    /// `true` or `false`.
    Bool,
    Str,
}

/// The columns of `invocations.csv`, in the order of the experiments crate's
/// `InvocationRow` (and of the Parquet file).
const COLUMNS: [(&str, Kind); 15] = [
    ("id", Kind::U64),
    ("function_id", Kind::U32),
    ("outcome", Kind::Str),
    ("arrival_ms", Kind::F64),
    ("start_ms", Kind::F64),
    ("end_ms", Kind::F64),
    ("latency_ms", Kind::F64),
    ("queue_delay_ms", Kind::F64),
    ("cold_start", Kind::Bool),
    ("init_ms", Kind::F64),
    ("worker", Kind::OptU32),
    ("instance", Kind::OptU32),
    ("memory_mb", Kind::U32),
    ("billed_ms", Kind::U64),
    ("cost_usd", Kind::F64),
];

/// The values of one column of a chunk.
enum Builder {
    U64(Vec<u64>),
    U32(Vec<u32>),
    OptU32(Vec<Option<u32>>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    Str(StringChunkedBuilder),
}

impl Builder {
    fn new(name: &str, kind: Kind, capacity: usize) -> Self {
        match kind {
            Kind::U64 => Builder::U64(Vec::with_capacity(capacity)),
            Kind::U32 => Builder::U32(Vec::with_capacity(capacity)),
            Kind::OptU32 => Builder::OptU32(Vec::with_capacity(capacity)),
            Kind::F64 => Builder::F64(Vec::with_capacity(capacity)),
            Kind::Bool => Builder::Bool(Vec::with_capacity(capacity)),
            Kind::Str => Builder::Str(StringChunkedBuilder::new(name.into(), capacity)),
        }
    }

    /// Parses `field` and appends it; the error is the message of a
    /// [`PlotError::BadValue`].
    fn push(&mut self, field: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(field)
            .map_err(|_| "not valid UTF-8".to_owned())?
            .trim_ascii();
        fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            if text.is_empty() {
                return Err(format!("empty, expected {what}"));
            }
            text.parse::<T>().map_err(|e| format!("`{text}`: {e}"))
        }
        match self {
            Builder::U64(v) => v.push(parse(text, "an unsigned integer")?),
            Builder::U32(v) => v.push(parse(text, "an unsigned 32-bit integer")?),
            Builder::OptU32(v) => v.push(if text.is_empty() {
                None
            } else {
                Some(parse(text, "an unsigned 32-bit integer")?)
            }),
            Builder::F64(v) => v.push(parse(text, "a number")?),
            Builder::Bool(v) => v.push(match text {
                "true" => true,
                "false" => false,
                _ => return Err(format!("`{text}`: expected `true` or `false`")),
            }),
            Builder::Str(b) => b.append_value(text),
        }
        Ok(())
    }

    fn finish(self, name: &str) -> Column {
        let name = name.into();
        match self {
            Builder::U64(v) => Column::new(name, v),
            Builder::U32(v) => Column::new(name, v),
            Builder::OptU32(v) => Column::new(name, v),
            Builder::F64(v) => Column::new(name, v),
            Builder::Bool(v) => Column::new(name, v),
            Builder::Str(b) => b.finish().into_column(),
        }
    }
}

/// A file written under `.<name>.tmp` beside its destination and renamed into place by
/// [`TmpFile::commit`]; dropped without a commit, it deletes the temporary file.
struct TmpFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl TmpFile {
    fn create(dest: &Path) -> Result<(Self, File), PlotError> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dest.with_file_name(format!(".{name}.tmp"));
        let file = File::create(&tmp).map_err(|source| PlotError::Io {
            path: tmp.clone(),
            source,
        })?;
        let guard = TmpFile {
            tmp,
            dest: dest.to_owned(),
            committed: false,
        };
        Ok((guard, file))
    }

    fn commit(mut self) -> Result<(), PlotError> {
        std::fs::rename(&self.tmp, &self.dest).map_err(|source| PlotError::Io {
            path: self.dest.clone(),
            source,
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Converts an `invocations.csv` (the columns of the experiments crate's `InvocationRow`)
/// into a Parquet file and returns the number of rows.
///
/// Columns, in this order, with their Parquet (polars) types: `id` UInt64, `function_id`
/// UInt32, `outcome` String, `arrival_ms`, `start_ms`, `end_ms`, `latency_ms`,
/// `queue_delay_ms` Float64, `cold_start` Boolean, `init_ms` Float64, `worker` and
/// `instance` UInt32 (null where the CSV field is empty: a dropped invocation),
/// `memory_mb` UInt32, `billed_ms` UInt64, `cost_usd` Float64. Columns are found by
/// name; extra CSV columns are ignored.
///
/// Memory is bounded: rows are read in chunks of [`PARQUET_ROWS_PER_GROUP`], each written
/// as one row group (zstd-compressed). The file is written as `.<name>.tmp` beside
/// `parquet_path` and renamed when complete, so a failed conversion leaves no Parquet
/// file. A missing column is a [`PlotError::MissingColumn`]; a value that does not parse
/// is a [`PlotError::BadValue`] naming the CSV file, the line and the column.
pub fn csv_to_parquet(csv_path: &Path, parquet_path: &Path) -> Result<u64, PlotError> {
    csv_to_parquet_with(csv_path, parquet_path, PARQUET_ROWS_PER_GROUP)
}

/// [`csv_to_parquet`] with `rows_per_group` rows per chunk and row group (at least 1).
pub fn csv_to_parquet_with(
    csv_path: &Path,
    parquet_path: &Path,
    rows_per_group: usize,
) -> Result<u64, PlotError> {
    let rows_per_group = rows_per_group.max(1);
    let file = File::open(csv_path).map_err(|source| PlotError::Io {
        path: csv_path.to_owned(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let headers = reader
        .headers()
        .map_err(|e| csv_err(csv_path, None, e))?
        .clone();
    if headers.is_empty() {
        return Err(PlotError::Invalid {
            path: csv_path.to_owned(),
            message: "empty file: expected a header row".into(),
        });
    }
    // For each output column, the index of its CSV field.
    let mut index = [0usize; COLUMNS.len()];
    for (slot, (name, _)) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| PlotError::MissingColumn {
                path: csv_path.to_owned(),
                column: name.to_owned(),
            })?;
    }

    let pq_err = |e: PolarsError| PlotError::Parquet {
        path: parquet_path.to_owned(),
        message: e.to_string(),
    };
    let schema = chunk_frame(new_builders(0), 0).map_err(pq_err)?;
    let schema = schema.schema().clone();

    let (guard, file) = TmpFile::create(parquet_path)?;
    let tmp_err = |source: std::io::Error| PlotError::Io {
        path: guard.tmp.clone(),
        source,
    };
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut writer = ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .batched(&schema)
        .map_err(pq_err)?;

    // The parser thread sends each chunk as it completes; the channel holds one, so at
    // most three chunks are alive.
    let rows = std::thread::scope(|s| -> Result<u64, PlotError> {
        let (tx, rx) = sync_channel::<Result<DataFrame, PlotError>>(1);
        s.spawn(move || {
            let mut record = csv::ByteRecord::new();
            loop {
                let chunk = read_chunk(
                    &mut reader,
                    &mut record,
                    csv_path,
                    &headers,
                    &index,
                    rows_per_group,
                );
                match chunk {
                    Ok(None) => return,
                    // A closed channel means the writer failed: stop parsing.
                    Ok(Some(df)) => {
                        if tx.send(Ok(df)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        let mut rows = 0u64;
        for chunk in rx {
            let df = chunk?;
            writer.write_batch(&df).map_err(pq_err)?;
            rows += df.height() as u64;
        }
        Ok(rows)
    })?;
    writer.finish().map_err(pq_err)?;
    drop(writer);
    let file = out.into_inner().map_err(|e| tmp_err(e.into_error()))?;
    file.sync_all().map_err(tmp_err)?;
    drop(file);
    guard.commit()?;
    Ok(rows)
}

fn new_builders(capacity: usize) -> Vec<Builder> {
    COLUMNS
        .iter()
        .map(|&(name, kind)| Builder::new(name, kind, capacity))
        .collect()
}

fn chunk_frame(builders: Vec<Builder>, height: usize) -> Result<DataFrame, PolarsError> {
    let columns = builders
        .into_iter()
        .zip(COLUMNS)
        .map(|(b, (name, _))| b.finish(name))
        .collect();
    DataFrame::new(height, columns)
}

/// Reads up to `rows` records into a `DataFrame`; `None` at the end of the file.
fn read_chunk<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    path: &Path,
    headers: &csv::StringRecord,
    index: &[usize; COLUMNS.len()],
    rows: usize,
) -> Result<Option<DataFrame>, PlotError> {
    let mut builders = new_builders(rows);
    let mut height = 0;
    while height < rows {
        match reader.read_byte_record(record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(path, Some(headers), e)),
        }
        for ((builder, &i), (name, _)) in builders.iter_mut().zip(index).zip(COLUMNS) {
            let field = record.get(i).unwrap_or(b"");
            builder.push(field).map_err(|message| PlotError::BadValue {
                path: path.to_owned(),
                line: record.position().map_or(0, |p| p.line()),
                column: name.to_owned(),
                message,
            })?;
        }
        height += 1;
    }
    if height == 0 {
        return Ok(None);
    }
    chunk_frame(builders, height)
        .map(Some)
        .map_err(|e| PlotError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_or_explain() {
        let mut b = Builder::new("x", Kind::OptU32, 0);
        assert!(b.push(b"").is_ok());
        assert!(b.push(b"7").is_ok());
        assert_eq!(
            b.push(b"-1").unwrap_err(),
            "`-1`: invalid digit found in string"
        );
        let mut b = Builder::new("x", Kind::Bool, 0);
        assert!(b.push(b"true").is_ok());
        assert_eq!(
            b.push(b"yes").unwrap_err(),
            "`yes`: expected `true` or `false`"
        );
        let mut b = Builder::new("x", Kind::F64, 0);
        assert_eq!(b.push(b"").unwrap_err(), "empty, expected a number");
    }
}
