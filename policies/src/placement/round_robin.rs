//! Round-robin placement (next-fit): each new instance goes to the first worker with room
//! after the one that took the previous instance, cyclically. Next-fit is the classic
//! bin-packing heuristic (Johnson, "Near-optimal bin packing algorithms", MIT PhD thesis,
//! 1973) with every bin kept open; as a balancer it is round-robin that skips full workers.
//!
//! Parameters: none. Cost per decision: O(log W) (a max segment tree over free memory).

use faasim_sim::{ClusterView, FunctionView, GpuCandidate, Placement, PolicyRng, WorkerId};

/// `round-robin` placement: the first worker with room after the one that took the previous
/// instance, cyclically (next-fit); no parameters; O(log W) per decision.
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

    /// Model serving: the first candidate GPU worker at or after the one after the
    /// previous choice, cyclically.
    fn place_gpu(
        &mut self,
        _: &FunctionView,
        cands: &[GpuCandidate],
        c: &ClusterView,
        _: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let x = cands
            .iter()
            .find(|x| x.worker.0 >= self.next)
            .or(cands.first())?;
        self.next = (x.worker.0 + 1) % c.worker_count() as u32;
        Some(x.worker)
    }
}
