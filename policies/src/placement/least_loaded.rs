//! Least-loaded placement: the worker with the lowest memory utilisation (memory held by
//! instances / capacity) that fits (ties: lowest id). Spreads instances evenly. Load is
//! measured in memory because that is what instances hold for their whole life; it changes
//! only when instances are created or evicted, so the index costs nothing per execution.
//! Cost: O(log W) unless the least-utilised workers cannot fit the instance.

use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

#[derive(Debug, Default, Clone)]
pub struct LeastLoaded;

impl Placement for LeastLoaded {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.least_loaded(f.memory_mb)
    }
}
