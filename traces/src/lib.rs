//! # faasim-traces: where workloads come from
//!
//! The engine replays a *workload*: a table of functions and a time-ordered stream of
//! arrivals ([`faasim_sim::ArrivalSource`]). This crate produces that stream, either from a
//! trace file or from a generator, and never holds the whole of it in memory: a source hands
//! the engine one arrival at a time and registers functions in the engine's
//! [`FunctionTable`] as it first meets them.
//!
//! ## Choosing a trace
//! A scenario's `[trace]` table is a [`TraceSpec`], tagged by `format`:
//!
//! ```toml
//! [trace]
//! format = "csv"
//! path = "traces/day1.csv"    # relative to the scenario file's folder
//! ```
//!
//! ```toml
//! [trace]
//! format = "synthetic"        # all other keys optional, see SyntheticSpec
//! rate_per_s = 20
//! ```
//!
//! [`open`] turns a spec into an [`OpenTrace`], ready for `faasim_sim::run`.
//!
//! ## The canonical CSV trace
//! One row per invocation with the columns `timestamp_ms,function,duration_ms,memory_mb`
//! (found by name, in any order, extra columns allowed) and optionally `cold_start_ms`; see
//! [`csv`] for the exact rules. Readers for other published formats are meant to convert to
//! this one. Milliseconds become integer microseconds once, at the reader.
//!
//! ## The synthetic generator
//! Zipf-distributed function popularity, Poisson or bursty (two-state Markov-modulated)
//! arrivals, lognormal per-function durations and memory; see [`synthetic`]. It draws from
//! the run seed's named streams (`functions`, `arrivals`, `durations`), never from a policy's
//! stream, so every policy of a comparison sees exactly the same invocations.
//!
//! ## Reproducibility
//! A CSV source computes the SHA-256 of the bytes it reads while it streams them (no second
//! pass); [`OpenTrace::checksum_hex`] gives it once the run has read the file to its end, for
//! the run's manifest. A generated trace is reproduced by its parameters and seed instead.
//!
//! ## Errors
//! Bad input is a [`TraceError`], never a panic: one line that names the file, the line
//! (1-based, the header is line 1), the column, what was expected and what was found. The
//! engine receives it boxed as a `SourceError` and stops the run.

pub mod csv;
mod error;
pub mod synthetic;

pub use crate::csv::CsvSource;
pub use crate::error::TraceError;
pub use crate::synthetic::{ArrivalPattern, SyntheticSource, SyntheticSpec};

use faasim_sim::{Arrival, ArrivalSource, FunctionTable, SimTime, SourceError};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The `[trace]` table of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TraceSpec {
    /// A canonical CSV trace; a relative `path` is relative to the scenario file's folder.
    Csv { path: PathBuf },
    /// The built-in generator.
    Synthetic(SyntheticSpec),
}

impl TraceSpec {
    /// Checks what can be checked without opening files (the generator's parameters).
    pub fn validate(&self) -> Result<(), TraceError> {
        match self {
            TraceSpec::Csv { .. } => Ok(()),
            TraceSpec::Synthetic(s) => s.validate(),
        }
    }
}

/// An opened trace: an arrival source for the engine, plus what the manifest records.
#[derive(Debug)]
pub struct OpenTrace {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Csv(CsvSource<File>),
    Synthetic(SyntheticSource),
}

impl OpenTrace {
    /// The source to hand to `faasim_sim::run`.
    pub fn source_mut(&mut self) -> &mut dyn ArrivalSource {
        match &mut self.inner {
            Inner::Csv(s) => s,
            Inner::Synthetic(s) => s,
        }
    }

    /// The hex SHA-256 of the trace file, once the run has read it to its end (every
    /// successful run does); `None` before that and for generated traces.
    pub fn checksum_hex(&self) -> Option<String> {
        match &self.inner {
            Inner::Csv(s) => s.checksum_hex(),
            Inner::Synthetic(_) => None,
        }
    }
}

impl ArrivalSource for OpenTrace {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        self.source_mut().next_arrival(functions)
    }

    fn horizon(&self) -> Option<SimTime> {
        match &self.inner {
            Inner::Csv(s) => s.horizon(),
            Inner::Synthetic(s) => s.horizon(),
        }
    }
}

/// Opens the trace `spec` describes. A relative CSV path is resolved against `base_dir`
/// (the scenario file's folder); `seed` is the run seed, used by generators. A CSV file's
/// header is read now, so a missing file or column fails before the run starts.
pub fn open(spec: &TraceSpec, base_dir: &Path, seed: u64) -> Result<OpenTrace, TraceError> {
    let inner = match spec {
        TraceSpec::Csv { path } => Inner::Csv(CsvSource::from_path(&base_dir.join(path))?),
        TraceSpec::Synthetic(s) => Inner::Synthetic(SyntheticSource::new(s, seed)?),
    };
    Ok(OpenTrace { inner })
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_sim::DistSpec;

    /// Parses a `[trace]` table as a scenario would.
    fn parse(text: &str) -> Result<TraceSpec, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Scenario {
            trace: TraceSpec,
        }
        toml::from_str::<Scenario>(text)
            .map(|s| s.trace)
            .map_err(|e| e.to_string())
    }

    fn round_trip(spec: &TraceSpec) {
        let text = toml::to_string(spec).unwrap();
        let back: TraceSpec = toml::from_str(&text).unwrap();
        assert_eq!(&back, spec, "{text}");
    }

    #[test]
    fn synthetic_alone_is_all_defaults() {
        let spec = parse("[trace]\nformat = \"synthetic\"\n").unwrap();
        assert_eq!(spec, TraceSpec::Synthetic(SyntheticSpec::default()));
        round_trip(&spec);
    }

    #[test]
    fn every_synthetic_key_parses_and_round_trips() {
        let spec = parse(
            r#"
            [trace]
            format = "synthetic"
            functions = 50
            duration_s = 600
            rate_per_s = 2.5
            zipf_s = 0.8
            arrivals = "bursty"
            burst_factor = 3
            burst_on_s = 5
            burst_off_s = 20.5
            duration_median_ms = 80
            duration_sigma = 0.5
            invocation_sigma = 0.1
            duration_ms = { dist = "exponential", mean_ms = 50 }
            memory_median_mb = 512
            memory_sigma = 0.25
            memory_min_mb = 64
            memory_max_mb = 10240
            memory_mb = 1024
            "#,
        )
        .unwrap();
        let expected = TraceSpec::Synthetic(SyntheticSpec {
            functions: 50,
            duration_s: 600.0,
            rate_per_s: 2.5,
            zipf_s: 0.8,
            arrivals: ArrivalPattern::Bursty,
            burst_factor: 3.0,
            burst_on_s: 5.0,
            burst_off_s: 20.5,
            duration_median_ms: 80.0,
            duration_sigma: 0.5,
            invocation_sigma: 0.1,
            duration_ms: Some(DistSpec::Exponential { mean_ms: 50.0 }),
            memory_median_mb: 512.0,
            memory_sigma: 0.25,
            memory_min_mb: 64,
            memory_max_mb: 10240,
            memory_mb: Some(1024),
        });
        assert_eq!(spec, expected);
        assert!(spec.validate().is_ok());
        round_trip(&spec);
    }

    #[test]
    fn csv_parses_and_round_trips() {
        let spec = parse("[trace]\nformat = \"csv\"\npath = \"traces/day1.csv\"\n").unwrap();
        assert_eq!(
            spec,
            TraceSpec::Csv {
                path: "traces/day1.csv".into()
            }
        );
        round_trip(&spec);
    }

    #[test]
    fn unknown_keys_and_formats_are_named() {
        let e = parse("[trace]\nformat = \"synthetic\"\nrate_per_sec = 3\n").unwrap_err();
        assert!(e.contains("unknown field `rate_per_sec`"), "{e}");
        let e = parse("[trace]\nformat = \"csv\"\npath = \"a.csv\"\nlenient = true\n").unwrap_err();
        assert!(e.contains("unknown field `lenient`"), "{e}");
        let e = parse("[trace]\nformat = \"azure\"\n").unwrap_err();
        assert!(e.contains("unknown variant `azure`"), "{e}");
        let e = parse("[trace]\nformat = \"csv\"\n").unwrap_err();
        assert!(e.contains("missing field `path`"), "{e}");
        let e = parse("[trace]\npath = \"a.csv\"\n").unwrap_err();
        assert!(e.contains("format"), "{e}");
        let e = parse("[trace]\nformat = \"synthetic\"\narrivals = \"poison\"\n").unwrap_err();
        assert!(e.contains("poison"), "{e}");
        let e = parse(
            "[trace]\nformat = \"synthetic\"\nduration_ms = { dist = \"exponential\", mean = 5 }\n",
        )
        .unwrap_err();
        assert!(e.contains("unknown field `mean`"), "{e}");
    }

    #[test]
    fn sources_can_move_to_worker_threads() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<OpenTrace>();
        assert_send::<CsvSource<File>>();
        assert_send::<SyntheticSource>();
    }

    #[test]
    fn validate_checks_generator_parameters_without_opening_anything() {
        let bad = TraceSpec::Synthetic(SyntheticSpec {
            rate_per_s: -1.0,
            ..SyntheticSpec::default()
        });
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("rate_per_s"));
        let csv = TraceSpec::Csv {
            path: "does/not/exist.csv".into(),
        };
        assert!(csv.validate().is_ok());
    }
}
