//! Per-workflow figures and per-execution records.

use crate::definition::Orchestrator;
use crate::runtime::PathTimes;
use faasim_sim::digest::Digest;
use faasim_sim::{Money, SimTime};

/// One finished execution (a row of `executions.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// Arrival order among executions (0-based).
    pub id: u64,
    /// Index of its workflow.
    pub workflow: u32,
    /// Completed (every state ran) or failed (a task was dropped).
    pub completed: bool,
    /// When its trace row arrived.
    pub arrival: SimTime,
    /// When it ended.
    pub end: SimTime,
    /// Times along its critical path.
    pub path: PathTimes,
    /// Task invocations (map items included; Durable replays not).
    pub tasks: u64,
    /// Of those, cold starts.
    pub cold_starts: u64,
    /// State transitions (each state entered, each map item).
    pub transitions: u64,
    /// Durable orchestrator replays.
    pub replays: u64,
    /// Bytes moved between states.
    pub bytes: u64,
    /// Data transfer time summed over its hops, µs.
    pub data_us: u64,
    /// Its tasks' charges (list prices).
    pub function_cost: Money,
    /// Its orchestration charges (list prices).
    pub orchestration_cost: Money,
    /// Its storage requests' charges.
    pub storage_cost: Money,
}

impl ExecutionRecord {
    /// End to end, µs.
    pub fn latency_us(&self) -> u64 {
        (self.end - self.arrival).as_micros()
    }
    /// End to end minus the critical path's execution time, µs.
    pub fn overhead_us(&self) -> u64 {
        self.latency_us().saturating_sub(self.path.exec_us)
    }
}

/// What one workflow did over a run.
#[derive(Debug, Clone)]
pub struct WorkflowStats {
    /// Its name.
    pub name: String,
    /// Its orchestrator.
    pub orchestrator: Orchestrator,
    /// Executions started.
    pub executions: u64,
    /// Executions that completed.
    pub completed: u64,
    /// Executions that failed (a task dropped).
    pub failed: u64,
    /// End-to-end latency of completed executions, µs.
    pub latency_us: Digest,
    /// Cold starts of the executions' tasks.
    pub cold_starts: u64,
    /// Task invocations.
    pub tasks: u64,
    /// State transitions.
    pub transitions: u64,
    /// Durable replays.
    pub replays: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Data transfer time, µs, summed over executions.
    pub data_us: u128,
    /// Critical-path sums over completed executions, µs: execution, cold start, transitions,
    /// data; and the orchestration overhead (end to end minus execution).
    pub exec_us: u128,
    /// See `exec_us`.
    pub cold_us: u128,
    /// See `exec_us`.
    pub transition_us: u128,
    /// See `exec_us`.
    pub path_data_us: u128,
    /// See `exec_us`.
    pub overhead_us: u128,
    /// Functions' charges (list prices).
    pub function_cost: Money,
    /// Orchestration charges (list prices).
    pub orchestration_cost: Money,
    /// Storage requests of data passing.
    pub storage_cost: Money,
}

impl WorkflowStats {
    /// Empty figures for workflow `name`.
    pub fn new(name: &str, orchestrator: Orchestrator) -> Self {
        WorkflowStats {
            name: name.to_owned(),
            orchestrator,
            executions: 0,
            completed: 0,
            failed: 0,
            latency_us: Digest::run_wide(),
            cold_starts: 0,
            tasks: 0,
            transitions: 0,
            replays: 0,
            bytes: 0,
            data_us: 0,
            exec_us: 0,
            cold_us: 0,
            transition_us: 0,
            path_data_us: 0,
            overhead_us: 0,
            function_cost: Money::ZERO,
            orchestration_cost: Money::ZERO,
            storage_cost: Money::ZERO,
        }
    }

    /// Adds a finished execution.
    pub fn add(&mut self, r: &ExecutionRecord) {
        if r.completed {
            self.completed += 1;
            self.latency_us.add(r.latency_us());
            self.exec_us += r.path.exec_us as u128;
            self.cold_us += r.path.cold_us as u128;
            self.transition_us += r.path.transition_us as u128;
            self.path_data_us += r.path.data_us as u128;
            self.overhead_us += r.overhead_us() as u128;
        } else {
            self.failed += 1;
        }
        self.cold_starts += r.cold_starts;
        self.tasks += r.tasks;
        self.transitions += r.transitions;
        self.replays += r.replays;
        self.bytes += r.bytes;
        self.data_us += r.data_us as u128;
        self.function_cost += r.function_cost;
        self.orchestration_cost += r.orchestration_cost;
        self.storage_cost += r.storage_cost;
    }

    /// Mean of a µs sum over completed executions, ms (0 when none completed).
    pub fn mean_ms(&self, sum_us: u128) -> f64 {
        if self.completed == 0 {
            0.0
        } else {
            sum_us as f64 / self.completed as f64 / 1e3
        }
    }
}
