//! The run's span (first and last arrival, last completion) and each worker's execution
//! time are gathered by the engine itself, so that `faasim run` need not receive a record
//! per completion: they must be what the records say, whatever ends the invocations.

use crate::provider::{build, mix, run_mix_as};
use faasim_sim::{InvocationRecord, NullRecorder, Outcome, SimTime, VecRecorder};
use proptest::prelude::*;

/// The span and per-worker execution time, µs, as the records say.
fn from_records(records: &[InvocationRecord]) -> (Option<(SimTime, SimTime)>, SimTime, Vec<u64>) {
    let first = records.iter().map(|r| r.arrival).min();
    let last = records.iter().map(|r| r.arrival).max();
    let mut end = SimTime::ZERO;
    let mut exec = vec![];
    for r in records.iter().filter(|r| r.outcome == Outcome::Completed) {
        end = end.max(r.end);
        let w = r.worker.expect("a completion has a worker").index();
        if exec.len() <= w {
            exec.resize(w + 1, 0);
        }
        exec[w] += (r.end - r.start).as_micros();
    }
    (first.zip(last), end, exec)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_span_and_worker_time_are_the_records(m in mix()) {
        let (cfg, functions, arrivals) = build(&m);
        let mut full = VecRecorder::default();
        let a = run_mix_as(&m, &cfg, functions.clone(), arrivals.clone(), &mut full);
        // No record reaches this recorder: the figures must not depend on them.
        let b = run_mix_as(&m, &cfg, functions, arrivals, &mut NullRecorder);
        let (span, end, mut exec) = from_records(&full.invocations);
        exec.resize(cfg.workers.len().max(exec.len()), 0);
        prop_assert_eq!(a.stats.arrival_span, span);
        prop_assert_eq!(a.stats.last_completion, end);
        prop_assert_eq!(&a.stats.worker_exec_us, &exec);
        prop_assert_eq!(b.stats.arrival_span, span);
        prop_assert_eq!(b.stats.last_completion, end);
        prop_assert_eq!(&b.stats.worker_exec_us, &exec);
        // Every invocation has its record (completed, dropped, failed or unfinished).
        prop_assert_eq!(full.invocations.len() as u64, a.stats.invocations);
    }
}
