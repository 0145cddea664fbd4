//! The engine loop: arrivals merged with the event heap, the request path, keep-alive,
//! reclaiming, queueing, processor sharing and the accounting of every run-wide figure.

use crate::billing::{Billing, Money};
use crate::cluster::{
    instance_view, list_push_back, list_remove, ClusterView, InstState, Instance, List, ListEnds,
    ProcShare, Worker, WorkerIndex, NIL,
};
use crate::dist::{DistSpec, Sampler};
use crate::ids::{FunctionId, InstanceId, WorkerId};
use crate::metrics::{
    FunctionStats, InvocationRecord, Outcome, Recorder, RunReport, RunStats, Sample,
};
use crate::policy::{
    Autoscaler, FunctionView, InvocationView, KeepAlive, KeepAliveDecision, Observation, Placement,
    Route, Routing, ScalingView,
};
use crate::queue::{key_time, order_key, EventClass, EventQueue};
use crate::rng::{streams, SimRng};
use crate::time::{SimDuration, SimTime};
use crate::workload::{Arrival, ArrivalSource, FunctionTable, SourceError};
use std::collections::VecDeque;

/// Processor-sharing virtual time counts work in femtoseconds of one core: each advance
/// rounds down by less than 1 fs, so a job counts as done within [`PS_TOLERANCE_FS`] (1 ns of
/// work) of its finish, which absorbs up to a million roundings and never moves an exact
/// completion instant by a microsecond.
const FS_PER_US: u128 = 1_000_000_000;
const PS_TOLERANCE_FS: u128 = 1_000_000;

/// One worker's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSpec {
    pub memory_mb: u32,
    pub cores: u32,
}

/// What happens to a request when no instance can take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFull {
    /// Wait in a FIFO queue (optionally until a timeout, then drop).
    #[default]
    Queue,
    /// Reject at once.
    Drop,
}

/// How executions use the workers' cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuModel {
    /// Egalitarian processor sharing: with n executions on c cores each runs at speed
    /// min(1, c/n).
    #[default]
    ProcessorSharing,
    /// Every execution runs at full speed whatever the load.
    Ignore,
}

/// Everything the engine needs besides the policies and the workload.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub workers: Vec<WorkerSpec>,
    /// Executions one instance serves at once (1 = AWS Lambda).
    pub instance_concurrency: u32,
    pub on_full: OnFull,
    /// Queued requests older than this are dropped.
    pub queue_timeout: Option<SimDuration>,
    pub cold_start: DistSpec,
    /// Cold-start distributions for named functions, overriding `cold_start`.
    pub cold_start_per_function: Vec<(String, DistSpec)>,
    pub cpu: CpuModel,
    pub billing: Billing,
    pub seed: u64,
    /// Emit a [`Sample`] at every multiple of this.
    pub sample_interval: Option<SimDuration>,
    /// Provisioned concurrency: instances of each function initialised ahead of its first
    /// invocation (ready at once), kept all run, never reclaimed, billed at the model's
    /// provisioned prices for their lifetime and for the invocations they serve.
    pub provisioned_per_function: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: vec![
                WorkerSpec {
                    memory_mb: 8192,
                    cores: 4
                };
                4
            ],
            instance_concurrency: 1,
            on_full: OnFull::Queue,
            queue_timeout: None,
            cold_start: DistSpec::Constant { value_ms: 100.0 },
            cold_start_per_function: Vec::new(),
            cpu: CpuModel::ProcessorSharing,
            billing: Billing::default(),
            seed: 0,
            sample_interval: None,
            provisioned_per_function: 0,
        }
    }
}

/// The three policies of a run.
pub struct Policies {
    pub placement: Box<dyn Placement>,
    pub routing: Box<dyn Routing>,
    pub keep_alive: Box<dyn KeepAlive>,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Source(SourceError),
    #[error(
        "function `{function}` needs {memory_mb} MB per instance but the largest worker has \
         {largest_mb} MB"
    )]
    FunctionTooLarge {
        function: String,
        memory_mb: u32,
        largest_mb: u32,
    },
    #[error("function `{function}` has memory_mb = 0; instances need at least 1 MB")]
    ZeroMemory { function: String },
    #[error("arrival {index} at {time} is earlier than the previous one at {previous}: the trace must be sorted by time")]
    Unsorted {
        index: u64,
        time: SimTime,
        previous: SimTime,
    },
    #[error("arrival {index} names function {function}, which the source never declared")]
    UnknownFunction { index: u64, function: FunctionId },
    #[error("policy error: {0}")]
    Policy(String),
    #[error(
        "the run stalled at {time}: {waiting} queued request(s) can never be served \
         (no pending event frees capacity)"
    )]
    Stalled { waiting: u64, time: SimTime },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// An execution ends (`cpu = ignore`).
    Done {
        inv: u32,
    },
    /// The next processor-sharing completion on a worker.
    WorkerCpu {
        worker: u32,
    },
    Ready {
        inst: u32,
        gen: u32,
    },
    Expiry {
        inst: u32,
        gen: u32,
    },
    QueueTimeout {
        inv: u32,
        gen: u32,
    },
    Prewarm {
        function: u32,
        gen: u32,
    },
    Autoscale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvState {
    Free,
    Queued,
    Starting,
    Running,
}

#[derive(Debug, Clone, Copy)]
struct Inv {
    seq: u64,
    gen: u32,
    state: InvState,
    function: FunctionId,
    arrival: SimTime,
    dispatched: SimTime,
    start: SimTime,
    work: SimDuration,
    cold_override: Option<SimDuration>,
    init: SimDuration,
    cold: bool,
    instance: u32,
}

struct FnState {
    memory_mb: u32,
    cold_sampler: usize,
    queue: VecDeque<(u32, u32)>,
    live_instances: u32,
    stats: FunctionStats,
    /// Autoscaling: requests in flight, their time integral since the last tick, and
    /// whether the function is on the autoscaler's list.
    in_flight: u32,
    in_flight_us: u128,
    in_flight_since: SimTime,
    scaled: bool,
    /// Instances of this function in their cold start.
    starting: u32,
    /// Bumped by each pre-warm request and each instance creation: a pre-warm event with
    /// an older generation is stale.
    prewarm_gen: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EvictReason {
    Expired,
    Reclaimed,
}

/// Runs a workload to completion and reports what happened.
///
/// The run ends when the trace is exhausted and every invocation has completed or been
/// dropped, or at the source's horizon if that is later. Instances still alive at the end are
/// closed then (their idle time counts up to the end).
pub fn run(
    config: &EngineConfig,
    policies: Policies,
    source: &mut dyn ArrivalSource,
    recorder: &mut dyn Recorder,
) -> Result<RunReport, SimError> {
    run_with(config, policies, None, source, recorder)
}

/// [`run`], with instances scaled by `autoscaler` instead of one cold start per request
/// that finds no free slot (see [`Autoscaler`]).
pub fn run_with(
    config: &EngineConfig,
    policies: Policies,
    autoscaler: Option<Box<dyn Autoscaler>>,
    source: &mut dyn ArrivalSource,
    recorder: &mut dyn Recorder,
) -> Result<RunReport, SimError> {
    let mut engine = Engine::new(config, policies, recorder)?;
    engine.autoscaler = autoscaler;
    engine.run(source)?;
    Ok(engine.finish())
}

struct Engine<'r> {
    cfg: EngineConfig,
    placement: Box<dyn Placement>,
    routing: Box<dyn Routing>,
    keep_alive: Box<dyn KeepAlive>,
    autoscaler: Option<Box<dyn Autoscaler>>,
    /// Functions the autoscaler looks at each tick, in order of first activity.
    scaled_fns: Vec<FunctionId>,
    tick_pending: bool,
    /// Set while creating provisioned instances (ready at once, never reclaimed).
    creating_provisioned: bool,
    /// Consecutive ticks with requests waiting and nothing running or starting.
    stuck_ticks: u32,
    recorder: &'r mut dyn Recorder,
    rng_cold: SimRng,
    rng_place: SimRng,
    rng_route: SimRng,
    cold_samplers: Vec<Sampler>,
    largest_worker_mb: u32,

    now: SimTime,
    events: EventQueue<Event>,
    functions: FunctionTable,
    fns: Vec<FnState>,
    avail: Vec<ListEnds>,
    workers: Vec<Worker>,
    index: WorkerIndex,
    instances: Vec<Instance>,
    free_instances: Vec<u32>,
    idle: ListEnds,
    invs: Vec<Inv>,
    free_invs: Vec<u32>,
    global_queue: VecDeque<(u32, u32)>,
    queue_len: u32,
    in_flight: u64,
    arrivals_seen: u64,

    used_mb: u64,
    idle_mb: u64,
    busy_cores: u64,
    live_instances: u32,
    starting_instances: u32,
    busy_instances: u32,
    executing: u32,
    stats: RunStats,
    interval: Sample,
    scratch: Vec<u32>,
    ranked: Vec<(u64, u32)>,
}

macro_rules! view {
    ($e:expr) => {
        ClusterView {
            now: $e.now,
            workers: &$e.workers,
            instances: &$e.instances,
            index: &$e.index,
            avail: &$e.avail,
            concurrency: $e.cfg.instance_concurrency,
        }
    };
}

impl<'r> Engine<'r> {
    fn new(
        cfg: &EngineConfig,
        policies: Policies,
        recorder: &'r mut dyn Recorder,
    ) -> Result<Self, SimError> {
        if cfg.workers.is_empty() {
            return Err(SimError::Config(
                "the cluster needs at least one worker".into(),
            ));
        }
        for (i, w) in cfg.workers.iter().enumerate() {
            if w.memory_mb == 0 || w.cores == 0 {
                return Err(SimError::Config(format!(
                    "worker {i} needs memory_mb > 0 and cores > 0"
                )));
            }
        }
        if cfg.instance_concurrency == 0 {
            return Err(SimError::Config("instance_concurrency must be >= 1".into()));
        }
        if cfg.sample_interval == Some(SimDuration::ZERO) {
            return Err(SimError::Config("the sampling interval must be > 0".into()));
        }
        let mut cold_samplers = vec![Sampler::new(&cfg.cold_start)
            .map_err(|e| SimError::Config(format!("cold start: {e}")))?];
        for (name, spec) in &cfg.cold_start_per_function {
            cold_samplers.push(
                Sampler::new(spec)
                    .map_err(|e| SimError::Config(format!("cold start of `{name}`: {e}")))?,
            );
        }
        let workers: Vec<Worker> = cfg
            .workers
            .iter()
            .map(|w| Worker {
                memory_mb: w.memory_mb,
                cores: w.cores,
                used_mb: 0,
                idle_mb: 0,
                instances: 0,
                executing: 0,
                ps: ProcShare::default(),
            })
            .collect();
        let index = WorkerIndex::new(&workers);
        let total_mem = workers.iter().map(|w| w.memory_mb as u64).sum();
        let total_cores = workers.iter().map(|w| w.cores as u64).sum();
        Ok(Engine {
            cfg: cfg.clone(),
            placement: policies.placement,
            routing: policies.routing,
            keep_alive: policies.keep_alive,
            autoscaler: None,
            scaled_fns: Vec::new(),
            tick_pending: false,
            creating_provisioned: false,
            stuck_ticks: 0,
            recorder,
            rng_cold: SimRng::stream(cfg.seed, streams::COLD_STARTS),
            rng_place: SimRng::stream(cfg.seed, streams::PLACEMENT),
            rng_route: SimRng::stream(cfg.seed, streams::ROUTING),
            cold_samplers,
            largest_worker_mb: cfg.workers.iter().map(|w| w.memory_mb).max().unwrap_or(0),
            now: SimTime::ZERO,
            events: EventQueue::new(),
            functions: FunctionTable::new(),
            fns: Vec::new(),
            avail: Vec::new(),
            workers,
            index,
            instances: Vec::new(),
            free_instances: Vec::new(),
            idle: ListEnds::default(),
            invs: Vec::new(),
            free_invs: Vec::new(),
            global_queue: VecDeque::new(),
            queue_len: 0,
            in_flight: 0,
            arrivals_seen: 0,
            used_mb: 0,
            idle_mb: 0,
            busy_cores: 0,
            live_instances: 0,
            starting_instances: 0,
            busy_instances: 0,
            executing: 0,
            stats: RunStats::new(total_mem, total_cores, cfg.billing),
            interval: Sample::default(),
            scratch: Vec::new(),
            ranked: Vec::new(),
        })
    }

    // ----- the loop -----

    fn pull(
        &mut self,
        source: &mut dyn ArrivalSource,
        previous: SimTime,
    ) -> Result<Option<Arrival>, SimError> {
        let a = source
            .next_arrival(&mut self.functions)
            .map_err(SimError::Source)?;
        self.sync_functions()?;
        if let Some(a) = &a {
            if a.time < previous {
                return Err(SimError::Unsorted {
                    index: self.arrivals_seen,
                    time: a.time,
                    previous,
                });
            }
            if a.function.index() >= self.fns.len() {
                return Err(SimError::UnknownFunction {
                    index: self.arrivals_seen,
                    function: a.function,
                });
            }
        }
        Ok(a)
    }

    fn sync_functions(&mut self) -> Result<(), SimError> {
        while self.fns.len() < self.functions.len() {
            let id = FunctionId(self.fns.len() as u32);
            let spec = self.functions.get(id);
            if spec.memory_mb == 0 {
                return Err(SimError::ZeroMemory {
                    function: spec.name.clone(),
                });
            }
            if spec.memory_mb > self.largest_worker_mb {
                return Err(SimError::FunctionTooLarge {
                    function: spec.name.clone(),
                    memory_mb: spec.memory_mb,
                    largest_mb: self.largest_worker_mb,
                });
            }
            let cold_sampler = self
                .cfg
                .cold_start_per_function
                .iter()
                .position(|(n, _)| *n == spec.name)
                .map_or(0, |p| p + 1);
            self.fns.push(FnState {
                memory_mb: spec.memory_mb,
                cold_sampler,
                queue: VecDeque::new(),
                live_instances: 0,
                stats: FunctionStats::new(id),
                in_flight: 0,
                in_flight_us: 0,
                in_flight_since: SimTime::ZERO,
                scaled: false,
                starting: 0,
                prewarm_gen: 0,
            });
            self.avail.push(ListEnds::default());
            if self.cfg.provisioned_per_function > 0 {
                self.create_provisioned(id, self.cfg.provisioned_per_function)?;
            }
        }
        Ok(())
    }

    fn run(&mut self, source: &mut dyn ArrivalSource) -> Result<(), SimError> {
        let mut next = self.pull(source, SimTime::ZERO)?;
        let horizon = source.horizon().unwrap_or(SimTime::ZERO);
        let mut next_sample = self.cfg.sample_interval.map(|d| SimTime::ZERO + d);
        loop {
            let heap_key = self.events.peek_key();
            let arrival_key = next.map(|a| order_key(a.time, EventClass::Arrival, 0));
            let work_left = next.is_some() || self.in_flight > 0;
            // Past the horizon, only events that serve in-flight invocations matter.
            let heap_key = heap_key.filter(|&k| work_left || key_time(k) <= horizon);
            let sample_key = next_sample
                .filter(|&t| work_left || t <= horizon.max(self.now))
                .map(|t| order_key(t, EventClass::Sample, 0));
            if heap_key.is_none() && arrival_key.is_none() && self.in_flight > 0 {
                // Nothing left can serve the requests still waiting: say so rather than
                // sample an unchanging state forever.
                return Err(SimError::Stalled {
                    waiting: self.queue_len as u64,
                    time: self.now,
                });
            }
            let Some(k) = [heap_key, arrival_key, sample_key]
                .into_iter()
                .flatten()
                .min()
            else {
                break;
            };
            self.advance(key_time(k));
            self.stats.events += 1;
            if Some(k) == arrival_key {
                let a = next.take().expect("arrival key implies an arrival");
                self.on_arrival(a)?;
                next = self.pull(source, a.time)?;
            } else if Some(k) == sample_key {
                self.emit_sample();
                next_sample = next_sample.map(|t| t + self.cfg.sample_interval.unwrap_or_default());
            } else {
                let (_, ev) = self.events.pop().expect("heap key implies an event");
                self.dispatch(ev)?;
            }
        }
        if horizon > self.now {
            self.advance(horizon);
        }
        Ok(())
    }

    /// Moves the clock, integrating the time-weighted figures.
    fn advance(&mut self, t: SimTime) {
        debug_assert!(t >= self.now);
        let dt = (t - self.now).as_micros() as u128;
        if dt > 0 {
            self.stats.used_mb_us += self.used_mb as u128 * dt;
            self.stats.busy_core_us += self.busy_cores as u128 * dt;
            self.now = t;
        }
    }

    fn dispatch(&mut self, ev: Event) -> Result<(), SimError> {
        match ev {
            Event::Done { inv } => {
                let w = self.instances[self.invs[inv as usize].instance as usize].worker;
                self.exec_count(w, -1);
                self.finish_execution(inv)
            }
            Event::WorkerCpu { worker } => self.on_worker_cpu(worker),
            Event::Ready { inst, gen } => self.on_ready(inst, gen),
            Event::Expiry { inst, gen } => self.on_expiry(inst, gen),
            Event::QueueTimeout { inv, gen } => {
                let i = self.invs[inv as usize];
                if i.gen == gen && i.state == InvState::Queued {
                    self.queue_len -= 1;
                    self.drop_invocation(inv, Outcome::DroppedTimeout);
                    // If it was the head, the next request may fit where it did not.
                    if self.queue_len > 0 {
                        self.serve_global_queue()?;
                    }
                }
                Ok(())
            }
            Event::Prewarm { function, gen } => self.on_prewarm(FunctionId(function), gen),
            Event::Autoscale => self.on_autoscale(),
        }
    }

    // ----- the request path -----

    fn on_arrival(&mut self, a: Arrival) -> Result<(), SimError> {
        let seq = self.arrivals_seen;
        self.arrivals_seen += 1;
        self.stats.invocations += 1;
        self.interval.arrivals += 1;
        self.fns[a.function.index()].stats.invocations += 1;
        self.keep_alive.observe(&Observation::Arrival {
            function: a.function,
            time: a.time,
        });
        let slot = self.alloc_inv(Inv {
            seq,
            gen: 0,
            state: InvState::Queued,
            function: a.function,
            arrival: a.time,
            dispatched: a.time,
            start: a.time,
            work: a.duration,
            cold_override: a.cold_start,
            init: SimDuration::ZERO,
            cold: false,
            instance: NIL,
        });
        self.in_flight += 1;
        if self.autoscaler.is_some() {
            return self.arrive_autoscaled(slot);
        }
        // Requests already waiting keep their turn: a new request may only take a warm
        // instance, not memory, while the queue is non-empty.
        let may_create = self.queue_len == 0;
        if self.try_assign(slot, may_create)? {
            return Ok(());
        }
        match self.cfg.on_full {
            OnFull::Drop => self.drop_invocation(slot, Outcome::DroppedFull),
            OnFull::Queue => self.enqueue(slot),
        }
        Ok(())
    }

    fn alloc_inv(&mut self, mut inv: Inv) -> u32 {
        if let Some(s) = self.free_invs.pop() {
            inv.gen = self.invs[s as usize].gen;
            self.invs[s as usize] = inv;
            s
        } else {
            self.invs.push(inv);
            (self.invs.len() - 1) as u32
        }
    }

    fn free_inv(&mut self, slot: u32) {
        if self.autoscaler.is_some() {
            let f = self.invs[slot as usize].function;
            self.in_flight_change(f, -1);
        }
        let i = &mut self.invs[slot as usize];
        i.state = InvState::Free;
        i.gen = i.gen.wrapping_add(1);
        self.free_invs.push(slot);
        self.in_flight -= 1;
    }

    fn enqueue(&mut self, slot: u32) {
        let inv = self.invs[slot as usize];
        // With an autoscaler, only the function's own instances serve its queue.
        if self.autoscaler.is_none() {
            self.global_queue.push_back((slot, inv.gen));
        }
        self.fns[inv.function.index()]
            .queue
            .push_back((slot, inv.gen));
        self.queue_len += 1;
        self.stats.peak_queue = self.stats.peak_queue.max(self.queue_len);
        if let Some(t) = self.cfg.queue_timeout {
            self.events.push(
                inv.arrival + t,
                EventClass::QueueTimeout,
                Event::QueueTimeout {
                    inv: slot,
                    gen: inv.gen,
                },
            );
        }
    }

    fn is_queued(&self, (slot, gen): (u32, u32)) -> bool {
        let i = &self.invs[slot as usize];
        i.gen == gen && i.state == InvState::Queued
    }

    /// Routes the invocation to a warm instance, or creates one (if `may_create`).
    fn try_assign(&mut self, slot: u32, may_create: bool) -> Result<bool, SimError> {
        let inv = self.invs[slot as usize];
        let f = inv.function;
        let route = if self.avail[f.index()].head == NIL {
            Route::Cold
        } else {
            let view = InvocationView {
                id: inv.seq,
                function: f,
                arrival: inv.arrival,
            };
            self.routing.route(&view, &view!(self), &mut self.rng_route)
        };
        match route {
            Route::Warm(i) => {
                let ok = self
                    .instances
                    .get(i.index())
                    .is_some_and(|x| x.in_avail && x.function == f && x.state == InstState::Ready);
                if !ok {
                    return Err(SimError::Policy(format!(
                        "routing chose {i}, which is not a warm instance of function {f} with a free slot"
                    )));
                }
                self.dispatch_warm(slot, i.0);
                Ok(true)
            }
            Route::Cold if !may_create => Ok(false),
            Route::Cold => match self.find_worker(f, true)? {
                Some(w) => {
                    self.create_instance(f, w, Some(slot));
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }

    /// Asks placement for a worker with room, then (if allowed) reclaims idle memory.
    fn find_worker(&mut self, f: FunctionId, reclaim: bool) -> Result<Option<WorkerId>, SimError> {
        let mb = self.fns[f.index()].memory_mb;
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

    fn dispatch_warm(&mut self, slot: u32, i: u32) {
        let now = self.now;
        if self.instances[i as usize].in_idle {
            self.leave_idle(i);
        }
        if self.instances[i as usize].active == 0 {
            self.busy_instances += 1;
        }
        let f = self.instances[i as usize].function;
        list_remove(
            &mut self.instances,
            &mut self.avail[f.index()],
            List::Avail,
            i,
        );
        let inst = &mut self.instances[i as usize];
        inst.active += 1;
        inst.last_used = now;
        inst.expires_at = SimTime::MAX;
        if inst.active < self.cfg.instance_concurrency {
            list_push_back(
                &mut self.instances,
                &mut self.avail[f.index()],
                List::Avail,
                i,
            );
        }
        let inv = &mut self.invs[slot as usize];
        inv.instance = i;
        inv.dispatched = now;
        inv.cold = false;
        self.start_execution(slot);
    }

    fn create_instance(&mut self, f: FunctionId, w: WorkerId, bound: Option<u32>) -> u32 {
        let now = self.now;
        let mb = self.fns[f.index()].memory_mb;
        let slot = match self.free_instances.pop() {
            Some(s) => s,
            None => {
                self.instances.push(Instance::vacant());
                (self.instances.len() - 1) as u32
            }
        };
        self.change_used(w, mb as i64);
        self.workers[w.index()].instances += 1;
        let init = match bound.and_then(|b| self.invs[b as usize].cold_override) {
            Some(d) => d,
            None if self.creating_provisioned => SimDuration::ZERO,
            None => {
                let s = self.fns[f.index()].cold_sampler;
                self.cold_samplers[s].sample(&mut self.rng_cold)
            }
        };
        let gen = self.instances[slot as usize].gen;
        let inst = &mut self.instances[slot as usize];
        *inst = Instance {
            function: f,
            worker: w,
            memory_mb: mb,
            gen,
            state: InstState::Starting,
            active: bound.is_some() as u32,
            created_at: now,
            ready_at: now + init,
            last_used: now,
            idle_since: now,
            bound: bound.unwrap_or(NIL),
            provisioned: self.creating_provisioned,
            ..Instance::vacant()
        };
        if let Some(b) = bound {
            let inv = &mut self.invs[b as usize];
            inv.state = InvState::Starting;
            inv.instance = slot;
            inv.dispatched = now;
            inv.cold = true;
            inv.init = init;
        }
        self.stats.init_mb_us += mb as u128 * init.as_micros() as u128;
        self.stats.instances_created += 1;
        self.interval.cold_starts += 1;
        self.live_instances += 1;
        self.starting_instances += 1;
        self.stats.peak_instances = self.stats.peak_instances.max(self.live_instances);
        let fs = &mut self.fns[f.index()];
        fs.live_instances += 1;
        fs.starting += 1;
        fs.prewarm_gen = fs.prewarm_gen.wrapping_add(1);
        fs.stats.instances_created += 1;
        self.events.push(
            now + init,
            EventClass::InstanceReady,
            Event::Ready { inst: slot, gen },
        );
        slot
    }

    /// Provisioned concurrency: `n` instances of a newly seen function, initialised ahead
    /// (ready at once), kept for the whole run, never reclaimed, billed at the provisioned
    /// prices.
    fn create_provisioned(&mut self, f: FunctionId, n: u32) -> Result<(), SimError> {
        for _ in 0..n {
            let Some(w) = self.find_worker(f, false)? else {
                return Err(SimError::Config(format!(
                    "the {n} provisioned instance(s) of `{}` do not fit in the cluster",
                    self.functions.get(f).name
                )));
            };
            self.creating_provisioned = true;
            self.create_instance(f, w, None);
            self.creating_provisioned = false;
        }
        Ok(())
    }

    fn on_ready(&mut self, i: u32, gen: u32) -> Result<(), SimError> {
        let inst = &mut self.instances[i as usize];
        debug_assert!(inst.gen == gen && inst.state == InstState::Starting);
        inst.state = InstState::Ready;
        inst.ready_at = self.now;
        let f = inst.function;
        let active = inst.active;
        self.starting_instances -= 1;
        self.fns[f.index()].starting -= 1;
        if active > 0 {
            self.busy_instances += 1;
            // The bound invocation is the one whose arrival created the instance.
            let slot = std::mem::replace(&mut self.instances[i as usize].bound, NIL);
            self.instances[i as usize].last_used = self.now;
            self.start_execution(slot);
        }
        if self.instances[i as usize].active < self.cfg.instance_concurrency {
            list_push_back(
                &mut self.instances,
                &mut self.avail[f.index()],
                List::Avail,
                i,
            );
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

    fn start_execution(&mut self, slot: u32) {
        let now = self.now;
        let inv = &mut self.invs[slot as usize];
        inv.state = InvState::Running;
        inv.start = now;
        let work = inv.work;
        let seq = inv.seq;
        let i = inv.instance as usize;
        self.instances[i].executions += 1;
        let w = self.instances[i].worker;
        match self.cfg.cpu {
            CpuModel::Ignore => {
                self.exec_count(w, 1);
                self.events.push(
                    now + work,
                    EventClass::Completion,
                    Event::Done { inv: slot },
                );
            }
            CpuModel::ProcessorSharing => {
                self.ps_advance(w);
                self.exec_count(w, 1);
                let ps = &mut self.workers[w.index()].ps;
                let vf = ps.vtime_fs + work.as_micros() as u128 * FS_PER_US;
                ps.jobs.push(std::cmp::Reverse((vf, seq, slot)));
                self.ps_reschedule(w);
            }
        }
    }

    fn exec_count(&mut self, w: WorkerId, delta: i32) {
        let wk = &mut self.workers[w.index()];
        let before = wk.executing.min(wk.cores);
        wk.executing = (wk.executing as i64 + delta as i64) as u32;
        let after = wk.executing.min(wk.cores);
        self.busy_cores = self.busy_cores + after as u64 - before as u64;
        self.executing = (self.executing as i64 + delta as i64) as u32;
    }

    fn finish_execution(&mut self, slot: u32) -> Result<(), SimError> {
        let now = self.now;
        let inv = self.invs[slot as usize];
        let i = inv.instance;
        self.record_completion(slot);
        self.free_inv(slot);
        let f = inv.function;
        let inst = &mut self.instances[i as usize];
        inst.active -= 1;
        inst.last_used = now;
        if inst.active == 0 {
            self.busy_instances -= 1;
        }
        if self.instances[i as usize].in_avail {
            list_remove(
                &mut self.instances,
                &mut self.avail[f.index()],
                List::Avail,
                i,
            );
        }
        list_push_back(
            &mut self.instances,
            &mut self.avail[f.index()],
            List::Avail,
            i,
        );
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
    fn serve_function_queue(&mut self, i: u32, started_at: Option<SimTime>) {
        let f = self.instances[i as usize].function;
        while self.instances[i as usize].in_avail {
            let Some(&head) = self.fns[f.index()].queue.front() else {
                return;
            };
            self.fns[f.index()].queue.pop_front();
            if !self.is_queued(head) {
                continue;
            }
            self.queue_len -= 1;
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
    fn serve_global_queue(&mut self) -> Result<(), SimError> {
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
        }
        Ok(())
    }

    fn record_completion(&mut self, slot: u32) {
        let now = self.now;
        let inv = self.invs[slot as usize];
        let inst = &self.instances[inv.instance as usize];
        let mb = inst.memory_mb;
        let billing = &self.cfg.billing;
        let charge = if inst.provisioned {
            billing
                .provisioned_invocation_charge(now - inv.start, mb)
                .unwrap_or_else(|| billing.charge(now - inv.start, inv.init, mb))
        } else {
            billing.charge(now - inv.start, inv.init, mb)
        };
        let rec = InvocationRecord {
            id: inv.seq,
            function: inv.function,
            outcome: Outcome::Completed,
            arrival: inv.arrival,
            dispatched: inv.dispatched,
            start: inv.start,
            end: now,
            cold_start: inv.cold,
            init: inv.init,
            worker: Some(inst.worker),
            instance: Some(InstanceId(inv.instance)),
            memory_mb: mb,
            charge,
        };
        let latency = rec.latency().as_micros();
        let s = &mut self.stats;
        s.completed += 1;
        s.latency_us.add(latency);
        s.queue_delay_us.add(rec.queue_delay().as_micros());
        if inv.cold {
            s.cold_starts += 1;
            s.init_us.add(inv.init.as_micros());
        }
        s.billed_mb_ms += charge.mb_ms;
        s.bill.add(&charge);
        s.request_cost += charge.request;
        s.duration_cost += charge.duration;
        let fs = &mut self.fns[inv.function.index()].stats;
        fs.completed += 1;
        fs.cold_starts += inv.cold as u64;
        fs.latency_us.add(latency);
        fs.mb_ms += charge.mb_ms;
        fs.cost += charge.total();
        self.recorder.invocation(&rec);
    }

    fn drop_invocation(&mut self, slot: u32, outcome: Outcome) {
        let inv = self.invs[slot as usize];
        let rec = InvocationRecord {
            id: inv.seq,
            function: inv.function,
            outcome,
            arrival: inv.arrival,
            dispatched: self.now,
            start: self.now,
            end: self.now,
            cold_start: false,
            init: SimDuration::ZERO,
            worker: None,
            instance: None,
            memory_mb: self.fns[inv.function.index()].memory_mb,
            charge: Default::default(),
        };
        self.stats.dropped += 1;
        if outcome == Outcome::DroppedTimeout {
            self.stats.dropped_timeout += 1;
        }
        self.interval.dropped += 1;
        self.fns[inv.function.index()].stats.dropped += 1;
        self.recorder.invocation(&rec);
        self.free_inv(slot);
    }

    // ----- keep-alive and eviction -----

    fn make_idle(&mut self, i: u32) {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        inst.idle_since = now;
        inst.first_idle_at.get_or_insert(now);
        let mb = inst.memory_mb;
        let w = inst.worker;
        list_push_back(&mut self.instances, &mut self.idle, List::Idle, i);
        let provisioned = self.instances[i as usize].provisioned;
        if !provisioned {
            // Provisioned instances are never reclaimed: not part of the worker's reclaimable memory.
            self.workers[w.index()].idle_mb += mb;
        }
        self.idle_mb += mb as u64;
        if self.autoscaler.is_some() || provisioned {
            // The autoscaler (or the provisioning), not keep-alive, removes instances.
            self.instances[i as usize].expires_at = SimTime::MAX;
            return;
        }
        let view = instance_view(&self.instances, InstanceId(i));
        match self.keep_alive.on_idle(&view, now) {
            KeepAliveDecision::EvictNow => self.evict(i, EvictReason::Expired),
            KeepAliveDecision::KeepUntil(t) if t <= now => self.evict(i, EvictReason::Expired),
            KeepAliveDecision::KeepUntil(t) => {
                self.instances[i as usize].expires_at = t;
                self.schedule_expiry(i, t);
            }
            KeepAliveDecision::KeepForever => self.instances[i as usize].expires_at = SimTime::MAX,
        }
    }

    /// Keeps at most the earliest expiry event per instance in the heap: a later deadline
    /// is re-checked when the pending event fires, so a hot instance costs no heap traffic.
    fn schedule_expiry(&mut self, i: u32, t: SimTime) {
        let inst = &mut self.instances[i as usize];
        if inst.expiry_event.is_some_and(|p| p <= t) {
            return;
        }
        inst.expiry_event = Some(t);
        let gen = inst.gen;
        self.events.push(
            t,
            EventClass::KeepAliveExpiry,
            Event::Expiry { inst: i, gen },
        );
    }

    fn on_expiry(&mut self, i: u32, gen: u32) -> Result<(), SimError> {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        if inst.gen != gen || inst.state != InstState::Ready {
            return Ok(());
        }
        if inst.expiry_event == Some(now) {
            inst.expiry_event = None;
        }
        if inst.active > 0 || inst.expires_at == SimTime::MAX {
            return Ok(());
        }
        if inst.expires_at <= now {
            self.evict(i, EvictReason::Expired);
            if self.queue_len > 0 {
                self.serve_global_queue()?;
            }
        } else {
            let t = inst.expires_at;
            self.schedule_expiry(i, t);
        }
        Ok(())
    }

    fn leave_idle(&mut self, i: u32) {
        let now = self.now;
        list_remove(&mut self.instances, &mut self.idle, List::Idle, i);
        let inst = &self.instances[i as usize];
        let mb = inst.memory_mb;
        let idle_us = (now - inst.idle_since).as_micros() as u128;
        let (w, f) = (inst.worker, inst.function);
        self.stats.idle_mb_us += mb as u128 * idle_us;
        self.fns[f.index()].stats.idle_mb_us += mb as u128 * idle_us;
        if !self.instances[i as usize].provisioned {
            self.workers[w.index()].idle_mb -= mb;
        }
        self.idle_mb -= mb as u64;
    }

    fn evict(&mut self, i: u32, reason: EvictReason) {
        let now = self.now;
        debug_assert_eq!(self.instances[i as usize].active, 0);
        self.leave_idle(i);
        let inst = &self.instances[i as usize];
        let (f, w, mb) = (inst.function, inst.worker, inst.memory_mb);
        let life = now - inst.created_at;
        self.stats.instance_us += life.as_micros() as u128;
        let (in_avail, provisioned) = (inst.in_avail, inst.provisioned);
        self.charge_instance(f, life, mb, provisioned);
        if in_avail {
            list_remove(
                &mut self.instances,
                &mut self.avail[f.index()],
                List::Avail,
                i,
            );
        }
        self.change_used(w, -(mb as i64));
        self.workers[w.index()].instances -= 1;
        let inst = &mut self.instances[i as usize];
        inst.state = InstState::Free;
        inst.gen = inst.gen.wrapping_add(1);
        inst.expiry_event = None;
        self.free_instances.push(i);
        self.live_instances -= 1;
        self.fns[f.index()].live_instances -= 1;
        match reason {
            EvictReason::Expired => self.stats.evictions_expired += 1,
            EvictReason::Reclaimed => self.stats.evictions_reclaimed += 1,
        }
        self.keep_alive.observe(&Observation::Eviction {
            instance: InstanceId(i),
            function: f,
            time: now,
        });
        if reason == EvictReason::Expired {
            if let Some(d) = self.keep_alive.prewarm(f, now) {
                let fs = &mut self.fns[f.index()];
                fs.prewarm_gen = fs.prewarm_gen.wrapping_add(1);
                self.events.push(
                    now + d,
                    EventClass::Prewarm,
                    Event::Prewarm {
                        function: f.0,
                        gen: self.fns[f.index()].prewarm_gen,
                    },
                );
            }
        }
    }

    fn on_prewarm(&mut self, f: FunctionId, gen: u32) -> Result<(), SimError> {
        // Only the latest pre-warm of a function counts, and never one that would take
        // memory queued requests are waiting for.
        let fs = &self.fns[f.index()];
        if gen != fs.prewarm_gen || fs.live_instances > 0 || self.queue_len > 0 {
            return Ok(());
        }
        if let Some(w) = self.find_worker(f, false)? {
            self.create_instance(f, w, None);
        }
        Ok(())
    }

    /// Instance-based billing (Cloud Run's): the instance's whole life is charged when it
    /// ends. A no-op for the per-invocation models.
    fn charge_instance(
        &mut self,
        f: FunctionId,
        life: SimDuration,
        memory_mb: u32,
        provisioned: bool,
    ) {
        let c = match provisioned {
            true => match self.cfg.billing.provisioned_time_charge(life, memory_mb, 1) {
                Some(c) => c,
                None => return,
            },
            false => self.cfg.billing.instance_charge(life, memory_mb),
        };
        if c.total() == Money::ZERO {
            return;
        }
        self.stats.bill.add(&c);
        self.stats.billed_mb_ms += c.mb_ms;
        self.stats.duration_cost += c.duration;
        self.fns[f.index()].stats.cost += c.total();
        self.fns[f.index()].stats.mb_ms += c.mb_ms;
    }

    fn change_used(&mut self, w: WorkerId, delta: i64) {
        let wk = &mut self.workers[w.index()];
        let old_free = wk.free_mb();
        let old_load = WorkerIndex::load_key(wk);
        wk.used_mb = (wk.used_mb as i64 + delta) as u32;
        debug_assert!(wk.used_mb <= wk.memory_mb, "worker memory over capacity");
        self.index
            .update(w, old_free, old_load, &self.workers[w.index()]);
        self.used_mb = (self.used_mb as i64 + delta) as u64;
        self.stats.peak_memory_mb = self.stats.peak_memory_mb.max(self.used_mb);
    }

    /// Frees room for `mb` by evicting idle instances: finds the first idle instance, in
    /// reclaim order, on a worker where evicting idle instances makes enough room, then
    /// evicts that worker's idle instances in the same order until it fits. The order is
    /// least recently used first unless the keep-alive policy ranks victims.
    fn reclaim(&mut self, mb: u32) -> Option<WorkerId> {
        if self.idle.head == NIL {
            return None;
        }
        let fits = |w: &Worker| w.free_mb() + w.idle_mb >= mb;
        let head_view = instance_view(&self.instances, InstanceId(self.idle.head));
        if self
            .keep_alive
            .victim_priority(&head_view, self.now)
            .is_some()
        {
            return self.reclaim_ranked(mb);
        }
        let mut cur = self.idle.head;
        while cur != NIL
            && (self.instances[cur as usize].provisioned
                || !fits(&self.workers[self.instances[cur as usize].worker.index()]))
        {
            cur = self.instances[cur as usize].idle_next;
        }
        if cur == NIL {
            return None;
        }
        let target = self.instances[cur as usize].worker;
        while self.workers[target.index()].free_mb() < mb {
            let next = self.instances[cur as usize].idle_next;
            let inst = &self.instances[cur as usize];
            if inst.worker == target && !inst.provisioned {
                self.evict(cur, EvictReason::Reclaimed);
            }
            cur = next;
        }
        Some(target)
    }

    fn reclaim_ranked(&mut self, mb: u32) -> Option<WorkerId> {
        let mut ranked = std::mem::take(&mut self.ranked);
        ranked.clear();
        let mut cur = self.idle.head;
        while cur != NIL {
            if !self.instances[cur as usize].provisioned {
                let v = instance_view(&self.instances, InstanceId(cur));
                let p = self.keep_alive.victim_priority(&v, self.now).unwrap_or(0);
                ranked.push((p, cur));
            }
            cur = self.instances[cur as usize].idle_next;
        }
        ranked.sort_unstable();
        let target = ranked
            .iter()
            .map(|&(_, i)| self.instances[i as usize].worker)
            .find(|w| {
                let wk = &self.workers[w.index()];
                wk.free_mb() + wk.idle_mb >= mb
            });
        if let Some(t) = target {
            for &(_, i) in &ranked {
                if self.workers[t.index()].free_mb() >= mb {
                    break;
                }
                if self.instances[i as usize].worker == t {
                    self.evict(i, EvictReason::Reclaimed);
                }
            }
        }
        self.ranked = ranked;
        target
    }

    // ----- autoscaling -----

    fn in_flight_change(&mut self, f: FunctionId, delta: i32) {
        let now = self.now;
        let fs = &mut self.fns[f.index()];
        fs.in_flight_us += fs.in_flight as u128 * (now - fs.in_flight_since).as_micros() as u128;
        fs.in_flight_since = now;
        fs.in_flight = (fs.in_flight as i64 + delta as i64) as u32;
    }

    /// An arrival under an autoscaler: a free slot, else the function's queue (or a drop);
    /// a function with no instance gets one at once (Knative's activator).
    fn arrive_autoscaled(&mut self, slot: u32) -> Result<(), SimError> {
        let f = self.invs[slot as usize].function;
        self.in_flight_change(f, 1);
        if !self.fns[f.index()].scaled {
            self.fns[f.index()].scaled = true;
            self.scaled_fns.push(f);
        }
        if !self.tick_pending {
            let t = self
                .autoscaler
                .as_ref()
                .map_or(1, |a| a.tick().as_micros().max(1));
            let next = SimTime((self.now.as_micros() / t + 1) * t);
            self.events
                .push(next, EventClass::Autoscale, Event::Autoscale);
            self.tick_pending = true;
        }
        if self.try_assign(slot, false)? {
            return Ok(());
        }
        match self.cfg.on_full {
            OnFull::Drop => self.drop_invocation(slot, Outcome::DroppedFull),
            OnFull::Queue => self.enqueue(slot),
        }
        if self.fns[f.index()].live_instances == 0 {
            if let Some(w) = self.find_worker(f, true)? {
                self.create_instance(f, w, None);
            }
        }
        Ok(())
    }

    /// A tick: each function on the list gets the number of instances the autoscaler asks
    /// for (new ones start cold; surplus idle ones are evicted, least recently used first).
    fn on_autoscale(&mut self) -> Result<(), SimError> {
        self.tick_pending = false;
        let Some(mut scaler) = self.autoscaler.take() else {
            return Ok(());
        };
        let tick_us = scaler.tick().as_micros().max(1);
        let mut result = Ok(());
        let mut i = 0;
        while i < self.scaled_fns.len() {
            let f = self.scaled_fns[i];
            self.in_flight_change(f, 0);
            let fs = &mut self.fns[f.index()];
            let (ready, starting) = (fs.live_instances - fs.starting, fs.starting);
            let view = ScalingView {
                function: f,
                now: self.now,
                concurrency: fs.in_flight_us as f64 / tick_us as f64,
                in_flight: fs.in_flight,
                ready,
                starting,
                instance_concurrency: self.cfg.instance_concurrency,
            };
            fs.in_flight_us = 0;
            let desired = scaler.desired_instances(&view);
            let current = ready + starting;
            if desired > current {
                for _ in current..desired {
                    match self.find_worker(f, true) {
                        Ok(Some(w)) => {
                            self.create_instance(f, w, None);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
            } else if desired < current {
                self.scale_down(f, current - desired);
            }
            let fs = &mut self.fns[f.index()];
            if fs.live_instances == 0 && fs.in_flight == 0 {
                fs.scaled = false;
                self.scaled_fns.remove(i);
            } else {
                i += 1;
            }
        }
        let stuck = self.queue_len > 0 && self.executing == 0 && self.starting_instances == 0;
        self.stuck_ticks = if stuck { self.stuck_ticks + 1 } else { 0 };
        if self.stuck_ticks > 100 {
            return Err(SimError::Stalled {
                waiting: self.queue_len as u64,
                time: self.now,
            });
        }
        if !self.scaled_fns.is_empty() {
            self.events.push(
                self.now + SimDuration(tick_us),
                EventClass::Autoscale,
                Event::Autoscale,
            );
            self.tick_pending = true;
        }
        self.autoscaler = Some(scaler);
        result
    }

    /// Evicts up to `n` idle instances of `f`, least recently used first.
    fn scale_down(&mut self, f: FunctionId, n: u32) {
        let mut victims = std::mem::take(&mut self.scratch);
        victims.clear();
        let mut cur = self.avail[f.index()].head;
        while cur != NIL && victims.len() < n as usize {
            let inst = &self.instances[cur as usize];
            if inst.active == 0 && !inst.provisioned {
                victims.push(cur);
            }
            cur = self.instances[cur as usize].avail_next;
        }
        for &v in &victims {
            self.evict(v, EvictReason::Expired);
        }
        self.scratch = victims;
    }

    // ----- processor sharing -----

    /// Brings the worker's virtual time to now: each of n jobs on c cores advanced by
    /// dt * min(c, n) / n microseconds of work (kept in nanoseconds).
    fn ps_advance(&mut self, w: WorkerId) {
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
    fn ps_reschedule(&mut self, w: WorkerId) {
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
    fn on_worker_cpu(&mut self, worker: u32) -> Result<(), SimError> {
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
            result = self.finish_execution(slot);
            if result.is_err() {
                break;
            }
        }
        self.scratch = done;
        self.ps_reschedule(w);
        result
    }

    // ----- output -----

    fn emit_sample(&mut self) {
        let s = Sample {
            time: self.now,
            live_instances: self.live_instances,
            starting_instances: self.starting_instances,
            busy_instances: self.busy_instances,
            idle_instances: self.live_instances - self.starting_instances - self.busy_instances,
            memory_used_mb: self.used_mb,
            memory_idle_mb: self.idle_mb,
            executing: self.executing,
            queue_length: self.queue_len,
            ..self.interval
        };
        self.recorder.sample(&s);
        self.interval = Sample::default();
    }

    fn finish(mut self) -> RunReport {
        // Close the books on instances still alive.
        let now = self.now;
        for i in 0..self.instances.len() {
            let inst = &self.instances[i];
            if inst.state == InstState::Free {
                continue;
            }
            let (f, life, mb) = (inst.function, now - inst.created_at, inst.memory_mb);
            let provisioned = inst.provisioned;
            self.stats.instance_us += life.as_micros() as u128;
            self.charge_instance(f, life, mb, provisioned);
            if self.instances[i].in_idle {
                self.leave_idle(i as u32);
            }
        }
        self.stats.end = now;
        let functions = self.fns.into_iter().map(|f| f.stats).collect();
        RunReport {
            stats: self.stats,
            functions,
            function_table: self.functions,
        }
    }
}
