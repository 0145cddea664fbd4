//! Admission: the stage before routing where the provider may say no (HTTP 429).
//!
//! **Concurrency.** An attempt is admitted if its function's reserved concurrency (when it
//! has one) or else the account's unreserved concurrency (the account's quota minus every
//! registered function's reservation, as AWS Lambda carves reservations out of the account
//! pool) has room; it then holds one unit from its admission until its attempt ends
//! (completed, failed, timed out, dropped, or detached for a retry), whether it waits in the
//! queue, for a cold start or runs.
//!
//! **Scaling rate.** A request that needs a new execution environment takes a token from its
//! bucket ([`ScalingBucket`]: per function, or one for the account), or is throttled. The
//! bucket is kept in exact integers: its level counts tokens × the refill period in µs, gains
//! `refill` units per µs, and a token costs one period.
//!
//! A synchronous request that is refused ends `throttled` at once; an asynchronous event is
//! retried with the platform's backoff (`retry.rs`). Without `[limits]` none of this runs:
//! the request path tests one boolean.

use super::*;
use crate::provider::{BucketScope, Limits, ScalingBucket};

/// A token bucket's state.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Bucket {
    /// Tokens × period µs.
    level: u128,
    /// When `level` was last brought up to date.
    at: SimTime,
}

impl Bucket {
    fn full(spec: &ScalingBucket) -> Self {
        Bucket {
            level: spec.burst as u128 * spec.every.as_micros() as u128,
            at: SimTime::ZERO,
        }
    }

    /// Refills up to `now` and says whether a token is there.
    fn has_token(&mut self, spec: &ScalingBucket, now: SimTime) -> bool {
        let period = spec.every.as_micros() as u128;
        let cap = spec.burst as u128 * period;
        let dt = (now - self.at).as_micros() as u128;
        self.level = (self.level + dt * spec.refill as u128).min(cap);
        self.at = now;
        self.level >= period
    }

    fn take(&mut self, spec: &ScalingBucket) {
        self.level -= spec.every.as_micros() as u128;
    }
}

/// The account-wide part of admission.
#[derive(Debug)]
pub(super) struct Admission {
    account: Option<u32>,
    scaling: Option<ScalingBucket>,
    /// Units held by functions without a reservation.
    unreserved_in_use: u32,
    /// The reservations of the functions registered so far.
    reserved_total: u64,
    /// The account's bucket (`BucketScope::Account`).
    bucket: Bucket,
}

impl Admission {
    pub(super) fn new(limits: &Limits) -> Self {
        Admission {
            account: limits.account_concurrency,
            scaling: limits.scaling,
            unreserved_in_use: 0,
            reserved_total: 0,
            bucket: limits
                .scaling
                .as_ref()
                .map(Bucket::full)
                .unwrap_or_default(),
        }
    }
}

impl Engine<'_> {
    /// Registration: a function's reservation leaves the shared pool, and its own bucket
    /// starts full.
    pub(super) fn admission_register(&mut self, f: FunctionId) {
        let a = &mut self.admission_state;
        if let Some(r) = self.rules[f.index()].reserved {
            a.reserved_total += r as u64;
        }
        if let Some(spec) = a.scaling.filter(|s| s.scope == BucketScope::Function) {
            self.rules[f.index()].bucket = Bucket::full(&spec);
        }
    }

    /// Admits the attempt of `slot` if its function's concurrency allows, and marks it as
    /// holding a unit.
    pub(super) fn admit(&mut self, slot: u32) -> bool {
        let f = self.invs[slot as usize].function.index();
        let a = &mut self.admission_state;
        let r = &mut self.rules[f];
        match r.reserved {
            Some(cap) => {
                if r.concurrency >= cap {
                    return false;
                }
            }
            None => {
                if let Some(account) = a.account {
                    let pool = (account as u64).saturating_sub(a.reserved_total);
                    if a.unreserved_in_use as u64 >= pool {
                        return false;
                    }
                }
                a.unreserved_in_use += 1;
            }
        }
        r.concurrency += 1;
        self.invs[slot as usize].admitted = true;
        true
    }

    /// The attempt of `slot` ends: its unit goes back.
    pub(super) fn release(&mut self, slot: u32) {
        let inv = &mut self.invs[slot as usize];
        inv.admitted = false;
        let r = &mut self.rules[inv.function.index()];
        r.concurrency -= 1;
        if r.reserved.is_none() {
            self.admission_state.unreserved_in_use -= 1;
        }
    }

    /// Whether a request of `f` may start a new execution environment now.
    pub(super) fn has_scaling_token(&mut self, f: FunctionId) -> bool {
        let now = self.now;
        match self.admission_state.scaling {
            None => true,
            Some(spec) => match spec.scope {
                BucketScope::Function => self.rules[f.index()].bucket.has_token(&spec, now),
                BucketScope::Account => self.admission_state.bucket.has_token(&spec, now),
            },
        }
    }

    /// Takes the token [`Self::has_scaling_token`] found.
    pub(super) fn take_scaling_token(&mut self, f: FunctionId) {
        if let Some(spec) = self.admission_state.scaling {
            match spec.scope {
                BucketScope::Function => self.rules[f.index()].bucket.take(&spec),
                BucketScope::Account => self.admission_state.bucket.take(&spec),
            }
        }
    }

    /// Refuses the attempt of `slot`: a synchronous request ends `throttled`; an
    /// asynchronous event goes back to its queue for a later delivery.
    pub(super) fn throttle(&mut self, slot: u32) -> Result<(), SimError> {
        if self.invs[slot as usize].admitted {
            self.release(slot);
        }
        if self.invs[slot as usize].asynchronous {
            return self.retry_after_platform_error(slot, Charge::default());
        }
        self.not_completed(slot, Outcome::Throttled, true, Charge::default())
    }
}

use crate::billing::Charge;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_continuously_and_never_beyond_its_burst() {
        // 1,000 per 10 s: a token every 10 ms.
        let spec = ScalingBucket::aws_2023();
        let mut b = Bucket::full(&spec);
        for _ in 0..1_000 {
            assert!(b.has_token(&spec, SimTime::ZERO));
            b.take(&spec);
        }
        assert!(!b.has_token(&spec, SimTime::ZERO));
        assert!(!b.has_token(&spec, SimTime(9_999)));
        assert!(b.has_token(&spec, SimTime(10_000)));
        b.take(&spec);
        // A long pause refills to the burst and no further.
        assert!(b.has_token(&spec, SimTime::from_secs(3_600)));
        let mut n = 0;
        while b.has_token(&spec, SimTime::from_secs(3_600)) {
            b.take(&spec);
            n += 1;
        }
        assert_eq!(n, 1_000);
    }
}
