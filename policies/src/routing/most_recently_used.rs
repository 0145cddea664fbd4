//! Most-recently-used routing: the warm instance of the function used last, so the others
//! stay idle and expire (fewest instances kept warm). This is how AWS Lambda is observed
//! to reuse instances (Wang et al., "Peeking Behind the Curtains of Serverless Platforms",
//! ATC'18).
//!
//! Parameters: none. Cost per decision: O(1) (the tail of the function's warm list).

use faasim_sim::{ClusterView, InvocationView, PolicyRng, Route, Routing};

/// `most-recently-used` routing (the default): the warm instance used last, so surplus
/// instances stay idle and expire (Wang et al., ATC'18); no parameters; O(1) per decision.
#[derive(Debug, Default, Clone)]
pub struct MostRecentlyUsed;

impl Routing for MostRecentlyUsed {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        c.most_recent_warm(inv.function)
            .map_or(Route::Cold, Route::Warm)
    }

    fn routes_most_recent(&self) -> bool {
        true
    }
}
