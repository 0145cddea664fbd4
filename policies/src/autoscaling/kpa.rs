//! Knative Pod Autoscaler (KPA), as in Knative Serving's `autoscaler.go` and its
//! documentation ("Configuring the autoscaler", knative.dev, Serving v1.x).
//!
//! Every `tick_s` (default 2 s) the engine reports each function's time-averaged
//! concurrency (requests in flight) over the last tick. KPA keeps two windows of those
//! averages: the *stable* window (`stable_window_s`, default 60 s) and the *panic* window
//! (`panic_window_s`, default 6 s = 10% of the stable window). With
//! `target = target_concurrency × target_utilization` (default: the instance concurrency ×
//! 0.7, Knative's `container-concurrency-target-percentage` of 70%):
//!
//! - desired_stable = ⌈stable average / target⌉, desired_panic = ⌈panic average / target⌉,
//!   both limited to `[⌊ready / max_scale_down_rate⌋, ⌈ready × max_scale_up_rate⌉]`
//!   (defaults 2 and 1000; no limit while nothing is ready);
//! - KPA *panics* when desired_panic / max(ready, 1) ≥ `panic_threshold` (default 2.0, i.e.
//!   the panic-window load is at 200% of what the ready instances serve at target), and
//!   leaves panic mode once the condition has not held for more than a stable window;
//! - in panic mode it never scales down: desired = max(desired_panic, the largest count of
//!   this panic, starting from the ready count when it began); otherwise desired_stable;
//! - scale to zero only after `scale_to_zero_grace_s` (default 30 s) without a request in
//!   flight; until then at least one instance is kept.
//!
//! Window averages are over the ticks seen so far when fewer than a window's worth exist (a
//! function that just started).
//!
//! Parameters (scenario keys, defaults: Knative's): `tick_s` 2, `stable_window_s` 60,
//! `panic_window_s` 6, `panic_threshold` 2.0, `target_concurrency` (the instance
//! concurrency), `target_utilization` 0.7, `scale_to_zero_grace_s` 30, `max_scale_up_rate`
//! 1000, `max_scale_down_rate` 2.
//!
//! Cost per decision (one function at one tick): O(S) for S = `stable_window_s / tick_s`
//! (30 by default) to average the two windows; memory: S per-tick averages per function.

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
    /// Time without a request in flight before scaling to zero (`scale_to_zero_grace_s`,
    /// default 30 s).
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

#[derive(Debug, Clone, Default)]
struct FnState {
    /// Per-tick average concurrency, newest last, at most a stable window's worth.
    history: VecDeque<f64>,
    panicking_since: Option<SimTime>,
    /// The last instant the panic condition held.
    last_over: Option<SimTime>,
    max_panic: u32,
    last_active: SimTime,
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

    fn ticks(&self, window: SimDuration) -> usize {
        (window.as_micros() / self.p.tick.as_micros().max(1)).max(1) as usize
    }

    fn state(&mut self, f: FunctionId) -> &mut FnState {
        if self.state.len() <= f.index() {
            self.state.resize(f.index() + 1, FnState::default());
        }
        &mut self.state[f.index()]
    }
}

fn mean_of_last(h: &VecDeque<f64>, n: usize) -> f64 {
    let n = n.min(h.len());
    if n == 0 {
        return 0.0;
    }
    h.iter().rev().take(n).sum::<f64>() / n as f64
}

impl Autoscaler for Kpa {
    fn tick(&self) -> SimDuration {
        self.p.tick
    }

    fn desired_instances(&mut self, v: &ScalingView) -> u32 {
        let stable_n = self.ticks(self.p.stable_window);
        let panic_n = self.ticks(self.p.panic_window);
        let target = self
            .p
            .target_concurrency
            .unwrap_or(v.instance_concurrency as f64)
            * self.p.target_utilization;
        let p = self.p.clone();
        let st = self.state(v.function);
        st.history.push_back(v.concurrency);
        while st.history.len() > stable_n {
            st.history.pop_front();
        }
        if v.in_flight > 0 || v.concurrency > 0.0 {
            st.last_active = v.now;
        }
        let stable = mean_of_last(&st.history, stable_n);
        let panic = mean_of_last(&st.history, panic_n);
        let ready = v.ready;
        let mut want_stable = (stable / target).ceil() as u32;
        let mut want_panic = (panic / target).ceil() as u32;
        if ready > 0 {
            let up = (ready as f64 * p.max_scale_up_rate).ceil() as u32;
            let down = (ready as f64 / p.max_scale_down_rate).floor() as u32;
            want_stable = want_stable.clamp(down, up.max(down));
            want_panic = want_panic.clamp(down, up.max(down));
        }
        let over = want_panic as f64 / ready.max(1) as f64 >= p.panic_threshold;
        if over {
            st.last_over = Some(v.now);
            if st.panicking_since.is_none() {
                st.panicking_since = Some(v.now);
                st.max_panic = ready;
            }
        } else if st.last_over.is_none_or(|t| v.now > t + p.stable_window) {
            st.panicking_since = None;
        }
        let mut desired = if st.panicking_since.is_some() {
            let d = want_panic.max(st.max_panic);
            st.max_panic = d;
            d
        } else {
            want_stable
        };
        // Scale to zero only after the grace period without requests.
        if desired == 0 && (v.in_flight > 0 || v.now < st.last_active + p.scale_to_zero_grace) {
            desired = 1;
        }
        desired
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
        // A minute of 21 requests in flight: stable average 21 -> 3 instances.
        for _ in 0..30 {
            t += 2;
            desired = k.desired_instances(&view(t, 21.0, 21, desired));
        }
        assert_eq!(desired, 3);
        // A burst: three ticks at 70. Panic average 70 -> 10 instances; 10 / 3 >= 2: panic.
        // Tick 1: panic avg (21+21+70)/3 = 37.3 -> 6 (6/3 = 2 >= 2: panic already).
        let d1 = k.desired_instances(&view(t + 2, 70.0, 70, 3));
        assert_eq!(d1, 6);
        let d2 = k.desired_instances(&view(t + 4, 70.0, 70, 6));
        assert_eq!(d2, 8); // (21+70+70)/3 = 53.7 -> 8
        let d3 = k.desired_instances(&view(t + 6, 70.0, 70, 8));
        assert_eq!(d3, 10); // 70 -> 10
        t += 6;
        // The condition last held at t - 4 (6/3 >= 2; 8/6 and 10/8 are below 2). Load drops
        // to 7: panic mode holds 10 until more than a stable window has passed since then...
        for i in 1..=28 {
            let d = k.desired_instances(&view(t + 2 * i, 7.0, 7, 10));
            assert_eq!(d, 10, "tick {i}");
        }
        // ...then at t + 58 the stable average rules: (29 x 7 + 70) / 30 = 9.1 -> 2, but
        // scale-down is limited to ready / 2 = 5.
        let d = k.desired_instances(&view(t + 58, 7.0, 7, 10));
        assert_eq!(d, 5);
    }

    #[test]
    fn scales_to_zero_once_the_stable_window_is_empty_and_the_grace_has_passed() {
        let mut k = Kpa::new(KpaParams::default());
        assert_eq!(k.desired_instances(&view(2, 1.0, 1, 0)), 1);
        // No request after t = 2 s. The stable window (30 ticks) still holds the busy tick
        // until t = 60 s; at t = 62 s it is all zeros and the 30 s grace has long passed.
        let mut first_zero = None;
        for t in (4..=80).step_by(2) {
            if k.desired_instances(&view(t, 0.0, 0, 1)) == 0 && first_zero.is_none() {
                first_zero = Some(t);
            }
        }
        assert_eq!(first_zero, Some(62));
        // A short window with a long grace: the grace decides.
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
        assert_eq!(zero_at.first(), Some(&32));
    }
}
