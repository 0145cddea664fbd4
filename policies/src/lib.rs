//! # faasim-policies: placement, routing and keep-alive policies
//!
//! Each policy is one file implementing one of the traits of `faasim_sim::policy`, with a doc
//! comment giving its source, its parameters and defaults, and its cost per decision. The
//! `*Spec` enums are how scenarios name policies: serde enums tagged by `policy`, with
//! unknown fields rejected, built into boxed policies by `build()`.
//!
//! Adding a policy: write the file (a struct and one trait impl), add one arm to the spec
//! enum and to its `build()`.

pub mod keep_alive;
pub mod placement;
pub mod routing;

pub use keep_alive::KeepAliveSpec;
pub use placement::PlacementSpec;
pub use routing::RoutingSpec;

use faasim_sim::Policies;

/// Builds the three policies of a run from their specs.
pub fn build(
    placement: &PlacementSpec,
    routing: &RoutingSpec,
    keep_alive: &KeepAliveSpec,
) -> Result<Policies, SpecError> {
    Ok(Policies {
        placement: placement.build(),
        routing: routing.build(),
        keep_alive: keep_alive.build()?,
    })
}

/// A policy spec with a bad parameter.
#[derive(Debug, thiserror::Error)]
#[error("{policy}: {message}")]
pub struct SpecError {
    pub policy: &'static str,
    pub message: String,
}
