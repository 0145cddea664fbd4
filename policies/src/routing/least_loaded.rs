//! Least-loaded routing: the warm instance running the fewest executions, ties to the most
//! recently used. With `instance_concurrency = 1` every warm instance is idle and this is
//! `most-recently-used`; with more slots per instance it balances executions across
//! instances, like the least-connections balancing of HTTP load balancers in front of a
//! pool of concurrent servers (HAProxy `balance leastconn`, NGINX `least_conn`).
//!
//! Parameters: none. Cost per decision: O(k) for k warm instances of the function with a
//! free slot, stopping early at the first idle one (so O(1) when the most recently used
//! instance is idle, always the case with `instance_concurrency = 1`).

use faasim_sim::{ClusterView, InstanceId, InvocationView, PolicyRng, Route, Routing};

#[derive(Debug, Default, Clone)]
pub struct LeastLoadedRouting;

impl Routing for LeastLoadedRouting {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        let mut best: Option<(u32, InstanceId)> = None;
        // Most recently used first, and only a strictly smaller load replaces the best.
        for i in c.warm_instances(inv.function) {
            let active = c.instance(i).active;
            if matches!(best, Some((b, _)) if active >= b) {
                continue;
            }
            best = Some((active, i));
            if active == 0 {
                break;
            }
        }
        best.map_or(Route::Cold, |(_, i)| Route::Warm(i))
    }
}
