//! The provider's rules: when it says no (concurrency limits and the rate of scale-up), how
//! it retries asynchronous events, and when its workers fail.
//!
//! Everything here is off by default, and a run that sets none of it is the run faasim made
//! before these rules existed, event for event. The defaults of what is on are AWS Lambda's,
//! each with its source:
//!
//! - **Concurrency** ([`Limits`]): an execution counts against the account's and its
//!   function's concurrency from its admission until its attempt ends. AWS Lambda's default
//!   account quota is 1,000 concurrent executions per Region ("Lambda quotas", AWS Lambda
//!   Developer Guide, read 2025); faasim's default is no quota.
//! - **Scaling rate** ([`ScalingBucket`]): a token bucket of new execution environments. Since
//!   26 November 2023 ("AWS Lambda functions now scale 12 times faster", AWS What's New;
//!   "Lambda scaling behavior", Developer Guide) each function may add 1,000 environments
//!   every 10 seconds, refilled continuously, never accruing more than 1,000
//!   ([`ScalingBucket::aws_2023`]). Before it, an account-wide burst of 500 to 3,000 by Region
//!   was followed by 500 more environments each minute ([`ScalingBucket::aws_legacy`],
//!   [`legacy_burst`]; "Scaling and concurrency in Lambda", AWS Lambda Operator Guide, read
//!   2025, whose "On-demand scaling example" `faasim validate` reproduces).
//! - **Asynchronous events** ([`AsyncPolicy`]): a function error (a timeout included) is retried
//!   twice, one minute and then two minutes later; a throttle or a platform error is retried
//!   with an exponential backoff from 1 second to 5 minutes; an event older than 6 hours is
//!   discarded ("How Lambda handles errors and retries with asynchronous invocation", AWS
//!   Lambda Developer Guide, read 2025).
//! - **Timeouts**: at most 900 seconds on AWS Lambda ([`LAMBDA_MAX_TIMEOUT`]; "Lambda quotas",
//!   since October 2018). faasim's default is no timeout, so that a replay keeps the trace's
//!   durations: the Azure 2019 sample holds executions of almost two hours.
//! - **Worker failures** ([`Faults`]): a schedule of outages, or a failure process (each
//!   worker up for an exponential time of mean `mtbf`, then down for `repair`).

use crate::time::{SimDuration, SimTime};

/// AWS Lambda's longest timeout, 900 s ("Lambda quotas", AWS Lambda Developer Guide; raised
/// from 300 s in October 2018).
pub const LAMBDA_MAX_TIMEOUT: SimDuration = SimDuration(900_000_000);

/// How an invocation is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvocationMode {
    /// The caller waits: a throttle or an error ends the invocation at once.
    Sync,
    /// The event is queued by the platform: throttles, platform errors and function errors
    /// are retried ([`AsyncPolicy`]).
    Async,
}

impl InvocationMode {
    /// `sync` or `async`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationMode::Sync => "sync",
            InvocationMode::Async => "async",
        }
    }
}

/// Who shares a scaling bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketScope {
    /// Each function has its own bucket (AWS since November 2023).
    Function,
    /// One bucket for the whole account (AWS's burst limit before November 2023).
    Account,
}

/// A token bucket of new execution environments: it holds at most `burst` tokens, starts full,
/// and gains `refill` tokens every `every`, continuously (in exact integer steps). A request
/// that needs a new instance takes a token, or is throttled if there is none. Instances the
/// platform starts on its own (pre-warms, an autoscaler, provisioned concurrency) take none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingBucket {
    /// Per function or account-wide.
    pub scope: BucketScope,
    /// Capacity, and the tokens at the start.
    pub burst: u32,
    /// Tokens gained per `every`.
    pub refill: u32,
    /// The refill period.
    pub every: SimDuration,
}

impl ScalingBucket {
    /// AWS Lambda since 26 November 2023: per function, 1,000 new environments every 10 s,
    /// refilled continuously, at most 1,000 at any instant ("Lambda scaling behavior").
    pub fn aws_2023() -> Self {
        ScalingBucket {
            scope: BucketScope::Function,
            burst: 1_000,
            refill: 1_000,
            every: SimDuration::from_secs(10),
        }
    }

    /// AWS Lambda before November 2023: an account-wide burst (by Region, [`legacy_burst`])
    /// and then 500 more environments each minute ("Scaling and concurrency in Lambda").
    pub fn aws_legacy(burst: u32) -> Self {
        ScalingBucket {
            scope: BucketScope::Account,
            burst,
            refill: 500,
            every: SimDuration::from_secs(60),
        }
    }
}

/// The legacy burst quota of a Region, before November 2023 ("Lambda function scaling", AWS
/// Lambda Developer Guide, 2022): 3,000 in US West (Oregon), US East (N. Virginia) and Europe
/// (Ireland); 1,000 in Asia Pacific (Tokyo), Europe (Frankfurt) and US East (Ohio); 500 in
/// every other Region.
pub fn legacy_burst(region: &str) -> u32 {
    match region {
        "us-west-2" | "us-east-1" | "eu-west-1" => 3_000,
        "ap-northeast-1" | "eu-central-1" | "us-east-2" => 1_000,
        _ => 500,
    }
}

/// Concurrency limits and the scaling rate (see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Executions admitted at once across all functions (`None`: no limit). Functions with a
    /// reserved concurrency take theirs out of it; the others share the rest.
    pub account_concurrency: Option<u32>,
    /// The scaling rate (`None`: instances start as fast as requests need them).
    pub scaling: Option<ScalingBucket>,
}

/// How asynchronous events are retried (AWS Lambda's defaults, see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncPolicy {
    /// Retries after a function error or a timeout (AWS: 0 to 2, default 2).
    pub retries: u32,
    /// The wait before retry k (1-based) after a function error; the last value repeats
    /// (AWS: 1 minute, then 2 minutes).
    pub retry_delays: Vec<SimDuration>,
    /// An event is discarded (`failed`) rather than delivered after this age (AWS: 60 s to
    /// 6 h, default 6 h).
    pub max_event_age: SimDuration,
    /// The first wait after a throttle or a platform error; each next one doubles (AWS: 1 s).
    pub backoff_initial: SimDuration,
    /// The longest wait after a throttle or a platform error (AWS: 5 minutes).
    pub backoff_max: SimDuration,
    /// The probability that a successful delivery is delivered once more (AWS's queue is
    /// eventually consistent and may deliver an event twice; it gives no rate): the
    /// duplicate runs and is billed, and is not a new invocation. 0 by default.
    pub duplicate_rate: f64,
}

impl Default for AsyncPolicy {
    fn default() -> Self {
        AsyncPolicy {
            retries: 2,
            retry_delays: vec![SimDuration::from_secs(60), SimDuration::from_secs(120)],
            max_event_age: SimDuration::from_secs(6 * 3600),
            backoff_initial: SimDuration::from_secs(1),
            backoff_max: SimDuration::from_secs(300),
            duplicate_rate: 0.0,
        }
    }
}

impl AsyncPolicy {
    /// The wait before function-error retry `k` (1-based).
    pub fn retry_delay(&self, k: u32) -> SimDuration {
        let i = (k.max(1) as usize - 1).min(self.retry_delays.len().saturating_sub(1));
        self.retry_delays.get(i).copied().unwrap_or_default()
    }

    /// The wait after the `n`-th throttle or platform error of an event (0-based):
    /// `backoff_initial × 2^n`, at most `backoff_max`.
    pub fn backoff(&self, n: u32) -> SimDuration {
        let d = self
            .backoff_initial
            .as_micros()
            .saturating_mul(1u64.checked_shl(n.min(63)).unwrap_or(u64::MAX));
        SimDuration(d.min(self.backoff_max.as_micros()))
    }
}

/// One planned outage of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// The worker (its index in the cluster).
    pub worker: u32,
    /// When it fails.
    pub at: SimTime,
    /// How long it stays down.
    pub down: SimDuration,
}

/// Worker failures: a failing worker loses its instances and their memory, its running
/// executions fail (a synchronous invocation ends `failed`, an asynchronous one is retried
/// as after a platform error), and placement skips it until it is repaired.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Planned outages.
    pub schedule: Vec<Outage>,
    /// A failure process: each worker is up for an exponential time of this mean, then down
    /// for `repair` (draws from the `faults` stream).
    pub mtbf: Option<SimDuration>,
    /// How long a worker of the failure process stays down.
    pub repair: SimDuration,
}

impl Faults {
    /// Whether any worker can fail.
    pub fn any(&self) -> bool {
        !self.schedule.is_empty() || self.mtbf.is_some()
    }
}

/// Everything in this module, as the engine takes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderRules {
    /// Concurrency limits and the scaling rate.
    pub limits: Limits,
    /// How asynchronous events are retried.
    pub async_events: AsyncPolicy,
    /// Worker failures.
    pub faults: Faults,
}

impl ProviderRules {
    /// Checks the values, naming the first bad one.
    pub fn validate(&self, workers: usize) -> Result<(), String> {
        if let Some(b) = &self.limits.scaling {
            if b.burst == 0 {
                return Err("limits: the scaling burst must be at least 1".into());
            }
            if b.refill == 0 || b.every == SimDuration::ZERO {
                return Err("limits: the scaling refill must be at least 1 per period > 0".into());
            }
        }
        let a = &self.async_events;
        if a.retry_delays.is_empty() && a.retries > 0 {
            return Err("async: retries need at least one retry delay".into());
        }
        if !(0.0..=1.0).contains(&a.duplicate_rate) {
            return Err(format!(
                "async.duplicate_rate must be a probability in [0, 1], got {}",
                a.duplicate_rate
            ));
        }
        if a.backoff_initial == SimDuration::ZERO || a.backoff_max < a.backoff_initial {
            return Err("async: the backoff needs 0 < backoff_initial <= backoff_max".into());
        }
        for o in &self.faults.schedule {
            if o.worker as usize >= workers {
                return Err(format!(
                    "faults.schedule: worker {} does not exist (the cluster has {workers})",
                    o.worker
                ));
            }
            if o.down == SimDuration::ZERO {
                return Err("faults.schedule: down_s must be > 0".into());
            }
        }
        if self.faults.mtbf == Some(SimDuration::ZERO) {
            return Err("faults.worker_mtbf_s must be > 0".into());
        }
        if self.faults.mtbf.is_some() && self.faults.repair == SimDuration::ZERO {
            return Err("faults.repair_s must be > 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_lambdas() {
        let a = AsyncPolicy::default();
        assert_eq!(a.retries, 2);
        assert_eq!(a.retry_delay(1), SimDuration::from_secs(60));
        assert_eq!(a.retry_delay(2), SimDuration::from_secs(120));
        // The last delay repeats.
        assert_eq!(a.retry_delay(3), SimDuration::from_secs(120));
        // 1, 2, 4, ... 256 s, then capped at 300 s.
        assert_eq!(a.backoff(0), SimDuration::from_secs(1));
        assert_eq!(a.backoff(8), SimDuration::from_secs(256));
        assert_eq!(a.backoff(9), SimDuration::from_secs(300));
        assert_eq!(a.backoff(200), SimDuration::from_secs(300));
        assert_eq!(a.max_event_age, SimDuration::from_secs(21_600));
        assert_eq!(legacy_burst("us-east-1"), 3_000);
        assert_eq!(legacy_burst("eu-central-1"), 1_000);
        assert_eq!(legacy_burst("sa-east-1"), 500);
        assert_eq!(ScalingBucket::aws_2023().burst, 1_000);
        assert!(ProviderRules::default().validate(1).is_ok());
    }

    #[test]
    fn bad_values_are_named() {
        let mut r = ProviderRules::default();
        r.faults.schedule.push(Outage {
            worker: 3,
            at: SimTime::ZERO,
            down: SimDuration::from_secs(1),
        });
        assert!(r
            .validate(2)
            .unwrap_err()
            .contains("worker 3 does not exist"));
        let mut r = ProviderRules::default();
        r.async_events.duplicate_rate = 2.0;
        assert!(r.validate(1).unwrap_err().contains("duplicate_rate"));
    }
}
