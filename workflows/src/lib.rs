//! Function workflows for faasim: compositions of functions run by an orchestrator.
//!
//! Real serverless applications are compositions (an order pipeline, a transcoder with a
//! fan-out, a map over the pages of a document). An orchestrator (AWS Step Functions, Azure
//! Durable Functions) runs them, adds latency per step and bills per state transition or per
//! replay; each step is a function with its own instances, so cold starts cascade along a
//! chain; data moves between steps through storage or directly.
//!
//! - [`definition`]: the definitions a scenario writes (`[workflows.NAME]`), defaults with
//!   their sources, validation into [`Workflows`] (a missing state, a cycle or an unreachable
//!   state is an error naming the workflow, the state and the key);
//! - [`sebs`]: SeBS-Flow's `definition.json` import;
//! - [`runtime`]: the orchestrator, an engine [`Extension`](faasim_sim::Extension): its
//!   timing, data-passing and critical-path rules;
//! - [`pricing`]: orchestration and storage prices in exact integer money;
//! - [`stats`]: per-workflow figures and per-execution records;
//! - [`source`]: the trace as the engine sees it in a run with workflows.
//!
//! The crate reads no file: callers hand it text or parsed tables.

#![warn(missing_docs)]

pub mod definition;
pub mod pricing;
pub mod runtime;
pub mod sebs;
pub mod source;
pub mod stats;

pub use definition::{
    DataSpec, DefinitionError, DurationSpec, Orchestrator, Passing, Prewarm, StateSpec,
    WorkflowSpec, Workflows,
};
pub use runtime::{orchestration, Orchestration, ReportHandle, RuntimeConfig, WorkflowReport};
pub use source::WorkflowSource;
pub use stats::{ExecutionRecord, WorkflowStats};
