//! Per-request load balancing (see [`LoadBalancer`]): the balancer picks a worker for every
//! request, and that worker serves it on its own, as an OpenWhisk invoker's container pool
//! does (`ContainerPool.scala`): a warm instance of the function on the worker, else a new
//! instance there if its free memory allows, else after evicting the worker's own idle
//! instances (in reclaim order: least recently used first unless the keep-alive policy
//! ranks victims), else the worker's FIFO queue. The queue is served head first whenever
//! the worker frees a slot or memory: an execution ends, an instance becomes ready or idle,
//! an idle instance expires, a queued request times out.

use super::*;

impl Engine<'_> {
    /// Asks the balancer for the worker of a request of `f` (`seq` = None for a pre-warm)
    /// and checks it exists.
    pub(super) fn balanced_worker(
        &mut self,
        f: FunctionId,
        seq: Option<u64>,
    ) -> Result<Option<WorkerId>, SimError> {
        let Some(mut lb) = self.lb.take() else {
            return Ok(None);
        };
        let r = RequestView {
            id: seq,
            function: f,
            name: &self.functions.get(f).name,
            memory_mb: self.fns[f.index()].memory_mb,
        };
        let w = lb.select(&r, &view!(self), &mut self.rng_lb);
        self.lb = Some(lb);
        if w.index() >= self.workers.len() {
            return Err(SimError::Policy(format!(
                "the load balancer chose worker {w}, but the cluster has {} workers",
                self.workers.len()
            )));
        }
        Ok(Some(w))
    }

    /// A new request under load balancing: to its worker, served there or queued there.
    pub(super) fn arrive_balanced(&mut self, slot: u32) -> Result<(), SimError> {
        let inv = self.invs[slot as usize];
        let w = self
            .balanced_worker(inv.function, Some(inv.seq))?
            .expect("called with a load balancer");
        let mb = self.fns[inv.function.index()].memory_mb;
        self.invs[slot as usize].worker = w.0;
        let wk = &mut self.workers[w.index()];
        wk.assigned += 1;
        wk.assigned_mb += mb as u64;
        let assigned = wk.assigned;
        self.index.assigned_changed(w, assigned);
        self.assigned_total += 1;
        // Requests already waiting on this worker keep their turn.
        if self.workers[w.index()].queued == 0 && self.assign_local(slot, w)? {
            return Ok(());
        }
        match self.cfg.on_full {
            OnFull::Drop => self.drop_invocation(slot, Outcome::DroppedFull),
            OnFull::Queue => {
                self.enqueue(slot);
                Ok(())
            }
        }
    }

    /// Serves the request on worker `w`: one of its warm instances (the routing policy
    /// chooses, seeing `w`'s instances only), else a new instance on `w`. False if `w` has
    /// neither a warm instance nor room after evicting its idle instances.
    fn assign_local(&mut self, slot: u32, w: WorkerId) -> Result<bool, SimError> {
        let inv = self.invs[slot as usize];
        let f = inv.function;
        let ends = self.local_avail.get(f, w);
        let route = self.route(inv, ends, Some(w));
        if let Route::Warm(i) = route {
            let ok = self.instances.get(i.index()).is_some_and(|x| {
                x.in_local && x.function == f && x.worker == w && x.state == InstState::Ready
            });
            if !ok {
                return Err(SimError::Policy(format!(
                    "routing chose {i}, which is not a warm instance of function {f} with a free slot on worker {w}"
                )));
            }
            self.dispatch_warm(slot, i.0);
            return Ok(true);
        }
        // The scaling rate: no token, no new execution environment.
        if self.admission && !self.has_scaling_token(f) {
            self.throttle(slot)?;
            return Ok(true);
        }
        let mb = self.fns[f.index()].memory_mb;
        if self.workers[w.index()].free_mb() < mb && !self.reclaim_local(w, mb) {
            return Ok(false);
        }
        if self.admission {
            self.take_scaling_token(f);
        }
        self.create_instance(f, w, Some(slot))?;
        Ok(true)
    }

    /// Evicts idle instances of worker `w`, in reclaim order, until `mb` is free there.
    /// False (evicting nothing) if even all of them would not make room.
    fn reclaim_local(&mut self, w: WorkerId, mb: u32) -> bool {
        let wk = &self.workers[w.index()];
        if wk.free_mb() + wk.idle_mb < mb {
            return false;
        }
        let head = wk.idle_list.head;
        let ranked = head != NIL && {
            let v = instance_view(&self.instances, InstanceId(head));
            self.keep_alive.victim_priority(&v, self.now).is_some()
        };
        if ranked {
            let order = self.rank_idle(head, true);
            for &(_, i) in &order {
                if self.workers[w.index()].free_mb() >= mb {
                    break;
                }
                self.evict(i, EvictReason::Reclaimed);
            }
            self.ranked = order;
        } else {
            let mut cur = head;
            while self.workers[w.index()].free_mb() < mb && cur != NIL {
                let next = self.instances[cur as usize].widle_next;
                if !self.instances[cur as usize].provisioned {
                    self.evict(cur, EvictReason::Reclaimed);
                }
                cur = next;
            }
        }
        // Exact for memory; with vCPU shares above 6 vCPUs' memory, possibly short.
        self.workers[w.index()].free_mb() >= mb
    }

    /// Serves worker `w`'s queue from its head while the head can be served there.
    pub(super) fn serve_worker_queue(&mut self, w: WorkerId) -> Result<(), SimError> {
        while let Some(&head) = self.workers[w.index()].queue.front() {
            if !self.is_queued(head) {
                self.workers[w.index()].queue.pop_front();
                continue;
            }
            if !self.assign_local(head.0, w)? {
                break;
            }
            let wk = &mut self.workers[w.index()];
            wk.queue.pop_front();
            wk.queued -= 1;
            self.queue_len -= 1;
            let f = self.invs[head.0 as usize].function;
            self.fns[f.index()].waiting -= 1;
        }
        Ok(())
    }
}
