//! The policy traits. Policies decide, the engine applies: a policy sees read-only views
//! and its own random stream, and returns a decision the engine checks and carries out.
//! A new policy is a type implementing one of these traits; nothing in the engine changes.

use crate::cluster::{ClusterView, InstanceView};
use crate::ids::{FunctionId, InstanceId, WorkerId};
use crate::models::GpuCandidate;
use crate::rng::PolicyRng;
use crate::time::{SimDuration, SimTime};

/// The function that needs a new instance.
#[derive(Debug, Clone, Copy)]
pub struct FunctionView<'a> {
    /// The function's id.
    pub id: FunctionId,
    /// Its name, as the trace gives it (hash-based placements key on it).
    pub name: &'a str,
    /// Memory the new instance will hold on its worker, MB.
    pub memory_mb: u32,
}

/// The invocation being routed.
#[derive(Debug, Clone, Copy)]
pub struct InvocationView {
    /// Sequence number in arrival order.
    pub id: u64,
    /// The function invoked.
    pub function: FunctionId,
    /// When the invocation arrived (earlier than now if it waited in the queue).
    pub arrival: SimTime,
}

/// Where an invocation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// To this ready instance of the invocation's function with a free slot.
    Warm(InstanceId),
    /// To a new instance (a cold start).
    Cold,
}

/// Chooses the worker for a new instance. Called only when an instance must be created.
/// Return a worker with at least `f.memory_mb` free, or `None` if none fits; the engine then
/// reclaims idle instances (see the crate docs) and, failing that, queues or drops.
pub trait Placement {
    /// The worker for a new instance of `f`, or `None` if no worker has room.
    fn place(
        &mut self,
        f: &FunctionView<'_>,
        c: &ClusterView<'_>,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId>;

    /// Model serving: the worker for a new instance of `f`, which serves a model, among the
    /// GPU workers that can host it (`candidates`, never empty, by worker id; each says
    /// where the model resides there and what loading it would cost). They can host it now;
    /// when no worker can, they are the workers where evicting idle instances makes room
    /// (`GpuCandidate::reclaim`), and the engine evicts there. Return one of them, or `None`
    /// to start no instance (the request waits). The default takes the first (lowest id).
    fn place_gpu(
        &mut self,
        _f: &FunctionView<'_>,
        candidates: &[GpuCandidate],
        _c: &ClusterView<'_>,
        _rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        candidates.first().map(|c| c.worker)
    }
}

/// The request a load balancer sends to a worker.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Sequence number in arrival order; `None` for a pre-warm (an instance started ahead
    /// of requests, placed where the balancer would send the function's requests).
    pub id: Option<u64>,
    /// The function invoked.
    pub function: FunctionId,
    /// Its name, as the trace gives it (hash-based balancers key on it).
    pub name: &'a str,
    /// Memory an instance of the function holds, MB.
    pub memory_mb: u32,
}

/// Per-request load balancing, as a FaaS controller does it (OpenWhisk's
/// `ShardingContainerPoolBalancer`, Ilúvatar's CH-RLU, Hermod): picks the worker of every
/// request. That worker serves it from its own warm instances (the routing policy chooses
/// among them), else starts an instance of its own (evicting its own idle instances, in
/// reclaim order, if it must), else queues it in its own FIFO queue (or drops it, with
/// `on_full = drop`). A warm instance on another worker does not help: locality is what
/// these policies are for. Without a load balancer the engine runs cluster-wide: any warm
/// instance serves, and placement chooses a worker only for new instances.
pub trait LoadBalancer {
    /// The worker for `r`: any worker (`0..c.worker_count()`), with room or not.
    fn select(&mut self, r: &RequestView<'_>, c: &ClusterView<'_>, rng: &mut PolicyRng)
        -> WorkerId;

    /// A guess, for prefetching only, of the worker [`select`](Self::select) would return
    /// for a request of `function` `ahead` calls from now (0: the next call), were nothing
    /// to change in between; `rng` is the stream `select` will draw from, as it is now.
    /// The engine asks it for the arrivals buffered behind the current one, so that the
    /// memory their requests will touch on that worker is on its way to the cache when
    /// they come. A wrong guess costs a wasted prefetch and never changes a result; the
    /// default, `None`, is always correct. Asked only if [`guesses`](Self::guesses).
    fn likely_worker(
        &self,
        _ahead: u32,
        _function: FunctionId,
        _c: &ClusterView<'_>,
        _rng: &PolicyRng,
    ) -> Option<WorkerId> {
        None
    }

    /// Whether [`likely_worker`](Self::likely_worker) guesses at all. Asked once, at the
    /// start of a run: a balancer that cannot guess then costs no call per arrival. The
    /// default, `false`, is always correct.
    fn guesses(&self) -> bool {
        false
    }
}

/// Chooses among the ready instances of the invocation's function that have a free slot
/// (`c.warm_instances(f)`), or asks for a cold start.
pub trait Routing {
    /// Where the invocation `inv` goes: [`Route::Warm`] naming one of
    /// `c.warm_instances(inv.function)`, or [`Route::Cold`].
    fn route(&mut self, inv: &InvocationView, c: &ClusterView<'_>, rng: &mut PolicyRng) -> Route;

    /// Whether [`route`](Self::route) always answers the most recently used warm instance
    /// ([`ClusterView::most_recent_warm`]), or [`Route::Cold`] when there is none, and
    /// draws nothing. Asked once, at the start of a run: the engine then takes that
    /// instance itself instead of calling `route` per request. The default, `false`, is
    /// always correct.
    fn routes_most_recent(&self) -> bool {
        false
    }
}

/// What happens to an instance that has just become idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAliveDecision {
    /// Evict it now.
    EvictNow,
    /// Keep it warm until this instant (exclusive: an arrival at exactly this time finds it
    /// gone). A deadline at or before now evicts at once.
    KeepUntil(SimTime),
    /// Keep it until memory pressure reclaims it.
    KeepForever,
}

/// Things a keep-alive policy may want to learn from (e.g. to build idle-time histograms).
#[derive(Debug, Clone, Copy)]
pub enum Observation {
    /// An invocation of `function` arrived.
    Arrival {
        /// The function invoked.
        function: FunctionId,
        /// When it arrived.
        time: SimTime,
    },
    /// An instance was evicted (expired or reclaimed).
    Eviction {
        /// The evicted instance's slot (free for reuse from now on).
        instance: InstanceId,
        /// Its function.
        function: FunctionId,
        /// When it was evicted.
        time: SimTime,
    },
}

/// Decides how long idle instances stay warm, and optionally ranks them for reclaiming.
pub trait KeepAlive {
    /// Called each time an instance's last running execution ends.
    fn on_idle(&mut self, i: &InstanceView, now: SimTime) -> KeepAliveDecision;

    /// Under memory pressure, idle instances are reclaimed least recently used first unless
    /// this returns `Some` priority for them: then the lowest priority goes first (ties by
    /// lowest instance id). Returning `Some` makes reclaiming scan the idle instances.
    fn victim_priority(&mut self, _i: &InstanceView, _now: SimTime) -> Option<u64> {
        None
    }

    /// Told about arrivals and evictions, for policies that learn.
    fn observe(&mut self, _ev: &Observation) {}

    /// Whether [`observe`](Self::observe) does anything. Asked once, at the start of a
    /// run: a policy that ignores observations says `false` and the engine makes no call
    /// per arrival and eviction. The default, `true`, is always correct.
    fn observes(&self) -> bool {
        true
    }

    /// `Some(ttl)` when [`on_idle`](Self::on_idle) always answers `KeepUntil(now + ttl)`,
    /// whatever the instance (a fixed window restarted at each use). Asked once, at the
    /// start of a run: the engine then applies the window itself instead of calling
    /// `on_idle` per idle period. The default, `None`, is always correct.
    fn fixed_window(&self) -> Option<SimDuration> {
        None
    }

    /// After an eviction of `f`'s instance: create a fresh idle instance of `f` after this
    /// delay (pre-warming), or `None`.
    fn prewarm(&mut self, _f: FunctionId, _now: SimTime) -> Option<SimDuration> {
        None
    }
}

/// What an autoscaler sees of one function at a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalingView {
    /// The function to scale.
    pub function: FunctionId,
    /// The tick's instant.
    pub now: SimTime,
    /// Time-averaged number of requests in flight (queued, starting or executing) over the
    /// tick that just ended.
    pub concurrency: f64,
    /// Requests in flight now.
    pub in_flight: u32,
    /// Instances ready now.
    pub ready: u32,
    /// Instances still in their cold start.
    pub starting: u32,
    /// Executions one instance serves at once.
    pub instance_concurrency: u32,
}

/// Scales each function's instances on a clock, instead of one cold start per request that
/// finds no free slot (Knative-style). With an autoscaler, a request that finds no free slot
/// waits in its function's queue; instances are created and removed only at ticks, and when
/// a request arrives for a function with no instance ([`Autoscaler::activate`], Knative's
/// activator); idle instances are not subject to keep-alive.
pub trait Autoscaler {
    /// The interval between ticks.
    fn tick(&self) -> SimDuration;
    /// The number of instances `v.function` should have now (ready + starting).
    fn desired_instances(&mut self, v: &ScalingView) -> u32;
    /// A request arrived for `v.function`, which has no instance: the number of instances
    /// to start at once (the engine starts at least one, for that request). `v.concurrency`
    /// is the activator's report, 1 (Knative reports a revision's first request as a
    /// concurrency of 1), not a tick's average. Default: an immediate evaluation,
    /// [`Autoscaler::desired_instances`] with that view.
    fn activate(&mut self, v: &ScalingView) -> u32 {
        self.desired_instances(v)
    }
}
