//! Random load balancing: each request goes to a worker drawn uniformly (one `rng.below(W)`
//! draw from the balancer's stream). The no-information baseline: balance in expectation,
//! no locality.
//!
//! Parameters: none. Cost per decision: O(1).

use faasim_sim::{ClusterView, FunctionId, LoadBalancer, PolicyRng, RequestView, WorkerId};

/// `random` load balancing: a uniformly drawn worker. O(1).
#[derive(Debug, Clone, Default)]
pub struct RandomBalancer;

impl LoadBalancer for RandomBalancer {
    fn select(&mut self, _: &RequestView, c: &ClusterView, rng: &mut PolicyRng) -> WorkerId {
        WorkerId(rng.below(c.worker_count() as u64) as u32)
    }

    fn guesses(&self) -> bool {
        true
    }

    /// Exact: the draw `ahead` calls on, from a copy of the stream.
    fn likely_worker(
        &self,
        ahead: u32,
        _: FunctionId,
        c: &ClusterView,
        rng: &PolicyRng,
    ) -> Option<WorkerId> {
        let n = c.worker_count() as u64;
        Some(WorkerId(rng.after_draws(ahead).below(n) as u32))
    }
}
