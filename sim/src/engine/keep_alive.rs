//! Keep-alive and reclaim: an instance that becomes idle asks the keep-alive policy how long
//! to stay; expiry timers (one per instance), eviction, pre-warming, and reclaiming idle
//! memory when a new instance does not fit.

use super::*;

impl Engine<'_> {
    pub(super) fn make_idle(&mut self, i: u32) {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        inst.idle_since = now;
        inst.first_idle_at.get_or_insert(now);
        let mb = inst.memory_mb;
        let w = inst.worker;
        list_push_back(&mut self.instances, &mut self.idle, List::Idle, i);
        if self.lb.is_some() {
            let ends = &mut self.workers[w.index()].idle_list;
            list_push_back(&mut self.instances, ends, List::WorkerIdle, i);
        }
        let provisioned = self.instances[i as usize].provisioned;
        if !provisioned {
            // Provisioned instances are never reclaimed: not part of the worker's reclaimable memory.
            self.workers[w.index()].idle_mb += mb;
        }
        self.idle_mb += mb as u64;
        if self.autoscaler.is_some() || provisioned {
            // The autoscaler (or the provisioning), not keep-alive, removes instances.
            self.instances[i as usize].expires_at = SimTime::MAX;
            return;
        }
        let decision = match self.keep_alive_window {
            Some(ttl) => KeepAliveDecision::KeepUntil(now + ttl),
            None => {
                let view = instance_view(&self.instances, InstanceId(i));
                self.keep_alive.on_idle(&view, now)
            }
        };
        match decision {
            KeepAliveDecision::EvictNow => self.evict(i, EvictReason::Expired),
            KeepAliveDecision::KeepUntil(t) if t <= now => self.evict(i, EvictReason::Expired),
            KeepAliveDecision::KeepUntil(t) => {
                self.instances[i as usize].expires_at = t;
                self.schedule_expiry(i, t);
            }
            KeepAliveDecision::KeepForever => self.instances[i as usize].expires_at = SimTime::MAX,
        }
    }

    /// Keeps at most the earliest expiry event per instance in the heap: a later deadline
    /// is re-checked when the pending event fires, so a hot instance costs no heap traffic.
    #[inline]
    pub(super) fn schedule_expiry(&mut self, i: u32, t: SimTime) {
        // The usual case (an earlier timer pending) is this one test, inline.
        if self.instances[i as usize]
            .expiry_event
            .is_none_or(|p| p > t)
        {
            self.push_expiry(i, t);
        }
    }

    #[inline(never)]
    fn push_expiry(&mut self, i: u32, t: SimTime) {
        let inst = &mut self.instances[i as usize];
        inst.expiry_event = Some(t);
        let gen = inst.gen;
        self.events.push(
            t,
            EventClass::KeepAliveExpiry,
            Event::Expiry { inst: i, gen },
        );
    }

    pub(super) fn on_expiry(&mut self, i: u32, gen: u32) -> Result<(), SimError> {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        if inst.gen != gen || inst.state != InstState::Ready {
            return Ok(());
        }
        if inst.expiry_event == Some(now) {
            inst.expiry_event = None;
        }
        if inst.active > 0 || inst.expires_at == SimTime::MAX {
            return Ok(());
        }
        if inst.expires_at <= now {
            let w = inst.worker;
            self.evict(i, EvictReason::Expired);
            if self.lb.is_some() {
                self.serve_worker_queue(w)?;
            } else if self.queue_len > 0 {
                self.serve_global_queue()?;
            }
        } else {
            let t = inst.expires_at;
            self.schedule_expiry(i, t);
        }
        Ok(())
    }

    #[inline(always)]
    pub(super) fn leave_idle(&mut self, i: u32) {
        let now = self.now;
        list_remove(&mut self.instances, &mut self.idle, List::Idle, i);
        if self.lb.is_some() {
            let w = self.instances[i as usize].worker;
            let ends = &mut self.workers[w.index()].idle_list;
            list_remove(&mut self.instances, ends, List::WorkerIdle, i);
        }
        let inst = &self.instances[i as usize];
        let mb = inst.memory_mb;
        let idle = now - inst.idle_since;
        let (w, f) = (inst.worker, inst.function);
        self.metrics.on_idle_end(f, mb, idle);
        if !self.instances[i as usize].provisioned {
            self.workers[w.index()].idle_mb -= mb;
        }
        self.idle_mb -= mb as u64;
    }

    pub(super) fn evict(&mut self, i: u32, reason: EvictReason) {
        let now = self.now;
        debug_assert_eq!(self.instances[i as usize].active, 0);
        if self.gpu.is_some() {
            self.gpu_evicted(i); // model serving: the GPU, the bill, residency
        }
        self.leave_idle(i);
        if self.starts.any() {
            self.start_evicted(i);
        }
        let f = self.free_instance(i, reason);
        if reason == EvictReason::Expired {
            if let Some(d) = self.keep_alive.prewarm(f, now) {
                let fs = &mut self.fns[f.index()];
                fs.prewarm_gen = fs.prewarm_gen.wrapping_add(1);
                self.events.push(
                    now + d,
                    EventClass::Prewarm,
                    Event::Prewarm {
                        function: f.0,
                        gen: self.fns[f.index()].prewarm_gen,
                    },
                );
            }
        }
    }

    /// Ends instance `i` (evicted, or lost with its worker): its life counted and billed, its
    /// memory and slot freed, the keep-alive policy told. Returns its function.
    pub(super) fn free_instance(&mut self, i: u32, reason: EvictReason) -> FunctionId {
        let now = self.now;
        let inst = &self.instances[i as usize];
        let (f, w, mb) = (inst.function, inst.worker, inst.memory_mb);
        let life = now - inst.created_at;
        self.metrics.on_instance_end(life, Some(reason));
        let (in_avail, provisioned) = (inst.in_avail, inst.provisioned);
        self.charge_instance(f, life, mb, provisioned);
        if in_avail {
            self.avail_remove(i);
        }
        self.change_used(w, -(mb as i64));
        self.workers[w.index()].instances -= 1;
        let inst = &mut self.instances[i as usize];
        inst.state = InstState::Free;
        inst.active = 0;
        inst.bound = NIL;
        inst.gen = inst.gen.wrapping_add(1);
        inst.expiry_event = None;
        self.free_instances.push(i);
        self.live_instances -= 1;
        self.fns[f.index()].live_instances -= 1;
        if self.keep_alive_observes {
            self.keep_alive.observe(&Observation::Eviction {
                instance: InstanceId(i),
                function: f,
                time: now,
            });
        }
        f
    }

    pub(super) fn on_prewarm(&mut self, f: FunctionId, gen: u32) -> Result<(), SimError> {
        // Only the latest pre-warm of a function counts, and never one that would take
        // memory queued requests are waiting for.
        let fs = &self.fns[f.index()];
        if gen != fs.prewarm_gen || fs.live_instances > 0 || self.queue_len > 0 {
            return Ok(());
        }
        if self.lb.is_some() {
            // Where the balancer sends the function's requests, if there is room there.
            if let Some(w) = self.balanced_worker(f, None)? {
                if self.workers[w.index()].free_mb() >= self.fns[f.index()].memory_mb {
                    self.create_instance(f, w, None)?;
                }
            }
            return Ok(());
        }
        if let Some(w) = self.find_worker(f, false)? {
            self.create_instance(f, w, None)?;
        }
        Ok(())
    }

    /// Frees room for `mb` by evicting idle instances: finds the first idle instance, in
    /// reclaim order, on a worker where evicting idle instances makes enough room, then
    /// evicts that worker's idle instances in the same order until it fits. The order is
    /// least recently used first unless the keep-alive policy ranks victims.
    pub(super) fn reclaim(&mut self, mb: u32) -> Option<WorkerId> {
        if self.idle.head == NIL {
            return None;
        }
        let fits = |w: &Worker| w.free_mb() + w.idle_mb >= mb;
        let head_view = instance_view(&self.instances, InstanceId(self.idle.head));
        if self
            .keep_alive
            .victim_priority(&head_view, self.now)
            .is_some()
        {
            return self.reclaim_ranked(mb);
        }
        let mut cur = self.idle.head;
        while cur != NIL
            && (self.instances[cur as usize].provisioned
                || !fits(&self.workers[self.instances[cur as usize].worker.index()]))
        {
            cur = self.instances[cur as usize].idle_next;
        }
        if cur == NIL {
            return None;
        }
        let target = self.instances[cur as usize].worker;
        while self.workers[target.index()].free_mb() < mb && cur != NIL {
            let next = self.instances[cur as usize].idle_next;
            let inst = &self.instances[cur as usize];
            if inst.worker == target && !inst.provisioned {
                self.evict(cur, EvictReason::Reclaimed);
            }
            cur = next;
        }
        // Memory alone always fits here; with vCPU shares, an idle instance above 6 vCPUs'
        // memory frees less room than its memory, so say so rather than overfill.
        (self.workers[target.index()].free_mb() >= mb).then_some(target)
    }

    /// The reclaimable idle instances of a list (the cluster-wide one from `head` along
    /// `idle_next`, or a worker's along `widle_next`), lowest victim priority first (ties by
    /// lowest instance id), in `self.ranked`'s buffer, which the caller gives back.
    pub(super) fn rank_idle(&mut self, head: u32, worker_list: bool) -> Vec<(u64, u32)> {
        let mut ranked = std::mem::take(&mut self.ranked);
        ranked.clear();
        let mut cur = head;
        while cur != NIL {
            let inst = &self.instances[cur as usize];
            let next = if worker_list {
                inst.widle_next
            } else {
                inst.idle_next
            };
            if !inst.provisioned {
                let v = instance_view(&self.instances, InstanceId(cur));
                let p = self.keep_alive.victim_priority(&v, self.now).unwrap_or(0);
                ranked.push((p, cur));
            }
            cur = next;
        }
        ranked.sort_unstable();
        ranked
    }

    pub(super) fn reclaim_ranked(&mut self, mb: u32) -> Option<WorkerId> {
        let ranked = self.rank_idle(self.idle.head, false);
        let target = ranked
            .iter()
            .map(|&(_, i)| self.instances[i as usize].worker)
            .find(|w| {
                let wk = &self.workers[w.index()];
                wk.free_mb() + wk.idle_mb >= mb
            });
        if let Some(t) = target {
            for &(_, i) in &ranked {
                if self.workers[t.index()].free_mb() >= mb {
                    break;
                }
                if self.instances[i as usize].worker == t {
                    self.evict(i, EvictReason::Reclaimed);
                }
            }
        }
        self.ranked = ranked;
        target.filter(|t| self.workers[t.index()].free_mb() >= mb)
    }
}
