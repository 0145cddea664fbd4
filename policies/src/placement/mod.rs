//! Placement policies: which worker gets a new instance (for a cold start, a pre-warm, a
//! provisioned instance or an autoscaler's scale-up). The engine checks that the chosen
//! worker has room. `None` means no worker fits: for a cold start or a scale-up the engine
//! then reclaims idle instances to make room, and a request that still finds none is queued
//! or dropped.

mod best_fit;
mod ch_rlu;
mod consistent_hashing_bounded;
mod first_fit;
mod hermod;
mod least_loaded;
pub mod openwhisk;
pub mod power_of_two;
mod random;
mod round_robin;
mod worst_fit;

pub use best_fit::BestFit;
pub use ch_rlu::ChRlu;
pub use consistent_hashing_bounded::{capacity, ConsistentHashingBounded};
pub use first_fit::FirstFit;
pub use hermod::Hermod;
pub use least_loaded::LeastLoaded;
pub use openwhisk::{probe_order, step_sizes, OpenWhisk};
pub use power_of_two::PowerOfTwo;
pub use random::RandomPlacement;
pub use round_robin::RoundRobin;
pub use worst_fit::WorstFit;

use crate::SpecError;
use faasim_sim::{Placement, SimDuration};
use serde::{Deserialize, Serialize};

/// The most ring points per worker (`virtual_nodes`) of the hashing policies: the ring holds
/// workers × virtual nodes points of 16 bytes, built at the first placement.
pub const MAX_VIRTUAL_NODES: u32 = 10_000;

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
    /// `openwhisk`: Apache OpenWhisk's ShardingContainerPoolBalancer: home invoker, coprime
    /// steps ([`OpenWhisk`]).
    #[serde(rename = "openwhisk")]
    OpenWhisk {},
    /// `consistent-hashing-bounded`: consistent hashing with bounded loads (Mirrokni,
    /// Thorup, Zadimoghaddam, SODA'18; [`ConsistentHashingBounded`]).
    ConsistentHashingBounded {
        /// Ring points per worker (default 100, >= 1).
        #[serde(default = "default_ch_virtual_nodes")]
        virtual_nodes: u32,
        /// Capacity above the average instance count: ⌈(1+ε)·avg⌉ (default 0.25, >= 0).
        #[serde(default = "default_epsilon")]
        epsilon: f64,
    },
    /// `ch-rlu`: consistent hashing with random load updates (Fuerst and Sharma, HPDC'22;
    /// [`ChRlu`]).
    ChRlu {
        /// Ring points per worker (default 3, >= 1).
        #[serde(default = "default_rlu_virtual_nodes")]
        virtual_nodes: u32,
        /// Distinct workers in a function's forwarding chain (default 4, >= 1).
        #[serde(default = "default_chain_length")]
        chain_length: u32,
        /// Running executions per core above which a worker is skipped (default 1.0, >= 0).
        #[serde(default = "default_one")]
        load_bound: f64,
        /// Share of the functions placed so far that are popular (default 0.2, in [0, 1]).
        #[serde(default = "default_popular_fraction")]
        popular_fraction: f64,
        /// Length of a popularity window in seconds (default 60, > 0).
        #[serde(default = "default_popularity_window_s")]
        popularity_window_s: f64,
    },
    /// `hermod`: Hermod's hybrid: pack below the load threshold, fewest running executions
    /// per core above it (Kaffes et al., SoCC'22; [`Hermod`]).
    Hermod {
        /// Running executions per core at which a worker stops taking packed instances
        /// (default 1.0, > 0).
        #[serde(default = "default_one")]
        high_load: f64,
    },
}

fn default_d() -> u32 {
    2
}
fn default_ch_virtual_nodes() -> u32 {
    100
}
fn default_epsilon() -> f64 {
    0.25
}
fn default_rlu_virtual_nodes() -> u32 {
    3
}
fn default_chain_length() -> u32 {
    4
}
fn default_one() -> f64 {
    1.0
}
fn default_popular_fraction() -> f64 {
    0.2
}
fn default_popularity_window_s() -> f64 {
    60.0
}

impl Default for PlacementSpec {
    fn default() -> Self {
        PlacementSpec::LeastLoaded {}
    }
}

fn check(
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

fn check_virtual_nodes(policy: &'static str, v: u32) -> Result<(), SpecError> {
    check((1..=MAX_VIRTUAL_NODES).contains(&v), policy, || {
        format!("virtual_nodes must be between 1 and {MAX_VIRTUAL_NODES}, got {v}")
    })
}

impl PlacementSpec {
    /// Ring points per worker of the hashing policies (`None` for the others).
    pub fn virtual_nodes(&self) -> Option<u32> {
        match self {
            PlacementSpec::ConsistentHashingBounded { virtual_nodes, .. }
            | PlacementSpec::ChRlu { virtual_nodes, .. } => Some(*virtual_nodes),
            _ => None,
        }
    }

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
            PlacementSpec::OpenWhisk {} => "openwhisk",
            PlacementSpec::ConsistentHashingBounded { .. } => "consistent-hashing-bounded",
            PlacementSpec::ChRlu { .. } => "ch-rlu",
            PlacementSpec::Hermod { .. } => "hermod",
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
            PlacementSpec::OpenWhisk {} => Box::new(OpenWhisk::default()),
            PlacementSpec::ConsistentHashingBounded {
                virtual_nodes,
                epsilon,
            } => {
                check_virtual_nodes(name, *virtual_nodes)?;
                check(epsilon.is_finite() && *epsilon >= 0.0, name, || {
                    format!("epsilon must be a finite number >= 0, got {epsilon}")
                })?;
                Box::new(ConsistentHashingBounded::new(*virtual_nodes, *epsilon))
            }
            PlacementSpec::ChRlu {
                virtual_nodes,
                chain_length,
                load_bound,
                popular_fraction,
                popularity_window_s,
            } => {
                check_virtual_nodes(name, *virtual_nodes)?;
                check(*chain_length >= 1, name, || {
                    format!("chain_length must be >= 1, got {chain_length}")
                })?;
                check(load_bound.is_finite() && *load_bound >= 0.0, name, || {
                    format!("load_bound must be a finite number >= 0, got {load_bound}")
                })?;
                check((0.0..=1.0).contains(popular_fraction), name, || {
                    format!("popular_fraction must be in [0, 1], got {popular_fraction}")
                })?;
                let window = SimDuration::try_from_ms_f64(popularity_window_s * 1000.0)
                    .filter(|w| *w > SimDuration::ZERO);
                let Some(window) = window else {
                    return Err(SpecError {
                        policy: name,
                        message: format!(
                            "popularity_window_s must be a finite number > 0, got {popularity_window_s}"
                        ),
                    });
                };
                Box::new(ChRlu::new(
                    *virtual_nodes,
                    *chain_length,
                    *load_bound,
                    *popular_fraction,
                    window,
                ))
            }
            PlacementSpec::Hermod { high_load } => {
                check(high_load.is_finite() && *high_load > 0.0, name, || {
                    format!("high_load must be a finite number > 0, got {high_load}")
                })?;
                Box::new(Hermod::new(*high_load))
            }
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
            PlacementSpec::OpenWhisk {},
            PlacementSpec::ConsistentHashingBounded {
                virtual_nodes: default_ch_virtual_nodes(),
                epsilon: default_epsilon(),
            },
            PlacementSpec::ChRlu {
                virtual_nodes: default_rlu_virtual_nodes(),
                chain_length: default_chain_length(),
                load_bound: default_one(),
                popular_fraction: default_popular_fraction(),
                popularity_window_s: default_popularity_window_s(),
            },
            PlacementSpec::Hermod {
                high_load: default_one(),
            },
        ]
    }
}
