//! `faasim run` and a one-run `faasim sweep` write the same run directory, byte for byte,
//! for every trace format and the features that act on function registration
//! (provisioned instances, the KPA autoscaler) or read the trace twice (VM fleets).
//!
//! What legitimately differs: the columns whose names contain `wall` (wall-clock
//! measurements), the sweep's `DONE` marker, and `manifest.json`'s `scenario_file`, which
//! records the scenario path as given (`faasim run` as typed; a sweep joined to the
//! experiment file's folder). Here both name it `s.toml` from the same folder, so the
//! manifests must be identical too.

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

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../traces/samples")
        .canonicalize()
        .unwrap()
}

/// A canonical CSV trace in which functions first appear at different times (so a reader
/// registers them one by one), with a trace-given cold start.
const TRACE_CSV: &str = "timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n\
0,a,120,256,\n\
400,a,80,256,\n\
2500,b,300,512,\n\
2600,a,50,256,\n\
9000,c,1000,1024,700\n\
9100,b,20,512,\n\
9150,c,40,1024,\n\
30000,a,60,256,\n\
30010,d,5,128,\n\
61000,b,200,512,\n";

const AZURE2019_INV: &str = "HashOwner,HashApp,HashFunction,Trigger,1,2,3\n\
o1,app1,f1,http,5,0,12\n\
o1,app1,f2,timer,1,1,1\n\
o2,app2,f3,queue,0,7,2\n";

const AZURE2019_DUR: &str = "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n\
o1,app1,f1,100,17,10,900,10,12,50,90,150,700,900\n\
o1,app1,f2,2000,3,1500,2500,1500,1500,1800,2000,2200,2500,2500\n\
o2,app2,f3,30,9,5,80,5,5,20,30,40,78,80\n";

const AZURE2019_MEM: &str = "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100\n\
o1,app1,10,150,120,125,140,150,160,170,180,190\n";

const CLUSTER: &str = "[cluster]\nworkers = 2\nworker_memory_mb = 4096\nworker_cores = 2\n";

/// The scenarios: a name and the body after `name`.
fn scenarios() -> Vec<(&'static str, String)> {
    let s = samples();
    let csv = "[trace]\nformat = \"csv\"\npath = \"trace.csv\"\n";
    let out = "[output]\ninvocations = true\ntimeseries_interval_s = 5\n";
    vec![
        ("csv", format!("{csv}{CLUSTER}{out}")),
        (
            "csv-provisioned",
            format!("{csv}{CLUSTER}[platform]\nprovisioned_instances = 2\n{out}"),
        ),
        (
            "csv-provisioned-drop",
            format!(
                "{csv}{CLUSTER}[platform]\nprovisioned_instances = 1\non_full = \"drop\"\n[keep_alive]\npolicy = \"none\"\n{out}"
            ),
        ),
        (
            "csv-kpa",
            format!(
                "{csv}{CLUSTER}[platform]\ninstance_concurrency = 4\n[autoscaling]\npolicy = \"kpa\"\n{out}"
            ),
        ),
        (
            "csv-hybrid-ch",
            format!(
                "{csv}{CLUSTER}[keep_alive]\npolicy = \"hybrid-histogram\"\n[load_balancing]\npolicy = \"consistent-hashing-bounded\"\n{out}"
            ),
        ),
        (
            "csv-vm-static",
            format!("{csv}[platform]\nmode = \"vm-static\"\n"),
        ),
        (
            "csv-vm-autoscaled",
            format!("{csv}[platform]\nmode = \"vm-autoscaled\"\n[vm]\ninterval_s = 5\n"),
        ),
        (
            "synthetic",
            format!(
                "[trace]\nformat = \"synthetic\"\nfunctions = 12\nduration_s = 120\nrate_per_s = 20\n{CLUSTER}[platform]\nprovisioned_instances = 1\n{out}"
            ),
        ),
        (
            "azure-like",
            format!(
                "[trace]\nformat = \"azure-like\"\nfunctions = 40\nduration_s = 300\n{CLUSTER}{out}"
            ),
        ),
        (
            "azure2019",
            format!(
                "[trace]\nformat = \"azure2019\"\ninvocations = \"inv.csv\"\ndurations = \"dur.csv\"\nmemory = \"mem.csv\"\nspread = \"poisson\"\n{CLUSTER}[platform]\nprovisioned_instances = 1\n{out}"
            ),
        ),
        (
            "azure2021",
            format!(
                "[trace]\nformat = \"azure2021\"\npath = \"{}\"\nunit = \"function\"\n[cluster]\nworkers = 4\n[platform]\nprovisioned_instances = 1\n{out}",
                s.join("azure2021-head/Azure2021_200.csv").display()
            ),
        ),
        (
            "azure2021-vm-static",
            format!(
                "[trace]\nformat = \"azure2021\"\npath = \"{}\"\n[platform]\nmode = \"vm-static\"\n",
                s.join("azure2021-head/Azure2021_200.csv").display()
            ),
        ),
        (
            "azure-llm-2023",
            format!(
                "[trace]\nformat = \"azure-llm-2023\"\npath = \"{}\"\nmemory_mb = 2048\n[cluster]\nworkers = 2\nworker_memory_mb = 4096\n[platform]\ninstance_concurrency = 8\n[autoscaling]\npolicy = \"kpa\"\n[output]\ntimeseries_interval_s = 60\n",
                s.join("azure-llm-2023/AzureLLMInferenceTrace_code.csv").display()
            ),
        ),
    ]
}

/// Every file under `dir` (relative name, bytes), sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A CSV file without its `wall` columns.
fn strip_wall(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let keep: Vec<bool> = header.iter().map(|h| !h.contains("wall")).collect();
    let filt = |row: Vec<String>| -> Vec<String> {
        row.into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(v, _)| v)
            .collect()
    };
    let mut rows = vec![filt(header.clone())];
    for rec in r.records() {
        rows.push(filt(rec.unwrap().iter().map(String::from).collect()));
    }
    rows
}

#[test]
fn a_sweep_run_is_the_run_faasim_run_makes() {
    let seed = faasim_sim::rng::replication_seed(1, 0).to_string();
    for (name, body) in scenarios() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        fs::write(dir.join("trace.csv"), TRACE_CSV).unwrap();
        fs::write(dir.join("inv.csv"), AZURE2019_INV).unwrap();
        fs::write(dir.join("dur.csv"), AZURE2019_DUR).unwrap();
        fs::write(dir.join("mem.csv"), AZURE2019_MEM).unwrap();
        fs::write(dir.join("s.toml"), format!("name = \"{name}\"\n{body}")).unwrap();
        fs::write(
            dir.join("exp.toml"),
            "[experiment]\nname = \"one\"\nscenario = \"s.toml\"\n",
        )
        .unwrap();

        let o = faasim(
            &["run", "s.toml", "--out", "run", "--seed", &seed, "-q"],
            dir,
        );
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = faasim(&["sweep", "exp.toml", "--out", "sweep", "-q"], dir);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );

        let alone = files(&dir.join("run"));
        let mut swept = files(&dir.join("sweep/runs/run-0000"));
        let done = swept.iter().position(|(n, _)| n == "DONE");
        assert!(done.is_some(), "{name}: no DONE marker");
        swept.remove(done.unwrap());
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&alone), names(&swept), "{name}: different files");
        assert!(
            names(&alone).contains(&"manifest.json".to_string()),
            "{name}"
        );
        for ((file, a), (_, b)) in alone.iter().zip(&swept) {
            if file == "summary.csv" {
                let (a, b) = (strip_wall(a), strip_wall(b));
                assert_eq!(a, b, "{name}: {file} differs");
                // Something happened: the row is not all zeros.
                let inv = a[0].iter().position(|h| h == "invocations").unwrap();
                assert_ne!(a[1][inv], "0", "{name}: no invocations");
            } else {
                assert!(a == b, "{name}: {file} differs");
            }
        }
    }
}
