//! Accounting: what a completion, a drop or an instance's end adds to the run's figures and
//! the bill, the periodic samples, and closing the books at the end of a run.

use super::*;

impl Engine<'_> {
    pub(super) fn record_completion(&mut self, slot: u32) {
        let now = self.now;
        let inv = self.invs[slot as usize];
        let inst = &self.instances[inv.instance as usize];
        let mb = inst.memory_mb;
        let billing = &self.cfg.billing;
        let charge = if inst.provisioned {
            billing
                .provisioned_invocation_charge(now - inv.start, mb)
                .unwrap_or_else(|| billing.charge(now - inv.start, inv.init, mb))
        } else {
            billing.charge(now - inv.start, inv.init, mb)
        };
        let rec = InvocationRecord {
            id: inv.seq,
            function: inv.function,
            outcome: Outcome::Completed,
            arrival: inv.arrival,
            dispatched: inv.dispatched,
            start: inv.start,
            end: now,
            cold_start: inv.cold,
            init: inv.init,
            worker: Some(inst.worker),
            instance: Some(InstanceId(inv.instance)),
            memory_mb: mb,
            charge,
        };
        let latency = rec.latency().as_micros();
        let s = &mut self.stats;
        s.completed += 1;
        s.latency_us.add(latency);
        s.queue_delay_us.add(rec.queue_delay().as_micros());
        if inv.cold {
            s.cold_starts += 1;
            s.init_us.add(inv.init.as_micros());
        }
        s.billed_mb_ms += charge.mb_ms;
        s.bill.add(&charge);
        s.request_cost += charge.request;
        s.duration_cost += charge.duration;
        let fs = &mut self.fns[inv.function.index()].stats;
        fs.completed += 1;
        fs.cold_starts += inv.cold as u64;
        fs.latency_us.add(latency);
        fs.mb_ms += charge.mb_ms;
        fs.cost += charge.total();
        self.recorder.invocation(&rec);
    }

    pub(super) fn drop_invocation(&mut self, slot: u32, outcome: Outcome) {
        let inv = self.invs[slot as usize];
        let rec = InvocationRecord {
            id: inv.seq,
            function: inv.function,
            outcome,
            arrival: inv.arrival,
            dispatched: self.now,
            start: self.now,
            end: self.now,
            cold_start: false,
            init: SimDuration::ZERO,
            worker: None,
            instance: None,
            memory_mb: self.fns[inv.function.index()].memory_mb,
            charge: Default::default(),
        };
        self.stats.dropped += 1;
        if outcome == Outcome::DroppedTimeout {
            self.stats.dropped_timeout += 1;
        }
        self.interval.dropped += 1;
        self.fns[inv.function.index()].stats.dropped += 1;
        self.recorder.invocation(&rec);
        self.free_inv(slot);
    }

    /// Instance-based billing (Cloud Run's): the instance's whole life is charged when it
    /// ends. A no-op for the per-invocation models.
    pub(super) fn charge_instance(
        &mut self,
        f: FunctionId,
        life: SimDuration,
        memory_mb: u32,
        provisioned: bool,
    ) {
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
        self.stats.bill.add(&c);
        self.stats.billed_mb_ms += c.mb_ms;
        self.stats.duration_cost += c.duration;
        self.fns[f.index()].stats.cost += c.total();
        self.fns[f.index()].stats.mb_ms += c.mb_ms;
    }
    pub(super) fn emit_sample(&mut self) {
        let s = Sample {
            time: self.now,
            live_instances: self.live_instances,
            starting_instances: self.starting_instances,
            busy_instances: self.busy_instances,
            idle_instances: self.live_instances - self.starting_instances - self.busy_instances,
            memory_used_mb: self.used_mb,
            memory_idle_mb: self.idle_mb,
            executing: self.executing,
            queue_length: self.queue_len,
            ..self.interval
        };
        self.recorder.sample(&s);
        self.interval = Sample::default();
    }

    pub(super) fn finish(mut self) -> RunReport {
        // Close the books on instances still alive.
        let now = self.now;
        for i in 0..self.instances.len() {
            let inst = &self.instances[i];
            if inst.state == InstState::Free {
                continue;
            }
            let (f, life, mb) = (inst.function, now - inst.created_at, inst.memory_mb);
            let provisioned = inst.provisioned;
            self.stats.instance_us += life.as_micros() as u128;
            self.charge_instance(f, life, mb, provisioned);
            if self.instances[i].in_idle {
                self.leave_idle(i as u32);
            }
        }
        self.stats.end = now;
        let functions = self.fns.into_iter().map(|f| f.stats).collect();
        RunReport {
            stats: self.stats,
            functions,
            function_table: self.functions,
        }
    }
}
