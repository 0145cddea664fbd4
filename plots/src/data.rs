//! Reading result files: layout detection, CSV rows with named-column errors, the sweep
//! plan, and the curves (empirical CDFs) the figures draw.

use crate::PlotError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::fs::File;
use std::path::{Path, PathBuf};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PlotError + '_ {
    move |source| PlotError::Io {
        path: path.to_owned(),
        source,
    }
}

fn invalid(path: &Path, message: impl Into<String>) -> PlotError {
    PlotError::Invalid {
        path: path.to_owned(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------
// CSV files

/// An open CSV file with its header, for errors that name the file and the column.
pub(crate) struct CsvFile {
    path: PathBuf,
    reader: csv::Reader<File>,
    headers: csv::StringRecord,
}

impl CsvFile {
    pub(crate) fn open(path: &Path) -> Result<Self, PlotError> {
        let file = File::open(path).map_err(io_err(path))?;
        let mut reader = csv::Reader::from_reader(file);
        let headers = reader
            .headers()
            .map_err(|e| csv_err(path, None, e))?
            .clone();
        if headers.is_empty() {
            return Err(invalid(path, "empty file: expected a header row"));
        }
        Ok(CsvFile {
            path: path.to_owned(),
            reader,
            headers,
        })
    }

    /// The index of column `name`, or an error naming the file and the column.
    pub(crate) fn col(&self, name: &str) -> Result<usize, PlotError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| PlotError::MissingColumn {
                path: self.path.clone(),
                column: name.to_owned(),
            })
    }

    fn require(&self, columns: &[&str]) -> Result<(), PlotError> {
        columns.iter().try_for_each(|c| self.col(c).map(|_| ()))
    }

    /// Every row, deserialised by column name (extra columns are ignored).
    pub(crate) fn rows<T: Row>(mut self) -> Result<Vec<T>, PlotError> {
        self.require(T::COLUMNS)?;
        let mut out = Vec::new();
        for rec in self.reader.records() {
            let rec = rec.map_err(|e| csv_err(&self.path, Some(&self.headers), e))?;
            let row: T = rec.deserialize(Some(&self.headers)).map_err(|e| {
                let line = rec.position().map_or(0, |p| p.line());
                csv_err_at(&self.path, &self.headers, line, e)
            })?;
            out.push(row);
        }
        Ok(out)
    }

    /// Every row as strings, for files whose columns depend on the sweep.
    pub(crate) fn records(mut self) -> Result<(PathBuf, Vec<csv::StringRecord>), PlotError> {
        let mut out = Vec::new();
        for rec in self.reader.records() {
            out.push(rec.map_err(|e| csv_err(&self.path, Some(&self.headers), e))?);
        }
        Ok((self.path, out))
    }
}

/// A CSV row type: the columns it needs, named as in the writer's row struct.
pub(crate) trait Row: DeserializeOwned {
    const COLUMNS: &'static [&'static str];
}

pub(crate) fn csv_err(
    path: &Path,
    headers: Option<&csv::StringRecord>,
    e: csv::Error,
) -> PlotError {
    let line = e.position().map_or(0, |p| p.line());
    match (headers, e.kind()) {
        (Some(h), csv::ErrorKind::Deserialize { .. }) => csv_err_at(path, h, line, e),
        (_, csv::ErrorKind::Io(_)) => PlotError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e.to_string()),
        },
        (
            _,
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            },
        ) => invalid(
            path,
            format!("line {line}: {len} fields, but the header has {expected_len}"),
        ),
        _ => invalid(path, e.to_string()),
    }
}

fn csv_err_at(path: &Path, headers: &csv::StringRecord, line: u64, e: csv::Error) -> PlotError {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let column = err
                .field()
                .and_then(|i| headers.get(i as usize))
                .unwrap_or("?")
                .to_owned();
            PlotError::BadValue {
                path: path.to_owned(),
                line,
                column,
                message: err.kind().to_string(),
            }
        }
        _ => csv_err(path, None, e),
    }
}

/// A number from a string record; `Ok(None)` for an empty field (an undefined interval).
fn opt_number(
    path: &Path,
    rec: &csv::StringRecord,
    idx: usize,
    column: &str,
) -> Result<Option<f64>, PlotError> {
    let text = rec.get(idx).unwrap_or("").trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>()
        .map(Some)
        .map_err(|e| PlotError::BadValue {
            path: path.to_owned(),
            line: rec.position().map_or(0, |p| p.line()),
            column: column.to_owned(),
            message: format!("`{text}`: {e}"),
        })
}

fn number(
    path: &Path,
    rec: &csv::StringRecord,
    idx: usize,
    column: &str,
) -> Result<f64, PlotError> {
    opt_number(path, rec, idx, column)?.ok_or_else(|| PlotError::BadValue {
        path: path.to_owned(),
        line: rec.position().map_or(0, |p| p.line()),
        column: column.to_owned(),
        message: "empty, expected a number".into(),
    })
}

// ---------------------------------------------------------------------------------------
// Row types (column names as in faasim-experiments' output.rs)

/// `summary.csv` of a run: the columns the figures need.
#[derive(Debug, Deserialize)]
pub(crate) struct SummaryRow {
    pub scenario: String,
    pub cold_start_ratio: f64,
    pub wasted_memory_gb_s: f64,
    pub user_cost_usd: f64,
    pub request_cost_usd: f64,
    pub duration_cost_usd: f64,
}
impl Row for SummaryRow {
    const COLUMNS: &'static [&'static str] = &[
        "scenario",
        "cold_start_ratio",
        "wasted_memory_gb_s",
        "user_cost_usd",
        "request_cost_usd",
        "duration_cost_usd",
    ];
}

/// `timeseries.csv`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TimeseriesRow {
    pub time_s: f64,
    pub live_instances: f64,
    pub starting_instances: f64,
    pub busy_instances: f64,
    pub idle_instances: f64,
    pub memory_used_mb: f64,
    pub memory_idle_mb: f64,
    pub queue_length: f64,
}
impl Row for TimeseriesRow {
    const COLUMNS: &'static [&'static str] = &[
        "time_s",
        "live_instances",
        "starting_instances",
        "busy_instances",
        "idle_instances",
        "memory_used_mb",
        "memory_idle_mb",
        "queue_length",
    ];
}

/// `functions.csv`.
#[derive(Debug, Deserialize)]
pub(crate) struct FunctionRow {
    pub completed: u64,
    pub cold_start_ratio: f64,
}
impl Row for FunctionRow {
    const COLUMNS: &'static [&'static str] = &["completed", "cold_start_ratio"];
}

/// `invocations.csv`, read record by record without allocating.
#[derive(Debug, Deserialize)]
struct InvocationRow<'a> {
    outcome: &'a str,
    latency_ms: f64,
}

// ---------------------------------------------------------------------------------------
// Sweep manifest (mirrors faasim-experiments' SweepManifest / Plan / PlannedRun)

#[derive(Debug, Deserialize)]
struct SweepManifest {
    plan: Plan,
}

#[derive(Debug, Deserialize)]
struct Plan {
    name: String,
    #[serde(default)]
    replications: u32,
    #[serde(default)]
    varied: Vec<String>,
    #[serde(default)]
    several_scenarios: bool,
    runs: Vec<PlannedRun>,
    #[serde(default)]
    plot_metrics: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct PlannedRun {
    id: String,
    scenario: String,
    #[serde(default)]
    params: Vec<(String, String)>,
}

// ---------------------------------------------------------------------------------------
// The data set the figures draw

/// A mean with its 95% confidence interval (none for one replication or one run).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Est {
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
}

impl Est {
    pub(crate) fn point(mean: f64) -> Self {
        Est { mean, ci: None }
    }
    /// The interval, or the mean twice.
    pub(crate) fn lo_hi(&self) -> (f64, f64) {
        self.ci.unwrap_or((self.mean, self.mean))
    }
}

/// Run-wide figures of a configuration (a run, or a combination's aggregate).
#[derive(Debug, Clone)]
pub(crate) struct Totals {
    pub cold_start_ratio: Est,
    pub wasted_memory_gb_s: Est,
    pub user_cost_usd: Est,
    pub request_cost_usd: Est,
    pub duration_cost_usd: Est,
}

/// One configuration: a run, or one combination of a sweep.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub label: String,
    /// `(run id, run directory)` of its replications, in plan order.
    pub runs: Vec<(String, PathBuf)>,
    pub totals: Option<Totals>,
    /// The value of the only varied key, when exactly one numeric key is varied.
    pub numeric_key: Option<f64>,
    /// Sweep only: `(key path, value)` of each varied key, in the plan's `varied` order.
    pub params: Vec<(String, String)>,
    /// Sweep only: the values of [`Dataset::key_cols`] that pick this combination's row of
    /// `aggregate.csv`.
    pub key: Vec<String>,
}

impl Config {
    /// The first replication's directory that holds `file`.
    pub(crate) fn first_with(&self, file: &str) -> Option<&(String, PathBuf)> {
        self.runs.iter().find(|(_, d)| d.join(file).is_file())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Run,
    Sweep,
}

/// Everything the figures need, loaded from a run or sweep directory.
#[derive(Debug)]
pub(crate) struct Dataset {
    pub dir: PathBuf,
    pub layout: Layout,
    /// The scenario (run) or experiment (sweep) name.
    pub name: String,
    pub configs: Vec<Config>,
    /// Replications per combination (1 for a run).
    pub replications: u32,
    /// Why the aggregate figures cannot be drawn, if they cannot.
    pub no_totals: Option<String>,
    /// Sweep only: the key columns of `aggregate.csv` (`scenario_file` when the plan names
    /// several scenarios, then the varied key paths).
    pub key_cols: Vec<String>,
    /// Sweep only: the plan names several scenario files.
    pub several_scenarios: bool,
    /// Sweep only: the experiment's `plot_metrics` (empty: the figure's defaults).
    pub plot_metrics: Vec<String>,
}

impl Dataset {
    pub(crate) fn load(dir: &Path) -> Result<Self, PlotError> {
        std::fs::metadata(dir).map_err(io_err(dir))?;
        let manifest = dir.join("manifest.json");
        if manifest.is_file() && dir.join("runs").is_dir() {
            let text = std::fs::read_to_string(&manifest).map_err(io_err(&manifest))?;
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
                if value.get("plan").is_some() {
                    let m: SweepManifest = serde_json::from_value(value)
                        .map_err(|e| invalid(&manifest, format!("not a sweep plan: {e}")))?;
                    return Self::sweep(dir, m.plan);
                }
            }
        }
        if dir.join("summary.csv").is_file() && dir.join("timeseries.csv").is_file() {
            return Self::run(dir);
        }
        Err(PlotError::UnknownLayout(dir.to_owned()))
    }

    fn run(dir: &Path) -> Result<Self, PlotError> {
        let path = dir.join("summary.csv");
        let rows: Vec<SummaryRow> = CsvFile::open(&path)?.rows()?;
        let s = rows
            .into_iter()
            .next()
            .ok_or_else(|| invalid(&path, "no data row"))?;
        let totals = Totals {
            cold_start_ratio: Est::point(s.cold_start_ratio),
            wasted_memory_gb_s: Est::point(s.wasted_memory_gb_s),
            user_cost_usd: Est::point(s.user_cost_usd),
            request_cost_usd: Est::point(s.request_cost_usd),
            duration_cost_usd: Est::point(s.duration_cost_usd),
        };
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| s.scenario.clone());
        Ok(Dataset {
            dir: dir.to_owned(),
            layout: Layout::Run,
            name: s.scenario.clone(),
            configs: vec![Config {
                label: s.scenario,
                runs: vec![(id, dir.to_owned())],
                totals: Some(totals),
                numeric_key: None,
                params: Vec::new(),
                key: Vec::new(),
            }],
            replications: 1,
            no_totals: None,
            key_cols: Vec::new(),
            several_scenarios: false,
            plot_metrics: Vec::new(),
        })
    }

    fn sweep(dir: &Path, plan: Plan) -> Result<Self, PlotError> {
        let manifest = dir.join("manifest.json");
        if plan.runs.is_empty() {
            return Err(invalid(&manifest, "the plan has no runs"));
        }
        // Combinations in plan order: (scenario file if several, then the varied values).
        let short = short_keys(&plan.varied);
        let mut keys: Vec<Vec<String>> = Vec::new();
        let mut configs: Vec<Config> = Vec::new();
        for run in &plan.runs {
            let mut key = Vec::new();
            if plan.several_scenarios {
                key.push(run.scenario.clone());
            }
            key.extend(run.params.iter().map(|(_, v)| v.clone()));
            let run_dir = dir.join("runs").join(&run.id);
            match keys.iter().position(|k| *k == key) {
                Some(i) => configs[i].runs.push((run.id.clone(), run_dir)),
                None => {
                    let mut parts: Vec<String> = Vec::new();
                    if plan.several_scenarios {
                        let stem = Path::new(&run.scenario)
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_else(|| run.scenario.clone());
                        parts.push(stem);
                    }
                    for (k, v) in &run.params {
                        let name = plan
                            .varied
                            .iter()
                            .position(|x| x == k)
                            .map_or(k.as_str(), |i| short[i].as_str());
                        parts.push(label_part(name, v));
                    }
                    let label = if parts.is_empty() {
                        plan.name.clone()
                    } else {
                        parts.join(", ")
                    };
                    let numeric_key = if plan.varied.len() == 1 && !plan.several_scenarios {
                        run.params.first().and_then(|(_, v)| v.parse::<f64>().ok())
                    } else {
                        None
                    };
                    keys.push(key.clone());
                    configs.push(Config {
                        label,
                        runs: vec![(run.id.clone(), run_dir)],
                        totals: None,
                        numeric_key,
                        params: run.params.clone(),
                        key,
                    });
                }
            }
        }
        if configs.iter().any(|c| c.numeric_key.is_none()) {
            configs.iter_mut().for_each(|c| c.numeric_key = None);
        }

        let mut key_cols: Vec<String> = Vec::new();
        if plan.several_scenarios {
            key_cols.push("scenario_file".into());
        }
        key_cols.extend(plan.varied.iter().cloned());
        let aggregate = dir.join("aggregate.csv");
        let no_totals = if aggregate.is_file() {
            let totals = read_aggregate(&aggregate, &key_cols, &keys)?;
            for (c, t) in configs.iter_mut().zip(totals) {
                c.totals = Some(t);
            }
            None
        } else {
            Some(format!(
                "no {} (a shard? run `faasim merge` first)",
                aggregate.display()
            ))
        };
        Ok(Dataset {
            dir: dir.to_owned(),
            layout: Layout::Sweep,
            name: plan.name,
            configs,
            replications: plan.replications.max(1),
            no_totals,
            key_cols,
            several_scenarios: plan.several_scenarios,
            plot_metrics: plan.plot_metrics,
        })
    }
}

/// One varied value in a label: `ttl_s=600`; a whole table varied at once (`{ policy =
/// "fixed", ttl_s = 600 }`) shows its policy name and other keys: `fixed ttl_s=600`.
pub(crate) fn label_part(name: &str, value: &str) -> String {
    let v = value.trim();
    let Some(inner) = v.strip_prefix('{').and_then(|x| x.strip_suffix('}')) else {
        return format!("{name}={v}");
    };
    let mut out: Vec<String> = Vec::new();
    for field in inner.split(',') {
        let Some((k, val)) = field.split_once('=') else {
            continue;
        };
        let (k, val) = (k.trim(), val.trim().trim_matches('"'));
        if k == "policy" || k == "fleet" || k == "dist" {
            out.insert(0, val.to_owned());
        } else {
            out.push(format!("{k}={val}"));
        }
    }
    if out.is_empty() {
        format!("{name}={v}")
    } else {
        out.join(" ")
    }
}

/// Display names of varied key paths: the last segment, or the whole path when two keys
/// share their last segment (`placement.policy` and `routing.policy`).
pub(crate) fn short_keys(keys: &[String]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_owned();
    keys.iter()
        .map(|k| {
            let l = last(k);
            if keys.iter().filter(|o| last(o) == l).count() > 1 {
                k.clone()
            } else {
                l
            }
        })
        .collect()
}

const AGG_METRICS: [&str; 5] = [
    "cold_start_ratio",
    "wasted_memory_gb_s",
    "user_cost_usd",
    "request_cost_usd",
    "duration_cost_usd",
];

/// Reads `aggregate.csv`: the totals of each combination `keys[i]`, in that order.
fn read_aggregate(
    path: &Path,
    key_cols: &[String],
    keys: &[Vec<String>],
) -> Result<Vec<Totals>, PlotError> {
    let file = CsvFile::open(path)?;
    let key_idx: Vec<usize> = key_cols
        .iter()
        .map(|k| file.col(k))
        .collect::<Result<_, _>>()?;
    // (mean, lo, hi) column indices per metric.
    let mut metric_idx: Vec<[(usize, String); 3]> = Vec::new();
    for m in AGG_METRICS {
        let cols = [
            format!("{m}_mean"),
            format!("{m}_ci95_lo"),
            format!("{m}_ci95_hi"),
        ];
        let idx = [
            file.col(&cols[0])?,
            file.col(&cols[1])?,
            file.col(&cols[2])?,
        ];
        let [a, b, c] = cols;
        metric_idx.push([(idx[0], a), (idx[1], b), (idx[2], c)]);
    }
    let (path, records) = file.records()?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let rec = find_row(&path, &records, &key_idx, key_cols, key)?;
        let mut ests = Vec::with_capacity(AGG_METRICS.len());
        for [(mi, mc), (li, lc), (hi, hc)] in &metric_idx {
            let mean = number(&path, rec, *mi, mc)?;
            let lo = opt_number(&path, rec, *li, lc)?;
            let hi = opt_number(&path, rec, *hi, hc)?;
            let ci = match (lo, hi) {
                (Some(l), Some(h)) if l.is_finite() && h.is_finite() => Some((l, h)),
                _ => None,
            };
            ests.push(Est { mean, ci });
        }
        out.push(Totals {
            cold_start_ratio: ests[0],
            wasted_memory_gb_s: ests[1],
            user_cost_usd: ests[2],
            request_cost_usd: ests[3],
            duration_cost_usd: ests[4],
        });
    }
    Ok(out)
}

/// The row of `records` whose key columns (`key_idx`, named `key_cols`) hold `key`.
fn find_row<'r>(
    path: &Path,
    records: &'r [csv::StringRecord],
    key_idx: &[usize],
    key_cols: &[String],
    key: &[String],
) -> Result<&'r csv::StringRecord, PlotError> {
    records
        .iter()
        .find(|r| key_idx.iter().zip(key).all(|(&i, v)| r.get(i) == Some(v)))
        .ok_or_else(|| {
            invalid(
                path,
                format!(
                    "no row for the combination {}",
                    key_cols
                        .iter()
                        .zip(key)
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Reads columns `columns` of `aggregate.csv` (e.g. `user_cost_usd_mean`) for each
/// combination `keys[i]`: `out[i][j]` is column `columns[j]` of combination `i`. A missing
/// column, a missing combination or a value that is not a number (an empty cell included) is
/// an error naming the file (and the column).
pub(crate) fn read_aggregate_columns(
    path: &Path,
    key_cols: &[String],
    keys: &[Vec<String>],
    columns: &[&str],
) -> Result<Vec<Vec<f64>>, PlotError> {
    read_aggregate_cells(path, key_cols, keys, columns, number)
}

/// As [`read_aggregate_columns`], with empty cells (an undefined interval) as `None`.
pub(crate) fn read_aggregate_optional(
    path: &Path,
    key_cols: &[String],
    keys: &[Vec<String>],
    columns: &[String],
) -> Result<Vec<Vec<Option<f64>>>, PlotError> {
    read_aggregate_cells(path, key_cols, keys, columns, opt_number)
}

/// The cells of `columns` for each combination of `keys`, each read by `cell`.
fn read_aggregate_cells<T, C: AsRef<str>>(
    path: &Path,
    key_cols: &[String],
    keys: &[Vec<String>],
    columns: &[C],
    cell: fn(&Path, &csv::StringRecord, usize, &str) -> Result<T, PlotError>,
) -> Result<Vec<Vec<T>>, PlotError> {
    let file = CsvFile::open(path)?;
    let key_idx: Vec<usize> = key_cols
        .iter()
        .map(|k| file.col(k))
        .collect::<Result<_, _>>()?;
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| file.col(c.as_ref()))
        .collect::<Result<_, _>>()?;
    let (path, records) = file.records()?;
    keys.iter()
        .map(|key| {
            let rec = find_row(&path, &records, &key_idx, key_cols, key)?;
            idx.iter()
                .zip(columns)
                .map(|(&i, c)| cell(&path, rec, i, c.as_ref()))
                .collect()
        })
        .collect()
}

/// A run's time series.
pub(crate) fn read_timeseries(dir: &Path) -> Result<Vec<TimeseriesRow>, PlotError> {
    CsvFile::open(&dir.join("timeseries.csv"))?.rows()
}

/// The cold-start ratios of the functions that completed at least one invocation.
pub(crate) fn read_function_ratios(dir: &Path) -> Result<Vec<f64>, PlotError> {
    let rows: Vec<FunctionRow> = CsvFile::open(&dir.join("functions.csv"))?.rows()?;
    Ok(rows
        .into_iter()
        .filter(|r| r.completed > 0)
        .map(|r| r.cold_start_ratio)
        .collect())
}

/// The latency CDF of a run's completed invocations, streamed from `invocations.csv`.
pub(crate) fn read_latency_cdf(dir: &Path) -> Result<Vec<(f64, f64)>, PlotError> {
    let path = dir.join("invocations.csv");
    let file = CsvFile::open(&path)?;
    file.col("outcome")?;
    file.col("latency_ms")?;
    let CsvFile {
        path,
        mut reader,
        headers,
    } = file;
    let byte_headers = headers.as_byte_record().clone();
    let mut rec = csv::ByteRecord::new();
    let mut acc = LatencyAcc::default();
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(&path, Some(&headers), e)),
        }
        let row: InvocationRow = rec.deserialize(Some(&byte_headers)).map_err(|e| {
            let line = rec.position().map_or(0, |p| p.line());
            csv_err_at(&path, &headers, line, e)
        })?;
        if row.outcome == "completed" {
            acc.push(row.latency_ms);
        }
    }
    Ok(acc.points())
}

// ---------------------------------------------------------------------------------------
// Empirical CDFs

/// Most points a curve keeps (SVG size; far beyond what a 1200-pixel plot resolves).
pub(crate) const MAX_CURVE_POINTS: usize = 2000;

/// The empirical CDF of `xs` as plottable points: exact steps for small samples, the
/// quantiles at evenly spaced ranks (joined by lines) for large ones. Starts at `(min, 0)`
/// and ends at `(max, 1)`. NaNs are ignored.
pub(crate) fn ecdf(mut xs: Vec<f64>, max_points: usize) -> Vec<(f64, f64)> {
    xs.retain(|x| !x.is_nan());
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return Vec::new();
    }
    let nf = n as f64;
    let mut out = vec![(xs[0], 0.0)];
    if 2 * n <= max_points {
        for (i, &x) in xs.iter().enumerate() {
            out.push((x, i as f64 / nf));
            out.push((x, (i + 1) as f64 / nf));
        }
    } else {
        let k = max_points.max(2);
        let mut last = usize::MAX;
        for j in 1..=k {
            let r = (j * n).div_ceil(k) - 1;
            if r != last {
                out.push((xs[r], (r + 1) as f64 / nf));
                last = r;
            }
        }
    }
    out
}

/// Smallest latency drawn (ms): the log axis cannot show 0.
pub(crate) const LATENCY_FLOOR_MS: f64 = 1e-3;
const EXACT_CAP: usize = 1 << 20;
const BINS_PER_DECADE: f64 = 100.0;
const HIST_DECADES: f64 = 12.0; // 1e-3 ms .. 1e9 ms

/// Latencies, exact up to [`EXACT_CAP`] values, then a log-spaced histogram.
#[derive(Default)]
struct LatencyAcc {
    exact: Vec<f64>,
    hist: Option<Vec<u64>>,
}

impl LatencyAcc {
    fn bin(x: f64) -> usize {
        let max = (HIST_DECADES * BINS_PER_DECADE) as usize - 1;
        let b = ((x / LATENCY_FLOOR_MS).log10() * BINS_PER_DECADE).floor();
        if b.is_nan() || b < 0.0 {
            0
        } else {
            (b as usize).min(max)
        }
    }

    fn upper_edge(b: usize) -> f64 {
        LATENCY_FLOOR_MS * 10f64.powf((b + 1) as f64 / BINS_PER_DECADE)
    }

    fn push(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        let x = x.max(LATENCY_FLOOR_MS);
        match &mut self.hist {
            Some(h) => h[Self::bin(x)] += 1,
            None => {
                self.exact.push(x);
                if self.exact.len() > EXACT_CAP {
                    let mut h = vec![0u64; (HIST_DECADES * BINS_PER_DECADE) as usize];
                    for v in self.exact.drain(..) {
                        h[Self::bin(v)] += 1;
                    }
                    self.exact.shrink_to_fit();
                    self.hist = Some(h);
                }
            }
        }
    }

    fn points(self) -> Vec<(f64, f64)> {
        let Some(h) = self.hist else {
            return ecdf(self.exact, MAX_CURVE_POINTS);
        };
        let total: u64 = h.iter().sum();
        let (Some(first), Some(last)) = (
            h.iter().position(|&c| c > 0),
            h.iter().rposition(|&c| c > 0),
        ) else {
            return Vec::new();
        };
        let lower = if first == 0 {
            LATENCY_FLOOR_MS
        } else {
            Self::upper_edge(first - 1)
        };
        let mut out = vec![(lower, 0.0)];
        let mut cum = 0u64;
        for (b, &c) in h.iter().enumerate().take(last + 1).skip(first) {
            cum += c;
            out.push((Self::upper_edge(b), cum as f64 / total as f64));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdf_small_is_exact_steps() {
        let p = ecdf(vec![3.0, 1.0, 2.0], 100);
        assert_eq!(
            p,
            vec![
                (1.0, 0.0),
                (1.0, 0.0),
                (1.0, 1.0 / 3.0),
                (2.0, 1.0 / 3.0),
                (2.0, 2.0 / 3.0),
                (3.0, 2.0 / 3.0),
                (3.0, 1.0)
            ]
        );
        assert!(ecdf(vec![], 100).is_empty());
        assert!(ecdf(vec![f64::NAN], 100).is_empty());
    }

    #[test]
    fn ecdf_large_is_thinned_and_ends_at_one() {
        let xs: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
        let p = ecdf(xs, 1000);
        assert!(p.len() <= 1001);
        assert_eq!(p[0], (0.0, 0.0));
        assert_eq!(*p.last().unwrap(), (99_999.0, 1.0));
        assert!(p.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        // The median point is the median.
        let mid = p.iter().find(|(_, f)| *f >= 0.5).unwrap();
        assert!((mid.0 - 49_999.0).abs() <= 100.0);
    }

    #[test]
    fn latency_histogram_mode_matches_exact_quantiles() {
        let mut acc = LatencyAcc::default();
        let n = EXACT_CAP + 10;
        for i in 0..n {
            acc.push(1.0 + (i % 1000) as f64); // uniform on 1..1000 ms
        }
        assert!(acc.hist.is_some());
        let p = acc.points();
        assert!(p.len() <= (HIST_DECADES * BINS_PER_DECADE) as usize + 1);
        assert_eq!(p.last().unwrap().1, 1.0);
        let med = p.iter().find(|(_, f)| *f >= 0.5).unwrap().0;
        assert!((med / 500.0 - 1.0).abs() < 0.03, "median {med}");
        // Zero and negative latencies go to the floor.
        let mut z = LatencyAcc::default();
        z.push(0.0);
        assert_eq!(z.points()[0].0, LATENCY_FLOOR_MS);
    }

    #[test]
    fn whole_tables_are_labelled_by_their_policy() {
        assert_eq!(
            label_part("keep_alive", "{ policy = \"fixed\", ttl_s = 600 }"),
            "fixed ttl_s=600"
        );
        assert_eq!(
            label_part("keep_alive", "{ policy = \"hybrid-histogram\" }"),
            "hybrid-histogram"
        );
        assert_eq!(label_part("ttl_s", "60"), "ttl_s=60");
    }

    #[test]
    fn short_keys_disambiguate() {
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            short_keys(&k(&["keep_alive.ttl_s", "cluster.workers"])),
            k(&["ttl_s", "workers"])
        );
        assert_eq!(
            short_keys(&k(&["placement.policy", "routing.policy", "replication"])),
            k(&["placement.policy", "routing.policy", "replication"])
        );
    }
}
