//! Least-loaded routing: the warm instance running the fewest executions, ties to the most
//! recently used. With `instance_concurrency = 1` every warm instance is idle and this is
//! `most-recently-used`; with more slots per instance it balances executions across
//! instances, like the least-connections balancing of HTTP load balancers in front of a
//! pool of concurrent servers (HAProxy `balance leastconn`, NGINX `least_conn`).
//!
//! "Least-loaded" here is a property of an **instance**: the number of executions running
//! on it (`InstanceView::active`). It is not what `least-loaded` *placement*
//! ([`LeastLoaded`](crate::placement::LeastLoaded)) means: there, load is the memory
//! utilisation of a **worker**. The two can be combined freely.
//!
//! Parameters: none. Cost per decision: O(k) for k warm instances of the function with a
//! free slot, stopping early at the first idle one (so O(1) when the most recently used
//! instance is idle, always the case with `instance_concurrency = 1`).

use faasim_sim::{ClusterView, InstanceId, InvocationView, PolicyRng, Route, Routing};

/// `least-loaded` routing: the warm instance of the function with the **fewest running
/// executions**, ties to the most recently used; a cold start when none has a free slot.
/// No parameters; O(k) per decision for k warm instances, O(1) when the most recently used
/// one is idle.
///
/// Not to be confused with `least-loaded` placement,
/// [`LeastLoaded`](crate::placement::LeastLoaded), which picks the worker with the lowest
/// memory utilisation.
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
