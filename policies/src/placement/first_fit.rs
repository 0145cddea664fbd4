//! First-fit placement: the lowest-numbered worker with room. Packs instances onto few
//! workers. Cost: O(log W) (a max segment tree over free memory).

use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

#[derive(Debug, Default, Clone)]
pub struct FirstFit;

impl Placement for FirstFit {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.first_fit(f.memory_mb)
    }
}
