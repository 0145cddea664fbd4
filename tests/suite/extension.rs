//! The engine's extension point: a feature that reacts to ended invocations by submitting new
//! ones (what a workflow orchestrator does). Hand-traced: a three-step chain whose cold
//! starts cascade the first time and are all warm the second.

use crate::common::*;
use faasim_sim::{
    run_extended, Extension, FunctionId, InvocationRecord, Outcome, SimDuration, SimError, Submit,
    VecRecorder, VecSource,
};
use std::cell::RefCell;
use std::rc::Rc;

/// (id, tag, outcome) of every ended invocation, in the order the extension saw them.
type Log = Rc<RefCell<Vec<(u64, Option<u64>, Outcome)>>>;

/// f0 -> f1 -> f2: when step k completes, step k + 1 is submitted `transition` later with tag
/// k + 1 (each step runs 50 ms). Every ended invocation's (id, tag) is logged.
struct Chain {
    transition: SimDuration,
    steps: u32,
    next_function: u32,
    log: Log,
}

impl Extension for Chain {
    fn on_end(&mut self, r: &InvocationRecord, tag: Option<u64>, submit: &mut Submit<'_>) {
        self.log.borrow_mut().push((r.id, tag, r.outcome));
        let step = tag.unwrap_or(0);
        if r.outcome == Outcome::Completed && step + 1 < self.steps as u64 {
            let next = FunctionId(self.next_function.min(r.function.0 + 1));
            submit.invoke(self.transition, next, SimDuration(50 * MS), step + 1);
        }
    }
}

fn chain(transition_ms: u64, next_function: u32) -> (Chain, Log) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let c = Chain {
        transition: SimDuration(transition_ms * MS),
        steps: 3,
        next_function,
        log: log.clone(),
    };
    (c, log)
}

#[test]
fn a_chain_cascades_cold_starts_then_runs_warm() {
    // 1 worker 1024 MB / 1 core, cold start 100 ms, fixed keep-alive 10 s, CPU as given;
    // f0, f1, f2 of 128 MB; each step 50 ms; 20 ms between steps.
    // Chain 1, from the trace at 0: f0 cold, ready 100 ms, runs 100 -> 150 ms; f1 arrives
    //   at 170 ms, cold, ready 270 ms, runs 270 -> 320 ms; f2 arrives at 340 ms, cold,
    //   ready 440 ms, runs 440 -> 490 ms: 490 ms end to end, three cold starts in a row.
    // Chain 2, from the trace at 1 s: every step warm: f0 1000 -> 1050, f1 1070 -> 1120,
    //   f2 1140 -> 1190 ms: 190 ms end to end.
    // Ids are given at arrival: 0 (f0 @0), 1 (f1 @170), 2 (f2 @340), 3 (f0 @1 s), 4, 5.
    let mut cfg = config(1024, 1, 100.0);
    cfg.cpu = faasim_sim::CpuModel::Ignore;
    let (ext, log) = chain(20, 2);
    let mut rec = VecRecorder::default();
    let report = run_extended(
        &cfg,
        policies(&fixed(10.0, true)),
        None,
        Some(Box::new(ext)),
        &mut VecSource::new(
            vec![func("f0", 128), func("f1", 128), func("f2", 128)],
            vec![arr(0, 0, 50 * MS), arr(S, 0, 50 * MS)],
        ),
        &mut rec,
    )
    .expect("the run succeeds");
    rec.invocations.sort_by_key(|r| r.id);
    let r = &rec.invocations;
    assert_eq!(
        r.iter().map(|x| x.function.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 0, 1, 2]
    );
    assert_eq!(
        r.iter().map(|x| x.arrival.as_micros()).collect::<Vec<_>>(),
        vec![0, 170 * MS, 340 * MS, S, 1070 * MS, 1140 * MS]
    );
    assert_eq!(
        spans(r),
        vec![
            (100 * MS, 150 * MS),
            (270 * MS, 320 * MS),
            (440 * MS, 490 * MS),
            (S, 1050 * MS),
            (1070 * MS, 1120 * MS),
            (1140 * MS, 1190 * MS),
        ]
    );
    assert_eq!(colds(r), vec![true, true, true, false, false, false]);
    assert_eq!(
        *log.borrow(),
        vec![
            (0, None, Outcome::Completed),
            (1, Some(1), Outcome::Completed),
            (2, Some(2), Outcome::Completed),
            (3, None, Outcome::Completed),
            (4, Some(1), Outcome::Completed),
            (5, Some(2), Outcome::Completed),
        ]
    );
    let s = &report.stats;
    assert_eq!((s.invocations, s.completed, s.cold_starts), (6, 6, 3));
    assert_eq!(s.instances_created, 3);
}

#[test]
fn a_submitted_invocation_comes_after_the_trace_arrival_at_the_same_instant() {
    // 1 worker of 128 MB: one instance at a time. f0 (trace @0, 50 ms, cold 100 ms) ends at
    // 150 ms and submits f0 again with no delay (the chain never leaves f0). A trace arrival
    // of f0 at 150 ms comes first (class Arrival before Injected): it takes the warm
    // instance, 150 -> 200 ms; the submitted one queues behind it and runs 200 -> 250 ms.
    let mut cfg = config(128, 1, 100.0);
    cfg.cpu = faasim_sim::CpuModel::Ignore;
    let (ext, _log) = chain(0, 0);
    let mut rec = VecRecorder::default();
    run_extended(
        &cfg,
        policies(&fixed(10.0, true)),
        None,
        Some(Box::new(ext)),
        &mut VecSource::new(
            vec![func("f0", 128)],
            vec![arr(0, 0, 50 * MS), arr(150 * MS, 0, 50 * MS)],
        ),
        &mut rec,
    )
    .expect("the run succeeds");
    rec.invocations.sort_by_key(|r| r.id);
    let r = &rec.invocations;
    // id 1 is the trace's arrival at 150 ms, id 2 the submitted one.
    assert_eq!(r[1].arrival.as_micros(), 150 * MS);
    assert_eq!(r[2].arrival.as_micros(), 150 * MS);
    assert_eq!(
        spans(&r[1..3]),
        vec![(150 * MS, 200 * MS), (200 * MS, 250 * MS)]
    );
}

struct Unknown;

impl Extension for Unknown {
    fn on_end(&mut self, _: &InvocationRecord, _: Option<u64>, submit: &mut Submit<'_>) {
        submit.invoke(SimDuration::ZERO, FunctionId(7), SimDuration(MS), 0);
    }
}

#[test]
fn submitting_a_function_the_run_does_not_know_is_an_error() {
    let cfg = config(1024, 1, 100.0);
    let err = run_extended(
        &cfg,
        policies(&fixed(10.0, true)),
        None,
        Some(Box::new(Unknown)),
        &mut VecSource::new(vec![func("f0", 128)], vec![arr(0, 0, MS)]),
        &mut VecRecorder::default(),
    )
    .unwrap_err();
    assert!(matches!(err, SimError::Policy(_)), "{err}");
    assert!(err.to_string().contains("function f7"), "{err}");
}
