//! Replays a canonical faasim CSV trace (timestamp_ms,function,duration_ms,memory_mb) in
//! DSLab-FaaS with a fixed keep-alive and a constant cold start, memory never binding, and
//! prints the invocations and cold starts.
//! Usage: faasim-agree TRACE.csv KEEPALIVE_S RESET(true|false) COLD_START_MS
use std::collections::HashMap;

use dslab_faas::coldstart::FixedTimeColdStartPolicy;
use dslab_faas::config::Config;
use dslab_faas::cpu::IgnoredCpuPolicy;
use dslab_faas::function::Application;
use dslab_faas::resource::{ResourceConsumer, ResourceProvider};
use dslab_faas::simulation::ServerlessSimulation;
use simcore::simulation::Simulation;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let keepalive_s: f64 = args[2].parse().unwrap();
    let reset: bool = args[3].parse().unwrap();
    let cold_s: f64 = args[4].parse::<f64>().unwrap() / 1000.0;
    let config = Config {
        coldstart_policy: Box::new(FixedTimeColdStartPolicy::new(keepalive_s, 0.0, reset)),
        cpu_policy: Box::<IgnoredCpuPolicy>::default(),
        ..Default::default()
    };
    let mut sim = ServerlessSimulation::new(Simulation::new(1), config);
    // One host whose memory never binds.
    let mem = sim.create_resource("mem", 1 << 40);
    sim.add_host(None, ResourceProvider::new(vec![mem]), 1 << 20);
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "timestamp_ms,function,duration_ms,memory_mb");
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut n = 0u64;
    for line in lines {
        let c: Vec<&str> = line.split(',').collect();
        let t = c[0].parse::<f64>().unwrap() / 1000.0;
        let d = c[2].parse::<f64>().unwrap() / 1000.0;
        let mb: u64 = c[3].parse().unwrap();
        let id = match ids.get(c[1]) {
            Some(&id) => id,
            None => {
                let req = sim.create_resource_requirement("mem", mb);
                let id = sim.add_app_with_single_function(Application::new(
                    1,
                    cold_s,
                    1.0,
                    ResourceConsumer::new(vec![req]),
                ));
                ids.insert(c[1].to_string(), id);
                id
            }
        };
        sim.send_invocation_request(id, d, t);
        n += 1;
    }
    sim.step_until_no_events();
    let s = sim.invocation_stats();
    println!(
        "rows={} functions={} invocations={} cold_starts={}",
        n,
        ids.len(),
        s.invocations,
        s.cold_starts
    );
}
