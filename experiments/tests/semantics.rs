//! Scenario rules with one meaning: the end of a run, empty workloads, an autoscaler beside a
//! keep-alive policy, per-function cold starts for names the trace never invokes, and the
//! defaults every entry point shares.

use faasim_experiments::scenario::parse;
use faasim_sim::EngineConfig;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn faasim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("faasim runs")
}

const TRACE: &str = "timestamp_ms,function,duration_ms,memory_mb\n0,a,100,128\n1000,a,100,128\n";

fn scenario(extra: &str) -> String {
    format!(
        "name = \"s\"\n[trace]\nformat = \"csv\"\npath = \"t.csv\"\n\
         [platform]\ncold_start_ms = 100\n{extra}\n"
    )
}

fn run_in(dir: &Path, scenario_text: &str, trace: &str) -> Output {
    fs::write(dir.join("s.toml"), scenario_text).unwrap();
    fs::write(dir.join("t.csv"), trace).unwrap();
    faasim(&["run", "s.toml", "--out", "out"], dir)
}

fn summary_value(dir: &Path, column: &str) -> String {
    let mut r = csv::Reader::from_path(dir.join("out/summary.csv")).unwrap();
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap();
    r.records().next().unwrap().unwrap()[i].to_owned()
}

#[test]
fn an_empty_workload_is_an_error_unless_allowed() {
    let d = tempfile::tempdir().unwrap();
    let header_only = "timestamp_ms,function,duration_ms,memory_mb\n";
    let out = run_in(d.path(), &scenario(""), header_only);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no invocation"), "{err}");
    assert!(err.contains("allow_empty"), "{err}");
    assert!(!d.path().join("out/summary.csv").exists());
    assert!(!d.path().join("out/timeseries.csv").exists());

    let out = run_in(
        d.path(),
        &scenario("[run]\nallow_empty = true"),
        header_only,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary_value(d.path(), "invocations"), "0");
    // The time series still has its header and one row (at 0 s), so plots can read it.
    let ts = fs::read_to_string(d.path().join("out/timeseries.csv")).unwrap();
    assert_eq!(ts.lines().count(), 2, "{ts}");
    assert!(ts.lines().nth(1).unwrap().starts_with("0.0,0,"), "{ts}");
}

#[test]
fn drain_counts_the_keep_alive_after_the_last_request_and_horizon_cuts() {
    // Two requests of `a` (128 MB, 100 ms) at 0 and 1 s, cold start 100 ms, keep-alive 60 s.
    // Drain: the instance is idle 0.2 -> 1 s and 1.1 -> 61.1 s: 60.8 s x 0.125 GB = 7.6 GB-s;
    // the run ends at 61.1 s. Horizon at 1.05 s: the second request (running 1 -> 1.1 s) is
    // unfinished; idle 0.2 -> 1 s only: 0.1 GB-s.
    let d = tempfile::tempdir().unwrap();
    let ka = "[keep_alive]\npolicy = \"fixed\"\nttl_s = 60";
    let out = run_in(d.path(), &scenario(ka), TRACE);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary_value(d.path(), "wasted_memory_gb_s"), "7.6");
    assert_eq!(summary_value(d.path(), "sim_end_s"), "61.1");
    assert_eq!(summary_value(d.path(), "evictions_expired"), "1");

    let out = run_in(
        d.path(),
        &scenario(&format!("{ka}\n[run]\nend = \"horizon\"\nend_s = 1.05")),
        TRACE,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary_value(d.path(), "completed"), "1");
    assert_eq!(summary_value(d.path(), "unfinished"), "1");
    assert_eq!(summary_value(d.path(), "wasted_memory_gb_s"), "0.1");
    assert_eq!(summary_value(d.path(), "sim_end_s"), "1.05");

    // A CSV trace has no horizon of its own.
    let out = run_in(d.path(), &scenario("[run]\nend = \"horizon\""), TRACE);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("end_s"));
}

#[test]
fn scenario_rules_are_errors_that_name_the_keys() {
    let p = Path::new("s.toml");
    let err = |text: &str| parse(text, p, &[]).unwrap_err().to_string();
    let kpa = "[autoscaling]\npolicy = \"kpa\"\n[keep_alive]\npolicy = \"fixed\"";
    let e = err(&scenario(kpa));
    assert!(e.contains("keep_alive") && e.contains("autoscaler"), "{e}");
    // Through an override too.
    let e = parse(
        &scenario("[autoscaling]\npolicy = \"kpa\""),
        p,
        &["keep_alive.ttl_s=60".into()],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("keep_alive"), "{e}");
    assert!(parse(&scenario("[autoscaling]\npolicy = \"kpa\""), p, &[]).is_ok());

    let e = err(&scenario("[run]\nend_s = 10"));
    assert!(e.contains("run.end_s") && e.contains("horizon"), "{e}");
    let e = err(&scenario("[run]\nend = \"horizon\"\nend_s = 1e20"));
    assert!(e.contains("run.end_s") && e.contains("100 years"), "{e}");
    let e = err(&scenario("[run]\nend = \"sometime\""));
    assert!(e.contains("sometime"), "{e}");
}

#[test]
fn unused_per_function_cold_starts_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let out = run_in(
        d.path(),
        &scenario("[platform.function_cold_start_ms]\n\"typo\" = 200\n\"a\" = 300"),
        TRACE,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`typo`") && !err.contains("`a`"), "{err}");
    let manifest = fs::read_to_string(d.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("never invokes"), "{manifest}");
    // `a`'s own cold start (300 ms) applies: latency 300 + 100 ms.
    assert_eq!(summary_value(d.path(), "latency_max_ms"), "400.0");
}

#[test]
fn the_scenario_defaults_are_the_engine_defaults() {
    let sc = parse(
        "name = \"d\"\n[trace]\nformat = \"synthetic\"\n",
        Path::new("d.toml"),
        &[],
    )
    .unwrap();
    let from_file = sc.engine_config(sc.seed);
    let lib = EngineConfig::default();
    assert_eq!(from_file.workers, lib.workers);
    assert_eq!(from_file.instance_concurrency, lib.instance_concurrency);
    assert_eq!(from_file.on_full, lib.on_full);
    assert_eq!(from_file.queue_timeout, lib.queue_timeout);
    assert_eq!(from_file.cold_start, lib.cold_start);
    assert_eq!(from_file.cpu, lib.cpu);
    assert_eq!(from_file.cpu, faasim_sim::CpuModel::Ignore);
    assert_eq!(from_file.billing, lib.billing);
    assert_eq!(from_file.seed, lib.seed);
    assert_eq!(
        from_file.provisioned_per_function,
        lib.provisioned_per_function
    );
    assert_eq!(from_file.end, lib.end);
}
