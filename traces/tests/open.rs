//! `open` end to end: spec -> source -> engine, with the checksum for the manifest.

mod common;

use common::*;
use faasim_sim::{EngineConfig, FunctionId, NullRecorder, Policies, SimDuration, SimTime};
use faasim_traces::{open, SyntheticSpec, TraceSpec};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A unique temporary file, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("faasim-traces-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn policies() -> Policies {
    Policies {
        placement: Box::new(FirstFit),
        routing: Box::new(AlwaysCold),
        keep_alive: Box::new(EvictNow),
        load_balancer: None,
    }
}

#[test]
fn csv_fixture_opens_relative_to_the_scenario_folder() {
    let spec = TraceSpec::Csv {
        path: "small.csv".into(),
    };
    let mut trace = open(&spec, &fixtures(), 1).unwrap();
    assert_eq!(trace.checksum_hex(), None, "no checksum before the end");
    assert_eq!(trace.source_mut().horizon(), None);
    let (arrivals, table) = drain(trace.source_mut());
    let names: Vec<(&str, u32)> = table
        .iter()
        .map(|(_, f)| (f.name.as_str(), f.memory_mb))
        .collect();
    assert_eq!(names, [("checkout", 512), ("cart", 256), ("query", 128)]);
    let got: Vec<(u64, u32, u64, Option<u64>)> = arrivals
        .iter()
        .map(|a| {
            (
                a.time.0,
                a.function.0,
                a.duration.0,
                a.cold_start.map(|d| d.0),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, 0, 120_500, None),
            (250, 1, 40_000, None),
            (10_000, 0, 118_000, Some(350_500)),
            (1_000_001, 2, 15_000, None),
            (2_500_000, 1, 42_750, None),
        ]
    );
    let bytes = std::fs::read(fixtures().join("small.csv")).unwrap();
    let expected: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(trace.checksum_hex(), Some(expected));
}

#[test]
fn an_absolute_path_ignores_the_base_folder() {
    let spec = TraceSpec::Csv {
        path: fixtures().join("small.csv"),
    };
    let mut trace = open(&spec, Path::new("/nonexistent"), 1).unwrap();
    assert_eq!(drain(trace.source_mut()).0.len(), 5);
}

#[test]
fn missing_file_names_the_resolved_path() {
    let spec = TraceSpec::Csv {
        path: "nope.csv".into(),
    };
    let e = open(&spec, &fixtures(), 1).unwrap_err().to_string();
    let path = fixtures().join("nope.csv");
    assert_eq!(
        e.split(": cannot open trace file").next().unwrap(),
        path.display().to_string(),
        "{e}"
    );
}

#[test]
fn engine_replays_the_fixture_and_the_checksum_is_ready_after_the_run() {
    let spec = TraceSpec::Csv {
        path: "small.csv".into(),
    };
    let mut trace = open(&spec, &fixtures(), 1).unwrap();
    let report = faasim_sim::run(
        &EngineConfig::default(),
        policies(),
        trace.source_mut(),
        &mut NullRecorder,
    )
    .unwrap();
    assert_eq!(report.stats.invocations, 5);
    assert_eq!(report.stats.completed, 5);
    assert_eq!(report.function_table.len(), 3);
    assert!(trace.checksum_hex().is_some());
}

#[test]
fn a_bad_row_stops_the_engine_with_the_readers_message() {
    let file = TempFile::new(
        "bad-row.csv",
        b"timestamp_ms,function,duration_ms,memory_mb\n0,f,10,128\n5,f,-3,128\n",
    );
    let spec = TraceSpec::Csv {
        path: file.0.clone(),
    };
    let mut trace = open(&spec, Path::new("."), 1).unwrap();
    let e = faasim_sim::run(
        &EngineConfig::default(),
        policies(),
        trace.source_mut(),
        &mut NullRecorder,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        format!(
            "{} line 3, column duration_ms: expected a number of milliseconds >= 0, got \"-3\"",
            file.0.display()
        )
    );
    assert_eq!(
        trace.checksum_hex(),
        None,
        "a file not read to its end has no checksum"
    );
}

#[test]
fn synthetic_opens_with_the_run_seed_and_has_no_checksum() {
    let spec = TraceSpec::Synthetic(SyntheticSpec {
        duration_s: 60.0,
        ..SyntheticSpec::default()
    });
    let mut a = open(&spec, Path::new("."), 42).unwrap();
    let mut b = open(&spec, Path::new("."), 42).unwrap();
    assert_eq!(a.source_mut().horizon(), Some(SimTime::from_secs(60)));
    let (xa, ta) = drain(a.source_mut());
    let (xb, _) = drain(b.source_mut());
    assert_eq!(xa, xb);
    assert_eq!(ta.len(), 20);
    assert!(xa
        .iter()
        .all(|x| x.function < FunctionId(20) && x.duration > SimDuration::ZERO));
    assert_eq!(a.checksum_hex(), None);
    // The engine runs it to its horizon.
    let mut c = open(&spec, Path::new("."), 42).unwrap();
    let report = faasim_sim::run(
        &EngineConfig::default(),
        policies(),
        c.source_mut(),
        &mut NullRecorder,
    )
    .unwrap();
    assert_eq!(report.stats.invocations, xa.len() as u64);
}
