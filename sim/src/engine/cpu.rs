//! CPU sharing: execution counts per worker and egalitarian processor sharing (one pending
//! wakeup per worker, virtual time in femtoseconds). Under processor sharing an execution's
//! end is not known when it starts, so a timeout is a deadline in the worker's heap of
//! deadlines: the worker wakes at its next completion or its next live deadline, whichever
//! comes first, and a run without timeouts keeps that heap empty.

use super::*;

impl Engine<'_> {
    /// Brings the worker's virtual time to now: each of n jobs on c cores advanced by
    /// dt * min(c, n) / n microseconds of work (kept in nanoseconds).
    pub(super) fn ps_advance(&mut self, w: WorkerId) {
        let now = self.now;
        let wk = &mut self.workers[w.index()];
        let n = wk.executing as u128;
        if n > 0 && now > wk.ps.last {
            let dt = (now - wk.ps.last).as_micros() as u128;
            wk.ps.vtime_fs += dt * FS_PER_US * n.min(wk.cores as u128) / n;
        }
        wk.ps.last = now;
    }

    /// Keeps one pending event for the worker's next completion; a change that leaves that
    /// instant unchanged pushes nothing.
    pub(super) fn ps_reschedule(&mut self, w: WorkerId) {
        let now = self.now;
        let wk = &mut self.workers[w.index()];
        let Some(&std::cmp::Reverse((vf, _, _))) = wk.ps.jobs.peek() else {
            return;
        };
        let n = wk.executing as u128;
        let rate = n.min(wk.cores as u128) * FS_PER_US;
        let remaining = vf.saturating_sub(wk.ps.vtime_fs + PS_TOLERANCE_FS);
        let dt = (remaining * n).div_ceil(rate) as u64;
        let mut t = now + SimDuration(dt);
        // The earliest deadline of an execution still running (`retry.rs` cuts it there).
        while let Some(&std::cmp::Reverse((d, slot, gen))) = wk.ps.deadlines.peek() {
            let inv = &self.invs[slot as usize];
            if inv.gen == gen && inv.state == InvState::Running {
                t = t.min(SimTime(d));
                break;
            }
            wk.ps.deadlines.pop();
        }
        // A wakeup already due at or before `t` re-checks then: a load increase (which
        // only delays completions) pushes nothing.
        if wk.ps.pending.is_some_and(|p| p <= t) {
            return;
        }
        wk.ps.pending = Some(t);
        self.events
            .push(t, EventClass::Completion, Event::WorkerCpu { worker: w.0 });
    }

    /// A worker's wakeup: completes the jobs whose work is done. Only the worker's earliest
    /// pending wakeup counts; others in the heap are stale and ignored.
    pub(super) fn on_worker_cpu(&mut self, worker: u32) -> Result<(), SimError> {
        let w = WorkerId(worker);
        if self.workers[w.index()].ps.pending != Some(self.now) {
            return Ok(());
        }
        self.workers[w.index()].ps.pending = None;
        self.ps_advance(w);
        let mut done = std::mem::take(&mut self.scratch);
        done.clear();
        {
            // A wakeup scheduled for a job's finish finds its virtual time reached: the
            // schedule rounds up to the next microsecond. An early wakeup (the load grew
            // since) finds nothing due and reschedules.
            let ps = &mut self.workers[w.index()].ps;
            while let Some(&std::cmp::Reverse((vf, _, slot))) = ps.jobs.peek() {
                if vf > ps.vtime_fs + PS_TOLERANCE_FS {
                    break;
                }
                ps.jobs.pop();
                done.push(slot);
            }
        }
        for _ in 0..done.len() {
            self.exec_count(w, -1);
        }
        let mut result = Ok(());
        for &slot in &done {
            result = self.execution_ended(slot);
            if result.is_err() {
                break;
            }
        }
        self.scratch = done;
        if result.is_ok() && !self.workers[w.index()].ps.deadlines.is_empty() {
            result = self.cut_at_deadlines(w);
        }
        self.ps_reschedule(w);
        result
    }

    /// Kills the executions on worker `w` whose deadline has come (after the completions at
    /// the same instant: an execution that ends exactly at its timeout completes).
    fn cut_at_deadlines(&mut self, w: WorkerId) -> Result<(), SimError> {
        let now = self.now.as_micros();
        let mut cut = std::mem::take(&mut self.scratch);
        cut.clear();
        let ps = &mut self.workers[w.index()].ps;
        while let Some(&std::cmp::Reverse((d, slot, gen))) = ps.deadlines.peek() {
            if d > now {
                break;
            }
            ps.deadlines.pop();
            let inv = &self.invs[slot as usize];
            // Still running its work: an execution an extension holds open after its work
            // (a synchronous call waiting for another) is not cut.
            if inv.gen == gen
                && inv.state == InvState::Running
                && ps.jobs.iter().any(|j| j.0 .2 == slot)
            {
                cut.push(slot);
            }
        }
        if !cut.is_empty() {
            ps.jobs.retain(|j| !cut.contains(&j.0 .2));
        }
        let mut result = Ok(());
        for &slot in &cut {
            self.exec_count(w, -1);
            self.invs[slot as usize].cut = true;
            result = self.execution_ended(slot);
            if result.is_err() {
                break;
            }
        }
        self.scratch = cut;
        result
    }
}
