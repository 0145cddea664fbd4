//! Model serving on GPUs (see [`crate::models`] for the model and its sources): the GPU
//! side of workers, model residency per tier, loading as a step of an instance's start,
//! batching, swapping models through a GPU's memory, and the GPU bill.
//!
//! A request of a function that names a model never takes the CPU path. It joins a live
//! instance of its function whose pending batch has room (the one that can run it
//! soonest; ties: a batch already collecting, then the most recently used instance, then
//! the lowest slot), else, unless its function already has an instance starting (one start
//! at a time per function), starts a new instance on a GPU worker chosen by
//! `Placement::place_gpu` among those that can host it (or, when none can, among those
//! where evicting idle instances makes room, which are then evicted), else waits
//! in the GPU queue, first come first served, or is dropped. Unlike CPU requests, a
//! request may join an instance that is still starting: its first batch is collected
//! while the model loads (a GPU instance's start takes seconds).
//!
//! The provider's rules apply as on the CPU path: an attempt is admitted (`admission.rs`)
//! before `gpu_route` sees it and holds its unit until it ends; a new instance takes a
//! scaling token; a batch that would run longer than its function's timeout is killed there
//! (its requests share the function, so all of them are cut); a request of a batch that ends
//! goes through `end_attempt` (`retry.rs`) when its function may fail, it was cut, or it is
//! asynchronous, and a retry comes back through admission to `gpu_route`. Worker failures
//! are refused with model serving (`run_serving`).
//!
//! The engine's hooks into this file, each marked "model serving" where it sits:
//! `on_arrival` and `deliver` (the request path), `create_instance` (the load step adds to
//! the start), `on_ready`, `evict` (the GPU, the bill), `serve_global_queue` (the GPU queue
//! is served when memory or GPUs free up), `pull` (token counts), `sync_functions` (a
//! function's model and SLO), the queue-timeout handler, `attempt_charge` (none per
//! request), and `finish`.

use super::*;
use crate::billing::Money;
use crate::models::{
    GpuCandidate, GpuSharing, GpuWorkerSpec, ModelCache, ModelSpec, ModelStats, Resident, Serving,
    ServingConfig, ServingReport, Tier, Tokens,
};

/// A tier's cache of model weights: DRAM or SSD of a worker, or one GPU's memory (swap).
#[derive(Debug, Default)]
struct TierCache {
    cap_mb: u64,
    used_mb: u64,
    entries: Vec<Resident>,
}

impl TierCache {
    fn new(cap_mb: u64) -> Self {
        TierCache {
            cap_mb,
            ..Default::default()
        }
    }

    fn find(&self, model: u32) -> Option<usize> {
        self.entries.iter().position(|e| e.model == model)
    }

    fn remove(&mut self, at: usize) -> Resident {
        let e = self.entries.swap_remove(at);
        self.used_mb -= e.size_mb;
        e
    }
}

#[derive(Debug)]
struct Gpu {
    /// `exclusive`: the instance that owns the GPU.
    owner: u32,
    /// The instance whose batch runs (or swaps in) on it.
    running: u32,
    /// `swap`: the models cached in its memory.
    cache: TierCache,
    /// Memory of the running batch's requests, MB.
    batch_mb: u64,
}

#[derive(Debug)]
struct GpuWorker {
    spec: GpuWorkerSpec,
    gpus: Vec<Gpu>,
    /// GPUs owned by an instance (`exclusive`).
    owned: u32,
    /// GPUs running a batch.
    busy: u32,
    dram: TierCache,
    ssd: TierCache,
    /// When the worker's loading link (storage or SSD) is free again.
    loader_free_at: SimTime,
    /// `swap`: instances whose batch waits for a GPU, first come first served.
    waiting: VecDeque<u32>,
}

#[derive(Debug, Clone, Default)]
struct GpuInst {
    live: bool,
    ready: bool,
    model: u32,
    worker: u32,
    /// `exclusive`: the GPU it owns; `swap`: the GPU of its running batch (`NIL` if none).
    gpu: u32,
    /// Requests collected for the next batch, and their GPU memory (KB).
    pending: Vec<u32>,
    pending_kb: u64,
    pending_since: SimTime,
    pending_id: u32,
    /// The running batch.
    running: Vec<u32>,
    batch_id: u32,
    exec_start: SimTime,
    batch_end: SimTime,
    first_token: SimDuration,
    compute: SimDuration,
    /// `swap`: its batch waits for a GPU.
    waiting_gpu: bool,
    /// `swap`: when its running batch took its GPU (the swap-in's start).
    gpu_since: SimTime,
}

/// Model serving's state in the engine.
pub(super) struct GpuState {
    cfg: ServingConfig,
    cache: Box<dyn ModelCache>,
    workers: Vec<GpuWorker>,
    /// Workers with GPUs, by id.
    gpu_workers: Vec<u32>,
    /// Per instance slot.
    insts: Vec<GpuInst>,
    /// Per function: its live GPU instances.
    fn_instances: Vec<Vec<u32>>,
    /// Requests waiting for a new instance, first come first served: (slot, generation).
    queue: VecDeque<(u32, u32)>,
    /// Per invocation slot: its token counts (token models).
    tokens: Vec<Tokens>,
    /// The token counts of the arrival the engine pulled last.
    pub(super) next_tokens: Option<Tokens>,
    next_id: u32,
    stats: Vec<ModelStats>,
    ttft: crate::digest::Digest,
    candidates: Vec<GpuCandidate>,
    /// The largest memory of a GPU worker, MB.
    largest_gpu_worker_mb: u32,
}

fn later(a: SimTime, b: SimTime) -> SimTime {
    a.max(b)
}

impl GpuState {
    pub(super) fn new(s: Serving, cfg: &EngineConfig) -> Result<Self, SimError> {
        let c = s.config;
        if c.workers.len() != cfg.workers.len() {
            return Err(SimError::Config(format!(
                "model serving describes {} workers, the cluster has {}",
                c.workers.len(),
                cfg.workers.len()
            )));
        }
        let gpu_workers: Vec<u32> = (0..c.workers.len() as u32)
            .filter(|&w| c.workers[w as usize].gpus > 0)
            .collect();
        if gpu_workers.is_empty() && !c.models.is_empty() {
            return Err(SimError::Config(
                "models need GPU workers: no worker has a GPU (cluster.gpus_per_worker)".into(),
            ));
        }
        let largest_gpu = gpu_workers
            .iter()
            .map(|&w| c.workers[w as usize].gpu_memory_mb)
            .max()
            .unwrap_or(0);
        for m in &c.models {
            if m.size_mb > largest_gpu {
                return Err(SimError::Config(format!(
                    "models.\"{}\".size_mb: {} MB is more than the largest GPU's {largest_gpu} MB",
                    m.name, m.size_mb
                )));
            }
            if m.max_batch == 0 {
                return Err(SimError::Config(format!(
                    "models.\"{}\".max_batch must be at least 1",
                    m.name
                )));
            }
            if let crate::models::BatchLatency::Table(t) = &m.latency {
                if t.len() < m.max_batch as usize {
                    return Err(SimError::Config(format!(
                        "models.\"{}\".latency: the table has {} entries, max_batch is {}",
                        m.name,
                        t.len(),
                        m.max_batch
                    )));
                }
            }
        }
        for (w, spec) in c.workers.iter().enumerate() {
            if spec.gpus > 0
                && (spec.storage_mb_per_s == 0 || spec.ssd_mb_per_s == 0 || spec.pcie_mb_per_s == 0)
            {
                return Err(SimError::Config(format!(
                    "worker {w}: the link bandwidths must be at least 1 MB/s"
                )));
            }
        }
        let workers = c
            .workers
            .iter()
            .map(|spec| GpuWorker {
                spec: *spec,
                gpus: (0..spec.gpus)
                    .map(|_| Gpu {
                        owner: NIL,
                        running: NIL,
                        cache: TierCache::new(spec.gpu_memory_mb),
                        batch_mb: 0,
                    })
                    .collect(),
                owned: 0,
                busy: 0,
                dram: TierCache::new(spec.host_cache_mb),
                ssd: TierCache::new(spec.ssd_cache_mb),
                loader_free_at: SimTime::ZERO,
                waiting: VecDeque::new(),
            })
            .collect();
        let largest_gpu_worker_mb = gpu_workers
            .iter()
            .map(|&w| cfg.workers[w as usize].memory_mb)
            .max()
            .unwrap_or(0);
        let stats = c
            .models
            .iter()
            .map(|m| ModelStats {
                name: m.name.clone(),
                ..Default::default()
            })
            .collect();
        let mut g = GpuState {
            cfg: c,
            cache: s.cache,
            workers,
            gpu_workers,
            insts: Vec::new(),
            fn_instances: Vec::new(),
            queue: VecDeque::new(),
            tokens: Vec::new(),
            next_tokens: None,
            next_id: 0,
            stats,
            ttft: crate::digest::Digest::run_wide(),
            candidates: Vec::new(),
            largest_gpu_worker_mb,
        };
        for m in 0..g.cfg.models.len() as u32 {
            g.preload(m, SimTime::ZERO);
        }
        Ok(g)
    }

    /// Bills `ms` GPU-milliseconds to `model`'s stats; returns the charge.
    fn bill_ms(&mut self, model: u32, ms: u64) -> Money {
        let cost = Money(
            ms as u128
                * self.cfg.gpu_second_price as u128
                * (crate::billing::MONEY_PER_PRICE_UNIT / 1000),
        );
        let st = &mut self.stats[model as usize];
        st.gpu_billed_ms += ms;
        st.gpu_cost += cost;
        cost
    }

    /// Puts model `m` in the tier it is `preloaded` in on every GPU worker (usable at once).
    fn preload(&mut self, m: u32, now: SimTime) {
        let spec = &self.cfg.models[m as usize];
        let (tier, size) = match spec.preloaded {
            Some(t @ (Tier::Dram | Tier::Ssd)) if !spec.per_function => (t, spec.size_mb),
            _ => return,
        };
        for &w in &self.gpu_workers {
            let wk = &mut self.workers[w as usize];
            let cache = match tier {
                Tier::Dram => &mut wk.dram,
                _ => &mut wk.ssd,
            };
            GpuState::insert(
                cache,
                self.cache.as_mut(),
                &mut self.stats,
                tier,
                WorkerId(w),
                m,
                size,
                0,
                now,
                SimTime::ZERO,
            );
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    fn inst(&mut self, i: u32) -> &mut GpuInst {
        let i = i as usize;
        if self.insts.len() <= i {
            self.insts.resize(i + 1, GpuInst::default());
        }
        &mut self.insts[i]
    }

    /// Whether instance `i`'s pending batch has room for a request of `kb` KB.
    fn room(&self, i: u32, kb: u64) -> bool {
        let g = &self.insts[i as usize];
        let m = &self.cfg.models[g.model as usize];
        let gpu_kb = self.workers[g.worker as usize].spec.gpu_memory_mb * 1024;
        g.pending.len() < m.max_batch as usize && m.size_mb * 1024 + g.pending_kb + kb <= gpu_kb
    }

    /// The fastest tier holding `model` on worker `w` for a start, and when that copy is
    /// usable. `swap` starts load into host memory: a GPU cache does not count.
    fn source(&self, w: usize, model: u32) -> (Tier, SimTime) {
        let wk = &self.workers[w];
        if let Some(e) = wk.dram.find(model) {
            return (Tier::Dram, wk.dram.entries[e].ready_at);
        }
        if let Some(e) = wk.ssd.find(model) {
            return (Tier::Ssd, wk.ssd.entries[e].ready_at);
        }
        (Tier::Remote, SimTime::ZERO)
    }

    /// When a load of `model` on `w` starting no earlier than `from` would begin, from
    /// which tier, how long the loading link is busy, and how long the load takes.
    fn plan(
        &self,
        w: usize,
        model: u32,
        from: SimTime,
    ) -> (Tier, SimTime, SimDuration, SimDuration) {
        let wk = &self.workers[w];
        let size = self.cfg.models[model as usize].size_mb;
        let (tier, avail) = self.source(w, model);
        let (link, total) = match self.cfg.sharing {
            GpuSharing::Exclusive => wk.spec.load_to_gpu(tier, size),
            GpuSharing::Swap => {
                let t = wk.spec.load_to_host(tier, size);
                (t, t)
            }
        };
        let begin = match tier {
            Tier::Gpu | Tier::Dram => later(from, avail),
            Tier::Ssd | Tier::Remote => later(later(from, avail), wk.loader_free_at),
        };
        (tier, begin, link, total)
    }

    /// Puts `model` into a tier cache, evicting by the cache policy; `false` if it can never
    /// fit. Residency of evicted copies goes to their models' stats.
    #[allow(clippy::too_many_arguments)]
    fn insert(
        cache: &mut TierCache,
        policy: &mut dyn ModelCache,
        stats: &mut [ModelStats],
        tier: Tier,
        worker: WorkerId,
        model: u32,
        size_mb: u64,
        room_for_mb: u64,
        now: SimTime,
        ready_at: SimTime,
    ) -> bool {
        if let Some(e) = cache.find(model) {
            let e = &mut cache.entries[e];
            e.last_used = now;
            e.ready_at = e.ready_at.min(ready_at);
            return true;
        }
        if size_mb + room_for_mb > cache.cap_mb {
            return false;
        }
        while cache.used_mb + size_mb + room_for_mb > cache.cap_mb {
            let v = policy.victim(tier, worker, &cache.entries, now);
            let e = cache.remove(v.min(cache.entries.len() - 1));
            stats[e.model as usize].resident_us[tier.index()] +=
                (now - e.inserted).as_micros() as u128;
        }
        cache.used_mb += size_mb;
        cache.entries.push(Resident {
            model,
            size_mb,
            inserted: now,
            last_used: now,
            uses: 0,
            ready_at,
        });
        true
    }
}

impl Engine<'_> {
    /// `sync_functions`: the model (`NIL` if none) and SLO of a newly seen function, checked
    /// against the models and the GPU workers.
    pub(super) fn function_model(
        &mut self,
        id: FunctionId,
        claimed: bool,
    ) -> Result<(u32, Option<SimDuration>), SimError> {
        if self.cfg.functions.is_empty() {
            return Ok((NIL, None));
        }
        let name = &self.functions.get(id).name;
        let (_, settings) = self.cfg.functions.resolve(name);
        let Some(model) = settings.model.filter(|_| !claimed) else {
            return Ok((NIL, settings.slo));
        };
        let Some(g) = &self.gpu else {
            return Err(SimError::Config(format!(
                "function `{name}` serves model `{model}`, but the run serves no models"
            )));
        };
        let Some(m) = g.cfg.models.iter().position(|m| m.name == model) else {
            return Err(SimError::Config(format!(
                "functions.\"{name}\".model: no model is named `{model}` (add [models.\"{model}\"])"
            )));
        };
        let mb = self.functions.get(id).memory_mb;
        if mb > g.largest_gpu_worker_mb {
            return Err(SimError::FunctionTooLarge {
                function: name.clone(),
                memory_mb: mb,
                largest_mb: g.largest_gpu_worker_mb,
            });
        }
        if self.cfg.provisioned_per_function > 0 {
            return Err(SimError::Config(format!(
                "function `{name}` serves a model: provisioned instances are not modelled for \
                 GPU functions (set platform.provisioned_instances = 0)"
            )));
        }
        if !g.cfg.models[m].per_function {
            return Ok((m as u32, settings.slo));
        }
        // Its own copy of the model: same size and speed, its own weights.
        let copy = ModelSpec {
            name: format!("{model}@{name}"),
            per_function: false,
            ..g.cfg.models[m].clone()
        };
        let now = self.now;
        let g = self.gpu.as_deref_mut().expect("model serving");
        g.stats.push(ModelStats {
            name: copy.name.clone(),
            ..Default::default()
        });
        g.cfg.models.push(copy);
        let m = g.cfg.models.len() as u32 - 1;
        g.preload(m, now);
        Ok((m, settings.slo))
    }

    fn gpu(&self) -> &GpuState {
        self.gpu.as_deref().expect("model serving")
    }

    fn gpu_mut(&mut self) -> &mut GpuState {
        self.gpu.as_deref_mut().expect("model serving")
    }

    fn request_kb(&self, slot: u32) -> u64 {
        let g = self.gpu();
        let f = self.invs[slot as usize].function;
        let m = &g.cfg.models[self.fns[f.index()].model as usize];
        m.request_memory_kb(g.tokens.get(slot as usize).copied().unwrap_or_default())
    }

    /// A new request of a model-serving function (`traced`: from the trace, whose token
    /// counts the engine pulled with it): its token counts, checked against the GPUs. Its
    /// attempts are routed by [`Self::gpu_route`].
    pub(super) fn gpu_arrival(&mut self, slot: u32, traced: bool) -> Result<(), SimError> {
        let f = self.invs[slot as usize].function;
        let m = self.fns[f.index()].model as usize;
        let g = self.gpu.as_deref_mut().expect("model serving");
        let model = &g.cfg.models[m];
        let tokens = if model.latency.uses_tokens() {
            match g.next_tokens.filter(|_| traced) {
                Some(t) => t,
                None => {
                    return Err(SimError::Config(format!(
                        "function `{}` serves model `{}`, whose latency is a token model, but \
                         its requests carry no token counts (use an LLM trace such as \
                         format = \"azure-llm-2023\")",
                        self.functions.get(f).name,
                        model.name
                    )))
                }
            }
        } else {
            Tokens::default()
        };
        if g.tokens.len() <= slot as usize {
            g.tokens.resize(slot as usize + 1, Tokens::default());
        }
        g.tokens[slot as usize] = tokens;
        let kb = model.request_memory_kb(tokens);
        let largest = g
            .gpu_workers
            .iter()
            .map(|&w| g.cfg.workers[w as usize].gpu_memory_mb)
            .max()
            .unwrap_or(0);
        if model.size_mb * 1024 + kb > largest * 1024 {
            return Err(SimError::Config(format!(
                "a request of `{}` ({} input and {} output tokens) needs {} MB of GPU memory \
                 beside the {} MB of model `{}`, more than a GPU's {largest} MB",
                self.functions.get(f).name,
                tokens.input,
                tokens.output,
                kb.div_ceil(1024),
                model.size_mb,
                model.name
            )));
        }
        Ok(())
    }

    /// Routes an attempt of a model-serving request (after admission): a live instance's
    /// pending batch, a new instance, the GPU queue or a drop.
    pub(super) fn gpu_route(&mut self, slot: u32) -> Result<(), SimError> {
        if self.gpu_join_existing(slot)? {
            return Ok(());
        }
        // Requests already waiting keep their turn.
        if self.gpu_queued == 0 && self.gpu_new_instance(slot)? {
            return Ok(());
        }
        match self.cfg.on_full {
            OnFull::Drop => self.drop_invocation(slot, Outcome::DroppedFull),
            OnFull::Queue => {
                self.gpu_enqueue(slot);
                Ok(())
            }
        }
    }

    fn gpu_enqueue(&mut self, slot: u32) {
        let inv = self.invs[slot as usize];
        let fs = &mut self.fns[inv.function.index()];
        fs.waiting += 1;
        fs.queue.push_back((slot, inv.gen));
        self.gpu_mut().queue.push_back((slot, inv.gen));
        self.queue_len += 1;
        self.gpu_queued += 1;
        self.metrics.on_queue_length(self.queue_len);
        if let Some(t) = self.cfg.queue_timeout {
            // Measured from the attempt's delivery (the arrival, or a retry's delivery).
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

    /// Joins the live instance of the request's function that can run it soonest and has
    /// room in its pending batch.
    fn gpu_join_existing(&mut self, slot: u32) -> Result<bool, SimError> {
        let f = self.invs[slot as usize].function;
        let kb = self.request_kb(slot);
        let g = self.gpu();
        let Some(list) = g.fn_instances.get(f.index()) else {
            return Ok(false);
        };
        let now = self.now;
        let best = list
            .iter()
            .filter(|&&i| g.room(i, kb))
            .map(|&i| {
                let x = &g.insts[i as usize];
                let free_at = if !x.ready {
                    self.instances[i as usize].ready_at
                } else if !x.running.is_empty() {
                    x.batch_end
                } else {
                    now
                };
                let last = self.instances[i as usize].last_used;
                (
                    (free_at, x.pending.is_empty(), std::cmp::Reverse(last), i),
                    i,
                )
            })
            .min()
            .map(|(_, i)| i);
        match best {
            Some(i) => {
                self.gpu_join(slot, i)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Binds request `slot` to instance `i`'s pending batch.
    fn gpu_join(&mut self, slot: u32, i: u32) -> Result<(), SimError> {
        let now = self.now;
        let kb = self.request_kb(slot);
        let ready = self.gpu().insts[i as usize].ready;
        if ready {
            if self.instances[i as usize].in_idle {
                self.leave_idle(i);
            }
            if self.instances[i as usize].active == 0 {
                self.busy_instances += 1;
            }
            self.instances[i as usize].expires_at = SimTime::MAX;
        }
        let inst = &mut self.instances[i as usize];
        inst.active += 1;
        inst.last_used = now;
        let ready_at = inst.ready_at;
        let inv = &mut self.invs[slot as usize];
        inv.instance = i;
        inv.dispatched = now;
        inv.state = InvState::Starting;
        inv.cold = !ready;
        inv.init = if ready {
            SimDuration::ZERO
        } else {
            ready_at - now
        };
        self.gpu_add_pending(i, slot, kb);
        self.gpu_maybe_start(i)
    }

    /// Adds request `slot` to instance `i`'s pending batch. A batch waits at most
    /// `batch_timeout` from the arrival of its first request (as Triton's dynamic batcher
    /// bounds each request's queueing delay), so a request that already waited in the queue
    /// longer is run at once.
    fn gpu_add_pending(&mut self, i: u32, slot: u32, kb: u64) {
        let now = self.now;
        let arrival = self.invs[slot as usize].arrival;
        let g = self.gpu_mut();
        let id = g.id();
        let timeout = {
            let x = &g.insts[i as usize];
            g.cfg.models[x.model as usize].batch_timeout
        };
        let x = &mut g.insts[i as usize];
        x.pending.push(slot);
        x.pending_kb += kb;
        if x.pending.len() == 1 {
            x.pending_since = arrival;
            x.pending_id = id;
            if arrival + timeout > now {
                self.events.push(
                    arrival + timeout,
                    EventClass::Completion,
                    Event::BatchTimeout { inst: i, id },
                );
            }
        }
    }

    /// Starts instance `i`'s pending batch if it may: the instance is ready and not running
    /// one, and the batch is full or its timeout has passed.
    fn gpu_maybe_start(&mut self, i: u32) -> Result<(), SimError> {
        let now = self.now;
        let g = self.gpu();
        let x = &g.insts[i as usize];
        if !x.live || !x.ready || !x.running.is_empty() || x.waiting_gpu || x.pending.is_empty() {
            return Ok(());
        }
        let m = &g.cfg.models[x.model as usize];
        let full = x.pending.len() >= m.max_batch as usize;
        if full || now >= x.pending_since + m.batch_timeout {
            self.gpu_start_batch(i)?;
        }
        Ok(())
    }

    pub(super) fn gpu_batch_timeout(&mut self, i: u32, id: u32) -> Result<(), SimError> {
        let x = &self.gpu().insts[i as usize];
        if x.live && x.pending_id == id {
            self.gpu_maybe_start(i)?;
        }
        Ok(())
    }

    /// Runs instance `i`'s pending batch: on its own GPU (`exclusive`), or on an idle GPU of
    /// its worker, swapping the model in if it is not there (`swap`; with no idle GPU the
    /// batch waits for one).
    fn gpu_start_batch(&mut self, i: u32) -> Result<(), SimError> {
        let now = self.now;
        let g = self.gpu.as_deref_mut().expect("model serving");
        let (w, model) = (g.insts[i as usize].worker, g.insts[i as usize].model);
        let size = g.cfg.models[model as usize].size_mb;
        let batch_mb = g.insts[i as usize].pending_kb.div_ceil(1024);
        let (gpu, swap) = match g.cfg.sharing {
            GpuSharing::Exclusive => (g.insts[i as usize].gpu, SimDuration::ZERO),
            GpuSharing::Swap => {
                let wk = &g.workers[w as usize];
                let idle = |k: &usize| wk.gpus[*k].running == NIL;
                let hit = (0..wk.gpus.len())
                    .filter(idle)
                    .find(|&k| wk.gpus[k].cache.find(model).is_some());
                let pick = hit.or_else(|| {
                    (0..wk.gpus.len()).filter(idle).max_by_key(|&k| {
                        (
                            wk.gpus[k].cache.cap_mb - wk.gpus[k].cache.used_mb,
                            std::cmp::Reverse(k),
                        )
                    })
                });
                let Some(k) = pick else {
                    g.insts[i as usize].waiting_gpu = true;
                    g.workers[w as usize].waiting.push_back(i);
                    return Ok(());
                };
                let st = &mut g.stats[model as usize];
                let swap = if hit.is_some() {
                    st.loads[Tier::Gpu.index()] += 1;
                    SimDuration::ZERO
                } else {
                    let t = GpuWorkerSpec::transfer(size, g.workers[w as usize].spec.pcie_mb_per_s);
                    st.loads[Tier::Dram.index()] += 1;
                    st.load_us += t.as_micros() as u128;
                    st.load_us_max = st.load_us_max.max(t.as_micros());
                    t
                };
                let wk = &mut g.workers[w as usize];
                let cache = &mut wk.gpus[k].cache;
                GpuState::insert(
                    cache,
                    g.cache.as_mut(),
                    &mut g.stats,
                    Tier::Gpu,
                    WorkerId(w),
                    model,
                    size,
                    batch_mb,
                    now,
                    now + swap,
                );
                if let Some(e) = cache.find(model) {
                    cache.entries[e].uses += 1;
                    cache.entries[e].last_used = now;
                }
                (k as u32, swap)
            }
        };
        let wk = &mut g.workers[w as usize];
        wk.gpus[gpu as usize].running = i;
        wk.gpus[gpu as usize].batch_mb = batch_mb;
        wk.busy += 1;
        let id = g.id();
        let x = &mut g.insts[i as usize];
        x.gpu = gpu;
        std::mem::swap(&mut x.pending, &mut x.running);
        x.pending.clear();
        x.pending_kb = 0;
        x.batch_id = id;
        let running = std::mem::take(&mut x.running);
        let toks: Vec<Tokens> = running
            .iter()
            .map(|&s| g.tokens.get(s as usize).copied().unwrap_or_default())
            .collect();
        let bt = g.cfg.models[model as usize].latency.batch_time(&toks);
        // A batch longer than its function's timeout is killed there: every request of it
        // ends `timed-out` (they share the function, hence the timeout, and the run).
        let f = self.instances[i as usize].function;
        let cut = self.timeouts && bt.total > self.rules[f.index()].timeout;
        let run = match cut {
            true => self.rules[f.index()].timeout,
            false => bt.total,
        };
        let start = now + swap;
        let end = start + run;
        if end > TIME_LIMIT {
            return Err(SimError::time_limit(
                format!("a batch of model `{}`", g.cfg.models[model as usize].name),
                (end - now).as_micros(),
            ));
        }
        let st = &mut g.stats[model as usize];
        st.batches += 1;
        st.batch_requests += running.len() as u64;
        let x = &mut g.insts[i as usize];
        x.gpu_since = now;
        x.exec_start = start;
        x.batch_end = end;
        x.first_token = bt.first_token;
        x.compute = run;
        for &s in &running {
            let inv = &mut self.invs[s as usize];
            inv.state = InvState::Running;
            inv.start = start;
            inv.cut = cut;
        }
        self.instances[i as usize].executions += running.len() as u64;
        self.gpu_mut().insts[i as usize].running = running;
        self.events.push(
            end,
            EventClass::Completion,
            Event::BatchDone { inst: i, id },
        );
        Ok(())
    }

    /// A batch ends: its requests complete together; the instance takes waiting requests,
    /// may start its next batch, or becomes idle; a freed GPU serves the worker's waiting
    /// batches (`swap`).
    pub(super) fn gpu_batch_done(&mut self, i: u32, id: u32) -> Result<(), SimError> {
        let now = self.now;
        let g = self.gpu.as_deref_mut().expect("model serving");
        let x = &mut g.insts[i as usize];
        if !x.live || x.batch_id != id {
            return Ok(());
        }
        let running = std::mem::take(&mut x.running);
        let (model, w, gpu) = (x.model, x.worker, x.gpu);
        let (first_token, compute) = (x.first_token, x.compute);
        let (exec_start, gpu_since) = (x.exec_start, x.gpu_since);
        let tokens = g.cfg.models[model as usize].latency.uses_tokens();
        if g.cfg.sharing == GpuSharing::Swap {
            // A shared GPU is billed for the time the batch held it, to the millisecond.
            let cost = g.bill_ms(model, (now - gpu_since).as_micros().div_ceil(1000));
            let f = self.instances[i as usize].function;
            self.metrics.on_gpu_charge(f, cost);
        }
        let g = self.gpu.as_deref_mut().expect("model serving");
        let st = &mut g.stats[model as usize];
        st.gpu_busy_us += compute.as_micros() as u128;
        let wk = &mut g.workers[w as usize];
        wk.gpus[gpu as usize].running = NIL;
        wk.gpus[gpu as usize].batch_mb = 0;
        wk.busy -= 1;
        if g.cfg.sharing == GpuSharing::Swap {
            g.insts[i as usize].gpu = NIL;
        }
        let mut completed = 0;
        for &s in &running {
            let inv = self.invs[s as usize];
            let before = self.metrics.run.completed;
            if inv.asynchronous || inv.cut || self.error_draws {
                // A function error, a timeout, or an asynchronous event's end (`retry.rs`).
                self.end_attempt(s)?;
            } else {
                self.gpu_record(s)?;
                self.free_inv(s);
            }
            // Completed requests only (not one that failed, timed out or will be retried).
            if self.metrics.run.completed > before {
                completed += 1;
                if tokens {
                    let ttft = exec_start + first_token - inv.arrival;
                    self.gpu_mut().ttft.add(ttft.as_micros());
                }
            }
        }
        self.gpu_mut().stats[model as usize].completed += completed;
        let inst = &mut self.instances[i as usize];
        inst.active -= running.len() as u32;
        inst.last_used = now;
        self.gpu_fill_from_queue(i)?;
        self.gpu_maybe_start(i)?;
        if self.gpu().cfg.sharing == GpuSharing::Swap {
            self.gpu_serve_waiting(w)?;
        }
        if self.instances[i as usize].active == 0 {
            self.busy_instances -= 1;
            self.make_idle(i);
        }
        if self.gpu_queued > 0 {
            self.serve_gpu_queue()?;
        }
        Ok(())
    }

    /// `swap`: batches of worker `w` waiting for a GPU take the idle ones, in order.
    fn gpu_serve_waiting(&mut self, w: u32) -> Result<(), SimError> {
        loop {
            let g = self.gpu_mut();
            let wk = &g.workers[w as usize];
            if wk.busy as usize >= wk.gpus.len() {
                return Ok(());
            }
            let Some(i) = g.workers[w as usize].waiting.pop_front() else {
                return Ok(());
            };
            let x = &mut g.insts[i as usize];
            if !x.live || !x.waiting_gpu {
                continue;
            }
            x.waiting_gpu = false;
            self.gpu_start_batch(i)?;
        }
    }

    /// A completed request of a GPU function: no per-request charge (GPU functions are
    /// billed per GPU-second of their instances).
    fn gpu_record(&mut self, slot: u32) -> Result<(), SimError> {
        let rec = self.completed_record(slot, Default::default());
        self.metrics.on_completion(&rec, &rec.charge);
        self.recorder.invocation(&rec);
        self.notify_extension(&rec, self.invs[slot as usize].tag)
    }

    /// Moves requests of instance `i`'s function waiting in the queue into its pending
    /// batch while it has room.
    fn gpu_fill_from_queue(&mut self, i: u32) -> Result<(), SimError> {
        let f = self.instances[i as usize].function;
        while let Some(&head) = self.fns[f.index()].queue.front() {
            if !self.is_queued(head) {
                self.fns[f.index()].queue.pop_front();
                continue;
            }
            let kb = self.request_kb(head.0);
            if !self.gpu().room(i, kb) {
                break;
            }
            self.fns[f.index()].queue.pop_front();
            self.queue_len -= 1;
            self.gpu_queued -= 1;
            self.fns[f.index()].waiting -= 1;
            self.gpu_join(head.0, i)?;
        }
        Ok(())
    }

    /// Serves the GPU queue head first while its requests find an instance (a free batch
    /// slot, or a new instance where placement or reclaiming finds room).
    pub(super) fn serve_gpu_queue(&mut self) -> Result<(), SimError> {
        while let Some(&head) = self.gpu().queue.front() {
            if !self.is_queued(head) {
                self.gpu_mut().queue.pop_front();
                continue;
            }
            // Counted as served before it binds (a bound request is no longer queued).
            self.queue_len -= 1;
            self.gpu_queued -= 1;
            let f = self.invs[head.0 as usize].function;
            self.fns[f.index()].waiting -= 1;
            if self.gpu_join_existing(head.0)? || self.gpu_new_instance(head.0)? {
                self.gpu_mut().queue.pop_front();
                continue;
            }
            self.queue_len += 1;
            self.gpu_queued += 1;
            self.fns[f.index()].waiting += 1;
            break;
        }
        Ok(())
    }

    /// The GPU workers that can host a new instance of `f` now (or, with `reclaim`, after
    /// evicting idle instances there), with the placement's estimates, in
    /// `self.gpu.candidates`.
    fn gpu_candidates(&mut self, f: FunctionId, reclaim: bool) {
        let now = self.now;
        let mb = self.fns[f.index()].memory_mb;
        let model = self.fns[f.index()].model;
        // With `reclaim`, the workers holding an idle GPU instance (a GPU to take).
        let mut idle_gpu = Vec::new();
        if reclaim {
            idle_gpu = vec![false; self.workers.len()];
            let mut cur = self.idle.head;
            while cur != NIL {
                if self.gpu().insts.get(cur as usize).is_some_and(|x| x.live) {
                    idle_gpu[self.instances[cur as usize].worker.index()] = true;
                }
                cur = self.instances[cur as usize].idle_next;
            }
        }
        let g = self.gpu.as_deref_mut().expect("model serving");
        let mut c = std::mem::take(&mut g.candidates);
        c.clear();
        for &w in &g.gpu_workers {
            let wk = &g.workers[w as usize];
            let worker = &self.workers[w as usize];
            let free_gpus = match g.cfg.sharing {
                GpuSharing::Exclusive => wk.gpus.len() as u32 - wk.owned,
                GpuSharing::Swap => wk.gpus.len() as u32 - wk.busy,
            };
            let gpu_ok = g.cfg.sharing == GpuSharing::Swap || free_gpus > 0;
            let fits = match reclaim {
                false => worker.free_mb() >= mb && gpu_ok,
                true => worker.free_mb() + worker.idle_mb >= mb && (gpu_ok || idle_gpu[w as usize]),
            };
            if !fits {
                continue;
            }
            let (tier, begin, _, total) = g.plan(w as usize, model, now);
            c.push(GpuCandidate {
                worker: WorkerId(w),
                gpus: wk.gpus.len() as u32,
                free_gpus,
                tier,
                queue: begin - now,
                load: total,
                reclaim,
            });
        }
        g.candidates = c;
    }

    /// Asks placement for a GPU worker for a new instance of `f`: among the workers that
    /// can host it now, else among those where evicting idle instances makes room, which
    /// are then evicted.
    fn gpu_place(&mut self, f: FunctionId) -> Result<Option<WorkerId>, SimError> {
        for reclaim in [false, true] {
            self.gpu_candidates(f, reclaim);
            let cands = std::mem::take(&mut self.gpu_mut().candidates);
            if cands.is_empty() {
                self.gpu_mut().candidates = cands;
                continue;
            }
            let fv = FunctionView {
                id: f,
                name: &self.functions.get(f).name,
                memory_mb: self.fns[f.index()].memory_mb,
            };
            let w = self
                .placement
                .place_gpu(&fv, &cands, &view!(self), &mut self.rng_place);
            let ok = w.is_none_or(|w| cands.iter().any(|c| c.worker == w));
            self.gpu_mut().candidates = cands;
            if !ok {
                return Err(SimError::Policy(format!(
                    "placement chose worker {} for model-serving function {f}, which is not \
                     one of the GPU workers that can host it",
                    w.expect("checked")
                )));
            }
            if let (Some(w), true) = (w, reclaim) {
                self.gpu_reclaim_on(w, self.fns[f.index()].memory_mb);
            }
            return Ok(w);
        }
        Ok(None)
    }

    /// Makes room on worker `w` for a new GPU instance of `mb` MB: evicts its least recently
    /// used idle GPU instance if it has no free GPU (`exclusive`), then its idle instances,
    /// least recently used first, until `mb` is free.
    fn gpu_reclaim_on(&mut self, w: WorkerId, mb: u32) {
        let g = self.gpu();
        let wk = &g.workers[w.index()];
        if g.cfg.sharing == GpuSharing::Exclusive && wk.owned as usize == wk.gpus.len() {
            let mut cur = self.idle.head;
            while cur != NIL {
                let next = self.instances[cur as usize].idle_next;
                let gpu_inst = self.gpu().insts.get(cur as usize).is_some_and(|x| x.live);
                if gpu_inst && self.instances[cur as usize].worker == w {
                    self.evict(cur, EvictReason::Reclaimed);
                    break;
                }
                cur = next;
            }
        }
        let mut cur = self.idle.head;
        while self.workers[w.index()].free_mb() < mb && cur != NIL {
            let next = self.instances[cur as usize].idle_next;
            let inst = &self.instances[cur as usize];
            if inst.worker == w && !inst.provisioned {
                self.evict(cur, EvictReason::Reclaimed);
            }
            cur = next;
        }
    }

    /// Starts a new instance for request `slot` if a GPU worker can host it (after
    /// reclaiming idle instances if need be); with a scaling rate, a request that finds no
    /// token is throttled instead (`true`: the request is handled either way).
    fn gpu_new_instance(&mut self, slot: u32) -> Result<bool, SimError> {
        let f = self.invs[slot as usize].function;
        // One start at a time per function: while an instance loads (seconds, a GPU),
        // requests that do not fit its first batch wait for it rather than take another GPU
        // (as Knative's activator holds requests for a starting revision).
        let g = self.gpu();
        let starting = g
            .fn_instances
            .get(f.index())
            .is_some_and(|l| l.iter().any(|&i| !g.insts[i as usize].ready));
        if starting {
            return Ok(false);
        }
        // The scaling rate (`[limits]`): no token, no new execution environment.
        if self.admission && !self.has_scaling_token(f) {
            self.throttle(slot)?;
            return Ok(true);
        }
        let Some(w) = self.gpu_place(f)? else {
            return Ok(false);
        };
        if self.admission {
            self.take_scaling_token(f);
        }
        let kb = self.request_kb(slot);
        // `create_instance` binds the request and, through `model_load_step`, sets up the
        // GPU side of the instance.
        let i = self.create_instance(f, w, Some(slot))?;
        self.instances[i as usize].bound = NIL;
        let g = self.gpu_mut();
        if g.fn_instances.len() <= f.index() {
            g.fn_instances.resize(f.index() + 1, Vec::new());
        }
        g.fn_instances[f.index()].push(i);
        self.gpu_add_pending(i, slot, kb);
        Ok(true)
    }

    /// `create_instance`'s load step for instance `i` of `f` on `w`: the model comes from
    /// the fastest tier holding it, after the container's cold start `container` and any
    /// loads queued before it on the worker's loading link, then `init_ms`. Returns the
    /// instance's whole start. Fills the tiers the weights pass through and, with
    /// `exclusive`, gives the instance a GPU.
    pub(super) fn model_load_step(
        &mut self,
        f: FunctionId,
        w: WorkerId,
        i: u32,
        container: SimDuration,
    ) -> Result<SimDuration, SimError> {
        let now = self.now;
        let model = self.fns[f.index()].model;
        let g = self.gpu.as_deref_mut().expect("model serving");
        let wi = w.index();
        let (tier, begin, link, total) = g.plan(wi, model, now + container);
        let m = &g.cfg.models[model as usize];
        let (size, init) = (m.size_mb, m.init);
        let end = begin + total;
        if matches!(tier, Tier::Ssd | Tier::Remote) {
            g.workers[wi].loader_free_at = begin + link;
        }
        let copied = begin + link;
        let wk = &mut g.workers[wi];
        match tier {
            Tier::Dram | Tier::Gpu => {
                if let Some(e) = wk.dram.find(model) {
                    let e = &mut wk.dram.entries[e];
                    e.last_used = now;
                    e.uses += 1;
                }
            }
            Tier::Ssd => {
                if let Some(e) = wk.ssd.find(model) {
                    let e = &mut wk.ssd.entries[e];
                    e.last_used = now;
                    e.uses += 1;
                }
            }
            Tier::Remote => {
                // Written to the SSD cache as it arrives (off the critical path).
                GpuState::insert(
                    &mut wk.ssd,
                    g.cache.as_mut(),
                    &mut g.stats,
                    Tier::Ssd,
                    w,
                    model,
                    size,
                    0,
                    now,
                    copied,
                );
            }
        }
        if tier != Tier::Dram {
            let wk = &mut g.workers[wi];
            GpuState::insert(
                &mut wk.dram,
                g.cache.as_mut(),
                &mut g.stats,
                Tier::Dram,
                w,
                model,
                size,
                0,
                now,
                copied,
            );
        }
        let load = end - (now + container);
        let st = &mut g.stats[model as usize];
        st.loads[tier.index()] += 1;
        st.load_us += load.as_micros() as u128;
        st.load_us_max = st.load_us_max.max(load.as_micros());
        let gpu = match g.cfg.sharing {
            GpuSharing::Exclusive => {
                let wk = &mut g.workers[wi];
                let Some(k) = wk.gpus.iter().position(|x| x.owner == NIL) else {
                    return Err(SimError::Policy(format!(
                        "worker {w} has no free GPU for an instance of `{}`",
                        self.functions.get(f).name
                    )));
                };
                wk.gpus[k].owner = i;
                wk.owned += 1;
                k as u32
            }
            GpuSharing::Swap => NIL,
        };
        *g.inst(i) = GpuInst {
            live: true,
            ready: false,
            model,
            worker: w.0,
            gpu,
            ..Default::default()
        };
        let start = end + init - now;
        if start.as_micros() > TIME_LIMIT.as_micros() {
            return Err(SimError::time_limit(
                format!(
                    "the start of an instance of `{}`",
                    self.functions.get(f).name
                ),
                start.as_micros(),
            ));
        }
        Ok(start)
    }

    /// `on_ready` for a GPU instance: its first batch may start.
    pub(super) fn gpu_ready(&mut self, i: u32) -> Result<(), SimError> {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        inst.state = InstState::Ready;
        inst.ready_at = now;
        let (f, active) = (inst.function, inst.active);
        self.starting_instances -= 1;
        self.fns[f.index()].starting -= 1;
        if active > 0 {
            self.busy_instances += 1;
        }
        self.gpu_mut().insts[i as usize].ready = true;
        self.gpu_maybe_start(i)?;
        if self.instances[i as usize].active == 0 {
            self.make_idle(i);
            if self.gpu_queued > 0 {
                self.serve_gpu_queue()?;
            }
        }
        Ok(())
    }

    /// `evict` of a GPU instance: its GPU (`exclusive`) and its weights there go; its
    /// life is billed in GPU-seconds.
    pub(super) fn gpu_evicted(&mut self, i: u32) {
        if !self.gpu().insts.get(i as usize).is_some_and(|x| x.live) {
            return;
        }
        let now = self.now;
        let f = self.instances[i as usize].function;
        let created = self.instances[i as usize].created_at;
        let cost = self.gpu_close_instance(i, now, created);
        self.metrics.on_gpu_charge(f, cost);
        let g = self.gpu_mut();
        if let Some(list) = g.fn_instances.get_mut(f.index()) {
            list.retain(|&x| x != i);
        }
    }

    /// Closes instance `i` at `now`: frees its GPU, counts its GPU residency and bills its
    /// life. Returns the charge.
    fn gpu_close_instance(&mut self, i: u32, now: SimTime, created: SimTime) -> Money {
        let g = self.gpu.as_deref_mut().expect("model serving");
        let x = &mut g.insts[i as usize];
        x.live = false;
        let (model, w, gpu) = (x.model, x.worker as usize, x.gpu);
        if !x.running.is_empty() {
            // Cut at the horizon: the part of the batch computed so far.
            let busy = now.as_micros().saturating_sub(x.exec_start.as_micros());
            g.stats[model as usize].gpu_busy_us += busy.min(x.compute.as_micros()) as u128;
            let wk = &mut g.workers[w];
            wk.busy -= 1;
            wk.gpus[gpu as usize].running = NIL;
        }
        let life = now - created;
        if g.cfg.sharing == GpuSharing::Swap {
            // Billed per batch; a batch cut at the horizon for the part it held the GPU.
            let x = &g.insts[i as usize];
            if x.running.is_empty() {
                return Money::ZERO;
            }
            let held = now - x.gpu_since;
            return g.bill_ms(model, held.as_micros().div_ceil(1000));
        }
        let st = &mut g.stats[model as usize];
        st.resident_us[Tier::Gpu.index()] += life.as_micros() as u128;
        let wk = &mut g.workers[w];
        wk.gpus[gpu as usize].owner = NIL;
        wk.owned -= 1;
        let seconds = life.as_micros().div_ceil(1_000_000);
        g.bill_ms(model, seconds * 1000)
    }

    /// `finish`: bills the GPU instances still alive, closes residency and reports.
    pub(super) fn gpu_close(&mut self) -> Option<ServingReport> {
        self.gpu.as_ref()?;
        let now = self.now;
        for i in 0..self.gpu().insts.len() as u32 {
            if self.gpu().insts[i as usize].live {
                let (f, created) = (
                    self.instances[i as usize].function,
                    self.instances[i as usize].created_at,
                );
                let cost = self.gpu_close_instance(i, now, created);
                self.metrics.on_gpu_charge(f, cost);
            }
        }
        let g = self.gpu.as_deref_mut().expect("model serving");
        for wk in &g.workers {
            for (tier, cache) in [(Tier::Dram, &wk.dram), (Tier::Ssd, &wk.ssd)] {
                for e in &cache.entries {
                    g.stats[e.model as usize].resident_us[tier.index()] +=
                        (now - e.inserted).as_micros() as u128;
                }
            }
            if g.cfg.sharing == GpuSharing::Swap {
                for gpu in &wk.gpus {
                    for e in &gpu.cache.entries {
                        g.stats[e.model as usize].resident_us[Tier::Gpu.index()] +=
                            (now - e.inserted).as_micros() as u128;
                    }
                }
            }
        }
        // Models copied per function report their copies, not themselves.
        let stats = std::mem::take(&mut g.stats)
            .into_iter()
            .zip(&g.cfg.models)
            .filter(|(_, m)| !m.per_function)
            .map(|(s, _)| s)
            .collect();
        Some(ServingReport {
            models: stats,
            gpus: g.workers.iter().map(|w| w.gpus.len() as u64).sum(),
            ttft_us: g.ttft.clone(),
        })
    }
}
