//! Routing policies: which warm instance serves an invocation.

mod most_recently_used;

pub use most_recently_used::MostRecentlyUsed;

use faasim_sim::Routing;
use serde::{Deserialize, Serialize};

/// `[routing] policy = "..."`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RoutingSpec {
    #[default]
    MostRecentlyUsed,
}

impl RoutingSpec {
    pub fn build(&self) -> Box<dyn Routing> {
        match self {
            RoutingSpec::MostRecentlyUsed => Box::new(MostRecentlyUsed),
        }
    }
}
