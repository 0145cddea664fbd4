//! Policies written in Python: adaptors that implement the engine's policy traits by calling
//! a Python object once per decision, and the views they pass it.
//!
//! A view of the cluster is not a copy: [`Cluster`] points at the engine's
//! [`ClusterView`] for the length of one call and answers queries from it; after the call it
//! refuses every query (a policy that keeps it gets an error, not stale data). Instances,
//! workers and functions are passed as small frozen records (a few numbers each). Times are
//! milliseconds (floats; the engine's microseconds / 1000).
//!
//! The traits return decisions, not errors. When the Python method raises, returns something
//! that is not a decision, or a decision the engine cannot apply (a worker that does not
//! exist, a negative keep-alive), the adaptor keeps the Python exception, records a message
//! in the run's [`PolicyFailure`], and from then on returns harmless decisions without
//! calling Python; the runner stops the run at its next read of the trace and leaves no
//! results, and the module raises the kept exception.

use faasim_experiments::runner::PolicyFailure;
use faasim_sim::{
    ClusterView, FunctionId, FunctionView, InstanceId, InstanceView, InvocationView,
    KeepAliveDecision, Observation, PolicyRng, Route, SimDuration, SimTime, WorkerId, TIME_LIMIT,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pyo3::create_exception!(
    _faasim,
    PolicyError,
    crate::Error,
    "A policy written in Python returned a decision faasim cannot apply, or lacks a method."
);

fn ms(t: SimTime) -> f64 {
    t.as_micros() as f64 / 1000.0
}

/// An instance, as a policy sees it (a copy of a few numbers: instances are small).
#[pyclass(frozen, get_all, module = "faasim")]
pub struct Instance {
    /// The instance's slot (reused after eviction).
    id: u32,
    /// Its function's id (0, 1, ... in order of first appearance).
    function: u32,
    /// The worker it lives on.
    worker: u32,
    /// Memory it holds, MB.
    memory_mb: u32,
    /// When its cold start began, ms.
    created_at_ms: f64,
    /// When its cold start ended (or will end), ms.
    ready_at_ms: f64,
    /// Last dispatch or completion on it, ms.
    last_used_ms: f64,
    /// When it last became idle, ms (meaningful while idle).
    idle_since_ms: f64,
    /// When it first became idle, ms (None before its first execution ended).
    first_idle_at_ms: Option<f64>,
    /// Executions it has started.
    executions: u64,
    /// Executions running on it now.
    active: u32,
}

impl From<&InstanceView> for Instance {
    fn from(i: &InstanceView) -> Self {
        Instance {
            id: i.id.0,
            function: i.function.0,
            worker: i.worker.0,
            memory_mb: i.memory_mb,
            created_at_ms: ms(i.created_at),
            ready_at_ms: ms(i.ready_at),
            last_used_ms: ms(i.last_used),
            idle_since_ms: ms(i.idle_since),
            first_idle_at_ms: i.first_idle_at.map(ms),
            executions: i.executions,
            active: i.active,
        }
    }
}

#[pymethods]
impl Instance {
    fn __repr__(&self) -> String {
        format!(
            "Instance(id={}, function={}, worker={}, memory_mb={}, executions={}, active={}, idle_since_ms={})",
            self.id, self.function, self.worker, self.memory_mb, self.executions, self.active, self.idle_since_ms
        )
    }
}

/// A worker's capacity and load.
#[pyclass(frozen, get_all, module = "faasim")]
pub struct Worker {
    /// The worker's id, 0 .. worker_count() - 1.
    id: u32,
    /// Memory capacity, MB.
    memory_mb: u32,
    /// Memory held by its instances, MB.
    used_mb: u32,
    /// Memory no instance holds, MB.
    free_mb: u32,
    /// Memory held by its idle instances (what reclaiming could free), MB.
    idle_mb: u32,
    /// Cores.
    cores: u32,
    /// Instances on it (starting or ready).
    instances: u32,
    /// Executions running on it now.
    executing: u32,
    /// Per-request load balancing: requests sent here that have not ended (0 cluster-wide).
    assigned: u32,
    /// Requests waiting in its queue (per-request load balancing).
    queued: u32,
}

#[pymethods]
impl Worker {
    fn __repr__(&self) -> String {
        format!(
            "Worker(id={}, free_mb={}, used_mb={}, idle_mb={}, instances={}, executing={})",
            self.id, self.free_mb, self.used_mb, self.idle_mb, self.instances, self.executing
        )
    }
}

/// The function that needs a new instance.
#[pyclass(frozen, get_all, module = "faasim")]
pub struct Function {
    /// The function's id.
    id: u32,
    /// Its name, as the trace gives it.
    name: String,
    /// Memory a new instance holds, MB.
    memory_mb: u32,
}

#[pymethods]
impl Function {
    fn __repr__(&self) -> String {
        format!(
            "Function(id={}, name={:?}, memory_mb={})",
            self.id, self.name, self.memory_mb
        )
    }
}

/// The invocation being routed.
#[pyclass(frozen, get_all, module = "faasim")]
pub struct Invocation {
    /// Sequence number in arrival order.
    id: u64,
    /// The function invoked.
    function: u32,
    /// When it arrived, ms (earlier than now if it waited in the queue).
    arrival_ms: f64,
}

#[pymethods]
impl Invocation {
    fn __repr__(&self) -> String {
        format!(
            "Invocation(id={}, function={}, arrival_ms={})",
            self.id, self.function, self.arrival_ms
        )
    }
}

/// What a keep-alive policy's `observe` is told: an arrival or an eviction.
#[pyclass(frozen, get_all, module = "faasim")]
pub struct Event {
    /// `"arrival"` or `"eviction"`.
    kind: &'static str,
    /// The function.
    function: u32,
    /// When, ms.
    time_ms: f64,
    /// The evicted instance's slot (None for an arrival).
    instance: Option<u32>,
}

#[pymethods]
impl Event {
    fn __repr__(&self) -> String {
        format!(
            "Event(kind={:?}, function={}, time_ms={}, instance={:?})",
            self.kind, self.function, self.time_ms, self.instance
        )
    }
}

/// The cluster as a placement or routing policy sees it, during one call.
#[pyclass(unsendable, module = "faasim")]
pub struct Cluster {
    /// The engine's view, valid while the call that received this object runs.
    view: Cell<*const ClusterView<'static>>,
    rng: Cell<*mut PolicyRng>,
}

impl Cluster {
    fn view(&self) -> PyResult<&ClusterView<'static>> {
        let p = self.view.get();
        if p.is_null() {
            return Err(PyRuntimeError::new_err(
                "this Cluster view was passed to an earlier call: it is valid only during the call that received it",
            ));
        }
        // SAFETY: the pointer is set just before the Python call that receives this object
        // and cleared right after it, while the engine's view it points at is borrowed and
        // alive; the object cannot leave this thread (unsendable).
        Ok(unsafe { &*p })
    }

    fn check_worker(&self, id: u32) -> PyResult<WorkerId> {
        let n = self.view()?.worker_count();
        if (id as usize) < n {
            Ok(WorkerId(id))
        } else {
            Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "worker {id} does not exist: the cluster has {n} workers (0 to {})",
                n.saturating_sub(1)
            )))
        }
    }
}

fn worker_of(c: &ClusterView<'_>, id: WorkerId) -> Worker {
    let w = c.worker(id);
    Worker {
        id: w.id.0,
        memory_mb: w.memory_mb,
        used_mb: w.used_mb,
        free_mb: w.free_mb,
        idle_mb: w.idle_mb,
        cores: w.cores,
        instances: w.instances,
        executing: w.executing,
        assigned: w.assigned,
        queued: w.queued,
    }
}

#[pymethods]
impl Cluster {
    /// The current instant, ms.
    #[getter]
    fn now_ms(&self) -> PyResult<f64> {
        Ok(ms(self.view()?.now()))
    }
    /// Workers in the cluster; their ids are 0 .. worker_count() - 1.
    fn worker_count(&self) -> PyResult<usize> {
        Ok(self.view()?.worker_count())
    }
    /// Executions one instance serves at once.
    fn instance_concurrency(&self) -> PyResult<u32> {
        Ok(self.view()?.instance_concurrency())
    }
    /// Live instances on all workers, O(1).
    fn live_instances(&self) -> PyResult<u64> {
        Ok(self.view()?.live_instances())
    }
    /// The worker `id`'s capacity and load.
    fn worker(&self, id: u32) -> PyResult<Worker> {
        let w = self.check_worker(id)?;
        Ok(worker_of(self.view()?, w))
    }
    /// Every worker, in id order (O(workers)).
    fn workers(&self) -> PyResult<Vec<Worker>> {
        let c = self.view()?;
        Ok((0..c.worker_count())
            .map(|i| worker_of(c, WorkerId(i as u32)))
            .collect())
    }
    /// The instance in slot `id`, or None if the slot holds no live instance.
    fn instance(&self, id: u32) -> PyResult<Option<Instance>> {
        Ok(self
            .view()?
            .try_instance(InstanceId(id))
            .map(|i| Instance::from(&i)))
    }
    /// Ready instances of `function` with a free slot, most recently used first (under a
    /// load balancer: on the chosen worker only).
    fn warm_instances(&self, function: u32) -> PyResult<Vec<u32>> {
        Ok(self
            .view()?
            .warm_instances(FunctionId(function))
            .map(|i| i.0)
            .collect())
    }
    /// The same, least recently used first.
    fn warm_instances_lru(&self, function: u32) -> PyResult<Vec<u32>> {
        Ok(self
            .view()?
            .warm_instances_lru(FunctionId(function))
            .map(|i| i.0)
            .collect())
    }
    /// The lowest-numbered worker with at least `mb` free, or None.
    fn first_fit(&self, mb: u32) -> PyResult<Option<u32>> {
        Ok(self.view()?.first_fit(mb).map(|w| w.0))
    }
    /// The first worker at or after `start` (cyclically) with at least `mb` free, or None.
    fn next_fit(&self, start: u32, mb: u32) -> PyResult<Option<u32>> {
        Ok(self.view()?.next_fit(WorkerId(start), mb).map(|w| w.0))
    }
    /// The worker with the least free memory that still fits `mb`, or None.
    fn best_fit(&self, mb: u32) -> PyResult<Option<u32>> {
        Ok(self.view()?.best_fit(mb).map(|w| w.0))
    }
    /// The worker with the most free memory, if it fits `mb`, or None.
    fn worst_fit(&self, mb: u32) -> PyResult<Option<u32>> {
        Ok(self.view()?.worst_fit(mb).map(|w| w.0))
    }
    /// The least-utilised worker (memory held / capacity) with at least `mb` free, or None.
    fn least_loaded(&self, mb: u32) -> PyResult<Option<u32>> {
        Ok(self.view()?.least_loaded(mb).map(|w| w.0))
    }
    /// Worker ids by memory utilisation, lowest first (O(workers)).
    fn workers_by_load(&self) -> PyResult<Vec<u32>> {
        Ok(self.view()?.workers_by_load().map(|w| w.0).collect())
    }
    /// Whether worker `worker` holds a ready instance of `function` with a free slot.
    fn has_warm_on(&self, function: u32, worker: u32) -> PyResult<bool> {
        let w = self.check_worker(worker)?;
        Ok(self.view()?.has_warm_on(FunctionId(function), w))
    }
    /// Under per-request load balancing, the worker whose instances routing sees; else None.
    fn routing_scope(&self) -> PyResult<Option<u32>> {
        Ok(self.view()?.routing_scope().map(|w| w.0))
    }
    /// A float in [0, 1) from the policy's own random stream (seeded by the run's seed:
    /// the same seed draws the same numbers).
    fn random(&self) -> PyResult<f64> {
        self.view()?;
        // SAFETY: as for the view: set for the length of the call only.
        Ok(unsafe { &mut *self.rng.get() }.unit_f64())
    }
    /// An integer in [0, n) from the policy's own random stream.
    fn randbelow(&self, n: u64) -> PyResult<u64> {
        self.view()?;
        if n == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "randbelow(n) needs n >= 1",
            ));
        }
        // SAFETY: as above.
        Ok(unsafe { &mut *self.rng.get() }.below(n))
    }
}

/// What the adaptors of one run share: the first failure and decision counts.
pub struct Shared {
    /// The run's failure message (read by the runner).
    pub failure: PolicyFailure,
    /// The Python exception to raise when the run returns.
    pub error: RefCell<Option<PyErr>>,
    /// Calls made to Python, per method (`"keep_alive.on_idle"`, ...).
    pub calls: RefCell<Vec<(&'static str, u64)>>,
}

impl Shared {
    pub fn new() -> Rc<Self> {
        Rc::new(Shared {
            failure: Rc::new(RefCell::new(None)),
            error: RefCell::new(None),
            calls: RefCell::new(vec![]),
        })
    }

    fn failed(&self) -> bool {
        self.error.borrow().is_some()
    }

    fn count(&self, method: &'static str) {
        let mut c = self.calls.borrow_mut();
        match c.iter_mut().find(|(m, _)| *m == method) {
            Some((_, n)) => *n += 1,
            None => c.push((method, 1)),
        }
    }

    /// Keeps the first failure: `err`, raised by (or about) `who` at `now`.
    fn fail(&self, py: Python<'_>, err: PyErr, who: &str, now: SimTime) {
        if self.failed() {
            return;
        }
        let msg = format!(
            "{who} failed at {} ms of simulated time: {}",
            ms(now),
            err.value(py)
                .str()
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        let _ = err.add_note(py, format!("(raised in {who}, at {} ms of simulated time; the run stopped and wrote no summary.csv)", ms(now)));
        *self.failure.borrow_mut() = Some(msg);
        *self.error.borrow_mut() = Some(err);
    }

    /// A `PolicyError` about `who`'s decision.
    fn invalid(&self, py: Python<'_>, who: &str, now: SimTime, message: String) {
        self.fail(
            py,
            PolicyError::new_err(format!("{who} {message}")),
            who,
            now,
        );
    }
}

/// The name of a policy method as messages give it: `MyPolicy.on_idle`.
fn who(class: &str, method: &str) -> String {
    format!("{class}.{method}")
}

fn describe(v: &Bound<'_, PyAny>) -> String {
    let t = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    let r = v.repr().map(|r| r.to_string()).unwrap_or_default();
    format!("{r} ({t})")
}

/// A number of milliseconds >= 0 as whole microseconds, or why not.
fn duration_ms(v: &Bound<'_, PyAny>) -> Result<SimDuration, String> {
    let number = !v.is_instance_of::<PyBool>()
        && (v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>());
    let x = if number {
        v.extract::<f64>().ok()
    } else {
        None
    };
    match x {
        Some(x) if x < 0.0 => Err(format!("returned {}: a negative time", describe(v))),
        Some(x) => SimDuration::try_from_ms_f64(x)
            .ok_or_else(|| format!("returned {}: not a finite number of ms", describe(v))),
        None => Err(format!(
            "returned {}, expected a number of ms or None",
            describe(v)
        )),
    }
}

/// A Python keep-alive policy: `on_idle(instance, now_ms)` and, when the class defines them,
/// `observe(event)`, `prewarm(function, now_ms)` and `victim_priority(instance, now_ms)`.
pub struct PyKeepAlive {
    pub obj: Py<PyAny>,
    pub class: String,
    pub observe: bool,
    pub prewarm: bool,
    pub victim: bool,
    pub shared: Rc<Shared>,
}

impl faasim_sim::KeepAlive for PyKeepAlive {
    fn on_idle(&mut self, i: &InstanceView, now: SimTime) -> KeepAliveDecision {
        if self.shared.failed() {
            return KeepAliveDecision::EvictNow;
        }
        self.shared.count("keep_alive.on_idle");
        Python::attach(|py| {
            let r = self
                .obj
                .bind(py)
                .call_method1(intern!(py, "on_idle"), (Instance::from(i), ms(now)));
            let who = who(&self.class, "on_idle");
            match r {
                Err(e) => {
                    self.shared.fail(py, e, &who, now);
                    KeepAliveDecision::EvictNow
                }
                Ok(v) if v.is_none() => KeepAliveDecision::KeepForever,
                Ok(v) => match duration_ms(&v) {
                    Ok(d) if d.as_micros() == 0 => KeepAliveDecision::EvictNow,
                    Ok(d)
                        if now.as_micros().saturating_add(d.as_micros())
                            > TIME_LIMIT.as_micros() =>
                    {
                        self.shared.invalid(py, &who, now, format!("returned {}: beyond the 100 years faasim simulates (return None to keep the instance until memory pressure reclaims it)", describe(&v)));
                        KeepAliveDecision::EvictNow
                    }
                    Ok(d) => KeepAliveDecision::KeepUntil(SimTime(now.as_micros() + d.as_micros())),
                    Err(m) => {
                        self.shared.invalid(py, &who, now, format!("{m}: a keep-alive is ms >= 0 (0 evicts at once) or None (keep until memory pressure reclaims it)"));
                        KeepAliveDecision::EvictNow
                    }
                },
            }
        })
    }

    fn victim_priority(&mut self, i: &InstanceView, now: SimTime) -> Option<u64> {
        if !self.victim || self.shared.failed() {
            return None;
        }
        self.shared.count("keep_alive.victim_priority");
        Python::attach(|py| {
            let who = who(&self.class, "victim_priority");
            match self
                .obj
                .bind(py)
                .call_method1(intern!(py, "victim_priority"), (Instance::from(i), ms(now)))
            {
                Err(e) => {
                    self.shared.fail(py, e, &who, now);
                    None
                }
                Ok(v) if v.is_none() => None,
                Ok(v) => match (v.is_instance_of::<PyBool>(), v.extract::<u64>()) {
                    (false, Ok(p)) => Some(p),
                    _ => {
                        self.shared.invalid(py, &who, now, format!("returned {}, expected an int >= 0 (lowest reclaimed first) or None", describe(&v)));
                        None
                    }
                },
            }
        })
    }

    fn observe(&mut self, ev: &Observation) {
        if !self.observe || self.shared.failed() {
            return;
        }
        self.shared.count("keep_alive.observe");
        let (event, now) = match *ev {
            Observation::Arrival { function, time } => (
                Event {
                    kind: "arrival",
                    function: function.0,
                    time_ms: ms(time),
                    instance: None,
                },
                time,
            ),
            Observation::Eviction {
                instance,
                function,
                time,
            } => (
                Event {
                    kind: "eviction",
                    function: function.0,
                    time_ms: ms(time),
                    instance: Some(instance.0),
                },
                time,
            ),
        };
        Python::attach(|py| {
            if let Err(e) = self
                .obj
                .bind(py)
                .call_method1(intern!(py, "observe"), (event,))
            {
                self.shared.fail(py, e, &who(&self.class, "observe"), now);
            }
        })
    }

    fn prewarm(&mut self, f: FunctionId, now: SimTime) -> Option<SimDuration> {
        if !self.prewarm || self.shared.failed() {
            return None;
        }
        self.shared.count("keep_alive.prewarm");
        Python::attach(|py| {
            let who = who(&self.class, "prewarm");
            match self
                .obj
                .bind(py)
                .call_method1(intern!(py, "prewarm"), (f.0, ms(now)))
            {
                Err(e) => {
                    self.shared.fail(py, e, &who, now);
                    None
                }
                Ok(v) if v.is_none() => None,
                Ok(v) => match duration_ms(&v) {
                    Ok(d) => Some(d),
                    Err(m) => {
                        self.shared.invalid(
                            py,
                            &who,
                            now,
                            format!("{m}: a pre-warm delay is ms >= 0, or None for none"),
                        );
                        None
                    }
                },
            }
        })
    }
}

/// Runs `f` with a [`Cluster`] pointing at `c` (and `rng`), and invalidates it afterwards.
fn with_cluster<R>(
    py: Python<'_>,
    c: &ClusterView<'_>,
    rng: &mut PolicyRng,
    f: impl FnOnce(&Bound<'_, Cluster>) -> R,
) -> PyResult<R> {
    // The lifetime is erased for the length of the call; `view()` checks it is still set.
    let ptr = std::ptr::from_ref(c).cast::<ClusterView<'static>>();
    let obj = Bound::new(
        py,
        Cluster {
            view: Cell::new(ptr),
            rng: Cell::new(rng as *mut PolicyRng),
        },
    )?;
    let r = f(&obj);
    let b = obj.borrow();
    b.view.set(std::ptr::null());
    b.rng.set(std::ptr::null_mut());
    Ok(r)
}

/// A Python placement policy: `place(function, cluster)` returns a worker id or None.
pub struct PyPlacement {
    pub obj: Py<PyAny>,
    pub class: String,
    pub shared: Rc<Shared>,
}

impl faasim_sim::Placement for PyPlacement {
    fn place(
        &mut self,
        f: &FunctionView<'_>,
        c: &ClusterView<'_>,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        if self.shared.failed() {
            return None;
        }
        self.shared.count("placement.place");
        let now = c.now();
        Python::attach(|py| {
            let who = who(&self.class, "place");
            let func = Function {
                id: f.id.0,
                name: f.name.to_owned(),
                memory_mb: f.memory_mb,
            };
            let r = with_cluster(py, c, rng, |cl| {
                self.obj
                    .bind(py)
                    .call_method1(intern!(py, "place"), (func, cl))
                    .map(|v| v.unbind())
            })
            .and_then(|r| r);
            match r {
                Err(e) => {
                    self.shared.fail(py, e, &who, now);
                    None
                }
                Ok(v) => {
                    let v = v.bind(py);
                    if v.is_none() {
                        return None;
                    }
                    let n = c.worker_count();
                    let id = match (v.is_instance_of::<PyBool>(), v.extract::<u32>()) {
                        (false, Ok(id)) => id,
                        _ => {
                            self.shared.invalid(py, &who, now, format!("returned {}, expected a worker id (an int from 0 to {}) or None", describe(v), n.saturating_sub(1)));
                            return None;
                        }
                    };
                    if id as usize >= n {
                        self.shared.invalid(py, &who, now, format!("returned worker {id}, which does not exist: the cluster has {n} workers (0 to {})", n.saturating_sub(1)));
                        return None;
                    }
                    let free = c.worker(WorkerId(id)).free_mb;
                    if free < f.memory_mb {
                        self.shared.invalid(py, &who, now, format!("returned worker {id}, which has {free} MB free, less than the {} MB of function {:?} (return None when no worker fits: the engine then reclaims idle instances)", f.memory_mb, f.name));
                        return None;
                    }
                    Some(WorkerId(id))
                }
            }
        })
    }
}

/// A Python routing policy: `route(invocation, cluster)` returns a warm instance's id (one
/// of `cluster.warm_instances(invocation.function)`) or None for a cold start.
pub struct PyRouting {
    pub obj: Py<PyAny>,
    pub class: String,
    pub shared: Rc<Shared>,
}

impl faasim_sim::Routing for PyRouting {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView<'_>, rng: &mut PolicyRng) -> Route {
        if self.shared.failed() {
            return Route::Cold;
        }
        self.shared.count("routing.route");
        let now = c.now();
        Python::attach(|py| {
            let who = who(&self.class, "route");
            let view = Invocation {
                id: inv.id,
                function: inv.function.0,
                arrival_ms: ms(inv.arrival),
            };
            let r = with_cluster(py, c, rng, |cl| {
                self.obj
                    .bind(py)
                    .call_method1(intern!(py, "route"), (view, cl))
                    .map(|v| v.unbind())
            })
            .and_then(|r| r);
            match r {
                Err(e) => {
                    self.shared.fail(py, e, &who, now);
                    Route::Cold
                }
                Ok(v) => {
                    let v = v.bind(py);
                    if v.is_none() {
                        return Route::Cold;
                    }
                    let id = match (v.is_instance_of::<PyBool>(), v.extract::<u32>()) {
                        (false, Ok(id)) => InstanceId(id),
                        _ => {
                            self.shared.invalid(py, &who, now, format!("returned {}, expected an instance id from cluster.warm_instances({}) or None (a cold start)", describe(v), inv.function.0));
                            return Route::Cold;
                        }
                    };
                    if c.warm_instances(inv.function).any(|i| i == id) {
                        Route::Warm(id)
                    } else {
                        self.shared.invalid(py, &who, now, format!("returned instance {}, which is not a warm instance of function {} with a free slot (one of cluster.warm_instances({})), or None", id.0, inv.function.0, inv.function.0));
                        Route::Cold
                    }
                }
            }
        })
    }
}
