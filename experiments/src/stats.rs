//! Summary statistics across replications.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean, sample standard deviation and 95% confidence interval of the mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    /// Arithmetic mean (NaN with no values).
    pub mean: f64,
    /// `None` with fewer than two values.
    pub sd: Option<f64>,
    /// `mean ± t(0.975, n−1) · sd / √n` (Student t); `None` with fewer than two values.
    pub ci95: Option<(f64, f64)>,
}

/// The mean, sample standard deviation and 95% confidence interval of `xs` (one value
/// per replication).
pub fn mean_ci95(xs: &[f64]) -> MeanCi {
    let n = xs.len();
    if n == 0 {
        return MeanCi {
            mean: f64::NAN,
            sd: None,
            ci95: None,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return MeanCi {
            mean,
            sd: None,
            ci95: None,
        };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(f64::NAN);
    let half = t * sd / (n as f64).sqrt();
    MeanCi {
        mean,
        sd: Some(sd),
        ci95: Some((mean - half, mean + half)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_interval_matches_tables() {
        // n = 3: t(0.975, 2) = 4.302653; values 1, 2, 3: mean 2, sd 1.
        let s = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, 2.0);
        assert!((s.sd.unwrap() - 1.0).abs() < 1e-12);
        let (lo, hi) = s.ci95.unwrap();
        let half = 4.302_653 / 3f64.sqrt();
        assert!((hi - 2.0 - half).abs() < 1e-5 && (2.0 - lo - half).abs() < 1e-5);
        // n = 10: t(0.975, 9) = 2.262157.
        let xs: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let s = mean_ci95(&xs);
        let sd = s.sd.unwrap();
        let (_, hi) = s.ci95.unwrap();
        assert!((hi - 4.5 - 2.262_157 * sd / 10f64.sqrt()).abs() < 1e-5);
    }

    #[test]
    fn one_value_has_no_spread() {
        let s = mean_ci95(&[5.0]);
        assert_eq!((s.mean, s.sd, s.ci95), (5.0, None, None));
    }
}
