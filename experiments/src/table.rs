//! `faasim table`: a sweep's (or a run's) figures as a table a terminal can show: the varied
//! parameters, the chosen metrics with their 95% confidence intervals, and, against a
//! baseline configuration, the paired differences.
//!
//! Every configuration of a sweep runs replication `r` with the same seed, so it sees the
//! same invocations (common random numbers). The difference between two configurations is
//! then best estimated replication by replication: the paired difference `x_c,r − x_b,r`
//! cancels the noise both share, and its interval is far tighter than the two separate
//! intervals (which may overlap, or cross zero, when the difference is certain).
//!
//! The numbers are read from the sweep's `summary.csv` (one row per run) and its plan
//! (`manifest.json`); a run directory's `summary.csv` gives a one-row table.

use crate::stats::{mean_ci95, MeanCi};
use crate::sweep::SweepManifest;
use std::path::{Path, PathBuf};

/// The metrics shown when none are asked for.
pub const DEFAULT_METRICS: [&str; 4] = [
    "cold_start_ratio",
    "latency_p99_ms",
    "wasted_memory_gb_s",
    "user_cost_usd",
];

/// Why a table cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not what a run or sweep writes.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file (or folder).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A bad option (an unknown metric, a baseline that is no configuration).
    #[error("{0}")]
    Options(String),
}

/// One configuration of a sweep (or the run of a run directory).
#[derive(Debug, Clone)]
pub struct ConfigRuns {
    /// `(column, value)` of what distinguishes it: `scenario_file` (with several
    /// scenarios), then the varied keys, in the plan's order.
    pub params: Vec<(String, String)>,
    /// Its runs: `(replication, summary row)`, the row by column name.
    pub runs: Vec<(u32, Vec<(String, String)>)>,
}

impl ConfigRuns {
    /// The value of `param` (a varied key or `scenario_file`).
    pub fn param(&self, param: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == param)
            .map(|(_, v)| v.as_str())
    }

    /// `metric` of each run, in replication order (runs where it is not a number left out).
    pub fn values(&self, metric: &str) -> Vec<f64> {
        self.runs
            .iter()
            .filter_map(|(_, row)| number(row, metric))
            .collect()
    }

    /// Mean and 95% interval of `metric` over the runs.
    pub fn stats(&self, metric: &str) -> MeanCi {
        mean_ci95(&self.values(metric))
    }

    /// Paired differences of `metric` against `base`, replication by replication.
    pub fn paired(&self, base: &ConfigRuns, metric: &str) -> MeanCi {
        let ds: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|(r, row)| {
                let (_, b) = base.runs.iter().find(|(rb, _)| rb == r)?;
                Some(number(row, metric)? - number(b, metric)?)
            })
            .collect();
        mean_ci95(&ds)
    }
}

fn number(row: &[(String, String)], metric: &str) -> Option<f64> {
    row.iter()
        .find(|(k, _)| k == metric)
        .and_then(|(_, v)| v.parse::<f64>().ok())
}

/// The runs of a sweep directory grouped by configuration (in plan order), or the single
/// run of a run directory; and the columns of `summary.csv` (the metrics).
pub fn load_configs(dir: &Path) -> Result<(Vec<ConfigRuns>, Vec<String>), TableError> {
    let summary = dir.join("summary.csv");
    let (header, rows) = read_csv(&summary)?;
    let manifest = dir.join("manifest.json");
    let plan = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<SweepManifest>(&t).ok())
        .map(|m| m.plan);
    let Some(plan) = plan else {
        // A run directory: one configuration, one run.
        let row = rows.into_iter().next().ok_or_else(|| TableError::Invalid {
            path: summary.clone(),
            message: "no row".into(),
        })?;
        let named = header.iter().cloned().zip(row).collect();
        return Ok((
            vec![ConfigRuns {
                params: Vec::new(),
                runs: vec![(0, named)],
            }],
            header,
        ));
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let run_col = col("run_id").ok_or_else(|| TableError::Invalid {
        path: summary.clone(),
        message: "no `run_id` column: not a sweep's summary.csv".into(),
    })?;
    let first_metric = col("replication").map_or(0, |i| i + 1);
    let metrics: Vec<String> = header[first_metric..].to_vec();
    let mut configs: Vec<ConfigRuns> = Vec::new();
    for run in &plan.runs {
        let row = rows
            .iter()
            .find(|r| r.get(run_col) == Some(&run.id))
            .ok_or_else(|| TableError::Invalid {
                path: summary.clone(),
                message: format!("no row for {}", run.id),
            })?;
        let mut params = Vec::new();
        if plan.several_scenarios {
            params.push(("scenario_file".to_owned(), run.scenario.clone()));
        }
        params.extend(run.params.iter().cloned());
        let named: Vec<(String, String)> = header[first_metric..]
            .iter()
            .cloned()
            .zip(row[first_metric..].iter().cloned())
            .collect();
        match configs.iter_mut().find(|c| c.params == params) {
            Some(c) => c.runs.push((run.replication, named)),
            None => configs.push(ConfigRuns {
                params,
                runs: vec![(run.replication, named)],
            }),
        }
    }
    Ok((configs, metrics))
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), TableError> {
    let text = std::fs::read_to_string(path).map_err(|source| TableError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let bad = |e: csv::Error| TableError::Invalid {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let header: Vec<String> = r.headers().map_err(bad)?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(bad)?.iter().map(String::from).collect());
    }
    Ok((header, rows))
}

/// The configuration that is `base`'s counterpart of `c`: `c` with the baseline's values.
pub fn baseline_of<'a>(
    configs: &'a [ConfigRuns],
    c: &ConfigRuns,
    base: &[(String, String)],
) -> Option<&'a ConfigRuns> {
    configs.iter().find(|o| {
        o.params
            .iter()
            .all(|(k, v)| match base.iter().find(|(bk, _)| bk == k) {
                Some((_, bv)) => v == bv,
                None => c.param(k) == Some(v.as_str()),
            })
    })
}

/// Rows of text cells under a header.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// One row per configuration.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns aligned with spaces (numbers to the right), a rule under the header.
    pub fn to_text(&self) -> String {
        let n = self.header.len();
        let width: Vec<usize> = (0..n)
            .map(|i| {
                std::iter::once(&self.header[i])
                    .chain(self.rows.iter().filter_map(|r| r.get(i)))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let numeric: Vec<bool> = (0..n)
            .map(|i| {
                self.rows.iter().all(|r| {
                    r.get(i).is_none_or(|c| {
                        c.chars()
                            .next()
                            .is_none_or(|ch| ch.is_ascii_digit() || "-+−".contains(ch))
                    })
                })
            })
            .collect();
        let line = |cells: &[String], header: bool| {
            let mut out = String::new();
            for i in 0..n {
                let c = cells.get(i).map_or("", |c| c.as_str());
                let pad = width[i] - c.chars().count();
                if i > 0 {
                    out.push_str("  ");
                }
                if numeric[i] && !header {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    out.push_str(&" ".repeat(pad));
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = line(&self.header, true);
        out.push_str(&line(
            &width.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
            true,
        ));
        for r in &self.rows {
            out.push_str(&line(r, false));
        }
        out
    }

    /// A Markdown (GitHub) table.
    pub fn to_markdown(&self) -> String {
        let esc = |c: &str| c.replace('|', "\\|");
        let mut out = format!(
            "| {} |\n|{}\n",
            self.header
                .iter()
                .map(|h| esc(h))
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(self.header.len())
        );
        for r in &self.rows {
            out.push_str(&format!(
                "| {} |\n",
                r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
            ));
        }
        out
    }
}

/// `mean ± half-width` (or the mean alone with one value), 3 significant digits.
pub fn mean_pm(s: &MeanCi) -> String {
    match s.ci95 {
        _ if s.mean.is_nan() => "-".into(),
        Some((lo, hi)) if s.mean == 0.0 && lo == hi => "0 ± 0".into(),
        Some((lo, hi)) => {
            let half = (hi - lo) / 2.0;
            let digits = decimals_for(s.mean.abs().max(half.abs()), half);
            format!("{:.*} ± {:.*}", digits, s.mean, digits, half)
        }
        None => sig(s.mean),
    }
}

/// Decimals to show `x` with 3 significant digits and its interval `half` with at least
/// 2, at most 10. An interval under a millionth of `x` is rounding noise of identical
/// replications (a sum in another order), not an interval worth 10 decimals.
fn decimals_for(x: f64, half: f64) -> usize {
    let mag = |v: f64| {
        if v > 0.0 && v.is_finite() {
            v.log10().floor() as i32
        } else {
            0
        }
    };
    let noise = half <= x.abs() * 1e-6;
    let want = (2 - mag(x)).max(if half > 0.0 && !noise {
        1 - mag(half)
    } else {
        0
    });
    want.clamp(0, 10) as usize
}

/// `x` with 3 significant digits (integers as they are).
pub fn sig(x: f64) -> String {
    if x.is_nan() {
        return "-".into();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    format!("{:.*}", decimals_for(x.abs(), 0.0), x)
}

/// Options of [`table`].
#[derive(Debug, Clone, Default)]
pub struct TableOptions {
    /// `summary.csv` columns to show ([`DEFAULT_METRICS`] when empty).
    pub metrics: Vec<String>,
    /// `KEY=VALUE` of the baseline configuration (varied keys, or `scenario_file`).
    pub baseline: Vec<String>,
}

/// The table of a sweep or run directory.
pub fn table(dir: &Path, options: &TableOptions) -> Result<Table, TableError> {
    let (configs, columns) = load_configs(dir)?;
    let metrics: Vec<String> = if options.metrics.is_empty() {
        DEFAULT_METRICS.iter().map(|m| m.to_string()).collect()
    } else {
        options.metrics.clone()
    };
    for m in &metrics {
        if !columns.contains(m) {
            return Err(TableError::Options(format!(
                "--metrics: no column `{m}` in summary.csv; the columns are: {}",
                columns.join(", ")
            )));
        }
    }
    let params: Vec<String> = configs
        .first()
        .map(|c| c.params.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let mut base: Vec<(String, String)> = Vec::new();
    // Without --baseline, the experiment's own baseline (if any).
    let plan_baseline: Vec<String> = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<SweepManifest>(&t).ok())
        .map(|m| {
            m.plan
                .baseline
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect()
        })
        .unwrap_or_default();
    let given = if options.baseline.is_empty() {
        &plan_baseline
    } else {
        &options.baseline
    };
    for b in given {
        let (k, v) = b
            .split_once('=')
            .ok_or_else(|| TableError::Options(format!("--baseline {b}: expected KEY=VALUE")))?;
        let (k, v) = (k.trim(), v.trim().trim_matches('"'));
        if !params.iter().any(|p| p == k) {
            return Err(TableError::Options(format!(
                "--baseline {b}: `{k}` is not varied; the varied keys are: {}",
                if params.is_empty() {
                    "none".to_owned()
                } else {
                    params.join(", ")
                }
            )));
        }
        if !configs.iter().any(|c| c.param(k) == Some(v)) {
            let values: Vec<&str> = configs.iter().filter_map(|c| c.param(k)).collect();
            let mut uniq: Vec<&str> = Vec::new();
            values.into_iter().for_each(|v| {
                if !uniq.contains(&v) {
                    uniq.push(v)
                }
            });
            return Err(TableError::Options(format!(
                "--baseline {b}: `{k}` never has the value `{v}`; its values are: {}",
                uniq.join(", ")
            )));
        }
        base.push((k.to_owned(), v.to_owned()));
    }
    let short = short_names(&params);
    let mut header: Vec<String> = short.clone();
    header.push("runs".into());
    for m in &metrics {
        header.push(m.clone());
        if !base.is_empty() {
            header.push(format!("Δ {m}"));
        }
    }
    let mut rows = Vec::new();
    for c in &configs {
        let mut row: Vec<String> = c.params.iter().map(|(_, v)| v.clone()).collect();
        row.push(c.runs.len().to_string());
        let b = if base.is_empty() {
            None
        } else {
            baseline_of(&configs, c, &base)
        };
        for m in &metrics {
            row.push(mean_pm(&c.stats(m)));
            if !base.is_empty() {
                row.push(match b {
                    Some(b) if std::ptr::eq(b, c) => "baseline".into(),
                    Some(b) => mean_pm(&c.paired(b, m)),
                    None => "-".into(),
                });
            }
        }
        rows.push(row);
    }
    Ok(Table { header, rows })
}

/// Column names for key paths: the last segment, or the whole path when two share it.
pub fn short_names(keys: &[String]) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(sig(0.012345), "0.0123");
        assert_eq!(sig(1234.5), "1234");
        assert_eq!(sig(42.0), "42");
        assert_eq!(sig(2.5), "2.50");
        // The interval decides the decimals when it is the smaller: 0.5 ± 0.0012 shows
        // the half-width with two significant digits.
        let s = MeanCi {
            mean: 0.5,
            sd: Some(0.001),
            ci95: Some((0.4988, 0.5012)),
        };
        assert_eq!(mean_pm(&s), "0.5000 ± 0.0012");
        let s = MeanCi {
            mean: 1500.0,
            sd: Some(10.0),
            ci95: Some((1400.0, 1600.0)),
        };
        assert_eq!(mean_pm(&s), "1500 ± 100");
        // Identical replications whose mean is off by rounding: the mean's 3 digits.
        let s = MeanCi {
            mean: 0.0222600024,
            ci95: Some((0.0222600024 - 1e-12, 0.0222600024 + 1e-12)),
            ..s
        };
        assert_eq!(mean_pm(&s), "0.0223 ± 0.0000");
    }

    #[test]
    fn paired_differences_cancel_the_shared_noise() {
        // Two configurations over three seeds: the seeds move both by the same amount
        // (10, 20, 30), the configuration adds exactly 1. Separate intervals: mean 20 and
        // 21 ± t(0.975, 2) × 10 / √3 = ± 24.8, overlapping; paired: 1 ± 0 exactly.
        let cfg = |add: f64, v: &str| ConfigRuns {
            params: vec![("k".into(), v.into())],
            runs: [10.0, 20.0, 30.0]
                .iter()
                .enumerate()
                .map(|(r, x)| (r as u32, vec![("m".to_owned(), (x + add).to_string())]))
                .collect(),
        };
        let (a, b) = (cfg(0.0, "a"), cfg(1.0, "b"));
        let sa = a.stats("m");
        let (lo, hi) = sa.ci95.unwrap();
        assert!((hi - 20.0 - 4.302_653 * 10.0 / 3f64.sqrt()).abs() < 1e-4);
        assert!(lo < 21.0, "the separate intervals overlap");
        let d = b.paired(&a, "m");
        assert_eq!(d.mean, 1.0);
        assert_eq!(d.ci95, Some((1.0, 1.0)));
        let configs = vec![a.clone(), b.clone()];
        let base = vec![("k".to_owned(), "a".to_owned())];
        assert!(std::ptr::eq(
            baseline_of(&configs, &configs[1], &base).unwrap(),
            &configs[0]
        ));
    }

    #[test]
    fn text_tables_align_numbers_right() {
        let t = Table {
            header: vec!["ttl_s".into(), "cost".into()],
            rows: vec![
                vec!["60".into(), "1.5 ± 0.1".into()],
                vec!["600".into(), "12.5 ± 0.1".into()],
            ],
        };
        assert_eq!(
            t.to_text(),
            "ttl_s  cost\n-----  ----------\n   60   1.5 ± 0.1\n  600  12.5 ± 0.1\n"
        );
        assert_eq!(
            t.to_markdown(),
            "| ttl_s | cost |\n|---|---|\n| 60 | 1.5 ± 0.1 |\n| 600 | 12.5 ± 0.1 |\n"
        );
    }
}
