//! Completions priced at the end of the run: with a recorder that does not read the
//! completions' charges, the engine sums their billed MB-ms and prices the sums once; every
//! figure of the run must be the one it gets pricing each completion as it ends.

use crate::common::*;
use crate::provider::{build, mix, run_mix_as, Mix};
use faasim_policies::KeepAliveSpec;
use faasim_sim::{
    Billing, BillingModel, Charge, CpuModel, CustomPrices, InvocationRecord, Money, NullRecorder,
    Outcome, Recorder, RunReport, VecRecorder, VecSource,
};
use proptest::prelude::*;

/// Wants completions but not their charges, as a recorder writing no per-invocation rows.
#[derive(Default)]
struct NoCharges(Vec<InvocationRecord>);

impl Recorder for NoCharges {
    fn invocation(&mut self, r: &InvocationRecord) {
        self.0.push(*r);
    }
    fn reads_charges(&self) -> bool {
        false
    }
}

/// Every figure of a report as text: the run's, each function's (digests' values included)
/// and the invoice.
fn figures(r: &RunReport) -> String {
    format!(
        "{:?}\n{:?}\n{:?}",
        r.stats,
        r.functions,
        r.stats.bill.invoice()
    )
}

/// The billing set-ups tried: per-invocation models with and without CPU billed apart,
/// rounding to a granularity and a minimum, instance-based billing, tiers and free tiers.
fn billings() -> Vec<Billing> {
    let custom = CustomPrices {
        request_per_million: 3_000_000_000,
        gb_second: 170_000,
        granularity_ms: 100,
        memory_step_mb: 128,
        min_billed_ms: 150,
    };
    vec![
        Billing::default(),
        Billing {
            granularity_ms: 100,
            bill_init: true,
            free_tier: true,
            ..Billing::new(BillingModel::AwsLambdaArm)
        },
        Billing::new(BillingModel::AzureConsumption),
        Billing {
            bill_init: true,
            ..Billing::new(BillingModel::Custom(custom))
        },
        Billing::new(BillingModel::CloudRunInstance),
        Billing::new(BillingModel::GcfGen1),
    ]
}

/// Runs `m` under `billing` with every kind of recorder and checks they agree.
fn check(m: &Mix, billing: Billing) -> Result<(), TestCaseError> {
    let (mut cfg, functions, arrivals) = build(m);
    cfg.billing = billing;
    let mut full = VecRecorder::default();
    let a = run_mix_as(m, &cfg, functions.clone(), arrivals.clone(), &mut full);
    let mut lean = NoCharges::default();
    let b = run_mix_as(m, &cfg, functions.clone(), arrivals.clone(), &mut lean);
    let c = run_mix_as(m, &cfg, functions, arrivals, &mut NullRecorder);
    prop_assert_eq!(figures(&a), figures(&b));
    prop_assert_eq!(figures(&a), figures(&c));
    // The records are the same but for the charges left out of deferred completions.
    prop_assert_eq!(full.invocations.len(), lean.0.len());
    for (x, y) in full.invocations.iter().zip(&lean.0) {
        if x != y {
            prop_assert_eq!(y.outcome, Outcome::Completed);
            prop_assert_eq!(y.charge, Charge::default());
            prop_assert_eq!(
                &InvocationRecord {
                    charge: Charge::default(),
                    ..*x
                },
                y
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn deferred_charges_give_the_same_figures_under_retries_errors_faults_and_snapshots(
        m in mix()
    ) {
        for billing in billings() {
            check(&m, billing)?;
        }
    }
}

#[test]
fn provisioned_invocations_keep_their_own_price_beside_deferred_ones() {
    // 1 core, CPU ignored, no keep-alive; f0 (1024 MB) and f1 (512 MB) have one provisioned
    // instance each, ready at 0. Two 1 s invocations of f0 at 0: one runs on the provisioned
    // instance (1 GB-s at the provisioned duration price, $0.0000097222), the other cold on
    // an on-demand instance (ready 0.1 s, 1 GB-s at $0.0000166667: deferred). f1 @2 s, 300
    // ms on its provisioned instance. The run ends at 2.3 s: each provisioned instance is
    // billed 5 minutes of configured time (f0: 300 GB-s at $0.0000041667).
    let mut cfg = config(4096, 1, 100.0);
    cfg.cpu = CpuModel::Ignore;
    cfg.provisioned_per_function = 1;
    let functions = vec![func("f0", 1024), func("f1", 512)];
    let arrivals = vec![arr(0, 0, S), arr(0, 0, S), arr(2 * S, 1, 300 * MS)];
    let run = |rec: &mut dyn Recorder| {
        faasim_sim::run(
            &cfg,
            policies(&KeepAliveSpec::None {}),
            &mut VecSource::new(functions.clone(), arrivals.clone()),
            rec,
        )
        .expect("the run succeeds")
    };
    let a = run(&mut VecRecorder::default());
    let mut lean = NoCharges::default();
    let b = run(&mut lean);
    let c = run(&mut NullRecorder);
    assert_eq!(figures(&a), figures(&b));
    assert_eq!(figures(&a), figures(&c));
    assert_eq!(a.stats.cold_starts, 1);
    // f0: 2 requests x 2,000 + 97,222 + 166,667 + 300 x 41,667 = 12,767,989 units of 1e-10 USD.
    assert_eq!(c.functions[0].cost, Money::from_price_units(12_767_989));
    assert_eq!(c.functions[0].mb_ms, 2 * 1_024_000 + 300_000 * 1024);
    // Only the on-demand completion's charge was left out of its record.
    let empty = lean
        .0
        .iter()
        .filter(|r| r.charge == Charge::default())
        .count();
    assert_eq!(empty, 1);
}
