//! Least-loaded load balancing ("join the shortest queue"): each request goes to the worker
//! with the fewest requests in flight ([`WorkerView::assigned`]: queued there, starting or
//! running), ties by lowest id. The classic baseline the hash-based balancers are compared
//! against: best balance, no locality (Fuerst and Sharma, HPDC'22, §5, use it so).
//!
//! Parameters: none. Cost per decision: O(1), through [`ClusterView::least_assigned`] (an
//! index of workers by requests in flight that the engine keeps once asked; the same choice
//! as a scan of every worker).
//!
//! [`WorkerView::assigned`]: faasim_sim::WorkerView::assigned

use faasim_sim::{ClusterView, FunctionId, LoadBalancer, PolicyRng, RequestView, WorkerId};

/// `least-loaded` load balancing: the worker with the fewest requests in flight. O(1).
#[derive(Debug, Clone, Default)]
pub struct LeastLoadedBalancer;

impl LoadBalancer for LeastLoadedBalancer {
    fn select(&mut self, _: &RequestView, c: &ClusterView, _: &mut PolicyRng) -> WorkerId {
        c.least_assigned()
    }

    /// Exact for the next call and the one after, while no request in flight ends.
    fn likely_worker(
        &self,
        ahead: u32,
        _: FunctionId,
        c: &ClusterView,
        _: &PolicyRng,
    ) -> Option<WorkerId> {
        match ahead {
            0 => Some(c.least_assigned()),
            1 => c.least_assigned_after_one_more(),
            _ => None,
        }
    }
}
