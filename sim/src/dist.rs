//! Duration distributions used for cold starts (and by workload generators for execution
//! times), plus the named cold-start presets of the isolation generations.
//!
//! Parameters are in milliseconds, as users write them; samples are whole microseconds.

use crate::rng::SimRng;
use crate::time::SimDuration;
use rand_distr::{Distribution, Exp, LogNormal, Normal};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::sync::Arc;

/// A distribution of durations, tagged by `dist`.
///
/// ```toml
/// cold_start_ms = { dist = "lognormal", median_ms = 150, sigma = 0.25 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DistSpec {
    /// Always `value_ms`.
    Constant {
        /// The duration, ms (>= 0).
        value_ms: f64,
    },
    /// Exponential with mean `mean_ms`.
    Exponential {
        /// The mean, ms (> 0).
        mean_ms: f64,
    },
    /// Lognormal: `median_ms` = e^mu, `sigma` the standard deviation of the log.
    Lognormal {
        /// The median, ms (> 0).
        median_ms: f64,
        /// The standard deviation of the natural log of the duration (>= 0, no unit).
        sigma: f64,
    },
    /// Normal, truncated at zero (negative draws become 0).
    Normal {
        /// The mean before truncation, ms.
        mean_ms: f64,
        /// The standard deviation, ms.
        std_ms: f64,
    },
    /// Empirical: the inverse CDF interpolated linearly between the sorted sample values,
    /// each value at quantile i/(n-1).
    Empirical {
        /// The sample values, ms, in any order (at least one).
        values_ms: Vec<f64>,
    },
    /// Recorded starts, each drawn whole: see [`Recorded`].
    Recorded(Recorded),
}

/// A table of recorded starts, each the sum of named parts (a production cold start split
/// into pod allocation, code deployment, ...): a draw picks one recorded row uniformly at
/// random and returns the sum of its parts.
///
/// A whole row is drawn, rather than each part from its own column independently, so that
/// the parts keep the dependence they had in production: in Huawei's 2025 release the
/// parts of one cold start are strongly correlated (Joosen et al., EuroSys'25, Fig. 12:
/// Spearman 0.7 between dependency deployment and scheduling in Regions 1 and 5), and a sum
/// of independent draws would give totals that were never observed, with a thinner tail
/// than the recorded one. Every part still follows its own recorded distribution, and the
/// total follows the recorded totals exactly.
///
/// ```toml
/// cold_start_ms = { dist = "recorded", parts = ["boot", "init"], rows_ms = [[120, 30], [400, 90]] }
/// ```
///
/// The rows are held behind an `Arc`, so functions that share a table (all functions of a
/// pool, say) share one copy, and a clone is cheap.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RecordedText", into = "RecordedText")]
pub struct Recorded {
    parts: Arc<[String]>,
    /// Row-major: `rows × parts.len()` values, µs.
    values_us: Arc<[u64]>,
}

/// Two tables are equal when they hold the same parts and rows (shared ones at once).
impl PartialEq for Recorded {
    fn eq(&self, other: &Self) -> bool {
        (Arc::ptr_eq(&self.values_us, &other.values_us) || self.values_us == other.values_us)
            && self.parts == other.parts
    }
}

impl Recorded {
    /// A table of `parts` (at least one, at most 64, distinct names) and row-major
    /// `values_us` (a whole number of rows, at least one; every value at most
    /// [`TIME_LIMIT`](crate::TIME_LIMIT), so no row's total overflows).
    pub fn new(parts: Vec<String>, values_us: Vec<u64>) -> Result<Self, String> {
        if parts.is_empty() || parts.len() > MAX_PARTS {
            return Err(format!(
                "`parts` must name from 1 to {MAX_PARTS} parts, got {}",
                parts.len()
            ));
        }
        for (i, p) in parts.iter().enumerate() {
            if parts[..i].contains(p) {
                return Err(format!("`parts` names `{p}` twice"));
            }
        }
        if values_us.is_empty() {
            return Err("`rows_ms` must hold at least one row".into());
        }
        let limit = crate::TIME_LIMIT.as_micros();
        if let Some(v) = values_us.iter().find(|&&v| v > limit) {
            return Err(format!(
                "a recorded part of {} ms is beyond the longest span faasim simulates ({} ms, 100 years)",
                *v as f64 / 1e3,
                limit / 1000
            ));
        }
        if !values_us.len().is_multiple_of(parts.len()) {
            return Err(format!(
                "every row of `rows_ms` must have {} values, one per part",
                parts.len()
            ));
        }
        Ok(Recorded {
            parts: parts.into(),
            values_us: values_us.into(),
        })
    }

    /// The names of the parts, in the order of each row's values.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }

    /// The number of recorded rows.
    pub fn rows(&self) -> usize {
        self.values_us.len() / self.parts.len()
    }

    /// Row `i`'s parts, µs.
    pub fn row(&self, i: usize) -> &[u64] {
        let n = self.parts.len();
        &self.values_us[i * n..(i + 1) * n]
    }

    /// Row `i`'s total (the sum of its parts), µs.
    pub fn total_us(&self, i: usize) -> u64 {
        self.row(i).iter().sum()
    }

    /// The mean total over the rows, ms.
    pub fn mean_ms(&self) -> f64 {
        let sum: u128 = self.values_us.iter().map(|&v| v as u128).sum();
        sum as f64 / self.rows() as f64 / 1e3
    }

    /// The largest single part value, µs (for range checks).
    pub fn max_part_us(&self) -> u64 {
        self.values_us.iter().copied().max().unwrap_or(0)
    }

    /// The largest row total, µs.
    pub fn max_total_us(&self) -> u64 {
        (0..self.rows())
            .map(|i| self.total_us(i))
            .max()
            .unwrap_or(0)
    }
}

/// The most parts a [`Recorded`] table may have (64 parts of at most 100 years each add up
/// to well within a `u64` of µs).
pub const MAX_PARTS: usize = 64;

/// [`Recorded`] as written in a scenario: part names and rows of milliseconds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordedText {
    parts: Vec<String>,
    rows_ms: Vec<Vec<f64>>,
}

impl TryFrom<RecordedText> for Recorded {
    type Error = String;
    fn try_from(t: RecordedText) -> Result<Self, String> {
        let mut values = Vec::with_capacity(t.rows_ms.len() * t.parts.len());
        for (i, row) in t.rows_ms.iter().enumerate() {
            if row.len() != t.parts.len() {
                return Err(format!(
                    "row {} of `rows_ms` has {} values, expected {} (one per part)",
                    i + 1,
                    row.len(),
                    t.parts.len()
                ));
            }
            for &v in row {
                let d = SimDuration::try_from_ms_f64(v).ok_or_else(|| {
                    format!(
                        "`rows_ms` must hold finite numbers of ms >= 0, got {v} in row {}",
                        i + 1
                    )
                })?;
                values.push(d.as_micros());
            }
        }
        Recorded::new(t.parts, values)
    }
}

impl From<Recorded> for RecordedText {
    fn from(r: Recorded) -> Self {
        RecordedText {
            parts: r.parts.to_vec(),
            rows_ms: (0..r.rows())
                .map(|i| r.row(i).iter().map(|&us| us as f64 / 1e3).collect())
                .collect(),
        }
    }
}

impl DistSpec {
    /// Checks the parameters, naming the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        let finite_nonneg = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("`{name}` must be a finite number >= 0, got {v}"))
            }
        };
        match self {
            DistSpec::Constant { value_ms } => finite_nonneg("value_ms", *value_ms),
            DistSpec::Exponential { mean_ms } => {
                finite_nonneg("mean_ms", *mean_ms)?;
                if *mean_ms == 0.0 {
                    return Err("`mean_ms` must be > 0".into());
                }
                Ok(())
            }
            DistSpec::Lognormal { median_ms, sigma } => {
                finite_nonneg("median_ms", *median_ms)?;
                finite_nonneg("sigma", *sigma)?;
                if *median_ms == 0.0 {
                    return Err("`median_ms` must be > 0".into());
                }
                Ok(())
            }
            DistSpec::Normal { mean_ms, std_ms } => {
                finite_nonneg("mean_ms", *mean_ms)?;
                finite_nonneg("std_ms", *std_ms)
            }
            DistSpec::Empirical { values_ms } => {
                if values_ms.is_empty() {
                    return Err("`values_ms` must not be empty".into());
                }
                for v in values_ms {
                    finite_nonneg("values_ms", *v)?;
                }
                Ok(())
            }
            // Checked when it was built (`Recorded::new`): parts, whole rows, µs >= 0.
            DistSpec::Recorded(_) => Ok(()),
        }
    }

    /// The mean in milliseconds (for documentation and for tests against theory).
    pub fn mean_ms(&self) -> f64 {
        match self {
            DistSpec::Constant { value_ms } => *value_ms,
            DistSpec::Exponential { mean_ms } => *mean_ms,
            DistSpec::Lognormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
            DistSpec::Normal { mean_ms, .. } => *mean_ms,
            DistSpec::Empirical { values_ms } => {
                // Mean of the piecewise-linear inverse CDF.
                let mut v = values_ms.clone();
                v.sort_by(f64::total_cmp);
                if v.len() == 1 {
                    return v[0];
                }
                let segs = (v.len() - 1) as f64;
                v.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum::<f64>() / segs
            }
            DistSpec::Recorded(r) => r.mean_ms(),
        }
    }
}

/// A validated, ready-to-sample distribution.
#[derive(Debug, Clone)]
pub enum Sampler {
    /// Always this duration, already in µs.
    Constant(SimDuration),
    /// Exponential, drawing ms.
    Exponential(Exp<f64>),
    /// Lognormal, drawing ms.
    Lognormal(LogNormal<f64>),
    /// Normal, drawing ms (negative draws clamp to zero).
    Normal(Normal<f64>),
    /// The sample values in ms, sorted, for the interpolated inverse CDF.
    Empirical(Vec<f64>),
    /// Recorded rows, one drawn uniformly per sample.
    Recorded(Recorded),
}

/// One draw with its breakdown: the duration, and for a [`Sampler::Recorded`] the row drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    /// The drawn duration.
    pub duration: SimDuration,
    /// The recorded row it came from (its parts: [`Recorded::row`]), if any.
    pub row: Option<usize>,
}

impl Sampler {
    /// Validates `spec` and prepares it for sampling; the error names the bad parameter.
    pub fn new(spec: &DistSpec) -> Result<Self, String> {
        spec.validate()?;
        Ok(match spec {
            DistSpec::Constant { value_ms } => Sampler::Constant(
                SimDuration::try_from_ms_f64(*value_ms).ok_or("value out of range")?,
            ),
            DistSpec::Exponential { mean_ms } => {
                Sampler::Exponential(Exp::new(1.0 / mean_ms).map_err(|e| e.to_string())?)
            }
            DistSpec::Lognormal { median_ms, sigma } => Sampler::Lognormal(
                LogNormal::new(median_ms.ln(), *sigma).map_err(|e| e.to_string())?,
            ),
            DistSpec::Normal { mean_ms, std_ms } => {
                Sampler::Normal(Normal::new(*mean_ms, *std_ms).map_err(|e| e.to_string())?)
            }
            DistSpec::Empirical { values_ms } => {
                let mut v = values_ms.clone();
                v.sort_by(f64::total_cmp);
                Sampler::Empirical(v)
            }
            DistSpec::Recorded(r) => Sampler::Recorded(r.clone()),
        })
    }

    /// One draw and, for recorded rows, which row it was. Draws the same random numbers as
    /// [`sample`](Self::sample): one `below(rows)` for recorded rows.
    pub fn draw(&self, rng: &mut SimRng) -> Draw {
        match self {
            Sampler::Recorded(r) => {
                let i = rng.below(r.rows() as u64) as usize;
                Draw {
                    duration: SimDuration(r.total_us(i)),
                    row: Some(i),
                }
            }
            _ => Draw {
                duration: self.sample(rng),
                row: None,
            },
        }
    }

    /// One draw, in whole microseconds (negative draws clamp to zero).
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let ms = match self {
            Sampler::Constant(d) => return *d,
            Sampler::Recorded(_) => return self.draw(rng).duration,
            Sampler::Exponential(d) => d.sample(rng),
            Sampler::Lognormal(d) => d.sample(rng),
            Sampler::Normal(d) => d.sample(rng),
            Sampler::Empirical(v) => {
                if v.len() == 1 {
                    v[0]
                } else {
                    let x = rng.unit_f64() * (v.len() - 1) as f64;
                    let i = (x as usize).min(v.len() - 2);
                    let frac = x - i as f64;
                    v[i] + (v[i + 1] - v[i]) * frac
                }
            }
        };
        SimDuration::try_from_ms_f64(ms.max(0.0)).unwrap_or(SimDuration::MAX)
    }
}

/// Named cold-start presets. Each is a lognormal with the median below and sigma 0.25 (about
/// ±30% between the 16th and 84th percentiles). What each includes differs: `lambda` is an
/// end-to-end cold start as a user sees it (sandbox, runtime and function initialisation);
/// `firecracker` is the microVM boot alone; `container` and `vm` are the start of the
/// sandbox with a language runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ColdStartPreset {
    /// End-to-end AWS Lambda cold start of a small function in an interpreted runtime
    /// (Node.js, Python), the default: median 300 ms. Manner et al., "Cold Start Influencing
    /// Factors in Function as a Service", WoSC'18 (IEEE/ACM UCC Companion), measured the
    /// cold-start overhead users see on AWS Lambda from about 300 ms (small JavaScript
    /// functions) to 24 s (large Java functions); 300 ms is the low end, right for the small
    /// functions that dominate production traces. Use `container`, a number or a table for
    /// heavier runtimes.
    #[default]
    Lambda,
    /// Firecracker microVM boot alone: median 150 ms. Agache et al., "Firecracker:
    /// Lightweight Virtualization for Serverless Applications", NSDI'20, boot a microVM in
    /// about 125 ms. Not an end-to-end cold start: no language runtime or function
    /// initialisation is included (see `lambda`).
    Firecracker,
    /// Container (Docker/runc with a language runtime): median 1.5 s. Mohan et al., "Agile
    /// Cold Starts for Scalable Serverless", HotCloud'19, and Oakes et al., "SOCK", ATC'18,
    /// measure container cold starts of about 1-2 s.
    Container,
    /// Full virtual machine: median 60 s. Mao & Humphrey, "A Performance Study on the VM
    /// Startup Time in the Cloud", CLOUD'12, measure about 40-100 s across providers.
    Vm,
}

impl ColdStartPreset {
    /// The preset as a distribution: a lognormal with its median (ms) and sigma 0.25.
    pub fn spec(self) -> DistSpec {
        let median_ms = match self {
            ColdStartPreset::Lambda => 300.0,
            ColdStartPreset::Firecracker => 150.0,
            ColdStartPreset::Container => 1_500.0,
            ColdStartPreset::Vm => 60_000.0,
        };
        DistSpec::Lognormal {
            median_ms,
            sigma: 0.25,
        }
    }
}

/// A cold-start latency as written in a scenario: a number of milliseconds, a preset name,
/// or a distribution table.
///
/// ```toml
/// cold_start_ms = 250
/// cold_start_ms = "firecracker"
/// cold_start_ms = { dist = "lognormal", median_ms = 1200, sigma = 0.3 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ColdStartSpec {
    /// A constant cold start, ms.
    Millis(f64),
    /// A named preset.
    Preset(ColdStartPreset),
    /// An explicit distribution.
    Dist(DistSpec),
}

impl Default for ColdStartSpec {
    fn default() -> Self {
        ColdStartSpec::Preset(ColdStartPreset::default())
    }
}

impl ColdStartSpec {
    /// The distribution the engine samples (a number becomes [`DistSpec::Constant`]).
    pub fn to_dist(&self) -> DistSpec {
        match self {
            ColdStartSpec::Millis(ms) => DistSpec::Constant { value_ms: *ms },
            ColdStartSpec::Preset(p) => p.spec(),
            ColdStartSpec::Dist(d) => d.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for ColdStartSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ColdStartSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "milliseconds (a number), a preset (\"lambda\", \"firecracker\", \"container\", \"vm\") \
                     or a table such as { dist = \"lognormal\", median_ms = 150, sigma = 0.25 }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if !v.is_finite() || v < 0.0 {
                    return Err(E::custom(format!(
                        "cold start must be >= 0 milliseconds, got {v}"
                    )));
                }
                Ok(ColdStartSpec::Millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                ColdStartPreset::deserialize(de::value::StrDeserializer::<E>::new(v))
                    .map(ColdStartSpec::Preset)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let spec = DistSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                spec.validate().map_err(de::Error::custom)?;
                Ok(ColdStartSpec::Dist(spec))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_means_match_spec_means() {
        let specs = [
            DistSpec::Exponential { mean_ms: 100.0 },
            DistSpec::Lognormal {
                median_ms: 100.0,
                sigma: 0.5,
            },
            DistSpec::Normal {
                mean_ms: 100.0,
                std_ms: 10.0,
            },
            DistSpec::Empirical {
                values_ms: vec![10.0, 20.0, 60.0],
            },
        ];
        for spec in specs {
            let s = Sampler::new(&spec).unwrap();
            let mut rng = SimRng::stream(1, "t");
            let n = 200_000;
            let mean = (0..n).map(|_| s.sample(&mut rng).as_ms_f64()).sum::<f64>() / n as f64;
            let expected = spec.mean_ms();
            assert!(
                (mean - expected).abs() / expected < 0.01,
                "{spec:?}: mean {mean} vs {expected}"
            );
        }
        // Empirical: segments [10,20] and [20,60] each half the mass: (15 + 40) / 2.
        assert_eq!(
            DistSpec::Empirical {
                values_ms: vec![60.0, 10.0, 20.0]
            }
            .mean_ms(),
            27.5
        );
    }

    #[test]
    fn bad_parameters_are_rejected_with_their_name() {
        let e = Sampler::new(&DistSpec::Lognormal {
            median_ms: -1.0,
            sigma: 0.1,
        })
        .unwrap_err();
        assert!(e.contains("median_ms"), "{e}");
        assert!(Sampler::new(&DistSpec::Empirical { values_ms: vec![] }).is_err());
        assert!(Sampler::new(&DistSpec::Exponential { mean_ms: 0.0 }).is_err());
    }
}

#[cfg(test)]
mod recorded_tests {
    use super::*;

    fn table(rows_ms: &[&[f64]]) -> Result<Recorded, String> {
        Recorded::try_from(RecordedText {
            parts: vec!["alloc".into(), "deploy".into()],
            rows_ms: rows_ms.iter().map(|r| r.to_vec()).collect(),
        })
    }

    #[test]
    fn a_draw_is_one_whole_recorded_row() {
        // Rows 120 + 30, 400 + 90 and 0 + 5 ms: every draw is one of the three totals
        // exactly, the row being the stream's `below(3)`.
        let r = table(&[&[120.0, 30.0], &[400.0, 90.0], &[0.0, 5.0]]).unwrap();
        assert_eq!(r.rows(), 3);
        assert_eq!(r.row(1), &[400_000, 90_000]);
        assert_eq!(r.total_us(2), 5_000);
        // (150 + 490 + 5) / 3 = 215 ms.
        assert_eq!(r.mean_ms(), 215.0);
        let s = Sampler::new(&DistSpec::Recorded(r.clone())).unwrap();
        let mut rng = SimRng::stream(9, "cold_starts");
        let mut twin = SimRng::stream(9, "cold_starts");
        let mut seen = [0u32; 3];
        for _ in 0..3000 {
            let d = s.draw(&mut rng);
            let i = twin.below(3) as usize;
            assert_eq!(d.row, Some(i));
            assert_eq!(d.duration, SimDuration(r.total_us(i)));
            seen[i] += 1;
        }
        // Uniform over rows: 1000 expected each, sd about 26.
        assert!(seen.iter().all(|&n| (880..1120).contains(&n)), "{seen:?}");
        // `sample` draws the same numbers as `draw`.
        let mut a = SimRng::stream(4, "x");
        let mut b = SimRng::stream(4, "x");
        for _ in 0..10 {
            assert_eq!(s.sample(&mut a), s.draw(&mut b).duration);
        }
        // Other kinds draw no row and keep their numbers.
        let e = Sampler::new(&DistSpec::Exponential { mean_ms: 5.0 }).unwrap();
        let mut a = SimRng::stream(4, "x");
        let mut b = SimRng::stream(4, "x");
        let d = e.draw(&mut a);
        assert_eq!((d.duration, d.row), (e.sample(&mut b), None));
    }

    #[test]
    fn bad_tables_are_refused_with_the_reason() {
        let e = table(&[&[1.0, 2.0], &[3.0]]).unwrap_err();
        assert!(
            e.contains("row 2 of `rows_ms` has 1 values, expected 2"),
            "{e}"
        );
        let e = table(&[&[1.0, -2.0]]).unwrap_err();
        assert!(
            e.contains("finite numbers of ms >= 0, got -2 in row 1"),
            "{e}"
        );
        let e = table(&[]).unwrap_err();
        assert!(e.contains("at least one row"), "{e}");
        let e = Recorded::new(vec![], vec![]).unwrap_err();
        assert!(e.contains("from 1 to 64 parts"), "{e}");
        let e = Recorded::new(vec!["a".into(), "a".into()], vec![1, 2]).unwrap_err();
        assert!(e.contains("names `a` twice"), "{e}");
        let e = Recorded::new(vec!["a".into()], vec![crate::TIME_LIMIT.as_micros() + 1]);
        assert!(e.unwrap_err().contains("beyond the longest span"));
    }

    #[test]
    fn shared_tables_compare_equal_and_round_trip_to_text() {
        let r = table(&[&[1.5, 2.0]]).unwrap();
        let shared = r.clone();
        assert_eq!(r, shared);
        assert_ne!(r, table(&[&[1.5, 2.001]]).unwrap());
        let back = Recorded::try_from(RecordedText::from(r.clone())).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.row(0), &[1_500, 2_000]);
    }
}
