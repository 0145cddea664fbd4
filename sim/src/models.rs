//! Model serving on GPUs: GPU workers, models, where a model's weights reside and what
//! loading them costs. The configuration types live here; the engine's part is
//! `engine/gpu.rs`.
//!
//! ## What is modelled
//! - **GPU workers.** A worker may carry GPUs ([`GpuWorkerSpec`]): each GPU has its own
//!   memory; the worker has a DRAM cache and an SSD cache for model weights (apart from the
//!   memory its instances hold) and three links, remote storage to DRAM, SSD to DRAM and
//!   DRAM to GPU (PCIe), each with a bandwidth in MB/s. A function that names a model runs
//!   only on GPU workers; other functions run anywhere.
//! - **Residency tiers** ([`Tier`]): a model's weights are in some of GPU memory, the
//!   worker's DRAM cache, its SSD cache, and (always) remote storage. An instance that starts
//!   loads its model from the fastest tier that holds it: the time is the sum over the links
//!   it crosses of `size / bandwidth` (remote→DRAM then DRAM→GPU, or SSD→DRAM then DRAM→GPU,
//!   or DRAM→GPU alone), or with `pipelined` loading (PipeSwitch, Bai et al., OSDI'20 §4.2;
//!   FaaSwap; ServerlessLLM §4) the slowest of those links; then the model's `init_ms`.
//!   This adds to the container's own cold start. Loading fills the tiers it passes through
//!   (a remote load also writes the SSD cache, off the critical path); each tier evicts
//!   models by a [`ModelCache`] policy when full, least recently used ([`Lru`]) by default.
//!   A copy becomes usable by a later load only once its own transfer is complete.
//! - **The loading queue.** Transfers over a worker's storage and SSD links go one at a time,
//!   first come first served (ServerlessLLM §6, `storage_aware_scheduler.py`'s
//!   `node_waiting_time`): a load from SSD or remote waits for the loads before it on that
//!   worker. Transfers from DRAM use the GPU's own PCIe link and do not wait.
//! - **GPU sharing** ([`GpuSharing`]): with `exclusive` an instance owns one GPU whose memory
//!   holds its model's weights and its running batch; the weights go with the instance when
//!   it is evicted (DRAM and SSD copies stay cached). With `swap` (FaaSwap, Yu et al.,
//!   arXiv:2306.03622v2: models are kept in host memory and swapped onto the GPUs when
//!   requests arrive, "late binding") an instance keeps its weights in host memory and a
//!   GPU's memory is a cache of models: a batch whose model is not on the GPU it gets swaps
//!   it in over PCIe, evicting cached models by the [`ModelCache`] policy. FaaSwap's
//!   interference-aware scheduling and its swaps between GPUs are not modelled: a batch
//!   takes the first idle GPU that holds its model, else the idle GPU with the most free
//!   memory, else waits for one in FIFO order.
//! - **Batching** (Clipper, NSDI'17 §4.3; MArk, ATC'19; BATCH, SC'20): a warm instance
//!   collects requests until `max_batch` or `batch_timeout_ms` after the first of them, runs
//!   them together for `latency(b)`, and all of them end together.
//! - **LLMs** ([`BatchLatency::Tokens`]): a batch's prefill takes `prefill` per input token
//!   of every request, then one decode step per output token of its longest request; every
//!   request's time to first token is the end of the prefill. A request's KV cache holds
//!   `kv_kb_per_token` for each of its input and output tokens, and a batch is admitted only
//!   while weights plus KV caches fit in GPU memory (Splitwise, Patel et al., ISCA'24 §II-III,
//!   for the two phases).
//!
//! ## Knowing simplifications
//! One instance uses one GPU (no tensor parallelism: a model bigger than a GPU is an error);
//! batches are static (no continuous batching as in Orca or vLLM: a batch's requests start
//! and end together); decode steps take the same time whatever the batch size; loads of
//! different workers never contend (each worker has its own storage link); ServerlessLLM's
//! live migration is not modelled; a GPU runs one batch at a time; a function's timeout
//! kills a whole batch (its requests share it), not single requests of it; GPU workers do
//! not fail (`[faults]` is refused with models).

use crate::ids::WorkerId;
use crate::time::{SimDuration, SimTime};

/// Where a model's weights are, fastest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// In GPU memory: nothing to transfer.
    Gpu,
    /// In the worker's DRAM model cache: one PCIe transfer.
    Dram,
    /// On the worker's SSD: SSD to DRAM, then PCIe.
    Ssd,
    /// Only in remote storage: a download, then PCIe.
    Remote,
}

impl Tier {
    /// The tier's name in result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Gpu => "gpu",
            Tier::Dram => "dram",
            Tier::Ssd => "ssd",
            Tier::Remote => "remote",
        }
    }
    /// The tier's index, fastest first (0 = GPU).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How instances use a worker's GPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpuSharing {
    /// Each instance owns one GPU and its model's weights there (the default).
    #[default]
    Exclusive,
    /// Instances share the worker's GPUs, whose memory caches models; a batch swaps its
    /// model in over PCIe when it is not there (FaaSwap).
    Swap,
}

/// The GPU side of one worker. A worker with `gpus = 0` is CPU-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuWorkerSpec {
    /// GPUs on the worker.
    pub gpus: u32,
    /// Memory of each GPU, MB.
    pub gpu_memory_mb: u64,
    /// DRAM for cached model weights, MB (apart from the memory instances hold).
    pub host_cache_mb: u64,
    /// SSD for cached model weights, MB.
    pub ssd_cache_mb: u64,
    /// Remote storage to the worker's DRAM, MB/s.
    pub storage_mb_per_s: u64,
    /// The worker's SSD to its DRAM, MB/s.
    pub ssd_mb_per_s: u64,
    /// DRAM to one GPU (PCIe), MB/s.
    pub pcie_mb_per_s: u64,
    /// Overlap the transfers of a load: it takes its slowest link instead of the sum.
    pub pipelined: bool,
}

impl GpuWorkerSpec {
    /// A CPU-only worker.
    pub const NONE: GpuWorkerSpec = GpuWorkerSpec {
        gpus: 0,
        gpu_memory_mb: 0,
        host_cache_mb: 0,
        ssd_cache_mb: 0,
        storage_mb_per_s: 1,
        ssd_mb_per_s: 1,
        pcie_mb_per_s: 1,
        pipelined: false,
    };

    /// The time to move `size_mb` over a link of `mb_per_s`, rounded up to a microsecond.
    pub fn transfer(size_mb: u64, mb_per_s: u64) -> SimDuration {
        let us = (size_mb as u128 * 1_000_000).div_ceil(mb_per_s.max(1) as u128);
        SimDuration(us.min(u64::MAX as u128) as u64)
    }

    /// The transfers of a load from `tier` to GPU memory: the time the worker's loading link
    /// (storage or SSD) is busy, and the whole transfer (sequential sum, or the slowest link
    /// when pipelined). From DRAM only PCIe; from the GPU nothing.
    pub fn load_to_gpu(&self, tier: Tier, size_mb: u64) -> (SimDuration, SimDuration) {
        let pcie = Self::transfer(size_mb, self.pcie_mb_per_s);
        let link = match tier {
            Tier::Gpu => return (SimDuration::ZERO, SimDuration::ZERO),
            Tier::Dram => return (SimDuration::ZERO, pcie),
            Tier::Ssd => Self::transfer(size_mb, self.ssd_mb_per_s),
            Tier::Remote => Self::transfer(size_mb, self.storage_mb_per_s),
        };
        let total = if self.pipelined {
            SimDuration(link.0.max(pcie.0))
        } else {
            SimDuration(link.0.saturating_add(pcie.0))
        };
        (link, total)
    }

    /// The transfer of a load from `tier` to host memory only (`swap` sharing keeps the
    /// weights in host memory): the loading link's time, nothing from DRAM or the GPU.
    pub fn load_to_host(&self, tier: Tier, size_mb: u64) -> SimDuration {
        match tier {
            Tier::Gpu | Tier::Dram => SimDuration::ZERO,
            Tier::Ssd => Self::transfer(size_mb, self.ssd_mb_per_s),
            Tier::Remote => Self::transfer(size_mb, self.storage_mb_per_s),
        }
    }
}

/// A model's execution time for a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchLatency {
    /// `base + per_item × b` for a batch of `b`.
    Curve {
        /// Time of a batch of zero (the fixed part).
        base: SimDuration,
        /// Added per request in the batch.
        per_item: SimDuration,
    },
    /// The time of a batch of 1, 2, ... (at least `max_batch` entries).
    Table(Vec<SimDuration>),
    /// An LLM: prefill per input token of the whole batch, then one decode step per output
    /// token of the batch's longest request (see the module docs).
    Tokens {
        /// Fixed time per batch.
        overhead: SimDuration,
        /// Prefill time per input token, ns.
        prefill_ns_per_token: u64,
        /// Decode time per output token (one step), ns.
        decode_ns_per_token: u64,
    },
}

/// Input and output tokens of one LLM request (`faasim_sim::ArrivalSource::tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tokens {
    /// Prompt (context) tokens.
    pub input: u64,
    /// Generated tokens.
    pub output: u64,
}

/// How long a batch runs, and when its first tokens are out (LLMs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchTime {
    /// From the batch's start to its end.
    pub total: SimDuration,
    /// From the batch's start to the end of its prefill (its requests' first token); the
    /// whole batch for models without a token model.
    pub first_token: SimDuration,
}

fn ns_to_us_ceil(ns: u128) -> u64 {
    ns.div_ceil(1000).min(u64::MAX as u128) as u64
}

impl BatchLatency {
    /// Whether requests need token counts.
    pub fn uses_tokens(&self) -> bool {
        matches!(self, BatchLatency::Tokens { .. })
    }

    /// The time of a batch of `tokens.len()` requests (token counts are read only by the
    /// token model; the others need only the batch's size).
    pub fn batch_time(&self, tokens: &[Tokens]) -> BatchTime {
        let b = tokens.len() as u64;
        match self {
            BatchLatency::Curve { base, per_item } => {
                let t = SimDuration(base.0.saturating_add(per_item.0.saturating_mul(b)));
                BatchTime {
                    total: t,
                    first_token: t,
                }
            }
            BatchLatency::Table(times) => {
                let t = times
                    .get((b as usize).saturating_sub(1))
                    .or(times.last())
                    .copied()
                    .unwrap_or(SimDuration::ZERO);
                BatchTime {
                    total: t,
                    first_token: t,
                }
            }
            BatchLatency::Tokens {
                overhead,
                prefill_ns_per_token,
                decode_ns_per_token,
            } => {
                let input: u128 = tokens.iter().map(|t| t.input as u128).sum();
                let output = tokens.iter().map(|t| t.output).max().unwrap_or(0) as u128;
                let prefill = ns_to_us_ceil(input * *prefill_ns_per_token as u128);
                let decode = ns_to_us_ceil(output * *decode_ns_per_token as u128);
                let first = overhead.0.saturating_add(prefill);
                BatchTime {
                    total: SimDuration(first.saturating_add(decode)),
                    first_token: SimDuration(first),
                }
            }
        }
    }
}

/// A model: its weights and how it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// The model's name (`[models."NAME"]`).
    pub name: String,
    /// Size of its weights, MB.
    pub size_mb: u64,
    /// Runtime start once the weights are in place (`init_ms`).
    pub init: SimDuration,
    /// Execution time of a batch.
    pub latency: BatchLatency,
    /// Most requests in one batch (1 = no batching).
    pub max_batch: u32,
    /// How long a batch waits for more requests after its first one.
    pub batch_timeout: SimDuration,
    /// GPU memory of one request of a running batch, MB (models without a token model).
    pub item_memory_mb: u64,
    /// KV-cache memory per token (input and output) of one request, KB (token models).
    pub kv_kb_per_token: u64,
    /// Every function that names this model serves its own copy (the same size and speed,
    /// its own weights: fine-tuned variants, one model per function as in FaaSwap's
    /// workloads), named `NAME@FUNCTION`; otherwise the functions share one model.
    pub per_function: bool,
    /// Where the weights already are on every GPU worker when the run starts (as far as that
    /// tier's cache holds them; a per-function copy from its function's first request):
    /// `Dram` or `Ssd`; `None` (or `Remote`): only in remote storage.
    pub preloaded: Option<Tier>,
}

impl ModelSpec {
    /// GPU memory one request holds while its batch runs, KB.
    pub fn request_memory_kb(&self, t: Tokens) -> u64 {
        if self.latency.uses_tokens() {
            t.input
                .saturating_add(t.output)
                .saturating_mul(self.kv_kb_per_token)
        } else {
            self.item_memory_mb.saturating_mul(1024)
        }
    }
}

/// Everything model serving adds to a run ([`crate::engine::run_serving`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingConfig {
    /// The GPU side of each worker, in worker id order (as many as the engine's workers).
    pub workers: Vec<GpuWorkerSpec>,
    /// The models, by index; functions name them through `FunctionOverrides::model`.
    pub models: Vec<ModelSpec>,
    /// How instances share GPUs.
    pub sharing: GpuSharing,
    /// What one GPU-second costs, in price units (1e-10 USD). With `exclusive`, GPU
    /// functions are billed per started second of each instance's life, loading included
    /// (as RunPod bills, [`GpuPricePreset`]); with `swap`, whose instances own no GPU, per
    /// started millisecond a batch holds a GPU (swap-in and compute: the pay-per-use
    /// FaaSwap argues for).
    pub gpu_second_price: u64,
}

/// Published per-second prices of serverless GPU workers, billed from the moment a worker
/// starts (container start and model loading included) until it stops, each worker's time
/// rounded up to a whole second.
///
/// Source: RunPod Serverless, "Pricing" (docs.runpod.io/serverless/pricing), the GPU table
/// as published in the `runpod/docs` repository on 2026-06-08 (commit e5571ba1,
/// `snippets/serverless-gpu-pricing-table.mdx`; flex workers, i.e. scale to zero). The
/// billing rule ("billed from when a worker starts until it fully stops, rounded up to the
/// nearest second"; start time includes "loading models into GPU memory") is from the same
/// page. `experiments/data/gpu-prices-runpod-2026-06-08.md` holds the table as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuPricePreset {
    /// `runpod-a100-80gb`: an A100 with 80 GB, $0.00076 per second (the default).
    RunpodA100,
    /// `runpod-h100-80gb`: an H100 PRO with 80 GB, $0.00116 per second.
    RunpodH100,
    /// `runpod-l4-24gb`: an L4, A5000 or 3090 with 24 GB, $0.00019 per second.
    RunpodL4,
}

impl GpuPricePreset {
    /// Every preset, the default first.
    pub const ALL: [GpuPricePreset; 3] = [Self::RunpodA100, Self::RunpodH100, Self::RunpodL4];

    /// The preset's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Self::RunpodA100 => "runpod-a100-80gb",
            Self::RunpodH100 => "runpod-h100-80gb",
            Self::RunpodL4 => "runpod-l4-24gb",
        }
    }

    /// The preset named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// USD per GPU-second in price units (1e-10 USD).
    pub fn price_units(self) -> u64 {
        match self {
            Self::RunpodA100 => 7_600_000,
            Self::RunpodH100 => 11_600_000,
            Self::RunpodL4 => 1_900_000,
        }
    }

    /// When the price was published.
    pub fn date(self) -> &'static str {
        "2026-06-08"
    }
}

/// A model resident in one tier of one worker (or one GPU's cache), as a [`ModelCache`]
/// policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resident {
    /// The model (its index in [`ServingConfig::models`]).
    pub model: u32,
    /// Its size, MB.
    pub size_mb: u64,
    /// When it was put there.
    pub inserted: SimTime,
    /// When a load or a batch last used this copy.
    pub last_used: SimTime,
    /// How many times this copy was used.
    pub uses: u64,
    /// When its transfer into this tier ends (a later load from it waits until then).
    pub ready_at: SimTime,
}

/// Which cached model a full tier evicts. Papers with their own rule (size-aware,
/// frequency-aware, SLO-aware) implement this; the default is [`Lru`].
pub trait ModelCache {
    /// The index in `resident` of the model to evict from `tier` of `worker` (the slice is
    /// never empty and holds only evictable copies).
    fn victim(
        &mut self,
        tier: Tier,
        worker: WorkerId,
        resident: &[Resident],
        now: SimTime,
    ) -> usize;
}

/// Least recently used first, ties to the lowest model index. O(n) per eviction over the
/// few models a tier holds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Lru;

impl ModelCache for Lru {
    fn victim(&mut self, _: Tier, _: WorkerId, resident: &[Resident], _: SimTime) -> usize {
        resident
            .iter()
            .enumerate()
            .min_by_key(|(_, r)| (r.last_used, r.model))
            .map_or(0, |(i, _)| i)
    }
}

/// A GPU worker that can host a new instance of a model-serving function, as placement sees
/// it (`Placement::place_gpu`): now, or (when no worker can) once idle instances there are
/// evicted (`reclaim`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuCandidate {
    /// The worker.
    pub worker: WorkerId,
    /// Its GPUs.
    pub gpus: u32,
    /// GPUs free for a new instance (`exclusive`: owned by no instance; `swap`: running no
    /// batch).
    pub free_gpus: u32,
    /// The fastest tier holding the model there.
    pub tier: Tier,
    /// How long the load would wait for the worker's loading queue (0 from DRAM or GPU).
    pub queue: SimDuration,
    /// The load's transfer time from that tier.
    pub load: SimDuration,
    /// Idle instances must be evicted there first: the least recently used idle GPU
    /// instance for its GPU (`exclusive`), then idle instances for memory. Candidates are
    /// offered this way only when no worker can host the instance as it is.
    pub reclaim: bool,
}

impl GpuCandidate {
    /// The estimated time until the weights are in place: queueing plus loading
    /// (ServerlessLLM's startup-time estimate, without migration).
    pub fn startup(&self) -> SimDuration {
        SimDuration(self.queue.0.saturating_add(self.load.0))
    }
}

/// What model serving adds to a run: [`ServingConfig`] and the cache policy of every tier.
pub struct Serving {
    /// GPU workers, models, sharing and the GPU price.
    pub config: ServingConfig,
    /// Which model a full tier (DRAM, SSD, or a GPU's cache with `swap`) evicts.
    pub cache: Box<dyn ModelCache>,
}

impl Serving {
    /// `config` with least-recently-used eviction in every tier.
    pub fn lru(config: ServingConfig) -> Self {
        Serving {
            config,
            cache: Box::new(Lru),
        }
    }
}

/// One model's figures over a run (`models.csv`).
#[derive(Debug, Clone, Default)]
pub struct ModelStats {
    /// The model's name.
    pub name: String,
    /// Loads by the tier they came from, fastest first ([`Tier::index`]): instance starts,
    /// and with `swap` each batch (from the GPU when its model was still there, else from
    /// its instance's host copy, counted as DRAM).
    pub loads: [u64; 4],
    /// Their load times summed (queueing for the worker's loading link plus transfers; not
    /// `init_ms` nor the container's cold start), µs.
    pub load_us: u128,
    /// The longest of them, µs.
    pub load_us_max: u64,
    /// Copies resident in GPU memory, DRAM and SSD, integrated over time, copy × µs.
    pub resident_us: [u128; 3],
    /// Batches run.
    pub batches: u64,
    /// Requests in those batches.
    pub batch_requests: u64,
    /// Requests completed.
    pub completed: u64,
    /// GPU time spent computing its batches, µs.
    pub gpu_busy_us: u128,
    /// GPU time billed: with `exclusive` each instance's life rounded up to a second, with
    /// `swap` each batch's hold of a GPU (swap-in and compute) rounded up to a millisecond;
    /// ms.
    pub gpu_billed_ms: u64,
    /// What those GPU-seconds cost.
    pub gpu_cost: crate::billing::Money,
}

impl ModelStats {
    /// Every load, whatever its tier.
    pub fn total_loads(&self) -> u64 {
        self.loads.iter().sum()
    }
}

/// Run-wide model-serving figures.
#[derive(Debug, Clone)]
pub struct ServingReport {
    /// Per model, in [`ServingConfig::models`] order.
    pub models: Vec<ModelStats>,
    /// GPUs in the cluster.
    pub gpus: u64,
    /// Time to first token of the completed requests of token models, µs.
    pub ttft_us: crate::digest::Digest,
}

impl ServingReport {
    /// Loads by tier, all models.
    pub fn loads(&self) -> [u64; 4] {
        let mut l = [0; 4];
        for m in &self.models {
            for (t, n) in l.iter_mut().zip(m.loads) {
                *t += n;
            }
        }
        l
    }
    /// Mean load time of all loads, ms (0 without loads).
    pub fn load_ms_mean(&self) -> f64 {
        let n: u64 = self.models.iter().map(ModelStats::total_loads).sum();
        let us: u128 = self.models.iter().map(|m| m.load_us).sum();
        if n == 0 {
            0.0
        } else {
            us as f64 / n as f64 / 1e3
        }
    }
    /// GPU compute time over GPU time available until `end`.
    pub fn gpu_utilisation(&self, end: SimTime) -> f64 {
        let busy: u128 = self.models.iter().map(|m| m.gpu_busy_us).sum();
        let denom = self.gpus as f64 * end.as_micros() as f64;
        if denom == 0.0 {
            0.0
        } else {
            busy as f64 / denom
        }
    }
    /// Requests per batch (0 without batches).
    pub fn batch_size_mean(&self) -> f64 {
        let b: u64 = self.models.iter().map(|m| m.batches).sum();
        let r: u64 = self.models.iter().map(|m| m.batch_requests).sum();
        if b == 0 {
            0.0
        } else {
            r as f64 / b as f64
        }
    }
    /// GPU-second charges of every model.
    pub fn gpu_cost(&self) -> crate::billing::Money {
        self.models.iter().map(|m| m.gpu_cost).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(pipelined: bool) -> GpuWorkerSpec {
        GpuWorkerSpec {
            gpus: 1,
            gpu_memory_mb: 80_000,
            host_cache_mb: 0,
            ssd_cache_mb: 0,
            storage_mb_per_s: 5_000,
            ssd_mb_per_s: 2_000,
            pcie_mb_per_s: 20_000,
            pipelined,
        }
    }

    #[test]
    fn loads_add_their_links_or_take_the_slowest() {
        // 10,000 MB: remote 2 s, SSD 5 s, PCIe 0.5 s.
        let s = worker(false);
        assert_eq!(
            s.load_to_gpu(Tier::Remote, 10_000),
            (SimDuration::from_secs(2), SimDuration(2_500_000))
        );
        assert_eq!(
            s.load_to_gpu(Tier::Ssd, 10_000),
            (SimDuration::from_secs(5), SimDuration(5_500_000))
        );
        assert_eq!(
            s.load_to_gpu(Tier::Dram, 10_000),
            (SimDuration::ZERO, SimDuration(500_000))
        );
        let p = worker(true);
        assert_eq!(
            p.load_to_gpu(Tier::Remote, 10_000).1,
            SimDuration::from_secs(2)
        );
        assert_eq!(
            p.load_to_gpu(Tier::Ssd, 10_000).1,
            SimDuration::from_secs(5)
        );
        assert_eq!(p.load_to_gpu(Tier::Gpu, 10_000).1, SimDuration::ZERO);
        // Rounded up to a microsecond: 1 MB at 3 MB/s.
        assert_eq!(GpuWorkerSpec::transfer(1, 3), SimDuration(333_334));
    }

    #[test]
    fn batch_times_follow_the_curve_the_table_and_the_tokens() {
        let curve = BatchLatency::Curve {
            base: SimDuration::from_ms(10),
            per_item: SimDuration::from_ms(2),
        };
        let four = [Tokens::default(); 4];
        assert_eq!(curve.batch_time(&four).total, SimDuration::from_ms(18));
        let table = BatchLatency::Table(vec![SimDuration::from_ms(5), SimDuration::from_ms(7)]);
        assert_eq!(table.batch_time(&four[..2]).total, SimDuration::from_ms(7));
        // 0.25 ms per input token, 20 ms per output step: inputs 100 + 300, outputs 3 and 5.
        let llm = BatchLatency::Tokens {
            overhead: SimDuration::from_ms(1),
            prefill_ns_per_token: 250_000,
            decode_ns_per_token: 20_000_000,
        };
        let t = llm.batch_time(&[
            Tokens {
                input: 100,
                output: 3,
            },
            Tokens {
                input: 300,
                output: 5,
            },
        ]);
        assert_eq!(t.first_token, SimDuration::from_ms(1 + 100));
        assert_eq!(t.total, SimDuration::from_ms(1 + 100 + 100));
    }

    #[test]
    fn lru_evicts_the_least_recently_used_then_the_lowest_model() {
        let r = |model, last| Resident {
            model,
            size_mb: 1,
            inserted: SimTime::ZERO,
            last_used: SimTime(last),
            uses: 1,
            ready_at: SimTime::ZERO,
        };
        let mut lru = Lru;
        let v = [r(3, 50), r(1, 20), r(2, 20)];
        assert_eq!(lru.victim(Tier::Dram, WorkerId(0), &v, SimTime(99)), 1);
    }
}
