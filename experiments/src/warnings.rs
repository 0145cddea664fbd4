//! Warnings about results that are probably not what the scenario meant: a cluster that
//! cannot keep up, memory so full that keep-alive never runs its course, too few requests
//! for a percentile. Each is one line, printed by `faasim run` (and `faasim sweep`, with the
//! run's id) and kept in the run's `manifest.json` under `warnings`.
//!
//! The rules and their thresholds (the constants below):
//!
//! | warning | when | why it matters |
//! |---|---|---|
//! | `overloaded` | the last request completed more than [`OVERLOAD_DRAIN_FRACTION`] of the trace's span (first to last arrival), and at least [`OVERLOAD_MIN_DRAIN_S`], after the last arrival, and requests queued | the queue grew faster than it drained: latencies grow with the trace's length, so they describe the run's length, not the platform |
//! | `unfinished` | more than [`MAX_UNFINISHED_FRACTION`] of the invocations were still queued or running at the horizon (`[run] end = "horizon"`) | the summary describes only the requests that got through |
//! | `saturated` | more than [`SATURATION_MIN_RECLAIMS`] idle instances were reclaimed for room, more than expired | memory is full: instances rarely live out their keep-alive, so a longer window, or another placement, changes little |
//! | `dropped` | more than [`MAX_DROP_FRACTION`] of the invocations were dropped | latency percentiles describe only the requests that were served |
//! | `throttled` | more than [`MAX_DROP_FRACTION`] of the invocations were throttled by `[limits]` | the same: throttles are left out of the latency percentiles (read `goodput`) |
//! | `few completed` | fewer than [`MIN_COMPLETED_FOR_P99`] invocations completed | the p99 latency is then the largest one or two latencies: noise |

use crate::output::SummaryRow;

/// Overloaded: the drain after the last arrival exceeds this fraction of the trace's span.
pub const OVERLOAD_DRAIN_FRACTION: f64 = 0.1;
/// Overloaded: and exceeds this many seconds (a short trace's drain is its last executions).
pub const OVERLOAD_MIN_DRAIN_S: f64 = 60.0;
/// Saturated: at least this many reclaims (a handful at a peak is what reclaim is for).
pub const SATURATION_MIN_RECLAIMS: u64 = 10;
/// Dropped: more than this fraction of the invocations.
pub const MAX_DROP_FRACTION: f64 = 0.01;
/// Unfinished: more than this fraction of the invocations.
pub const MAX_UNFINISHED_FRACTION: f64 = 0.01;
/// Few completed: fewer completed invocations than this.
pub const MIN_COMPLETED_FOR_P99: u64 = 100;

/// When the trace's requests arrived and the last one completed, simulated seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ArrivalSpan {
    /// The first arrival (`None` with no arrival).
    pub first_arrival_s: Option<f64>,
    /// The last arrival.
    pub last_arrival_s: f64,
    /// The last completion of a request (not of a keep-alive window).
    pub last_completion_s: f64,
}

impl ArrivalSpan {
    /// The span of a serverless run, from its figures.
    pub fn of(s: &faasim_sim::RunStats) -> Self {
        ArrivalSpan {
            first_arrival_s: s.arrival_span.map(|(first, _)| first.as_secs_f64()),
            last_arrival_s: s.arrival_span.map_or(0.0, |(_, last)| last.as_secs_f64()),
            last_completion_s: s.last_completion.as_secs_f64(),
        }
    }
}

/// The warnings a run's figures deserve (empty when none), one line each, without the
/// `warning: ` prefix.
pub fn run_warnings(s: &SummaryRow, span: &ArrivalSpan) -> Vec<String> {
    let mut w = Vec::new();
    let inv = s.invocations.max(1) as f64;
    if let Some(first) = span.first_arrival_s {
        let trace_s = (span.last_arrival_s - first).max(0.0);
        let drain_s = span.last_completion_s - span.last_arrival_s;
        let limit = (OVERLOAD_DRAIN_FRACTION * trace_s).max(OVERLOAD_MIN_DRAIN_S);
        if s.peak_queue > 0 && drain_s > limit {
            w.push(format!(
                "overloaded: the last request completed {} after the last arrival (the trace spans {}), \
                 with up to {} requests queued: the {} cannot keep up, so latencies (p50 {}) grow with \
                 the trace's length; add capacity (cluster.workers, or [vm]) or lower the load",
                duration(drain_s),
                duration(trace_s),
                s.peak_queue,
                if s.platform == "serverless" { "cluster" } else { "fleet" },
                duration(s.latency_p50_ms / 1e3),
            ));
        }
    }
    if s.unfinished as f64 > MAX_UNFINISHED_FRACTION * inv {
        w.push(format!(
            "unfinished: {} of {} invocations ({:.1}%) were still queued or running at the horizon: \
             the figures describe only those that got through",
            s.unfinished,
            s.invocations,
            100.0 * s.unfinished as f64 / inv
        ));
    }
    if s.evictions_reclaimed >= SATURATION_MIN_RECLAIMS
        && s.evictions_reclaimed > s.evictions_expired
        && s.model_loads > 0
    {
        // Model serving: instances are mostly reclaimed for a GPU, not for memory.
        w.push(format!(
            "saturated: GPUs (or memory) ran out: {} idle instances were reclaimed to make room \
             and only {} lived out their keep-alive, so a longer keep-alive or another placement \
             changes little; add GPU workers, or share GPUs (platform.gpu_sharing = \"swap\")",
            s.evictions_reclaimed, s.evictions_expired
        ));
    } else if s.evictions_reclaimed >= SATURATION_MIN_RECLAIMS
        && s.evictions_reclaimed > s.evictions_expired
    {
        w.push(format!(
            "saturated: memory ran out (utilisation {:.2}): {} idle instances were reclaimed to make room \
             and only {} lived out their keep-alive, so a longer keep-alive or another placement \
             changes little; add workers or cluster.worker_memory_mb",
            s.memory_utilisation, s.evictions_reclaimed, s.evictions_expired
        ));
    }
    if s.dropped as f64 > MAX_DROP_FRACTION * inv {
        w.push(format!(
            "dropped: {} of {} invocations ({:.1}%) were dropped: latencies describe only the requests served",
            s.dropped,
            s.invocations,
            100.0 * s.dropped as f64 / inv
        ));
    }
    if s.throttled as f64 > MAX_DROP_FRACTION * inv {
        w.push(format!(
            "throttled: {} of {} invocations ({:.1}%) were throttled by [limits]: latencies describe only the requests served (see goodput)",
            s.throttled,
            s.invocations,
            100.0 * s.throttled as f64 / inv
        ));
    }
    if s.completed > 0 && s.completed < MIN_COMPLETED_FOR_P99 {
        w.push(format!(
            "few completed: only {} invocations completed, so the p99 latency is one of the largest few; \
             run longer or with more traffic",
            s.completed
        ));
    }
    w
}

/// `42 s`, `1.5 min`, `3.2 h`, `8.0 days`.
fn duration(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 2.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A healthy run: 10,000 requests over an hour, no queue, no reclaim.
    fn healthy() -> (SummaryRow, ArrivalSpan) {
        let mut s = SummaryRow {
            platform: "serverless",
            ..SummaryRow::default()
        };
        s.invocations = 10_000;
        s.completed = 10_000;
        s.latency_p50_ms = 120.0;
        s.evictions_expired = 50;
        let span = ArrivalSpan {
            first_arrival_s: Some(0.0),
            last_arrival_s: 3600.0,
            last_completion_s: 3601.0,
        };
        (s, span)
    }

    #[test]
    fn a_healthy_run_has_no_warning() {
        let (s, span) = healthy();
        assert!(run_warnings(&s, &span).is_empty());
    }

    #[test]
    fn overload_is_a_drain_longer_than_a_tenth_of_the_trace() {
        let (mut s, mut span) = healthy();
        s.peak_queue = 5000;
        // The trace spans 3600 s: the limit is max(0.1 × 3600, 60) = 360 s of drain.
        span.last_completion_s = 3600.0 + 360.0;
        assert!(run_warnings(&s, &span).is_empty(), "exactly at the limit");
        span.last_completion_s = 3600.0 + 361.0;
        let w = run_warnings(&s, &span);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("overloaded: the last request completed 6.0 min after the last arrival (the trace spans 60.0 min), with up to 5000 requests queued"), "{}", w[0]);
        // Without a queue a long drain is a long execution, not an overload.
        s.peak_queue = 0;
        assert!(run_warnings(&s, &span).is_empty());
        // A 100 s trace: the 60 s floor applies (not 10 s).
        s.peak_queue = 1;
        span = ArrivalSpan {
            first_arrival_s: Some(0.0),
            last_arrival_s: 100.0,
            last_completion_s: 159.0,
        };
        assert!(run_warnings(&s, &span).is_empty());
        span.last_completion_s = 161.0;
        assert_eq!(run_warnings(&s, &span).len(), 1);
    }

    #[test]
    fn saturation_is_more_reclaims_than_expiries() {
        let (mut s, span) = healthy();
        s.memory_utilisation = 0.98;
        s.evictions_reclaimed = 9;
        s.evictions_expired = 0;
        assert!(run_warnings(&s, &span).is_empty(), "below 10 reclaims");
        s.evictions_reclaimed = 400;
        s.evictions_expired = 400;
        assert!(run_warnings(&s, &span).is_empty(), "as many expiries");
        s.evictions_expired = 399;
        let w = run_warnings(&s, &span);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("saturated: memory ran out (utilisation 0.98): 400 idle instances were reclaimed to make room and only 399 lived out"), "{}", w[0]);
    }

    #[test]
    fn drops_unfinished_and_few_completions() {
        let (mut s, span) = healthy();
        // 1% of 10,000 = 100: 100 dropped is fine, 101 is not.
        s.dropped = 100;
        s.completed = 9_900;
        assert!(run_warnings(&s, &span).is_empty());
        s.dropped = 101;
        s.completed = 9_899;
        let w = run_warnings(&s, &span);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("dropped: 101 of 10000 invocations (1.0%)"),
            "{}",
            w[0]
        );
        s.dropped = 0;
        s.throttled = 101;
        let w = run_warnings(&s, &span);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("throttled: 101 of 10000 invocations (1.0%)"),
            "{}",
            w[0]
        );
        s.throttled = 0;
        s.unfinished = 500;
        let w = run_warnings(&s, &span);
        assert!(
            w[0].starts_with("unfinished: 500 of 10000 invocations (5.0%)"),
            "{}",
            w[0]
        );
        let (mut s, span) = healthy();
        s.invocations = 99;
        s.completed = 99;
        let w = run_warnings(&s, &span);
        assert!(
            w[0].starts_with("few completed: only 99 invocations"),
            "{}",
            w[0]
        );
        s.invocations = 100;
        s.completed = 100;
        assert!(run_warnings(&s, &span).is_empty());
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(42.0), "42 s");
        assert_eq!(duration(600.0), "10.0 min");
        assert_eq!(duration(3.0 * 3600.0), "3.0 h");
        assert_eq!(duration(8.0 * 86400.0), "8.0 days");
    }
}
