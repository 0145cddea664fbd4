//! The request path: an arrival is routed to a warm instance or starts a new one (placement,
//! then reclaim); otherwise it waits in the FIFO queue or is dropped. Executions start and end
//! here, and freed slots serve the queue.

use super::*;

impl Engine<'_> {
    pub(super) fn on_arrival(&mut self, a: Arrival, tag: u64) -> Result<(), SimError> {
        let seq = self.arrivals_seen;
        self.arrivals_seen += 1;
        self.metrics.on_arrival(a.function, a.time);
        if a.cold_start.is_some() {
            self.fns[a.function.index()].last_cold = a.cold_start;
        }
        if self.keep_alive_observes {
            self.keep_alive.observe(&Observation::Arrival {
                function: a.function,
                time: a.time,
            });
        }
        let asynchronous = (self.any_async || a.mode.is_some()) && self.is_async(&a);
        let slot = self.alloc_inv(Inv::arrived(seq, &a, tag, asynchronous));
        self.in_flight += 1;
        if self.gpu.is_some() && self.fns[a.function.index()].model != NIL {
            // Model serving: the request's token counts and GPU memory (engine/gpu.rs).
            self.gpu_arrival(slot, tag == NO_TAG)?;
        }
        if asynchronous {
            self.metrics.on_delivery(SimDuration::ZERO, false);
        }
        self.deliver(slot)
    }

    /// Sends an attempt of invocation `slot` (its first, or a retry of an asynchronous event)
    /// through admission, then routing: a warm instance, a new one, the queue or a drop.
    #[inline(always)]
    pub(super) fn deliver(&mut self, slot: u32) -> Result<(), SimError> {
        if self.gated {
            return self.deliver_gated(slot);
        }
        if self.gpu.is_some() {
            return self.deliver_serving(slot);
        }
        self.deliver_cluster_wide(slot)
    }

    /// [`Self::deliver`] in a run that serves models: a request of a model-serving function
    /// takes the GPU path (engine/gpu.rs), any other the cluster-wide one.
    #[inline(never)]
    fn deliver_serving(&mut self, slot: u32) -> Result<(), SimError> {
        if self.fns[self.invs[slot as usize].function.index()].model != NIL {
            return self.gpu_route(slot);
        }
        self.deliver_cluster_wide(slot)
    }

    /// Whether arrival `a` is an asynchronous event: its trace's mode, else its function's.
    #[inline(never)]
    fn is_async(&self, a: &Arrival) -> bool {
        match a.mode {
            Some(m) => m == InvocationMode::Async,
            None => self.rules[a.function.index()].mode == InvocationMode::Async,
        }
    }

    /// [`Self::deliver`] with admission, a load balancer or an autoscaler (an autoscaler and
    /// a load balancer never run together, nor with model serving).
    #[inline(never)]
    fn deliver_gated(&mut self, slot: u32) -> Result<(), SimError> {
        if self.autoscaler.is_some() {
            // In flight at the function from here until the attempt ends, throttled or not.
            let f = self.invs[slot as usize].function;
            self.in_flight_change(f, 1);
        }
        if self.admission && !self.admit(slot) {
            return self.throttle(slot);
        }
        if self.gpu.is_some() {
            return self.deliver_serving(slot);
        }
        if self.lb.is_some() {
            return self.arrive_balanced(slot);
        }
        if self.autoscaler.is_some() {
            return self.arrive_autoscaled(slot);
        }
        self.deliver_cluster_wide(slot)
    }

    /// Routing in cluster-wide mode: a warm instance, a new one, the queue or a drop.
    #[inline(always)]
    fn deliver_cluster_wide(&mut self, slot: u32) -> Result<(), SimError> {
        // Requests already waiting keep their turn: a new request may only take a warm
        // instance, not memory, while the queue is non-empty (requests waiting for a GPU
        // instance wait for a GPU, not for memory).
        let may_create = self.queue_len == self.gpu_queued;
        if self.try_assign(slot, may_create)? {
            return Ok(());
        }
        match self.cfg.on_full {
            OnFull::Drop => self.drop_invocation(slot, Outcome::DroppedFull)?,
            OnFull::Queue => self.enqueue(slot),
        }
        Ok(())
    }

    pub(super) fn alloc_inv(&mut self, mut inv: Inv) -> u32 {
        if let Some(s) = self.free_invs.pop() {
            inv.gen = self.invs[s as usize].gen;
            self.invs[s as usize] = inv;
            s
        } else {
            self.invs.push(inv);
            (self.invs.len() - 1) as u32
        }
    }

    #[inline(always)]
    pub(super) fn free_inv(&mut self, slot: u32) {
        // An asynchronous event between attempts holds nothing but its slot (`retry.rs`).
        if self.autoscaler.is_some() && self.invs[slot as usize].state != InvState::Waiting {
            let f = self.invs[slot as usize].function;
            self.in_flight_change(f, -1);
        }
        if self.invs[slot as usize].admitted {
            self.release(slot);
        }
        let (w, f) = (
            self.invs[slot as usize].worker,
            self.invs[slot as usize].function,
        );
        if w != NIL {
            let wk = &mut self.workers[w as usize];
            wk.assigned -= 1;
            wk.assigned_mb -= self.fns[f.index()].memory_mb as u64;
            let assigned = wk.assigned;
            self.index.assigned_changed(WorkerId(w), assigned);
            self.assigned_total -= 1;
        }
        let i = &mut self.invs[slot as usize];
        i.state = InvState::Free;
        i.gen = i.gen.wrapping_add(1);
        self.free_invs.push(slot);
        self.in_flight -= 1;
    }

    pub(super) fn enqueue(&mut self, slot: u32) {
        let inv = self.invs[slot as usize];
        let fs = &mut self.fns[inv.function.index()];
        fs.waiting += 1;
        if inv.worker != NIL {
            // Load balancing: the request waits in its worker's queue only.
            let wk = &mut self.workers[inv.worker as usize];
            wk.queue.push_back((slot, inv.gen));
            wk.queued += 1;
        } else {
            fs.queue.push_back((slot, inv.gen));
            // With an autoscaler, only the function's own instances serve its queue.
            if self.autoscaler.is_none() {
                self.global_queue.push_back((slot, inv.gen));
            }
        }
        self.queue_len += 1;
        self.metrics.on_queue_length(self.queue_len);
        if let Some(t) = self.cfg.queue_timeout {
            // Measured from the attempt's delivery: `dispatched` is the arrival (or a retry's
            // delivery) until an instance is assigned.
            self.events.push(
                inv.dispatched + t,
                EventClass::QueueTimeout,
                Event::QueueTimeout {
                    inv: slot,
                    gen: inv.gen,
                },
            );
        }
    }

    pub(super) fn is_queued(&self, (slot, gen): (u32, u32)) -> bool {
        let i = &self.invs[slot as usize];
        i.gen == gen && i.state == InvState::Queued
    }

    /// The routing policy's choice for `inv` among the warm instances of `ends`: its
    /// function's available list, or with `scope` (per-request balancing) that worker's
    /// list of it. Cold without a call when the list is empty; the list's most recent
    /// instance without a call when the policy says that is all it ever takes.
    #[inline]
    pub(super) fn route(&mut self, inv: Inv, ends: ListEnds, scope: Option<WorkerId>) -> Route {
        if ends.head == NIL {
            return Route::Cold;
        }
        if self.routes_most_recent {
            return Route::Warm(InstanceId(ends.tail));
        }
        let view = InvocationView {
            id: inv.seq,
            function: inv.function,
            arrival: inv.arrival,
        };
        let cluster = match scope {
            None => view!(self),
            Some(w) => view!(self, w, (inv.function, ends)),
        };
        self.routing.route(&view, &cluster, &mut self.rng_route)
    }

    /// Routes the invocation to a warm instance, or creates one (if `may_create`).
    pub(super) fn try_assign(&mut self, slot: u32, may_create: bool) -> Result<bool, SimError> {
        let inv = self.invs[slot as usize];
        let f = inv.function;
        let route = self.route(inv, self.avail[f.index()], None);
        match route {
            Route::Warm(i) => {
                self.check_warm(i, f)?;
                self.dispatch_warm(slot, i.0);
                Ok(true)
            }
            Route::Cold if !may_create => Ok(false),
            Route::Cold => {
                // The scaling rate: no token, no new execution environment.
                if self.admission && !self.has_scaling_token(f) {
                    self.throttle(slot)?;
                    return Ok(true);
                }
                match self.find_worker(f, true)? {
                    Some(w) => {
                        if self.admission {
                            self.take_scaling_token(f);
                        }
                        self.create_instance(f, w, Some(slot))?;
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
        }
    }

    /// A routing policy's warm choice `i` for a request of `f`: a ready instance of `f` with
    /// a free slot, or the policy's error.
    pub(super) fn check_warm(&self, i: InstanceId, f: FunctionId) -> Result<(), SimError> {
        let ok = self
            .instances
            .get(i.index())
            .is_some_and(|x| x.in_avail && x.function == f && x.state == InstState::Ready);
        if !ok {
            return Err(SimError::Policy(format!(
                "routing chose {i}, which is not a warm instance of function {f} with a free slot"
            )));
        }
        Ok(())
    }

    /// Asks placement for a worker with room, then (if allowed) reclaims idle memory.
    pub(super) fn find_worker(
        &mut self,
        f: FunctionId,
        reclaim: bool,
    ) -> Result<Option<WorkerId>, SimError> {
        let mb = self.fns[f.index()].memory_mb;
        if let Some(w) = self.fork_worker(f, mb) {
            return Ok(Some(w));
        }
        let fv = FunctionView {
            id: f,
            name: &self.functions.get(f).name,
            memory_mb: mb,
        };
        if let Some(w) = self.placement.place(&fv, &view!(self), &mut self.rng_place) {
            let fits = self
                .workers
                .get(w.index())
                .is_some_and(|x| x.free_mb() >= mb);
            if !fits {
                return Err(SimError::Policy(format!(
                    "placement chose worker {w}, which does not have {mb} MB free for function {f}"
                )));
            }
            return Ok(Some(w));
        }
        Ok(if reclaim { self.reclaim(mb) } else { None })
    }

    pub(super) fn dispatch_warm(&mut self, slot: u32, i: u32) {
        let now = self.now;
        if self.instances[i as usize].in_idle {
            self.leave_idle(i);
        }
        if self.instances[i as usize].active == 0 {
            self.busy_instances += 1;
        }
        self.avail_remove(i);
        let inst = &mut self.instances[i as usize];
        inst.active += 1;
        inst.last_used = now;
        inst.expires_at = SimTime::MAX;
        if inst.active < self.cfg.instance_concurrency {
            self.avail_push(i);
        }
        let inv = &mut self.invs[slot as usize];
        inv.instance = i;
        inv.dispatched = now;
        inv.cold = false;
        self.start_execution(slot);
    }

    pub(super) fn create_instance(
        &mut self,
        f: FunctionId,
        w: WorkerId,
        bound: Option<u32>,
    ) -> Result<u32, SimError> {
        // A boot takes the trace's cold start for the request it is for, else the
        // function's latest one from the trace (pre-warms, the autoscaler).
        let traced = match bound {
            Some(b) => self.invs[b as usize].cold_override,
            None => self.fns[f.index()].last_cold,
        };
        self.create_for(
            f,
            w,
            bound.map_or(StartFor::Nothing, StartFor::Slot),
            traced,
        )
    }

    /// [`Self::create_instance`] for `bound` (an invocation slot, an execution of the plain
    /// path, or nothing), with `traced` the trace's cold start for it.
    pub(super) fn create_for(
        &mut self,
        f: FunctionId,
        w: WorkerId,
        bound: StartFor,
        traced: Option<SimDuration>,
    ) -> Result<u32, SimError> {
        let now = self.now;
        let mb = self.fns[f.index()].memory_mb;
        let slot = match self.free_instances.pop() {
            Some(s) => s,
            None => {
                self.instances.push(Instance::vacant());
                if self.plain_path {
                    self.plain.push(plain::PlainExec::default());
                }
                (self.instances.len() - 1) as u32
            }
        };
        self.change_used(w, mb as i64);
        self.workers[w.index()].instances += 1;
        let plan = self.plan_start(f, w, traced)?;
        let init = plan.duration;
        // Model serving: loading the function's model is a step of its start, after the
        // container's cold start (engine/gpu.rs).
        let init = match self.fns[f.index()].model {
            NIL => init,
            _ => self.model_load_step(f, w, slot, init)?,
        };
        let gen = self.instances[slot as usize].gen;
        let inst = &mut self.instances[slot as usize];
        *inst = Instance {
            function: f,
            worker: w,
            memory_mb: mb,
            gen,
            state: InstState::Starting,
            active: (bound != StartFor::Nothing) as u32,
            created_at: now,
            ready_at: now + init,
            last_used: now,
            idle_since: now,
            bound: match bound {
                StartFor::Nothing => NIL,
                StartFor::Slot(b) => b,
                StartFor::Plain => plain::PLAIN_BOUND,
            },
            provisioned: self.creating_provisioned,
            start_kind: plan.kind,
            first_exec_milli: plan.first_exec_milli,
            ..Instance::vacant()
        };
        if self.lb.is_some() {
            // Its (function, worker) list, found once for its whole life.
            inst.local_list = self.local_avail.slot(f, w);
        }
        if let StartFor::Slot(b) = bound {
            let inv = &mut self.invs[b as usize];
            inv.state = InvState::Starting;
            inv.instance = slot;
            inv.dispatched = now;
            inv.cold = true;
            inv.init = init;
        }
        self.live_instances += 1;
        self.starting_instances += 1;
        self.metrics.on_instance_started(
            f,
            mb,
            init,
            self.live_instances,
            plan.kind,
            plan.snapshot_mb,
        );
        let fs = &mut self.fns[f.index()];
        fs.live_instances += 1;
        fs.starting += 1;
        fs.prewarm_gen = fs.prewarm_gen.wrapping_add(1);
        self.events.push(
            now + init,
            EventClass::InstanceReady,
            Event::Ready { inst: slot, gen },
        );
        Ok(slot)
    }

    /// Provisioned concurrency: `n` instances of a newly seen function, initialised ahead
    /// (ready at once), kept for the whole run, never reclaimed, billed at the provisioned
    /// prices.
    pub(super) fn create_provisioned(&mut self, f: FunctionId, n: u32) -> Result<(), SimError> {
        for _ in 0..n {
            let Some(w) = self.find_worker(f, false)? else {
                return Err(SimError::Config(format!(
                    "the {n} provisioned instance(s) of `{}` do not fit in the cluster",
                    self.functions.get(f).name
                )));
            };
            self.creating_provisioned = true;
            let created = self.create_instance(f, w, None);
            self.creating_provisioned = false;
            created?;
        }
        Ok(())
    }

    pub(super) fn on_ready(&mut self, i: u32, gen: u32) -> Result<(), SimError> {
        let inst = &self.instances[i as usize];
        if inst.gen != gen || inst.state != InstState::Starting {
            // Lost with its worker while starting (`faults.rs`).
            return Ok(());
        }
        if self.gpu.is_some() && self.fns[inst.function.index()].model != NIL {
            return self.gpu_ready(i); // model serving
        }
        let inst = &mut self.instances[i as usize];
        inst.state = InstState::Ready;
        inst.ready_at = self.now;
        let f = inst.function;
        let active = inst.active;
        if self.starts.any() {
            self.start_ready(i);
        }
        self.starting_instances -= 1;
        self.fns[f.index()].starting -= 1;
        if active > 0 {
            self.busy_instances += 1;
            // The bound invocation is the one whose arrival created the instance.
            let slot = std::mem::replace(&mut self.instances[i as usize].bound, NIL);
            self.instances[i as usize].last_used = self.now;
            if slot == plain::PLAIN_BOUND {
                self.plain_start(i);
            } else {
                self.start_execution(slot);
            }
        }
        if self.instances[i as usize].active < self.cfg.instance_concurrency {
            self.avail_push(i);
        }
        if self.lb.is_some() {
            // Load balancing: the instance serves its worker's queue (strict FIFO).
            if self.instances[i as usize].active == 0 {
                self.make_idle(i);
            }
            let w = self.instances[i as usize].worker;
            return self.serve_worker_queue(w);
        }
        // A free slot serves the queued requests of its function, whether or not an
        // invocation was bound to the instance (a pre-warmed one has none).
        let created = self.instances[i as usize].created_at;
        self.serve_function_queue(i, self.autoscaler.is_some().then_some(created));
        if self.instances[i as usize].active == 0 {
            self.make_idle(i);
            // An idle instance is reclaimable: the queue head may need its memory.
            if self.queue_len > 0 {
                self.serve_global_queue()?;
            }
        }
        Ok(())
    }

    pub(super) fn start_execution(&mut self, slot: u32) {
        let now = self.now;
        let inv = &mut self.invs[slot as usize];
        inv.state = InvState::Running;
        inv.start = now;
        let mut work = inv.work;
        let gen = inv.gen;
        let f = inv.function;
        let i = inv.instance as usize;
        let inst = &mut self.instances[i];
        inst.executions += 1;
        let w = inst.worker;
        if inst.first_exec_milli != 0 {
            // The first execution after a lazy restore faults its pages in.
            work = start::stretch(work, inst.first_exec_milli);
            inst.first_exec_milli = 0;
        }
        match self.cfg.cpu {
            CpuModel::Ignore | CpuModel::Proportional { .. } => {
                if self.cpu_shares {
                    work = self.share_started(i, work);
                }
                self.exec_count(w, 1);
                // Killed at its timeout: the execution ends there (`retry.rs` reads `cut`).
                let run = match self.timeouts {
                    true => self.cut_at_timeout(slot, f, work),
                    false => work,
                };
                self.events.push(
                    now + run,
                    EventClass::Completion,
                    Event::Done { inv: slot, gen },
                );
            }
            CpuModel::ProcessorSharing => {
                self.ps_advance(w);
                self.exec_count(w, 1);
                let ps = &mut self.workers[w.index()].ps;
                let end = PsWork {
                    us: ps.vtime.us + work.as_micros(),
                    fs: ps.vtime.fs,
                };
                ps.jobs.push(std::cmp::Reverse(ps_key(end, slot)));
                if self.timeouts && self.rules[f.index()].timeout != SimDuration::MAX {
                    let deadline = (now + self.rules[f.index()].timeout).as_micros();
                    let ps = &mut self.workers[w.index()].ps;
                    ps.deadlines.push(std::cmp::Reverse((deadline, slot, gen)));
                }
                self.ps_started(w, work);
            }
        }
    }

    /// How long the execution of `slot` runs with durations as given: its work, or its
    /// function's timeout if that comes first (the execution is then marked `cut`).
    #[inline(never)]
    fn cut_at_timeout(&mut self, slot: u32, f: FunctionId, work: SimDuration) -> SimDuration {
        let timeout = self.rules[f.index()].timeout;
        if work > timeout {
            self.invs[slot as usize].cut = true;
            timeout
        } else {
            work
        }
    }

    pub(super) fn exec_count(&mut self, w: WorkerId, delta: i32) {
        let now = self.now;
        let track_area = self.lb.is_some();
        let wk = &mut self.workers[w.index()];
        if track_area {
            wk.exec_area_us = wk.exec_area_at(now);
            wk.exec_since = now;
        }
        let before = wk.executing.min(wk.cores);
        wk.executing = (wk.executing as i64 + delta as i64) as u32;
        let after = wk.executing.min(wk.cores);
        if !self.cpu_shares {
            self.busy_cores = self.busy_cores + after as u64 - before as u64;
        }
        self.executing = (self.executing as i64 + delta as i64) as u32;
    }

    pub(super) fn finish_execution(&mut self, slot: u32) -> Result<(), SimError> {
        let now = self.now;
        let inv = self.invs[slot as usize];
        let i = inv.instance;
        if inv.asynchronous || inv.cut || self.error_draws {
            // A function error, a timeout, or an asynchronous event's end (`retry.rs`).
            self.end_attempt(slot)?;
        } else {
            self.record_completion(slot)?;
            self.free_inv(slot);
        }
        let inst = &mut self.instances[i as usize];
        inst.active -= 1;
        inst.last_used = now;
        if inst.active == 0 {
            self.busy_instances -= 1;
        }
        if self.instances[i as usize].in_avail {
            self.avail_remove(i);
        }
        self.avail_push(i);
        if self.lb.is_some() {
            if self.instances[i as usize].active == 0 {
                self.make_idle(i);
            }
            let w = self.instances[i as usize].worker;
            return self.serve_worker_queue(w);
        }
        self.serve_then_idle(i)
    }

    /// Cluster-wide, after an execution on instance `i` ended: its free slot serves its
    /// function's queue, it becomes idle if nothing took it, and the global queue's head may
    /// then fit (in the memory it holds, now reclaimable, or freed by other ends).
    #[inline(always)]
    pub(super) fn serve_then_idle(&mut self, i: u32) -> Result<(), SimError> {
        self.serve_function_queue(i, None);
        if self.instances[i as usize].active == 0 {
            self.make_idle(i);
        }
        if self.queue_len > 0 {
            self.serve_global_queue()?;
        }
        Ok(())
    }

    /// Hands instance `i`'s free slots to requests of its function waiting in the queue.
    /// `started_at` is the instance's creation time when it has just become ready under an
    /// autoscaler: the requests it takes then waited for its cold start, so they count as
    /// cold starts, bound to it from its creation (or their arrival, if later).
    #[inline]
    pub(super) fn serve_function_queue(&mut self, i: u32, started_at: Option<SimTime>) {
        // Most completions find their function's queue empty: no call for them.
        let f = self.instances[i as usize].function;
        if !self.fns[f.index()].queue.is_empty() {
            self.serve_waiting(i, f, started_at);
        }
    }

    /// [`Self::serve_function_queue`] when the function's queue holds entries (some may be
    /// stale: served by the global queue, or timed out).
    #[inline(never)]
    fn serve_waiting(&mut self, i: u32, f: FunctionId, started_at: Option<SimTime>) {
        while self.instances[i as usize].in_avail {
            let Some(&head) = self.fns[f.index()].queue.front() else {
                return;
            };
            self.fns[f.index()].queue.pop_front();
            if !self.is_queued(head) {
                continue;
            }
            self.queue_len -= 1;
            self.fns[f.index()].waiting -= 1;
            self.dispatch_warm(head.0, i);
            if let Some(created) = started_at {
                let now = self.now;
                let inv = &mut self.invs[head.0 as usize];
                let from = inv.arrival.max(created);
                inv.cold = true;
                inv.dispatched = from;
                inv.init = now - from;
            }
        }
    }

    /// Serves the head of the global queue while it can be served.
    pub(super) fn serve_global_queue(&mut self) -> Result<(), SimError> {
        if self.gpu_queued > 0 {
            // Model serving: memory or a GPU may have been freed for its queue.
            self.serve_gpu_queue()?;
        }
        while let Some(&head) = self.global_queue.front() {
            if !self.is_queued(head) {
                self.global_queue.pop_front();
                continue;
            }
            if !self.try_assign(head.0, true)? {
                break;
            }
            self.global_queue.pop_front();
            self.queue_len -= 1;
            let f = self.invs[head.0 as usize].function;
            self.fns[f.index()].waiting -= 1;
        }
        Ok(())
    }

    /// Puts instance `i` at the most recently used end of its function's available list
    /// (and, under load balancing, of its (function, worker) list).
    #[inline]
    pub(super) fn avail_push(&mut self, i: u32) {
        let f = self.instances[i as usize].function;
        list_push_back(
            &mut self.instances,
            &mut self.avail[f.index()],
            List::Avail,
            i,
        );
        if self.lb.is_some() {
            self.local_avail_push(i);
        }
    }

    /// Takes instance `i` off its available list(s).
    #[inline(always)]
    pub(super) fn avail_remove(&mut self, i: u32) {
        let f = self.instances[i as usize].function;
        list_remove(
            &mut self.instances,
            &mut self.avail[f.index()],
            List::Avail,
            i,
        );
        if self.lb.is_some() {
            self.local_avail_remove(i);
        }
    }

    /// The load-balancing half of [`Self::avail_push`], kept out of the cluster-wide path.
    #[inline(never)]
    fn local_avail_push(&mut self, i: u32) {
        let l = self.instances[i as usize].local_list as usize;
        let ends = &mut self.local_avail.lists[l];
        list_push_back(&mut self.instances, ends, List::LocalAvail, i);
    }

    #[inline(never)]
    fn local_avail_remove(&mut self, i: u32) {
        let l = self.instances[i as usize].local_list as usize;
        let ends = &mut self.local_avail.lists[l];
        list_remove(&mut self.instances, ends, List::LocalAvail, i);
    }

    pub(super) fn change_used(&mut self, w: WorkerId, delta: i64) {
        let shares = self.cpu_shares;
        let wk = &mut self.workers[w.index()];
        let old_free = wk.free_mb();
        let old_load = WorkerIndex::load_key(wk);
        let old_used = wk.used_mb;
        wk.used_mb = (wk.used_mb as i64 + delta) as u32;
        debug_assert!(wk.used_mb <= wk.memory_mb, "worker memory over capacity");
        if shares {
            // The instance reserves its vCPU share for its whole life.
            let units = cpu::share_units(delta.unsigned_abs() as u32);
            let used = if delta > 0 {
                wk.cpu_used + units
            } else {
                wk.cpu_used - units
            };
            debug_assert!(used <= wk.cpu_cap, "worker cores over capacity");
            wk.set_cpu(wk.cpu_cap, used);
        }
        self.index
            .update(w, old_free, old_load, old_used, &self.workers[w.index()]);
        self.used_mb = (self.used_mb as i64 + delta) as u64;
        self.metrics.on_memory_used(self.used_mb);
    }
}
