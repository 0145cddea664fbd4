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
}

mod accounting;
mod autoscaling;
mod cpu;
mod keep_alive;
mod request;
