//! Random placement: a worker drawn uniformly from the policy's stream; if it has no room,
//! the next worker with room after it (cyclically), so a fitting worker is always found
//! when one exists. Cost: O(log W).

use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

#[derive(Debug, Default, Clone)]
pub struct RandomPlacement;

impl Placement for RandomPlacement {
    fn place(
        &mut self,
        f: &FunctionView,
        c: &ClusterView,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let start = WorkerId(rng.below(c.worker_count() as u64) as u32);
        c.next_fit(start, f.memory_mb)
    }
}
