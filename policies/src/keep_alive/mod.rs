//! Keep-alive policies: how long idle instances stay warm.

mod fixed;
mod infinite;
mod none;

pub use fixed::FixedKeepAlive;
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
/// Variants are empty structs, not unit variants, so unknown keys are rejected (serde
/// ignores extra keys beside the tag of a unit variant).
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum KeepAliveSpec {
    None {},
    Fixed {
        /// Seconds an idle instance stays warm (default 600, AWS Lambda's commonly observed
        /// lower bound and Azure's 20 minutes halved).
        #[serde(default = "default_ttl_s")]
        ttl_s: f64,
        /// Restart the window at each use (default true).
        #[serde(default = "default_true")]
        reset_on_use: bool,
    },
    Infinite {},
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
        })
    }
}
