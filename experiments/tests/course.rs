//! The course (`experiments/course/`): every lesson runs, its handout is what its
//! experiments give, its figures decode, and its claim holds in numbers.

use faasim_experiments::table::{load_configs, ConfigRuns};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn config<'a>(cs: &'a [ConfigRuns], pairs: &[(&str, &str)]) -> &'a ConfigRuns {
    cs.iter()
        .find(|c| pairs.iter().all(|(k, v)| c.param(k) == Some(v)))
        .unwrap_or_else(|| panic!("no configuration {pairs:?}"))
}

/// Mean of `metric` over the configuration's runs.
fn mean(c: &ConfigRuns, metric: &str) -> f64 {
    c.stats(metric).mean
}

/// Decodes a PNG fully and checks its size.
fn decodes(path: &Path) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(
        info.width >= 800 && info.height >= 600,
        "{}",
        path.display()
    );
}

#[test]
fn every_lesson_runs_is_current_and_says_what_its_numbers_say() {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_faasim"))
        .args(["course", "--check", "--out"])
        .arg(out.path())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = |lesson: &str, exp: &str| out.path().join(lesson).join(exp);
    // Every figure of every sweep decodes.
    let mut figures = 0;
    for lesson in std::fs::read_dir(out.path()).unwrap() {
        for exp in std::fs::read_dir(lesson.unwrap().path()).unwrap() {
            for f in std::fs::read_dir(exp.unwrap().path().join("figures")).unwrap() {
                let p = f.unwrap().path();
                if p.extension().is_some_and(|e| e == "png") {
                    decodes(&p);
                    figures += 1;
                }
            }
        }
    }
    assert!(figures >= 7 * 4, "{figures} figures");
    for (lesson, exp, fig) in [
        ("1-virtualization", "experiment", "cost_vs_p99_latency"),
        ("2-keep-alive", "experiment", "cold_start_vs_idle_memory"),
        ("3-billing", "experiment", "metrics_by_parameter"),
        ("4-renting", "experiment", "break_even"),
        ("5-placement", "experiment", "metrics_by_parameter"),
        ("6-workflows", "experiment", "metrics_by_parameter"),
        ("6-workflows", "cascade", "metrics_by_parameter"),
    ] {
        assert!(
            dir(lesson, exp)
                .join("figures")
                .join(format!("{fig}.png"))
                .is_file(),
            "{lesson}: the handout's figure {fig}"
        );
    }

    // 1. Functions are the cheapest generation on a bursty day at low traffic; containers
    //    billed for their whole life the dearest; bare metal, bought for the peak, idles
    //    more than 90% of the vCPUs it pays for.
    let (cs, _) = load_configs(&dir("1-virtualization", "experiment")).unwrap();
    let cost = |f: &str| mean(config(&cs, &[("scenario_file", f)]), "user_cost_usd");
    for other in ["bare-metal.toml", "vms.toml", "containers.toml"] {
        assert!(cost("functions.toml") < cost(other), "{other}");
    }
    assert!(cost("containers.toml") > cost("bare-metal.toml"));
    let bare = config(&cs, &[("scenario_file", "bare-metal.toml")]);
    assert!(mean(bare, "cpu_utilisation") < 0.1);

    // 2. Longer fixed windows: fewer cold starts, more idle memory, at every step.
    let (cs, _) = load_configs(&dir("2-keep-alive", "experiment")).unwrap();
    let fixed: Vec<&ConfigRuns> = cs
        .iter()
        .filter(|c| c.param("keep_alive").is_some_and(|v| v.contains("fixed")))
        .collect();
    assert_eq!(fixed.len(), 7);
    for w in fixed.windows(2) {
        assert!(mean(w[1], "cold_starts") < mean(w[0], "cold_starts"));
        assert!(mean(w[1], "wasted_memory_gb_s") > mean(w[0], "wasted_memory_gb_s"));
    }

    // 3. 1 ms billing never costs more than 100 ms, run by run, and the shorter the
    //    function, the larger the share saved.
    let (cs, _) = load_configs(&dir("3-billing", "experiment")).unwrap();
    let mut shares = Vec::new();
    for median in ["5", "30", "120", "1000"] {
        let d = format!("{{ dist = \"lognormal\", median_ms = {median}, sigma = 0.3 }}");
        let fine = config(
            &cs,
            &[("billing.granularity_ms", "1"), ("trace.duration_ms", &d)],
        );
        let coarse = config(
            &cs,
            &[("billing.granularity_ms", "100"), ("trace.duration_ms", &d)],
        );
        let (a, b) = (fine.values("user_cost_usd"), coarse.values("user_cost_usd"));
        assert!(
            a.iter().zip(&b).all(|(x, y)| x <= y),
            "{median} ms: {a:?} {b:?}"
        );
        shares.push(1.0 - mean(fine, "user_cost_usd") / mean(coarse, "user_cost_usd"));
    }
    assert!(shares.windows(2).all(|w| w[0] > w[1]), "{shares:?}");

    // 4. Lambda is cheaper than a VM at 1 request/s, dearer at 300; the autoscaled fleet
    //    cannot follow 300 requests/s (p99 over 100 times Lambda's).
    let (cs, _) = load_configs(&dir("4-renting", "experiment")).unwrap();
    let at = |mode: &str, rate: &str, m: &str| {
        mean(
            config(&cs, &[("platform.mode", mode), ("trace.rate_per_s", rate)]),
            m,
        )
    };
    assert!(at("serverless", "1", "user_cost_usd") < at("vm-static", "1", "user_cost_usd"));
    assert!(at("serverless", "300", "user_cost_usd") > at("vm-static", "300", "user_cost_usd"));
    assert!(
        at("vm-autoscaled", "300", "latency_p99_ms")
            > 100.0 * at("serverless", "300", "latency_p99_ms")
    );
    // ... and on a bursty load Lambda costs less than the fleet sized for the bursts.
    let (cs, _) = load_configs(&dir("4-renting", "bursty")).unwrap();
    let m = |mode: &str, k: &str| mean(config(&cs, &[("platform.mode", mode)]), k);
    assert!(m("serverless", "user_cost_usd") < m("vm-static", "user_cost_usd"));
    assert!(m("vm-autoscaled", "latency_p99_ms") > 10.0 * m("serverless", "latency_p99_ms"));

    // 5. Hashing (OpenWhisk) has fewer cold starts and more imbalance than least-loaded and
    //    power-of-two choices, seed by seed.
    let (cs, _) = load_configs(&dir("5-placement", "experiment")).unwrap();
    let ow = config(&cs, &[("load_balancing.policy", "openwhisk")]);
    for other in ["least-loaded", "power-of-two"] {
        let c = config(&cs, &[("load_balancing.policy", other)]);
        assert!(c.paired(ow, "cold_start_ratio").mean > 0.0, "{other}");
        let d = c.paired(ow, "load_imbalance");
        assert!(d.mean < 0.0, "{other}");
        let imb = c.values("load_imbalance");
        assert!(imb.iter().all(|x| *x < 1.3), "{other}: {imb:?}");
    }

    // 6a. The same work (4 steps × 200 ms × 0.5 GB = 0.4 GB-s an execution, 180 executions
    //     = 72 GB-s) is billed exactly that orchestrated, Standard or Express alike. Called
    //     directly, step k is billed until the chain's end: 4 + 3 + 2 + 1 = 10 step-lengths
    //     (2 s, 1 GB-s) and more, the hand-overs counted once per caller still waiting.
    //     A warm execution: 4 invokes of 20 ms and 3 hand-overs through storage of 2 × (20
    //     ms + 0.1 MB / 75 MB/s) = 42.67 ms end at 80 + 128 + 800 = 1008 ms; step k starts
    //     at 20 + (k − 1) × 262.67 ms and is held to 1008: 988 + 725.33 + 462.67 + 200 =
    //     2376 ms × 0.5 GB = 1.188 GB-s, 213.84 GB-s for 180. The first execution's cold
    //     starts only add, each under 1 s held by at most 3 callers: under 3 GB-s more.
    //     Standard's 4 transitions an execution ($0.0001) outweigh the functions' bill
    //     (0.4 GB-s × $0.0000166667 + 4 requests = $0.0000075, plus 3 × $0.0000054 of
    //     storage requests): the dearest. Express, $0.000001 an execution plus about 1.1 s ×
    //     64 MB at $0.06 per GB-hour, is the cheapest, cheaper than direct calls.
    let (cs, _) = load_configs(&dir("6-workflows", "experiment")).unwrap();
    let by = |o: &str| config(&cs, &[("workflows.chain.orchestrator", o)]);
    let (direct, standard, express) = (
        by("direct"),
        by("step-functions-standard"),
        by("step-functions-express"),
    );
    for c in [standard, express] {
        for gb_s in c.values("billed_gb_s") {
            assert!((gb_s - 72.0).abs() < 1e-6, "{gb_s}");
        }
    }
    for gb_s in direct.values("billed_gb_s") {
        assert!(gb_s > 213.84 - 1e-6 && gb_s < 216.84, "{gb_s}");
    }
    assert_eq!(mean(direct, "orchestration_cost_usd"), 0.0);
    // 180 executions × 4 transitions × $0.000025 = $0.018.
    assert!((mean(standard, "orchestration_cost_usd") - 0.018).abs() < 1e-9);
    assert!(mean(standard, "user_cost_usd") > mean(direct, "user_cost_usd"));
    assert!(mean(direct, "user_cost_usd") > mean(express, "user_cost_usd"));

    // 6b. Reactive: every step of every execution is a cold start (180 × N), and latency
    //     grows with N by a step (1 s) and a cold start (~300 ms) a step; pre-warmed, only
    //     the first step's is left (180) and the latency grows by under 1.1 s a step, lower
    //     for every N > 1, seed by seed, at more idle memory and the same bill.
    let (cs, _) = load_configs(&dir("6-workflows", "cascade")).unwrap();
    let at = |mode: &str, n: u32| {
        config(
            &cs,
            &[
                ("scenario_file", &format!("{mode}/base.toml") as &str),
                ("workflows_file", &format!("chain-{n}.toml")),
            ],
        )
    };
    for n in 1..=5u32 {
        let (r, s) = (at("reactive", n), at("speculative", n));
        assert_eq!(mean(r, "workflow_cold_starts"), 180.0 * n as f64, "{n}");
        assert_eq!(mean(s, "workflow_cold_starts"), 180.0, "{n}");
        assert_eq!(r.values("user_cost_usd"), s.values("user_cost_usd"), "{n}");
        if n > 1 {
            let (lr, ls) = (
                r.values("workflow_latency_mean_ms"),
                s.values("workflow_latency_mean_ms"),
            );
            assert!(lr.iter().zip(&ls).all(|(a, b)| b < a), "{n}: {lr:?} {ls:?}");
            assert!(
                mean(s, "wasted_memory_gb_s") > mean(r, "wasted_memory_gb_s"),
                "{n}"
            );
        }
    }
    let slope = |mode: &str| {
        (mean(at(mode, 5), "workflow_latency_mean_ms")
            - mean(at(mode, 1), "workflow_latency_mean_ms"))
            / 4.0
    };
    let (sr, ss) = (slope("reactive"), slope("speculative"));
    assert!(sr > 1250.0 && sr < 1500.0, "{sr}");
    assert!(ss > 1000.0 && ss < 1100.0, "{ss}");
}
