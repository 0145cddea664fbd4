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
        })
    }

    /// One draw, in whole microseconds (negative draws clamp to zero).
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let ms = match self {
            Sampler::Constant(d) => return *d,
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
