//! # faasim-policies: placement, routing and keep-alive policies
//!
//! Each policy is one file implementing one of the traits of `faasim_sim::policy`, with a doc
//! comment giving its source, its parameters and defaults, and its cost per decision. The
//! `*Spec` enums are how scenarios name policies: serde enums tagged by `policy`, with
//! unknown fields rejected, built into boxed policies by `build()`.
//!
//! Adding a policy: write the file (a struct and one trait impl), add one arm to the spec
//! enum and to its `build()`.
//!
//! **"Least-loaded" means two things.** As a *placement* policy
//! ([`placement::LeastLoaded`], `[placement] policy = "least-loaded"`) it picks the worker
//! with the lowest memory utilisation (MB held by instances / MB of capacity). As a
//! *routing* policy ([`routing::LeastLoadedRouting`], `[routing] policy = "least-loaded"`) it
//! picks the warm instance of the function with the fewest running executions. The two are
//! independent and can be combined.

#![warn(missing_docs)]

pub mod autoscaling;
pub mod hash;
pub mod keep_alive;
pub mod placement;
pub mod routing;

pub use autoscaling::AutoscalingSpec;
pub use keep_alive::KeepAliveSpec;
pub use placement::PlacementSpec;
pub use routing::RoutingSpec;

use faasim_sim::Policies;

/// Builds the three policies every run has from their specs. The autoscaler is optional
/// and built separately, by [`AutoscalingSpec::build`] (`None` for per-request scaling).
///
/// Fails with the first [`SpecError`] of the placement or keep-alive spec; routing specs
/// have no parameters and always build.
pub fn build(
    placement: &PlacementSpec,
    routing: &RoutingSpec,
    keep_alive: &KeepAliveSpec,
) -> Result<Policies, SpecError> {
    Ok(Policies {
        placement: placement.build()?,
        routing: routing.build(),
        keep_alive: keep_alive.build()?,
    })
}

/// A policy spec with a bad parameter, reported when the spec is built (before a run
/// starts), so a typo in a scenario fails fast instead of running with a silent default.
#[derive(Debug, thiserror::Error)]
#[error("{policy}: {message}")]
pub struct SpecError {
    /// The policy's name as scenarios spell it, e.g. `"ch-rlu"`.
    pub policy: &'static str,
    /// Which parameter is out of range and the value given, e.g.
    /// `"d must be >= 1, got 0"`.
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
        for p in PlacementSpec::all_defaults() {
            round_trip(p);
        }
        for p in [
            PlacementSpec::PowerOfTwo { d: 3 },
            PlacementSpec::ConsistentHashingBounded {
                virtual_nodes: 40,
                epsilon: 0.1,
            },
            PlacementSpec::ChRlu {
                virtual_nodes: 5,
                chain_length: 2,
                load_bound: 1.5,
                popular_fraction: 0.05,
                popularity_window_s: 12.5,
            },
            PlacementSpec::Hermod { high_load: 0.75 },
        ] {
            round_trip(p);
        }
        for r in RoutingSpec::all() {
            round_trip(r);
        }
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
    fn every_placement_name_parses_with_defaults_and_rejects_unknown_keys() {
        for spec in PlacementSpec::all_defaults() {
            let name = spec.name();
            let parsed: PlacementSpec = toml::from_str(&format!("policy = \"{name}\""))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed, spec, "{name}");
            let e = toml::from_str::<PlacementSpec>(&format!("policy = \"{name}\"\nbogus = 1"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("bogus"), "{name}: {e}");
            assert!(spec.build().is_ok(), "{name}");
        }
        let p: PlacementSpec = toml::from_str("policy = \"power-of-two\"\nd = 4").unwrap();
        assert_eq!(p, PlacementSpec::PowerOfTwo { d: 4 });
        let p: PlacementSpec =
            toml::from_str("policy = \"consistent-hashing-bounded\"\nepsilon = 0.5").unwrap();
        assert_eq!(
            p,
            PlacementSpec::ConsistentHashingBounded {
                virtual_nodes: 100,
                epsilon: 0.5
            }
        );
        // A parameter of another policy is an unknown key here.
        let e = toml::from_str::<PlacementSpec>("policy = \"hermod\"\nepsilon = 0.5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("epsilon"), "{e}");
        assert!(toml::from_str::<PlacementSpec>("policy = \"open-whisk\"").is_err());
    }

    #[test]
    fn every_routing_name_parses_and_rejects_unknown_keys() {
        for (name, spec) in [
            ("most-recently-used", RoutingSpec::MostRecentlyUsed {}),
            ("least-recently-used", RoutingSpec::LeastRecentlyUsed {}),
            ("least-loaded", RoutingSpec::LeastLoaded {}),
            ("random", RoutingSpec::Random {}),
        ] {
            let parsed: RoutingSpec = toml::from_str(&format!("policy = \"{name}\"")).unwrap();
            assert_eq!(parsed, spec);
            let e = toml::from_str::<RoutingSpec>(&format!("policy = \"{name}\"\nseed = 3"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("seed"), "{name}: {e}");
        }
        assert_eq!(RoutingSpec::all().len(), 4);
    }

    #[test]
    fn out_of_range_placement_parameters_are_spec_errors() {
        let bad = [
            (PlacementSpec::PowerOfTwo { d: 0 }, "d"),
            (
                PlacementSpec::ConsistentHashingBounded {
                    virtual_nodes: 0,
                    epsilon: 0.25,
                },
                "virtual_nodes",
            ),
            (
                PlacementSpec::ConsistentHashingBounded {
                    virtual_nodes: 10,
                    epsilon: -0.1,
                },
                "epsilon",
            ),
            (
                PlacementSpec::ChRlu {
                    virtual_nodes: 3,
                    chain_length: 0,
                    load_bound: 1.0,
                    popular_fraction: 0.2,
                    popularity_window_s: 60.0,
                },
                "chain_length",
            ),
            (
                PlacementSpec::ChRlu {
                    virtual_nodes: 3,
                    chain_length: 4,
                    load_bound: f64::NAN,
                    popular_fraction: 0.2,
                    popularity_window_s: 60.0,
                },
                "load_bound",
            ),
            (
                PlacementSpec::ChRlu {
                    virtual_nodes: 3,
                    chain_length: 4,
                    load_bound: 1.0,
                    popular_fraction: 1.5,
                    popularity_window_s: 60.0,
                },
                "popular_fraction",
            ),
            (
                PlacementSpec::ChRlu {
                    virtual_nodes: 3,
                    chain_length: 4,
                    load_bound: 1.0,
                    popular_fraction: 0.2,
                    popularity_window_s: 0.0,
                },
                "popularity_window_s",
            ),
            (PlacementSpec::Hermod { high_load: 0.0 }, "high_load"),
        ];
        for (spec, field) in bad {
            let e = spec.build().err().unwrap().to_string();
            assert!(e.starts_with(spec.name()), "{e}");
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn ring_sizes_are_bounded() {
        let e = PlacementSpec::ConsistentHashingBounded {
            virtual_nodes: 100_000_000,
            epsilon: 0.25,
        }
        .build()
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            e,
            "consistent-hashing-bounded: virtual_nodes must be between 1 and 10000, got 100000000"
        );
        let e = PlacementSpec::ChRlu {
            virtual_nodes: 10_001,
            chain_length: 4,
            load_bound: 1.0,
            popular_fraction: 0.2,
            popularity_window_s: 60.0,
        }
        .build()
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            e,
            "ch-rlu: virtual_nodes must be between 1 and 10000, got 10001"
        );
        let ok = PlacementSpec::ChRlu {
            virtual_nodes: placement::MAX_VIRTUAL_NODES,
            chain_length: 4,
            load_bound: 1.0,
            popular_fraction: 0.2,
            popularity_window_s: 60.0,
        };
        assert!(ok.build().is_ok());
        assert_eq!(ok.virtual_nodes(), Some(10_000));
        assert_eq!(PlacementSpec::FirstFit {}.virtual_nodes(), None);
    }

    #[test]
    fn kpa_windows_are_bounded_in_ticks() {
        let kpa = |tick_s: f64, stable_window_s: f64| -> String {
            let text = format!(
                "policy = \"kpa\"\ntick_s = {tick_s}\nstable_window_s = {stable_window_s}\n"
            );
            let spec: AutoscalingSpec = toml::from_str(&text).unwrap();
            match spec.build() {
                Ok(_) => "ok".into(),
                Err(e) => e.to_string(),
            }
        };
        assert_eq!(
            kpa(0.001, 86400.0),
            "kpa: stable_window_s / tick_s must be at most 10000 ticks, got 86400000"
        );
        assert_eq!(kpa(0.006, 60.0), "ok");
        assert_eq!(
            kpa(0.0001, 60.0),
            "kpa: stable_window_s / tick_s must be at most 10000 ticks, got 600000"
        );
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
