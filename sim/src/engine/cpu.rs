//! CPU sharing: execution counts per worker and egalitarian processor sharing (one pending
//! wakeup per worker, virtual time in femtoseconds), and AWS Lambda's CPU that follows
//! memory (`CpuModel::Proportional`). Under processor sharing an execution's end is not
//! known when it starts, so a timeout is a deadline in the worker's heap of deadlines: the
//! worker wakes at its next completion or its next live deadline, whichever comes first, and
//! a run without timeouts keeps that heap empty.
//!
//! **Proportional CPU.** An instance of a function of `m` MB gets a vCPU share of
//! `m / 1,769` (at most 6 vCPUs), reserved on its worker for its whole life: a worker of `c`
//! cores holds instances whose shares add up to at most `c`. Shares are counted in exact
//! integers as the memory they correspond to ("CPU units", 1,769 a vCPU; an instance
//! reserves `min(m, 10,614)`), so placement sees one room per worker, the least of its free
//! memory and its free cores in those units (`Worker::free_mb`). The room is exact for every
//! function up to 10,614 MB (AWS Lambda's maximum is 10,240 MB); above it placement asks for
//! more cores than the 6 reserved (conservative). An execution whose share is below 1 runs
//! at that fraction of the trace's speed when the trace's durations were measured at 1 vCPU
//! (`durations_at_one_vcpu`); a share above 1 does not speed it up (a trace's single
//! duration says nothing of how a function uses more than one vCPU). CPU utilisation counts
//! the shares of the instances executing.

use super::*;

/// Memory that buys one vCPU on AWS Lambda, MB: "At 1,769 MB, a function has the
/// equivalent of one vCPU (one vCPU-second of credits per second)" (AWS Lambda developer
/// guide, "Configure Lambda function memory", read 2026-11-30).
pub(super) const MB_PER_VCPU: u32 = 1_769;

/// The most vCPUs one instance gets (AWS News Blog, "New for AWS Lambda – Functions with Up
/// to 10 GB of Memory and 6 vCPUs", 2020-12-01).
pub(super) const MAX_VCPUS: u32 = 6;

/// The CPU units (MB of memory per vCPU) an instance of `mb` reserves: its share capped at
/// 6 vCPUs.
#[inline]
pub(super) fn share_units(mb: u32) -> u64 {
    mb.min(MB_PER_VCPU * MAX_VCPUS) as u64
}

/// `work` measured at 1 vCPU, run at the share of an instance of `mb`: stretched by
/// 1,769 / `mb` (rounded up to the microsecond) when the share is below 1, unchanged
/// otherwise.
#[inline]
pub(super) fn at_share(work: SimDuration, mb: u32) -> SimDuration {
    if mb >= MB_PER_VCPU {
        return work;
    }
    SimDuration((work.as_micros() as u128 * MB_PER_VCPU as u128).div_ceil(mb as u128) as u64)
}

impl Engine<'_> {
    /// Proportional CPU: an execution starts on instance `i`; its share is busy, and with
    /// durations measured at 1 vCPU its `work` runs at the share's speed.
    #[inline(never)]
    pub(super) fn share_started(&mut self, i: usize, work: SimDuration) -> SimDuration {
        let mb = self.instances[i].memory_mb;
        self.busy_cores += share_units(mb);
        match self.cfg.cpu {
            CpuModel::Proportional {
                durations_at_one_vcpu: true,
            } => at_share(work, mb),
            _ => work,
        }
    }

    /// Brings the worker's virtual time to now: each of n jobs on c cores advanced by
    /// dt * min(c, n) / n microseconds of work (kept in nanoseconds).
    pub(super) fn ps_advance(&mut self, w: WorkerId) {
        let now = self.now;
        let wk = &mut self.workers[w.index()];
        let n = wk.executing as u128;
        if n > 0 && now > wk.ps.last {
            let dt = (now - wk.ps.last).as_micros() as u128;
            // With no more jobs than cores each runs at full speed: min(c, n) / n = 1
            // exactly, and the 128-bit division is skipped.
            wk.ps.vtime_fs += if n <= wk.cores as u128 {
                dt * FS_PER_US
            } else {
                dt * FS_PER_US * wk.cores as u128 / n
            };
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
        let remaining = vf.saturating_sub(wk.ps.vtime_fs + PS_TOLERANCE_FS);
        let dt = match u64::try_from(remaining) {
            // Cores not saturated: remaining * n / (n * FS_PER_US) is remaining / FS_PER_US
            // exactly, in 64 bits when it fits (a division by a constant, no 128-bit call).
            Ok(r) if n <= wk.cores as u128 => r.div_ceil(FS_PER_US as u64),
            _ => (remaining * n).div_ceil(n.min(wk.cores as u128) * FS_PER_US) as u64,
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_memory_up_to_six_vcpus() {
        assert_eq!(share_units(128), 128);
        assert_eq!(share_units(10_240), 10_240);
        assert_eq!(share_units(20_000), 10_614);
        // 100 ms at 1 vCPU on 884.5 MB (half a vCPU, rounded to 885 MB): 100 x 1769 / 885
        // = 199.887... ms -> 199 888 us; 1769 MB and above: as measured.
        assert_eq!(at_share(SimDuration(100_000), 885), SimDuration(199_888));
        assert_eq!(at_share(SimDuration(100_000), 1_769), SimDuration(100_000));
        assert_eq!(at_share(SimDuration(100_000), 4_000), SimDuration(100_000));
    }
}
