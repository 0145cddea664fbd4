//! Keep-alive policies: how long idle instances stay warm, which idle instances are
//! reclaimed first under memory pressure, and (for `hybrid-histogram`) when to pre-warm.
//! Keeping instances warm trades idle memory (which the provider pays for) against cold
//! starts (which users wait for).

mod fixed;
mod greedy_dual;
mod hybrid_histogram;
mod infinite;
mod none;
#[cfg(test)]
mod tests;

pub use fixed::FixedKeepAlive;
pub use greedy_dual::{CachingKeepAlive, Rank};
pub use hybrid_histogram::{
    ar1_forecast, HybridHistogram, HybridHistogramSpec, PrewarmLifetime, WindowSource, Windows,
};
pub use infinite::InfiniteKeepAlive;
pub use none::NoKeepAlive;

use crate::SpecError;
use faasim_sim::{KeepAlive, SimDuration};
use serde::{Deserialize, Serialize};

fn default_true() -> bool {
    true
}

/// `[keep_alive] policy = "..."` and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Variants are structs (empty ones, or a struct with `deny_unknown_fields` for
/// `hybrid-histogram`'s many keys), not unit variants, so unknown keys are rejected (serde
/// ignores extra keys beside the tag of a unit variant).
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum KeepAliveSpec {
    /// `none`: evict as soon as idle ([`NoKeepAlive`]).
    None {},
    /// `fixed` (default): keep an idle instance `ttl_s` seconds after its last execution
    /// ([`FixedKeepAlive`]).
    Fixed {
        /// Seconds an idle instance stays warm (default 600, AWS Lambda's commonly observed
        /// lower bound and Azure's 20 minutes halved).
        #[serde(default = "default_ttl_s")]
        ttl_s: f64,
        /// Restart the window at each use (default true).
        #[serde(default = "default_true")]
        reset_on_use: bool,
    },
    /// `infinite`: keep until memory pressure reclaims, least recently used first
    /// ([`InfiniteKeepAlive`]).
    Infinite {},
    /// Shahrad et al., ATC'20 §4.2: per-function idle-time histogram with pre-warming; every
    /// key optional (see [`HybridHistogramSpec`] for the keys and the paper's defaults).
    HybridHistogram(HybridHistogramSpec),
    /// FaasCache (ASPLOS'21 §4): keep while memory lasts, reclaim lowest
    /// Clock + Frequency × Cost / Size first.
    GreedyDual {},
    /// Young's Landlord as in FaasCache §4: Greedy-Dual with Frequency 1.
    Landlord {},
    /// Keep while memory lasts, reclaim least recently used first.
    Lru {},
    /// Keep while memory lasts, reclaim the least frequently used function first.
    Lfu {},
    /// Keep while memory lasts, reclaim the largest instances first.
    Size {},
}

fn default_ttl_s() -> f64 {
    600.0
}

impl Default for KeepAliveSpec {
    fn default() -> Self {
        KeepAliveSpec::Fixed {
            ttl_s: default_ttl_s(),
            reset_on_use: true,
        }
    }
}

impl KeepAliveSpec {
    /// The policy's name as scenarios spell it.
    pub fn name(&self) -> &'static str {
        match self {
            KeepAliveSpec::None {} => "none",
            KeepAliveSpec::Fixed { .. } => "fixed",
            KeepAliveSpec::Infinite {} => "infinite",
            KeepAliveSpec::HybridHistogram(_) => "hybrid-histogram",
            KeepAliveSpec::GreedyDual {} => "greedy-dual",
            KeepAliveSpec::Landlord {} => "landlord",
            KeepAliveSpec::Lru {} => "lru",
            KeepAliveSpec::Lfu {} => "lfu",
            KeepAliveSpec::Size {} => "size",
        }
    }

    /// Every keep-alive policy with its default parameters.
    pub fn all_defaults() -> Vec<KeepAliveSpec> {
        vec![
            KeepAliveSpec::None {},
            KeepAliveSpec::default(),
            KeepAliveSpec::Infinite {},
            KeepAliveSpec::HybridHistogram(HybridHistogramSpec::default()),
            KeepAliveSpec::GreedyDual {},
            KeepAliveSpec::Landlord {},
            KeepAliveSpec::Lru {},
            KeepAliveSpec::Lfu {},
            KeepAliveSpec::Size {},
        ]
    }

    /// Builds the policy, or says which parameter is out of range.
    pub fn build(&self) -> Result<Box<dyn KeepAlive>, SpecError> {
        Ok(match self {
            KeepAliveSpec::None {} => Box::new(NoKeepAlive),
            KeepAliveSpec::Fixed {
                ttl_s,
                reset_on_use,
            } => {
                let ttl =
                    SimDuration::try_from_ms_f64(ttl_s * 1000.0).ok_or_else(|| SpecError {
                        policy: "fixed",
                        message: format!("ttl_s must be a finite number >= 0, got {ttl_s}"),
                    })?;
                Box::new(FixedKeepAlive {
                    ttl,
                    reset_on_use: *reset_on_use,
                })
            }
            KeepAliveSpec::Infinite {} => Box::new(InfiniteKeepAlive),
            KeepAliveSpec::HybridHistogram(spec) => Box::new(spec.build()?),
            KeepAliveSpec::GreedyDual {} => Box::new(CachingKeepAlive::new(Rank::GreedyDual)),
            KeepAliveSpec::Landlord {} => Box::new(CachingKeepAlive::new(Rank::Landlord)),
            KeepAliveSpec::Lru {} => Box::new(CachingKeepAlive::new(Rank::Lru)),
            KeepAliveSpec::Lfu {} => Box::new(CachingKeepAlive::new(Rank::Lfu)),
            KeepAliveSpec::Size {} => Box::new(CachingKeepAlive::new(Rank::Size)),
        })
    }
}
