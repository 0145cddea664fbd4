//! Model serving on GPUs, hand-traced: loading from each tier, the loading queue, batches
//! closed by their timeout and by their size, LLM batches and their time to first token,
//! exclusive GPUs against swapping, locality-aware placement, GPU-second billing; and over
//! random model-serving runs under the provider's rules, every request ending once.

use crate::common::*;
use faasim_policies::{KeepAliveSpec, PlacementSpec, RoutingSpec};
use faasim_sim::provider::{BucketScope, Outage, ScalingBucket};
use faasim_sim::{
    run_serving, Arrival, ArrivalSource, BatchLatency, EngineConfig, FunctionOverrides,
    FunctionSettings, FunctionSpec, FunctionTable, GpuSharing, GpuWorkerSpec, InvocationMode,
    ModelSpec, Money, Outcome, Policies, RunReport, Serving, ServingConfig, SimDuration,
    SourceError, Tokens, VecRecorder, VecSource,
};
use proptest::prelude::*;

/// One GPU worker: 1,000 MB/s from remote storage, 2,000 MB/s from SSD, 10,000 MB/s over
/// PCIe; a DRAM cache of `dram_mb`, no SSD cache.
fn gpu_worker(gpus: u32, dram_mb: u64, pipelined: bool) -> GpuWorkerSpec {
    GpuWorkerSpec {
        gpus,
        gpu_memory_mb: 40_000,
        host_cache_mb: dram_mb,
        ssd_cache_mb: 0,
        storage_mb_per_s: 1_000,
        ssd_mb_per_s: 2_000,
        pcie_mb_per_s: 10_000,
        pipelined,
    }
}

/// A model of `size_mb` whose batch of b takes `base_ms + per_item_ms × b`.
fn model(name: &str, size_mb: u64, init_ms: u64, base_ms: u64, per_item_ms: u64) -> ModelSpec {
    ModelSpec {
        name: name.into(),
        size_mb,
        init: SimDuration::from_ms(init_ms),
        latency: BatchLatency::Curve {
            base: SimDuration::from_ms(base_ms),
            per_item: SimDuration::from_ms(per_item_ms),
        },
        max_batch: 1,
        batch_timeout: SimDuration::ZERO,
        item_memory_mb: 0,
        kv_kb_per_token: 0,
        per_function: false,
        preloaded: None,
    }
}

/// Functions `f<i>` serving the given models (SLO `slo_ms` each, if given).
fn serves(models: &[&str], slo_ms: Option<u64>) -> FunctionSettings {
    FunctionSettings {
        all: Default::default(),
        named: models
            .iter()
            .enumerate()
            .map(|(i, m)| {
                (
                    format!("f{i}"),
                    FunctionOverrides {
                        model: Some((*m).into()),
                        slo: slo_ms.map(SimDuration::from_ms),
                        ..Default::default()
                    },
                )
            })
            .collect(),
    }
}

/// `workers` workers of 64 GB, a 200 ms container cold start, the given functions.
fn cfg(workers: usize, functions: FunctionSettings) -> EngineConfig {
    let mut c = config(65_536, 8, 200.0);
    c.workers = vec![c.workers[0]; workers];
    c.functions = functions;
    c
}

fn pol(placement: PlacementSpec, keep_alive: KeepAliveSpec) -> Policies {
    faasim_policies::build(
        &placement,
        &RoutingSpec::MostRecentlyUsed {},
        &keep_alive,
        &Default::default(),
    )
    .unwrap()
}

fn run_gpu(
    cfg: &EngineConfig,
    serving: ServingConfig,
    pol: Policies,
    source: &mut dyn ArrivalSource,
) -> (RunReport, VecRecorder) {
    let mut rec = VecRecorder::default();
    let report = run_serving(
        cfg,
        Some(Serving::lru(serving)),
        pol,
        None,
        None,
        source,
        &mut rec,
    )
    .expect("the run succeeds");
    rec.invocations.sort_by_key(|r| r.id);
    (report, rec)
}

fn serving(
    workers: Vec<GpuWorkerSpec>,
    models: Vec<ModelSpec>,
    sharing: GpuSharing,
) -> ServingConfig {
    ServingConfig {
        workers,
        models,
        sharing,
        gpu_second_price: 7_600_000,
    }
}

fn funcs(n: usize) -> Vec<FunctionSpec> {
    (0..n).map(|i| func(&format!("f{i}"), 1024)).collect()
}

/// The first request loads its model from remote storage; the second, after its instance was
/// evicted, from the worker's DRAM cache, which kept the weights.
///
/// Model: 10,000 MB, `init_ms` 500, a batch runs 100 ms. Container cold start 200 ms.
/// - r0 at 0: the load starts after the container, at 0.2 s: remote→DRAM 10,000 / 1,000 =
///   10 s, then DRAM→GPU 10,000 / 10,000 = 1 s: weights in place at 11.2 s, ready at 11.7 s
///   (`init` 11.7 s), done at 11.8 s. Idle from 11.8 s, evicted at 21.8 s (keep-alive 10 s).
/// - r1 at 30 s: DRAM holds the model: 0.2 s container, 1 s PCIe, 0.5 s init: ready at
///   31.7 s, done at 31.8 s (latency 1.8 s). The run ends when its keep-alive does, 41.8 s.
/// - GPU bill: lives of 21.8 s and 11.8 s, rounded up to 22 + 12 = 34 GPU-seconds at
///   $0.00076 = $0.02584. GPU residency 21.8 + 11.8 = 33.6 s; DRAM from 0 to 41.8 s.
#[test]
fn a_later_start_loads_from_dram_after_the_first_came_from_remote() {
    let c = cfg(1, serves(&["m"], Some(2_000)));
    let sv = serving(
        vec![gpu_worker(1, 20_000, false)],
        vec![model("m", 10_000, 500, 100, 0)],
        GpuSharing::Exclusive,
    );
    let mut src = VecSource::new(funcs(1), vec![arr(0, 0, 1), arr(30 * S, 0, 1)]);
    let (rep, rec) = run_gpu(
        &c,
        sv,
        pol(PlacementSpec::FirstFit {}, fixed(10.0, true)),
        &mut src,
    );
    let r = &rec.invocations;
    assert_eq!(
        spans(r),
        vec![(11_700_000, 11_800_000), (31_700_000, 31_800_000)]
    );
    assert_eq!(r[0].init.as_micros(), 11_700_000);
    assert_eq!(r[1].init.as_micros(), 1_700_000);
    assert_eq!(colds(r), vec![true, true]);
    // GPU requests carry no per-request charge.
    assert_eq!(r[0].charge.total(), Money::ZERO);
    let s = &rep.stats;
    assert_eq!(s.end.as_micros(), 41_800_000);
    // The SLO of 2 s: r1 (1.8 s) meets it, r0 (11.8 s) does not.
    assert_eq!((s.slo_met, s.slo_invocations), (1, 2));
    assert_eq!(s.gpu_cost, Money::from_price_units(34 * 7_600_000));
    assert_eq!(s.user_cost(), s.gpu_cost);
    assert_eq!(rep.functions[0].cost, s.gpu_cost);
    let sv = rep.serving.unwrap();
    let m = &sv.models[0];
    assert_eq!(m.loads, [0, 1, 0, 1]);
    assert_eq!(m.load_us, 11_000_000 + 1_000_000);
    assert_eq!(m.load_us_max, 11_000_000);
    assert_eq!(m.resident_us, [33_600_000, 41_800_000, 0]);
    assert_eq!((m.batches, m.batch_requests, m.completed), (2, 2, 2));
    assert_eq!(m.gpu_busy_us, 200_000);
    assert_eq!(m.gpu_billed_ms, 34_000);
    assert_eq!(sv.gpus, 1);
    assert!((sv.load_ms_mean() - 6_000.0).abs() < 1e-9);
    assert!((sv.gpu_utilisation(s.end) - 0.2 / 41.8).abs() < 1e-12);
}

/// Pipelined loading takes the slowest link instead of the sum: from remote max(10 s, 1 s)
/// = 10 s instead of 11 s; from SSD (the first load wrote it there; no DRAM cache)
/// max(5 s, 1 s) = 5 s instead of 5 + 1 = 6 s.
#[test]
fn pipelined_loading_takes_the_slowest_link_and_sequential_the_sum() {
    for (pipelined, remote_s, ssd_s) in [(false, 11, 6), (true, 10, 5)] {
        let c = cfg(1, serves(&["m"], None));
        let mut w = gpu_worker(1, 0, pipelined);
        w.ssd_cache_mb = 100_000;
        let sv = serving(
            vec![w],
            vec![model("m", 10_000, 0, 100, 0)],
            GpuSharing::Exclusive,
        );
        let mut src = VecSource::new(funcs(1), vec![arr(0, 0, 1), arr(100 * S, 0, 1)]);
        let (rep, rec) = run_gpu(
            &c,
            sv,
            pol(PlacementSpec::FirstFit {}, KeepAliveSpec::None {}),
            &mut src,
        );
        let r = &rec.invocations;
        // Ready after 0.2 s of container and the load; done 100 ms later.
        assert_eq!(
            r[0].start.as_micros(),
            200_000 + remote_s * S,
            "pipelined {pipelined}"
        );
        assert_eq!(
            r[1].start.as_micros(),
            100 * S + 200_000 + ssd_s * S,
            "pipelined {pipelined}"
        );
        let m = &rep.serving.unwrap().models[0];
        assert_eq!(m.loads, [0, 0, 1, 1]);
        assert_eq!(m.load_us, ((remote_s + ssd_s) * S) as u128);
    }
}

/// Loads over one worker's storage link go one at a time: two instances started at 0 (two
/// functions, two models of 10,000 MB, two GPUs) both download from remote storage; the
/// second waits for the first's 10 s download, so its weights arrive at 0.2 + 10 + 10 + 1 =
/// 21.2 s while the first's arrive at 11.2 s. Its load time counts the wait (21 s).
#[test]
fn loads_from_storage_queue_on_the_worker() {
    let c = cfg(1, serves(&["a", "b"], None));
    let sv = serving(
        vec![gpu_worker(2, 0, false)],
        vec![model("a", 10_000, 0, 100, 0), model("b", 10_000, 0, 100, 0)],
        GpuSharing::Exclusive,
    );
    let mut src = VecSource::new(funcs(2), vec![arr(0, 0, 1), arr(0, 1, 1)]);
    let (rep, rec) = run_gpu(
        &c,
        sv,
        pol(PlacementSpec::FirstFit {}, KeepAliveSpec::None {}),
        &mut src,
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![(11_200_000, 11_300_000), (21_200_000, 21_300_000)]
    );
    let sv = rep.serving.unwrap();
    assert_eq!(sv.models[0].load_us, 11_000_000);
    assert_eq!(sv.models[1].load_us, 21_000_000);
}

/// Batching: `max_batch` 3, `batch_timeout_ms` 50, a batch of b runs 100 + 10 b ms; the
/// model (1,000 MB) is ready at 0.2 + 1 + 0.1 = 1.3 s.
/// - r0 at 0 joins the starting instance; its batch is due (timeout passed) when the
///   instance is ready: it runs alone from 1.3 s to 1.41 s.
/// - r1 at 2.000 s and r2 at 2.020 s: the batch is closed by its timeout at 2.050 s and runs
///   120 ms: both end at 2.170 s.
/// - r3, r4, r5 at 3.000, 3.010, 3.020 s: the third fills the batch, which starts at once
///   (closed by its size) and runs 130 ms to 3.150 s.
/// - r6 at 3.100 s, while that batch runs, opens the next one (due at 3.150 s): it starts
///   when the GPU frees at 3.150 s and ends at 3.260 s.
#[test]
fn batches_close_on_their_timeout_or_their_size() {
    let c = cfg(1, serves(&["m"], None));
    let mut m = model("m", 1_000, 0, 100, 10);
    m.max_batch = 3;
    m.batch_timeout = SimDuration::from_ms(50);
    let sv = serving(
        vec![gpu_worker(1, 0, false)],
        vec![m],
        GpuSharing::Exclusive,
    );
    let at = [0, 2_000, 2_020, 3_000, 3_010, 3_020, 3_100];
    let arrivals = at.iter().map(|&t| arr(t * MS, 0, 1)).collect();
    let mut src = VecSource::new(funcs(1), arrivals);
    let (rep, rec) = run_gpu(
        &c,
        sv,
        pol(PlacementSpec::FirstFit {}, fixed(60.0, true)),
        &mut src,
    );
    assert_eq!(
        spans(&rec.invocations),
        vec![
            (1_300_000, 1_410_000),
            (2_050_000, 2_170_000),
            (2_050_000, 2_170_000),
            (3_020_000, 3_150_000),
            (3_020_000, 3_150_000),
            (3_020_000, 3_150_000),
            (3_150_000, 3_260_000),
        ]
    );
    assert_eq!(
        colds(&rec.invocations),
        vec![true, false, false, false, false, false, false]
    );
    let m = &rep.serving.unwrap().models[0];
    assert_eq!((m.batches, m.batch_requests), (4, 7));
    assert_eq!(m.gpu_busy_us, (110 + 120 + 130 + 110) * 1_000);
}

/// A source of arrivals with token counts (an LLM trace in memory).
struct TokenSource {
    inner: VecSource,
    tokens: std::vec::IntoIter<Tokens>,
    last: Option<Tokens>,
}

impl ArrivalSource for TokenSource {
    fn next_arrival(&mut self, f: &mut FunctionTable) -> Result<Option<Arrival>, SourceError> {
        let a = self.inner.next_arrival(f)?;
        self.last = a.and(self.tokens.next());
        Ok(a)
    }
    fn tokens(&self) -> Option<Tokens> {
        self.last
    }
}

/// An LLM batch: prefill 1 ms per input token of the whole batch, then 10 ms per decode step
/// for its longest output; `max_batch` 2, timeout 100 ms; ready at 1.3 s as above. r0 (100
/// in, 5 out) at 0 and r1 (300 in, 10 out) at 50 ms both join the starting instance; its
/// batch is full: from 1.3 s, prefill 400 ms (first tokens at 1.7 s: TTFT 1.7 s and
/// 1.65 s), decode 10 × 10 ms: both end at 1.8 s. With a KV cache of 1 MB per token and
/// 1,400 MB of GPU memory for the 1,000 MB model, r1 (310 MB) no longer fits beside r0
/// (105 MB): it waits in the queue (the only GPU is taken); r0 runs alone from 1.3 s
/// (prefill 100 ms: TTFT 1.4 s; decode 5 steps: ends at 1.45 s); then r1, which has waited
/// longer than the batch timeout, runs at once: prefill 300 ms (TTFT 1.75 − 0.05 = 1.7 s),
/// ends at 1.85 s.
#[test]
fn llm_batches_prefill_together_and_hold_their_kv_cache() {
    for (gpu_mb, ends) in [
        (40_000, [1_800_000, 1_800_000]),
        (1_400, [1_450_000, 1_850_000]),
    ] {
        let c = cfg(1, serves(&["llm"], None));
        let m = ModelSpec {
            latency: BatchLatency::Tokens {
                overhead: SimDuration::ZERO,
                prefill_ns_per_token: 1_000_000,
                decode_ns_per_token: 10_000_000,
            },
            max_batch: 2,
            batch_timeout: SimDuration::from_ms(100),
            kv_kb_per_token: 1024,
            ..model("llm", 1_000, 0, 0, 0)
        };
        let mut w = gpu_worker(1, 0, false);
        w.gpu_memory_mb = gpu_mb;
        let sv = serving(vec![w], vec![m], GpuSharing::Exclusive);
        let mut src = TokenSource {
            inner: VecSource::new(funcs(1), vec![arr(0, 0, 1), arr(50 * MS, 0, 1)]),
            tokens: vec![
                Tokens {
                    input: 100,
                    output: 5,
                },
                Tokens {
                    input: 300,
                    output: 10,
                },
            ]
            .into_iter(),
            last: None,
        };
        let (rep, rec) = run_gpu(
            &c,
            sv,
            pol(PlacementSpec::FirstFit {}, fixed(60.0, true)),
            &mut src,
        );
        let got: Vec<u64> = rec.invocations.iter().map(|r| r.end.as_micros()).collect();
        assert_eq!(got, ends, "GPU memory {gpu_mb} MB");
        let mut ttft = rep.serving.unwrap().ttft_us;
        if gpu_mb == 40_000 {
            assert_eq!(
                (ttft.quantile(0.0), ttft.quantile(1.0)),
                (1_650_000, 1_700_000)
            );
        } else {
            assert_eq!(
                (ttft.quantile(0.0), ttft.quantile(1.0)),
                (1_400_000, 1_700_000)
            );
        }
    }
}

/// Two functions, two models of 1,000 MB, one GPU of 1,500 MB (one model at a time); a
/// batch runs 100 ms; requests alternate a, b, a, b every 2 s from 0; keep-alive 60 s.
/// - `exclusive`: a's instance owns the GPU; b's request finds it idle and reclaims it, and
///   so on: every request is a cold start (0.2 s container + 0.1 s from DRAM after the first
///   downloads: 1 s + 0.1 s).
/// - `swap`: both instances stay (they hold host memory only); each batch swaps its model
///   in over PCIe (0.1 s) because the other one evicted it: warm requests take 0.2 s.
#[test]
fn swapping_keeps_every_function_warm_where_exclusive_gpus_evict() {
    let expect = |sharing| match sharing {
        // Cold starts: r0 and r1 download (0.2 + 1 + 0.1 + 0.1 = 1.4 s), then from DRAM
        // (0.2 + 0.1 + 0.1 = 0.4 s).
        GpuSharing::Exclusive => vec![1_400_000, 1_400_000, 400_000, 400_000],
        // Host loads: 0.2 + 1 s; then the batch swaps in 0.1 s and runs 0.1 s. Later
        // requests: swap 0.1 + run 0.1 s.
        GpuSharing::Swap => vec![1_400_000, 1_400_000, 200_000, 200_000],
    };
    for sharing in [GpuSharing::Exclusive, GpuSharing::Swap] {
        let c = cfg(1, serves(&["a", "b"], None));
        let mut w = gpu_worker(1, 10_000, false);
        w.gpu_memory_mb = 1_500;
        let sv = serving(
            vec![w],
            vec![model("a", 1_000, 0, 100, 0), model("b", 1_000, 0, 100, 0)],
            sharing,
        );
        let arrivals = vec![
            arr(0, 0, 1),
            arr(2 * S, 1, 1),
            arr(4 * S, 0, 1),
            arr(6 * S, 1, 1),
        ];
        let mut src = VecSource::new(funcs(2), arrivals);
        let (rep, rec) = run_gpu(
            &c,
            sv,
            pol(PlacementSpec::FirstFit {}, fixed(60.0, true)),
            &mut src,
        );
        assert_eq!(latencies(&rec.invocations), expect(sharing), "{sharing:?}");
        let sv = rep.serving.unwrap();
        let loads: Vec<[u64; 4]> = sv.models.iter().map(|m| m.loads).collect();
        let billed: u64 = sv.models.iter().map(|m| m.gpu_billed_ms).sum();
        match sharing {
            // Starts: remote, then DRAM. Billed: lives of 2, 2, 2 s and b's last, from 6 s
            // to its keep-alive's end at 66.4 s (61 s).
            GpuSharing::Exclusive => {
                assert_eq!(loads, vec![[0, 1, 0, 1]; 2]);
                assert_eq!(billed, 67_000);
            }
            // Starts from remote; every batch swapped in from host memory. Billed: four
            // batches holding the GPU 100 ms of swap-in and 100 ms of compute each.
            GpuSharing::Swap => {
                assert_eq!(loads, vec![[0, 2, 0, 1]; 2]);
                assert_eq!(billed, 800);
            }
        }
        assert_eq!(
            rep.stats.gpu_cost,
            Money::from_price_units(billed as u128 * 7_600)
        );
    }
}

/// Locality-aware placement (ServerlessLLM): after r0's instance on worker 0 is evicted,
/// worker 0's DRAM holds the model (1 s from there) and worker 1 has nothing (11 s from
/// remote). Round-robin sends r1 to worker 1 (11.3 s of latency); locality-aware to worker 0
/// (1.3 s).
#[test]
fn locality_aware_placement_goes_where_the_model_is() {
    for (placement, worker, latency) in [
        (PlacementSpec::RoundRobin {}, 1, 11_300_000),
        (PlacementSpec::LocalityAware {}, 0, 1_300_000),
    ] {
        let c = cfg(2, serves(&["m"], None));
        let sv = serving(
            vec![gpu_worker(1, 20_000, false); 2],
            vec![model("m", 10_000, 0, 100, 0)],
            GpuSharing::Exclusive,
        );
        let mut src = VecSource::new(funcs(1), vec![arr(0, 0, 1), arr(100 * S, 0, 1)]);
        let (_, rec) = run_gpu(
            &c,
            sv,
            pol(placement.clone(), KeepAliveSpec::None {}),
            &mut src,
        );
        let r = &rec.invocations;
        assert_eq!(r[0].worker.unwrap().0, 0);
        assert_eq!(r[1].worker.unwrap().0, worker, "{placement:?}");
        assert_eq!(r[1].latency().as_micros(), latency, "{placement:?}");
    }
}

/// Same seed, same bytes: a GPU run twice gives the same records and figures.
#[test]
fn gpu_runs_are_deterministic() {
    let run = || {
        let c = cfg(2, serves(&["a", "b"], Some(1_000)));
        let mut m = model("a", 2_000, 100, 20, 5);
        m.max_batch = 4;
        m.batch_timeout = SimDuration::from_ms(10);
        let sv = serving(
            vec![gpu_worker(2, 5_000, true); 2],
            vec![m, model("b", 3_000, 0, 50, 0)],
            GpuSharing::Swap,
        );
        let arrivals = (0..400u64)
            .map(|k| arr(k * 37 * MS, (k % 3 == 0) as u32, 1))
            .collect();
        let mut src = VecSource::new(funcs(2), arrivals);
        let (rep, rec) = run_gpu(
            &c,
            sv,
            pol(PlacementSpec::Random {}, fixed(5.0, true)),
            &mut src,
        );
        // Every request completes once; the batches hold them all.
        assert_eq!(rep.stats.completed, 400);
        let sv = rep.serving.as_ref().unwrap();
        assert_eq!(sv.models.iter().map(|m| m.batch_requests).sum::<u64>(), 400);
        (
            format!("{:?}", rec.invocations),
            rep.stats.slo_met,
            format!("{:?}", rep.serving.unwrap().models),
        )
    };
    assert_eq!(run(), run());
}

/// The first test's two requests as a scenario file, on a mixed cluster: a CPU-only worker
/// (`[cluster]`) and a pool of one GPU worker, with a CPU function beside the model's. The
/// GPU function runs on the GPU worker (id 1); the summary and `models.csv` carry the
/// figures worked out above (loads 11 s and 1 s, GPU residency 33.6 s, DRAM 41.8 s, 34
/// GPU-seconds at $0.00076, SLO met by one of two).
#[test]
fn a_scenario_serves_a_model_on_its_gpu_pool_and_writes_the_model_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "timestamp_ms,function,duration_ms,memory_mb\n0,chat,1,1024\n5,cpu,100,128\n30000,chat,1,1024\n",
    )
    .unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        r#"
name = "gpu"
[trace]
format = "csv"
path = "t.csv"
[cluster]
workers = 1
worker_memory_mb = 4096
[[cluster.pools]]
workers = 1
worker_memory_mb = 65536
gpus_per_worker = 1
gpu_memory_mb = 40000
host_model_cache_mb = 20000
storage_mb_per_s = 1000
pcie_mb_per_s = 10000
[platform]
cold_start_ms = 200
[placement]
policy = "first-fit"
[keep_alive]
policy = "fixed"
ttl_s = 10
[models.m]
size_mb = 10000
init_ms = 500
latency = { base_ms = 100, per_item_ms = 0 }
[functions.chat]
model = "m"
slo_ms = 2000
[output]
invocations = true
"#,
    )
    .unwrap();
    let loaded = faasim_experiments::load(&scenario, &[]).unwrap();
    let out = dir.path().join("out");
    let o = faasim_experiments::run_scenario(&loaded, 1, &out).unwrap();
    let s = &o.summary;
    assert_eq!(
        (s.model_loads, s.loads_from_remote, s.loads_from_dram),
        (2, 1, 1)
    );
    assert_eq!(s.model_load_ms_mean, 6_000.0);
    assert_eq!((s.slo_functions, s.slo_functions_met), (1, 0));
    assert_eq!(s.slo_attainment, 0.5);
    assert!(
        (s.gpu_cost_usd - 0.02584).abs() < 1e-12,
        "{}",
        s.gpu_cost_usd
    );
    // The CPU function's request (100 ms at 128 MB, AWS x86) is billed beside the GPUs.
    assert!(s.user_cost_usd > s.gpu_cost_usd);
    assert_eq!(s.batch_size_mean, 1.0);
    let models = std::fs::read_to_string(out.join("models.csv")).unwrap();
    let mut lines = models.lines();
    assert_eq!(
        lines.next().unwrap(),
        "model,loads,loads_from_gpu,loads_from_dram,loads_from_ssd,loads_from_remote,load_ms_mean,load_ms_max,resident_gpu_s,resident_dram_s,resident_ssd_s,batches,batch_size_mean,completed,gpu_busy_s,gpu_billed_s,gpu_cost_usd"
    );
    assert_eq!(
        lines.next().unwrap(),
        "m,2,0,1,0,1,6000.0,11000.0,33.6,41.8,0.0,2,1.0,2,0.2,34.0,0.02584"
    );
    // The GPU function on the GPU worker (id 1), the CPU function on worker 0.
    let inv = std::fs::read_to_string(out.join("invocations.csv")).unwrap();
    let workers: Vec<(String, String)> = inv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[1].to_owned(), c[10].to_owned())
        })
        .collect();
    assert!(
        workers
            .iter()
            .filter(|(f, _)| f == "0")
            .all(|(_, w)| w == "1"),
        "{workers:?}"
    );
    assert!(
        workers
            .iter()
            .filter(|(f, _)| f == "1")
            .all(|(_, w)| w == "0"),
        "{workers:?}"
    );
}

/// Functions `f<i>` serving the given models with the provider's settings `o` besides.
fn serves_with(models: &[&str], o: FunctionOverrides) -> FunctionSettings {
    let mut s = serves(models, None);
    for (_, e) in &mut s.named {
        *e = FunctionOverrides {
            model: e.model.take(),
            ..o.clone()
        };
    }
    s
}

/// One GPU, a 1,000 MB model whose batch (up to 4) runs 100 ms and starts as soon as the
/// instance is ready: a first start is 0.2 s of container, 1 s from remote storage and
/// 0.1 s over PCIe, ready at 1.3 s; the DRAM cache keeps the weights for later starts.
fn one_gpu_model() -> ServingConfig {
    let mut m = model("m", 1_000, 0, 100, 0);
    m.max_batch = 4;
    serving(
        vec![gpu_worker(1, 2_000, false)],
        vec![m],
        GpuSharing::Exclusive,
    )
}

fn outcomes(r: &[faasim_sim::InvocationRecord]) -> Vec<Outcome> {
    r.iter().map(|x| x.outcome).collect()
}

/// Admission comes before the GPU path: with an account concurrency of 2, of three requests
/// at 0 the first starts the instance, the second joins its first batch and the third is
/// throttled at once. Both admitted end together at 1.3 + 0.1 = 1.4 s and give their units
/// back; a request at 1.4 s exactly (completions come first) is admitted and runs warm on
/// the idle instance from 1.4 to 1.5 s.
#[test]
fn account_concurrency_throttles_model_serving_requests() {
    let mut c = cfg(1, serves(&["m"], None));
    c.provider.limits.account_concurrency = Some(2);
    let arrivals = vec![
        arr(0, 0, 1),
        arr(0, 0, 1),
        arr(0, 0, 1),
        arr(1_400 * MS, 0, 1),
    ];
    let mut src = VecSource::new(funcs(1), arrivals);
    let (rep, rec) = run_gpu(
        &c,
        one_gpu_model(),
        pol(PlacementSpec::FirstFit {}, fixed(10.0, true)),
        &mut src,
    );
    let r = &rec.invocations;
    use Outcome::*;
    assert_eq!(outcomes(r), [Completed, Completed, Throttled, Completed]);
    assert_eq!((r[2].end, r[2].instance), (r[2].arrival, None));
    assert_eq!(
        spans(r),
        vec![
            (1_300_000, 1_400_000),
            (1_300_000, 1_400_000),
            (0, 0),
            (1_400_000, 1_500_000)
        ]
    );
    let s = &rep.stats;
    assert_eq!((s.completed, s.throttled, s.invocations), (3, 1, 4));
    let m = &rep.serving.unwrap().models[0];
    assert_eq!((m.batches, m.batch_requests, m.completed), (2, 3, 3));
}

/// The scaling rate: an account bucket of one new environment a minute. f0's request at 0
/// takes the token and starts an instance; f1's (another model) finds the bucket empty and
/// is throttled; f1's next request, at 60 s, gets the refilled token and starts its own
/// instance (f0's was evicted at 11.4 s): from remote storage again (f1's model is not
/// cached), ready at 61.3 s, done at 61.4 s.
#[test]
fn the_scaling_rate_throttles_new_gpu_instances() {
    let mut c = cfg(1, serves(&["a", "b"], None));
    c.provider.limits.scaling = Some(ScalingBucket {
        scope: BucketScope::Account,
        burst: 1,
        refill: 1,
        every: SimDuration::from_secs(60),
    });
    let sv = serving(
        vec![gpu_worker(1, 2_000, false)],
        vec![model("a", 1_000, 0, 100, 0), model("b", 1_000, 0, 100, 0)],
        GpuSharing::Exclusive,
    );
    let arrivals = vec![arr(0, 0, 1), arr(0, 1, 1), arr(60 * S, 1, 1)];
    let mut src = VecSource::new(funcs(2), arrivals);
    let (rep, rec) = run_gpu(
        &c,
        sv,
        pol(PlacementSpec::FirstFit {}, fixed(10.0, true)),
        &mut src,
    );
    use Outcome::*;
    assert_eq!(
        outcomes(&rec.invocations),
        [Completed, Throttled, Completed]
    );
    assert_eq!(spans(&rec.invocations)[2], (61_300_000, 61_400_000));
    assert_eq!(rep.stats.throttled, 1);
}

/// A batch longer than its function's timeout (50 ms against 100 ms) is killed at the
/// timeout: both requests of the first batch end `timed-out` at 1.3 + 0.05 s, the GPU is
/// busy 50 ms for it and free for the next batch, which is killed at 2.05 s. Nothing
/// completes: no SLO met, no time to first token, no completion in `models.csv`.
#[test]
fn a_batch_longer_than_the_timeout_is_killed_at_it() {
    let c = cfg(
        1,
        serves_with(
            &["m"],
            FunctionOverrides {
                timeout: Some(SimDuration::from_ms(50)),
                slo: Some(SimDuration::from_ms(10_000)),
                ..Default::default()
            },
        ),
    );
    let arrivals = vec![arr(0, 0, 1), arr(0, 0, 1), arr(2 * S, 0, 1)];
    let mut src = VecSource::new(funcs(1), arrivals);
    let (rep, rec) = run_gpu(
        &c,
        one_gpu_model(),
        pol(PlacementSpec::FirstFit {}, fixed(10.0, true)),
        &mut src,
    );
    let r = &rec.invocations;
    assert_eq!(outcomes(r), [Outcome::TimedOut; 3]);
    assert_eq!(
        spans(r),
        vec![
            (1_300_000, 1_350_000),
            (1_300_000, 1_350_000),
            (2_000_000, 2_050_000)
        ]
    );
    // Billed per GPU-second of the instance, not per request.
    assert!(r.iter().all(|x| x.charge.total() == Money::ZERO));
    let s = &rep.stats;
    assert_eq!((s.timed_out, s.completed, s.slo_met), (3, 0, 0));
    let sv = rep.serving.unwrap();
    let m = &sv.models[0];
    assert_eq!((m.batches, m.completed, m.gpu_busy_us), (2, 0, 100_000));
    assert_eq!(sv.ttft_us.count(), 0);
}

/// An asynchronous request whose every execution fails (`error_rate` 1) is retried once
/// (`retries` = 1) after a minute: the first batch ends at 1.4 s and fails; the retry is
/// delivered at 61.4 s, after the instance was evicted (keep-alive 10 s, at 11.4 s), and
/// starts a new one from the DRAM copy (0.2 s container + 0.1 s PCIe): ready at 61.7 s,
/// the batch fails at 61.8 s, and the event ends `failed` there, counted once.
#[test]
fn asynchronous_model_serving_requests_are_retried_after_errors() {
    let mut c = cfg(
        1,
        serves_with(
            &["m"],
            FunctionOverrides {
                error_rate: Some(1.0),
                invocation: Some(InvocationMode::Async),
                ..Default::default()
            },
        ),
    );
    c.provider.async_events.retries = 1;
    let mut src = VecSource::new(funcs(1), vec![arr(0, 0, 1)]);
    let (rep, rec) = run_gpu(
        &c,
        one_gpu_model(),
        pol(PlacementSpec::FirstFit {}, fixed(10.0, true)),
        &mut src,
    );
    let r = &rec.invocations;
    assert_eq!(outcomes(r), [Outcome::Failed]);
    assert_eq!((r[0].start, r[0].end), (t(61_700_000), t(61_800_000)));
    let s = &rep.stats;
    assert_eq!((s.invocations, s.failed, s.retries), (1, 1, 1));
    let m = &rep.serving.unwrap().models[0];
    assert_eq!((m.loads, m.batches, m.completed), ([0, 1, 0, 1], 2, 0));
}

/// Worker failures are not modelled for GPU workers: a run that has both is refused.
#[test]
fn faults_and_model_serving_are_refused_together() {
    let mut c = cfg(1, serves(&["m"], None));
    c.provider.faults.schedule = vec![Outage {
        worker: 0,
        at: t(S),
        down: d(S),
    }];
    let mut src = VecSource::new(funcs(1), vec![arr(0, 0, 1)]);
    let err = run_serving(
        &c,
        Some(Serving::lru(one_gpu_model())),
        pol(PlacementSpec::FirstFit {}, fixed(10.0, true)),
        None,
        None,
        &mut src,
        &mut VecRecorder::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("[faults]"), "{err}");
}

/// Snapshots and forks do not apply to model-serving functions: their start is the
/// container's boot and the model's load. The hand-traced run of
/// `a_later_start_loads_from_dram_after_the_first_came_from_remote` with both start types on
/// (snapshots at deployment, so a restore would be possible from the first start) is the same
/// run, every start a boot.
#[test]
fn model_serving_functions_always_boot() {
    let plain = cfg(1, serves(&["m"], Some(2_000)));
    let mut with_starts = plain.clone();
    with_starts.snapshot = faasim_sim::SnapshotConfig {
        enabled: true,
        create: faasim_sim::SnapshotCreate::Deploy,
        ..Default::default()
    };
    with_starts.fork = faasim_sim::ForkConfig {
        enabled: true,
        ..Default::default()
    };
    let run = |c: &EngineConfig| {
        let sv = serving(
            vec![gpu_worker(1, 20_000, false)],
            vec![model("m", 10_000, 500, 100, 0)],
            GpuSharing::Exclusive,
        );
        let mut src = VecSource::new(funcs(1), vec![arr(0, 0, 1), arr(30 * S, 0, 1)]);
        run_gpu(
            c,
            sv,
            pol(PlacementSpec::FirstFit {}, fixed(10.0, true)),
            &mut src,
        )
    };
    let (a_rep, a) = run(&plain);
    let (b_rep, b) = run(&with_starts);
    assert_eq!(
        spans(&b.invocations),
        vec![(11_700_000, 11_800_000), (31_700_000, 31_800_000)]
    );
    assert_eq!(a.invocations, b.invocations);
    let s = &b_rep.stats;
    assert_eq!((s.boots, s.restores, s.forks), (2, 0, 0));
    assert_eq!(a_rep.stats.gpu_cost, s.gpu_cost);
}

/// A random model-serving run: GPU workers, models, arrivals and the provider's rules.
#[derive(Debug, Clone)]
struct GpuMix {
    /// (GPUs, DRAM cache MB, pipelined) per worker.
    workers: Vec<(u32, u64, bool)>,
    /// (size MB, init ms, base ms, per-item ms, max batch, batch timeout ms) per model.
    models: Vec<(u64, u64, u64, u64, u32, u64)>,
    /// (time µs, function) per request; function k serves model k % models.
    arrivals: Vec<(u64, u32)>,
    swap: bool,
    locality: bool,
    ttl_ms: u64,
    account: Option<u32>,
    timeout_ms: Option<u64>,
    error_permille: u32,
    asynchronous: bool,
    seed: u64,
}

fn gpu_mix() -> impl Strategy<Value = GpuMix> {
    (
        prop::collection::vec(
            (
                1u32..=2,
                prop_oneof![Just(0u64), Just(4_000)],
                any::<bool>(),
            ),
            1..=2,
        ),
        prop::collection::vec(
            (
                prop_oneof![Just(500u64), Just(2_000), Just(9_000)],
                0u64..200,
                1u64..80,
                0u64..20,
                1u32..=4,
                0u64..30,
            ),
            1..=3,
        ),
        prop::collection::vec((0u64..20_000_000, 0u32..4), 1..=60),
        (any::<bool>(), any::<bool>(), 100u64..20_000),
        (
            prop::option::of(1u32..4),
            prop::option::of(5u64..120),
            prop::sample::select(vec![0u32, 0, 200]),
            any::<bool>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                workers,
                models,
                arrivals,
                (swap, locality, ttl_ms),
                (account, timeout_ms, error_permille, asynchronous, seed),
            )| {
                GpuMix {
                    workers,
                    models,
                    arrivals,
                    swap,
                    locality,
                    ttl_ms,
                    account,
                    timeout_ms,
                    error_permille,
                    asynchronous,
                    seed,
                }
            },
        )
}

fn run_gpu_mix(m: &GpuMix) -> (RunReport, VecRecorder) {
    let names: Vec<String> = (0..m.models.len()).map(|k| format!("m{k}")).collect();
    let nf = 4u32;
    let model_of: Vec<&str> = (0..nf as usize)
        .map(|k| names[k % names.len()].as_str())
        .collect();
    let mut c = cfg(
        m.workers.len(),
        serves_with(
            &model_of,
            FunctionOverrides {
                timeout: m.timeout_ms.map(SimDuration::from_ms),
                error_rate: Some(m.error_permille as f64 / 1000.0),
                invocation: Some(match m.asynchronous {
                    true => InvocationMode::Async,
                    false => InvocationMode::Sync,
                }),
                slo: Some(SimDuration::from_ms(500)),
                ..Default::default()
            },
        ),
    );
    c.seed = m.seed;
    c.provider.limits.account_concurrency = m.account;
    c.provider.async_events.retry_delays =
        vec![SimDuration::from_ms(100), SimDuration::from_ms(250)];
    let models = m
        .models
        .iter()
        .zip(&names)
        .map(
            |(&(size, init, base, per_item, max_batch, timeout), name)| {
                let mut x = model(name, size, init, base, per_item);
                x.max_batch = max_batch;
                x.batch_timeout = SimDuration::from_ms(timeout);
                x
            },
        )
        .collect();
    let sv = serving(
        m.workers
            .iter()
            .map(|&(gpus, dram, pipelined)| gpu_worker(gpus, dram, pipelined))
            .collect(),
        models,
        match m.swap {
            true => GpuSharing::Swap,
            false => GpuSharing::Exclusive,
        },
    );
    let mut arrivals: Vec<Arrival> = m.arrivals.iter().map(|&(t, f)| arr(t, f % nf, 1)).collect();
    arrivals.sort_by_key(|a| a.time);
    let placement = match m.locality {
        true => toml::from_str::<PlacementSpec>("policy = \"locality-aware\"").expect("spec"),
        false => PlacementSpec::FirstFit {},
    };
    let mut src = VecSource::new(funcs(nf as usize), arrivals);
    run_gpu(
        &c,
        sv,
        pol(placement, fixed(m.ttl_ms as f64 / 1000.0, true)),
        &mut src,
    )
}

fn check_gpu_mix(m: &GpuMix) -> Result<(), TestCaseError> {
    let (rep, rec) = run_gpu_mix(m);
    let s = &rep.stats;
    let n = m.arrivals.len() as u64;
    // Each request once, with one outcome, whatever the retries.
    let ids: Vec<u64> = rec.invocations.iter().map(|r| r.id).collect();
    prop_assert_eq!(ids, (0..n).collect::<Vec<_>>());
    prop_assert_eq!(s.invocations, n);
    prop_assert_eq!(
        s.completed + s.dropped + s.throttled + s.failed + s.timed_out + s.unfinished,
        n
    );
    prop_assert_eq!(s.unfinished, 0);
    let completed = rec
        .invocations
        .iter()
        .filter(|r| r.outcome == Outcome::Completed)
        .count() as u64;
    prop_assert_eq!(completed, s.completed);
    for r in &rec.invocations {
        prop_assert!(r.arrival <= r.dispatched && r.dispatched <= r.start && r.start <= r.end);
        // GPU requests carry no per-request charge: the GPU-seconds are the bill.
        prop_assert_eq!(r.charge.total(), Money::ZERO);
        if m.asynchronous {
            prop_assert!(r.outcome != Outcome::Throttled, "{:?}", r);
        }
    }
    let sv = rep.serving.as_ref().expect("a serving report");
    // The batches held every completed request; the models' completions are the run's.
    prop_assert_eq!(
        sv.models.iter().map(|x| x.completed).sum::<u64>(),
        s.completed
    );
    prop_assert!(sv.models.iter().map(|x| x.batch_requests).sum::<u64>() >= s.completed);
    // The bill is the models' GPU-seconds, and it is all of the user's cost.
    let gpu: Money = sv.models.iter().map(|x| x.gpu_cost).sum();
    prop_assert_eq!(gpu, s.gpu_cost);
    prop_assert_eq!(s.user_cost(), s.gpu_cost);
    prop_assert_eq!(s.slo_met <= s.completed, true);
    prop_assert!(sv.gpu_utilisation(s.end) <= 1.0 + 1e-12);
    // Same seed, same bytes.
    let (rep2, rec2) = run_gpu_mix(m);
    prop_assert_eq!(&rec.invocations, &rec2.invocations);
    prop_assert_eq!(format!("{:?}", rep.stats), format!("{:?}", rep2.stats));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_model_serving_request_ends_once_under_the_provider_s_rules(m in gpu_mix()) {
        check_gpu_mix(&m)?;
    }
}
