//! Placement policies: which worker gets a new instance (for a cold start, a pre-warm, a
//! provisioned instance or an autoscaler's scale-up). The engine checks that the chosen
//! worker has room. `None` means no worker fits: for a cold start or a scale-up the engine
//! then reclaims idle instances to make room, and a request that still finds none is queued
//! or dropped.

mod best_fit;
mod first_fit;
mod least_loaded;
pub mod locality_aware;
pub mod power_of_two;
mod random;
mod round_robin;
mod worst_fit;

pub use best_fit::BestFit;
pub use first_fit::FirstFit;
pub use least_loaded::LeastLoaded;
pub use locality_aware::LocalityAware;
pub use power_of_two::PowerOfTwo;
pub use random::RandomPlacement;
pub use round_robin::RoundRobin;
pub use worst_fit::WorstFit;

use crate::SpecError;
use faasim_sim::Placement;
use serde::{Deserialize, Serialize};

pub use crate::load_balancing::MAX_VIRTUAL_NODES;

/// `[placement] policy = "..."` and its parameters. Each policy's module docs give its
/// source, the meaning of its parameters and its cost per decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Variants are empty structs, not unit variants, so unknown keys are rejected (serde
/// ignores extra keys beside the tag of a unit variant).
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PlacementSpec {
    /// `first-fit`: the lowest-numbered worker with room ([`FirstFit`]).
    FirstFit {},
    /// `best-fit`: the worker with the least free MB that fits ([`BestFit`]).
    BestFit {},
    /// `worst-fit`: the worker with the most free MB, if it fits ([`WorstFit`]).
    WorstFit {},
    /// `least-loaded` (default): the worker with the lowest memory utilisation that fits
    /// ([`LeastLoaded`]). Not the same load as `least-loaded` routing
    /// ([`RoutingSpec::LeastLoaded`](crate::RoutingSpec::LeastLoaded)), which is an
    /// instance's number of running executions.
    LeastLoaded {},
    /// `random`: a uniformly drawn worker, else the next with room ([`RandomPlacement`]).
    Random {},
    /// `round-robin`: the next worker with room after the previous choice ([`RoundRobin`]).
    RoundRobin {},
    /// `power-of-two`: the least memory-utilised of `d` workers sampled uniformly
    /// (Mitzenmacher, TPDS 2001; [`PowerOfTwo`]).
    PowerOfTwo {
        /// Workers sampled per decision (default 2, >= 1).
        #[serde(default = "default_d")]
        d: u32,
    },
    /// `locality-aware`: for model serving, the GPU worker with the least estimated
    /// queueing plus loading time given where the model resides (ServerlessLLM, OSDI'24 §6;
    /// [`LocalityAware`]); other functions as `least-loaded`.
    LocalityAware {},
}

fn default_d() -> u32 {
    2
}

impl Default for PlacementSpec {
    fn default() -> Self {
        PlacementSpec::LeastLoaded {}
    }
}

/// Model serving: the candidate with the lowest GPU utilisation (GPUs taken over GPUs,
/// compared exactly), ties to the lowest worker id.
pub(crate) fn least_gpu_loaded(
    cands: impl IntoIterator<Item = faasim_sim::GpuCandidate>,
) -> Option<faasim_sim::WorkerId> {
    cands
        .into_iter()
        .min_by(|a, b| {
            let ua = (a.gpus - a.free_gpus) as u64 * b.gpus.max(1) as u64;
            let ub = (b.gpus - b.free_gpus) as u64 * a.gpus.max(1) as u64;
            ua.cmp(&ub).then(a.worker.cmp(&b.worker))
        })
        .map(|c| c.worker)
}

pub(crate) fn check(
    ok: bool,
    policy: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), SpecError> {
    if ok {
        Ok(())
    } else {
        Err(SpecError {
            policy,
            message: message(),
        })
    }
}

pub(crate) fn check_virtual_nodes(policy: &'static str, v: u32) -> Result<(), SpecError> {
    check((1..=MAX_VIRTUAL_NODES).contains(&v), policy, || {
        format!("virtual_nodes must be between 1 and {MAX_VIRTUAL_NODES}, got {v}")
    })
}

impl PlacementSpec {
    /// The spec's policy name, as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            PlacementSpec::FirstFit {} => "first-fit",
            PlacementSpec::BestFit {} => "best-fit",
            PlacementSpec::WorstFit {} => "worst-fit",
            PlacementSpec::LeastLoaded {} => "least-loaded",
            PlacementSpec::Random {} => "random",
            PlacementSpec::RoundRobin {} => "round-robin",
            PlacementSpec::PowerOfTwo { .. } => "power-of-two",
            PlacementSpec::LocalityAware {} => "locality-aware",
        }
    }

    /// Builds the policy, or says which parameter is out of range.
    pub fn build(&self) -> Result<Box<dyn Placement>, SpecError> {
        let name = self.name();
        Ok(match self {
            PlacementSpec::FirstFit {} => Box::new(FirstFit),
            PlacementSpec::BestFit {} => Box::new(BestFit),
            PlacementSpec::WorstFit {} => Box::new(WorstFit),
            PlacementSpec::LeastLoaded {} => Box::new(LeastLoaded),
            PlacementSpec::Random {} => Box::new(RandomPlacement),
            PlacementSpec::RoundRobin {} => Box::new(RoundRobin::default()),
            PlacementSpec::PowerOfTwo { d } => {
                check(*d >= 1, name, || format!("d must be >= 1, got {d}"))?;
                Box::new(PowerOfTwo { d: *d })
            }
            PlacementSpec::LocalityAware {} => Box::new(LocalityAware),
        })
    }

    /// Every policy with its default parameters, in declaration order (for tests and
    /// listings).
    pub fn all_defaults() -> Vec<PlacementSpec> {
        vec![
            PlacementSpec::FirstFit {},
            PlacementSpec::BestFit {},
            PlacementSpec::WorstFit {},
            PlacementSpec::LeastLoaded {},
            PlacementSpec::Random {},
            PlacementSpec::RoundRobin {},
            PlacementSpec::PowerOfTwo { d: default_d() },
            PlacementSpec::LocalityAware {},
        ]
    }
}
