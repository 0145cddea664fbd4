//! Worker failures ([`Faults`](crate::Faults)): planned outages and a failure process.
//!
//! A failing worker loses everything on it, in one instant: the attempts running or waiting
//! for a cold start there fail (a synchronous invocation ends `failed`, billed for what it
//! ran; an asynchronous one is retried as after a platform error), then its instances are
//! lost (their memory freed, idle or not, provisioned or not). While it is down it shows no
//! free memory and nothing to reclaim, so placement skips it; a per-request load balancer
//! may still send requests there, which wait in its queue (or are dropped with
//! `on_full = "drop"`) until the repair. A failure of a worker already down extends the
//! outage. The failure process draws each worker's time to failure from the `faults` stream
//! (exponential, mean `worker_mtbf_s`, from the start and from each repair); its outages last
//! `repair_s`. Failure events come after the completions at their instant and before
//! instances become ready.

use super::*;
use rand_distr::{Distribution, Exp};

/// Which workers are down, and the failure process's stream.
#[derive(Debug)]
pub(super) struct FaultState {
    /// When each worker's outage ends (`None`: up).
    down_until: Vec<Option<SimTime>>,
    /// Bumped by every outage (and its extensions): an older repair event is stale.
    gen: Vec<u32>,
    /// Whether each worker has a failure of the process pending.
    process_pending: Vec<bool>,
    rng: SimRng,
}

impl FaultState {
    pub(super) fn new(seed: u64, workers: usize) -> Self {
        FaultState {
            down_until: vec![None; workers],
            gen: vec![0; workers],
            process_pending: vec![false; workers],
            rng: SimRng::stream(seed, streams::FAULTS),
        }
    }
}

/// `u32::MAX` as an outage index: a failure of the process.
const PROCESS: u32 = u32::MAX;

impl Engine<'_> {
    /// At the start of the run: the planned outages, and each worker's first failure.
    pub(super) fn schedule_faults(&mut self) {
        for (k, o) in self.cfg.provider.faults.schedule.iter().enumerate() {
            self.events.push(
                o.at,
                EventClass::Fault,
                Event::WorkerDown {
                    worker: o.worker,
                    outage: k as u32,
                },
            );
        }
        for w in 0..self.workers.len() {
            self.schedule_process_failure(w as u32);
        }
    }

    fn schedule_process_failure(&mut self, w: u32) {
        let Some(mtbf) = self.cfg.provider.faults.mtbf else {
            return;
        };
        let st = self.faults.as_mut().expect("faults on");
        let rate = 1.0 / mtbf.as_micros() as f64;
        let up = Exp::new(rate).map_or(0.0, |d| d.sample(&mut st.rng));
        let up = SimDuration(up.min(TIME_LIMIT.as_micros() as f64) as u64);
        st.process_pending[w as usize] = true;
        self.events.push(
            self.now + up,
            EventClass::Fault,
            Event::WorkerDown {
                worker: w,
                outage: PROCESS,
            },
        );
    }

    #[inline(never)]
    pub(super) fn on_worker_down(&mut self, worker: u32, outage: u32) -> Result<(), SimError> {
        let down = match outage {
            PROCESS => {
                self.faults.as_mut().expect("faults on").process_pending[worker as usize] = false;
                self.cfg.provider.faults.repair
            }
            k => self.cfg.provider.faults.schedule[k as usize].down,
        };
        let now = self.now;
        let st = self.faults.as_mut().expect("faults on");
        let w = worker as usize;
        let until = now + down;
        let was_down = st.down_until[w];
        st.down_until[w] = Some(was_down.map_or(until, |u| u.max(until)));
        st.gen[w] = st.gen[w].wrapping_add(1);
        let (until, gen) = (st.down_until[w].expect("set"), st.gen[w]);
        self.events
            .push(until, EventClass::Fault, Event::WorkerUp { worker, gen });
        if was_down.is_some() {
            return Ok(());
        }
        self.lose_worker(WorkerId(worker))?;
        // Down: no free memory to place on, nothing to reclaim.
        let wk = &mut self.workers[w];
        let (old_free, old_load) = (wk.free_mb(), WorkerIndex::load_key(wk));
        wk.used_mb = wk.memory_mb;
        self.index
            .update_capacity(WorkerId(worker), old_free, old_load, &self.workers[w]);
        Ok(())
    }

    #[inline(never)]
    pub(super) fn on_worker_up(&mut self, worker: u32, gen: u32) -> Result<(), SimError> {
        let st = self.faults.as_mut().expect("faults on");
        let w = worker as usize;
        if st.gen[w] != gen || st.down_until[w].is_none() {
            return Ok(());
        }
        st.down_until[w] = None;
        let pending = st.process_pending[w];
        let wk = &mut self.workers[w];
        let (old_free, old_load) = (wk.free_mb(), WorkerIndex::load_key(wk));
        wk.used_mb = 0;
        self.index
            .update_capacity(WorkerId(worker), old_free, old_load, &self.workers[w]);
        if !pending {
            self.schedule_process_failure(worker);
        }
        // Room again: what waits may fit now.
        if self.lb.is_some() {
            self.serve_worker_queue(WorkerId(worker))
        } else if self.queue_len > 0 && self.autoscaler.is_none() {
            self.serve_global_queue()
        } else {
            Ok(())
        }
    }

    /// The attempts on worker `w` fail, in arrival order, then its instances are lost.
    fn lose_worker(&mut self, w: WorkerId) -> Result<(), SimError> {
        let mut hit: Vec<(u64, u32)> = self
            .invs
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                matches!(i.state, InvState::Running | InvState::Starting)
                    && self.instances[i.instance as usize].worker == w
            })
            .map(|(s, i)| (i.seq, s as u32))
            .collect();
        hit.sort_unstable();
        if self.cfg.cpu == CpuModel::ProcessorSharing {
            self.ps_advance(w);
            let ps = &mut self.workers[w.index()].ps;
            ps.jobs.clear();
            ps.deadlines.clear();
        }
        let mut result = Ok(());
        for &(_, slot) in &hit {
            let inv = self.invs[slot as usize];
            let charge = if inv.state == InvState::Running {
                self.exec_count(w, -1);
                if self.cpu_shares {
                    let mb = self.instances[inv.instance as usize].memory_mb;
                    self.busy_cores -= cpu::share_units(mb);
                }
                self.attempt_charge(slot)
            } else {
                Default::default()
            };
            let r = if inv.asynchronous {
                self.retry_after_platform_error(slot, charge)
            } else {
                self.not_completed(slot, Outcome::Failed, true, charge)
            };
            if r.is_err() && result.is_ok() {
                result = r;
            }
        }
        let lost: Vec<u32> = (0..self.instances.len() as u32)
            .filter(|&i| {
                let inst = &self.instances[i as usize];
                inst.state != InstState::Free && inst.worker == w
            })
            .collect();
        for i in lost {
            self.lose_instance(i);
        }
        result
    }

    /// Instance `i` is gone with its worker, whatever it was doing (its attempts have ended).
    fn lose_instance(&mut self, i: u32) {
        let inst = &self.instances[i as usize];
        let (f, state, active) = (inst.function, inst.state, inst.active);
        match state {
            InstState::Starting => {
                self.starting_instances -= 1;
                self.fns[f.index()].starting -= 1;
            }
            InstState::Ready if active > 0 => self.busy_instances -= 1,
            _ => {}
        }
        if self.instances[i as usize].in_idle {
            self.leave_idle(i);
        }
        // A ready instance was a template to fork from on its worker.
        if state == InstState::Ready && self.starts.any() {
            self.start_evicted(i);
        }
        self.free_instance(i, EvictReason::Lost);
    }
}
