//! The engine: one event loop and the parts it dispatches to.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | configuration, the event enum, the loop (arrivals merged with the heap), the end of a run |
//! | `request.rs` | the request path: routing, placement, instance creation, queueing, executions |
//! | `plain.rs` | the plain request path: in the plainest runs, an arrival's execution kept on its instance, with the same events and figures |
//! | `balancing.rs` | per-request load balancing: a worker per request, worker-local warm reuse, reclaim and queues |
//! | `keep_alive.rs` | idle instances: keep-alive decisions, expiry timers, eviction, pre-warming, reclaim |
//! | `autoscaling.rs` | the autoscaler's ticks (Knative's KPA) and arrivals under it |
//! | `start.rs` | the start path: a start plan (boot, snapshot restore, fork) per new instance, the snapshot store |
//! | `cpu.rs` | execution counts per worker and processor sharing |
//! | `accounting.rs` | `Metrics`: every run-wide and per-function figure, through `on_*` hooks |
//! | `admission.rs` | concurrency limits and scaling buckets: a request is admitted or throttled |
//! | `retry.rs` | how an attempt ends (completed, function error, timeout), asynchronous events and their retries |
//! | `faults.rs` | worker failures and repairs |
//! | `gpu.rs` | model serving: GPU instances, model residency and loading, batching, swapping |
//!
//! Each part keeps its own state in the `Engine` struct and its events in the closed
//! `Event` enum; the loop only orders and dispatches. Figures are gathered by the metrics
//! store, whose `on_*` hooks are the one place a feature adds a counter.
//!
//! ## Extending the engine
//! A feature that reacts to the end of invocations (an orchestrator running the next step
//! of a workflow) implements [`Extension`] and is passed to [`run_extended`]: it sees every
//! ended invocation and may submit new ones at a later instant through [`Submit`]. Submitted
//! invocations are the only arrivals besides the trace's; at one instant they come after the
//! trace's arrivals, in submission order. It may also claim functions (a workflow's trace
//! rows start executions, not invocations), hold an execution open while it waits for
//! another (a synchronous call) and pre-warm instances: see `engine/extension.rs`.
//!
//! ## The end of a run
//! [`RunEnd::Drain`] (the default) processes every event: after the last request, instances
//! stay until their keep-alive ends and are counted until then; pre-warm timers still
//! pending are dropped (nothing will arrive); with a policy that never evicts the run ends
//! at the last completion. [`RunEnd::Horizon`] stops at an instant (given, or the source's
//! [`ArrivalSource::horizon`]): arrivals at or after it are outside the run, and invocations
//! still queued or running then end as [`Outcome::Unfinished`]. Either way, instances alive
//! at the end are closed at that instant.

use crate::billing::{Billing, Money};
use crate::cluster::{
    instance_view, list_push_back, list_remove, ps_key, ps_key_end, ps_key_slot, ClusterView,
    InstState, Instance, List, ListEnds, LocalAvail, PsWork, Worker, WorkerIndex, NIL,
};
use crate::dist::{ColdStartPreset, DistSpec, Sampler};
use crate::functions::FunctionSettings;
use crate::ids::{FunctionId, InstanceId, WorkerId};
use crate::metrics::{InvocationRecord, Outcome, Recorder, RunReport, Sample};
use crate::policy::{
    Autoscaler, FunctionView, InvocationView, KeepAlive, KeepAliveDecision, LoadBalancer,
    Observation, Placement, RequestView, Route, Routing, ScalingView,
};
use crate::prefetch::prefetch;
use crate::provider::{InvocationMode, ProviderRules};
use crate::queue::{key_time, order_key, EventClass, EventQueue};
use crate::rng::{streams, SimRng};
use crate::start::{ForkConfig, SnapshotConfig};
use crate::time::{SimDuration, SimTime, TIME_LIMIT};
use crate::workload::{Arrival, ArrivalSource, FunctionSpec, FunctionTable, SourceError};
use accounting::{EvictReason, Metrics};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Processor-sharing virtual time counts work in femtoseconds of one core: each advance
/// rounds down by less than 1 fs, so a job counts as done within [`PS_TOLERANCE_FS`] (1 ns of
/// work) of its finish, which absorbs up to a million roundings and never moves an exact
/// completion instant by a microsecond.
const FS_PER_US: u128 = 1_000_000_000;
const PS_TOLERANCE_FS: u128 = 1_000_000;

/// The most time-series rows one run may write: a bound on what one scenario can make
/// faasim write (a 100-year run sampled every minute would be 52 million rows).
pub const MAX_SAMPLES: u64 = 10_000_000;

/// One worker's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSpec {
    /// Memory, MB.
    pub memory_mb: u32,
    /// Cores shared by the executions on the worker (processor sharing).
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
    /// Every execution runs for exactly the duration the trace gives, whatever the load
    /// (the default: a trace's durations are what production measured, and AWS Lambda gives
    /// each instance its own share of CPU).
    #[default]
    Ignore,
    /// Egalitarian processor sharing, for contention studies: with n executions on c cores
    /// each runs at speed min(1, c/n), so durations stretch when a worker is oversubscribed
    /// (and with them the bill).
    ProcessorSharing,
    /// CPU that follows memory, as on AWS Lambda: an instance gets a vCPU share of its
    /// memory / 1,769 MB (at most 6 vCPUs), reserved on its worker, so placement fits memory
    /// and cores (`engine/cpu.rs`). One execution per instance (`instance_concurrency = 1`).
    Proportional {
        /// The trace's durations were measured at 1 vCPU: an execution whose share is below
        /// 1 runs at that fraction of the speed. False: durations as measured (a production
        /// trace already ran at each function's own share).
        durations_at_one_vcpu: bool,
    },
}

/// When a run ends (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunEnd {
    /// Process every event: idle instances are counted until their keep-alive ends.
    #[default]
    Drain,
    /// Stop at `at`, or at the source's horizon when `None`; what is still queued or running
    /// then ends as [`Outcome::Unfinished`].
    Horizon {
        /// The instant to stop at, overriding the source's horizon.
        at: Option<SimTime>,
    },
}

/// Which request path arrivals take (`engine/plain.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestPath {
    /// The plain path where the run allows it (one execution per instance, durations as
    /// given, no provider or per-function rules, balancer, autoscaler, extension, start
    /// types, provisioned instances or models), the general one otherwise. Both give the
    /// same results.
    #[default]
    Auto,
    /// The general path for every arrival (to check the plain one against it).
    General,
}

/// Everything the engine needs besides the policies and the workload.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The workers, in id order.
    pub workers: Vec<WorkerSpec>,
    /// Executions one instance serves at once (1 = AWS Lambda).
    pub instance_concurrency: u32,
    /// What a request that finds no room does.
    pub on_full: OnFull,
    /// Queued requests older than this are dropped.
    pub queue_timeout: Option<SimDuration>,
    /// Cold-start latency of a new instance.
    pub cold_start: DistSpec,
    /// Cold-start distributions for named functions, overriding `cold_start`.
    pub cold_start_per_function: Vec<(String, DistSpec)>,
    /// Per-function settings (`[functions."NAME"]`), resolved when a function registers.
    pub functions: FunctionSettings,
    /// Concurrency limits, the scaling rate, asynchronous retries and worker failures (all
    /// off by default).
    pub provider: ProviderRules,
    /// How executions share cores.
    pub cpu: CpuModel,
    /// Prices and rounding of the user's bill.
    pub billing: Billing,
    /// The run seed; every random stream derives from it.
    pub seed: u64,
    /// Emit a [`Sample`] at every multiple of this (and one at the end of the run).
    pub sample_interval: Option<SimDuration>,
    /// Provisioned concurrency: instances of each function initialised ahead of its first
    /// invocation (ready at once), kept all run, never reclaimed, billed at the model's
    /// provisioned prices for their lifetime and for the invocations they serve.
    pub provisioned_per_function: u32,
    /// When the run ends.
    pub end: RunEnd,
    /// Snapshot restores (`[platform.snapshot]`; off by default).
    pub snapshot: SnapshotConfig,
    /// Forks from a live instance (`[platform.fork]`; off by default).
    pub fork: ForkConfig,
    /// Which request path arrivals take (the same results either way).
    pub request_path: RequestPath,
}

/// The defaults of every entry point (the scenario file's defaults are these): ten workers
/// of 16 GiB and 8 cores, one execution per instance, FIFO queueing, the end-to-end
/// [`ColdStartPreset::Lambda`] cold start, durations as given ([`CpuModel::Ignore`]), AWS
/// Lambda x86 prices, seed 1, drain at the end.
impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: vec![
                WorkerSpec {
                    memory_mb: 16_384,
                    cores: 8
                };
                10
            ],
            instance_concurrency: 1,
            on_full: OnFull::Queue,
            queue_timeout: None,
            cold_start: ColdStartPreset::default().spec(),
            cold_start_per_function: Vec::new(),
            functions: FunctionSettings::default(),
            provider: ProviderRules::default(),
            cpu: CpuModel::Ignore,
            billing: Billing::default(),
            seed: 1,
            sample_interval: None,
            provisioned_per_function: 0,
            end: RunEnd::Drain,
            snapshot: SnapshotConfig::default(),
            fork: ForkConfig::default(),
            request_path: RequestPath::Auto,
        }
    }
}

/// The policies of a run.
pub struct Policies {
    /// Where a new instance goes (in cluster-wide mode; with a load balancer, only
    /// provisioned instances are placed).
    pub placement: Box<dyn Placement>,
    /// Which warm instance serves a request (with a load balancer: which of the chosen
    /// worker's warm instances).
    pub routing: Box<dyn Routing>,
    /// How long an idle instance stays.
    pub keep_alive: Box<dyn KeepAlive>,
    /// Per-request load balancing ([`LoadBalancer`]); `None` runs cluster-wide.
    pub load_balancer: Option<Box<dyn LoadBalancer>>,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration cannot be run.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The arrival source failed (a bad row, an I/O error).
    #[error(transparent)]
    Source(SourceError),
    /// A function does not fit on any worker.
    #[error(
        "function `{function}` needs {memory_mb} MB per instance but the largest worker has \
         {largest_mb} MB"
    )]
    FunctionTooLarge {
        /// The function's name.
        function: String,
        /// Its memory per instance.
        memory_mb: u32,
        /// The largest worker's memory.
        largest_mb: u32,
    },
    /// A function declared with no memory.
    #[error("function `{function}` has memory_mb = 0; instances need at least 1 MB")]
    ZeroMemory {
        /// The function's name.
        function: String,
    },
    /// The source returned arrivals out of time order.
    #[error("arrival {index} at {time} is earlier than the previous one at {previous}: the trace must be sorted by time")]
    Unsorted {
        /// Arrival index (0-based).
        index: u64,
        /// Its time.
        time: SimTime,
        /// The previous arrival's time.
        previous: SimTime,
    },
    /// An arrival named a function the source never declared.
    #[error("arrival {index} names function {function}, which the source never declared")]
    UnknownFunction {
        /// Arrival index (0-based).
        index: u64,
        /// The undeclared id.
        function: FunctionId,
    },
    /// A policy returned a decision the engine cannot apply.
    #[error("policy error: {0}")]
    Policy(String),
    /// Queued requests that nothing will ever serve.
    #[error(
        "the run stalled at {time}: {waiting} queued request(s) can never be served \
         (no pending event frees capacity)"
    )]
    Stalled {
        /// Requests waiting.
        waiting: u64,
        /// When it was detected.
        time: SimTime,
    },
    /// An instant or a duration beyond [`TIME_LIMIT`].
    #[error(
        "{what} of {value_s:.0} s is beyond the longest span faasim simulates \
         ({limit_s:.0} s, 100 years)"
    )]
    TimeLimit {
        /// What was too long (an arrival time, a duration, a cold start...).
        what: String,
        /// Its value, seconds.
        value_s: f64,
        /// [`TIME_LIMIT`] in seconds.
        limit_s: f64,
    },
    /// `RunEnd::Horizon` without an instant and a source without a horizon.
    #[error("the run should end at the trace's horizon, but this trace has none: give the end instant (`[run] end_s`)")]
    NoHorizon,
    /// More time-series rows than [`MAX_SAMPLES`].
    #[error("the time series would have more than {MAX_SAMPLES} rows at this interval: sample less often")]
    TooManySamples,
}

impl SimError {
    fn time_limit(what: impl Into<String>, us: u64) -> SimError {
        SimError::TimeLimit {
            what: what.into(),
            value_s: us as f64 / 1e6,
            limit_s: TIME_LIMIT.as_micros() as f64 / 1e6,
        }
    }
}

/// The tag of invocations that come from the trace.
const NO_TAG: u64 = u64::MAX;

/// Arrivals read from the source per call (40 KB: the batch stays in the first-level
/// caches while the engine replays it).
const ARRIVAL_BATCH: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// An execution ends (`cpu = ignore`), or is cut at its timeout.
    Done {
        inv: u32,
        gen: u32,
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
    /// An invocation submitted by the extension arrives (its slot in `Engine::submitted`).
    Injected {
        slot: u32,
    },
    /// An asynchronous event is delivered again.
    Retry {
        inv: u32,
        gen: u32,
    },
    /// A worker fails: outage `outage` of the schedule, or `u32::MAX` for the failure process.
    WorkerDown {
        worker: u32,
        outage: u32,
    },
    /// A worker is repaired (if `gen` is still its outage's).
    WorkerUp {
        worker: u32,
        gen: u32,
    },
    /// Model serving: a pending batch's timeout (`id` tells a batch that started since).
    BatchTimeout {
        inst: u32,
        id: u32,
    },
    /// Model serving: a batch ends.
    BatchDone {
        inst: u32,
        id: u32,
    },
    /// An execution of the plain path ends (`engine/plain.rs`): it lives on its instance.
    Ended {
        inst: u32,
        gen: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvState {
    Free,
    Queued,
    Starting,
    Running,
    /// An asynchronous event between two attempts (`retry.rs`).
    Waiting,
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
    tag: u64,
    /// The worker a load balancer sent it to (`NIL` in cluster-wide mode).
    worker: u32,
    /// Retried by the platform when throttled or when an attempt fails (`retry.rs`).
    asynchronous: bool,
    /// The execution was cut at its timeout.
    cut: bool,
    /// The attempt holds a unit of concurrency (`admission.rs`).
    admitted: bool,
    /// Retries after function errors, and after throttles or platform errors, so far.
    errors: u16,
    backoffs: u16,
}

impl Inv {
    /// Invocation `seq` of arrival `a`, just arrived (queued until it is dispatched).
    fn arrived(seq: u64, a: &Arrival, tag: u64, asynchronous: bool) -> Inv {
        Inv {
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
            tag,
            worker: NIL,
            asynchronous,
            cut: false,
            admitted: false,
            errors: 0,
            backoffs: 0,
        }
    }
}

struct FnState {
    memory_mb: u32,
    cold_sampler: usize,
    /// The latest cold-start latency the trace gave for this function: used for instances
    /// started without a request (pre-warms, autoscaler), as the trace's is the function's.
    last_cold: Option<SimDuration>,
    queue: VecDeque<(u32, u32)>,
    /// Requests of this function waiting in the queue.
    waiting: u32,
    live_instances: u32,
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
    /// Claimed by the extension: never deployed, its arrivals go to the extension.
    claimed: bool,
    /// Model serving: the model it serves (an index of `ServingConfig::models`), or `NIL`.
    model: u32,
}

/// Runs a workload to its end (see [`RunEnd`]) and reports what happened.
pub fn run(
    config: &EngineConfig,
    policies: Policies,
    source: &mut dyn ArrivalSource,
    recorder: &mut dyn Recorder,
) -> Result<RunReport, SimError> {
    run_extended(config, policies, None, None, source, recorder)
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
    run_extended(config, policies, autoscaler, None, source, recorder)
}

/// [`run_with`], with an [`Extension`] that reacts to ended invocations.
pub fn run_extended(
    config: &EngineConfig,
    policies: Policies,
    autoscaler: Option<Box<dyn Autoscaler>>,
    extension: Option<Box<dyn Extension>>,
    source: &mut dyn ArrivalSource,
    recorder: &mut dyn Recorder,
) -> Result<RunReport, SimError> {
    run_serving(
        config, None, policies, autoscaler, extension, source, recorder,
    )
}

/// [`run_extended`], serving models on GPU workers when `serving` is given (see
/// [`crate::models`]): functions that name a model run on GPU workers, load it when they
/// start, batch their requests and are billed per GPU-second. Model serving needs
/// cluster-wide placement: no per-request load balancer, no autoscaler; and no worker
/// failures ([`Faults`](crate::provider::Faults)).
pub fn run_serving(
    config: &EngineConfig,
    serving: Option<crate::models::Serving>,
    policies: Policies,
    autoscaler: Option<Box<dyn Autoscaler>>,
    extension: Option<Box<dyn Extension>>,
    source: &mut dyn ArrivalSource,
    recorder: &mut dyn Recorder,
) -> Result<RunReport, SimError> {
    if serving.is_some() && (autoscaler.is_some() || policies.load_balancer.is_some()) {
        return Err(SimError::Config(
            "model serving places GPU instances cluster-wide: it cannot be combined with an \
             autoscaler or a per-request load balancer"
                .into(),
        ));
    }
    if serving.is_some() && config.provider.faults.any() {
        return Err(SimError::Config(
            "worker failures ([faults]) cannot be combined with model serving: what becomes \
             of a failed GPU worker's instances, batches and cached models is not modelled"
                .into(),
        ));
    }
    if autoscaler.is_some() && policies.load_balancer.is_some() {
        return Err(SimError::Config(
            "an autoscaler scales each function across the cluster and cannot be combined \
             with a per-request load balancer"
                .into(),
        ));
    }
    let mut engine = Engine::new(config, policies, recorder)?;
    if let Some(s) = serving {
        engine.gpu = Some(Box::new(gpu::GpuState::new(s, config)?));
    }
    engine.autoscaler = autoscaler;
    engine.extension = extension;
    engine.choose_accounting();
    engine.run(source)?;
    Ok(engine.finish())
}

struct Engine<'r> {
    cfg: EngineConfig,
    placement: Box<dyn Placement>,
    routing: Box<dyn Routing>,
    keep_alive: Box<dyn KeepAlive>,
    /// The keep-alive policy's hints, asked once: whether it observes arrivals and
    /// evictions, and its fixed window if it has one.
    keep_alive_observes: bool,
    /// The routing policy's hint, asked once: it always takes the most recent warm instance.
    routes_most_recent: bool,
    /// The balancer's [`LoadBalancer::guesses`], asked once: whether to ask it per arrival
    /// for the workers to prefetch for.
    lb_guesses: bool,
    keep_alive_window: Option<SimDuration>,
    lb: Option<Box<dyn LoadBalancer>>,
    autoscaler: Option<Box<dyn Autoscaler>>,
    extension: Option<Box<dyn Extension>>,
    /// Whether the extension claimed any function.
    claims: bool,
    /// Invocations submitted by the extension, waiting for their instant (slots reused).
    submitted: Vec<Submission>,
    free_submitted: Vec<u32>,
    pending_submitted: u64,
    submissions: Vec<Submission>,
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
    rng_lb: SimRng,
    cold_samplers: Vec<Sampler>,
    /// The cold-start sampler of `[functions."*"]` and of each named entry, if they set one.
    settings_samplers: (Option<usize>, Vec<Option<usize>>),
    /// Whether each named `[functions."NAME"]` entry matched a function of the run.
    settings_used: Vec<bool>,
    /// Per sampler: where each part of its recorded rows goes among the run's part names
    /// (empty for the other kinds).
    cold_part_map: Vec<Vec<usize>>,
    /// Per-function cold starts by name: the index in `cold_samplers` (the first entry of a
    /// name wins).
    cold_by_name: FxHashMap<String, usize>,
    largest_worker_mb: u32,

    now: SimTime,
    events: EventQueue<Event>,
    functions: FunctionTable,
    fns: Vec<FnState>,
    avail: Vec<ListEnds>,
    /// Per-request load balancing: available lists per (function, worker).
    local_avail: LocalAvail,
    workers: Vec<Worker>,
    index: WorkerIndex,
    instances: Vec<Instance>,
    free_instances: Vec<u32>,
    idle: ListEnds,
    /// The batch of arrivals read from the source, handed out from `arrivals_next` on.
    arrivals: Vec<Arrival>,
    arrivals_next: usize,
    invs: Vec<Inv>,
    free_invs: Vec<u32>,
    global_queue: VecDeque<(u32, u32)>,
    queue_len: u32,
    in_flight: u64,
    /// Load balancing: requests sent to a worker and not ended (sum of `Worker::assigned`).
    assigned_total: u64,
    arrivals_seen: u64,

    used_mb: u64,
    idle_mb: u64,
    busy_cores: u64,
    live_instances: u32,
    starting_instances: u32,
    busy_instances: u32,
    executing: u32,
    metrics: Metrics,
    /// Start types besides boots: snapshot restores and forks (`engine/start.rs`).
    starts: start::Starts,
    /// `CpuModel::Proportional`: instances reserve vCPU shares; `busy_cores` counts the
    /// shares executing, in CPU units (`engine/cpu.rs`).
    cpu_shares: bool,
    /// The most CPU units one worker has (`u64::MAX` without shares).
    largest_cpu_cap: u64,
    scratch: Vec<u32>,
    ranked: Vec<(u64, u32)>,
    /// Per-function rules (timeout, errors, concurrency), by function id.
    rules: Vec<retry::FnRules>,
    /// Which parts of the provider's rules this run uses: each is one boolean on the
    /// request path when off.
    timeouts: bool,
    error_draws: bool,
    any_async: bool,
    admission: bool,
    /// `admission`, a load balancer or an autoscaler: arrivals take the general path.
    gated: bool,
    admission_state: admission::Admission,
    faults: Option<Box<faults::FaultState>>,
    /// `cfg.billing.model.prices()`, built once: every completion's charge reads it.
    prices: crate::billing::PriceList,
    /// Charges of earlier attempts of asynchronous events not yet ended, by slot.
    banked: FxHashMap<u32, crate::billing::Charge>,
    /// Completed deliveries whose duplicate is under way, by slot (`retry.rs`).
    first_deliveries: FxHashMap<u32, InvocationRecord>,
    rng_duplicates: SimRng,
    /// Model serving (`engine/gpu.rs`); `None` in runs without models.
    gpu: Option<Box<gpu::GpuState>>,
    /// Requests of model-serving functions waiting in the queue (part of `queue_len`).
    gpu_queued: u32,
    /// Arrivals take the plain path where they can (`engine/plain.rs`), decided before the
    /// run; then `plain` holds the plain executions, by instance.
    plain_path: bool,
    plain: Vec<plain::PlainExec>,
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
            local: $e.lb.is_some().then_some(&$e.local_avail),
            scope: None,
            scope_ends: None,
            assigned: $e.assigned_total,
        }
    };
    ($e:expr, $scope:expr, $ends:expr) => {
        ClusterView {
            now: $e.now,
            workers: &$e.workers,
            instances: &$e.instances,
            index: &$e.index,
            avail: &$e.avail,
            concurrency: $e.cfg.instance_concurrency,
            local: Some(&$e.local_avail),
            scope: Some($scope),
            scope_ends: Some($ends),
            assigned: $e.assigned_total,
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
        let mut cold_by_name = FxHashMap::default();
        for (name, spec) in &cfg.cold_start_per_function {
            cold_by_name
                .entry(name.clone())
                .or_insert(cold_samplers.len());
            cold_samplers.push(
                Sampler::new(spec)
                    .map_err(|e| SimError::Config(format!("cold start of `{name}`: {e}")))?,
            );
        }
        cfg.functions.validate().map_err(SimError::Config)?;
        cfg.provider
            .validate(cfg.workers.len())
            .map_err(SimError::Config)?;
        let mut add_sampler = |spec: &Option<DistSpec>, what: &str| {
            spec.as_ref()
                .map(|spec| {
                    cold_samplers.push(
                        Sampler::new(spec)
                            .map_err(|e| SimError::Config(format!("{what}.cold_start_ms: {e}")))?,
                    );
                    Ok(cold_samplers.len() - 1)
                })
                .transpose()
        };
        let all_sampler = add_sampler(&cfg.functions.all.cold_start, "functions.\"*\"")?;
        let mut named_samplers = Vec::with_capacity(cfg.functions.named.len());
        for (name, o) in &cfg.functions.named {
            named_samplers.push(add_sampler(
                &o.cold_start,
                &format!("functions.\"{name}\""),
            )?);
        }
        let mut part_names: Vec<String> = Vec::new();
        let cold_part_map = cold_samplers
            .iter()
            .map(|s| match s {
                Sampler::Recorded(r) => r
                    .parts()
                    .iter()
                    .map(|p| match part_names.iter().position(|n| n == p) {
                        Some(i) => i,
                        None => {
                            part_names.push(p.clone());
                            part_names.len() - 1
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        let cpu_shares = matches!(cfg.cpu, CpuModel::Proportional { .. });
        if cpu_shares && cfg.instance_concurrency != 1 {
            return Err(SimError::Config(
                "cpu = \"proportional\" gives each instance its own vCPU share, as AWS Lambda \
                 runs one execution per instance: instance_concurrency must be 1"
                    .into(),
            ));
        }
        let workers: Vec<Worker> = cfg
            .workers
            .iter()
            .map(|w| {
                let mut wk = Worker::new(w.memory_mb, w.cores);
                if cpu_shares {
                    wk.set_cpu(w.cores as u64 * cpu::MB_PER_VCPU as u64, 0);
                }
                wk
            })
            .collect();
        let index = WorkerIndex::new(&workers);
        let total_mem = workers.iter().map(|w| w.memory_mb as u64).sum();
        let total_cores = workers.iter().map(|w| w.cores as u64).sum();
        let starts = start::Starts::new(cfg)?;
        Ok(Engine {
            cfg: cfg.clone(),
            placement: policies.placement,
            routes_most_recent: policies.routing.routes_most_recent(),
            lb_guesses: policies
                .load_balancer
                .as_ref()
                .is_some_and(|lb| lb.guesses()),
            routing: policies.routing,
            keep_alive_observes: policies.keep_alive.observes(),
            keep_alive_window: policies.keep_alive.fixed_window(),
            keep_alive: policies.keep_alive,
            lb: policies.load_balancer,
            autoscaler: None,
            extension: None,
            claims: false,
            submitted: Vec::new(),
            free_submitted: Vec::new(),
            pending_submitted: 0,
            submissions: Vec::new(),
            scaled_fns: Vec::new(),
            tick_pending: false,
            creating_provisioned: false,
            stuck_ticks: 0,
            recorder,
            rng_cold: SimRng::stream(cfg.seed, streams::COLD_STARTS),
            rng_place: SimRng::stream(cfg.seed, streams::PLACEMENT),
            rng_route: SimRng::stream(cfg.seed, streams::ROUTING),
            rng_lb: SimRng::stream(cfg.seed, streams::LOAD_BALANCING),
            cold_samplers,
            settings_samplers: (all_sampler, named_samplers),
            settings_used: vec![false; cfg.functions.named.len()],
            cold_part_map,
            cold_by_name,
            largest_worker_mb: cfg.workers.iter().map(|w| w.memory_mb).max().unwrap_or(0),
            now: SimTime::ZERO,
            events: EventQueue::new(),
            functions: FunctionTable::new(),
            fns: Vec::new(),
            avail: Vec::new(),
            local_avail: LocalAvail::new(workers.len()),
            workers,
            index,
            instances: Vec::new(),
            free_instances: Vec::new(),
            idle: ListEnds::default(),
            arrivals: Vec::with_capacity(ARRIVAL_BATCH),
            arrivals_next: 0,
            invs: Vec::new(),
            free_invs: Vec::new(),
            global_queue: VecDeque::new(),
            queue_len: 0,
            in_flight: 0,
            assigned_total: 0,
            arrivals_seen: 0,
            used_mb: 0,
            idle_mb: 0,
            busy_cores: 0,
            live_instances: 0,
            starting_instances: 0,
            busy_instances: 0,
            executing: 0,
            metrics: {
                let mut m = Metrics::new(total_mem, total_cores, cfg.billing);
                m.parts.names = part_names;
                m.run.worker_exec_us = vec![0; cfg.workers.len()];
                m
            },
            starts,
            cpu_shares,
            largest_cpu_cap: if cpu_shares {
                cfg.workers
                    .iter()
                    .map(|w| w.cores as u64 * cpu::MB_PER_VCPU as u64)
                    .max()
                    .unwrap_or(0)
            } else {
                u64::MAX
            },
            scratch: Vec::new(),
            ranked: Vec::new(),
            rules: Vec::new(),
            timeouts: false,
            error_draws: false,
            any_async: false,
            admission: cfg.provider.limits != Default::default(),
            gated: false,
            admission_state: admission::Admission::new(&cfg.provider.limits),
            faults: cfg
                .provider
                .faults
                .any()
                .then(|| Box::new(faults::FaultState::new(cfg.seed, cfg.workers.len()))),
            prices: cfg.billing.model.prices(),
            banked: FxHashMap::default(),
            first_deliveries: FxHashMap::default(),
            rng_duplicates: SimRng::stream(cfg.seed, streams::DUPLICATES),
            gpu: None,
            gpu_queued: 0,
            plain_path: false,
            plain: Vec::new(),
        })
    }

    // ----- the loop -----

    /// Puts the source's next arrival in `next` (`None` at its end). An out-parameter, not
    /// a returned `Result<Option<Arrival>, _>`: the arrival is written once, where the loop
    /// keeps it, rather than moved through a wide return value per arrival. Arrivals are
    /// read from the source in batches ([`ArrivalSource::next_arrivals`]) into `arrivals`:
    /// one call through the source's layers per batch rather than per arrival. A run that
    /// serves models reads one at a time (its token counts are per call).
    #[inline]
    fn pull(
        &mut self,
        source: &mut dyn ArrivalSource,
        previous: SimTime,
        next: &mut Option<Arrival>,
    ) -> Result<(), SimError> {
        match self.arrivals.get(self.arrivals_next) {
            Some(&a) => {
                self.arrivals_next += 1;
                *next = Some(a);
            }
            None => self.refill(source, next)?,
        }
        if let Some(a) = next {
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
            self.check_arrival(a, "arrival")?;
        }
        Ok(())
    }

    /// [`Self::pull`] past the buffered arrivals: the source's next batch (new functions
    /// registered right after the call, as the source's contract has it).
    #[inline(never)]
    fn refill(
        &mut self,
        source: &mut dyn ArrivalSource,
        next: &mut Option<Arrival>,
    ) -> Result<(), SimError> {
        self.arrivals.clear();
        self.arrivals_next = 0;
        *next = if let Some(g) = &mut self.gpu {
            let a = source
                .next_arrival(&mut self.functions)
                .map_err(SimError::Source)?;
            // Model serving: the arrival's token counts, for token models.
            g.next_tokens = source.tokens();
            a
        } else {
            source
                .next_arrivals(&mut self.functions, &mut self.arrivals, ARRIVAL_BATCH)
                .map_err(SimError::Source)?;
            self.arrivals_next = 1;
            self.arrivals.first().copied()
        };
        self.sync_functions()
    }

    /// Every instant and duration that enters the engine is within [`TIME_LIMIT`]: three
    /// comparisons per arrival, the error built out of line.
    #[inline]
    fn check_arrival(&self, a: &Arrival, what: &str) -> Result<(), SimError> {
        let limit = TIME_LIMIT.as_micros();
        if a.time.as_micros() <= limit
            && a.duration.as_micros() <= limit
            && a.cold_start.is_none_or(|c| c.as_micros() <= limit)
        {
            return Ok(());
        }
        self.arrival_beyond_limit(a, what)
    }

    #[cold]
    #[inline(never)]
    fn arrival_beyond_limit(&self, a: &Arrival, what: &str) -> Result<(), SimError> {
        let n = self.arrivals_seen;
        if a.time > TIME_LIMIT {
            return Err(SimError::time_limit(
                format!("{what} {n}: time"),
                a.time.as_micros(),
            ));
        }
        if a.duration.as_micros() > TIME_LIMIT.as_micros() {
            return Err(SimError::time_limit(
                format!("{what} {n}: duration"),
                a.duration.as_micros(),
            ));
        }
        if let Some(c) = a
            .cold_start
            .filter(|c| c.as_micros() > TIME_LIMIT.as_micros())
        {
            return Err(SimError::time_limit(
                format!("{what} {n}: cold start"),
                c.as_micros(),
            ));
        }
        Ok(())
    }

    fn sync_functions(&mut self) -> Result<(), SimError> {
        while self.fns.len() < self.functions.len() {
            let id = FunctionId(self.fns.len() as u32);
            let claimed = self.extension_claims(id);
            self.claims |= claimed;
            // `[functions."NAME"]`: the named cold start, then the platform's per-name one,
            // then the wildcard's, then the scenario-wide one.
            let mut cold_sampler = self.cold_by_name.get(&self.functions.get(id).name).copied();
            let mut rules = retry::FnRules::default();
            if !self.cfg.functions.is_empty() {
                let (entry, settings) = self.cfg.functions.resolve(&self.functions.get(id).name);
                rules = self.resolve_rules(id, &settings);
                if let Some(mb) = settings.memory_mb {
                    self.functions.set_memory(id, mb);
                }
                let named = entry.and_then(|p| {
                    self.settings_used[p] = true;
                    self.settings_samplers.1[p]
                });
                cold_sampler = named.or(cold_sampler).or(self.settings_samplers.0);
            }
            let cold_sampler = cold_sampler.unwrap_or(0);
            // Model serving and SLOs: the function's model and latency objective.
            let (model, slo) = self.function_model(id, claimed)?;
            self.metrics.on_function_slo(id, slo);
            let spec = self.functions.get(id);
            // A claimed function is never deployed: its memory is not checked.
            if !claimed && spec.memory_mb == 0 {
                return Err(SimError::ZeroMemory {
                    function: spec.name.clone(),
                });
            }
            if !claimed && model == NIL && spec.memory_mb > self.largest_worker_mb {
                return Err(SimError::FunctionTooLarge {
                    function: spec.name.clone(),
                    memory_mb: spec.memory_mb,
                    largest_mb: self.largest_worker_mb,
                });
            }
            if !claimed && cpu::share_units(spec.memory_mb) > self.largest_cpu_cap {
                return Err(SimError::Config(format!(
                    "function `{}` of {} MB reserves {:.2} vCPUs (memory / {} MB) but the \
                     largest worker has {} cores",
                    spec.name,
                    spec.memory_mb,
                    cpu::share_units(spec.memory_mb) as f64 / cpu::MB_PER_VCPU as f64,
                    cpu::MB_PER_VCPU,
                    self.largest_cpu_cap / cpu::MB_PER_VCPU as u64
                )));
            }
            self.fns.push(FnState {
                memory_mb: spec.memory_mb,
                cold_sampler,
                last_cold: None,
                queue: VecDeque::new(),
                waiting: 0,
                live_instances: 0,
                in_flight: 0,
                in_flight_us: 0,
                in_flight_since: SimTime::ZERO,
                scaled: false,
                starting: 0,
                prewarm_gen: 0,
                claimed,
                model,
            });
            self.metrics.on_function(id);
            self.add_rules(rules);
            self.avail.push(ListEnds::default());
            if self.starts.any() {
                self.start_register(id)?;
            }
            if self.cfg.provisioned_per_function > 0 && !claimed && model == NIL {
                self.create_provisioned(id, self.cfg.provisioned_per_function)?;
            }
        }
        Ok(())
    }

    fn run(&mut self, source: &mut dyn ArrivalSource) -> Result<(), SimError> {
        self.plain_path = self.plain_eligible();
        match self.plain_path {
            true => self.run_loop::<true>(source),
            false => self.run_loop::<false>(source),
        }
    }

    /// The loop, with `PLAIN` when arrivals may take the plain path (`engine/plain.rs`): one
    /// copy of the loop per path, so the general one asks nothing more per arrival.
    fn run_loop<const PLAIN: bool>(
        &mut self,
        source: &mut dyn ArrivalSource,
    ) -> Result<(), SimError> {
        let horizon = match self.cfg.end {
            RunEnd::Drain => None,
            RunEnd::Horizon { at } => Some(at.or(source.horizon()).ok_or(SimError::NoHorizon)?),
        };
        if let Some(h) = horizon.filter(|&h| h > TIME_LIMIT) {
            return Err(SimError::time_limit("the horizon", h.as_micros()));
        }
        self.gated = self.admission || self.lb.is_some() || self.autoscaler.is_some();
        if self.faults.is_some() {
            self.schedule_faults();
        }
        // Arrivals at or after the horizon are outside the run.
        let beyond = |a: &Option<Arrival>| a.is_some_and(|a| horizon.is_some_and(|h| a.time >= h));
        let mut next = None;
        self.pull(source, SimTime::ZERO, &mut next)?;
        if beyond(&next) {
            next = None;
        }
        let interval = self.cfg.sample_interval;
        let mut next_sample = interval.map(|d| SimTime::ZERO + d);
        loop {
            let mut heap_key = self.events.peek_key();
            if let Some(h) = horizon {
                heap_key = heap_key.filter(|&k| key_time(k) <= h);
            }
            let arrival_key = next.map(|a| order_key(a.time, EventClass::Arrival, 0));
            // The earlier of the two (a match, not an iterator chain: once per event).
            let first = match (heap_key, arrival_key) {
                (Some(h), Some(a)) => Some(h.min(a)),
                (h, a) => h.or(a),
            };
            let Some(k) = first else {
                if horizon.is_none() && self.in_flight > 0 {
                    // Nothing left can serve the requests still waiting: say so rather
                    // than end as if they had been served.
                    return Err(SimError::Stalled {
                        waiting: self.queue_len as u64,
                        time: self.now,
                    });
                }
                break;
            };
            let t = key_time(k);
            if t > TIME_LIMIT {
                return Err(SimError::time_limit("the simulated clock", t.as_micros()));
            }
            if Some(k) == arrival_key {
                self.samples_before(t, &mut next_sample)?;
                self.advance(t);
                self.metrics.run.events += 1;
                let a = next.take().expect("arrival key implies an arrival");
                self.prefetch_arrivals::<PLAIN>();
                if PLAIN {
                    self.plain_arrival(a)?;
                } else if self.claims && self.fns[a.function.index()].claimed {
                    self.on_claimed_arrival(a)?;
                } else {
                    self.on_arrival(a, NO_TAG)?;
                }
                self.pull(source, a.time, &mut next)?;
                if beyond(&next) {
                    next = None;
                }
            } else {
                let (_, ev) = self.events.pop().expect("heap key implies an event");
                self.prefetch_events();
                let draining = horizon.is_none()
                    && next.is_none()
                    && self.in_flight == 0
                    && self.pending_submitted == 0;
                if draining && self.is_stale(ev, t) {
                    continue;
                }
                self.samples_before(t, &mut next_sample)?;
                self.advance(t);
                self.metrics.run.events += 1;
                self.dispatch(ev)?;
            }
        }
        let end = horizon.unwrap_or(self.now);
        self.samples_before(end + SimDuration(1), &mut next_sample)?;
        self.advance(end);
        if horizon.is_some() {
            self.cut_unfinished();
        }
        // The last, partial interval (and one row even for a run that ends at 0).
        if interval.is_some() && (self.metrics.last_sample < end || self.metrics.samples == 0) {
            self.emit_sample()?;
        }
        Ok(())
    }

    /// Prefetches for the next two buffered arrivals: the function's state for the one
    /// after next, the instance its warm start will most likely take for the next (its
    /// function's available list, fetched one arrival earlier, names it), and the
    /// invocation slots they will most likely be given.
    #[inline(always)]
    fn prefetch_arrivals<const PLAIN: bool>(&self) {
        if let Some(b) = self.arrivals.get(self.arrivals_next + 1) {
            let f = b.function.index();
            if !PLAIN {
                // The plain path reads a function's state only on a cold start.
                prefetch(&self.fns, f, false);
            }
            prefetch(&self.avail, f, false);
            self.metrics.prefetch_function(b.function);
        }
        // The slots freed last (unless ends free others first).
        if !PLAIN {
            if let [.., s1, s0] = self.free_invs[..] {
                prefetch(&self.invs, s0 as usize, true);
                prefetch(&self.invs, s1 as usize, true);
            }
        }
        if let Some(b) = self.arrivals.get(self.arrivals_next) {
            if let Some(ends) = self.avail.get(b.function.index()) {
                if ends.tail != NIL {
                    prefetch(&self.instances, ends.tail as usize, false);
                    if PLAIN {
                        // Where its execution will be kept.
                        prefetch(&self.plain, ends.tail as usize, true);
                    }
                }
            }
        }
        if let Some(lb) = self.lb.as_ref().filter(|_| self.lb_guesses) {
            self.prefetch_balanced(lb.as_ref());
        }
    }

    /// Under per-request balancing, the same two stages on the workers the balancer will
    /// most likely choose ([`LoadBalancer::likely_worker`]; the current arrival is the
    /// next call, so the buffered ones are 1 and 2 calls on): the (function, worker) list
    /// of the arrival after next, and the instance at the tail of the next one's list.
    #[inline(never)]
    fn prefetch_balanced(&self, lb: &dyn LoadBalancer) {
        let c = view!(self);
        let local = &self.local_avail;
        if let Some(b) = self.arrivals.get(self.arrivals_next + 1) {
            if let Some(l) = lb
                .likely_worker(2, b.function, &c, &self.rng_lb)
                .and_then(|w| local.row_slot(b.function, w))
            {
                prefetch(&local.lists, l, false);
            }
        }
        if let Some(b) = self.arrivals.get(self.arrivals_next) {
            if let Some(l) = lb
                .likely_worker(1, b.function, &c, &self.rng_lb)
                .and_then(|w| local.row_slot(b.function, w))
            {
                let tail = local.lists[l].tail;
                if tail != NIL {
                    prefetch(&self.instances, tail as usize, false);
                }
            }
        }
    }

    /// Prefetches for the heap's next two events, in two stages. When they end
    /// executions: the invocation of the one after next, then (its invocation fetched one
    /// event earlier) the instance and function state of the next. When they are an
    /// instance's own (its cold start's end, its keep-alive's expiry, which runs that start
    /// many instances take as often as executions' ends): the instance of the one after
    /// next, named by the event itself, then the function state and (with a balancer) the
    /// (function, worker) list of the next, named by its instance.
    #[inline(always)]
    fn prefetch_events(&self) {
        match self.events.upcoming(1) {
            Some(&(Event::Expiry { inst, .. } | Event::Ready { inst, .. })) => {
                prefetch(&self.instances, inst as usize, true);
            }
            Some(&Event::Ended { inst, .. }) => {
                prefetch(&self.instances, inst as usize, true);
                prefetch(&self.plain, inst as usize, true);
            }
            Some(e) => {
                if let Some(inv) = self.ended_by(e) {
                    prefetch(&self.invs, inv as usize, true);
                }
            }
            None => {}
        }
        match self.events.upcoming(0) {
            Some(&(Event::Expiry { inst, .. } | Event::Ready { inst, .. })) => {
                if let Some(i) = self.instances.get(inst as usize) {
                    prefetch(&self.fns, i.function.index(), false);
                    if self.lb.is_some() {
                        prefetch(&self.local_avail.lists, i.local_list as usize, false);
                    }
                }
            }
            Some(&Event::Ended { inst, .. }) => {
                if let Some(i) = self.instances.get(inst as usize) {
                    prefetch(&self.avail, i.function.index(), true);
                    self.metrics.prefetch_function(i.function);
                }
            }
            Some(e) => {
                if let Some(r) = self.ended_by(e).and_then(|inv| self.invs.get(inv as usize)) {
                    if r.instance != NIL {
                        prefetch(&self.instances, r.instance as usize, true);
                    }
                    prefetch(&self.fns, r.function.index(), false);
                    self.metrics.prefetch_function(r.function);
                }
            }
            None => {}
        }
    }

    /// The invocation whose execution event `e` would end: an end under `cpu = "ignore"`,
    /// the worker's first job at a processor-sharing wakeup (if the wakeup is not
    /// superseded).
    #[inline(always)]
    fn ended_by(&self, e: &Event) -> Option<u32> {
        match *e {
            Event::Done { inv, .. } => Some(inv),
            Event::WorkerCpu { worker } => self
                .workers
                .get(worker as usize)?
                .ps
                .jobs
                .peek()
                .map(|k| ps_key_slot(k.0)),
            _ => None,
        }
    }

    /// Emits the samples due strictly before `t` (a sample sees everything at its instant,
    /// so one at `t` waits for the events at `t`).
    #[inline]
    fn samples_before(
        &mut self,
        t: SimTime,
        next_sample: &mut Option<SimTime>,
    ) -> Result<(), SimError> {
        while let Some(ts) = next_sample.filter(|&ts| ts < t) {
            self.advance(ts);
            self.emit_sample()?;
            *next_sample = Some(ts + self.cfg.sample_interval.unwrap_or_default());
        }
        Ok(())
    }

    /// While draining (nothing more will arrive, nothing is in flight), an event that would
    /// change nothing must not move the end of the run: a timer of an instance since evicted
    /// or reused, a processor-sharing wakeup superseded by an earlier one, a pre-warm for
    /// requests that will never come.
    fn is_stale(&self, ev: Event, t: SimTime) -> bool {
        match ev {
            Event::Expiry { inst, gen } => {
                let i = &self.instances[inst as usize];
                i.gen != gen || i.state != InstState::Ready || i.expires_at == SimTime::MAX
            }
            Event::Prewarm { .. } | Event::QueueTimeout { .. } | Event::BatchTimeout { .. } => true,
            Event::WorkerCpu { worker } => self.workers[worker as usize].ps.pending != Some(t),
            // Nothing is in flight: a failure would only lose idle instances.
            Event::WorkerDown { .. } | Event::WorkerUp { .. } => true,
            // Executions cut short and instances lost to a failed worker leave their events.
            Event::Done { inv, gen } => self.invs[inv as usize].gen != gen,
            Event::Ready { inst, gen } | Event::Ended { inst, gen } => {
                self.instances[inst as usize].gen != gen
            }
            Event::Autoscale
            | Event::Injected { .. }
            | Event::Retry { .. }
            | Event::BatchDone { .. } => false,
        }
    }

    /// Horizon: what is still queued or running ends unfinished, in arrival order.
    fn cut_unfinished(&mut self) {
        self.plain_to_slots();
        let mut open: Vec<(u64, u32)> = self
            .invs
            .iter()
            .enumerate()
            .filter(|(_, i)| i.state != InvState::Free)
            .map(|(s, i)| (i.seq, s as u32))
            .collect();
        open.sort_unstable();
        for (_, slot) in open {
            self.end_invocation(slot, Outcome::Unfinished);
        }
    }

    /// Moves the clock, integrating the time-weighted figures.
    fn advance(&mut self, t: SimTime) {
        debug_assert!(t >= self.now);
        let dt = (t - self.now).as_micros() as u128;
        if dt > 0 {
            self.metrics
                .on_time(dt, self.used_mb as u128, self.busy_cores as u128);
            self.now = t;
        }
    }

    #[inline(always)]
    fn dispatch(&mut self, ev: Event) -> Result<(), SimError> {
        match ev {
            Event::Done { inv, gen } => {
                if self.invs[inv as usize].gen != gen {
                    return Ok(());
                }
                let inst = &self.instances[self.invs[inv as usize].instance as usize];
                let (w, mb) = (inst.worker, inst.memory_mb);
                self.exec_count(w, -1);
                if self.cpu_shares {
                    self.busy_cores -= cpu::share_units(mb);
                }
                self.execution_ended(inv)
            }
            Event::WorkerCpu { worker } => self.on_worker_cpu(worker),
            Event::Ready { inst, gen } => self.on_ready(inst, gen),
            Event::Expiry { inst, gen } => self.on_expiry(inst, gen),
            Event::QueueTimeout { inv, gen } => {
                let i = self.invs[inv as usize];
                if i.gen == gen && i.state == InvState::Queued {
                    self.queue_len -= 1;
                    self.fns[i.function.index()].waiting -= 1;
                    if self.fns[i.function.index()].model != NIL {
                        self.gpu_queued -= 1; // model serving
                    }
                    if i.worker != NIL {
                        self.workers[i.worker as usize].queued -= 1;
                    }
                    self.drop_invocation(inv, Outcome::DroppedTimeout)?;
                    // If it was the head, the next request may fit where it did not.
                    if i.worker != NIL {
                        self.serve_worker_queue(WorkerId(i.worker))?;
                    } else if self.queue_len > 0 {
                        self.serve_global_queue()?;
                    }
                }
                Ok(())
            }
            Event::Prewarm { function, gen } => self.on_prewarm(FunctionId(function), gen),
            Event::Autoscale => self.on_autoscale(),
            Event::Injected { slot } => self.on_injected(slot),
            Event::Retry { inv, gen } => self.on_retry(inv, gen),
            Event::WorkerDown { worker, outage } => self.on_worker_down(worker, outage),
            Event::WorkerUp { worker, gen } => self.on_worker_up(worker, gen),
            Event::BatchTimeout { inst, id } => self.gpu_batch_timeout(inst, id),
            Event::BatchDone { inst, id } => self.gpu_batch_done(inst, id),
            Event::Ended { inst, gen } => self.plain_ended(inst, gen),
        }
    }
}

mod accounting;
mod admission;
mod autoscaling;
mod balancing;
mod cpu;
mod extension;
mod faults;
mod gpu;
mod keep_alive;
mod plain;
mod request;
mod retry;
mod start;

use extension::Submission;
pub use extension::{Extension, Hold, Submit};
use plain::StartFor;
