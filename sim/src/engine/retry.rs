//! How an attempt ends, and asynchronous events.
//!
//! **Attempts.** An invocation is made once and may be attempted several times: each
//! attempt goes through admission, routing and execution. An execution ends in one of three
//! ways: it completes; it is cut at its function's timeout (billed up to the timeout); or it
//! fails with its function's `error_rate`, drawn when it ends from the function's own stream
//! (`errors/<name>`), and is billed in full.
//!
//! **Synchronous** invocations have one attempt: the caller sees the throttle, the error or
//! the timeout, and the invocation ends `throttled`, `failed` or `timed-out`.
//!
//! **Asynchronous** events ([`AsyncPolicy`](crate::AsyncPolicy)) are queued by the platform
//! and delivered at their arrival. A throttle, a drop (no room) or a platform error (the
//! worker failed) sends the event back to the queue for another delivery after `backoff(n)`
//! (1 s, 2 s, 4 s, ... at most 5 minutes); a function error or a timeout is retried
//! `retries` times, after 1 and then 2 minutes. A delivery that would come after the event's
//! maximum age does not happen: the event ends `failed` at once. Between attempts the event
//! holds its invocation slot (state `Waiting`) and nothing else; each attempt's charge is
//! billed when it ends, and the invocation's record carries their sum. The invocation ends
//! once, with its last attempt's outcome, and is counted once.
//!
//! **Duplicates.** With `duplicate_rate`, a completed delivery is, with that probability
//! (stream `duplicates`), delivered once more at once: the duplicate is another attempt of
//! the same invocation, admitted, routed, executed and billed like any other; the invocation
//! ends when the duplicate does (its outcome is the duplicate's, which is not retried), so
//! the duplicate's cost and capacity are in the figures and the invocation is counted once.

use super::*;
use crate::billing::Charge;
use crate::functions::FunctionOverrides;

/// What the rules say about one function, resolved at registration.
#[derive(Debug, Clone)]
pub(super) struct FnRules {
    /// `SimDuration::MAX`: no timeout.
    pub(super) timeout: SimDuration,
    pub(super) error_rate: f64,
    /// The function's own error stream (only when `error_rate > 0`).
    pub(super) errors: Option<SimRng>,
    pub(super) reserved: Option<u32>,
    pub(super) mode: InvocationMode,
    /// Attempts admitted and not ended.
    pub(super) concurrency: u32,
    pub(super) bucket: admission::Bucket,
}

impl Default for FnRules {
    fn default() -> Self {
        FnRules {
            timeout: SimDuration::MAX,
            error_rate: 0.0,
            errors: None,
            reserved: None,
            mode: InvocationMode::Sync,
            concurrency: 0,
            bucket: Default::default(),
        }
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Completed,
    Error,
    Timeout,
}

impl Engine<'_> {
    /// A function's rules from its resolved `[functions]` settings.
    pub(super) fn resolve_rules(&self, f: FunctionId, s: &FunctionOverrides) -> FnRules {
        let error_rate = s.error_rate.unwrap_or(0.0);
        let name = &self.functions.get(f).name;
        FnRules {
            timeout: s.timeout.unwrap_or(SimDuration::MAX),
            error_rate,
            errors: (error_rate > 0.0)
                .then(|| SimRng::stream(self.cfg.seed, &format!("{}/{name}", streams::ERRORS))),
            reserved: s.reserved_concurrency,
            mode: s.invocation.unwrap_or(InvocationMode::Sync),
            ..FnRules::default()
        }
    }

    /// Registers a function's rules and turns on the parts of the engine they need.
    pub(super) fn add_rules(&mut self, rules: FnRules) {
        self.timeouts |= rules.timeout != SimDuration::MAX;
        self.error_draws |= rules.error_rate > 0.0;
        self.any_async |= rules.mode == InvocationMode::Async;
        self.admission |= rules.reserved.is_some();
        self.gated |= self.admission;
        self.rules.push(rules);
        if self.admission {
            self.admission_register(FunctionId(self.rules.len() as u32 - 1));
        }
    }

    /// The execution of `slot` has ended (the instance is still its): completed, cut at its
    /// timeout, or failed; a synchronous invocation ends, an asynchronous one may be retried.
    pub(super) fn end_attempt(&mut self, slot: u32) -> Result<(), SimError> {
        let inv = self.invs[slot as usize];
        let f = inv.function.index();
        let ending = if inv.cut {
            Ending::Timeout
        } else if self.rules[f].errors.is_some() {
            let rate = self.rules[f].error_rate;
            let rng = self.rules[f].errors.as_mut().expect("checked");
            match rng.unit_f64() < rate {
                true => Ending::Error,
                false => Ending::Completed,
            }
        } else {
            Ending::Completed
        };
        if ending == Ending::Completed {
            if inv.asynchronous && self.duplicate_delivery(slot)? {
                return Ok(());
            }
            match self.gpu.is_some() {
                true => self.record_retried_completion(slot)?,
                false => self.record_completion(slot)?,
            }
            self.free_inv(slot);
            return Ok(());
        }
        let charge = self.attempt_charge(slot);
        let outcome = match ending {
            Ending::Timeout => Outcome::TimedOut,
            _ => Outcome::Failed,
        };
        let policy = &self.cfg.provider.async_events;
        // A duplicate delivery (`errors == u16::MAX`) is not retried.
        if inv.asynchronous && (inv.errors as u32) < policy.retries {
            let delay = policy.retry_delay(inv.errors as u32 + 1);
            if self.now + delay <= inv.arrival + policy.max_event_age {
                self.invs[slot as usize].errors += 1;
                return self.retry_later(slot, delay, charge);
            }
        }
        self.not_completed(slot, outcome, true, charge)
    }

    /// A throttle, a drop or a platform error (`last`: the charge of the attempt, if it
    /// executed): the event goes back to its queue for a delivery after the backoff, or ends
    /// `failed` if that delivery would come after its maximum age.
    pub(super) fn retry_after_platform_error(
        &mut self,
        slot: u32,
        last: Charge,
    ) -> Result<(), SimError> {
        let inv = self.invs[slot as usize];
        let policy = &self.cfg.provider.async_events;
        let delay = policy.backoff(inv.backoffs as u32);
        if self.now + delay > inv.arrival + policy.max_event_age {
            return self.not_completed(slot, Outcome::Failed, true, last);
        }
        self.invs[slot as usize].backoffs = inv.backoffs.saturating_add(1);
        self.retry_later(slot, delay, last)
    }

    /// Ends the current attempt of `slot` without ending the invocation: its charge goes to
    /// the bank, what the attempt held is released, and the event waits `delay`.
    fn retry_later(&mut self, slot: u32, delay: SimDuration, last: Charge) -> Result<(), SimError> {
        if last.requests > 0 || last.total() > Money::ZERO {
            let f = self.invs[slot as usize].function;
            self.metrics.on_attempt_charge(f, &last);
            let banked = match self.banked.get(&slot) {
                Some(b) => accounting::add_charges(b, &last),
                None => last,
            };
            self.banked.insert(slot, banked);
        }
        self.detach(slot);
        let gen = self.invs[slot as usize].gen;
        self.events.push(
            self.now + delay,
            EventClass::Retry,
            Event::Retry { inv: slot, gen },
        );
        Ok(())
    }

    /// What an attempt holds besides the slot goes back: its unit of concurrency, its place
    /// in the autoscaler's count, its load balancer's worker. Stale events of the attempt
    /// (queue entries, its timeout, its completion) see a new generation.
    fn detach(&mut self, slot: u32) {
        if self.invs[slot as usize].admitted {
            self.release(slot);
        }
        let (w, f, state) = {
            let i = &self.invs[slot as usize];
            (i.worker, i.function, i.state)
        };
        if self.autoscaler.is_some() && state != InvState::Waiting {
            self.in_flight_change(f, -1);
        }
        if w != NIL {
            let wk = &mut self.workers[w as usize];
            wk.assigned -= 1;
            wk.assigned_mb -= self.fns[f.index()].memory_mb as u64;
            let assigned = wk.assigned;
            self.index.assigned_changed(WorkerId(w), assigned);
            self.assigned_total -= 1;
        }
        let i = &mut self.invs[slot as usize];
        i.state = InvState::Waiting;
        i.gen = i.gen.wrapping_add(1);
        i.worker = NIL;
        i.instance = NIL;
        i.cut = false;
        i.cold = false;
        i.init = SimDuration::ZERO;
    }

    /// An asynchronous event's next delivery.
    #[inline(never)]
    pub(super) fn on_retry(&mut self, slot: u32, gen: u32) -> Result<(), SimError> {
        let inv = &mut self.invs[slot as usize];
        if inv.gen != gen || inv.state != InvState::Waiting {
            return Ok(());
        }
        inv.state = InvState::Queued;
        inv.dispatched = self.now;
        let age = self.now - inv.arrival;
        self.metrics.on_delivery(age, true);
        self.deliver(slot)
    }

    /// With `duplicate_rate`: whether the completed delivery of `slot` is delivered once more
    /// (it then waits for the duplicate, which is not retried, to end).
    fn duplicate_delivery(&mut self, slot: u32) -> Result<bool, SimError> {
        let rate = self.cfg.provider.async_events.duplicate_rate;
        if rate <= 0.0 || self.invs[slot as usize].errors == u16::MAX {
            return Ok(false);
        }
        if self.rng_duplicates.unit_f64() >= rate {
            return Ok(false);
        }
        // The invocation's record is this delivery's; it is written when the duplicate ends.
        let (rec, charge) = self.completion_record(slot);
        self.first_deliveries.insert(slot, rec);
        self.invs[slot as usize].errors = u16::MAX;
        self.retry_later(slot, SimDuration::ZERO, charge)?;
        Ok(true)
    }

    /// The duplicate of a completed delivery has ended (`last`: its charge): the invocation
    /// ends as its first delivery completed, with both charges. Frees the slot if `free`.
    pub(super) fn end_duplicated(
        &mut self,
        slot: u32,
        mut rec: InvocationRecord,
        last: Charge,
        free: bool,
    ) -> Result<(), SimError> {
        rec.charge = self.with_banked(slot, last);
        self.metrics.on_completion(&rec, &last);
        self.recorder.invocation(&rec);
        let tag = self.invs[slot as usize].tag;
        if free {
            self.free_inv(slot);
        }
        self.notify_extension(&rec, tag)
    }
}
