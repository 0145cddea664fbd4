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
use crate::cluster::ProcShare;

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

/// Femtoseconds of work from `from` to `to` (0 if `to` is not later).
#[inline]
fn ps_left(to: PsWork, from: PsWork) -> u128 {
    let fs = |x: PsWork| x.us as u128 * FS_PER_US + x.fs as u128;
    fs(to).saturating_sub(fs(from))
}

/// Whether a job ending at `end` is done at virtual time `vtime`: within
/// [`PS_TOLERANCE_FS`] of it (in 64 bits: only the microseconds just before decide).
#[inline]
fn ps_done(end: PsWork, vtime: PsWork) -> bool {
    match end.us.checked_sub(vtime.us) {
        None => true,
        Some(0) => end.fs as u64 <= vtime.fs as u64 + PS_TOLERANCE_FS as u64,
        Some(1) => end.fs as u64 + FS_PER_US as u64 <= vtime.fs as u64 + PS_TOLERANCE_FS as u64,
        Some(_) => false,
    }
}

/// Adds to `vtime` what each of `n` jobs on `cores` does in `dt` microseconds:
/// dt * min(c, n) / n microseconds of work, rounded down to the femtosecond.
#[inline]
fn ps_add(vtime: &mut PsWork, dt: u64, n: u32, cores: u32) {
    if n <= cores {
        // No more jobs than cores: each runs at full speed.
        vtime.us += dt;
    } else {
        let fs = vtime.fs as u128 + dt as u128 * FS_PER_US * cores as u128 / n as u128;
        vtime.us += (fs / FS_PER_US) as u64;
        vtime.fs = (fs % FS_PER_US) as u32;
    }
}

/// Brings the worker's virtual time to `now`: each of n jobs on c cores advanced by
/// dt * min(c, n) / n microseconds of work (rounded down to the femtosecond).
#[inline]
fn ps_advance_to(wk: &mut Worker, now: SimTime) {
    let n = wk.executing;
    if n > 0 && now > wk.ps.last {
        let dt = (now - wk.ps.last).as_micros();
        ps_add(&mut wk.ps.vtime, dt, n, wk.cores);
    }
    wk.ps.last = now;
}

/// The key of the worker's first job if it is done at the worker's virtual time.
#[inline]
fn ps_first_due(ps: &ProcShare) -> Option<u128> {
    ps.jobs
        .peek()
        .filter(|j| ps_done(ps_key_end(j.0), ps.vtime))
        .map(|j| j.0)
}

/// Microseconds until a job ending at `end` is done (within [`PS_TOLERANCE_FS`]) from
/// virtual time `vtime`, with `n` jobs sharing `cores` from now on: the work left, less the
/// tolerance, rounded up to the microsecond, times n / min(n, c).
#[inline]
fn ps_due(end: PsWork, vtime: PsWork, n: u32, cores: u32) -> u64 {
    if n <= cores {
        // At full speed, ceil((whole microseconds * 10^9 + b) / 10^9) with b, the
        // femtoseconds' difference less the tolerance, in (-2 * 10^9, 10^9): the whole
        // microseconds plus -1, 0 or 1, in 64 bits.
        let b = end.fs as i64 - vtime.fs as i64 - PS_TOLERANCE_FS as i64;
        let up = if b > 0 {
            1
        } else if b <= -(FS_PER_US as i64) {
            -1
        } else {
            0
        };
        return match end.us.checked_sub(vtime.us) {
            Some(whole) => (whole as i64 + up).max(0) as u64,
            None => 0,
        };
    }
    let remaining = ps_left(end, vtime).saturating_sub(PS_TOLERANCE_FS);
    let n = n as u128;
    (remaining * n).div_ceil(cores as u128 * FS_PER_US) as u64
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

    /// Brings worker `w`'s virtual time to now ([`ps_advance_to`]).
    pub(super) fn ps_advance(&mut self, w: WorkerId) {
        ps_advance_to(&mut self.workers[w.index()], self.now);
    }

    /// A job of `work` has just joined worker `w` (virtual time brought to now): the same
    /// wakeup as [`Self::ps_reschedule`], found without looking at the other jobs. While a
    /// wakeup is pending at `p`, no other job's next completion comes before `p` (a
    /// completion reschedules, and a job joining only slows the others), so only the new
    /// job's end can bring it forward, and when it does the new job is the first to end.
    pub(super) fn ps_started(&mut self, w: WorkerId, work: SimDuration) {
        let now = self.now;
        let wk = &mut self.workers[w.index()];
        let Some(p) = wk.ps.pending else {
            return self.ps_reschedule(w);
        };
        if !wk.ps.deadlines.is_empty() {
            return self.ps_reschedule(w);
        }
        let t = if wk.executing <= wk.cores {
            // At full speed the job ends after exactly its work.
            now + work
        } else {
            let end = PsWork {
                us: wk.ps.vtime.us + work.as_micros(),
                fs: wk.ps.vtime.fs,
            };
            now + SimDuration(ps_due(end, wk.ps.vtime, wk.executing, wk.cores))
        };
        if t < p {
            wk.ps.pending = Some(t);
            self.events
                .push(t, EventClass::Completion, Event::WorkerCpu { worker: w.0 });
        }
    }

    /// Keeps one pending event for the worker's next completion; a change that leaves that
    /// instant unchanged pushes nothing.
    // Inlined: once per wakeup, and a call's saved registers cost as much as its body.
    #[inline(always)]
    pub(super) fn ps_reschedule(&mut self, w: WorkerId) {
        let now = self.now;
        let wk = &mut self.workers[w.index()];
        let Some(top) = wk.ps.jobs.peek() else {
            return;
        };
        let end = ps_key_end(top.0);
        let mut t = now + SimDuration(ps_due(end, wk.ps.vtime, wk.executing, wk.cores));
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
        let wk = &mut self.workers[w.index()];
        if wk.ps.pending != Some(self.now) {
            return Ok(());
        }
        wk.ps.pending = None;
        ps_advance_to(wk, self.now);
        // A wakeup scheduled for a job's finish finds its virtual time reached: the
        // schedule rounds up to the next microsecond. An early wakeup (the load grew
        // since) finds nothing due and reschedules.
        let ps = &mut wk.ps;
        let mut result = match ps_first_due(ps) {
            None => Ok(()),
            Some(first) => {
                ps.jobs.pop();
                if ps_first_due(ps).is_none() {
                    // The usual wakeup: one job ends.
                    self.exec_count(w, -1);
                    self.execution_ended(ps_key_slot(first))
                } else {
                    self.end_due_jobs(w, first)
                }
            }
        };
        if result.is_ok() && !self.workers[w.index()].ps.deadlines.is_empty() {
            result = self.cut_at_deadlines(w);
        }
        self.ps_reschedule(w);
        result
    }

    /// Several jobs due at one wakeup, `first` already out of the heap: all leave the
    /// worker, then each ends, in (virtual finish, sequence) order.
    #[inline(never)]
    fn end_due_jobs(&mut self, w: WorkerId, first: u128) -> Result<(), SimError> {
        let ps = &mut self.workers[w.index()].ps;
        let mut due = vec![first];
        while let Some(&std::cmp::Reverse(key)) = ps.jobs.peek() {
            if !ps_done(ps_key_end(key), ps.vtime) {
                break;
            }
            ps.jobs.pop();
            due.push(key);
        }
        // The heap orders jobs that finish together by slot: by sequence here.
        let mut done: Vec<(PsWork, u64, u32)> = due
            .iter()
            .map(|&k| {
                let slot = ps_key_slot(k);
                (ps_key_end(k), self.invs[slot as usize].seq, slot)
            })
            .collect();
        done.sort_unstable();
        for _ in 0..done.len() {
            self.exec_count(w, -1);
        }
        for &(_, _, slot) in &done {
            self.execution_ended(slot)?;
        }
        Ok(())
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
                && ps.jobs.iter().any(|j| ps_key_slot(j.0) == slot)
            {
                cut.push(slot);
            }
        }
        if !cut.is_empty() {
            ps.jobs.retain(|j| !cut.contains(&ps_key_slot(j.0)));
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
    use proptest::prelude::*;

    /// Virtual times as one count of femtoseconds, as they were kept before the split.
    fn fs(x: PsWork) -> u128 {
        x.us as u128 * FS_PER_US + x.fs as u128
    }

    /// The next wakeup from the count of femtoseconds, in one formula for every case.
    fn due_by_fs(end: PsWork, vtime: PsWork, n: u32, cores: u32) -> u64 {
        let remaining = fs(end).saturating_sub(fs(vtime) + PS_TOLERANCE_FS);
        let n = n as u128;
        (remaining * n).div_ceil(n.min(cores as u128) * FS_PER_US) as u64
    }

    /// Virtual times near each other (where the rounding and the tolerance decide) and far
    /// apart, up to the time limit.
    fn work() -> impl Strategy<Value = PsWork> {
        let us = prop_oneof![0..4u64, 0..TIME_LIMIT.as_micros()];
        let fs = prop_oneof![
            Just(0u32),
            Just(999_999_999),
            0..2_000_000u32,
            999_000_000..1_000_000_000u32,
            0..1_000_000_000u32,
        ];
        (us, fs).prop_map(|(us, fs)| PsWork { us, fs })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// The split arithmetic gives what one count of femtoseconds gives: the same jobs
        /// done, the same wakeup instants, the same virtual time after an advance.
        #[test]
        fn split_work_matches_femtoseconds(
            end in work(),
            near in (0..3u64, 0..1_000_000_000u32),
            far in work(),
            n in 1..70u32,
            cores in 1..40u32,
            dt in prop_oneof![0..5u64, 0..1_000_000_000u64],
        ) {
            // A virtual time within about a microsecond of the job's end, and one anywhere.
            let close = PsWork { us: end.us.saturating_sub(near.0), fs: near.1 };
            for vtime in [close, far] {
                prop_assert_eq!(ps_done(end, vtime), fs(end) <= fs(vtime) + PS_TOLERANCE_FS);
                prop_assert_eq!(ps_due(end, vtime, n, cores), due_by_fs(end, vtime, n, cores));
            }
            // An advance of `dt` microseconds with n jobs on the cores.
            let mut e = PsWork { us: end.us.min(TIME_LIMIT.as_micros()), fs: end.fs };
            let before = fs(e);
            let inc = if n <= cores {
                dt as u128 * FS_PER_US
            } else {
                dt as u128 * FS_PER_US * cores as u128 / n as u128
            };
            ps_add(&mut e, dt, n, cores);
            prop_assert_eq!(fs(e), before + inc);
            prop_assert!(e.fs < FS_PER_US as u32);
        }

        /// A job's heap key keeps its finish and slot, and orders jobs by finish, then slot.
        #[test]
        fn job_keys_order_by_finish_then_slot(a in work(), b in work(), sa: u32, sb: u32) {
            let (ka, kb) = (ps_key(a, sa), ps_key(b, sb));
            prop_assert_eq!((ps_key_end(ka), ps_key_slot(ka)), (a, sa));
            prop_assert_eq!(ka.cmp(&kb), (fs(a), sa).cmp(&(fs(b), sb)));
        }
    }

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
