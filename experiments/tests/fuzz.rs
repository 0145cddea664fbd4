//! Property tests of the scenario and experiment parsers on arbitrary and mutated TOML:
//! arbitrary text, and valid files (the repository's scenarios and experiments) truncated,
//! with values replaced by out-of-range numbers, wrong types, odd strings and tables,
//! lines duplicated, dropped or swapped, and `--set` overrides of every kind. For every
//! input the parser must not panic, must finish within [`HANG_LIMIT`], and must either
//! accept the input or fail with one line (no line break in the message) naming the file
//! (or, for a bad override, the `--set` argument).
//!
//! The quick set ([`QUICK_CASES`] per parser) runs with every `cargo test`; the long set
//! ([`LONG_CASES`] per parser) is ignored by default:
//!
//! ```sh
//! cargo test --release -p faasim-experiments --test fuzz -- --ignored fuzz --nocapture
//! ```
//!
//! `FAASIM_FUZZ_CASES=N` sets the number of cases of both sets, `FAASIM_FUZZ_SEED=N` draws
//! other cases than the fixed default seed.

use faasim_experiments::scenario;
use faasim_experiments::sweep;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Cases per parser in the quick set.
const QUICK_CASES: u32 = 300;
/// Cases per parser in the long (ignored) set.
const LONG_CASES: u32 = 100_000;
/// A case that takes longer than this is a hang.
const HANG_LIMIT: Duration = Duration::from_secs(60);

fn cases(default: u32) -> u32 {
    std::env::var("FAASIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(cases: u32) -> TestRunner {
    let seed: u64 = std::env::var("FAASIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_260_401);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_default()
}

/// The TOML block of the README's scenario reference: every table and key, commented.
fn readme_scenario() -> String {
    let readme = read("README.md");
    let Some(start) = readme.find("## Scenario reference") else {
        return String::new();
    };
    let rest = &readme[start..];
    let Some(open) = rest.find("```toml\n") else {
        return String::new();
    };
    let body = &rest[open + 8..];
    body[..body.find("```").unwrap_or(body.len())].to_owned()
}

fn scenario_seeds() -> Vec<String> {
    let mut v = vec![
        read("scenarios/quickstart.toml"),
        read("experiments/break-even/base.toml"),
        read("experiments/keepalive-azure2019/base.toml"),
        read("experiments/keepalive-synthetic/base.toml"),
        read("experiments/large-synthetic/scenario.toml"),
        readme_scenario(),
        r#"
name = "every-trace-key"
seed = 3
[trace]
format = "azure2019"
invocations = ["d1.csv", "d2.csv"]
durations = "r.csv"
memory = []
spread = "poisson"
unit = "function"
missing_durations = "median"
[sample]
select = "top"
count = 5
from_s = 60
to_s = 3600
keep_fraction = 0.5
seed = 9
[platform]
cold_start_ms = { dist = "empirical", values_ms = [1, 2, 300] }
queue_timeout_ms = 100
[platform.function_cold_start_ms]
"f3" = { dist = "lognormal", median_ms = 2000, sigma = 0.3 }
[autoscaling]
policy = "kpa"
[billing]
model = { custom = { request_price_usd_per_million = 0.2, gb_second_usd = 0.0000166667, granularity_ms = 1, memory_step_mb = 1, min_billed_ms = 0 } }
"#
        .to_owned(),
        "name = \"llm\"\n[trace]\nformat = \"azure-llm-2023\"\npath = \"c.csv\"\n\
         prefill_ms_per_token = 0.5\n[platform]\nmode = \"vm-autoscaled\"\n[vm]\n\
         instance_type = \"m5a.xlarge\"\nmin_vms = 2\n"
            .to_owned(),
        "name = \"h\"\n[trace]\nformat = \"huawei2023\"\npath = [\"a.csv\"]\nmemory_mb = 128\n\
         duration_ms = { dist = \"exponential\", mean_ms = 5 }\ninterval_s = 1\n\
         [trace.unknown]\n"
            .to_owned(),
        "name = \"like\"\n[trace]\nformat = \"azure-like\"\nfunctions = 100\nrate_scale = 0.5\n"
            .to_owned(),
    ];
    v.retain(|s| !s.is_empty());
    v
}

fn experiment_seeds() -> Vec<String> {
    let mut v = vec![
        read("experiments/break-even/experiment.toml"),
        read("experiments/keepalive-azure2019/experiment.toml"),
        read("experiments/keepalive-synthetic/experiment.toml"),
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
"#
        .to_owned(),
    ];
    v.retain(|s| !s.is_empty());
    v
}

/// Values that have broken parsers and validators.
const NASTY: [&str; 40] = [
    "-1",
    "0",
    "1",
    "1e300",
    "-1e300",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967295",
    "4294967296",
    "4000000000",
    "0.5",
    "\"\"",
    "\"x\"",
    "\"é∞\u{1F600}\"",
    "'\\'",
    "\"\\u0000\"",
    "true",
    "[]",
    "[1, 2, 3]",
    "[\"a\", 1]",
    "{}",
    "{ dist = \"empirical\", values_ms = [] }",
    "{ dist = \"lognormal\", median_ms = 1e300, sigma = 1e300 }",
    "{ dist = \"normal\", mean_ms = -1, std_ms = nan }",
    "{ custom = { request_price_usd_per_million = -1, gb_second_usd = nan, granularity_ms = 0, memory_step_mb = 0, min_billed_ms = 18446744073709551615 } }",
    "\"firecracker\"",
    "\"vm-static\"",
    "\"rare\"",
    "1979-05-27T07:32:00Z",
    "\"\"\"\nmulti\nline\"\"\"",
    "[[1e308, 1e308], [1]]",
    "\"../../../../etc/passwd\"",
    "\"/dev/zero\"",
    "{ policy = \"fixed\", ttl_s = -5 }",
];

/// Ordinary values, so that mutated files often stay valid and go deeper.
const BENIGN: [&str; 14] = [
    "1",
    "2",
    "60",
    "600",
    "0.5",
    "true",
    "\"first-fit\"",
    "\"least-loaded\"",
    "\"poisson\"",
    "\"app\"",
    "\"serverless\"",
    "{ dist = \"exponential\", mean_ms = 5 }",
    "[1, 2]",
    "[\"a.toml\"]",
];

/// Keys to insert (with a nasty value), from every table.
const KEYS: [&str; 42] = [
    "name",
    "seed",
    "format",
    "functions",
    "duration_s",
    "rate_per_s",
    "zipf_s",
    "arrivals",
    "burst_on_s",
    "duration_ms",
    "memory_mb",
    "rate_scale",
    "invocations",
    "path",
    "spread",
    "unit",
    "workers",
    "worker_memory_mb",
    "worker_cores",
    "mode",
    "instance_concurrency",
    "provisioned_instances",
    "on_full",
    "queue_timeout_ms",
    "cold_start_ms",
    "cpu",
    "policy",
    "ttl_s",
    "model",
    "granularity_ms",
    "vcpus",
    "worker_hour_usd",
    "vms",
    "demand_quantile",
    "interval_s",
    "target_utilisation",
    "timeseries_interval_s",
    "select",
    "count",
    "replications",
    "base_seed",
    "\"cluster.workers\"",
];

const TABLES: [&str; 14] = [
    "[trace]",
    "[cluster]",
    "[platform]",
    "[keep_alive]",
    "[placement]",
    "[routing]",
    "[autoscaling]",
    "[billing]",
    "[vm]",
    "[output]",
    "[sample]",
    "[experiment]",
    "[grid]",
    "[zip]",
];

#[derive(Debug, Clone)]
struct Op {
    kind: u8,
    a: u32,
    b: u32,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    (0u8..9, any::<u32>(), any::<u32>()).prop_map(|(kind, a, b)| Op { kind, a, b })
}

/// Byte ranges of the values after `=` on each line.
fn values(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if let Some(eq) = line.find('=') {
            let body = line.trim_end_matches(['\n', '\r']);
            let s = pos + eq + 1;
            let e = pos + body.len();
            if s <= e {
                out.push((s, e));
            }
        }
        pos += line.len();
    }
    out
}

fn apply(text: String, op: &Op) -> String {
    let (a, b) = (op.a as usize, op.b as usize);
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    match op.kind {
        // Truncate (at a character boundary).
        0 => {
            let mut cut = a % (text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_owned()
        }
        // A value replaced, by a nasty or an ordinary one.
        1 | 2 => {
            let v = values(&text);
            if v.is_empty() {
                return text;
            }
            let (s, e) = v[a % v.len()];
            let new = if op.kind == 1 {
                NASTY[b % NASTY.len()]
            } else {
                BENIGN[b % BENIGN.len()]
            };
            format!("{} {}{}", &text[..s], new, &text[e..])
        }
        // A key = value line inserted.
        3 => {
            let at = a % (lines.len() + 1);
            let key = KEYS[a % KEYS.len()];
            lines.insert(at, format!("{key} = {}\n", NASTY[b % NASTY.len()]));
            lines.concat()
        }
        // A table header inserted.
        4 => {
            let at = a % (lines.len() + 1);
            lines.insert(at, format!("{}\n", TABLES[b % TABLES.len()]));
            lines.concat()
        }
        // A line duplicated.
        5 => {
            if !lines.is_empty() {
                let l = lines[a % lines.len()].clone();
                let at = b % (lines.len() + 1);
                lines.insert(at, l);
            }
            lines.concat()
        }
        // A line dropped.
        6 => {
            if !lines.is_empty() {
                lines.remove(a % lines.len());
            }
            lines.concat()
        }
        // Two lines swapped.
        7 => {
            if !lines.is_empty() {
                let n = lines.len();
                lines.swap(a % n, b % n);
            }
            lines.concat()
        }
        // A character inserted.
        _ => {
            const CHARS: [&str; 10] = ["\"", "'", "[", "]", "{", "=", "\n", "é", "\u{0}", "#"];
            let mut at = a % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            format!("{}{}{}", &text[..at], CHARS[b % CHARS.len()], &text[at..])
        }
    }
}

#[derive(Debug, Clone)]
enum Input {
    Text(String),
    Mutated { seed: usize, ops: Vec<Op> },
}

fn input_strategy(seeds: usize) -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..600)
            .prop_map(|b| Input::Text(String::from_utf8_lossy(&b).into_owned())),
        1 => "[a-z_\\[\\]=\"0-9.\\-\n {},]{0,400}".prop_map(Input::Text),
        6 => (0..seeds, proptest::collection::vec(op_strategy(), 1..4))
            .prop_map(|(seed, ops)| Input::Mutated { seed, ops }),
    ]
}

fn materialise(input: &Input, seeds: &[String]) -> String {
    match input {
        Input::Text(t) => t.clone(),
        Input::Mutated { seed, ops } => ops.iter().fold(seeds[*seed % seeds.len()].clone(), apply),
    }
}

/// Runs `f` on a thread of its own, within [`HANG_LIMIT`]; a panic or a hang is a failure.
fn guarded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG_LIMIT) {
        Ok(v) => {
            let _ = handle.join();
            Ok(v)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("did not finish within {} s", HANG_LIMIT.as_secs()))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = handle.join().expect_err("the thread panicked");
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        }
    }
}

fn check_message(e: &str, names: &[&str]) -> Result<(), TestCaseError> {
    prop_assert!(!e.contains('\n'), "a message of several lines: {e:?}");
    prop_assert!(
        names.iter().any(|n| e.starts_with(n)),
        "the message names neither the file nor the override: {e:?}"
    );
    Ok(())
}

fn report(
    what: &str,
    n: u32,
    accepted: &Cell<u32>,
    start: Instant,
    result: Result<(), impl std::fmt::Display>,
) {
    println!(
        "fuzz {what}: {n} cases in {:.1} s ({} accepted, the others refused; shrinking \
         included)",
        start.elapsed().as_secs_f64(),
        accepted.get()
    );
    if let Err(e) = result {
        panic!("{what}: {e}");
    }
}

fn fuzz_scenarios(n: u32) {
    let seeds = scenario_seeds();
    let accepted = Cell::new(0u32);
    let start = Instant::now();
    let result = runner(n).run(&input_strategy(seeds.len()), |input| {
        let text = materialise(&input, &seeds);
        let out = guarded(move || {
            scenario::parse(&text, Path::new("fuzz.toml"), &[]).map_err(|e| e.to_string())
        })
        .map_err(TestCaseError::fail)?;
        match out {
            Ok(_) => accepted.set(accepted.get() + 1),
            Err(e) => check_message(&e, &["fuzz.toml: "])?,
        }
        Ok(())
    });
    report("scenarios", n, &accepted, start, result);
}

/// Key paths for overrides, valid and not.
const PATHS: [&str; 16] = [
    "keep_alive.ttl_s",
    "trace.rate_per_s",
    "trace.functions",
    "trace.duration_ms",
    "cluster.workers",
    "platform.cold_start_ms",
    "platform.mode",
    "billing.model",
    "placement.policy",
    "sample.count",
    "name",
    "seed",
    "a.b.c.d",
    "trace",
    "keep_alive..x",
    "",
];

fn override_strategy() -> impl Strategy<Value = (usize, Vec<String>)> {
    let one = prop_oneof![
        3 => (0..PATHS.len(), 0..NASTY.len())
            .prop_map(|(p, v)| format!("{}={}", PATHS[p], NASTY[v])),
        3 => (0..PATHS.len(), 0..BENIGN.len())
            .prop_map(|(p, v)| format!("{}={}", PATHS[p], BENIGN[v])),
        1 => "[a-z_.=\"0-9\\-\n {}\\[\\]]{0,40}",
    ];
    (any::<usize>(), proptest::collection::vec(one, 1..4))
}

fn fuzz_overrides(n: u32) {
    let seeds = scenario_seeds();
    let accepted = Cell::new(0u32);
    let start = Instant::now();
    let result = runner(n).run(&override_strategy(), |(seed, overrides)| {
        let text = seeds[seed % seeds.len()].clone();
        let o = overrides.clone();
        let out = guarded(move || {
            scenario::parse(&text, Path::new("fuzz.toml"), &o).map_err(|e| e.to_string())
        })
        .map_err(TestCaseError::fail)?;
        match out {
            Ok(_) => accepted.set(accepted.get() + 1),
            Err(e) => check_message(&e, &["fuzz.toml: ", "--set "])?,
        }
        Ok(())
    });
    report("overrides", n, &accepted, start, result);
}

fn fuzz_experiments(n: u32) {
    let seeds = experiment_seeds();
    let dir = std::env::temp_dir().join(format!("faasim-fuzz-experiments-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("experiment.toml");
    let shown = format!("{}: ", path.display());
    let accepted = Cell::new(0u32);
    let start = Instant::now();
    let result = runner(n).run(&input_strategy(seeds.len()), |input| {
        let text = materialise(&input, &seeds);
        std::fs::write(&path, &text).unwrap();
        let p = path.clone();
        let out = guarded(move || {
            sweep::plan(&p)
                .map(|plan| plan.runs.len())
                .map_err(|e| e.to_string())
        })
        .map_err(TestCaseError::fail)?;
        match out {
            Ok(runs) => {
                prop_assert!(
                    runs as u64 <= faasim_experiments::limits::MAX_PLAN_RUNS,
                    "{runs} runs"
                );
                accepted.set(accepted.get() + 1);
            }
            Err(e) => check_message(&e, &[shown.as_str()])?,
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    report("experiments", n, &accepted, start, result);
}

#[test]
fn fuzz_quick_scenarios() {
    fuzz_scenarios(cases(QUICK_CASES));
}

#[test]
fn fuzz_quick_overrides() {
    fuzz_overrides(cases(QUICK_CASES));
}

#[test]
fn fuzz_quick_experiments() {
    fuzz_experiments(cases(QUICK_CASES));
}

#[test]
#[ignore = "long: cargo test --release -p faasim-experiments --test fuzz -- --ignored fuzz"]
fn fuzz_long_scenarios() {
    fuzz_scenarios(cases(LONG_CASES));
}

#[test]
#[ignore = "long: cargo test --release -p faasim-experiments --test fuzz -- --ignored fuzz"]
fn fuzz_long_overrides() {
    fuzz_overrides(cases(LONG_CASES));
}

#[test]
#[ignore = "long: cargo test --release -p faasim-experiments --test fuzz -- --ignored fuzz"]
fn fuzz_long_experiments() {
    fuzz_experiments(cases(LONG_CASES));
}

/// The seeds parse as they are (so that mutations start from valid files), and a plan
/// asking for more runs than the bound is refused with the bound named.
#[test]
fn seeds_are_valid_and_the_plan_size_is_bounded() {
    for (i, s) in scenario_seeds().iter().enumerate() {
        if s.contains("[trace.unknown]") {
            continue;
        }
        scenario::parse(s, Path::new("seed.toml"), &[])
            .unwrap_or_else(|e| panic!("scenario seed {i}: {e}"));
    }
    let dir = std::env::temp_dir().join(format!("faasim-fuzz-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("experiment.toml");
    for (i, s) in experiment_seeds().iter().enumerate() {
        std::fs::write(&path, s).unwrap();
        sweep::plan(&path).unwrap_or_else(|e| panic!("experiment seed {i}: {e}"));
    }
    std::fs::write(
        &path,
        "[experiment]\nname = \"x\"\nscenario = \"a.toml\"\nreplications = 4000000000\n",
    )
    .unwrap();
    let e = sweep::plan(&path).unwrap_err().to_string();
    assert!(e.contains("replications") && e.contains("10000"), "{e}");
    let grid = |keys: usize| -> String {
        (0..keys)
            .map(|k| format!("\"k{k}\" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"))
            .collect()
    };
    let write = |keys: usize| {
        let text = format!(
            "[experiment]\nname = \"x\"\nscenario = \"a.toml\"\n[grid]\n{}",
            grid(keys)
        );
        std::fs::write(&path, text).unwrap();
    };
    // 10^12 runs, and 10^20 (past any integer count): refused, the count never overflows.
    for keys in [12, 20] {
        write(keys);
        let e = sweep::plan(&path).unwrap_err().to_string();
        assert!(e.contains("more than the limit of 100000 runs"), "{e}");
    }
    write(4);
    assert_eq!(sweep::plan(&path).unwrap().runs.len(), 10_000);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cold-start distribution centred beyond 100 years (accepted before: its draws would
/// overflow simulated time) is refused, naming the key.
#[test]
fn cold_starts_beyond_the_span_are_refused() {
    let base = "name = \"x\"\n[trace]\nformat = \"synthetic\"\n[platform]\n";
    let e = scenario::parse(
        &format!(
            "{base}cold_start_ms = {{ dist = \"lognormal\", median_ms = 1e300, sigma = 1 }}\n"
        ),
        Path::new("s.toml"),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "s.toml: platform.cold_start_ms: `median_ms` must be at most 3155760000000 ms (100 \
         years), got 1e300"
    );
    let e = scenario::parse(
        &format!(
            "{base}[platform.function_cold_start_ms]\n\"f\" = {{ dist = \"empirical\", \
             values_ms = [1, 4e12] }}\n"
        ),
        Path::new("s.toml"),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "s.toml: platform.function_cold_start_ms: `values_ms` must be at most 3155760000000 \
         ms (100 years), got 4000000000000"
    );
}

/// A cluster of billions of workers (found by the fuzz: its configuration was allocated
/// while checking the scenario, and the allocation aborted the process) is refused.
#[test]
fn a_huge_cluster_is_refused_before_anything_is_allocated() {
    let text = "name = \"x\"\n[trace]\nformat = \"synthetic\"\n[cluster]\nworkers = 4000000000\n";
    let e = scenario::parse(text, Path::new("s.toml"), &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "s.toml: cluster.workers: must be at most 1000000 (the limit of one cluster), got 4000000000"
    );
    let e = scenario::parse(
        "name = \"x\"\n[trace]\nformat = \"synthetic\"\n",
        Path::new("s.toml"),
        &["cluster.workers=0".into()],
    )
    .unwrap_err()
    .to_string();
    assert_eq!(e, "s.toml: cluster.workers: must be at least 1");
}
