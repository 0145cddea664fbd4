//! Workflows through the engine: hand-traced cascades, data passing, joins, maps, direct
//! calls' double billing, pre-warming, Durable replays, and bad definitions.

use crate::common::*;
use faasim_sim::{run_extended, CpuModel, EngineConfig, VecRecorder, VecSource};
use faasim_workflows::{
    orchestration, DataSpec, ExecutionRecord, RuntimeConfig, WorkflowReport, WorkflowSource,
    WorkflowSpec, Workflows,
};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

fn defs(toml_text: &str) -> BTreeMap<String, WorkflowSpec> {
    #[derive(serde::Deserialize)]
    struct F {
        workflows: BTreeMap<String, WorkflowSpec>,
    }
    toml::from_str::<F>(toml_text)
        .expect("valid TOML definitions")
        .workflows
}

struct Run {
    report: WorkflowReport,
    execs: Vec<ExecutionRecord>,
    rec: VecRecorder,
    stats: faasim_sim::RunStats,
}

/// Runs `text`'s workflows with one trace row of `wf` at each instant of `at_ms`, on one
/// worker of 4 GiB, cold start 100 ms, fixed keep-alive `ttl_s`, durations as given.
fn run_wf(text: &str, wf: &str, at_ms: &[u64], ttl_s: f64, data: DataSpec) -> Run {
    let mut cfg: EngineConfig = config(4096, 4, 100.0);
    cfg.cpu = CpuModel::Ignore;
    run_cfg(text, wf, at_ms, ttl_s, data, cfg)
}

fn run_cfg(
    text: &str,
    wf: &str,
    at_ms: &[u64],
    ttl_s: f64,
    data: DataSpec,
    cfg: EngineConfig,
) -> Run {
    let wfs = Workflows::compile(&defs(text)).expect("valid definitions");
    let execs = Rc::new(RefCell::new(Vec::new()));
    let sink_execs = execs.clone();
    let rt = RuntimeConfig {
        data,
        seed: cfg.seed,
        cold_start_estimate_us: vec![100 * MS; wfs.functions.len()],
    };
    let (ext, handle) = orchestration(
        wfs.clone(),
        rt,
        Some(Box::new(move |r: &ExecutionRecord| {
            sink_execs.borrow_mut().push(*r)
        })),
    );
    let mut inner = VecSource::new(
        vec![func(wf, 1)],
        at_ms.iter().map(|&t| arr(t * MS, 0, MS)).collect(),
    );
    let mut rec = VecRecorder::default();
    let report = run_extended(
        &cfg,
        policies(&fixed(ttl_s, true)),
        None,
        Some(Box::new(ext)),
        &mut WorkflowSource::new(&mut inner, wfs.functions.clone()),
        &mut rec,
    )
    .expect("the run succeeds");
    rec.invocations.sort_by_key(|r| r.id);
    let execs = execs.borrow().clone();
    Run {
        report: handle.finish(),
        execs,
        rec,
        stats: report.stats,
    }
}

/// Direct passing at infinite bandwidth: bytes move in no time.
fn no_data() -> DataSpec {
    DataSpec {
        passing: faasim_workflows::Passing::Direct,
        network_mb_per_s: f64::INFINITY,
        local_mb_per_s: f64::INFINITY,
        ..DataSpec::default()
    }
}

const CHAIN3: &str = r#"
[workflows.etl]
start = "a"
transition_ms = 10
[workflows.etl.states.a]
type = "task"
function = "fa"
duration_ms = 200
memory_mb = 512
output_bytes = 1000000
next = "b"
[workflows.etl.states.b]
type = "task"
function = "fb"
duration_ms = 100
memory_mb = 256
next = "c"
[workflows.etl.states.c]
type = "task"
function = "fc"
duration_ms = 50
memory_mb = 256
"#;

#[test]
fn a_chain_cascades_cold_starts_with_transitions_and_storage_passing() {
    // Cold start 100 ms, transitions 10 ms, a → b carries 1 MB through storage: a put and a
    // get, each 20 ms + 10^6 B / 75 MB/s = 20 + 13.334 ms (rounded up to the µs), so
    // 66.668 ms in all.
    // Execution 0 (row at 0): a arrives 10, cold to 110, runs to 310; b arrives 310 + 10 +
    //   66.668 = 386.668, cold to 486.668, runs to 586.668; c arrives 596.668, cold to
    //   696.668, runs to 746.668: 3 × (100 + duration) + 3 × 10 + 66.668 = 746.668 ms.
    // Execution 1 (row at 10 s): all warm: 10 + 200 + 10 + 66.668 + 100 + 10 + 50 = 446.668.
    let r = run_wf(CHAIN3, "etl", &[0, 10_000], 600.0, DataSpec::default());
    let lat: Vec<u64> = r.execs.iter().map(|e| e.latency_us()).collect();
    assert_eq!(lat, vec![746_668, 446_668]);
    let e0 = &r.execs[0];
    assert_eq!(
        (
            e0.path.exec_us,
            e0.path.cold_us,
            e0.path.transition_us,
            e0.path.data_us
        ),
        (350_000, 300_000, 30_000, 66_668)
    );
    assert_eq!(e0.overhead_us(), 746_668 - 350_000);
    assert_eq!((e0.cold_starts, r.execs[1].cold_starts), (3, 0));
    let w = &r.report.workflows[0];
    assert_eq!((w.executions, w.completed, w.transitions), (2, 2, 6));
    assert_eq!(w.bytes, 2_000_000);
    // 6 transitions at $0.000025 (Standard) and 2 puts + 2 gets.
    assert_eq!(r.report.usage.standard_transitions, 6);
    assert_eq!(
        (r.report.usage.storage_puts, r.report.usage.storage_gets),
        (2, 2)
    );
    // The workflow row itself is no invocation: 6 task invocations in all.
    assert_eq!(r.stats.invocations, 6);
    // Task arrivals (ids in arrival order): a @10, b @386.668, c @596.668 ms.
    assert_eq!(
        r.rec.invocations[..3]
            .iter()
            .map(|x| x.arrival.as_micros())
            .collect::<Vec<_>>(),
        vec![10_000, 386_668, 596_668]
    );
}

#[test]
fn direct_passing_within_a_worker_is_local() {
    // Direct passing: at a's end (second execution, all warm) the worker holds a free
    // warm instance of b, so 1 MB moves at 10,000 MB/s: 100 µs. The first execution's b is
    // not warm yet: 1 MB over the network at 1,250 MB/s = 800 µs.
    let data = DataSpec {
        passing: faasim_workflows::Passing::Direct,
        ..DataSpec::default()
    };
    let r = run_wf(CHAIN3, "etl", &[0, 10_000], 600.0, data);
    let d: Vec<u64> = r.execs.iter().map(|e| e.data_us).collect();
    assert_eq!(d, vec![800, 100]);
    assert_eq!(
        r.execs[1].latency_us(),
        10_000 + 200_000 + 10_000 + 100 + 100_000 + 10_000 + 50_000
    );
    assert_eq!(r.report.usage.storage_puts, 0);
}

#[test]
fn direct_calls_bill_the_caller_while_it_waits() {
    // orchestrator = "direct", transition 10 ms, warm run (second execution at 10 s):
    // a runs 10 → 210 ms of its row, calls b (10 ms) which runs 220 → 320, calls c (10 ms),
    // 330 → 380. a and b are held until c ends at 380: a is billed 380 − 10 = 370 ms, b
    // 380 − 220 = 160 ms, c 50 ms (AWS Lambda x86, 1 ms granularity).
    let text = CHAIN3.replace("start = \"a\"", "start = \"a\"\norchestrator = \"direct\"");
    let r = run_wf(&text, "etl", &[0, 10_000], 600.0, no_data());
    let warm: Vec<_> = r.rec.invocations[3..].to_vec();
    let billed: Vec<u64> = warm.iter().map(|x| x.charge.billed_ms).collect();
    assert_eq!(billed, vec![370, 160, 50]);
    assert_eq!(
        warm.iter().map(|x| x.end.as_micros()).collect::<Vec<_>>(),
        vec![10_380_000, 10_380_000, 10_380_000]
    );
    // End to end is unchanged by the holding: 10 + 200 + 10 + 100 + 10 + 50 = 380 ms.
    assert_eq!(r.execs[1].latency_us(), 380_000);
    assert_eq!(r.report.usage.standard_transitions, 0);
    // The double billing: 370 + 160 + 50 = 580 billed ms against 350 ms of execution.
    assert_eq!(billed.iter().sum::<u64>(), 580);
}

#[test]
fn a_parallel_join_waits_for_the_slowest_branch_and_a_map_runs_in_waves() {
    // Warm second execution, transition 10 ms, no data.
    // p (parallel) entered at 10; branches x (200 ms) and y (map of 5 items of 30 ms, 2 at
    // once) each enter at 20. x runs 20 → 220. y: items 1-2 run 20 → 50; items 3-4 start
    // after one transition, 60 → 90; item 5: 100 → 130. Join at max(220, 130) = 220; z
    // entered at 230, runs 230 → 280 ms.
    // Transitions: p, x, y, 5 items, z = 9.
    let text = r#"
[workflows.w]
start = "p"
transition_ms = 10
[workflows.w.states.p]
type = "parallel"
branches = ["x", "y"]
next = "z"
[workflows.w.states.x]
type = "task"
function = "fx"
duration_ms = 200
memory_mb = 128
[workflows.w.states.y]
type = "map"
function = "fy"
items = 5
max_concurrency = 2
duration_ms = 30
memory_mb = 128
[workflows.w.states.z]
type = "task"
function = "fz"
duration_ms = 50
memory_mb = 128
"#;
    let r = run_wf(text, "w", &[0, 10_000], 600.0, no_data());
    assert_eq!(r.execs[1].latency_us(), 280_000);
    assert_eq!(r.execs[1].transitions, 9);
    assert_eq!(r.execs[1].tasks, 7);
    // Critical path: p's branch x (200 ms) then z (50 ms); transitions p, x, z.
    assert_eq!(r.execs[1].path.exec_us, 250_000);
    assert_eq!(r.execs[1].path.transition_us, 30_000);
    // The map's lanes: items start at 20, 20, 60, 60, 100 ms of the row.
    let fy: Vec<u64> = r
        .rec
        .invocations
        .iter()
        .filter(|x| x.arrival.as_micros() >= 10 * S && x.function.0 == 1)
        .map(|x| x.start.as_micros() - 10 * S)
        .collect();
    assert_eq!(fy, vec![20_000, 20_000, 60_000, 60_000, 100_000]);
}

#[test]
fn speculative_prewarming_removes_the_cascade_after_the_first_step() {
    // Keep-alive 0.5 s, executions 10 s apart: every step is cold when reactive. Speculative: entering a (at 10 ms) pre-warms b (ready 110 ms, idle
    // until b arrives at 320 ms: warm); entering b pre-warms c the same way. Only a is
    // cold: 10 + 100 + 200 + 10 + 100 + 10 + 50 = 480 ms instead of 680.
    let reactive = run_wf(CHAIN3, "etl", &[0, 10_000], 0.5, no_data());
    let lat: Vec<u64> = reactive.execs.iter().map(|e| e.latency_us()).collect();
    assert_eq!(lat, vec![680_000, 680_000]);
    let text = CHAIN3.replace("start = \"a\"", "start = \"a\"\nprewarm = \"speculative\"");
    let spec = run_wf(&text, "etl", &[0, 10_000], 0.5, no_data());
    let lat: Vec<u64> = spec.execs.iter().map(|e| e.latency_us()).collect();
    assert_eq!(lat, vec![480_000, 480_000]);
    assert_eq!(spec.execs[0].cold_starts, 1);
    // The pre-warmed instances idled from ready to use (b 100 → 320 ms, c 100 → 430 ms):
    // more idle memory than reactive.
    assert!(spec.stats.wasted_memory_gb_s() > reactive.stats.wasted_memory_gb_s());
}

#[test]
fn just_in_time_prewarming_starts_the_successor_at_its_predicted_need() {
    // JIT, from the execution's start at 0: a is expected to be entered at 10 ms (one mean
    // transition), b at 10 + 200 + 10 = 220 ms, c at 220 + 100 + 10 = 330 ms; with cold
    // starts of 100 ms, b's instance starts at 120 (ready 220) and c's at 230 (ready 330).
    // a itself is cold, so b arrives at 320 and c at 430: both warm. 480 ms.
    let text = CHAIN3.replace("start = \"a\"", "start = \"a\"\nprewarm = \"just-in-time\"");
    let r = run_wf(&text, "etl", &[0], 0.5, no_data());
    assert_eq!(r.execs[0].latency_us(), 480_000);
    assert_eq!(r.execs[0].cold_starts, 1);
}

#[test]
fn durable_replays_are_billed_invocations_of_an_orchestrator_function() {
    // Durable, transition (queue delay) 10 ms, replay 5 ms, warm (second execution):
    // replay 1 at 10 → 15 submits a; a 15 → 215; replay 2 at 225 → 230 submits b, 230 →
    // 330; replay 3 340 → 345, c 345 → 395; replay 4 at 405 → 410: the end. 410 ms, 4
    // replays, each 4 storage transactions.
    let text = CHAIN3.replace("start = \"a\"", "start = \"a\"\norchestrator = \"durable\"");
    let r = run_wf(&text, "etl", &[0, 10_000], 600.0, no_data());
    assert_eq!(r.execs[1].latency_us(), 410_000);
    assert_eq!(r.execs[1].replays, 4);
    assert_eq!(r.report.usage.durable_transactions, 2 * 4 * 4);
    // 3 tasks + 4 replays per execution are engine invocations.
    assert_eq!(r.stats.invocations, 2 * 7);
    assert!(r.report.usage.durable_replay_cost > faasim_sim::Money::ZERO);
}

#[test]
fn choices_draw_from_the_workflow_stream_deterministically() {
    let text = r#"
[workflows.w]
start = "r"
transition_ms = 0
[workflows.w.states.r]
type = "choice"
choices = [{ next = "a", weight = 0.9 }, { next = "b", weight = 0.1 }]
[workflows.w.states.a]
type = "task"
function = "fa"
duration_ms = 1
memory_mb = 128
[workflows.w.states.b]
type = "task"
function = "fb"
duration_ms = 1
memory_mb = 128
"#;
    let at: Vec<u64> = (0..2000).map(|i| i * 10).collect();
    let one = run_wf(text, "w", &at, 600.0, no_data());
    let two = run_wf(text, "w", &at, 600.0, no_data());
    let fb = |r: &Run| {
        r.rec
            .invocations
            .iter()
            .filter(|x| x.function.0 == 1)
            .count()
    };
    assert_eq!(fb(&one), fb(&two));
    assert_eq!(one.execs, two.execs);
    // About 10% take b: 200 expected, sd √(2000 × 0.09) ≈ 13.4; within 4 sd.
    assert!((146..=254).contains(&fb(&one)), "{}", fb(&one));
}

#[test]
fn bad_definitions_are_errors_naming_workflow_state_and_key() {
    let base = |extra: &str| {
        format!(
            "[workflows.w]\nstart = \"a\"\n[workflows.w.states.a]\ntype = \"task\"\nfunction = \"f\"\nduration_ms = 1\nmemory_mb = 128\n{extra}"
        )
    };
    let err = |t: &str| Workflows::compile(&defs(t)).unwrap_err().to_string();
    assert_eq!(
        err(&base("next = \"nope\"\n")),
        "workflow `w`, state `a`, key `next`: `nope` is not a state of the workflow"
    );
    assert_eq!(
        err(&base(
            "next = \"b\"\n[workflows.w.states.b]\ntype = \"wait\"\nseconds = 1\nnext = \"a\"\n"
        )),
        "workflow `w`, state `b`, key `next`: leads back to `a`: the workflow has a cycle"
    );
    assert_eq!(
        err(&base(
            "[workflows.w.states.z]\ntype = \"wait\"\nseconds = 1\n"
        )),
        "workflow `w`, state `z`, key `start`: unreachable from the start state `a`"
    );
    assert_eq!(
        err(&base("next = \"m\"\n[workflows.w.states.m]\ntype = \"map\"\nfunction = \"f\"\nitems = 0\nduration_ms = 1\nmemory_mb = 128\n")),
        "workflow `w`, state `m`, key `items`: 0: expected 1 to 10000"
    );
    assert_eq!(
        err(&base("next = \"m\"\n[workflows.w.states.m]\ntype = \"task\"\nfunction = \"f\"\nduration_ms = 1\nmemory_mb = 256\n")),
        "workflow `w`, state `m`, key `memory_mb`: function `f` has 256 MB here but 128 MB in another state; a function has one memory"
    );
}
