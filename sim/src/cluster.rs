//! The cluster model: workers, function instances, and the indexes policies query.
//!
//! State lives in `Vec`s addressed by id newtypes. Two intrusive doubly-linked lists thread
//! through the instances, so the request path never scans:
//! - per function, the *available* list: ready instances with a free concurrency slot,
//!   ordered by last activity (head = least recently used, tail = most recently used);
//! - cluster-wide, the *idle* list: instances with nothing running, ordered by the time
//!   they became idle (head = least recently used), walked when memory must be reclaimed.
//!
//! In per-request load-balancing mode (a [`LoadBalancer`](crate::LoadBalancer) picks the
//! worker of each request), two more lists make the worker-local request path O(1): per
//! (function, worker), the *local available* list (same order as the function's), and per
//! worker, its *worker idle* list (same order as the cluster-wide one).
//!
//! Worker indexes (updated only when an instance is created or evicted, not per execution):
//! a max segment tree over free memory (first-fit, next-fit in O(log W)), ordered sets by
//! free memory (best-fit, worst-fit) and by memory utilisation (least-loaded), and the
//! cluster-wide count of live instances.

use crate::ids::{FunctionId, InstanceId, WorkerId};
use crate::start::StartKind;
use crate::time::SimTime;
use rustc_hash::FxHashMap;
use std::cell::OnceCell;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

pub(crate) const NIL: u32 = u32::MAX;

/// Processor-sharing work of one core: whole microseconds and the femtoseconds past them
/// (below 10^9), ordered as the femtoseconds they add up to. Split so that the common
/// steps (a job joins, the clock moves at full speed, a job is due) are 64-bit sums and
/// comparisons; only a saturated worker's advance and its next wakeup need 128 bits.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PsWork {
    pub us: u64,
    pub fs: u32,
}

/// A job under processor sharing as one 128-bit key: its virtual finish time (whole
/// microseconds, then femtoseconds) above its invocation slot, so that the heap compares one
/// integer. Jobs with the same finish come out in slot order; the wakeup that ends them puts
/// them in sequence order (`engine/cpu.rs`).
pub(crate) fn ps_key(end: PsWork, slot: u32) -> u128 {
    (end.us as u128) << 64 | (end.fs as u128) << 32 | slot as u128
}

/// The virtual finish time of a job's key.
pub(crate) fn ps_key_end(key: u128) -> PsWork {
    PsWork {
        us: (key >> 64) as u64,
        fs: (key >> 32) as u32,
    }
}

/// The invocation slot of a job's key.
pub(crate) fn ps_key_slot(key: u128) -> u32 {
    key as u32
}

/// Processor-sharing state of one worker (see the crate docs for the model).
#[derive(Debug, Default)]
pub(crate) struct ProcShare {
    /// Work done by each job since the worker's start.
    pub vtime: PsWork,
    pub last: SimTime,
    /// Jobs by key ([`ps_key`]), the earliest virtual finish time on top.
    pub jobs: BinaryHeap<Reverse<u128>>,
    /// The worker's earliest wakeup in the event heap.
    pub pending: Option<SimTime>,
    /// Executions with a timeout, by (deadline µs, invocation slot, generation); entries of
    /// executions that have ended are dropped when they reach the top.
    pub deadlines: BinaryHeap<Reverse<(u64, u32, u32)>>,
}

#[derive(Debug)]
pub(crate) struct Worker {
    pub memory_mb: u32,
    pub cores: u32,
    pub used_mb: u32,
    /// Memory held by idle instances (reclaimable).
    pub idle_mb: u32,
    pub instances: u32,
    pub executing: u32,
    pub ps: ProcShare,
    /// Executions × µs up to `exec_since` (the integral of `executing`).
    pub exec_area_us: u128,
    pub exec_since: SimTime,
    /// Load balancing: requests sent here and not yet ended, and their memory.
    pub assigned: u32,
    pub assigned_mb: u64,
    /// Load balancing: this worker's FIFO queue of (invocation slot, generation).
    pub queue: VecDeque<(u32, u32)>,
    pub queued: u32,
    /// Load balancing: this worker's idle instances, least recently used first.
    pub idle_list: ListEnds,
    /// `cpu = "proportional"`: the cores, in MB of memory they serve (1,769 MB a vCPU), the
    /// part instances reserve, and what is left (at most `u32::MAX`); without shares
    /// `u64::MAX`, 0 and `u32::MAX` (no constraint).
    pub cpu_cap: u64,
    pub cpu_used: u64,
    pub cpu_room: u32,
}

impl Worker {
    pub fn new(memory_mb: u32, cores: u32) -> Self {
        Worker {
            memory_mb,
            cores,
            used_mb: 0,
            idle_mb: 0,
            instances: 0,
            executing: 0,
            ps: ProcShare::default(),
            exec_area_us: 0,
            exec_since: SimTime::ZERO,
            assigned: 0,
            assigned_mb: 0,
            queue: VecDeque::new(),
            queued: 0,
            idle_list: ListEnds::default(),
            cpu_cap: u64::MAX,
            cpu_used: 0,
            cpu_room: u32::MAX,
        }
    }
    /// Sets the cores' reservations (`cpu_room` follows).
    pub fn set_cpu(&mut self, cap: u64, used: u64) {
        self.cpu_cap = cap;
        self.cpu_used = used;
        self.cpu_room = (cap - used).min(u32::MAX as u64) as u32;
    }
    /// Room for a new instance, MB: the free memory, and under `cpu = "proportional"` no
    /// more than the free cores counted in the memory they serve.
    #[inline]
    pub fn free_mb(&self) -> u32 {
        (self.memory_mb - self.used_mb).min(self.cpu_room)
    }
    /// Executions × µs from the start of the run to `now`.
    pub fn exec_area_at(&self, now: SimTime) -> u128 {
        self.exec_area_us + self.executing as u128 * (now - self.exec_since).as_micros() as u128
    }
}

/// The key of a (function, worker) pair in the local available lists.
pub(crate) fn local_key(f: FunctionId, w: WorkerId) -> u64 {
    (f.0 as u64) << 32 | w.0 as u64
}

/// Per-request load balancing: the available list of each (function, worker) pair that has
/// had a request or an instance, in a vector its instances index (`Instance::local_list`),
/// so putting an instance on or off its list looks nothing up. A function's lists are a
/// dense row of one per worker, found by indexing: a request reads one entry, where a hash
/// map of the pairs read a control group, a bucket and then the list, each a likely cache
/// miss once a balancer spreads a thousand functions over a hundred workers. Rows take
/// memory for every worker, so past [`DENSE_LISTS`] lists in rows the pairs of further
/// functions go to a hash map (read once per request, and once per instance created).
#[derive(Debug)]
pub(crate) struct LocalAvail {
    /// Workers in the run: the width of a row.
    workers: u32,
    /// Lists kept in rows at most ([`DENSE_LISTS`] but in tests).
    dense_limit: usize,
    /// Per function, where its row starts in `lists` (`NIL`: none yet, or none at all
    /// when past [`DENSE_LISTS`]).
    rows: Vec<u32>,
    /// The lists of pairs whose function has no row.
    slots: FxHashMap<u64, u32>,
    pub lists: Vec<ListEnds>,
}

/// Lists kept in dense rows at most (32 MB of them); see [`LocalAvail`].
pub(crate) const DENSE_LISTS: usize = 1 << 22;

impl LocalAvail {
    /// The lists of a run of `workers` workers.
    pub fn new(workers: usize) -> Self {
        Self::with_dense_limit(workers, DENSE_LISTS)
    }

    fn with_dense_limit(workers: usize, dense_limit: usize) -> Self {
        LocalAvail {
            workers: workers as u32,
            dense_limit,
            rows: Vec::new(),
            slots: FxHashMap::default(),
            lists: Vec::new(),
        }
    }

    /// `f`'s row, if it has one.
    #[inline(always)]
    fn row(&self, f: FunctionId) -> Option<u32> {
        self.rows.get(f.index()).copied().filter(|&r| r != NIL)
    }

    /// The list of (`f`, `w`), empty if it has none yet.
    #[inline]
    pub fn get(&self, f: FunctionId, w: WorkerId) -> ListEnds {
        if let Some(r) = self.row(f) {
            return self.lists[(r + w.0) as usize];
        }
        match self.slots.get(&local_key(f, w)) {
            Some(&l) => self.lists[l as usize],
            None => ListEnds::default(),
        }
    }

    /// The index of (`f`, `w`)'s list in `lists` if `f` has a row and `w` is a worker of
    /// the run (so the index is within `lists`), else `None`: no hashing, for prefetching
    /// on a balancer's guess, which may name any worker.
    #[inline(always)]
    pub fn row_slot(&self, f: FunctionId, w: WorkerId) -> Option<usize> {
        if w.0 >= self.workers {
            return None;
        }
        self.row(f).map(|r| (r + w.0) as usize)
    }

    /// The index of (`f`, `w`)'s list in `lists`, added empty if it has none yet (with a
    /// row for `f` while rows stay within the limit).
    pub fn slot(&mut self, f: FunctionId, w: WorkerId) -> u32 {
        if let Some(r) = self.row(f) {
            return r + w.0;
        }
        if self.slots.is_empty() && self.lists.len() + self.workers as usize <= self.dense_limit {
            // A row for `f` (functions' rows are added as long as no pair was hashed).
            if self.rows.len() <= f.index() {
                self.rows.resize(f.index() + 1, NIL);
            }
            let r = self.lists.len() as u32;
            self.rows[f.index()] = r;
            self.lists.resize(
                self.lists.len() + self.workers as usize,
                ListEnds::default(),
            );
            return r + w.0;
        }
        let lists = &mut self.lists;
        *self.slots.entry(local_key(f, w)).or_insert_with(|| {
            lists.push(ListEnds::default());
            (lists.len() - 1) as u32
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InstState {
    Free,
    Starting,
    Ready,
}

#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub function: FunctionId,
    pub worker: WorkerId,
    pub memory_mb: u32,
    /// Bumped when the slot is freed, so stale timers for an old occupant are ignored.
    pub gen: u32,
    pub state: InstState,
    /// Executions running or bound to it (a starting instance counts its first invocation).
    pub active: u32,
    /// The invocation waiting for this instance's cold start (`NIL` if none).
    pub bound: u32,
    /// Provisioned concurrency: kept all run, never reclaimed.
    pub provisioned: bool,
    /// How it started (boot, restore, fork).
    pub start_kind: StartKind,
    /// Work multiplier of its first execution, thousandths, after a lazy restore (0: none);
    /// cleared when that execution starts.
    pub first_exec_milli: u32,
    pub created_at: SimTime,
    pub ready_at: SimTime,
    pub last_used: SimTime,
    pub idle_since: SimTime,
    pub first_idle_at: Option<SimTime>,
    pub executions: u64,
    /// When the keep-alive policy lets it go (`SimTime::MAX`: never).
    pub expires_at: SimTime,
    /// The time of its pending expiry event, if one is in the heap.
    pub expiry_event: Option<SimTime>,
    pub in_avail: bool,
    pub avail_prev: u32,
    pub avail_next: u32,
    pub in_idle: bool,
    pub idle_prev: u32,
    pub idle_next: u32,
    pub in_local: bool,
    /// Per-request load balancing: its (function, worker) list in `LocalAvail::lists`.
    pub local_list: u32,
    pub local_prev: u32,
    pub local_next: u32,
    pub in_widle: bool,
    pub widle_prev: u32,
    pub widle_next: u32,
}

impl Instance {
    pub fn vacant() -> Self {
        Instance {
            function: FunctionId(0),
            worker: WorkerId(0),
            memory_mb: 0,
            gen: 0,
            state: InstState::Free,
            active: 0,
            bound: NIL,
            provisioned: false,
            start_kind: StartKind::Boot,
            first_exec_milli: 0,
            created_at: SimTime::ZERO,
            ready_at: SimTime::ZERO,
            last_used: SimTime::ZERO,
            idle_since: SimTime::ZERO,
            first_idle_at: None,
            executions: 0,
            expires_at: SimTime::MAX,
            expiry_event: None,
            in_avail: false,
            avail_prev: NIL,
            avail_next: NIL,
            in_idle: false,
            idle_prev: NIL,
            idle_next: NIL,
            in_local: false,
            local_list: NIL,
            local_prev: NIL,
            local_next: NIL,
            in_widle: false,
            widle_prev: NIL,
            widle_next: NIL,
        }
    }
}

/// Head and tail of an intrusive list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListEnds {
    pub head: u32,
    pub tail: u32,
}

impl Default for ListEnds {
    fn default() -> Self {
        ListEnds {
            head: NIL,
            tail: NIL,
        }
    }
}

/// Which intrusive list.
#[derive(Clone, Copy)]
pub(crate) enum List {
    Avail,
    Idle,
    /// Per (function, worker) available list (load balancing).
    LocalAvail,
    /// Per worker idle list (load balancing).
    WorkerIdle,
}

#[inline(always)]
fn links(inst: &mut Instance, l: List) -> (&mut bool, &mut u32, &mut u32) {
    match l {
        List::Avail => (
            &mut inst.in_avail,
            &mut inst.avail_prev,
            &mut inst.avail_next,
        ),
        List::Idle => (&mut inst.in_idle, &mut inst.idle_prev, &mut inst.idle_next),
        List::LocalAvail => (
            &mut inst.in_local,
            &mut inst.local_prev,
            &mut inst.local_next,
        ),
        List::WorkerIdle => (
            &mut inst.in_widle,
            &mut inst.widle_prev,
            &mut inst.widle_next,
        ),
    }
}

#[inline(always)]
pub(crate) fn list_push_back(insts: &mut [Instance], ends: &mut ListEnds, l: List, i: u32) {
    let old_tail = ends.tail;
    {
        let (inl, prev, next) = links(&mut insts[i as usize], l);
        debug_assert!(!*inl);
        *inl = true;
        *prev = old_tail;
        *next = NIL;
    }
    if old_tail == NIL {
        ends.head = i;
    } else {
        *links(&mut insts[old_tail as usize], l).2 = i;
    }
    ends.tail = i;
}

#[inline(always)]
pub(crate) fn list_remove(insts: &mut [Instance], ends: &mut ListEnds, l: List, i: u32) {
    let (p, n) = {
        let (inl, prev, next) = links(&mut insts[i as usize], l);
        debug_assert!(*inl);
        *inl = false;
        let pn = (*prev, *next);
        *prev = NIL;
        *next = NIL;
        pn
    };
    if p == NIL {
        ends.head = n;
    } else {
        *links(&mut insts[p as usize], l).2 = n;
    }
    if n == NIL {
        ends.tail = p;
    } else {
        *links(&mut insts[n as usize], l).1 = p;
    }
}

/// Worker indexes for placement queries.
#[derive(Debug)]
pub(crate) struct WorkerIndex {
    size: usize,
    len: usize,
    /// Max free memory per segment-tree node, leaves at `size..2*size`, for first- and
    /// next-fit placement: built at the first such query and kept from then on, so a run
    /// that never asks (a per-request balancer places on the worker it chose) pays no
    /// tree update per instance created or evicted.
    tree: OnceCell<Vec<u32>>,
    /// Workers by free memory and by utilisation, for best-, worst-fit and least-loaded
    /// placement: built at a placement's first such query and kept from then on, so a run
    /// whose policies never ask (first-fit, next-fit, random) pays no ordered-set update
    /// per instance created or evicted.
    by_free: OnceCell<BTreeSet<(u32, WorkerId)>>,
    by_load: OnceCell<BTreeSet<(u64, WorkerId)>>,
    /// Per-request load balancing: a min segment tree over (requests in flight, id), leaves
    /// at `size..2*size`, for the least-loaded balancer's O(1) query; built at its first
    /// query, so other balancers pay no update per request sent or ended.
    by_assigned: OnceCell<Vec<u64>>,
    /// Live instances on all workers. `update` is called exactly once per instance creation
    /// (used memory rises by the instance's memory) and once per eviction (it falls), and an
    /// instance holds at least 1 MB, so the sign of the change counts instances whatever
    /// order the caller updates `Worker::instances` in.
    live_instances: u64,
}

fn load_key(w: &Worker) -> u64 {
    ((w.used_mb as u64) << 32) / w.memory_mb.max(1) as u64
}

impl WorkerIndex {
    pub fn new(workers: &[Worker]) -> Self {
        let size = workers.len().next_power_of_two().max(1);
        WorkerIndex {
            size,
            len: workers.len(),
            tree: OnceCell::new(),
            by_free: OnceCell::new(),
            by_load: OnceCell::new(),
            by_assigned: OnceCell::new(),
            live_instances: workers.iter().map(|w| w.instances as u64).sum(),
        }
    }

    /// Call with the worker as it was (room, load and used memory) and as it is after its
    /// used memory changed.
    pub fn update(
        &mut self,
        id: WorkerId,
        old_free: u32,
        old_load: u64,
        old_used: u32,
        w: &Worker,
    ) {
        if w.used_mb > old_used {
            self.live_instances += 1;
        } else if w.used_mb < old_used {
            self.live_instances -= 1;
        }
        if let Some(by_free) = self.by_free.get_mut() {
            by_free.remove(&(old_free, id));
            by_free.insert((w.free_mb(), id));
        }
        if let Some(by_load) = self.by_load.get_mut() {
            by_load.remove(&(old_load, id));
            by_load.insert((load_key(w), id));
        }
        if let Some(tree) = self.tree.get_mut() {
            set_leaf(tree, self.size + id.index(), w.free_mb(), u32::max);
        }
    }

    pub fn load_key(w: &Worker) -> u64 {
        load_key(w)
    }

    /// [`Self::update`] for a change of used memory that is not an instance's (a worker
    /// going down or coming back): the count of live instances stays.
    pub fn update_capacity(&mut self, id: WorkerId, old_free: u32, old_load: u64, w: &Worker) {
        // The used memory passed as unchanged: the count of live instances stays.
        self.update(id, old_free, old_load, w.used_mb, w);
    }

    /// Workers by free memory, built at the first call.
    fn by_free(&self, workers: &[Worker]) -> &BTreeSet<(u32, WorkerId)> {
        self.by_free.get_or_init(|| {
            workers
                .iter()
                .enumerate()
                .map(|(i, w)| (w.free_mb(), WorkerId(i as u32)))
                .collect()
        })
    }

    /// The free-memory segment tree, built at the first call.
    fn free_tree(&self, workers: &[Worker]) -> &[u32] {
        self.tree
            .get_or_init(|| build_tree(self.size, 0, workers.iter().map(Worker::free_mb), u32::max))
    }

    /// Workers by utilisation, built at the first call.
    fn by_load(&self, workers: &[Worker]) -> &BTreeSet<(u64, WorkerId)> {
        self.by_load.get_or_init(|| {
            workers
                .iter()
                .enumerate()
                .map(|(i, w)| (load_key(w), WorkerId(i as u32)))
                .collect()
        })
    }

    /// Call when worker `id`'s requests in flight (`Worker::assigned`) became `assigned`.
    #[inline]
    pub fn assigned_changed(&mut self, id: WorkerId, assigned: u32) {
        if let Some(tree) = self.by_assigned.get_mut() {
            set_leaf(
                tree,
                self.size + id.index(),
                assigned_key(id, assigned),
                u64::min,
            );
        }
    }

    /// The worker with the fewest requests in flight, ties by lowest id (built at the
    /// first call).
    fn least_assigned(&self, workers: &[Worker]) -> WorkerId {
        let tree = self.by_assigned.get_or_init(|| {
            let keys = workers
                .iter()
                .enumerate()
                .map(|(i, w)| assigned_key(WorkerId(i as u32), w.assigned));
            build_tree(self.size, u64::MAX, keys, u64::min)
        });
        WorkerId(tree[1] as u32)
    }

    /// Lowest worker index >= `from` with at least `mb` free.
    fn first_at_or_after(&self, workers: &[Worker], from: usize, mb: u32) -> Option<usize> {
        let tree = self.free_tree(workers);
        if from >= self.len || tree[1] < mb {
            return None;
        }
        self.descend(tree, from, mb).filter(|&i| i < self.len)
    }

    fn descend(&self, tree: &[u32], from: usize, mb: u32) -> Option<usize> {
        // Walk up from the leaf, then down into the first fitting subtree to the right.
        let mut n = self.size + from;
        if tree[n] >= mb {
            return Some(from);
        }
        loop {
            // Move to the next subtree to the right at this level.
            while n % 2 == 1 {
                n /= 2;
                if n <= 1 {
                    return None;
                }
            }
            n += 1;
            if tree[n] >= mb {
                break;
            }
        }
        while n < self.size {
            n = if tree[2 * n] >= mb { 2 * n } else { 2 * n + 1 };
        }
        Some(n - self.size)
    }
}

/// A worker's key in the least-loaded order: requests in flight, then id.
fn assigned_key(id: WorkerId, assigned: u32) -> u64 {
    (assigned as u64) << 32 | id.0 as u64
}

/// A segment tree of `size` leaves (at `size..2*size`, `pad` past the values), each node
/// the `combine` (max or min) of its children.
fn build_tree<T: Copy>(
    size: usize,
    pad: T,
    leaves: impl Iterator<Item = T>,
    combine: fn(T, T) -> T,
) -> Vec<T> {
    let mut tree = vec![pad; 2 * size];
    for (i, v) in leaves.enumerate() {
        tree[size + i] = v;
    }
    for n in (1..size).rev() {
        tree[n] = combine(tree[2 * n], tree[2 * n + 1]);
    }
    tree
}

/// Sets leaf `n` of a segment tree built by [`build_tree`] and its ancestors, stopping at
/// the first ancestor that does not change (most updates touch a worker that is not its
/// subtree's maximum or minimum).
#[inline]
fn set_leaf<T: Copy + PartialEq>(tree: &mut [T], mut n: usize, key: T, combine: fn(T, T) -> T) {
    tree[n] = key;
    while n > 1 {
        n /= 2;
        let m = combine(tree[2 * n], tree[2 * n + 1]);
        if tree[n] == m {
            break;
        }
        tree[n] = m;
    }
}

/// A read-only view of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerView {
    /// The worker's id.
    pub id: WorkerId,
    /// Memory capacity, MB.
    pub memory_mb: u32,
    /// Memory held by its instances (starting, busy or idle), MB.
    pub used_mb: u32,
    /// Memory no instance holds (`memory_mb - used_mb`), MB: the room for a new instance.
    /// Under `cpu = "proportional"`, no more than the cores no instance reserves, counted
    /// in the memory they serve (1,769 MB a vCPU), so placement fits memory and cores.
    pub free_mb: u32,
    /// Memory held by its idle instances, MB: what reclaiming could free.
    pub idle_mb: u32,
    /// Cores, shared by its executions under processor sharing.
    pub cores: u32,
    /// Instances on it (starting or ready).
    pub instances: u32,
    /// Executions running on it now.
    pub executing: u32,
    /// Executions × µs on it from the start of the run to now (the integral of `executing`):
    /// the difference of two readings over their interval is the mean number of running
    /// executions, from which a load balancer builds any load average it needs. Kept under
    /// per-request load balancing only (0 in cluster-wide mode, which needs no such cost).
    pub exec_area_us: u128,
    /// Per-request load balancing: requests sent to this worker that have not ended yet
    /// (queued here, waiting for a cold start or running). 0 in cluster-wide mode.
    pub assigned: u32,
    /// The memory of those requests' functions, MB: what OpenWhisk's controller counts
    /// against an invoker's capacity.
    pub assigned_mb: u64,
    /// Requests waiting in this worker's queue (per-request load balancing).
    pub queued: u32,
    /// Under `cpu = "proportional"`: the vCPU shares its instances reserve, counted in the
    /// memory they correspond to (1,769 MB a vCPU, so at most `cores × 1769`); 0 otherwise.
    pub reserved_cpu_mb: u64,
}

/// A read-only view of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceView {
    /// The instance's slot.
    pub id: InstanceId,
    /// The function it runs.
    pub function: FunctionId,
    /// The worker it lives on.
    pub worker: WorkerId,
    /// Memory it holds on its worker, MB (its function's memory).
    pub memory_mb: u32,
    /// When it was created: the start of its cold start.
    pub created_at: SimTime,
    /// When its cold start finished (while starting: when it will finish).
    pub ready_at: SimTime,
    /// Last dispatch or completion on it.
    pub last_used: SimTime,
    /// When it last became idle (meaningful while idle).
    pub idle_since: SimTime,
    /// When it first became idle (the end of its first execution).
    pub first_idle_at: Option<SimTime>,
    /// Executions it has started.
    pub executions: u64,
    /// Executions running on it now.
    pub active: u32,
}

/// What policies see of the cluster. Every query is O(1) or O(log W) unless stated.
pub struct ClusterView<'a> {
    pub(crate) now: SimTime,
    pub(crate) workers: &'a [Worker],
    pub(crate) instances: &'a [Instance],
    pub(crate) index: &'a WorkerIndex,
    pub(crate) avail: &'a [ListEnds],
    pub(crate) concurrency: u32,
    /// Per-request load balancing: the (function, worker) available lists.
    pub(crate) local: Option<&'a LocalAvail>,
    /// While routing a balanced request: the worker whose warm instances the routing sees.
    pub(crate) scope: Option<WorkerId>,
    /// The scoped worker's list of the request's function, read once by the engine, so the
    /// routing policy's warm queries on that function hash nothing.
    pub(crate) scope_ends: Option<(FunctionId, ListEnds)>,
    pub(crate) assigned: u64,
}

impl<'a> ClusterView<'a> {
    /// The current instant.
    pub fn now(&self) -> SimTime {
        self.now
    }
    /// Workers in the cluster; their ids are `0..worker_count()`.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }
    /// Requests the load balancer has sent to workers that have not ended yet (the sum of
    /// [`WorkerView::assigned`] over the workers; not the request being balanced), in O(1).
    /// 0 in cluster-wide mode.
    pub fn assigned_requests(&self) -> u64 {
        self.assigned
    }
    /// Instance concurrency of the platform (1 = one execution per instance).
    pub fn instance_concurrency(&self) -> u32 {
        self.concurrency
    }
    /// The worker `id`'s capacity and load.
    #[inline]
    pub fn worker(&self, id: WorkerId) -> WorkerView {
        let w = &self.workers[id.index()];
        WorkerView {
            id,
            memory_mb: w.memory_mb,
            used_mb: w.used_mb,
            free_mb: w.free_mb(),
            idle_mb: w.idle_mb,
            cores: w.cores,
            instances: w.instances,
            executing: w.executing,
            exec_area_us: w.exec_area_at(self.now),
            assigned: w.assigned,
            assigned_mb: w.assigned_mb,
            queued: w.queued,
            reserved_cpu_mb: w.cpu_used,
        }
    }

    /// The worker whose warm instances the routing policy sees: under per-request load
    /// balancing, the worker chosen for the request (`warm_instances` and its relatives then
    /// list that worker's instances only); `None` in cluster-wide mode.
    pub fn routing_scope(&self) -> Option<WorkerId> {
        self.scope
    }

    /// The available list the warm queries walk: the scoped worker's, else the function's.
    #[inline]
    fn ends(&self, f: FunctionId) -> Option<ListEnds> {
        match self.scope {
            None => self.avail.get(f.index()).copied(),
            Some(w) => match self.scope_ends {
                Some((sf, e)) if sf == f => Some(e),
                _ => self.local.map(|m| m.get(f, w)),
            },
        }
    }

    /// Whether the warm queries walk the local lists.
    fn scoped(&self) -> bool {
        self.scope.is_some() && self.local.is_some()
    }

    /// Whether `w` holds a ready instance of `f` with a free slot. O(1) under per-request
    /// load balancing; otherwise a walk of `f`'s warm instances.
    pub fn has_warm_on(&self, f: FunctionId, w: WorkerId) -> bool {
        match self.local {
            Some(m) => m.get(f, w).head != NIL,
            None => {
                let insts = self.instances;
                let mut cur = self.avail.get(f.index()).map_or(NIL, |e| e.head);
                while cur != NIL {
                    if insts[cur as usize].worker == w {
                        return true;
                    }
                    cur = insts[cur as usize].avail_next;
                }
                false
            }
        }
    }
    /// The instance `id` (a live one: ids come from the other queries).
    pub fn instance(&self, id: InstanceId) -> InstanceView {
        instance_view(self.instances, id)
    }

    /// The instance `id` if its slot holds a live instance (starting or ready), else `None`:
    /// for ids that do not come from the other queries (a policy written in Python may pass
    /// any number).
    pub fn try_instance(&self, id: InstanceId) -> Option<InstanceView> {
        let i = self.instances.get(id.index())?;
        (i.state != InstState::Free).then(|| instance_view(self.instances, id))
    }

    /// Ready instances of `f` with a free slot, most recently used first (on the
    /// [`routing_scope`](Self::routing_scope) worker only, when there is one).
    pub fn warm_instances(&self, f: FunctionId) -> impl Iterator<Item = InstanceId> + 'a {
        let (insts, scoped) = (self.instances, self.scoped());
        let mut cur = self.ends(f).map_or(NIL, |e| e.tail);
        std::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let id = cur;
            cur = next_in(&insts[id as usize], scoped, false);
            Some(InstanceId(id))
        })
    }

    /// Ready instances of `f` with a free slot, least recently used first (on the
    /// [`routing_scope`](Self::routing_scope) worker only, when there is one).
    pub fn warm_instances_lru(&self, f: FunctionId) -> impl Iterator<Item = InstanceId> + 'a {
        let (insts, scoped) = (self.instances, self.scoped());
        let mut cur = self.ends(f).map_or(NIL, |e| e.head);
        std::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let id = cur;
            cur = next_in(&insts[id as usize], scoped, true);
            Some(InstanceId(id))
        })
    }

    /// The most recently used warm instance of `f`, in O(1) (scoped as `warm_instances`).
    pub fn most_recent_warm(&self, f: FunctionId) -> Option<InstanceId> {
        let t = self.ends(f)?.tail;
        (t != NIL).then_some(InstanceId(t))
    }

    /// The least recently used warm instance of `f`, in O(1) (scoped as `warm_instances`).
    pub fn least_recent_warm(&self, f: FunctionId) -> Option<InstanceId> {
        let h = self.ends(f)?.head;
        (h != NIL).then_some(InstanceId(h))
    }

    /// The lowest-numbered worker with at least `mb` free.
    pub fn first_fit(&self, mb: u32) -> Option<WorkerId> {
        self.index
            .first_at_or_after(self.workers, 0, mb)
            .map(|i| WorkerId(i as u32))
    }

    /// The first worker at or after `start` (cyclically) with at least `mb` free.
    pub fn next_fit(&self, start: WorkerId, mb: u32) -> Option<WorkerId> {
        let s = start.index() % self.workers.len().max(1);
        let ws = self.workers;
        self.index
            .first_at_or_after(ws, s, mb)
            .or_else(|| self.index.first_at_or_after(ws, 0, mb).filter(|&i| i < s))
            .map(|i| WorkerId(i as u32))
    }

    /// Live instances (starting, busy or idle) on all workers, in O(1). Equals the sum of
    /// [`WorkerView::instances`] over the workers.
    pub fn live_instances(&self) -> u64 {
        self.index.live_instances
    }

    /// The worker with the least free memory that still fits `mb` (ties: lowest id).
    pub fn best_fit(&self, mb: u32) -> Option<WorkerId> {
        self.index
            .by_free(self.workers)
            .range((mb, WorkerId(0))..)
            .next()
            .map(|&(_, w)| w)
    }

    /// The worker with the most free memory, if it fits `mb` (ties: lowest id).
    pub fn worst_fit(&self, mb: u32) -> Option<WorkerId> {
        let by_free = self.index.by_free(self.workers);
        let max = by_free.last()?.0;
        if max < mb {
            return None;
        }
        by_free.range((max, WorkerId(0))..).next().map(|&(_, w)| w)
    }

    /// Workers by memory utilisation (used / capacity), lowest first, ties by lowest id.
    pub fn workers_by_load(&self) -> impl Iterator<Item = WorkerId> + 'a {
        self.index.by_load(self.workers).iter().map(|&(_, w)| w)
    }

    /// The worker with the fewest requests in flight ([`WorkerView::assigned`]), ties by
    /// lowest id, in O(1) (an index the engine keeps from the first call on). Worker 0 in
    /// cluster-wide mode, where no request counts.
    pub fn least_assigned(&self) -> WorkerId {
        self.index.least_assigned(self.workers)
    }

    /// The least-utilised worker with at least `mb` free. Walks the utilisation order until
    /// one fits: O(log W) unless the least-utilised workers are full.
    pub fn least_loaded(&self, mb: u32) -> Option<WorkerId> {
        let workers = self.workers;
        self.workers_by_load()
            .find(|w| workers[w.index()].free_mb() >= mb)
    }
}

/// The next instance along an available list (`scoped`: the local one).
fn next_in(x: &Instance, scoped: bool, forward: bool) -> u32 {
    match (scoped, forward) {
        (true, true) => x.local_next,
        (true, false) => x.local_prev,
        (false, true) => x.avail_next,
        (false, false) => x.avail_prev,
    }
}

pub(crate) fn instance_view(insts: &[Instance], id: InstanceId) -> InstanceView {
    let i = &insts[id.index()];
    InstanceView {
        id,
        function: i.function,
        worker: i.worker,
        memory_mb: i.memory_mb,
        created_at: i.created_at,
        ready_at: i.ready_at,
        last_used: i.last_used,
        idle_since: i.idle_since,
        first_idle_at: i.first_idle_at,
        executions: i.executions,
        active: i.active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_lists_are_rows_then_hashed_pairs_each_its_own() {
        // 3 workers, rows for at most 7 lists: functions 4 and 2 (in order of first use) get
        // rows, function 9 would pass the limit, so its pairs, and those of every function
        // after it (5, though a row would fit), are hashed.
        let mut l = LocalAvail::with_dense_limit(3, 7);
        let (w0, w2) = (WorkerId(0), WorkerId(2));
        assert_eq!(l.get(FunctionId(4), w2).head, NIL);
        assert_eq!(l.slot(FunctionId(4), w2), 2);
        assert_eq!(l.slot(FunctionId(2), w0), 3);
        assert_eq!(l.slot(FunctionId(9), w2), 6);
        assert_eq!(l.slot(FunctionId(5), w0), 7);
        assert_eq!(l.slot(FunctionId(9), w0), 8);
        assert_eq!((l.rows.len(), l.slots.len(), l.lists.len()), (5, 3, 9));
        // Each pair keeps its index; an unknown pair has an empty list and takes no slot.
        assert_eq!(l.slot(FunctionId(4), w0), 0);
        assert_eq!(l.slot(FunctionId(9), w2), 6);
        assert_eq!(l.slot(FunctionId(5), w0), 7);
        assert_eq!(l.get(FunctionId(7), w0).tail, NIL);
        assert_eq!(l.lists.len(), 9);
        // What is written through a slot is what `get` and `find` read, rows or hashed.
        for (k, (f, w)) in [(4, 2), (2, 0), (9, 2), (5, 0), (9, 0)]
            .into_iter()
            .enumerate()
        {
            let i = l.slot(FunctionId(f), WorkerId(w)) as usize;
            l.lists[i] = ListEnds {
                head: k as u32,
                tail: 10 + k as u32,
            };
        }
        for (k, (f, w)) in [(4, 2), (2, 0), (9, 2), (5, 0), (9, 0)]
            .into_iter()
            .enumerate()
        {
            let (f, w) = (FunctionId(f), WorkerId(w));
            assert_eq!(
                (l.get(f, w).head, l.get(f, w).tail),
                (k as u32, 10 + k as u32)
            );
        }
        assert_eq!(l.get(FunctionId(2), WorkerId(1)).head, NIL);
    }

    fn workers(free: &[u32]) -> Vec<Worker> {
        free.iter()
            .map(|&f| Worker {
                used_mb: 1000 - f,
                ..Worker::new(1000, 1)
            })
            .collect()
    }

    #[test]
    fn segment_tree_first_fit_and_next_fit() {
        let ws = workers(&[100, 500, 0, 800, 300]);
        let idx = WorkerIndex::new(&ws);
        let view = ClusterView {
            now: SimTime::ZERO,
            workers: &ws,
            instances: &[],
            index: &idx,
            avail: &[],
            concurrency: 1,
            local: None,
            scope: None,
            scope_ends: None,
            assigned: 0,
        };
        assert_eq!(view.first_fit(50), Some(WorkerId(0)));
        assert_eq!(view.first_fit(400), Some(WorkerId(1)));
        assert_eq!(view.first_fit(600), Some(WorkerId(3)));
        assert_eq!(view.first_fit(900), None);
        assert_eq!(view.next_fit(WorkerId(2), 200), Some(WorkerId(3)));
        assert_eq!(view.next_fit(WorkerId(4), 400), Some(WorkerId(1)));
        assert_eq!(view.next_fit(WorkerId(4), 250), Some(WorkerId(4)));
        assert_eq!(view.best_fit(250), Some(WorkerId(4)));
        assert_eq!(view.best_fit(600), Some(WorkerId(3)));
        assert_eq!(view.worst_fit(10), Some(WorkerId(3)));
        assert_eq!(view.worst_fit(900), None);
        assert_eq!(view.least_loaded(10), Some(WorkerId(3)));
        assert_eq!(view.least_loaded(900), None);
    }

    #[test]
    fn segment_tree_matches_linear_scan_everywhere() {
        let frees: Vec<u32> = (0..37u32).map(|i| (i * 7919) % 1000).collect();
        let ws = workers(&frees);
        let idx = WorkerIndex::new(&ws);
        for from in 0..40 {
            for mb in [0, 1, 100, 500, 990, 999, 1000] {
                let expected = (from..frees.len()).find(|&i| frees[i] >= mb);
                assert_eq!(
                    idx.first_at_or_after(&ws, from, mb),
                    expected,
                    "from {from} mb {mb}"
                );
            }
        }
    }

    #[test]
    fn least_assigned_matches_a_scan_through_changes() {
        // 37 workers (a tree of 64 leaves, 27 padding); a fixed walk of +1/-1 changes, some
        // before the index is built and most after, each checked against the scan the
        // least-loaded balancer made before (fewest requests in flight, lowest id first).
        let mut ws = workers(&[1000; 37]);
        let mut idx = WorkerIndex::new(&ws);
        let mut x: u64 = 12345;
        for step in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let w = ((x >> 33) % 37) as usize;
            if (x >> 20).is_multiple_of(3) && ws[w].assigned > 0 {
                ws[w].assigned -= 1;
            } else {
                ws[w].assigned += 1;
            }
            idx.assigned_changed(WorkerId(w as u32), ws[w].assigned);
            if step >= 100 || step == 10 {
                let scan = (0..ws.len()).min_by_key(|&i| (ws[i].assigned, i)).unwrap();
                assert_eq!(
                    idx.least_assigned(&ws),
                    WorkerId(scan as u32),
                    "step {step}"
                );
            }
        }
    }

    #[test]
    fn live_instance_count_follows_creations_and_evictions() {
        fn change(ws: &mut [Worker], idx: &mut WorkerIndex, w: usize, delta: i64) {
            let old_free = ws[w].free_mb();
            let old_load = WorkerIndex::load_key(&ws[w]);
            let old_used = ws[w].used_mb;
            ws[w].used_mb = (ws[w].used_mb as i64 + delta) as u32;
            idx.update(WorkerId(w as u32), old_free, old_load, old_used, &ws[w]);
        }
        let mut ws = workers(&[1000, 1000]);
        let mut idx = WorkerIndex::new(&ws);
        change(&mut ws, &mut idx, 0, 128);
        change(&mut ws, &mut idx, 1, 256);
        change(&mut ws, &mut idx, 0, 1);
        assert_eq!(idx.live_instances, 3);
        change(&mut ws, &mut idx, 1, -256);
        assert_eq!(idx.live_instances, 2);
    }

    #[test]
    fn intrusive_list_keeps_order_through_removals() {
        let mut insts: Vec<Instance> = (0..4).map(|_| Instance::vacant()).collect();
        let mut ends = ListEnds::default();
        for i in 0..4 {
            list_push_back(&mut insts, &mut ends, List::Idle, i);
        }
        list_remove(&mut insts, &mut ends, List::Idle, 1);
        list_remove(&mut insts, &mut ends, List::Idle, 3);
        list_push_back(&mut insts, &mut ends, List::Idle, 1);
        let mut order = vec![];
        let mut c = ends.head;
        while c != NIL {
            order.push(c);
            c = insts[c as usize].idle_next;
        }
        assert_eq!(order, vec![0, 2, 1]);
        assert_eq!(ends.tail, 1);
    }
}
