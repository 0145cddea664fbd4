//! `invocations.csv` → Parquet: types, values, row groups, errors, and (ignored) speed.

use faasim_plots::{csv_to_parquet, csv_to_parquet_with, PlotError};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The header of `invocations.csv`: the fields of the experiments crate's `InvocationRow`.
const HEADER: &str = "id,function_id,outcome,arrival_ms,start_ms,end_ms,latency_ms,\
queue_delay_ms,cold_start,init_ms,worker,instance,memory_mb,billed_ms,cost_usd";

/// Three rows: a cold start, a warm start, and a dropped invocation (no worker, no
/// instance).
const ROWS: [&str; 3] = [
    "0,3,completed,1.5,251.5,351.75,350.25,0,true,250,1,7,512,101,0.0000012345",
    "1,3,completed,2,351.75,400,398,349.75,false,0,1,7,512,49,0.000000612",
    "2,4294967295,dropped,3.25,3.25,3.25,0,0,false,0,,,128,0,0",
];

fn write_csv(path: &Path, rows: &[&str]) {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn row_groups(path: &Path) -> usize {
    ParquetReader::new(File::open(path).unwrap())
        .get_metadata()
        .unwrap()
        .row_groups
        .len()
}

/// The names of the files in `dir`, sorted (temporary files included).
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn converts_with_typed_columns_and_exact_values() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("invocations.csv");
    let pq = tmp.path().join("invocations.parquet");
    write_csv(&csv, &ROWS);

    assert_eq!(csv_to_parquet(&csv, &pq).unwrap(), 3);
    assert_eq!(
        files(tmp.path()),
        ["invocations.csv", "invocations.parquet"]
    );
    assert_eq!(row_groups(&pq), 1);

    let df = read_parquet(&pq);
    assert_eq!(df.height(), 3);
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, HEADER.split(',').collect::<Vec<_>>());
    use DataType::*;
    assert_eq!(
        df.dtypes(),
        [
            UInt64, UInt32, String, Float64, Float64, Float64, Float64, Float64, Boolean, Float64,
            UInt32, UInt32, UInt32, UInt64, Float64
        ]
    );

    let col = |name: &str| df.column(name).unwrap();
    let ids: Vec<Option<u64>> = col("id").u64().unwrap().iter().collect();
    assert_eq!(ids, [Some(0), Some(1), Some(2)]);
    assert_eq!(col("function_id").u32().unwrap().get(2), Some(u32::MAX));
    let outcomes: Vec<Option<&str>> = col("outcome").str().unwrap().iter().collect();
    assert_eq!(
        outcomes,
        [Some("completed"), Some("completed"), Some("dropped")]
    );
    assert_eq!(col("arrival_ms").f64().unwrap().get(2), Some(3.25));
    assert_eq!(col("end_ms").f64().unwrap().get(0), Some(351.75));
    assert_eq!(col("latency_ms").f64().unwrap().get(0), Some(350.25));
    assert_eq!(col("queue_delay_ms").f64().unwrap().get(1), Some(349.75));
    let cold: Vec<Option<bool>> = col("cold_start").bool().unwrap().iter().collect();
    assert_eq!(cold, [Some(true), Some(false), Some(false)]);
    assert_eq!(col("init_ms").f64().unwrap().get(0), Some(250.0));
    for name in ["worker", "instance"] {
        assert_eq!(col(name).null_count(), 1, "{name}");
        assert_eq!(col(name).u32().unwrap().get(2), None, "{name}");
    }
    assert_eq!(col("worker").u32().unwrap().get(0), Some(1));
    assert_eq!(col("instance").u32().unwrap().get(1), Some(7));
    assert_eq!(col("memory_mb").u32().unwrap().get(2), Some(128));
    assert_eq!(col("billed_ms").u64().unwrap().get(0), Some(101));
    assert_eq!(col("cost_usd").f64().unwrap().get(0), Some(0.0000012345));
    assert_eq!(col("cost_usd").f64().unwrap().get(1), Some(0.000000612));
    for name in ["id", "outcome", "latency_ms", "cold_start", "cost_usd"] {
        assert_eq!(col(name).null_count(), 0, "{name}");
    }
}

#[test]
fn chunks_become_row_groups_with_the_same_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("invocations.csv");
    let rows: Vec<String> = (0..7)
        .map(|i| {
            let worker = if i % 3 == 2 { "".into() } else { i.to_string() };
            format!("{i},1,completed,{i}.5,0,0,{i}.25,0,false,0,{worker},{worker},256,{i},0.5")
        })
        .collect();
    let rows: Vec<&str> = rows.iter().map(|r| r.as_str()).collect();
    write_csv(&csv, &rows);

    let pq = tmp.path().join("chunked.parquet");
    assert_eq!(csv_to_parquet_with(&csv, &pq, 3).unwrap(), 7);
    assert_eq!(row_groups(&pq), 3);
    let df = read_parquet(&pq);
    let ids: Vec<Option<u64>> = df.column("id").unwrap().u64().unwrap().iter().collect();
    assert_eq!(ids, (0..7).map(Some).collect::<Vec<_>>());
    let lat: Vec<Option<f64>> = df
        .column("latency_ms")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        lat,
        (0..7).map(|i| Some(i as f64 + 0.25)).collect::<Vec<_>>()
    );
    let worker: Vec<Option<u32>> = df.column("worker").unwrap().u32().unwrap().iter().collect();
    let expected: Vec<Option<u32>> = (0..7u32).map(|i| (i % 3 != 2).then_some(i)).collect();
    assert_eq!(worker, expected);
}

#[test]
fn a_header_only_file_gives_an_empty_typed_table() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("invocations.csv");
    let pq = tmp.path().join("invocations.parquet");
    write_csv(&csv, &[]);
    assert_eq!(csv_to_parquet(&csv, &pq).unwrap(), 0);
    let df = read_parquet(&pq);
    assert_eq!(df.height(), 0);
    assert_eq!(df.width(), 15);
    assert_eq!(df.column("worker").unwrap().dtype(), &DataType::UInt32);
}

/// Converting `rows` fails with a `BadValue` at `line` and `column`, and leaves no Parquet
/// file (nor a temporary one) behind.
fn assert_bad_value(rows: &[&str], rows_per_group: usize, line: u64, column: &str, msg: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("invocations.csv");
    let pq = tmp.path().join("invocations.parquet");
    write_csv(&csv, rows);
    let err = csv_to_parquet_with(&csv, &pq, rows_per_group).unwrap_err();
    match &err {
        PlotError::BadValue {
            path,
            line: l,
            column: c,
            message,
        } => {
            assert_eq!(path, &csv);
            assert_eq!(*l, line, "{err}");
            assert_eq!(c, column, "{err}");
            assert!(message.contains(msg), "{err}");
        }
        other => panic!("expected BadValue, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("invocations.csv"), "{text}");
    assert!(text.contains(&format!("line {line}")), "{text}");
    assert!(text.contains(&format!("`{column}`")), "{text}");
    assert_eq!(files(tmp.path()), ["invocations.csv"]);
}

#[test]
fn a_bad_value_names_file_line_and_column_and_leaves_no_parquet() {
    let bad_latency = ROWS[1].replace("398", "abc");
    assert_bad_value(
        &[ROWS[0], &bad_latency, ROWS[2]],
        1000,
        3,
        "latency_ms",
        "`abc`",
    );
    // In a later chunk, after row groups were written.
    let bad_bool = ROWS[2].replace("false", "maybe");
    assert_bad_value(
        &[ROWS[0], ROWS[1], ROWS[0], &bad_bool],
        1,
        5,
        "cold_start",
        "expected `true` or `false`",
    );
    let empty_id = ROWS[1].replacen('1', "", 1);
    assert_bad_value(&[ROWS[0], &empty_id], 1000, 3, "id", "empty");
    let negative_worker = ROWS[0].replace(",1,7,", ",-1,7,");
    assert_bad_value(&[&negative_worker], 1000, 2, "worker", "`-1`");
}

#[test]
fn a_failed_conversion_keeps_an_existing_parquet_file() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("invocations.csv");
    let pq = tmp.path().join("invocations.parquet");
    write_csv(&csv, &ROWS);
    csv_to_parquet(&csv, &pq).unwrap();
    let before = std::fs::read(&pq).unwrap();

    let short = ROWS[1].rsplit_once(',').unwrap().0.to_owned();
    write_csv(&csv, &[ROWS[0], &short]);
    let err = csv_to_parquet(&csv, &pq).unwrap_err();
    assert!(matches!(err, PlotError::Invalid { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("invocations.csv") && text.contains("line 3"),
        "{text}"
    );
    assert_eq!(std::fs::read(&pq).unwrap(), before);
    assert_eq!(
        files(tmp.path()),
        ["invocations.csv", "invocations.parquet"]
    );
}

#[test]
fn a_missing_column_or_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("invocations.csv");
    let pq = tmp.path().join("invocations.parquet");
    std::fs::write(&csv, HEADER.replace("billed_ms", "billed") + "\n").unwrap();
    match csv_to_parquet(&csv, &pq).unwrap_err() {
        PlotError::MissingColumn { path, column } => {
            assert_eq!(path, csv);
            assert_eq!(column, "billed_ms");
        }
        other => panic!("expected MissingColumn, got {other:?}"),
    }
    let missing = tmp.path().join("nope.csv");
    let err = csv_to_parquet(&missing, &pq).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.csv"));
    std::fs::write(&csv, "").unwrap();
    let err = csv_to_parquet(&csv, &pq).unwrap_err();
    assert!(matches!(err, PlotError::Invalid { .. }), "{err:?}");
    assert_eq!(files(tmp.path()), ["invocations.csv"]);
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `cargo test -p faasim-plots --release --test parquet -- --ignored --nocapture`
#[test]
#[ignore = "timing: writes a 5-million-row CSV (~0.5 GB)"]
fn time_five_million_rows() {
    const N: u64 = 5_000_000;
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("invocations.csv");
    let pq = tmp.path().join("invocations.parquet");
    {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&csv).unwrap());
        writeln!(w, "{HEADER}").unwrap();
        for i in 0..N {
            let arrival = i as f64 * 0.731;
            let cold = i % 17 == 0;
            let init = if cold { 250.0 } else { 0.0 };
            let start = arrival + init + (i % 5) as f64 * 0.125;
            let dur = 20.0 + (i % 997) as f64 * 0.37;
            if i % 101 == 0 {
                writeln!(
                    w,
                    "{i},{},dropped,{arrival},{arrival},{arrival},0,0,false,0,,,128,0,0",
                    i % 500
                )
                .unwrap();
            } else {
                let billed = dur.ceil() as u64;
                writeln!(
                    w,
                    "{i},{},completed,{arrival},{start},{},{},{},{cold},{init},{},{},256,{billed},{}",
                    i % 500,
                    start + dur,
                    start + dur - arrival,
                    start - arrival - init,
                    i % 8,
                    i % 4000,
                    billed as f64 * 0.0000000042
                )
                .unwrap();
            }
        }
        w.flush().unwrap();
    }
    let csv_bytes = std::fs::metadata(&csv).unwrap().len();
    let rss_before = peak_rss_mib();
    let t = std::time::Instant::now();
    let rows = csv_to_parquet(&csv, &pq).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(rows, N);
    let pq_bytes = std::fs::metadata(&pq).unwrap().len();
    println!(
        "{rows} rows in {secs:.2} s = {:.0} rows/s; CSV {:.0} MB -> Parquet {:.0} MB \
         ({} row groups); peak RSS {:.0} MiB before, {:.0} MiB after",
        rows as f64 / secs,
        csv_bytes as f64 / 1e6,
        pq_bytes as f64 / 1e6,
        row_groups(&pq),
        rss_before.unwrap_or(f64::NAN),
        peak_rss_mib().unwrap_or(f64::NAN),
    );
    let mut reader = ParquetReader::new(File::open(&pq).unwrap());
    assert_eq!(reader.num_rows().unwrap(), N as usize);
}
