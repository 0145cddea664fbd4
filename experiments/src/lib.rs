//! # faasim-experiments: scenarios, runs and result files
//!
//! A *scenario* (one TOML file) names a trace, a cluster, a platform and the policies; a
//! *run* replays the trace through the engine with one seed and writes a result directory:
//!
//! - `summary.csv`: one row of run-wide figures (written last: its presence means done),
//! - `functions.csv`: one row per function,
//! - `timeseries.csv`: the cluster at the end of each sampling interval,
//! - `invocations.csv`: one row per invocation, when `[output] invocations = true`,
//! - `cold_starts.csv`: the parts of the cold starts drawn from recorded tables, when a
//!   scenario draws them so ([`cold_starts`]),
//! - `manifest.json`: faasim version, the scenario as resolved, the seed, the trace checksum.
//!
//! Every file is written under a temporary name and renamed when complete, and a run first
//! removes every file it may write ([`runner::RUN_FILES`]), so its folder holds the files of
//! one run only. The same scenario and seed give byte-identical files, except the columns
//! whose names contain `wall`. What one input may make faasim allocate is bounded
//! ([`limits`]).

#![warn(missing_docs)]

pub mod cold_starts;
pub mod course;
pub mod fetch;
pub mod instance_table;
pub mod limits;
pub mod models;
pub mod output;
mod progress;
pub mod provider;
pub mod runner;
pub mod scenario;
pub mod shared;
pub mod stats;
pub mod sweep;
pub mod table;
pub mod validate;
pub mod vm_fit;
pub mod warnings;
pub mod workflows;

pub use runner::{run_scenario, RunError, RunOutcome};
pub use scenario::{load, LoadedScenario, Scenario, ScenarioError};
