//! Least-recently-used routing: the warm instance of the function that has waited longest
//! since its last use. Requests cycle through the warm instances, as round-robin over a
//! fixed pool does (e.g. IPVS `rr`, the default scheduler of kube-proxy's IPVS mode), so
//! every warm instance keeps being used and stays warm: the mirror image of
//! `most-recently-used` (Wang et al., ATC'18), which lets surplus instances expire.
//!
//! Parameters: none. Cost per decision: O(1) (the head of the function's warm list).

use faasim_sim::{ClusterView, InvocationView, PolicyRng, Route, Routing};

/// `least-recently-used` routing: the warm instance idle the longest, so requests cycle
/// through the pool and every instance stays warm; no parameters; O(1) per decision.
#[derive(Debug, Default, Clone)]
pub struct LeastRecentlyUsed;

impl Routing for LeastRecentlyUsed {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        c.least_recent_warm(inv.function)
            .map_or(Route::Cold, Route::Warm)
    }
}
