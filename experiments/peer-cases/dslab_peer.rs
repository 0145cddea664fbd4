//! Replays a canonical faasim CSV trace (timestamp_ms,function,duration_ms,memory_mb[,cold_start_ms])
//! in DSLab-FaaS set up as `experiments/peer-cases/azure-day-1000.toml`: HOSTS hosts of
//! CORES cores and MEM_MB MB, DSLab's BasicScheduler (the first host with a warm container,
//! else the first with room: first-fit), a fixed keep-alive, a constant deployment (cold
//! start) time, CPU ignored, one invocation per container. Times the whole run, reading the
//! file included, as `faasim run` is timed.
//! Usage: faasim-peer TRACE.csv HOSTS CORES MEM_MB KEEPALIVE_S COLD_START_MS
//! (the keep-alive restarts at each use, `reset_keepalive = true`, as faasim's fixed keep-alive
//! counts from the end of the last execution)
use std::collections::HashMap;
use std::time::Instant;

use dslab_faas::coldstart::FixedTimeColdStartPolicy;
use dslab_faas::config::Config;
use dslab_faas::cpu::IgnoredCpuPolicy;
use dslab_faas::function::Application;
use dslab_faas::resource::{ResourceConsumer, ResourceProvider};
use dslab_faas::simulation::ServerlessSimulation;
use simcore::simulation::Simulation;

fn main() {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let hosts: usize = args[2].parse().unwrap();
    let cores: u32 = args[3].parse().unwrap();
    let mem_mb: u64 = args[4].parse().unwrap();
    let keepalive_s: f64 = args[5].parse().unwrap();
    let cold_s: f64 = args[6].parse::<f64>().unwrap() / 1000.0;
    let config = Config {
        coldstart_policy: Box::new(FixedTimeColdStartPolicy::new(keepalive_s, 0.0, true)),
        cpu_policy: Box::<IgnoredCpuPolicy>::default(),
        ..Default::default()
    };
    let mut sim = ServerlessSimulation::new(Simulation::new(1), config);
    for _ in 0..hosts {
        let mem = sim.create_resource("mem", mem_mb);
        sim.add_host(None, ResourceProvider::new(vec![mem]), cores);
    }
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("timestamp_ms,function,duration_ms,memory_mb"));
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
    let loaded = started.elapsed().as_secs_f64();
    sim.step_until_no_events();
    let s = sim.invocation_stats();
    println!(
        "rows={} functions={} invocations={} cold_starts={} wall_s={:.3} (reading and loading the requests {:.3})",
        n,
        ids.len(),
        s.invocations,
        s.cold_starts,
        started.elapsed().as_secs_f64(),
        loaded
    );
}
