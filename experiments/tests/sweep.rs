//! `faasim sweep` and `faasim merge` end to end: parallelism, sharding and resuming never
//! change a result.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn faasim(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("faasim runs")
}

fn setup(dir: &Path, duration_s: u32) -> PathBuf {
    fs::write(
        dir.join("base.toml"),
        format!(
            r#"
name = "base"
[trace]
format = "synthetic"
functions = 40
duration_s = {duration_s}
rate_per_s = 30
[cluster]
workers = 2
worker_memory_mb = 8192
worker_cores = 4
"#
        ),
    )
    .unwrap();
    fs::write(
        dir.join("trace.csv"),
        "timestamp_ms,function,duration_ms,memory_mb\n0,a,50,256\n10,b,20,512\n200,a,50,256\n",
    )
    .unwrap();
    fs::write(
        dir.join("csv.toml"),
        "name = \"csv\"\n[trace]\nformat = \"csv\"\npath = \"trace.csv\"\n",
    )
    .unwrap();
    let exp = dir.join("exp.toml");
    fs::write(
        &exp,
        r#"
[experiment]
name = "t"
scenarios = ["base.toml", "csv.toml"]
replications = 2
base_seed = 7
[grid]
"keep_alive.ttl_s" = [30, 300]
"placement.policy" = ["first-fit", "least-loaded"]
[zip]
"cluster.workers" = [2, 3]
"cluster.worker_cores" = [4, 2]
"#,
    )
    .unwrap();
    exp
}

/// Every file of a sweep directory, with the wall-clock columns of CSV files removed.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let text = fs::read_to_string(&p).unwrap();
            let text = if rel.ends_with(".csv") {
                strip_wall(&text)
            } else if rel.ends_with("manifest.json") && !rel.contains("runs") {
                // The sweep manifest records the shard; compare the plan only.
                text.lines()
                    .filter(|l| !l.contains("\"shard\""))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text
            };
            out.push((rel, text));
        }
    }
    out.sort();
    out
}

fn strip_wall(csv_text: &str) -> String {
    let mut r = csv::ReaderBuilder::new().from_reader(csv_text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let keep: Vec<bool> = header.iter().map(|h| !h.contains("wall")).collect();
    let mut lines = vec![];
    let filt = |row: Vec<String>| -> String {
        row.into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(v, _)| v)
            .collect::<Vec<_>>()
            .join(",")
    };
    lines.push(filt(header.clone()));
    for rec in r.records() {
        lines.push(filt(rec.unwrap().iter().map(String::from).collect()));
    }
    lines.join("\n")
}

#[test]
fn plan_summary_and_aggregate_have_the_promised_shape() {
    let t = tempfile::tempdir().unwrap();
    let exp = setup(t.path(), 120);
    let o = faasim(
        &[
            "sweep",
            exp.to_str().unwrap(),
            "--out",
            "out",
            "--jobs",
            "2",
        ],
        t.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // 2 scenarios x (2 x 2 grid) x 2 zip x 2 replications.
    let summary = fs::read_to_string(t.path().join("out/summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with(
        "run_id,scenario_file,keep_alive.ttl_s,placement.policy,cluster.worker_cores,cluster.workers,replication,scenario,seed,invocations"
    ), "{header}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 32);
    assert!(
        rows[0].starts_with("run-0000,base.toml,30,first-fit,4,2,0,base,"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("run-0001,base.toml,30,first-fit,4,2,1,base,"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].starts_with("run-0002,base.toml,30,first-fit,2,3,0,"),
        "{}",
        rows[2]
    );
    assert!(
        rows[4].starts_with("run-0004,base.toml,30,least-loaded,4,2,0,"),
        "{}",
        rows[4]
    );
    let aggregate = fs::read_to_string(t.path().join("out/aggregate.csv")).unwrap();
    let agg: Vec<&str> = aggregate.lines().collect();
    assert_eq!(agg.len(), 1 + 16);
    assert!(agg[0].contains("cold_start_ratio_mean,cold_start_ratio_sd,cold_start_ratio_ci95_lo,cold_start_ratio_ci95_hi"));
    // The CSV trace has no randomness: its two replications agree, so sd = 0.
    let csv_row = agg
        .iter()
        .find(|l| l.starts_with("csv.toml,30,first-fit,4,2,2,"))
        .unwrap();
    assert!(csv_row.contains(",3,0,3,3,"), "{csv_row}");
}

#[test]
fn jobs_1_equals_jobs_2_and_shards_merge_into_the_whole() {
    let t = tempfile::tempdir().unwrap();
    let exp = setup(t.path(), 60);
    let e = exp.to_str().unwrap();
    for (out, jobs) in [("j1", "1"), ("j2", "2")] {
        let o = faasim(&["sweep", e, "--out", out, "--jobs", jobs, "-q"], t.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let whole = snapshot(&t.path().join("j1"));
    assert_eq!(whole, snapshot(&t.path().join("j2")));
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = format!("s{k}");
        let o = faasim(
            &["sweep", e, "--out", &out, "--shard", &shard, "-q"],
            t.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = faasim(&["merge", "s1", "s2", "s3", "--out", "merged"], t.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(whole, snapshot(&t.path().join("merged")));
    // A merge missing a shard refuses to write tables.
    let o = faasim(&["merge", "s1", "s2", "--out", "partial"], t.path());
    assert!(!o.status.success());
    assert!(!t.path().join("partial/summary.csv").exists());
}

#[test]
fn a_killed_sweep_resumes_to_the_same_result() {
    let t = tempfile::tempdir().unwrap();
    let exp = setup(t.path(), 3600);
    let e = exp.to_str().unwrap();
    let o = faasim(
        &["sweep", e, "--out", "clean", "--jobs", "2", "-q"],
        t.path(),
    );
    assert!(o.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(["sweep", e, "--out", "killed", "--jobs", "1", "-q"])
        .current_dir(t.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some (not all) runs are done.
    let runs = t.path().join("killed/runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let done = fs::read_dir(&runs)
            .map(|d| {
                d.filter(|e| e.as_ref().unwrap().path().join("DONE").exists())
                    .count()
            })
            .unwrap_or(0);
        if done >= 3 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !t.path().join("killed/summary.csv").exists(),
        "tables written before the end"
    );
    let o = faasim(&["sweep", e, "--out", "killed", "--jobs", "2"], t.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(!said.contains("(32 run now"), "nothing was skipped: {said}");
    assert_eq!(
        snapshot(&t.path().join("clean")),
        snapshot(&t.path().join("killed"))
    );
}

#[test]
fn a_bad_grid_key_fails_before_any_run() {
    let t = tempfile::tempdir().unwrap();
    setup(t.path(), 60);
    fs::write(
        t.path().join("bad.toml"),
        "[experiment]\nname = \"b\"\nscenario = \"base.toml\"\n[grid]\n\"keep_alive.tll_s\" = [1, 2]\n",
    )
    .unwrap();
    let o = faasim(&["sweep", "bad.toml", "--out", "o"], t.path());
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tll_s"), "{err}");
    assert!(!t.path().join("o/runs/run-0000/summary.csv").exists());
}
