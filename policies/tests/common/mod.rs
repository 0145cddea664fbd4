//! Builders shared by the policy test files: functions, arrivals and a small cluster.

#![allow(dead_code)]

use faasim_sim::{
    Arrival, Billing, CpuModel, DistSpec, EngineConfig, FunctionId, FunctionSpec, OnFull,
    SimDuration, SimTime, WorkerSpec,
};

pub const MS: u64 = 1_000;
pub const S: u64 = 1_000_000;

pub fn func(name: &str, memory_mb: u32) -> FunctionSpec {
    FunctionSpec {
        name: name.to_string(),
        memory_mb,
    }
}

pub fn arr(at_us: u64, f: u32, dur_us: u64) -> Arrival {
    Arrival {
        time: SimTime(at_us),
        function: FunctionId(f),
        duration: SimDuration(dur_us),
        cold_start: None,
        mode: None,
    }
}

/// Workers `(memory_mb, cores)`, concurrency 1, queue on full, 100 ms cold starts, CPU
/// ignored (executions run at full speed), seed 1.
pub fn config(workers: &[(u32, u32)]) -> EngineConfig {
    EngineConfig {
        workers: workers
            .iter()
            .map(|&(memory_mb, cores)| WorkerSpec { memory_mb, cores })
            .collect(),
        instance_concurrency: 1,
        on_full: OnFull::Queue,
        queue_timeout: None,
        cold_start: DistSpec::Constant { value_ms: 100.0 },
        cold_start_per_function: Vec::new(),
        functions: Default::default(),
        provider: Default::default(),
        cpu: CpuModel::Ignore,
        billing: Billing::default(),
        seed: 1,
        sample_interval: None,
        provisioned_per_function: 0,
        end: faasim_sim::RunEnd::Drain,
    }
}
