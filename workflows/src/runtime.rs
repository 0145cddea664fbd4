//! The orchestrator: an engine [`Extension`] that runs workflow executions.
//!
//! A trace row of a workflow's name starts one execution. Each state's task is submitted as
//! an ordinary invocation (routing, cold start, placement, queueing, keep-alive, per-ms
//! billing all apply); the state after a task starts when the task ends plus the transition
//! latency plus the data transfer time.
//!
//! **Timing rules.** Entering a state counts one state transition and waits one transition
//! latency (drawn from the workflow's own stream). A map's items each count one transition
//! (AWS bills the iterator's states); the first wave starts when the map acts, a later item
//! when a slot frees, after one transition latency. A parallel's branches start together and
//! its join waits for the last. A choice draws its branch by weight. A wait adds its seconds.
//! Durable Functions differs: the orchestrator function replays at the start, after every
//! task (or item) and after every timer; the transition latency is the queue delay before
//! each replay, the replay is a real invocation of `<workflow>/orchestrator` (it may cold
//! start, it is billed), and the next tasks are submitted when it ends.
//!
//! **Data.** A task's `output_bytes` move to the state that consumes them (a map's items
//! each hand theirs on; a parallel's branches each receive the input, and the join hands on
//! what its branches produced). Through storage a hop is a put and a get, each
//! `storage_latency_ms` plus bytes / `storage_mb_per_s`; direct passing costs bytes /
//! `network_mb_per_s`, or bytes / `local_mb_per_s` when the producer's worker holds a free
//! warm instance of the consumer's function (faasim decides locality when the data is sent,
//! before the consumer is routed; a router may still start it elsewhere).
//!
//! **Direct calls.** With `orchestrator = "direct"` a task that has a next state is held
//! open when its execution ends ([`Extension::on_execution_end`]) and released when the
//! execution (or its parallel branch) ends: every caller is billed while it waits.
//!
//! **The critical path.** Each thread of an execution carries the execution, cold-start,
//! transition and data time along its path; a join keeps the branch that ended last and a
//! map the concurrency lane that ended last. Orchestration overhead is end-to-end latency
//! minus the critical path's execution time.
//!
//! Only live executions hold state (a slab of slots reused), so memory does not grow with
//! the trace.

use crate::definition::{Kind, Orchestrator, Passing, Prewarm, Workflows, DURABLE_REPLAY_MS};
use crate::pricing::{self, OrchestrationUsage, StoragePrices};
use crate::stats::{ExecutionRecord, WorkflowStats};
use crate::DataSpec;
use faasim_sim::digest::Digest;
use faasim_sim::rng::SimRng;
use faasim_sim::{
    Arrival, Extension, FunctionId, FunctionSpec, Hold, InvocationRecord, Money, Outcome,
    SimDuration, SimTime, Submit, WorkerId,
};
use std::cell::RefCell;
use std::rc::Rc;

/// The random stream of workflow draws (choice branches, durations, transition latencies).
pub const WORKFLOW_STREAM: &str = "workflows";

const LANE_BITS: u32 = 16;
const TOKEN_BITS: u32 = 16;
const EXEC_SHIFT: u32 = LANE_BITS + TOKEN_BITS;
const HELD_BIT: u64 = 1 << 62;
const REPLAY_BIT: u64 = 1 << 61;
/// The most executions alive at once (slots addressed by 29 bits of the tag).
pub const MAX_LIVE_EXECUTIONS: u32 = (1 << 29) - 1;
const NONE: u32 = u32::MAX;

fn tag(e: u32, t: u32, lane: u32) -> u64 {
    ((e as u64) << EXEC_SHIFT) | ((t as u64) << LANE_BITS) | lane as u64
}

fn untag(tag: u64) -> (u32, u32, u32) {
    (
        ((tag >> EXEC_SHIFT) & ((1 << 29) - 1)) as u32,
        ((tag >> LANE_BITS) & 0xFFFF) as u32,
        (tag & 0xFFFF) as u32,
    )
}

/// Time along a path, µs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathTimes {
    /// Executing.
    pub exec_us: u64,
    /// Waiting for cold starts.
    pub cold_us: u64,
    /// Orchestration: transition latencies (and Durable replays).
    pub transition_us: u64,
    /// Moving data.
    pub data_us: u64,
}

impl PathTimes {
    fn add(&mut self, o: &PathTimes) {
        self.exec_us += o.exec_us;
        self.cold_us += o.cold_us;
        self.transition_us += o.transition_us;
        self.data_us += o.data_us;
    }
}

#[derive(Debug, Clone, Default)]
struct Token {
    state: u32,
    frame: u32,
    at: SimTime,
    path: PathTimes,
    worker: Option<WorkerId>,
    bytes: u64,
    holders: Vec<Hold>,
    launched: u32,
    done: u32,
    lanes: Vec<(PathTimes, SimTime)>,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    parent: u32,
    /// Whether a branch has ended (and `best_*` hold the latest).
    any: bool,
    remaining: u32,
    best_at: SimTime,
    best_path: PathTimes,
    bytes: u64,
}

#[derive(Debug, Default)]
struct Exec {
    id: u64,
    wf: u32,
    arrival: SimTime,
    tokens: Vec<Token>,
    live_tokens: usize,
    frames: Vec<Frame>,
    outstanding: u32,
    ended: Option<(SimTime, bool)>,
    path: PathTimes,
    tasks: u64,
    cold_starts: u64,
    transitions: u64,
    bytes: u64,
    data_us: u64,
    puts: u64,
    gets: u64,
    replays: u64,
    function_cost: Money,
    replay_cost: Money,
}

/// Settings of the orchestrator besides the definitions.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Data passing.
    pub data: DataSpec,
    /// The run seed (the workflow stream derives from it).
    pub seed: u64,
    /// Expected cold start of each function of [`Workflows::functions`], µs (just-in-time
    /// pre-warming).
    pub cold_start_estimate_us: Vec<u64>,
}

/// Everything a run's workflows did, read after the run.
#[derive(Debug, Clone)]
pub struct WorkflowReport {
    /// One entry per workflow, in definition (name) order.
    pub workflows: Vec<WorkflowStats>,
    /// End-to-end latency of every completed execution, µs.
    pub latency_us: Digest,
    /// What the orchestrators and storage were used for.
    pub usage: OrchestrationUsage,
    /// Storage prices of data passing.
    pub storage_prices: Option<StoragePrices>,
}

/// Called with every finished execution (`executions.csv`).
pub type ExecutionSink = Box<dyn FnMut(&ExecutionRecord)>;

struct Runtime {
    wfs: Workflows,
    /// Engine function id → workflow index (`NONE`: not a workflow).
    wf_of_fn: Vec<u32>,
    rng: SimRng,
    data: DataSpec,
    storage_latency_us: u64,
    cold_est: Vec<u64>,
    /// Per workflow: its pre-warming plan.
    plans: Vec<Plan>,
    execs: Vec<Exec>,
    free: Vec<u32>,
    next_id: u64,
    report: WorkflowReport,
    sink: Option<ExecutionSink>,
}

/// The engine extension; build with [`orchestration`].
pub struct Orchestration(Rc<RefCell<Runtime>>);

/// Reads the report after the run.
pub struct ReportHandle(Rc<RefCell<Runtime>>);

impl ReportHandle {
    /// The report, after the run (executions still running at the end are `executions −
    /// completed − failed`). Drops the execution sink.
    pub fn finish(self) -> WorkflowReport {
        let mut rt = self.0.borrow_mut();
        rt.sink = None;
        rt.report.clone()
    }
}

/// The orchestrator for `wfs` and a handle to its report; `sink` sees every finished
/// execution.
pub fn orchestration(
    wfs: Workflows,
    cfg: RuntimeConfig,
    sink: Option<ExecutionSink>,
) -> (Orchestration, ReportHandle) {
    let plans = wfs.workflows.iter().map(likely_path).collect();
    let report = WorkflowReport {
        workflows: wfs
            .workflows
            .iter()
            .map(|w| WorkflowStats::new(&w.name, w.orchestrator))
            .collect(),
        latency_us: Digest::run_wide(),
        usage: OrchestrationUsage::default(),
        storage_prices: Some(storage_prices(&cfg.data)),
    };
    let rt = Runtime {
        storage_latency_us: ms_to_us(cfg.data.storage_latency_ms),
        rng: SimRng::stream(cfg.seed, WORKFLOW_STREAM),
        data: cfg.data,
        cold_est: cfg.cold_start_estimate_us,
        wf_of_fn: Vec::new(),
        plans,
        wfs,
        execs: Vec::new(),
        free: Vec::new(),
        next_id: 0,
        report,
        sink,
    };
    let rc = Rc::new(RefCell::new(rt));
    (Orchestration(rc.clone()), ReportHandle(rc))
}

/// Per-request storage prices in price units.
pub fn storage_prices(d: &DataSpec) -> StoragePrices {
    let units = |usd: f64| faasim_sim::billing::usd_f64_to_units(usd, 1e10).unwrap_or(0);
    StoragePrices {
        put_units: units(d.storage_put_usd),
        get_units: units(d.storage_get_usd),
    }
}

fn ms_to_us(ms: f64) -> u64 {
    SimDuration::try_from_ms_f64(ms.max(0.0))
        .unwrap_or(SimDuration::ZERO)
        .as_micros()
}

/// The workflow's most likely path from its start (every branch of a parallel, the
/// heaviest branch of a choice): each task's function, the instances it needs, and when it
/// is expected to be entered, µs after the start state is entered (mean durations and
/// transitions). The start state itself is left out: its request is already on its way.
fn likely_path(wf: &crate::definition::Workflow) -> Plan {
    fn walk(
        wf: &crate::definition::Workflow,
        s: u32,
        t: u64,
        out: &mut Vec<(u32, u32, u64)>,
        depth: u32,
    ) -> u64 {
        if depth > MAX_PLAN_DEPTH {
            return t;
        }
        let mt = wf.mean_transition_us;
        let st = &wf.states[s as usize];
        let done = match &st.kind {
            Kind::Task(op) => {
                out.push((op.function, 1, t));
                t + op.mean_duration_us
            }
            Kind::Map {
                op,
                items,
                max_concurrency,
            } => {
                out.push((op.function, *max_concurrency, t));
                t + op.mean_duration_us * items.div_ceil(*max_concurrency) as u64
            }
            Kind::Wait(d) => t + d.as_micros(),
            Kind::Parallel(b) => b
                .iter()
                .map(|&x| walk(wf, x, t + mt, out, depth + 1))
                .max()
                .unwrap_or(t),
            Kind::Choice { likely, .. } => return walk(wf, *likely, t + mt, out, depth + 1),
        };
        match st.next {
            Some(n) => walk(wf, n, done + mt, out, depth + 1),
            None => done,
        }
    }
    let mut out = Vec::new();
    walk(wf, wf.start, 0, &mut out, 0);
    out.retain(|&(_, _, t)| t > 0);
    out
}

/// A workflow's pre-warming plan: (function, instances, expected entry µs after the start).
type Plan = Vec<(u32, u32, u64)>;

/// Bounds the walk of [`likely_path`] (definitions are acyclic and at most
/// [`MAX_STATES`](crate::definition::MAX_STATES) long).
const MAX_PLAN_DEPTH: u32 = 10_000;

impl Extension for Orchestration {
    fn on_function(&mut self, id: FunctionId, spec: &FunctionSpec) -> bool {
        let mut rt = self.0.borrow_mut();
        let wf = rt.wfs.by_name(&spec.name).map_or(NONE, |w| w as u32);
        if rt.wf_of_fn.len() <= id.index() {
            rt.wf_of_fn.resize(id.index() + 1, NONE);
        }
        rt.wf_of_fn[id.index()] = wf;
        wf != NONE
    }

    fn on_arrival(&mut self, a: &Arrival, submit: &mut Submit<'_>) {
        let mut rt = self.0.borrow_mut();
        let wf = rt.wf_of_fn[a.function.index()];
        rt.start(wf, a.time, submit);
    }

    fn on_end(&mut self, rec: &InvocationRecord, tag: Option<u64>, submit: &mut Submit<'_>) {
        if let Some(tag) = tag {
            self.0.borrow_mut().on_end(rec, tag, submit);
        }
    }

    fn on_execution_end(
        &mut self,
        rec: &InvocationRecord,
        tag: u64,
        hold: Hold,
        submit: &mut Submit<'_>,
    ) -> bool {
        if tag & HELD_BIT == 0 {
            return false;
        }
        let mut rt = self.0.borrow_mut();
        let (e, t, lane) = untag(tag);
        if rt.execs[e as usize].ended.is_some() {
            return false;
        }
        rt.execs[e as usize].tokens[t as usize].holders.push(hold);
        rt.task_done(e, t, lane, rec, submit);
        true
    }
}

impl Runtime {
    fn orchestrator(&self, e: u32) -> Orchestrator {
        self.wfs.workflows[self.execs[e as usize].wf as usize].orchestrator
    }

    fn start(&mut self, wf: u32, now: SimTime, submit: &mut Submit<'_>) {
        let e = match self.free.pop() {
            Some(e) => e,
            None => {
                self.execs.push(Exec::default());
                (self.execs.len() - 1) as u32
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        self.report.workflows[wf as usize].executions += 1;
        {
            let x = &mut self.execs[e as usize];
            let tokens = std::mem::take(&mut x.tokens);
            let frames = std::mem::take(&mut x.frames);
            *x = Exec {
                id,
                wf,
                arrival: now,
                tokens,
                frames,
                ..Exec::default()
            };
            x.frames.clear();
        }
        self.prewarm(wf, submit);
        let t = self.alloc_token(e, NONE, now, PathTimes::default(), 0, None);
        let start = self.wfs.workflows[wf as usize].start;
        if self.orchestrator(e) == Orchestrator::Durable {
            self.execs[e as usize].tokens[t as usize].state = NONE;
            self.replay(e, t, 0, now, submit);
        } else {
            self.enter(e, t, start, now, submit);
        }
        // A workflow of waits alone ends without an invocation.
        self.finalize(e);
    }

    fn alloc_token(
        &mut self,
        e: u32,
        frame: u32,
        at: SimTime,
        path: PathTimes,
        bytes: u64,
        worker: Option<WorkerId>,
    ) -> u32 {
        let x = &mut self.execs[e as usize];
        let i = x.live_tokens;
        x.live_tokens += 1;
        if i == x.tokens.len() {
            x.tokens.push(Token::default());
        }
        let tk = &mut x.tokens[i];
        tk.state = NONE;
        tk.frame = frame;
        tk.at = at;
        tk.path = path;
        tk.worker = worker;
        tk.bytes = bytes;
        tk.holders.clear();
        tk.launched = 0;
        tk.done = 0;
        tk.lanes.clear();
        i as u32
    }

    /// Moves `bytes` from the token's last worker to `function`; returns the new instant.
    fn deliver(
        &mut self,
        e: u32,
        t: u32,
        at: SimTime,
        function: u32,
        gets: u64,
        submit: &Submit<'_>,
    ) -> SimTime {
        let x = &mut self.execs[e as usize];
        let tk = &mut x.tokens[t as usize];
        let b = std::mem::take(&mut tk.bytes);
        if b == 0 {
            return at;
        }
        let per = |mb_per_s: f64| (b as f64 / mb_per_s).ceil() as u64;
        let d = match self.data.passing {
            Passing::Storage => {
                x.puts += 1;
                x.gets += gets;
                2 * (self.storage_latency_us + per(self.data.storage_mb_per_s))
            }
            Passing::Direct => {
                let local = tk
                    .worker
                    .is_some_and(|w| submit.has_free_instance_on(FunctionId(function), w));
                per(if local {
                    self.data.local_mb_per_s
                } else {
                    self.data.network_mb_per_s
                })
            }
        };
        tk.path.data_us += d;
        x.bytes += b;
        x.data_us += d;
        at + SimDuration(d)
    }

    fn transition(&mut self, e: u32, t: u32) -> SimDuration {
        let wf = &self.wfs.workflows[self.execs[e as usize].wf as usize];
        let d = wf.transition.sample(&mut self.rng);
        self.execs[e as usize].tokens[t as usize].path.transition_us += d.as_micros();
        d
    }

    /// Xanadu's pre-warming along the likely path, when an execution starts at `now`:
    /// speculative starts every instance at once; just-in-time starts each at its state's
    /// expected entry minus its function's expected cold start.
    fn prewarm(&mut self, wf: u32, submit: &mut Submit<'_>) {
        let w = &self.wfs.workflows[wf as usize];
        if w.prewarm == Prewarm::None {
            return;
        }
        let base = w.mean_transition_us;
        for &(f, count, t) in &self.plans[wf as usize] {
            let after = match w.prewarm {
                Prewarm::JustInTime => (base + t).saturating_sub(self.cold_est[f as usize]),
                _ => 0,
            };
            submit.prewarm(SimDuration(after), FunctionId(f), count);
        }
    }

    fn submit_task(
        &mut self,
        e: u32,
        t: u32,
        lane: u32,
        at: SimTime,
        held: bool,
        submit: &mut Submit<'_>,
    ) {
        let x = &self.execs[e as usize];
        let wf = &self.wfs.workflows[x.wf as usize];
        let op = match &wf.states[x.tokens[t as usize].state as usize].kind {
            Kind::Task(op) | Kind::Map { op, .. } => op,
            _ => unreachable!("only tasks and maps submit"),
        };
        let d = op.duration.sample(&mut self.rng);
        let mut tg = tag(e, t, lane);
        if held {
            tg |= HELD_BIT;
        }
        submit.invoke(at - submit.now(), FunctionId(op.function), d, tg);
        let x = &mut self.execs[e as usize];
        x.outstanding += 1;
        x.tasks += 1;
    }

    fn replay(&mut self, e: u32, t: u32, lane: u32, at: SimTime, submit: &mut Submit<'_>) {
        let d = self.transition(e, t);
        let x = &mut self.execs[e as usize];
        let f = self.wfs.workflows[x.wf as usize]
            .orchestrator_function
            .expect("durable workflows have an orchestrator function");
        x.outstanding += 1;
        submit.invoke(
            at + d - submit.now(),
            FunctionId(f),
            SimDuration::from_ms(DURABLE_REPLAY_MS),
            tag(e, t, lane) | REPLAY_BIT,
        );
    }

    /// Token `t` enters state `s` at `at`.
    fn enter(&mut self, e: u32, t: u32, s: u32, mut at: SimTime, submit: &mut Submit<'_>) {
        let orch = self.orchestrator(e);
        let durable = orch == Orchestrator::Durable;
        self.execs[e as usize].transitions += 1;
        if !durable {
            at += self.transition(e, t);
        }
        {
            let tk = &mut self.execs[e as usize].tokens[t as usize];
            tk.state = s;
            tk.at = at;
        }
        let wfi = self.execs[e as usize].wf as usize;
        let st = &self.wfs.workflows[wfi].states[s as usize];
        match &st.kind {
            Kind::Task(op) => {
                let f = op.function;
                let held = orch == Orchestrator::Direct && st.next.is_some();
                let at = self.deliver(e, t, at, f, 1, submit);
                self.submit_task(e, t, 0, at, held, submit);
            }
            Kind::Map {
                op,
                items,
                max_concurrency,
            } => {
                let (f, items, mc) = (op.function, *items as u64, *max_concurrency);
                let at = self.deliver(e, t, at, f, items, submit);
                {
                    let x = &mut self.execs[e as usize];
                    x.transitions += mc as u64;
                    let tk = &mut x.tokens[t as usize];
                    tk.launched = mc;
                    tk.done = 0;
                    tk.lanes.clear();
                    tk.lanes.resize(mc as usize, (PathTimes::default(), at));
                }
                for lane in 0..mc {
                    self.submit_task(e, t, lane, at, false, submit);
                }
            }
            Kind::Parallel(branches) => {
                let branches = branches.clone();
                let (path, bytes, worker) = {
                    let tk = &self.execs[e as usize].tokens[t as usize];
                    (tk.path, tk.bytes, tk.worker)
                };
                let frame = self.execs[e as usize].frames.len() as u32;
                self.execs[e as usize].frames.push(Frame {
                    parent: t,
                    any: false,
                    remaining: branches.len() as u32,
                    best_at: at,
                    best_path: path,
                    bytes: 0,
                });
                for b in branches {
                    let c = self.alloc_token(e, frame, at, path, bytes, worker);
                    self.enter(e, c, b, at, submit);
                    if self.execs[e as usize].ended.is_some() {
                        return;
                    }
                }
            }
            Kind::Choice {
                targets,
                cumulative,
                ..
            } => {
                let u = self.rng.unit_f64();
                let i = cumulative.iter().position(|&c| u < c).unwrap_or(0);
                let target = targets[i];
                self.enter(e, t, target, at, submit);
            }
            Kind::Wait(d) => {
                let at = at + *d;
                self.execs[e as usize].tokens[t as usize].at = at;
                if durable {
                    self.replay(e, t, 0, at, submit);
                } else {
                    self.advance(e, t, at, submit);
                }
            }
        }
    }

    /// Token `t` leaves its state at `at`.
    fn advance(&mut self, e: u32, t: u32, at: SimTime, submit: &mut Submit<'_>) {
        let x = &self.execs[e as usize];
        let s = x.tokens[t as usize].state;
        match self.wfs.workflows[x.wf as usize].states[s as usize].next {
            Some(n) => self.enter(e, t, n, at, submit),
            None => self.frame_end(e, t, at, submit),
        }
    }

    fn release_holders(&mut self, e: u32, t: u32, at: SimTime, submit: &mut Submit<'_>) {
        let tk = &mut self.execs[e as usize].tokens[t as usize];
        for h in tk.holders.drain(..) {
            submit.release(at - submit.now(), h);
        }
    }

    fn frame_end(&mut self, e: u32, t: u32, at: SimTime, submit: &mut Submit<'_>) {
        self.release_holders(e, t, at, submit);
        let x = &mut self.execs[e as usize];
        let tk = &x.tokens[t as usize];
        if tk.frame == NONE {
            x.path = tk.path;
            x.ended = Some((at, true));
            return;
        }
        let (path, bytes) = (tk.path, tk.bytes);
        let f = &mut x.frames[tk.frame as usize];
        f.remaining -= 1;
        f.bytes += bytes;
        if !f.any || at > f.best_at {
            f.any = true;
            f.best_at = at;
            f.best_path = path;
        }
        if f.remaining > 0 {
            return;
        }
        let f = *f;
        let p = &mut x.tokens[f.parent as usize];
        p.at = f.best_at;
        p.path = f.best_path;
        p.bytes = f.bytes;
        self.advance(e, f.parent, f.best_at, submit);
    }

    /// A task (or map item) of token `t` ended (`rec`); continue.
    fn task_done(
        &mut self,
        e: u32,
        t: u32,
        lane: u32,
        rec: &InvocationRecord,
        submit: &mut Submit<'_>,
    ) {
        let durable = self.orchestrator(e) == Orchestrator::Durable;
        let x = &mut self.execs[e as usize];
        x.cold_starts += rec.cold_start as u64;
        let times = PathTimes {
            exec_us: (rec.end - rec.start).as_micros(),
            cold_us: rec.init.as_micros(),
            transition_us: 0,
            data_us: 0,
        };
        let wf = &self.wfs.workflows[x.wf as usize];
        let tk = &mut x.tokens[t as usize];
        tk.worker = rec.worker;
        match &wf.states[tk.state as usize].kind {
            Kind::Task(op) => {
                tk.path.add(&times);
                tk.at = rec.end;
                tk.bytes = op.output_bytes;
                if durable {
                    self.replay(e, t, 0, rec.end, submit);
                } else {
                    self.advance(e, t, rec.end, submit);
                }
            }
            Kind::Map { op, .. } => {
                let l = &mut tk.lanes[lane as usize];
                l.0.add(&times);
                l.1 = rec.end;
                tk.done += 1;
                tk.bytes += op.output_bytes;
                if durable {
                    self.replay(e, t, lane, rec.end, submit);
                } else {
                    self.lane_free(e, t, lane, rec.end, submit);
                }
            }
            _ => unreachable!("only tasks and maps run invocations"),
        }
    }

    /// A map lane is free at `at`: launch the next item or, after the last, leave the map.
    fn lane_free(&mut self, e: u32, t: u32, lane: u32, at: SimTime, submit: &mut Submit<'_>) {
        let durable = self.orchestrator(e) == Orchestrator::Durable;
        let x = &self.execs[e as usize];
        let tk = &x.tokens[t as usize];
        let items = match &self.wfs.workflows[x.wf as usize].states[tk.state as usize].kind {
            Kind::Map { items, .. } => *items,
            _ => unreachable!("lanes belong to maps"),
        };
        if tk.launched < items {
            let d = if durable {
                SimDuration::ZERO
            } else {
                self.wfs.workflows[x.wf as usize]
                    .transition
                    .sample(&mut self.rng)
            };
            let x = &mut self.execs[e as usize];
            x.transitions += 1;
            let tk = &mut x.tokens[t as usize];
            tk.launched += 1;
            tk.lanes[lane as usize].0.transition_us += d.as_micros();
            self.submit_task(e, t, lane, at + d, false, submit);
            return;
        }
        if tk.done < items {
            return;
        }
        // The critical lane: the one that ended last (the lowest on ties).
        let x = &mut self.execs[e as usize];
        let tk = &mut x.tokens[t as usize];
        let mut best = 0;
        for (i, l) in tk.lanes.iter().enumerate() {
            if l.1 > tk.lanes[best].1 {
                best = i;
            }
        }
        let (lp, end) = tk.lanes[best];
        tk.path.add(&lp);
        tk.at = end;
        self.advance(e, t, end.max(at), submit);
    }

    fn on_end(&mut self, rec: &InvocationRecord, tag: u64, submit: &mut Submit<'_>) {
        let (e, t, lane) = untag(tag);
        let replay = tag & REPLAY_BIT != 0;
        {
            let x = &mut self.execs[e as usize];
            x.outstanding -= 1;
            if replay {
                x.replay_cost += rec.charge.total();
                x.replays += 1;
            } else {
                x.function_cost += rec.charge.total();
            }
        }
        let done_already = tag & HELD_BIT != 0 || self.execs[e as usize].ended.is_some();
        if !done_already {
            if rec.outcome != Outcome::Completed {
                self.fail(e, submit);
            } else if replay {
                let x = &mut self.execs[e as usize];
                let tk = &mut x.tokens[t as usize];
                tk.path.transition_us += (rec.end - rec.arrival).as_micros();
                let s = tk.state;
                if s == NONE {
                    let start = self.wfs.workflows[x.wf as usize].start;
                    self.enter(e, t, start, rec.end, submit);
                } else {
                    match &self.wfs.workflows[x.wf as usize].states[s as usize].kind {
                        Kind::Map { .. } => self.lane_free(e, t, lane, rec.end, submit),
                        _ => self.advance(e, t, rec.end, submit),
                    }
                }
            } else {
                self.task_done(e, t, lane, rec, submit);
            }
        } else if rec.outcome != Outcome::Completed && self.execs[e as usize].ended.is_none() {
            self.fail(e, submit);
        }
        self.finalize(e);
    }

    fn fail(&mut self, e: u32, submit: &mut Submit<'_>) {
        let now = submit.now();
        let x = &mut self.execs[e as usize];
        x.ended = Some((now, false));
        for i in 0..x.live_tokens {
            for h in x.tokens[i].holders.drain(..) {
                submit.release(SimDuration::ZERO, h);
            }
        }
    }

    /// Writes the execution's record and frees its slot once it has ended and nothing of
    /// it is outstanding.
    fn finalize(&mut self, e: u32) {
        let x = &self.execs[e as usize];
        let Some((end, completed)) = x.ended else {
            return;
        };
        if x.outstanding > 0 {
            return;
        }
        let wf = &self.wfs.workflows[x.wf as usize];
        let latency_us = (end - x.arrival).as_micros();
        let u = &mut self.report.usage;
        let orchestration = match wf.orchestrator {
            Orchestrator::StepFunctionsStandard => {
                u.standard_transitions += x.transitions;
                pricing::per_item(x.transitions, pricing::STANDARD_TRANSITION_UNITS)
            }
            Orchestrator::StepFunctionsExpress => {
                let units = pricing::express_units(latency_us, wf.express_memory_mb);
                u.express_executions += 1;
                u.express_units += units;
                Money::for_millionths(1, pricing::EXPRESS_MILLION_EXECUTIONS_UNITS)
                    + Money(
                        units as u128 * pricing::express_unit_money(pricing::EXPRESS_TIERS[0].1),
                    )
            }
            Orchestrator::Durable => {
                let tx = x.replays * pricing::DURABLE_TRANSACTIONS_PER_REPLAY;
                u.durable_transactions += tx;
                u.durable_replay_cost += x.replay_cost;
                x.replay_cost + pricing::per_item(tx, pricing::STORAGE_TRANSACTION_UNITS)
            }
            Orchestrator::Direct | Orchestrator::WorkerSide => Money::ZERO,
        };
        u.storage_puts += x.puts;
        u.storage_gets += x.gets;
        let prices = self.report.storage_prices.expect("set at construction");
        let storage = pricing::per_item(x.puts, prices.put_units)
            + pricing::per_item(x.gets, prices.get_units);
        let rec = ExecutionRecord {
            id: x.id,
            workflow: x.wf,
            completed,
            arrival: x.arrival,
            end,
            path: x.path,
            tasks: x.tasks,
            cold_starts: x.cold_starts,
            transitions: x.transitions,
            replays: x.replays,
            bytes: x.bytes,
            data_us: x.data_us,
            function_cost: x.function_cost,
            orchestration_cost: orchestration,
            storage_cost: storage,
        };
        self.report.workflows[x.wf as usize].add(&rec);
        if completed {
            self.report.latency_us.add(latency_us);
        }
        if let Some(sink) = self.sink.as_mut() {
            sink(&rec);
        }
        self.execs[e as usize].live_tokens = 0;
        self.free.push(e);
    }
}

impl std::fmt::Debug for Orchestration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Orchestration")
    }
}
