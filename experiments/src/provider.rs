//! The scenario's `[limits]`, `[async]` and `[faults]` tables: the provider's rules
//! ([`faasim_sim::provider`], where each default's source is given).
//!
//! ```toml
//! [limits]
//! account_concurrency = 1000    # executions at once, all functions (default: no limit)
//! scaling = "aws-2023"          # "none" (default), "aws-2023" or "aws-legacy"
//! # aws-2023: scale_step = 1000, scale_interval_s = 10 (per function)
//! # aws-legacy: region = "us-east-1" (its burst), burst = 3000, per_minute = 500 (account)
//!
//! [async]                       # AWS Lambda's rules by default
//! retries = 2
//! retry_delays_s = [60, 120]
//! max_event_age_s = 21600
//! backoff_initial_s = 1
//! backoff_max_s = 300
//! duplicate_rate = 0
//!
//! [faults]
//! schedule = [{ worker = 0, at_s = 30, down_s = 60 }]
//! worker_mtbf_s = 86400         # a failure process, with repair_s
//! repair_s = 600
//! ```

use crate::scenario::Scenario;
use faasim_sim::provider::{legacy_burst, AsyncPolicy, Faults, Limits, Outage, ScalingBucket};
use faasim_sim::{InvocationMode, ProviderRules, SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// Whether `v` is its type's default (tables left at their defaults are not written back).
pub fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// `[functions."NAME"] invocation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InvocationSpec {
    /// The caller waits; a throttle or an error ends the invocation.
    Sync,
    /// The platform queues the event and retries it (`[async]`).
    Async,
}

impl InvocationSpec {
    /// The engine's form.
    pub fn to_mode(self) -> InvocationMode {
        match self {
            InvocationSpec::Sync => InvocationMode::Sync,
            InvocationSpec::Async => InvocationMode::Async,
        }
    }
}

/// `[limits] scaling`: the rule for the rate of scale-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ScalingRuleSpec {
    /// Instances start as fast as requests need them (default).
    #[default]
    None,
    /// AWS Lambda since November 2023: each function adds at most `scale_step` environments
    /// per `scale_interval_s` (1,000 per 10 s), a token bucket refilled continuously.
    #[serde(rename = "aws-2023")]
    Aws2023,
    /// AWS Lambda before: an account-wide burst (500 to 3,000 by Region), then `per_minute`
    /// (500) more environments each minute.
    AwsLegacy,
}

/// `[limits]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSpec {
    /// Executions admitted at once across all functions (default: no limit; AWS's default
    /// quota is 1,000 per Region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_concurrency: Option<u32>,
    /// `"none"`, `"aws-2023"` or `"aws-legacy"`.
    pub scaling: ScalingRuleSpec,
    /// aws-2023: environments a function may add per interval (default 1,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_step: Option<u32>,
    /// aws-2023: the interval, s (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_interval_s: Option<f64>,
    /// aws-legacy: the Region whose burst applies (default `us-east-1`: 3,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// aws-legacy: the burst, overriding the Region's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// aws-legacy: environments added each minute after the burst (default 500).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u32>,
}

/// `[async]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsyncSpec {
    /// Retries after a function error or a timeout (default 2).
    pub retries: u32,
    /// Seconds before each retry after a function error; the last repeats (default 60, 120).
    pub retry_delays_s: Vec<f64>,
    /// An event older than this is discarded (`failed`), s (default 21,600: 6 h).
    pub max_event_age_s: f64,
    /// The first wait after a throttle or a platform error, s (default 1); it doubles.
    pub backoff_initial_s: f64,
    /// The longest such wait, s (default 300).
    pub backoff_max_s: f64,
    /// The probability that a completed delivery is delivered again (default 0).
    pub duplicate_rate: f64,
}

impl Default for AsyncSpec {
    fn default() -> Self {
        let p = AsyncPolicy::default();
        AsyncSpec {
            retries: p.retries,
            retry_delays_s: p.retry_delays.iter().map(|d| d.as_secs_f64()).collect(),
            max_event_age_s: p.max_event_age.as_secs_f64(),
            backoff_initial_s: p.backoff_initial.as_secs_f64(),
            backoff_max_s: p.backoff_max.as_secs_f64(),
            duplicate_rate: p.duplicate_rate,
        }
    }
}

/// One entry of `[faults] schedule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageSpec {
    /// The worker's index (0-based).
    pub worker: u32,
    /// When it fails, s.
    pub at_s: f64,
    /// How long it stays down, s.
    pub down_s: f64,
}

/// `[faults]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsSpec {
    /// Planned outages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<OutageSpec>,
    /// A failure process: mean time between failures of each worker, s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_mtbf_s: Option<f64>,
    /// The failure process's repair time, s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair_s: Option<f64>,
}

fn secs(s: f64) -> SimDuration {
    SimDuration::try_from_ms_f64(s * 1e3).unwrap_or(SimDuration::MAX)
}

/// A number of seconds within the span faasim simulates.
fn check_s(v: f64, positive: bool) -> Result<(), String> {
    let limit_s = faasim_sim::TIME_LIMIT.as_secs_f64();
    let ok = v.is_finite() && (if positive { v > 0.0 } else { v >= 0.0 }) && v <= limit_s;
    match ok {
        true => Ok(()),
        false => Err(format!(
            "must be a number of seconds {} and at most {limit_s:.0} (100 years), got {v}",
            if positive { "> 0" } else { ">= 0" }
        )),
    }
}

/// Checks the three tables: `Err((key, message))`.
pub fn validate(s: &Scenario) -> Result<(), (&'static str, String)> {
    let l = &s.limits;
    if l.account_concurrency == Some(0) {
        return Err(("limits.account_concurrency", "must be at least 1".into()));
    }
    let legacy_keys = [
        ("limits.region", l.region.is_some()),
        ("limits.burst", l.burst.is_some()),
        ("limits.per_minute", l.per_minute.is_some()),
    ];
    let step_keys = [
        ("limits.scale_step", l.scale_step.is_some()),
        ("limits.scale_interval_s", l.scale_interval_s.is_some()),
    ];
    for (key, set) in legacy_keys {
        if set && l.scaling != ScalingRuleSpec::AwsLegacy {
            return Err((key, "only applies with scaling = \"aws-legacy\"".into()));
        }
    }
    for (key, set) in step_keys {
        if set && l.scaling != ScalingRuleSpec::Aws2023 {
            return Err((key, "only applies with scaling = \"aws-2023\"".into()));
        }
    }
    for (key, v) in [
        ("limits.scale_step", l.scale_step),
        ("limits.burst", l.burst),
        ("limits.per_minute", l.per_minute),
    ] {
        if v == Some(0) {
            return Err((key, "must be at least 1".into()));
        }
    }
    if let Some(v) = l.scale_interval_s {
        check_s(v, true).map_err(|e| ("limits.scale_interval_s", e))?;
    }
    let a = &s.async_events;
    if a.retries > 100 {
        return Err((
            "async.retries",
            format!("must be at most 100, got {}", a.retries),
        ));
    }
    if a.retries > 0 && a.retry_delays_s.is_empty() {
        return Err((
            "async.retry_delays_s",
            "needs at least one delay when retries > 0".into(),
        ));
    }
    for &d in &a.retry_delays_s {
        check_s(d, false).map_err(|e| ("async.retry_delays_s", e))?;
    }
    check_s(a.max_event_age_s, true).map_err(|e| ("async.max_event_age_s", e))?;
    check_s(a.backoff_initial_s, true).map_err(|e| ("async.backoff_initial_s", e))?;
    check_s(a.backoff_max_s, true).map_err(|e| ("async.backoff_max_s", e))?;
    if a.backoff_max_s < a.backoff_initial_s {
        return Err((
            "async.backoff_max_s",
            format!(
                "must be at least backoff_initial_s ({}), got {}",
                a.backoff_initial_s, a.backoff_max_s
            ),
        ));
    }
    if !(0.0..=1.0).contains(&a.duplicate_rate) {
        return Err((
            "async.duplicate_rate",
            format!("must be a probability in [0, 1], got {}", a.duplicate_rate),
        ));
    }
    let f = &s.faults;
    for o in &f.schedule {
        if o.worker >= s.cluster.workers {
            return Err((
                "faults.schedule",
                format!(
                    "worker {} does not exist: the cluster has {} (0 to {})",
                    o.worker,
                    s.cluster.workers,
                    s.cluster.workers - 1
                ),
            ));
        }
        check_s(o.at_s, false).map_err(|e| ("faults.schedule", format!("at_s {e}")))?;
        check_s(o.down_s, true).map_err(|e| ("faults.schedule", format!("down_s {e}")))?;
    }
    match (f.worker_mtbf_s, f.repair_s) {
        (Some(m), Some(r)) => {
            check_s(m, true).map_err(|e| ("faults.worker_mtbf_s", e))?;
            check_s(r, true).map_err(|e| ("faults.repair_s", e))?;
        }
        (Some(_), None) => {
            return Err((
                "faults.repair_s",
                "is needed with worker_mtbf_s (how long a failed worker stays down)".into(),
            ))
        }
        (None, Some(_)) => {
            return Err((
                "faults.repair_s",
                "only applies with worker_mtbf_s (the failure process)".into(),
            ))
        }
        (None, None) => {}
    }
    Ok(())
}

/// The engine's rules from a checked scenario.
pub fn rules(s: &Scenario) -> ProviderRules {
    let l = &s.limits;
    let scaling = match l.scaling {
        ScalingRuleSpec::None => None,
        ScalingRuleSpec::Aws2023 => {
            let d = ScalingBucket::aws_2023();
            let step = l.scale_step.unwrap_or(d.burst);
            Some(ScalingBucket {
                burst: step,
                refill: step,
                every: l.scale_interval_s.map(secs).unwrap_or(d.every),
                ..d
            })
        }
        ScalingRuleSpec::AwsLegacy => {
            let burst = l
                .burst
                .unwrap_or_else(|| legacy_burst(l.region.as_deref().unwrap_or("us-east-1")));
            let d = ScalingBucket::aws_legacy(burst);
            Some(ScalingBucket {
                refill: l.per_minute.unwrap_or(d.refill),
                ..d
            })
        }
    };
    let a = &s.async_events;
    ProviderRules {
        limits: Limits {
            account_concurrency: l.account_concurrency,
            scaling,
        },
        async_events: AsyncPolicy {
            retries: a.retries,
            retry_delays: a.retry_delays_s.iter().map(|&d| secs(d)).collect(),
            max_event_age: secs(a.max_event_age_s),
            backoff_initial: secs(a.backoff_initial_s),
            backoff_max: secs(a.backoff_max_s),
            duplicate_rate: a.duplicate_rate,
        },
        faults: Faults {
            schedule: s
                .faults
                .schedule
                .iter()
                .map(|o| Outage {
                    worker: o.worker,
                    at: SimTime::ZERO + secs(o.at_s),
                    down: secs(o.down_s),
                })
                .collect(),
            mtbf: s.faults.worker_mtbf_s.map(secs),
            repair: s.faults.repair_s.map(secs).unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse;
    use std::path::Path;

    const MINIMAL: &str = "name = \"t\"\n[trace]\nformat = \"synthetic\"\n";

    fn p(extra: &str) -> Result<crate::scenario::Scenario, String> {
        parse(&format!("{MINIMAL}{extra}"), Path::new("s.toml"), &[]).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_leave_every_rule_off() {
        let s = p("").unwrap();
        let r = s.engine_config(1).provider;
        assert_eq!(r, faasim_sim::ProviderRules::default());
        // Tables at their defaults are not written back (a manifest stays as it was).
        let text = toml::to_string(&s).unwrap();
        assert!(!text.contains("limits") && !text.contains("async") && !text.contains("faults"));
    }

    #[test]
    fn scaling_rules_resolve_with_their_parameters() {
        let s = p("[limits]\nscaling = \"aws-2023\"\naccount_concurrency = 10000\n").unwrap();
        let r = s.engine_config(1).provider.limits;
        assert_eq!(r.account_concurrency, Some(10_000));
        assert_eq!(r.scaling, Some(faasim_sim::ScalingBucket::aws_2023()));
        let s = p("[limits]\nscaling = \"aws-legacy\"\nregion = \"eu-central-1\"\n").unwrap();
        let b = s.engine_config(1).provider.limits.scaling.unwrap();
        assert_eq!((b.burst, b.refill), (1_000, 500));
        assert_eq!(b.scope, faasim_sim::BucketScope::Account);
        let s = p("[limits]\nscaling = \"aws-legacy\"\nburst = 42\nper_minute = 7\n").unwrap();
        let b = s.engine_config(1).provider.limits.scaling.unwrap();
        assert_eq!((b.burst, b.refill), (42, 7));
    }

    #[test]
    fn mistakes_are_named() {
        let e = p("[limits]\nscaling = \"aws-2023\"\nburst = 5\n").unwrap_err();
        assert!(
            e.contains("limits.burst: only applies with scaling = \"aws-legacy\""),
            "{e}"
        );
        let e = p("[limits]\nscaling = \"aws-2019\"\n").unwrap_err();
        assert!(e.contains("aws-2019"), "{e}");
        let e = p("[limits]\naccount_concurency = 5\n").unwrap_err();
        assert!(e.contains("account_concurency"), "{e}");
        let e = p("[async]\nduplicate_rate = 1.5\n").unwrap_err();
        assert!(e.contains("async.duplicate_rate"), "{e}");
        let e = p("[faults]\nworker_mtbf_s = 60\n").unwrap_err();
        assert!(e.contains("faults.repair_s: is needed"), "{e}");
        let e = p("[faults]\nschedule = [{ worker = 10, at_s = 1, down_s = 1 }]\n").unwrap_err();
        assert!(e.contains("worker 10 does not exist"), "{e}");
        let e = p("[functions.f]\ntimeout_s = 0\n").unwrap_err();
        assert!(e.contains("functions.\"f\".timeout_s"), "{e}");
        let e = p("[functions.f]\nerror_rate = 2\n").unwrap_err();
        assert!(e.contains("error_rate"), "{e}");
        let e = p("[functions.f]\ninvocation = \"later\"\n").unwrap_err();
        assert!(e.contains("later"), "{e}");
    }

    #[test]
    fn function_keys_reach_the_engine() {
        let s = p(
            "[functions.\"*\"]\ninvocation = \"async\"\ntimeout_s = 900\n\
                   [functions.f]\nerror_rate = 0.25\nreserved_concurrency = 3\n",
        )
        .unwrap();
        let f = s.engine_config(1).functions;
        assert_eq!(f.all.invocation, Some(faasim_sim::InvocationMode::Async));
        assert_eq!(
            f.all.timeout,
            Some(faasim_sim::provider::LAMBDA_MAX_TIMEOUT)
        );
        let (_, fr) = f.resolve("f");
        assert_eq!(fr.error_rate, Some(0.25));
        assert_eq!(fr.reserved_concurrency, Some(3));
        assert_eq!(fr.invocation, Some(faasim_sim::InvocationMode::Async));
    }
}
