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

use faasim_sim::{ClusterView, LoadBalancer, PolicyRng, RequestView, WorkerId};

/// `least-loaded` load balancing: the worker with the fewest requests in flight. O(1).
#[derive(Debug, Clone, Default)]
pub struct LeastLoadedBalancer;

impl LoadBalancer for LeastLoadedBalancer {
    fn select(&mut self, _: &RequestView, c: &ClusterView, _: &mut PolicyRng) -> WorkerId {
        c.least_assigned()
    }
}
