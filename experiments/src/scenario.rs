//! Scenario files: one TOML file describes one simulated platform and workload.
//!
//! Every table rejects unknown keys, and a bad file is reported as one line naming the file,
//! the line and column, and the key. `--set key.path=value` overrides are applied to the
//! parsed document before it is checked, so they are validated exactly like the file.

use crate::cold_starts::{ColdStartError, ColdStartSource};
use faasim_policies::{
    AutoscalingSpec, KeepAliveSpec, LoadBalancingSpec, PlacementSpec, RoutingSpec,
};
use faasim_sim::{
    Billing, BillingModel, CpuModel, EngineConfig, ForkConfig, FunctionSettings, FunctionSnapshot,
    OnFull, RequestPath, RunEnd, SimDuration, SimTime, SnapshotConfig, WorkerSpec,
};
use faasim_traces::TraceSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Names the run; the default output folder is `results/<name>/`.
    pub name: String,
    /// The run seed (default 1); `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `[trace]`: where the invocations come from (a file format, or a generator).
    pub trace: TraceSpec,
    /// Replay only part of the trace: some functions, a time window, a fraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<faasim_traces::SampleSpec>,
    /// `[cluster]`: the workers instances are placed on.
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// `[platform]`: concurrency, queueing, cold starts, CPU model.
    #[serde(default)]
    pub platform: PlatformSpec,
    /// `[keep_alive]`: how long an idle instance stays warm.
    #[serde(default)]
    pub keep_alive: KeepAliveSpec,
    /// `[placement]`: which worker a new instance goes to.
    #[serde(default)]
    pub placement: PlacementSpec,
    /// `[routing]`: which warm instance serves a request.
    #[serde(default)]
    pub routing: RoutingSpec,
    /// `[load_balancing]`: which worker serves each request (`cluster-wide` by default: no
    /// per-request stage).
    #[serde(default)]
    pub load_balancing: LoadBalancingSpec,
    /// Per-request scaling (default) or an autoscaler such as Knative's KPA.
    #[serde(default)]
    pub autoscaling: AutoscalingSpec,
    /// `[billing]`: the provider's price model and its options.
    #[serde(default)]
    pub billing: BillingSpec,
    /// The VM fleet of the serverful baseline (`platform.mode = "vm-static"` or
    /// `"vm-autoscaled"`).
    #[serde(default)]
    pub vm: VmTable,
    /// `[output]`: optional result files and the time-series interval.
    #[serde(default)]
    pub output: OutputSpec,
    /// When the run ends, and whether an empty workload is expected.
    #[serde(default)]
    pub run: RunSpec,
    /// `[workflows.NAME]`: function workflows; a trace row whose function is NAME starts an
    /// execution.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub workflows: BTreeMap<String, faasim_workflows::WorkflowSpec>,
    /// More workflow definitions from a file: TOML with `[workflows.NAME]` tables, or a
    /// SeBS-Flow `definition.json` (`.json`, see `[sebs]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflows_file: Option<PathBuf>,
    /// `[sebs]`: what a SeBS-Flow definition does not say (durations, memory, items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sebs: Option<faasim_workflows::sebs::SebsOptions>,
    /// `[data]`: data passing between workflow states.
    #[serde(default)]
    pub data: faasim_workflows::DataSpec,
    /// `[functions."NAME"]`: settings of one function overriding the scenario-wide ones;
    /// `[functions."*"]` sets the default for every function.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub functions: BTreeMap<String, FunctionEntrySpec>,
    /// `[limits]`: concurrency limits and the scaling rate (none by default).
    #[serde(default, skip_serializing_if = "crate::provider::is_default")]
    pub limits: crate::provider::LimitsSpec,
    /// `[async]`: how asynchronous events are retried (AWS Lambda's rules by default).
    #[serde(
        default,
        rename = "async",
        skip_serializing_if = "crate::provider::is_default"
    )]
    pub async_events: crate::provider::AsyncSpec,
    /// `[faults]`: worker failures (none by default).
    #[serde(default, skip_serializing_if = "crate::provider::is_default")]
    pub faults: crate::provider::FaultsSpec,
    /// `[models."NAME"]`: models that functions serve on GPU workers
    /// ([`crate::models`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, crate::models::ModelEntrySpec>,
}

/// `[functions."NAME"]`: what one function (or every function, `"*"`) overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FunctionEntrySpec {
    /// Memory of one instance, MB, replacing the trace's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    /// The function's cold start, in any form `[platform] cold_start_ms` takes (a table of
    /// recorded cold starts included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cold_start_ms: Option<ColdStartSource>,
    /// An execution still running this many seconds after it started is killed (outcome
    /// `timed-out`, billed up to it). No timeout by default (AWS Lambda: at most 900 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// The probability that an execution fails at its end (billed in full); 0 by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Executions admitted at once, reserved out of `[limits] account_concurrency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<u32>,
    /// `"sync"` (default) or `"async"`: asynchronous events are retried by the platform
    /// (`[async]`); a trace's `mode` column overrides it per invocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation: Option<crate::provider::InvocationSpec>,
    /// Snapshot restores of this function: `true`, `false`, or a table of what differs
    /// from `[platform.snapshot]` (`enabled`, `snapshot_mb`, `restore_ms`, `slowdown`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "FunctionSnapshot::deserialize_entry"
    )]
    pub snapshot: Option<FunctionSnapshot>,
    /// The model the function serves (`[models."NAME"]`): it runs on GPU workers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Its latency objective, ms: completions within it count towards `slo_attainment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_ms: Option<f64>,
}

impl FunctionEntrySpec {
    /// The engine's form of this entry.
    pub fn to_overrides(&self) -> faasim_sim::FunctionOverrides {
        faasim_sim::FunctionOverrides {
            memory_mb: self.memory_mb,
            // A table of recorded cold starts is read by `LoadedScenario::engine_config`.
            cold_start: self
                .cold_start_ms
                .as_ref()
                .and_then(ColdStartSource::model)
                .map(|m| m.to_dist()),
            timeout: self
                .timeout_s
                .and_then(|s| SimDuration::try_from_ms_f64(s * 1e3)),
            error_rate: self.error_rate,
            reserved_concurrency: self.reserved_concurrency,
            invocation: self
                .invocation
                .map(crate::provider::InvocationSpec::to_mode),
            snapshot: self.snapshot.clone(),
            model: self.model.clone(),
            slo: self.slo_ms.and_then(SimDuration::try_from_ms_f64),
        }
    }
}

/// The engine's per-function settings from a scenario's `[functions]` tables.
fn function_settings(entries: &BTreeMap<String, FunctionEntrySpec>) -> FunctionSettings {
    FunctionSettings {
        all: entries
            .get("*")
            .map(FunctionEntrySpec::to_overrides)
            .unwrap_or_default(),
        named: entries
            .iter()
            .filter(|(name, _)| *name != "*")
            .map(|(name, e)| (name.clone(), e.to_overrides()))
            .collect(),
    }
}

/// `[run]`: the end of a run, the same rule for every trace source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RunSpec {
    /// `"drain"` (default): process every event, so instances kept alive after the last
    /// request are counted until their keep-alive ends (with a policy that never evicts, the
    /// run ends at the last completion). `"horizon"`: stop at the trace's horizon (the
    /// generator's `duration_s`, the end of an Azure 2019 day) or at `end_s`.
    pub end: RunEndSpec,
    /// With `end = "horizon"`: the instant to stop at, seconds (overrides the trace's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    /// A workload with no invocation is an error unless this is true.
    pub allow_empty: bool,
    /// `"auto"` (default): arrivals take the engine's plain request path where the scenario
    /// allows it; `"general"`: every arrival takes the general path. The results are the
    /// same; `"general"` is there to check that they are.
    #[serde(skip_serializing_if = "RequestPathSpec::is_auto")]
    pub request_path: RequestPathSpec,
}

/// Which request path arrivals take (`[run] request_path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RequestPathSpec {
    /// The plain path where the run allows it.
    #[default]
    Auto,
    /// The general path for every arrival.
    General,
}

impl RequestPathSpec {
    fn is_auto(&self) -> bool {
        *self == RequestPathSpec::Auto
    }
}

impl RunSpec {
    /// `end_s` as an instant (`None` when absent).
    pub fn end_at(&self) -> Option<SimTime> {
        self.end_s
            .and_then(|s| SimDuration::try_from_ms_f64(s * 1e3))
            .map(|d| SimTime::ZERO + d)
    }
}

/// How a run ends (`[run] end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RunEndSpec {
    /// Process every event.
    #[default]
    Drain,
    /// Stop at the horizon.
    Horizon,
}

fn default_seed() -> u64 {
    1
}

/// `[cluster]`: identical workers, and more pools of their own sizes
/// (`[[cluster.pools]]`); the GPU keys are those of [`crate::models`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSpec {
    /// Number of workers (default 10; 0 allowed with pools).
    pub workers: u32,
    /// Memory of each worker, MB (default 16384).
    pub worker_memory_mb: u32,
    /// Cores of each worker (default 8); used by `cpu = "processor-sharing"` and utilisation.
    pub worker_cores: u32,
    /// GPUs of each worker (default 0: CPU-only).
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub gpus_per_worker: u32,
    /// Memory of each GPU, MB (default 81920).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_memory_mb: Option<u64>,
    /// DRAM for cached model weights, MB (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_model_cache_mb: Option<u64>,
    /// SSD for cached model weights, MB (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssd_model_cache_mb: Option<u64>,
    /// Remote storage to a worker's DRAM, MB/s (default 1250).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_mb_per_s: Option<u64>,
    /// A worker's SSD to its DRAM, MB/s (default 1650).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssd_mb_per_s: Option<u64>,
    /// DRAM to one GPU, MB/s (default 25000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcie_mb_per_s: Option<u64>,
    /// Overlap a model load's transfers: it takes its slowest link (default false: the sum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipelined: Option<bool>,
    /// More workers after these, each pool with its own sizes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<crate::models::PoolSpec>,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            workers: 10,
            worker_memory_mb: 16_384,
            worker_cores: 8,
            gpus_per_worker: 0,
            gpu_memory_mb: None,
            host_model_cache_mb: None,
            ssd_model_cache_mb: None,
            storage_mb_per_s: None,
            ssd_mb_per_s: None,
            pcie_mb_per_s: None,
            pipelined: None,
            pools: Vec::new(),
        }
    }
}

/// `[platform]`: how the provider runs instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformSpec {
    /// `"serverless"` (default), or replay the trace on VMs: `"vm-static"`, `"vm-autoscaled"`.
    #[serde(default)]
    pub mode: PlatformMode,
    /// Executions one instance serves at once: 1 (AWS Lambda) or more (Knative, Cloud Run).
    #[serde(default = "one")]
    pub instance_concurrency: u32,
    /// Provisioned concurrency: instances of each function initialised ahead, kept all run,
    /// billed at the model's provisioned prices (AWS Lambda).
    #[serde(default)]
    pub provisioned_instances: u32,
    /// What a request does when no instance can take it: wait in the queue (default) or be
    /// dropped.
    #[serde(default)]
    pub on_full: OnFullSpec,
    /// Drop a queued request after this long in the queue (`on_full = "queue"` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_timeout_ms: Option<f64>,
    /// A number of ms, a preset ("lambda", the default; "firecracker", "container", "vm"),
    /// a distribution table, or a table of recorded cold starts
    /// (`{ from = "huawei2025-cold-starts", ... }`, see [`crate::cold_starts`]).
    #[serde(default)]
    pub cold_start_ms: ColdStartSource,
    /// Per-function cold starts by function name, overriding `cold_start_ms`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub function_cold_start_ms: BTreeMap<String, ColdStartSource>,
    /// How executions use the workers' cores (default: durations as in the trace).
    #[serde(default)]
    pub cpu: CpuSpec,
    /// With `cpu = "proportional"`: at what CPU the trace's durations were measured
    /// (`"measured"`, the default, or `"1-vcpu"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durations_at: Option<DurationsAt>,
    /// `[platform.snapshot]`: snapshot restores (AWS SnapStart, Firecracker snapshots,
    /// REAP, FaaSnap). Absent: no function restores unless its own entry says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotConfig>,
    /// `[platform.fork]`: new instances forked from a ready one on the same worker
    /// (Catalyzer's sfork, SOCK's zygotes). Absent: no forks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<ForkConfig>,
    /// How model-serving instances use GPUs: `"exclusive"` (default) or `"swap"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_sharing: Option<crate::models::GpuSharingSpec>,
}

fn one() -> u32 {
    1
}

impl Default for PlatformSpec {
    fn default() -> Self {
        PlatformSpec {
            mode: PlatformMode::Serverless,
            instance_concurrency: 1,
            provisioned_instances: 0,
            on_full: OnFullSpec::Queue,
            queue_timeout_ms: None,
            cold_start_ms: ColdStartSource::default(),
            function_cold_start_ms: BTreeMap::new(),
            cpu: CpuSpec::default(),
            durations_at: None,
            snapshot: None,
            fork: None,
            gpu_sharing: None,
        }
    }
}

/// `[platform] on_full`: what a request does when no instance can take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OnFullSpec {
    /// Wait in a FIFO queue (until `queue_timeout_ms`, if set).
    #[default]
    Queue,
    /// Reject at once (outcome `dropped-full`).
    Drop,
}

/// `[platform] cpu`: how executions use the workers' cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CpuSpec {
    /// Durations exactly as the trace gives them (the default).
    #[default]
    Ignore,
    /// Executions on a worker share its cores (contention studies).
    ProcessorSharing,
    /// AWS Lambda's CPU that follows memory: each instance reserves a vCPU share of its
    /// memory / 1,769 MB (at most 6) on its worker; with `durations_at = "1-vcpu"`,
    /// executions with a share below 1 run that much slower.
    Proportional,
}

/// `[platform] durations_at`: at what CPU the trace's durations were measured (with
/// `cpu = "proportional"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DurationsAt {
    /// As the function ran in production, at its own share (Azure Functions and AWS
    /// Lambda traces): taken as they are.
    #[default]
    Measured,
    /// At one full vCPU (benchmarks run on a dedicated core, e.g. a profiling harness):
    /// an instance with a share below 1 runs them that much slower.
    #[serde(rename = "1-vcpu")]
    OneVcpu,
}

/// `[billing]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BillingSpec {
    /// A preset name, or `{ custom = { ... } }` for a user-defined price table.
    pub model: BillingModel,
    /// Billed duration is rounded up to a multiple of this many ms (default: the model's
    /// own rule, 1 ms for AWS, 100 ms for Google).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granularity_ms: Option<u64>,
    /// Also bill the cold-start (INIT) time.
    pub bill_init: bool,
    /// Apply the provider's monthly free tier (the run is billed as one month).
    pub free_tier: bool,
    /// Apply the provider's monthly volume tiers (default true).
    pub tiers: bool,
    /// vCPUs per instance, for models that bill CPU (Cloud Run; default 1).
    pub vcpus: f64,
    /// The provider's cost of the workers: USD per worker-hour (default 0: not reported).
    pub worker_hour_usd: f64,
    /// What model-serving functions pay per GPU-second: USD, or a dated preset's name
    /// (default `"runpod-a100-80gb"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_second_usd: Option<crate::models::GpuPriceSpec>,
}

impl Default for BillingSpec {
    fn default() -> Self {
        BillingSpec {
            model: BillingModel::default(),
            granularity_ms: None,
            bill_init: false,
            free_tier: false,
            tiers: true,
            vcpus: 1.0,
            worker_hour_usd: 0.0,
            gpu_second_usd: None,
        }
    }
}

/// `[platform] mode`: the serverless platform, or the same trace on a fleet of VMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformMode {
    /// The serverless platform (default).
    #[default]
    Serverless,
    /// A fixed fleet of VMs (`[vm] vms`, or sized from the trace's demand).
    VmStatic,
    /// A fleet of VMs resized by a utilisation-target autoscaler.
    VmAutoscaled,
}

/// `[vm]`: the serverful baseline's fleet (used when `platform.mode` is a VM mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VmTable {
    /// An `api_name` of the instance table (default `m5a.xlarge`: 4 vCPUs, 16 GiB), or
    /// `"cheapest"`: the type with the lowest price per vCPU whose memory holds one execution
    /// of the largest function per vCPU ([`crate::vm_fit`]).
    pub instance_type: String,
    /// Allow burstable types (t2, t3, t4g), whose vCPUs hold only while CPU credits last
    /// (default false: naming one is an error, `"cheapest"` leaves them out).
    pub allow_burstable: bool,
    /// An instance table of the EC2 table's shape; the built-in EC2 us-east-1 table of
    /// 2021-04-10 when absent. Relative to the scenario file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_table: Option<PathBuf>,
    /// Which hourly price to bill (default `linux-on-demand`).
    pub price: faasim_sim::vm::PriceColumn,
    /// vm-static: a fixed fleet size; sized from the trace's demand when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vms: Option<u32>,
    /// vm-static: the quantile of concurrent executions to size for (default 1 = peak).
    pub demand_quantile: f64,
    /// vm-autoscaled: launch to ready, seconds (default 60).
    pub provisioning_delay_s: f64,
    /// vm-autoscaled: seconds between scaling decisions (default 60).
    pub interval_s: f64,
    /// vm-autoscaled: target busy fraction of the vCPU slots (default 0.7).
    pub target_utilisation: f64,
    /// vm-autoscaled: fewest VMs (default 1).
    pub min_vms: u32,
    /// vm-autoscaled: most VMs (default: no cap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_vms: Option<u32>,
    /// vm-autoscaled: VMs running at time 0 (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_vms: Option<u32>,
}

impl Default for VmTable {
    fn default() -> Self {
        VmTable {
            instance_type: "m5a.xlarge".into(),
            allow_burstable: false,
            instance_table: None,
            price: Default::default(),
            vms: None,
            demand_quantile: 1.0,
            provisioning_delay_s: 60.0,
            interval_s: 60.0,
            target_utilisation: 0.7,
            min_vms: 1,
            max_vms: None,
            initial_vms: None,
        }
    }
}

impl VmTable {
    /// The fleet spec for `mode` (`None` for serverless).
    pub fn spec(&self, mode: PlatformMode) -> Option<faasim_sim::vm::VmSpec> {
        use faasim_sim::vm::VmSpec;
        let table = self
            .instance_table
            .as_ref()
            .map(|p| p.display().to_string());
        match mode {
            PlatformMode::Serverless => None,
            PlatformMode::VmStatic => Some(VmSpec::VmStatic {
                instance_type: self.instance_type.clone(),
                instance_table: table,
                price: self.price,
                vms: self.vms,
                demand_quantile: self.demand_quantile,
            }),
            PlatformMode::VmAutoscaled => Some(VmSpec::VmAutoscaled {
                instance_type: self.instance_type.clone(),
                instance_table: table,
                price: self.price,
                provisioning_delay_s: self.provisioning_delay_s,
                interval_s: self.interval_s,
                target_utilisation: self.target_utilisation,
                min_vms: self.min_vms,
                max_vms: self.max_vms,
                initial_vms: self.initial_vms,
            }),
        }
    }
}

/// The file format of per-invocation rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum InvocationsFormat {
    /// `invocations.csv` (default).
    #[default]
    Csv,
    /// Columnar and compressed (about 12× smaller), via polars.
    Parquet,
}

/// `[output]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputSpec {
    /// Write one row per invocation (`invocations.csv` or `.parquet`).
    #[serde(default)]
    pub invocations: bool,
    /// `"csv"` (default) or `"parquet"` for the per-invocation rows.
    #[serde(default)]
    pub invocations_format: InvocationsFormat,
    /// Interval of `timeseries.csv` rows, in seconds (default 60).
    #[serde(default = "default_interval")]
    pub timeseries_interval_s: f64,
    /// Write one row per workflow execution (`executions.csv`).
    #[serde(default)]
    pub executions: bool,
}

fn default_interval() -> f64 {
    60.0
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            invocations: false,
            invocations_format: InvocationsFormat::Csv,
            timeseries_interval_s: 60.0,
            executions: false,
        }
    }
}

/// A scenario that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: cannot read the scenario: {source}")]
    Read {
        /// The scenario file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file (or the file after `--set`) is not valid TOML or does not match the schema.
    #[error("{path}: {location}{message}")]
    Parse {
        /// The scenario file.
        path: PathBuf,
        /// `line L, column C: `, `after --set: `, or empty.
        location: String,
        /// What the parser expected.
        message: String,
    },
    /// A `--set` argument is not `key.path=value`.
    #[error("--set {assignment}: expected key.path=value")]
    BadOverride {
        /// The argument as given.
        assignment: String,
    },
    /// A value is out of range or inconsistent with another.
    #[error("{path}: {key}: {message}")]
    Invalid {
        /// The scenario file.
        path: PathBuf,
        /// The key (or table) at fault.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// A loaded scenario and the folder its relative paths are resolved against.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The scenario, overrides applied and checked.
    pub scenario: Scenario,
    /// Skip and count bad trace rows instead of failing (`--lenient`).
    pub lenient: bool,
    /// The scenario file, as given.
    pub path: PathBuf,
    /// The scenario file's folder: relative trace and table paths are resolved against it.
    pub base_dir: PathBuf,
}

/// Reads, overrides and checks a scenario file.
pub fn load(path: &Path, overrides: &[String]) -> Result<LoadedScenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    })?;
    let scenario = parse(&text, path, overrides)?;
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let loaded = LoadedScenario {
        scenario,
        lenient: false,
        path: path.to_owned(),
        base_dir,
    };
    // Workflow definitions (and their file) are checked before anything runs.
    loaded.workflows()?;
    Ok(loaded)
}

/// Parses scenario text; `path` is only used in messages.
pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let parse_err = |text: &str, e: toml::de::Error| ScenarioError::Parse {
        path: path.to_owned(),
        location: e
            .span()
            .map(|s| {
                let (line, col) = line_col(text, s.start);
                format!("line {line}, column {col}: ")
            })
            .unwrap_or_default(),
        message: balancer_hint(e.message().trim().replace('\n', " ")),
    };
    let scenario: Scenario = if overrides.is_empty() {
        toml::from_str(text).map_err(|e| parse_err(text, e))?
    } else {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| parse_err(text, e))?;
        for o in overrides {
            apply_override(&mut doc, o)?;
        }
        let merged = toml::to_string(&doc).map_err(|e| ScenarioError::Parse {
            path: path.to_owned(),
            location: String::new(),
            message: e.to_string(),
        })?;
        toml::from_str(&merged).map_err(|e| {
            let mut err = parse_err(&merged, e);
            if let ScenarioError::Parse { location, .. } = &mut err {
                *location = "after --set: ".into();
            }
            err
        })?
    };
    validate(&scenario, path)?;
    if !matches!(scenario.autoscaling, AutoscalingSpec::PerRequest {}) {
        // An autoscaler decides how many instances stay: a keep-alive policy given beside it
        // would be silently ignored.
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| parse_err(text, e))?;
        for o in overrides {
            apply_override(&mut doc, o)?;
        }
        if doc.contains_key("keep_alive") {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                key: "keep_alive",
                message: "an autoscaler ([autoscaling] policy) decides how long instances stay; \
                          remove [keep_alive] or use autoscaling.policy = \"per-request\""
                    .into(),
            });
        }
    }
    Ok(scenario)
}

/// The per-request load balancers were once placement policies: say where they went.
fn balancer_hint(message: String) -> String {
    for name in [
        "openwhisk",
        "consistent-hashing-bounded",
        "ch-rlu",
        "hermod",
    ] {
        if message.starts_with(&format!("unknown variant `{name}`")) {
            return format!(
                "{message} (`{name}` picks a worker per request: set it as [load_balancing] policy = \"{name}\")"
            );
        }
    }
    message
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Sets `a.b.c = value` in the document; the value is read as TOML (`60`, `true`,
/// `"x"`, `{ dist = "exponential", mean_ms = 5 }`) or else taken as a string.
fn apply_override(doc: &mut toml::Table, assignment: &str) -> Result<(), ScenarioError> {
    // Control characters (a line end inside the argument) escaped: messages are one line.
    let bad = || ScenarioError::BadOverride {
        assignment: assignment
            .chars()
            .map(|c| match c.is_control() {
                true => c.escape_debug().to_string(),
                false => c.to_string(),
            })
            .collect(),
    };
    let (key, raw) = assignment.split_once('=').ok_or_else(bad)?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(bad());
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_owned()));
    let mut parts = key_parts(key);
    let last = parts.pop().ok_or_else(bad)?;
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    // A policy table created by an override starts as the default policy, so that
    // `keep_alive.ttl_s=60` works on a scenario without a [keep_alive] table.
    if let Some(&first) = parts.first() {
        if !doc.contains_key(first) {
            if let Some(policy) = default_policy_name(first) {
                let mut t = toml::Table::new();
                t.insert("policy".into(), toml::Value::String(policy));
                doc.insert(first.to_owned(), toml::Value::Table(t));
            }
        }
    }
    let mut table = doc;
    for p in parts {
        let entry = table
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(bad)?;
    }
    table.insert(last.to_owned(), value);
    Ok(())
}

/// The parts of a dotted key as TOML reads them (`functions."*".timeout_s` is `functions`,
/// `*`, `timeout_s`; a quoted part may hold dots), else split at the dots.
fn key_parts(key: &str) -> Vec<String> {
    let parsed = toml::from_str::<toml::Table>(&format!("{key} = 0")).ok();
    let mut parts = Vec::new();
    let mut table = parsed.as_ref();
    while let Some(t) = table {
        let mut entries = t.iter();
        match (entries.next(), entries.next()) {
            (Some((k, v)), None) => {
                parts.push(k.clone());
                table = v.as_table();
            }
            _ => break,
        }
    }
    if parts.is_empty() {
        return key.split('.').map(str::to_owned).collect();
    }
    parts
}

fn default_policy_name(table: &str) -> Option<String> {
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

/// Checks that `name` can name a folder inside `results/`: one path component, not `.` or
/// `..`, without separators or control characters. `Err` says what is wrong.
pub fn check_folder_name(name: &str) -> Result<(), String> {
    let bad = if name.is_empty() {
        Some("is empty")
    } else if name == "." || name == ".." {
        Some("is not a folder name")
    } else if name.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.len() > 200 {
        Some("is longer than 200 bytes")
    } else {
        None
    };
    match bad {
        Some(why) => Err(format!(
            "must be a single folder name (it names the folder under results/), got {name:?}, which {why}"
        )),
        None => Ok(()),
    }
}

fn validate(s: &Scenario, path: &Path) -> Result<(), ScenarioError> {
    use crate::limits::*;
    let invalid = |key: &'static str, message: String| ScenarioError::Invalid {
        path: path.to_owned(),
        key,
        message,
    };
    if let Err(e) = check_folder_name(&s.name) {
        return Err(invalid("name", e));
    }
    if let Some(end_s) = s.run.end_s {
        if s.run.end != RunEndSpec::Horizon {
            return Err(invalid(
                "run.end_s",
                "only applies with run.end = \"horizon\"".into(),
            ));
        }
        let limit_s = faasim_sim::TIME_LIMIT.as_secs_f64();
        if !(end_s.is_finite() && end_s > 0.0 && end_s <= limit_s) {
            return Err(invalid(
                "run.end_s",
                format!("must be a number of seconds > 0 and at most {limit_s:.0} (100 years), got {end_s}"),
            ));
        }
    }
    if s.cluster.workers == 0 && s.cluster.pools.is_empty() {
        return Err(invalid("cluster.workers", "must be at least 1".into()));
    }

    if s.cluster.workers > MAX_WORKERS {
        return Err(invalid(
            "cluster.workers",
            format!(
                "must be at most {MAX_WORKERS} (the limit of one cluster), got {}",
                s.cluster.workers
            ),
        ));
    }
    if s.platform.provisioned_instances as u64 > MAX_PROVISIONED_INSTANCES {
        return Err(invalid(
            "platform.provisioned_instances",
            format!(
                "must be at most {MAX_PROVISIONED_INSTANCES} (instances in all), got {}",
                s.platform.provisioned_instances
            ),
        ));
    }
    for (key, v) in [
        ("vm.vms", s.vm.vms),
        ("vm.min_vms", Some(s.vm.min_vms)),
        ("vm.initial_vms", s.vm.initial_vms),
    ] {
        if let Some(v) = v.filter(|&v| v > MAX_VMS) {
            return Err(invalid(
                key,
                format!("must be at most {MAX_VMS} (VMs started at time 0), got {v}"),
            ));
        }
    }
    if s.cluster.worker_memory_mb == 0 {
        return Err(invalid(
            "cluster.worker_memory_mb",
            "must be at least 1".into(),
        ));
    }
    if s.cluster.worker_cores == 0 {
        return Err(invalid("cluster.worker_cores", "must be at least 1".into()));
    }
    if s.platform.instance_concurrency == 0 {
        return Err(invalid(
            "platform.instance_concurrency",
            "must be at least 1".into(),
        ));
    }
    if let Some(t) = s.platform.queue_timeout_ms {
        if SimDuration::try_from_ms_f64(t).is_none() {
            return Err(invalid(
                "platform.queue_timeout_ms",
                format!("must be a number of ms >= 0, got {t}"),
            ));
        }
        if s.platform.on_full == OnFullSpec::Drop {
            return Err(invalid(
                "platform.queue_timeout_ms",
                "only applies with on_full = \"queue\"".into(),
            ));
        }
    }
    // Within the span traces are held to (100 years), or a draw could overflow time.
    let dist_ok = |d: faasim_sim::DistSpec| {
        faasim_sim::Sampler::new(&d).and_then(|_| faasim_traces::limits::check_dist_span(&d))
    };
    // Recorded tables are checked when they are read, at the start of a run.
    if let Some(Err(e)) = s
        .platform
        .cold_start_ms
        .model()
        .map(|m| dist_ok(m.to_dist()))
    {
        return Err(invalid("platform.cold_start_ms", e));
    }
    for spec in s.platform.function_cold_start_ms.values() {
        if let Some(Err(e)) = spec.model().map(|m| dist_ok(m.to_dist())) {
            return Err(invalid("platform.function_cold_start_ms", e));
        }
    }
    for (name, entry) in &s.functions {
        let key = || format!("functions.\"{name}\"");
        if let Some(spec) = &entry.cold_start_ms {
            if let Err(e) = spec.model().map_or(Ok(()), |m| dist_ok(m.to_dist())) {
                return Err(ScenarioError::Invalid {
                    path: path.to_owned(),
                    key: "functions",
                    message: format!("{}.cold_start_ms: {e}", key()),
                });
            }
            if s.platform.function_cold_start_ms.contains_key(name) {
                return Err(ScenarioError::Invalid {
                    path: path.to_owned(),
                    key: "functions",
                    message: format!(
                        "{}.cold_start_ms and platform.function_cold_start_ms.\"{name}\" both \
                         set the cold start of `{name}`: keep one",
                        key()
                    ),
                });
            }
        }
        if let Some(t) = entry.timeout_s {
            let limit_s = faasim_sim::TIME_LIMIT.as_secs_f64();
            if !(t.is_finite() && t > 0.0 && t <= limit_s) {
                return Err(ScenarioError::Invalid {
                    path: path.to_owned(),
                    key: "functions",
                    message: format!(
                        "{}.timeout_s: must be a number of seconds > 0, got {t}",
                        key()
                    ),
                });
            }
        }
        let restore = entry.snapshot.as_ref().and_then(|x| x.restore_ms.as_ref());
        if let Some(Err(e)) = restore.and_then(|r| r.to_dist()).map(dist_ok) {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                key: "functions",
                message: format!("{}.snapshot.restore_ms: {e}", key()),
            });
        }
        if let Err(e) = entry.to_overrides().validate() {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                key: "functions",
                message: format!("{}: {e}", key()),
            });
        }
    }
    if let Err((key, message)) = crate::provider::validate(s) {
        return Err(invalid(key, message));
    }
    if s.platform.durations_at.is_some() && s.platform.cpu != CpuSpec::Proportional {
        return Err(invalid(
            "platform.durations_at",
            "only applies with cpu = \"proportional\"".into(),
        ));
    }
    if s.platform.cpu == CpuSpec::Proportional && s.platform.instance_concurrency != 1 {
        return Err(invalid(
            "platform.cpu",
            format!(
                "\"proportional\" gives each instance its own vCPU share, as AWS Lambda runs one \
                 execution per instance: instance_concurrency must be 1, got {}",
                s.platform.instance_concurrency
            ),
        ));
    }
    if let Some(Err(e)) = s.platform.snapshot.as_ref().map(SnapshotConfig::validate) {
        return Err(invalid("platform.snapshot", e));
    }
    if let Some(Err(e)) = s.platform.fork.as_ref().map(ForkConfig::validate) {
        return Err(invalid("platform.fork", e));
    }
    let restore = s
        .platform
        .snapshot
        .as_ref()
        .and_then(|c| c.restore_ms.to_dist());
    if let Some(Err(e)) = restore.map(dist_ok) {
        return Err(invalid("platform.snapshot", format!("restore_ms: {e}")));
    }
    let fork = s.platform.fork.as_ref().and_then(|c| c.fork_ms.to_dist());
    if let Some(Err(e)) = fork.map(dist_ok) {
        return Err(invalid("platform.fork", format!("fork_ms: {e}")));
    }
    if s.billing.granularity_ms == Some(0) {
        return Err(invalid(
            "billing.granularity_ms",
            "must be at least 1".into(),
        ));
    }
    if faasim_sim::billing::vcpus_to_milli(s.billing.vcpus).is_none() {
        return Err(invalid(
            "billing.vcpus",
            format!("must be a number of vCPUs > 0, got {}", s.billing.vcpus),
        ));
    }
    let wh = s.billing.worker_hour_usd;
    if !(wh.is_finite() && wh >= 0.0) {
        return Err(invalid(
            "billing.worker_hour_usd",
            format!("must be a price >= 0, got {wh}"),
        ));
    }
    if let Err(e) = s.engine_config(s.seed).billing.validate() {
        return Err(ScenarioError::Invalid {
            path: path.to_owned(),
            key: "billing",
            message: format!("{}: {}", e.field, e.message),
        });
    }
    let iv = s.output.timeseries_interval_s;
    if !(iv.is_finite() && iv > 0.0) {
        return Err(invalid(
            "output.timeseries_interval_s",
            format!("must be > 0 seconds, got {iv}"),
        ));
    }
    if iv < MIN_TIMESERIES_INTERVAL_S {
        return Err(invalid(
            "output.timeseries_interval_s",
            format!("must be at least {MIN_TIMESERIES_INTERVAL_S} seconds (1 ms), got {iv}"),
        ));
    }
    if let Err(e) = s.trace.validate() {
        return Err(invalid("trace", e.to_string()));
    }
    if let Some(Err(e)) = s.sample.as_ref().map(|x| x.validate()) {
        return Err(invalid("sample", e.to_string()));
    }
    if let Err(e) = s.keep_alive.build() {
        return Err(invalid("keep_alive", e.to_string()));
    }
    if let Err(e) = s.placement.build() {
        return Err(invalid("placement", e.to_string()));
    }
    if let Err(e) = s.load_balancing.build() {
        return Err(invalid("load_balancing", e.to_string()));
    }
    if let Some(v) = s.load_balancing.virtual_nodes() {
        let points = s.cluster.workers as u64 * v as u64;
        if points > MAX_RING_POINTS {
            return Err(invalid(
                "load_balancing.virtual_nodes",
                format!(
                    "cluster.workers × virtual_nodes = {} × {v} = {points} ring points, more than the limit of {MAX_RING_POINTS}",
                    s.cluster.workers
                ),
            ));
        }
    }
    if let Err(e) = s.autoscaling.build() {
        return Err(invalid("autoscaling", e.to_string()));
    }
    if !matches!(s.autoscaling, AutoscalingSpec::PerRequest {})
        && !matches!(s.load_balancing, LoadBalancingSpec::ClusterWide {})
    {
        return Err(invalid(
            "load_balancing",
            "an autoscaler scales each function across the cluster and cannot be combined with a per-request load balancer; use load_balancing.policy = \"cluster-wide\"".into(),
        ));
    }
    if let Err((key, message)) = crate::models::validate(s) {
        return Err(invalid(key, message));
    }
    Ok(())
}

impl LoadedScenario {
    /// Every file the run reads (the trace's files, the VM instance table), resolved
    /// against the scenario's folder, in a fixed order.
    pub fn input_files(&self) -> Vec<PathBuf> {
        let base = &self.base_dir;
        let mut files = match &self.scenario.trace {
            TraceSpec::Csv { path } => vec![base.join(path)],
            TraceSpec::Azure2021(s) => vec![base.join(&s.path)],
            TraceSpec::AzureLlm2023(s) => vec![base.join(&s.path)],
            TraceSpec::Azure2019(s) => {
                let mut v = s.invocations.resolved(base);
                v.extend(s.durations.resolved(base));
                v.extend(s.memory.resolved(base));
                v
            }
            TraceSpec::Huawei2023(s) => s.path.resolved(base),
            TraceSpec::Huawei2025(s) => {
                let mut v = s.path.resolved(base);
                v.extend(s.runtimes.iter().map(|r| base.join(r)));
                v
            }
            TraceSpec::Synthetic(_) | TraceSpec::AzureLike(_) => vec![],
        };
        if let Some(t) = &self.scenario.vm.instance_table {
            files.push(base.join(t));
        }
        if let Some(w) = &self.scenario.workflows_file {
            files.push(base.join(w));
        }
        let p = &self.scenario.platform;
        let entries = self.scenario.functions.values();
        for source in std::iter::once(&p.cold_start_ms)
            .chain(p.function_cold_start_ms.values())
            .chain(entries.filter_map(|e| e.cold_start_ms.as_ref()))
        {
            for f in crate::cold_starts::input_files(source, base) {
                if !files.contains(&f) {
                    files.push(f);
                }
            }
        }
        files
    }

    /// The engine configuration of a run with `seed`: [`Scenario::engine_config`] with the
    /// tables of recorded cold starts read and grouped (see [`crate::cold_starts`]).
    pub fn engine_config(&self, seed: u64) -> Result<EngineConfig, ColdStartError> {
        let mut cfg = self.scenario.engine_config(seed);
        let p = &self.scenario.platform;
        crate::cold_starts::apply(
            &p.cold_start_ms,
            &p.function_cold_start_ms,
            &self.base_dir,
            &mut cfg,
        )?;
        crate::cold_starts::apply_functions(&self.scenario.functions, &self.base_dir, &mut cfg)?;
        Ok(cfg)
    }

    /// Opens the scenario's trace (sampled, lenient as asked) for a run with `seed`.
    pub fn open_trace(
        &self,
        seed: u64,
    ) -> Result<faasim_traces::OpenTrace, faasim_traces::TraceError> {
        let opts = faasim_traces::OpenOptions {
            lenient: self.lenient,
            sample: self.scenario.sample.clone(),
        };
        faasim_traces::open_with(&self.scenario.trace, &self.base_dir, seed, &opts)
    }
}

impl Scenario {
    /// The engine configuration this scenario describes, with `seed` as the run seed. A
    /// table of recorded cold starts is not read here: it stands as the default preset until
    /// [`LoadedScenario::engine_config`] reads it (which is what a run uses).
    pub fn engine_config(&self, seed: u64) -> EngineConfig {
        let p = &self.platform;
        EngineConfig {
            workers: crate::models::pools(self)
                .iter()
                .flat_map(|p| {
                    std::iter::repeat_n(
                        WorkerSpec {
                            memory_mb: p.memory_mb,
                            cores: p.cores,
                        },
                        p.workers as usize,
                    )
                })
                .collect(),
            instance_concurrency: p.instance_concurrency,
            on_full: match p.on_full {
                OnFullSpec::Queue => OnFull::Queue,
                OnFullSpec::Drop => OnFull::Drop,
            },
            queue_timeout: p.queue_timeout_ms.and_then(SimDuration::try_from_ms_f64),
            cold_start: p
                .cold_start_ms
                .model()
                .cloned()
                .unwrap_or_default()
                .to_dist(),
            cold_start_per_function: p
                .function_cold_start_ms
                .iter()
                .map(|(k, v)| (k.clone(), v.model().cloned().unwrap_or_default().to_dist()))
                .collect(),
            functions: function_settings(&self.functions),
            provider: crate::provider::rules(self),
            cpu: match p.cpu {
                CpuSpec::ProcessorSharing => CpuModel::ProcessorSharing,
                CpuSpec::Ignore => CpuModel::Ignore,
                CpuSpec::Proportional => CpuModel::Proportional {
                    durations_at_one_vcpu: p.durations_at == Some(DurationsAt::OneVcpu),
                },
            },
            billing: Billing {
                model: self.billing.model,
                granularity_ms: self
                    .billing
                    .granularity_ms
                    .unwrap_or_else(|| self.billing.model.default_granularity_ms()),
                bill_init: self.billing.bill_init,
                free_tier: self.billing.free_tier,
                tiers: self.billing.tiers,
                vcpu_milli: faasim_sim::billing::vcpus_to_milli(self.billing.vcpus).unwrap_or(1000),
            },
            seed,
            provisioned_per_function: p.provisioned_instances,
            sample_interval: SimDuration::try_from_ms_f64(self.output.timeseries_interval_s * 1e3),
            end: match self.run.end {
                RunEndSpec::Drain => RunEnd::Drain,
                RunEndSpec::Horizon => RunEnd::Horizon {
                    at: self.run.end_at(),
                },
            },
            snapshot: p.snapshot.clone().unwrap_or_default(),
            fork: p.fork.clone().unwrap_or_default(),
            request_path: match self.run.request_path {
                RequestPathSpec::Auto => RequestPath::Auto,
                RequestPathSpec::General => RequestPath::General,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
[trace]
format = "synthetic"
"#;

    fn p(text: &str, overrides: &[&str]) -> Result<Scenario, ScenarioError> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        parse(text, Path::new("s.toml"), &o)
    }

    #[test]
    fn defaults_fill_a_minimal_scenario() {
        let s = p(MINIMAL, &[]).unwrap();
        assert_eq!(s.seed, 1);
        assert_eq!(s.cluster, ClusterSpec::default());
        assert_eq!(s.platform.instance_concurrency, 1);
        assert_eq!(s.keep_alive, KeepAliveSpec::default());
    }

    #[test]
    fn function_tables_resolve_with_the_wildcard_and_refuse_mistakes() {
        let text = format!(
            "{MINIMAL}[functions.\"*\"]\ncold_start_ms = 40\n\
             [functions.\"f0\"]\nmemory_mb = 512\ncold_start_ms = \"firecracker\"\n"
        );
        let s = p(&text, &[]).unwrap();
        let f = s.engine_config(1).functions;
        assert_eq!(
            f.all.cold_start,
            Some(faasim_sim::DistSpec::Constant { value_ms: 40.0 })
        );
        assert_eq!(f.named.len(), 1);
        assert_eq!(f.named[0].0, "f0");
        assert_eq!(f.named[0].1.memory_mb, Some(512));
        // A key that does not exist is an error naming it.
        let e = p(&format!("{MINIMAL}[functions.f0]\nmemroy_mb = 5\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("memroy_mb"), "{e}");
        let e = p(&format!("{MINIMAL}[functions.f0]\nmemory_mb = 0\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("functions.\"f0\": `memory_mb` must be at least 1"),
            "{e}"
        );
        // The same function's cold start twice.
        let e = p(
            &format!(
                "{MINIMAL}[platform.function_cold_start_ms]\nf0 = 5\n\
                 [functions.f0]\ncold_start_ms = 6\n"
            ),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("keep one"), "{e}");
    }

    #[test]
    fn start_type_tables_parse_resolve_and_refuse_mistakes() {
        let text = format!(
            "{MINIMAL}[platform.snapshot]\nrestore_ms = {{ base_ms = 5, restore_mb_per_s = 800 }}\n\
             create = \"deploy\"\ncapacity_mb = 4096\n\
             [platform.fork]\nfork_ms = 2\nplacement = \"policy\"\n\
             [functions.\"*\"]\nsnapshot = false\n\
             [functions.f0]\nsnapshot = {{ snapshot_mb = 100, slowdown = 1.2 }}\n"
        );
        let s = p(&text, &[]).unwrap();
        let c = s.engine_config(1);
        assert!(c.snapshot.enabled, "a table given turns snapshots on");
        assert_eq!(c.snapshot.slowdown, 1.95);
        assert_eq!(c.snapshot.capacity_mb, Some(4096));
        assert_eq!(c.snapshot.create, faasim_sim::SnapshotCreate::Deploy);
        assert_eq!(
            c.snapshot.restore_ms,
            faasim_sim::RestoreSpec::Bandwidth {
                base_ms: 5.0,
                restore_mb_per_s: 800.0
            }
        );
        assert!(c.fork.enabled);
        assert_eq!(c.fork.placement, faasim_sim::ForkPlacement::Policy);
        assert_eq!(
            c.functions.all.snapshot.as_ref().unwrap().enabled,
            Some(false)
        );
        // A table enables the function's snapshots, over the wildcard's `false`.
        let (_, f0) = c.functions.resolve("f0");
        let f0 = f0.snapshot.unwrap();
        assert_eq!(
            (f0.enabled, f0.snapshot_mb, f0.slowdown),
            (Some(true), Some(100), Some(1.2))
        );
        // Round trip through TOML, as the manifest writes it.
        let back: Scenario = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
        assert_eq!(s, back);
        // A scenario without the tables has none, and the engine's start types are off.
        let plain = p(MINIMAL, &[]).unwrap();
        assert!(!toml::to_string(&plain).unwrap().contains("snapshot"));
        assert!(!plain.engine_config(1).snapshot.enabled);
        assert!(!plain.engine_config(1).fork.enabled);
        for (extra, expected) in [
            ("[platform.snapshot]\nrestor_ms = 5\n", "restor_ms"),
            (
                "[platform.snapshot]\nslowdown = 0.5\n",
                "slowdown: must be a factor >= 1",
            ),
            (
                "[platform.snapshot]\ncapacity_mb = 0\n",
                "capacity_mb must be at least 1",
            ),
            (
                "[platform.snapshot]\nrestore_ms = { base_ms = 5 }\n",
                "either the bandwidth model",
            ),
            (
                "[platform.snapshot]\nrestore_ms = { base_ms = 5, restore_mb_per_s = -1 }\n",
                "restore_mb_per_s",
            ),
            ("[platform.fork]\nfork_ms = -1\n", ">= 0"),
            (
                "[platform.fork]\nfork_ms = { base_ms = 1, restore_mb_per_s = 5 }\n",
                "a fork copies no snapshot",
            ),
            ("[functions.f0]\nsnapshot = { size_mb = 5 }\n", "size_mb"),
            ("[functions.f0]\nsnapshot = 3\n", "true, false, or a table"),
            (
                "[functions.f0]\nsnapshot = { snapshot_mb = 0 }\n",
                "snapshot_mb` must be at least 1",
            ),
        ] {
            let e = p(&format!("{MINIMAL}{extra}"), &[])
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{extra}: {e}");
        }
    }

    #[test]
    fn proportional_cpu_and_the_durations_it_assumes() {
        let s = p(
            &format!("{MINIMAL}[platform]\ncpu = \"proportional\"\ndurations_at = \"1-vcpu\"\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            s.engine_config(1).cpu,
            CpuModel::Proportional {
                durations_at_one_vcpu: true
            }
        );
        let s = p(
            &format!("{MINIMAL}[platform]\ncpu = \"proportional\"\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            s.engine_config(1).cpu,
            CpuModel::Proportional {
                durations_at_one_vcpu: false
            }
        );
        assert!(!toml::to_string(&s).unwrap().contains("durations_at"));
        let e = p(
            &format!("{MINIMAL}[platform]\ndurations_at = \"1-vcpu\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("platform.durations_at: only applies"), "{e}");
        let e = p(
            &format!("{MINIMAL}[platform]\ncpu = \"proportional\"\ninstance_concurrency = 4\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("instance_concurrency must be 1, got 4"), "{e}");
        let e = p(
            &format!("{MINIMAL}[platform]\ndurations_at = \"2-vcpu\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("2-vcpu"), "{e}");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = format!("{MINIMAL}[cluster]\nworkers = 2\nworker_memroy_mb = 5\n");
        let e = p(&text, &[]).unwrap_err().to_string();
        assert!(e.starts_with("s.toml: line 7"), "{e}");
        assert!(e.contains("worker_memroy_mb"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }

    #[test]
    fn unknown_policy_is_an_error_naming_it() {
        let text = format!("{MINIMAL}[placement]\npolicy = \"tetris\"\n");
        let e = p(&text, &[]).unwrap_err().to_string();
        assert!(e.contains("tetris"), "{e}");
    }

    #[test]
    fn a_balancer_given_as_placement_says_where_it_belongs() {
        let text = format!("{MINIMAL}[placement]\npolicy = \"openwhisk\"\n");
        let e = p(&text, &[]).unwrap_err().to_string();
        assert!(
            e.contains("set it as [load_balancing] policy = \"openwhisk\""),
            "{e}"
        );
        let text = format!("{MINIMAL}[load_balancing]\npolicy = \"openwhisk\"\n");
        let s = p(&text, &[]).unwrap();
        assert_eq!(s.load_balancing.name(), "openwhisk");
        // An autoscaler cannot share the cluster with a per-request balancer.
        let text = format!(
            "{MINIMAL}[load_balancing]\npolicy = \"hermod\"\n[autoscaling]\npolicy = \"kpa\"\n"
        );
        let e = p(&text, &[]).unwrap_err().to_string();
        assert!(e.contains("load_balancing: an autoscaler"), "{e}");
    }

    #[test]
    fn malformed_toml_is_reported_with_a_location() {
        let e = p("name = \n", &[]).unwrap_err().to_string();
        assert!(e.starts_with("s.toml: line 1"), "{e}");
    }

    #[test]
    fn overrides_set_nested_keys_and_are_validated() {
        let s = p(
            MINIMAL,
            &[
                "keep_alive.policy=fixed",
                "keep_alive.ttl_s=60",
                "cluster.workers=3",
                "platform.cold_start_ms={ dist = \"exponential\", mean_ms = 5 }",
            ],
        )
        .unwrap();
        assert_eq!(
            s.keep_alive,
            KeepAliveSpec::Fixed {
                ttl_s: 60.0,
                reset_on_use: true
            }
        );
        assert_eq!(s.cluster.workers, 3);
        let s = p(MINIMAL, &["keep_alive.ttl_s=42"]).unwrap();
        assert_eq!(
            s.keep_alive,
            KeepAliveSpec::Fixed {
                ttl_s: 42.0,
                reset_on_use: true
            }
        );
        let s = p(MINIMAL, &["keep_alive={ policy = \"infinite\" }"]).unwrap();
        assert_eq!(s.keep_alive, KeepAliveSpec::Infinite {});
        let e = p(MINIMAL, &["cluster.wrokers=3"]).unwrap_err().to_string();
        assert!(e.contains("wrokers"), "{e}");
        assert!(p(MINIMAL, &["noequals"]).is_err());
        // Quoted parts as TOML reads them: `"*"` is the key `*`, and a quoted name may
        // hold dots; bare and quoted give the same entry.
        let s = p(
            MINIMAL,
            &[
                "functions.\"*\".timeout_s=30",
                "functions.\"a.b\".memory_mb=512",
                "functions.c.error_rate=0.5",
            ],
        )
        .unwrap();
        let names: Vec<&str> = s.functions.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["*", "a.b", "c"]);
        assert_eq!(s.functions["*"].timeout_s, Some(30.0));
        assert_eq!(s.functions["a.b"].memory_mb, Some(512));
        let bare = p(MINIMAL, &["functions.*.timeout_s=30"]).unwrap();
        assert_eq!(bare.functions["*"].timeout_s, Some(30.0));
    }

    #[test]
    fn zero_workers_and_bad_values_are_rejected() {
        let e = p(MINIMAL, &["cluster.workers=0"]).unwrap_err().to_string();
        assert!(e.contains("cluster.workers"), "{e}");
        let e = p(MINIMAL, &["platform.cold_start_ms=-5"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("cold start"), "{e}");
        let e = p(MINIMAL, &["keep_alive.policy=fixed", "keep_alive.ttl_s=-1"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("ttl_s"), "{e}");
    }

    #[test]
    fn scenario_round_trips_through_toml() {
        let s = p(MINIMAL, &["platform.cold_start_ms=container"]).unwrap();
        let text = toml::to_string(&s).unwrap();
        let back: Scenario = toml::from_str(&text).unwrap();
        assert_eq!(s, back);
    }
}
