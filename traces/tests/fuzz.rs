//! Property tests of every reader on arbitrary and mutated input: arbitrary bytes, and valid
//! files (fixtures, heads of the real samples) truncated, with fields swapped, numbers
//! replaced by NaN, infinities, huge or negative values, non-UTF-8 bytes inserted, lines
//! duplicated or dropped. For every input the reader (opened, then drained) must not panic,
//! must finish within [`HANG_LIMIT`], and must either succeed with sane arrivals (in time
//! order, within the 100-year span, a checksum once read to the end) or fail with one line
//! that names one of the trace's files. Strict and lenient mode both.
//!
//! The quick set ([`QUICK_CASES`] per reader) runs with every `cargo test`; the long set
//! ([`LONG_CASES`] per reader) is ignored by default:
//!
//! ```sh
//! cargo test --release -p faasim-traces --test fuzz -- --ignored fuzz --nocapture
//! ```
//!
//! `FAASIM_FUZZ_CASES=N` sets the number of cases of both sets, `FAASIM_FUZZ_SEED=N` draws
//! other cases than the fixed default seed.

mod common;

use faasim_sim::{ArrivalSource, FunctionTable};
use faasim_traces::limits::MAX_SPAN_US;
use faasim_traces::{
    open, open_with, ArrivalPattern, Azure2019Spec, Azure2021Spec, AzureLikeSpec, AzureLlm2023Spec,
    DeployUnit, Huawei2023Spec, MissingDurations, OpenOptions, Spread, SyntheticSpec, TraceSpec,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Cases per reader in the quick set.
const QUICK_CASES: u32 = 300;
/// Cases per reader in the long (ignored) set.
const LONG_CASES: u32 = 100_000;
/// A case that takes longer than this is a hang.
const HANG_LIMIT: Duration = Duration::from_secs(60);
/// Arrivals drained per case at most: a valid input may ask for millions (a count of 10⁷
/// in one minute), which is not a hang; the first ones are checked.
const DRAIN_LIMIT: u64 = 200_000;

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

// ------------------------------------------------------------------------ the targets

/// Which file of which reader is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Csv,
    Azure2019Invocations,
    Azure2019Durations,
    Azure2019Memory,
    Azure2021,
    AzureLlm,
    Huawei,
    Huawei2025Requests,
    Huawei2025Runtimes,
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(common::fixtures().join(rel)).unwrap()
}

/// The first `lines` lines of a real sample in `traces/samples`.
fn sample_head(rel: &str, lines: usize) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(rel);
    let text = std::fs::read(&path).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.split_inclusive(|&b| b == b'\n').take(lines) {
        out.extend_from_slice(line);
    }
    out
}

impl Target {
    /// The name of the fuzzed file.
    fn file(self) -> &'static str {
        match self {
            Target::Csv => "trace.csv",
            Target::Azure2019Invocations => "inv.csv",
            Target::Azure2019Durations => "dur.csv",
            Target::Azure2019Memory => "mem.csv",
            Target::Azure2021 => "t21.csv",
            Target::AzureLlm => "llm.csv",
            Target::Huawei => "hw.csv",
            Target::Huawei2025Requests => "req25.csv",
            Target::Huawei2025Runtimes => "rt25.csv",
        }
    }

    /// Valid files to start mutations from.
    fn seeds(self) -> Vec<Vec<u8>> {
        let mut v = match self {
            Target::Csv => vec![
                fixture("small.csv"),
                b"timestamp_ms,function,duration_ms,memory_mb\r\n0,\"a,b\",1.5,128\r\n\
                  0.5,\"say \"\"hi\"\"\",0,256\r\n\r\n7,a,2,128\r\n"
                    .to_vec(),
            ],
            Target::Azure2019Invocations => vec![
                fixture("azure2019/inv_a.csv"),
                fixture("azure2019/inv_b.csv"),
                fixture("azure2019/inv_window.csv"),
            ],
            Target::Azure2019Durations => vec![
                fixture("azure2019/dur_a.csv"),
                fixture("azure2019/dur_b.csv"),
                sample_head("azure2019-sample-10-realids/durations.csv", 4),
            ],
            Target::Azure2019Memory => vec![
                fixture("azure2019/mem_a.csv"),
                fixture("azure2019/mem_b.csv"),
                sample_head("azure2019-sample-400/400_mem.csv", 4),
            ],
            Target::Azure2021 => vec![
                fixture("azure2021/unsorted.csv"),
                sample_head("azure2021-head/Azure2021_200.csv", 12),
            ],
            Target::AzureLlm => vec![
                fixture("azure-llm-2023/small.csv"),
                sample_head("azure-llm-2023/AzureLLMInferenceTrace_code.csv", 12),
            ],
            Target::Huawei => vec![
                fixture("huawei2023/day_00.csv"),
                fixture("huawei2023/day_01.csv"),
            ],
            Target::Huawei2025Requests => vec![
                sample_head("huawei2025-fixtures/per_request/R1/part_01.csv", 12),
                sample_head("huawei2025-fixtures/per_request/R2/part_01.csv", 12),
            ],
            Target::Huawei2025Runtimes => vec![sample_head(
                "huawei2025-fixtures/runtime_triggerType/df_funcID_runtime_triggerType.csv",
                7,
            )],
        };
        v.retain(|s| !s.is_empty());
        v
    }

    /// The other files the trace needs, valid: `(name, bytes)`.
    fn side_files(self) -> Vec<(&'static str, Vec<u8>)> {
        let inv = ("inv.csv", fixture("azure2019/inv_a.csv"));
        let dur = ("dur.csv", fixture("azure2019/dur_a.csv"));
        let mem = ("mem.csv", fixture("azure2019/mem_a.csv"));
        match self {
            Target::Azure2019Invocations => vec![dur, mem],
            Target::Azure2019Durations => vec![inv, mem],
            Target::Azure2019Memory => vec![inv, dur],
            Target::Huawei2025Requests => vec![(
                "rt25.csv",
                sample_head(
                    "huawei2025-fixtures/runtime_triggerType/df_funcID_runtime_triggerType.csv",
                    7,
                ),
            )],
            Target::Huawei2025Runtimes => vec![(
                "req25.csv",
                sample_head("huawei2025-fixtures/per_request/R2/part_01.csv", 12),
            )],
            _ => vec![],
        }
    }

    /// The spec reading the files in their folder.
    fn spec(self, median: bool) -> TraceSpec {
        match self {
            Target::Csv => TraceSpec::Csv {
                path: "trace.csv".into(),
            },
            Target::Azure2019Invocations | Target::Azure2019Durations | Target::Azure2019Memory => {
                let mut s = Azure2019Spec::new("inv.csv", "dur.csv", "mem.csv");
                s.spread = if median {
                    Spread::Poisson
                } else {
                    Spread::Equidistant
                };
                s.unit = if median {
                    DeployUnit::Function
                } else {
                    DeployUnit::App
                };
                if median {
                    s.missing_durations = MissingDurations::Median;
                }
                TraceSpec::Azure2019(s)
            }
            Target::Azure2021 => TraceSpec::Azure2021(Azure2021Spec {
                path: "t21.csv".into(),
                unit: DeployUnit::Function,
            }),
            Target::AzureLlm => TraceSpec::AzureLlm2023(AzureLlm2023Spec::new("llm.csv")),
            Target::Huawei => TraceSpec::Huawei2023(Huawei2023Spec {
                path: "hw.csv".into(),
                duration_ms: faasim_sim::DistSpec::Lognormal {
                    median_ms: 100.0,
                    sigma: 1.0,
                },
                memory_mb: 256,
                spread: if median {
                    Spread::Uniform
                } else {
                    Spread::Equidistant
                },
                interval_s: 60.0,
            }),
            Target::Huawei2025Requests | Target::Huawei2025Runtimes => {
                TraceSpec::Huawei2025(faasim_traces::Huawei2025Spec {
                    path: "req25.csv".into(),
                    duration: if median {
                        faasim_traces::huawei2025::DurationColumn::Runtime
                    } else {
                        faasim_traces::huawei2025::DurationColumn::Worker
                    },
                    runtimes: Some("rt25.csv".into()),
                })
            }
        }
    }
}

// ------------------------------------------------------------------------- the inputs

/// One edit of a valid file.
#[derive(Debug, Clone)]
struct Op {
    kind: u8,
    a: u32,
    b: u32,
    c: u8,
}

/// Values that have broken parsers: not numbers, out of range, at the edges of types,
/// quotes, non-UTF-8, timestamps at the ends of the calendar.
const NASTY: [&[u8]; 34] = [
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"infinity",
    b"1e308",
    b"1e400",
    b"1e16",
    b"1e15",
    b"-1",
    b"-0",
    b"0",
    b"",
    b" ",
    b"18446744073709551616",
    b"18446744073709551615",
    b"4294967296",
    b"60000001",
    b"3155760000000",
    b"3155760000.000001",
    b"0.0000001",
    b"1e-300",
    b"\"",
    b"\"\"",
    b"\"a\nb\"",
    b"\xff\xfe",
    b"\x00",
    b"9999-12-31 23:59:59.9999999",
    b"0000-01-01 00:00:00",
    b"1900-02-29 00:00:00",
    b"2023-11-16T18:17:03Z",
    b"minute_0",
    b"1441",
    b"HashOwner",
];

/// Bytes inserted at random places.
const INSERTS: [&[u8]; 10] = [
    b"\xff",
    b"\xc3\x28",
    b"\x00",
    b"\"",
    b"\r",
    b"\n",
    b",",
    b"\r\n\r\n",
    b"\xef\xbb\xbf",
    b"\t",
];

/// A mostly-CSV alphabet for arbitrary text.
const ALPHABET: &[u8] = b"0123456789,,,..\n\n\r\"e-+ aAfxNI:T\xff";

#[derive(Debug, Clone)]
enum Input {
    Bytes(Vec<u8>),
    Mutated { seed: usize, ops: Vec<Op> },
}

#[derive(Debug, Clone)]
struct Case {
    input: Input,
    lenient: bool,
    median: bool,
}

fn case_strategy(seeds: usize) -> impl Strategy<Value = Case> {
    let op = (0u8..10, any::<u32>(), any::<u32>(), any::<u8>()).prop_map(|(kind, a, b, c)| Op {
        kind,
        a,
        b,
        c,
    });
    let input = prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..1200).prop_map(Input::Bytes),
        1 => proptest::collection::vec(proptest::sample::select(ALPHABET), 0..1200)
            .prop_map(Input::Bytes),
        6 => (0..seeds, proptest::collection::vec(op, 1..8))
            .prop_map(|(seed, ops)| Input::Mutated { seed, ops }),
    ];
    (input, any::<bool>(), any::<bool>()).prop_map(|(input, lenient, median)| Case {
        input,
        lenient,
        median,
    })
}

/// Byte ranges of the maximal runs of number-like bytes.
fn number_tokens(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in text.iter().enumerate() {
        let num = b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+' | b':');
        match (num, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// The lines of `text`, each with its line end.
fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(mut text: Vec<u8>, op: &Op) -> Vec<u8> {
    let (a, b, c) = (op.a as usize, op.b as usize, op.c as usize);
    match op.kind {
        // Truncate.
        0 => {
            let cut = a % (text.len() + 1);
            text.truncate(cut);
        }
        // A number replaced by a nasty value.
        1 | 2 => {
            let tokens = number_tokens(&text);
            if !tokens.is_empty() {
                let (s, e) = tokens[a % tokens.len()];
                text.splice(s..e, NASTY[b % NASTY.len()].iter().copied());
            }
        }
        // Two fields of a line swapped.
        3 => {
            let mut ls = lines(&text);
            if !ls.is_empty() {
                let i = a % ls.len();
                let body_len = ls[i]
                    .iter()
                    .rposition(|&x| x != b'\n' && x != b'\r')
                    .map_or(0, |p| p + 1);
                let (body, end) = ls[i].split_at(body_len);
                let mut fields: Vec<Vec<u8>> =
                    body.split(|&x| x == b',').map(<[u8]>::to_vec).collect();
                let k = fields.len();
                fields.swap(b % k, c % k);
                let mut line = fields.join(&b","[..]);
                line.extend_from_slice(end);
                ls[i] = line;
                text = ls.concat();
            }
        }
        // Bytes inserted.
        4 => {
            let at = a % (text.len() + 1);
            let ins = INSERTS[b % INSERTS.len()];
            text.splice(at..at, ins.iter().copied());
        }
        // A line duplicated (anywhere).
        5 => {
            let mut ls = lines(&text);
            if !ls.is_empty() {
                let mut l = ls[a % ls.len()].clone();
                if !l.ends_with(b"\n") {
                    l.push(b'\n');
                }
                let at = b % (ls.len() + 1);
                ls.insert(at, l);
                text = ls.concat();
            }
        }
        // A line dropped.
        6 => {
            let mut ls = lines(&text);
            if !ls.is_empty() {
                ls.remove(a % ls.len());
                text = ls.concat();
            }
        }
        // A byte changed.
        7 => {
            if !text.is_empty() {
                let i = a % text.len();
                text[i] = c as u8;
            }
        }
        // A whole field replaced by a nasty value.
        8 => {
            let commas: Vec<usize> = text
                .iter()
                .enumerate()
                .filter(|(_, &x)| x == b',')
                .map(|(i, _)| i)
                .collect();
            if !commas.is_empty() {
                let s = commas[a % commas.len()] + 1;
                let e = text[s..]
                    .iter()
                    .position(|&x| x == b',' || x == b'\n' || x == b'\r')
                    .map_or(text.len(), |p| s + p);
                text.splice(s..e, NASTY[b % NASTY.len()].iter().copied());
            }
        }
        // A line repeated many times (a long file from a short one).
        _ => {
            let ls = lines(&text);
            if ls.len() > 1 {
                let mut l = ls[1 + a % (ls.len() - 1)].clone();
                if !l.ends_with(b"\n") {
                    l.push(b'\n');
                }
                for _ in 0..(b % 200) {
                    text.extend_from_slice(&l);
                }
            }
        }
    }
    text
}

fn materialise(input: &Input, seeds: &[Vec<u8>]) -> Vec<u8> {
    match input {
        Input::Bytes(b) => b.clone(),
        Input::Mutated { seed, ops } => ops.iter().fold(seeds[*seed % seeds.len()].clone(), apply),
    }
}

// ------------------------------------------------------------------------- the check

/// What reading one input gave: arrivals drained, whether the drain stopped at the limit,
/// and the checksum; or the error message.
type Outcome = Result<(u64, bool, Option<String>), String>;

/// Opens and drains `spec` in `dir`, checking every arrival on the way.
fn read(spec: &TraceSpec, dir: &Path, lenient: bool) -> Outcome {
    let opts = OpenOptions {
        lenient,
        sample: None,
    };
    let mut t = open_with(spec, dir, 1, &opts).map_err(|e| e.to_string())?;
    let mut table = FunctionTable::new();
    let mut n = 0;
    let mut last = 0;
    loop {
        match t.source_mut().next_arrival(&mut table) {
            Ok(Some(a)) => {
                assert!(
                    a.time.0 >= last,
                    "arrivals out of order: {} after {last}",
                    a.time.0
                );
                last = a.time.0;
                assert!(
                    a.time.0 <= MAX_SPAN_US + 3_600_000_000,
                    "time {} beyond the span",
                    a.time.0
                );
                assert!(
                    a.duration.0 <= MAX_SPAN_US,
                    "duration {} beyond the span",
                    a.duration.0
                );
                assert!(a.function.index() < table.len(), "unregistered function");
                n += 1;
                if n >= DRAIN_LIMIT {
                    return Ok((n, true, None));
                }
            }
            Ok(None) => return Ok((n, false, t.checksum_hex())),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Runs `read` on a thread of its own: a panic is reported with its message, and a read
/// that does not finish within [`HANG_LIMIT`] is a hang.
fn read_guarded(spec: TraceSpec, dir: PathBuf, lenient: bool) -> Result<Outcome, String> {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(read(&spec, &dir, lenient));
    });
    match rx.recv_timeout(HANG_LIMIT) {
        Ok(outcome) => {
            let _ = handle.join();
            Ok(outcome)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "the reader did not finish within {} s",
            HANG_LIMIT.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = handle.join().expect_err("the reader thread panicked");
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("the reader panicked: {msg}"))
        }
    }
}

/// A scratch folder per target, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("faasim-traces-fuzz-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `n` cases against `target`; prints how many and how long.
fn fuzz_reader(target: Target, n: u32) {
    let scratch = Scratch::new(&format!("{target:?}"));
    let dir = scratch.0.clone();
    for (name, bytes) in target.side_files() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let seeds = target.seeds();
    let files: Vec<String> = [target.file()]
        .into_iter()
        .chain(target.side_files().iter().map(|(n, _)| *n))
        .map(|f| dir.join(f).display().to_string())
        .collect();
    let outcomes: [Cell<u64>; 3] = Default::default();
    let start = Instant::now();
    let mut runner = runner(n);
    let result = runner.run(&case_strategy(seeds.len()), |case| {
        let bytes = materialise(&case.input, &seeds);
        std::fs::write(dir.join(target.file()), &bytes).unwrap();
        let outcome = read_guarded(target.spec(case.median), dir.clone(), case.lenient)
            .map_err(TestCaseError::fail)?;
        match outcome {
            Ok((_, true, _)) => outcomes[1].set(outcomes[1].get() + 1),
            Ok((_, false, checksum)) => {
                prop_assert!(checksum.is_some(), "read to its end without a checksum");
                outcomes[0].set(outcomes[0].get() + 1);
            }
            Err(e) => {
                prop_assert!(!e.contains('\n'), "a message of several lines: {e:?}");
                prop_assert!(
                    files.iter().any(|f| e.contains(f.as_str())),
                    "the message names none of the files: {e:?}"
                );
                outcomes[2].set(outcomes[2].get() + 1);
            }
        }
        Ok(())
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fuzz {target:?}: {n} cases in {secs:.1} s ({} read to the end, {} stopped at \
         {DRAIN_LIMIT} arrivals, {} errors; shrinking included)",
        outcomes[0].get(),
        outcomes[1].get(),
        outcomes[2].get()
    );
    if let Err(e) = result {
        panic!("{target:?}: {e}");
    }
}

/// The Huawei 2025 cold-start table is a distribution, not a trace: arbitrary and mutated
/// files are read whole, and end in a table or a one-line error naming the file.
fn fuzz_cold_start_table(n: u32) {
    use faasim_traces::huawei2025::ColdStartTable;
    let scratch = Scratch::new("hw25-cold");
    let path = scratch.0.join("cold.csv");
    let seeds: Vec<Vec<u8>> = [
        sample_head("huawei2025-fixtures/cold_start/R1/day_29.csv", 8),
        sample_head("huawei2025-fixtures/cold_start/R2/day_30.csv", 8),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect();
    let name = path.display().to_string();
    let mut runner = runner(n);
    let result = runner.run(&case_strategy(seeds.len()), |case| {
        std::fs::write(&path, materialise(&case.input, &seeds)).unwrap();
        match ColdStartTable::read(std::slice::from_ref(&path)) {
            Ok(t) => prop_assert!(t
                .starts
                .iter()
                .all(|s| s.total_us() <= 5 * faasim_sim::TIME_LIMIT.0)),
            Err(e) => {
                let e = e.to_string();
                prop_assert!(!e.contains('\n'), "a message of several lines: {e:?}");
                prop_assert!(
                    e.contains(name.as_str()),
                    "the message names no file: {e:?}"
                );
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("cold-start table: {e}");
    }
}

#[test]
fn fuzz_quick_huawei2025_cold_starts() {
    fuzz_cold_start_table(cases(QUICK_CASES));
}

#[test]
#[ignore = "long: cargo test --release -p faasim-traces --test fuzz -- --ignored fuzz"]
fn fuzz_long_huawei2025_cold_starts() {
    fuzz_cold_start_table(cases(LONG_CASES));
}

// ----------------------------------------------------------------- the generators

#[derive(Debug, Clone)]
struct GenCase {
    synthetic: bool,
    functions: u32,
    /// Per parameter: an edge value, or `None` for a valid default-like one.
    values: Vec<Option<f64>>,
    bursty: bool,
}

/// Parameter values at the edges.
const EDGES: [f64; 18] = [
    0.0,
    -1.0,
    1e-300,
    1e-9,
    1e-6,
    0.3,
    1.0,
    5.0,
    60.0,
    3600.0,
    1e6,
    1e9,
    1e13,
    1e16,
    1e300,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

fn gen_strategy() -> impl Strategy<Value = GenCase> {
    (
        any::<bool>(),
        prop_oneof![
            4 => proptest::sample::select(vec![1u32, 2, 7, 50, 300]),
            1 => proptest::sample::select(vec![0u32, 1_000_001, 10_000_000, u32::MAX]),
        ],
        proptest::collection::vec(
            prop_oneof![
                12 => Just(None),
                1 => proptest::sample::select(EDGES.to_vec()).prop_map(Some),
            ],
            12,
        ),
        any::<bool>(),
    )
        .prop_map(|(synthetic, functions, values, bursty)| GenCase {
            synthetic,
            functions,
            values,
            bursty,
        })
}

fn gen_spec(c: &GenCase) -> TraceSpec {
    let v = &c.values;
    let pick = |i: usize, default: f64| v[i].unwrap_or(default);
    if c.synthetic {
        TraceSpec::Synthetic(SyntheticSpec {
            functions: c.functions,
            duration_s: pick(0, 600.0),
            rate_per_s: pick(1, 10.0),
            zipf_s: pick(2, 1.0),
            arrivals: if c.bursty {
                ArrivalPattern::Bursty
            } else {
                ArrivalPattern::Poisson
            },
            burst_factor: pick(3, 5.0),
            burst_on_s: pick(4, 10.0),
            burst_off_s: pick(5, 50.0),
            duration_median_ms: pick(6, 100.0),
            duration_sigma: pick(7, 1.0),
            invocation_sigma: pick(8, 0.3),
            duration_ms: None,
            memory_median_mb: pick(9, 256.0),
            memory_sigma: pick(10, 0.5),
            memory_min_mb: 128,
            memory_max_mb: 3008,
            memory_mb: None,
        })
    } else {
        TraceSpec::AzureLike(AzureLikeSpec {
            functions: c.functions,
            duration_s: pick(0, 600.0),
            rate_scale: pick(1, 1.0),
            invocation_sigma: pick(2, 0.5),
            timer_jitter_ms: pick(3, 100.0),
        })
    }
}

fn fuzz_generators(n: u32) {
    let generated = Cell::new(0u32);
    let start = Instant::now();
    let mut runner = runner(n);
    let result = runner.run(&gen_strategy(), |case| {
        let spec = gen_spec(&case);
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let out = open(&spec, Path::new("."), 1)
                .map_err(|e| e.to_string())
                .and_then(|mut t| {
                    let horizon = t.horizon();
                    let mut table = FunctionTable::new();
                    let mut last = 0;
                    for _ in 0..2_000 {
                        match t.source_mut().next_arrival(&mut table) {
                            Ok(Some(a)) => {
                                assert!(a.time.0 >= last);
                                last = a.time.0;
                                assert!(horizon.is_none_or(|h| a.time < h));
                                assert!(a.duration.0 <= MAX_SPAN_US);
                            }
                            Ok(None) => break,
                            Err(e) => return Err(e.to_string()),
                        }
                    }
                    Ok(())
                });
            let _ = tx.send(out);
        });
        let out = match rx.recv_timeout(HANG_LIMIT) {
            Ok(out) => out,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(TestCaseError::fail("the generator did not finish"))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                return Err(TestCaseError::fail("the generator panicked"));
            }
        };
        let _ = handle.join();
        match out {
            Ok(()) => generated.set(generated.get() + 1),
            Err(e) => {
                prop_assert!(!e.contains('\n'), "{e:?}");
                prop_assert!(e.contains(" trace, key `"), "names no key: {e:?}");
            }
        }
        Ok(())
    });
    println!(
        "fuzz generators: {n} cases in {:.1} s ({} generated, the others refused; shrinking \
         included)",
        start.elapsed().as_secs_f64(),
        generated.get()
    );
    if let Err(e) = result {
        panic!("generators: {e}");
    }
}

// ------------------------------------------------------------------------- the tests

macro_rules! fuzz_tests {
    ($($quick:ident, $long:ident => $target:expr;)*) => {
        $(
            #[test]
            fn $quick() {
                fuzz_reader($target, cases(QUICK_CASES));
            }

            #[test]
            #[ignore = "long: cargo test --release -p faasim-traces --test fuzz -- --ignored fuzz"]
            fn $long() {
                fuzz_reader($target, cases(LONG_CASES));
            }
        )*
    };
}

fuzz_tests! {
    fuzz_quick_csv, fuzz_long_csv => Target::Csv;
    fuzz_quick_azure2019_invocations, fuzz_long_azure2019_invocations => Target::Azure2019Invocations;
    fuzz_quick_azure2019_durations, fuzz_long_azure2019_durations => Target::Azure2019Durations;
    fuzz_quick_azure2019_memory, fuzz_long_azure2019_memory => Target::Azure2019Memory;
    fuzz_quick_azure2021, fuzz_long_azure2021 => Target::Azure2021;
    fuzz_quick_azure_llm, fuzz_long_azure_llm => Target::AzureLlm;
    fuzz_quick_huawei, fuzz_long_huawei => Target::Huawei;
    fuzz_quick_huawei2025_requests, fuzz_long_huawei2025_requests => Target::Huawei2025Requests;
    fuzz_quick_huawei2025_runtimes, fuzz_long_huawei2025_runtimes => Target::Huawei2025Runtimes;
}

#[test]
fn fuzz_quick_generators() {
    fuzz_generators(cases(QUICK_CASES));
}

#[test]
#[ignore = "long: cargo test --release -p faasim-traces --test fuzz -- --ignored fuzz"]
fn fuzz_long_generators() {
    fuzz_generators(cases(LONG_CASES));
}

/// The mutations do what they say (a check of the harness itself).
#[test]
fn mutations_edit_the_text_as_described() {
    let text = b"a,b,c\n1,2.5,x\n3,4,y\n".to_vec();
    let op = |kind, a, b, c| Op { kind, a, b, c };
    assert_eq!(apply(text.clone(), &op(0, 4, 0, 0)), b"a,b,");
    // Token 1 is "2.5"; NASTY[0] is NaN.
    assert_eq!(
        apply(text.clone(), &op(1, 1, 0, 0)),
        b"a,b,c\n1,NaN,x\n3,4,y\n"
    );
    assert_eq!(
        apply(text.clone(), &op(3, 1, 0, 2)),
        b"a,b,c\nx,2.5,1\n3,4,y\n"
    );
    assert_eq!(
        apply(text.clone(), &op(4, 0, 0, 0)),
        b"\xffa,b,c\n1,2.5,x\n3,4,y\n"
    );
    assert_eq!(
        apply(text.clone(), &op(5, 2, 0, 0)),
        b"3,4,y\na,b,c\n1,2.5,x\n3,4,y\n"
    );
    assert_eq!(apply(text.clone(), &op(6, 0, 0, 0)), b"1,2.5,x\n3,4,y\n");
    assert_eq!(
        apply(text.clone(), &op(7, 0, 0, b'z')),
        b"z,b,c\n1,2.5,x\n3,4,y\n"
    );
    assert_eq!(
        apply(text.clone(), &op(8, 3, 9, 0)),
        b"a,b,c\n1,2.5,-1\n3,4,y\n"
    );
    assert_eq!(
        apply(text.clone(), &op(9, 1, 2, 0)),
        b"a,b,c\n1,2.5,x\n3,4,y\n3,4,y\n3,4,y\n"
    );
    assert_eq!(number_tokens(b"1,2.5,x"), [(0, 1), (2, 5)]);
}
