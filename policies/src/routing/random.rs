//! Random routing: a warm instance of the function drawn uniformly from the policy's random
//! stream (one `rng.below(k)` draw per routed request with k warm instances). The usual
//! baseline of load-balancing studies; Kaffes et al. ("Hermod", SoCC 2022) compare random
//! load balancing with the alternatives and find it sub-optimal for real function mixes.
//!
//! Parameters: none. Cost per decision: O(k) for k warm instances of the function with a
//! free slot (one pass to count them, one to reach the chosen one).

use faasim_sim::{ClusterView, InvocationView, PolicyRng, Route, Routing};

/// `random` routing: a warm instance of the function drawn uniformly (one random draw per
/// request); no parameters; O(k) per decision for k warm instances.
#[derive(Debug, Default, Clone)]
pub struct RandomRouting;

impl Routing for RandomRouting {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, rng: &mut PolicyRng) -> Route {
        let k = c.warm_instances(inv.function).count();
        if k == 0 {
            return Route::Cold;
        }
        let pick = rng.below(k as u64) as usize;
        c.warm_instances(inv.function)
            .nth(pick)
            .map_or(Route::Cold, Route::Warm)
    }
}
