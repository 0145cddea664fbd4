//! Workflows end to end through the `faasim` binary: a trace function that is also a
//! workflow's task function, and the `workflow-data` experiment's claim in numbers.

use std::fs;
use std::path::Path;
use std::process::Command;

fn faasim(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("faasim runs")
}

/// Rows of a CSV file as (header, value) maps.
fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            h.iter()
                .zip(rec.unwrap().iter())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn num(row: &std::collections::BTreeMap<String, String>, col: &str) -> f64 {
    row.get(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .parse()
        .unwrap_or_else(|_| panic!("{col} is not a number"))
}

const SCENARIO: &str = r#"
name = "shared-function"
[trace]
format = "csv"
path = "trace.csv"
[platform]
cold_start_ms = 300
[keep_alive]
policy = "fixed"
ttl_s = 600
[workflows.w]
orchestrator = "step-functions-standard"
start = "a"
transition_ms = 30
[workflows.w.states.a]
type = "task"
function = "f"
duration_ms = 100
memory_mb = 128
"#;

#[test]
fn a_trace_function_that_is_also_a_task_function_is_one_function() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("s.toml"), SCENARIO).unwrap();
    // `f` is called directly at 0 and by the workflow `w` at 1 s; `w`'s own memory and
    // duration are ignored (a workflow row starts an execution).
    fs::write(
        dir.join("trace.csv"),
        "timestamp_ms,function,duration_ms,memory_mb\n0,f,50,128\n1000,w,1,64\n",
    )
    .unwrap();
    let out = faasim(&["run", "s.toml", "--out", "out", "-q"], dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // By hand: the direct call cold starts (300 ms), runs 50 ms and leaves `f` warm at
    // 350 ms (keep-alive 600 s). The execution enters `a` at 1,000 ms, waits its 30 ms
    // transition and finds that warm instance: no cold start, 100 ms of execution, 130 ms
    // end to end. Were the names not mapped onto one function, the task would have its own
    // cold instance: 430 ms and one cold start.
    let fns = csv_rows(&dir.join("out/functions.csv"));
    assert_eq!(
        fns.len(),
        1,
        "one function `f`, no row for the workflow `w`"
    );
    assert_eq!(fns[0]["function"], "f");
    assert_eq!(num(&fns[0], "invocations"), 2.0);
    assert_eq!(num(&fns[0], "cold_starts"), 1.0);
    assert_eq!(num(&fns[0], "memory_mb"), 128.0);
    let wfs = csv_rows(&dir.join("out/workflows.csv"));
    assert_eq!(wfs.len(), 1);
    assert_eq!(num(&wfs[0], "completed"), 1.0);
    assert_eq!(num(&wfs[0], "cold_starts"), 0.0);
    assert_eq!(num(&wfs[0], "latency_mean_ms"), 130.0);
    assert_eq!(num(&wfs[0], "critical_exec_mean_ms"), 100.0);
    assert_eq!(num(&wfs[0], "critical_transition_mean_ms"), 30.0);
    let summary = csv_rows(&dir.join("out/summary.csv"));
    assert_eq!(num(&summary[0], "cold_starts"), 1.0);

    // The trace gives `f` 256 MB, the workflow 128 MB: one function has one memory size,
    // so the run fails with an error naming the function and the key.
    fs::write(
        dir.join("trace.csv"),
        "timestamp_ms,function,duration_ms,memory_mb\n0,f,50,256\n1000,w,1,64\n",
    )
    .unwrap();
    let out = faasim(&["run", "s.toml", "--out", "bad", "-q"], dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("function `f`, key `memory_mb`: 256 MB in the trace but 128 MB"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.join("bad/summary.csv").exists());
}

#[test]
fn workflow_data_storage_passing_costs_latency_and_requests() {
    let exp = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflow-data/experiment.toml");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("wd");
    let o = faasim(
        &[
            "sweep",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--jobs",
            "2",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let agg = csv_rows(&out.join("aggregate.csv"));
    assert_eq!(agg.len(), 12, "6 payloads × 2 passing modes");
    let get = |payload: &str, passing: &str| {
        agg.iter()
            .find(|r| {
                r["workflows_file"].contains(&format!("payload-{payload}.toml"))
                    && r["data.passing"].contains(passing)
            })
            .unwrap_or_else(|| panic!("no row for {payload} {passing}"))
    };
    let sizes = ["1kb", "10kb", "100kb", "1mb", "10mb", "100mb"];
    let mut last_gap = 0.0;
    for s in sizes {
        let (st, di) = (get(s, "storage"), get(s, "direct"));
        // Every execution makes 2 puts and 2 gets: 60 × (2 × $0.000005 + 2 × $0.0000004)
        // = $0.000648 whatever the payload; direct passing makes no storage request, and
        // the functions' bill is the same, so the user's bills differ by exactly that.
        let st_cost = num(st, "workflow_storage_cost_usd_mean");
        assert!((st_cost - 0.000648).abs() < 1e-12, "{s}: {st_cost}");
        assert_eq!(num(di, "workflow_storage_cost_usd_mean"), 0.0, "{s}");
        let bill_gap = num(st, "user_cost_usd_mean") - num(di, "user_cost_usd_mean");
        assert!((bill_gap - 0.000648).abs() < 1e-9, "{s}: {bill_gap}");
        // Storage is slower at every payload, and the gap grows with the payload.
        let gap = num(st, "workflow_latency_p50_ms_mean") - num(di, "workflow_latency_p50_ms_mean");
        assert!(gap > last_gap, "{s}: gap {gap} after {last_gap}");
        last_gap = gap;
    }
    // By hand at 100 MB, the median execution (warm): 3 × 100 ms executing + 3 × 1 ms of
    // worker-side transitions + the data of two hops. Through storage a hop is a put and a
    // get, each 20 ms + 10^8 B / 75 MB/s = 1,353.333… ms, rounded up to 1,353,334 µs:
    // 4 × 1,353.334 = 5,413.336 ms. Directly, across workers, 10^8 B / 1,250 MB/s = 80 ms a
    // hop: 160 ms. At 1 KB storage still costs 4 × 20.014 ms (20 ms + 13.3 µs, rounded up)
    // = 80.056 ms of request latency; direct, 2 × 1 µs (0.8 µs rounded up).
    let p50 = |s: &str, p: &str| num(get(s, p), "workflow_latency_p50_ms_mean");
    assert!((p50("100mb", "storage") - 5716.336).abs() < 1e-6);
    assert!((p50("100mb", "direct") - 463.0).abs() < 1e-6);
    assert!(p50("100mb", "storage") > 12.0 * p50("100mb", "direct"));
    assert!((p50("1kb", "storage") - (303.0 + 80.056)).abs() < 1e-6);
    assert!((p50("1kb", "direct") - 303.002).abs() < 1e-6);

    // The sweep draws the latency breakdown, one bar per payload and mode.
    let o = faasim(&["plot", out.to_str().unwrap()], tmp.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = fs::read_to_string(out.join("figures/workflow_latency.svg")).unwrap();
    for s in sizes {
        for p in ["storage", "direct"] {
            let label = format!("passing={p}, payload-{s}");
            assert!(svg.lines().any(|l| l.trim() == label), "no bar {label}");
        }
    }
}
