//! The plain request path: the common request of the common run, without the general path's
//! invocation slot and its questions.
//!
//! In a run where every instance serves one execution at a time and nothing else can
//! happen to a request on its way (see [`Engine::plain_eligible`]), an arrival that finds
//! no queue either takes the warm instance its routing policy chooses or starts a new
//! one, and its execution then lives on that instance until it ends: its few figures are
//! kept beside the instance ([`PlainExec`]), and the end of its execution is an
//! [`Event::Ended`] that names the instance. Everything else (a request that must wait or
//! be dropped, an asynchronous one, keep-alive, eviction, reclaim, the end of the run)
//! takes the general path's code on the same state, so the two kinds of execution can be
//! in flight together.
//!
//! It changes how the engine gets there, not what happens: every event is the one the
//! general path would push, at the same instant and in the same order, and every figure and
//! record is the same. `EngineConfig::request_path = RequestPath::General` turns it off,
//! and `tests/suite/plain_path.rs` holds the two to the same bytes.

use super::*;
use crate::billing::Charge;
use crate::provider::InvocationMode;
use crate::start::StartKind;

/// `Instance::bound` of an instance whose cold start an execution of the plain path waits
/// for (its figures are in `Engine::plain`).
pub(super) const PLAIN_BOUND: u32 = NIL - 1;

/// What a new instance is created for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum StartFor {
    /// Nothing waits for it (a pre-warm, the autoscaler, provisioning).
    Nothing,
    /// The invocation in this slot waits for it.
    Slot(u32),
    /// An execution of the plain path waits for it.
    Plain,
}

/// An execution of the plain path, kept at its instance's index.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PlainExec {
    /// The invocation's number (its arrival's order).
    pub(super) seq: u64,
    pub(super) arrival: SimTime,
    /// When it started executing (its instance's readiness after a cold start).
    pub(super) start: SimTime,
    pub(super) work: SimDuration,
    /// Its cold start's duration (zero for a warm start).
    pub(super) init: SimDuration,
    pub(super) cold: bool,
    /// Running or waiting for its instance's cold start.
    pub(super) live: bool,
}

impl Engine<'_> {
    /// Whether this run's arrivals may take the plain path: one execution per instance,
    /// durations as given, and none of provider rules, per-function rules, start types,
    /// provisioned instances, a load balancer, an autoscaler, an extension or model
    /// serving. Asked once, before the run.
    pub(super) fn plain_eligible(&self) -> bool {
        let rules_free = |o: &crate::functions::FunctionOverrides| {
            o.timeout.is_none()
                && o.error_rate.is_none()
                && o.reserved_concurrency.is_none()
                && o.invocation.is_none()
                && o.snapshot.is_none()
                && o.model.is_none()
        };
        self.cfg.request_path == RequestPath::Auto
            && self.cfg.cpu == CpuModel::Ignore
            && self.cfg.instance_concurrency == 1
            && self.cfg.provisioned_per_function == 0
            && !self.admission
            && self.faults.is_none()
            && !self.starts.any()
            && self.lb.is_none()
            && self.autoscaler.is_none()
            && self.extension.is_none()
            && self.gpu.is_none()
            && rules_free(&self.cfg.functions.all)
            && self.cfg.functions.named.iter().all(|(_, o)| rules_free(o))
    }

    /// An arrival in a plain run: the plain path, unless requests are queued (it must keep
    /// its turn behind them) or the trace makes it an asynchronous event.
    #[inline(always)]
    pub(super) fn plain_arrival(&mut self, a: Arrival) -> Result<(), SimError> {
        if self.queue_len != 0 || a.mode == Some(InvocationMode::Async) {
            return self.on_arrival(a, NO_TAG);
        }
        let seq = self.arrivals_seen;
        self.arrivals_seen += 1;
        let f = a.function;
        self.metrics.on_arrival(f, a.time);
        if a.cold_start.is_some() {
            self.fns[f.index()].last_cold = a.cold_start;
        }
        if self.keep_alive_observes {
            self.keep_alive.observe(&Observation::Arrival {
                function: f,
                time: a.time,
            });
        }
        self.in_flight += 1;
        let ends = self.avail[f.index()];
        let warm = match (ends.head, self.routes_most_recent) {
            (NIL, _) => NIL,
            (_, true) => ends.tail,
            (_, false) => self.plain_route(f, seq, a.time)?,
        };
        if warm == NIL {
            return self.plain_cold(a, seq);
        }
        self.plain_warm(warm, a, seq);
        Ok(())
    }

    /// The routing policy's choice among `f`'s warm instances for invocation `seq` arriving
    /// at `arrival` (`NIL` for a cold start), checked as the general path checks it.
    #[inline(never)]
    fn plain_route(&mut self, f: FunctionId, seq: u64, arrival: SimTime) -> Result<u32, SimError> {
        let view = InvocationView {
            id: seq,
            function: f,
            arrival,
        };
        match self.routing.route(&view, &view!(self), &mut self.rng_route) {
            Route::Cold => Ok(NIL),
            Route::Warm(i) => self.check_warm(i, f).map(|()| i.0),
        }
    }

    /// The arrival takes warm instance `i` (the general path's `dispatch_warm`).
    #[inline(always)]
    fn plain_warm(&mut self, i: u32, a: Arrival, seq: u64) {
        let now = self.now;
        if self.instances[i as usize].in_idle {
            self.leave_idle(i);
        }
        self.busy_instances += 1;
        self.avail_remove(i);
        let inst = &mut self.instances[i as usize];
        inst.active = 1;
        inst.last_used = now;
        inst.expires_at = SimTime::MAX;
        self.plain[i as usize] = PlainExec {
            seq,
            arrival: now,
            start: now,
            work: a.duration,
            init: SimDuration::ZERO,
            cold: false,
            live: true,
        };
        self.plain_start(i);
    }

    /// The arrival finds no warm instance: a new one where placement (or reclaim) finds room,
    /// else the general path's queue or drop.
    #[inline(never)]
    fn plain_cold(&mut self, a: Arrival, seq: u64) -> Result<(), SimError> {
        let f = a.function;
        let Some(w) = self.find_worker(f, true)? else {
            let slot = self.alloc_inv(Inv::arrived(seq, &a, NO_TAG, false));
            match self.cfg.on_full {
                OnFull::Drop => self.drop_invocation(slot, Outcome::DroppedFull)?,
                OnFull::Queue => self.enqueue(slot),
            }
            return Ok(());
        };
        let i = self.create_for(f, w, StartFor::Plain, a.cold_start)? as usize;
        let init = self.instances[i].ready_at - self.now;
        self.plain[i] = PlainExec {
            seq,
            arrival: self.now,
            start: self.now,
            work: a.duration,
            init,
            cold: true,
            live: true,
        };
        Ok(())
    }

    /// The execution on instance `i` starts now: its end is pushed as the general path's
    /// would be.
    #[inline(always)]
    pub(super) fn plain_start(&mut self, i: u32) {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        inst.executions += 1;
        let (w, gen) = (inst.worker, inst.gen);
        let exec = &mut self.plain[i as usize];
        exec.start = now;
        let end = now + exec.work;
        self.exec_count(w, 1);
        self.events
            .push(end, EventClass::Completion, Event::Ended { inst: i, gen });
    }

    /// The execution on instance `i` ends now: its record and figures, then the instance
    /// serves its function's queue or becomes idle (the general path's `finish_execution`).
    #[inline(always)]
    pub(super) fn plain_ended(&mut self, i: u32, gen: u32) -> Result<(), SimError> {
        let now = self.now;
        let inst = &self.instances[i as usize];
        if inst.gen != gen {
            return Ok(());
        }
        let (f, w, mb) = (inst.function, inst.worker, inst.memory_mb);
        self.exec_count(w, -1);
        let exec = std::mem::take(&mut self.plain[i as usize]);
        let init = exec.init;
        if self.metrics.deferred {
            let mb_ms =
                (self.cfg.billing).on_demand_mb_ms(&self.prices, now - exec.start, init, mb);
            self.metrics.on_deferred_completion(
                f,
                (exec.arrival, exec.start, now),
                w,
                0,
                exec.cold,
                init.as_micros(),
                mb_ms,
            );
            if self.metrics.records {
                let rec = self.plain_record(i, &exec, Charge::default());
                self.recorder.invocation(&rec);
            }
        } else {
            let charge = (self.cfg.billing).charge_at(&self.prices, now - exec.start, init, mb);
            let rec = self.plain_record(i, &exec, charge);
            self.metrics.on_completion(&rec, &charge);
            self.recorder.invocation(&rec);
        }
        self.in_flight -= 1;
        let inst = &mut self.instances[i as usize];
        inst.active = 0;
        inst.last_used = now;
        self.busy_instances -= 1;
        self.avail_push(i);
        if self.queue_len == 0 {
            // No request waits (a function's queue may hold only stale entries, which
            // serving it would drop and nothing else).
            match self.keep_alive_window {
                Some(ttl) => self.plain_idle(i, ttl),
                None => self.make_idle(i),
            }
            return Ok(());
        }
        self.serve_then_idle(i)
    }

    /// Instance `i` becomes idle under a fixed keep-alive window `ttl`: the general path's
    /// `make_idle` for an on-demand instance without a balancer or an autoscaler.
    #[inline(always)]
    fn plain_idle(&mut self, i: u32, ttl: SimDuration) {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        inst.idle_since = now;
        inst.first_idle_at.get_or_insert(now);
        let (mb, w) = (inst.memory_mb, inst.worker);
        list_push_back(&mut self.instances, &mut self.idle, List::Idle, i);
        self.workers[w.index()].idle_mb += mb;
        self.idle_mb += mb as u64;
        let t = now + ttl;
        if t <= now {
            self.evict(i, EvictReason::Expired);
            return;
        }
        self.instances[i as usize].expires_at = t;
        self.schedule_expiry(i, t);
    }

    /// The record of the plain execution `exec` on instance `i`, completed now.
    fn plain_record(&self, i: u32, exec: &PlainExec, charge: Charge) -> InvocationRecord {
        let inst = &self.instances[i as usize];
        debug_assert_eq!(inst.start_kind, StartKind::Boot);
        InvocationRecord {
            id: exec.seq,
            function: inst.function,
            outcome: Outcome::Completed,
            arrival: exec.arrival,
            dispatched: exec.arrival,
            start: exec.start,
            end: self.now,
            cold_start: exec.cold,
            init: exec.init,
            worker: Some(inst.worker),
            instance: Some(InstanceId(i)),
            memory_mb: inst.memory_mb,
            charge,
        }
    }

    /// At the horizon: the plain executions still running or starting become invocation
    /// slots, as the general path would have them, so that they end unfinished with the rest.
    pub(super) fn plain_to_slots(&mut self) {
        for i in 0..self.plain.len() {
            let exec = self.plain[i];
            if !exec.live {
                continue;
            }
            self.plain[i].live = false;
            let inst = &self.instances[i];
            let starting = inst.state == InstState::Starting;
            let arrival = Arrival {
                time: exec.arrival,
                function: inst.function,
                duration: exec.work,
                cold_start: None,
                mode: None,
            };
            let slot = self.alloc_inv(Inv {
                state: match starting {
                    true => InvState::Starting,
                    false => InvState::Running,
                },
                start: exec.start,
                init: exec.init,
                cold: exec.cold,
                instance: i as u32,
                ..Inv::arrived(exec.seq, &arrival, NO_TAG, false)
            });
            if starting {
                self.instances[i].bound = slot;
            }
        }
    }
}
