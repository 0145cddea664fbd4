//! The start path: how a new instance becomes ready. [`Engine::plan_start`] returns a start
//! plan for an instance of a function on a worker: its type (boot, restore, fork), how long
//! it takes, and what it loads from where; `create_instance` applies it. A fork needs a
//! ready instance of the function on the same worker (the template); a restore needs the
//! function's snapshot in the store; otherwise the instance boots, with the cold start of
//! the scenario (or the trace's). Forks are preferred to restores: they read nothing.
//!
//! **The snapshot store** holds at most one snapshot per function, sized `snapshot_mb`
//! (the function's memory by default), up to `capacity_mb`. It keeps them in least
//! recently used order (a snapshot is used when it is taken and at every restore): a new
//! snapshot that does not fit evicts the least recently used ones until it does, and one
//! larger than the whole store is not kept. A snapshot is taken when a booted instance of
//! a function without one becomes ready (with `create = "deploy"`, also when the function
//! registers), so an evicted snapshot comes back at the function's next boot. Taking it
//! costs no time on the request path (the provider snapshots a copy off the critical path).
//!
//! **Billing** (with `billed` and a model that prices snapshots, [`SnapshotPrices`]): each
//! restore is charged for the function's memory at the restore price; each span a snapshot
//! is kept, from its creation to its eviction or the end of the run, is charged at the
//! cache price, and at the end of the run a function whose spans add up to less than the
//! model's minimum (SnapStart's 3 hours) is charged the rest: the minimum is per function,
//! as AWS bills it per published version, not per span of a store that evicts and takes
//! snapshots again. A restore's or a fork's latency is never billed as INIT time: AWS does
//! not charge the time to restore a snapshot (the "Billed Restore Duration" of runtime hooks
//! run after it is not modelled).
//!
//! **Cost.** None of this state is touched unless the scenario turns a start type on: the
//! plain path pays one predictable branch per instance creation and readiness.
//!
//! [`SnapshotPrices`]: crate::billing::SnapshotPrices

use super::*;
use crate::start::{slowdown_milli, ForkPlacement, FunctionSnapshot, SnapshotCreate, StartKind};

/// A start plan: what a new instance's start is and costs.
#[derive(Debug, Clone, Copy)]
pub(super) struct StartPlan {
    /// Boot, restore or fork.
    pub kind: StartKind,
    /// From creation until the instance is ready.
    pub duration: SimDuration,
    /// Work multiplier of its first execution, thousandths (0: none).
    pub first_exec_milli: u32,
    /// Snapshot read from the cluster's snapshot store, MB (restores; 0 otherwise).
    pub snapshot_mb: u32,
}

/// A function's restore time: a sampler, or the bandwidth model's constant for its size.
#[derive(Debug, Clone, Copy)]
enum RestoreTime {
    Sampler(usize),
    Fixed(SimDuration),
}

/// A function's snapshot settings, resolved when it registers.
#[derive(Debug, Clone, Copy)]
struct SnapFn {
    enabled: bool,
    size_mb: u32,
    restore: RestoreTime,
    /// 0 when there is no slowdown.
    slowdown_milli: u32,
}

/// One function's place in the snapshot store.
#[derive(Debug, Clone, Copy)]
struct StoreEntry {
    present: bool,
    size_mb: u32,
    /// When the snapshot was taken (its cache span starts).
    since: SimTime,
    prev: u32,
    next: u32,
}

const VACANT: StoreEntry = StoreEntry {
    present: false,
    size_mb: 0,
    since: SimTime::ZERO,
    prev: NIL,
    next: NIL,
};

/// The snapshot store: at most one snapshot per function, least recently used first.
#[derive(Debug)]
pub(super) struct SnapshotStore {
    capacity_mb: u64,
    used_mb: u64,
    entries: Vec<StoreEntry>,
    /// Least and most recently used.
    head: u32,
    tail: u32,
}

impl SnapshotStore {
    fn new(capacity_mb: Option<u64>) -> Self {
        SnapshotStore {
            capacity_mb: capacity_mb.unwrap_or(u64::MAX),
            used_mb: 0,
            entries: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    fn contains(&self, f: u32) -> bool {
        self.entries.get(f as usize).is_some_and(|e| e.present)
    }

    fn unlink(&mut self, f: u32) {
        let StoreEntry { prev, next, .. } = self.entries[f as usize];
        match prev {
            NIL => self.head = next,
            p => self.entries[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.entries[n as usize].prev = prev,
        }
    }

    fn push_back(&mut self, f: u32) {
        let e = &mut self.entries[f as usize];
        e.prev = self.tail;
        e.next = NIL;
        match self.tail {
            NIL => self.head = f,
            t => self.entries[t as usize].next = f,
        }
        self.tail = f;
    }

    /// Marks `f`'s snapshot most recently used.
    fn touch(&mut self, f: u32) {
        if self.tail != f {
            self.unlink(f);
            self.push_back(f);
        }
    }

    /// Takes `f`'s snapshot of `size_mb` at `now`, evicting the least recently used ones
    /// until it fits; each evicted (function, kept since) goes to `evicted`. False (and
    /// nothing evicted) if it is larger than the whole store.
    fn insert(
        &mut self,
        f: u32,
        size_mb: u32,
        now: SimTime,
        evicted: &mut Vec<(u32, SimTime)>,
    ) -> bool {
        debug_assert!(!self.contains(f));
        if size_mb as u64 > self.capacity_mb {
            return false;
        }
        while self.used_mb + size_mb as u64 > self.capacity_mb {
            let victim = self.head;
            let e = self.entries[victim as usize];
            self.unlink(victim);
            self.entries[victim as usize] = VACANT;
            self.used_mb -= e.size_mb as u64;
            evicted.push((victim, e.since));
        }
        if self.entries.len() <= f as usize {
            self.entries.resize(f as usize + 1, VACANT);
        }
        self.entries[f as usize] = StoreEntry {
            present: true,
            size_mb,
            since: now,
            ..VACANT
        };
        self.push_back(f);
        self.used_mb += size_mb as u64;
        true
    }

    /// Every snapshot still kept, as (function, kept since), by function id.
    fn kept(&self) -> impl Iterator<Item = (u32, SimTime)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.present)
            .map(|(f, e)| (f as u32, e.since))
    }
}

/// The start types' state: off (and untouched) unless the scenario turns them on.
pub(super) struct Starts {
    /// Whether any function may restore.
    snapshots: bool,
    /// Whether instances fork.
    fork: bool,
    prefer_fork: bool,
    create: SnapshotCreate,
    billed: bool,
    /// Per function, when `snapshots`.
    fns: Vec<SnapFn>,
    /// Restore samplers: the platform's (if a distribution), `"*"`'s, the named entries'.
    samplers: Vec<Sampler>,
    platform_sampler: Option<usize>,
    all_sampler: Option<usize>,
    named_samplers: Vec<Option<usize>>,
    store: SnapshotStore,
    rng_restore: SimRng,
    fork_sampler: Sampler,
    rng_fork: SimRng,
    /// Per function: the workers holding a ready instance of it, with their count, by id.
    parents: Vec<Vec<(u32, u32)>>,
    /// Per function (with snapshots): its snapshots' billed cache time so far, ms, and
    /// whether it ever had one.
    cache_billed_ms: Vec<(u64, bool)>,
    scratch: Vec<(u32, SimTime)>,
}

impl Starts {
    /// Checks the configuration and prepares the samplers.
    pub(super) fn new(cfg: &EngineConfig) -> Result<Self, SimError> {
        let bad = |what: &str, e: String| SimError::Config(format!("{what}: {e}"));
        cfg.snapshot
            .validate()
            .map_err(|e| bad("platform.snapshot", e))?;
        cfg.fork.validate().map_err(|e| bad("platform.fork", e))?;
        let entry_enables =
            |o: &crate::functions::FunctionOverrides| o.snapshot.as_ref().and_then(|s| s.enabled);
        let snapshots = cfg.snapshot.enabled
            || entry_enables(&cfg.functions.all) == Some(true)
            || cfg
                .functions
                .named
                .iter()
                .any(|(_, o)| entry_enables(o) == Some(true));
        let mut samplers = Vec::new();
        let mut add = |spec: Option<&crate::start::RestoreSpec>,
                       what: &str|
         -> Result<Option<usize>, SimError> {
            match spec.and_then(|s| s.to_dist()) {
                Some(d) => {
                    samplers.push(Sampler::new(&d).map_err(|e| bad(what, e))?);
                    Ok(Some(samplers.len() - 1))
                }
                None => Ok(None),
            }
        };
        let restore_of = |o: &crate::functions::FunctionOverrides| {
            o.snapshot.as_ref().and_then(|s| s.restore_ms.clone())
        };
        let platform_sampler = add(
            Some(&cfg.snapshot.restore_ms),
            "platform.snapshot.restore_ms",
        )?;
        let all_sampler = add(
            restore_of(&cfg.functions.all).as_ref(),
            "functions.\"*\".snapshot.restore_ms",
        )?;
        let mut named_samplers = Vec::with_capacity(cfg.functions.named.len());
        for (name, o) in &cfg.functions.named {
            named_samplers.push(add(
                restore_of(o).as_ref(),
                &format!("functions.\"{name}\".snapshot.restore_ms"),
            )?);
        }
        let fork_dist = cfg.fork.fork_ms.to_dist().ok_or_else(|| {
            bad(
                "platform.fork",
                "fork_ms must be a number or a distribution".into(),
            )
        })?;
        Ok(Starts {
            snapshots,
            fork: cfg.fork.enabled,
            prefer_fork: cfg.fork.placement == ForkPlacement::PreferFork,
            create: cfg.snapshot.create,
            billed: cfg.snapshot.billed,
            fns: Vec::new(),
            samplers,
            platform_sampler,
            all_sampler,
            named_samplers,
            store: SnapshotStore::new(cfg.snapshot.capacity_mb),
            rng_restore: SimRng::stream(cfg.seed, streams::RESTORES),
            fork_sampler: Sampler::new(&fork_dist).map_err(|e| bad("platform.fork.fork_ms", e))?,
            rng_fork: SimRng::stream(cfg.seed, streams::FORKS),
            parents: Vec::new(),
            cache_billed_ms: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// Whether a start type other than a boot is on.
    #[inline]
    pub(super) fn any(&self) -> bool {
        self.snapshots || self.fork
    }
}

impl Engine<'_> {
    /// Resolves a newly registered function's start settings (and, with `create =
    /// "deploy"`, takes its snapshot).
    pub(super) fn start_register(&mut self, f: FunctionId) -> Result<(), SimError> {
        if self.starts.fork {
            self.starts.parents.push(Vec::new());
        }
        if !self.starts.snapshots {
            return Ok(());
        }
        let name = &self.functions.get(f).name;
        let (entry, merged) = self.cfg.functions.resolve(name);
        let own = merged.snapshot.unwrap_or_default();
        let platform = &self.cfg.snapshot;
        let enabled = own.enabled.unwrap_or(platform.enabled) && !self.fns[f.index()].claimed;
        let size_mb = own.snapshot_mb.unwrap_or(self.fns[f.index()].memory_mb);
        // The most specific restore time: the function's entry, `"*"`, the platform's.
        let named_spec = entry.and_then(|p| {
            self.cfg.functions.named[p]
                .1
                .snapshot
                .as_ref()
                .and_then(|s| s.restore_ms.as_ref())
                .map(|s| (s, self.starts.named_samplers[p]))
        });
        let all_spec = self
            .cfg
            .functions
            .all
            .snapshot
            .as_ref()
            .and_then(|s: &FunctionSnapshot| s.restore_ms.as_ref())
            .map(|s| (s, self.starts.all_sampler));
        let (spec, sampler) = named_spec
            .or(all_spec)
            .unwrap_or((&platform.restore_ms, self.starts.platform_sampler));
        let restore = match sampler {
            Some(i) => RestoreTime::Sampler(i),
            None => RestoreTime::Fixed(spec.bandwidth_time(size_mb).ok_or_else(|| {
                SimError::Config(format!(
                    "the restore time of `{name}` (snapshot of {size_mb} MB) is out of range"
                ))
            })?),
        };
        if let RestoreTime::Fixed(d) = restore {
            if d.as_micros() > TIME_LIMIT.as_micros() {
                return Err(SimError::time_limit(
                    format!("the restore time of `{name}`"),
                    d.as_micros(),
                ));
            }
        }
        let slowdown = slowdown_milli(own.slowdown.unwrap_or(platform.slowdown))
            .map_err(|e| SimError::Config(format!("the snapshot slowdown of `{name}`: {e}")))?;
        self.starts.cache_billed_ms.push((0, false));
        self.starts.fns.push(SnapFn {
            enabled,
            size_mb,
            restore,
            slowdown_milli: if slowdown == 1000 { 0 } else { slowdown },
        });
        if enabled && self.starts.create == SnapshotCreate::Deploy {
            self.take_snapshot(f);
        }
        Ok(())
    }

    /// The start plan of a new instance of `f` on `w` (`traced`: the trace's cold start for
    /// it, if any).
    pub(super) fn plan_start(
        &mut self,
        f: FunctionId,
        w: WorkerId,
        traced: Option<SimDuration>,
    ) -> Result<StartPlan, SimError> {
        // A model-serving function's start is its container's boot and its model's load
        // (`engine/gpu.rs`): snapshots and forks of GPU state are not modelled.
        if self.starts.any() && !self.creating_provisioned && self.fns[f.index()].model == NIL {
            if self.starts.fork && self.has_template(f, w) {
                let duration = self.starts.fork_sampler.sample(&mut self.starts.rng_fork);
                return Ok(StartPlan {
                    kind: StartKind::Fork,
                    duration,
                    first_exec_milli: 0,
                    snapshot_mb: 0,
                });
            }
            if self.starts.snapshots {
                let s = self.starts.fns[f.index()];
                if s.enabled && self.starts.store.contains(f.0) {
                    self.starts.store.touch(f.0);
                    let duration = match s.restore {
                        RestoreTime::Fixed(d) => d,
                        RestoreTime::Sampler(i) => {
                            self.starts.samplers[i].sample(&mut self.starts.rng_restore)
                        }
                    };
                    if self.starts.billed {
                        let mb = self.fns[f.index()].memory_mb;
                        if let Some(c) = self.cfg.billing.snapshot_restore_charge(mb) {
                            self.metrics.on_snapshot_charge(f, &c);
                        }
                    }
                    return self.checked_plan(
                        f,
                        StartPlan {
                            kind: StartKind::Restore,
                            duration,
                            first_exec_milli: s.slowdown_milli,
                            snapshot_mb: s.size_mb,
                        },
                    );
                }
            }
        }
        // A boot: the trace's cold start (`traced`), else the model.
        let duration = match traced {
            Some(d) => d,
            None if self.creating_provisioned => SimDuration::ZERO,
            None => {
                let s = self.fns[f.index()].cold_sampler;
                let d = self.cold_samplers[s].draw(&mut self.rng_cold);
                if let (Some(row), Sampler::Recorded(r)) = (d.row, &self.cold_samplers[s]) {
                    self.metrics
                        .on_recorded_start(f, &self.cold_part_map[s], r.row(row));
                }
                d.duration
            }
        };
        self.checked_plan(
            f,
            StartPlan {
                kind: StartKind::Boot,
                duration,
                first_exec_milli: 0,
                snapshot_mb: 0,
            },
        )
    }

    fn checked_plan(&self, f: FunctionId, plan: StartPlan) -> Result<StartPlan, SimError> {
        if plan.duration.as_micros() > TIME_LIMIT.as_micros() {
            let what = match plan.kind {
                StartKind::Boot => "a cold start",
                StartKind::Restore => "a snapshot restore",
                StartKind::Fork => "a fork",
            };
            return Err(SimError::time_limit(
                format!("{what} of `{}`", self.functions.get(f).name),
                plan.duration.as_micros(),
            ));
        }
        Ok(plan)
    }

    /// Instance `i` became ready: it is a template for forks, and a booted instance of a
    /// function without a snapshot takes one.
    pub(super) fn start_ready(&mut self, i: u32) {
        let inst = &self.instances[i as usize];
        let (f, w, kind) = (inst.function, inst.worker, inst.start_kind);
        if self.starts.fork {
            let list = &mut self.starts.parents[f.index()];
            match list.binary_search_by_key(&w.0, |&(w, _)| w) {
                Ok(p) => list[p].1 += 1,
                Err(p) => list.insert(p, (w.0, 1)),
            }
        }
        if self.starts.snapshots
            && kind == StartKind::Boot
            && self.starts.fns[f.index()].enabled
            && !self.starts.store.contains(f.0)
        {
            self.take_snapshot(f);
        }
    }

    /// Ready instance `i` is being evicted: one template fewer on its worker.
    pub(super) fn start_evicted(&mut self, i: u32) {
        if !self.starts.fork {
            return;
        }
        let inst = &self.instances[i as usize];
        let list = &mut self.starts.parents[inst.function.index()];
        if let Ok(p) = list.binary_search_by_key(&inst.worker.0, |&(w, _)| w) {
            list[p].1 -= 1;
            if list[p].1 == 0 {
                list.remove(p);
            }
        }
    }

    /// Whether `w` holds a ready instance of `f` to fork from.
    fn has_template(&self, f: FunctionId, w: WorkerId) -> bool {
        self.starts.parents[f.index()]
            .binary_search_by_key(&w.0, |&(w, _)| w)
            .is_ok()
    }

    /// With `placement = "prefer-fork"`: the first worker (by id) holding a ready instance
    /// of `f` with room for another.
    pub(super) fn fork_worker(&self, f: FunctionId, mb: u32) -> Option<WorkerId> {
        if !(self.starts.fork && self.starts.prefer_fork) {
            return None;
        }
        self.starts.parents[f.index()]
            .iter()
            .find(|&&(w, _)| self.workers[w as usize].free_mb() >= mb)
            .map(|&(w, _)| WorkerId(w))
    }

    /// Takes `f`'s snapshot now; charges the cache of the snapshots it evicts.
    fn take_snapshot(&mut self, f: FunctionId) {
        let size = self.starts.fns[f.index()].size_mb;
        let mut evicted = std::mem::take(&mut self.starts.scratch);
        evicted.clear();
        if self.starts.store.insert(f.0, size, self.now, &mut evicted) {
            self.metrics.run.snapshots_created += 1;
            self.starts.cache_billed_ms[f.index()].1 = true;
        }
        for &(v, since) in &evicted {
            self.metrics.run.snapshots_evicted += 1;
            self.charge_snapshot_cache(FunctionId(v), since);
        }
        self.starts.scratch = evicted;
    }

    fn charge_snapshot_cache(&mut self, f: FunctionId, since: SimTime) {
        self.charge_cache_time(f, self.now - since);
    }

    fn charge_cache_time(&mut self, f: FunctionId, kept: SimDuration) {
        if !self.starts.billed {
            return;
        }
        let mb = self.fns[f.index()].memory_mb;
        if let Some(c) = self.cfg.billing.snapshot_cache_charge(kept, mb) {
            self.starts.cache_billed_ms[f.index()].0 += c.billed_ms;
            self.metrics.on_snapshot_charge(f, &c);
        }
    }

    /// The end of the run: the snapshots still kept are charged up to now, and every
    /// function that had one up to the model's minimum.
    pub(super) fn start_finish(&mut self) {
        if !self.starts.snapshots {
            return;
        }
        let kept: Vec<(u32, SimTime)> = self.starts.store.kept().collect();
        for (f, since) in kept {
            self.charge_snapshot_cache(FunctionId(f), since);
        }
        let min_ms = match self.cfg.billing.model.prices().snapshot {
            Some(sp) => sp.min_cache_ms,
            None => return,
        };
        for f in 0..self.starts.cache_billed_ms.len() {
            let (billed, had) = self.starts.cache_billed_ms[f];
            if had && billed < min_ms {
                self.charge_cache_time(FunctionId(f as u32), SimDuration::from_ms(min_ms - billed));
            }
        }
    }
}

/// `work` stretched by `milli` thousandths, rounded up to the microsecond.
pub(super) fn stretch(work: SimDuration, milli: u32) -> SimDuration {
    SimDuration((work.as_micros() as u128 * milli as u128).div_ceil(1000) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_evicts_least_recently_used_until_the_new_snapshot_fits() {
        // Capacity 1000 MB: a (400) at 1, b (400) at 2, a restored at 3 (now most recent),
        // c (300) at 4 needs 100 MB more than the 200 free: the least recently used, b,
        // goes. d (2000) is larger than the store: not kept, nothing evicted.
        let mut s = SnapshotStore::new(Some(1000));
        let mut ev = Vec::new();
        assert!(s.insert(0, 400, SimTime(1), &mut ev));
        assert!(s.insert(1, 400, SimTime(2), &mut ev));
        s.touch(0);
        assert!(s.insert(2, 300, SimTime(4), &mut ev));
        assert_eq!(ev, vec![(1, SimTime(2))]);
        assert!(s.contains(0) && !s.contains(1) && s.contains(2));
        assert_eq!(s.used_mb, 700);
        ev.clear();
        assert!(!s.insert(3, 2000, SimTime(5), &mut ev));
        assert!(ev.is_empty());
        // e (800) evicts a (least recent: touched at 3), which leaves 300 MB used, too
        // much still, then c.
        assert!(s.insert(4, 800, SimTime(6), &mut ev));
        assert_eq!(ev, vec![(0, SimTime(1)), (2, SimTime(4))]);
        assert_eq!(s.kept().collect::<Vec<_>>(), vec![(4, SimTime(6))]);
        assert_eq!(s.used_mb, 800);
    }

    #[test]
    fn stretch_rounds_up() {
        assert_eq!(stretch(SimDuration(100_000), 1950), SimDuration(195_000));
        assert_eq!(stretch(SimDuration(1), 1500), SimDuration(2));
    }
}
