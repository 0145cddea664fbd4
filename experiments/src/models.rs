//! Model serving in scenario files: the GPU keys of `[cluster]` and of
//! `[[cluster.pools]]`, `[models."NAME"]`, `[platform] gpu_sharing`, `[billing]
//! gpu_second_usd`, and the engine's [`Serving`] built from them (see `faasim_sim::models`
//! for the model and its sources).
//!
//! ```toml
//! [cluster]
//! workers = 4                  # CPU-only workers (0 with pools)
//! [[cluster.pools]]            # more workers, each pool with its own sizes
//! workers = 2
//! worker_memory_mb = 262144
//! gpus_per_worker = 4
//! gpu_memory_mb = 81920
//! host_model_cache_mb = 131072
//! ssd_model_cache_mb = 1048576
//! storage_mb_per_s = 1250      # remote storage to DRAM
//! ssd_mb_per_s = 1650          # SSD to DRAM
//! pcie_mb_per_s = 25000        # DRAM to one GPU
//! pipelined = false            # true: a load takes its slowest link, not the sum
//!
//! [models."llama-2-7b"]
//! size_mb = 13500
//! init_ms = 2000
//! latency = { prefill_ms_per_token = 0.2, decode_ms_per_token = 20 }   # or { base_ms, per_item_ms } or [ms for batch 1, 2, ...]
//! kv_cache_mb_per_token = 0.5
//! max_batch = 8
//! batch_timeout_ms = 50
//!
//! [functions."chat"]
//! model = "llama-2-7b"
//! slo_ms = 1000
//! ```
//!
//! A pool's key left out takes `[cluster]`'s. Every value is checked, and a bad one is one
//! line naming its key.

use crate::scenario::Scenario;
use faasim_sim::{
    BatchLatency, GpuPricePreset, GpuSharing, GpuWorkerSpec, ModelSpec, Serving, ServingConfig,
    SimDuration,
};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Default GPU memory: the 80 GB of an A100-80GB or H100 (in MB of 1024 × 1024 bytes).
pub const GPU_MEMORY_MB: u64 = 81_920;
/// Default remote-storage bandwidth: 1,250 MB/s, one 10 Gb/s network link (an assumption
/// of the right order; ServerlessLLM, OSDI'24 §1, quotes 5 GB/s for a well-provisioned
/// store: set yours). Below the SSD's, so the tiers keep their order.
pub const STORAGE_MB_PER_S: u64 = 1_250;
/// Default SSD-to-DRAM bandwidth: the effective bandwidth of ServerlessLLM's measured loads
/// with existing loaders (OSDI'24, §1: OPT-30B in 34 s, LLaMA-2-70B in 84 s, i.e. 1.55 to
/// 1.76 GB/s; `faasim validate` checks this preset against both).
pub const SSD_MB_PER_S: u64 = 1_650;
/// Default DRAM-to-GPU bandwidth: PCIe 4.0 ×16 carries 32 GB/s per direction nominally;
/// 25,000 MB/s is of the order pinned-memory copies reach (an assumption: set yours).
pub const PCIE_MB_PER_S: u64 = 25_000;

/// `[[cluster.pools]]`: workers with their own sizes. A key left out takes `[cluster]`'s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// Workers in the pool (at least 1).
    pub workers: u32,
    /// Memory of each, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_memory_mb: Option<u32>,
    /// Cores of each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_cores: Option<u32>,
    /// GPUs of each (0: CPU-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus_per_worker: Option<u32>,
    /// Memory of each GPU, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_mb: Option<u64>,
    /// DRAM for cached model weights, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_model_cache_mb: Option<u64>,
    /// SSD for cached model weights, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssd_model_cache_mb: Option<u64>,
    /// Remote storage to DRAM, MB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_mb_per_s: Option<u64>,
    /// SSD to DRAM, MB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssd_mb_per_s: Option<u64>,
    /// DRAM to one GPU, MB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcie_mb_per_s: Option<u64>,
    /// Overlap a load's transfers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipelined: Option<bool>,
}

/// One pool's workers as the engine needs them, with the key prefix for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// `cluster` or `cluster.pools[i]`.
    pub key: String,
    /// Workers.
    pub workers: u32,
    /// Memory of each, MB.
    pub memory_mb: u32,
    /// Cores of each.
    pub cores: u32,
    /// The GPU side of each.
    pub gpu: GpuWorkerSpec,
}

/// The workers of a scenario: `[cluster]`'s, then each pool's, in order.
pub fn pools(s: &Scenario) -> Vec<Pool> {
    let c = &s.cluster;
    let base = GpuWorkerSpec {
        gpus: c.gpus_per_worker,
        gpu_memory_mb: c.gpu_memory_mb.unwrap_or(GPU_MEMORY_MB),
        host_cache_mb: c.host_model_cache_mb.unwrap_or(0),
        ssd_cache_mb: c.ssd_model_cache_mb.unwrap_or(0),
        storage_mb_per_s: c.storage_mb_per_s.unwrap_or(STORAGE_MB_PER_S),
        ssd_mb_per_s: c.ssd_mb_per_s.unwrap_or(SSD_MB_PER_S),
        pcie_mb_per_s: c.pcie_mb_per_s.unwrap_or(PCIE_MB_PER_S),
        pipelined: c.pipelined.unwrap_or(false),
    };
    let mut out = vec![Pool {
        key: "cluster".into(),
        workers: c.workers,
        memory_mb: c.worker_memory_mb,
        cores: c.worker_cores,
        gpu: base,
    }];
    for (i, p) in c.pools.iter().enumerate() {
        out.push(Pool {
            key: format!("cluster.pools[{i}]"),
            workers: p.workers,
            memory_mb: p.worker_memory_mb.unwrap_or(c.worker_memory_mb),
            cores: p.worker_cores.unwrap_or(c.worker_cores),
            gpu: GpuWorkerSpec {
                gpus: p.gpus_per_worker.unwrap_or(base.gpus),
                gpu_memory_mb: p.gpu_memory_mb.unwrap_or(base.gpu_memory_mb),
                host_cache_mb: p.host_model_cache_mb.unwrap_or(base.host_cache_mb),
                ssd_cache_mb: p.ssd_model_cache_mb.unwrap_or(base.ssd_cache_mb),
                storage_mb_per_s: p.storage_mb_per_s.unwrap_or(base.storage_mb_per_s),
                ssd_mb_per_s: p.ssd_mb_per_s.unwrap_or(base.ssd_mb_per_s),
                pcie_mb_per_s: p.pcie_mb_per_s.unwrap_or(base.pcie_mb_per_s),
                pipelined: p.pipelined.unwrap_or(base.pipelined),
            },
        });
    }
    out
}

/// `[models."NAME"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntrySpec {
    /// Size of the weights, MB.
    pub size_mb: u64,
    /// Runtime start once the weights are in place, ms (default 0).
    #[serde(default)]
    pub init_ms: f64,
    /// Execution time of a batch.
    pub latency: LatencySpec,
    /// Most requests per batch (default 1: no batching).
    #[serde(default = "one")]
    pub max_batch: u32,
    /// How long a batch waits for more requests after its first one, ms (default 0).
    #[serde(default)]
    pub batch_timeout_ms: f64,
    /// GPU memory of one request in a running batch, MB (batch curves and tables).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub item_memory_mb: u64,
    /// KV-cache memory per token (input and output) of one request, MB (token models).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub kv_cache_mb_per_token: f64,
    /// Each function that names the model serves its own copy (same size and speed, its own
    /// weights), reported as `NAME@FUNCTION` in `models.csv` (default false: shared).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_function: bool,
    /// Where the weights already are on every GPU worker when the run starts: `"dram"` or
    /// `"ssd"` (as far as the worker's cache holds them); absent: only in remote storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preloaded: Option<PreloadSpec>,
}

/// `preloaded`: a tier holding a model's weights from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreloadSpec {
    /// The worker's DRAM cache.
    Dram,
    /// The worker's SSD cache.
    Ssd,
}

fn one() -> u32 {
    1
}
fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}
fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// `latency`: a batch curve `{ base_ms, per_item_ms }`, a table of ms by batch size
/// `[b1, b2, ...]`, or an LLM's token model `{ prefill_ms_per_token, decode_ms_per_token,
/// overhead_ms }`.
#[derive(Debug, Clone, PartialEq)]
pub enum LatencySpec {
    /// `base_ms + per_item_ms × b`.
    Curve {
        /// Fixed part, ms.
        base_ms: f64,
        /// Per request, ms.
        per_item_ms: f64,
    },
    /// ms of a batch of 1, 2, ...
    Table(Vec<f64>),
    /// Prefill per input token of the batch, then a decode step per output token of its
    /// longest request.
    Tokens {
        /// ms per input token.
        prefill_ms_per_token: f64,
        /// ms per decode step.
        decode_ms_per_token: f64,
        /// ms per batch (default 0).
        overhead_ms: f64,
    },
}

const LATENCY_EXPECTED: &str = "a batch curve { base_ms, per_item_ms }, a table of ms by \
    batch size [b1, b2, ...], or a token model { prefill_ms_per_token, decode_ms_per_token, \
    overhead_ms }";

impl<'de> Deserialize<'de> for LatencySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LatencySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(LATENCY_EXPECTED)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<LatencySpec, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<f64>()? {
                    v.push(x);
                }
                Ok(LatencySpec::Table(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<LatencySpec, A::Error> {
                let mut m = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<String, f64>()? {
                    m.insert(k, v);
                }
                let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                let curve = ["base_ms", "per_item_ms"];
                let tokens = ["decode_ms_per_token", "overhead_ms", "prefill_ms_per_token"];
                if let Some(k) = keys
                    .iter()
                    .find(|k| !curve.contains(k) && !tokens.contains(k))
                {
                    return Err(de::Error::custom(format!(
                        "unknown key `{k}` in latency, expected {LATENCY_EXPECTED}"
                    )));
                }
                let get = |k: &str| m.get(k).copied();
                match (
                    get("base_ms"),
                    get("per_item_ms"),
                    get("prefill_ms_per_token"),
                    get("decode_ms_per_token"),
                ) {
                    (Some(b), Some(p), None, None) if get("overhead_ms").is_none() => {
                        Ok(LatencySpec::Curve {
                            base_ms: b,
                            per_item_ms: p,
                        })
                    }
                    (None, None, Some(p), Some(d)) => Ok(LatencySpec::Tokens {
                        prefill_ms_per_token: p,
                        decode_ms_per_token: d,
                        overhead_ms: get("overhead_ms").unwrap_or(0.0),
                    }),
                    _ => Err(de::Error::custom(format!(
                        "latency has the keys [{}], expected {LATENCY_EXPECTED}",
                        keys.join(", ")
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for LatencySpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LatencySpec::Table(v) => {
                let mut q = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    q.serialize_element(x)?;
                }
                q.end()
            }
            LatencySpec::Curve {
                base_ms,
                per_item_ms,
            } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("base_ms", base_ms)?;
                m.serialize_entry("per_item_ms", per_item_ms)?;
                m.end()
            }
            LatencySpec::Tokens {
                prefill_ms_per_token,
                decode_ms_per_token,
                overhead_ms,
            } => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("prefill_ms_per_token", prefill_ms_per_token)?;
                m.serialize_entry("decode_ms_per_token", decode_ms_per_token)?;
                m.serialize_entry("overhead_ms", overhead_ms)?;
                m.end()
            }
        }
    }
}

/// `[platform] gpu_sharing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GpuSharingSpec {
    /// An instance owns its GPU (default).
    #[default]
    Exclusive,
    /// GPUs cache models and swap them in per batch (FaaSwap).
    Swap,
}

/// `[billing] gpu_second_usd`: USD per GPU-second, or a dated preset's name
/// (`faasim_sim::GpuPricePreset`).
#[derive(Debug, Clone, PartialEq)]
pub enum GpuPriceSpec {
    /// A price, USD per GPU-second.
    Usd(f64),
    /// A preset's name.
    Preset(String),
}

impl<'de> Deserialize<'de> for GpuPriceSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = GpuPriceSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a price in USD per GPU-second, or a preset name such as \"runpod-a100-80gb\"",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<GpuPriceSpec, E> {
                Ok(GpuPriceSpec::Usd(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<GpuPriceSpec, E> {
                Ok(GpuPriceSpec::Usd(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<GpuPriceSpec, E> {
                Ok(GpuPriceSpec::Usd(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GpuPriceSpec, E> {
                Ok(GpuPriceSpec::Preset(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for GpuPriceSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GpuPriceSpec::Usd(v) => s.serialize_f64(*v),
            GpuPriceSpec::Preset(p) => s.serialize_str(p),
        }
    }
}

impl GpuPriceSpec {
    /// Price units (1e-10 USD) per GPU-second, or what is wrong.
    pub fn price_units(&self) -> Result<u64, String> {
        match self {
            GpuPriceSpec::Usd(v) => faasim_sim::billing::usd_f64_to_units(*v, 1e10)
                .ok_or_else(|| format!("must be a price in USD >= 0, got {v}")),
            GpuPriceSpec::Preset(name) => GpuPricePreset::from_name(name)
                .map(GpuPricePreset::price_units)
                .ok_or_else(|| {
                    let names: Vec<&str> = GpuPricePreset::ALL.iter().map(|p| p.name()).collect();
                    format!(
                        "unknown preset \"{name}\", expected a price in USD or one of {}",
                        names.join(", ")
                    )
                }),
        }
    }
}

fn ms(key: &str, v: f64) -> Result<SimDuration, String> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("{key}: must be a number of ms >= 0, got {v}"));
    }
    SimDuration::try_from_ms_f64(v)
        .filter(|d| d.as_micros() <= faasim_sim::TIME_LIMIT.as_micros())
        .ok_or_else(|| format!("{key}: {v} ms is more than 100 years"))
}

fn ns_per_token(key: &str, v: f64) -> Result<u64, String> {
    if !(v.is_finite() && (0.0..=1e9).contains(&v)) {
        return Err(format!(
            "{key}: must be a number of ms from 0 to 1e9, got {v}"
        ));
    }
    Ok((v * 1e6).round() as u64)
}

impl ModelEntrySpec {
    /// The engine's model, or a message naming the bad key (`models."NAME".key: ...`).
    pub fn to_model(&self, name: &str) -> Result<ModelSpec, String> {
        let k = |key: &str| format!("models.\"{name}\".{key}");
        if self.size_mb == 0 {
            return Err(format!("{}: must be at least 1", k("size_mb")));
        }
        if self.max_batch == 0 {
            return Err(format!("{}: must be at least 1", k("max_batch")));
        }
        let latency = match &self.latency {
            LatencySpec::Curve {
                base_ms,
                per_item_ms,
            } => BatchLatency::Curve {
                base: ms(&k("latency.base_ms"), *base_ms)?,
                per_item: ms(&k("latency.per_item_ms"), *per_item_ms)?,
            },
            LatencySpec::Table(v) => {
                if v.len() < self.max_batch as usize {
                    return Err(format!(
                        "{}: the table gives {} batch sizes, max_batch is {}: give one time per batch size up to max_batch",
                        k("latency"),
                        v.len(),
                        self.max_batch
                    ));
                }
                let mut out = Vec::with_capacity(v.len());
                for (i, x) in v.iter().enumerate() {
                    out.push(ms(&k(&format!("latency[{i}]")), *x)?);
                }
                BatchLatency::Table(out)
            }
            LatencySpec::Tokens {
                prefill_ms_per_token,
                decode_ms_per_token,
                overhead_ms,
            } => BatchLatency::Tokens {
                overhead: ms(&k("latency.overhead_ms"), *overhead_ms)?,
                prefill_ns_per_token: ns_per_token(
                    &k("latency.prefill_ms_per_token"),
                    *prefill_ms_per_token,
                )?,
                decode_ns_per_token: ns_per_token(
                    &k("latency.decode_ms_per_token"),
                    *decode_ms_per_token,
                )?,
            },
        };
        let kv = self.kv_cache_mb_per_token;
        if !(kv.is_finite() && (0.0..=1e6).contains(&kv)) {
            return Err(format!(
                "{}: must be a number of MB from 0 to 1e6, got {kv}",
                k("kv_cache_mb_per_token")
            ));
        }
        if kv > 0.0 && !latency.uses_tokens() {
            return Err(format!(
                "{}: only applies to a token model (latency = {{ prefill_ms_per_token, decode_ms_per_token }}); use item_memory_mb",
                k("kv_cache_mb_per_token")
            ));
        }
        if self.item_memory_mb > 0 && latency.uses_tokens() {
            return Err(format!(
                "{}: a token model holds kv_cache_mb_per_token per token instead",
                k("item_memory_mb")
            ));
        }
        Ok(ModelSpec {
            name: name.to_owned(),
            size_mb: self.size_mb,
            init: ms(&k("init_ms"), self.init_ms)?,
            latency,
            max_batch: self.max_batch,
            batch_timeout: ms(&k("batch_timeout_ms"), self.batch_timeout_ms)?,
            item_memory_mb: self.item_memory_mb,
            kv_kb_per_token: (kv * 1024.0).round() as u64,
            per_function: self.per_function,
            preloaded: match self.preloaded {
                None => None,
                Some(PreloadSpec::Dram) => Some(faasim_sim::Tier::Dram),
                Some(PreloadSpec::Ssd) => Some(faasim_sim::Tier::Ssd),
            },
        })
    }
}

/// Checks the model-serving keys of a scenario; `Err((key, message))` names the first bad
/// one (`key` is the table, the message starts with the full key path).
pub fn validate(s: &Scenario) -> Result<(), (&'static str, String)> {
    let pools = pools(s);
    let mut total: u64 = 0;
    for p in &pools {
        let k = |key: &str| format!("{}.{key}", p.key);
        if p.key != "cluster" {
            if p.workers == 0 {
                return Err(("cluster", format!("{}: must be at least 1", k("workers"))));
            }
            if p.memory_mb == 0 || p.cores == 0 {
                return Err((
                    "cluster",
                    format!(
                        "{}: worker_memory_mb and worker_cores must be at least 1",
                        p.key
                    ),
                ));
            }
        }
        total += p.workers as u64;
        let g = &p.gpu;
        if g.gpus > 0 {
            for (key, v) in [
                ("gpu_memory_mb", g.gpu_memory_mb),
                ("storage_mb_per_s", g.storage_mb_per_s),
                ("ssd_mb_per_s", g.ssd_mb_per_s),
                ("pcie_mb_per_s", g.pcie_mb_per_s),
            ] {
                if v == 0 {
                    return Err(("cluster", format!("{}: must be at least 1", k(key))));
                }
            }
        }
    }
    if total == 0 {
        return Err(("cluster.workers", "must be at least 1".into()));
    }
    if total > crate::limits::MAX_WORKERS as u64 {
        return Err((
            "cluster",
            format!(
                "the pools have {total} workers in all, more than the limit of {}",
                crate::limits::MAX_WORKERS
            ),
        ));
    }
    let largest_gpu = pools
        .iter()
        .filter(|p| p.gpu.gpus > 0 && p.workers > 0)
        .map(|p| p.gpu.gpu_memory_mb)
        .max();
    for (name, m) in &s.models {
        let model = m.to_model(name).map_err(|e| ("models", e))?;
        match largest_gpu {
            None => {
                return Err((
                    "models",
                    format!(
                        "models.\"{name}\": models need GPU workers, and no worker has a GPU (set cluster.gpus_per_worker, or a pool's)"
                    ),
                ))
            }
            Some(g) if model.size_mb > g => {
                return Err((
                    "models",
                    format!(
                        "models.\"{name}\".size_mb: {} MB is bigger than any GPU (the largest gpu_memory_mb is {g})",
                        model.size_mb
                    ),
                ))
            }
            _ => {}
        }
    }
    for (name, e) in &s.functions {
        if let Some(model) = &e.model {
            if !s.models.contains_key(model) {
                let known: Vec<&str> = s.models.keys().map(String::as_str).collect();
                return Err((
                    "functions",
                    format!(
                        "functions.\"{name}\".model: no [models.\"{model}\"] is defined (models: {})",
                        if known.is_empty() { "none".into() } else { known.join(", ") }
                    ),
                ));
            }
        }
        if let Some(slo) = e.slo_ms {
            ms(&format!("functions.\"{name}\".slo_ms"), slo).map_err(|m| ("functions", m))?;
            if slo == 0.0 {
                return Err((
                    "functions",
                    format!("functions.\"{name}\".slo_ms: must be more than 0"),
                ));
            }
        }
    }
    if let Some(p) = &s.billing.gpu_second_usd {
        p.price_units()
            .map_err(|m| ("billing", format!("billing.gpu_second_usd: {m}")))?;
    }
    if !s.models.is_empty() {
        use faasim_policies::{AutoscalingSpec, LoadBalancingSpec};
        if !matches!(s.load_balancing, LoadBalancingSpec::ClusterWide {}) {
            return Err((
                "load_balancing",
                "[models] places GPU instances cluster-wide: use load_balancing.policy = \"cluster-wide\"".into(),
            ));
        }
        if !matches!(s.autoscaling, AutoscalingSpec::PerRequest {}) {
            return Err((
                "autoscaling",
                "[models] is not modelled with an autoscaler: use autoscaling.policy = \"per-request\"".into(),
            ));
        }
        if s.platform.mode != crate::scenario::PlatformMode::Serverless {
            return Err((
                "platform.mode",
                "[models] runs on the serverless platform only".into(),
            ));
        }
    }
    Ok(())
}

/// The engine's model serving for scenario `s`: `None` when it defines no model.
pub fn serving(s: &Scenario) -> Option<Serving> {
    if s.models.is_empty() {
        return None;
    }
    let mut workers = Vec::new();
    for p in pools(s) {
        workers.extend(std::iter::repeat_n(p.gpu, p.workers as usize));
    }
    let models = s
        .models
        .iter()
        .map(|(name, m)| m.to_model(name).expect("validated"))
        .collect();
    Some(Serving::lru(ServingConfig {
        workers,
        models,
        sharing: match s.platform.gpu_sharing.unwrap_or_default() {
            GpuSharingSpec::Exclusive => GpuSharing::Exclusive,
            GpuSharingSpec::Swap => GpuSharing::Swap,
        },
        gpu_second_price: s
            .billing
            .gpu_second_usd
            .as_ref()
            .map(|p| p.price_units().expect("validated"))
            .unwrap_or(GpuPricePreset::RunpodA100.price_units()),
    }))
}

/// Whether a model of `s` is timed from its requests' token counts.
pub fn uses_tokens(s: &Scenario) -> bool {
    s.models
        .values()
        .any(|m| matches!(m.latency, LatencySpec::Tokens { .. }))
}

/// `models.csv`: one row per model, in name order.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// The model's name.
    pub model: String,
    /// Loads of its weights (instance starts; with `swap`, also every batch).
    pub loads: u64,
    /// Loads that found the weights already in GPU memory.
    pub loads_from_gpu: u64,
    /// From the worker's DRAM cache (with `swap`: batches swapped in from host memory).
    pub loads_from_dram: u64,
    /// From the worker's SSD cache.
    pub loads_from_ssd: u64,
    /// From remote storage.
    pub loads_from_remote: u64,
    /// Mean load time (queueing for the worker's loading link plus transfers), ms.
    pub load_ms_mean: f64,
    /// Longest load, ms.
    pub load_ms_max: f64,
    /// Copies in GPU memory integrated over time, copy-seconds.
    pub resident_gpu_s: f64,
    /// Copies in DRAM caches, copy-seconds.
    pub resident_dram_s: f64,
    /// Copies in SSD caches, copy-seconds.
    pub resident_ssd_s: f64,
    /// Batches run.
    pub batches: u64,
    /// Requests per batch.
    pub batch_size_mean: f64,
    /// Requests completed.
    pub completed: u64,
    /// GPU time computing its batches, s.
    pub gpu_busy_s: f64,
    /// GPU time billed (`exclusive`: instance lives in whole seconds; `swap`: batches'
    /// hold of a GPU to the millisecond), s.
    pub gpu_billed_s: f64,
    /// Their cost, USD.
    pub gpu_cost_usd: f64,
}

/// The rows of `models.csv`.
pub fn model_rows(r: &faasim_sim::ServingReport) -> Vec<ModelRow> {
    r.models
        .iter()
        .map(|m| {
            let n = m.total_loads();
            ModelRow {
                model: m.name.clone(),
                loads: n,
                loads_from_gpu: m.loads[0],
                loads_from_dram: m.loads[1],
                loads_from_ssd: m.loads[2],
                loads_from_remote: m.loads[3],
                load_ms_mean: if n == 0 {
                    0.0
                } else {
                    m.load_us as f64 / n as f64 / 1e3
                },
                load_ms_max: m.load_us_max as f64 / 1e3,
                resident_gpu_s: m.resident_us[0] as f64 / 1e6,
                resident_dram_s: m.resident_us[1] as f64 / 1e6,
                resident_ssd_s: m.resident_us[2] as f64 / 1e6,
                batches: m.batches,
                batch_size_mean: if m.batches == 0 {
                    0.0
                } else {
                    m.batch_requests as f64 / m.batches as f64
                },
                completed: m.completed,
                gpu_busy_s: m.gpu_busy_us as f64 / 1e6,
                gpu_billed_s: m.gpu_billed_ms as f64 / 1e3,
                gpu_cost_usd: m.gpu_cost.to_usd(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const GPU: &str = r#"
name = "g"
[trace]
format = "synthetic"
[cluster]
workers = 2
gpus_per_worker = 2
[models.m]
size_mb = 1000
latency = { base_ms = 10, per_item_ms = 2 }
[functions.f0]
model = "m"
"#;

    fn err(text: &str) -> String {
        crate::scenario::parse(text, Path::new("s.toml"), &[])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_gpu_scenario_parses_and_builds_its_serving() {
        let s = crate::scenario::parse(GPU, Path::new("s.toml"), &[]).unwrap();
        let sv = serving(&s).unwrap();
        assert_eq!(sv.config.workers.len(), 2);
        assert_eq!(sv.config.workers[0].gpus, 2);
        assert_eq!(sv.config.workers[0].ssd_mb_per_s, SSD_MB_PER_S);
        assert_eq!(
            sv.config.models[0].latency,
            BatchLatency::Curve {
                base: SimDuration::from_ms(10),
                per_item: SimDuration::from_ms(2),
            }
        );
        assert_eq!(sv.config.gpu_second_price, 7_600_000);
        // The scenario round-trips through TOML (the manifest's copy).
        let back: Scenario = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn bad_model_keys_are_one_line_naming_the_key() {
        let e = err(&GPU.replace("base_ms = 10", "base_ms = -1"));
        assert!(
            e.contains("models.\"m\".latency.base_ms: must be a number of ms >= 0, got -1"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = err(&GPU.replace("model = \"m\"", "model = \"nope\""));
        assert!(
            e.contains("functions.\"f0\".model: no [models.\"nope\"] is defined (models: m)"),
            "{e}"
        );
        let e = err(&GPU.replace("size_mb = 1000", "size_mb = 100000"));
        assert!(e.contains("models.\"m\".size_mb: 100000 MB is bigger than any GPU (the largest gpu_memory_mb is 81920)"), "{e}");
        let e = err(&GPU.replace("gpus_per_worker = 2", "gpus_per_worker = 0"));
        assert!(e.contains("models need GPU workers"), "{e}");
        let e = err(&GPU.replace("per_item_ms = 2", "per_itme_ms = 2"));
        assert!(e.contains("unknown key `per_itme_ms` in latency"), "{e}");
        let e = err(&GPU.replace(
            "latency = { base_ms = 10, per_item_ms = 2 }",
            "latency = [5, 6]\nmax_batch = 4",
        ));
        assert!(
            e.contains("models.\"m\".latency: the table gives 2 batch sizes, max_batch is 4"),
            "{e}"
        );
        let e = err(&format!(
            "{GPU}[billing]\ngpu_second_usd = \"runpod-b9000\"\n"
        ));
        assert!(
            e.contains("billing.gpu_second_usd: unknown preset \"runpod-b9000\""),
            "{e}"
        );
        let e = err(&format!("{GPU}[load_balancing]\npolicy = \"hermod\"\n"));
        assert!(e.contains("cluster-wide"), "{e}");
    }

    #[test]
    fn pools_take_the_cluster_keys_they_leave_out() {
        let text = r#"
name = "p"
[trace]
format = "synthetic"
[cluster]
workers = 3
worker_memory_mb = 8192
pcie_mb_per_s = 12000
[[cluster.pools]]
workers = 2
gpus_per_worker = 4
worker_memory_mb = 65536
"#;
        let s = crate::scenario::parse(text, Path::new("s.toml"), &[]).unwrap();
        let p = pools(&s);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].workers, p[0].memory_mb, p[0].gpu.gpus), (3, 8192, 0));
        assert_eq!((p[1].workers, p[1].memory_mb, p[1].gpu.gpus), (2, 65536, 4));
        assert_eq!(p[1].gpu.pcie_mb_per_s, 12_000);
        let cfg = s.engine_config(1);
        assert_eq!(cfg.workers.len(), 5);
        assert_eq!(cfg.workers[4].memory_mb, 65536);
        let e = err(&text.replace("workers = 2\n", "workers = 0\n"));
        assert!(
            e.contains("cluster.pools[0].workers: must be at least 1"),
            "{e}"
        );
        let e = err(&text.replace("gpus_per_worker = 4", "gpus_per_wroker = 4"));
        assert!(e.contains("gpus_per_wroker"), "{e}");
    }
}
