//! Per-request and per-GB-ms billing in exact integer money.
//!
//! Prices are integers in units of 1e-10 USD (every published serverless price is exact at
//! that resolution: $0.0000166667 per GB-s is 166,667 units). A charge of `billed_ms`
//! at `memory_mb` costs `billed_ms * memory_mb * price_per_gb_s / (1000 * 1024)`; to keep
//! that exact, [`Money`] counts in units of 1e-10 USD / 1,024,000, so every charge is an
//! integer and a bill is an exact sum of its charges. Conversion to float dollars happens
//! only when writing results.

use crate::time::SimDuration;
use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign};

/// Price units per USD: prices are written in 1e-10 USD.
pub const PRICE_UNITS_PER_USD: u64 = 10_000_000_000;
/// MB-ms per GB-s: 1 GB = 1024 MB, 1 s = 1000 ms.
pub const MB_MS_PER_GB_S: u64 = 1024 * 1000;

/// An exact amount of money, in units of 1e-10 USD / 1,024,000 (about 1e-16 USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Money(pub u128);

impl Money {
    pub const ZERO: Money = Money(0);
    pub const UNITS_PER_USD: u128 = PRICE_UNITS_PER_USD as u128 * MB_MS_PER_GB_S as u128;

    pub fn to_usd(self) -> f64 {
        (self.0 / Self::UNITS_PER_USD) as f64
            + (self.0 % Self::UNITS_PER_USD) as f64 / Self::UNITS_PER_USD as f64
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// Billing presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BillingModel {
    /// AWS Lambda on x86: $0.20 per million requests, $0.0000166667 per GB-s
    /// (aws.amazon.com/lambda/pricing, us-east-1, first pricing tier, as of 2024-2026;
    /// 1 ms rounding since 2020-12-01).
    #[default]
    AwsLambdaX86,
    /// AWS Lambda on Arm (Graviton2): $0.20 per million requests, $0.0000133334 per GB-s
    /// (same source and date).
    AwsLambdaArm,
}

impl BillingModel {
    /// Price of one request, in 1e-10 USD.
    pub fn request_price(self) -> u64 {
        match self {
            BillingModel::AwsLambdaX86 | BillingModel::AwsLambdaArm => 2_000,
        }
    }
    /// Price of one GB-second, in 1e-10 USD.
    pub fn gb_second_price(self) -> u64 {
        match self {
            BillingModel::AwsLambdaX86 => 166_667,
            BillingModel::AwsLambdaArm => 133_334,
        }
    }
}

/// How invocations are billed in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billing {
    pub model: BillingModel,
    /// Billed duration is rounded up to a multiple of this (1 ms on Lambda since 2020;
    /// 100 ms before, and on Google Cloud Functions).
    pub granularity_ms: u64,
    /// Also bill the cold-start (INIT) time of the invocation that caused it.
    pub bill_init: bool,
}

impl Default for Billing {
    fn default() -> Self {
        Billing {
            model: BillingModel::AwsLambdaX86,
            granularity_ms: 1,
            bill_init: false,
        }
    }
}

/// What one invocation costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Charge {
    /// Billed duration after rounding, in ms.
    pub billed_ms: u64,
    /// Billed duration times memory, in MB-ms.
    pub mb_ms: u128,
    pub request: Money,
    pub duration: Money,
}

impl Charge {
    pub fn total(&self) -> Money {
        self.request + self.duration
    }
}

impl Billing {
    /// Rounds `d` up to the billing granularity; any execution bills at least one unit.
    pub fn billed_ms(&self, d: SimDuration) -> u64 {
        let g_us = self.granularity_ms.max(1) * 1_000;
        let units = d.as_micros().div_ceil(g_us).max(1);
        units * self.granularity_ms.max(1)
    }

    /// The charge of an execution of `run` (plus `init` if `bill_init`) at `memory_mb`.
    pub fn charge(&self, run: SimDuration, init: SimDuration, memory_mb: u32) -> Charge {
        let billable = if self.bill_init { run + init } else { run };
        let billed_ms = self.billed_ms(billable);
        let mb_ms = billed_ms as u128 * memory_mb as u128;
        Charge {
            billed_ms,
            mb_ms,
            request: self.request_charge(),
            duration: Money(mb_ms * self.model.gb_second_price() as u128),
        }
    }

    /// The per-request part of a charge.
    pub fn request_charge(&self) -> Money {
        Money(self.model.request_price() as u128 * MB_MS_PER_GB_S as u128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_ms(x)
    }

    #[test]
    fn rounding_goes_up_to_the_granularity() {
        let b1 = Billing::default();
        assert_eq!(b1.billed_ms(SimDuration(1)), 1); // 0.001 ms bills 1 ms
        assert_eq!(b1.billed_ms(ms(28)), 28);
        assert_eq!(b1.billed_ms(SimDuration(28_001)), 29);
        assert_eq!(b1.billed_ms(SimDuration(0)), 1);
        let b100 = Billing {
            granularity_ms: 100,
            ..b1
        };
        assert_eq!(b100.billed_ms(SimDuration(1)), 100);
        assert_eq!(b100.billed_ms(ms(100)), 100); // exactly 100 ms stays 100
        assert_eq!(b100.billed_ms(SimDuration(100_001)), 200);
    }

    #[test]
    fn aws_published_example_60m_invocations_28ms_1gb() {
        // AWS: 60 M invocations x 28 ms x 1 GB = $28 of duration at 1 ms rounding, $100 at
        // 100 ms, plus $12 of requests. AWS rounds the price to $0.0000166667 per GB-s,
        // hence the 1e-4 tolerance.
        for (g, expected) in [(1, 28.0), (100, 100.0)] {
            let b = Billing {
                granularity_ms: g,
                ..Billing::default()
            };
            let c = b.charge(ms(28), SimDuration::ZERO, 1024);
            let total_duration = Money(c.duration.0 * 60_000_000);
            let total_requests = Money(c.request.0 * 60_000_000);
            assert!((total_duration.to_usd() - expected).abs() < 1e-3 * expected);
            assert_eq!(total_requests.to_usd(), 12.0);
        }
    }

    #[test]
    fn per_gb_ms_price_is_not_the_slide_typo() {
        // $0.0000166667 per GB-s is $0.0000000166667 per GB-ms (not 0.00000000166667).
        let b = Billing::default();
        let c = b.charge(ms(1), SimDuration::ZERO, 1024);
        assert!((c.duration.to_usd() - 0.000_000_016_666_7).abs() < 1e-16);
        let arm = Billing {
            model: BillingModel::AwsLambdaArm,
            ..b
        };
        assert!(
            (arm.charge(ms(1000), SimDuration::ZERO, 1024)
                .duration
                .to_usd()
                - 0.000_013_333_4)
                .abs()
                < 1e-15
        );
    }

    #[test]
    fn bill_init_adds_the_cold_start_before_rounding() {
        let b = Billing {
            bill_init: true,
            granularity_ms: 100,
            ..Billing::default()
        };
        assert_eq!(b.charge(ms(50), ms(120), 128).billed_ms, 200);
        let no_init = Billing {
            bill_init: false,
            ..b
        };
        assert_eq!(no_init.charge(ms(50), ms(120), 128).billed_ms, 100);
    }
}
