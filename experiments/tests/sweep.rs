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

/// A folder with a one-run experiment over a CSV trace: (tempdir, experiment path).
fn one_run_csv(dir: &Path) {
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
    fs::write(
        dir.join("exp.toml"),
        "[experiment]\nname = \"one\"\nscenario = \"csv.toml\"\n",
    )
    .unwrap();
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_edited_trace_reruns_the_runs_that_read_it() {
    let t = tempfile::tempdir().unwrap();
    one_run_csv(t.path());
    let o = faasim(&["sweep", "exp.toml", "--out", "o"], t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 runs (1 run now, 0 already done)"));
    let done = fs::read_to_string(t.path().join("o/runs/run-0000/DONE")).unwrap();
    let lines: Vec<&str> = done.lines().collect();
    assert_eq!(lines[0], "complete");
    assert_eq!(lines[1], format!("faasim {}", env!("CARGO_PKG_VERSION")));
    assert!(lines[2].starts_with("seed "), "{done}");
    assert!(lines[3].starts_with("scenario_fnv1a "), "{done}");
    // The trace's SHA-256, as the run's manifest records it.
    let manifest = fs::read_to_string(t.path().join("o/runs/run-0000/manifest.json")).unwrap();
    let sha = lines[4].strip_prefix("input_sha256 ").unwrap();
    assert!(
        manifest.contains(&format!("\"trace_checksum_sha256\": \"{sha}\"")),
        "{done}\n{manifest}"
    );
    assert_eq!(lines.len(), 5);

    // Unchanged: skipped.
    let o = faasim(&["sweep", "exp.toml", "--out", "o"], t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("(0 run now, 1 already done)"));

    // A bad trace: the run fails, and the old tables and figures are gone with it.
    fs::create_dir_all(t.path().join("o/figures")).unwrap();
    fs::write(t.path().join("o/figures/old.png"), "old").unwrap();
    fs::write(
        t.path().join("trace.csv"),
        "timestamp_ms,function,duration_ms,memory_mb\n0,a,x,256\n",
    )
    .unwrap();
    let o = faasim(&["sweep", "exp.toml", "--out", "o"], t.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("duration_ms"), "{}", stderr(&o));
    for gone in [
        "summary.csv",
        "aggregate.csv",
        "figures",
        "runs/run-0000/DONE",
        "runs/run-0000/summary.csv",
        "sweep.lock",
    ] {
        assert!(!t.path().join("o").join(gone).exists(), "{gone} left");
    }

    // One more invocation in the trace: redone, and the table says so.
    fs::write(
        t.path().join("trace.csv"),
        "timestamp_ms,function,duration_ms,memory_mb\n0,a,50,256\n10,b,20,512\n200,a,50,256\n300,b,20,512\n",
    )
    .unwrap();
    let o = faasim(&["sweep", "exp.toml", "--out", "o"], t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("(1 run now, 0 already done)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let summary = fs::read_to_string(t.path().join("o/summary.csv")).unwrap();
    let row = summary.lines().nth(1).unwrap();
    assert!(row.starts_with("run-0000,0,csv,"), "{row}");
    let inv = row.split(',').nth(4).unwrap();
    assert_eq!(inv, "4", "{summary}");
}

#[test]
fn a_sweep_folder_is_locked_while_a_sweep_writes_it() {
    let t = tempfile::tempdir().unwrap();
    one_run_csv(t.path());
    fs::create_dir_all(t.path().join("o")).unwrap();
    // A lock held by a live process (this test) on this host.
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let lock = t.path().join("o/sweep.lock");
    fs::write(&lock, format!("pid {}\nhost {host}\n", std::process::id())).unwrap();
    let o = faasim(&["sweep", "exp.toml", "--out", "o"], t.path());
    assert!(!o.status.success());
    assert_eq!(
        stderr(&o).trim_end(),
        format!(
            "error: sweep of exp.toml failed: o is in use by another sweep or merge (process {} on {host}, lock file o/sweep.lock); if none is running there, delete the lock file",
            std::process::id()
        )
    );
    assert!(!t.path().join("o/runs").exists(), "ran despite the lock");
    // A merge into it is refused the same way.
    let o = faasim(&["merge", "x", "--out", "o"], t.path());
    assert!(
        stderr(&o).contains("o is in use by another sweep or merge"),
        "{}",
        stderr(&o)
    );

    // A lock whose process is gone is taken over, with a warning, and removed at the end.
    if Path::new("/proc/self").exists() && host != "unknown" {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        fs::write(&lock, format!("pid {pid}\nhost {host}\n")).unwrap();
        let o = faasim(&["sweep", "exp.toml", "--out", "o", "-q"], t.path());
        assert!(o.status.success(), "{}", stderr(&o));
        // The takeover's warning, then the runs' own (three invocations are few).
        assert_eq!(
            stderr(&o).lines().next().unwrap_or(""),
            format!("warning: o/sweep.lock was left by process {pid} on this host, which no longer runs; taking it over")
        );
        assert!(stderr(&o)
            .lines()
            .skip(1)
            .all(|l| l.starts_with("warning: run-0000: few completed")));
        assert!(t.path().join("o/summary.csv").exists());
        assert!(!lock.exists(), "lock left behind");
    }
    // Two sweeps at once: exactly one runs, the other names the lock.
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_faasim"))
                .args(["sweep", "exp.toml", "--out", "both", "-q"])
                .current_dir(t.path())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        let e = stderr(o);
        assert!(
            o.status.success() || e.contains("both is in use by another sweep or merge"),
            "{e}"
        );
        assert!(!e.contains("No such file"), "{e}");
    }
    assert!(outs.iter().any(|o| o.status.success()));
    assert!(!t.path().join("both/sweep.lock").exists());
}

/// `faasim sweep EXP` in a folder with `exp.toml` = `text` (and the CSV scenario): stderr.
fn sweep_error(text: &str) -> String {
    let t = tempfile::tempdir().unwrap();
    one_run_csv(t.path());
    fs::write(t.path().join("bad.toml"), text).unwrap();
    let o = faasim(&["sweep", "bad.toml", "--out", "o"], t.path());
    assert!(!o.status.success());
    assert!(!t.path().join("o/runs").exists(), "a run started");
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    e.trim_end().to_owned()
}

#[test]
fn experiment_files_that_cannot_mean_what_they_say_are_refused() {
    let head = "[experiment]\nname = \"b\"\nscenario = \"csv.toml\"\n";
    assert_eq!(
        sweep_error(&format!("{head}[grid]\nseed = [1, 2]\n")),
        "error: bad.toml: [grid] \"seed\": the run seed cannot be varied; list the seeds in [experiment] seeds = [1, 2, 3] (or give replications and base_seed)"
    );
    assert_eq!(
        sweep_error(&format!("{head}[zip]\nseed = [1, 2]\n\"cluster.workers\" = [1, 2]\n")),
        "error: bad.toml: [zip] \"seed\": the run seed cannot be varied; list the seeds in [experiment] seeds = [1, 2, 3] (or give replications and base_seed)"
    );
    assert_eq!(
        sweep_error(&format!("{head}scenarios = [\"csv.toml\"]\n")),
        "error: bad.toml: [experiment] has both `scenario` and `scenarios`: give one of them"
    );
    assert_eq!(
        sweep_error("[experiment]\nname = \"../../x\"\nscenario = \"csv.toml\"\n"),
        "error: bad.toml: [experiment] name: must be a single folder name (it names the folder under results/), got \"../../x\", which contains a path separator"
    );
}

#[test]
fn plan_sizes_and_jobs_are_bounded() {
    let head = "[experiment]\nname = \"b\"\nscenario = \"csv.toml\"\n";
    assert_eq!(
        sweep_error(&format!("{head}replications = 1000000000\n")),
        "error: bad.toml: [experiment] replications must be at most 10000, got 1000000000"
    );
    assert_eq!(
        sweep_error(&format!(
            "{head}replications = 10000\n[grid]\n\"cluster.workers\" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n\"keep_alive.ttl_s\" = [1, 2]\n"
        )),
        "error: bad.toml: [experiment] 1 scenario(s) × 20 grid combination(s) × 1 zip position(s) × 10000 replication(s) = 200000 runs, more than the limit of 100000 runs in one sweep"
    );
    // A grid whose product overflows 64 bits is refused, not wrapped around.
    let keys: String = (0..20)
        .map(|i| format!("\"cluster.k{i}\" = [{}]\n", ["1"; 10].join(",")))
        .collect();
    let e = sweep_error(&format!("{head}[grid]\n{keys}"));
    assert!(
        e.ends_with("more than the limit of 100000 runs in one sweep"),
        "{e}"
    );
    let t = tempfile::tempdir().unwrap();
    one_run_csv(t.path());
    for jobs in ["0", "100000"] {
        let o = faasim(
            &["sweep", "exp.toml", "--out", "o", "--jobs", jobs],
            t.path(),
        );
        assert!(!o.status.success());
        assert_eq!(
            stderr(&o).trim_end(),
            format!("error: sweep of exp.toml failed: --jobs {jobs}: must be between 1 and 1024 (runs at once)")
        );
    }
    assert!(!t.path().join("o").exists());
    // More jobs than runs is fine (one thread per run at most).
    let o = faasim(
        &["sweep", "exp.toml", "--out", "o", "--jobs", "1024", "-q"],
        t.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_merge_into_one_of_its_inputs_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let exp = setup(t.path(), 30);
    let e = exp.to_str().unwrap();
    for k in 1..=2 {
        let o = faasim(
            &[
                "sweep",
                e,
                "--out",
                &format!("s{k}"),
                "--shard",
                &format!("{k}/2"),
                "-q",
            ],
            t.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let before = snapshot(&t.path().join("s1"));
    for out in ["s1", "./s1/", "s2"] {
        let o = faasim(&["merge", "s1", "s2", "--out", out], t.path());
        assert!(!o.status.success());
        let shard = out.trim_start_matches("./").trim_end_matches('/');
        assert_eq!(
            stderr(&o).trim_end(),
            format!("error: merge: --out {out} is one of the directories to merge ({shard}); merge into another directory")
        );
    }
    assert_eq!(
        before,
        snapshot(&t.path().join("s1")),
        "a shard was touched"
    );
    let o = faasim(&["merge", "s1", "s2", "--out", "m"], t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!t.path().join("m/sweep.lock").exists());
}

#[test]
fn an_output_path_that_is_a_file_is_named() {
    let t = tempfile::tempdir().unwrap();
    one_run_csv(t.path());
    fs::write(t.path().join("f"), "x").unwrap();
    let o = faasim(&["sweep", "exp.toml", "--out", "f"], t.path());
    assert_eq!(
        stderr(&o).trim_end(),
        "error: sweep of exp.toml failed: output path f is a file, expected a directory"
    );
    let o = faasim(&["sweep", "exp.toml", "--out", "f/sub"], t.path());
    assert_eq!(
        stderr(&o).trim_end(),
        "error: sweep of exp.toml failed: output path f/sub: f is a file, expected a directory"
    );
    let o = faasim(&["merge", "x", "--out", "f"], t.path());
    assert_eq!(
        stderr(&o).trim_end(),
        "error: output path f is a file, expected a directory"
    );
    assert_eq!(fs::read_to_string(t.path().join("f")).unwrap(), "x");
}

/// `faasim sweep` with explicit seeds, `--set` and a baseline: run 0 is `faasim run` of the
/// same file and seed, the sweep says so, and the paired differences are the replication-
/// by-replication differences of `summary.csv`.
#[test]
fn explicit_seeds_set_and_paired_differences() {
    let t = tempfile::tempdir().unwrap();
    setup(t.path(), 120);
    fs::write(
        t.path().join("seeds.toml"),
        "[experiment]\nname = \"s\"\nscenario = \"base.toml\"\nseeds = [1, 5]\n[grid]\n\"keep_alive.ttl_s\" = [30, 300]\n",
    )
    .unwrap();
    let o = faasim(
        &[
            "sweep",
            "seeds.toml",
            "--out",
            "o",
            "--set",
            "cluster.workers=3",
            "--baseline",
            "keep_alive.ttl_s=30",
        ],
        t.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "s: 4 runs, seeds 1, 5 (replication r of every configuration runs with the r-th seed)"
        ),
        "{out}"
    );
    let rerun = "faasim run base.toml --seed 1 --set cluster.workers=3 --set keep_alive.ttl_s=30 --out results/run-0000";
    assert!(out.contains(rerun), "{out}");
    // That command writes what the sweep wrote for run-0000.
    let args: Vec<&str> = rerun.split(' ').skip(1).collect();
    let mut args = args[..args.len() - 2].to_vec();
    args.extend(["--out", "alone", "-q"]);
    let r = faasim(&args, t.path());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let read = |p: &str| strip_wall(&fs::read_to_string(t.path().join(p)).unwrap());
    assert_eq!(
        read("alone/summary.csv"),
        read("o/runs/run-0000/summary.csv")
    );
    assert_eq!(
        read("alone/timeseries.csv"),
        read("o/runs/run-0000/timeseries.csv")
    );

    // Paired differences by hand from summary.csv: runs 0, 1 are ttl 30 (seeds 1, 5),
    // runs 2, 3 ttl 300; d_r = x(300, r) − x(30, r).
    let col = |text: &str, row: usize, name: &str| -> String {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let h = r.headers().unwrap().clone();
        let i = h.iter().position(|c| c == name).unwrap();
        r.records().nth(row).unwrap().unwrap()[i].to_owned()
    };
    let summary = fs::read_to_string(t.path().join("o/summary.csv")).unwrap();
    let x = |row: usize| {
        col(&summary, row, "wasted_memory_gb_s")
            .parse::<f64>()
            .unwrap()
    };
    assert_eq!(col(&summary, 1, "seed"), "5");
    assert_eq!(col(&summary, 3, "seed"), "5");
    let (d0, d1) = (x(2) - x(0), x(3) - x(1));
    let agg = fs::read_to_string(t.path().join("o/aggregate.csv")).unwrap();
    let a = |row: usize, name: &str| col(&agg, row, name);
    assert_eq!(a(0, "paired_with"), "keep_alive.ttl_s=30");
    assert_eq!(a(0, "wasted_memory_gb_s_diff_mean"), "0");
    let mean: f64 = a(1, "wasted_memory_gb_s_diff_mean").parse().unwrap();
    assert!((mean - (d0 + d1) / 2.0).abs() < 1e-9, "{mean} {d0} {d1}");
    // t(0.975, 1) = 12.7062: half-width = 12.7062 × |d0 − d1| / √2 / √2.
    let lo: f64 = a(1, "wasted_memory_gb_s_diff_ci95_lo").parse().unwrap();
    let half = 12.706_2 * (d0 - d1).abs() / 2.0;
    assert!(
        (mean - lo - half).abs() < 1e-3 * half.max(1e-9),
        "{lo} {half}"
    );
    // The columns of an aggregate without a baseline come first, unchanged.
    let header = agg.lines().next().unwrap();
    assert!(
        header.starts_with("keep_alive.ttl_s,runs,seed_mean")
            || header.starts_with("keep_alive.ttl_s,runs,invocations_mean"),
        "{header}"
    );
    assert!(header.contains(",paired_with,"));

    // The table shows the same paired difference.
    let o = faasim(
        &[
            "table",
            "o",
            "--metrics",
            "wasted_memory_gb_s",
            "--baseline",
            "keep_alive.ttl_s=30",
        ],
        t.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "ttl_s",
            "runs",
            "wasted_memory_gb_s",
            "Δ",
            "wasted_memory_gb_s"
        ]
    );
    assert!(lines[2].ends_with("baseline"), "{text}");
    assert!(lines[3].contains(" ± "), "{text}");

    // Mistakes are one-line errors.
    let err = |args: &[&str]| {
        let o = faasim(args, t.path());
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).trim_end().to_owned()
    };
    assert_eq!(
        err(&["sweep", "seeds.toml", "--out", "p", "--set", "keep_alive.ttl_s=5"]),
        "error: --set keep_alive.ttl_s=5: the experiment varies `keep_alive.ttl_s` in its grid or zip; --set sets keys it does not vary"
    );
    assert!(
        err(&["sweep", "seeds.toml", "--out", "p", "--set", "seed=5"])
            .starts_with("error: --set seed=5: the run seeds come from")
    );
    assert_eq!(
        err(&[
            "sweep",
            "seeds.toml",
            "--out",
            "p",
            "--baseline",
            "keep_alive.ttl_s=31"
        ]),
        "error: seeds.toml: baseline `keep_alive.ttl_s` = `31`: not one of its values (30, 300)"
    );
    assert_eq!(
        err(&["table", "o", "--metrics", "nope"])
            .split(';')
            .next()
            .unwrap(),
        "error: --metrics: no column `nope` in summary.csv"
    );
    for (text, want) in [
        ("seeds = [1, 2]\nreplications = 2\n", "error: bad.toml: [experiment] has `seeds` and `replications` or `base_seed`"),
        ("seeds = [3, 4, 3]\n", "error: bad.toml: [experiment] seeds: seed 3 is listed twice (positions 1 and 3)"),
        ("seeds = []\n", "error: bad.toml: [experiment] seeds must list at least one seed"),
        ("baseline = { \"cluster.workers\" = 2 }\n", "error: bad.toml: baseline `cluster.workers`: not a varied key; the varied keys are: none"),
    ] {
        let e = sweep_error(&format!("[experiment]\nname = \"b\"\nscenario = \"csv.toml\"\n{text}"));
        assert!(e.starts_with(want), "{e}\nshould start with\n{want}");
    }
}

#[test]
fn plot_metrics_choose_the_panels_and_an_unknown_one_is_named() {
    let head = "[experiment]\nname = \"b\"\nscenario = \"csv.toml\"\n";
    let unknown = sweep_error(&format!(
        "{head}plot_metrics = [\"cold_start_ratio\", \"latency_p999_ms\"]\n"
    ));
    assert!(
        unknown.starts_with(
            "error: bad.toml: [experiment] plot_metrics: unknown metric `latency_p999_ms`; the metrics are the numeric columns of summary.csv: seed, invocations,"
        ),
        "{unknown}"
    );
    // Text columns are not metrics.
    assert!(!unknown.contains(" scenario,") && !unknown.contains(" platform,"));
    assert!(unknown.contains(" load_imbalance"), "{unknown}");
    assert_eq!(
        sweep_error(&format!("{head}plot_metrics = []\n")),
        "error: bad.toml: [experiment] plot_metrics: list at least one metric, or leave the key out for the figure's defaults"
    );
    assert_eq!(
        sweep_error(&format!(
            "{head}plot_metrics = [\"cold_starts\", \"cold_starts\"]\n"
        )),
        "error: bad.toml: [experiment] plot_metrics: `cold_starts` is given twice"
    );
    assert_eq!(
        sweep_error(&format!(
            "{head}plot_metrics = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\"]\n"
        )),
        "error: bad.toml: [experiment] plot_metrics: 7 metrics, at most 6 fit the figure"
    );

    // Three chosen metrics: the figure has their three panels and none of the defaults'.
    let t = tempfile::tempdir().unwrap();
    one_run_csv(t.path());
    fs::write(
        t.path().join("exp.toml"),
        format!(
            "{head}plot_metrics = [\"load_imbalance\", \"billed_gb_s\", \"cold_starts\"]\n[grid]\n\"keep_alive.ttl_s\" = [0, 60]\n"
        ),
    )
    .unwrap();
    let o = faasim(&["sweep", "exp.toml", "--out", "o"], t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = faasim(&["plot", "o"], t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = fs::read_to_string(t.path().join("o/figures/metrics_by_parameter.svg")).unwrap();
    // The texts of the SVG, trimmed: `<text ...>\n  caption\n</text>`.
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>')?.1.split_once("</text>"))
        .map(|(t, _)| t.trim())
        .collect();
    for caption in [
        "load imbalance (max / mean worker)",
        "billed GB·s",
        "cold starts",
    ] {
        // The panel's caption and its y axis description.
        assert_eq!(
            texts.iter().filter(|t| **t == caption).count(),
            2,
            "{caption}"
        );
    }
    for default in ["cold-start ratio", "p99 latency (ms)", "user's bill (USD)"] {
        assert!(!texts.contains(&default), "{default}");
    }
}
