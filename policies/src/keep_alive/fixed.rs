//! Fixed keep-alive: an idle instance stays warm for `ttl` after the end of its last
//! execution; each use resets the window (AWS Lambda, Azure Functions and OpenWhisk keep
//! idle instances for fixed periods, typically 10-20 minutes; Shahrad et al., ATC'20, §4).
//! With `reset_on_use = false` the window is counted once, from the end of the instance's
//! first execution, and not extended by later use (a fixed lifetime after first idling).
//! Under memory pressure instances are reclaimed least recently used first. Cost: O(1).

use faasim_sim::{InstanceView, KeepAlive, KeepAliveDecision, SimDuration, SimTime};

#[derive(Debug, Clone)]
pub struct FixedKeepAlive {
    pub ttl: SimDuration,
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
}
