//! `faasim._faasim`, the compiled half of the `faasim` Python package: runs and sweeps
//! through the same runner as the `faasim` command (so the same scenario and seed write the
//! same files), scenarios given as dicts, and policies written in Python. The Python half
//! (`python/faasim/__init__.py`) wraps it: result objects, DataFrames, the policy base
//! classes.

mod policy;
mod scenario;

use faasim_experiments::runner::CodePolicies;
use faasim_experiments::{LoadedScenario, RunError, ScenarioError};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::{Path, PathBuf};

pyo3::create_exception!(
    _faasim,
    Error,
    PyException,
    "A faasim error: a bad scenario, trace or option, or a run that failed. The message is the faasim command's one line."
);

/// The error and its causes on one line, leaving out a cause whose text the message already
/// holds: the `faasim` command's rule, so Python and the command say the same thing.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !msg.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
    }
    msg.replace('\n', " ")
}

fn error(e: anyhow::Error) -> PyErr {
    Error::new_err(one_line(&e))
}

/// `key=value` overrides as the command's `--set` takes them.
fn overrides(set: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<String>> {
    let mut out = vec![];
    if let Some(d) = set {
        for (k, v) in d.iter() {
            let k: String = k.extract().map_err(|_| {
                Error::new_err("set: keys must be strings such as \"keep_alive.ttl_s\"")
            })?;
            let v = scenario::to_toml(&v, &k).map_err(|m| Error::new_err(format!("set: {m}")))?;
            out.push(format!("{k}={v}"));
        }
    }
    Ok(out)
}

/// The policies a run takes from Python, checked.
struct Given<'py> {
    keep_alive: Option<(Bound<'py, PyAny>, Bound<'py, PyDict>)>,
    placement: Option<(Bound<'py, PyAny>, Bound<'py, PyDict>)>,
    routing: Option<(Bound<'py, PyAny>, Bound<'py, PyDict>)>,
}

/// `info` holds what the Python half found: `class` (qualified name) and, for keep-alive,
/// which optional methods the class defines.
fn flag(info: &Bound<'_, PyDict>, key: &str) -> bool {
    info.get_item(key)
        .ok()
        .flatten()
        .and_then(|v| v.extract::<bool>().ok())
        .unwrap_or(false)
}

fn class_of(info: &Bound<'_, PyDict>) -> String {
    info.get_item("class")
        .ok()
        .flatten()
        .and_then(|v| v.extract::<String>().ok())
        .unwrap_or_else(|| "policy".into())
}

fn code_policies(given: &Given<'_>, shared: &std::rc::Rc<policy::Shared>) -> CodePolicies {
    let mut c = CodePolicies {
        failure: shared.failure.clone(),
        ..CodePolicies::default()
    };
    if let Some((obj, info)) = &given.keep_alive {
        let class = class_of(info);
        c.names.push(("keep_alive", format!("python:{class}")));
        c.keep_alive = Some(Box::new(policy::PyKeepAlive {
            obj: obj.clone().unbind(),
            class: class.rsplit('.').next().unwrap_or(&class).to_owned(),
            observe: flag(info, "observe"),
            prewarm: flag(info, "prewarm"),
            victim: flag(info, "victim_priority"),
            shared: shared.clone(),
        }));
    }
    if let Some((obj, info)) = &given.placement {
        let class = class_of(info);
        c.names.push(("placement", format!("python:{class}")));
        c.placement = Some(Box::new(policy::PyPlacement {
            obj: obj.clone().unbind(),
            class: class.rsplit('.').next().unwrap_or(&class).to_owned(),
            shared: shared.clone(),
        }));
    }
    if let Some((obj, info)) = &given.routing {
        let class = class_of(info);
        c.names.push(("routing", format!("python:{class}")));
        c.routing = Some(Box::new(policy::PyRouting {
            obj: obj.clone().unbind(),
            class: class.rsplit('.').next().unwrap_or(&class).to_owned(),
            shared: shared.clone(),
        }));
    }
    c
}

/// Runs `loaded` as `faasim run` does, with the given Python policies; returns the
/// outcome's fields as a dict.
fn run_loaded<'py>(
    py: Python<'py>,
    loaded: LoadedScenario,
    label: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    given: Given<'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let seed = seed.unwrap_or(loaded.scenario.seed);
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&loaded.scenario.name));
    let any_code =
        given.keep_alive.is_some() || given.placement.is_some() || given.routing.is_some();
    let shared = policy::Shared::new();
    let context = || format!("run of {} failed", label.display());
    let result: Result<faasim_experiments::RunOutcome, RunError> = if any_code {
        let code = code_policies(&given, &shared);
        faasim_experiments::runner::run_scenario_code(&loaded, seed, &out, code)
    } else {
        // No Python to call: other Python threads run meanwhile.
        py.detach(|| faasim_experiments::run_scenario(&loaded, seed, &out))
    };
    let calls = PyDict::new(py);
    for (m, n) in shared.calls.borrow().iter() {
        calls.set_item(*m, *n)?;
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            if let Some(err) = shared.error.borrow_mut().take() {
                return Err(err);
            }
            return Err(error(anyhow::Error::new(e).context(context())));
        }
    };
    let d = PyDict::new(py);
    d.set_item("out_dir", outcome.out_dir.display().to_string())?;
    d.set_item("warnings", outcome.warnings)?;
    d.set_item("skipped_rows", outcome.skipped_rows)?;
    d.set_item("first_skipped", outcome.first_skipped)?;
    d.set_item("seed", seed)?;
    d.set_item("policy_calls", calls)?;
    Ok(d)
}

fn given<'py>(
    keep_alive: Option<Bound<'py, PyAny>>,
    placement: Option<Bound<'py, PyAny>>,
    routing: Option<Bound<'py, PyAny>>,
    info: Option<Bound<'py, PyDict>>,
) -> PyResult<Given<'py>> {
    let py_info = |k: &str, obj: &Option<Bound<'py, PyAny>>| -> PyResult<_> {
        match obj {
            None => Ok(None),
            Some(o) => {
                let i = match info.as_ref().and_then(|d| d.get_item(k).ok().flatten()) {
                    Some(i) => i.cast_into::<PyDict>().map_err(PyErr::from)?,
                    None => PyDict::new(o.py()),
                };
                Ok(Some((o.clone(), i)))
            }
        }
    };
    Ok(Given {
        keep_alive: py_info("keep_alive", &keep_alive)?,
        placement: py_info("placement", &placement)?,
        routing: py_info("routing", &routing)?,
    })
}

/// Runs a scenario file as `faasim run PATH --seed S --set K=V ... --out OUT` does.
#[pyfunction]
#[pyo3(signature = (path, seed=None, set=None, out=None, lenient=false, keep_alive=None, placement=None, routing=None, info=None))]
#[allow(clippy::too_many_arguments)]
fn run_file<'py>(
    py: Python<'py>,
    path: PathBuf,
    seed: Option<u64>,
    set: Option<Bound<'py, PyDict>>,
    out: Option<PathBuf>,
    lenient: bool,
    keep_alive: Option<Bound<'py, PyAny>>,
    placement: Option<Bound<'py, PyAny>>,
    routing: Option<Bound<'py, PyAny>>,
    info: Option<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let ov = overrides(set.as_ref())?;
    let mut loaded =
        faasim_experiments::load(&path, &ov).map_err(|e| error(anyhow::Error::new(e)))?;
    loaded.lenient = lenient;
    let given = given(keep_alive, placement, routing, info)?;
    run_loaded(py, loaded, &path, seed, out, given)
}

/// A scenario dict as a loaded scenario: `label` names it in messages (and in
/// `manifest.json`), `base_dir` resolves its relative paths.
fn load_dict(
    data: &Bound<'_, PyDict>,
    label: &Path,
    base_dir: &Path,
    ov: &[String],
) -> PyResult<LoadedScenario> {
    let doc = match scenario::to_toml(data.as_any(), "") {
        Ok(toml::Value::Table(t)) => t,
        Ok(_) => return Err(Error::new_err("a scenario must be a dict")),
        Err(m) => return Err(Error::new_err(format!("{}: {m}", label.display()))),
    };
    let (text, keys) = scenario::flat_text(&doc);
    let sc = faasim_experiments::scenario::parse(&text, label, ov)
        .map_err(|e| Error::new_err(scenario::name_key(&e, &keys)))?;
    let loaded = LoadedScenario {
        scenario: sc,
        lenient: false,
        path: label.to_owned(),
        base_dir: base_dir.to_owned(),
    };
    loaded
        .workflows()
        .map_err(|e: ScenarioError| error(anyhow::Error::new(e)))?;
    Ok(loaded)
}

/// Runs a scenario given as a dict.
#[pyfunction]
#[pyo3(signature = (data, label, base_dir, seed=None, set=None, out=None, lenient=false, keep_alive=None, placement=None, routing=None, info=None))]
#[allow(clippy::too_many_arguments)]
fn run_dict<'py>(
    py: Python<'py>,
    data: Bound<'py, PyDict>,
    label: PathBuf,
    base_dir: PathBuf,
    seed: Option<u64>,
    set: Option<Bound<'py, PyDict>>,
    out: Option<PathBuf>,
    lenient: bool,
    keep_alive: Option<Bound<'py, PyAny>>,
    placement: Option<Bound<'py, PyAny>>,
    routing: Option<Bound<'py, PyAny>>,
    info: Option<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let ov = overrides(set.as_ref())?;
    let mut loaded = load_dict(&data, &label, &base_dir, &ov)?;
    loaded.lenient = lenient;
    let given = given(keep_alive, placement, routing, info)?;
    run_loaded(py, loaded, &label, seed, out, given)
}

/// Checks a scenario dict as a run would, and returns the scenario as resolved (defaults
/// filled in) as TOML text.
#[pyfunction]
fn check_dict(data: Bound<'_, PyDict>, label: PathBuf, base_dir: PathBuf) -> PyResult<String> {
    let loaded = load_dict(&data, &label, &base_dir, &[])?;
    toml::to_string(&loaded.scenario).map_err(|e| Error::new_err(e.to_string()))
}

/// The dict as scenario-file TOML (one `dotted.key = value` line per value).
#[pyfunction]
fn to_toml_text(data: Bound<'_, PyDict>) -> PyResult<String> {
    match scenario::to_toml(data.as_any(), "") {
        Ok(toml::Value::Table(t)) => Ok(scenario::flat_text(&t).0),
        Ok(_) => Err(Error::new_err("a scenario must be a dict")),
        Err(m) => Err(Error::new_err(m)),
    }
}

/// Runs an experiment as `faasim sweep PATH --jobs J --out OUT --set ... --baseline ...`.
#[pyfunction]
#[pyo3(signature = (experiment, jobs=None, out=None, set=None, baseline=None, progress=false))]
fn sweep<'py>(
    py: Python<'py>,
    experiment: PathBuf,
    jobs: Option<usize>,
    out: Option<PathBuf>,
    set: Option<Bound<'py, PyDict>>,
    baseline: Option<Bound<'py, PyDict>>,
    progress: bool,
) -> PyResult<Bound<'py, PyDict>> {
    use faasim_experiments::sweep as sw;
    let plan_options = sw::PlanOptions {
        overrides: overrides(set.as_ref())?,
        baseline: overrides(baseline.as_ref())?,
    };
    let plan = sw::plan_with(&experiment, &plan_options).map_err(|e| error(e.into()))?;
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(faasim_experiments::limits::MAX_JOBS)
    });
    let opts = sw::SweepOptions {
        out_dir: out.clone(),
        jobs,
        shard: None,
        progress,
        plan: plan_options,
    };
    let o = py.detach(|| sw::sweep(&experiment, &opts)).map_err(|e| {
        error(anyhow::Error::new(e).context(format!("sweep of {} failed", experiment.display())))
    })?;
    let d = PyDict::new(py);
    d.set_item("out_dir", out.display().to_string())?;
    d.set_item("name", plan.name)?;
    d.set_item("seeds", plan.seeds)?;
    d.set_item("planned", o.planned)?;
    d.set_item("ran", o.ran)?;
    d.set_item("skipped", o.skipped)?;
    d.set_item("invocations", o.invocations)?;
    d.set_item("wall_s", o.wall_s)?;
    d.set_item(
        "warnings",
        o.warnings
            .into_iter()
            .map(|(id, w)| format!("{id}: {w}"))
            .collect::<Vec<_>>(),
    )?;
    Ok(d)
}

/// The policy a policy table (`keep_alive`, `placement`, ...) names by default, as the
/// command's `--set` fills in a table it creates.
#[pyfunction]
fn default_policy(table: &str) -> Option<String> {
    use faasim_policies::*;
    let v = match table {
        "keep_alive" => toml::Value::try_from(KeepAliveSpec::default()),
        "placement" => toml::Value::try_from(PlacementSpec::default()),
        "routing" => toml::Value::try_from(RoutingSpec::default()),
        "load_balancing" => toml::Value::try_from(LoadBalancingSpec::default()),
        "autoscaling" => toml::Value::try_from(AutoscalingSpec::default()),
        _ => return None,
    };
    v.ok()?.get("policy")?.as_str().map(String::from)
}

#[pymodule]
fn _faasim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Error", m.py().get_type::<Error>())?;
    m.add("PolicyError", m.py().get_type::<policy::PolicyError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<policy::Instance>()?;
    m.add_class::<policy::Worker>()?;
    m.add_class::<policy::Function>()?;
    m.add_class::<policy::Invocation>()?;
    m.add_class::<policy::Event>()?;
    m.add_class::<policy::Cluster>()?;
    m.add_function(wrap_pyfunction!(run_file, m)?)?;
    m.add_function(wrap_pyfunction!(run_dict, m)?)?;
    m.add_function(wrap_pyfunction!(check_dict, m)?)?;
    m.add_function(wrap_pyfunction!(to_toml_text, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(default_policy, m)?)?;
    Ok(())
}
