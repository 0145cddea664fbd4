//! Knative Pod Autoscaler (KPA), following Knative Serving at commit
//! 98e5ef90aa7033797aa0a61ef97f3ff7e49a3944 (github.com/knative/serving):
//! `pkg/autoscaler/scaling/autoscaler.go` (`Scale`: the desired count, panic mode),
//! `pkg/autoscaler/aggregation/bucketing.go` (`TimedFloat64Buckets`: the window averages),
//! `pkg/activator/handler/concurrency_reporter.go` and `pkg/autoscaler/scaling/multiscaler.go`
//! (`Poke`: scale from zero), and `pkg/reconciler/autoscaling/kpa/scaler.go`
//! (`handleScaleToZero`: the grace period). Defaults are `pkg/autoscaler/config/config.go`'s.
//!
//! ## Windows
//! Every `tick_s` (default 2 s) the engine reports each function's time-averaged
//! concurrency (requests in flight) over the last tick: one sample, written into the
//! bucket of that tick (Knative's buckets are its 1 s scrape granularity; here, the tick).
//! The *stable* window (`stable_window_s`, default 60 s) and the *panic* window
//! (`panic_window_s`, default 6 s) average the buckets they span as `TimedFloat64Buckets`
//! does: the sum of the buckets in the window over min(buckets since the first write + 1,
//! buckets in the window), so a function that just started is averaged over a partial
//! window; ticks without a sample (a function with no instance and nothing in flight is not
//! ticked) count as 0; and a write after a whole window without any resets the window
//! (Knative's `Record`: `firstWrite` is reset and the buckets are zeroed).
//!
//! ## The decision (`Scale`)
//! With `target = target_concurrency × target_utilization` (default: the instance
//! concurrency × 0.7) and `readyPods = max(1, ready)`:
//!
//! - dspc = ⌈stable average / target⌉, dppc = ⌈panic average / target⌉;
//! - desiredStable and desiredPanic are dspc and dppc limited to
//!   [⌊readyPods / `max_scale_down_rate`⌋, ⌈readyPods × `max_scale_up_rate`⌉] (defaults 2
//!   and 1000; the revision is taken to be reachable);
//! - KPA is over the panic threshold when the *unlimited* dppc / readyPods ≥
//!   `panic_threshold` (default 2.0, i.e. 200%); it starts panicking then, every decision
//!   over the threshold extends the panic, and it leaves panic mode at the first decision
//!   not over the threshold more than a stable window after the last one that was;
//! - in panic mode the count is the larger of desiredStable and desiredPanic, and never
//!   below the largest count of this panic (`maxPanicPods`: no scale-down while
//!   panicking; reset to 0 when the panic ends); otherwise desiredStable.
//!
//! ## Scale from zero (the activator)
//! A request for a function with no instance goes to the activator, which reports a
//! concurrency of 1 at once (`getOrCreateStat`: the first request of a revision is sent as
//! `AverageConcurrentRequests: 1`), and the multiscaler's `Poke` runs `Scale` immediately
//! because the last scale was 0. The engine calls [`Autoscaler::activate`] with that
//! report, which is written into the bucket of the next tick, and the decision above is
//! taken at once. The next tick's sample goes into the same bucket as the larger of the
//! two (Knative's activator subtracts the request it already reported from its next
//! report, `max(average − 1, 0)`, and buckets add: 1 + max(a − 1, 0) = max(a, 1)).
//!
//! Worked example, instance concurrency 1 (Knative's `containerConcurrency: 1`), default
//! utilisation: target = 1 × 0.7; the report of 1 gives dspc = dppc = ⌈1 / 0.7⌉ = ⌈1.43⌉
//! = 2; readyPods = max(1, 0) = 1, so the limits are [⌊1/2⌋, ⌈1000⌉] = [0, 1000]; dppc /
//! readyPods = 2 ≥ 2: KPA panics and asks for max(2, 2) = 2 instances. With instance
//! concurrency 10 (target 7) it asks for ⌈1/7⌉ = 1 and does not panic (1/1 < 2).
//!
//! ## Scale to zero (`handleScaleToZero`)
//! When the decision is 0 (which the limits allow only with at most one instance ready):
//!
//! - while the function is activating (woken, no instance ready yet) nothing changes;
//! - while it is active (an instance has been ready since time A, as faasim first sees at a
//!   decision) and has been for less than a stable window, it keeps one instance; once
//!   active for a stable window, it becomes *inactive*: the activator is put into the
//!   request path, and the current instances stay;
//! - once inactive for `scale_to_zero_grace_s` (default 30 s, Knative's
//!   `scale-to-zero-grace-period`: the activator must be in the path that long before the
//!   last pod goes, when it was not in the path before; faasim's requests reach instances
//!   directly while any exists, so that is always the case), 0.
//!
//! Any decision above 0 makes an inactive function active again. A decision of 0 while a
//! request is in flight gives 1 (faasim's: such a request would reach the activator,
//! which pokes the autoscaler).
//!
//! ## Knowingly different
//! Buckets are ticks, not 1 s scrapes; there is no `scale-down-delay`, `activation-scale`,
//! `initial-scale`, min/max scale or target burst capacity; the pod-retention period is 0;
//! the activation timeout (a revision that never becomes ready) cannot occur.
//!
//! Parameters (scenario keys, defaults: Knative's): `tick_s` 2, `stable_window_s` 60,
//! `panic_window_s` 6, `panic_threshold` 2.0, `target_concurrency` (the instance
//! concurrency), `target_utilization` 0.7, `scale_to_zero_grace_s` 30, `max_scale_up_rate`
//! 1000, `max_scale_down_rate` 2.
//!
//! Cost per decision (one function at one tick): O(S) for S = `stable_window_s / tick_s`
//! (30 by default) to average the two windows; memory: S samples per function.

use faasim_sim::{Autoscaler, FunctionId, ScalingView, SimDuration, SimTime};
use std::collections::VecDeque;

/// KPA's parameters (see the module docs for their meaning and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct KpaParams {
    /// Time between two scaling decisions (`tick_s`, default 2 s).
    pub tick: SimDuration,
    /// Window the stable average concurrency is taken over (`stable_window_s`, default
    /// 60 s).
    pub stable_window: SimDuration,
    /// Shorter window for the panic average (`panic_window_s`, default 6 s).
    pub panic_window: SimDuration,
    /// Ratio of desired (panic window) to ready instances at which KPA panics (default 2.0,
    /// i.e. 200%).
    pub panic_threshold: f64,
    /// Requests per instance at 100% utilisation; `None` = the instance concurrency.
    pub target_concurrency: Option<f64>,
    /// Fraction of `target_concurrency` to aim for (default 0.7, Knative's 70%).
    pub target_utilization: f64,
    /// Time the activator must have been in the request path before the last instance is
    /// removed (`scale_to_zero_grace_s`, default 30 s).
    pub scale_to_zero_grace: SimDuration,
    /// At most this many times the ready instances per decision (default 1000).
    pub max_scale_up_rate: f64,
    /// At least the ready instances divided by this per decision (default 2).
    pub max_scale_down_rate: f64,
}

impl Default for KpaParams {
    fn default() -> Self {
        KpaParams {
            tick: SimDuration::from_secs(2),
            stable_window: SimDuration::from_secs(60),
            panic_window: SimDuration::from_secs(6),
            panic_threshold: 2.0,
            target_concurrency: None,
            target_utilization: 0.7,
            scale_to_zero_grace: SimDuration::from_secs(30),
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
        }
    }
}

/// Where a function is on the way to and from zero (`PodAutoscaler`'s `Active` condition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Activity {
    /// Scaled to zero (or never woken).
    #[default]
    Zero,
    /// Going to zero since this instant: the activator is in the request path.
    Inactive(SimTime),
    /// Woken by a request, no instance ready yet.
    Activating,
    /// An instance has been ready since this instant.
    Active(SimTime),
}

/// One window's first write (`TimedFloat64Buckets::firstWrite`), as a bucket index.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    first: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct FnState {
    /// (bucket, value), oldest first; at most the longer window's worth.
    buckets: VecDeque<(u64, f64)>,
    stable: Window,
    panic: Window,
    /// `panicTime`: the last decision over the panic threshold, while panicking.
    panic_time: Option<SimTime>,
    max_panic_pods: u32,
    activity: Activity,
}

/// The Knative Pod Autoscaler.
#[derive(Debug, Clone)]
pub struct Kpa {
    p: KpaParams,
    state: Vec<FnState>,
}

impl Kpa {
    /// The autoscaler with parameters `p`, with no history for any function.
    pub fn new(p: KpaParams) -> Self {
        Kpa {
            p,
            state: Vec::new(),
        }
    }

    fn buckets_in(&self, window: SimDuration) -> u64 {
        (window.as_micros() / self.p.tick.as_micros().max(1)).max(1)
    }

    fn state(&mut self, f: FunctionId) -> &mut FnState {
        if self.state.len() <= f.index() {
            self.state.resize(f.index() + 1, FnState::default());
        }
        &mut self.state[f.index()]
    }

    /// Writes `value` into bucket `b` of `f` (the larger of the two if the bucket already
    /// holds the activator's report), as `TimedFloat64Buckets::Record` does for each window.
    fn record(&mut self, f: FunctionId, b: u64, value: f64) {
        let (stable_n, panic_n) = (
            self.buckets_in(self.p.stable_window),
            self.buckets_in(self.p.panic_window),
        );
        let keep = stable_n.max(panic_n);
        let st = self.state(f);
        let last = st.buckets.back().map(|&(lb, _)| lb);
        for (w, n) in [(&mut st.stable, stable_n), (&mut st.panic, panic_n)] {
            // A write after a whole window without any starts the window afresh.
            if w.first.is_none() || last.is_none_or(|l| b >= l + n) {
                w.first = Some(b);
            }
        }
        match st.buckets.back_mut() {
            Some((lb, v)) if *lb == b => *v = v.max(value),
            _ => st.buckets.push_back((b, value)),
        }
        while st.buckets.front().is_some_and(|&(fb, _)| fb + keep <= b) {
            st.buckets.pop_front();
        }
    }

    /// `WindowAverage` at bucket `b` over the last `n` buckets.
    fn average(st: &FnState, w: Window, n: u64, b: u64) -> f64 {
        let Some(first) = w.first else { return 0.0 };
        let sum: f64 = st
            .buckets
            .iter()
            .filter(|&&(x, _)| x + n > b && x <= b)
            .map(|&(_, v)| v)
            .sum();
        sum / (b - first.min(b) + 1).min(n) as f64
    }

    /// `Scale` and `handleScaleToZero` for `f` at bucket `b` (see the module docs).
    fn decide(&mut self, v: &ScalingView, b: u64) -> u32 {
        let (stable_n, panic_n) = (
            self.buckets_in(self.p.stable_window),
            self.buckets_in(self.p.panic_window),
        );
        let p = self.p.clone();
        let target = p
            .target_concurrency
            .unwrap_or(v.instance_concurrency as f64)
            * p.target_utilization;
        let st = self.state(v.function);
        let stable = Self::average(st, st.stable, stable_n, b);
        let panic = Self::average(st, st.panic, panic_n, b);
        let ready_pods = v.ready.max(1) as f64;
        let max_up = (p.max_scale_up_rate * ready_pods).ceil();
        let max_down = (ready_pods / p.max_scale_down_rate).floor();
        let dspc = (stable / target).ceil();
        let dppc = (panic / target).ceil();
        let desired_stable = dspc.max(max_down).min(max_up) as u32;
        let desired_panic = dppc.max(max_down).min(max_up) as u32;
        let over = dppc / ready_pods >= p.panic_threshold;
        let now = v.now;
        if over {
            st.panic_time = Some(now);
        } else if st.panic_time.is_some_and(|t| t + p.stable_window < now) {
            st.panic_time = None;
            st.max_panic_pods = 0;
        }
        let mut desired = desired_stable;
        if st.panic_time.is_some() {
            desired = desired.max(desired_panic);
            st.max_panic_pods = st.max_panic_pods.max(desired);
            desired = st.max_panic_pods;
        }
        let current = v.ready + v.starting;
        if desired > 0 {
            st.activity = match st.activity {
                Activity::Active(since) => Activity::Active(since),
                _ if v.ready > 0 => Activity::Active(now),
                _ => Activity::Activating,
            };
            return desired;
        }
        if v.in_flight > 0 {
            return 1;
        }
        match st.activity {
            Activity::Zero => 0,
            Activity::Activating if v.ready > 0 => {
                st.activity = Activity::Active(now);
                1
            }
            Activity::Activating => current,
            Activity::Active(since) if now < since + p.stable_window => 1,
            Activity::Active(_) => {
                st.activity = Activity::Inactive(now);
                current
            }
            Activity::Inactive(since) if now < since + p.scale_to_zero_grace => current,
            Activity::Inactive(_) => {
                st.activity = Activity::Zero;
                0
            }
        }
    }
}

impl Autoscaler for Kpa {
    fn tick(&self) -> SimDuration {
        self.p.tick
    }

    fn desired_instances(&mut self, v: &ScalingView) -> u32 {
        let b = v.now.as_micros() / self.p.tick.as_micros().max(1);
        self.record(v.function, b, v.concurrency);
        self.decide(v, b)
    }

    fn activate(&mut self, v: &ScalingView) -> u32 {
        // The activator's report lands in the bucket the next tick writes.
        let b = v.now.as_micros() / self.p.tick.as_micros().max(1) + 1;
        self.record(v.function, b, v.concurrency);
        self.decide(v, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(now_s: u64, concurrency: f64, in_flight: u32, ready: u32) -> ScalingView {
        ScalingView {
            function: FunctionId(0),
            now: SimTime::from_secs(now_s),
            concurrency,
            in_flight,
            ready,
            starting: 0,
            instance_concurrency: 10,
        }
    }

    #[test]
    fn desired_replicas_for_a_concurrency_history() {
        // target = 10 x 0.7 = 7 requests per instance.
        let mut k = Kpa::new(KpaParams::default());
        let mut t = 0;
        let mut desired = 0;
        // A minute of 21 requests in flight: stable average 21 -> 3 instances. (The first
        // tick, with nothing ready, already panics: dppc = 3, readyPods = max(1, 0) = 1,
        // 3 / 1 >= 2; max(3, 3) = 3. The next ticks are not over the threshold, 3 / 3.)
        for _ in 0..30 {
            t += 2;
            desired = k.desired_instances(&view(t, 21.0, 21, desired));
        }
        assert_eq!(desired, 3);
        // A burst: three ticks at 70. Panic average 70 -> 10 instances; 10 / 3 >= 2: panic.
        // Tick 1: panic avg (21+21+70)/3 = 37.3 -> dppc 6 (6/3 = 2 >= 2: over again);
        // stable (29 x 21 + 70)/30 = 22.6 -> 4; max(4, 6) = 6.
        let d1 = k.desired_instances(&view(t + 2, 70.0, 70, 3));
        assert_eq!(d1, 6);
        let d2 = k.desired_instances(&view(t + 4, 70.0, 70, 6));
        assert_eq!(d2, 8); // (21+70+70)/3 = 53.7 -> 8; stable 24.3 -> 4
        let d3 = k.desired_instances(&view(t + 6, 70.0, 70, 8));
        assert_eq!(d3, 10); // 70 -> 10
        t += 6;
        // The condition last held at t - 4 (6/3 >= 2; 8/6 and 10/8 are below 2). Load drops
        // to 7: panic mode holds 10 (maxPanicPods) until a decision more than a stable
        // window after t - 4...
        for i in 1..=28 {
            let d = k.desired_instances(&view(t + 2 * i, 7.0, 7, 10));
            assert_eq!(d, 10, "tick {i}");
        }
        // ...then at t + 58 the stable average rules: (29 x 7 + 70) / 30 = 9.1 -> 2, but
        // scale-down is limited to readyPods / 2 = 5.
        let d = k.desired_instances(&view(t + 58, 7.0, 7, 10));
        assert_eq!(d, 5);
    }

    /// The panic decision uses the unlimited dppc, and in panic the larger of the stable
    /// and panic counts is taken (`autoscaler.go`: `isOverPanicThreshold := dppc/
    /// readyPodsCount >= spec.PanicThreshold`; `if desiredPodCount < desiredPanicPodCount`).
    #[test]
    fn panic_uses_the_unlimited_count_and_takes_the_larger_one() {
        // max_scale_up_rate 1.5: with 2 ready, the limit is ⌈2 x 1.5⌉ = 3. A first sample
        // of 35 (both windows hold just it) gives dppc = ⌈35/7⌉ = 5: 5/2 >= 2 panics
        // although the limited count, 3, would not (3/2 < 2). The count is limited to 3.
        let mut k = Kpa::new(KpaParams {
            max_scale_up_rate: 1.5,
            ..KpaParams::default()
        });
        assert_eq!(k.desired_instances(&view(2, 35.0, 35, 2)), 3);
        assert!(k.state[0].panic_time.is_some());
        // In panic the stable count can be the larger. 27 ticks at 70 with 10 ready (dppc
        // 10, 10/10 < 2: calm), then a tick at 21 with only 1 ready: panic average
        // (70 + 70 + 21)/3 = 53.67 -> dppc 8, 8/1 >= 2: panic; stable average over the 28
        // buckets written (a partial window) (27 x 70 + 21)/28 = 68.25 -> 10. Limits with
        // readyPods 1: [0, 1000]. Panic mode takes max(10, 8) = 10, not the panic count.
        let mut k = Kpa::new(KpaParams::default());
        for t in 1..=27 {
            assert_eq!(k.desired_instances(&view(2 * t, 70.0, 70, 10)), 10);
        }
        assert!(k.state[0].panic_time.is_none());
        assert_eq!(k.desired_instances(&view(56, 21.0, 21, 1)), 10);
        assert!(k.state[0].panic_time.is_some());
        // While panicking the count never drops below maxPanicPods: quiet ticks with 10
        // ready (panic average (70 + 21 + 0)/3 -> 5, then 3, then 0; stable 9 or 10) keep 10.
        for t in 29..=31 {
            assert_eq!(k.desired_instances(&view(2 * t, 0.0, 0, 10)), 10);
        }
    }

    /// Scale from zero through the activator, instance concurrency 1 (Knative
    /// `containerConcurrency: 1`), default utilisation 0.7: the activator reports 1 at once;
    /// in a fresh window stable = panic = 1; dspc = dppc = ⌈1/0.7⌉ = ⌈1.43⌉ = 2;
    /// readyPods = max(1, 0) = 1; limits [⌊1/2⌋, ⌈1000·1⌉] = [0, 1000]; 2/1 >= 2: panic;
    /// max(2, 2) = 2 instances. With concurrency 10 (target 7): ⌈1/7⌉ = 1, 1/1 < 2, 1.
    #[test]
    fn scale_from_zero_with_the_activators_report() {
        let wake = |cc: u32| {
            let mut k = Kpa::new(KpaParams::default());
            let v = ScalingView {
                function: FunctionId(0),
                now: SimTime(3_500_000),
                concurrency: 1.0,
                in_flight: 1,
                ready: 0,
                starting: 0,
                instance_concurrency: cc,
            };
            let n = k.activate(&v);
            (n, k.state[0].panic_time.is_some(), k)
        };
        let (n, panicking, mut k) = wake(1);
        assert_eq!((n, panicking), (2, true));
        // The report went into the bucket of the next tick (4 s): the tick's measured
        // average (0.25: the request in flight for the last 0.5 s of the tick) goes into the
        // same bucket as max(0.25, 1) = 1, not 1.25 (the activator subtracts the request it
        // reported). Still panicking (since 3.5 s), maxPanicPods 2: 2.
        let v = ScalingView {
            function: FunctionId(0),
            now: SimTime(4_000_000),
            concurrency: 0.25,
            in_flight: 1,
            ready: 0,
            starting: 2,
            instance_concurrency: 1,
        };
        assert_eq!(k.desired_instances(&v), 2);
        assert_eq!(k.state[0].buckets, [(2, 1.0)]);
        assert_eq!(wake(10).0, 1);
        assert!(!wake(10).1);
    }

    /// `handleScaleToZero`: once the autoscaler wants 0, the function must have been active
    /// (an instance ready) for a stable window; then it turns inactive (the activator
    /// enters the path) and the last instance goes `scale_to_zero_grace_s` later.
    #[test]
    fn scales_to_zero_a_grace_period_after_turning_inactive() {
        let mut k = Kpa::new(KpaParams::default());
        // A request in flight over the tick at 2 s, nothing ready yet: 1 (activating).
        assert_eq!(k.desired_instances(&view(2, 1.0, 1, 0)), 1);
        // From 4 s the instance is ready (active since 4 s) and nothing arrives. The
        // stable window (30 buckets) holds the busy bucket 1 (2 s) until bucket 30 (60 s):
        // the average is 1/30 -> 1. At 62 s it is all zeros -> 0, but the function has been
        // active for 58 s < 60 s: keep 1. At 64 s active for 60 s: inactive, keep the
        // current instance. 30 s later, at 94 s, 0.
        let mut first_zero = None;
        for t in (4..=120).step_by(2) {
            let d = k.desired_instances(&view(t, 0.0, 0, 1));
            if t < 94 {
                assert_eq!(d, 1, "{t}");
            }
            if d == 0 && first_zero.is_none() {
                first_zero = Some(t);
            }
        }
        assert_eq!(first_zero, Some(94));
        // A short window with a long grace: stable window 4 s (2 buckets), grace 30 s.
        // Ready from 4 s; 0 wanted from 6 s (buckets 2 and 3 empty), active for 2 s < 4 s:
        // keep 1; at 8 s active for 4 s: inactive; 0 at 38 s.
        let mut k = Kpa::new(KpaParams {
            stable_window: SimDuration::from_secs(4),
            panic_window: SimDuration::from_secs(2),
            scale_to_zero_grace: SimDuration::from_secs(30),
            ..KpaParams::default()
        });
        k.desired_instances(&view(2, 1.0, 1, 0));
        let zero_at: Vec<u64> = (4..=40)
            .step_by(2)
            .filter(|&t| k.desired_instances(&view(t, 0.0, 0, 1)) == 0)
            .collect();
        assert_eq!(zero_at.first(), Some(&38));
        // A request while inactive (during the grace) makes the function active again.
        let mut k = Kpa::new(KpaParams {
            stable_window: SimDuration::from_secs(4),
            panic_window: SimDuration::from_secs(2),
            ..KpaParams::default()
        });
        k.desired_instances(&view(2, 1.0, 1, 0));
        for t in (4..=20).step_by(2) {
            k.desired_instances(&view(t, 0.0, 0, 1));
        }
        assert!(matches!(k.state[0].activity, Activity::Inactive(_)));
        assert_eq!(k.desired_instances(&view(22, 0.5, 0, 1)), 1);
        assert_eq!(
            k.state[0].activity,
            Activity::Active(SimTime::from_secs(22))
        );
    }

    /// Windows as `TimedFloat64Buckets`: a partial window after the first write, missing
    /// buckets count as 0, a write after a whole window without any starts afresh.
    #[test]
    fn windows_average_like_knatives_buckets() {
        let mut k = Kpa::new(KpaParams::default());
        let f = FunctionId(0);
        k.record(f, 10, 6.0);
        k.record(f, 11, 3.0);
        let st = &k.state[0];
        // Two buckets written: (6 + 3)/2 over the stable window; the panic window (3
        // buckets) holds both too.
        assert_eq!(Kpa::average(st, st.stable, 30, 11), 4.5);
        assert_eq!(Kpa::average(st, st.panic, 3, 11), 4.5);
        // Bucket 12 missing (a gap shorter than either window): it counts as 0. Panic
        // window (10, 13]: (3 + 0 + 3)/3 = 2; stable: 12 over the 4 buckets since the
        // first write.
        k.record(f, 13, 3.0);
        let st = &k.state[0];
        assert_eq!(Kpa::average(st, st.panic, 3, 13), 2.0);
        assert_eq!(Kpa::average(st, st.stable, 30, 13), 3.0);
        // Bucket 17: four buckets after 13, at least the panic window (3): the panic
        // window starts afresh (`bucketTime.Sub(t.lastWrite) >= t.window`), the stable one
        // does not: 21 over the 8 buckets 10..=17.
        k.record(f, 17, 9.0);
        let st = &k.state[0];
        assert_eq!(Kpa::average(st, st.panic, 3, 17), 9.0);
        assert_eq!(Kpa::average(st, st.stable, 30, 17), 21.0 / 8.0);
        // Bucket 60: 43 after 17, more than the stable window: afresh as well, and the old
        // buckets are forgotten.
        k.record(f, 60, 2.0);
        let st = &k.state[0];
        assert_eq!(Kpa::average(st, st.stable, 30, 60), 2.0);
        assert_eq!(st.buckets.len(), 1);
    }
}
