//! One answer by every path: a trace and its `faasim trace convert` output, replayed with the
//! same platform, give the same `summary.csv` (wall-clock columns aside), for every reader.
//! The platform keeps instances warm after the last request, so the end-of-run rule (drain:
//! count idle instances until their keep-alive ends) is part of what must agree.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn faasim(args: &[&str], cwd: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("faasim runs");
    assert!(
        out.status.success(),
        "faasim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Everything but the trace: a small cluster, random cold starts (seeded), 30 s keep-alive,
/// processor sharing, a time series.
const PLATFORM: &str = r#"
seed = 7
[cluster]
workers = 2
worker_memory_mb = 4096
worker_cores = 2
[platform]
cold_start_ms = { dist = "lognormal", median_ms = 200, sigma = 0.5 }
cpu = "processor-sharing"
[keep_alive]
policy = "fixed"
ttl_s = 30
[output]
timeseries_interval_s = 10
"#;

/// The summary as (column, value) pairs, wall-clock columns left out.
fn summary(dir: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(dir.join("summary.csv")).expect("summary.csv");
    let header = r.headers().unwrap().clone();
    let row = r.records().next().expect("one row").unwrap();
    header
        .iter()
        .zip(row.iter())
        .filter(|(h, _)| !h.contains("wall"))
        .map(|(h, v)| (h.to_owned(), v.to_owned()))
        .collect()
}

fn round_trip(label: &str, trace_table: &str) {
    round_trip_on(label, PLATFORM, trace_table);
}

fn round_trip_on(label: &str, platform: &str, trace_table: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let original = format!("name = \"rt\"\n{platform}\n[trace]\n{trace_table}\n");
    fs::write(d.join("original.toml"), original).unwrap();
    faasim(&["run", "original.toml", "--out", "a"], d);
    faasim(
        &["trace", "convert", "original.toml", "--out", "conv.csv"],
        d,
    );
    let converted =
        format!("name = \"rt\"\n{platform}\n[trace]\nformat = \"csv\"\npath = \"conv.csv\"\n");
    fs::write(d.join("converted.toml"), converted).unwrap();
    faasim(&["run", "converted.toml", "--out", "b"], d);
    let (a, b) = (summary(&d.join("a")), summary(&d.join("b")));
    let invocations: u64 = a
        .iter()
        .find(|(h, _)| h == "invocations")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(invocations > 0, "{label}: the trace is empty");
    for ((h, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x, y, "{label}: column {h} differs after trace convert");
    }
}

fn fixture(rel: &str) -> String {
    repo()
        .join("traces/tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn synthetic_and_azure_like_generators_round_trip() {
    round_trip(
        "synthetic",
        "format = \"synthetic\"\nfunctions = 5\nduration_s = 120\nrate_per_s = 2\narrivals = \"bursty\"",
    );
    round_trip(
        "azure-like",
        "format = \"azure-like\"\nfunctions = 20\nduration_s = 600\nrate_scale = 0.2",
    );
}

#[test]
fn canonical_csv_round_trips() {
    round_trip(
        "csv",
        &format!("format = \"csv\"\npath = \"{}\"", fixture("small.csv")),
    );
}

#[test]
fn azure_readers_round_trip() {
    round_trip(
        "azure2019",
        &format!(
            "format = \"azure2019\"\ninvocations = \"{}\"\ndurations = \"{}\"\nmemory = \"{}\"\n\
             missing_durations = \"median\"",
            fixture("azure2019/inv_a.csv"),
            fixture("azure2019/dur_a.csv"),
            fixture("azure2019/mem_a.csv")
        ),
    );
    let head = repo().join("traces/samples/azure2021-head/Azure2021_200.csv");
    round_trip(
        "azure2021",
        &format!("format = \"azure2021\"\npath = \"{}\"", head.display()),
    );
    round_trip(
        "azure-llm-2023",
        &format!(
            "format = \"azure-llm-2023\"\npath = \"{}\"\nmemory_mb = 2048",
            fixture("azure-llm-2023/small.csv")
        ),
    );
}

#[test]
fn huawei_reader_round_trips() {
    round_trip(
        "huawei2023",
        &format!(
            "format = \"huawei2023\"\npath = \"{}\"\nmemory_mb = 256\n\
             duration_ms = {{ dist = \"exponential\", mean_ms = 50 }}",
            fixture("huawei2023/day_00.csv")
        ),
    );
}

#[test]
fn a_vm_fleet_ends_by_the_same_rule() {
    // A generator has a horizon, its CSV conversion none: draining, both fleets stop after
    // the last completion.
    let trace = "format = \"synthetic\"\nfunctions = 3\nduration_s = 600\nrate_per_s = 1";
    for mode in ["vm-static", "vm-autoscaled"] {
        let platform = format!("seed = 7\n[platform]\nmode = \"{mode}\"\n[vm]\nmin_vms = 1\n");
        round_trip_on(mode, &platform, trace);
    }
}
