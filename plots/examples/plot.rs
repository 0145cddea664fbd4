//! Draws the figures of a run or sweep directory:
//! `cargo run --release -p faasim-plots --example plot -- DIR [OUT] [RUN-ID]`
//! (OUT defaults to `DIR/figures`; RUN-ID picks the time series of one run of a sweep).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: plot DIR [OUT] [RUN-ID]");
        return ExitCode::FAILURE;
    };
    let out = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("figures"));
    let options = faasim_plots::PlotOptions {
        run: args.get(2).cloned(),
    };
    match faasim_plots::plot_dir_with(&dir, &out, &options) {
        Ok(report) => {
            for f in &report.written {
                println!("wrote {}", f.display());
            }
            for s in &report.skipped {
                println!("skipped {s}");
            }
            for n in &report.notes {
                println!("{n}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
