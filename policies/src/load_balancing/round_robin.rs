//! Round-robin load balancing: requests go to workers 0, 1, …, W−1, 0, … in turn, whatever
//! their function (Ilúvatar's `RoundRobin` balancer, dslab-faas's `RoundRobinScheduler`).
//!
//! Parameters: none. Cost per decision: O(1).

use faasim_sim::{ClusterView, FunctionId, LoadBalancer, PolicyRng, RequestView, WorkerId};

/// `round-robin` load balancing: workers in turn. O(1).
#[derive(Debug, Clone, Default)]
pub struct RoundRobinBalancer {
    next: usize,
}

impl LoadBalancer for RoundRobinBalancer {
    fn select(&mut self, _: &RequestView, c: &ClusterView, _: &mut PolicyRng) -> WorkerId {
        let n = c.worker_count().max(1);
        let w = self.next % n;
        self.next = (w + 1) % n;
        WorkerId(w as u32)
    }

    fn guesses(&self) -> bool {
        true
    }

    /// Exact while no worker is added or removed: the turn `ahead` calls on.
    fn likely_worker(
        &self,
        ahead: u32,
        _: FunctionId,
        c: &ClusterView,
        _: &PolicyRng,
    ) -> Option<WorkerId> {
        let n = c.worker_count().max(1);
        Some(WorkerId(((self.next + ahead as usize) % n) as u32))
    }
}
