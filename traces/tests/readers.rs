//! The readers of published traces, on hand-made fixtures (every layout variant) and on the
//! real samples in `traces/samples/`.

mod common;

use common::*;
use faasim_sim::{
    Arrival, ArrivalSource, DistSpec, FunctionId, FunctionSpec, FunctionTable, SimDuration, SimTime,
};
use faasim_traces::{
    burr_memory_mb, convert_to_csv, open, Azure2019Spec, Azure2021Spec, AzureLlm2023Spec,
    CsvSource, DeployUnit, Huawei2023Spec, MissingDurations, PathList, Spread, TraceSpec,
};
use std::path::{Path, PathBuf};

fn open_err(spec: &TraceSpec, base: &Path) -> String {
    match open(spec, base, 1) {
        Ok(mut t) => {
            let mut table = FunctionTable::new();
            loop {
                match t.source_mut().next_arrival(&mut table) {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("expected an error"),
                    Err(e) => return e.to_string(),
                }
            }
        }
        Err(e) => e.to_string(),
    }
}

fn table_of(t: &FunctionTable) -> Vec<(String, u32)> {
    t.iter()
        .map(|(_, f)| (f.name.clone(), f.memory_mb))
        .collect()
}

/// `(time µs, function, duration µs)`.
fn key(a: &[Arrival]) -> Vec<(u64, u32, u64)> {
    a.iter()
        .map(|x| (x.time.0, x.function.0, x.duration.0))
        .collect()
}

/// A scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "faasim-traces-readers-{}-{name}",
            std::process::id()
        ));
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

fn az19(inv: &[&str], dur: &[&str], mem: &[&str]) -> Azure2019Spec {
    let list = |v: &[&str]| match v {
        [one] => PathList::One(one.into()),
        _ => PathList::Many(v.iter().map(PathBuf::from).collect()),
    };
    // The fixtures' a3/f9 has no durations row in dur_a.csv: these specs ask for the median
    // fallback explicitly (the default, an error, is tested on its own).
    Azure2019Spec {
        invocations: list(inv),
        durations: list(dur),
        memory: list(mem),
        spread: Spread::Equidistant,
        unit: DeployUnit::App,
        missing_durations: MissingDurations::Median,
    }
}

fn run19(spec: Azure2019Spec) -> (Vec<Arrival>, FunctionTable) {
    let mut t = open(
        &TraceSpec::Azure2019(spec),
        &fixtures().join("azure2019"),
        1,
    )
    .unwrap();
    drain(t.source_mut())
}

const S: u64 = 1_000_000;
const MS: u64 = 1_000;

// ---------------------------------------------------------------- Azure 2019: fixtures

#[test]
fn azure2019_fixture_replays_by_hand() {
    let (a, table) = run19(az19(&["inv_a.csv"], &["dur_a.csv"], &["mem_a.csv"]));
    // Minute 1: a1/f1 ×2 at 15 s and 45 s, a2/f1 at 30 s; minute 2: a1/f2 at 90 s; minute 3:
    // a1/f1 at 150 s, a3/f9 ×3 at 130, 150, 170 s (the tie at 150 s keeps file order).
    // a3/f9 has no duration row: the trace-wide median table (10, 20, 30 -> 20 ms).
    assert_eq!(
        key(&a),
        [
            (15 * S, 0, 10 * MS),
            (30 * S, 1, 30 * MS),
            (45 * S, 0, 10 * MS),
            (90 * S, 0, 20 * MS),
            (130 * S, 2, 20 * MS),
            (150 * S, 0, 10 * MS),
            (150 * S, 2, 20 * MS),
            (170 * S, 2, 20 * MS),
        ]
    );
    assert!(a.iter().all(|x| x.cold_start.is_none()));
    // Memory: the largest pct99 of the app's rows, rounded up; a3 has no row: Burr.
    let burr = burr_memory_mb(1, "o3\u{1f}a3");
    assert_eq!(
        table_of(&table),
        [("a1".into(), 201), ("a2".into(), 300), ("a3".into(), burr)]
    );
    assert!((32..=16384).contains(&burr));
}

#[test]
fn azure2019_per_function_unit_names_functions_by_app() {
    let mut spec = az19(&["inv_a.csv"], &["dur_a.csv"], &["mem_a.csv"]);
    spec.unit = DeployUnit::Function;
    let (a, table) = run19(spec);
    assert_eq!(
        a.iter().map(|x| x.function.0).collect::<Vec<_>>(),
        [0, 1, 0, 2, 3, 0, 3, 3]
    );
    let burr = burr_memory_mb(1, "o3\u{1f}a3");
    assert_eq!(
        table_of(&table),
        [
            ("a1/f1".into(), 201),
            ("a2/f1".into(), 300),
            ("a1/f2".into(), 201),
            ("a3/f9".into(), burr)
        ]
    );
}

#[test]
fn azure2019_layout_variants_give_the_same_replay() {
    // inv_b: no Trigger, minute_N names in shuffled order, id columns reversed; mem_b: no
    // HashFunction column, other order (and another pct99 for a1).
    let (a, _) = run19(az19(&["inv_a.csv"], &["dur_a.csv"], &["mem_a.csv"]));
    let (b, table) = run19(az19(&["inv_b.csv"], &["dur_a.csv"], &["mem_b.csv"]));
    assert_eq!(a, b);
    assert_eq!(table.get(FunctionId(0)).memory_mb, 180);
    // No memory files at all: every app draws from the Burr fit.
    let (c, table) = run19(az19(&["inv_a.csv"], &["dur_a.csv"], &[]));
    assert_eq!(a, c);
    for (i, app) in ["o1\u{1f}a1", "o2\u{1f}a2", "o3\u{1f}a3"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            table.get(FunctionId(i as u32)).memory_mb,
            burr_memory_mb(1, app)
        );
    }
}

#[test]
fn azure2019_window_minutes_are_absolute() {
    let (a, table) = run19(az19(&["inv_window.csv"], &["dur_a.csv"], &["mem_a.csv"]));
    // Minute 480 covers [479, 480) minutes.
    let m = 60 * S;
    assert_eq!(
        key(&a),
        [
            (479 * m + 30 * S, 0, 10 * MS),
            (480 * m + 15 * S, 1, 30 * MS),
            (480 * m + 45 * S, 1, 30 * MS),
        ]
    );
    assert_eq!(table.len(), 2);
    let t = open(
        &TraceSpec::Azure2019(az19(&["inv_window.csv"], &["dur_a.csv"], &["mem_a.csv"])),
        &fixtures().join("azure2019"),
        1,
    )
    .unwrap();
    assert_eq!(t.horizon(), Some(SimTime(481 * m)));
}

#[test]
fn azure2019_days_follow_each_other_with_per_day_durations() {
    let day = 1440 * 60 * S;
    // One durations file for both days.
    let (a, _) = run19(az19(
        &["inv_a.csv", "inv_b.csv"],
        &["dur_a.csv"],
        &["mem_a.csv"],
    ));
    assert_eq!(a.len(), 16);
    let (first, second) = a.split_at(8);
    for (x, y) in first.iter().zip(second) {
        assert_eq!(y.time.0, x.time.0 + day);
        assert_eq!((x.function, x.duration), (y.function, y.duration));
    }
    // One durations file per day: day 2 uses dur_b, except a1/f2, which has no row there and
    // takes its row from dur_a. The median fallback is over both files' rows.
    let (b, _) = run19(az19(
        &["inv_a.csv", "inv_b.csv"],
        &["dur_a.csv", "dur_b.csv"],
        &["mem_a.csv"],
    ));
    // Day 1: as with one file, except a3/f9, which has no row in dur_a but one in dur_b
    // (70 ms) and uses it rather than the median table.
    let day1: Vec<_> = key(first)
        .into_iter()
        .map(|(t, f, d)| (t, f, if f == 2 { 70 * MS } else { d }))
        .collect();
    assert_eq!(key(&b[..8]), day1);
    assert_eq!(
        key(&b[8..])
            .iter()
            .map(|&(t, f, d)| (t - day, f, d))
            .collect::<Vec<_>>(),
        [
            (15 * S, 0, 50 * MS),
            (30 * S, 1, 60 * MS),
            (45 * S, 0, 50 * MS),
            (90 * S, 0, 20 * MS),
            (130 * S, 2, 70 * MS),
            (150 * S, 0, 50 * MS),
            (150 * S, 2, 70 * MS),
            (170 * S, 2, 70 * MS),
        ]
    );
}

#[test]
fn azure2019_random_spreads_keep_counts_and_minutes() {
    for spread in [Spread::Uniform, Spread::Poisson] {
        let mut spec = az19(&["inv_a.csv"], &["dur_a.csv"], &["mem_a.csv"]);
        spec.spread = spread;
        let (a, table) = run19(spec.clone());
        let (b, _) = run19(spec.clone());
        assert_eq!(a, b, "same seed, same replay");
        assert_eq!(a.len(), 8);
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
        // Per minute, the counts of each app are those of the file (ids follow first
        // arrivals, which the spread may reorder, so compare names).
        let minute = |x: &Arrival| x.time.0 / (60 * S);
        let count = |m: u64, app: &str| {
            a.iter()
                .filter(|x| minute(x) == m && table.get(x.function).name == app)
                .count()
        };
        assert_eq!(
            [
                count(0, "a1"),
                count(0, "a2"),
                count(1, "a1"),
                count(2, "a1"),
                count(2, "a3")
            ],
            [2, 1, 1, 1, 3]
        );
        let other = open(
            &TraceSpec::Azure2019(spec),
            &fixtures().join("azure2019"),
            2,
        )
        .map(|mut t| drain(t.source_mut()).0)
        .unwrap();
        assert_ne!(key(&a), key(&other), "another seed, other times");
    }
}

#[test]
fn azure2019_durations_follow_the_percentile_table() {
    let dir = Scratch::new("az19-dist");
    let mut inv = String::from("HashOwner,HashApp,HashFunction");
    for m in 1..=1440 {
        inv.push_str(&format!(",{m}"));
    }
    inv.push_str("\no,a,f");
    for _ in 1..=1440 {
        inv.push_str(",100");
    }
    inv.push('\n');
    dir.file("inv.csv", &inv);
    dir.file(
        "dur.csv",
        "HashOwner,HashApp,HashFunction,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,\
         percentile_Average_99,percentile_Average_100\n\
         o,a,f,1,2,10,20,40,100,1000\n",
    );
    dir.file(
        "mem.csv",
        "HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,128\n",
    );
    let spec = TraceSpec::Azure2019(Azure2019Spec {
        invocations: "inv.csv".into(),
        durations: "dur.csv".into(),
        memory: "mem.csv".into(),
        spread: Spread::Poisson,
        unit: DeployUnit::App,
        missing_durations: MissingDurations::Error,
    });
    let mut t = open(&spec, &dir.0, 5).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(a.len(), 144_000);
    assert_eq!(table_of(&table), [("a".into(), 128)]);
    let mut d: Vec<f64> = a.iter().map(|x| x.duration.as_ms_f64()).collect();
    d.sort_by(f64::total_cmp);
    let q = |p: f64| d[((d.len() - 1) as f64 * p) as usize];
    // Empirical quantiles within 4 binomial standard deviations of the table's.
    for (p, lo, hi) in [
        (0.25, 9.6, 10.4),
        (0.5, 19.6, 20.4),
        (0.75, 39.2, 40.8),
        (0.99, 90.0, 110.0),
    ] {
        assert!((lo..=hi).contains(&q(p)), "p{p}: {}", q(p));
    }
    assert!(d[0] >= 1.0 && d[d.len() - 1] <= 1000.0);
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    // Mean of the piecewise-linear inverse CDF through the table.
    let t = [1.0, 2.0, 10.0, 20.0, 40.0, 100.0, 1000.0];
    let qs = [0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0];
    let expected: f64 = (0..6)
        .map(|i| (qs[i + 1] - qs[i]) * (t[i] + t[i + 1]) / 2.0)
        .sum();
    assert!(
        (mean - expected).abs() / expected < 0.02,
        "{mean} vs {expected}"
    );
}

#[test]
fn azure2019_bad_input_names_file_line_and_column() {
    let dir = Scratch::new("az19-bad");
    let dur = dir.file(
        "dur.csv",
        "HashOwner,HashApp,HashFunction,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,\
         percentile_Average_99,percentile_Average_100\n\
         o,a,f,1,2,3,4,5,6,7\n",
    );
    dir.file(
        "mem.csv",
        "HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,128\n",
    );
    // Rows name functions without a durations row (g): the median fallback is asked for, so
    // that the errors under test come first.
    let spec = |inv: &str| {
        TraceSpec::Azure2019(Azure2019Spec {
            invocations: inv.into(),
            durations: "dur.csv".into(),
            memory: "mem.csv".into(),
            spread: Spread::Equidistant,
            unit: DeployUnit::App,
            missing_durations: MissingDurations::Median,
        })
    };
    let p = |name: &str| dir.0.join(name).display().to_string();
    dir.file(
        "count.csv",
        "HashOwner,HashApp,HashFunction,1,2\no,a,f,1,2\no,a,g,3,x\n",
    );
    assert_eq!(
        open_err(&spec("count.csv"), &dir.0),
        format!(
            "{} line 3, column 2: expected a count of invocations (a whole number from 0 to \
             60000000), got \"x\"",
            p("count.csv")
        )
    );
    dir.file(
        "neg.csv",
        "HashOwner,HashApp,HashFunction,minute_1\no,a,f,-1\n",
    );
    assert!(open_err(&spec("neg.csv"), &dir.0).contains("line 2, column minute_1"));
    dir.file("empty.csv", "HashOwner,HashApp,HashFunction,1\no,a,f,\n");
    assert!(open_err(&spec("empty.csv"), &dir.0).contains("line 2, column 1: expected a count"));
    dir.file(
        "huge.csv",
        "HashOwner,HashApp,HashFunction,1\no,a,f,60000001\n",
    );
    assert!(open_err(&spec("huge.csv"), &dir.0).contains("line 2, column 1"));
    dir.file(
        "full.csv",
        "HashOwner,HashApp,HashFunction,1,2\no,a,f,1,60000000\no,a,g,0,60000000\n",
    );
    assert_eq!(
        open_err(&spec("full.csv"), &dir.0),
        format!(
            "{}: minute 2 holds 120000000 invocations, more than the 100000000 one minute \
             may hold",
            p("full.csv")
        )
    );
    dir.file("m0.csv", "HashOwner,HashApp,HashFunction,0\n");
    assert_eq!(
        open_err(&spec("m0.csv"), &dir.0),
        format!(
            "{} line 1, column 0: minute columns must be numbered 1 to 1440",
            p("m0.csv")
        )
    );
    dir.file("m1441.csv", "HashOwner,HashApp,HashFunction,minute_1441\n");
    assert!(open_err(&spec("m1441.csv"), &dir.0).contains("column minute_1441: minute columns"));
    dir.file("dup.csv", "HashOwner,HashApp,HashFunction,1,minute_1\n");
    assert!(open_err(&spec("dup.csv"), &dir.0)
        .contains("column `minute_1 (minute 1)` appears more than once"));
    dir.file("noapp.csv", "HashOwner,HashFunction,1\n");
    assert!(open_err(&spec("noapp.csv"), &dir.0).contains("missing required column `HashApp`"));
    dir.file("noid.csv", "HashOwner,HashApp,HashFunction,1\no,,f,1\n");
    assert!(open_err(&spec("noid.csv"), &dir.0).contains("line 2, column HashApp: expected an id"));
    dir.file("short.csv", "HashOwner,HashApp,HashFunction,1,2\no,a,f,1\n");
    assert!(open_err(&spec("short.csv"), &dir.0).contains("line 2: expected 5 fields"));
    // The side files are checked when the trace is opened.
    dir.file("ok.csv", "HashOwner,HashApp,HashFunction,1\no,a,f,1\n");
    std::fs::write(
        &dur,
        "HashOwner,HashApp,HashFunction,percentile_Average_0\n",
    )
    .unwrap();
    let e = open(&spec("ok.csv"), &dir.0, 1).unwrap_err().to_string();
    assert!(
        e.contains("missing required column `percentile_Average_1`"),
        "{e}"
    );
    std::fs::write(
        &dur,
        "HashOwner,HashApp,HashFunction,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,\
         percentile_Average_99,percentile_Average_100\n\
         o,a,f,1,2,3,4,5,6,7\n\
         o,a,g,1,2,3,abc,5,6,7\n",
    )
    .unwrap();
    let e = open(&spec("ok.csv"), &dir.0, 1).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{} line 3, column percentile_Average_50: expected a duration in milliseconds >= \
             0, got \"abc\"",
            p("dur.csv")
        )
    );
    std::fs::write(
        &dur,
        "HashOwner,HashApp,HashFunction,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,\
         percentile_Average_99,percentile_Average_100\n",
    )
    .unwrap();
    // No duration row for f, and no rows to fall back on.
    let e = open_err(&spec("ok.csv"), &dir.0);
    assert_eq!(
        e,
        format!(
            "{} line 2, column HashFunction: function o/a/f has no row in the durations \
             file(s) {}, and they have no rows to build the median table from",
            p("ok.csv"),
            p("dur.csv")
        )
    );
    dir.file(
        "mem.csv",
        "HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,-5\n",
    );
    let e = open(&spec("ok.csv"), &dir.0, 1).unwrap_err().to_string();
    assert!(e.contains("line 2, column AverageAllocatedMb_pct99"), "{e}");
    let e = open(&spec("missing.csv"), &dir.0, 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{}: cannot open", p("missing.csv"))),
        "{e}"
    );
    // File counts are checked before anything is opened.
    let bad = TraceSpec::Azure2019(Azure2019Spec {
        invocations: PathList::Many(vec!["a".into(), "b".into(), "c".into()]),
        durations: PathList::Many(vec!["a".into(), "b".into()]),
        memory: PathList::Many(vec![]),
        spread: Spread::Equidistant,
        unit: DeployUnit::App,
        missing_durations: MissingDurations::Error,
    });
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .starts_with("azure2019 trace, key `durations`: must name one file"));
}

// ---------------------------------------------------------------- Azure 2019: real samples

/// `(folder, invocations, durations, memory, total invocations, functions, apps)`.
const SAMPLES_2019: [(&str, &str, &str, &str, usize, usize, usize); 4] = [
    (
        "azure2019-sample-1",
        "invocations.csv",
        "durations.csv",
        "memory.csv",
        20_820_188,
        1,
        1,
    ),
    (
        "azure2019-sample-10-realids",
        "invocations.csv",
        "durations.csv",
        "memory.csv",
        13_037_064,
        10,
        10,
    ),
    (
        "azure2019-sample-400",
        "400_inv.csv",
        "400_run.csv",
        "400_mem.csv",
        6_334_542,
        400,
        400,
    ),
    (
        "azure2019-sample-500-min480-959",
        "invocations.csv",
        "durations.csv",
        "memory.csv",
        3_037_902,
        500,
        476,
    ),
];

#[test]
fn azure2019_samples_replay_exactly_their_counts() {
    for (folder, inv, dur, mem, total, functions, apps) in SAMPLES_2019 {
        let dir = sample(folder);
        for unit in [DeployUnit::App, DeployUnit::Function] {
            let spec = TraceSpec::Azure2019(Azure2019Spec {
                invocations: inv.into(),
                durations: dur.into(),
                memory: mem.into(),
                spread: Spread::Equidistant,
                unit,
                missing_durations: MissingDurations::Error,
            });
            let mut t = open(&spec, &dir, 1).unwrap();
            let src = t.source_mut();
            let mut table = FunctionTable::new();
            let (mut n, mut last, mut sorted) = (0usize, SimTime::ZERO, true);
            let mut first = None;
            while let Some(a) = src.next_arrival(&mut table).unwrap() {
                n += 1;
                sorted &= a.time >= last;
                last = a.time;
                first.get_or_insert(a.time);
            }
            assert_eq!(n, total, "{folder}");
            assert!(sorted, "{folder}");
            let expected = if unit == DeployUnit::App {
                apps
            } else {
                functions
            };
            assert_eq!(table.len(), expected, "{folder} {unit:?}");
            // Every app of these samples has a memory row.
            assert!(table.iter().all(|(_, f)| f.memory_mb >= 1));
            assert!(t.checksum_hex().is_some());
            let horizon = t.horizon().unwrap();
            assert!(last < horizon);
            if folder.contains("min480") {
                assert!(first.unwrap() >= SimTime(479 * 60 * S));
                assert_eq!(horizon, SimTime(959 * 60 * S));
            } else {
                assert_eq!(horizon, SimTime(1440 * 60 * S));
            }
        }
    }
}

#[test]
fn azure2019_sample_memory_and_durations_come_from_their_rows() {
    let dir = sample("azure2019-sample-1");
    let spec = TraceSpec::Azure2019(Azure2019Spec {
        invocations: "invocations.csv".into(),
        durations: "durations.csv".into(),
        memory: "memory.csv".into(),
        spread: Spread::Equidistant,
        unit: DeployUnit::App,
        missing_durations: MissingDurations::Error,
    });
    let mut t = open(&spec, &dir, 1).unwrap();
    let mut table = FunctionTable::new();
    let src = t.source_mut();
    let mut d = Vec::new();
    while let Some(a) = src.next_arrival(&mut table).unwrap() {
        if d.len() < 200_000 {
            d.push(a.duration.as_ms_f64());
        }
    }
    // memory.csv: AverageAllocatedMb_pct99 = 232.
    assert_eq!(table.get(FunctionId(0)).memory_mb, 232);
    // durations.csv: p0 2, p1 2, p25 3, p50 4, p75 5, p99 11, p100 453 (ms).
    assert!(d.iter().all(|&x| (2.0..=453.0).contains(&x)));
    d.sort_by(f64::total_cmp);
    let median = d[d.len() / 2];
    assert!((3.9..=4.1).contains(&median), "{median}");
}

/// Speed and memory of the expansion: `cargo test -p faasim-traces --release --test readers
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn azure2019_expansion_throughput() {
    let dir = sample("azure2019-sample-1");
    for spread in [Spread::Equidistant, Spread::Uniform, Spread::Poisson] {
        let spec = TraceSpec::Azure2019(Azure2019Spec {
            invocations: "invocations.csv".into(),
            durations: "durations.csv".into(),
            memory: "memory.csv".into(),
            spread,
            unit: DeployUnit::App,
            missing_durations: MissingDurations::Error,
        });
        let start = std::time::Instant::now();
        let mut t = open(&spec, &dir, 1).unwrap();
        let src = t.source_mut();
        let mut table = FunctionTable::new();
        let mut n = 0u64;
        let mut sum = 0u64;
        while let Some(a) = src.next_arrival(&mut table).unwrap() {
            n += 1;
            sum = sum.wrapping_add(a.duration.0);
        }
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(n, 20_820_188);
        println!(
            "azure2019-sample-1, spread {spread:?}: {n} invocations in {secs:.3} s = {:.1} M/s \
             (checksum {sum}); peak RSS {}",
            n as f64 / secs / 1e6,
            peak_rss()
        );
    }
}

/// Memory of a full-size day: 50,000 functions × 1,440 minutes with 30% of the cells
/// non-zero, replayed as two days (the same file twice). Ignored (it writes a ~150 MB file).
#[test]
#[ignore]
fn azure2019_full_size_day_memory() {
    use std::io::Write;
    let dir = Scratch::new("az19-big");
    let inv = dir.0.join("inv.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&inv).unwrap());
        write!(f, "HashOwner,HashApp,HashFunction,Trigger").unwrap();
        for m in 1..=1440 {
            write!(f, ",{m}").unwrap();
        }
        writeln!(f).unwrap();
        let mut x = 12345u64;
        for i in 0..50_000u64 {
            write!(
                f,
                "{:064x},{:064x},{:064x},http",
                i / 4,
                i / 2,
                faasim_sim::rng::mix64(i)
            )
            .unwrap();
            for _ in 0..1440 {
                x = faasim_sim::rng::mix64(x);
                let c = if x % 10 < 3 { x >> 60 } else { 0 };
                write!(f, ",{c}").unwrap();
            }
            writeln!(f).unwrap();
        }
    }
    dir.file(
        "dur.csv",
        "HashOwner,HashApp,HashFunction,percentile_Average_0,percentile_Average_1,\
         percentile_Average_25,percentile_Average_50,percentile_Average_75,\
         percentile_Average_99,percentile_Average_100\no,a,f,1,2,3,4,5,6,7\n",
    );
    let spec = TraceSpec::Azure2019(Azure2019Spec {
        invocations: PathList::Many(vec!["inv.csv".into(), "inv.csv".into()]),
        durations: "dur.csv".into(),
        memory: PathList::Many(vec![]),
        spread: Spread::Equidistant,
        unit: DeployUnit::App,
        missing_durations: MissingDurations::Error,
    });
    let before = peak_rss();
    let start = std::time::Instant::now();
    let mut t = open(&spec, &dir.0, 1).unwrap();
    let (n, functions) = {
        let src = t.source_mut();
        let mut table = FunctionTable::new();
        let mut n = 0u64;
        while src.next_arrival(&mut table).unwrap().is_some() {
            n += 1;
        }
        (n, table.len())
    };
    println!(
        "2 days × 50,000 functions: {n} invocations, {functions} apps in {:.1} s; \
         peak RSS before {before}, after {}",
        start.elapsed().as_secs_f64(),
        peak_rss()
    );
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

// ---------------------------------------------------------------- Azure 2021

#[test]
fn azure2021_fixture_is_sorted_stably_by_start() {
    let base = fixtures().join("azure2021");
    let spec = |unit| {
        TraceSpec::Azure2021(Azure2021Spec {
            path: "unsorted.csv".into(),
            unit,
        })
    };
    let mut t = open(&spec(DeployUnit::App), &base, 1).unwrap();
    let checksum = t.checksum_hex();
    assert!(checksum.is_some(), "the whole file is read at open");
    let (a, table) = drain(t.source_mut());
    // Starts: B/y at exactly 0; three at 2.0 s in file order (B/x, A/y, A/x); two at 10 s.
    assert_eq!(
        key(&a),
        [
            (0, 0, 300 * MS),
            (2 * S, 0, 1_250 * MS),
            (2 * S, 1, 0),
            (2 * S, 1, 500 * MS),
            (10 * S, 1, 500 * MS),
            (10 * S, 1, 2 * S),
        ]
    );
    assert_eq!(
        table_of(&table),
        [
            ("B".into(), burr_memory_mb(1, "B")),
            ("A".into(), burr_memory_mb(1, "A"))
        ]
    );
    let mut t = open(&spec(DeployUnit::Function), &base, 1).unwrap();
    let (b, table) = drain(t.source_mut());
    assert_eq!(
        b.iter().map(|x| x.function.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 3, 3]
    );
    let names: Vec<String> = table.iter().map(|(_, f)| f.name.clone()).collect();
    assert_eq!(names, ["B/y", "B/x", "A/y", "A/x"]);
    // Functions of one app share the app's memory draw.
    assert_eq!(table.get(FunctionId(2)).memory_mb, burr_memory_mb(1, "A"));
}

#[test]
fn azure2021_bad_rows_fail_at_open() {
    let dir = Scratch::new("az21-bad");
    let p = dir.file(
        "t.csv",
        "app,func,end_timestamp,duration\nA,x,1,0.5\nA,x,oops,1\n",
    );
    let spec = TraceSpec::Azure2021(Azure2021Spec {
        path: p.clone(),
        unit: DeployUnit::App,
    });
    let e = open(&spec, Path::new("/"), 1).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{} line 3, column end_timestamp: expected a time in seconds >= 0 (a decimal \
             number), got \"oops\"",
            p.display()
        )
    );
    std::fs::write(&p, "app,func,end_timestamp,duration\nA,x,1,-0.5\n").unwrap();
    let e = open(&spec, Path::new("/"), 1).unwrap_err().to_string();
    assert!(e.contains("line 2, column duration"), "{e}");
    std::fs::write(&p, "app,end_timestamp,duration\n").unwrap();
    let e = open(&spec, Path::new("/"), 1).unwrap_err().to_string();
    assert!(e.contains("missing required column `func`"), "{e}");
    // An empty file is an error; a header alone is a trace of no invocations.
    std::fs::write(&p, "").unwrap();
    let e = open(&spec, Path::new("/"), 1).unwrap_err().to_string();
    assert!(e.ends_with("t.csv: empty file, expected a header line with the columns app, func, end_timestamp, duration"), "{e}");
    std::fs::write(&p, "app,func,end_timestamp,duration\n").unwrap();
    let mut t = open(&spec, Path::new("/"), 1).unwrap();
    assert!(drain(t.source_mut()).0.is_empty());
}

#[test]
fn azure2021_head_sample() {
    let dir = sample("azure2021-head");
    for (unit, functions) in [(DeployUnit::App, 13), (DeployUnit::Function, 31)] {
        let spec = TraceSpec::Azure2021(Azure2021Spec {
            path: "Azure2021_200.csv".into(),
            unit,
        });
        let mut t = open(&spec, &dir, 1).unwrap();
        let (a, table) = drain(t.source_mut());
        assert_eq!(a.len(), 199);
        assert_eq!(table.len(), functions);
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
        // ~21 minutes.
        let last = a.last().unwrap().time;
        assert!(
            last > SimTime(15 * 60 * S) && last < SimTime(25 * 60 * S),
            "{last}"
        );
        // Row 1 of the file: end 0.07949090003967285 s, duration 0.078 s.
        assert!(a
            .iter()
            .any(|x| x.time == SimTime(1_491) && x.duration == SimDuration(78_000)));
        assert_eq!(
            t.checksum_hex().unwrap(),
            "d51e9c9ca79872313d94a26b8c52e82fc55855903c92c1f006cfd1a37700673b"
        );
    }
}

// ---------------------------------------------------------------- Azure LLM 2023

#[test]
fn azure_llm_fixture_times_are_relative_to_the_first_row() {
    let spec = TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("small.csv"));
    let mut t = open(&spec, &fixtures().join("azure-llm-2023"), 1).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(
        key(&a),
        [
            // 0.2 × 374 + 30 × 44 = 1394.8 ms.
            (0, 0, 1_394_800),
            // 400 ns later: the same microsecond.
            (0, 0, 20 * MS),
            (4_314_579, 0, 300 * MS),
            (13_319_410, 0, 230 * MS),
        ]
    );
    assert_eq!(table_of(&table), [("llm".into(), 81_920)]);
    assert!(t.checksum_hex().is_some());
    let mut spec = AzureLlm2023Spec::new("small.csv");
    spec.function = "code".into();
    spec.memory_mb = 40_960;
    spec.prefill_ms_per_token = 0.0;
    spec.decode_ms_per_token = 0.0;
    spec.overhead_ms = 7.5;
    let mut t = open(
        &TraceSpec::AzureLlm2023(spec),
        &fixtures().join("azure-llm-2023"),
        1,
    )
    .unwrap();
    let (a, table) = drain(t.source_mut());
    assert!(a.iter().all(|x| x.duration == SimDuration(7_500)));
    assert_eq!(table_of(&table), [("code".into(), 40_960)]);
}

#[test]
fn azure_llm_bad_rows_name_line_and_column() {
    let dir = Scratch::new("llm-bad");
    let p = dir.file(
        "t.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:17:03.9799600,1,1\n\
         2023-11-16 18:17:03.0000000,1,1\n",
    );
    let spec = TraceSpec::AzureLlm2023(AzureLlm2023Spec::new(&p));
    assert_eq!(
        open_err(&spec, Path::new("/")),
        format!(
            "{} line 3, column TIMESTAMP: rows must be in time order, got 2023-11-16 \
             18:17:03.0000000 after 2023-11-16 18:17:03.9799600",
            p.display()
        )
    );
    std::fs::write(
        &p,
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 25:00:00,1,1\n",
    )
    .unwrap();
    assert!(
        open_err(&spec, Path::new("/")).contains("line 2, column TIMESTAMP: expected a UTC time")
    );
    std::fs::write(
        &p,
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 20:00:00,1.5,1\n",
    )
    .unwrap();
    assert!(open_err(&spec, Path::new("/")).contains("line 2, column ContextTokens"));
    std::fs::write(&p, "TIMESTAMP,ContextTokens\n").unwrap();
    assert!(open_err(&spec, Path::new("/")).contains("missing required column `GeneratedTokens`"));
}

#[test]
fn azure_llm_real_files() {
    let dir = sample("azure-llm-2023");
    for (file, rows) in [
        ("AzureLLMInferenceTrace_code.csv", 8_819),
        ("AzureLLMInferenceTrace_conv.csv", 19_366),
    ] {
        let spec = TraceSpec::AzureLlm2023(AzureLlm2023Spec::new(file));
        let mut t = open(&spec, &dir, 1).unwrap();
        let (a, table) = drain(t.source_mut());
        assert_eq!(a.len(), rows, "{file}");
        assert_eq!(table.len(), 1);
        assert_eq!(a[0].time, SimTime::ZERO);
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
        // About one hour.
        let last = a.last().unwrap().time;
        assert!(
            last > SimTime(50 * 60 * S) && last < SimTime(70 * 60 * S),
            "{last}"
        );
        assert!(a.iter().all(|x| x.duration > SimDuration::ZERO));
        assert!(t.checksum_hex().is_some());
    }
}

// ---------------------------------------------------------------- Huawei 2023

fn huawei(paths: &[&str]) -> Huawei2023Spec {
    Huawei2023Spec {
        path: PathList::Many(paths.iter().map(PathBuf::from).collect()),
        duration_ms: DistSpec::Constant { value_ms: 5.0 },
        memory_mb: 256,
        spread: Spread::Equidistant,
        interval_s: 60.0,
    }
}

#[test]
fn huawei_fixture_replays_by_hand() {
    let spec = TraceSpec::Huawei2023(huawei(&["day_00.csv", "day_01.csv"]));
    let mut t = open(&spec, &fixtures().join("huawei2023"), 1).unwrap();
    let (a, table) = drain(t.source_mut());
    let d = 5 * MS;
    assert_eq!(
        key(&a),
        [
            (15 * S, 0, d),
            (30 * S, 1, d),
            (45 * S, 0, d),
            (130 * S, 2, d),
            (150 * S, 0, d),
            (150 * S, 2, d),
            (170 * S, 2, d),
            (86_415 * S, 3, d),
            (86_430 * S, 0, d),
            (86_445 * S, 3, d),
        ]
    );
    assert_eq!(
        table_of(&table),
        [
            ("0".into(), 256),
            ("2".into(), 256),
            ("1".into(), 256),
            ("3".into(), 256)
        ]
    );
    assert!(t.checksum_hex().is_some());
    // Per-second bins and a lognormal duration.
    let mut spec = huawei(&["day_00.csv"]);
    spec.interval_s = 1.0;
    spec.spread = Spread::Poisson;
    spec.duration_ms = DistSpec::Lognormal {
        median_ms: 100.0,
        sigma: 0.5,
    };
    let mut t = open(
        &TraceSpec::Huawei2023(spec),
        &fixtures().join("huawei2023"),
        3,
    )
    .unwrap();
    let (a, _) = drain(t.source_mut());
    assert_eq!(a.len(), 7);
    assert!(a[..3].iter().all(|x| x.time < SimTime(S)));
    assert!(a[3..]
        .iter()
        .all(|x| x.time >= SimTime(120 * S) && x.time < SimTime(121 * S)));
    assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
}

#[test]
fn huawei_bad_input_names_file_line_and_column() {
    let dir = Scratch::new("huawei-bad");
    let p = dir.file("d.csv", "day,time,7,8\n0,0,1,\n0,60,2,x\n");
    let spec = TraceSpec::Huawei2023(huawei(&[p.to_str().unwrap()]));
    assert_eq!(
        open_err(&spec, Path::new("/")),
        format!(
            "{} line 3, column 8: expected a count of requests (empty, NaN or a whole number \
             from 0 to 60000000), got \"x\"",
            p.display()
        )
    );
    std::fs::write(&p, "day,time,7\n0,60,1\n0,90,1\n").unwrap();
    let e = open_err(&spec, Path::new("/"));
    assert!(
        e.contains("line 3, column time: rows must be in time order, got 90 after 60"),
        "{e}"
    );
    std::fs::write(&p, "time,7,8\n0,1,0\n60,60000000,60000000\n").unwrap();
    assert_eq!(
        open_err(&spec, Path::new("/")),
        format!(
            "{}: line 3: the row holds 120000000 requests, more than the 100000000 one bin \
             may hold",
            p.display()
        )
    );
    std::fs::write(&p, "day,7\n").unwrap();
    assert!(open_err(&spec, Path::new("/")).contains("missing required column `time`"));
    std::fs::write(&p, "time,7,7\n").unwrap();
    assert!(open_err(&spec, Path::new("/")).contains("column `7` appears more than once"));
    std::fs::write(&p, "time,7\n-1,1\n").unwrap();
    assert!(open_err(&spec, Path::new("/")).contains("line 2, column time"));
    // A pandas index column is ignored.
    std::fs::write(&p, "Unnamed: 0,day,time,7\n0,0,0,2\n").unwrap();
    let mut t = open(&spec, Path::new("/"), 1).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(a.len(), 2);
    assert_eq!(table_of(&table), [("7".into(), 256)]);
    let mut bad = huawei(&["x.csv"]);
    bad.interval_s = 0.0;
    assert!(TraceSpec::Huawei2023(bad.clone())
        .validate()
        .unwrap_err()
        .to_string()
        .starts_with("huawei2023 trace, key `interval_s`"));
    bad.interval_s = 60.0;
    bad.memory_mb = 0;
    assert!(open(&TraceSpec::Huawei2023(bad), Path::new("/"), 1)
        .unwrap_err()
        .to_string()
        .contains("key `memory_mb`"));
}

// ---------------------------------------------------------------- conversion

/// Converts the trace, reads the CSV back, and checks both give the same arrivals and table.
fn round_trip(spec: &TraceSpec, base: &Path) -> usize {
    let mut t = open(spec, base, 9).unwrap();
    let (expected, expected_table) = drain(t.source_mut());
    let mut t = open(spec, base, 9).unwrap();
    let mut bytes = Vec::new();
    let n = convert_to_csv(&mut t, &mut bytes).unwrap();
    assert_eq!(n as usize, expected.len());
    let mut back = CsvSource::from_reader(&bytes[..], "converted.csv").unwrap();
    let (got, table) = drain(&mut back);
    assert_eq!(got, expected);
    let specs = |t: &FunctionTable| {
        t.iter()
            .map(|(_, f)| f.clone())
            .collect::<Vec<FunctionSpec>>()
    };
    assert_eq!(specs(&table), specs(&expected_table));
    expected.len()
}

#[test]
fn converting_to_csv_and_reading_back_gives_the_same_arrivals() {
    let f = fixtures();
    let mut spec = az19(&["inv_a.csv", "inv_b.csv"], &["dur_a.csv"], &["mem_a.csv"]);
    spec.spread = Spread::Poisson;
    assert_eq!(
        round_trip(&TraceSpec::Azure2019(spec.clone()), &f.join("azure2019")),
        16
    );
    spec.unit = DeployUnit::Function;
    assert_eq!(
        round_trip(&TraceSpec::Azure2019(spec), &f.join("azure2019")),
        16
    );
    let az21 = TraceSpec::Azure2021(Azure2021Spec {
        path: "unsorted.csv".into(),
        unit: DeployUnit::Function,
    });
    assert_eq!(round_trip(&az21, &f.join("azure2021")), 6);
    let llm = TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("small.csv"));
    assert_eq!(round_trip(&llm, &f.join("azure-llm-2023")), 4);
    let mut hw = huawei(&["day_00.csv", "day_01.csv"]);
    hw.spread = Spread::Uniform;
    hw.duration_ms = DistSpec::Exponential { mean_ms: 3.3 };
    assert_eq!(
        round_trip(&TraceSpec::Huawei2023(hw), &f.join("huawei2023")),
        10
    );
    // A CSV trace with cold starts and a quoted name.
    let dir = Scratch::new("convert");
    dir.file(
        "c.csv",
        "timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n\
         0.001,\"a,b\",1.5,128,\n\
         2,\"say \"\"hi\"\"\",0,256,300.25\n\
         2,\"a,b\",1234567.891,128,\n",
    );
    let csv = TraceSpec::Csv {
        path: "c.csv".into(),
    };
    assert_eq!(round_trip(&csv, &dir.0), 3);
    let mut t = open(&csv, &dir.0, 1).unwrap();
    let mut bytes = Vec::new();
    convert_to_csv(t.source_mut(), &mut bytes).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n\
         0.001,\"a,b\",1.5,128,\n\
         2,\"say \"\"hi\"\"\",0,256,300.25\n\
         2,\"a,b\",1234567.891,128,\n"
    );
    // Real traces.
    {
        let dir = sample("azure2021-head");
        let spec = TraceSpec::Azure2021(Azure2021Spec {
            path: "Azure2021_200.csv".into(),
            unit: DeployUnit::App,
        });
        assert_eq!(round_trip(&spec, &dir), 199);
    }
    {
        let dir = sample("azure2019-sample-500-min480-959");
        let spec = TraceSpec::Azure2019(Azure2019Spec {
            invocations: "invocations.csv".into(),
            durations: "durations.csv".into(),
            memory: "memory.csv".into(),
            spread: Spread::Uniform,
            unit: DeployUnit::App,
            missing_durations: MissingDurations::Error,
        });
        assert_eq!(round_trip(&spec, &dir), 3_037_902);
    }
}

#[test]
fn conversion_passes_reader_errors_through() {
    let dir = Scratch::new("convert-err");
    dir.file("bad.csv", "day,time,7\n0,0,x\n");
    let spec = TraceSpec::Huawei2023(huawei(&["bad.csv"]));
    let mut t = open(&spec, &dir.0, 1).unwrap();
    let e = convert_to_csv(&mut t, Vec::new()).unwrap_err();
    assert!(
        matches!(e, faasim_traces::TraceError::Field { line: 2, .. }),
        "{e}"
    );
}

// ---------------------------------------------------------------- through the engine

mod engine {
    use super::*;
    use faasim_sim::{EngineConfig, NullRecorder, Policies, WorkerSpec};

    /// Replays `spec` on a cluster large enough that nothing waits long or is dropped, and
    /// returns (invocations, completed).
    fn replay(spec: &TraceSpec, base: &Path) -> (u64, u64) {
        let config = EngineConfig {
            workers: vec![
                WorkerSpec {
                    memory_mb: 4_000_000,
                    cores: 4096
                };
                4
            ],
            ..EngineConfig::default()
        };
        let policies = Policies {
            placement: Box::new(FirstFit),
            routing: Box::new(AlwaysCold),
            keep_alive: Box::new(EvictNow),
            load_balancer: None,
        };
        let mut t = open(spec, base, 1).unwrap();
        let report = faasim_sim::run(&config, policies, t.source_mut(), &mut NullRecorder).unwrap();
        assert!(t.checksum_hex().is_some());
        (report.stats.invocations, report.stats.completed)
    }

    #[test]
    fn the_engine_replays_every_invocation_of_each_format() {
        let f = fixtures();
        let az19 = TraceSpec::Azure2019(az19(
            &["inv_a.csv", "inv_b.csv"],
            &["dur_a.csv"],
            &["mem_a.csv"],
        ));
        assert_eq!(replay(&az19, &f.join("azure2019")), (16, 16));
        let az21 = TraceSpec::Azure2021(Azure2021Spec {
            path: "unsorted.csv".into(),
            unit: DeployUnit::App,
        });
        assert_eq!(replay(&az21, &f.join("azure2021")), (6, 6));
        let llm = TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("small.csv"));
        assert_eq!(replay(&llm, &f.join("azure-llm-2023")), (4, 4));
        let hw = TraceSpec::Huawei2023(huawei(&["day_00.csv", "day_01.csv"]));
        assert_eq!(replay(&hw, &f.join("huawei2023")), (10, 10));
        {
            let dir = sample("azure2019-sample-500-min480-959");
            let spec = TraceSpec::Azure2019(Azure2019Spec {
                invocations: "invocations.csv".into(),
                durations: "durations.csv".into(),
                memory: "memory.csv".into(),
                spread: Spread::Poisson,
                unit: DeployUnit::App,
                missing_durations: MissingDurations::Error,
            });
            assert_eq!(replay(&spec, &dir), (3_037_902, 3_037_902));
        }
    }
}

// ----- Huawei 2025 -----

mod huawei2025_tables {
    use super::*;
    use faasim_traces::huawei2025::{
        parse_func_id, pool_of_pod, ColdStartTable, DurationColumn, InvocationType, RuntimeTable,
        FILES, PARTS,
    };
    use faasim_traces::{Huawei2025Source, Huawei2025Spec, TraceInfo};

    const COLD_HEADER: &str = "day,time,clusterName,funcName,userID,requestID,totalCost_cold_start,podAllocationCost,deployCodeCost,deployDependencyCost,schedulingCost,podID\n";

    #[test]
    fn cold_start_rows_give_their_parts_and_the_rest_of_the_total() {
        let s = Scratch::new("hw25-cold");
        // Row 1: 0.027161815 + 0.045 + 0.454 + 1.713152185 = 2.239314 s, the release's own
        // example: `other` = 0. Row 2: parts 0.1 + 0.2 + 0.3 + 0.4 = 1.0 s of a 1.05 s total:
        // `other` = 50 ms. Row 3 (second file): the parts add up to 1.000002 s, 2 µs more than
        // the 1.0 s total: `other` = 0 and the start is the parts' sum. Columns in another
        // order, with an extra one, are found by name.
        let a = s.file(
            "a.csv",
            &format!(
                "{COLD_HEADER}0,51937.425,1,10,134,82f1,2.239314,0.027161815,0.045,0.454,1.713152185,pool24-600-512-0000577863\n\
                 3,260000.5,2,10,134,ab,1.05,0.1,0.2,0.3,0.4,pool24-600-512-0000000001\n"
            ),
        );
        let b = s.file(
            "b.csv",
            "podID,schedulingCost,deployDependencyCost,deployCodeCost,podAllocationCost,totalCost_cold_start,userID,funcName,extra\n\
             pool22-300-128-0000000009,0.400002,0.3,0.2,0.1,1.0,7,11.0,x\n",
        );
        let t = ColdStartTable::read(&[a, b]).unwrap();
        assert_eq!(
            t.functions,
            vec!["10---134---pool24-600-512", "11---7---pool22-300-128"]
        );
        assert_eq!(
            t.pools
                .iter()
                .map(|p| (p.name.as_str(), p.cpu_millicores, p.memory_mb))
                .collect::<Vec<_>>(),
            vec![("pool24-600-512", 600, 512), ("pool22-300-128", 300, 128)]
        );
        let parts: Vec<[u64; 5]> = t.starts.iter().map(|s| s.parts_us).collect();
        assert_eq!(
            parts,
            vec![
                [27_162, 45_000, 454_000, 1_713_152, 0],
                [100_000, 200_000, 300_000, 400_000, 50_000],
                [100_000, 200_000, 300_000, 400_002, 0],
            ]
        );
        assert_eq!(t.starts[0].total_us(), 2_239_314);
        assert_eq!(t.starts[2].total_us(), 1_000_002);
        assert_eq!((t.starts[1].function, t.starts[2].pool), (0, 1));
        assert_eq!(t.function("11---7---pool22-300-128"), Some(1));
        assert_eq!(t.pool("pool24-600-512"), Some(0));
        assert_eq!(PARTS[4], "other");
    }

    #[test]
    fn cold_start_errors_name_the_file_line_and_column() {
        let s = Scratch::new("hw25-cold-bad");
        let no_col = s.file(
            "nocol.csv",
            "funcName,userID,podID,totalCost_cold_start,podAllocationCost,deployCodeCost,schedulingCost\n",
        );
        let e = ColdStartTable::read(&[no_col]).unwrap_err().to_string();
        assert!(
            e.contains("nocol.csv line 1: missing required column `deployDependencyCost`"),
            "{e}"
        );
        let row = |total: &str, pod: &str, name: &str| {
            format!("{COLD_HEADER}0,1.0,1,{name},2,r,{total},0.1,0.1,0,0.1,{pod}\n")
        };
        let bad = s.file("num.csv", &row("abc", "pool22-300-128-1", "1"));
        let e = ColdStartTable::read(&[bad]).unwrap_err().to_string();
        assert!(
            e.contains("num.csv line 2, column totalCost_cold_start: expected a number of seconds >= 0, got \"abc\""),
            "{e}"
        );
        let neg = s.file("neg.csv", &row("-1", "pool22-300-128-1", "1"));
        let e = ColdStartTable::read(&[neg]).unwrap_err().to_string();
        assert!(e.contains("column totalCost_cold_start"), "{e}");
        let pod = s.file("pod.csv", &row("1", "pod-7", "1"));
        let e = ColdStartTable::read(&[pod]).unwrap_err().to_string();
        assert!(
            e.contains("pod.csv line 2, column podID: expected a pod ID poolNN-"),
            "{e}"
        );
        let name = s.file("name.csv", &row("1", "pool22-300-128-1", "f1"));
        let e = ColdStartTable::read(&[name]).unwrap_err().to_string();
        assert!(
            e.contains("column funcName: expected a function number"),
            "{e}"
        );
        let e = ColdStartTable::read(&[s.0.join("absent.csv")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("absent.csv: cannot open trace file"), "{e}");
        let empty = s.file("empty.csv", "");
        let e = ColdStartTable::read(&[empty]).unwrap_err().to_string();
        assert!(e.contains("empty file, expected a header line"), "{e}");
    }

    #[test]
    fn pods_pools_and_function_ids_parse_as_the_release_writes_them() {
        let p = pool_of_pod("pool35-6600-8192-0000463009").unwrap();
        assert_eq!(
            (p.name.as_str(), p.cpu_millicores, p.memory_mb),
            ("pool35-6600-8192", 6600, 8192)
        );
        for bad in [
            "pool35-6600-8192",
            "pool35-6600-x-1",
            "xpool-1-2-3",
            "pool35-0-8192-1",
            "pool-1-2-3",
        ] {
            assert!(pool_of_pod(bad).is_none(), "{bad}");
        }
        let (f, u, pool) = parse_func_id("400---418---pool22-300-128").unwrap();
        assert_eq!((f, u, pool.memory_mb), ("400", "418", 128));
        assert!(parse_func_id("400---418").is_none());
        assert!(parse_func_id("400---418---pool22-300-128---x").is_none());
        assert!(parse_func_id("f1").is_none());
    }

    #[test]
    fn runtime_table_splits_trigger_and_invocation_type() {
        let s = Scratch::new("hw25-rt");
        let p = s.file(
            "rt.csv",
            "funcID,cpu_request,runtime,triggerType-invocationType\n\
             400---418---pool22-300-128,100,Python3,workflow-S\n\
             1---2---pool23-400-256,,Custom,OBS-A\n\
             3---4---pool22-300-128,100,http,unknown-unknown\n",
        );
        let t = RuntimeTable::read(&p).unwrap();
        assert_eq!(t.len(), 3);
        let a = t.get("400---418---pool22-300-128").unwrap();
        assert_eq!(
            (
                a.runtime.as_str(),
                a.trigger.as_str(),
                a.invocation,
                a.cpu_request_millicores
            ),
            ("Python3", "workflow", InvocationType::Sync, Some(100))
        );
        let b = t.get("1---2---pool23-400-256").unwrap();
        assert_eq!(
            (b.trigger.as_str(), b.invocation, b.cpu_request_millicores),
            ("OBS", InvocationType::Async, None)
        );
        assert_eq!(
            t.get("3---4---pool22-300-128").unwrap().invocation,
            InvocationType::Unknown
        );
        let dup = s.file(
            "dup.csv",
            "funcID,runtime,triggerType-invocationType\n1---2---pool22-300-128,Java,APIG-S\n1---2---pool22-300-128,Java,APIG-S\n",
        );
        let e = RuntimeTable::read(&dup).unwrap_err().to_string();
        assert!(
            e.contains("dup.csv line 3: duplicate row for function 1---2---pool22-300-128, first on line 2"),
            "{e}"
        );
        let bad = s.file(
            "bad.csv",
            "funcID,runtime,triggerType-invocationType\nf1,Java,APIG-S\n",
        );
        let e = RuntimeTable::read(&bad).unwrap_err().to_string();
        assert!(
            e.contains("bad.csv line 2, column funcID: expected a function ID"),
            "{e}"
        );
    }

    const REQ_HEADER: &str = "time_worker,time_frontend,requestID,clusterName,funcName,podID,userID,totalCost_worker,workerCost,runtimeCost,totalCost_frontend,frontendCost,busCost,readBodyCost,writeRspCost,cpu_usage,memory_usage,requestBodySize\n";

    fn req(t: &str, f: u32, pod: &str, user: u32, total: &str, runtime: &str) -> String {
        format!("{t},,r,1,{f},{pod},{user},{total},0.0001,{runtime},,,,,,0.2,30.5,\n")
    }

    #[test]
    fn requests_replay_with_their_execution_time_and_pool_memory() {
        let s = Scratch::new("hw25-req");
        let p1 = s.file(
            "part_01.csv",
            &format!(
                "{REQ_HEADER}{}{}",
                req(
                    "2592000.020",
                    411,
                    "pool22-300-128-0000177166",
                    301,
                    "0.000931",
                    "0.000829"
                ),
                req(
                    "2592000.034",
                    34,
                    "pool26-1000-1024-0000014767",
                    83,
                    "1.5",
                    "1.4999"
                ),
            ),
        );
        let p2 = s.file(
            "part_02.csv",
            &format!(
                "{REQ_HEADER}{}",
                req(
                    "2592000.034",
                    411,
                    "pool22-300-128-0000000002",
                    301,
                    "2",
                    "1.9999"
                )
            ),
        );
        let rt = s.file(
            "rt.csv",
            "funcID,cpu_request,runtime,triggerType-invocationType\n34---83---pool26-1000-1024,500,Java,TIMER-A\n",
        );
        let spec = Huawei2025Spec {
            path: PathList::Many(vec![p1.clone(), p2.clone()]),
            duration: DurationColumn::Worker,
            runtimes: Some(rt),
        };
        let mut src = Huawei2025Source::open(&spec, Path::new("/")).unwrap();
        let (arrivals, table) = drain(&mut src);
        // Times as published (µs since the start of the release), totalCost_worker, and the
        // pool's memory limit; a function is one per funcName, userID and pool.
        assert_eq!(
            key(&arrivals),
            vec![
                (2_592_000_020_000, 0, 931),
                (2_592_000_034_000, 1, 1_500_000),
                (2_592_000_034_000, 0, 2_000_000),
            ]
        );
        assert_eq!(
            table_of(&table),
            vec![
                ("411---301---pool22-300-128".to_string(), 128),
                ("34---83---pool26-1000-1024".to_string(), 1024)
            ]
        );
        assert_eq!(
            src.invocation_of(FunctionId(1)),
            Some(InvocationType::Async)
        );
        assert_eq!(src.invocation_of(FunctionId(0)), None);
        assert_eq!(src.trigger_of(FunctionId(1)).as_deref(), Some("TIMER"));
        assert_eq!(src.app_of(FunctionId(0)).as_deref(), Some("301"));
        assert_eq!(src.function_info(FunctionId(1)).unwrap().runtime, "Java");
        assert!(src.checksum_hex().is_some());
        // The runtime column instead.
        let spec = Huawei2025Spec {
            path: PathList::One(p1),
            duration: DurationColumn::Runtime,
            runtimes: None,
        };
        let (arrivals, _) = drain(&mut Huawei2025Source::open(&spec, Path::new("/")).unwrap());
        assert_eq!(arrivals[1].duration, SimDuration(1_499_900));
    }

    #[test]
    fn request_errors_name_the_row_and_lenient_mode_skips_bad_ones() {
        let s = Scratch::new("hw25-req-bad");
        let rows = format!(
            "{REQ_HEADER}{}{}{}",
            req("10.0", 1, "pool22-300-128-1", 1, "0.5", "0.4"),
            req("11.0", 1, "pool22-300-128-1", 1, "NaN", "0.4"),
            req("12.0", 2, "pool22-300-128-1", 1, "0.25", "0.2"),
        );
        let p = s.file("bad.csv", &rows);
        let spec = TraceSpec::Huawei2025(Huawei2025Spec {
            path: PathList::One(p.clone()),
            duration: DurationColumn::Worker,
            runtimes: None,
        });
        let e = open_err(&spec, Path::new("/"));
        assert!(
            e.contains("bad.csv line 3, column totalCost_worker: expected an execution time in seconds >= 0, got \"NaN\""),
            "{e}"
        );
        let opts = faasim_traces::OpenOptions {
            lenient: true,
            sample: None,
        };
        let mut t = faasim_traces::open_with(&spec, Path::new("/"), 1, &opts).unwrap();
        let (arrivals, _) = drain(t.source_mut());
        assert_eq!(arrivals.len(), 2);
        assert_eq!(t.skipped_rows(), 1);
        let unsorted = s.file(
            "unsorted.csv",
            &format!(
                "{REQ_HEADER}{}{}",
                req("12.0", 1, "pool22-300-128-1", 1, "0.5", "0.4"),
                req("11.5", 1, "pool22-300-128-1", 1, "0.5", "0.4"),
            ),
        );
        let spec = TraceSpec::Huawei2025(Huawei2025Spec {
            path: PathList::One(unsorted),
            duration: DurationColumn::Worker,
            runtimes: None,
        });
        let e = open_err(&spec, Path::new("/"));
        assert!(e.contains("unsorted.csv line 3, column time_worker"), "{e}");
        let nocol = s.file("nocol.csv", "time_worker,funcName,userID,podID\n");
        let spec = TraceSpec::Huawei2025(Huawei2025Spec {
            path: PathList::One(nocol),
            duration: DurationColumn::Worker,
            runtimes: None,
        });
        let e = open_err(&spec, Path::new("/"));
        assert!(
            e.contains("missing required column `totalCost_worker`"),
            "{e}"
        );
    }

    #[test]
    fn the_spec_parses_and_round_trips() {
        let spec: TraceSpec = toml::from_str::<toml::Table>(
            "[trace]\nformat = \"huawei2025\"\npath = [\"a.csv\", \"b.csv\"]\nduration = \"runtime\"\nruntimes = \"rt.csv\"\n",
        )
        .unwrap()["trace"]
            .clone()
            .try_into()
            .unwrap();
        let TraceSpec::Huawei2025(h) = &spec else {
            panic!("{spec:?}")
        };
        assert_eq!(h.duration, DurationColumn::Runtime);
        let back: TraceSpec = toml::from_str(&toml::to_string(&spec).unwrap()).unwrap();
        assert_eq!(back, spec);
        let e =
            toml::from_str::<TraceSpec>("format = \"huawei2025\"\npath = \"a\"\nmemory_mb = 5\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("unknown field `memory_mb`"), "{e}");
        let e = toml::from_str::<TraceSpec>(
            "format = \"huawei2025\"\npath = \"a\"\nduration = \"total\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown variant `total`"), "{e}");
    }

    #[test]
    fn the_release_file_list_covers_every_table_and_part() {
        use faasim_traces::huawei2025::ReleaseTable;
        let count = |t: ReleaseTable, r: u8| {
            FILES
                .iter()
                .filter(|f| f.table == t && f.region == r)
                .count()
        };
        for r in 1..=5 {
            assert_eq!(count(ReleaseTable::ColdStarts, r), 1);
            assert_eq!(count(ReleaseTable::Quantiles, r), 1);
        }
        let parts: Vec<usize> = (1..=5).map(|r| count(ReleaseTable::Requests, r)).collect();
        assert_eq!(parts, vec![20, 10, 5, 2, 1]);
        assert_eq!(count(ReleaseTable::Runtimes, 2), 1);
        assert_eq!(FILES.len(), 49);
        assert!(FILES
            .iter()
            .all(|f| f.url.starts_with("https://drive.google.com/file/d/")));
        assert_eq!(FILES[5].name(), "per_request_R1_part01");
        assert_eq!(ReleaseTable::ColdStarts.folder(3), "cold_start/R3");
    }
}
