//! Most-recently-used routing: the warm instance of the function used last, so the others
//! stay idle and expire (fewest instances kept warm). This is how AWS Lambda is observed
//! to reuse instances (Wang et al., "Peeking Behind the Curtains of Serverless Platforms",
//! ATC'18). Cost: O(1).

use faasim_sim::{ClusterView, InvocationView, PolicyRng, Route, Routing};

#[derive(Debug, Default, Clone)]
pub struct MostRecentlyUsed;

impl Routing for MostRecentlyUsed {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        c.most_recent_warm(inv.function)
            .map_or(Route::Cold, Route::Warm)
    }
}
