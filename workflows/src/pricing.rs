//! Orchestration and storage prices, in the exact integer [`Money`] of `faasim_sim::billing`.
//!
//! Prices are integers in 1e-10 USD (price units), as in the core. Like the functions' bill,
//! a run is billed as one month: per-item charges at list (first-tier) prices sum exactly to
//! [`OrchestrationInvoice::list`]; volume tiers and the free tier apply to the run's totals.
//!
//! | orchestrator | charged | price (price units) | source |
//! |---|---|---|---|
//! | Step Functions Standard | per state transition (retries included) | $0.025 per 1,000 = 250,000 each; 4,000 free per month | aws.amazon.com/step-functions/pricing, us-east-1, 2024 |
//! | Step Functions Express | per execution | $1.00 per million | same page |
//! | | duration × memory, per GB-hour: first 1,000 GB-h, next 4,000, beyond | $0.06, $0.03, $0.01642 | same page; duration rounded up to 100 ms, memory (50 MB + definition + payload) billed in 64 MB chunks |
//! | Durable Functions | the orchestrator's replays, as function invocations (the engine bills them) | the run's billing model | learn.microsoft.com, "Durable Functions billing" |
//! | | storage transactions per replay | $0.0004 per 10,000 = 400 each ([`DURABLE_TRANSACTIONS_PER_REPLAY`] per replay, assumed) | Azure Queue Storage, standard, 2024 |
//!
//! Express's duration is exact in one unit of 64 MB × 100 ms: a GB-hour is 3,686,400,000
//! MB-ms = 576,000 such units, so a price of p price units per GB-hour is p × 1,152,000,000
//! / 576,000 = p × 2,000 Money per unit ([`express_unit_money`]).

use faasim_sim::billing::MONEY_PER_PRICE_UNIT;
use faasim_sim::Money;

/// Step Functions Standard: price of one state transition, price units ($0.025 / 1,000).
pub const STANDARD_TRANSITION_UNITS: u64 = 250_000;
/// Step Functions Standard: free state transitions per month.
pub const STANDARD_FREE_TRANSITIONS: u64 = 4_000;
/// Step Functions Express: price per million executions, price units ($1.00).
pub const EXPRESS_MILLION_EXECUTIONS_UNITS: u64 = 10_000_000_000;
/// Express duration price tiers: (GB-hours in the tier, price units per GB-hour).
pub const EXPRESS_TIERS: [(Option<u64>, u64); 3] = [
    (Some(1_000), 600_000_000),
    (Some(4_000), 300_000_000),
    (None, 164_200_000),
];
/// Express duration is rounded up to this, ms.
pub const EXPRESS_GRANULARITY_MS: u64 = 100;
/// Express memory is billed in chunks of this, MB.
pub const EXPRESS_CHUNK_MB: u32 = 64;
/// Express's base memory, MB ("50 MB plus the definition and the payload").
pub const EXPRESS_BASE_MB: u32 = 50;
/// Step Functions' payload limit, bytes (256 KB): the most payload an execution carries.
pub const EXPRESS_MAX_PAYLOAD_BYTES: u64 = 256 * 1024;
/// Billing units (64 MB × 100 ms) per GB-hour: 1024 MB × 3,600,000 ms / 6,400 MB-ms.
pub const EXPRESS_UNITS_PER_GB_HOUR: u64 = 576_000;
/// Durable Functions: storage transactions per orchestrator replay (dequeue the message,
/// read the history, write it, enqueue the next work item; an assumption).
pub const DURABLE_TRANSACTIONS_PER_REPLAY: u64 = 4;
/// Azure Storage: price of one transaction, price units ($0.0004 per 10,000).
pub const STORAGE_TRANSACTION_UNITS: u64 = 400;

/// Express's billed memory for an execution carrying `bytes` of definition and payload:
/// 50 MB plus that, rounded up to 64 MB chunks (MB = 2^20 bytes).
pub fn express_memory_mb(bytes: u64) -> u32 {
    let mb = EXPRESS_BASE_MB as u64 + bytes.div_ceil(1 << 20);
    (mb.div_ceil(EXPRESS_CHUNK_MB as u64) * EXPRESS_CHUNK_MB as u64) as u32
}

/// Express billing units (64 MB × 100 ms) of one execution.
pub fn express_units(duration_ms_exact_us: u64, memory_mb: u32) -> u64 {
    let tenths = duration_ms_exact_us
        .div_ceil(EXPRESS_GRANULARITY_MS * 1000)
        .max(1);
    tenths * (memory_mb / EXPRESS_CHUNK_MB).max(1) as u64
}

/// The Money of one Express unit at `price` price units per GB-hour: price ×
/// 1,152,000,000 / 576,000 = price × 2,000.
pub fn express_unit_money(price: u64) -> u128 {
    price as u128 * (MONEY_PER_PRICE_UNIT / EXPRESS_UNITS_PER_GB_HOUR as u128)
}

/// `n` items at `units` price units each.
pub fn per_item(n: u64, units: u64) -> Money {
    Money::from_price_units(n as u128 * units as u128)
}

/// What a run used of the orchestrators and of storage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrchestrationUsage {
    /// Step Functions Standard state transitions.
    pub standard_transitions: u64,
    /// Step Functions Express executions.
    pub express_executions: u64,
    /// Express duration units (64 MB × 100 ms).
    pub express_units: u64,
    /// Durable: the replays' charges, as the engine billed them (list prices).
    pub durable_replay_cost: Money,
    /// Durable: storage transactions.
    pub durable_transactions: u64,
    /// Data passing through storage: puts and gets.
    pub storage_puts: u64,
    /// Gets.
    pub storage_gets: u64,
}

/// The month's orchestration and storage bill.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrchestrationInvoice {
    /// Orchestration at list prices.
    pub list: Money,
    /// Orchestration after tiers and the free tier.
    pub orchestration: Money,
    /// Of `orchestration`, what the engine already billed as function invocations (Durable
    /// replays): not to be added to the user's bill twice.
    pub in_function_bill: Money,
    /// Storage requests of data passing.
    pub storage: Money,
}

/// Per-request storage prices, price units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoragePrices {
    /// One put.
    pub put_units: u64,
    /// One get.
    pub get_units: u64,
}

impl OrchestrationUsage {
    /// Standard transitions at list price.
    pub fn standard_list(&self) -> Money {
        per_item(self.standard_transitions, STANDARD_TRANSITION_UNITS)
    }

    /// Express at list (first-tier) prices.
    pub fn express_list(&self) -> Money {
        Money::for_millionths(
            self.express_executions as u128,
            EXPRESS_MILLION_EXECUTIONS_UNITS,
        ) + Money(self.express_units as u128 * express_unit_money(EXPRESS_TIERS[0].1))
    }

    /// Express duration through the tiers.
    pub fn express_tiered(&self) -> Money {
        let mut left = self.express_units as u128;
        let mut total = Money::ZERO;
        for (size, price) in EXPRESS_TIERS {
            let take = match size {
                Some(gbh) => left.min(gbh as u128 * EXPRESS_UNITS_PER_GB_HOUR as u128),
                None => left,
            };
            total += Money(take * express_unit_money(price));
            left -= take;
        }
        total
            + Money::for_millionths(
                self.express_executions as u128,
                EXPRESS_MILLION_EXECUTIONS_UNITS,
            )
    }

    /// The month's bill; `free_tier` applies Step Functions' 4,000 free transitions.
    pub fn invoice(&self, free_tier: bool, storage: StoragePrices) -> OrchestrationInvoice {
        let durable = self.durable_replay_cost
            + per_item(self.durable_transactions, STORAGE_TRANSACTION_UNITS);
        let list = self.standard_list() + self.express_list() + durable;
        let billed_transitions = if free_tier {
            self.standard_transitions
                .saturating_sub(STANDARD_FREE_TRANSITIONS)
        } else {
            self.standard_transitions
        };
        let orchestration = per_item(billed_transitions, STANDARD_TRANSITION_UNITS)
            + self.express_tiered()
            + durable;
        let storage = per_item(self.storage_puts, storage.put_units)
            + per_item(self.storage_gets, storage.get_units);
        OrchestrationInvoice {
            list,
            orchestration,
            in_function_bill: self.durable_replay_cost,
            storage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(m: Money) -> f64 {
        m.to_usd()
    }

    #[test]
    fn aws_standard_example() {
        // AWS's example: 3 transitions per execution, 1,000 executions = 3,000 transitions
        // at $0.000025 = $0.075 exactly (no free tier).
        let u = OrchestrationUsage {
            standard_transitions: 3 * 1000,
            ..Default::default()
        };
        let inv = u.invoice(
            false,
            StoragePrices {
                put_units: 0,
                get_units: 0,
            },
        );
        assert_eq!(inv.orchestration, Money::from_price_units(750_000_000));
        assert_eq!(usd(inv.orchestration), 0.075);
        // With the free tier the first 4,000 are free: nothing to pay.
        let inv = u.invoice(
            true,
            StoragePrices {
                put_units: 0,
                get_units: 0,
            },
        );
        assert_eq!(inv.orchestration, Money::ZERO);
        assert_eq!(inv.list, Money::from_price_units(750_000_000));
    }

    #[test]
    fn aws_express_example() {
        // 100 M executions of 10 s at 64 MB: requests 100 × $1 = $100; duration 100 units
        // each = 10^10 units = 10^10 / 576,000 GB-h = 17,361.1 GB-h: 1,000 × $0.06 + 4,000 ×
        // $0.03 + 12,361.1 × $0.01642 = $60 + $120 + $202.969 = $382.97.
        let per = express_units(10_000_000, 64);
        assert_eq!(per, 100);
        let u = OrchestrationUsage {
            express_executions: 100_000_000,
            express_units: per * 100_000_000,
            ..Default::default()
        };
        let requests = Money::for_millionths(100_000_000, EXPRESS_MILLION_EXECUTIONS_UNITS);
        assert_eq!(requests, Money::from_price_units(100 * 10_000_000_000));
        let duration = u.express_tiered().0 - requests.0;
        // Exactly: 576e6 units × 600e6 × 2000 + 2304e6 × 300e6 × 2000 + (1e10 − 2880e6) ×
        // 164.2e6 × 2000 Money.
        let expect = 576_000_000u128 * 600_000_000 * 2000
            + 2_304_000_000u128 * 300_000_000 * 2000
            + (10_000_000_000u128 - 2_880_000_000) * 164_200_000 * 2000;
        assert_eq!(duration, expect);
        assert_eq!((Money(duration).to_usd() * 100.0).round() / 100.0, 382.97);
    }

    #[test]
    fn express_memory_is_50_mb_plus_payload_in_64_mb_chunks() {
        assert_eq!(express_memory_mb(0), 64);
        assert_eq!(express_memory_mb(14 << 20), 64);
        assert_eq!(express_memory_mb((14 << 20) + 1), 128);
        // 150 ms at 64 MB is 2 units; 1 µs is 1.
        assert_eq!(express_units(150_000, 64), 2);
        assert_eq!(express_units(1, 64), 1);
        assert_eq!(express_units(100_000, 128), 2);
    }
}
