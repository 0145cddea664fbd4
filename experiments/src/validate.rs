//! `faasim validate`: faasim's numbers against theory and published results.
//!
//! Each case runs the engine (or the billing code) on a workload whose answer is known and
//! reports checks of the form *expected, measured, standard error, tolerance, status*.
//! Exact checks have a fixed tolerance (usually 0). Stochastic checks estimate the standard
//! error of the measurement from independent replications with different seeds and pass
//! when the measurement is within [`SIGMAS`] standard errors of the expected value. A check
//! whose data is missing is skipped, never passed. VALIDATION.md documents every case: the
//! claim it tests, its method, where the expected value comes from.

use crate::output::write_csv;
use faasim_sim::rng::replication_seed;
use faasim_sim::{
    run, Arrival, ArrivalSource, Billing, BillingModel, ClusterView, CpuModel, DistSpec,
    EngineConfig, FunctionId, FunctionSpec, FunctionTable, InstanceView, InvocationRecord,
    InvocationView, KeepAlive, KeepAliveDecision, Money, NullRecorder, OnFull, Outcome, Placement,
    Policies, PolicyRng, Recorder, Route, Routing, RunEnd, RunReport, SimDuration, SimRng, SimTime,
    SourceError, VecRecorder, VecSource, WorkerId, WorkerSpec,
};
use rand_distr::{Distribution, Exp};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod provider_cases;

/// A stochastic check passes when it is within this many standard errors of the expected
/// value.
pub const SIGMAS: f64 = 4.0;

/// The trace samples of the source tree this binary was built from.
pub const SAMPLES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../traces/samples");

/// Where the real traces are read from: `$FAASIM_TRACES` if set (and not empty), else
/// [`SAMPLES_DIR`], so `validate` finds them wherever it is run from.
pub fn traces_dir() -> PathBuf {
    std::env::var_os("FAASIM_TRACES")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(SAMPLES_DIR), PathBuf::from)
}

/// What became of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The measurement is within `tolerance` of the expected value.
    Pass,
    /// It is not, or the measurement failed.
    Fail,
    /// The data the check needs is missing: nothing was measured.
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        })
    }
}

/// One check of a case.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The case's name.
    pub case: &'static str,
    /// What is checked, in words (with the parameters).
    pub check: String,
    /// The value theory or the published source gives.
    pub expected: f64,
    /// `None` when skipped, or when the measurement itself failed (see `note`).
    pub measured: Option<f64>,
    /// The standard error of `measured - expected`, for stochastic checks.
    pub standard_error: Option<f64>,
    /// The largest `|measured - expected|` that passes: [`SIGMAS`] standard errors (plus the
    /// stated precision of a published figure), or a fixed tolerance for exact checks.
    pub tolerance: f64,
    /// Whether the check passed, failed or was skipped.
    pub status: Status,
    /// Why a check was skipped or could not be measured.
    pub note: String,
}

impl Check {
    fn judged(
        case: &'static str,
        check: impl Into<String>,
        expected: f64,
        measured: f64,
        standard_error: Option<f64>,
        tolerance: f64,
    ) -> Self {
        let pass = measured.is_finite() && (measured - expected).abs() <= tolerance;
        Check {
            case,
            check: check.into(),
            expected,
            measured: Some(measured),
            standard_error,
            tolerance,
            status: if pass { Status::Pass } else { Status::Fail },
            note: String::new(),
        }
    }

    /// A deterministic check: passes when `|measured - expected| <= tolerance`.
    pub fn exact(
        case: &'static str,
        check: impl Into<String>,
        expected: f64,
        measured: f64,
        tolerance: f64,
    ) -> Self {
        Self::judged(case, check, expected, measured, None, tolerance)
    }

    /// A stochastic check: passes when `|measured - expected| <= SIGMAS * standard_error`.
    pub fn within_se(
        case: &'static str,
        check: impl Into<String>,
        expected: f64,
        measured: f64,
        standard_error: f64,
    ) -> Self {
        Self::within_se_plus(case, check, expected, measured, standard_error, 0.0)
    }

    /// [`Check::within_se`] against a published figure stated to `precision` (half a unit
    /// of its last digit), which widens the tolerance by that much.
    pub fn within_se_plus(
        case: &'static str,
        check: impl Into<String>,
        expected: f64,
        measured: f64,
        standard_error: f64,
        precision: f64,
    ) -> Self {
        let tolerance = SIGMAS * standard_error + precision;
        Self::judged(
            case,
            check,
            expected,
            measured,
            Some(standard_error),
            tolerance,
        )
    }

    /// A claim that holds (measured 1) or not (measured 0); expected 1.
    pub fn holds(case: &'static str, check: impl Into<String>, claim: bool) -> Self {
        Self::exact(case, check, 1.0, if claim { 1.0 } else { 0.0 }, 0.0)
    }

    /// A check that could not run because its data is missing.
    pub fn skipped(
        case: &'static str,
        check: impl Into<String>,
        expected: f64,
        note: impl Into<String>,
    ) -> Self {
        Check {
            case,
            check: check.into(),
            expected,
            measured: None,
            standard_error: None,
            tolerance: 0.0,
            status: Status::Skip,
            note: note.into(),
        }
    }

    /// A check whose measurement failed although its data is present (a trace that cannot
    /// be read): a failure, not a skip.
    pub fn broken(
        case: &'static str,
        check: impl Into<String>,
        expected: f64,
        note: impl Into<String>,
    ) -> Self {
        Check {
            status: Status::Fail,
            ..Self::skipped(case, check, expected, note)
        }
    }
}

/// What the cases need from outside.
#[derive(Debug, Clone)]
pub struct Context {
    /// The folder holding the real trace samples (see [`traces_dir`]).
    pub traces: PathBuf,
}

/// A named validation case.
pub struct Case {
    /// The name `faasim validate` selects the case by and its CSV file is named after.
    pub name: &'static str,
    /// The claim the case tests.
    pub about: &'static str,
    /// Runs the case and returns its checks.
    pub run: fn(&Context) -> Vec<Check>,
}

/// Every case, in order.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "keepalive-poisson",
            about: "under Poisson arrivals (rate lambda) and a fixed keep-alive T reset on use, an arrival is cold with probability e^(-lambda T) and each gap between arrivals leaves (1 - e^(-lambda T))/lambda seconds of idle instance",
            run: keepalive_poisson,
        },
        Case {
            name: "erlang-b",
            about: "c instances, on_full = drop, Poisson arrivals, exponential service: the drop ratio is Erlang-B(c, lambda/mu)",
            run: erlang_b_case,
        },
        Case {
            name: "erlang-c",
            about: "c instances, on_full = queue, Poisson arrivals, exponential service: the share of requests that wait is Erlang-C(c, a) and the mean wait is C/(c mu - lambda), as in M/M/c",
            run: erlang_c_case,
        },
        Case {
            name: "simfaas",
            about: "faasim reproduces SimFaaS's published example (lambda 0.9/s, warm 1.991 s, cold 2.244 s, expiry 600 s, 1e6 s): cold-start probability and average instance, running and idle counts",
            run: simfaas_case,
        },
        Case {
            name: "aws-billing-example",
            about: "the bill matches AWS's published example: 60 M x 28 ms x 1 GB = $28 of duration at 1 ms rounding, $100 at 100 ms, plus $12 of requests",
            run: aws_billing_case,
        },
        Case {
            name: "processor-sharing",
            about: "processor sharing: 10 jobs of 1 s on 4 cores all end at 2.5 s; 5 jobs of 1 s on 10 cores end at 1 s",
            run: processor_sharing_case,
        },
        Case {
            name: "trace-replay",
            about: "each real trace sample replays exactly its published invocation counts (in total and per function), and the durations drawn for the 2019 samples follow each function's published percentile table (half at or below its p50)",
            run: trace_replay_case,
        },
        Case {
            name: "hybrid-vs-fixed",
            about: "on a real day of the Azure 2019 trace (400 functions), the hybrid histogram keep-alive, given a warm-up of ten idle times per function, has a lower third-quartile per-function cold-start ratio than every fixed window of 10-120 min and idles less than the 120-min window; with the paper's defaults it idles less than the 60-min window",
            run: hybrid_vs_fixed_case,
        },
        Case {
            name: "dslab-agreement",
            about: "on a committed day of real Azure 2019 invocations (5,207 of 232 functions, experiments/data/dslab-agree), fixed keep-alive (600 s, reset on use or not), constant 250 ms cold starts and memory that never binds: faasim counts the cold starts DSLab-FaaS counts, and the exact recomputation from the trace",
            run: dslab_agreement_case,
        },
        Case {
            name: "keepalive-hand-trace",
            about: "a hand-traced run (1 worker, 1 core, cold start 1 s, keep-alive 1 s; A(0, 1 s), B(0, 1 s), A(4 s - 1 us, 1 s)) gives the hand-computed latencies, cold starts and idle memory",
            run: hand_trace_case,
        },
        Case {
            name: "step-functions-pricing",
            about: "the orchestration bill matches AWS's published Step Functions examples, through the code the engine's workflows use: Express, 100 M executions of 10 s at 64 MB = $100 of requests + $382.97 of duration; Standard, 1,000 executions of 3 transitions = $0.075",
            run: step_functions_case,
        },
        Case {
            name: "huawei2025-shape",
            about: "the two-region preset built from the hand-made Huawei 2025 fixtures reproduces the published headline in shape: cold starts up to about 7 s in Region 1, mostly dependency deployment and scheduling, and up to about 3 s in Region 2, mostly pod allocation",
            run: huawei2025_shape_case,
        },
        Case {
            name: "serverlessllm-loading",
            about: "ServerlessLLM's load arithmetic (OSDI'24, §1): a 130 GB checkpoint downloaded at 5 GB/s takes 26 s (pipelined loading: the slowest link; sequential adds PCIe); the default SSD bandwidth, the effective bandwidth of their measured baseline loads (OPT-30B in 34 s, LLaMA-2-70B in 84 s), reproduces both loads within 10%",
            run: serverlessllm_case,
        },
        Case {
            name: "workflow-cascade",
            about: "a chain of n tasks with no keep-alive and reactive starts: end to end = n x (cold start + duration) + n transitions + (n - 1) data hops, for n = 1 to 8",
            run: workflow_cascade_case,
        },
        Case {
            name: "aws-legacy-burst",
            about: "AWS's on-demand scaling example under the legacy rule (burst 3,000, then 500 environments a minute, account concurrency 10,000): 10,000 requests at once, 3,000 served and 7,000 throttled; over 2, 3 and 4 minutes, 3,500, 333 and 0 throttled",
            run: provider_cases::legacy_burst_case,
        },
        Case {
            name: "aws-2023-scaling",
            about: "the 2023 rule (1,000 new environments per function every 10 s, refilled continuously): from 0 to 10,000 concurrent executions takes 90 s, no less",
            run: provider_cases::scaling_2023_case,
        },
        Case {
            name: "async-retries",
            about: "asynchronous events with independent function errors of probability p, retried r times: the final failure probability is p^(r+1) and the billed attempts per event 1 + p + ... + p^r, for r = 0, 1, 2",
            run: provider_cases::async_retries_case,
        },
        Case {
            name: "timeout-bill",
            about: "an execution killed at its timeout is billed exactly up to it: 3 s at 1 GB on AWS x86 is $0.0000502001, with durations as given and under processor sharing (where a job slowed by another is cut at 1 s)",
            run: provider_cases::timeout_bill_case,
        },
    ]
}

// ----- estimates over replications -----

/// Mean and standard deviation of one metric over independent replications.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    /// Mean over the replications.
    pub mean: f64,
    /// Sample standard deviation of one replication's value.
    pub sd: f64,
    /// Number of replications.
    pub replications: usize,
}

impl Estimate {
    /// The estimate from one value per replication (`sd` is NaN with fewer than two).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            f64::NAN
        };
        Estimate {
            mean,
            sd: var.sqrt(),
            replications: n,
        }
    }

    /// Standard error of the mean.
    pub fn se(&self) -> f64 {
        self.sd / (self.replications as f64).sqrt()
    }
}

/// Runs `one` for `replications` seeds derived from `base` (in parallel; the result does
/// not depend on the number of threads) and estimates each metric it returns.
fn replicate(
    base: u64,
    replications: u64,
    one: impl Fn(u64) -> Vec<f64> + Sync + Send,
) -> Vec<Estimate> {
    let rows: Vec<Vec<f64>> = (0..replications)
        .into_par_iter()
        .map(|i| one(replication_seed(base, i)))
        .collect();
    (0..rows[0].len())
        .map(|k| Estimate::of(&rows.iter().map(|r| r[k]).collect::<Vec<_>>()))
        .collect()
}

// ----- small policies, written outside the policy crate like a user's would be -----

struct FirstFit;
impl Placement for FirstFit {
    fn place(
        &mut self,
        f: &faasim_sim::FunctionView,
        c: &ClusterView,
        _: &mut PolicyRng,
    ) -> Option<WorkerId> {
        c.first_fit(f.memory_mb)
    }
}

/// Most recently used warm instance.
struct Mru;
impl Routing for Mru {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        c.most_recent_warm(inv.function)
            .map_or(Route::Cold, Route::Warm)
    }
}

/// The newest idle instance (SimFaaS's rule, so older instances expire). O(warm instances).
struct NewestFirst;
impl Routing for NewestFirst {
    fn route(&mut self, inv: &InvocationView, c: &ClusterView, _: &mut PolicyRng) -> Route {
        c.warm_instances(inv.function)
            .max_by_key(|&i| (c.instance(i).created_at, std::cmp::Reverse(i)))
            .map_or(Route::Cold, Route::Warm)
    }
}

struct Ttl(Option<SimDuration>);
impl KeepAlive for Ttl {
    fn on_idle(&mut self, _: &InstanceView, now: SimTime) -> KeepAliveDecision {
        match self.0 {
            Some(t) => KeepAliveDecision::KeepUntil(now + t),
            None => KeepAliveDecision::KeepForever,
        }
    }
}

fn policies(routing: Box<dyn Routing>, ttl: Option<SimDuration>) -> Policies {
    Policies {
        placement: Box::new(FirstFit),
        routing,
        keep_alive: Box::new(Ttl(ttl)),
        load_balancer: None,
    }
}

/// Every engine setting, spelled out: the cases depend on them, not on the defaults.
fn engine(
    workers: Vec<WorkerSpec>,
    cpu: CpuModel,
    cold_start_ms: f64,
    on_full: OnFull,
    seed: u64,
) -> EngineConfig {
    EngineConfig {
        workers,
        instance_concurrency: 1,
        on_full,
        queue_timeout: None,
        cold_start: DistSpec::Constant {
            value_ms: cold_start_ms,
        },
        cold_start_per_function: Vec::new(),
        functions: Default::default(),
        provider: Default::default(),
        cpu,
        billing: Billing::new(BillingModel::AwsLambdaX86),
        seed,
        sample_interval: None,
        provisioned_per_function: 0,
        end: RunEnd::Drain,
        ..EngineConfig::default()
    }
}

/// `workers` identical workers.
fn cluster(workers: usize, memory_mb: u32, cores: u32) -> Vec<WorkerSpec> {
    vec![WorkerSpec { memory_mb, cores }; workers]
}

/// Poisson arrivals of one function `f` with exponential (or fixed) durations, streamed:
/// `count` arrivals, or those before `until_s`, whichever ends first.
struct Poisson {
    function: Option<FunctionSpec>,
    gaps: Exp<f64>,
    durations: Option<Exp<f64>>,
    fixed: SimDuration,
    arrival_rng: SimRng,
    duration_rng: SimRng,
    t: f64,
    left: u64,
    until_s: f64,
}

impl Poisson {
    fn new(seed: u64, rate_per_s: f64, mean_duration_s: Option<f64>, fixed: SimDuration) -> Self {
        Poisson {
            function: Some(FunctionSpec {
                name: "f".into(),
                memory_mb: 128,
            }),
            gaps: Exp::new(rate_per_s).expect("positive rate"),
            durations: mean_duration_s.map(|m| Exp::new(1.0 / m).expect("positive mean")),
            fixed,
            arrival_rng: SimRng::stream(seed, "validate/arrivals"),
            duration_rng: SimRng::stream(seed, "validate/durations"),
            t: 0.0,
            left: u64::MAX,
            until_s: f64::INFINITY,
        }
    }
    fn count(mut self, n: u64) -> Self {
        self.left = n;
        self
    }
    fn until_s(mut self, t: f64) -> Self {
        self.until_s = t;
        self
    }
    fn memory_mb(mut self, mb: u32) -> Self {
        if let Some(f) = &mut self.function {
            f.memory_mb = mb;
        }
        self
    }
}

impl ArrivalSource for Poisson {
    fn next_arrival(&mut self, table: &mut FunctionTable) -> Result<Option<Arrival>, SourceError> {
        if let Some(f) = self.function.take() {
            table.push(f);
        }
        if self.left == 0 {
            return Ok(None);
        }
        self.t += self.gaps.sample(&mut self.arrival_rng);
        if self.t >= self.until_s {
            self.left = 0;
            return Ok(None);
        }
        self.left -= 1;
        let duration = match &self.durations {
            Some(d) => {
                SimDuration((d.sample(&mut self.duration_rng) * 1e6).round().max(1.0) as u64)
            }
            None => self.fixed,
        };
        Ok(Some(Arrival {
            time: SimTime((self.t * 1e6).round() as u64),
            function: FunctionId(0),
            duration,
            cold_start: None,
            mode: None,
        }))
    }
}

fn simulate(
    cfg: &EngineConfig,
    p: Policies,
    source: &mut dyn ArrivalSource,
    rec: &mut dyn Recorder,
) -> RunReport {
    run(cfg, p, source, rec).expect("validation workloads are valid")
}

/// Erlang-B blocking probability by the stable recursion B(0) = 1, B(k) = aB(k-1)/(k + aB(k-1)).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

/// Erlang-C probability of waiting in M/M/c with offered load a < c.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    b / (1.0 - rho + rho * b)
}

// ----- the stochastic cases -----

/// Replications of each stochastic case (independent runs, seeds from the case's base seed).
const REPLICATIONS: u64 = 20;

fn keepalive_poisson(_: &Context) -> Vec<Check> {
    let c = "keepalive-poisson";
    let rate = 1.0; // per second
    let n = 20_000u64; // invocations per replication
    let mut checks = vec![];
    for (i, lt) in [0.5f64, 1.0, 2.0].into_iter().enumerate() {
        let ttl = SimDuration((lt / rate * 1e6) as u64);
        let est = replicate(11 + i as u64, REPLICATIONS, |seed| {
            let cfg = engine(
                cluster(1, 1024, 64),
                CpuModel::Ignore,
                0.0,
                OnFull::Queue,
                seed,
            );
            let mut src = Poisson::new(seed, rate, None, SimDuration(1)).count(n);
            let r = simulate(
                &cfg,
                policies(Box::new(Mru), Some(ttl)),
                &mut src,
                &mut NullRecorder,
            );
            // The first arrival is always cold and the last leaves no idle time: per gap
            // between arrivals, n - 1 of them.
            let gaps = (r.stats.completed - 1) as f64;
            let idle_s = r.stats.idle_mb_us as f64 / 128.0 / 1e6;
            vec![(r.stats.cold_starts - 1) as f64 / gaps, idle_s / gaps]
        });
        let p = (-lt).exp();
        checks.push(Check::within_se(
            c,
            format!("cold-start ratio at lambda*T = {lt}"),
            p,
            est[0].mean,
            est[0].se(),
        ));
        // E[min(X, T)] = (1 - e^(-lambda T)) / lambda for X ~ Exp(lambda).
        checks.push(Check::within_se(
            c,
            format!("idle seconds per gap at lambda*T = {lt}"),
            (1.0 - p) / rate,
            est[1].mean,
            est[1].se(),
        ));
    }
    checks
}

/// Invocations per replication of the Erlang cases, and how many of the first are left
/// out of the estimates (the warm-up from an empty platform: about 330 s, against a
/// relaxation time of about 15 s for M/M/4 at load 0.75).
const ERLANG_INVOCATIONS: u64 = 21_000;
const ERLANG_WARMUP: u64 = 1_000;

/// Tallies the invocations that arrived after the warm-up (ids are in arrival order).
struct Tally {
    warmup: u64,
    ended: u64,
    dropped: u64,
    waited: u64,
    wait_us: u128,
}
impl Tally {
    fn new(warmup: u64) -> Self {
        Tally {
            warmup,
            ended: 0,
            dropped: 0,
            waited: 0,
            wait_us: 0,
        }
    }
}
impl Recorder for Tally {
    fn invocation(&mut self, r: &InvocationRecord) {
        if r.id < self.warmup {
            return;
        }
        self.ended += 1;
        if r.outcome != Outcome::Completed {
            self.dropped += 1;
            return;
        }
        let wait = r.queue_delay();
        if wait > SimDuration::ZERO {
            self.waited += 1;
        }
        self.wait_us += u128::from(wait.as_micros());
    }
}

/// One replication of an M/M/c system of `c` instances: the tally after the warm-up.
fn erlang_run(seed: u64, c: u32, a: f64, mu: f64, on_full: OnFull) -> Tally {
    let cfg = engine(
        cluster(1, 128 * c, 64),
        CpuModel::Ignore,
        0.0,
        on_full,
        seed,
    );
    let mut src =
        Poisson::new(seed, a * mu, Some(1.0 / mu), SimDuration(0)).count(ERLANG_INVOCATIONS);
    let mut tally = Tally::new(ERLANG_WARMUP);
    simulate(&cfg, policies(Box::new(Mru), None), &mut src, &mut tally);
    tally
}

fn erlang_b_case(_: &Context) -> Vec<Check> {
    let (c, a, mu) = (5u32, 3.0f64, 1.0f64);
    let est = replicate(21, REPLICATIONS, |seed| {
        let t = erlang_run(seed, c, a, mu, OnFull::Drop);
        vec![t.dropped as f64 / t.ended as f64]
    });
    vec![Check::within_se(
        "erlang-b",
        "drop ratio, c = 5, a = 3",
        erlang_b(c, a),
        est[0].mean,
        est[0].se(),
    )]
}

fn erlang_c_case(_: &Context) -> Vec<Check> {
    let (c, a, mu) = (4u32, 3.0f64, 1.0f64);
    let est = replicate(31, REPLICATIONS, |seed| {
        let t = erlang_run(seed, c, a, mu, OnFull::Queue);
        let served = (t.ended - t.dropped) as f64;
        vec![t.waited as f64 / served, t.wait_us as f64 / 1e6 / served]
    });
    let pw = erlang_c(c, a);
    vec![
        Check::within_se(
            "erlang-c",
            "P(wait), c = 4, a = 3",
            pw,
            est[0].mean,
            est[0].se(),
        ),
        Check::within_se(
            "erlang-c",
            "mean wait (s), c = 4, a = 3",
            pw / (c as f64 * mu - a * mu),
            est[1].mean,
            est[1].se(),
        ),
    ]
}

/// SimFaaS's published run: its README's example, `max_time = 1e6` s.
const SIMFAAS_SECONDS: f64 = 1e6;
/// Replications of the SimFaaS run.
const SIMFAAS_REPLICATIONS: u64 = 10;

fn simfaas_case(_: &Context) -> Vec<Check> {
    // SimFaaS: cold service time ~ Exp(mean 2.244 s) replaces the warm one; here a cold
    // request runs an Exp(1.991 s) execution after a constant 0.253 s cold start, the same
    // mean. Instances serve one request at a time, the newest idle one first, and expire
    // 600 s after they became idle. Each replication is SimFaaS's run: 1e6 s from an empty
    // platform, time averages over the whole run.
    let lambda = 0.9;
    let est = replicate(41, SIMFAAS_REPLICATIONS, |seed| {
        let cfg = engine(
            cluster(1, 1_000, 1_000),
            CpuModel::Ignore,
            253.0,
            OnFull::Queue,
            seed,
        );
        let mut src = Poisson::new(seed, lambda, Some(1.991), SimDuration(0))
            .until_s(SIMFAAS_SECONDS)
            .memory_mb(1);
        let r = simulate(
            &cfg,
            policies(Box::new(NewestFirst), Some(SimDuration::from_secs(600))),
            &mut src,
            &mut NullRecorder,
        );
        let s = &r.stats;
        let t = s.end.as_micros() as f64;
        let instances = s.instance_us as f64 / t;
        let idle = s.idle_mb_us as f64 / t; // 1 MB instances
        vec![s.cold_start_ratio(), instances, instances - idle, idle]
    });
    // The published figures are one run of the same length: the standard error of
    // (our mean - their value) is sd * sqrt(1/R + 1), sd being one replication's.
    let c = "simfaas";
    let rows = [
        // (check, published value, its precision: half a unit of the last digit printed)
        (
            "cold-start probability (1213 / 898469)",
            1213.0 / 898_469.0,
            0.0,
        ),
        ("average instances", 7.6612, 0.000_05),
        ("average running instances", 1.7879, 0.000_05),
        ("average idle instances", 5.8733, 0.000_05),
    ];
    rows.iter()
        .zip(&est)
        .map(|(&(check, published, precision), e)| {
            let se = e.sd * (1.0 / e.replications as f64 + 1.0).sqrt();
            Check::within_se_plus(c, check, published, e.mean, se, precision)
        })
        .collect()
}

// ----- the exact cases -----

fn aws_billing_case(_: &Context) -> Vec<Check> {
    let n = 60_000_000u128;
    let c = "aws-billing-example";
    let mut checks = vec![];
    for (g, expected) in [(1u64, 28.0), (100, 100.0)] {
        let b = Billing {
            granularity_ms: g,
            ..Billing::new(BillingModel::AwsLambdaX86)
        };
        let charge = b.charge(SimDuration::from_ms(28), SimDuration::ZERO, 1024);
        checks.push(Check::exact(
            c,
            format!("duration cost (USD) at {g} ms rounding"),
            expected,
            Money(charge.duration.0 * n).to_usd(),
            // AWS rounds its per-GB-s price to $0.0000166667: the exact figure is $28.000056.
            0.01,
        ));
    }
    let charge = Billing::new(BillingModel::AwsLambdaX86).charge(
        SimDuration::from_ms(28),
        SimDuration::ZERO,
        1024,
    );
    checks.push(Check::exact(
        c,
        "request cost (USD)",
        12.0,
        Money(charge.request.0 * n).to_usd(),
        1e-9,
    ));
    checks
}

fn ps_end(jobs: usize, cores: u32) -> f64 {
    let cfg = engine(
        cluster(1, 128 * jobs as u32, cores),
        CpuModel::ProcessorSharing,
        0.0,
        OnFull::Queue,
        1,
    );
    let functions = (0..jobs)
        .map(|i| FunctionSpec {
            name: format!("f{i}"),
            memory_mb: 128,
        })
        .collect();
    let arrivals = (0..jobs)
        .map(|i| Arrival {
            time: SimTime::ZERO,
            function: FunctionId(i as u32),
            duration: SimDuration::from_secs(1),
            cold_start: None,
            mode: None,
        })
        .collect();
    let mut rec = VecRecorder::default();
    simulate(
        &cfg,
        policies(Box::new(Mru), None),
        &mut VecSource::new(functions, arrivals),
        &mut rec,
    );
    rec.invocations
        .iter()
        .map(|i| i.end.as_secs_f64())
        .fold(0.0, f64::max)
}

fn processor_sharing_case(_: &Context) -> Vec<Check> {
    vec![
        Check::exact(
            "processor-sharing",
            "10 jobs of 1 s on 4 cores: end (s)",
            2.5,
            ps_end(10, 4),
            0.0,
        ),
        Check::exact(
            "processor-sharing",
            "5 jobs of 1 s on 10 cores: end (s)",
            1.0,
            ps_end(5, 10),
            0.0,
        ),
    ]
}

/// The start of a model-serving instance (container cold start 0, `init_ms` 0): a first
/// request loads `size_mb` from remote storage, a second, 1,000 s later on a worker with no
/// DRAM cache and nothing kept alive, from the SSD the first load wrote. Returns both
/// instances' starts, s.
fn model_starts(
    size_mb: u64,
    storage_mb_per_s: u64,
    ssd_mb_per_s: u64,
    pipelined: bool,
) -> (f64, f64) {
    use faasim_sim::{
        BatchLatency, FunctionOverrides, FunctionSettings, GpuSharing, GpuWorkerSpec, ModelSpec,
        Serving, ServingConfig,
    };
    let mut cfg = engine(
        cluster(1, 65_536, 8),
        CpuModel::Ignore,
        0.0,
        OnFull::Queue,
        1,
    );
    cfg.functions = FunctionSettings {
        all: FunctionOverrides {
            model: Some("m".into()),
            ..Default::default()
        },
        named: Vec::new(),
    };
    let serving = Serving::lru(ServingConfig {
        workers: vec![GpuWorkerSpec {
            gpus: 1,
            // One GPU big enough for the checkpoint: the load, not tensor parallelism, is
            // what is checked.
            gpu_memory_mb: size_mb,
            host_cache_mb: 0,
            ssd_cache_mb: size_mb,
            storage_mb_per_s,
            ssd_mb_per_s,
            pcie_mb_per_s: crate::models::PCIE_MB_PER_S,
            pipelined,
        }],
        models: vec![ModelSpec {
            name: "m".into(),
            size_mb,
            init: SimDuration::ZERO,
            latency: BatchLatency::Curve {
                base: SimDuration::from_ms(1),
                per_item: SimDuration::ZERO,
            },
            max_batch: 1,
            batch_timeout: SimDuration::ZERO,
            item_memory_mb: 0,
            kv_kb_per_token: 0,
            per_function: false,
            preloaded: None,
        }],
        sharing: GpuSharing::Exclusive,
        gpu_second_price: 0,
    });
    let arrival = |t: u64| Arrival {
        time: SimTime(t),
        function: FunctionId(0),
        duration: SimDuration::from_ms(1),
        cold_start: None,
        mode: None,
    };
    let functions = vec![FunctionSpec {
        name: "f".into(),
        memory_mb: 1024,
    }];
    let mut rec = VecRecorder::default();
    faasim_sim::run_serving(
        &cfg,
        Some(serving),
        policies(Box::new(Mru), Some(SimDuration::ZERO)),
        None,
        None,
        &mut VecSource::new(functions, vec![arrival(0), arrival(1_000_000_000)]),
        &mut rec,
    )
    .expect("the validation workload is valid");
    rec.invocations.sort_by_key(|r| r.id);
    let init = |i: usize| {
        rec.invocations
            .get(i)
            .map_or(f64::NAN, |r| r.init.as_secs_f64())
    };
    (init(0), init(1))
}

fn serverlessllm_case(_: &Context) -> Vec<Check> {
    let c = "serverlessllm-loading";
    // §1: "130 GB" at "5 GB/s": 130,000 MB / 5,000 MB/s.
    let (pipelined, _) = model_starts(130_000, 5_000, crate::models::SSD_MB_PER_S, true);
    let (sequential, _) = model_starts(130_000, 5_000, crate::models::SSD_MB_PER_S, false);
    // Their measured loads with existing loaders: OPT-30B (30 B parameters of 2 bytes,
    // 60 GB) in 34 s and LLaMA-2-70B (130 GB) in 84 s: 1,765 and 1,548 MB/s end to end.
    let ssd = crate::models::SSD_MB_PER_S as f64;
    let (_, opt) = model_starts(60_000, 5_000, crate::models::SSD_MB_PER_S, true);
    let (_, llama) = model_starts(130_000, 5_000, crate::models::SSD_MB_PER_S, true);
    vec![
        Check::exact(
            c,
            "130 GB from remote at 5 GB/s, pipelined (s)",
            26.0,
            pipelined,
            0.0,
        ),
        // Sequential adds the PCIe copy: 130,000 / 25,000 = 5.2 s.
        Check::exact(c, "the same, sequential (s)", 31.2, sequential, 1e-9),
        Check::exact(
            c,
            "default SSD bandwidth against OPT-30B's implied 60,000 MB / 34 s (MB/s)",
            60_000.0 / 34.0,
            ssd,
            0.1 * 60_000.0 / 34.0,
        ),
        Check::exact(
            c,
            "default SSD bandwidth against LLaMA-2-70B's implied 130,000 MB / 84 s (MB/s)",
            130_000.0 / 84.0,
            ssd,
            0.1 * 130_000.0 / 84.0,
        ),
        Check::exact(
            c,
            "OPT-30B loaded from SSD at the default (s)",
            34.0,
            opt,
            3.4,
        ),
        Check::exact(
            c,
            "LLaMA-2-70B loaded from SSD at the default (s)",
            84.0,
            llama,
            8.4,
        ),
    ]
}

fn hand_trace_case(_: &Context) -> Vec<Check> {
    let cfg = engine(
        cluster(1, 4096, 1),
        CpuModel::ProcessorSharing,
        1000.0,
        OnFull::Queue,
        1,
    );
    let functions = vec![
        FunctionSpec {
            name: "A".into(),
            memory_mb: 1024,
        },
        FunctionSpec {
            name: "B".into(),
            memory_mb: 1024,
        },
    ];
    let s = SimDuration::from_secs(1);
    let arrival = |us: u64, f: u32| Arrival {
        time: SimTime(us),
        function: FunctionId(f),
        duration: s,
        cold_start: None,
        mode: None,
    };
    let arrivals = vec![arrival(0, 0), arrival(0, 1), arrival(4_000_000 - 1, 0)];
    let mut rec = VecRecorder::default();
    let r = simulate(
        &cfg,
        policies(Box::new(Mru), Some(SimDuration::from_secs(1))),
        &mut VecSource::new(functions, arrivals),
        &mut rec,
    );
    let mut lat: Vec<(u64, f64)> = rec
        .invocations
        .iter()
        .map(|i| (i.id, i.latency().as_secs_f64()))
        .collect();
    lat.sort_by_key(|x| x.0);
    let latency = |i: usize| lat.get(i).map_or(f64::NAN, |l| l.1);
    let c = "keepalive-hand-trace";
    vec![
        Check::exact(c, "completed", 3.0, r.stats.completed as f64, 0.0),
        Check::exact(c, "cold starts", 2.0, r.stats.cold_starts as f64, 0.0),
        // Both cold-start until 1 s, then share the core: 2 s of work end at 3 s.
        Check::exact(c, "latency of A (s)", 3.0, latency(0), 0.0),
        Check::exact(c, "latency of B (s)", 3.0, latency(1), 0.0),
        // A's instance is idle from 3 s; keep-alive ends at 4 s; 4 s - 1 us is warm.
        Check::exact(c, "latency of A again (s)", 1.0, latency(2), 0.0),
        // Idle: A from 3 s to 4 s - 1 us, B from 3 s to its expiry at 4 s, and A again from
        // 5 s - 1 us to its expiry 1 s later (the run drains); 1 GB each.
        Check::exact(
            c,
            "idle memory (GB-s)",
            2.999_999,
            r.stats.wasted_memory_gb_s(),
            1e-9,
        ),
    ]
}

// ----- the real traces -----

/// The first of `files` (under `base`) that is missing, as a note for a skipped check.
fn missing(base: &Path, files: &[&str]) -> Option<String> {
    if !base.is_dir() {
        return Some(format!("missing {}", base.display()));
    }
    files
        .iter()
        .map(|f| base.join(f))
        .find(|p| !p.is_file())
        .map(|p| format!("missing {}", p.display()))
}

fn open_trace(toml_text: &str, base: &Path) -> Result<faasim_traces::OpenTrace, String> {
    let spec: faasim_traces::TraceSpec = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    faasim_traces::open(&spec, base, 1).map_err(|e| e.to_string())
}

/// What a replay of a trace gave: per function (in order of first appearance) its name,
/// invocations, and how many of its durations fell below / at or below its threshold.
struct Replay {
    total: u64,
    functions: Vec<ReplayedFunction>,
}

struct ReplayedFunction {
    name: String,
    invocations: u64,
    below: u64,
    at_or_below: u64,
    threshold_us: Option<f64>,
}

/// Replays a trace, comparing each duration with its function's `thresholds_ms` entry.
fn replay(
    trace: &mut faasim_traces::OpenTrace,
    thresholds_ms: &BTreeMap<String, f64>,
) -> Result<Replay, String> {
    let mut table = FunctionTable::new();
    let mut per: Vec<ReplayedFunction> = vec![];
    let mut total = 0u64;
    while let Some(a) = trace
        .source_mut()
        .next_arrival(&mut table)
        .map_err(|e| e.to_string())?
    {
        while per.len() < table.len() {
            let name = table.get(FunctionId(per.len() as u32)).name.clone();
            let threshold_us = thresholds_ms.get(&name).map(|ms| ms * 1e3);
            per.push(ReplayedFunction {
                name,
                invocations: 0,
                below: 0,
                at_or_below: 0,
                threshold_us,
            });
        }
        let f = &mut per[a.function.index()];
        f.invocations += 1;
        if let Some(t) = f.threshold_us {
            // Durations are whole microseconds: a draw at the threshold may round to either
            // side of it by up to half a microsecond.
            let d = a.duration.as_micros() as f64;
            f.below += u64::from(d < t - 0.5);
            f.at_or_below += u64::from(d <= t + 0.5);
        }
        total += 1;
    }
    Ok(Replay {
        total,
        functions: per,
    })
}

/// The rows of an Azure 2019 file read by header name, keyed `HashApp/HashFunction` (the
/// names of a `unit = "function"` replay): the values of `columns`, or with `None` the sum
/// of every column that is not an id (the minute counts). Keys with several rows keep them all.
fn azure2019_rows(
    path: &Path,
    columns: Option<&[&str]>,
) -> Result<BTreeMap<String, Vec<Vec<f64>>>, String> {
    let err = |e: csv::Error| format!("{}: {e}", path.display());
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    let h: Vec<String> = r.headers().map_err(err)?.iter().map(String::from).collect();
    let find = |c: &str| {
        h.iter()
            .position(|x| x == c)
            .ok_or_else(|| format!("{}: no column `{c}`", path.display()))
    };
    let app = find("HashApp")?;
    let func = find("HashFunction")?;
    let ids = ["HashOwner", "HashApp", "HashFunction", "Trigger"];
    let cols: Vec<usize> = match columns {
        Some(cs) => cs.iter().map(|c| find(c)).collect::<Result<_, _>>()?,
        None => (0..h.len())
            .filter(|&i| !ids.contains(&h[i].as_str()))
            .collect(),
    };
    let mut out: BTreeMap<String, Vec<Vec<f64>>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(err)?;
        let parse = |i: usize| rec.get(i).and_then(|v| v.trim().parse::<f64>().ok());
        let values: Vec<f64> = match columns {
            // An unreadable value leaves the row empty (callers skip it).
            Some(_) => cols
                .iter()
                .map(|&i| parse(i))
                .collect::<Option<Vec<f64>>>()
                .unwrap_or_default(),
            None => vec![cols.iter().filter_map(|&i| parse(i)).sum()],
        };
        out.entry(format!("{}/{}", &rec[app], &rec[func]))
            .or_default()
            .push(values);
    }
    Ok(out)
}

// The duration percentile columns of the 2019 trace, as the reader knows them.
use faasim_traces::azure2019::PERCENTILES;

/// One 2019 sample: counts against the files, durations against the published medians.
fn azure2019_sample(
    dir: &Path,
    (folder, inv, dur, mem, total): (&str, &str, &str, &str, f64),
) -> Vec<Check> {
    let c = "trace-replay";
    let names = [
        (format!("{folder}: invocations"), total),
        (format!("{folder}: functions with a wrong count"), 0.0),
        (
            format!("{folder}: share of durations at or below their function's published p50"),
            0.5,
        ),
    ];
    let base = dir.join(folder);
    if let Some(note) = missing(&base, &[inv, dur, mem]) {
        return names
            .into_iter()
            .map(|(n, e)| Check::skipped(c, n, e, note.clone()))
            .collect();
    }
    let broken = |note: String| -> Vec<Check> {
        names
            .iter()
            .map(|(n, e)| Check::broken(c, n.clone(), *e, note.clone()))
            .collect()
    };
    let counts = match azure2019_rows(&base.join(inv), None) {
        Ok(x) => x,
        Err(e) => return broken(e),
    };
    let tables = match azure2019_rows(&base.join(dur), Some(&PERCENTILES)) {
        Ok(x) => x,
        Err(e) => return broken(e),
    };
    // The reader sorts a row's percentiles; p50 is the middle one. Functions with more
    // than one (or an unreadable) durations row are left out of the duration check.
    let p50: BTreeMap<String, f64> = tables
        .into_iter()
        .filter_map(|(k, rows)| {
            let [row] = rows.as_slice() else { return None };
            let mut row = row.clone();
            if row.len() != PERCENTILES.len() {
                return None;
            }
            row.sort_by(f64::total_cmp);
            Some((k, row[3]))
        })
        .collect();
    let spec = format!(
        "format = \"azure2019\"\ninvocations = \"{inv}\"\ndurations = \"{dur}\"\nmemory = \"{mem}\"\nunit = \"function\"\n"
    );
    let replayed = match open_trace(&spec, &base).and_then(|mut t| replay(&mut t, &p50)) {
        Ok(r) => r,
        Err(e) => return broken(e),
    };
    // Functions whose replayed count differs from the sum of their minute columns, and
    // functions the file invokes that the replay never produced.
    let in_file = |name: &str| -> f64 {
        counts
            .get(name)
            .map_or(0.0, |rows| rows.iter().map(|r| r[0]).sum())
    };
    let replayed_names: std::collections::BTreeSet<&str> =
        replayed.functions.iter().map(|f| f.name.as_str()).collect();
    let wrong = replayed
        .functions
        .iter()
        .filter(|f| in_file(&f.name) != f.invocations as f64)
        .count()
        + counts
            .keys()
            .filter(|k| !replayed_names.contains(k.as_str()) && in_file(k) > 0.0)
            .count();
    // Each function's durations are draws from its percentile table, so each is at or
    // below the table's p50 with probability 1/2 (ties at a flat p50 make it an interval:
    // the share closest to 1/2 consistent with them is taken). Pooled over the N checked
    // invocations, the share has standard error sqrt(1/4 / N).
    let (mut n, mut share_sum) = (0u64, 0.0f64);
    for f in replayed
        .functions
        .iter()
        .filter(|f| f.threshold_us.is_some())
    {
        let k = f.invocations as f64;
        let share = 0.5f64.clamp(f.below as f64 / k, f.at_or_below as f64 / k);
        share_sum += share * k;
        n += f.invocations;
    }
    let [(n_inv, e_inv), (n_wrong, e_wrong), (n_p50, e_p50)] = names;
    vec![
        Check::exact(c, n_inv, e_inv, replayed.total as f64, 0.0),
        Check::exact(c, n_wrong, e_wrong, wrong as f64, 0.0),
        if n == 0 {
            Check::broken(c, n_p50, e_p50, "no function with a durations row")
        } else {
            Check::within_se(
                c,
                format!("{n_p50} ({n} invocations)"),
                e_p50,
                share_sum / n as f64,
                (0.25 / n as f64).sqrt(),
            )
        },
    ]
}

fn trace_replay_case(ctx: &Context) -> Vec<Check> {
    let dir = &ctx.traces;
    let c = "trace-replay";
    // (folder, invocations file, durations file, memory file, total in the samples' README)
    let samples = [
        (
            "azure2019-sample-1",
            "invocations.csv",
            "durations.csv",
            "memory.csv",
            20_820_188.0,
        ),
        (
            "azure2019-sample-10-realids",
            "invocations.csv",
            "durations.csv",
            "memory.csv",
            13_037_064.0,
        ),
        (
            "azure2019-sample-400",
            "400_inv.csv",
            "400_run.csv",
            "400_mem.csv",
            6_334_542.0,
        ),
        (
            "azure2019-sample-500-min480-959",
            "invocations.csv",
            "durations.csv",
            "memory.csv",
            3_037_902.0,
        ),
    ];
    let mut checks: Vec<Check> = samples
        .par_iter()
        .map(|&s| azure2019_sample(dir, s))
        .collect::<Vec<_>>()
        .concat();
    let base = dir.join("azure2021-head");
    let rows_2021 = [
        ("azure2021-head: invocations", 199.0),
        ("azure2021-head: functions", 31.0),
    ];
    match missing(&base, &["Azure2021_200.csv"]) {
        Some(note) => {
            for (n, e) in rows_2021 {
                checks.push(Check::skipped(c, n, e, note.clone()));
            }
        }
        None => match open_trace(
            "format = \"azure2021\"\npath = \"Azure2021_200.csv\"\nunit = \"function\"\n",
            &base,
        )
        .and_then(|mut t| replay(&mut t, &BTreeMap::new()))
        {
            Ok(r) => {
                checks.push(Check::exact(c, rows_2021[0].0, 199.0, r.total as f64, 0.0));
                checks.push(Check::exact(
                    c,
                    rows_2021[1].0,
                    31.0,
                    r.functions.len() as f64,
                    0.0,
                ));
            }
            Err(e) => {
                for (n, x) in rows_2021 {
                    checks.push(Check::broken(c, n, x, e.clone()));
                }
            }
        },
    }
    let base = dir.join("azure-llm-2023");
    for (file, expected) in [
        ("AzureLLMInferenceTrace_code.csv", 8_819.0),
        ("AzureLLMInferenceTrace_conv.csv", 19_366.0),
    ] {
        let name = format!("{file}: requests");
        checks.push(match missing(&base, &[file]) {
            Some(note) => Check::skipped(c, name, expected, note),
            None => match open_trace(
                &format!("format = \"azure-llm-2023\"\npath = \"{file}\"\n"),
                &base,
            )
            .and_then(|mut t| replay(&mut t, &BTreeMap::new()))
            {
                Ok(r) => Check::exact(c, name, expected, r.total as f64, 0.0),
                Err(e) => Check::broken(c, name, expected, e),
            },
        });
    }
    checks
}

/// The fixed windows compared with the hybrid histogram policy, in minutes.
const FIXED_WINDOWS_MIN: [u64; 7] = [10, 20, 30, 45, 60, 90, 120];

fn hybrid_vs_fixed_case(ctx: &Context) -> Vec<Check> {
    let c = "hybrid-vs-fixed";
    let base = ctx.traces.join("azure2019-sample-400");
    let names: Vec<String> = FIXED_WINDOWS_MIN
        .iter()
        .map(|m| format!("hybrid (warm-up) has a lower q3 cold-start ratio than fixed {m} min"))
        .chain([
            "hybrid (warm-up) idles less than fixed 120 min".to_string(),
            "hybrid (paper defaults) idles less than fixed 60 min".to_string(),
        ])
        .collect();
    if let Some(note) = missing(&base, &["400_inv.csv", "400_run.csv", "400_mem.csv"]) {
        return names
            .into_iter()
            .map(|n| Check::skipped(c, n, 1.0, note.clone()))
            .collect();
    }
    let spec_text = "format = \"azure2019\"\ninvocations = \"400_inv.csv\"\ndurations = \"400_run.csv\"\nmemory = \"400_mem.csv\"\nunit = \"function\"\n";
    // As in the paper's simulation: a function is loaded or not (one instance takes all
    // its concurrent invocations), memory never runs out, cold starts are counted per
    // function; idle memory is measured in instance-time, unweighted by size.
    let cfg = EngineConfig {
        instance_concurrency: 100_000,
        ..engine(
            cluster(64, 262_144, 64),
            CpuModel::Ignore,
            100.0,
            OnFull::Queue,
            1,
        )
    };
    // (third quartile over functions of the per-function cold-start ratio, idle instance-s)
    let run_policy = |ka: &str| -> Result<(f64, f64), String> {
        let spec: faasim_policies::KeepAliveSpec = toml::from_str(ka).map_err(|e| e.to_string())?;
        let placement: faasim_policies::PlacementSpec =
            toml::from_str("policy = \"least-loaded\"").map_err(|e| e.to_string())?;
        let routing: faasim_policies::RoutingSpec =
            toml::from_str("policy = \"most-recently-used\"").map_err(|e| e.to_string())?;
        let policies = faasim_policies::build(&placement, &routing, &spec, &Default::default())
            .map_err(|e| e.to_string())?;
        let mut trace = open_trace(spec_text, &base)?;
        let r = run(&cfg, policies, trace.source_mut(), &mut NullRecorder)
            .map_err(|e| e.to_string())?;
        let mut ratios: Vec<f64> = r
            .functions
            .iter()
            .filter(|f| f.completed > 0)
            .map(|f| f.cold_starts as f64 / f.completed as f64)
            .collect();
        if ratios.is_empty() {
            return Err("no function completed".into());
        }
        ratios.sort_by(f64::total_cmp);
        let q3 = ratios[(ratios.len() * 3 / 4).min(ratios.len() - 1)];
        let idle_instance_s: f64 = r
            .functions
            .iter()
            .map(|f| f.idle_mb_us as f64 / r.function_table.get(f.function).memory_mb as f64 / 1e6)
            .sum();
        Ok((q3, idle_instance_s))
    };
    // The hybrid policy twice: with its first ten idle times in the 4-hour fallback
    // (`min_observations = 10`, standing in for the history one day lacks), and with the
    // paper's defaults (the histogram from the first idle time). See VALIDATION.md.
    let policies: Vec<String> = [
        "policy = \"hybrid-histogram\"\nmin_observations = 10".to_string(),
        "policy = \"hybrid-histogram\"".to_string(),
    ]
    .into_iter()
    .chain(
        FIXED_WINDOWS_MIN
            .iter()
            .map(|m| format!("policy = \"fixed\"\nttl_s = {}", m * 60)),
    )
    .collect();
    let results: Result<Vec<(f64, f64)>, String> =
        policies.par_iter().map(|p| run_policy(p)).collect();
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            return names
                .into_iter()
                .map(|n| Check::broken(c, n, 1.0, e.clone()))
                .collect()
        }
    };
    let (h_q3, h_idle) = results[0];
    let (d_q3, d_idle) = results[1];
    let fixed = &results[2..];
    let mut checks: Vec<Check> = FIXED_WINDOWS_MIN
        .iter()
        .zip(fixed)
        .map(|(m, &(q3, idle))| {
            Check::holds(
                c,
                format!(
                    "hybrid (warm-up) has a lower q3 cold-start ratio than fixed {m} min ({h_q3:.4} vs {q3:.4}; idle {h_idle:.0} vs {idle:.0} instance-s)"
                ),
                h_q3 < q3,
            )
        })
        .collect();
    let (_, idle_120) = fixed[FIXED_WINDOWS_MIN.len() - 1];
    checks.push(Check::holds(
        c,
        format!(
            "hybrid (warm-up) idles less than fixed 120 min ({h_idle:.0} vs {idle_120:.0} instance-s)"
        ),
        h_idle < idle_120,
    ));
    let (_, idle_60) = fixed[FIXED_WINDOWS_MIN.iter().position(|&m| m == 60).unwrap_or(0)];
    checks.push(Check::holds(
        c,
        format!(
            "hybrid (paper defaults) idles less than fixed 60 min ({d_idle:.0} vs {idle_60:.0} instance-s; q3 cold-start ratio {d_q3:.4})"
        ),
        d_idle < idle_60,
    ));
    checks
}

/// The folder of the `dslab-agreement` case's trace and its provenance (README.md there).
pub const DSLAB_AGREE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/dslab-agree");

/// The `dslab-agreement` case's settings: a constant cold start and the fixed keep-alive.
const DSLAB_COLD_START_US: u64 = 250_000;
const DSLAB_KEEP_ALIVE_US: u64 = 600_000_000;

/// Cold starts DSLab-FaaS (commit a6c155e8db4b3704dbaa3f4b3e99d987ad0da2d2, the driver and
/// command in `experiments/data/dslab-agree/README.md`) counts on `trace.csv`, by
/// `reset_keepalive`.
const DSLAB_COLD_STARTS: [(bool, u64); 2] = [(false, 1591), (true, 1187)];

/// One invocation of the `dslab-agreement` trace: arrival µs, function, duration µs.
type Row = (u64, String, u64);

/// Cold starts of `rows` (arrival µs, function, duration µs; in time order) under a fixed
/// keep-alive when memory never binds and no two invocations of a function overlap (so a
/// function has at most one instance), computed directly: an arrival is warm when its
/// function's instance is alive, i.e. before its deadline: the end of the instance's first
/// execution plus the keep-alive (`reset` false), or of its latest one (`reset` true). An
/// instance whose deadline passes while it executes goes when the execution ends.
fn fixed_keep_alive_cold_starts(rows: &[Row], reset: bool) -> u64 {
    let mut deadline: BTreeMap<&str, u64> = BTreeMap::new();
    let mut cold = 0;
    for (at, f, dur) in rows {
        match deadline.get(f.as_str()).copied() {
            Some(d) if *at < d => {
                let end = at + dur;
                if reset {
                    deadline.insert(f, end + DSLAB_KEEP_ALIVE_US);
                } else if end >= d {
                    deadline.remove(f.as_str());
                }
            }
            _ => {
                cold += 1;
                let end = at + DSLAB_COLD_START_US + dur;
                deadline.insert(f, end + DSLAB_KEEP_ALIVE_US);
            }
        }
    }
    cold
}

/// `trace.csv`'s rows as (arrival µs, function, duration µs), and whether no invocation of
/// a function starts before the previous one could have ended as a cold start.
fn dslab_rows(path: &Path) -> Result<(Vec<Row>, bool), String> {
    let err = |e: csv::Error| format!("{}: {e}", path.display());
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    let mut rows = vec![];
    let mut disjoint = true;
    let mut last_end: BTreeMap<String, u64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(err)?;
        let us = |i: usize| -> Result<u64, String> {
            let v: f64 = rec
                .get(i)
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| format!("{}: a bad number in row {rec:?}", path.display()))?;
            Ok((v * 1e3).round() as u64)
        };
        let (at, f, dur) = (us(0)?, rec[1].to_string(), us(2)?);
        if last_end.get(&f).is_some_and(|&e| at <= e) {
            disjoint = false;
        }
        last_end.insert(f.clone(), at + DSLAB_COLD_START_US + dur);
        rows.push((at, f, dur));
    }
    Ok((rows, disjoint))
}

fn dslab_agreement_case(_: &Context) -> Vec<Check> {
    let c = "dslab-agreement";
    let dir = Path::new(DSLAB_AGREE_DIR);
    let name = |reset: bool, against: &str| {
        format!(
            "cold starts, fixed keep-alive 600 s, reset_on_use = {reset}: faasim against {against}"
        )
    };
    let mut names: Vec<(String, f64)> = vec![];
    for (reset, dslab) in DSLAB_COLD_STARTS {
        names.push((name(reset, "DSLab-FaaS"), dslab as f64));
        names.push((name(reset, "the exact recomputation"), dslab as f64));
    }
    names.push(("invocations completed".into(), 5207.0));
    if let Some(note) = missing(dir, &["trace.csv"]) {
        return names
            .into_iter()
            .map(|(n, e)| Check::skipped(c, n, e, note.clone()))
            .collect();
    }
    let broken = |note: String| -> Vec<Check> {
        names
            .iter()
            .map(|(n, e)| Check::broken(c, n.clone(), *e, note.clone()))
            .collect()
    };
    let (rows, disjoint) = match dslab_rows(&dir.join("trace.csv")) {
        Ok(x) => x,
        Err(e) => return broken(e),
    };
    if !disjoint {
        return broken(
            "two invocations of a function overlap: the recomputation does not hold".into(),
        );
    }
    let cfg = engine(
        cluster(1, 1 << 30, 1 << 20),
        CpuModel::Ignore,
        DSLAB_COLD_START_US as f64 / 1e3,
        OnFull::Queue,
        1,
    );
    let run_fixed = |reset: bool| -> Result<RunReport, String> {
        let ka = faasim_policies::KeepAliveSpec::Fixed {
            ttl_s: DSLAB_KEEP_ALIVE_US as f64 / 1e6,
            reset_on_use: reset,
        };
        let policies = faasim_policies::build(
            &faasim_policies::PlacementSpec::FirstFit {},
            &faasim_policies::RoutingSpec::MostRecentlyUsed {},
            &ka,
            &Default::default(),
        )
        .map_err(|e| e.to_string())?;
        let mut trace = open_trace("format = \"csv\"\npath = \"trace.csv\"\n", dir)?;
        run(&cfg, policies, trace.source_mut(), &mut NullRecorder).map_err(|e| e.to_string())
    };
    let mut checks = vec![];
    let mut completed = None;
    for (reset, dslab) in DSLAB_COLD_STARTS {
        let report = match run_fixed(reset) {
            Ok(r) => r,
            Err(e) => return broken(e),
        };
        let measured = report.stats.cold_starts as f64;
        completed.get_or_insert(report.stats.completed);
        checks.push(Check::exact(
            c,
            name(reset, "DSLab-FaaS"),
            dslab as f64,
            measured,
            0.0,
        ));
        checks.push(Check::exact(
            c,
            name(reset, "the exact recomputation"),
            fixed_keep_alive_cold_starts(&rows, reset) as f64,
            measured,
            0.0,
        ));
    }
    checks.push(Check::exact(
        c,
        "invocations completed",
        5207.0,
        completed.unwrap_or(0) as f64,
        0.0,
    ));
    checks
}

/// The checks of one case and how long it took.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: &'static str,
    /// Its checks, in order.
    pub checks: Vec<Check>,
    /// Wall-clock time the case took, s.
    pub wall_s: f64,
}

/// Runs the cases (all, or those named) on the traces in `traces`, writes `<case>.csv` per
/// case and `validation.csv` into `out`, and returns every case's checks; `progress` sees
/// each case as it ends.
pub fn validate(
    out: &Path,
    only: &[String],
    traces: &Path,
    mut progress: impl FnMut(&CaseOutcome),
) -> std::io::Result<Vec<CaseOutcome>> {
    std::fs::create_dir_all(out)?;
    let ctx = Context {
        traces: traces.to_path_buf(),
    };
    let mut outcomes = vec![];
    for case in cases() {
        if !only.is_empty() && !only.iter().any(|n| n == case.name) {
            continue;
        }
        let start = Instant::now();
        let checks = (case.run)(&ctx);
        let outcome = CaseOutcome {
            name: case.name,
            checks,
            wall_s: start.elapsed().as_secs_f64(),
        };
        write_csv(&out.join(format!("{}.csv", case.name)), &outcome.checks)?;
        progress(&outcome);
        outcomes.push(outcome);
    }
    let all: Vec<&Check> = outcomes.iter().flat_map(|o| &o.checks).collect();
    write_csv(&out.join("validation.csv"), &all)?;
    Ok(outcomes)
}

// ----- production cold starts -----

/// The preset of the `huawei2025-shape` case: one scenario per region.
pub const HUAWEI2025_PRESET_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/huawei2025-cold-starts");

/// Runs a scenario file as `faasim run` would (its own seed), without writing files.
fn run_scenario_file(path: &Path) -> Result<RunReport, String> {
    let loaded = crate::scenario::load(path, &[]).map_err(|e| e.to_string())?;
    let sc = &loaded.scenario;
    let cfg = loaded.engine_config(sc.seed).map_err(|e| e.to_string())?;
    let policies = faasim_policies::build(
        &sc.placement,
        &sc.routing,
        &sc.keep_alive,
        &sc.load_balancing,
    )
    .map_err(|e| e.to_string())?;
    let mut trace = loaded.open_trace(sc.seed).map_err(|e| e.to_string())?;
    run(&cfg, policies, trace.source_mut(), &mut NullRecorder).map_err(|e| e.to_string())
}

/// The headline of Joosen et al., "Serverless Cold Starts and Where to Find Them",
/// EuroSys'25 (abstract; Fig. 11 and §4.2): "cold starts in Region 1 take up to 7 seconds,
/// dominated by dependency deployment time and scheduling. In Region 2, cold starts take up
/// to 3 seconds and are dominated by pod allocation time", and "pod allocation time in
/// Region 2 is much higher than in Region 1". Checked on the preset
/// `experiments/huawei2025-cold-starts` (hand-made fixtures, not real rows): the longest cold
/// start of each region's run, and each part's mean over its cold starts (`cold_starts.csv`).
fn huawei2025_shape_case(_: &Context) -> Vec<Check> {
    let c = "huawei2025-shape";
    let dir = Path::new(HUAWEI2025_PRESET_DIR);
    let names = [
        "Region 1: longest cold start (s)",
        "Region 1: dependency deployment and scheduling are most of the mean cold start",
        "Region 1: dependency deployment and scheduling are the two largest parts",
        "Region 2: longest cold start (s)",
        "Region 2: pod allocation is most of the mean cold start",
        "Region 2: pod allocation is the largest part",
        "pod allocation takes much longer in Region 2 than in Region 1 (more than 10x)",
    ];
    let expected = [7.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0];
    if let Some(note) = missing(dir, &["region1.toml", "region2.toml"]) {
        return names
            .iter()
            .zip(expected)
            .map(|(n, e)| Check::skipped(c, *n, e, note.clone()))
            .collect();
    }
    let runs: Result<Vec<RunReport>, String> = ["region1.toml", "region2.toml"]
        .par_iter()
        .map(|f| run_scenario_file(&dir.join(f)))
        .collect();
    let runs = match runs {
        Ok(r) => r,
        Err(e) => {
            return names
                .iter()
                .zip(expected)
                .map(|(n, x)| Check::broken(c, *n, x, e.clone()))
                .collect()
        }
    };
    // (longest cold start s, mean ms, each part's mean ms by name)
    let parts = |r: &RunReport| {
        let p = &r.cold_start_parts;
        let means: BTreeMap<String, f64> = p.names.iter().cloned().zip(p.run.means_ms()).collect();
        (p.run.max_us as f64 / 1e6, p.run.mean_ms(), means)
    };
    let (max1, mean1, p1) = parts(&runs[0]);
    let (max2, mean2, p2) = parts(&runs[1]);
    let get = |m: &BTreeMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(0.0);
    fn ranked(m: &BTreeMap<String, f64>) -> Vec<&str> {
        let mut v: Vec<(&String, f64)> = m.iter().map(|(k, &x)| (k, x)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v.into_iter().map(|(k, _)| k.as_str()).collect()
    }
    let share = |x: f64, mean: f64| if mean > 0.0 { x / mean } else { 0.0 };
    let dep_sched1 = get(&p1, "deploy_dependency") + get(&p1, "scheduling");
    let top1 = ranked(&p1);
    let top2 = ranked(&p2);
    let (pod1, pod2) = (get(&p1, "pod_allocation"), get(&p2, "pod_allocation"));
    // "About 7 s" and "about 3 s": the longest start within half a second.
    vec![
        Check::exact(c, names[0], 7.0, max1, 0.5),
        Check::holds(
            c,
            format!(
                "{} ({:.0} of {mean1:.0} ms, {:.0}%)",
                names[1],
                dep_sched1,
                100.0 * share(dep_sched1, mean1)
            ),
            share(dep_sched1, mean1) > 0.5,
        ),
        Check::holds(
            c,
            format!("{} (parts by mean: {})", names[2], top1.join(", ")),
            top1.len() >= 2
                && [top1[0], top1[1]].contains(&"deploy_dependency")
                && [top1[0], top1[1]].contains(&"scheduling"),
        ),
        Check::exact(c, names[3], 3.0, max2, 0.5),
        Check::holds(
            c,
            format!(
                "{} ({pod2:.0} of {mean2:.0} ms, {:.0}%)",
                names[4],
                100.0 * share(pod2, mean2)
            ),
            share(pod2, mean2) > 0.5,
        ),
        Check::holds(
            c,
            format!("{} (parts by mean: {})", names[5], top2.join(", ")),
            top2.first() == Some(&"pod_allocation"),
        ),
        Check::holds(
            c,
            format!("{} ({pod2:.0} vs {pod1:.1} ms)", names[6]),
            pod2 > 10.0 * pod1,
        ),
    ]
}

// ----- workflows -----

fn step_functions_case(_: &Context) -> Vec<Check> {
    use faasim_workflows::pricing::{
        express_units, OrchestrationUsage, StoragePrices, EXPRESS_MILLION_EXECUTIONS_UNITS,
    };
    let c = "step-functions-pricing";
    let none = StoragePrices {
        put_units: 0,
        get_units: 0,
    };
    // Express: one execution of 10 s at 64 MB is 100 units of 64 MB x 100 ms.
    let n = 100_000_000u64;
    let express = OrchestrationUsage {
        express_executions: n,
        express_units: express_units(10_000_000, 64) * n,
        ..Default::default()
    };
    let requests = Money::for_millionths(n as u128, EXPRESS_MILLION_EXECUTIONS_UNITS);
    let total = express.invoice(false, none).orchestration;
    let standard = OrchestrationUsage {
        standard_transitions: 3 * 1000,
        ..Default::default()
    };
    vec![
        Check::exact(c, "Express requests (USD)", 100.0, requests.to_usd(), 1e-9),
        Check::exact(
            c,
            "Express duration (USD)",
            382.97,
            Money(total.0 - requests.0).to_usd(),
            // AWS rounds to the cent: the exact figure is $382.9694.
            0.005,
        ),
        Check::exact(
            c,
            "Standard, 3,000 transitions (USD)",
            0.075,
            standard.invoice(false, none).orchestration.to_usd(),
            1e-12,
        ),
    ]
}

/// End to end of one execution of a chain of `n` tasks (100 ms each, 1 MB handed on
/// through storage), cold start 250 ms, transitions 20 ms, no keep-alive.
fn cascade(n: usize) -> (u64, u64) {
    use faasim_workflows::{orchestration, DataSpec, RuntimeConfig, WorkflowSource, Workflows};
    let mut text = String::from("[w]\nstart = \"s0\"\ntransition_ms = 20\n");
    for i in 0..n {
        text.push_str(&format!(
            "[w.states.s{i}]\ntype = \"task\"\nfunction = \"f{i}\"\nduration_ms = 100\nmemory_mb = 128\noutput_bytes = 1000000\n"
        ));
        if i + 1 < n {
            text.push_str(&format!("next = \"s{}\"\n", i + 1));
        }
    }
    let specs: BTreeMap<String, faasim_workflows::WorkflowSpec> =
        toml::from_str(&text).expect("the case's definition is valid");
    let wfs = Workflows::compile(&specs).expect("the case's definition is valid");
    let cfg = engine(
        cluster(1, 4096, 4),
        CpuModel::Ignore,
        250.0,
        OnFull::Queue,
        1,
    );
    let rt = RuntimeConfig {
        data: DataSpec::default(),
        seed: 1,
        cold_start_estimate_us: vec![250_000; wfs.functions.len()],
    };
    let (ext, handle) = orchestration(wfs.clone(), rt, None);
    let mut inner = VecSource::new(
        vec![FunctionSpec {
            name: "w".into(),
            memory_mb: 1,
        }],
        vec![Arrival {
            time: SimTime::ZERO,
            function: FunctionId(0),
            duration: SimDuration::from_ms(1),
            cold_start: None,
            mode: None,
        }],
    );
    let mut rec = VecRecorder::default();
    faasim_sim::run_extended(
        &cfg,
        policies(Box::new(Mru), Some(SimDuration::ZERO)),
        None,
        Some(Box::new(ext)),
        &mut WorkflowSource::new(&mut inner, wfs.functions.clone()),
        &mut rec,
    )
    .expect("the case runs");
    let r = handle.finish();
    let w = &r.workflows[0];
    (w.latency_us.sum() as u64, w.cold_starts)
}

fn workflow_cascade_case(_: &Context) -> Vec<Check> {
    let c = "workflow-cascade";
    let mut checks = Vec::new();
    // A hop through storage is a put and a get, each 20 ms + 10^6 B / 75 MB/s = 13.334 ms
    // (rounded up to the µs): 66.668 ms.
    let hop_us = 2 * (20_000 + 13_334);
    for n in 1..=8u64 {
        let (e2e, colds) = cascade(n as usize);
        let expected = n * (250_000 + 100_000) + n * 20_000 + (n - 1) * hop_us;
        checks.push(Check::exact(
            c,
            format!("end to end, n = {n} (ms)"),
            expected as f64 / 1e3,
            e2e as f64 / 1e3,
            0.0,
        ));
        checks.push(Check::exact(
            c,
            format!("cold starts, n = {n}"),
            n as f64,
            colds as f64,
            0.0,
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_formulas_match_tables() {
        // Erlang-B(5, 3) = 0.11005; Erlang-C(4, 3) = 0.50943.
        assert!((erlang_b(5, 3.0) - 0.110_054).abs() < 1e-5);
        assert!((erlang_c(4, 3.0) - 0.509_434).abs() < 1e-5);
        assert_eq!(erlang_b(0, 2.0), 1.0);
    }

    #[test]
    fn a_stochastic_check_fails_outside_four_standard_errors() {
        let inside = Check::within_se("t", "x", 1.0, 1.0 + 3.99 * 0.1, 0.1);
        assert_eq!(inside.status, Status::Pass);
        assert!((inside.tolerance - 0.4).abs() < 1e-12);
        assert_eq!(inside.standard_error, Some(0.1));
        for measured in [1.0 + 4.01 * 0.1, 1.0 - 4.01 * 0.1, f64::NAN] {
            let outside = Check::within_se("t", "x", 1.0, measured, 0.1);
            assert_eq!(outside.status, Status::Fail, "{measured}");
        }
        // A published figure's precision widens the tolerance by exactly that much.
        let p = Check::within_se_plus("t", "x", 1.0, 1.0 + 0.4 + 0.04, 0.1, 0.05);
        assert_eq!(p.status, Status::Pass);
        let p = Check::within_se_plus("t", "x", 1.0, 1.0 + 0.4 + 0.06, 0.1, 0.05);
        assert_eq!(p.status, Status::Fail);
    }

    #[test]
    fn skipped_and_broken_checks_never_pass() {
        assert_eq!(
            Check::skipped("t", "x", 1.0, "missing").status,
            Status::Skip
        );
        assert_eq!(Check::broken("t", "x", 1.0, "bad").status, Status::Fail);
        assert_eq!(Check::holds("t", "x", false).status, Status::Fail);
        assert_eq!(Check::holds("t", "x", true).status, Status::Pass);
    }

    #[test]
    fn estimates_over_replications() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        assert!((e.sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((e.se() - e.sd / 2.0).abs() < 1e-12);
    }

    #[test]
    fn exact_cases_pass() {
        let ctx = Context {
            traces: PathBuf::from(SAMPLES_DIR),
        };
        for c in [
            processor_sharing_case(&ctx),
            hand_trace_case(&ctx),
            aws_billing_case(&ctx),
            dslab_agreement_case(&ctx),
        ] {
            for check in c {
                assert_eq!(check.status, Status::Pass, "{check:?}");
            }
        }
    }

    /// `experiments/data/dslab-agree/trace.csv` is what its README says: re-derived here
    /// from `traces/samples/azure2019-sample-400` (the `rare` functions, at most 8 an hour,
    /// seed 1, as `faasim trace convert` writes them), arrivals truncated to whole ms,
    /// durations to whole ms + 0.5 ms, an invocation kept only if it arrives after its
    /// function's previous kept one ended even as a 250 ms cold start, names f0, f1, ...
    #[test]
    fn dslab_trace_is_the_documented_derivation() {
        let base = PathBuf::from(SAMPLES_DIR).join("azure2019-sample-400");
        let text = "name = \"dslab-agree\"\nseed = 1\n[trace]\nformat = \"azure2019\"\ninvocations = \"400_inv.csv\"\ndurations = \"400_run.csv\"\nmemory = \"400_mem.csv\"\nunit = \"function\"\n[sample]\nselect = \"rare\"\nmax_per_hour = 8\n";
        let path = base.join("dslab-agree.toml");
        let loaded = crate::scenario::LoadedScenario {
            scenario: crate::scenario::parse(text, &path, &[]).unwrap(),
            lenient: false,
            path,
            base_dir: base,
        };
        let mut trace = loaded.open_trace(1).unwrap();
        let mut table = FunctionTable::new();
        let mut out = String::from("timestamp_ms,function,duration_ms,memory_mb\n");
        // Per original function: its new name, and the end of its last kept invocation
        // were it a cold start (µs).
        let mut kept: BTreeMap<u32, (usize, u64)> = BTreeMap::new();
        let (mut rows, mut dropped) = (0, 0);
        while let Some(a) = trace.source_mut().next_arrival(&mut table).unwrap() {
            let t_ms = a.time.as_micros() / 1000;
            let d_us = a.duration.as_micros() / 1000 * 1000 + 500;
            let at = t_ms * 1000;
            let next = kept.len();
            let entry = kept.get(&a.function.0).copied();
            if entry.is_some_and(|(_, end)| at <= end) {
                dropped += 1;
                continue;
            }
            let name = entry.map_or(next, |(n, _)| n);
            kept.insert(a.function.0, (name, at + DSLAB_COLD_START_US + d_us));
            let mb = table.get(a.function).memory_mb;
            out.push_str(&format!("{t_ms},f{name},{}.5,{mb}\n", d_us / 1000));
            rows += 1;
        }
        assert_eq!((rows, dropped, kept.len()), (5207, 1936, 232));
        let committed =
            std::fs::read_to_string(Path::new(DSLAB_AGREE_DIR).join("trace.csv")).unwrap();
        assert!(committed == out, "trace.csv differs from its derivation");
    }

    /// The recomputation on a hand trace (keep-alive 600 s, cold start 250 ms), one
    /// function: a at 0 (cold, runs 0.25-1.25 s, deadline 601.25 s); at 300 s (warm, 10 s);
    /// at 601 s (warm: before 601.25 s without reset; with reset the deadline is 910 s);
    /// its 1 s execution ends at 602 s, past 601.25 s: without reset the instance then
    /// goes, so the arrival at 700 s is cold; with reset it is warm (deadline 1202 s).
    #[test]
    fn the_fixed_keep_alive_recomputation_by_hand() {
        let s = 1_000_000;
        let rows: Vec<Row> = [(0, 1), (300, 10), (601, 1), (700, 1)]
            .into_iter()
            .map(|(t, d)| (t * s, "f".to_string(), d * s))
            .collect();
        assert_eq!(fixed_keep_alive_cold_starts(&rows, false), 2);
        assert_eq!(fixed_keep_alive_cold_starts(&rows, true), 1);
    }

    #[test]
    fn trace_cases_skip_every_check_when_the_traces_are_missing() {
        let ctx = Context {
            traces: PathBuf::from(SAMPLES_DIR).join("no-such-folder"),
        };
        for checks in [trace_replay_case(&ctx), hybrid_vs_fixed_case(&ctx)] {
            assert!(!checks.is_empty());
            for check in checks {
                assert_eq!(check.status, Status::Skip, "{check:?}");
                assert!(check.note.contains("no-such-folder"), "{check:?}");
            }
        }
    }
}
