//! Autoscaling (Knative's KPA and the like): arrivals under an autoscaler wait in their
//! function's queue; every tick the autoscaler sets each function's instance count, and a
//! request for a function with no instance asks it at once (the activator).

use super::*;

impl Engine<'_> {
    pub(super) fn in_flight_change(&mut self, f: FunctionId, delta: i32) {
        let now = self.now;
        let fs = &mut self.fns[f.index()];
        fs.in_flight_us += fs.in_flight as u128 * (now - fs.in_flight_since).as_micros() as u128;
        fs.in_flight_since = now;
        fs.in_flight = (fs.in_flight as i64 + delta as i64) as u32;
    }

    /// An arrival under an autoscaler (already counted in flight by `deliver`): a free slot,
    /// else the function's queue (or a drop).
    /// A function with no instance is woken at once: the activator reports a concurrency
    /// of 1 and the autoscaler decides how many instances start (at least one).
    pub(super) fn arrive_autoscaled(&mut self, slot: u32) -> Result<(), SimError> {
        let f = self.invs[slot as usize].function;
        if !self.fns[f.index()].scaled {
            self.fns[f.index()].scaled = true;
            self.scaled_fns.push(f);
        }
        if !self.tick_pending {
            let t = self
                .autoscaler
                .as_ref()
                .map_or(1, |a| a.tick().as_micros().max(1));
            let next = SimTime((self.now.as_micros() / t + 1) * t);
            self.events
                .push(next, EventClass::Autoscale, Event::Autoscale);
            self.tick_pending = true;
        }
        if self.try_assign(slot, false)? {
            return Ok(());
        }
        // Scale from zero: the activator reports the request to the autoscaler, which
        // decides at once; the request waits for an instance it starts.
        if self.fns[f.index()].live_instances == 0 {
            let wanted = self.activate(f).max(1);
            for _ in 0..wanted {
                match self.find_worker(f, true)? {
                    Some(w) => {
                        self.create_instance(f, w, None)?;
                    }
                    None => break,
                }
            }
        }
        // With `on_full = "drop"`, a request still waits for a slot of an instance already
        // starting (one not promised to a request waiting before it); only a request no
        // starting instance will serve is dropped.
        let fs = &self.fns[f.index()];
        let starting_slots = fs.starting as u64 * self.cfg.instance_concurrency as u64;
        let waits = match self.cfg.on_full {
            OnFull::Queue => true,
            OnFull::Drop => (fs.waiting as u64) < starting_slots,
        };
        if waits {
            self.enqueue(slot);
            Ok(())
        } else {
            self.drop_invocation(slot, Outcome::DroppedFull)
        }
    }

    /// The autoscaler's decision for `f`, which has no instance, on the activator's report
    /// of one request in flight (Knative's `getOrCreateStat` sends a revision's first
    /// request as a concurrency of 1, and `Poke` runs the scaler at once).
    fn activate(&mut self, f: FunctionId) -> u32 {
        let Some(mut scaler) = self.autoscaler.take() else {
            return 1;
        };
        let fs = &self.fns[f.index()];
        let view = ScalingView {
            function: f,
            now: self.now,
            concurrency: 1.0,
            in_flight: fs.in_flight,
            ready: fs.live_instances - fs.starting,
            starting: fs.starting,
            instance_concurrency: self.cfg.instance_concurrency,
        };
        let wanted = scaler.activate(&view);
        self.autoscaler = Some(scaler);
        wanted
    }

    /// A tick: each function on the list gets the number of instances the autoscaler asks
    /// for (new ones start cold; surplus idle ones are evicted, least recently used first).
    pub(super) fn on_autoscale(&mut self) -> Result<(), SimError> {
        self.tick_pending = false;
        let Some(mut scaler) = self.autoscaler.take() else {
            return Ok(());
        };
        let tick_us = scaler.tick().as_micros().max(1);
        let mut result = Ok(());
        let mut i = 0;
        while i < self.scaled_fns.len() {
            let f = self.scaled_fns[i];
            self.in_flight_change(f, 0);
            let fs = &mut self.fns[f.index()];
            let (ready, starting) = (fs.live_instances - fs.starting, fs.starting);
            let view = ScalingView {
                function: f,
                now: self.now,
                concurrency: fs.in_flight_us as f64 / tick_us as f64,
                in_flight: fs.in_flight,
                ready,
                starting,
                instance_concurrency: self.cfg.instance_concurrency,
            };
            fs.in_flight_us = 0;
            let desired = scaler.desired_instances(&view);
            let current = ready + starting;
            if desired > current {
                for _ in current..desired {
                    match self.find_worker(f, true) {
                        Ok(Some(w)) => {
                            if let Err(e) = self.create_instance(f, w, None) {
                                result = Err(e);
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
            } else if desired < current {
                self.scale_down(f, current - desired);
            }
            let fs = &mut self.fns[f.index()];
            if fs.live_instances == 0 && fs.in_flight == 0 {
                fs.scaled = false;
                self.scaled_fns.remove(i);
            } else {
                i += 1;
            }
        }
        let stuck = self.queue_len > 0 && self.executing == 0 && self.starting_instances == 0;
        self.stuck_ticks = if stuck { self.stuck_ticks + 1 } else { 0 };
        if self.stuck_ticks > 100 {
            return Err(SimError::Stalled {
                waiting: self.queue_len as u64,
                time: self.now,
            });
        }
        if !self.scaled_fns.is_empty() {
            self.events.push(
                self.now + SimDuration(tick_us),
                EventClass::Autoscale,
                Event::Autoscale,
            );
            self.tick_pending = true;
        }
        self.autoscaler = Some(scaler);
        result
    }

    /// Evicts up to `n` idle instances of `f`, least recently used first.
    pub(super) fn scale_down(&mut self, f: FunctionId, n: u32) {
        let mut victims = std::mem::take(&mut self.scratch);
        victims.clear();
        let mut cur = self.avail[f.index()].head;
        while cur != NIL && victims.len() < n as usize {
            let inst = &self.instances[cur as usize];
            if inst.active == 0 && !inst.provisioned {
                victims.push(cur);
            }
            cur = self.instances[cur as usize].avail_next;
        }
        for &v in &victims {
            self.evict(v, EvictReason::ScaledDown);
        }
        self.scratch = victims;
    }
}
