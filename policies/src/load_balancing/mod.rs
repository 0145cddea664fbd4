//! Load balancers: which worker serves each request (per-request load balancing, see
//! [`faasim_sim::LoadBalancer`]). The worker serves it from its own warm instances, else
//! starts one there (evicting its own idle instances if it must), else queues it. The
//! default, `cluster-wide`, has no balancing stage: any warm instance in the cluster serves
//! a request, and placement chooses a worker only for new instances.

mod ch_rlu;
mod consistent_hashing_bounded;
mod hermod;
mod least_loaded;
pub mod openwhisk;
mod power_of_two;
mod random;
mod round_robin;

pub use ch_rlu::ChRlu;
pub use consistent_hashing_bounded::{capacity, BoundedLoad, ConsistentHashingBounded};
pub use hermod::{Hermod, HermodLoad};
pub use least_loaded::LeastLoadedBalancer;
pub use openwhisk::{managed_invokers, probe_order, step_sizes, OpenWhisk};
pub use power_of_two::PowerOfTwoBalancer;
pub use random::RandomBalancer;
pub use round_robin::RoundRobinBalancer;

use crate::placement::{check, check_virtual_nodes};
use crate::SpecError;
use faasim_sim::{LoadBalancer, SimDuration};
use serde::{Deserialize, Serialize};

/// The most ring points per worker (`virtual_nodes`) of the hashing balancers: the ring
/// holds workers × virtual nodes points of 16 bytes, built at the first request.
pub const MAX_VIRTUAL_NODES: u32 = 10_000;

/// `[load_balancing] policy = "..."` and its parameters. Each balancer's module docs give
/// its source, the meaning of its parameters and its cost per decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Variants are empty structs, not unit variants, so unknown keys are rejected.
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LoadBalancingSpec {
    /// `cluster-wide` (default): no per-request stage; any warm instance serves, placement
    /// picks the worker of a new instance.
    ClusterWide {},
    /// `openwhisk`: Apache OpenWhisk's `ShardingContainerPoolBalancer` ([`OpenWhisk`]).
    #[serde(rename = "openwhisk")]
    OpenWhisk {
        /// Share of the invokers serving ordinary actions (default 0.9, in (0, 1]).
        #[serde(default = "default_managed_fraction")]
        managed_fraction: f64,
    },
    /// `consistent-hashing-bounded`: consistent hashing with bounded loads (Mirrokni,
    /// Thorup, Zadimoghaddam, SODA'18; [`ConsistentHashingBounded`]).
    ConsistentHashingBounded {
        /// Ring points per worker (default 100, 1..=10000).
        #[serde(default = "default_ch_virtual_nodes")]
        virtual_nodes: u32,
        /// Capacity above the average load: ⌈(1+ε)·avg⌉ (default 0.25, >= 0).
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        /// What a worker's load counts: `"requests"` (default) or `"instances"`.
        #[serde(default = "default_bounded_load")]
        load: BoundedLoad,
    },
    /// `ch-rlu`: consistent hashing with random load updates (Fuerst and Sharma, HPDC'22,
    /// as in Ilúvatar; [`ChRlu`]).
    ChRlu {
        /// Ring points per worker (default 3, 1..=10000).
        #[serde(default = "default_rlu_virtual_nodes")]
        virtual_nodes: u32,
        /// Distinct workers in a function's forwarding chain (default 4, >= 1).
        #[serde(default = "default_chain_length")]
        chain_length: u32,
        /// 1-minute load average per core at or below which a popular function's request
        /// stays on a chain worker (default 1.4, >= 0).
        #[serde(default = "default_load_bound")]
        load_bound: f64,
        /// Share of the functions, by shortest mean inter-arrival time, that are popular
        /// (default 0.2, in [0, 1]).
        #[serde(default = "default_popular_fraction")]
        popular_fraction: f64,
        /// Seconds between refreshes of the loads and the popular set (default 2, > 0).
        #[serde(default = "default_refresh_s")]
        refresh_s: f64,
    },
    /// `hermod`: pack below the cores, least loaded above (Kaffes et al., SoCC'22, as in
    /// dslab-faas; [`Hermod`]).
    Hermod {
        /// What load counts: `"requests"` (default) or `"executing"`.
        #[serde(default = "default_hermod_load")]
        load: HermodLoad,
        /// Break load ties toward a worker with a warm instance (default false).
        #[serde(default)]
        prefer_warm: bool,
        /// Prefer workers where the request would not queue (default true).
        #[serde(default = "default_true")]
        avoid_queueing: bool,
    },
    /// `least-loaded`: the worker with the fewest requests in flight
    /// ([`LeastLoadedBalancer`]).
    LeastLoaded {},
    /// `random`: a uniformly drawn worker ([`RandomBalancer`]).
    Random {},
    /// `round-robin`: workers in turn ([`RoundRobinBalancer`]).
    RoundRobin {},
    /// `power-of-two`: the least loaded of `d` sampled workers (Mitzenmacher, TPDS 2001;
    /// [`PowerOfTwoBalancer`]).
    PowerOfTwo {
        /// Workers sampled per request (default 2, >= 1).
        #[serde(default = "default_d")]
        d: u32,
    },
}

fn default_managed_fraction() -> f64 {
    0.9
}
fn default_ch_virtual_nodes() -> u32 {
    100
}
fn default_epsilon() -> f64 {
    0.25
}
fn default_bounded_load() -> BoundedLoad {
    BoundedLoad::Requests
}
fn default_rlu_virtual_nodes() -> u32 {
    3
}
fn default_chain_length() -> u32 {
    4
}
fn default_load_bound() -> f64 {
    1.4
}
fn default_popular_fraction() -> f64 {
    0.2
}
fn default_refresh_s() -> f64 {
    2.0
}
fn default_hermod_load() -> HermodLoad {
    HermodLoad::Requests
}
fn default_true() -> bool {
    true
}
fn default_d() -> u32 {
    2
}

impl Default for LoadBalancingSpec {
    fn default() -> Self {
        LoadBalancingSpec::ClusterWide {}
    }
}

impl LoadBalancingSpec {
    /// The spec's policy name, as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            LoadBalancingSpec::ClusterWide {} => "cluster-wide",
            LoadBalancingSpec::OpenWhisk { .. } => "openwhisk",
            LoadBalancingSpec::ConsistentHashingBounded { .. } => "consistent-hashing-bounded",
            LoadBalancingSpec::ChRlu { .. } => "ch-rlu",
            LoadBalancingSpec::Hermod { .. } => "hermod",
            LoadBalancingSpec::LeastLoaded {} => "least-loaded",
            LoadBalancingSpec::Random {} => "random",
            LoadBalancingSpec::RoundRobin {} => "round-robin",
            LoadBalancingSpec::PowerOfTwo { .. } => "power-of-two",
        }
    }

    /// Ring points per worker of the hashing balancers (`None` for the others).
    pub fn virtual_nodes(&self) -> Option<u32> {
        match self {
            LoadBalancingSpec::ConsistentHashingBounded { virtual_nodes, .. }
            | LoadBalancingSpec::ChRlu { virtual_nodes, .. } => Some(*virtual_nodes),
            _ => None,
        }
    }

    /// Builds the balancer (`None` for `cluster-wide`), or says which parameter is out of
    /// range.
    pub fn build(&self) -> Result<Option<Box<dyn LoadBalancer>>, SpecError> {
        let name = self.name();
        let b: Box<dyn LoadBalancer> = match self {
            LoadBalancingSpec::ClusterWide {} => return Ok(None),
            LoadBalancingSpec::OpenWhisk { managed_fraction } => {
                check(
                    *managed_fraction > 0.0 && *managed_fraction <= 1.0,
                    name,
                    || format!("managed_fraction must be in (0, 1], got {managed_fraction}"),
                )?;
                Box::new(OpenWhisk::new(*managed_fraction))
            }
            LoadBalancingSpec::ConsistentHashingBounded {
                virtual_nodes,
                epsilon,
                load,
            } => {
                check_virtual_nodes(name, *virtual_nodes)?;
                check(epsilon.is_finite() && *epsilon >= 0.0, name, || {
                    format!("epsilon must be a finite number >= 0, got {epsilon}")
                })?;
                Box::new(ConsistentHashingBounded::new(
                    *virtual_nodes,
                    *epsilon,
                    *load,
                ))
            }
            LoadBalancingSpec::ChRlu {
                virtual_nodes,
                chain_length,
                load_bound,
                popular_fraction,
                refresh_s,
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
                let refresh = SimDuration::try_from_ms_f64(refresh_s * 1000.0)
                    .filter(|r| *r > SimDuration::ZERO);
                let Some(refresh) = refresh else {
                    return Err(SpecError {
                        policy: name,
                        message: format!("refresh_s must be a finite number > 0, got {refresh_s}"),
                    });
                };
                Box::new(ChRlu::new(
                    *virtual_nodes,
                    *chain_length,
                    *load_bound,
                    *popular_fraction,
                    refresh,
                ))
            }
            LoadBalancingSpec::Hermod {
                load,
                prefer_warm,
                avoid_queueing,
            } => Box::new(Hermod::new(*load, *prefer_warm, *avoid_queueing)),
            LoadBalancingSpec::LeastLoaded {} => Box::new(LeastLoadedBalancer),
            LoadBalancingSpec::Random {} => Box::new(RandomBalancer),
            LoadBalancingSpec::RoundRobin {} => Box::new(RoundRobinBalancer::default()),
            LoadBalancingSpec::PowerOfTwo { d } => {
                check(*d >= 1, name, || format!("d must be >= 1, got {d}"))?;
                Box::new(PowerOfTwoBalancer { d: *d })
            }
        };
        Ok(Some(b))
    }

    /// Every balancer with its default parameters, in declaration order.
    pub fn all_defaults() -> Vec<LoadBalancingSpec> {
        vec![
            LoadBalancingSpec::ClusterWide {},
            LoadBalancingSpec::OpenWhisk {
                managed_fraction: default_managed_fraction(),
            },
            LoadBalancingSpec::ConsistentHashingBounded {
                virtual_nodes: default_ch_virtual_nodes(),
                epsilon: default_epsilon(),
                load: default_bounded_load(),
            },
            LoadBalancingSpec::ChRlu {
                virtual_nodes: default_rlu_virtual_nodes(),
                chain_length: default_chain_length(),
                load_bound: default_load_bound(),
                popular_fraction: default_popular_fraction(),
                refresh_s: default_refresh_s(),
            },
            LoadBalancingSpec::Hermod {
                load: default_hermod_load(),
                prefer_warm: false,
                avoid_queueing: true,
            },
            LoadBalancingSpec::LeastLoaded {},
            LoadBalancingSpec::Random {},
            LoadBalancingSpec::RoundRobin {},
            LoadBalancingSpec::PowerOfTwo { d: default_d() },
        ]
    }
}
