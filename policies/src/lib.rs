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
pub mod load_balancing;
pub mod placement;
pub mod routing;

pub use autoscaling::AutoscalingSpec;
pub use keep_alive::KeepAliveSpec;
pub use load_balancing::LoadBalancingSpec;
pub use placement::PlacementSpec;
pub use routing::RoutingSpec;

use faasim_sim::Policies;

/// Builds the policies every run has from their specs (`cluster-wide` load balancing
/// builds no balancer). The autoscaler is optional
/// and built separately, by [`AutoscalingSpec::build`] (`None` for per-request scaling).
///
/// Fails with the first [`SpecError`] of the placement, keep-alive or load-balancing spec;
/// routing specs have no parameters and always build.
pub fn build(
    placement: &PlacementSpec,
    routing: &RoutingSpec,
    keep_alive: &KeepAliveSpec,
    load_balancing: &LoadBalancingSpec,
) -> Result<Policies, SpecError> {
    Ok(Policies {
        placement: placement.build()?,
        routing: routing.build(),
        keep_alive: keep_alive.build()?,
        load_balancer: load_balancing.build()?,
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
        round_trip(PlacementSpec::PowerOfTwo { d: 3 });
        for b in LoadBalancingSpec::all_defaults() {
            round_trip(b);
        }
        for b in [
            LoadBalancingSpec::ConsistentHashingBounded {
                virtual_nodes: 40,
                epsilon: 0.1,
                load: load_balancing::BoundedLoad::Instances,
            },
            LoadBalancingSpec::ChRlu {
                virtual_nodes: 5,
                chain_length: 2,
                load_bound: 1.5,
                popular_fraction: 0.05,
                refresh_s: 12.5,
            },
            LoadBalancingSpec::Hermod {
                load: load_balancing::HermodLoad::Executing,
                prefer_warm: true,
                avoid_queueing: false,
            },
            LoadBalancingSpec::OpenWhisk {
                managed_fraction: 0.5,
            },
        ] {
            round_trip(b);
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
        // A parameter of another policy is an unknown key here.
        let e = toml::from_str::<PlacementSpec>("policy = \"first-fit\"\nd = 2")
            .unwrap_err()
            .to_string();
        assert!(e.contains('d'), "{e}");
        // The per-request balancers are not placements.
        assert!(toml::from_str::<PlacementSpec>("policy = \"openwhisk\"").is_err());
    }

    #[test]
    fn every_balancer_name_parses_with_defaults_and_rejects_unknown_keys() {
        for spec in LoadBalancingSpec::all_defaults() {
            let name = spec.name();
            let parsed: LoadBalancingSpec = toml::from_str(&format!("policy = \"{name}\""))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed, spec, "{name}");
            let e = toml::from_str::<LoadBalancingSpec>(&format!("policy = \"{name}\"\nbogus = 1"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("bogus"), "{name}: {e}");
            let built = spec.build().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(built.is_none(), name == "cluster-wide", "{name}");
        }
        let p: LoadBalancingSpec = toml::from_str(
            "policy = \"consistent-hashing-bounded\"\nepsilon = 0.5\nload = \"instances\"",
        )
        .unwrap();
        assert_eq!(
            p,
            LoadBalancingSpec::ConsistentHashingBounded {
                virtual_nodes: 100,
                epsilon: 0.5,
                load: load_balancing::BoundedLoad::Instances,
            }
        );
        let e = toml::from_str::<LoadBalancingSpec>("policy = \"hermod\"\nepsilon = 0.5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("epsilon"), "{e}");
        assert!(
            toml::from_str::<LoadBalancingSpec>("policy = \"hermod\"\nload = \"cpu\"").is_err()
        );
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
    fn out_of_range_parameters_are_spec_errors() {
        assert!(PlacementSpec::PowerOfTwo { d: 0 }
            .build()
            .err()
            .unwrap()
            .to_string()
            .starts_with("power-of-two: d"));
        let rlu = |chain_length: u32, load_bound: f64, popular_fraction: f64, refresh_s: f64| {
            LoadBalancingSpec::ChRlu {
                virtual_nodes: 3,
                chain_length,
                load_bound,
                popular_fraction,
                refresh_s,
            }
        };
        let bad = [
            (LoadBalancingSpec::PowerOfTwo { d: 0 }, "d"),
            (
                LoadBalancingSpec::OpenWhisk {
                    managed_fraction: 0.0,
                },
                "managed_fraction",
            ),
            (
                LoadBalancingSpec::ConsistentHashingBounded {
                    virtual_nodes: 0,
                    epsilon: 0.25,
                    load: load_balancing::BoundedLoad::Requests,
                },
                "virtual_nodes",
            ),
            (
                LoadBalancingSpec::ConsistentHashingBounded {
                    virtual_nodes: 10,
                    epsilon: -0.1,
                    load: load_balancing::BoundedLoad::Requests,
                },
                "epsilon",
            ),
            (rlu(0, 1.4, 0.2, 2.0), "chain_length"),
            (rlu(4, f64::NAN, 0.2, 2.0), "load_bound"),
            (rlu(4, 1.4, 1.5, 2.0), "popular_fraction"),
            (rlu(4, 1.4, 0.2, 0.0), "refresh_s"),
        ];
        for (spec, field) in bad {
            let e = spec.build().err().unwrap().to_string();
            assert!(e.starts_with(spec.name()), "{e}");
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn ring_sizes_are_bounded() {
        let e = LoadBalancingSpec::ConsistentHashingBounded {
            virtual_nodes: 100_000_000,
            epsilon: 0.25,
            load: load_balancing::BoundedLoad::Requests,
        }
        .build()
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            e,
            "consistent-hashing-bounded: virtual_nodes must be between 1 and 10000, got 100000000"
        );
        let rlu = |virtual_nodes| LoadBalancingSpec::ChRlu {
            virtual_nodes,
            chain_length: 4,
            load_bound: 1.4,
            popular_fraction: 0.2,
            refresh_s: 2.0,
        };
        let e = rlu(10_001).build().err().unwrap().to_string();
        assert_eq!(
            e,
            "ch-rlu: virtual_nodes must be between 1 and 10000, got 10001"
        );
        let ok = rlu(load_balancing::MAX_VIRTUAL_NODES);
        assert!(ok.build().is_ok());
        assert_eq!(ok.virtual_nodes(), Some(10_000));
        assert_eq!(LoadBalancingSpec::Random {}.virtual_nodes(), None);
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
