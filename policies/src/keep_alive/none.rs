//! No keep-alive: an instance is evicted as soon as it becomes idle, so every invocation
//! that finds no busy instance with a free slot is a cold start. Cost: O(1).

use faasim_sim::{InstanceView, KeepAlive, KeepAliveDecision, SimTime};

#[derive(Debug, Default, Clone)]
pub struct NoKeepAlive;

impl KeepAlive for NoKeepAlive {
    fn on_idle(&mut self, _: &InstanceView, _: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::EvictNow
    }
}
