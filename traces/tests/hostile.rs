//! Hostile and extreme inputs: every one gives a one-line error naming the file, the line
//! and the field and what was expected (or, in lenient mode where a reader documents it, a
//! counted repair), never a panic, a hang, an unbounded allocation or a silent wrong result.

mod common;

use common::*;
use faasim_sim::{ArrivalSource, DistSpec, FunctionTable};
use faasim_traces::limits::{MAX_RECORD_BYTES, MAX_SPAN_MS, MAX_SPAN_US};
use faasim_traces::{
    open, open_with, Azure2019Spec, Azure2021Spec, AzureLikeSpec, AzureLlm2023Spec, CsvSource,
    Huawei2023Spec, MissingDurations, OpenOptions, OpenTrace, PathList, SampleSpec, Spread,
    SyntheticSpec, TraceSpec,
};
use std::path::{Path, PathBuf};

/// A scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "faasim-traces-hostile-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    /// The path of `name` as messages show it.
    fn p(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens and drains; every arrival, or the first error as a checked one-line message.
fn read(spec: &TraceSpec, base: &Path, lenient: bool) -> Result<(OpenTrace, u64), String> {
    let opts = OpenOptions {
        lenient,
        sample: None,
    };
    let one_line = |e: String| {
        assert!(!e.contains('\n'), "one line: {e}");
        e
    };
    let mut t = open_with(spec, base, 1, &opts).map_err(|e| one_line(e.to_string()))?;
    let mut table = FunctionTable::new();
    let mut n = 0;
    while t
        .source_mut()
        .next_arrival(&mut table)
        .map_err(|e| one_line(e.to_string()))?
        .is_some()
    {
        n += 1;
    }
    Ok((t, n))
}

fn err(spec: &TraceSpec, base: &Path) -> String {
    match read(spec, base, false) {
        Ok((_, n)) => panic!("expected an error, read {n} arrivals"),
        Err(e) => e,
    }
}

/// The memory of the function-table entry named `name`.
fn memory_of(table: &FunctionTable, name: &str) -> u32 {
    table
        .iter()
        .find(|(_, f)| f.name == name)
        .map(|(_, f)| f.memory_mb)
        .unwrap_or_else(|| panic!("no entry {name}"))
}

fn csv(path: &str) -> TraceSpec {
    TraceSpec::Csv { path: path.into() }
}

const CSV_HEADER: &str = "timestamp_ms,function,duration_ms,memory_mb\n";
const DUR_HEADER: &str = "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,\
                          percentile_Average_0,percentile_Average_1,percentile_Average_25,\
                          percentile_Average_50,percentile_Average_75,percentile_Average_99,\
                          percentile_Average_100\n";

/// A small valid Azure 2019 trace: two functions of app a (f at minutes 1 and 2, g at
/// minute 2) and one of app b; the caller overwrites the file under test.
fn az19_files(dir: &Scratch) {
    dir.file(
        "inv.csv",
        "HashOwner,HashApp,HashFunction,Trigger,1,2\n\
         o,a,f,http,1,2\n\
         o,a,g,timer,0,1\n\
         o,b,h,http,3,0\n",
    );
    dir.file(
        "dur.csv",
        format!(
            "{DUR_HEADER}o,a,f,5,3,1,9,1,2,3,4,5,6,7\n\
             o,a,g,5,1,1,9,1,1,1,1,1,1,1\n\
             o,b,h,5,3,1,9,10,10,20,20,30,30,40\n"
        ),
    );
    dir.file(
        "mem.csv",
        "HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,128\no,b,256.5\n",
    );
}

fn az19(inv: &str, dur: &str, mem: &str) -> TraceSpec {
    TraceSpec::Azure2019(Azure2019Spec::new(inv, dur, mem))
}

// ------------------------------------------------------------------------- Azure 2019

#[test]
fn azure2019_function_without_durations_row_is_an_error_unless_median_is_asked_for() {
    let dir = Scratch::new("az19-missing");
    az19_files(&dir);
    dir.file(
        "dur.csv",
        format!("{DUR_HEADER}o,a,f,5,3,1,9,1,2,3,4,5,6,7\no,b,h,5,3,1,9,10,10,20,20,30,30,40\n"),
    );
    assert_eq!(
        err(&az19("inv.csv", "dur.csv", "mem.csv"), &dir.0),
        format!(
            "{} line 3, column HashFunction: function o/a/g has no row in the durations \
             file(s) {}, so its execution times are unknown (missing_durations = \"median\" \
             draws them from the median of the other functions' rows instead)",
            dir.p("inv.csv"),
            dir.p("dur.csv")
        )
    );
    // Several durations files (one per day) are all named.
    let two = TraceSpec::Azure2019(Azure2019Spec::new(
        vec![PathBuf::from("inv.csv"), "inv.csv".into()],
        vec![PathBuf::from("dur.csv"), "dur.csv".into()],
        "mem.csv",
    ));
    let e = err(&two, &dir.0);
    assert!(
        e.contains(&format!(
            "file(s) {}, {},",
            dir.p("dur.csv"),
            dir.p("dur.csv")
        )),
        "{e}"
    );
    // Asked for explicitly, the median of f's and h's tables: p0 = (1 + 10) / 2 = 5.5 ms, ...
    let mut spec = Azure2019Spec::new("inv.csv", "dur.csv", "mem.csv");
    spec.missing_durations = MissingDurations::Median;
    let mut t = open(&TraceSpec::Azure2019(spec), &dir.0, 1).unwrap();
    let (a, table) = drain(t.source_mut());
    assert_eq!(a.len(), 7);
    let g: Vec<_> = a
        .iter()
        .filter(|x| table.get(x.function).name == "a")
        .filter(|x| x.time.0 == 90_000_000)
        .collect();
    // Minute 2 of app a: f's 2 arrivals at 15 s and 45 s and g's at 30 s.
    assert_eq!(g.len(), 1);
    let d = g[0].duration.as_ms_f64();
    assert!((5.5..=23.5).contains(&d), "{d}");
}

#[test]
fn azure2019_percentiles_out_of_order_and_min_above_max_name_line_and_column() {
    let dir = Scratch::new("az19-order");
    az19_files(&dir);
    dir.file(
        "dur.csv",
        format!(
            "{DUR_HEADER}o,a,f,5,3,1,9,1,2,3,4,5,6,7\n\
             o,a,g,5,1,1,9,1,2,10,20,40,1000,100\n"
        ),
    );
    let e = open(&az19("inv.csv", "dur.csv", "mem.csv"), &dir.0, 1)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{} line 3, column percentile_Average_100: percentiles must not decrease from left \
             to right, got 100 after percentile_Average_99 = 1000",
            dir.p("dur.csv")
        )
    );
    dir.file(
        "dur.csv",
        format!("{DUR_HEADER}o,a,f,5,3,9.5,2,1,2,3,4,5,6,7\n"),
    );
    let e = open(&az19("inv.csv", "dur.csv", "mem.csv"), &dir.0, 1)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{} line 2, column Minimum: expected at most Maximum (2), got 9.5",
            dir.p("dur.csv")
        )
    );
    // A percentile beyond 100 years is out of range, not "expected >= 0".
    dir.file(
        "dur.csv",
        format!("{DUR_HEADER}o,a,f,5,3,1,9,1,2,3,4,5,6,1e16\n"),
    );
    let e = open(&az19("inv.csv", "dur.csv", "mem.csv"), &dir.0, 1)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{} line 2, column percentile_Average_100: \"1e16\" is out of range, expected at \
             most {MAX_SPAN_MS} ms (the longest span faasim simulates, 100 years)",
            dir.p("dur.csv")
        )
    );
}

#[test]
fn azure2019_duplicate_rows_name_both_lines_and_lenient_keeps_the_first() {
    let dir = Scratch::new("az19-dup");
    az19_files(&dir);
    let spec = az19("inv.csv", "dur.csv", "mem.csv");
    let (_, clean) = read(&spec, &dir.0, false).unwrap();
    assert_eq!(clean, 7);

    // Invocations: o/a/f twice.
    dir.file(
        "inv2.csv",
        "HashOwner,HashApp,HashFunction,Trigger,1,2\n\
         o,a,f,http,1,2\n\
         o,a,g,timer,0,1\n\
         o,a,f,http,50,50\n\
         o,b,h,http,3,0\n",
    );
    let dup = az19("inv2.csv", "dur.csv", "mem.csv");
    assert_eq!(
        err(&dup, &dir.0),
        format!(
            "{} line 4: duplicate row for function o/a/f, first on line 2",
            dir.p("inv2.csv")
        )
    );
    let (t, n) = read(&dup, &dir.0, true).unwrap();
    assert_eq!(
        n, clean,
        "the first row wins: the 100 invocations of line 4 are dropped"
    );
    assert_eq!(t.skipped_rows(), 1);
    assert_eq!(
        t.first_skipped().unwrap(),
        format!(
            "{} line 4: duplicate row for function o/a/f, first on line 2",
            dir.p("inv2.csv")
        )
    );

    // Durations: o/b/h twice, the second with other values.
    dir.file(
        "dur2.csv",
        format!(
            "{DUR_HEADER}o,a,f,5,3,1,9,1,2,3,4,5,6,7\n\
             o,b,h,5,3,1,9,10,10,20,20,30,30,40\n\
             o,a,g,5,1,1,9,1,1,1,1,1,1,1\n\
             o,b,h,5,3,1,9,900,900,900,900,900,900,900\n"
        ),
    );
    let dup = az19("inv.csv", "dur2.csv", "mem.csv");
    assert_eq!(
        open(&dup, &dir.0, 1).unwrap_err().to_string(),
        format!(
            "{} line 5: duplicate row for function o/b/h, first on line 3",
            dir.p("dur2.csv")
        )
    );
    let opts = OpenOptions {
        lenient: true,
        sample: None,
    };
    let mut t = open_with(&dup, &dir.0, 1, &opts).unwrap();
    let (a, _) = drain(t.source_mut());
    let mut t0 = open(&spec, &dir.0, 1).unwrap();
    let (b, _) = drain(t0.source_mut());
    assert_eq!(a, b, "the first durations row wins");
    assert_eq!(t.skipped_rows(), 1);

    // Memory, keyed by app: o/a twice.
    dir.file(
        "mem2.csv",
        "HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,128\no,b,256\no,a,4096\n",
    );
    let dup = az19("inv.csv", "dur.csv", "mem2.csv");
    assert_eq!(
        open(&dup, &dir.0, 1).unwrap_err().to_string(),
        format!(
            "{} line 4: duplicate row for app o/a, first on line 2",
            dir.p("mem2.csv")
        )
    );
    let mut t = open_with(&dup, &dir.0, 1, &opts).unwrap();
    let (_, table) = drain(t.source_mut());
    assert_eq!(memory_of(&table, "a"), 128);
    assert_eq!(t.skipped_rows(), 1);
    // With a HashFunction column the key is the function: two functions of one app are
    // two rows (the app takes the larger), the same function twice is a duplicate.
    dir.file(
        "mem3.csv",
        "HashOwner,HashApp,HashFunction,AverageAllocatedMb_pct99\n\
         o,a,f,128\no,a,g,300\no,b,h,256\n",
    );
    let mut t = open(&az19("inv.csv", "dur.csv", "mem3.csv"), &dir.0, 1).unwrap();
    let (_, table) = drain(t.source_mut());
    assert_eq!(memory_of(&table, "a"), 300);
    dir.file(
        "mem4.csv",
        "HashOwner,HashApp,HashFunction,AverageAllocatedMb_pct99\n\
         o,a,f,128\no,b,h,256\n\no,a,f,128\n",
    );
    assert_eq!(
        open(&az19("inv.csv", "dur.csv", "mem4.csv"), &dir.0, 1)
            .unwrap_err()
            .to_string(),
        format!(
            "{} line 5: duplicate row for function o/a/f, first on line 2",
            dir.p("mem4.csv")
        )
    );
}

#[test]
fn azure2019_memory_must_be_positive() {
    let dir = Scratch::new("az19-mem");
    az19_files(&dir);
    for bad in ["0", "0.0", "-5", "NaN", "inf", ""] {
        dir.file(
            "mem.csv",
            format!("HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,128\no,b,{bad}\n"),
        );
        let e = open(&az19("inv.csv", "dur.csv", "mem.csv"), &dir.0, 1)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "{} line 3, column AverageAllocatedMb_pct99: expected a memory size in MB > 0, \
                 got {bad:?}",
                dir.p("mem.csv")
            )
        );
    }
    // A fraction of a MB is rounded up to 1 MB, not refused.
    dir.file(
        "mem.csv",
        "HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,0.25\no,b,1e9\n",
    );
    let mut t = open(&az19("inv.csv", "dur.csv", "mem.csv"), &dir.0, 1).unwrap();
    let (_, table) = drain(t.source_mut());
    assert_eq!(memory_of(&table, "a"), 1);
    assert_eq!(memory_of(&table, "b"), 1_000_000_000);
    dir.file(
        "mem.csv",
        "HashOwner,HashApp,AverageAllocatedMb_pct99\no,a,1e10\n",
    );
    let e = open(&az19("inv.csv", "dur.csv", "mem.csv"), &dir.0, 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "line 2, column AverageAllocatedMb_pct99: expected a memory size in MB of at most \
             1000000000, got \"1e10\""
        ),
        "{e}"
    );
}

#[test]
fn azure2019_days_must_match() {
    let dir = Scratch::new("az19-days");
    az19_files(&dir);
    let days = |inv: &[&str], dur: &[&str], mem: &[&str]| {
        let list = |v: &[&str]| PathList::Many(v.iter().map(PathBuf::from).collect());
        TraceSpec::Azure2019(Azure2019Spec::new(list(inv), list(dur), list(mem)))
    };
    // Three memory files for two days.
    let e = open(
        &days(
            &["inv.csv", "inv.csv"],
            &["dur.csv"],
            &["mem.csv", "mem.csv", "mem.csv"],
        ),
        &dir.0,
        1,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "azure2019 trace, key `memory`: must name no file, one file (for every day) or one per \
         invocations file (2), got 3"
    );
    let e = open(
        &days(
            &["inv.csv", "inv.csv", "inv.csv"],
            &["dur.csv", "dur.csv"],
            &[],
        ),
        &dir.0,
        1,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("azure2019 trace, key `durations`: must name one file (for every day) or one per invocations file (3), got 2"),
        "{e}"
    );
    // One memory file per day is fine, and so is none.
    assert_eq!(
        read(
            &days(
                &["inv.csv", "inv.csv"],
                &["dur.csv"],
                &["mem.csv", "mem.csv"]
            ),
            &dir.0,
            false
        )
        .unwrap()
        .1,
        14
    );
    // A second day with other minute columns would leave a silent gap.
    dir.file(
        "inv_short.csv",
        "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,1\n",
    );
    let e = open(
        &days(&["inv.csv", "inv_short.csv"], &["dur.csv"], &["mem.csv"]),
        &dir.0,
        1,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        format!(
            "{} line 1, column minutes: has 1 minute columns (1 to 1), but the first day ({}) \
             has 2 minute columns (1 to 2); every day of a trace must cover the same minutes",
            dir.p("inv_short.csv"),
            dir.p("inv.csv")
        )
    );
    // More days than 100 years hold.
    let many = TraceSpec::Azure2019(Azure2019Spec::new(
        PathList::Many(vec![PathBuf::from("inv.csv"); 36_526]),
        "dur.csv",
        "mem.csv",
    ));
    assert_eq!(
        many.validate().unwrap_err().to_string(),
        "azure2019 trace, key `invocations`: names 36526 files, more than the 36525 days (100 \
         years) a trace may span"
    );
}

// ------------------------------------------------------------------------- Azure 2021

#[test]
fn azure2021_invocation_starting_before_the_trace_names_the_line() {
    let dir = Scratch::new("az21");
    dir.file(
        "t.csv",
        "app,func,end_timestamp,duration\na,f,10.5,0.5\na,g,0.25,1.5\nb,h,3,3\n",
    );
    let spec = TraceSpec::Azure2021(Azure2021Spec {
        path: "t.csv".into(),
        unit: Default::default(),
    });
    assert_eq!(
        err(&spec, &dir.0),
        format!(
            "{} line 3, column duration: the invocation would start before the trace does: \
             duration 1.5 s is longer than end_timestamp 0.25 s",
            dir.p("t.csv")
        )
    );
    let (t, n) = read(&spec, &dir.0, true).unwrap();
    // A start at exactly 0 (b/h) is fine.
    assert_eq!((n, t.skipped_rows()), (2, 1));
    dir.file("t.csv", "app,func,end_timestamp,duration\na,f,1e10,0\n");
    assert_eq!(
        err(&spec, &dir.0),
        format!(
            "{} line 2, column end_timestamp: \"1e10\" is out of range, expected at most \
             3155760000 s (the longest span faasim simulates, 100 years)",
            dir.p("t.csv")
        )
    );
}

// ------------------------------------------------------------------ empty and header-only

#[test]
fn empty_files_are_errors_and_header_only_files_are_empty_workloads() {
    let dir = Scratch::new("empty");
    az19_files(&dir);
    dir.file("empty.csv", "");
    dir.file("blank.csv", "\n\r\n\n");
    let hw = |path: &str| {
        TraceSpec::Huawei2023(Huawei2023Spec {
            path: path.into(),
            duration_ms: DistSpec::Constant { value_ms: 5.0 },
            memory_mb: 128,
            spread: Spread::Equidistant,
            interval_s: 60.0,
        })
    };
    let az21 = |path: &str| {
        TraceSpec::Azure2021(Azure2021Spec {
            path: path.into(),
            unit: Default::default(),
        })
    };
    let llm = |path: &str| TraceSpec::AzureLlm2023(AzureLlm2023Spec::new(path));
    let cases: Vec<(TraceSpec, &str, &str)> =
        vec![
        (csv("empty.csv"), "empty.csv", "timestamp_ms, function, duration_ms, memory_mb"),
        (csv("blank.csv"), "blank.csv", "timestamp_ms, function, duration_ms, memory_mb"),
        (az21("empty.csv"), "empty.csv", "app, func, end_timestamp, duration"),
        (
            llm("empty.csv"),
            "empty.csv",
            "TIMESTAMP, ContextTokens, GeneratedTokens",
        ),
        (
            hw("empty.csv"),
            "empty.csv",
            "time, and one column of counts per function",
        ),
        (
            az19("empty.csv", "dur.csv", "mem.csv"),
            "empty.csv",
            "HashOwner, HashApp, HashFunction and minute columns 1 ... 1440",
        ),
        (
            az19("inv.csv", "empty.csv", "mem.csv"),
            "empty.csv",
            "HashOwner, HashApp, HashFunction, percentile_Average_0, ..., percentile_Average_100",
        ),
        (
            az19("inv.csv", "dur.csv", "empty.csv"),
            "empty.csv",
            "HashOwner, HashApp, AverageAllocatedMb_pct99",
        ),
    ];
    for (spec, file, columns) in cases {
        assert_eq!(
            err(&spec, &dir.0),
            format!(
                "{}: empty file, expected a header line with the columns {columns}",
                dir.p(file)
            )
        );
    }
    // A header and no rows: zero invocations, counted cleanly, and the checksum is there.
    dir.file("h_csv.csv", CSV_HEADER);
    dir.file("h_21.csv", "app,func,end_timestamp,duration\n");
    dir.file("h_llm.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\r\n");
    dir.file("h_hw.csv", "time,day,f1,f2\n");
    dir.file("h_inv.csv", "HashOwner,HashApp,HashFunction,Trigger,1,2\n");
    dir.file("h_dur.csv", DUR_HEADER);
    dir.file("h_mem.csv", "HashOwner,HashApp,AverageAllocatedMb_pct99\n");
    for spec in [
        csv("h_csv.csv"),
        az21("h_21.csv"),
        llm("h_llm.csv"),
        hw("h_hw.csv"),
        az19("h_inv.csv", "h_dur.csv", "h_mem.csv"),
    ] {
        let (t, n) = read(&spec, &dir.0, false).unwrap();
        assert_eq!((n, t.arrivals_read()), (0, 0), "{spec:?}");
        assert!(t.checksum_hex().is_some(), "{spec:?}");
    }
    // Header-only side files are fine: no memory rows means the Burr fallback.
    let (t, n) = read(&az19("inv.csv", "dur.csv", "h_mem.csv"), &dir.0, false).unwrap();
    assert_eq!((n, t.arrivals_read()), (7, 7));
}

// ------------------------------------------------------------------ messages that misled

#[test]
fn a_huge_timestamp_is_out_of_range_with_the_bound_stated() {
    let dir = Scratch::new("range");
    dir.file("t.csv", format!("{CSV_HEADER}0,f,1,128\n1e16,f,1,128\n"));
    assert_eq!(
        err(&csv("t.csv"), &dir.0),
        format!(
            "{} line 3, column timestamp_ms: \"1e16\" is out of range, expected at most \
             3155760000000 ms (the longest span faasim simulates, 100 years)",
            dir.p("t.csv")
        )
    );
    // The bound itself is accepted; negative numbers are still "expected >= 0".
    dir.file(
        "t.csv",
        format!("{CSV_HEADER}3155760000000,f,3155760000000,128\n"),
    );
    let mut t = open(&csv("t.csv"), &dir.0, 1).unwrap();
    let (a, _) = drain(t.source_mut());
    assert_eq!((a[0].time.0, a[0].duration.0), (MAX_SPAN_US, MAX_SPAN_US));
    dir.file("t.csv", format!("{CSV_HEADER}0,f,-1,128\n"));
    assert_eq!(
        err(&csv("t.csv"), &dir.0),
        format!(
            "{} line 2, column duration_ms: expected a number of milliseconds >= 0, got \"-1\"",
            dir.p("t.csv")
        )
    );
    dir.file(
        "t.csv",
        "timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n0,f,1,128,1e300\n",
    );
    assert!(err(&csv("t.csv"), &dir.0)
        .contains("line 2, column cold_start_ms: \"1e300\" is out of range"));
    // Lenient mode counts an out-of-range row like any bad row.
    dir.file(
        "t.csv",
        format!("{CSV_HEADER}0,f,1,128\n1e16,f,1,128\n2,f,1,128\n"),
    );
    let (t, n) = read(&csv("t.csv"), &dir.0, true).unwrap();
    assert_eq!((n, t.skipped_rows()), (2, 1));
}

#[test]
fn an_unclosed_quote_is_reported_on_its_own_line() {
    let dir = Scratch::new("quote");
    for nl in ["\n", "\r\n"] {
        dir.file(
            "t.csv",
            format!("timestamp_ms,function,duration_ms,memory_mb{nl}0,\"f,1,128{nl}1,f,1,128{nl}"),
        );
        assert_eq!(
            err(&csv("t.csv"), &dir.0),
            format!(
                "{} line 2: a quoted field is not closed before the end of the file",
                dir.p("t.csv")
            ),
            "{nl:?}"
        );
        // Further down, after blank lines, and without a final line end.
        dir.file(
            "t.csv",
            format!("timestamp_ms,function,duration_ms,memory_mb{nl}0,f,1,128{nl}{nl}1,f,1,\"128{nl}2,f,1,128"),
        );
        assert_eq!(
            err(&csv("t.csv"), &dir.0),
            format!(
                "{} line 4: a quoted field is not closed before the end of the file",
                dir.p("t.csv")
            ),
            "{nl:?}"
        );
    }
    // A last record without a final line end still reports its own line for other errors.
    dir.file("t.csv", format!("{CSV_HEADER}0,f,1,128\n1,f,x,128"));
    assert!(err(&csv("t.csv"), &dir.0).contains("line 3, column duration_ms"));
    dir.file("t.csv", format!("{CSV_HEADER}0,f,1,128\n1,f,1"));
    assert!(
        err(&csv("t.csv"), &dir.0).ends_with("line 3: expected 4 fields (as in the header), got 3")
    );
}

// ------------------------------------------------------ gigantic lines, binary, non-UTF-8

#[test]
fn dev_zero_and_gigantic_lines_fail_in_bounded_memory() {
    let max = MAX_RECORD_BYTES;
    let zero = Path::new("/dev/zero");
    if zero.exists() {
        let hw = Huawei2023Spec {
            path: "/dev/zero".into(),
            duration_ms: DistSpec::Constant { value_ms: 5.0 },
            memory_mb: 128,
            spread: Spread::Equidistant,
            interval_s: 60.0,
        };
        for spec in [
            csv("/dev/zero"),
            TraceSpec::Azure2021(Azure2021Spec {
                path: "/dev/zero".into(),
                unit: Default::default(),
            }),
            TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("/dev/zero")),
            TraceSpec::Huawei2023(hw),
            az19("/dev/zero", "/dev/zero", "/dev/zero"),
        ] {
            assert_eq!(
                err(&spec, Path::new("/")),
                format!(
                    "/dev/zero line 1: a record longer than {max} bytes (a line without end, an \
                     unclosed quote, or not a CSV text file)"
                )
            );
        }
    }
    let dir = Scratch::new("giant");
    // A gigantic line after good ones, in the middle of the file.
    let mut text = format!("{CSV_HEADER}0,f,1,128\n").into_bytes();
    text.extend_from_slice(&vec![b'7'; 3 << 20]);
    text.extend_from_slice(b",f,1,128\n5,f,1,128\n");
    dir.file("t.csv", &text);
    assert_eq!(
        err(&csv("t.csv"), &dir.0),
        format!(
            "{} line 3: a record longer than {max} bytes (a line without end, an unclosed \
             quote, or not a CSV text file)",
            dir.p("t.csv")
        )
    );
    // A quote opened on line 3 and never closed, over many lines.
    let mut text = format!("{CSV_HEADER}0,f,1,128\n1,\"f").into_bytes();
    for _ in 0..200_000 {
        text.extend_from_slice(b",1,128\n");
    }
    dir.file("t.csv", &text);
    assert!(err(&csv("t.csv"), &dir.0).ends_with("line 3: a record longer than 1048576 bytes (a line without end, an unclosed quote, or not a CSV text file)"));
    // Just under the bound is read (a long function name is refused by nothing else).
    let name = "n".repeat(1 << 19);
    dir.file("t.csv", format!("{CSV_HEADER}0,{name},1,128\n"));
    let (_, n) = read(&csv("t.csv"), &dir.0, false).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn binary_and_non_utf8_input_is_refused_with_the_file_named() {
    let dir = Scratch::new("binary");
    // Non-UTF-8 bytes in a header: the required column is not found.
    dir.file(
        "t.csv",
        b"timestamp_ms,\xff\xfe,duration_ms,memory_mb\n0,f,1,128\n",
    );
    let e = err(&csv("t.csv"), &dir.0);
    assert!(
        e.starts_with(&format!(
            "{} line 1: missing required column `function` (the header has: timestamp_ms, \u{fffd}\u{fffd}, duration_ms, memory_mb)",
            dir.p("t.csv")
        )),
        "{e}"
    );
    // In a number field.
    dir.file("t.csv", format!("{CSV_HEADER}0,f,1\u{0}\u{1},128\n"));
    assert!(err(&csv("t.csv"), &dir.0).contains("line 2, column duration_ms: expected a number"));
    // A binary blob with line ends: some line has the wrong number of fields.
    let blob: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    dir.file("b.csv", [CSV_HEADER.as_bytes(), &blob].concat());
    let e = err(&csv("b.csv"), &dir.0);
    assert!(e.starts_with(&format!("{} line ", dir.p("b.csv"))), "{e}");
}

// ------------------------------------------------------------------ sizes and generators

#[test]
fn generators_refuse_absurd_sizes_naming_the_key_and_the_limit() {
    let synthetic = |f: fn(&mut SyntheticSpec)| {
        let mut s = SyntheticSpec::default();
        f(&mut s);
        TraceSpec::Synthetic(s)
    };
    let azure_like = |f: fn(&mut AzureLikeSpec)| {
        let mut s = AzureLikeSpec::default();
        f(&mut s);
        TraceSpec::AzureLike(s)
    };
    let cases: Vec<(TraceSpec, &str)> = vec![
        (
            synthetic(|s| {
                s.functions = 10_000_000;
                s.rate_per_s = 0.0258;
            }),
            "synthetic trace, key `functions`: must be between 1 and 1000000, got 10000000",
        ),
        (
            azure_like(|s| {
                s.functions = 10_000_000;
                s.duration_s = 1.0;
            }),
            "azure-like trace, key `functions`: must be between 1 and 1000000, got 10000000",
        ),
        (
            synthetic(|s| s.rate_per_s = 1e9),
            "synthetic trace, key `rate_per_s`: rate_per_s × duration_s = 1000000000 × 3600 = \
             3.600e12 expected invocations, more than the 1e11 a generated trace may hold",
        ),
        (
            synthetic(|s| s.duration_s = 1e10),
            "synthetic trace, key `duration_s`: must be at most 3155760000 s (100 years, the \
             longest span faasim simulates), got 10000000000",
        ),
        (
            azure_like(|s| s.duration_s = 1e10),
            "azure-like trace, key `duration_s`: must be a number of seconds > 0 and at most \
             3155760000 (100 years, the longest span faasim simulates), got 10000000000",
        ),
        (
            azure_like(|s| s.rate_scale = 1e7),
            "azure-like trace, key `rate_scale`: must be a number from 1e-6 to 1e6, got 10000000",
        ),
        (
            synthetic(|s| s.duration_ms = Some(DistSpec::Exponential { mean_ms: 1e15 })),
            "synthetic trace, key `duration_ms`: `mean_ms` must be at most 3155760000000 ms \
             (100 years), got 1000000000000000",
        ),
    ];
    for (spec, expected) in cases {
        let e = open(&spec, Path::new("."), 1).unwrap_err().to_string();
        assert_eq!(e, expected);
    }
    // The azure-like bound on expected invocations is over the drawn population.
    let spec = azure_like(|s| {
        s.functions = 20_000;
        s.duration_s = 3e8;
    });
    let e = open(&spec, Path::new("."), 1).unwrap_err().to_string();
    assert!(
        e.starts_with("azure-like trace, key `rate_scale`: the 20000 functions at rate_scale 1 over duration_s 300000000 would make"),
        "{e}"
    );
    assert!(
        e.ends_with("invocations on average, more than the 1e11 a generated trace may hold"),
        "{e}"
    );
}

#[test]
fn generated_durations_beyond_the_span_are_errors_not_saturated() {
    // A lognormal so wide that draws leave the 100-year span: the first such draw stops the
    // generator with an error instead of an execution time of u64::MAX µs.
    let spec = TraceSpec::Synthetic(SyntheticSpec {
        duration_ms: Some(DistSpec::Lognormal {
            median_ms: 1e12,
            sigma: 50.0,
        }),
        ..SyntheticSpec::default()
    });
    let e = err(&spec, Path::new("."));
    assert!(
        e.starts_with("synthetic trace, key `duration_ms`: drew an execution time of "),
        "{e}"
    );
    assert!(e.ends_with("ms, more than 3155760000000 ms (100 years, the longest span faasim simulates); narrow the distribution"), "{e}");
    let spec = TraceSpec::Synthetic(SyntheticSpec {
        duration_sigma: 100.0,
        ..SyntheticSpec::default()
    });
    assert!(err(&spec, Path::new("."))
        .starts_with("synthetic trace, key `duration_sigma`: drew an execution time of "));
}

#[test]
fn huge_llm_token_counts_are_errors_naming_line_and_field() {
    let dir = Scratch::new("llm");
    dir.file(
        "t.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:17:03.9799600,100,10\n\
         2023-11-16 18:17:04.0000000,5,1000000000000000\n",
    );
    let spec = TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("t.csv"));
    assert_eq!(
        err(&spec, &dir.0),
        format!(
            "{} line 3, column GeneratedTokens: the modelled service time overhead_ms + \
             prefill_ms_per_token × ContextTokens + decode_ms_per_token × GeneratedTokens = \
             3.000000e16 ms (5 and 1000000000000000 tokens) is out of range, expected at most \
             3155760000000 ms (the longest span faasim simulates, 100 years)",
            dir.p("t.csv")
        )
    );
    dir.file(
        "t.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:17:03,1e15,0\n",
    );
    assert!(err(&spec, &dir.0).contains("line 2, column ContextTokens: the modelled service time"));
    // Lenient mode skips and counts such a row.
    dir.file(
        "t.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:17:03,1e15,0\n\
         2023-11-16 18:17:04,10,10\n",
    );
    let (t, n) = read(&spec, &dir.0, true).unwrap();
    assert_eq!((n, t.skipped_rows()), (1, 1));
    // A row more than 100 years after the first.
    dir.file(
        "t.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         1900-01-01 00:00:00,1,1\n\
         2023-11-16 18:17:04,10,10\n",
    );
    assert_eq!(
        err(&spec, &dir.0),
        format!(
            "{} line 3, column TIMESTAMP: \"2023-11-16 18:17:04\" is out of range, expected at \
             most 3155760000 s after the first row (the longest span faasim simulates, 100 \
             years)",
            dir.p("t.csv")
        )
    );
    let mut bad = AzureLlm2023Spec::new("t.csv");
    bad.overhead_ms = 1e300;
    assert_eq!(
        TraceSpec::AzureLlm2023(bad)
            .validate()
            .unwrap_err()
            .to_string(),
        "azure-llm-2023 trace, key `overhead_ms`: must be a number of ms from 0 to \
         3155760000000 (100 years), got 1e300"
    );
}

#[test]
fn times_that_could_overflow_are_refused() {
    let dir = Scratch::new("overflow");
    // Huawei: a time beyond the span (and one at u64's edge).
    for big in ["1e10", "18446744073709.551616"] {
        dir.file("h.csv", format!("time,f1\n0,1\n{big},1\n"));
        let spec = TraceSpec::Huawei2023(Huawei2023Spec {
            path: "h.csv".into(),
            duration_ms: DistSpec::Constant { value_ms: 5.0 },
            memory_mb: 128,
            spread: Spread::Equidistant,
            interval_s: 60.0,
        });
        assert_eq!(
            err(&spec, &dir.0),
            format!(
                "{} line 3, column time: \"{big}\" is out of range, expected at most \
                 3155760000 s (the longest span faasim simulates, 100 years)",
                dir.p("h.csv")
            )
        );
    }
    // Huawei: a duration distribution beyond the span.
    let spec = Huawei2023Spec {
        path: "h.csv".into(),
        duration_ms: DistSpec::Constant { value_ms: 1e16 },
        memory_mb: 128,
        spread: Spread::Equidistant,
        interval_s: 60.0,
    };
    assert_eq!(
        TraceSpec::Huawei2023(spec)
            .validate()
            .unwrap_err()
            .to_string(),
        "huawei2023 trace, key `duration_ms`: `value_ms` must be at most 3155760000000 ms (100 \
         years), got 1e16"
    );
    // Sampling windows.
    dir.file("t.csv", format!("{CSV_HEADER}0,f,1,128\n"));
    let opts = OpenOptions {
        lenient: false,
        sample: Some(SampleSpec {
            from_s: 1e300,
            ..SampleSpec::default()
        }),
    };
    assert_eq!(
        open_with(&csv("t.csv"), &dir.0, 1, &opts)
            .unwrap_err()
            .to_string(),
        "sample trace, key `from_s`: must be a number of seconds from 0 to 3155760000 (100 \
         years), got 1e300"
    );
    // The canonical CSV from a reader: the largest timestamp plus the largest duration still
    // fits with room to spare.
    let text = format!("{CSV_HEADER}3155760000000,f,3155760000000,128\n");
    let mut src = CsvSource::from_reader(text.as_bytes(), "mem.csv").unwrap();
    let a = src
        .next_arrival(&mut FunctionTable::new())
        .unwrap()
        .unwrap();
    assert!(a.time.0.checked_add(a.duration.0).is_some());
}
