//! Routing policies: which warm instance serves an invocation.

mod most_recently_used;

pub use most_recently_used::MostRecentlyUsed;

use faasim_sim::Routing;
use serde::{Deserialize, Serialize};

/// `[routing] policy = "..."`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// Variants are empty structs, not unit variants, so unknown keys are rejected (serde
/// ignores extra keys beside the tag of a unit variant).
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RoutingSpec {
    MostRecentlyUsed {},
}

impl Default for RoutingSpec {
    fn default() -> Self {
        RoutingSpec::MostRecentlyUsed {}
    }
}

impl RoutingSpec {
    pub fn build(&self) -> Box<dyn Routing> {
        match self {
            RoutingSpec::MostRecentlyUsed {} => Box::new(MostRecentlyUsed),
        }
    }
}
