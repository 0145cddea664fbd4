//! `faasim course`: runs the course's experiments (`experiments/course/<lesson>/`) and writes
//! the numbers of each handout (`README.md`) from their results, so that no number of a
//! handout is typed by hand; `--check` fails when a handout is not what its experiments
//! give.
//!
//! A handout marks each generated block with a directive and an end marker:
//!
//! ```text
//! <!-- faasim sweep experiment.toml --metrics user_cost_usd,latency_p99_ms -->
//! (generated: the command, the table, the figure notes and the warnings)
//! <!-- /faasim -->
//! ```
//!
//! The directive names an experiment file of the lesson's folder, and optionally
//! `--metrics a,b,c` and `--baseline KEY=VALUE` (repeatable) as `faasim table` takes them
//! (the experiment's own `baseline` otherwise). The sweep goes to
//! `OUT/<lesson>/<experiment file stem>/` and its figures to `figures/` under it.

use crate::sweep::{self, PlanOptions, SweepOptions};
use crate::table::{self, TableOptions};
use std::path::{Path, PathBuf};

const END: &str = "<!-- /faasim -->";
const START: &str = "<!-- faasim sweep ";

/// Why the course could not be regenerated or checked.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A directive that cannot be followed.
    #[error("{}: {message}", path.display())]
    Directive {
        /// The handout.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A sweep failed.
    #[error(transparent)]
    Sweep(#[from] sweep::SweepError),
    /// A table failed.
    #[error(transparent)]
    Table(#[from] table::TableError),
    /// Figures failed.
    #[error(transparent)]
    Plot(#[from] faasim_plots::PlotError),
    /// `--check`: handouts whose numbers differ from what the experiments give.
    #[error("out of date (regenerate with `faasim course`): {}", .0.join(", "))]
    OutOfDate(Vec<String>),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CourseError + '_ {
    move |source| CourseError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The lesson folders of `course_dir` (those with a `README.md`), in name order.
pub fn lessons(course_dir: &Path) -> Result<Vec<PathBuf>, CourseError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(course_dir)
        .map_err(io(course_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.join("README.md").is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// One directive of a handout.
struct Directive {
    experiment: String,
    options: TableOptions,
}

fn parse_directive(line: &str, path: &Path) -> Result<Directive, CourseError> {
    let bad = |message: String| CourseError::Directive {
        path: path.to_owned(),
        message,
    };
    let body = line
        .trim()
        .strip_prefix(START)
        .and_then(|l| l.strip_suffix("-->"))
        .ok_or_else(|| bad(format!("not a directive: {line}")))?;
    let mut words = body.split_whitespace();
    let experiment = words
        .next()
        .ok_or_else(|| bad("a directive names an experiment file".into()))?
        .to_owned();
    let mut options = TableOptions::default();
    while let Some(w) = words.next() {
        let value = words
            .next()
            .ok_or_else(|| bad(format!("`{w}` needs a value")))?;
        match w {
            "--metrics" => options
                .metrics
                .extend(value.split(',').map(|m| m.to_owned())),
            "--baseline" => options.baseline.push(value.to_owned()),
            _ => return Err(bad(format!("unknown option `{w}` in a directive"))),
        }
    }
    Ok(Directive {
        experiment,
        options,
    })
}

/// Runs the experiments a handout names (into `out/<lesson>/`) and returns its text with
/// every generated block rewritten.
pub fn regenerate(lesson: &Path, out: &Path, jobs: usize) -> Result<String, CourseError> {
    let readme = lesson.join("README.md");
    let text = std::fs::read_to_string(&readme).map_err(io(&readme))?;
    let name = lesson
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut result = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        result.push_str(line);
        if !line.trim_start().starts_with(START) {
            continue;
        }
        let d = parse_directive(line, &readme)?;
        // Skip the old block up to its end marker.
        let mut closed = false;
        for old in lines.by_ref() {
            if old.trim() == END {
                closed = true;
                break;
            }
        }
        if !closed {
            return Err(CourseError::Directive {
                path: readme.clone(),
                message: format!("`{}` has no `{END}` below it", line.trim()),
            });
        }
        let experiment = lesson.join(&d.experiment);
        let stem = Path::new(&d.experiment)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = out.join(&name).join(&stem);
        let outcome = sweep::sweep(
            &experiment,
            &SweepOptions {
                out_dir: dir.clone(),
                jobs: jobs.max(1),
                shard: None,
                progress: false,
                plan: PlanOptions::default(),
            },
        )?;
        let report = faasim_plots::plot_dir_with(
            &dir,
            &dir.join("figures"),
            &faasim_plots::PlotOptions::default(),
        )?;
        let t = table::table(&dir, &d.options)?;
        result.push_str(&format!(
            "```sh\ncargo run --release -- sweep experiments/course/{name}/{} --out results/course/{name}/{stem}\ncargo run --release -- plot results/course/{name}/{stem}\n```\n\n",
            d.experiment
        ));
        result.push_str(&t.to_markdown());
        let notes: Vec<&String> = report.notes.iter().collect();
        if !notes.is_empty() || !outcome.warnings.is_empty() {
            result.push('\n');
        }
        for n in notes {
            result.push_str(&format!("- figure note: {n}\n"));
        }
        for (id, w) in &outcome.warnings {
            let params = sweep::plan(&experiment)
                .ok()
                .and_then(|p| p.runs.into_iter().find(|r| &r.id == id))
                .map(|r| {
                    let mut v: Vec<String> = vec![r.scenario.clone()];
                    v.extend(r.params.iter().map(|(k, v)| format!("{k}={v}")));
                    v.push(format!("seed {}", r.seed));
                    v.join(", ")
                })
                .unwrap_or_default();
            result.push_str(&format!("- warning ({id}: {params}): {w}\n"));
        }
        result.push_str(END);
        result.push('\n');
    }
    Ok(result)
}

/// Regenerates every lesson of `course_dir`: writes the handouts, or with `check` only
/// compares them and returns the ones that differ as [`CourseError::OutOfDate`].
pub fn run(course_dir: &Path, out: &Path, jobs: usize, check: bool) -> Result<usize, CourseError> {
    let lessons = lessons(course_dir)?;
    let mut stale = Vec::new();
    for l in &lessons {
        let readme = l.join("README.md");
        let new = regenerate(l, out, jobs)?;
        let old = std::fs::read_to_string(&readme).map_err(io(&readme))?;
        if new != old {
            if check {
                stale.push(readme.display().to_string());
            } else {
                std::fs::write(&readme, new).map_err(io(&readme))?;
            }
        }
    }
    if !stale.is_empty() {
        return Err(CourseError::OutOfDate(stale));
    }
    Ok(lessons.len())
}
