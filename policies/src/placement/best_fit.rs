//! Best-fit placement: the worker whose free memory is the smallest that still fits (ties:
//! lowest id). Leaves large holes for large functions. Cost: O(log W).

use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

#[derive(Debug, Default, Clone)]
pub struct BestFit;

impl Placement for BestFit {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.best_fit(f.memory_mb)
    }
}
