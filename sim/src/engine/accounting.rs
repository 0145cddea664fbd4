//! Accounting: the metrics store and what the engine tells it.
//!
//! Every run-wide and per-function figure is gathered by [`Metrics`] through its `on_*`
//! hooks (a completion, a drop, an instance started or ended, idle time ended, time passing);
//! the engine's parts call the hooks and never touch a counter themselves, so a feature that
//! needs a new figure adds a field and a hook here, not a line in the loop. Per-invocation
//! records and samples go on to the run's [`Recorder`].

use super::*;
use crate::billing::Charge;
use crate::digest::Digest;
use crate::metrics::{ColdStartParts, FunctionStats, RunStats};
use crate::start::StartKind;

/// Why an instance was evicted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum EvictReason {
    /// Its keep-alive ran out.
    Expired,
    /// Its memory was needed for another instance.
    Reclaimed,
    /// The autoscaler removed it.
    ScaledDown,
    /// Its worker failed.
    Lost,
}

/// The metrics store: run-wide and per-function figures, and the current time-series
/// interval.
pub(super) struct Metrics {
    pub(super) run: RunStats,
    /// Per-function figures but those in `hot`, which [`Metrics::functions`] merges in.
    functions: Vec<FunctionStats>,
    hot: Vec<FnHot>,
    interval: Sample,
    /// Time of the last sample emitted.
    pub(super) last_sample: SimTime,
    pub(super) samples: u64,
    /// The breakdown of recorded cold starts.
    pub(super) parts: ColdStartParts,
    /// Each function's SLO, µs (`u64::MAX`: none), and whether any function has one.
    slo_us: Vec<u64>,
    any_slo: bool,
    /// Set when the run prices its common completions at the end
    /// ([`Engine::choose_accounting`]): their charges are then linear in their billed MB-ms,
    /// so a completion adds its MB-ms to its function's `FnHot::mb_ms` and nothing else, and
    /// [`Metrics::settle_deferred`] prices the sums. Every other charge of a function then
    /// goes to its cold `FunctionStats`.
    pub(super) deferred: bool,
    /// Whether the recorder wants completed invocations' records.
    pub(super) records: bool,
    /// The earliest and latest arrival so far (`SimTime::MAX` and zero before the first).
    first_arrival: SimTime,
    last_arrival: SimTime,
    /// With `deferred`: per function, the completions whose charge was not deferred (a
    /// provisioned instance's, a retried event's), counted apart so that `completed` minus
    /// these is the number of request fees deferred.
    undeferred: Vec<u64>,
}

/// The per-function figures the request path updates, kept apart from the rest of
/// [`FunctionStats`] (whose 256 bytes a completion touched in four or five cache lines, most
/// of them missing the first-level cache in runs of many functions). In declaration order
/// on whole cache lines: a completion touches the digest's first line and the last line
/// (`mb_ms` to `cold_starts`, with `idle_mb_us` that its warm start touched), an arrival
/// the middle one, and a new instance the same line (`instances_created`, in what was its
/// padding: an arrival has just brought it in). In a run that defers its charges
/// (`Metrics::deferred`), `mb_ms` holds only the deferred completions' MB-ms and `cost`
/// stays zero.
#[derive(Clone)]
#[repr(C, align(64))]
struct FnHot {
    latency_us: Digest,
    invocations: u64,
    instances_created: u64,
    mb_ms: u128,
    cost: Money,
    completed: u64,
    cold_starts: u64,
    idle_mb_us: u128,
}

// The layout above, as the doc comment describes it (64-bit targets).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(std::mem::offset_of!(FnHot, invocations) == 112);
    assert!(std::mem::offset_of!(FnHot, instances_created) == 120);
    assert!(std::mem::offset_of!(FnHot, mb_ms) == 128);
    assert!(std::mem::size_of::<FnHot>() == 192);
};

impl FnHot {
    fn new() -> Self {
        FnHot {
            latency_us: Digest::per_function(),
            mb_ms: 0,
            cost: Money::ZERO,
            invocations: 0,
            instances_created: 0,
            completed: 0,
            cold_starts: 0,
            idle_mb_us: 0,
        }
    }
}

impl Metrics {
    /// The per-function figures with the hot ones merged in (at the end of the run).
    fn functions(&mut self) -> Vec<FunctionStats> {
        let mut functions = std::mem::take(&mut self.functions);
        for (fs, h) in functions.iter_mut().zip(std::mem::take(&mut self.hot)) {
            fs.latency_us = h.latency_us;
            fs.mb_ms += h.mb_ms;
            fs.cost += h.cost;
            fs.invocations = h.invocations;
            fs.instances_created = h.instances_created;
            fs.completed = h.completed;
            fs.cold_starts = h.cold_starts;
            fs.idle_mb_us = h.idle_mb_us;
        }
        functions
    }

    pub(super) fn new(total_memory_mb: u64, total_cores: u64, billing: Billing) -> Self {
        Metrics {
            run: RunStats::new(total_memory_mb, total_cores, billing),
            functions: Vec::new(),
            hot: Vec::new(),
            interval: Sample::default(),
            last_sample: SimTime::ZERO,
            samples: 0,
            parts: ColdStartParts::default(),
            slo_us: Vec::new(),
            any_slo: false,
            deferred: false,
            records: true,
            first_arrival: SimTime::MAX,
            last_arrival: SimTime::ZERO,
            undeferred: Vec::new(),
        }
    }

    /// Prices the completions whose charges were deferred (`deferred`): per function, its
    /// request fees and the MB-ms summed in `FnHot::mb_ms`, added to its cold cost; the run's
    /// bill and totals get the sums. Integer money: exactly what adding each completion's
    /// charge would have given. Once, at the end of the run.
    fn settle_deferred(&mut self) {
        if !self.deferred {
            return;
        }
        self.deferred = false;
        let billing = *self.run.bill.billing();
        let p = billing.model.prices();
        let (mut requests, mut mb_ms) = (0u64, 0u128);
        for (i, h) in self.hot.iter_mut().enumerate() {
            let n = h.completed - self.undeferred[i];
            let (request, duration) = billing.on_demand_money(&p, n, h.mb_ms);
            self.functions[i].cost += request + duration;
            requests += n;
            mb_ms += h.mb_ms;
        }
        let (request, duration) = billing.on_demand_money(&p, requests, mb_ms);
        let s = &mut self.run;
        s.bill.add(&Charge {
            kind: crate::billing::ChargeKind::OnDemand,
            requests,
            mb_ms,
            ..Charge::default()
        });
        s.billed_mb_ms += mb_ms;
        s.request_cost += request;
        s.duration_cost += duration;
    }

    /// A charge of `f` outside a deferred completion: in its hot figures, or in its cold ones
    /// when the hot ones hold only deferred completions.
    #[inline]
    fn charge_function(&mut self, f: FunctionId, mb_ms: u128, cost: Money) {
        if self.deferred {
            let fs = &mut self.functions[f.index()];
            fs.mb_ms += mb_ms;
            fs.cost += cost;
        } else {
            let h = &mut self.hot[f.index()];
            h.mb_ms += mb_ms;
            h.cost += cost;
        }
    }

    /// An instance of `f` started with a recorded row as its cold start: `row`'s parts, the
    /// table's part `i` being the run's part `map[i]`.
    pub(super) fn on_recorded_start(&mut self, f: FunctionId, map: &[usize], row: &[u64]) {
        let p = &mut self.parts;
        let n = p.names.len();
        p.run.add(n, map, row);
        if p.functions.len() <= f.index() {
            p.functions.resize(f.index() + 1, Default::default());
        }
        p.functions[f.index()].add(n, map, row);
    }

    /// The SLO of a function seen for the first time.
    pub(super) fn on_function_slo(&mut self, f: FunctionId, slo: Option<SimDuration>) {
        if self.slo_us.len() <= f.index() {
            self.slo_us.resize(f.index() + 1, u64::MAX);
        }
        if let Some(d) = slo {
            self.slo_us[f.index()] = d.as_micros();
            self.any_slo = true;
        }
    }

    /// A GPU-second charge of a model-serving instance of `f`.
    pub(super) fn on_gpu_charge(&mut self, f: FunctionId, c: Money) {
        self.run.gpu_cost += c;
        self.charge_function(f, 0, c);
    }

    /// A function seen for the first time.
    pub(super) fn on_function(&mut self, f: FunctionId) {
        self.functions.push(FunctionStats::new(f));
        self.hot.push(FnHot::new());
        self.undeferred.push(0);
    }

    /// Time passes with `used_mb` held and `busy_cores` busy.
    pub(super) fn on_time(&mut self, dt_us: u128, used_mb: u128, busy_cores: u128) {
        self.run.used_mb_us += used_mb * dt_us;
        self.run.busy_core_us += busy_cores * dt_us;
    }

    /// Brings function `f`'s hot figures towards the cache (see [`super::prefetch`]).
    #[inline(always)]
    pub(super) fn prefetch_function(&self, f: FunctionId) {
        super::prefetch(&self.hot, f.index(), false);
    }

    /// An invocation arrived at `time` (each ends with one record whose arrival this is).
    pub(super) fn on_arrival(&mut self, f: FunctionId, time: SimTime) {
        self.note_arrival(time);
        self.run.invocations += 1;
        self.interval.arrivals += 1;
        self.hot[f.index()].invocations += 1;
    }

    pub(super) fn on_queue_length(&mut self, len: u32) {
        self.run.peak_queue = self.run.peak_queue.max(len);
    }

    pub(super) fn on_memory_used(&mut self, used_mb: u64) {
        self.run.peak_memory_mb = self.run.peak_memory_mb.max(used_mb);
    }

    /// An instance was created (cold start `init` ahead, `live` instances now).
    pub(super) fn on_instance_started(
        &mut self,
        f: FunctionId,
        memory_mb: u32,
        init: SimDuration,
        live: u32,
        kind: StartKind,
        snapshot_mb: u32,
    ) {
        self.run.snapshot_read_mb += snapshot_mb as u128;
        match kind {
            StartKind::Boot => self.run.boots += 1,
            StartKind::Restore => self.run.restores += 1,
            StartKind::Fork => self.run.forks += 1,
        }
        self.run.init_mb_us += memory_mb as u128 * init.as_micros() as u128;
        self.run.instances_created += 1;
        self.run.peak_instances = self.run.peak_instances.max(live);
        self.interval.instances_started += 1;
        self.hot[f.index()].instances_created += 1;
    }

    /// An instance's idle period ended (used again, evicted, or the run ended).
    pub(super) fn on_idle_end(&mut self, f: FunctionId, memory_mb: u32, idle: SimDuration) {
        let mb_us = memory_mb as u128 * idle.as_micros() as u128;
        self.run.idle_mb_us += mb_us;
        self.hot[f.index()].idle_mb_us += mb_us;
    }

    /// An instance ended after `life` (evicted, or closed at the end of the run).
    pub(super) fn on_instance_end(&mut self, life: SimDuration, reason: Option<EvictReason>) {
        self.run.instance_us += life.as_micros() as u128;
        match reason {
            Some(EvictReason::Expired) => self.run.evictions_expired += 1,
            Some(EvictReason::Reclaimed) => self.run.evictions_reclaimed += 1,
            Some(EvictReason::ScaledDown) => self.run.evictions_scaled_down += 1,
            Some(EvictReason::Lost) | None => {}
        }
    }

    /// A charge that is not an invocation's (an instance's lifetime, provisioned time).
    pub(super) fn on_charge(&mut self, f: FunctionId, c: &Charge) {
        self.run.bill.add(c);
        self.run.billed_mb_ms += c.mb_ms;
        self.run.duration_cost += c.duration;
        self.charge_function(f, c.mb_ms, c.total());
    }

    /// A snapshot charge (a restore, or a span of cache): the bill and the function's cost,
    /// not billed memory-time.
    pub(super) fn on_snapshot_charge(&mut self, f: FunctionId, c: &Charge) {
        self.run.bill.add(c);
        self.charge_function(f, 0, c.total());
    }

    /// An invocation completed; `c` is the part of its charge not billed yet (all of it
    /// unless earlier attempts of an asynchronous event were billed when they failed).
    pub(super) fn on_completion(&mut self, rec: &InvocationRecord, c: &Charge) {
        let worker = rec.worker.expect("a completed invocation ran on a worker");
        self.note_completion(rec.start, rec.end, worker);
        let f = rec.function;
        let latency = rec.latency().as_micros();
        let init = rec.init.as_micros();
        self.count_completion(
            f,
            latency,
            rec.queue_delay().as_micros(),
            rec.cold_start,
            init,
        );
        let s = &mut self.run;
        s.billed_mb_ms += c.mb_ms;
        s.bill.add(c);
        s.request_cost += c.request;
        s.duration_cost += c.duration;
        if self.deferred {
            self.undeferred[f.index()] += 1;
        }
        self.charge_function(f, c.mb_ms, c.total());
    }

    /// An invocation completed whose charge is deferred (`deferred`): `mb_ms` is its billed
    /// memory-time, all its charge depends on.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_deferred_completion(
        &mut self,
        f: FunctionId,
        (arrival, start, end): (SimTime, SimTime, SimTime),
        worker: WorkerId,
        queue_us: u64,
        cold: bool,
        init_us: u64,
        mb_ms: u128,
    ) {
        self.note_completion(start, end, worker);
        let latency_us = (end - arrival).as_micros();
        self.count_completion(f, latency_us, queue_us, cold, init_us);
        self.hot[f.index()].mb_ms += mb_ms;
    }

    /// A completion's place in the run's span and its worker's execution time.
    #[inline(always)]
    fn note_completion(&mut self, start: SimTime, end: SimTime, worker: WorkerId) {
        let s = &mut self.run;
        s.last_completion = s.last_completion.max(end);
        // One entry per worker from the start of the run (workers are never added).
        s.worker_exec_us[worker.index()] += (end - start).as_micros();
    }

    /// An invocation's arrival, into the run's span (`RunStats::arrival_span` is set from
    /// these at the end: two comparisons here rather than an `Option` per arrival).
    #[inline(always)]
    fn note_arrival(&mut self, arrival: SimTime) {
        self.first_arrival = self.first_arrival.min(arrival);
        self.last_arrival = self.last_arrival.max(arrival);
    }

    /// A completion's figures but its charge.
    #[inline(always)]
    fn count_completion(
        &mut self,
        f: FunctionId,
        latency: u64,
        queue_us: u64,
        cold: bool,
        init_us: u64,
    ) {
        let s = &mut self.run;
        s.completed += 1;
        s.latency_us.add(latency);
        s.queue_delay_us.add(queue_us);
        if cold {
            s.cold_starts += 1;
            s.init_us.add(init_us);
            self.interval.cold_starts += 1;
        }
        let slo_met = self.any_slo && {
            let slo = self.slo_us[f.index()];
            slo != u64::MAX && latency <= slo
        };
        if slo_met {
            s.slo_met += 1;
            self.functions[f.index()].slo_met += 1;
        }
        let fs = &mut self.hot[f.index()];
        fs.completed += 1;
        fs.cold_starts += cold as u64;
        fs.latency_us.add(latency);
    }

    /// An attempt that executed and did not end its invocation (an asynchronous event to be
    /// retried): its charge is billed now.
    pub(super) fn on_attempt_charge(&mut self, f: FunctionId, c: &Charge) {
        let s = &mut self.run;
        s.billed_mb_ms += c.mb_ms;
        s.bill.add(c);
        s.request_cost += c.request;
        s.duration_cost += c.duration;
        self.charge_function(f, c.mb_ms, c.total());
    }

    /// An asynchronous event delivered to the function at `age`; `retry` for every delivery
    /// after the first.
    pub(super) fn on_delivery(&mut self, age: SimDuration, retry: bool) {
        self.run.event_age_us.add(age.as_micros());
        self.run.retries += retry as u64;
    }

    /// An invocation that did not complete: dropped, throttled, failed, timed out, or
    /// unfinished at the horizon. `c` is the part of its charge not billed yet (an execution
    /// that failed or timed out is billed; zero for the others).
    pub(super) fn on_not_completed(&mut self, rec: &InvocationRecord, c: &Charge) {
        if c.requests > 0 || c.total() > Money::ZERO {
            self.on_attempt_charge(rec.function, c);
        }
        let fs = &mut self.functions[rec.function.index()];
        match rec.outcome {
            Outcome::Unfinished => {
                self.run.unfinished += 1;
                fs.unfinished += 1;
            }
            Outcome::Throttled => {
                self.run.throttled += 1;
                fs.throttled += 1;
            }
            Outcome::Failed => {
                self.run.failed += 1;
                fs.failed += 1;
            }
            Outcome::TimedOut => {
                self.run.timed_out += 1;
                fs.timed_out += 1;
            }
            Outcome::Completed => debug_assert!(false, "a completion is not a drop"),
            outcome => {
                self.run.dropped += 1;
                if outcome == Outcome::DroppedTimeout {
                    self.run.dropped_timeout += 1;
                }
                self.interval.dropped += 1;
                fs.dropped += 1;
            }
        }
    }

    /// Closes the current interval with the cluster's state at `now`.
    pub(super) fn on_sample(&mut self, state: Sample) -> Result<Sample, SimError> {
        self.samples += 1;
        if self.samples > MAX_SAMPLES {
            return Err(SimError::TooManySamples);
        }
        self.last_sample = state.time;
        let s = Sample {
            arrivals: self.interval.arrivals,
            instances_started: self.interval.instances_started,
            cold_starts: self.interval.cold_starts,
            dropped: self.interval.dropped,
            ..state
        };
        self.interval = Sample::default();
        Ok(s)
    }
}

impl Engine<'_> {
    /// The charge of the execution of `slot` ending now (completed, failed or timed out).
    /// None for a model-serving request: its instance is billed per GPU-second.
    #[inline(always)]
    pub(super) fn attempt_charge(&self, slot: u32) -> Charge {
        let now = self.now;
        let inv = &self.invs[slot as usize];
        if self.gpu.is_some() && self.fns[inv.function.index()].model != NIL {
            return Charge::default();
        }
        let inst = &self.instances[inv.instance as usize];
        let mb = inst.memory_mb;
        let billing = &self.cfg.billing;
        // Only a boot's wait is INIT time: a restore's or a fork's is not billed.
        let init = match inst.start_kind {
            StartKind::Boot => inv.init,
            StartKind::Restore | StartKind::Fork => SimDuration::ZERO,
        };
        if inst.provisioned {
            billing
                .provisioned_invocation_charge(now - inv.start, mb)
                .unwrap_or_else(|| billing.charge(now - inv.start, init, mb))
        } else {
            billing.charge_at(&self.prices, now - inv.start, init, mb)
        }
    }

    /// The charges of an invocation's earlier attempts (asynchronous retries), taken out of
    /// the bank when it ends, and `last` added.
    pub(super) fn with_banked(&mut self, slot: u32, last: Charge) -> Charge {
        if self.banked.is_empty() {
            return last;
        }
        match self.banked.remove(&slot) {
            Some(b) => add_charges(&b, &last),
            None => last,
        }
    }

    /// The record of `slot` completing now, with the charge of this execution only (also
    /// returned on its own: the part not billed yet).
    #[inline(always)]
    pub(super) fn completion_record(&self, slot: u32) -> (InvocationRecord, Charge) {
        let charge = self.attempt_charge(slot);
        (self.completed_record(slot, charge), charge)
    }

    /// The record of `slot` completing now with `charge`.
    #[inline(always)]
    pub(super) fn completed_record(&self, slot: u32, charge: Charge) -> InvocationRecord {
        let inv = &self.invs[slot as usize];
        let inst = &self.instances[inv.instance as usize];
        InvocationRecord {
            id: inv.seq,
            function: inv.function,
            outcome: Outcome::Completed,
            arrival: inv.arrival,
            dispatched: inv.dispatched,
            start: inv.start,
            end: self.now,
            cold_start: inv.cold,
            init: inv.init,
            worker: Some(inst.worker),
            instance: Some(InstanceId(inv.instance)),
            memory_mb: inst.memory_mb,
            charge,
        }
    }

    /// Decides, once before the run, how completions are accounted: their charges are
    /// deferred ([`Metrics::settle_deferred`]) when the model's on-demand charge is linear in
    /// the billed MB-ms and nothing reads a completion's own charge (no extension, no model
    /// serving, a recorder that does not read charges).
    pub(super) fn choose_accounting(&mut self) {
        let billing = &self.cfg.billing;
        self.metrics.deferred = billing.linear_on_demand(&self.prices)
            && self.extension.is_none()
            && self.gpu.is_none()
            && !self.recorder.reads_charges();
        self.metrics.records = self.recorder.wants_completions();
    }

    #[inline(always)]
    pub(super) fn record_completion(&mut self, slot: u32) -> Result<(), SimError> {
        if !self.first_deliveries.is_empty() || !self.banked.is_empty() {
            return self.record_retried_completion(slot);
        }
        if self.metrics.deferred {
            let inst = self.invs[slot as usize].instance;
            // A provisioned instance's invocations are billed at their own price.
            if !self.instances[inst as usize].provisioned {
                self.record_deferred_completion(slot);
                return Ok(());
            }
        }
        // The common case: an invocation completed at its first attempt.
        let (rec, charge) = self.completion_record(slot);
        self.metrics.on_completion(&rec, &charge);
        self.recorder.invocation(&rec);
        self.notify_extension(&rec, self.invs[slot as usize].tag)
    }

    /// [`Self::record_completion`] with its charge deferred: its billed MB-ms is all the
    /// metrics keep of it, and the record (if the recorder wants it) has an empty charge.
    #[inline(always)]
    fn record_deferred_completion(&mut self, slot: u32) {
        let inv = &self.invs[slot as usize];
        let inst = &self.instances[inv.instance as usize];
        // Only a boot's wait is INIT time (as in `attempt_charge`).
        let init = match inst.start_kind {
            StartKind::Boot => inv.init,
            StartKind::Restore | StartKind::Fork => SimDuration::ZERO,
        };
        let run = self.now - inv.start;
        let mb_ms = (self.cfg.billing).on_demand_mb_ms(&self.prices, run, init, inst.memory_mb);
        self.metrics.on_deferred_completion(
            inv.function,
            (inv.arrival, inv.start, self.now),
            inst.worker,
            (inv.dispatched - inv.arrival).as_micros(),
            inv.cold,
            inv.init.as_micros(),
            mb_ms,
        );
        if self.metrics.records {
            let rec = self.completed_record(slot, Charge::default());
            self.recorder.invocation(&rec);
        }
    }

    /// [`Self::record_completion`] when asynchronous events have banked charges or a
    /// duplicate under way, or in a run that serves models (whose requests are not billed
    /// per request).
    #[inline(never)]
    pub(super) fn record_retried_completion(&mut self, slot: u32) -> Result<(), SimError> {
        let (mut rec, last) = self.completion_record(slot);
        if let Some(first) = self.take_first_delivery(slot) {
            return self.end_duplicated(slot, first, last, false);
        }
        rec.charge = self.with_banked(slot, last);
        self.metrics.on_completion(&rec, &last);
        self.recorder.invocation(&rec);
        self.notify_extension(&rec, self.invs[slot as usize].tag)
    }

    /// The completed first delivery of `slot`, if a duplicate of it was under way.
    fn take_first_delivery(&mut self, slot: u32) -> Option<InvocationRecord> {
        if self.first_deliveries.is_empty() {
            return None;
        }
        self.first_deliveries.remove(&slot)
    }

    /// Ends an invocation that did not complete (dropped, or unfinished at the horizon) and
    /// frees its slot.
    pub(super) fn end_invocation(&mut self, slot: u32, outcome: Outcome) {
        // The run is over at the horizon: nothing an extension submits could run.
        let _ = self.not_completed(slot, outcome, false, Charge::default());
    }

    /// Drops an invocation and frees its slot; an asynchronous event is retried instead, as
    /// after a platform error (`retry.rs`).
    pub(super) fn drop_invocation(&mut self, slot: u32, outcome: Outcome) -> Result<(), SimError> {
        if self.invs[slot as usize].asynchronous {
            return self.retry_after_platform_error(slot, Charge::default());
        }
        self.not_completed(slot, outcome, true, Charge::default())
    }

    /// Ends an invocation that did not complete with `outcome`, `last` being the charge of
    /// its last attempt (zero if it did not execute), and frees its slot.
    pub(super) fn not_completed(
        &mut self,
        slot: u32,
        outcome: Outcome,
        notify: bool,
        last: Charge,
    ) -> Result<(), SimError> {
        if let Some(first) = self.take_first_delivery(slot) {
            return self.end_duplicated(slot, first, last, true);
        }
        let charge = self.with_banked(slot, last);
        let inv = self.invs[slot as usize];
        let (started, inst) = match inv.state {
            InvState::Running | InvState::Starting => {
                let i = &self.instances[inv.instance as usize];
                (true, Some((i.worker, InstanceId(inv.instance))))
            }
            _ => (false, None),
        };
        let rec = InvocationRecord {
            id: inv.seq,
            function: inv.function,
            outcome,
            arrival: inv.arrival,
            dispatched: if started { inv.dispatched } else { self.now },
            start: if inv.state == InvState::Running {
                inv.start
            } else {
                self.now
            },
            end: self.now,
            cold_start: started && inv.cold,
            init: if started { inv.init } else { SimDuration::ZERO },
            worker: inst.map(|(w, _)| w),
            instance: inst.map(|(_, i)| i),
            memory_mb: self.fns[inv.function.index()].memory_mb,
            charge,
        };
        self.metrics.on_not_completed(&rec, &last);
        self.recorder.invocation(&rec);
        self.free_inv(slot);
        if notify {
            self.notify_extension(&rec, inv.tag)
        } else {
            Ok(())
        }
    }

    /// Instance-based billing (Cloud Run's) and provisioned concurrency: the instance's
    /// whole life is charged when it ends. A no-op for the per-invocation models.
    pub(super) fn charge_instance(
        &mut self,
        f: FunctionId,
        life: SimDuration,
        memory_mb: u32,
        provisioned: bool,
    ) {
        if !provisioned && !self.prices.instance_based {
            // Billed per request and per execution: an instance's life costs nothing.
            return;
        }
        let c = match provisioned {
            true => match self.cfg.billing.provisioned_time_charge(life, memory_mb, 1) {
                Some(c) => c,
                None => return,
            },
            false => self.cfg.billing.instance_charge(life, memory_mb),
        };
        if c.total() == Money::ZERO {
            return;
        }
        self.metrics.on_charge(f, &c);
    }

    /// Emits a sample of the cluster now.
    pub(super) fn emit_sample(&mut self) -> Result<(), SimError> {
        let state = Sample {
            time: self.now,
            live_instances: self.live_instances,
            starting_instances: self.starting_instances,
            busy_instances: self.busy_instances,
            idle_instances: self.live_instances - self.starting_instances - self.busy_instances,
            memory_used_mb: self.used_mb,
            memory_idle_mb: self.idle_mb,
            executing: self.executing,
            queue_length: self.queue_len,
            ..Sample::default()
        };
        let s = self.metrics.on_sample(state)?;
        self.recorder.sample(&s);
        Ok(())
    }

    /// Closes the books on the instances still alive at the end and reports.
    pub(super) fn finish(mut self) -> RunReport {
        let now = self.now;
        self.start_finish();
        // Model serving closes its own books first (GPU bills, residency, running batches).
        let serving = self.gpu_close();
        for i in 0..self.instances.len() {
            let inst = &self.instances[i];
            if inst.state == InstState::Free {
                continue;
            }
            let (f, life, mb) = (inst.function, now - inst.created_at, inst.memory_mb);
            let provisioned = inst.provisioned;
            self.metrics.on_instance_end(life, None);
            self.charge_instance(f, life, mb, provisioned);
            if self.instances[i].in_idle {
                self.leave_idle(i as u32);
            }
        }
        let mut metrics = self.metrics;
        metrics.settle_deferred();
        metrics.run.end = now;
        metrics.run.arrival_span =
            (metrics.run.invocations > 0).then_some((metrics.first_arrival, metrics.last_arrival));
        if self.cpu_shares {
            // Executing shares were integrated in CPU units (MB per vCPU): to core-µs.
            metrics.run.busy_core_us /= cpu::MB_PER_VCPU as u128;
        }
        let functions = metrics.functions();
        if metrics.any_slo {
            for f in &functions {
                if metrics.slo_us[f.function.index()] == u64::MAX || f.invocations == 0 {
                    continue;
                }
                let r = &mut metrics.run;
                r.slo_invocations += f.invocations;
                r.slo_functions += 1;
                r.slo_functions_met += (f.slo_met * 100 >= f.invocations * 99) as u64;
            }
        }
        let unused: Vec<String> = self
            .cfg
            .cold_start_per_function
            .iter()
            .filter(|(name, _)| !self.functions.iter().any(|(_, f)| f.name == *name))
            .map(|(name, _)| name.clone())
            .collect();
        let unused_settings = self
            .cfg
            .functions
            .named
            .iter()
            .zip(&self.settings_used)
            .filter(|(_, used)| !**used)
            .map(|((name, _), _)| name.clone())
            .collect();
        RunReport {
            stats: metrics.run,
            functions,
            function_table: self.functions,
            unused_cold_start_names: unused,
            unused_function_settings: unused_settings,
            cold_start_parts: metrics.parts,
            serving,
        }
    }
}

/// The sum of two charges of one invocation (its attempts).
pub(super) fn add_charges(a: &Charge, b: &Charge) -> Charge {
    Charge {
        kind: b.kind,
        requests: a.requests + b.requests,
        billed_ms: a.billed_ms + b.billed_ms,
        mb_ms: a.mb_ms + b.mb_ms,
        cpu_ms: a.cpu_ms + b.cpu_ms,
        request: a.request + b.request,
        duration: a.duration + b.duration,
        cpu: a.cpu + b.cpu,
        restored_mb: a.restored_mb + b.restored_mb,
    }
}
