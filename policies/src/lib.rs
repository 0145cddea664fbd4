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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{de::DeserializeOwned, Serialize};

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: T) {
        let text = toml::to_string(&v).unwrap();
        let back: T = toml::from_str(&text).unwrap();
        assert_eq!(v, back, "{text}");
    }

    #[test]
    fn every_spec_round_trips_through_toml() {
        for p in [
            PlacementSpec::FirstFit {},
            PlacementSpec::BestFit {},
            PlacementSpec::LeastLoaded {},
            PlacementSpec::Random {},
            PlacementSpec::RoundRobin {},
        ] {
            round_trip(p);
        }
        round_trip(RoutingSpec::MostRecentlyUsed {});
        for k in [
            KeepAliveSpec::None {},
            KeepAliveSpec::Infinite {},
            KeepAliveSpec::Fixed {
                ttl_s: 90.5,
                reset_on_use: false,
            },
        ] {
            round_trip(k);
        }
    }

    #[test]
    fn names_parse_and_unknown_keys_are_rejected() {
        let p: PlacementSpec = toml::from_str("policy = \"round-robin\"").unwrap();
        assert_eq!(p, PlacementSpec::RoundRobin {});
        let k: KeepAliveSpec = toml::from_str("policy = \"fixed\"").unwrap();
        assert_eq!(k, KeepAliveSpec::default());
        let e = toml::from_str::<RoutingSpec>("policy = \"most-recently-used\"\nsticky = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sticky"), "{e}");
        let e = toml::from_str::<KeepAliveSpec>("policy = \"fixed\"\nttl = 5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ttl"), "{e}");
        assert!(toml::from_str::<PlacementSpec>("policy = \"tetris\"").is_err());
    }

    #[test]
    fn a_negative_ttl_is_a_spec_error() {
        let e = KeepAliveSpec::Fixed {
            ttl_s: -1.0,
            reset_on_use: true,
        }
        .build()
        .err()
        .unwrap();
        assert!(e.to_string().contains("ttl_s"));
    }
}
