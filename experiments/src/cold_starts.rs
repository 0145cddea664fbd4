//! Cold starts as a scenario gives them: a number, a preset or a distribution (the engine's
//! [`ColdStartSpec`]), or drawn from production data:
//!
//! ```toml
//! [platform]
//! cold_start_ms = { from = "huawei2025-cold-starts", path = ["cold_start/R2/day_29.csv", "cold_start/R2/day_30.csv"], by = "pool" }
//! ```
//!
//! reads the cold-start table of Huawei's 2025 release ([`faasim_traces::huawei2025`]) and
//! draws each start of a function from the recorded starts of its **group**:
//!
//! | `by` | a function's group | needs |
//! |---|---|---|
//! | `"function"` (default) | the rows of the function itself (`funcName---userID---poolName`) | |
//! | `"pool"` | the rows of every function of its pod pool (the `poolNN-CPU-MEM` its name ends with) | |
//! | `"runtime"` | the rows of every function of its runtime language | `runtimes`, the release's runtime and trigger table (Region 2) |
//!
//! A start is one recorded row drawn uniformly from the group ([`faasim_sim::Recorded`]):
//! its five parts (pod allocation, code deployment, dependency deployment, scheduling, other)
//! are those of one production cold start, and the latency is their sum. A whole row rather
//! than each part drawn on its own keeps the parts' dependence (see [`faasim_sim::Recorded`]
//! for why); each part still follows its group's recorded distribution.
//!
//! **Fallback.** A function with no group (no row of its own with `by = "function"`, a name
//! that is not `funcName---userID---poolName` or a pool without rows with `by = "pool"`, a
//! function the runtime table does not list with `by = "runtime"`) draws from **every row of
//! the table**: the region's cold starts as a whole, the distribution the paper's Fig. 10a
//! plots. The groups are resolved by name before the run, for the functions the tables
//! name (the cold-start table's, and the runtime table's): a function the trace invokes
//! that neither table names falls back even with `by = "pool"`.
//!
//! The engine reads no file: [`apply`] reads the table (once per process for the same
//! files, see [`load`]) and hands the engine one [`DistSpec::Recorded`] per function. The
//! run writes the mean of every part over its cold starts in `cold_starts.csv`.
//!
//! [`parse_cold_start`] is the one place a TOML value becomes a cold start; every key that
//! takes a cold start calls it.

use faasim_sim::{ColdStartSpec, DistSpec, EngineConfig, Recorded};
use faasim_traces::huawei2025::{self, ColdStartTable, RuntimeTable};
use faasim_traces::{PathList, TraceError};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// A cold start as a scenario gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ColdStartSource {
    /// A number of ms, a preset or a distribution table.
    Model(ColdStartSpec),
    /// Drawn from a table of recorded cold starts.
    Table(TableSpec),
}

impl Default for ColdStartSource {
    fn default() -> Self {
        ColdStartSource::Model(ColdStartSpec::default())
    }
}

impl From<ColdStartSpec> for ColdStartSource {
    fn from(s: ColdStartSpec) -> Self {
        ColdStartSource::Model(s)
    }
}

impl ColdStartSource {
    /// The model, if this is not a table.
    pub fn model(&self) -> Option<&ColdStartSpec> {
        match self {
            ColdStartSource::Model(m) => Some(m),
            ColdStartSource::Table(_) => None,
        }
    }
}

/// The tables a cold start can be drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableKind {
    /// The cold-start table of Huawei's 2025 release.
    #[serde(rename = "huawei2025-cold-starts")]
    Huawei2025ColdStarts,
}

/// How functions are grouped to draw their cold starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupBy {
    /// Each function's own rows (the default).
    #[default]
    Function,
    /// The rows of the function's pod pool.
    Pool,
    /// The rows of the function's runtime language.
    Runtime,
}

/// `{ from = "huawei2025-cold-starts", path = ..., by = ..., runtimes = ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Which table.
    pub from: TableKind,
    /// Its files (a path or a list), relative to the scenario file's folder.
    pub path: PathList,
    /// The groups (default `"function"`).
    #[serde(default)]
    pub by: GroupBy,
    /// The release's runtime and trigger table (required with `by = "runtime"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtimes: Option<PathBuf>,
}

/// Turns a TOML value into a cold start: a number (ms), a preset name, a distribution table
/// (`{ dist = ... }`) or a recorded table (`{ from = ... }`). The error says what was
/// expected or which key is wrong.
pub fn parse_cold_start(value: toml::Value) -> Result<ColdStartSource, String> {
    let is_table = value.as_table().is_some_and(|t| t.contains_key("from"));
    if !is_table {
        return ColdStartSpec::deserialize(value)
            .map(ColdStartSource::Model)
            .map_err(|e| e.message().trim().to_owned());
    }
    let spec = TableSpec::deserialize(value).map_err(|e| e.message().trim().to_owned())?;
    if spec.path.is_empty() {
        return Err("`path` must name at least one file of the cold-start table".into());
    }
    if spec.by == GroupBy::Runtime && spec.runtimes.is_none() {
        return Err(
            "by = \"runtime\" needs `runtimes`, the release's runtime and trigger \
                    table (df_funcID_runtime_triggerType.csv): the cold-start table has no \
                    runtime"
                .into(),
        );
    }
    Ok(ColdStartSource::Table(spec))
}

impl<'de> Deserialize<'de> for ColdStartSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        parse_cold_start(v).map_err(serde::de::Error::custom)
    }
}

/// A table that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {source}")]
pub struct ColdStartError {
    /// The scenario key that names the table.
    pub key: String,
    /// What is wrong with the table.
    pub source: TraceError,
}

/// A table read and grouped: the distribution of every group, ready for the engine.
#[derive(Debug)]
pub struct Groups {
    by: GroupBy,
    /// Every row: the fallback.
    all: Recorded,
    /// A group's rows, by group name (function id, pool or runtime).
    groups: BTreeMap<String, Recorded>,
    /// Every function either table names, with its group (`None`: it falls back).
    functions: BTreeMap<String, Option<String>>,
    /// The runtime of each function the runtime table lists.
    runtimes: BTreeMap<String, String>,
}

impl Groups {
    /// Groups `table`'s rows `by` function, pool or runtime (`runtimes` needed for the
    /// last). An error if the table has no row.
    pub fn new(
        table: &ColdStartTable,
        by: GroupBy,
        runtimes: Option<&RuntimeTable>,
    ) -> Result<Self, String> {
        let parts: Vec<String> = huawei2025::PARTS.iter().map(|p| p.to_string()).collect();
        let recorded = |rows: &mut dyn Iterator<Item = &huawei2025::ColdStart>| {
            let values: Vec<u64> = rows.flat_map(|s| s.parts_us).collect();
            Recorded::new(parts.clone(), values)
        };
        if table.starts.is_empty() {
            return Err("the cold-start table has no row".into());
        }
        let all = recorded(&mut table.starts.iter())?;
        let runtime_of: BTreeMap<String, String> = runtimes
            .map(|r| {
                r.functions()
                    .into_iter()
                    .map(|(id, i)| (id.to_owned(), i.runtime.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let key_of = |start: &huawei2025::ColdStart| -> Option<String> {
            match by {
                GroupBy::Function => Some(table.functions[start.function as usize].clone()),
                GroupBy::Pool => Some(table.pools[start.pool as usize].name.clone()),
                GroupBy::Runtime => runtime_of
                    .get(&table.functions[start.function as usize])
                    .cloned(),
            }
        };
        let mut rows: BTreeMap<String, Vec<&huawei2025::ColdStart>> = BTreeMap::new();
        for s in &table.starts {
            if let Some(k) = key_of(s) {
                rows.entry(k).or_default().push(s);
            }
        }
        let mut groups = BTreeMap::new();
        for (k, v) in rows {
            groups.insert(k, recorded(&mut v.into_iter())?);
        }
        let mut g = Groups {
            by,
            all,
            groups,
            functions: BTreeMap::new(),
            runtimes: runtime_of,
        };
        let names: Vec<String> = table
            .functions
            .iter()
            .cloned()
            .chain(g.runtimes.keys().cloned())
            .collect();
        for name in names {
            let group = g.group_of(&name);
            g.functions.insert(name, group);
        }
        Ok(g)
    }

    /// The group `function` draws from, `None` if it falls back to every row.
    pub fn group_of(&self, function: &str) -> Option<String> {
        let key = match self.by {
            GroupBy::Function => function.to_owned(),
            GroupBy::Pool => huawei2025::parse_func_id(function)?.2.name,
            GroupBy::Runtime => self.runtimes.get(function)?.clone(),
        };
        self.groups.contains_key(&key).then_some(key)
    }

    /// The distribution of `function`'s cold starts: its group's rows, or every row.
    pub fn dist_for(&self, function: &str) -> DistSpec {
        let r = match self.group_of(function) {
            Some(g) => self.groups[&g].clone(),
            None => self.all.clone(),
        };
        DistSpec::Recorded(r)
    }

    /// Every row: the distribution of a function without a group.
    pub fn fallback(&self) -> DistSpec {
        DistSpec::Recorded(self.all.clone())
    }

    /// The groups, by name, with their rows.
    pub fn groups(&self) -> &BTreeMap<String, Recorded> {
        &self.groups
    }

    /// Every function the tables name that has a group, with its distribution, by name.
    pub fn named(&self) -> Vec<(String, DistSpec)> {
        self.functions
            .iter()
            .filter_map(|(name, g)| {
                let g = g.as_ref()?;
                Some((name.clone(), DistSpec::Recorded(self.groups[g].clone())))
            })
            .collect()
    }
}

/// What identifies a table's files on disk: path, length and modification time of each.
type Stamp = Vec<(PathBuf, u64, Option<std::time::SystemTime>)>;

fn stamp(paths: &[PathBuf]) -> Stamp {
    paths
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).ok();
            (
                p.clone(),
                m.as_ref().map_or(0, |m| m.len()),
                m.and_then(|m| m.modified().ok()),
            )
        })
        .collect()
}

/// Tables read by this process (a sweep's runs share one), the last few kept.
type Cache = Mutex<Vec<((Stamp, GroupBy), Arc<Groups>)>>;
const CACHED_TABLES: usize = 4;

/// Reads and groups the table `spec` names (paths relative to `base_dir`); `key` names the
/// scenario key in errors. The same files (unchanged since: same length and modification
/// time) and grouping are read once per process.
pub fn load(spec: &TableSpec, base_dir: &Path, key: &str) -> Result<Arc<Groups>, ColdStartError> {
    let err = |source| ColdStartError {
        key: key.to_owned(),
        source,
    };
    let mut paths = spec.path.resolved(base_dir);
    let runtimes = spec.runtimes.as_ref().map(|r| base_dir.join(r));
    let cache_key = {
        let mut all = paths.clone();
        all.extend(runtimes.clone());
        (stamp(&all), spec.by)
    };
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some((_, g)) = cache
        .lock()
        .map_err(|_| err(content(&paths, "the table cache is poisoned")))?
        .iter()
        .find(|(k, _)| *k == cache_key)
    {
        return Ok(g.clone());
    }
    let table = ColdStartTable::read(&paths).map_err(err)?;
    let runtime_table = match &runtimes {
        Some(p) => Some(RuntimeTable::read(p).map_err(err)?),
        None => None,
    };
    let groups = Groups::new(&table, spec.by, runtime_table.as_ref()).map_err(|m| {
        paths.truncate(1);
        err(content(&paths, &m))
    })?;
    let groups = Arc::new(groups);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHED_TABLES {
            c.remove(0);
        }
        c.push((cache_key, groups.clone()));
    }
    Ok(groups)
}

fn content(paths: &[PathBuf], message: &str) -> TraceError {
    TraceError::Content {
        path: paths.first().cloned().unwrap_or_default(),
        message: message.to_owned(),
    }
}

/// Puts the scenario's cold starts into `cfg`: models as they are, tables read and grouped.
/// `default` is `[platform] cold_start_ms`, `per_function` the `[platform.function_cold_start_ms]`
/// entries (they come first in `cfg.cold_start_per_function`, so they win); a scenario-wide
/// table adds, after them, every function the tables name with its group.
pub fn apply(
    default: &ColdStartSource,
    per_function: &BTreeMap<String, ColdStartSource>,
    base_dir: &Path,
    cfg: &mut EngineConfig,
) -> Result<(), ColdStartError> {
    let mut named = Vec::with_capacity(per_function.len());
    for (name, source) in per_function {
        let d = match source {
            ColdStartSource::Model(m) => m.to_dist(),
            ColdStartSource::Table(t) => {
                load(t, base_dir, "platform.function_cold_start_ms")?.dist_for(name)
            }
        };
        named.push((name.clone(), d));
    }
    match default {
        ColdStartSource::Model(m) => cfg.cold_start = m.to_dist(),
        ColdStartSource::Table(t) => {
            let g = load(t, base_dir, "platform.cold_start_ms")?;
            cfg.cold_start = g.fallback();
            named.extend(
                g.named()
                    .into_iter()
                    .filter(|(n, _)| !per_function.contains_key(n)),
            );
        }
    }
    cfg.cold_start_per_function = named;
    Ok(())
}

/// The files a cold start reads (for checksums of a sweep's inputs).
pub fn input_files(source: &ColdStartSource, base_dir: &Path) -> Vec<PathBuf> {
    match source {
        ColdStartSource::Model(_) => vec![],
        ColdStartSource::Table(t) => {
            let mut v = t.path.resolved(base_dir);
            v.extend(t.runtimes.iter().map(|r| base_dir.join(r)));
            v
        }
    }
}
