//! SeBS-Flow's `definition.json` (Copik et al., "SeBS-Flow: Benchmarking Serverless Cloud
//! Function Workflows", EuroSys'25; github.com/spcl/serverless-benchmarks, branch
//! `feature/workflows-merge`, `benchmarks/600.workflows/*/definition.json`), imported as far
//! as it maps onto faasim's states.
//!
//! | SeBS state | faasim | how |
//! |---|---|---|
//! | `task` (`func_name`, `next`) | `task` | durations and memory from [`SebsOptions`] |
//! | `map` (`array`, `root`, `states`) | `map` | the sub-workflow must be one `task`; `items` from [`SebsOptions::items`] (the array's length is data, unknown before a run) |
//! | `parallel` (`parallel_functions`: sub-workflows) | `parallel` | each sub-workflow's states are flattened under `<state>/<branch>/<name>` |
//! | `switch` (`cases`, `default`) | `choice` | each distinct target equally likely (the cases test data faasim does not have) |
//! | `repeat` (`func_name`, `count`) | a chain of `count` tasks | `<state>#1` … |
//! | `loop` (`func_name`, `array`) | a chain of [`SebsOptions::items`] tasks | a sequential map |
//!
//! Not mapped: `failure` edges (faasim has no failed tasks to take them) are ignored and the
//! states only they reach are dropped (trip-booking's compensations), and a map whose
//! sub-workflow has more than one state is refused with an error naming it.

use crate::definition::{ChoiceSpec, DurationSpec, Orchestrator, Prewarm, StateSpec, WorkflowSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a SeBS-Flow definition does not say (`[sebs]` in a scenario).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SebsOptions {
    /// The workflow's name (a trace row of this function starts an execution); default
    /// the file's stem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Who runs it.
    pub orchestrator: Orchestrator,
    /// Pre-warming.
    pub prewarm: Prewarm,
    /// Orchestration latency per transition (default: the orchestrator's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transition_ms: Option<DurationSpec>,
    /// Every task's execution time (default 100 ms).
    pub duration_ms: DurationSpec,
    /// Every function's memory, MB (default 256; SeBS's `config.json` gives the benchmark's).
    pub memory_mb: u32,
    /// Every task's output, bytes (default 0).
    pub output_bytes: u64,
    /// Items of every map and loop (default 4).
    pub items: u32,
    /// Map concurrency (default: all items at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
}

impl Default for SebsOptions {
    fn default() -> Self {
        SebsOptions {
            name: None,
            orchestrator: Orchestrator::default(),
            prewarm: Prewarm::None,
            transition_ms: None,
            duration_ms: DurationSpec::Fixed(100.0),
            memory_mb: 256,
            output_bytes: 0,
            items: 4,
            max_concurrency: None,
        }
    }
}

/// A SeBS definition that does not map.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("SeBS-Flow definition, state `{state}`: {message}")]
pub struct SebsError {
    /// The state (its path, for nested ones).
    pub state: String,
    /// What is wrong.
    pub message: String,
}

/// Parses a SeBS-Flow `definition.json` into one workflow named `name`.
pub fn import(
    json: &str,
    name: &str,
    o: &SebsOptions,
) -> Result<(String, WorkflowSpec), SebsError> {
    let v: Value = serde_json::from_str(json).map_err(|e| SebsError {
        state: "(file)".into(),
        message: format!("not JSON: {e}"),
    })?;
    let mut states = BTreeMap::new();
    let start = flatten(&v, "", o, &mut states)?;
    prune(&start, &mut states);
    let name = o.name.clone().unwrap_or_else(|| name.to_owned());
    Ok((
        name,
        WorkflowSpec {
            orchestrator: o.orchestrator,
            start,
            transition_ms: o.transition_ms.clone(),
            prewarm: o.prewarm,
            states,
        },
    ))
}

/// Drops the states reachable only through `failure` edges (which faasim does not take).
fn prune(start: &str, states: &mut BTreeMap<String, StateSpec>) {
    let mut seen = std::collections::BTreeSet::new();
    let mut work = vec![start.to_owned()];
    while let Some(s) = work.pop() {
        if !seen.insert(s.clone()) {
            continue;
        }
        let Some(st) = states.get(&s) else { continue };
        match st {
            StateSpec::Task { next, .. }
            | StateSpec::Map { next, .. }
            | StateSpec::Wait { next, .. } => work.extend(next.iter().cloned()),
            StateSpec::Parallel { branches, next } => {
                work.extend(branches.iter().cloned());
                work.extend(next.iter().cloned());
            }
            StateSpec::Choice { choices } => work.extend(choices.iter().map(|c| c.next.clone())),
        }
    }
    states.retain(|k, _| seen.contains(k));
}

fn err(state: &str, message: impl Into<String>) -> SebsError {
    SebsError {
        state: state.to_owned(),
        message: message.into(),
    }
}

fn str_field<'a>(v: &'a Value, key: &str, state: &str) -> Result<&'a str, SebsError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| err(state, format!("expected a string `{key}`")))
}

fn task(o: &SebsOptions, function: &str, next: Option<String>) -> StateSpec {
    StateSpec::Task {
        function: function.to_owned(),
        duration_ms: o.duration_ms.clone(),
        memory_mb: o.memory_mb,
        output_bytes: o.output_bytes,
        next,
    }
}

/// Flattens a (sub-)workflow `{ root, states }` with state names prefixed by `prefix`;
/// returns the flattened name of its root.
fn flatten(
    v: &Value,
    prefix: &str,
    o: &SebsOptions,
    out: &mut BTreeMap<String, StateSpec>,
) -> Result<String, SebsError> {
    let here = if prefix.is_empty() { "(top)" } else { prefix };
    let root = str_field(v, "root", here)?;
    let states = v
        .get("states")
        .and_then(Value::as_object)
        .ok_or_else(|| err(here, "expected an object `states`"))?;
    let full = |n: &str| format!("{prefix}{n}");
    for (sname, s) in states {
        let path = full(sname);
        let next = s.get("next").and_then(Value::as_str).map(full);
        let ty = str_field(s, "type", &path)?;
        match ty {
            "task" => {
                let f = str_field(s, "func_name", &path)?;
                out.insert(path, task(o, f, next));
            }
            "map" => {
                let sub = s
                    .get("states")
                    .and_then(Value::as_object)
                    .ok_or_else(|| err(&path, "a map needs `states`"))?;
                let (only, inner) = match (sub.len(), sub.iter().next()) {
                    (1, Some(x)) => x,
                    _ => {
                        return Err(err(
                            &path,
                            "a map whose sub-workflow has more than one state does not map onto faasim's map (one function per item)",
                        ))
                    }
                };
                if str_field(inner, "type", &format!("{path}/{only}"))? != "task" {
                    return Err(err(&path, "a map's sub-workflow must be one task"));
                }
                let f = str_field(inner, "func_name", &format!("{path}/{only}"))?;
                out.insert(
                    path,
                    StateSpec::Map {
                        function: f.to_owned(),
                        items: o.items,
                        max_concurrency: o.max_concurrency,
                        duration_ms: o.duration_ms.clone(),
                        memory_mb: o.memory_mb,
                        output_bytes: o.output_bytes,
                        next,
                    },
                );
            }
            "parallel" => {
                let subs = s
                    .get("parallel_functions")
                    .and_then(Value::as_array)
                    .ok_or_else(|| err(&path, "a parallel needs `parallel_functions`"))?;
                let mut branches = Vec::new();
                for (i, sub) in subs.iter().enumerate() {
                    branches.push(flatten(sub, &format!("{path}/{i}/"), o, out)?);
                }
                out.insert(path, StateSpec::Parallel { branches, next });
            }
            "switch" => {
                let mut targets: Vec<String> = Vec::new();
                for c in s
                    .get("cases")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let n = full(str_field(c, "next", &path)?);
                    if !targets.contains(&n) {
                        targets.push(n);
                    }
                }
                if let Some(d) = s.get("default").and_then(Value::as_str) {
                    let n = full(d);
                    if !targets.contains(&n) {
                        targets.push(n);
                    }
                }
                let choices = targets
                    .into_iter()
                    .map(|next| ChoiceSpec { next, weight: 1.0 })
                    .collect();
                out.insert(path, StateSpec::Choice { choices });
            }
            "repeat" | "loop" => {
                let f = str_field(s, "func_name", &path)?;
                let n = if ty == "repeat" {
                    s.get("count")
                        .and_then(Value::as_u64)
                        .filter(|&c| (1..=10_000).contains(&c))
                        .ok_or_else(|| err(&path, "a repeat needs `count` from 1 to 10000"))?
                        as u32
                } else {
                    o.items.max(1)
                };
                // The state's own name is the first of the chain, so edges into it hold.
                for k in 1..=n {
                    let name = if k == 1 {
                        path.clone()
                    } else {
                        format!("{path}#{k}")
                    };
                    let nx = if k < n {
                        Some(format!("{path}#{}", k + 1))
                    } else {
                        next.clone()
                    };
                    out.insert(name, task(o, f, nx));
                }
            }
            other => return Err(err(&path, format!("unknown state type `{other}`"))),
        }
    }
    Ok(full(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workflows;

    #[test]
    fn a_map_reduce_imports_as_a_chain_with_two_maps() {
        let json = r#"{"root":"split","states":{
            "split":{"type":"task","func_name":"split","next":"map-state"},
            "map-state":{"type":"map","root":"map","array":"list","next":"shuffle",
                "states":{"map":{"type":"task","func_name":"map"}}},
            "shuffle":{"type":"task","func_name":"shuffle","next":"reduce-state"},
            "reduce-state":{"type":"map","root":"reduce","array":"list",
                "states":{"reduce":{"type":"task","func_name":"reduce"}}}}}"#;
        let (name, spec) = import(json, "mr", &SebsOptions::default()).unwrap();
        assert_eq!(name, "mr");
        assert_eq!(spec.start, "split");
        let w = Workflows::compile(&BTreeMap::from([(name, spec)])).unwrap();
        let names: Vec<&str> = w.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["map", "reduce", "shuffle", "split"]);
    }

    #[test]
    fn repeat_becomes_a_chain_and_parallel_branches_are_flattened() {
        let json = r#"{"root":"gen","states":{
            "gen":{"type":"task","func_name":"gen","next":"p"},
            "p":{"type":"parallel","next":"process","parallel_functions":[
                {"root":"a","states":{"a":{"type":"task","func_name":"fa"}}},
                {"root":"b","states":{"b":{"type":"task","func_name":"fb"}}}]},
            "process":{"type":"repeat","func_name":"process","count":3}}}"#;
        let (_, spec) = import(json, "x", &SebsOptions::default()).unwrap();
        let keys: Vec<&str> = spec.states.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "gen",
                "p",
                "p/0/a",
                "p/1/b",
                "process",
                "process#2",
                "process#3"
            ]
        );
        Workflows::compile(&BTreeMap::from([("x".to_owned(), spec)])).unwrap();
    }

    #[test]
    fn every_published_definition_imports_and_compiles() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sebs");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let (name, spec) = import(&text, &stem, &SebsOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            Workflows::compile(&BTreeMap::from([(name, spec)]))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
        assert_eq!(n, 13);
    }

    #[test]
    fn an_unknown_state_type_is_an_error_naming_it() {
        let json = r#"{"root":"a","states":{"a":{"type":"teleport"}}}"#;
        let e = import(json, "x", &SebsOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "SeBS-Flow definition, state `a`: unknown state type `teleport`"
        );
    }
}
