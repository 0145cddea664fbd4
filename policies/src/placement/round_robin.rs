//! Round-robin placement (next-fit): each new instance goes to the first worker with room
//! after the one that took the previous instance, cyclically. Cost: O(log W).

use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

#[derive(Debug, Default, Clone)]
pub struct RoundRobin {
    next: u32,
}

impl Placement for RoundRobin {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        let w = c.next_fit(WorkerId(self.next), f.memory_mb)?;
        self.next = (w.0 + 1) % c.worker_count() as u32;
        Some(w)
    }
}
