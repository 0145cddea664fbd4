//! Trace statistics, sampling, lenient reading and the azure-like generator through the
//! public API (`open_with`, `OpenTrace::stats`), on fixtures and on the real samples in
//! `traces/samples/`.

mod common;

use common::*;
use faasim_sim::{ArrivalSource, FunctionId, FunctionTable, SimTime};
use faasim_traces::{
    open, open_sampled, open_with, Azure2019Spec, Azure2021Spec, AzureLikeSpec, AzureLlm2023Spec,
    DeployUnit, MissingDurations, OpenOptions, SampleSpec, Select, Spread, StatsOptions, TraceInfo,
    TraceSpec,
};
use std::path::{Path, PathBuf};

fn names(t: &FunctionTable) -> Vec<String> {
    t.iter().map(|(_, f)| f.name.clone()).collect()
}

/// A scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("faasim-traces-stats-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn csv(path: &str) -> TraceSpec {
    TraceSpec::Csv { path: path.into() }
}

fn lenient() -> OpenOptions {
    OpenOptions {
        lenient: true,
        sample: None,
    }
}

// ---------------------------------------------------------------- statistics

#[test]
fn csv_fixture_stats_count_apps() {
    let mut t = open(&csv("small.csv"), &fixtures(), 1).unwrap();
    let s = t.stats(&StatsOptions::default()).unwrap();
    assert_eq!(s.invocations, 5);
    assert_eq!(s.functions, 3);
    // The `app` column: shop, search.
    assert_eq!(s.apps, Some(2));
    assert_eq!(s.triggers, None);
    // No horizon: T = last − first = 2500 ms.
    assert_eq!(s.period.0, 2_500_000);
    assert!(t.checksum_hex().is_some());
}

#[test]
fn azure2019_fixture_stats_report_apps_and_trigger_sets() {
    for (unit, functions, apps) in [(DeployUnit::App, 3, 3), (DeployUnit::Function, 4, 3)] {
        let spec = TraceSpec::Azure2019(Azure2019Spec {
            invocations: "inv_a.csv".into(),
            durations: "dur_a.csv".into(),
            memory: "mem_a.csv".into(),
            spread: Spread::Equidistant,
            unit,
            // The fixture's a3/f9 has no durations row.
            missing_durations: MissingDurations::Median,
        });
        let mut t = open(&spec, &fixtures().join("azure2019"), 1).unwrap();
        let s = t.stats(&StatsOptions::default()).unwrap();
        assert_eq!(s.invocations, 8);
        assert_eq!(s.functions, functions);
        assert_eq!(s.apps, Some(apps));
        let mix = s.triggers.unwrap();
        let mut got: Vec<(String, u64, u64)> = mix
            .iter()
            .map(|m| (m.trigger.clone(), m.functions, m.invocations))
            .collect();
        got.sort();
        if unit == DeployUnit::App {
            // a1 has an http and a timer function; a2 queue; a3 event.
            assert_eq!(
                got,
                [
                    ("event".into(), 1, 3),
                    ("http+timer".into(), 1, 4),
                    ("queue".into(), 1, 1)
                ]
            );
        } else {
            assert_eq!(
                got,
                [
                    ("event".into(), 1, 3),
                    ("http".into(), 1, 3),
                    ("queue".into(), 1, 1),
                    ("timer".into(), 1, 1)
                ]
            );
        }
        // From the start of minute 1 to the end of minute 3.
        assert_eq!(s.period.0, 180_000_000);
    }
}

#[test]
fn real_samples_stats_match_the_readme_totals() {
    {
        let dir = sample("azure2021-head");
        for (unit, functions) in [(DeployUnit::App, 13), (DeployUnit::Function, 31)] {
            let spec = TraceSpec::Azure2021(Azure2021Spec {
                path: "Azure2021_200.csv".into(),
                unit,
            });
            let s = open(&spec, &dir, 1)
                .unwrap()
                .stats(&StatsOptions::default())
                .unwrap();
            assert_eq!(s.invocations, 199);
            assert_eq!(s.functions, functions);
            assert_eq!(s.apps, Some(13));
        }
    }
    {
        let dir = sample("azure-llm-2023");
        let spec =
            TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("AzureLLMInferenceTrace_code.csv"));
        let s = open(&spec, &dir, 1)
            .unwrap()
            .stats(&StatsOptions::default())
            .unwrap();
        assert_eq!((s.invocations, s.functions), (8_819, 1));
    }
    {
        let dir = sample("azure2019-sample-500-min480-959");
        let spec = TraceSpec::Azure2019(Azure2019Spec {
            invocations: "invocations.csv".into(),
            durations: "durations.csv".into(),
            memory: "memory.csv".into(),
            spread: Spread::Equidistant,
            unit: DeployUnit::Function,
            missing_durations: MissingDurations::Error,
        });
        let s = open(&spec, &dir, 1)
            .unwrap()
            .stats(&StatsOptions::default())
            .unwrap();
        println!("azure2019-sample-500-min480-959:\n{s}");
        assert_eq!(s.invocations, 3_037_902);
        assert_eq!((s.functions, s.apps), (500, Some(476)));
        // The window: minutes 480..959, i.e. 479 min to 959 min.
        assert_eq!(s.period.0, 480 * 60 * 1_000_000);
        // 86.4% of its functions are invoked at most once per minute (the paper: 81% of
        // apps); 4.6% are exactly at once per minute (one-minute timers: 480 invocations).
        let m = s.share_at_most_minutely.unwrap();
        assert!((m - 0.864).abs() < 1e-9, "{m}");
    }
    {
        let dir = sample("azure2019-sample-10-realids");
        let spec = TraceSpec::Azure2019(Azure2019Spec {
            invocations: "invocations.csv".into(),
            durations: "durations.csv".into(),
            memory: "memory.csv".into(),
            spread: Spread::Equidistant,
            unit: DeployUnit::Function,
            missing_durations: MissingDurations::Error,
        });
        let mut t = open(&spec, &dir, 1).unwrap();
        let s = t.stats(&StatsOptions::default()).unwrap();
        println!("azure2019-sample-10-realids:\n{s}");
        assert_eq!(s.invocations, 13_037_064);
        assert_eq!(s.functions, 10);
        assert!(s.apps.is_some_and(|a| (1..=10).contains(&a)));
        let mix = s.triggers.as_ref().unwrap();
        assert_eq!(mix.iter().map(|m| m.functions).sum::<u64>(), 10);
        assert!(mix.iter().all(|m| m.trigger != "unknown"));
        assert!(t.checksum_hex().is_some());
        // Every row of the table has a value.
        assert!(s.rows().iter().all(|r| !r.value.is_empty()));
    }
}

/// Speed of the statistics pass: `cargo test -p faasim-traces --release --test stats_sample
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn stats_pass_throughput() {
    let dir = sample("azure2019-sample-1");
    let spec = TraceSpec::Azure2019(Azure2019Spec {
        invocations: "invocations.csv".into(),
        durations: "durations.csv".into(),
        memory: "memory.csv".into(),
        spread: Spread::Equidistant,
        unit: DeployUnit::App,
        missing_durations: MissingDurations::Error,
    });
    let start = std::time::Instant::now();
    let n = drain_count(&mut open(&spec, &dir, 1).unwrap());
    let replay = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    let s = open(&spec, &dir, 1)
        .unwrap()
        .stats(&StatsOptions::default())
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(s.invocations, n);
    println!(
        "stats over azure2019-sample-1: {n} invocations in {secs:.2} s = {:.1} M/s \
         (the replay alone: {:.1} M/s)\n{s}",
        n as f64 / secs / 1e6,
        n as f64 / replay / 1e6
    );
    let g = TraceSpec::AzureLike(AzureLikeSpec {
        functions: 20_000,
        duration_s: 3_600.0,
        ..AzureLikeSpec::default()
    });
    let start = std::time::Instant::now();
    let s = open(&g, Path::new("."), 1)
        .unwrap()
        .stats(&StatsOptions::default())
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "stats over one hour of azure-like (20,000 functions): {} invocations in {secs:.2} s \
         = {:.1} M/s (generation included)\n{s}",
        s.invocations,
        s.invocations as f64 / secs / 1e6
    );
}

fn drain_count(t: &mut dyn ArrivalSource) -> u64 {
    let mut table = FunctionTable::new();
    let mut n = 0;
    while t.next_arrival(&mut table).unwrap().is_some() {
        n += 1;
    }
    n
}

// ---------------------------------------------------------------- the azure-like generator

#[test]
fn azure_like_opens_from_toml_and_reports_triggers() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Scenario {
        trace: TraceSpec,
    }
    let spec = toml::from_str::<Scenario>(
        "[trace]\nformat = \"azure-like\"\nfunctions = 2000\nduration_s = 86400\n\
         rate_scale = 0.01\n",
    )
    .unwrap()
    .trace;
    assert!(spec.validate().is_ok());
    let mut t = open(&spec, Path::new("."), 7).unwrap();
    assert_eq!(t.horizon(), Some(SimTime(86_400_000_000)));
    let s = t.stats(&StatsOptions::default()).unwrap();
    assert_eq!(s.functions_registered, 2000);
    // Every invoked function has a trigger; HTTP is the most common (55% of the
    // population; the invoked ones are a rate-biased subset, hence the loose bounds).
    let mix = s.triggers.unwrap();
    assert_eq!(mix.iter().map(|m| m.functions).sum::<u64>(), s.functions);
    assert!(mix.iter().all(|m| m.trigger != "unknown"));
    assert_eq!(mix[0].trigger, "http");
    assert!(
        mix[0].share_functions > 0.4 && mix[0].share_functions < 0.7,
        "{mix:?}"
    );
    let e = toml::from_str::<Scenario>("[trace]\nformat = \"azure-like\"\nrate = 2\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `rate`"), "{e}");
}

#[test]
fn azure_like_day_reproduces_the_published_rate_shares() {
    // A day of 5,000 functions at full rate would be ~2·10^8 invocations; keep the rates
    // but measure them on the drawn profiles (the stats of a generated day need counts,
    // which Poisson noise and never-invoked rare functions blur).
    let src = faasim_traces::AzureLikeSource::new(
        &AzureLikeSpec {
            functions: 5_000,
            ..AzureLikeSpec::default()
        },
        11,
    )
    .unwrap();
    let p = src.profiles();
    let share = |limit: f64| {
        p.iter()
            .filter(|x| x.daily_invocations <= limit * (1.0 + 1e-9))
            .count() as f64
            / p.len() as f64
    };
    let tol = 4.0 * (0.25f64 / 5_000.0).sqrt() + 0.01;
    assert!((share(24.0) - 0.45).abs() < tol, "{}", share(24.0));
    assert!((share(1440.0) - 0.81).abs() < tol, "{}", share(1440.0));
}

// ---------------------------------------------------------------- sampling

/// Five functions: `f{k}` invoked `counts[k]` times, one every second, interleaved.
fn busy_csv(dir: &Scratch) -> TraceSpec {
    let counts = [3u32, 10, 1, 7, 5];
    let mut rows = vec![];
    for (k, &c) in counts.iter().enumerate() {
        for j in 0..c {
            rows.push((j * 10 + k as u32, k));
        }
    }
    rows.sort();
    let mut text = String::from("timestamp_ms,function,duration_ms,memory_mb,app\n");
    for (t, k) in rows {
        text.push_str(&format!(
            "{},f{k},1,{},app{}\n",
            t * 1000,
            128 * (k + 1),
            k % 2
        ));
    }
    dir.file("busy.csv", &text);
    csv("busy.csv")
}

#[test]
fn open_sampled_top_k_is_dense_and_keeps_function_info() {
    let dir = Scratch::new("top");
    let spec = busy_csv(&dir);
    let sample = SampleSpec {
        select: Select::Top,
        count: Some(2),
        ..SampleSpec::default()
    };
    let mut t = open_sampled(&spec, Some(&sample), &dir.0, 1).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(a.len(), 17);
    // f1 (10) first arrives at 1 s, f3 (7) at 3 s.
    assert_eq!(names(&table), ["f1", "f3"]);
    assert_eq!(table.get(FunctionId(1)).memory_mb, 512);
    assert!(a.iter().all(|x| x.function.0 < 2));
    // The app of the sampled id 0 is f1's (app1).
    assert_eq!(t.app_of(FunctionId(0)).as_deref(), Some("app1"));
    assert!(t.checksum_hex().is_some());
    // Statistics of the sample.
    let mut t = open_sampled(&spec, Some(&sample), &dir.0, 1).unwrap();
    let s = t.stats(&StatsOptions::default()).unwrap();
    assert_eq!((s.invocations, s.functions, s.apps), (17, 2, Some(1)));
}

#[test]
fn open_sampled_window_keep_fraction_and_determinism() {
    let dir = Scratch::new("window");
    let spec = busy_csv(&dir);
    // Window [20 s, 40 s): every function with an invocation there, times shifted.
    let sample = SampleSpec {
        from_s: 20.0,
        to_s: Some(40.0),
        ..SampleSpec::default()
    };
    let mut t = open_sampled(&spec, Some(&sample), &dir.0, 1).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(a.first().unwrap().time, SimTime(0));
    assert!(a.iter().all(|x| x.time < SimTime(20_000_000)));
    // f0 (at 0, 10, 20 s) has one; f1 two; f2 none; f3 two; f4 two.
    assert_eq!(a.len(), 7);
    assert_eq!(names(&table), ["f0", "f1", "f3", "f4"]);
    assert_eq!(t.horizon(), Some(SimTime(20_000_000)));
    // Cut before the end of the file: no checksum.
    assert_eq!(t.checksum_hex(), None);

    let thin = SampleSpec {
        keep_fraction: 0.5,
        ..SampleSpec::default()
    };
    let run = |seed| {
        let mut t = open_sampled(&spec, Some(&thin), &dir.0, seed).unwrap();
        drain(t.source_mut()).0
    };
    assert_eq!(run(3), run(3));
    assert!((0..10).any(|s| run(s) != run(3)));
    assert!(run(3).len() < 26);
    // keep_fraction 1 keeps all 26.
    let all = SampleSpec::default();
    let mut t = open_sampled(&spec, Some(&all), &dir.0, 1).unwrap();
    assert_eq!(drain(t.source_mut()).0.len(), 26);
}

#[test]
fn sampling_a_generator_keeps_its_triggers() {
    let spec = TraceSpec::AzureLike(AzureLikeSpec {
        functions: 300,
        duration_s: 3600.0,
        rate_scale: 0.05,
        ..AzureLikeSpec::default()
    });
    let sample = SampleSpec {
        select: Select::Representative,
        count: Some(20),
        ..SampleSpec::default()
    };
    let mut full = open(&spec, Path::new("."), 5).unwrap();
    let mut full_table = FunctionTable::new();
    let mut full_arrivals = Vec::new();
    while let Some(a) = full.next_arrival(&mut full_table).unwrap() {
        full_arrivals.push(a);
    }
    let mut t = open_sampled(&spec, Some(&sample), Path::new("."), 5).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(table.len(), 20);
    // Every sampled arrival is one of the full trace's, with its function's trigger.
    for x in a.iter().take(200) {
        let name = &table.get(x.function).name;
        let k: u32 = name[1..].parse().unwrap();
        assert!(full_arrivals
            .iter()
            .any(|y| y.function.0 == k && y.time == x.time && y.duration == x.duration));
        assert_eq!(t.trigger_of(x.function), full.trigger_of(FunctionId(k)));
    }
}

// ---------------------------------------------------------------- lenient reading

#[test]
fn csv_lenient_skips_and_counts_bad_rows() {
    let dir = Scratch::new("lenient-csv");
    dir.file(
        "t.csv",
        "timestamp_ms,function,duration_ms,memory_mb\n\
         0,f,1,128\n\
         1,f,oops,128\n\
         2,g,1\n\
         3,g,1,128\n\
         4,,1,128\n\
         5,h,1,0\n\
         6,h,1,256\n",
    );
    // Strict: the first bad row is an error.
    let mut t = open(&csv("t.csv"), &dir.0, 1).unwrap();
    let mut table = FunctionTable::new();
    assert!(t.next_arrival(&mut table).unwrap().is_some());
    let e = t.next_arrival(&mut table).unwrap_err().to_string();
    assert!(e.contains("line 3, column duration_ms"), "{e}");
    assert_eq!(t.skipped_rows(), 0);
    // Lenient: 4 bad rows skipped, 3 arrivals.
    let mut t = open_with(&csv("t.csv"), &dir.0, 1, &lenient()).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(a.len(), 3);
    assert_eq!(names(&table), ["f", "g", "h"]);
    assert_eq!(table.get(FunctionId(2)).memory_mb, 256);
    assert_eq!(t.skipped_rows(), 4);
    assert!(
        t.first_skipped()
            .unwrap()
            .contains("line 3, column duration_ms"),
        "{:?}",
        t.first_skipped()
    );
    assert!(t.checksum_hex().is_some());
}

#[test]
fn csv_lenient_still_rejects_rows_out_of_order() {
    let dir = Scratch::new("lenient-order");
    dir.file(
        "t.csv",
        "timestamp_ms,function,duration_ms,memory_mb\n5,f,1,128\n3,f,1,128\n",
    );
    let mut t = open_with(&csv("t.csv"), &dir.0, 1, &lenient()).unwrap();
    let mut table = FunctionTable::new();
    assert!(t.next_arrival(&mut table).unwrap().is_some());
    let e = t.next_arrival(&mut table).unwrap_err().to_string();
    assert!(e.contains("rows must be in time order"), "{e}");
}

#[test]
fn azure2021_lenient_skips_and_counts_bad_rows() {
    let dir = Scratch::new("lenient-az21");
    dir.file(
        "t.csv",
        "app,func,end_timestamp,duration\nA,x,1,0.5\nA,x,oops,1\nB,y,2\n,x,3,1\nB,y,4,1\n",
    );
    let spec = TraceSpec::Azure2021(Azure2021Spec {
        path: "t.csv".into(),
        unit: DeployUnit::Function,
    });
    let e = open(&spec, &dir.0, 1).unwrap_err().to_string();
    assert!(e.contains("line 3, column end_timestamp"), "{e}");
    let mut t = open_with(&spec, &dir.0, 1, &lenient()).unwrap();
    assert_eq!(t.skipped_rows(), 3);
    assert!(t.first_skipped().unwrap().contains("line 3"));
    let (a, table) = drain(t.source_mut());
    assert_eq!(a.len(), 2);
    assert_eq!(names(&table), ["A/x", "B/y"]);
    assert_eq!(t.app_of(FunctionId(1)).as_deref(), Some("B"));
}

#[test]
fn lenient_does_not_hide_a_missing_column_or_file() {
    let dir = Scratch::new("lenient-header");
    dir.file("t.csv", "timestamp_ms,function,memory_mb\n0,f,1\n");
    let e = open_with(&csv("t.csv"), &dir.0, 1, &lenient())
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing required column `duration_ms`"), "{e}");
    assert!(open_with(&csv("none.csv"), &dir.0, 1, &lenient()).is_err());
}

#[test]
fn bad_sample_fails_before_opening_anything() {
    let sample = SampleSpec {
        select: Select::Top,
        ..SampleSpec::default()
    };
    let e = open_sampled(&csv("does-not-exist.csv"), Some(&sample), Path::new("/"), 1)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("sample trace, key `count`"), "{e}");
}
