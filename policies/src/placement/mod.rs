//! Placement policies: which worker gets a new instance.

mod best_fit;
mod first_fit;
mod least_loaded;
mod random;
mod round_robin;

pub use best_fit::BestFit;
pub use first_fit::FirstFit;
pub use least_loaded::LeastLoaded;
pub use random::RandomPlacement;
pub use round_robin::RoundRobin;

use faasim_sim::Placement;
use serde::{Deserialize, Serialize};

/// `[placement] policy = "..."`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// Variants are empty structs, not unit variants, so unknown keys are rejected (serde
/// ignores extra keys beside the tag of a unit variant).
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PlacementSpec {
    FirstFit {},
    BestFit {},
    LeastLoaded {},
    Random {},
    RoundRobin {},
}

impl Default for PlacementSpec {
    fn default() -> Self {
        PlacementSpec::LeastLoaded {}
    }
}

impl PlacementSpec {
    pub fn build(&self) -> Box<dyn Placement> {
        match self {
            PlacementSpec::FirstFit {} => Box::new(FirstFit),
            PlacementSpec::BestFit {} => Box::new(BestFit),
            PlacementSpec::LeastLoaded {} => Box::new(LeastLoaded),
            PlacementSpec::Random {} => Box::new(RandomPlacement),
            PlacementSpec::RoundRobin {} => Box::new(RoundRobin::default()),
        }
    }
}
