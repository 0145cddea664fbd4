//! No keep-alive: an instance is evicted as soon as it becomes idle, so every invocation
//! that finds no busy instance with a free slot is a cold start. A baseline, with no source
//! beyond the definition: one end of the cold-start / idle-memory trade-off that keep-alive
//! policies navigate (Shahrad et al., ATC'20, §4), with no idle memory and the most cold
//! starts.
//!
//! Parameters: none. Cost per decision: O(1).

use faasim_sim::{InstanceView, KeepAlive, KeepAliveDecision, SimTime};

/// `none` keep-alive: evict every instance as soon as it becomes idle; O(1) per decision.
#[derive(Debug, Default, Clone)]
pub struct NoKeepAlive;

impl KeepAlive for NoKeepAlive {
    fn on_idle(&mut self, _: &InstanceView, _: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::EvictNow
    }

    fn observes(&self) -> bool {
        false
    }
}
