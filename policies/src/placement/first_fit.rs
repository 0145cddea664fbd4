//! First-fit placement: the lowest-numbered worker with room. Packs instances onto few
//! workers, leaving the high-numbered ones empty. The classic bin-packing heuristic
//! (Johnson, "Near-optimal bin packing algorithms", MIT PhD thesis, 1973).
//!
//! Parameters: none. Cost per decision: O(log W) (a max segment tree over free memory).

use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

/// `first-fit` placement: the lowest-numbered worker with room. Packs instances onto few
/// workers (Johnson 1973); no parameters; O(log W) per decision.
#[derive(Debug, Default, Clone)]
pub struct FirstFit;

impl Placement for FirstFit {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.first_fit(f.memory_mb)
    }
}
