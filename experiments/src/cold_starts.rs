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
    pub source: Box<TraceError>,
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
        source: Box::new(source),
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

/// Reads the tables of recorded cold starts that `[functions."NAME"]` entries name: a
/// function's own entry draws from its group of the table; a `"*"` entry gives every
/// function its group (as a table in `[platform] cold_start_ms` does), below the names
/// already set per function.
pub fn apply_functions(
    entries: &BTreeMap<String, crate::scenario::FunctionEntrySpec>,
    base_dir: &Path,
    cfg: &mut EngineConfig,
) -> Result<(), ColdStartError> {
    for (name, entry) in entries {
        let Some(ColdStartSource::Table(t)) = &entry.cold_start_ms else {
            continue;
        };
        let key = "functions.cold_start_ms";
        if name == "*" {
            let g = load(t, base_dir, key)?;
            cfg.functions.all.cold_start = Some(g.fallback());
            let named: Vec<_> = g
                .named()
                .into_iter()
                .filter(|(n, _)| !cfg.cold_start_per_function.iter().any(|(m, _)| m == n))
                .collect();
            cfg.cold_start_per_function.extend(named);
        } else if let Some(slot) = cfg.functions.named.iter_mut().find(|(n, _)| n == name) {
            slot.1.cold_start = Some(load(t, base_dir, key)?.dist_for(name));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load;
    use std::fs;

    fn parse(text: &str) -> Result<ColdStartSource, String> {
        let t: toml::Table = toml::from_str(&format!("v = {text}")).unwrap();
        parse_cold_start(t["v"].clone())
    }

    #[test]
    fn every_form_parses_and_bad_tables_say_what_is_wrong() {
        assert_eq!(
            parse("250").unwrap(),
            ColdStartSource::Model(ColdStartSpec::Millis(250.0))
        );
        assert!(matches!(
            parse("\"firecracker\"").unwrap(),
            ColdStartSource::Model(ColdStartSpec::Preset(_))
        ));
        assert!(matches!(
            parse("{ dist = \"exponential\", mean_ms = 5 }").unwrap(),
            ColdStartSource::Model(ColdStartSpec::Dist(_))
        ));
        let t =
            parse("{ from = \"huawei2025-cold-starts\", path = [\"a.csv\", \"b.csv\"] }").unwrap();
        let ColdStartSource::Table(spec) = &t else {
            panic!("{t:?}")
        };
        assert_eq!((spec.by, spec.path.len()), (GroupBy::Function, 2));
        // Round trip through the manifest's TOML.
        let back: toml::Table =
            toml::from_str(&format!("v = {}", toml::Value::try_from(&t).unwrap())).unwrap();
        assert_eq!(parse_cold_start(back["v"].clone()).unwrap(), t);

        let e = parse("{ from = \"huawei2025-cold-starts\", path = \"a\", by = \"region\" }")
            .unwrap_err();
        assert!(
            e.contains("unknown variant `region`, expected one of `function`, `pool`, `runtime`"),
            "{e}"
        );
        let e = parse("{ from = \"azure\", path = \"a\" }").unwrap_err();
        assert!(
            e.contains("unknown variant `azure`, expected `huawei2025-cold-starts`"),
            "{e}"
        );
        let e = parse("{ from = \"huawei2025-cold-starts\" }").unwrap_err();
        assert!(e.contains("missing field `path`"), "{e}");
        let e =
            parse("{ from = \"huawei2025-cold-starts\", path = \"a\", region = 1 }").unwrap_err();
        assert!(e.contains("unknown field `region`"), "{e}");
        let e = parse("{ from = \"huawei2025-cold-starts\", path = [] }").unwrap_err();
        assert!(e.contains("`path` must name at least one file"), "{e}");
        let e = parse("{ from = \"huawei2025-cold-starts\", path = \"a\", by = \"runtime\" }")
            .unwrap_err();
        assert!(e.contains("by = \"runtime\" needs `runtimes`"), "{e}");
        let e = parse("-5").unwrap_err();
        assert!(e.contains("cold start must be >= 0 milliseconds"), "{e}");
    }

    /// Three functions, one recorded start each (seconds: pod allocation, code, dependencies,
    /// scheduling; total): A = 0.1 + 0.2 + 0.3 + 0.4 of 1.05 (other 0.05), B = 0.5 + 0 + 0 +
    /// 1.5 = 2.0, both in pool22; C = 1 + 0.5 + 0.5 + 1 = 3.0 in pool24.
    const TABLE: &str = "funcName,userID,podID,totalCost_cold_start,podAllocationCost,deployCodeCost,deployDependencyCost,schedulingCost\n\
        1,1,pool22-300-128-01,1.05,0.1,0.2,0.3,0.4\n\
        2,1,pool22-300-128-02,2.0,0.5,0,0,1.5\n\
        3,1,pool24-600-512-03,3.0,1.0,0.5,0.5,1.0\n";
    const A: &str = "1---1---pool22-300-128";
    const B: &str = "2---1---pool22-300-128";
    const C: &str = "3---1---pool24-600-512";
    const D: &str = "4---1---pool22-300-128";

    fn groups(by: GroupBy, runtimes: Option<&str>) -> Groups {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cs.csv");
        fs::write(&p, TABLE).unwrap();
        let table = ColdStartTable::read(&[p]).unwrap();
        let rt = runtimes.map(|text| {
            let p = dir.path().join("rt.csv");
            fs::write(&p, text).unwrap();
            RuntimeTable::read(&p).unwrap()
        });
        Groups::new(&table, by, rt.as_ref()).unwrap()
    }

    fn mean(d: &DistSpec) -> f64 {
        d.mean_ms()
    }

    #[test]
    fn groups_by_function_pool_and_runtime_with_the_all_rows_fallback() {
        // Every row: (1050 + 2000 + 3000) / 3 ms.
        let all = 6050.0 / 3.0;
        let g = groups(GroupBy::Function, None);
        assert_eq!(mean(&g.dist_for(A)), 1050.0);
        assert_eq!(mean(&g.dist_for(C)), 3000.0);
        assert_eq!(g.group_of(D), None);
        assert_eq!(mean(&g.dist_for(D)), all);
        assert_eq!(mean(&g.fallback()), all);
        assert_eq!(g.named().len(), 3);

        // Pool22 holds A's and B's rows: (1050 + 2000) / 2; D is in pool22 by its name even
        // without a row of its own; a name that is not funcName---userID---pool falls back.
        let g = groups(GroupBy::Pool, None);
        assert_eq!(mean(&g.dist_for(A)), 1525.0);
        assert_eq!(mean(&g.dist_for(D)), 1525.0);
        assert_eq!(mean(&g.dist_for(C)), 3000.0);
        assert_eq!(mean(&g.dist_for("f1")), all);
        assert_eq!(mean(&g.dist_for("9---9---pool99-100-64")), all);
        assert_eq!(g.groups().len(), 2);

        // A and C run Python3, B Java; D has a runtime but no row: Python3's group.
        let rt = "funcID,runtime,triggerType-invocationType\n\
            1---1---pool22-300-128,Python3,APIG-S\n\
            2---1---pool22-300-128,Java,TIMER-A\n\
            3---1---pool24-600-512,Python3,OBS-A\n\
            4---1---pool22-300-128,Python3,APIG-S\n";
        let g = groups(GroupBy::Runtime, Some(rt));
        assert_eq!(mean(&g.dist_for(A)), 2025.0);
        assert_eq!(mean(&g.dist_for(B)), 2000.0);
        assert_eq!(mean(&g.dist_for(D)), 2025.0);
        // Not in the runtime table: every row.
        assert_eq!(mean(&g.dist_for("5---1---pool22-300-128")), all);
        // The runtime table's functions are named too: D included.
        assert_eq!(
            g.named()
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            vec![A, B, C, D]
        );
    }

    /// Runs a scenario in `dir` (trace: A at 0 and 10 s, B at 20 s, D at 30 s, 100 ms each;
    /// no keep-alive, so every request starts cold) with `cold_start` and returns
    /// `cold_starts.csv`.
    fn run_with(dir: &Path, cold_start: &str, requests: &str) -> Result<String, String> {
        fs::write(dir.join("cs.csv"), TABLE).unwrap();
        fs::write(
            dir.join("trace.csv"),
            format!("timestamp_ms,function,duration_ms,memory_mb\n{requests}"),
        )
        .unwrap();
        fs::write(
            dir.join("s.toml"),
            format!(
                "name = \"t\"\n[trace]\nformat = \"csv\"\npath = \"trace.csv\"\n\
                 [platform]\ncold_start_ms = {cold_start}\n[keep_alive]\npolicy = \"none\"\n"
            ),
        )
        .unwrap();
        let loaded = load(&dir.join("s.toml"), &[]).map_err(|e| e.to_string())?;
        let out = dir.join("out");
        crate::runner::run_scenario(&loaded, 1, &out).map_err(|e| e.to_string())?;
        Ok(fs::read_to_string(out.join("cold_starts.csv")).unwrap())
    }

    #[test]
    fn each_start_is_its_functions_recorded_row_and_the_run_reports_the_parts() {
        let dir = tempfile::tempdir().unwrap();
        let requests =
            format!("0,{A},100,128\n10000,{A},100,128\n20000,{B},100,128\n30000,{D},100,128\n");
        let csv = run_with(
            dir.path(),
            "{ from = \"huawei2025-cold-starts\", path = \"cs.csv\" }",
            &requests,
        )
        .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "function_id,function,starts,mean_ms,max_ms,pod_allocation_mean_ms,deploy_code_mean_ms,deploy_dependency_mean_ms,scheduling_mean_ms,other_mean_ms"
        );
        // A's two starts are both its one row (1050 ms: 100 + 200 + 300 + 400 + 50), B's is
        // its row (2000 ms); D has no row and draws one of every row.
        assert_eq!(lines[2], format!("0,{A},2,1050,1050,100,200,300,400,50"));
        assert_eq!(lines[3], format!("1,{B},1,2000,2000,500,0,0,1500,0"));
        let d: Vec<&str> = lines[4].split(',').collect();
        assert_eq!(&d[..3], &["2", D, "1"]);
        assert!(["1050", "2000", "3000"].contains(&d[3]), "{}", lines[4]);
        let d_ms: f64 = d[3].parse().unwrap();
        // The run's row: 4 starts, mean (2 × 1050 + 2000 + D's) / 4.
        let all: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(&all[..3], &["", "(all)", "4"]);
        assert_eq!(all[3].parse::<f64>().unwrap(), (4100.0 + d_ms) / 4.0);
        assert_eq!(lines.len(), 5);
        // The same seed gives the same bytes.
        let again = tempfile::tempdir().unwrap();
        let csv2 = run_with(
            again.path(),
            "{ from = \"huawei2025-cold-starts\", path = \"cs.csv\" }",
            &requests,
        )
        .unwrap();
        assert_eq!(csv, csv2);
    }

    #[test]
    fn by_pool_draws_whole_rows_of_the_pool() {
        // 60 requests of A 10 s apart: each start is A's row (1050 ms) or B's (2000 ms), never
        // C's (pool24). Whole rows: with k of A's rows among n starts, the mean total is
        // 1050 + 950 (n - k) / n and pod allocation's 100 + 400 (n - k) / n, so pod =
        // 100 + (mean - 1050) × 400 / 950 exactly; independent parts would break it.
        let dir = tempfile::tempdir().unwrap();
        let requests: String = (0..60)
            .map(|i| format!("{},{A},100,128\n", i * 10_000))
            .collect();
        let csv = run_with(
            dir.path(),
            "{ from = \"huawei2025-cold-starts\", path = \"cs.csv\", by = \"pool\" }",
            &requests,
        )
        .unwrap();
        let row: Vec<f64> = csv
            .lines()
            .nth(2)
            .unwrap()
            .split(',')
            .skip(2)
            .map(|v| v.parse().unwrap())
            .collect();
        let (n, mean, max, pod) = (row[0], row[1], row[2], row[3]);
        assert_eq!(n, 60.0);
        // Both rows drawn (the chance that one never is among 60 draws is 2^-59).
        assert_eq!(max, 2000.0);
        assert!(mean > 1050.0 && mean < 2000.0, "{mean}");
        assert!(
            (pod - (100.0 + (mean - 1050.0) * 400.0 / 950.0)).abs() < 1e-9,
            "{pod} {mean}"
        );
        // By function, A only ever draws its own row.
        let dir = tempfile::tempdir().unwrap();
        let csv = run_with(
            dir.path(),
            "{ from = \"huawei2025-cold-starts\", path = \"cs.csv\", by = \"function\" }",
            &requests,
        )
        .unwrap();
        assert!(csv
            .lines()
            .nth(2)
            .unwrap()
            .starts_with(&format!("0,{A},60,1050,1050,")));
    }

    #[test]
    fn a_bad_table_stops_the_run_naming_the_key_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("bad.csv"),
            "funcName,userID,podID,totalCost_cold_start,podAllocationCost,deployCodeCost,schedulingCost\n",
        )
        .unwrap();
        let e = run_with(
            dir.path(),
            "{ from = \"huawei2025-cold-starts\", path = \"bad.csv\" }",
            &format!("0,{A},100,128\n"),
        )
        .unwrap_err();
        assert!(e.contains("s.toml: platform.cold_start_ms: "), "{e}");
        assert!(
            e.contains("bad.csv line 1: missing required column `deployDependencyCost`"),
            "{e}"
        );
        assert!(!dir.path().join("out/summary.csv").exists());
        // A header alone: no row to draw from.
        fs::write(
            dir.path().join("empty.csv"),
            "funcName,userID,podID,totalCost_cold_start,podAllocationCost,deployCodeCost,deployDependencyCost,schedulingCost\n",
        )
        .unwrap();
        let e = run_with(
            dir.path(),
            "{ from = \"huawei2025-cold-starts\", path = \"empty.csv\" }",
            &format!("0,{A},100,128\n"),
        )
        .unwrap_err();
        assert!(e.contains("the cold-start table has no row"), "{e}");
        // A bad `by` in the scenario names the line.
        let e = run_with(
            dir.path(),
            "{ from = \"huawei2025-cold-starts\", path = \"cs.csv\", by = \"region\" }",
            &format!("0,{A},100,128\n"),
        )
        .unwrap_err();
        assert!(e.contains("s.toml: line 6"), "{e}");
        assert!(e.contains("unknown variant `region`"), "{e}");
    }

    #[test]
    fn per_function_tables_and_models_override_the_default() {
        // [platform.function_cold_start_ms]: A's from B's pool group by name (pool22: 1050 or
        // 2000), B a constant 7 ms; the rest the default preset.
        let mut cfg = EngineConfig::default();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("cs.csv"), TABLE).unwrap();
        let mut per = BTreeMap::new();
        per.insert(
            A.to_string(),
            parse("{ from = \"huawei2025-cold-starts\", path = \"cs.csv\", by = \"pool\" }")
                .unwrap(),
        );
        per.insert(B.to_string(), parse("7").unwrap());
        apply(&ColdStartSource::default(), &per, dir.path(), &mut cfg).unwrap();
        assert_eq!(cfg.cold_start, ColdStartSpec::default().to_dist());
        let names: Vec<&str> = cfg
            .cold_start_per_function
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, vec![A, B]);
        assert_eq!(cfg.cold_start_per_function[0].1.mean_ms(), 1525.0);
        assert_eq!(
            cfg.cold_start_per_function[1].1,
            DistSpec::Constant { value_ms: 7.0 }
        );
        // A scenario-wide table after a per-function entry: the entry wins, the table adds
        // the other functions it names.
        let mut cfg = EngineConfig::default();
        let default = parse("{ from = \"huawei2025-cold-starts\", path = \"cs.csv\" }").unwrap();
        let mut per = BTreeMap::new();
        per.insert(A.to_string(), parse("7").unwrap());
        apply(&default, &per, dir.path(), &mut cfg).unwrap();
        let names: Vec<&str> = cfg
            .cold_start_per_function
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, vec![A, B, C]);
        assert_eq!(cfg.cold_start.mean_ms(), 6050.0 / 3.0);
    }
}
