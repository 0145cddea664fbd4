//! CPU sharing: execution counts per worker and egalitarian processor sharing (one pending
//! wakeup per worker, virtual time in femtoseconds).

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
        let t = now + SimDuration(dt);
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
        self.ps_reschedule(w);
        result
    }
}
