//! What a run costs: provider price lists, per-invocation charges and the month's bill, in
//! exact integer money.
//!
//! ## Units
//! Prices are integers in units of 1e-10 USD ([`PRICE_UNITS_PER_USD`]): every published
//! serverless price is exact at that resolution ($0.0000166667 per GB-s is 166,667 units;
//! $0.0000097222 is 97,222). [`Money`] counts in units of 1e-10 USD / 1,152,000,000, chosen so
//! that every charge the crate computes is an exact integer:
//!
//! | quantity | priced per | Money per (quantity x price) | why exact |
//! |---|---|---|---|
//! | memory-time, MB-ms | GB-s (1 GB = 1024 MB, also GiB-s) | 1,125 | 1,152,000,000 / 1,024,000 |
//! | CPU-time, MHz-ms (GCF) or milli-vCPU-ms (Cloud Run) | GHz-s or vCPU-s | 1,152 | 1,152,000,000 / 1,000,000 |
//! | requests | million requests | 1,152 | 1,152,000,000 / 1,000,000 |
//! | VM-seconds | hour | 320,000 | 1,152,000,000 / 3,600 |
//!
//! 1,152,000,000 = 2^13 x 3^2 x 5^6 is the least common multiple of those divisors, so a
//! GHz-s or vCPU-s price fits the same unit by counting CPU-time in millionths of its priced
//! unit (MHz-ms, milli-vCPU-ms), and a per-second EC2 charge from an hourly price is exact.
//! A u128 of Money holds about 3e19 USD. Conversion to float dollars happens only when
//! writing results ([`Money::to_usd`]).
//!
//! ## Charges and the bill
//! [`Billing::charge`] prices one completed invocation at the model's *marginal* (first-tier)
//! rates, without any free allowance: the engine records it per invocation and sums it into
//! the run's totals. Volume tiers and free tiers depend on the month's cumulative usage, so
//! they cannot be applied per invocation: a [`Bill`] accumulates each charge's raw usage
//! (requests, billed MB-ms, billed CPU-ms, provisioned MB-ms) and [`Bill::invoice`] prices the
//! month at the end. The per-invocation charges sum exactly to [`Invoice::list`], the bill
//! before tiers and free tier; [`Invoice::total`] is the bill after them, and
//! `list = total + tier_discount + free_tier_credit` holds exactly.
//!
//! **A run is billed as one calendar month.** Tiers and free allowances are monthly; a run
//! shorter than a month still receives a whole month's free allowance, and a run longer than
//! a month is billed as if it were one. Compare runs of different lengths with
//! `free_tier = false`, or scale the trace to a month.
//!
//! ## What is modelled per provider
//! Each [`BillingModel`] preset documents its prices, their date and source. Memory is the
//! function's configured memory (`memory_mb`), which stands in for Azure's *observed* memory.
//! Billed time is the wall-clock execution (plus the cold start with `bill_init`), rounded up
//! to `granularity_ms` (any execution bills at least one unit) and raised to the model's
//! per-execution minimum.

use crate::time::SimDuration;
use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign};

/// Price units per USD: prices are written in 1e-10 USD.
pub const PRICE_UNITS_PER_USD: u64 = 10_000_000_000;
/// MB-ms per GB-s: 1 GB = 1024 MB, 1 s = 1000 ms.
pub const MB_MS_PER_GB_S: u64 = 1024 * 1000;
/// CPU-ms units (MHz-ms, milli-vCPU-ms) per GHz-s or vCPU-s.
pub const CPU_MS_PER_CPU_S: u64 = 1000 * 1000;
/// Money units per price unit (1e-10 USD): 2^13 x 3^2 x 5^6.
pub const MONEY_PER_PRICE_UNIT: u128 = 1_152_000_000;

/// An exact amount of money, in units of 1e-10 USD / 1,152,000,000 (about 8.7e-20 USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Money(pub u128);

impl Money {
    /// No money.
    pub const ZERO: Money = Money(0);
    /// Money units in one USD (1e10 price units x [`MONEY_PER_PRICE_UNIT`]).
    pub const UNITS_PER_USD: u128 = PRICE_UNITS_PER_USD as u128 * MONEY_PER_PRICE_UNIT;

    /// An amount given in price units (1e-10 USD).
    pub fn from_price_units(units: u128) -> Money {
        Money(units * MONEY_PER_PRICE_UNIT)
    }
    /// `mb_ms` MB-ms at `price_per_gb_s` (1e-10 USD per GB-s or GiB-s).
    pub fn for_mb_ms(mb_ms: u128, price_per_gb_s: u64) -> Money {
        Money(mb_ms * price_per_gb_s as u128 * (MONEY_PER_PRICE_UNIT / MB_MS_PER_GB_S as u128))
    }
    /// `units` millionths of a priced unit (MHz-ms of a GHz-s, milli-vCPU-ms of a vCPU-s, one
    /// request of a million) at `price` (1e-10 USD per whole unit).
    pub fn for_millionths(units: u128, price: u64) -> Money {
        Money(units * price as u128 * (MONEY_PER_PRICE_UNIT / CPU_MS_PER_CPU_S as u128))
    }
    /// `seconds` at `price_per_hour` (1e-10 USD per hour).
    pub fn for_seconds(seconds: u128, price_per_hour: u64) -> Money {
        Money(seconds * price_per_hour as u128 * (MONEY_PER_PRICE_UNIT / 3_600))
    }
    /// `self - other`, or zero if `other` is larger.
    pub fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }
    /// The amount in USD as a float, for writing results only (whole dollars and the
    /// fraction converted apart, so large amounts keep their cents).
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

/// A decimal USD amount such as `"0.011600"` in exact price units (1e-10 USD), read digit by
/// digit (no float). `None` if it is not a plain non-negative decimal, has more than ten
/// fractional digits that are not zeros, or overflows.
pub fn usd_str_to_price_units(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s.strip_prefix('$').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (kept, dropped) = frac.split_at(frac.len().min(10));
    if dropped.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut units: u64 = 0;
    for b in int.bytes() {
        units = units.checked_mul(10)?.checked_add((b - b'0') as u64)?;
    }
    units = units.checked_mul(PRICE_UNITS_PER_USD)?;
    let mut f: u64 = 0;
    for b in kept.bytes() {
        f = f * 10 + (b - b'0') as u64;
    }
    f *= 10u64.pow(10 - kept.len() as u32);
    units.checked_add(f)
}

/// A float USD amount (as a TOML file gives it) in exact units of `1 / per_usd` USD: `None`
/// unless it is finite, non-negative and the float nearest to a whole number of units.
pub fn usd_f64_to_units(usd: f64, per_usd: f64) -> Option<u64> {
    if !usd.is_finite() || usd < 0.0 {
        return None;
    }
    let n = (usd * per_usd).round();
    if n >= 2f64.powi(53) || n / per_usd != usd {
        return None;
    }
    Some(n as u64)
}

/// A volume tier: usage up to `up_to_gb_s` GB-s a month (cumulative, from zero) is billed at
/// `price` 1e-10 USD per GB-s; the last tier has `up_to_gb_s = u64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Where the tier ends, in cumulative monthly memory-time, GB-s.
    pub up_to_gb_s: u64,
    /// The price in the tier, 1e-10 USD per GB-s.
    pub price: u64,
}

/// Monthly free allowances (applied with `free_tier = true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FreeTier {
    /// Free requests a month.
    pub requests: u64,
    /// GB-s (GiB-s) of memory-time.
    pub gb_s: u64,
    /// GHz-s or vCPU-s of CPU-time.
    pub cpu_s: u64,
}

/// How a model rounds a function's memory before billing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryRounding {
    /// Bill the configured memory as is (AWS Lambda, Cloud Run).
    Exact,
    /// Round up to a multiple of `step_mb`, then clamp to `[min_mb, max_mb]` (Azure: 128,
    /// 128, 1536; a custom table: its step, no bounds).
    Step {
        /// The rounding step, MB.
        step_mb: u32,
        /// The least memory billed, MB.
        min_mb: u32,
        /// The most memory billed, MB.
        max_mb: u32,
    },
    /// Round up to the next GCF 1st-gen memory tier ([`GCF_GEN1_TIERS`]); memory above the
    /// largest tier is billed as is at the largest tier's clock.
    GcfTiers,
}

/// How a model bills CPU apart from memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMeter {
    /// CPU is included in the memory price.
    None,
    /// GHz-s by the memory tier's clock (GCF 1st gen), counted in MHz-ms.
    GcfClock,
    /// vCPU-s of the instance's vCPUs ([`Billing::vcpu_milli`]), counted in milli-vCPU-ms.
    Vcpu,
}

/// GCF 1st gen memory tiers and their CPU clocks: (memory MB, MHz).
pub const GCF_GEN1_TIERS: [(u32, u32); 7] = [
    (128, 200),
    (256, 400),
    (512, 800),
    (1024, 1400),
    (2048, 2400),
    (4096, 4800),
    (8192, 4800),
];

/// Lambda's provisioned-concurrency prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvisionedPrices {
    /// Per GB-s of configured concurrency, for as long as it is configured.
    pub concurrency_gb_s: u64,
    /// Per GB-s of execution on a provisioned environment (replaces the on-demand price).
    pub duration_gb_s: u64,
    /// Configured time is rounded up to a multiple of this (AWS: 5 minutes).
    pub granularity_ms: u64,
}

/// A model's whole price list, in 1e-10 USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceList {
    /// Per million requests (invocations, executions).
    pub request_per_million: u64,
    /// Per GB-s (GiB-s) of billed memory-time, first tier.
    pub gb_second: u64,
    /// Per GHz-s or vCPU-s of billed CPU-time (0 when `cpu = CpuMeter::None`).
    pub cpu_second: u64,
    /// How CPU-time is metered apart from memory.
    pub cpu: CpuMeter,
    /// How the function's memory is rounded before billing.
    pub memory: MemoryRounding,
    /// Time rounding the model applies unless [`Billing::granularity_ms`] overrides it, ms.
    pub granularity_ms: u64,
    /// A per-execution minimum of billed time (Azure: 100 ms).
    pub min_billed_ms: u64,
    /// Monthly volume tiers of memory-time (empty: one price).
    pub tiers: &'static [Tier],
    /// Monthly free allowances (applied with [`Billing::free_tier`]).
    pub free: FreeTier,
    /// Provisioned-concurrency prices, `None` where the model has none.
    pub provisioned: Option<ProvisionedPrices>,
    /// Instances are billed for their lifetime, not per invocation (Cloud Run instance-based).
    pub instance_based: bool,
    /// Snapshot prices (Lambda SnapStart), `None` where the model has none.
    pub snapshot: Option<SnapshotPrices>,
}

/// Lambda SnapStart's prices for Python and .NET functions (Java's SnapStart is free), as
/// listed on aws.amazon.com/lambda/pricing for US East (N. Virginia) and gathered on
/// 2026-11-30 (the project's price notes, `experiments/data/aws-snapstart-prices.md`; a
/// secondary source, to confirm on the pricing page before publishing): the cache at
/// $0.0000015046 per GB-second for as long as the snapshot is kept, at least 3 hours, and
/// $0.0001397998 per GB restored, both for the function's configured memory. We read the
/// page as pricing x86 and Arm alike, and the 3-hour minimum as applying to a function's
/// snapshot (AWS bills it per published version), however often a store evicts and takes
/// it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPrices {
    /// Per GB-s of snapshot kept (of the function's memory), 1e-10 USD.
    pub cache_gb_s: u64,
    /// Per GB restored (of the function's memory), 1e-10 USD.
    pub restore_gb: u64,
    /// The least time a function's snapshots are billed for in all, ms (AWS: 3 hours).
    pub min_cache_ms: u64,
}

/// The SnapStart prices of [`SnapshotPrices`].
pub const AWS_SNAPSTART: SnapshotPrices = SnapshotPrices {
    cache_gb_s: 15_046,
    restore_gb: 1_397_998,
    min_cache_ms: 3 * 3_600_000,
};

const AWS_X86_TIERS: [Tier; 3] = [
    Tier {
        up_to_gb_s: 6_000_000_000,
        price: 166_667,
    },
    Tier {
        up_to_gb_s: 15_000_000_000,
        price: 150_000,
    },
    Tier {
        up_to_gb_s: u64::MAX,
        price: 133_334,
    },
];

const AWS_ARM_TIERS: [Tier; 3] = [
    Tier {
        up_to_gb_s: 7_500_000_000,
        price: 133_334,
    },
    Tier {
        up_to_gb_s: 18_750_000_000,
        price: 120_001,
    },
    Tier {
        up_to_gb_s: u64::MAX,
        price: 106_667,
    },
];

const AWS_FREE: FreeTier = FreeTier {
    requests: 1_000_000,
    gb_s: 400_000,
    cpu_s: 0,
};

/// A user-defined price table (`model = { custom = { ... } }`): requests and GB-s only, no
/// tiers, no free tier. Prices are held exactly in 1e-10 USD; the file gives them in USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CustomPricesSpec", into = "CustomPricesSpec")]
pub struct CustomPrices {
    /// 1e-10 USD per million requests.
    pub request_per_million: u64,
    /// 1e-10 USD per GB-s (1 GB = 1024 MB).
    pub gb_second: u64,
    /// Billed time is rounded up to a multiple of this, ms (>= 1).
    pub granularity_ms: u64,
    /// Memory is rounded up to a multiple of this, MB (>= 1; 1 = bill the configured memory).
    pub memory_step_mb: u32,
    /// Each execution bills at least this long, ms.
    pub min_billed_ms: u64,
}

/// The TOML form of [`CustomPrices`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPricesSpec {
    /// USD per million requests, e.g. 0.20; exact to 1e-10 USD.
    pub request_price_usd_per_million: f64,
    /// USD per GB-second, e.g. 0.0000166667; exact to 1e-10 USD.
    pub gb_second_usd: f64,
    /// Billed time is rounded up to a multiple of this, ms (default 1).
    #[serde(default = "one_u64")]
    pub granularity_ms: u64,
    /// Memory is rounded up to a multiple of this, MB (default 1: as configured).
    #[serde(default = "one_u32")]
    pub memory_step_mb: u32,
    /// Each execution bills at least this long, ms (default 0).
    #[serde(default)]
    pub min_billed_ms: u64,
}

fn one_u64() -> u64 {
    1
}
fn one_u32() -> u32 {
    1
}

impl TryFrom<CustomPricesSpec> for CustomPrices {
    type Error = String;
    fn try_from(s: CustomPricesSpec) -> Result<Self, String> {
        let units = PRICE_UNITS_PER_USD as f64;
        let request_per_million = usd_f64_to_units(s.request_price_usd_per_million, units)
            .ok_or_else(|| {
                format!(
                    "request_price_usd_per_million = {} must be a non-negative amount exact to \
                     1e-10 USD",
                    s.request_price_usd_per_million
                )
            })?;
        let gb_second = usd_f64_to_units(s.gb_second_usd, units).ok_or_else(|| {
            format!(
                "gb_second_usd = {} must be a non-negative amount exact to 1e-10 USD",
                s.gb_second_usd
            )
        })?;
        if s.granularity_ms == 0 {
            return Err("granularity_ms must be at least 1".into());
        }
        if s.memory_step_mb == 0 {
            return Err("memory_step_mb must be at least 1".into());
        }
        Ok(CustomPrices {
            request_per_million,
            gb_second,
            granularity_ms: s.granularity_ms,
            memory_step_mb: s.memory_step_mb,
            min_billed_ms: s.min_billed_ms,
        })
    }
}

impl From<CustomPrices> for CustomPricesSpec {
    fn from(c: CustomPrices) -> Self {
        let units = PRICE_UNITS_PER_USD as f64;
        CustomPricesSpec {
            request_price_usd_per_million: c.request_per_million as f64 / units,
            gb_second_usd: c.gb_second as f64 / units,
            granularity_ms: c.granularity_ms,
            memory_step_mb: c.memory_step_mb,
            min_billed_ms: c.min_billed_ms,
        }
    }
}

/// Billing presets. Prices are us-east-1 / tier-1 regions, in USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BillingModel {
    /// AWS Lambda on x86 (aws.amazon.com/lambda/pricing, us-east-1), as listed on 2026-11 in
    /// the provider's pricing page:
    /// $0.20 per million requests; duration $0.0000166667 per GB-s for the first 6 billion
    /// GB-s a month, $0.000015 for the next 9 billion, $0.0000133334 beyond 15 billion (the
    /// 10% and 20% tier discounts of the AWS Compute Blog post "Introducing tiered pricing
    /// for AWS Lambda"); 1 ms rounding since 2020-12-01 (100 ms before); free tier of 1 M
    /// requests and 400,000 GB-s a month. INIT (cold start) time is billed for managed
    /// runtimes since 2025-08-01: set `bill_init = true` for post-August-2025 bills.
    /// Provisioned concurrency: $0.0000041667 per GB-s configured (rounded up to 5 minutes),
    /// $0.0000097222 per GB-s of duration on provisioned environments; the free tier does
    /// not apply to it.
    #[default]
    AwsLambdaX86,
    /// AWS Lambda on Arm (Graviton2), same page and date: $0.20 per million requests;
    /// $0.0000133334 per GB-s for the first 7.5 billion GB-s a month, $0.0000120001 for the
    /// next 11.25 billion, $0.0000106667 beyond 18.75 billion (the blog post above gives the
    /// 7.5 / 18.75 billion boundaries and the same 10% / 20% discounts: the boundaries are
    /// x86's scaled by 1.25, i.e. the same dollar amounts at the 20% lower Arm price; the
    /// tier prices are that arithmetic rounded as the pricing page rounds them). Same free
    /// tier, shared with x86. Provisioned concurrency $0.0000033334 per GB-s and
    /// $0.0000077778 per GB-s of duration: our reading of the pricing page, consistent with
    /// the 20% Arm discount on the x86 figures; confirm before publishing.
    AwsLambdaArm,
    /// Azure Functions Consumption plan (azure.microsoft.com/pricing/details/functions and
    /// learn.microsoft.com "Estimating Consumption plan costs"), as listed on 2026-11 in the
    /// project's price notes: $0.20 per million executions, $0.000016 per GB-s; observed
    /// memory rounded up to a multiple of 128 MB, capped at 1,536 MB; time rounded up to
    /// 1 ms; a minimum of 100 ms and 128 MB per execution; monthly free grant of 1 M
    /// executions and 400,000 GB-s. The function's configured memory stands in for the
    /// observed memory.
    AzureConsumption,
    /// Google Cloud Functions (1st gen), now "Cloud Run functions (1st gen)"
    /// (cloud.google.com/functions/pricing-1stgen), tier-1 prices as listed on 2026-11 in the
    /// project's price notes: $0.40 per million invocations; time rounded up to 100 ms;
    /// memory-time at $0.0000025 per GB-s plus CPU-time at $0.0000100 per GHz-s, by memory
    /// tier: 128 MB / 200 MHz, 256 MB / 400 MHz, 512 MB / 800 MHz, 1024 MB / 1.4 GHz,
    /// 2048 MB / 2.4 GHz, 4096 MB / 4.8 GHz, 8192 MB / 4.8 GHz. A function's memory is rounded
    /// up to the next tier (129 MB bills as 256 MB at 400 MHz). Free tier: 2 M invocations a
    /// month (the current page describes a free tier for invocations only).
    GcfGen1,
    /// Google Cloud Run, request-based billing (the default "CPU only allocated during
    /// request processing"; cloud.google.com/run/pricing), tier-1 prices as listed on 2026-11
    /// in the project's price notes: $0.00002400 per vCPU-s, $0.00000250 per GiB-s, billed
    /// only while an instance serves, rounded up to 100 ms; $0.40 per million requests;
    /// free tier (applied at tier-1 prices) of 180,000 vCPU-s, 360,000 GiB-s and 2 M requests
    /// a month. vCPUs per instance: [`Billing::vcpu_milli`] (default 1). Google also bills
    /// instance start-up under request-based billing: set `bill_init = true`. Google bills
    /// an instance's busy time (at least one request in flight), so with
    /// `instance_concurrency > 1` overlapping requests share it; the per-invocation charge
    /// bills each request's own time and overstates such a bill (exact at concurrency 1).
    CloudRun,
    /// Google Cloud Run, instance-based billing ("CPU always allocated"), same page and date:
    /// $0.00001800 per vCPU-s and $0.00000200 per GiB-s for an instance's whole life, rounded
    /// up to 100 ms, no request fee; free tier of 240,000 vCPU-s and 450,000 GiB-s a month.
    /// Invocations cost nothing; instance lifetimes are charged by
    /// [`Billing::instance_charge`].
    CloudRunInstance,
    /// A user-defined price table.
    Custom(CustomPrices),
}

impl BillingModel {
    /// The model's price list.
    pub fn prices(self) -> PriceList {
        let aws = |gb_second, tiers, provisioned| PriceList {
            request_per_million: 2_000_000_000,
            gb_second,
            cpu_second: 0,
            cpu: CpuMeter::None,
            memory: MemoryRounding::Exact,
            granularity_ms: 1,
            min_billed_ms: 0,
            tiers,
            free: AWS_FREE,
            provisioned: Some(provisioned),
            instance_based: false,
            snapshot: Some(AWS_SNAPSTART),
        };
        match self {
            BillingModel::AwsLambdaX86 => aws(
                166_667,
                &AWS_X86_TIERS,
                ProvisionedPrices {
                    concurrency_gb_s: 41_667,
                    duration_gb_s: 97_222,
                    granularity_ms: 300_000,
                },
            ),
            BillingModel::AwsLambdaArm => aws(
                133_334,
                &AWS_ARM_TIERS,
                ProvisionedPrices {
                    concurrency_gb_s: 33_334,
                    duration_gb_s: 77_778,
                    granularity_ms: 300_000,
                },
            ),
            BillingModel::AzureConsumption => PriceList {
                request_per_million: 2_000_000_000,
                gb_second: 160_000,
                cpu_second: 0,
                cpu: CpuMeter::None,
                memory: MemoryRounding::Step {
                    step_mb: 128,
                    min_mb: 128,
                    max_mb: 1536,
                },
                granularity_ms: 1,
                min_billed_ms: 100,
                tiers: &[],
                free: AWS_FREE,
                provisioned: None,
                instance_based: false,
                snapshot: None,
            },
            BillingModel::GcfGen1 => PriceList {
                request_per_million: 4_000_000_000,
                gb_second: 25_000,
                cpu_second: 100_000,
                cpu: CpuMeter::GcfClock,
                memory: MemoryRounding::GcfTiers,
                granularity_ms: 100,
                min_billed_ms: 0,
                tiers: &[],
                free: FreeTier {
                    requests: 2_000_000,
                    gb_s: 0,
                    cpu_s: 0,
                },
                provisioned: None,
                instance_based: false,
                snapshot: None,
            },
            BillingModel::CloudRun => PriceList {
                request_per_million: 4_000_000_000,
                gb_second: 25_000,
                cpu_second: 240_000,
                cpu: CpuMeter::Vcpu,
                memory: MemoryRounding::Exact,
                granularity_ms: 100,
                min_billed_ms: 0,
                tiers: &[],
                free: FreeTier {
                    requests: 2_000_000,
                    gb_s: 360_000,
                    cpu_s: 180_000,
                },
                provisioned: None,
                instance_based: false,
                snapshot: None,
            },
            BillingModel::CloudRunInstance => PriceList {
                request_per_million: 0,
                gb_second: 20_000,
                cpu_second: 180_000,
                cpu: CpuMeter::Vcpu,
                memory: MemoryRounding::Exact,
                granularity_ms: 100,
                min_billed_ms: 0,
                tiers: &[],
                free: FreeTier {
                    requests: 0,
                    gb_s: 450_000,
                    cpu_s: 240_000,
                },
                provisioned: None,
                instance_based: true,
                snapshot: None,
            },
            BillingModel::Custom(c) => PriceList {
                request_per_million: c.request_per_million,
                gb_second: c.gb_second,
                cpu_second: 0,
                cpu: CpuMeter::None,
                memory: if c.memory_step_mb <= 1 {
                    MemoryRounding::Exact
                } else {
                    MemoryRounding::Step {
                        step_mb: c.memory_step_mb,
                        min_mb: 0,
                        max_mb: u32::MAX,
                    }
                },
                granularity_ms: c.granularity_ms.max(1),
                min_billed_ms: c.min_billed_ms,
                tiers: &[],
                free: FreeTier::default(),
                provisioned: None,
                instance_based: false,
                snapshot: None,
            },
        }
    }

    /// The model's own time rounding, in ms (AWS and Azure 1, GCF and Cloud Run 100, a custom
    /// table its `granularity_ms`).
    pub fn default_granularity_ms(self) -> u64 {
        self.prices().granularity_ms
    }

    /// Price of one GB-s at the first tier, in 1e-10 USD.
    pub fn gb_second_price(self) -> u64 {
        self.prices().gb_second
    }

    /// Price of a million requests, in 1e-10 USD.
    pub fn request_price_per_million(self) -> u64 {
        self.prices().request_per_million
    }
}

impl PriceList {
    /// The memory the model bills for a function of `memory_mb`.
    pub fn billed_memory_mb(&self, memory_mb: u32) -> u32 {
        match self.memory {
            MemoryRounding::Exact => memory_mb,
            MemoryRounding::Step {
                step_mb,
                min_mb,
                max_mb,
            } => {
                let step = step_mb.max(1) as u64;
                let up = (memory_mb as u64).div_ceil(step) * step;
                (up.min(u32::MAX as u64) as u32).clamp(min_mb, max_mb)
            }
            MemoryRounding::GcfTiers => GCF_GEN1_TIERS
                .iter()
                .find(|&&(mb, _)| memory_mb <= mb)
                .map_or(memory_mb, |&(mb, _)| mb),
        }
    }

    /// GCF's CPU clock for a function of `memory_mb`, in MHz.
    pub fn gcf_clock_mhz(memory_mb: u32) -> u32 {
        GCF_GEN1_TIERS
            .iter()
            .find(|&&(mb, _)| memory_mb <= mb)
            .map_or(GCF_GEN1_TIERS[GCF_GEN1_TIERS.len() - 1].1, |&(_, mhz)| mhz)
    }
}

/// How invocations are billed in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billing {
    /// The provider's price list.
    pub model: BillingModel,
    /// Billed duration is rounded up to a multiple of this (1 ms on Lambda since 2020;
    /// 100 ms before, and on Google Cloud Functions and Cloud Run). [`Billing::new`] takes it
    /// from the model ([`BillingModel::default_granularity_ms`]); set it to override.
    pub granularity_ms: u64,
    /// Also bill the cold-start (INIT) time of the invocation that caused it (AWS bills
    /// INIT for managed runtimes since 2025-08-01; Cloud Run bills instance start-up).
    pub bill_init: bool,
    /// Apply the model's monthly free allowances to the invoice.
    pub free_tier: bool,
    /// Apply the model's monthly volume tiers to the invoice (AWS Lambda only).
    pub tiers: bool,
    /// vCPUs of one instance in thousandths (Cloud Run; default 1000 = 1 vCPU).
    pub vcpu_milli: u32,
}

impl Default for Billing {
    fn default() -> Self {
        Billing::new(BillingModel::AwsLambdaX86)
    }
}

/// What a charge is for; [`Bill::add`] files its usage by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChargeKind {
    /// An invocation at on-demand prices (every model's usual case).
    #[default]
    OnDemand,
    /// An invocation served by a provisioned-concurrency environment.
    ProvisionedInvocation,
    /// Configured provisioned concurrency over a span of time.
    ProvisionedTime,
    /// An instance's lifetime under instance-based billing.
    InstanceTime,
    /// A snapshot kept in the store over a span of time (SnapStart's cache).
    SnapshotCache,
    /// A snapshot restored (SnapStart's restore charge).
    SnapshotRestore,
}

/// What one invocation (or one instance lifetime, or one span of provisioned concurrency)
/// costs at the model's marginal rates: first tier, no free allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Charge {
    /// What is charged, which decides where [`Bill::add`] files the usage.
    pub kind: ChargeKind,
    /// Requests billed: 1 for an invocation, 0 otherwise.
    pub requests: u64,
    /// Billed duration after rounding, in ms.
    pub billed_ms: u64,
    /// Billed memory (after the model's memory rounding) times billed duration, in MB-ms.
    pub mb_ms: u128,
    /// Billed CPU-time: MHz-ms (gcf-gen1) or milli-vCPU-ms (cloud-run); 0 otherwise.
    pub cpu_ms: u128,
    /// The request fee.
    pub request: Money,
    /// Everything billed by time: memory-time plus CPU-time.
    pub duration: Money,
    /// The CPU-time part of `duration`.
    pub cpu: Money,
    /// Memory restored from a snapshot, MB (a snapshot restore's charge only).
    pub restored_mb: u64,
}

impl Charge {
    /// The whole charge: request fee plus duration.
    pub fn total(&self) -> Money {
        self.request + self.duration
    }
    /// The memory-time part of `duration`.
    pub fn memory(&self) -> Money {
        self.duration.saturating_sub(self.cpu)
    }
}

/// A problem with a billing configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BillingError {
    /// The offending field, as the scenario file names it.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// vCPUs (as a scenario gives them, e.g. 1, 2, 0.5) in thousandths: `None` unless positive,
/// finite and a whole number of thousandths.
pub fn vcpus_to_milli(vcpus: f64) -> Option<u32> {
    let m = usd_f64_to_units(vcpus, 1000.0)?;
    (m >= 1 && m <= u32::MAX as u64).then_some(m as u32)
}

impl Billing {
    /// The model with its own rounding, INIT not billed, no free tier, tiers applied, 1 vCPU.
    pub fn new(model: BillingModel) -> Self {
        Billing {
            model,
            granularity_ms: model.default_granularity_ms(),
            bill_init: false,
            free_tier: false,
            tiers: true,
            vcpu_milli: 1000,
        }
    }

    /// Checks the configuration (the scenario reports the field).
    pub fn validate(&self) -> Result<(), BillingError> {
        if self.granularity_ms == 0 {
            return Err(BillingError {
                field: "granularity_ms",
                message: "must be at least 1".into(),
            });
        }
        if self.vcpu_milli == 0 {
            return Err(BillingError {
                field: "vcpus",
                message: "must be positive".into(),
            });
        }
        if let BillingModel::Custom(c) = self.model {
            if c.granularity_ms == 0 || c.memory_step_mb == 0 {
                return Err(BillingError {
                    field: "model.custom",
                    message: "granularity_ms and memory_step_mb must be at least 1".into(),
                });
            }
        }
        Ok(())
    }

    /// Rounds `d` up to the billing granularity (any execution bills at least one unit),
    /// then raises it to the model's per-execution minimum.
    pub fn billed_ms(&self, d: SimDuration) -> u64 {
        self.billed_ms_at(&self.model.prices(), d)
    }

    fn billed_ms_at(&self, p: &PriceList, d: SimDuration) -> u64 {
        if self.granularity_ms <= 1 {
            // Whole milliseconds (most models): a division by a constant.
            return d.as_micros().div_ceil(1_000).max(1).max(p.min_billed_ms);
        }
        let g = self.granularity_ms;
        let units = d.as_micros().div_ceil(g * 1_000).max(1);
        (units * g).max(p.min_billed_ms)
    }

    /// The memory billed for a function of `memory_mb`.
    pub fn billed_memory_mb(&self, memory_mb: u32) -> u32 {
        self.model.prices().billed_memory_mb(memory_mb)
    }

    /// The CPU billed per ms for a function of `memory_mb`: MHz (gcf-gen1), milli-vCPU
    /// (cloud-run), 0 when the model does not bill CPU apart.
    pub fn cpu_rate(&self, memory_mb: u32) -> u32 {
        self.cpu_rate_at(&self.model.prices(), memory_mb)
    }

    fn cpu_rate_at(&self, p: &PriceList, memory_mb: u32) -> u32 {
        match p.cpu {
            CpuMeter::None => 0,
            CpuMeter::GcfClock => PriceList::gcf_clock_mhz(memory_mb),
            CpuMeter::Vcpu => self.vcpu_milli,
        }
    }

    /// Memory-time and CPU-time charges of `billed_ms` at `memory_mb` and the given prices.
    fn timed(&self, p: &PriceList, billed_ms: u64, memory_mb: u32, gb_s: u64) -> Charge {
        let mb = p.billed_memory_mb(memory_mb);
        let rate = self.cpu_rate_at(p, memory_mb);
        if let Some(c) = Self::timed_u64(billed_ms, mb, rate, gb_s, p.cpu_second) {
            return c;
        }
        let mb_ms = billed_ms as u128 * mb as u128;
        let cpu_ms = billed_ms as u128 * rate as u128;
        let cpu = Money::for_millionths(cpu_ms, p.cpu_second);
        Charge {
            billed_ms,
            mb_ms,
            cpu_ms,
            duration: Money::for_mb_ms(mb_ms, gb_s) + cpu,
            cpu,
            ..Charge::default()
        }
    }

    /// [`Self::timed`] in 64-bit arithmetic, `None` if any product would overflow: the
    /// common case (an execution of seconds at a few GB) without the per-completion cost of
    /// 128-bit multiplications. Every product is checked, so the result is exactly the
    /// 128-bit one.
    #[inline]
    fn timed_u64(billed_ms: u64, mb: u32, rate: u32, gb_s: u64, cpu_second: u64) -> Option<Charge> {
        const MB_MS_UNIT: u64 = (MONEY_PER_PRICE_UNIT / MB_MS_PER_GB_S as u128) as u64;
        const CPU_UNIT: u64 = (MONEY_PER_PRICE_UNIT / CPU_MS_PER_CPU_S as u128) as u64;
        let mb_ms = billed_ms.checked_mul(mb as u64)?;
        let cpu_ms = billed_ms.checked_mul(rate as u64)?;
        let cpu = cpu_ms.checked_mul(cpu_second)?.checked_mul(CPU_UNIT)?;
        let memory = mb_ms.checked_mul(gb_s)?.checked_mul(MB_MS_UNIT)?;
        Some(Charge {
            billed_ms,
            mb_ms: mb_ms as u128,
            cpu_ms: cpu_ms as u128,
            duration: Money(memory as u128 + cpu as u128),
            cpu: Money(cpu as u128),
            ..Charge::default()
        })
    }

    /// The charge of an execution of `run` (plus `init` if `bill_init`) at `memory_mb`, at
    /// the model's marginal (first-tier) prices. Under instance-based billing an invocation
    /// costs nothing (and bills no time): the instance's lifetime is charged instead
    /// ([`Billing::instance_charge`]).
    #[inline]
    pub fn charge(&self, run: SimDuration, init: SimDuration, memory_mb: u32) -> Charge {
        self.charge_at(&self.model.prices(), run, init, memory_mb)
    }

    /// [`Self::charge`] with the model's price list at hand (`p` = `self.model.prices()`):
    /// the engine builds the list once per run rather than once per completion.
    #[inline]
    pub fn charge_at(
        &self,
        p: &PriceList,
        run: SimDuration,
        init: SimDuration,
        memory_mb: u32,
    ) -> Charge {
        debug_assert_eq!(*p, self.model.prices());
        if p.instance_based {
            return Charge {
                requests: 1,
                request: Money::for_millionths(1, p.request_per_million),
                ..Charge::default()
            };
        }
        let billable = if self.bill_init { run + init } else { run };
        Charge {
            kind: ChargeKind::OnDemand,
            requests: 1,
            request: Money::for_millionths(1, p.request_per_million),
            ..self.timed(p, self.billed_ms_at(p, billable), memory_mb, p.gb_second)
        }
    }

    /// Whether an on-demand invocation's charge ([`Self::charge_at`]) is its request fee plus
    /// its billed MB-ms at the GB-s price, nothing else: then the run's on-demand charges can
    /// be priced once at the end, from the number of invocations and their MB-ms summed
    /// (integer money, so exactly the sum of the charges). True unless the model bills CPU
    /// apart (gcf-gen1, cloud-run).
    pub fn linear_on_demand(&self, p: &PriceList) -> bool {
        p.instance_based || p.cpu == CpuMeter::None
    }

    /// The billed memory-time (`mb_ms`) of [`Self::charge_at`]'s charge, without pricing it.
    #[inline(always)]
    pub fn on_demand_mb_ms(
        &self,
        p: &PriceList,
        run: SimDuration,
        init: SimDuration,
        memory_mb: u32,
    ) -> u128 {
        if p.instance_based {
            return 0;
        }
        let billable = if self.bill_init { run + init } else { run };
        self.billed_ms_at(p, billable) as u128 * p.billed_memory_mb(memory_mb) as u128
    }

    /// What `invocations` on-demand invocations of `mb_ms` billed memory-time in all cost,
    /// as (request fees, duration) at the model's marginal prices: under
    /// [`Self::linear_on_demand`], exactly the sums of their [`Self::charge_at`] charges'
    /// `request` and `duration`.
    pub fn on_demand_money(&self, p: &PriceList, invocations: u64, mb_ms: u128) -> (Money, Money) {
        debug_assert!(self.linear_on_demand(p));
        (
            Money::for_millionths(invocations as u128, p.request_per_million),
            Money::for_mb_ms(mb_ms, p.gb_second),
        )
    }

    /// The per-request part of a charge.
    pub fn request_charge(&self) -> Money {
        Money::for_millionths(1, self.model.prices().request_per_million)
    }

    /// The charge of an invocation of `run` served by a provisioned-concurrency environment
    /// (no cold start, so nothing to add for INIT): the request fee plus duration at the
    /// provisioned duration price. `None` if the model has no provisioned concurrency.
    pub fn provisioned_invocation_charge(
        &self,
        run: SimDuration,
        memory_mb: u32,
    ) -> Option<Charge> {
        let p = self.model.prices();
        let pc = p.provisioned?;
        Some(Charge {
            kind: ChargeKind::ProvisionedInvocation,
            requests: 1,
            request: Money::for_millionths(1, p.request_per_million),
            ..self.timed(&p, self.billed_ms_at(&p, run), memory_mb, pc.duration_gb_s)
        })
    }

    /// The charge of `concurrency` provisioned environments of `memory_mb` configured for
    /// `configured` (AWS: from enabling to disabling, rounded up to 5 minutes). `None` if the
    /// model has no provisioned concurrency.
    pub fn provisioned_time_charge(
        &self,
        configured: SimDuration,
        memory_mb: u32,
        concurrency: u32,
    ) -> Option<Charge> {
        let p = self.model.prices();
        let pc = p.provisioned?;
        let g = pc.granularity_ms.max(1);
        let billed_ms = configured.as_micros().div_ceil(g * 1_000).max(1) * g;
        let mb_ms = billed_ms as u128 * memory_mb as u128 * concurrency as u128;
        Some(Charge {
            kind: ChargeKind::ProvisionedTime,
            billed_ms,
            mb_ms,
            duration: Money::for_mb_ms(mb_ms, pc.concurrency_gb_s),
            ..Charge::default()
        })
    }

    /// The charge of an instance that lived `lifetime` (creation to eviction) with
    /// `memory_mb`, under instance-based billing (cloud-run-instance): memory and vCPUs for
    /// the whole life, rounded up to the granularity. Zero for every per-invocation model,
    /// so the engine may call it for every instance.
    pub fn instance_charge(&self, lifetime: SimDuration, memory_mb: u32) -> Charge {
        let p = self.model.prices();
        if !p.instance_based {
            return Charge {
                kind: ChargeKind::InstanceTime,
                ..Charge::default()
            };
        }
        let g = self.granularity_ms.max(1);
        let billed_ms = lifetime.as_micros().div_ceil(g * 1_000) * g;
        Charge {
            kind: ChargeKind::InstanceTime,
            ..self.timed(&p, billed_ms, memory_mb, p.gb_second)
        }
    }

    /// The cache charge of a snapshot of a function of `memory_mb` kept for `kept`: the
    /// kept time rounded up to 1 ms, times the memory, at the cache price. The model's
    /// minimum ([`SnapshotPrices::min_cache_ms`]) applies to a function's whole kept time,
    /// which the caller tops up at the end. `None` if the model has no snapshot prices.
    pub fn snapshot_cache_charge(&self, kept: SimDuration, memory_mb: u32) -> Option<Charge> {
        let sp = self.model.prices().snapshot?;
        let billed_ms = kept.as_micros().div_ceil(1_000);
        let mb_ms = billed_ms as u128 * memory_mb as u128;
        Some(Charge {
            kind: ChargeKind::SnapshotCache,
            billed_ms,
            mb_ms,
            duration: Money::for_mb_ms(mb_ms, sp.cache_gb_s),
            ..Charge::default()
        })
    }

    /// The charge of restoring a snapshot of a function of `memory_mb`, at the restore
    /// price per GB (1 GB = 1024 MB). `None` if the model has no snapshot prices.
    pub fn snapshot_restore_charge(&self, memory_mb: u32) -> Option<Charge> {
        let sp = self.model.prices().snapshot?;
        Some(Charge {
            kind: ChargeKind::SnapshotRestore,
            restored_mb: memory_mb as u64,
            duration: snapshot_restore_money(memory_mb as u128, sp.restore_gb),
            ..Charge::default()
        })
    }
}

/// `mb` MB restored at `price_per_gb` (1e-10 USD per GB, 1 GB = 1024 MB): exact, as one MB
/// restored is priced as 1,000 MB-ms at a per-GB-s price.
fn snapshot_restore_money(mb: u128, price_per_gb: u64) -> Money {
    Money::for_mb_ms(mb * 1_000, price_per_gb)
}

/// A month's raw usage, before prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Requests billed (on-demand and provisioned).
    pub requests: u64,
    /// The part of `requests` served by provisioned concurrency (no free tier).
    pub provisioned_requests: u64,
    /// Billed memory-time of on-demand executions and instance lifetimes, MB-ms.
    pub mb_ms: u128,
    /// Billed CPU-time, MHz-ms (gcf-gen1) or milli-vCPU-ms (cloud-run).
    pub cpu_ms: u128,
    /// Billed memory-time of executions on provisioned environments, MB-ms.
    pub provisioned_exec_mb_ms: u128,
    /// Configured provisioned concurrency, MB-ms.
    pub provisioned_mb_ms: u128,
    /// Snapshots kept (billed time, the minimum included) times their functions' memory,
    /// MB-ms.
    pub snapshot_cache_mb_ms: u128,
    /// Memory restored from snapshots, MB.
    pub snapshot_restored_mb: u128,
}

/// The month's bill, itemised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Invoice {
    /// The raw usage the invoice prices.
    pub usage: Usage,
    /// Request fees after the free requests.
    pub requests: Money,
    /// Memory-time after tiers and the free tier.
    pub memory: Money,
    /// CPU-time after the free tier.
    pub cpu: Money,
    /// Provisioned concurrency: configured time plus executions on it.
    pub provisioned: Money,
    /// Snapshots: the cache charge plus the restore charges (no tiers, no free tier).
    pub snapshot: Money,
    /// What the volume tiers saved against the first-tier price.
    pub tier_discount: Money,
    /// What the free tier saved.
    pub free_tier_credit: Money,
    /// The bill at marginal prices: exactly the sum of the per-invocation (and instance,
    /// provisioned) charges added to the [`Bill`].
    pub list: Money,
    /// The bill: `list - tier_discount - free_tier_credit`.
    pub total: Money,
}

/// Accumulates a run's charges (treated as one month's usage) and prices the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bill {
    billing: Billing,
    usage: Usage,
}

impl Bill {
    /// An empty month under `billing`.
    pub fn new(billing: Billing) -> Self {
        Bill {
            billing,
            usage: Usage::default(),
        }
    }
    /// The billing configuration the month is priced with.
    pub fn billing(&self) -> &Billing {
        &self.billing
    }
    /// The usage accumulated so far.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    /// Adds a charge's raw usage (an invocation's, an instance lifetime's or a span of
    /// provisioned concurrency's) to the month.
    pub fn add(&mut self, c: &Charge) {
        let u = &mut self.usage;
        u.requests += c.requests;
        match c.kind {
            ChargeKind::OnDemand | ChargeKind::InstanceTime => {
                u.mb_ms += c.mb_ms;
                u.cpu_ms += c.cpu_ms;
            }
            ChargeKind::ProvisionedInvocation => {
                u.provisioned_requests += c.requests;
                u.provisioned_exec_mb_ms += c.mb_ms;
            }
            ChargeKind::ProvisionedTime => u.provisioned_mb_ms += c.mb_ms,
            ChargeKind::SnapshotCache => u.snapshot_cache_mb_ms += c.mb_ms,
            ChargeKind::SnapshotRestore => u.snapshot_restored_mb += c.restored_mb as u128,
        }
    }

    /// Prices the month: marginal prices, then volume tiers (with `tiers`) and free
    /// allowances (with `free_tier`, valued at first-tier prices, as AWS and Google apply
    /// them). Tiers count the month's on-demand memory-time from zero, free GB-s included;
    /// provisioned concurrency has neither tiers nor free tier.
    pub fn invoice(&self) -> Invoice {
        let p = self.billing.model.prices();
        let u = self.usage;
        let requests_list = Money::for_millionths(u.requests as u128, p.request_per_million);
        let memory_list = Money::for_mb_ms(u.mb_ms, p.gb_second);
        let cpu_list = Money::for_millionths(u.cpu_ms, p.cpu_second);
        let provisioned = match p.provisioned {
            Some(pc) => {
                Money::for_mb_ms(u.provisioned_mb_ms, pc.concurrency_gb_s)
                    + Money::for_mb_ms(u.provisioned_exec_mb_ms, pc.duration_gb_s)
            }
            None => Money::ZERO,
        };
        let snapshot = match p.snapshot {
            Some(sp) => {
                Money::for_mb_ms(u.snapshot_cache_mb_ms, sp.cache_gb_s)
                    + snapshot_restore_money(u.snapshot_restored_mb, sp.restore_gb)
            }
            None => Money::ZERO,
        };

        let memory_tiered = if self.billing.tiers && !p.tiers.is_empty() {
            tiered(u.mb_ms, p.tiers)
        } else {
            memory_list
        };

        let (free_requests, free_mb_ms, free_cpu_ms) = if self.billing.free_tier {
            let on_demand = u.requests - u.provisioned_requests;
            (
                on_demand.min(p.free.requests),
                u.mb_ms.min(p.free.gb_s as u128 * MB_MS_PER_GB_S as u128),
                u.cpu_ms
                    .min(p.free.cpu_s as u128 * CPU_MS_PER_CPU_S as u128),
            )
        } else {
            (0, 0, 0)
        };
        let requests_credit = Money::for_millionths(free_requests as u128, p.request_per_million);
        let memory_credit = Money::for_mb_ms(free_mb_ms, p.gb_second);
        let cpu_credit = Money::for_millionths(free_cpu_ms, p.cpu_second);

        let requests = requests_list.saturating_sub(requests_credit);
        let memory = memory_tiered.saturating_sub(memory_credit);
        let cpu = cpu_list.saturating_sub(cpu_credit);
        Invoice {
            usage: u,
            requests,
            memory,
            cpu,
            provisioned,
            snapshot,
            tier_discount: memory_list.saturating_sub(memory_tiered),
            free_tier_credit: requests_credit + memory_credit + cpu_credit,
            list: requests_list + memory_list + cpu_list + provisioned + snapshot,
            total: requests + memory + cpu + provisioned + snapshot,
        }
    }
}

/// `mb_ms` priced through volume tiers.
fn tiered(mb_ms: u128, tiers: &[Tier]) -> Money {
    let mut cost = Money::ZERO;
    let mut below = 0u128;
    for t in tiers {
        let top = (t.up_to_gb_s as u128).saturating_mul(MB_MS_PER_GB_S as u128);
        let part = mb_ms.min(top).saturating_sub(below);
        cost += Money::for_mb_ms(part, t.price);
        below = top;
        if mb_ms <= top {
            break;
        }
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_ms(x)
    }

    /// Exact money from a price in 1e-10 USD times a quantity, as a rational: `units` price
    /// units (1e-10 USD) divided by `div`.
    fn price_units(units: u128, div: u128) -> Money {
        assert_eq!((units * MONEY_PER_PRICE_UNIT) % div, 0, "not exact");
        Money(units * MONEY_PER_PRICE_UNIT / div)
    }

    /// An exact decimal USD amount (any number of digits) in Money; panics if inexact.
    fn usd(x: &str) -> Money {
        let (int, frac) = x.split_once('.').unwrap_or((x, ""));
        let digits: u128 = format!("{int}{frac}").parse().unwrap();
        let scale = 10u128.pow(frac.len() as u32);
        assert_eq!(
            (digits * Money::UNITS_PER_USD) % scale,
            0,
            "{x} is not exact"
        );
        Money(digits * Money::UNITS_PER_USD / scale)
    }

    fn bill_of(billing: Billing, charges: &[Charge]) -> Invoice {
        let mut b = Bill::new(billing);
        for c in charges {
            b.add(c);
        }
        b.invoice()
    }

    #[test]
    fn deferred_on_demand_money_is_the_sum_of_the_charges() {
        // A custom table: $0.30 per million requests, $0.000017 per GB-s, 100 ms rounding,
        // memory in steps of 128 MB, at least 150 ms, INIT billed. A 200 MB function bills
        // 256 MB. Runs (init): 1 us -> 100 ms, raised to 150 ms; 100 ms -> 150 ms;
        // 100.001 ms -> 200 ms; 250 ms (+ 60 ms init) -> 310 ms -> 400 ms. Billed
        // 150 + 150 + 200 + 400 = 900 ms x 256 MB = 230,400 MB-ms = 0.225 GB-s.
        let custom = CustomPrices {
            request_per_million: 3_000_000_000,
            gb_second: 170_000,
            granularity_ms: 100,
            memory_step_mb: 128,
            min_billed_ms: 150,
        };
        let b = Billing {
            bill_init: true,
            ..Billing::new(BillingModel::Custom(custom))
        };
        let p = b.model.prices();
        assert!(b.linear_on_demand(&p));
        let runs = [
            (SimDuration(1), SimDuration::ZERO),
            (ms(100), SimDuration::ZERO),
            (SimDuration(100_001), SimDuration::ZERO),
            (ms(250), ms(60)),
        ];
        let mut sum = Charge::default();
        let mut mb_ms = 0;
        for (run, init) in runs {
            let c = b.charge_at(&p, run, init, 200);
            assert_eq!(b.on_demand_mb_ms(&p, run, init, 200), c.mb_ms);
            mb_ms += c.mb_ms;
            sum.request += c.request;
            sum.duration += c.duration;
        }
        assert_eq!(mb_ms, 230_400);
        let (request, duration) = b.on_demand_money(&p, 4, mb_ms);
        assert_eq!((request, duration), (sum.request, sum.duration));
        // 4 x 3,000 units; 0.225 GB-s x 170,000 = 38,250 units of 1e-10 USD.
        assert_eq!(request, Money::from_price_units(12_000));
        assert_eq!(duration, Money::from_price_units(38_250));
        // Instance-based billing: a request fee, no time; CPU billed apart: not linear.
        let cri = Billing::new(BillingModel::CloudRunInstance);
        let pi = cri.model.prices();
        assert!(cri.linear_on_demand(&pi));
        assert_eq!(cri.on_demand_mb_ms(&pi, ms(300), ms(50), 512), 0);
        assert_eq!(cri.charge_at(&pi, ms(300), ms(50), 512).mb_ms, 0);
        for m in [BillingModel::GcfGen1, BillingModel::CloudRun] {
            let b = Billing::new(m);
            assert!(!b.linear_on_demand(&b.model.prices()));
        }
    }

    #[test]
    fn snapstart_charges_are_exact_and_only_on_aws() {
        let b = Billing::new(BillingModel::AwsLambdaX86);
        // 1 GB kept for 1 s: $0.0000015046; 1.5 ms rounds up to 2 ms.
        let c = b
            .snapshot_cache_charge(SimDuration(1_000_000), 1024)
            .unwrap();
        assert_eq!(c.kind, ChargeKind::SnapshotCache);
        assert_eq!((c.billed_ms, c.mb_ms), (1_000, 1_024_000));
        assert_eq!(c.total(), Money::from_price_units(15_046));
        assert_eq!(
            b.snapshot_cache_charge(SimDuration(1_500), 1024)
                .unwrap()
                .billed_ms,
            2
        );
        // 1 GB restored: $0.0001397998; 512 MB: half of it, exactly.
        let r = b.snapshot_restore_charge(1024).unwrap();
        assert_eq!((r.kind, r.restored_mb), (ChargeKind::SnapshotRestore, 1024));
        assert_eq!(r.total(), Money::from_price_units(1_397_998));
        assert_eq!(
            b.snapshot_restore_charge(512).unwrap().total(),
            Money::from_price_units(698_999)
        );
        // The invoice prices the usage the same: list = the sum of the charges.
        let inv = bill_of(b, &[c, r]);
        assert_eq!(inv.snapshot, c.total() + r.total());
        assert_eq!(inv.list, inv.snapshot);
        assert_eq!(inv.total, inv.snapshot);
        assert!(Billing::new(BillingModel::AwsLambdaArm)
            .snapshot_restore_charge(1024)
            .is_some());
        for m in [
            BillingModel::AzureConsumption,
            BillingModel::GcfGen1,
            BillingModel::CloudRun,
        ] {
            assert!(Billing::new(m)
                .snapshot_cache_charge(SimDuration(1), 1)
                .is_none());
            assert!(Billing::new(m).snapshot_restore_charge(1).is_none());
        }
    }

    #[test]
    fn money_unit_makes_every_kind_of_charge_exact() {
        assert_eq!(Money::UNITS_PER_USD, 11_520_000_000_000_000_000);
        // One MB-ms at one unit per GB-s is 1 / 1,024,000 unit.
        assert_eq!(Money::for_mb_ms(1_024_000, 1), Money::from_price_units(1));
        // One MHz-ms at one unit per GHz-s is 1e-6 unit.
        assert_eq!(
            Money::for_millionths(1_000_000, 1),
            Money::from_price_units(1)
        );
        // One second at one unit per hour is 1/3600 unit.
        assert_eq!(Money::for_seconds(3_600, 1), Money::from_price_units(1));
        assert_eq!(
            Money::from_price_units(PRICE_UNITS_PER_USD as u128).to_usd(),
            1.0
        );
    }

    #[test]
    fn decimal_prices_parse_exactly() {
        assert_eq!(usd_str_to_price_units("0.011600"), Some(116_000_000));
        assert_eq!(usd_str_to_price_units("13.344000"), Some(133_440_000_000));
        assert_eq!(usd_str_to_price_units("0.0000166667"), Some(166_667));
        assert_eq!(usd_str_to_price_units("$1"), Some(10_000_000_000));
        assert_eq!(usd_str_to_price_units(".5"), Some(5_000_000_000));
        assert_eq!(usd_str_to_price_units("0.00000000001"), None);
        assert_eq!(usd_str_to_price_units("0.00000000010"), Some(1));
        for bad in ["", ".", "-1", "1e-3", "abc", "1.2.3", " "] {
            assert_eq!(usd_str_to_price_units(bad), None, "{bad:?}");
        }
        assert_eq!(usd_f64_to_units(0.0000166667, 1e10), Some(166_667));
        assert_eq!(usd_f64_to_units(0.2, 1e10), Some(2_000_000_000));
        assert_eq!(usd_f64_to_units(0.00000000001, 1e10), None);
        assert_eq!(usd_f64_to_units(-0.1, 1e10), None);
        assert_eq!(usd_f64_to_units(f64::NAN, 1e10), None);
        assert_eq!(vcpus_to_milli(1.0), Some(1000));
        assert_eq!(vcpus_to_milli(0.08), Some(80));
        assert_eq!(vcpus_to_milli(0.0), None);
        assert_eq!(vcpus_to_milli(0.0005), None);
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
    fn presets_take_their_own_rounding() {
        assert_eq!(Billing::new(BillingModel::AwsLambdaX86).granularity_ms, 1);
        assert_eq!(
            Billing::new(BillingModel::AzureConsumption).granularity_ms,
            1
        );
        assert_eq!(Billing::new(BillingModel::GcfGen1).granularity_ms, 100);
        assert_eq!(Billing::new(BillingModel::CloudRun).granularity_ms, 100);
        assert_eq!(
            Billing::new(BillingModel::CloudRunInstance).granularity_ms,
            100
        );
        assert_eq!(Billing::default(), Billing::new(BillingModel::AwsLambdaX86));
        assert!(Billing::default().validate().is_ok());
        let bad = Billing {
            granularity_ms: 0,
            ..Billing::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "granularity_ms");
    }

    #[test]
    fn aws_published_example_60m_invocations_28ms_1gb() {
        // AWS: 60 M invocations x 28 ms x 1 GB = $28 of duration at 1 ms rounding, $100 at
        // 100 ms, plus $12 of requests. AWS rounds the price to $0.0000166667 per GB-s, so
        // the exact figures are 1,680,000 GB-s x $0.0000166667 = $28.000056 and
        // 6,000,000 GB-s x $0.0000166667 = $100.0002.
        let n = 60_000_000u128;
        for (g, exact) in [(1, "28.000056"), (100, "100.0002")] {
            let b = Billing {
                granularity_ms: g,
                ..Billing::default()
            };
            let c = b.charge(ms(28), SimDuration::ZERO, 1024);
            assert_eq!(Money(c.duration.0 * n), usd(exact));
            assert_eq!(Money(c.request.0 * n), usd("12"));
            // The same through a month's bill (tiers on, no free tier: 1.68 M GB-s is far
            // below the first tier boundary).
            let inv = bill_of(b, &[c]);
            assert_eq!(inv.total, c.total());
        }
        let mut bill = Bill::new(Billing::default());
        let c = Billing::default().charge(ms(28), SimDuration::ZERO, 1024);
        for _ in 0..1000 {
            bill.add(&c);
        }
        let inv = bill.invoice();
        assert_eq!(inv.usage.mb_ms, 1000 * 28 * 1024);
        assert_eq!(inv.list, Money(c.total().0 * 1000));
        assert_eq!(inv.total, inv.list);
    }

    #[test]
    fn per_gb_ms_price_is_not_the_slide_typo() {
        // $0.0000166667 per GB-s is $0.0000000166667 per GB-ms (not 0.00000000166667).
        let b = Billing::default();
        let c = b.charge(ms(1), SimDuration::ZERO, 1024);
        assert_eq!(c.duration, price_units(166_667, 1000));
        assert!((c.duration.to_usd() - 0.000_000_016_666_7).abs() < 1e-16);
        let arm = Billing::new(BillingModel::AwsLambdaArm);
        assert_eq!(
            arm.charge(ms(1000), SimDuration::ZERO, 1024).duration,
            usd("0.0000133334")
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

    #[test]
    fn lambda_tier_boundaries() {
        let six_billion = 6_000_000_000u128 * MB_MS_PER_GB_S as u128;
        let at = |mb_ms: u128, billing: Billing| {
            bill_of(
                billing,
                &[Charge {
                    mb_ms,
                    ..Charge::default()
                }],
            )
        };
        // Exactly 6 billion GB-s: all in the first tier, $100,000.2.
        let inv = at(six_billion, Billing::default());
        assert_eq!(inv.memory, usd("100000.2"));
        assert_eq!(inv.tier_discount, Money::ZERO);
        // One MB-ms more: that MB-ms is billed at $0.000015 per GB-s.
        let inv = at(six_billion + 1, Billing::default());
        assert_eq!(
            inv.memory,
            usd("100000.2") + price_units(150_000, 1_024_000)
        );
        assert_eq!(inv.tier_discount, price_units(166_667 - 150_000, 1_024_000));
        assert_eq!(inv.list, inv.total + inv.tier_discount);
        // 20 billion GB-s: 6 B at tier 1, 9 B at tier 2, 5 B at tier 3.
        let twenty = 20_000_000_000u128 * MB_MS_PER_GB_S as u128;
        let inv = at(twenty, Billing::default());
        assert_eq!(inv.memory, usd("100000.2") + usd("135000") + usd("66667"));
        // Without tiers: everything at the first-tier price.
        let flat = Billing {
            tiers: false,
            ..Billing::default()
        };
        assert_eq!(at(twenty, flat).memory, usd("333334"));
        // Arm: the first boundary is 7.5 billion GB-s.
        let arm = Billing::new(BillingModel::AwsLambdaArm);
        let seven_half = 7_500_000_000u128 * MB_MS_PER_GB_S as u128;
        let inv = at(seven_half + 1_024_000, arm);
        assert_eq!(inv.memory, usd("100000.5") + usd("0.0000120001"));
    }

    #[test]
    fn lambda_free_tier() {
        // 3 M requests of 100 ms at 128 MB = 37,500 GB-s, under 400,000: only the 2 M
        // requests beyond the free million are billed, $0.40.
        let b = Billing {
            free_tier: true,
            ..Billing::default()
        };
        let mut bill = Bill::new(b);
        let c = b.charge(ms(100), SimDuration::ZERO, 128);
        for _ in 0..3_000_000 {
            bill.add(&c);
        }
        let inv = bill.invoice();
        assert_eq!(inv.total, usd("0.40"));
        assert_eq!(inv.requests, usd("0.40"));
        assert_eq!(inv.memory, Money::ZERO);
        assert_eq!(inv.list, Money(c.total().0 * 3_000_000));
        assert_eq!(inv.list, inv.total + inv.free_tier_credit);
        // 500,000 GB-s: 100,000 GB-s beyond the free 400,000 are billed.
        let inv = bill_of(
            b,
            &[Charge {
                mb_ms: 500_000 * MB_MS_PER_GB_S as u128,
                ..Charge::default()
            }],
        );
        assert_eq!(inv.memory, usd("1.66667"));
        // Without the free tier the same month costs the list price.
        let no_free = Billing::default();
        let mut bill = Bill::new(no_free);
        for _ in 0..3_000_000 {
            bill.add(&c);
        }
        assert_eq!(bill.invoice().total, bill.invoice().list);
        assert_eq!(bill.invoice().total, usd("0.6") + usd("0.62500125"));
    }

    #[test]
    fn lambda_provisioned_concurrency() {
        let b = Billing::default();
        // 10 environments of 1024 MB configured for 2 h 1 min: rounded up to 2 h 5 min.
        let t = b
            .provisioned_time_charge(SimDuration::from_secs(2 * 3600 + 60), 1024, 10)
            .unwrap();
        assert_eq!(t.billed_ms, 7_500_000);
        assert_eq!(t.mb_ms, 7_500_000 * 1024 * 10);
        // 75,000 GB-s x $0.0000041667 = $0.3125025.
        assert_eq!(t.total(), usd("0.3125025"));
        // An invocation of 1 s at 1024 MB on it: $0.0000097222 + $0.0000002.
        let i = b.provisioned_invocation_charge(ms(1000), 1024).unwrap();
        assert_eq!(i.duration, usd("0.0000097222"));
        assert_eq!(i.request, usd("0.0000002"));
        // The free tier covers neither.
        let free = Billing {
            free_tier: true,
            ..b
        };
        let inv = bill_of(free, &[t, i]);
        assert_eq!(inv.total, t.total() + i.total());
        assert_eq!(inv.provisioned, t.total() + i.duration);
        assert_eq!(inv.list, inv.total);
        // Arm's provisioned prices; none for other models.
        let arm = Billing::new(BillingModel::AwsLambdaArm);
        let i = arm.provisioned_invocation_charge(ms(1000), 1024).unwrap();
        assert_eq!(i.duration, usd("0.0000077778"));
        let t = arm.provisioned_time_charge(ms(1000), 1024, 1).unwrap();
        assert_eq!(t.duration, usd("0.0000033334") * 300);
        assert!(Billing::new(BillingModel::GcfGen1)
            .provisioned_time_charge(ms(1), 128, 1)
            .is_none());
    }

    impl std::ops::Mul<u128> for Money {
        type Output = Money;
        fn mul(self, k: u128) -> Money {
            Money(self.0 * k)
        }
    }

    #[test]
    fn azure_rounds_memory_to_128_mb_and_time_to_a_100_ms_minimum() {
        let b = Billing::new(BillingModel::AzureConsumption);
        // 0.001 ms -> 100 ms minimum; 129 MB -> 256 MB.
        let c = b.charge(SimDuration(1), SimDuration::ZERO, 129);
        assert_eq!(c.billed_ms, 100);
        assert_eq!(c.mb_ms, 100 * 256);
        // 0.1 s x 0.25 GB x $0.000016 = $0.0000004; plus $0.0000002 per execution.
        assert_eq!(c.duration, usd("0.0000004"));
        assert_eq!(c.request, usd("0.0000002"));
        // Exactly 100 ms stays 100 ms; 150.0004 ms -> 151 ms (1 ms rounding).
        assert_eq!(b.charge(ms(100), SimDuration::ZERO, 128).billed_ms, 100);
        assert_eq!(b.charge(ms(99), SimDuration::ZERO, 128).billed_ms, 100);
        assert_eq!(
            b.charge(SimDuration(150_400), SimDuration::ZERO, 128)
                .billed_ms,
            151
        );
        // 128 MB stays 128, 64 MB bills the 128 MB minimum, 2048 MB is capped at 1536 MB.
        for (mb, billed) in [(128, 128), (64, 128), (256, 256), (257, 384), (2048, 1536)] {
            assert_eq!(b.billed_memory_mb(mb), billed, "{mb} MB");
        }
        // Free grant: 1 M executions and 400,000 GB-s.
        let free = Billing {
            free_tier: true,
            ..b
        };
        let mut bill = Bill::new(free);
        let c = free.charge(ms(1000), SimDuration::ZERO, 1536);
        for _ in 0..300_000 {
            bill.add(&c);
        }
        // 300,000 x 1 s x 1.5 GB = 450,000 GB-s: 50,000 billable = $0.80; requests free.
        let inv = bill.invoice();
        assert_eq!(inv.requests, Money::ZERO);
        assert_eq!(inv.memory, usd("0.8"));
        assert_eq!(inv.total, usd("0.8"));
    }

    #[test]
    fn gcf_gen1_tiers_and_100_ms_rounding() {
        let b = Billing::new(BillingModel::GcfGen1);
        // Google's price per 100 ms by tier (GB-s part + GHz-s part), exact.
        let per_100ms = [
            (128, "0.00000023125"),
            (256, "0.0000004625"),
            (512, "0.000000925"),
            (1024, "0.00000165"),
            (2048, "0.0000029"),
            (4096, "0.0000058"),
            (8192, "0.0000068"),
        ];
        for (mb, price) in per_100ms {
            let c = b.charge(ms(100), SimDuration::ZERO, mb);
            assert_eq!(c.billed_ms, 100);
            assert_eq!(c.duration, usd(price), "{mb} MB");
            assert_eq!(c.request, usd("0.0000004"));
        }
        // 0.001 ms bills 100 ms; 260 ms bills 300 ms (Google's own example); exactly 100 ms
        // stays 100 ms.
        assert_eq!(
            b.charge(SimDuration(1), SimDuration::ZERO, 128).billed_ms,
            100
        );
        assert_eq!(b.charge(ms(260), SimDuration::ZERO, 128).billed_ms, 300);
        // 129 MB is billed as the 256 MB tier, at 400 MHz.
        let c = b.charge(ms(100), SimDuration::ZERO, 129);
        assert_eq!(c.mb_ms, 100 * 256);
        assert_eq!(c.cpu_ms, 100 * 400);
        assert_eq!(c.cpu, usd("0.0000004"));
        assert_eq!(c.memory(), usd("0.0000000625"));
        assert_eq!(c.duration, usd("0.0000004625"));
        // Above the largest tier: billed as is, at 4.8 GHz.
        assert_eq!(b.billed_memory_mb(10_000), 10_000);
        assert_eq!(b.cpu_rate(10_000), 4800);
        // A 1 ms override stays exact: 1 ms at 128 MB / 200 MHz.
        let b1 = Billing {
            granularity_ms: 1,
            ..b
        };
        let c = b1.charge(SimDuration(1), SimDuration::ZERO, 128);
        assert_eq!(c.cpu, price_units(200 * 100_000, 1_000_000));
        // Free tier: 2 M invocations.
        let free = Billing {
            free_tier: true,
            ..b
        };
        let mut bill = Bill::new(free);
        let c = free.charge(ms(100), SimDuration::ZERO, 128);
        for _ in 0..2_500_000 {
            bill.add(&c);
        }
        let inv = bill.invoice();
        assert_eq!(inv.requests, usd("0.2"));
        // 2.5 M x $0.00000023125 = $0.578125 of compute, no free compute.
        assert_eq!(inv.memory + inv.cpu, usd("0.578125"));
        assert_eq!(inv.total, usd("0.778125"));
    }

    #[test]
    fn cloud_run_request_based() {
        let b = Billing::new(BillingModel::CloudRun);
        // 250 ms at 512 MiB, 1 vCPU: 300 ms.
        let c = b.charge(ms(250), SimDuration::ZERO, 512);
        assert_eq!(c.billed_ms, 300);
        assert_eq!(c.cpu_ms, 300 * 1000);
        assert_eq!(c.cpu, usd("0.0000072")); // 0.3 vCPU-s x $0.000024
        assert_eq!(c.memory(), usd("0.000000375")); // 0.15 GiB-s x $0.0000025
        assert_eq!(c.request, usd("0.0000004"));
        // 2 vCPUs double the CPU part; 0.08 vCPU stays exact.
        let b2 = Billing {
            vcpu_milli: 2000,
            ..b
        };
        assert_eq!(
            b2.charge(ms(250), SimDuration::ZERO, 512).cpu,
            usd("0.0000144")
        );
        let small = Billing {
            vcpu_milli: 80,
            ..b
        };
        assert_eq!(
            small.charge(ms(100), SimDuration::ZERO, 512).cpu,
            usd("0.000000192")
        );
        // Instance lifetimes cost nothing under request-based billing.
        assert_eq!(b.instance_charge(ms(60_000), 512).total(), Money::ZERO);
        // Free tier: 180,000 vCPU-s, 360,000 GiB-s, 2 M requests.
        let free = Billing {
            free_tier: true,
            ..b
        };
        let inv = bill_of(
            free,
            &[Charge {
                requests: 3_000_000,
                mb_ms: 400_000 * MB_MS_PER_GB_S as u128,
                cpu_ms: 200_000 * CPU_MS_PER_CPU_S as u128,
                ..Charge::default()
            }],
        );
        assert_eq!(inv.requests, usd("0.4"));
        assert_eq!(inv.memory, usd("0.1")); // 40,000 GiB-s x $0.0000025
        assert_eq!(inv.cpu, usd("0.48")); // 20,000 vCPU-s x $0.000024
    }

    #[test]
    fn cloud_run_instance_based() {
        let b = Billing::new(BillingModel::CloudRunInstance);
        // Invocations bill nothing (no request fee, no time).
        let c = b.charge(ms(250), ms(100), 512);
        assert_eq!(c.total(), Money::ZERO);
        assert_eq!(c.requests, 1);
        assert_eq!(c.billed_ms, 0);
        // An instance of 1 GiB, 1 vCPU, alive 15 min 0.05 s -> 900.1 s.
        let i = b.instance_charge(SimDuration(900_050_000), 1024);
        assert_eq!(i.billed_ms, 900_100);
        assert_eq!(i.cpu, usd("0.0162018")); // 900.1 vCPU-s x $0.000018
        assert_eq!(i.memory(), usd("0.0018002")); // 900.1 GiB-s x $0.000002
        assert_eq!(i.request, Money::ZERO);
        let inv = bill_of(b, &[c, i]);
        assert_eq!(inv.total, usd("0.018002"));
        assert_eq!(inv.usage.requests, 1);
        // Free tier: 240,000 vCPU-s and 450,000 GiB-s.
        let free = Billing {
            free_tier: true,
            ..b
        };
        let month = free.instance_charge(SimDuration::from_secs(500_000), 1024);
        let inv = bill_of(free, &[month]);
        assert_eq!(inv.cpu, usd("4.68")); // 260,000 x $0.000018
        assert_eq!(inv.memory, usd("0.1")); // 50,000 x $0.000002
        assert_eq!(inv.list, inv.total + inv.free_tier_credit);
    }

    #[test]
    fn custom_price_table() {
        let c = CustomPrices::try_from(CustomPricesSpec {
            request_price_usd_per_million: 0.25,
            gb_second_usd: 0.00001,
            granularity_ms: 10,
            memory_step_mb: 64,
            min_billed_ms: 50,
        })
        .unwrap();
        assert_eq!(c.request_per_million, 2_500_000_000);
        assert_eq!(c.gb_second, 100_000);
        let b = Billing::new(BillingModel::Custom(c));
        assert_eq!(b.granularity_ms, 10);
        // 0.001 ms -> 10 ms -> 50 ms minimum; 100 MB -> 128 MB.
        let ch = b.charge(SimDuration(1), SimDuration::ZERO, 100);
        assert_eq!(ch.billed_ms, 50);
        assert_eq!(ch.mb_ms, 50 * 128);
        assert_eq!(ch.request, usd("0.00000025"));
        // 51 ms -> 60 ms.
        assert_eq!(b.charge(ms(51), SimDuration::ZERO, 64).billed_ms, 60);
        // 1 s at 1024 MB = $0.00001.
        assert_eq!(
            b.charge(ms(1000), SimDuration::ZERO, 1024).duration,
            usd("0.00001")
        );
        // Inexact or invalid prices are refused.
        let bad = CustomPricesSpec {
            request_price_usd_per_million: 0.2,
            gb_second_usd: 0.00000000001,
            granularity_ms: 1,
            memory_step_mb: 1,
            min_billed_ms: 0,
        };
        assert!(CustomPrices::try_from(bad)
            .unwrap_err()
            .contains("gb_second_usd"));
        let bad = CustomPricesSpec {
            granularity_ms: 0,
            gb_second_usd: 0.00001,
            ..bad
        };
        assert!(CustomPrices::try_from(bad)
            .unwrap_err()
            .contains("granularity_ms"));
        // Round trip through the spec form.
        let back = CustomPrices::try_from(CustomPricesSpec::from(c)).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn per_invocation_charges_sum_to_the_list_price() {
        // Whatever the model, the list price of a bill is the exact sum of its charges.
        let models = [
            BillingModel::AwsLambdaX86,
            BillingModel::AwsLambdaArm,
            BillingModel::AzureConsumption,
            BillingModel::GcfGen1,
            BillingModel::CloudRun,
            BillingModel::CloudRunInstance,
        ];
        for m in models {
            for free_tier in [false, true] {
                let b = Billing {
                    free_tier,
                    bill_init: true,
                    ..Billing::new(m)
                };
                let mut bill = Bill::new(b);
                let mut sum = Money::ZERO;
                for k in 0..200u64 {
                    let c = b.charge(
                        SimDuration(k * 7_919),
                        SimDuration(k * 13),
                        100 + 37 * k as u32,
                    );
                    let i = b.instance_charge(SimDuration(k * 1_000_003), 256);
                    for ch in [c, i] {
                        bill.add(&ch);
                        sum += ch.total();
                    }
                }
                let inv = bill.invoice();
                assert_eq!(inv.list, sum, "{m:?}");
                assert_eq!(
                    inv.list,
                    inv.total + inv.tier_discount + inv.free_tier_credit,
                    "{m:?}"
                );
                if !free_tier {
                    assert_eq!(inv.total, inv.list, "{m:?}");
                }
            }
        }
    }

    /// The 64-bit path of `timed` gives exactly the 128-bit products, and steps aside when
    /// one would overflow: 100 years billed at 10 GB is 3.2e12 ms x 10,240 MB = 3.2e16 MB-ms,
    /// times Cloud Run's GiB-s price of 25,000 (1e-10 USD) is 8e20, past u64's 1.8e19, so it
    /// takes the 128-bit path; 300 ms at 512 MB ends at 300 x 512 x 25,000 x 1,125 = 4.3e12.
    #[test]
    fn timed_64_bit_path_matches_128_bit_arithmetic() {
        let b = Billing {
            vcpu_milli: 2000,
            ..Billing::new(BillingModel::CloudRun)
        };
        let p = b.model.prices();
        let reference = |billed_ms: u64, mb: u32, gb_s: u64| {
            let mb_ms = billed_ms as u128 * p.billed_memory_mb(mb) as u128;
            let cpu_ms = billed_ms as u128 * b.vcpu_milli as u128;
            let cpu = Money::for_millionths(cpu_ms, p.cpu_second);
            (mb_ms, cpu_ms, cpu, Money::for_mb_ms(mb_ms, gb_s) + cpu)
        };
        let century_ms = 100 * 365 * 86_400 * 1_000;
        for (billed_ms, mb) in [(1, 128), (300, 512), (century_ms, 10_240), (u64::MAX, 1)] {
            let fits = Billing::timed_u64(
                billed_ms,
                p.billed_memory_mb(mb),
                b.vcpu_milli,
                p.gb_second,
                p.cpu_second,
            )
            .is_some();
            assert_eq!(fits, billed_ms < century_ms, "{billed_ms} ms at {mb} MB");
            let c = b.timed(&p, billed_ms, mb, p.gb_second);
            assert_eq!(
                (c.mb_ms, c.cpu_ms, c.cpu, c.duration),
                reference(billed_ms, mb, p.gb_second),
                "{billed_ms} ms at {mb} MB"
            );
        }
    }
}
