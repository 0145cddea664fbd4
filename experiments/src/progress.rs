//! The progress bar of a single `faasim run` on a terminal: simulated time against the
//! trace's horizon (when the trace has one), invocations per second and an ETA. Silent when
//! stderr is not a terminal (a pipe, a CI log, a sweep's worker), so outputs and logs stay
//! clean.

use faasim_sim::SimTime;
use std::io::IsTerminal;
use std::time::Instant;

/// Arrivals between two updates: a counter check per arrival and a redraw about every
/// few milliseconds at full speed.
const EVERY: u64 = 1 << 16;

/// Reports how far a run has read its trace.
pub(crate) struct RunProgress {
    bar: indicatif::ProgressBar,
    started: Instant,
    /// The trace's end, seconds, if it has one (the bar's length).
    horizon_s: Option<u64>,
    seen: u64,
}

impl RunProgress {
    /// A progress bar, if stderr is a terminal; `horizon` is the trace's nominal end.
    pub(crate) fn on_terminal(horizon: Option<SimTime>) -> Option<RunProgress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let horizon_s = horizon.map(|h| h.as_micros().div_ceil(1_000_000).max(1));
        let (bar, template) = match horizon_s {
            Some(len) => (
                indicatif::ProgressBar::new(len),
                "{bar:30} simulated {pos}/{len} s  {msg}  elapsed {elapsed}  ETA {eta}",
            ),
            None => (
                indicatif::ProgressBar::new_spinner(),
                "{spinner} simulated {pos} s  {msg}  elapsed {elapsed}",
            ),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(RunProgress {
            bar,
            started: Instant::now(),
            horizon_s,
            seen: 0,
        })
    }

    /// Counts one arrival at `time`; redraws every [`EVERY`] arrivals.
    #[inline]
    pub(crate) fn arrival(&mut self, time: SimTime) {
        self.seen += 1;
        let n = self.seen;
        if n.is_multiple_of(EVERY) {
            let s = time.as_micros() / 1_000_000;
            self.bar
                .set_position(self.horizon_s.map_or(s, |h| s.min(h)));
            let rate = n as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            self.bar.set_message(format!(
                "{:.1} M invocations, {:.2} M/s",
                n as f64 / 1e6,
                rate / 1e6
            ));
        }
    }

    /// Removes the bar (the run prints its own summary).
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
