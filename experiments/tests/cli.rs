//! The `faasim` command end to end: result files, determinism, and bad input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn faasim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("faasim runs")
}

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        Case {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, content).unwrap();
        p
    }
    fn run(&self, scenario: &str, out: &str, extra: &[&str]) -> Output {
        let mut args = vec!["run", scenario, "--out", out];
        args.extend_from_slice(extra);
        faasim(&args, self.dir.path())
    }
}

const CSV_SCENARIO: &str = r#"
name = "csv-case"
seed = 3
[trace]
format = "csv"
path = "trace.csv"
[cluster]
workers = 1
worker_memory_mb = 2048
worker_cores = 2
[platform]
cold_start_ms = 100
[keep_alive]
policy = "fixed"
ttl_s = 1
[output]
invocations = true
timeseries_interval_s = 1
"#;

const GOOD_TRACE: &str = "timestamp_ms,function,duration_ms,memory_mb\n\
0,a,50,256\n\
10,b,20.5,512\n\
200,a,50,256\n\
1500,a,50,256\n";

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let mut rows = vec![r.headers().unwrap().iter().map(String::from).collect()];
    for rec in r.records() {
        rows.push(rec.unwrap().iter().map(String::from).collect());
    }
    rows
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

#[test]
fn a_hand_traced_csv_run_writes_every_file_with_exact_figures() {
    let c = Case::new();
    c.write("s.toml", CSV_SCENARIO.as_bytes());
    c.write("trace.csv", GOOD_TRACE.as_bytes());
    let out = c.run("s.toml", "out", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "summary.csv",
        "functions.csv",
        "timeseries.csv",
        "invocations.csv",
        "manifest.json",
    ] {
        assert!(c.path("out").join(f).exists(), "{f} missing");
    }
    // Hand trace: a@0 cold (100 ms start, ends 150); b@10 cold (ends 130); a@200 warm
    // (idle since 150 < 150+1000, ends 250); a@1500: idle since 250, TTL ends at 1250 -> cold.
    let s = read_csv(&c.path("out/summary.csv"));
    assert_eq!(column(&s, "invocations"), ["4"]);
    assert_eq!(column(&s, "completed"), ["4"]);
    assert_eq!(column(&s, "cold_starts"), ["3"]);
    assert_eq!(column(&s, "instances_created"), ["3"]);
    assert_eq!(column(&s, "latency_max_ms"), ["150.0"]);
    let inv = read_csv(&c.path("out/invocations.csv"));
    let mut lat: Vec<(u64, String)> = column(&inv, "id")
        .iter()
        .map(|x| x.parse().unwrap())
        .zip(column(&inv, "latency_ms"))
        .collect();
    lat.sort();
    let lat: Vec<String> = lat.into_iter().map(|(_, l)| l).collect();
    assert_eq!(lat, ["150.0", "120.5", "50.0", "150.0"]);
    let manifest = fs::read_to_string(c.path("out/manifest.json")).unwrap();
    assert!(manifest.contains("\"seed\": 3"), "{manifest}");
    assert!(
        manifest.contains("trace_checksum_sha256\": \""),
        "{manifest}"
    );
    let funcs = read_csv(&c.path("out/functions.csv"));
    assert_eq!(column(&funcs, "function"), ["a", "b"]);
    assert_eq!(column(&funcs, "cold_starts"), ["2", "1"]);
}

fn strip_wall_columns(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let keep: Vec<bool> = rows[0].iter().map(|h| !h.contains("wall")).collect();
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| v)
                .collect()
        })
        .collect()
}

#[test]
fn same_scenario_and_seed_give_identical_files() {
    let c = Case::new();
    c.write(
        "s.toml",
        br#"
name = "det"
[trace]
format = "synthetic"
functions = 30
duration_s = 600
rate_per_s = 40
arrivals = "bursty"
[cluster]
workers = 2
worker_memory_mb = 4096
worker_cores = 2
[platform]
cold_start_ms = { dist = "lognormal", median_ms = 200, sigma = 0.5 }
[output]
invocations = true
timeseries_interval_s = 10
"#,
    );
    for out in ["a", "b"] {
        let o = c.run("s.toml", out, &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for f in [
        "functions.csv",
        "timeseries.csv",
        "invocations.csv",
        "manifest.json",
    ] {
        assert_eq!(
            fs::read(c.path("a").join(f)).unwrap(),
            fs::read(c.path("b").join(f)).unwrap(),
            "{f} differs"
        );
    }
    let sa = strip_wall_columns(read_csv(&c.path("a/summary.csv")));
    let sb = strip_wall_columns(read_csv(&c.path("b/summary.csv")));
    assert_eq!(sa, sb);
    // Another seed gives another workload.
    let o = c.run("s.toml", "c", &["--seed", "99"]);
    assert!(o.status.success());
    assert_ne!(
        fs::read(c.path("a/invocations.csv")).unwrap(),
        fs::read(c.path("c/invocations.csv")).unwrap()
    );
}

/// Runs a bad case and checks: non-zero exit, one line on stderr starting `error:` that
/// contains every `needles`, no panic, and no summary.csv.
fn assert_clean_failure(c: &Case, scenario: &str, extra: &[&str], needles: &[&str]) {
    let out = c.run(scenario, "out", extra);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
    assert!(
        !c.path("out/summary.csv").exists(),
        "summary.csv left behind"
    );
}

fn bad_trace(trace: &[u8], needles: &[&str]) {
    let c = Case::new();
    c.write("s.toml", CSV_SCENARIO.as_bytes());
    c.write("trace.csv", trace);
    assert_clean_failure(&c, "s.toml", &[], needles);
    // Nothing that looks like a result is left, not even a temporary file renamed.
    if let Ok(entries) = fs::read_dir(c.path("out")) {
        let names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| !n.ends_with(".csv") && !n.ends_with(".json")),
            "{names:?}"
        );
    }
}

#[test]
fn bad_traces_fail_cleanly_naming_file_line_and_field() {
    bad_trace(
        b"timestamp_ms,function,memory_mb\n0,a,256\n",
        &["trace.csv", "duration_ms"],
    );
    bad_trace(
        b"timestamp_ms,function,duration_ms,memory_mb\n0,a,50,256\n5,a,abc,256\n",
        &["trace.csv", "line 3", "duration_ms"],
    );
    bad_trace(
        b"timestamp_ms,function,duration_ms,memory_mb\n0,a,-4,256\n",
        &["trace.csv", "line 2", "duration_ms"],
    );
    bad_trace(
        b"timestamp_ms,function,duration_ms,memory_mb\n0,a,NaN,256\n",
        &["trace.csv", "line 2", "duration_ms"],
    );
    bad_trace(
        b"timestamp_ms,function,duration_ms,memory_mb\n0,a,5,256\n10,\xff\xfe,5,256\n",
        &["trace.csv", "line 3", "UTF-8"],
    );
    bad_trace(
        b"timestamp_ms,function,duration_ms,memory_mb\n100,a,5,256\n50,a,5,256\n",
        &["trace.csv", "line 3", "timestamp_ms"],
    );
    // A function larger than every worker (2048 MB).
    bad_trace(
        b"timestamp_ms,function,duration_ms,memory_mb\n0,huge,5,4096\n",
        &["huge", "4096", "2048"],
    );
}

#[test]
fn bad_scenarios_fail_cleanly_naming_the_key() {
    let c = Case::new();
    c.write("trace.csv", GOOD_TRACE.as_bytes());
    assert_clean_failure(&c, "missing.toml", &[], &["missing.toml"]);

    c.write("bad.toml", b"name = \"x\"\n[trace\nformat = \"csv\"\n");
    assert_clean_failure(&c, "bad.toml", &[], &["bad.toml", "line 2"]);

    let unknown =
        format!("{CSV_SCENARIO}\n[routing]\npolicy = \"most-recently-used\"\nsticky = true\n");
    c.write("unknown.toml", unknown.as_bytes());
    assert_clean_failure(&c, "unknown.toml", &[], &["unknown.toml", "sticky"]);

    c.write("s.toml", CSV_SCENARIO.as_bytes());
    assert_clean_failure(
        &c,
        "s.toml",
        &["--set", "placement.policy=tetris"],
        &["tetris"],
    );
    assert_clean_failure(
        &c,
        "s.toml",
        &["--set", "cluster.workers=0"],
        &["cluster.workers"],
    );
    assert_clean_failure(
        &c,
        "s.toml",
        &["--set", "trace.path=nope.csv"],
        &["nope.csv"],
    );
}

#[test]
fn per_invocation_rows_can_be_written_as_parquet() {
    let c = Case::new();
    c.write("s.toml", CSV_SCENARIO.as_bytes());
    c.write("trace.csv", GOOD_TRACE.as_bytes());
    let out = c.run(
        "s.toml",
        "out",
        &["--set", "output.invocations_format=parquet"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = fs::read(c.path("out/invocations.parquet")).unwrap();
    // A Parquet file starts and ends with the magic bytes PAR1.
    assert!(bytes.len() > 8 && &bytes[..4] == b"PAR1" && &bytes[bytes.len() - 4..] == b"PAR1");
    assert!(
        !c.path("out/invocations.csv").exists(),
        "the CSV is replaced"
    );
    let manifest = fs::read_to_string(c.path("out/manifest.json")).unwrap();
    assert!(manifest.contains("invocations.parquet"), "{manifest}");
}

/// Names of the files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_rerun_leaves_only_its_own_files() {
    let c = Case::new();
    c.write("s.toml", CSV_SCENARIO.as_bytes());
    c.write("trace.csv", GOOD_TRACE.as_bytes());
    let o = c.run("s.toml", "out", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // What an earlier run, a plot and an interrupted write left.
    fs::create_dir_all(c.path("out/figures")).unwrap();
    c.write("out/figures/latency_cdf.png", b"old");
    c.write("out/invocations.parquet", b"old");
    c.write("out/.summary.csv.tmp", b"old");
    c.write("out/notes.txt", b"mine");
    assert_eq!(
        listing(&c.path("out")),
        [
            ".summary.csv.tmp",
            "figures",
            "functions.csv",
            "invocations.csv",
            "invocations.parquet",
            "manifest.json",
            "notes.txt",
            "summary.csv",
            "timeseries.csv"
        ]
    );
    // Without per-invocation rows this time.
    let o = c.run("s.toml", "out", &["--set", "output.invocations=false"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        listing(&c.path("out")),
        [
            "functions.csv",
            "manifest.json",
            "notes.txt",
            "summary.csv",
            "timeseries.csv"
        ]
    );
    // A VM run writes only summary.csv and manifest.json.
    let o = c.run("s.toml", "out", &["--set", "platform.mode=vm-static"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        listing(&c.path("out")),
        ["manifest.json", "notes.txt", "summary.csv"]
    );
    // A failed run leaves no result file at all.
    c.write(
        "trace.csv",
        b"timestamp_ms,function,duration_ms,memory_mb\n0,a,x,256\n",
    );
    let o = c.run("s.toml", "out", &[]);
    assert!(!o.status.success());
    assert_eq!(listing(&c.path("out")), ["notes.txt"]);
}

#[test]
fn output_paths_and_names_must_be_folders() {
    let c = Case::new();
    c.write("s.toml", CSV_SCENARIO.as_bytes());
    c.write("trace.csv", GOOD_TRACE.as_bytes());
    c.write("f", b"x");
    let o = c.run("s.toml", "f", &[]);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim_end(),
        "error: run of s.toml failed: output path f is a file, expected a directory"
    );
    let o = c.run("s.toml", "f/sub", &[]);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim_end(),
        "error: run of s.toml failed: output path f/sub: f is a file, expected a directory"
    );
    let o = faasim(&["plot", "f", "--out", "f"], c.dir.path());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim_end(),
        "error: output path f is a file, expected a directory"
    );
    assert_eq!(fs::read(c.path("f")).unwrap(), b"x");

    for (name, why) in [
        ("../../faasim-escape-check", "contains a path separator"),
        ("a/b", "contains a path separator"),
        ("a\\\\b", "contains a path separator"),
        ("..", "is not a folder name"),
        (".", "is not a folder name"),
        ("", "is empty"),
        ("a\\tb", "contains a control character"),
    ] {
        let text = CSV_SCENARIO.replace("name = \"csv-case\"", &format!("name = \"{name}\""));
        c.write("n.toml", text.as_bytes());
        // No --out: the name would pick the folder.
        let o = faasim(&["run", "n.toml"], c.dir.path());
        // TOML's escapes are Rust's: the message shows the name as written.
        let shown = name;
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim_end(),
            format!("error: n.toml: name: must be a single folder name (it names the folder under results/), got \"{shown}\", which {why}")
        );
    }
    assert!(!c.path("results").exists());
    // Beside the test's folder, a name no other file there is likely to have.
    assert!(!c
        .dir
        .path()
        .parent()
        .unwrap()
        .join("faasim-escape-check")
        .exists());
}

#[test]
fn counts_that_size_allocations_are_bounded() {
    let c = Case::new();
    c.write("s.toml", CSV_SCENARIO.as_bytes());
    c.write("trace.csv", GOOD_TRACE.as_bytes());
    let cases: [(&[&str], &str); 9] = [
        (
            &["cluster.workers=4000000000"],
            "cluster.workers: must be at most 1000000 (the limit of one cluster), got 4000000000",
        ),
        (
            &["load_balancing.policy=consistent-hashing-bounded", "load_balancing.virtual_nodes=100000000"],
            "load_balancing: consistent-hashing-bounded: virtual_nodes must be between 1 and 10000, got 100000000",
        ),
        (
            &[
                "cluster.workers=10000",
                "load_balancing.policy=ch-rlu",
                "load_balancing.virtual_nodes=5000",
            ],
            "load_balancing.virtual_nodes: cluster.workers × virtual_nodes = 10000 × 5000 = 50000000 ring points, more than the limit of 10000000",
        ),
        (
            &["platform.provisioned_instances=2000000"],
            "platform.provisioned_instances: must be at most 1000000 (instances in all), got 2000000",
        ),
        (
            &["vm.vms=4000000000"],
            "vm.vms: must be at most 1000000 (VMs started at time 0), got 4000000000",
        ),
        (
            &["vm.min_vms=2000000"],
            "vm.min_vms: must be at most 1000000 (VMs started at time 0), got 2000000",
        ),
        (
            &["vm.initial_vms=2000000"],
            "vm.initial_vms: must be at most 1000000 (VMs started at time 0), got 2000000",
        ),
        (
            &["output.timeseries_interval_s=0.0000001"],
            "output.timeseries_interval_s: must be at least 0.001 seconds (1 ms), got 0.0000001",
        ),
        (
            &["autoscaling.policy=kpa", "autoscaling.tick_s=0.001", "autoscaling.stable_window_s=86400"],
            "autoscaling: kpa: stable_window_s / tick_s must be at most 10000 ticks, got 86400000",
        ),
    ];
    for (sets, message) in cases {
        let mut extra = vec![];
        for s in sets {
            extra.extend(["--set", s]);
        }
        let o = c.run("s.toml", "out", &extra);
        assert!(!o.status.success());
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim_end(),
            format!("error: s.toml: {message}"),
            "{sets:?}"
        );
        assert!(!c.path("out").exists());
    }
}

#[test]
fn provisioned_instances_are_bounded_over_all_functions() {
    // 600,000 per function fit one function, not the trace's two (the second is refused as
    // it is registered, before its instances are made).
    let c = Case::new();
    c.write("s.toml", CSV_SCENARIO.as_bytes());
    c.write(
        "trace.csv",
        b"timestamp_ms,function,duration_ms,memory_mb\n0,a,5,1\n10,b,5,1\n",
    );
    let o = c.run(
        "s.toml",
        "out",
        &[
            "--set",
            "platform.provisioned_instances=600000",
            "--set",
            "cluster.worker_memory_mb=1000000",
        ],
    );
    assert!(!o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim_end(),
        "error: run of s.toml failed: s.toml: platform.provisioned_instances: 600000 per function × 2 functions = 1200000 instances, more than the limit of 1000000"
    );
    assert!(!c.path("out/summary.csv").exists());
}

/// The warnings of a run's manifest.json.
fn manifest_warnings(dir: &Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn overloaded_and_saturated_runs_warn_and_the_quickstart_does_not() {
    let c = Case::new();
    // 20 requests/s of 1 s each, but room for 4 instances (1024 MB / 256 MB): 4 served a
    // second, so the queue grows by 16 a second for 600 s and drains for ~2400 s more,
    // far past a tenth of the 600 s trace.
    c.write(
        "over.toml",
        br#"name = "over"
[trace]
format = "synthetic"
functions = 1
duration_s = 600
rate_per_s = 20
memory_mb = 256
duration_ms = { dist = "constant", value_ms = 1000 }
[cluster]
workers = 1
worker_memory_mb = 1024
[vm]
instance_type = "m5a.xlarge"
vms = 1
"#,
    );
    let o = c.run("over.toml", "o", &[]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("warning: overloaded: the last request completed 4"),
        "{err}"
    );
    let w = manifest_warnings(&c.path("o"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(format!("warning: {}\n", w[0]), err);
    // The same trace on one 4-vCPU VM: the fleet cannot keep up either.
    let o = c.run("over.toml", "v", &["--set", "platform.mode=vm-static"]);
    assert!(o.status.success());
    let w = manifest_warnings(&c.path("v"));
    assert!(
        w[0].starts_with("overloaded:") && w[0].contains("the fleet cannot keep up"),
        "{w:?}"
    );

    // The quickstart is sized so that none of this happens ...
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let q = root.join("scenarios/quickstart.toml");
    let q = q.to_str().unwrap();
    let o = c.run(q, "q", &["-q"]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    assert!(manifest_warnings(&c.path("q")).is_empty());
    // ... but on half the memory and without CPU sharing it is saturated: reclaims, not
    // expiries, end most instances.
    let o = c.run(
        q,
        "s",
        &[
            "-q",
            "--set",
            "cluster.worker_memory_mb=8192",
            "--set",
            "platform.cpu=ignore",
        ],
    );
    assert!(o.status.success());
    let w = manifest_warnings(&c.path("s"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("saturated: memory ran out (utilisation 0.98)"),
        "{w:?}"
    );
}
