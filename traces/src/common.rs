//! Options and helpers shared by the readers of published traces: lists of files, how a
//! per-minute count is spread inside its minute, the unit of deployment, and the Burr XII
//! memory fallback of the Azure traces.

use crate::limits::{show_f64, MAX_SPAN_MS, MAX_SPAN_US};
use faasim_sim::rng::streams;
use faasim_sim::{DistSpec, SimDuration, SimRng};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// One path, or a list of paths read one after the other (for example one file per day).
///
/// ```toml
/// invocations = "day01.csv"
/// invocations = ["day01.csv", "day02.csv"]
/// ```
///
/// A relative path is relative to the scenario file's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathList {
    /// A single path (`key = "file.csv"`).
    One(PathBuf),
    /// A list of paths, in reading order (`key = ["a.csv", "b.csv"]`); may be empty.
    Many(Vec<PathBuf>),
}

impl PathList {
    /// The paths as written, in order (one for [`PathList::One`]).
    pub fn paths(&self) -> &[PathBuf] {
        match self {
            PathList::One(p) => std::slice::from_ref(p),
            PathList::Many(v) => v,
        }
    }
    /// How many paths there are.
    pub fn len(&self) -> usize {
        self.paths().len()
    }
    /// Whether the list holds no path (`key = []`).
    pub fn is_empty(&self) -> bool {
        self.paths().is_empty()
    }
    /// The paths resolved against `base_dir` (an absolute path stays as it is).
    pub fn resolved(&self, base_dir: &Path) -> Vec<PathBuf> {
        self.paths().iter().map(|p| base_dir.join(p)).collect()
    }
}

impl From<&str> for PathList {
    fn from(p: &str) -> Self {
        PathList::One(p.into())
    }
}

impl From<PathBuf> for PathList {
    fn from(p: PathBuf) -> Self {
        PathList::One(p)
    }
}

impl From<Vec<PathBuf>> for PathList {
    fn from(v: Vec<PathBuf>) -> Self {
        PathList::Many(v)
    }
}

impl<'de> Deserialize<'de> for PathList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PathList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path (a string) or a list of paths")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PathList::One(v.into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(p) = seq.next_element::<PathBuf>()? {
                    v.push(p);
                }
                Ok(PathList::Many(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// How the invocations counted in one time bin (a minute of the Azure 2019 trace, a row of
/// the Huawei trace) are placed inside the bin of width `W`. Times are whole microseconds;
/// the arrivals of one bin are sorted before they are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// Deterministic: the k-th of n (k = 0..n−1) at `(k + ½)·W/n` (integer division), the
    /// centres of n equal slots. Exactly reproducible with no randomness; but functions with
    /// equal counts arrive at the same instants.
    #[default]
    Equidistant,
    /// Stratified (jittered) uniform: the k-th of n uniform in its own slot
    /// `[k·W/n, (k+1)·W/n)`. Keeps the count evenly spread over the bin (gaps vary less than
    /// a Poisson process's) while breaking the lock-step of `equidistant` across functions.
    Uniform,
    /// n points independently uniform in `[0, W)`: the law of the arrivals of a Poisson
    /// process (of any constant rate) given that it had exactly n arrivals in the bin. So the
    /// gaps look Poisson inside the bin while the counts are reproduced exactly (an
    /// unconditioned Poisson process of rate n/W would not).
    Poisson,
}

/// Appends `count` offsets in `[0, width_us)` to `out`, each packed as
/// `offset << 32 | tag` so that sorting the packed values sorts by time, then by tag.
/// `width_us` must be below 2^32 and `count` at most
/// [`MAX_COUNT_PER_BIN`](crate::limits::MAX_COUNT_PER_BIN).
pub(crate) fn spread_into(
    out: &mut Vec<u64>,
    spread: Spread,
    count: u64,
    width_us: u64,
    tag: u32,
    rng: &mut SimRng,
) {
    let tag = u64::from(tag);
    let n = count;
    out.reserve(n as usize);
    match spread {
        Spread::Equidistant => {
            let two_n = 2 * n;
            out.extend((0..n).map(|k| (((2 * k + 1) * width_us) / two_n) << 32 | tag));
        }
        Spread::Uniform => {
            let mut lo = 0;
            for k in 0..n {
                let hi = ((k + 1) * width_us) / n;
                let off = if hi > lo { lo + rng.below(hi - lo) } else { lo };
                out.push(off << 32 | tag);
                lo = hi;
            }
        }
        Spread::Poisson => {
            out.extend((0..n).map(|_| rng.below(width_us) << 32 | tag));
        }
    }
}

/// An error message unless every scale parameter of `d` (a constant, a mean, a median, a
/// standard deviation, an empirical value) is at most [`MAX_SPAN_MS`] (100 years): a
/// distribution centred beyond the longest span faasim simulates is a unit slip.
pub fn check_dist_span(d: &DistSpec) -> Result<(), String> {
    let scales: Vec<(&str, f64)> = match d {
        DistSpec::Constant { value_ms } => vec![("value_ms", *value_ms)],
        DistSpec::Exponential { mean_ms } => vec![("mean_ms", *mean_ms)],
        DistSpec::Lognormal { median_ms, .. } => vec![("median_ms", *median_ms)],
        DistSpec::Normal { mean_ms, std_ms } => vec![("mean_ms", *mean_ms), ("std_ms", *std_ms)],
        DistSpec::Empirical { values_ms } => values_ms.iter().map(|&v| ("values_ms", v)).collect(),
        DistSpec::Recorded(r) => vec![("rows_ms", r.max_total_us() as f64 / 1e3)],
    };
    match scales.into_iter().find(|&(_, v)| v > MAX_SPAN_MS as f64) {
        Some((name, v)) => Err(format!(
            "`{name}` must be at most {MAX_SPAN_MS} ms (100 years), got {}",
            show_f64(v)
        )),
        None => Ok(()),
    }
}

/// A drawn execution time, if within [`MAX_SPAN_US`]; the generators and readers that draw
/// durations refuse a longer one (a tail draw of a very wide distribution) with an error
/// rather than saturate it.
pub(crate) fn within_span(d: SimDuration) -> Option<SimDuration> {
    (d.0 <= MAX_SPAN_US).then_some(d)
}

/// What a function-table entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployUnit {
    /// One entry per application, named by its `HashApp`: Azure Functions deploys and scales
    /// applications, so all functions of an app share its instances (and its memory).
    #[default]
    App,
    /// One entry per function, named `HashApp/HashFunction`; each gets its app's memory,
    /// since the traces report memory per application only.
    Function,
}

/// The Burr XII fit of the Azure Functions 2019 per-application allocated memory (MB):
/// Shahrad et al., "Serverless in the Wild", USENIX ATC'20, §3.5 ("Memory usage"):
/// c = 11.652, k = 0.221, λ = 107.083 MB.
pub const BURR_C: f64 = 11.652;
/// See [`BURR_C`].
pub const BURR_K: f64 = 0.221;
/// See [`BURR_C`].
pub const BURR_LAMBDA_MB: f64 = 107.083;
/// Burr draws are clamped to this range (MB): below 32 MB no function runtime starts, and
/// 16 GB is above every Azure Functions plan of 2019 (consumption 1.5 GB, premium 14 GB).
/// The fit puts about 2·10⁻⁶ of its mass above 16 GB.
pub const BURR_MIN_MB: u32 = 32;
/// See [`BURR_MIN_MB`].
pub const BURR_MAX_MB: u32 = 16_384;

/// The Burr XII inverse CDF, `x = λ·((1−u)^(−1/k) − 1)^(1/c)`, in MB (not clamped).
pub fn burr_quantile_mb(u: f64) -> f64 {
    BURR_LAMBDA_MB * ((1.0 - u).powf(-1.0 / BURR_K) - 1.0).powf(1.0 / BURR_C)
}

/// The fallback memory of application `app_key`: one Burr XII draw, rounded up to a whole MB
/// and clamped to [`BURR_MIN_MB`, `BURR_MAX_MB`]. The uniform comes from the named stream
/// `functions/memory/<app key>` of the run seed, so an app's draw depends only on the seed
/// and its own id, not on which other apps the trace holds or their order.
pub fn burr_memory_mb(seed: u64, app_key: &str) -> u32 {
    let name = format!("{}/memory/{app_key}", streams::FUNCTIONS);
    let u = SimRng::stream(seed, &name).unit_f64();
    let mb = burr_quantile_mb(u).ceil();
    if mb.is_nan() {
        return BURR_MIN_MB;
    }
    mb.clamp(f64::from(BURR_MIN_MB), f64::from(BURR_MAX_MB)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(s: Spread, n: u64, w: u64) -> Vec<u64> {
        let mut rng = SimRng::stream(1, "t");
        let mut out = Vec::new();
        spread_into(&mut out, s, n, w, 7, &mut rng);
        assert!(out.iter().all(|&v| v & 0xffff_ffff == 7));
        out.into_iter().map(|v| v >> 32).collect()
    }

    #[test]
    fn equidistant_puts_arrivals_at_slot_centres() {
        assert_eq!(spread(Spread::Equidistant, 1, 60_000_000), [30_000_000]);
        assert_eq!(
            spread(Spread::Equidistant, 4, 60_000_000),
            [7_500_000, 22_500_000, 37_500_000, 52_500_000]
        );
        // 3 in 10 us: centres at 5/3, 5, 25/3 -> 1, 5, 8 (integer division).
        assert_eq!(spread(Spread::Equidistant, 3, 10), [1, 5, 8]);
        assert!(spread(Spread::Equidistant, 0, 60).is_empty());
        // More arrivals than microseconds: still in range and sorted.
        let v = spread(Spread::Equidistant, 25, 10);
        assert!(v.windows(2).all(|w| w[0] <= w[1]) && v.iter().all(|&t| t < 10));
    }

    #[test]
    fn uniform_keeps_one_arrival_per_slot() {
        let w = 60_000_000;
        let v = spread(Spread::Uniform, 1000, w);
        for (k, &t) in v.iter().enumerate() {
            let k = k as u64;
            assert!(t >= k * w / 1000 && t < (k + 1) * w / 1000, "{k}: {t}");
        }
        let v = spread(Spread::Uniform, 25, 10);
        assert!(v.windows(2).all(|w| w[0] <= w[1]) && v.iter().all(|&t| t < 10));
    }

    #[test]
    fn poisson_is_uniform_over_the_bin() {
        let w = 60_000_000;
        let n = 200_000;
        let v = spread(Spread::Poisson, n, w);
        assert!(v.iter().all(|&t| t < w));
        // Mean of U(0, w): w/2 within 4 standard errors (w / sqrt(12 n)).
        let mean = v.iter().map(|&t| t as f64).sum::<f64>() / n as f64;
        let tol = 4.0 * w as f64 / (12.0 * n as f64).sqrt();
        assert!((mean - w as f64 / 2.0).abs() < tol, "{mean}");
        // Each tenth of the bin holds n/10 within 4 standard deviations.
        let mut bins = [0u64; 10];
        for &t in &v {
            bins[(t * 10 / w) as usize] += 1;
        }
        let sd = (n as f64 * 0.1 * 0.9).sqrt();
        assert!(bins
            .iter()
            .all(|&b| (b as f64 - n as f64 / 10.0).abs() < 4.0 * sd));
    }

    #[test]
    fn burr_fallback_matches_the_fit_and_stays_in_range() {
        // Median of the fit: λ (2^(1/k) − 1)^(1/c) ≈ 139.6 MB.
        let median = BURR_LAMBDA_MB * (2f64.powf(1.0 / BURR_K) - 1.0).powf(1.0 / BURR_C);
        assert!((burr_quantile_mb(0.5) - median).abs() < 1e-9);
        assert!((median - 139.6).abs() < 0.5, "{median}");
        let draws: Vec<u32> = (0..20_000)
            .map(|i| burr_memory_mb(3, &format!("app{i}")))
            .collect();
        assert!(draws
            .iter()
            .all(|&m| (BURR_MIN_MB..=BURR_MAX_MB).contains(&m)));
        let below = draws
            .iter()
            .filter(|&&m| f64::from(m) <= median.ceil())
            .count();
        let share = below as f64 / draws.len() as f64;
        assert!((share - 0.5).abs() < 0.02, "{share}");
        // Same seed and key, same draw; another seed, (almost surely) another.
        assert_eq!(burr_memory_mb(3, "x"), burr_memory_mb(3, "x"));
        let differ = (0..50)
            .filter(|i| burr_memory_mb(3, &i.to_string()) != burr_memory_mb(4, &i.to_string()))
            .count();
        assert!(differ > 40);
        assert_eq!(burr_quantile_mb(0.0), 0.0);
    }

    #[test]
    fn path_lists_take_one_path_or_many() {
        #[derive(Deserialize, Serialize, Debug, PartialEq)]
        struct T {
            p: PathList,
        }
        let one: T = toml::from_str("p = \"a.csv\"").unwrap();
        assert_eq!(one.p, PathList::One("a.csv".into()));
        let many: T = toml::from_str("p = [\"a.csv\", \"b.csv\"]").unwrap();
        assert_eq!(many.p.paths(), [PathBuf::from("a.csv"), "b.csv".into()]);
        for t in [one, many] {
            let back: T = toml::from_str(&toml::to_string(&t).unwrap()).unwrap();
            assert_eq!(back, t);
        }
        let e = toml::from_str::<T>("p = 3").unwrap_err().to_string();
        assert!(e.contains("a path (a string) or a list of paths"), "{e}");
        assert_eq!(
            PathList::from("x.csv").resolved(Path::new("/base")),
            [PathBuf::from("/base/x.csv")]
        );
    }
}
