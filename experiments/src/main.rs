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
        /// Output directory (default: results/<scenario name>/).
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            overrides,
            quiet,
        } => {
            let loaded = faasim_experiments::load(&scenario, &overrides)?;
            let seed = seed.unwrap_or(loaded.scenario.seed);
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&loaded.scenario.name));
            let outcome = faasim_experiments::run_scenario(&loaded, seed, &out)
                .with_context(|| format!("run of {} failed", scenario.display()))?;
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
                println!(
                    "simulated in {:.2} s ({:.0} invocations/s); results in {}/",
                    s.wall_s,
                    s.wall_invocations_per_s,
                    outcome.out_dir.display()
                );
            }
            Ok(())
        }
    }
}
