//! What one input file may make faasim allocate.
//!
//! Every count in a scenario or an experiment that sizes memory, threads, files or rows is
//! bounded, so that a typo (`workers = 4000000000`) is an error naming the key and the
//! limit rather than an aborted allocation or a machine brought to its knees. The limits
//! are far above what the experiments need; each says what it protects.
//!
//! | limit | key | what it bounds |
//! |---|---|---|
//! | [`MAX_WORKERS`] | `cluster.workers` | per-worker state of the cluster model and the placement indexes |
//! | [`MAX_RING_POINTS`] | `cluster.workers` × `load_balancing.virtual_nodes` | the hash ring of `consistent-hashing-bounded` and `ch-rlu` (16 bytes a point); `virtual_nodes` alone is bounded by [`faasim_policies::load_balancing::MAX_VIRTUAL_NODES`] |
//! | [`MAX_PROVISIONED_INSTANCES`] | `platform.provisioned_instances` (× functions, checked as the trace registers them) | instances created ahead |
//! | [`MAX_VMS`] | `vm.vms`, `vm.min_vms`, `vm.initial_vms` | VMs started at time 0 |
//! | [`MIN_TIMESERIES_INTERVAL_S`], [`MAX_TIMESERIES_ROWS`] | `output.timeseries_interval_s` | rows of `timeseries.csv` (the run stops with an error at the limit) |
//! | [`MAX_REPLICATIONS`] | `[experiment] replications` | runs of one combination |
//! | [`MAX_PLAN_RUNS`] | scenarios × grid combinations × zip positions × replications | runs of one sweep (each loaded before any runs, each a directory) |
//! | [`MAX_JOBS`] | `faasim sweep --jobs` | threads (the sweep never starts more threads than it has runs to do) |
//!
//! The KPA autoscaler's history per function is bounded by
//! [`faasim_policies::autoscaling::MAX_WINDOW_TICKS`] (`stable_window_s / tick_s`), the
//! hybrid histogram's bins by its own `MAX_BINS`, and the generators' function counts by
//! the trace crate.

/// Workers of one cluster (`cluster.workers`).
pub const MAX_WORKERS: u32 = 1_000_000;

/// Points of a consistent-hashing ring: `cluster.workers × virtual_nodes` (160 MB).
pub const MAX_RING_POINTS: u64 = 10_000_000;

/// Provisioned instances of a run: `platform.provisioned_instances` per function, times the
/// functions of the trace.
pub const MAX_PROVISIONED_INSTANCES: u64 = 1_000_000;

/// VMs started at time 0 (`vm.vms`, `vm.min_vms`, `vm.initial_vms`).
pub const MAX_VMS: u32 = 1_000_000;

/// The shortest `output.timeseries_interval_s`: 1 ms, the finest step the time series can
/// resolve usefully (the clock counts microseconds).
pub const MIN_TIMESERIES_INTERVAL_S: f64 = 0.001;

/// Rows of `timeseries.csv` one run may write (about 1 GB).
pub const MAX_TIMESERIES_ROWS: u64 = 10_000_000;

/// `[experiment] replications`.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// Runs of one sweep plan.
pub const MAX_PLAN_RUNS: u64 = 100_000;

/// Runs of one sweep at once (`--jobs`).
pub const MAX_JOBS: usize = 1024;
