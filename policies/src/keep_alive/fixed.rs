//! Fixed keep-alive: an idle instance stays warm for `ttl` after the end of its last
//! execution; each use resets the window (AWS Lambda, Azure Functions and OpenWhisk keep
//! idle instances for fixed periods, typically 10-20 minutes; Shahrad et al., ATC'20, §4).
//! With `reset_on_use = false` the window is counted once, from the end of the instance's
//! first execution, and not extended by later use (a fixed lifetime after first idling).
//! Under memory pressure instances are reclaimed least recently used first.
//!
//! Parameters: `ttl_s` (seconds, default 600), `reset_on_use` (default true). Cost per
//! decision: O(1).

use faasim_sim::{InstanceView, KeepAlive, KeepAliveDecision, SimDuration, SimTime};

/// `fixed` keep-alive (the default): keep an idle instance warm for `ttl` after its last
/// execution (AWS, Azure and OpenWhisk practice); O(1) per decision.
#[derive(Debug, Clone)]
pub struct FixedKeepAlive {
    /// How long an idle instance stays warm (scenario key `ttl_s`, default 600 s).
    pub ttl: SimDuration,
    /// Restart the window at each use (default true); `false` counts it once, from the end
    /// of the instance's first execution.
    pub reset_on_use: bool,
}

impl KeepAlive for FixedKeepAlive {
    fn on_idle(&mut self, i: &InstanceView, now: SimTime) -> KeepAliveDecision {
        let from = if self.reset_on_use {
            now
        } else {
            i.first_idle_at.unwrap_or(now)
        };
        KeepAliveDecision::KeepUntil(from + self.ttl)
    }

    fn observes(&self) -> bool {
        false
    }

    // With `reset_on_use`, the answer depends only on `now`.
    fn fixed_window(&self) -> Option<SimDuration> {
        self.reset_on_use.then_some(self.ttl)
    }
}
