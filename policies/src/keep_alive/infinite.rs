//! Infinite keep-alive: idle instances stay warm until memory pressure reclaims them (least
//! recently used first). With ample memory, the cold starts are exactly the peak number of
//! concurrent instances each function ever needs. Cost: O(1).

use faasim_sim::{InstanceView, KeepAlive, KeepAliveDecision, SimTime};

#[derive(Debug, Default, Clone)]
pub struct InfiniteKeepAlive;

impl KeepAlive for InfiniteKeepAlive {
    fn on_idle(&mut self, _: &InstanceView, _: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::KeepForever
    }
}
