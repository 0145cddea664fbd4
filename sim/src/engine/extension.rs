//! The engine's extension point: a feature that reacts to the run (an orchestrator running
//! the next step of a workflow) without touching the request path.
//!
//! An [`Extension`] may
//! - **claim functions** ([`Extension::on_function`]): a claimed function is not deployed
//!   (no instance, no memory check, no provisioned instance); its trace arrivals go to
//!   [`Extension::on_arrival`] instead of the request path and are not counted as
//!   invocations (a workflow's trace row starts an execution, not a function);
//! - **submit invocations** ([`Submit::invoke`]) at a later instant: they take the normal
//!   request path and their end is reported to [`Extension::on_end`] with their tag;
//! - **hold an execution open** ([`Extension::on_execution_end`]): a tagged invocation whose
//!   execution ends may stay on its instance (busy, billed) until [`Submit::release`], which
//!   models a function that calls another synchronously and waits for it;
//! - **pre-warm** ([`Submit::prewarm`]): start instances of a function ahead of requests.
//!
//! Everything submitted arrives through one event class, `Injected`, after the trace's
//! arrivals at the same instant, in submission order. Without an extension none of this
//! costs anything: trace invocations carry no tag and the claimed-function test is one
//! boolean per arrival.

use super::*;

/// A feature that reacts to the run and may submit work (see the module docs).
pub trait Extension {
    /// Called once for every invocation when it ends (completed, dropped, or unfinished at
    /// the horizon), after the engine has accounted for it. `tag` is the tag the invocation
    /// was submitted with ([`Submit::invoke`]), `None` for the trace's own invocations.
    fn on_end(&mut self, record: &InvocationRecord, tag: Option<u64>, submit: &mut Submit<'_>);

    /// Called when the run registers a function: return `true` to claim it (its arrivals
    /// then go to [`Extension::on_arrival`]; it is never deployed).
    fn on_function(&mut self, _id: FunctionId, _spec: &FunctionSpec) -> bool {
        false
    }

    /// A trace arrival of a claimed function, at its instant.
    fn on_arrival(&mut self, _arrival: &Arrival, _submit: &mut Submit<'_>) {}

    /// Called when the execution of a tagged invocation ends, before it completes: return
    /// `true` to keep it open (its instance stays busy and its billed time runs on) until
    /// [`Submit::release`] is called with `hold`; its [`Extension::on_end`] comes then.
    /// `record` is the invocation as it would complete now, without its charge. Not called
    /// for the trace's invocations.
    fn on_execution_end(
        &mut self,
        _record: &InvocationRecord,
        _tag: u64,
        _hold: Hold,
        _submit: &mut Submit<'_>,
    ) -> bool {
        false
    }
}

/// An execution held open by [`Extension::on_execution_end`], to pass to [`Submit::release`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    slot: u32,
    gen: u32,
}

/// What an [`Extension`] may do when it is called: submit invocations, pre-warms and
/// releases, and look at where warm instances are.
pub struct Submit<'a> {
    pub(super) now: SimTime,
    pub(super) out: &'a mut Vec<Submission>,
    pub(super) instances: &'a [Instance],
    pub(super) avail: &'a [ListEnds],
}

#[derive(Debug, Clone, Copy)]
pub(super) enum SubmissionKind {
    Invoke,
    /// Start instances until `count` are free or starting.
    Prewarm {
        count: u32,
    },
    Release(Hold),
}

/// One submitted piece of work, waiting for its instant.
#[derive(Debug, Clone, Copy)]
pub(super) struct Submission {
    pub(super) arrival: Arrival,
    pub(super) tag: u64,
    pub(super) kind: SubmissionKind,
}

impl Submit<'_> {
    /// The current instant.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Submits an invocation of `function` (already known to the run's function table) that
    /// arrives `after` from now and executes for `duration`; its end is reported to the
    /// extension with `tag` (any value but `u64::MAX`).
    pub fn invoke(
        &mut self,
        after: SimDuration,
        function: FunctionId,
        duration: SimDuration,
        tag: u64,
    ) {
        debug_assert!(tag != NO_TAG);
        self.push(after, function, duration, tag, SubmissionKind::Invoke);
    }

    /// At `after` from now, starts instances of `function` until `count` instances have a
    /// free slot or are starting (counting free slots of ready instances and every starting
    /// instance of the function), on workers with free memory (no reclaim) and only while no
    /// request waits in the queue, as a keep-alive pre-warm does. Unused pre-warmed instances
    /// are idle memory until their keep-alive ends. Costs a walk of at most `count` of the
    /// function's free instances.
    pub fn prewarm(&mut self, after: SimDuration, function: FunctionId, count: u32) {
        self.push(
            after,
            function,
            SimDuration::ZERO,
            NO_TAG,
            SubmissionKind::Prewarm { count },
        );
    }

    /// Completes the held execution `hold` at `after` from now (after the other events at
    /// that instant): its billed time ends there.
    pub fn release(&mut self, after: SimDuration, hold: Hold) {
        self.push(
            after,
            FunctionId(0),
            SimDuration::ZERO,
            NO_TAG,
            SubmissionKind::Release(hold),
        );
    }

    /// Whether `worker` holds a ready instance of `function` with a free slot (what a
    /// locality-aware router would use). Looks at most at 64 of the function's free
    /// instances.
    pub fn has_free_instance_on(&self, function: FunctionId, worker: WorkerId) -> bool {
        let Some(ends) = self.avail.get(function.index()) else {
            return false;
        };
        let mut i = ends.head;
        for _ in 0..64 {
            if i == NIL {
                return false;
            }
            let inst = &self.instances[i as usize];
            if inst.worker == worker && inst.state == InstState::Ready {
                return true;
            }
            i = inst.avail_next;
        }
        false
    }

    fn push(
        &mut self,
        after: SimDuration,
        function: FunctionId,
        duration: SimDuration,
        tag: u64,
        kind: SubmissionKind,
    ) {
        self.out.push(Submission {
            arrival: Arrival {
                time: self.now + after,
                function,
                duration,
                cold_start: None,
                mode: None,
            },
            tag,
            kind,
        });
    }
}

impl Engine<'_> {
    /// Calls `f` with the extension and a [`Submit`], then schedules what it submitted.
    fn with_extension(
        &mut self,
        f: impl FnOnce(&mut dyn Extension, &mut Submit<'_>),
    ) -> Result<(), SimError> {
        let Some(mut ext) = self.extension.take() else {
            return Ok(());
        };
        let mut out = std::mem::take(&mut self.submissions);
        out.clear();
        {
            let mut submit = Submit {
                now: self.now,
                out: &mut out,
                instances: &self.instances,
                avail: &self.avail,
            };
            f(ext.as_mut(), &mut submit);
        }
        self.extension = Some(ext);
        let mut result = Ok(());
        for s in out.drain(..) {
            if !matches!(s.kind, SubmissionKind::Release(_)) {
                let f = s.arrival.function.index();
                if f >= self.fns.len() || self.fns[f].claimed {
                    result = Err(SimError::Policy(format!(
                        "the extension submitted function {}, which the run does not know or does not deploy",
                        s.arrival.function
                    )));
                    break;
                }
            }
            if let Err(e) = self.check_arrival(&s.arrival, "submitted invocation") {
                result = Err(e);
                break;
            }
            let slot = match self.free_submitted.pop() {
                Some(slot) => {
                    self.submitted[slot as usize] = s;
                    slot
                }
                None => {
                    self.submitted.push(s);
                    (self.submitted.len() - 1) as u32
                }
            };
            self.pending_submitted += 1;
            self.events.push(
                s.arrival.time,
                EventClass::Injected,
                Event::Injected { slot },
            );
        }
        self.submissions = out;
        result
    }

    /// Hands an ended invocation to the extension and schedules what it submits.
    #[inline]
    pub(super) fn notify_extension(
        &mut self,
        rec: &InvocationRecord,
        tag: u64,
    ) -> Result<(), SimError> {
        if self.extension.is_none() {
            return Ok(());
        }
        let tag = (tag != NO_TAG).then_some(tag);
        self.with_extension(|ext, submit| ext.on_end(rec, tag, submit))
    }

    /// Registration: asks the extension whether it claims the new function.
    pub(super) fn extension_claims(&mut self, id: FunctionId) -> bool {
        match self.extension.as_mut() {
            Some(ext) => ext.on_function(id, self.functions.get(id)),
            None => false,
        }
    }

    /// A trace arrival of a claimed function.
    pub(super) fn on_claimed_arrival(&mut self, a: Arrival) -> Result<(), SimError> {
        self.with_extension(|ext, submit| ext.on_arrival(&a, submit))
    }

    /// An execution ended: complete it, unless the extension holds it open. The trace's
    /// invocations (no tag) pay one comparison.
    #[inline]
    pub(super) fn execution_ended(&mut self, slot: u32) -> Result<(), SimError> {
        if self.invs[slot as usize].tag != NO_TAG
            && self.extension.is_some()
            && !self.invs[slot as usize].cut
            && self.held_by_extension(slot)?
        {
            return Ok(());
        }
        self.finish_execution(slot)
    }

    /// Asks the extension whether it holds the ended execution `slot` open.
    #[inline(never)]
    fn held_by_extension(&mut self, slot: u32) -> Result<bool, SimError> {
        let inv = self.invs[slot as usize];
        let hold = Hold { slot, gen: inv.gen };
        let rec = self.completed_record(slot, Default::default());
        let mut held = false;
        self.with_extension(|ext, submit| {
            held = ext.on_execution_end(&rec, inv.tag, hold, submit);
        })?;
        Ok(held)
    }

    /// Runs a submission when its instant comes.
    pub(super) fn on_injected(&mut self, slot: u32) -> Result<(), SimError> {
        let s = self.submitted[slot as usize];
        self.free_submitted.push(slot);
        self.pending_submitted -= 1;
        match s.kind {
            SubmissionKind::Invoke => self.on_arrival(s.arrival, s.tag),
            SubmissionKind::Prewarm { count } => self.extension_prewarm(s.arrival.function, count),
            SubmissionKind::Release(h) => {
                let inv = &self.invs[h.slot as usize];
                if inv.gen != h.gen || inv.state != InvState::Running {
                    if self.faults.is_some() {
                        // Its worker failed while it was held: it has ended already.
                        return Ok(());
                    }
                    return Err(SimError::Policy(
                        "the extension released an execution it does not hold".into(),
                    ));
                }
                self.finish_execution(h.slot)
            }
        }
    }

    fn extension_prewarm(&mut self, f: FunctionId, count: u32) -> Result<(), SimError> {
        if self.queue_len > 0 {
            return Ok(());
        }
        let concurrency = self.cfg.instance_concurrency;
        let mut have = self.fns[f.index()].starting;
        let mut i = self.avail[f.index()].head;
        while i != NIL && have < count {
            let inst = &self.instances[i as usize];
            if inst.state == InstState::Ready && inst.active < concurrency {
                have += 1;
            }
            i = inst.avail_next;
        }
        while have < count {
            let Some(w) = self.find_worker(f, false)? else {
                break;
            };
            self.create_instance(f, w, None)?;
            have += 1;
        }
        Ok(())
    }
}
