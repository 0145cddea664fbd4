//! Times a run of workflow executions through the engine (generation excluded):
//! `cargo run --release -p faasim-workflows --example workflow_throughput -- 1000000`
//! runs a million executions of a 5-state chain (each state a 10 ms task, transitions
//! 1 ms, 1 KB handed on through storage), one execution every 100 µs, on 100 workers.

use faasim_sim::{
    run_extended, Arrival, ClusterView, DistSpec, EngineConfig, FunctionId, FunctionSpec,
    FunctionView, InstanceView, InvocationView, KeepAlive, KeepAliveDecision, NullRecorder,
    Placement, Policies, PolicyRng, Route, Routing, SimDuration, SimTime, VecSource, WorkerId,
    WorkerSpec,
};
use faasim_workflows::{orchestration, DataSpec, RuntimeConfig, WorkflowSource, Workflows};
use std::collections::BTreeMap;

struct LeastLoaded;
impl Placement for LeastLoaded {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.least_loaded(f.memory_mb)
    }
}
struct Mru;
impl Routing for Mru {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        c.most_recent_warm(inv.function)
            .map_or(Route::Cold, Route::Warm)
    }
}
struct Fixed(SimDuration);
impl KeepAlive for Fixed {
    fn on_idle(&mut self, _: &InstanceView, now: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::KeepUntil(now + self.0)
    }
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut text = String::from("[chain]\nstart = \"s0\"\ntransition_ms = 1\n");
    for i in 0..5 {
        text.push_str(&format!(
            "[chain.states.s{i}]\ntype = \"task\"\nfunction = \"f{i}\"\nduration_ms = 10\nmemory_mb = 128\noutput_bytes = 1000\n"
        ));
        if i < 4 {
            text.push_str(&format!("next = \"s{}\"\n", i + 1));
        }
    }
    let specs: BTreeMap<String, faasim_workflows::WorkflowSpec> = toml::from_str(&text).unwrap();
    let wfs = Workflows::compile(&specs).unwrap();
    let cfg = EngineConfig {
        workers: vec![
            WorkerSpec {
                memory_mb: 65_536,
                cores: 32
            };
            100
        ],
        cold_start: DistSpec::Constant { value_ms: 150.0 },
        ..EngineConfig::default()
    };
    let arrivals: Vec<Arrival> = (0..n)
        .map(|i| Arrival {
            time: SimTime(i * 100),
            function: FunctionId(0),
            duration: SimDuration::from_ms(1),
            cold_start: None,
            mode: None,
        })
        .collect();
    let mut inner = VecSource::new(
        vec![FunctionSpec {
            name: "chain".into(),
            memory_mb: 1,
        }],
        arrivals,
    );
    let rt = RuntimeConfig {
        data: DataSpec::default(),
        seed: 1,
        cold_start_estimate_us: vec![150_000; wfs.functions.len()],
    };
    let (ext, handle) = orchestration(wfs.clone(), rt, None);
    let policies = Policies {
        placement: Box::new(LeastLoaded),
        routing: Box::new(Mru),
        keep_alive: Box::new(Fixed(SimDuration::from_secs(60))),
        load_balancer: None,
    };
    let t = std::time::Instant::now();
    let r = run_extended(
        &cfg,
        policies,
        None,
        Some(Box::new(ext)),
        &mut WorkflowSource::new(&mut inner, wfs.functions.clone()),
        &mut NullRecorder,
    )
    .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let w = handle.finish();
    let tasks = r.stats.invocations;
    println!(
        "{n} executions ({} completed), {tasks} task invocations, {} cold starts: {wall:.3} s, {:.2} M task invocations/s, {:.2} M executions/s",
        w.workflows[0].completed,
        r.stats.cold_starts,
        tasks as f64 / wall / 1e6,
        n as f64 / wall / 1e6
    );
}
