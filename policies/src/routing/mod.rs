//! Routing policies: which warm instance of its function serves an invocation, or whether
//! it is a cold start. The engine asks only when the function has a warm instance with a
//! free slot; a request routed to a cold start then gets a new instance on the worker the
//! [`placement`](crate::placement) policy picks.

mod least_loaded;
mod least_recently_used;
mod most_recently_used;
mod random;

pub use least_loaded::LeastLoadedRouting;
pub use least_recently_used::LeastRecentlyUsed;
pub use most_recently_used::MostRecentlyUsed;
pub use random::RandomRouting;

use faasim_sim::Routing;
use serde::{Deserialize, Serialize};

/// `[routing] policy = "..."`. Each policy's module docs give its source and its cost per
/// decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// Variants are empty structs, not unit variants, so unknown keys are rejected (serde
/// ignores extra keys beside the tag of a unit variant).
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RoutingSpec {
    /// `most-recently-used` (default): the warm instance used last
    /// ([`MostRecentlyUsed`]).
    MostRecentlyUsed {},
    /// `least-recently-used`: the warm instance idle the longest ([`LeastRecentlyUsed`]).
    LeastRecentlyUsed {},
    /// `least-loaded`: the warm instance with the fewest running executions
    /// ([`LeastLoadedRouting`]). Not the same load as `least-loaded` placement
    /// ([`PlacementSpec::LeastLoaded`](crate::PlacementSpec::LeastLoaded)), which is a
    /// worker's memory utilisation.
    LeastLoaded {},
    /// `random`: a warm instance drawn uniformly ([`RandomRouting`]).
    Random {},
}

impl Default for RoutingSpec {
    fn default() -> Self {
        RoutingSpec::MostRecentlyUsed {}
    }
}

impl RoutingSpec {
    /// Builds the policy. Routing policies have no parameters, so this cannot fail.
    pub fn build(&self) -> Box<dyn Routing> {
        match self {
            RoutingSpec::MostRecentlyUsed {} => Box::new(MostRecentlyUsed),
            RoutingSpec::LeastRecentlyUsed {} => Box::new(LeastRecentlyUsed),
            RoutingSpec::LeastLoaded {} => Box::new(LeastLoadedRouting),
            RoutingSpec::Random {} => Box::new(RandomRouting),
        }
    }

    /// Every routing policy, in declaration order.
    pub fn all() -> Vec<RoutingSpec> {
        vec![
            RoutingSpec::MostRecentlyUsed {},
            RoutingSpec::LeastRecentlyUsed {},
            RoutingSpec::LeastLoaded {},
            RoutingSpec::Random {},
        ]
    }
}
