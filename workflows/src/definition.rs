//! Workflow definitions as a scenario writes them (serde, TOML or JSON), their defaults with
//! sources, and their validation into a compiled [`Workflows`] set.

use faasim_sim::{DistSpec, FunctionSpec, Sampler, SimDuration};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The most items one `map` state may have (and so the most invocations it may run at once).
pub const MAX_MAP_ITEMS: u32 = 10_000;
/// The most states one workflow may have.
pub const MAX_STATES: usize = 10_000;

/// Who runs the workflow, how it adds latency and how it is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Orchestrator {
    /// AWS Step Functions, Standard workflows: billed per state transition.
    #[default]
    StepFunctionsStandard,
    /// AWS Step Functions, Express workflows: billed per execution and by duration × memory.
    StepFunctionsExpress,
    /// Azure Durable Functions: an orchestrator function replays at every await point; each
    /// replay is a billed invocation, and each costs storage transactions.
    Durable,
    /// No orchestrator: each function calls the next and waits for it (billed while waiting).
    Direct,
    /// FaaSFlow's worker-side scheduling: the worker that ran a state triggers its
    /// successors; no central orchestrator, no orchestration bill.
    WorkerSide,
}

impl Orchestrator {
    /// The name in scenario and result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Orchestrator::StepFunctionsStandard => "step-functions-standard",
            Orchestrator::StepFunctionsExpress => "step-functions-express",
            Orchestrator::Durable => "durable",
            Orchestrator::Direct => "direct",
            Orchestrator::WorkerSide => "worker-side",
        }
    }

    /// The default orchestration latency per state transition, ms.
    ///
    /// These are assumptions of the right order of magnitude, not measurements faasim
    /// reproduces; set `transition_ms` from a measurement of your platform when it matters.
    /// - Step Functions Standard 30 ms, Express 20 ms: the tens-of-milliseconds per-state
    ///   overhead orchestration comparisons report for AWS (López et al., "Comparison of FaaS
    ///   Orchestration Systems", WoSC'18; Copik et al., SeBS-Flow, EuroSys'25).
    /// - Durable Functions 100 ms: the orchestrator is driven through storage queues, which
    ///   are polled (López et al., WoSC'18, report Durable Functions as the slowest of the
    ///   orchestrators compared).
    /// - Direct 20 ms: one synchronous invoke API call between functions.
    /// - Worker-side 1 ms: a local trigger on the worker (FaaSFlow, Li et al., ASPLOS'22, §4:
    ///   worker-side scheduling removes the central engine's round trip).
    pub fn default_transition_ms(self) -> f64 {
        match self {
            Orchestrator::StepFunctionsStandard => 30.0,
            Orchestrator::StepFunctionsExpress => 20.0,
            Orchestrator::Durable => 100.0,
            Orchestrator::Direct => 20.0,
            Orchestrator::WorkerSide => 1.0,
        }
    }
}

/// Pre-warming along a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Prewarm {
    /// Reactive: an instance starts when a request finds none.
    #[default]
    None,
    /// Xanadu's speculative provisioning (Daw et al., "Xanadu: Mitigating Cascading Cold
    /// Starts in Serverless Function Chain Deployments", Middleware'20): when an execution
    /// starts, instances start at once for every state along its most likely path (every
    /// parallel branch, the heaviest branch of a choice). Differs from Xanadu in that the
    /// likely path comes from the definition's weights, not from profiled executions.
    Speculative,
    /// Xanadu's just-in-time provisioning: each state's instance along the likely path
    /// starts at the state's expected entry (mean durations and transitions) minus its
    /// function's expected cold start.
    JustInTime,
}

/// A duration in ms: a number, or a distribution table as for cold starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DurationSpec {
    /// Always this many ms.
    Fixed(f64),
    /// A distribution (`{ dist = "lognormal", median_ms, sigma }`, ...).
    Dist(DistSpec),
}

impl DurationSpec {
    /// The distribution this stands for.
    pub fn to_dist(&self) -> DistSpec {
        match self {
            DurationSpec::Fixed(v) => DistSpec::Constant { value_ms: *v },
            DurationSpec::Dist(d) => d.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DurationSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of ms or a distribution table")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationSpec, E> {
                Ok(DurationSpec::Fixed(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationSpec, E> {
                Ok(DurationSpec::Fixed(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationSpec, E> {
                Ok(DurationSpec::Fixed(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<DurationSpec, A::Error> {
                DistSpec::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(DurationSpec::Dist)
            }
        }
        d.deserialize_any(V)
    }
}

/// One workflow (`[workflows.NAME]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    /// Who runs it (default `step-functions-standard`).
    #[serde(default)]
    pub orchestrator: Orchestrator,
    /// The first state.
    pub start: String,
    /// Orchestration latency per state transition; the orchestrator's default when absent
    /// ([`Orchestrator::default_transition_ms`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_ms: Option<DurationSpec>,
    /// Pre-warming along the workflow (default none).
    #[serde(default)]
    pub prewarm: Prewarm,
    /// The states, by name.
    pub states: BTreeMap<String, StateSpec>,
}

/// One state (`[workflows.NAME.states.STATE]`), tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StateSpec {
    /// One invocation of `function`.
    Task {
        /// An ordinary function: its own instances, keep-alive, placement and bill.
        function: String,
        /// Execution time.
        duration_ms: DurationSpec,
        /// Memory of the function's instances, MB.
        memory_mb: u32,
        /// Bytes handed to the next state (default 0).
        #[serde(default)]
        output_bytes: u64,
        /// The next state; absent: the execution (or its parallel branch) ends here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// `items` invocations of `function`, at most `max_concurrency` at once.
    Map {
        /// The function each item invokes.
        function: String,
        /// Invocations (1 to [`MAX_MAP_ITEMS`]).
        items: u32,
        /// At most this many at once (default: all).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_concurrency: Option<u32>,
        /// Execution time of each item.
        duration_ms: DurationSpec,
        /// Memory, MB.
        memory_mb: u32,
        /// Bytes each item hands on (the next state receives `items` × this).
        #[serde(default)]
        output_bytes: u64,
        /// The next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Branches that run at once; the join waits for all of them.
    Parallel {
        /// Each branch's first state; a branch ends at a state without `next`.
        branches: Vec<String>,
        /// The state after the join.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// One branch, drawn by weight from the workflows' own random stream.
    Choice {
        /// The branches and their weights.
        choices: Vec<ChoiceSpec>,
    },
    /// Waits `seconds`.
    Wait {
        /// How long, seconds.
        seconds: f64,
        /// The next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
}

/// One branch of a choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceSpec {
    /// The state it leads to.
    pub next: String,
    /// Its relative weight (> 0).
    pub weight: f64,
}

/// How data moves between states (`[data]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Passing {
    /// Through object storage: each hop is a put and a get.
    #[default]
    Storage,
    /// Directly between instances (Pheromone, SAND, FaaSFlow's worker-side store).
    Direct,
}

/// `[data]`: data passing between states. Defaults are stated with their sources; the
/// bandwidths and latencies are round assumptions of the right order, to be set from a
/// measurement when the question depends on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSpec {
    /// `"storage"` (default) or `"direct"`.
    pub passing: Passing,
    /// Per storage request (put or get), ms. Default 20: object storage (S3) requests take
    /// tens of ms (Klimovic et al., "Understanding Ephemeral Storage for Serverless
    /// Analytics", ATC'18, §3).
    pub storage_latency_ms: f64,
    /// Storage throughput per transfer, MB/s (1 MB = 10^6 bytes). Default 75: the per-function
    /// S3 throughput of the same study is of this order.
    pub storage_mb_per_s: f64,
    /// Direct transfer between workers, MB/s. Default 1250: a 10 Gbit/s network (assumed).
    pub network_mb_per_s: f64,
    /// Direct transfer within one worker, MB/s. Default 10000: a shared-memory copy
    /// (assumed; SAND, ATC'18, and FaaSFlow, ASPLOS'22, pass data locally for this reason).
    pub local_mb_per_s: f64,
    /// Price of one put, USD. Default $0.000005 ($0.005 per 1,000 PUT requests, Amazon S3
    /// Standard, us-east-1, aws.amazon.com/s3/pricing, 2024).
    pub storage_put_usd: f64,
    /// Price of one get, USD. Default $0.0000004 ($0.0004 per 1,000 GET requests, same page).
    pub storage_get_usd: f64,
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            passing: Passing::Storage,
            storage_latency_ms: 20.0,
            storage_mb_per_s: 75.0,
            network_mb_per_s: 1250.0,
            local_mb_per_s: 10_000.0,
            storage_put_usd: 0.000005,
            storage_get_usd: 0.0000004,
        }
    }
}

/// A definition that cannot run: names the workflow, the state (if any) and the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("workflow `{workflow}`{}, key `{key}`: {message}", state.as_ref().map(|s| format!(", state `{s}`")).unwrap_or_default())]
pub struct DefinitionError {
    /// The workflow.
    pub workflow: String,
    /// The state, when the fault is in one.
    pub state: Option<String>,
    /// The key at fault.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// What a task (or each item of a map) runs.
#[derive(Debug, Clone)]
pub struct TaskOp {
    /// Index into [`Workflows::functions`] (= the engine's `FunctionId`, as they are
    /// registered first).
    pub function: u32,
    /// Execution time.
    pub duration: Sampler,
    /// Its mean, µs (for just-in-time pre-warming).
    pub mean_duration_us: u64,
    /// Bytes handed on.
    pub output_bytes: u64,
}

/// A compiled state.
#[derive(Debug, Clone)]
pub enum Kind {
    /// One invocation.
    Task(TaskOp),
    /// `items` invocations, `max_concurrency` at once.
    Map {
        /// What each item runs.
        op: TaskOp,
        /// Items.
        items: u32,
        /// At most this many at once.
        max_concurrency: u32,
    },
    /// Branches (their first states).
    Parallel(Vec<u32>),
    /// Targets and cumulative weights (the last is 1); `likely` is the heaviest target.
    Choice {
        /// The states.
        targets: Vec<u32>,
        /// Cumulative normalised weights.
        cumulative: Vec<f64>,
        /// The most likely target.
        likely: u32,
    },
    /// Waits.
    Wait(SimDuration),
}

/// A compiled state.
#[derive(Debug, Clone)]
pub struct State {
    /// Its name.
    pub name: String,
    /// What it does.
    pub kind: Kind,
    /// The next state (`None`: the frame ends; always `None` for a choice).
    pub next: Option<u32>,
}

/// A compiled workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Its name: a trace row of this function starts an execution.
    pub name: String,
    /// Who runs it.
    pub orchestrator: Orchestrator,
    /// Pre-warming.
    pub prewarm: Prewarm,
    /// The first state.
    pub start: u32,
    /// The states, in name order.
    pub states: Vec<State>,
    /// Latency per transition.
    pub transition: Sampler,
    /// Its mean, µs.
    pub mean_transition_us: u64,
    /// Durable: the orchestrator function (index into [`Workflows::functions`]).
    pub orchestrator_function: Option<u32>,
    /// Express: the billed memory of an execution, MB (a multiple of 64).
    pub express_memory_mb: u32,
}

/// Every workflow of a run and the functions they deploy.
#[derive(Debug, Clone, Default)]
pub struct Workflows {
    /// The workflows, in name order.
    pub workflows: Vec<Workflow>,
    /// The functions they invoke (tasks, then durable orchestrator functions), registered
    /// with the engine before any trace function, in this order.
    pub functions: Vec<FunctionSpec>,
}

/// Memory of a Durable Functions orchestrator function, MB (Azure Functions' consumption
/// plan bills at least 128 MB).
pub const DURABLE_ORCHESTRATOR_MB: u32 = 128;
/// Execution time of one orchestrator replay, ms (an assumption: replaying the history of
/// a small orchestration takes milliseconds).
pub const DURABLE_REPLAY_MS: u64 = 5;

fn check_dist(d: &DurationSpec) -> Result<(Sampler, u64), String> {
    let dist = d.to_dist();
    let s = Sampler::new(&dist)?;
    let mean = dist.mean_ms();
    let mean_us = SimDuration::try_from_ms_f64(mean)
        .ok_or_else(|| format!("mean of {mean} ms is out of range"))?
        .as_micros();
    Ok((s, mean_us))
}

impl Workflows {
    /// Validates and compiles `specs`. Errors name the workflow, the state and the key.
    pub fn compile(specs: &BTreeMap<String, WorkflowSpec>) -> Result<Workflows, DefinitionError> {
        let mut out = Workflows::default();
        for (name, spec) in specs {
            let wf = compile_one(name, spec, &mut out.functions)?;
            out.workflows.push(wf);
        }
        // Durable orchestrator functions after every task function.
        for wf in &mut out.workflows {
            if wf.orchestrator == Orchestrator::Durable {
                let fname = format!("{}/orchestrator", wf.name);
                wf.orchestrator_function = Some(out.functions.len() as u32);
                out.functions.push(FunctionSpec {
                    name: fname,
                    memory_mb: DURABLE_ORCHESTRATOR_MB,
                });
            }
        }
        for wf in &out.workflows {
            if let Some(f) = out.functions.iter().find(|f| f.name == wf.name) {
                return Err(DefinitionError {
                    workflow: wf.name.clone(),
                    state: None,
                    key: "function".into(),
                    message: format!(
                        "`{}` names both a workflow and a function its states invoke; give them different names",
                        f.name
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The workflow whose trace function is `name`.
    pub fn by_name(&self, name: &str) -> Option<usize> {
        self.workflows.iter().position(|w| w.name == name)
    }
}

fn compile_one(
    name: &str,
    spec: &WorkflowSpec,
    functions: &mut Vec<FunctionSpec>,
) -> Result<Workflow, DefinitionError> {
    let err = |state: Option<&str>, key: &str, message: String| DefinitionError {
        workflow: name.to_owned(),
        state: state.map(String::from),
        key: key.to_owned(),
        message,
    };
    if spec.states.is_empty() {
        return Err(err(
            None,
            "states",
            "a workflow needs at least one state".into(),
        ));
    }
    if spec.states.len() > MAX_STATES {
        return Err(err(
            None,
            "states",
            format!(
                "{} states, more than the limit of {MAX_STATES}",
                spec.states.len()
            ),
        ));
    }
    let names: Vec<&String> = spec.states.keys().collect();
    let index = |s: &str| names.iter().position(|n| n.as_str() == s).map(|i| i as u32);
    let start = index(&spec.start).ok_or_else(|| {
        err(
            None,
            "start",
            format!("`{}` is not a state of the workflow", spec.start),
        )
    })?;
    let transition_spec = spec.transition_ms.clone().unwrap_or(DurationSpec::Fixed(
        spec.orchestrator.default_transition_ms(),
    ));
    let (transition, mean_transition_us) =
        check_dist(&transition_spec).map_err(|m| err(None, "transition_ms", m))?;
    let mut states = Vec::with_capacity(names.len());
    let mut op = |state: &str,
                  function: &str,
                  duration: &DurationSpec,
                  memory_mb: u32,
                  output_bytes: u64|
     -> Result<TaskOp, DefinitionError> {
        if function.is_empty() {
            return Err(err(Some(state), "function", "must not be empty".into()));
        }
        if memory_mb == 0 {
            return Err(err(Some(state), "memory_mb", "must be at least 1".into()));
        }
        let (duration, mean_duration_us) =
            check_dist(duration).map_err(|m| err(Some(state), "duration_ms", m))?;
        let f = match functions.iter().position(|f| f.name == function) {
            Some(i) if functions[i].memory_mb != memory_mb => {
                return Err(err(
                    Some(state),
                    "memory_mb",
                    format!(
                        "function `{function}` has {memory_mb} MB here but {} MB in another state; a function has one memory",
                        functions[i].memory_mb
                    ),
                ))
            }
            Some(i) => i as u32,
            None => {
                functions.push(FunctionSpec {
                    name: function.to_owned(),
                    memory_mb,
                });
                (functions.len() - 1) as u32
            }
        };
        Ok(TaskOp {
            function: f,
            duration,
            mean_duration_us,
            output_bytes,
        })
    };
    for (sname, s) in &spec.states {
        let target = |key: &str, t: &str| {
            index(t).ok_or_else(|| {
                err(
                    Some(sname),
                    key,
                    format!("`{t}` is not a state of the workflow"),
                )
            })
        };
        let next_of = |n: &Option<String>| n.as_deref().map(|t| target("next", t)).transpose();
        let (kind, next) = match s {
            StateSpec::Task {
                function,
                duration_ms,
                memory_mb,
                output_bytes,
                next,
            } => (
                Kind::Task(op(sname, function, duration_ms, *memory_mb, *output_bytes)?),
                next_of(next)?,
            ),
            StateSpec::Map {
                function,
                items,
                max_concurrency,
                duration_ms,
                memory_mb,
                output_bytes,
                next,
            } => {
                if *items == 0 || *items > MAX_MAP_ITEMS {
                    return Err(err(
                        Some(sname),
                        "items",
                        format!("{items}: expected 1 to {MAX_MAP_ITEMS}"),
                    ));
                }
                let mc = max_concurrency.unwrap_or(*items);
                if mc == 0 {
                    return Err(err(
                        Some(sname),
                        "max_concurrency",
                        "must be at least 1".into(),
                    ));
                }
                (
                    Kind::Map {
                        op: op(sname, function, duration_ms, *memory_mb, *output_bytes)?,
                        items: *items,
                        max_concurrency: mc.min(*items),
                    },
                    next_of(next)?,
                )
            }
            StateSpec::Parallel { branches, next } => {
                if branches.is_empty() {
                    return Err(err(
                        Some(sname),
                        "branches",
                        "needs at least one branch".into(),
                    ));
                }
                let b = branches
                    .iter()
                    .map(|t| target("branches", t))
                    .collect::<Result<Vec<_>, _>>()?;
                (Kind::Parallel(b), next_of(next)?)
            }
            StateSpec::Choice { choices } => {
                if choices.is_empty() {
                    return Err(err(
                        Some(sname),
                        "choices",
                        "needs at least one choice".into(),
                    ));
                }
                let total: f64 = choices.iter().map(|c| c.weight).sum();
                if choices
                    .iter()
                    .any(|c| !(c.weight.is_finite() && c.weight > 0.0))
                    || !total.is_finite()
                {
                    return Err(err(
                        Some(sname),
                        "choices",
                        "every weight must be a finite number > 0".into(),
                    ));
                }
                let mut targets = Vec::new();
                let mut cumulative = Vec::new();
                let mut acc = 0.0;
                let mut likely = (0u32, f64::NEG_INFINITY);
                for c in choices {
                    let t = target("choices", &c.next)?;
                    acc += c.weight / total;
                    targets.push(t);
                    cumulative.push(acc);
                    if c.weight > likely.1 {
                        likely = (t, c.weight);
                    }
                }
                *cumulative.last_mut().expect("non-empty") = 1.0;
                (
                    Kind::Choice {
                        targets,
                        cumulative,
                        likely: likely.0,
                    },
                    None,
                )
            }
            StateSpec::Wait { seconds, next } => {
                let d = SimDuration::try_from_ms_f64(seconds * 1e3)
                    .filter(|_| seconds.is_finite() && *seconds >= 0.0)
                    .ok_or_else(|| {
                        err(
                            Some(sname),
                            "seconds",
                            format!("{seconds}: expected a number of seconds >= 0"),
                        )
                    })?;
                (Kind::Wait(d), next_of(next)?)
            }
        };
        states.push(State {
            name: sname.clone(),
            kind,
            next,
        });
    }
    check_graph(name, start, &states)?;
    // Express bills 50 MB plus the definition and the payload, in 64 MB chunks.
    let definition_bytes = serde_json::to_string(spec).map(|s| s.len()).unwrap_or(0) as u64;
    let payload = states
        .iter()
        .map(|s| match &s.kind {
            Kind::Task(op) | Kind::Map { op, .. } => op.output_bytes,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
        .min(crate::pricing::EXPRESS_MAX_PAYLOAD_BYTES);
    let express_memory_mb = crate::pricing::express_memory_mb(definition_bytes + payload);
    Ok(Workflow {
        name: name.to_owned(),
        orchestrator: spec.orchestrator,
        prewarm: spec.prewarm,
        start,
        states,
        transition,
        mean_transition_us,
        orchestrator_function: None,
        express_memory_mb,
    })
}

/// The edges of state `s`: (key, target) pairs.
pub(crate) fn edges(s: &State) -> Vec<(&'static str, u32)> {
    let mut e: Vec<(&'static str, u32)> = s.next.iter().map(|&n| ("next", n)).collect();
    match &s.kind {
        Kind::Parallel(b) => e.extend(b.iter().map(|&t| ("branches", t))),
        Kind::Choice { targets, .. } => e.extend(targets.iter().map(|&t| ("choices", t))),
        _ => {}
    }
    e
}

/// No cycle, every state reachable from the start, and each state in one frame (the top
/// level or one parallel branch), so that every join knows its branches.
fn check_graph(name: &str, start: u32, states: &[State]) -> Result<(), DefinitionError> {
    let err = |state: &str, key: &str, message: String| DefinitionError {
        workflow: name.to_owned(),
        state: Some(state.to_owned()),
        key: key.to_owned(),
        message,
    };
    // Cycles: iterative DFS with colours (0 white, 1 on the stack, 2 done).
    let n = states.len();
    let mut colour = vec![0u8; n];
    let mut stack: Vec<(u32, usize)> = vec![(start, 0)];
    colour[start as usize] = 1;
    while let Some(&mut (s, ref mut i)) = stack.last_mut() {
        let e = edges(&states[s as usize]);
        if *i < e.len() {
            let (key, t) = e[*i];
            *i += 1;
            match colour[t as usize] {
                0 => {
                    colour[t as usize] = 1;
                    stack.push((t, 0));
                }
                1 => {
                    return Err(err(
                        &states[s as usize].name,
                        key,
                        format!(
                            "leads back to `{}`: the workflow has a cycle",
                            states[t as usize].name
                        ),
                    ))
                }
                _ => {}
            }
        } else {
            colour[s as usize] = 2;
            stack.pop();
        }
    }
    if let Some(u) = colour.iter().position(|&c| c == 0) {
        return Err(err(
            &states[u].name,
            "start",
            format!(
                "unreachable from the start state `{}`",
                states[start as usize].name
            ),
        ));
    }
    // Frames: 0 is the top level; each parallel branch opens a new one.
    let mut frame = vec![u32::MAX; n];
    let mut next_frame = 1u32;
    let mut work = vec![(start, 0u32)];
    while let Some((s, f)) = work.pop() {
        let cur = frame[s as usize];
        if cur == f {
            continue;
        }
        if cur != u32::MAX {
            return Err(err(
                &states[s as usize].name,
                "next",
                "is reached both from inside a parallel branch and from outside it (or from two branches); a join could not tell when its branch ends".into(),
            ));
        }
        frame[s as usize] = f;
        let st = &states[s as usize];
        if let Some(nx) = st.next {
            work.push((nx, f));
        }
        match &st.kind {
            Kind::Parallel(b) => {
                for &t in b {
                    work.push((t, next_frame));
                    next_frame += 1;
                }
            }
            Kind::Choice { targets, .. } => work.extend(targets.iter().map(|&t| (t, f))),
            _ => {}
        }
    }
    Ok(())
}
