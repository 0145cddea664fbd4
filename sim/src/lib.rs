//! # faasim-sim: the engine and the FaaS cluster model
//!
//! A deterministic discrete-event simulation of a serverless platform. An invocation
//! arrives; routing sends it to a warm instance of its function or asks for a cold start;
//! placement picks a worker with room for the new instance; the instance starts (cold-start
//! latency), runs the invocation, becomes idle, and the keep-alive policy says how long it
//! stays warm before it is evicted and its memory freed.
//!
//! ## Time
//! Time is an integer: [`SimTime`] and [`SimDuration`] count microseconds. Float seconds or
//! milliseconds from trace files are converted once, at the reader. Billing rounds integer
//! microseconds up to whole billing units; no epsilon appears anywhere.
//!
//! ## Event order and determinism
//! Events are a closed enum ordered by the key `(time, class, seq)`. `seq` is a global
//! insertion counter (first in, first out among equals). `class` fixes the order of kinds
//! at the same instant ([`EventClass`]):
//!
//! 1. completions (an execution ends, or a processor-sharing worker's next completion; an
//!    execution cut at its timeout ends here too),
//! 2. worker failures and repairs ([`Faults`]),
//! 3. instance ready (a cold start ends),
//! 4. keep-alive expiry: an instance idle since `t` with keep-alive `T` is still warm for an
//!    arrival at `t + T - 1 µs` and gone for one at `t + T`,
//! 5. queue timeouts,
//! 6. pre-warm timers,
//! 7. autoscaler ticks,
//! 8. arrivals, in trace order,
//! 9. invocations submitted by an engine [`Extension`], in submission order,
//! 10. asynchronous events delivered again ([`AsyncPolicy`]),
//! 11. time-series samples, which see the state after everything else at their instant.
//!
//! So an execution that ends at the instant a request arrives frees its instance for that
//! request (a warm start). Arrivals are not in the heap: they stream from the trace through
//! a cursor merged with it, so the heap holds only live work. Timers are cancelled by a
//! generation counter on the instance (slots are reused); each instance keeps at most its
//! earliest keep-alive event in the heap and re-checks its deadline when it fires.
//!
//! Randomness comes from named streams derived from the run seed ([`rng`]): cold starts,
//! placement and routing each have their own, and workloads draw from theirs, so a policy
//! that draws more numbers never changes the workload. State lives in `Vec`s addressed by
//! id newtypes; decisions never iterate a hash map, and ties go to the lowest id. The same
//! configuration, workload and seed give the same results, bit for bit, on any machine and
//! any thread count.
//!
//! ## The cluster
//! Workers have memory (MB) and cores. An instance holds its function's memory on one
//! worker from its creation (the start of its cold start) until its eviction. An instance
//! serves up to `instance_concurrency` executions at once; it is *idle* when none runs.
//! A request that arrives while a cold start of its function is under way does not wait for
//! that instance: it is routed like any other (warm instance or a new cold start).
//!
//! **When nothing fits.** If placement finds no worker with room, idle instances are
//! reclaimed: the engine walks the idle instances in reclaim order (least recently idle
//! first, or by the keep-alive policy's `victim_priority`), takes the first one on a worker
//! where evicting idle instances frees enough memory, and evicts that worker's idle
//! instances in the same order until the new instance fits. If even that fails, the request
//! is dropped (`OnFull::Drop`) or waits in a FIFO queue (`OnFull::Queue`, optionally with a
//! timeout measured from its arrival). A queued request is served by the first instance of
//! its function that frees a slot; otherwise the head of the queue gets the next memory
//! freed, and new requests do not overtake the queue to create instances.
//!
//! **Start types.** A new instance boots (its cold start), restores its function's snapshot
//! from a cluster-wide LRU store, or forks a ready instance of its function on the same
//! worker ([`start`]; off unless configured). The first execution after a lazy restore runs
//! `slowdown` times longer. A restore's or a fork's wait is a cold start for the invocation
//! that waits for it, but never billed as INIT time; SnapStart's cache and restore charges
//! go to the bill.
//!
//! **CPU.** With [`CpuModel::ProcessorSharing`], the executions on a worker share its cores
//! egalitarian-style: n executions on c cores each progress at min(1, c/n) of full speed, so
//! a worker that is not oversubscribed runs everything at full speed. Each worker keeps a
//! virtual clock (work done per job, in femtoseconds of one core) and a heap of jobs by
//! virtual finish time; a change of load reschedules one event, not every job. A trace's
//! duration is the execution time on an uncontended core; cold starts use no CPU.
//! [`CpuModel::Ignore`], the default, runs every execution for exactly its trace duration.
//! [`CpuModel::Proportional`] is AWS Lambda's CPU that follows memory: each instance
//! reserves a vCPU share of its memory / 1,769 MB (at most 6) on its worker for its whole
//! life, so a worker's room is the least of its free memory and its free cores; with
//! durations measured at 1 vCPU, an execution whose share is below 1 runs that much slower.
//!
//! ## Billing and accounting
//! Each completed invocation is charged per request plus its wall-clock execution time
//! (plus its cold start with `bill_init`) rounded up to the billing granularity, times its
//! memory, in exact integer [`Money`]. Idle memory ("wasted" memory) is integrated per
//! instance from the moment it becomes idle until it is used again or evicted;
//! instance-seconds run from creation to eviction; memory and core utilisation are
//! integrated over the run. Instances alive when the run ends are closed at its end.
//!
//! ## The provider's rules
//! Off by default ([`ProviderRules`], [`provider`]): an admission stage before routing
//! (account and reserved concurrency, and a token bucket of new execution environments, AWS's
//! 2023 or legacy rule) throttles what it refuses; asynchronous invocations are retried after
//! throttles, drops and worker failures (exponential backoff) and after function errors and
//! timeouts (`retries`, 1 then 2 minutes), within a maximum event age; executions are cut at
//! their function's timeout and fail with its error rate; workers fail on a schedule or by a
//! failure process. Every invocation still ends once, with one [`Outcome`], and is counted
//! once however often it was attempted: `completed + dropped + throttled + failed +
//! timed_out + unfinished = invocations`. Each new random draw has its own stream (errors per
//! function, faults, duplicates), so turning a rule on shifts no other draw.
//!
//! ## Model serving on GPUs
//! With [`engine::run_serving`] and a [`models::Serving`], functions that name a model run on
//! GPU workers: an instance's start includes loading the model from the fastest tier that
//! holds it (GPU, DRAM, SSD, remote), requests are batched, GPUs are owned by an instance
//! or shared by swapping models, and GPU time is billed per second. Batch ends and batch
//! timeouts are completions in the same-instant order. The provider's rules apply to model
//! requests (admission before a batch, a batch killed at its function's timeout, errors and
//! retries per request); worker failures are refused with models. [`models`] states the
//! model and its sources; runs without models never enter it.
//!
//! ## The end of a run
//! [`RunEnd::Drain`] (the default) processes every event, so instances kept alive after the
//! last request are counted until their keep-alive ends; [`RunEnd::Horizon`] stops at an
//! instant and ends what is still queued or running as [`Outcome::Unfinished`]. Every instant
//! and duration is checked against [`TIME_LIMIT`] (100 years). See the `engine` module.

#![warn(missing_docs)]

pub mod billing;
pub mod cluster;
pub mod digest;
pub mod dist;
pub mod engine;
pub mod functions;
pub mod ids;
pub mod metrics;
pub mod models;
pub mod policy;
mod prefetch;
pub mod provider;
pub mod queue;
pub mod rng;
pub mod start;
pub mod time;
pub mod vm;
pub mod workload;

pub use billing::{
    Bill, Billing, BillingError, BillingModel, Charge, ChargeKind, CustomPrices, Invoice, Money,
    Usage,
};
pub use cluster::{ClusterView, InstanceView, WorkerView};
pub use dist::{ColdStartPreset, ColdStartSpec, DistSpec, Draw, Recorded, Sampler};
pub use engine::{
    run, run_extended, run_serving, run_with, CpuModel, EngineConfig, Extension, Hold, OnFull,
    Policies, RequestPath, RunEnd, SimError, Submit, WorkerSpec, MAX_SAMPLES,
};
pub use functions::{FunctionOverrides, FunctionSettings};
pub use ids::{FunctionId, InstanceId, WorkerId};
pub use metrics::{
    ColdStartParts, FunctionStats, InvocationRecord, NullRecorder, Outcome, PartSums, Recorder,
    RunReport, RunStats, Sample, VecRecorder,
};
pub use models::{
    BatchLatency, GpuCandidate, GpuPricePreset, GpuSharing, GpuWorkerSpec, Lru, ModelCache,
    ModelSpec, ModelStats, Resident, Serving, ServingConfig, ServingReport, Tier, Tokens,
};
pub use policy::{
    Autoscaler, FunctionView, InvocationView, KeepAlive, KeepAliveDecision, LoadBalancer,
    Observation, Placement, RequestView, Route, Routing, ScalingView,
};
pub use provider::{
    AsyncPolicy, BucketScope, Faults, InvocationMode, Limits, Outage, ProviderRules, ScalingBucket,
};
pub use queue::EventClass;
pub use rng::{PolicyRng, SimRng};
pub use start::{
    ForkConfig, ForkPlacement, FunctionSnapshot, RestoreSpec, SnapshotConfig, SnapshotCreate,
    StartKind,
};
pub use time::{SimDuration, SimTime, TIME_LIMIT};
pub use vm::{
    measure_demand, run_fleet, Demand, InstanceTable, InstanceType, PriceColumn, VmConfig, VmError,
    VmReport, VmSpec,
};
pub use workload::{Arrival, ArrivalSource, FunctionSpec, FunctionTable, SourceError, VecSource};
