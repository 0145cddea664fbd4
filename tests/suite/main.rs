//! faasim's integration-test suite: one test binary across the workspace's crates.
//!
//! - `engine_scenarios`: hand-traced runs of a few invocations, exact integer times.
//! - `processor_sharing`: the CPU model, hand-traced.
//! - `proportional_cpu`: CPU that follows memory (vCPU shares reserved, durations stretched).
//! - `billing`: rounding, `bill_init`, and the run's money totals.
//! - `deferred_charges`: completions priced at the end of the run give the same figures.
//! - `theory`: statistical checks against closed forms (keep-alive under Poisson arrivals,
//!   the Erlang-B loss formula), with stated tolerances and fixed seeds.
//! - `invariants`: property tests over small random workloads (conservation, capacity,
//!   exact money sums).
//! - `determinism`: same seed, same bytes; a different seed moves the random parts.
//! - `autoscaling`: Knative's KPA driving the engine.
//! - `load_balancing`: per-request load balancing at cluster scale (locality under
//!   memory pressure).
//! - `gpu`: model serving on GPUs, hand-traced (loading tiers, batching, swapping,
//!   locality-aware placement, GPU billing).
//! - `extension`: the engine's extension point (a chain of functions, cold-start cascade).
//! - `floor`: the engine against an independent minimal loop of the 1,000-function day's
//!   setting (`sim/examples/day_floor.rs`): the same cold starts, evictions, idle memory,
//!   billed memory-time and latencies.
//! - `plain_path`: the engine's plain request path against its general one, byte for byte
//!   over random workloads (queueing, reclaim, drops, asynchronous arrivals, a horizon).
//! - `provider`: the provider's rules (limits and throttling, asynchronous retries, timeouts,
//!   function errors, worker failures), hand-traced, and conservation over random mixes.
//! - `real_traces`: policies on the real trace samples in `traces/samples/`.
//! - `start_types`: snapshot restores (slowdown, the LRU store, SnapStart's charges) and
//!   forks, hand-traced.
//! - `workflows`: workflows through the engine (cascades, data, joins, maps, direct calls,
//!   pre-warming, Durable replays, bad definitions).

mod autoscaling;
mod billing;
mod common;
mod deferred_charges;
mod determinism;
mod engine_scenarios;
mod extension;
mod floor;
mod gpu;
mod invariants;
mod load_balancing;
mod plain_path;
mod policy_hints;
mod processor_sharing;
mod proportional_cpu;
mod provider;
mod real_traces;
mod run_span;
mod start_types;
mod theory;
mod workflows;
