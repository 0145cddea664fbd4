//! Infinite keep-alive: idle instances stay warm until memory pressure reclaims them (least
//! recently used first). With ample memory, the cold starts are exactly the peak number of
//! concurrent instances each function ever needs. A baseline, with no source beyond the
//! definition: the other end of the cold-start / idle-memory trade-off (Shahrad et al.,
//! ATC'20, §4), with the fewest cold starts while memory lasts and the most idle memory.
//!
//! Parameters: none. Cost per decision: O(1).

use faasim_sim::{InstanceView, KeepAlive, KeepAliveDecision, SimTime};

/// `infinite` keep-alive: keep idle instances until memory pressure reclaims them (least
/// recently used first); O(1) per decision.
#[derive(Debug, Default, Clone)]
pub struct InfiniteKeepAlive;

impl KeepAlive for InfiniteKeepAlive {
    fn on_idle(&mut self, _: &InstanceView, _: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::KeepForever
    }

    fn observes(&self) -> bool {
        false
    }
}
