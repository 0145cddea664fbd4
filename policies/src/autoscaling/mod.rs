//! Autoscalers: how many instances each function should have, decided on a clock
//! (`[autoscaling] policy`). Without one, faasim scales per request: a request that finds no
//! free slot starts a new instance.

mod kpa;

pub use kpa::{Kpa, KpaParams};

use crate::SpecError;
use faasim_sim::{Autoscaler, SimDuration};
use serde::{Deserialize, Serialize};

/// The most ticks a KPA window may span (`stable_window_s / tick_s`, and the panic window's
/// likewise): the autoscaler keeps a stable window of per-tick averages per function.
pub const MAX_WINDOW_TICKS: u64 = 10_000;

/// `[autoscaling] policy = "..."`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AutoscalingSpec {
    /// One new instance per request that finds no free slot (AWS Lambda style).
    PerRequest {},
    /// Knative's KPA; every key optional (see [`Kpa`] and [`KpaParams`]).
    Kpa {
        /// Seconds between scaling decisions (default 2, > 0).
        #[serde(default = "d_tick")]
        tick_s: f64,
        /// Seconds of the stable averaging window (default 60, > 0).
        #[serde(default = "d_stable")]
        stable_window_s: f64,
        /// Seconds of the panic averaging window (default 6, > 0).
        #[serde(default = "d_panic")]
        panic_window_s: f64,
        /// Desired / ready ratio that starts panic mode (default 2.0, > 0).
        #[serde(default = "d_threshold")]
        panic_threshold: f64,
        /// Requests per instance at 100% utilisation (default: the instance concurrency).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_concurrency: Option<f64>,
        /// Fraction of the target concurrency to aim for (default 0.7, > 0).
        #[serde(default = "d_util")]
        target_utilization: f64,
        /// Seconds the activator must have been in the request path (from the decision
        /// that turns the function inactive) before its last instance goes (Knative's
        /// `scale-to-zero-grace-period`, default 30, >= 0).
        #[serde(default = "d_grace")]
        scale_to_zero_grace_s: f64,
        /// Largest scale-up per decision, as a multiple of the ready instances (default
        /// 1000, > 0).
        #[serde(default = "d_up")]
        max_scale_up_rate: f64,
        /// Largest scale-down per decision, as a divisor of the ready instances (default 2,
        /// > 0).
        #[serde(default = "d_down")]
        max_scale_down_rate: f64,
    },
}

fn d_tick() -> f64 {
    2.0
}
fn d_stable() -> f64 {
    60.0
}
fn d_panic() -> f64 {
    6.0
}
fn d_threshold() -> f64 {
    2.0
}
fn d_util() -> f64 {
    0.7
}
fn d_grace() -> f64 {
    30.0
}
fn d_up() -> f64 {
    1000.0
}
fn d_down() -> f64 {
    2.0
}

impl Default for AutoscalingSpec {
    fn default() -> Self {
        AutoscalingSpec::PerRequest {}
    }
}

fn secs(name: &str, v: f64, positive: bool) -> Result<SimDuration, SpecError> {
    let ok = v.is_finite() && if positive { v > 0.0 } else { v >= 0.0 };
    let d = if ok {
        SimDuration::try_from_ms_f64(v * 1e3)
    } else {
        None
    };
    d.ok_or_else(|| SpecError {
        policy: "kpa",
        message: format!(
            "{name} must be a number of seconds {} 0, got {v}",
            if positive { ">" } else { ">=" }
        ),
    })
}

fn positive(name: &str, v: f64) -> Result<f64, SpecError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(SpecError {
            policy: "kpa",
            message: format!("{name} must be > 0, got {v}"),
        })
    }
}

impl AutoscalingSpec {
    /// The autoscaler, or `None` for per-request scaling.
    pub fn build(&self) -> Result<Option<Box<dyn Autoscaler>>, SpecError> {
        match self {
            AutoscalingSpec::PerRequest {} => Ok(None),
            AutoscalingSpec::Kpa {
                tick_s,
                stable_window_s,
                panic_window_s,
                panic_threshold,
                target_concurrency,
                target_utilization,
                scale_to_zero_grace_s,
                max_scale_up_rate,
                max_scale_down_rate,
            } => {
                if let Some(t) = target_concurrency {
                    positive("target_concurrency", *t)?;
                }
                let p = KpaParams {
                    tick: secs("tick_s", *tick_s, true)?,
                    stable_window: secs("stable_window_s", *stable_window_s, true)?,
                    panic_window: secs("panic_window_s", *panic_window_s, true)?,
                    panic_threshold: positive("panic_threshold", *panic_threshold)?,
                    target_concurrency: *target_concurrency,
                    target_utilization: positive("target_utilization", *target_utilization)?,
                    scale_to_zero_grace: secs(
                        "scale_to_zero_grace_s",
                        *scale_to_zero_grace_s,
                        false,
                    )?,
                    max_scale_up_rate: positive("max_scale_up_rate", *max_scale_up_rate)?,
                    max_scale_down_rate: positive("max_scale_down_rate", *max_scale_down_rate)?,
                };
                for (name, window) in [
                    ("stable_window_s", p.stable_window),
                    ("panic_window_s", p.panic_window),
                ] {
                    let ticks = window.as_micros().div_ceil(p.tick.as_micros().max(1));
                    if ticks > MAX_WINDOW_TICKS {
                        return Err(SpecError {
                            policy: "kpa",
                            message: format!(
                                "{name} / tick_s must be at most {MAX_WINDOW_TICKS} ticks, got {ticks}"
                            ),
                        });
                    }
                }
                Ok(Some(Box::new(Kpa::new(p))))
            }
        }
    }
}
