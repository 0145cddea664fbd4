//! `faasim validate` end to end: where it finds the traces, SKIP and FAIL and the exit status.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `faasim validate ARGS` in `cwd`, with `FAASIM_TRACES` set to `traces` (or unset).
fn validate(args: &[&str], cwd: &Path, traces: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faasim"));
    cmd.arg("validate").args(args).current_dir(cwd);
    match traces {
        Some(t) => cmd.env("FAASIM_TRACES", t),
        None => cmd.env_remove("FAASIM_TRACES"),
    };
    cmd.output().expect("faasim runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `(check, status, note)` of every row of a validation CSV.
fn statuses(path: &Path) -> Vec<(String, String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let (check, status, note) = (col("check"), col("status"), col("note"));
    for name in ["expected", "measured", "standard_error", "tolerance"] {
        col(name);
    }
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                rec[check].to_string(),
                rec[status].to_string(),
                rec[note].to_string(),
            )
        })
        .collect()
}

const TRACE_CASES: [&str; 4] = ["--case", "trace-replay", "--case", "hybrid-vs-fixed"];

#[test]
fn missing_traces_are_skipped_and_fail_the_command_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("no-traces");
    fs::create_dir(&empty).unwrap();

    let mut args = TRACE_CASES.to_vec();
    args.extend(["--out", "out"]);
    let o = validate(&args, tmp.path(), Some(&empty));
    let (stdout, stderr) = text(&o);
    assert!(!o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("SKIP"), "{stdout}");
    assert!(!stdout.contains("PASS"), "{stdout}");
    assert!(stderr.contains("skipped"), "{stderr}");
    assert!(stderr.contains("--allow-skip"), "{stderr}");
    let rows = statuses(&tmp.path().join("out/validation.csv"));
    // Every check of both cases, each naming the missing path.
    assert!(rows.len() >= 10, "{rows:?}");
    for (check, status, note) in &rows {
        assert_eq!(status, "SKIP", "{check}");
        assert!(note.contains("no-traces"), "{check}: {note}");
    }

    args.push("--allow-skip");
    let o = validate(&args, tmp.path(), Some(&empty));
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("SKIP"), "{stdout}");
    assert!(stdout.contains("0 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_failed_check_fails_the_command_even_with_allow_skip() {
    let tmp = tempfile::tempdir().unwrap();
    // A well-formed Azure 2021 file with 2 invocations where the sample has 199.
    let traces = tmp.path().join("traces");
    fs::create_dir_all(traces.join("azure2021-head")).unwrap();
    fs::write(
        traces.join("azure2021-head/Azure2021_200.csv"),
        "app,func,end_timestamp,duration\na1,f1,10.5,0.5\na1,f2,11.0,1.0\n",
    )
    .unwrap();
    let o = validate(
        &["--case", "trace-replay", "--out", "out", "--allow-skip"],
        tmp.path(),
        Some(&traces),
    );
    let (stdout, stderr) = text(&o);
    assert!(!o.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("failed"), "{stderr}");
    let rows = statuses(&tmp.path().join("out/trace-replay.csv"));
    let status = |name: &str| {
        rows.iter()
            .find(|r| r.0 == name)
            .map(|r| r.1.as_str())
            .unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
    };
    assert_eq!(status("azure2021-head: invocations"), "FAIL");
    assert_eq!(status("azure2021-head: functions"), "FAIL");
    assert_eq!(status("AzureLLMInferenceTrace_code.csv: requests"), "SKIP");
}

#[test]
fn the_shipped_samples_are_found_from_any_directory() {
    // No FAASIM_TRACES, run from a directory outside the source tree: the samples the
    // binary was built with are used, and every check of the case runs and passes.
    let tmp = tempfile::tempdir().unwrap();
    let o = validate(
        &["--case", "trace-replay", "--out", "out"],
        tmp.path(),
        None,
    );
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("traces/samples"), "{stdout}");
    let rows = statuses(&tmp.path().join("out/validation.csv"));
    assert_eq!(rows.len(), 4 * 3 + 2 + 2, "{rows:?}");
    for (check, status, _) in &rows {
        assert_eq!(status, "PASS", "{check}");
    }
}

#[test]
fn an_unknown_case_is_an_error_naming_the_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let o = validate(&["--case", "nope"], tmp.path(), None);
    let (_, stderr) = text(&o);
    assert!(!o.status.success());
    assert!(stderr.contains("unknown case `nope`"), "{stderr}");
    assert!(stderr.contains("erlang-c"), "{stderr}");
}
