//! The `faasim` command.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "faasim",
    version,
    about = "A deterministic simulator of serverless (FaaS) platforms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario and write its results.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output directory (default: `results/<scenario name>/`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run seed, overriding the scenario's `seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a scenario key, e.g. --set keep_alive.ttl_s=60 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Skip (and count) bad trace rows instead of failing.
        #[arg(long)]
        lenient: bool,
    },
    /// Run an experiment: scenarios x grid x zip x replications, in parallel.
    Sweep {
        /// The experiment file (TOML).
        experiment: PathBuf,
        /// Output directory (default: `results/<experiment name>/`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at once (default: the number of cores; at most 1024).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only slice K of N of the plan (1 <= K <= N), for clusters; see `merge`.
        #[arg(long, value_name = "K/N", value_parser = parse_shard)]
        shard: Option<(usize, usize)>,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
        /// Override a key of every run's scenario (not a varied one), e.g. --set
        /// cluster.workers=8 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// The configuration to compare the others with, pairwise (varied KEY=VALUE,
        /// repeatable): adds paired differences to aggregate.csv.
        #[arg(long, value_name = "KEY=VALUE")]
        baseline: Vec<String>,
    },
    /// Print a sweep's (or a run's) metrics with 95% confidence intervals, and paired
    /// differences against a baseline configuration.
    Table {
        /// A sweep directory (or a run directory).
        dir: PathBuf,
        /// summary.csv columns to show, comma-separated (default:
        /// cold_start_ratio,latency_p99_ms,wasted_memory_gb_s,user_cost_usd).
        #[arg(long, value_delimiter = ',')]
        metrics: Vec<String>,
        /// The configuration to compare with (varied KEY=VALUE, repeatable): adds a
        /// column of paired differences (same seeds, so the same invocations) per metric.
        #[arg(long, value_name = "KEY=VALUE")]
        baseline: Vec<String>,
        /// Write a Markdown table instead of aligned text.
        #[arg(long)]
        markdown: bool,
    },
    /// Draw figures (PNG and SVG) from a run or a sweep directory.
    Plot {
        /// A run directory (from `run`) or a sweep directory (from `sweep` or `merge`).
        dir: PathBuf,
        /// Where the figures go (default: DIR/figures/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// In a sweep, draw the time series of this run (e.g. run-0003).
        #[arg(long)]
        run: Option<String>,
    },
    /// Tools for traces: fetch the public ones, convert to the canonical CSV, statistics.
    Trace {
        #[command(subcommand)]
        command: TraceCommand,
    },
    /// Show two or more run directories' summaries side by side (e.g. serverless vs VMs).
    Compare {
        /// Run directories (each with a summary.csv).
        #[arg(required = true, num_args = 2..)]
        dirs: Vec<PathBuf>,
    },
    /// Check faasim's numbers against theory and published results (VALIDATION.md).
    ///
    /// Real traces are read from $FAASIM_TRACES, else from the trace samples of the source
    /// tree faasim was built from. Exits non-zero if a check fails, or if a check is
    /// skipped because its data is missing (unless --allow-skip).
    Validate {
        /// Where the per-case CSV files go.
        #[arg(long, default_value = "results/validation")]
        out: PathBuf,
        /// Run only these cases (default: all).
        #[arg(long = "case", value_name = "NAME")]
        cases: Vec<String>,
        /// Exit 0 even if checks were skipped for missing data (failures still fail).
        #[arg(long)]
        allow_skip: bool,
    },
    /// Run the course's experiments and write the numbers of their handouts
    /// (experiments/course/*/README.md); --check only says whether they are current.
    Course {
        /// The course folder.
        #[arg(long, default_value = "experiments/course")]
        dir: PathBuf,
        /// Where the sweeps and figures go.
        #[arg(long, default_value = "results/course")]
        out: PathBuf,
        /// Fail if a handout differs from what its experiments give (write nothing).
        #[arg(long)]
        check: bool,
    },
    /// The VM baseline's instance types.
    Vm {
        #[command(subcommand)]
        command: VmCommand,
    },
    /// Combine the directories of `sweep --shard` runs into one sweep directory.
    Merge {
        /// Shard directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged directory.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum VmCommand {
    /// Print the instance table (the built-in dated EC2 snapshot, or --table FILE) with
    /// its prices, cheapest per vCPU first.
    List {
        /// An instance table of the same shape (CSV).
        #[arg(long)]
        table: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TraceCommand {
    /// Download a public trace from its publisher, check its SHA-256, unpack it, and print
    /// the scenario `[trace]` table that reads it: azure2019, azure2021, azure-llm-2023,
    /// huawei2023, huawei2025. Run it again to resume an interrupted download.
    Fetch {
        /// The dataset.
        dataset: String,
        /// The folder the files go into.
        #[arg(long)]
        out: PathBuf,
        /// Fetch from a mirror instead: MIRROR/HOST/PATH for each https://HOST/PATH.
        #[arg(long)]
        mirror: Option<String>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write a scenario's trace (any format) as the canonical CSV.
    Convert {
        /// The scenario whose `[trace]` to read.
        scenario: PathBuf,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
        /// Seed for traces that draw random numbers (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Statistics of a scenario's trace (after its `[sample]`): printed, and as CSV with --out.
    Stats {
        scenario: PathBuf,
        /// Also write `metric,value` rows here.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Skip (and count) bad trace rows instead of failing.
        #[arg(long)]
        lenient: bool,
    },
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected K/N, got {s}"))?;
    let k: usize = k.trim().parse().map_err(|_| format!("bad K in {s}"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("bad N in {s}"))?;
    if k == 0 || n == 0 || k > n {
        return Err(format!("expected 1 <= K <= N, got {s}"));
    }
    Ok((k, n))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, leaving out a cause whose text the message
/// already contains (errors that print their source would otherwise say it twice).
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !msg.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
    }
    msg.replace('\n', " ")
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            overrides,
            quiet,
            lenient,
        } => {
            let mut loaded = faasim_experiments::load(&scenario, &overrides)?;
            loaded.lenient = lenient;
            let seed = seed.unwrap_or(loaded.scenario.seed);
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&loaded.scenario.name));
            let outcome = faasim_experiments::run_scenario(&loaded, seed, &out)
                .with_context(|| format!("run of {} failed", scenario.display()))?;
            for w in &outcome.warnings {
                eprintln!("warning: {w}");
            }
            if outcome.skipped_rows > 0 {
                eprintln!(
                    "warning: {} bad trace row(s) skipped or repaired (--lenient); the first: {}",
                    outcome.skipped_rows,
                    outcome.first_skipped.as_deref().unwrap_or("?")
                );
            }
            if !quiet {
                let s = &outcome.summary;
                println!(
                    "{}: {} invocations, {} completed, {} dropped, cold-start ratio {:.4}, \
                     latency p50 {:.1} ms / p99 {:.1} ms, idle memory {:.1} GB-s, cost ${:.6}",
                    s.scenario,
                    s.invocations,
                    s.completed,
                    s.dropped,
                    s.cold_start_ratio,
                    s.latency_p50_ms,
                    s.latency_p99_ms,
                    s.wasted_memory_gb_s,
                    s.user_cost_usd
                );
                if s.throttled + s.failed + s.timed_out + s.retries > 0 {
                    println!(
                        "{} throttled, {} failed, {} timed out, {} asynchronous retries; goodput {:.4}",
                        s.throttled, s.failed, s.timed_out, s.retries, s.goodput
                    );
                }
                println!(
                    "simulated in {:.2} s ({:.0} invocations/s); results in {}/",
                    s.wall_s,
                    s.wall_invocations_per_s,
                    outcome.out_dir.display()
                );
            }
            Ok(())
        }
        Command::Sweep {
            experiment,
            out,
            jobs,
            shard,
            quiet,
            overrides,
            baseline,
        } => {
            let plan_options = faasim_experiments::sweep::PlanOptions {
                overrides,
                baseline,
            };
            let plan = faasim_experiments::sweep::plan_with(&experiment, &plan_options)?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
            let jobs = jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(faasim_experiments::limits::MAX_JOBS)
            });
            let opts = faasim_experiments::sweep::SweepOptions {
                out_dir: out.clone(),
                jobs,
                shard,
                progress: !quiet,
                plan: plan_options,
            };
            if !quiet {
                let seeds: Vec<String> = plan.seeds.iter().map(|s| s.to_string()).collect();
                println!(
                    "{}: {} runs, seeds {} (replication r of every configuration runs with the r-th seed)",
                    plan.name,
                    plan.runs.len(),
                    seeds.join(", ")
                );
                if let Some(first) = plan.runs.first() {
                    println!(
                        "rerun one run alone, e.g. {}: {}",
                        first.id,
                        plan.rerun_command(first)
                    );
                }
            }
            let o = faasim_experiments::sweep::sweep(&experiment, &opts)
                .with_context(|| format!("sweep of {} failed", experiment.display()))?;
            for (id, w) in &o.warnings {
                eprintln!("warning: {id}: {w}");
            }
            if !quiet {
                println!(
                    "{}: {} runs ({} run now, {} already done), {} invocations in {:.2} s; results in {}/",
                    plan.name,
                    o.planned,
                    o.ran,
                    o.skipped,
                    o.invocations,
                    o.wall_s,
                    out.display()
                );
            }
            Ok(())
        }
        Command::Course { dir, out, check } => {
            let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
            let n = faasim_experiments::course::run(&dir, &out, jobs, check)?;
            println!(
                "{n} lessons {}; results and figures in {}/",
                if check { "are current" } else { "written" },
                out.display()
            );
            Ok(())
        }
        Command::Vm {
            command: VmCommand::List { table },
        } => {
            use faasim_experiments::instance_table as it;
            let t = match &table {
                Some(p) => {
                    let text = std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read {}", p.display()))?;
                    it::parse_instance_table(&text, &p.display().to_string())?
                }
                None => it::default_instance_table(),
            };
            match &table {
                None => println!(
                    "EC2 US East (N. Virginia), prices of {}, USD per hour ({}):",
                    it::DEFAULT_INSTANCE_TABLE_DATE,
                    it::DEFAULT_INSTANCE_TABLE_NAME
                ),
                Some(p) => println!("{}, USD per hour:", p.display()),
            }
            let usd =
                |p: Option<u64>| p.map_or("-".to_owned(), |p| format!("{:.4}", p as f64 / 1e10));
            let mut types: Vec<_> = t.types.iter().collect();
            let per_vcpu = |x: &faasim_sim::vm::InstanceType| {
                x.linux_on_demand
                    .map_or(f64::INFINITY, |p| p as f64 / x.vcpus as f64)
            };
            types.sort_by(|a, b| {
                per_vcpu(a)
                    .total_cmp(&per_vcpu(b))
                    .then(a.api_name.cmp(&b.api_name))
            });
            let tab = faasim_experiments::table::Table {
                header: [
                    "instance_type",
                    "vcpus",
                    "memory_gib",
                    "linux_on_demand",
                    "per_vcpu",
                    "linux_reserved_1y",
                    "windows_on_demand",
                    "burstable",
                ]
                .iter()
                .map(|h| h.to_string())
                .collect(),
                rows: types
                    .iter()
                    .map(|x| {
                        vec![
                            x.api_name.clone(),
                            x.vcpus.to_string(),
                            if x.memory_mib == 0 {
                                "-".into()
                            } else {
                                format!("{:.1}", x.memory_mib as f64 / 1024.0)
                            },
                            usd(x.linux_on_demand),
                            x.linux_on_demand.map_or("-".into(), |p| {
                                format!("{:.4}", p as f64 / 1e10 / x.vcpus as f64)
                            }),
                            usd(x.linux_reserved_1y),
                            usd(x.windows_on_demand),
                            if x.burstable {
                                "burstable".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect(),
            };
            print!("{}", tab.to_text());
            println!("[vm] instance_type = \"cheapest\" picks the lowest per-vCPU price whose memory holds one execution of the largest function per vCPU; burstable types only with allow_burstable = true.");
            Ok(())
        }
        Command::Table {
            dir,
            metrics,
            baseline,
            markdown,
        } => {
            let t = faasim_experiments::table::table(
                &dir,
                &faasim_experiments::table::TableOptions { metrics, baseline },
            )?;
            print!(
                "{}",
                if markdown {
                    t.to_markdown()
                } else {
                    t.to_text()
                }
            );
            Ok(())
        }
        Command::Plot { dir, out, run } => {
            let out = out.unwrap_or_else(|| dir.join("figures"));
            faasim_experiments::output::check_output_dir(&out)?;
            let report =
                faasim_plots::plot_dir_with(&dir, &out, &faasim_plots::PlotOptions { run })
                    .with_context(|| format!("cannot plot {}", dir.display()))?;
            for note in &report.skipped {
                println!("skipped {note}");
            }
            for note in &report.notes {
                println!("{note}");
            }
            println!(
                "{} figure files in {}/",
                report.written.len(),
                out.display()
            );
            Ok(())
        }
        Command::Trace {
            command:
                TraceCommand::Convert {
                    scenario,
                    out,
                    seed,
                    overrides,
                },
        } => {
            let loaded = faasim_experiments::load(&scenario, &overrides)?;
            let seed = seed.unwrap_or(loaded.scenario.seed);
            let mut trace = loaded.open_trace(seed)?;
            let file = faasim_experiments::output::AtomicFile::create(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            let mut w = std::io::BufWriter::new(file);
            let modes = trace.has_modes();
            let n = faasim_traces::convert_to_csv_with(trace.source_mut(), &mut w, modes)?;
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.commit()
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("{n} invocations written to {}", out.display());
            Ok(())
        }
        Command::Trace {
            command:
                TraceCommand::Stats {
                    scenario,
                    out,
                    seed,
                    overrides,
                    lenient,
                },
        } => {
            let mut loaded = faasim_experiments::load(&scenario, &overrides)?;
            loaded.lenient = lenient;
            let seed = seed.unwrap_or(loaded.scenario.seed);
            let mut trace = loaded.open_trace(seed)?;
            let stats = trace.stats(&faasim_traces::StatsOptions::default())?;
            println!("{stats}");
            if trace.skipped_rows() > 0 {
                eprintln!(
                    "warning: {} bad trace row(s) skipped or repaired (--lenient)",
                    trace.skipped_rows()
                );
            }
            if let Some(out) = out {
                let file = faasim_experiments::output::AtomicFile::create(&out)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                let mut w = std::io::BufWriter::new(file);
                stats.write_csv(&mut w)?;
                let file = w.into_inner().map_err(|e| e.into_error())?;
                file.commit()
                    .with_context(|| format!("cannot write {}", out.display()))?;
                println!("written to {}", out.display());
            }
            Ok(())
        }
        Command::Trace {
            command:
                TraceCommand::Fetch {
                    dataset,
                    out,
                    mirror,
                    quiet,
                },
        } => {
            use faasim_experiments::fetch;
            let d = fetch::dataset(&dataset)?;
            println!("{}: {}", d.name, d.about);
            let report = fetch::fetch(
                &d,
                &out,
                &fetch::FetchOptions {
                    mirror,
                    progress: !quiet,
                },
            )
            .with_context(|| format!("fetch of {} failed", d.name))?;
            for line in &report.lines {
                println!("{line}");
            }
            println!(
                "{} files in {}/; a scenario reads them with:\n",
                report.files.len(),
                out.display()
            );
            println!("{}", fetch::trace_table(&d, &out, &report.files));
            Ok(())
        }
        Command::Compare { dirs } => {
            const COLUMNS: [&str; 14] = [
                "platform",
                "invocations",
                "completed",
                "dropped",
                "cold_start_ratio",
                "latency_p50_ms",
                "latency_p95_ms",
                "latency_p99_ms",
                "queue_delay_mean_ms",
                "peak_instances",
                "cpu_utilisation",
                "wasted_memory_gb_s",
                "user_cost_usd",
                "provider_cost_usd",
            ];
            let mut table: Vec<Vec<String>> = vec![];
            for d in &dirs {
                let path = d.join("summary.csv");
                let mut r = csv::Reader::from_path(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let header = r.headers()?.clone();
                let row = r
                    .records()
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("{}: no row", path.display()))??;
                let col = |name: &str| -> String {
                    header
                        .iter()
                        .position(|h| h == name)
                        .and_then(|i| row.get(i))
                        .map(|v| match v.parse::<f64>() {
                            Ok(x) if v.contains('.') => format!("{x:.4}"),
                            _ => v.to_string(),
                        })
                        .unwrap_or_else(|| "-".into())
                };
                table.push(COLUMNS.iter().map(|c| col(c)).collect());
            }
            print!("{:<22}", "");
            for d in &dirs {
                print!(
                    " {:>18}",
                    d.file_name().map_or_else(
                        || d.display().to_string(),
                        |n| n.to_string_lossy().into_owned()
                    )
                );
            }
            println!();
            for (i, c) in COLUMNS.iter().enumerate() {
                print!("{c:<22}");
                for t in &table {
                    print!(" {:>18}", t[i]);
                }
                println!();
            }
            Ok(())
        }
        Command::Validate {
            out,
            cases,
            allow_skip,
        } => {
            use faasim_experiments::validate::{self, Status};
            let known: Vec<&str> = validate::cases().iter().map(|c| c.name).collect();
            if let Some(bad) = cases.iter().find(|c| !known.contains(&c.as_str())) {
                anyhow::bail!("unknown case `{bad}`; the cases are: {}", known.join(", "));
            }
            faasim_experiments::output::check_output_dir(&out)?;
            let traces = validate::traces_dir();
            println!("traces: {}", traces.display());
            println!(
                "{:<22} {:<64} {:>14} {:>14} {:>12} {:>12}  status",
                "case", "check", "expected", "measured", "std error", "tolerance"
            );
            let num = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{v:.6}"));
            let outcomes = validate::validate(&out, &cases, &traces, |o| {
                for c in &o.checks {
                    println!(
                        "{:<22} {:<64} {:>14.6} {:>14} {:>12} {:>12.6}  {}{}",
                        c.case,
                        c.check,
                        c.expected,
                        num(c.measured),
                        num(c.standard_error),
                        c.tolerance,
                        c.status,
                        if c.note.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", c.note)
                        }
                    );
                }
                println!(
                    "{:<22} {} checks in {:.2} s",
                    o.name,
                    o.checks.len(),
                    o.wall_s
                );
            })
            .with_context(|| format!("cannot write {}", out.display()))?;
            let count = |s: Status| {
                outcomes
                    .iter()
                    .flat_map(|o| &o.checks)
                    .filter(|c| c.status == s)
                    .count()
            };
            let (passed, failed, skipped) = (
                count(Status::Pass),
                count(Status::Fail),
                count(Status::Skip),
            );
            println!(
                "{passed} passed, {failed} failed, {skipped} skipped in {:.2} s; CSV files in {}/",
                outcomes.iter().map(|o| o.wall_s).sum::<f64>(),
                out.display()
            );
            if failed > 0 {
                anyhow::bail!("{failed} validation check(s) failed");
            }
            if skipped > 0 && !allow_skip {
                anyhow::bail!(
                    "{skipped} validation check(s) skipped: their data is missing under {} \
                     (set FAASIM_TRACES, or pass --allow-skip to accept skips)",
                    traces.display()
                );
            }
            Ok(())
        }
        Command::Merge { dirs, out } => {
            let n = faasim_experiments::sweep::merge(&dirs, &out)?;
            println!("merged {} runs into {}/", n, out.display());
            Ok(())
        }
    }
}
