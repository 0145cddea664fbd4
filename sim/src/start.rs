//! Start types: how a new instance becomes ready. An instance *boots* (a new sandbox: the
//! cold start of [`EngineConfig::cold_start`](crate::EngineConfig)), *restores* a snapshot
//! of its function taken after an earlier boot (AWS Lambda SnapStart, Firecracker snapshots,
//! REAP, FaaSnap), or *forks* a live instance of its function on the same worker (Catalyzer's
//! sfork, SOCK's zygotes). Each is off unless the scenario asks for it: without
//! `[platform.snapshot]`, a per-function `snapshot` key or `[platform.fork]`, every start is
//! a boot, exactly as before.
//!
//! These are the settings as a scenario file writes them (`[platform.snapshot]`,
//! `[platform.fork]`, `[functions."NAME"] snapshot`); the engine resolves them per function
//! when the function registers (`sim/src/engine/start.rs` holds the mechanism).
//!
//! Defaults and their sources (each checked against the source on the date given):
//!
//! | setting | default | source |
//! |---|---|---|
//! | `restore_ms` | 8 ms | Firecracker's documented snapshot resume target, "under 8 ms" for a 2 vCPU / 512 MB microVM on m5d.metal (`docs/snapshotting/snapshot-support.md` of firecracker-microvm/firecracker, read 2026-11-30): the VMM state only, guest memory mapped lazily |
//! | `slowdown` | 1.95 | Ustiugov et al., "Benchmarking, Analysis, and Optimization of Serverless Function Snapshots" (REAP), ASPLOS'21, abstract and §4: a function started from a lazily loaded snapshot runs 95% longer, on average, than when memory-resident (page faults bring its state in one page at a time) |
//! | `create` | `"first-cold-start"` | vHive/REAP take the snapshot after the function's first boot; `"deploy"` is SnapStart's rule (Lambda initialises the function and snapshots it when a version is published; AWS Lambda developer guide, "Improving startup performance with Lambda SnapStart", read 2026-11-30) |
//! | `capacity_mb` | unlimited | SnapStart keeps a snapshot as long as its version is active |
//! | `fork_ms` | 1 ms | Du et al., "Catalyzer: Sub-millisecond Startup for Serverless Computing with Initialization-less Booting", ASPLOS'20, abstract: sfork starts an instance from a running one in under 1 ms in the best case (SOCK's zygotes, Oakes et al., ATC'18, fork a pre-initialised Python runtime in tens of ms: give `fork_ms` for them) |
//!
//! Prices of snapshots are the billing model's ([`crate::billing::SnapshotPrices`]).

use crate::dist::DistSpec;
use crate::time::SimDuration;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// How a new instance starts (the summary's `boots`, `restores` and `forks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartKind {
    /// A new sandbox initialised from scratch: the cold start.
    #[default]
    Boot,
    /// Restored from its function's snapshot.
    Restore,
    /// Forked from a ready instance of its function on the same worker.
    Fork,
}

/// How long a restore takes, as a scenario writes `restore_ms`.
///
/// ```toml
/// restore_ms = 8                                          # constant, ms
/// restore_ms = { dist = "lognormal", median_ms = 40, sigma = 0.3 }
/// restore_ms = { base_ms = 8, restore_mb_per_s = 1000 }   # base_ms + snapshot_mb / restore_mb_per_s
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RestoreSpec {
    /// A constant, ms.
    Millis(f64),
    /// The bandwidth model: `base_ms` plus the snapshot's size read at `restore_mb_per_s`
    /// (the function's `snapshot_mb`, its memory by default): an eager restore that loads
    /// the whole snapshot before the instance runs (FaaSnap's and REAP's prefetch, with the
    /// whole image as the working set), so set `slowdown = 1` with it.
    Bandwidth {
        /// Fixed part (VMM state, devices), ms (>= 0).
        base_ms: f64,
        /// Read bandwidth of the snapshot store, MB/s (> 0).
        restore_mb_per_s: f64,
    },
    /// A distribution of durations (any form `cold_start_ms` takes as a table).
    Dist(DistSpec),
}

impl Default for RestoreSpec {
    /// Firecracker's documented resume target (see the module table).
    fn default() -> Self {
        RestoreSpec::Millis(8.0)
    }
}

impl RestoreSpec {
    /// Checks the parameters, naming the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            RestoreSpec::Millis(ms) => {
                if ms.is_finite() && *ms >= 0.0 {
                    Ok(())
                } else {
                    Err(format!("must be a number of ms >= 0, got {ms}"))
                }
            }
            RestoreSpec::Bandwidth {
                base_ms,
                restore_mb_per_s,
            } => {
                if !(base_ms.is_finite() && *base_ms >= 0.0) {
                    return Err(format!(
                        "`base_ms` must be a number of ms >= 0, got {base_ms}"
                    ));
                }
                if !(restore_mb_per_s.is_finite() && *restore_mb_per_s > 0.0) {
                    return Err(format!(
                        "`restore_mb_per_s` must be a bandwidth > 0 MB/s, got {restore_mb_per_s}"
                    ));
                }
                Ok(())
            }
            RestoreSpec::Dist(d) => d.validate(),
        }
    }

    /// The distribution to sample, or `None` for the bandwidth model (a constant per
    /// function, [`RestoreSpec::bandwidth_time`]).
    pub fn to_dist(&self) -> Option<DistSpec> {
        match self {
            RestoreSpec::Millis(ms) => Some(DistSpec::Constant { value_ms: *ms }),
            RestoreSpec::Bandwidth { .. } => None,
            RestoreSpec::Dist(d) => Some(d.clone()),
        }
    }

    /// The bandwidth model's restore time of a snapshot of `snapshot_mb`: `base_ms +
    /// snapshot_mb / restore_mb_per_s` seconds, to the nearest microsecond. `None` for the
    /// other forms, or when it is out of range.
    pub fn bandwidth_time(&self, snapshot_mb: u32) -> Option<SimDuration> {
        match self {
            RestoreSpec::Bandwidth {
                base_ms,
                restore_mb_per_s,
            } => {
                SimDuration::try_from_ms_f64(base_ms + snapshot_mb as f64 / restore_mb_per_s * 1e3)
            }
            _ => None,
        }
    }
}

/// The two table forms of `restore_ms`, told apart by their keys.
#[derive(Deserialize)]
#[serde(untagged)]
enum RestoreTable {
    Bandwidth(BandwidthTable),
    Dist(DistSpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BandwidthTable {
    base_ms: f64,
    restore_mb_per_s: f64,
}

impl<'de> Deserialize<'de> for RestoreSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RestoreSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "milliseconds (a number), the bandwidth model { base_ms = 8, \
                     restore_mb_per_s = 1000 }, or a distribution such as { dist = \
                     \"lognormal\", median_ms = 40, sigma = 0.3 }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let s = RestoreSpec::Millis(v);
                s.validate().map_err(E::custom)?;
                Ok(s)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = RestoreTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map_err(|_| {
                        de::Error::custom(
                            "a restore_ms table is either the bandwidth model { base_ms, \
                             restore_mb_per_s } or a distribution { dist = \"constant\" | \
                             \"exponential\" | \"lognormal\" | \"normal\" | \"empirical\", ... } \
                             with that distribution's keys",
                        )
                    })?;
                let s = match t {
                    RestoreTable::Bandwidth(b) => RestoreSpec::Bandwidth {
                        base_ms: b.base_ms,
                        restore_mb_per_s: b.restore_mb_per_s,
                    },
                    RestoreTable::Dist(d) => RestoreSpec::Dist(d),
                };
                s.validate().map_err(de::Error::custom)?;
                Ok(s)
            }
        }
        d.deserialize_any(V)
    }
}

/// When a function's snapshot is first taken (`[platform.snapshot] create`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotCreate {
    /// After the function's first boot, when that instance becomes ready (vHive, REAP): the
    /// first start of each function boots.
    #[default]
    FirstColdStart,
    /// When the function is deployed (SnapStart: when a version is published), so even its
    /// first start restores. faasim deploys a function when it registers it: when the
    /// trace declares it, at the latest at its first invocation; the boot that takes the
    /// snapshot happens offline, outside the run.
    Deploy,
}

fn yes() -> bool {
    true
}

fn default_slowdown() -> f64 {
    1.95
}

/// `[platform.snapshot]`: snapshot restores. A start that can restore does so (after a
/// fork, which is preferred when possible); one that cannot boots. Every boot of a
/// function whose snapshot is not in the store takes one when it becomes ready (the state
/// after its initialisation), so an evicted snapshot is taken again at the function's
/// next boot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotConfig {
    /// Whether functions restore from snapshots, unless their own `snapshot` key says
    /// otherwise. True when the table is given; the engine's default (no table) is false.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How long a restore takes (module table: 8 ms).
    pub restore_ms: RestoreSpec,
    /// When a function's snapshot is first taken.
    pub create: SnapshotCreate,
    /// The first execution after a lazy restore runs this many times longer (>= 1, in
    /// thousandths): its pages fault in from the snapshot (REAP: 1.95). 1 = an eager restore
    /// (REAP's or FaaSnap's prefetch, or the bandwidth model). It multiplies the whole
    /// execution, as REAP measured it on functions of tens to hundreds of ms; for long
    /// executions, whose faults are bounded by the working set, it overstates the cost.
    #[serde(default = "default_slowdown")]
    pub slowdown: f64,
    /// The snapshot store's capacity, MB; when a new snapshot does not fit, the least
    /// recently used ones (by creation or restore) are evicted. Absent: unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_mb: Option<u64>,
    /// Whether the provider charges for snapshots at the billing model's prices (AWS
    /// SnapStart for Python and .NET); false for runtimes it does not charge (Java).
    #[serde(default = "yes")]
    pub billed: bool,
}

impl Default for SnapshotConfig {
    /// Off; the other values are the defaults a `[platform.snapshot]` table starts from.
    fn default() -> Self {
        SnapshotConfig {
            enabled: false,
            restore_ms: RestoreSpec::default(),
            create: SnapshotCreate::default(),
            slowdown: default_slowdown(),
            capacity_mb: None,
            billed: true,
        }
    }
}

impl SnapshotConfig {
    /// Checks every value, naming the first bad key.
    pub fn validate(&self) -> Result<(), String> {
        self.restore_ms
            .validate()
            .map_err(|e| format!("restore_ms: {e}"))?;
        slowdown_milli(self.slowdown).map_err(|e| format!("slowdown: {e}"))?;
        if self.capacity_mb == Some(0) {
            return Err("capacity_mb must be at least 1 (leave it out for no limit)".into());
        }
        Ok(())
    }
}

/// A slowdown factor in thousandths: `Err` unless finite, at least 1 and a whole number of
/// thousandths.
pub fn slowdown_milli(x: f64) -> Result<u32, String> {
    let m = (x * 1000.0).round();
    if !(x.is_finite() && x >= 1.0 && m < u32::MAX as f64 && m / 1000.0 == x) {
        return Err(format!(
            "must be a factor >= 1 with at most three decimals, got {x}"
        ));
    }
    Ok(m as u32)
}

/// `[functions."NAME"] snapshot`: `true` or `false`, or a table of what differs for this
/// function (a table enables snapshots unless it says `enabled = false`).
///
/// ```toml
/// [functions."resize"]
/// snapshot = { snapshot_mb = 180, slowdown = 1.2 }
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSnapshot {
    /// Restore this function from snapshots (overrides `[platform.snapshot] enabled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Size of the function's snapshot, MB: what it takes in the store and what the
    /// bandwidth model reads (default: the function's memory, a full memory image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_mb: Option<u32>,
    /// The function's own restore time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_ms: Option<RestoreSpec>,
    /// The function's own first-execution slowdown after a restore.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<f64>,
}

impl FunctionSnapshot {
    /// These settings, with what they leave unset taken from `wider`.
    pub fn or(&self, wider: &FunctionSnapshot) -> FunctionSnapshot {
        FunctionSnapshot {
            enabled: self.enabled.or(wider.enabled),
            snapshot_mb: self.snapshot_mb.or(wider.snapshot_mb),
            restore_ms: self.restore_ms.clone().or_else(|| wider.restore_ms.clone()),
            slowdown: self.slowdown.or(wider.slowdown),
        }
    }

    /// Checks every value set, naming the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if self.snapshot_mb == Some(0) {
            return Err("`snapshot.snapshot_mb` must be at least 1".into());
        }
        if let Some(r) = &self.restore_ms {
            r.validate()
                .map_err(|e| format!("`snapshot.restore_ms`: {e}"))?;
        }
        if let Some(s) = self.slowdown {
            slowdown_milli(s).map_err(|e| format!("`snapshot.slowdown`: {e}"))?;
        }
        Ok(())
    }

    /// `true` / `false` or a table, as a function entry writes it.
    pub fn deserialize_entry<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<FunctionSnapshot>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FunctionSnapshot;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "true, false, or a table { enabled, snapshot_mb, restore_ms, slowdown }",
                )
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(FunctionSnapshot {
                    enabled: Some(v),
                    ..Default::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let mut s =
                    FunctionSnapshot::deserialize(de::value::MapAccessDeserializer::new(map))?;
                s.enabled.get_or_insert(true);
                Ok(s)
            }
        }
        d.deserialize_any(V).map(Some)
    }
}

fn default_fork_ms() -> RestoreSpec {
    RestoreSpec::Millis(1.0)
}

/// Where a start that needs a new instance goes when forks are on (`[platform.fork]
/// placement`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ForkPlacement {
    /// Fork whenever a worker holding a ready instance of the function has room: locality
    /// (every instance of a function on few workers) traded for start time. Otherwise the
    /// placement policy chooses and the instance restores or boots there.
    #[default]
    PreferFork,
    /// The placement policy chooses as always; the instance forks only if its worker
    /// happens to hold a ready instance of the function.
    Policy,
}

/// `[platform.fork]`: a new instance is forked from a ready instance of the same function
/// on the same worker (the template), in `fork_ms`. The template keeps running; the child
/// holds its own memory (copy-on-write sharing is not modelled), and with per-request load
/// balancing the balancer's worker decides (`placement` does not apply).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForkConfig {
    /// Whether instances fork (true when the table is given).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How long a fork takes: a number of ms or a distribution (module table: 1 ms).
    #[serde(default = "default_fork_ms")]
    pub fork_ms: RestoreSpec,
    /// Whether a worker holding a template is preferred over the placement policy's choice.
    pub placement: ForkPlacement,
}

impl Default for ForkConfig {
    /// Off; the other values are the defaults a `[platform.fork]` table starts from.
    fn default() -> Self {
        ForkConfig {
            enabled: false,
            fork_ms: default_fork_ms(),
            placement: ForkPlacement::default(),
        }
    }
}

impl ForkConfig {
    /// Checks every value, naming the first bad key.
    pub fn validate(&self) -> Result<(), String> {
        if matches!(self.fork_ms, RestoreSpec::Bandwidth { .. }) {
            return Err(
                "fork_ms: a fork copies no snapshot: give a number or a distribution".into(),
            );
        }
        self.fork_ms.validate().map_err(|e| format!("fork_ms: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a number or a flat `key = number, ...` table with serde's value deserializers
    /// (the sim crate does not depend on TOML; the scenario tests parse real files).
    fn restore(text: &str) -> Result<RestoreSpec, String> {
        use de::value::{F64Deserializer, MapDeserializer};
        if let Ok(x) = text.parse::<f64>() {
            return RestoreSpec::deserialize(F64Deserializer::<de::value::Error>::new(x))
                .map_err(|e| e.to_string());
        }
        let pairs: Vec<(String, f64)> = text
            .split(',')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.trim().to_owned(), v.trim().parse().unwrap())
            })
            .collect();
        RestoreSpec::deserialize(MapDeserializer::<_, de::value::Error>::new(
            pairs.into_iter(),
        ))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn restore_forms_parse_and_bad_ones_are_named() {
        assert_eq!(restore("12").unwrap(), RestoreSpec::Millis(12.0));
        assert_eq!(
            restore("base_ms = 5, restore_mb_per_s = 1000").unwrap(),
            RestoreSpec::Bandwidth {
                base_ms: 5.0,
                restore_mb_per_s: 1000.0
            }
        );
        let e = restore("base_ms = 5, restore_mb_per_s = 0").unwrap_err();
        assert!(e.contains("restore_mb_per_s"), "{e}");
        let e = restore("base_ms = 5, restore_mb_per_sec = 10").unwrap_err();
        assert!(e.contains("bandwidth model"), "{e}");
        let e = restore("-1").unwrap_err();
        assert!(e.contains(">= 0"), "{e}");
    }

    #[test]
    fn bandwidth_model_reads_the_snapshot() {
        // 5 ms + 256 MB / 1000 MB/s = 5 + 256 ms = 261 ms.
        let r = RestoreSpec::Bandwidth {
            base_ms: 5.0,
            restore_mb_per_s: 1000.0,
        };
        assert_eq!(r.bandwidth_time(256), Some(SimDuration(261_000)));
        assert_eq!(r.to_dist(), None);
        assert_eq!(RestoreSpec::Millis(8.0).bandwidth_time(256), None);
    }

    #[test]
    fn slowdown_is_exact_in_thousandths() {
        assert_eq!(slowdown_milli(1.95), Ok(1950));
        assert_eq!(slowdown_milli(1.0), Ok(1000));
        assert!(slowdown_milli(0.5).is_err());
        assert!(slowdown_milli(1.0001).is_err());
        assert!(slowdown_milli(f64::NAN).is_err());
    }

    #[test]
    fn function_entries_merge_field_by_field() {
        let own = FunctionSnapshot {
            snapshot_mb: Some(100),
            ..Default::default()
        };
        let all = FunctionSnapshot {
            enabled: Some(true),
            snapshot_mb: Some(50),
            slowdown: Some(1.5),
            ..Default::default()
        };
        let m = own.or(&all);
        assert_eq!(m.enabled, Some(true));
        assert_eq!(m.snapshot_mb, Some(100));
        assert_eq!(m.slowdown, Some(1.5));
        assert!(FunctionSnapshot {
            snapshot_mb: Some(0),
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
