//! CH-RLU: consistent hashing with random load updates (Fuerst and Sharma,
//! "Locality-aware Load-Balancing For Serverless Clusters", HPDC 2022, doi
//! 10.1145/3502181.3531459), as the authors implement it in the Ilúvatar controller
//! (COS-IN/iluvatar-faas at e47f175, `src/Ilúvatar/iluvatar_controller_library/src/services/
//! load_balance/ch_rlu.rs`, `get_worker`, `calc_popular`, `update_worker_loads`).
//!
//! **Ring and chain.** Workers sit on a hash ring with `virtual_nodes` points each
//! ([`Ring`], Ilúvatar's `vnodes = 3`); a function's name hashes onto it. Its *forwarding
//! chain* is the first `chain_length` distinct workers clockwise from its key (Ilúvatar's
//! `chain_len = 4`; all workers if there are fewer).
//!
//! **Unpopular functions** go to the first worker of their chain, with no load check.
//!
//! **Popular functions** go to the first worker of their chain whose load, plus a noise
//! term, is at most `load_bound` (Ilúvatar's `bounded_ceil`, 1.4 in the authors' CH-RLU
//! example, `docs/examples/CH-RLU/run.py`); the noise is then added to that worker's load
//! copy (the *random load update*: forwarding raises the worker's apparent load until the
//! next refresh). If no chain worker qualifies, the first one takes the request. The noise
//! is drawn per chain worker from Normal(mean = λ / cores, sd = 0.1), where λ = 1 / (mean of
//! the functions' average inter-arrival times, in seconds), as in the code (1.0 if that is
//! not finite).
//!
//! **Load** is the worker's 1-minute load average per core (Ilúvatar reads
//! `/proc/loadavg` and divides by the cores). Here the load average is computed as Linux
//! does: every 5 s, `load = load·e^(−5/60) + n·(1 − e^(−5/60))`, with `n` the running
//! executions (the mean since the previous reading, from [`WorkerView::exec_area_us`]). The
//! controller's copy of the loads, and the popular set, are refreshed every `refresh_s`
//! (Ilúvatar's `thread_sleep_ms`, 2000 in the example).
//!
//! **Popularity.** Each function's average inter-arrival time is Ilúvatar's running average
//! (`avg = 0.9·avg + 0.1·iat`, the first IAT taken as is). At each refresh the functions are
//! sorted by it, shortest first (ties by lowest function id), and the first
//! `round(popular_fraction × F)` are popular, F being all functions seen so far.
//!
//! Differences, forced by the model or the code's gaps: functions with no inter-arrival time
//! yet (seen once) are not ranked (Ilúvatar would read a default for them); the load
//! average's 5-s samples are the mean over the time since the previous reading rather than
//! an instantaneous count (readings come with requests, so a quiet gap spreads over the
//! samples it covers); worker reports reach the controller at once (Ilúvatar's workers report
//! every few seconds); the noise comes from the balancer's seeded stream, not `thread_rng`.
//!
//! Parameters: `virtual_nodes` (3), `chain_length` (4), `load_bound` (1.4), `popular_fraction`
//! (0.2), `refresh_s` (2). Cost per decision: O(chain_length) plus, at most once per 5 s,
//! O(W) to age the load averages, and once per refresh O(F) to rank F functions;
//! the ring is built on the first call, O(W·V·log(W·V)).
//!
//! [`WorkerView::exec_area_us`]: faasim_sim::WorkerView::exec_area_us

use crate::hash::Ring;
use faasim_sim::{
    ClusterView, LoadBalancer, PolicyRng, RequestView, SimDuration, SimTime, WorkerId,
};
use rand_distr::{Distribution, Normal};

/// Linux's load-average sampling period.
const LOADAVG_TICK: SimDuration = SimDuration(5_000_000);

/// `ch-rlu` load balancing (Fuerst and Sharma, HPDC'22, as in Ilúvatar's controller); see
/// the module docs. Defaults: `virtual_nodes` 3, `chain_length` 4, `load_bound` 1.4,
/// `popular_fraction` 0.2, `refresh_s` 2.
#[derive(Debug, Clone)]
pub struct ChRlu {
    virtual_nodes: u32,
    chain_length: u32,
    load_bound: f64,
    popular_fraction: f64,
    refresh: SimDuration,
    ring: Option<Ring>,
    chains: Vec<Vec<WorkerId>>,
    last_arrival: Vec<Option<SimTime>>,
    /// Running average inter-arrival time per function, seconds (NaN: none yet).
    iat_s: Vec<f64>,
    popular: Vec<bool>,
    /// 1-minute load average per worker (runnable executions, not per core).
    loadavg: Vec<f64>,
    last_area: Vec<u128>,
    last_read: SimTime,
    next_tick: SimTime,
    /// The controller's copy: load average per core, plus the noise of forwards since.
    seen: Vec<f64>,
    next_refresh: SimTime,
    arrival_rate: f64,
    /// Functions with an inter-arrival time, as sort keys: the average's bits (a
    /// non-negative float's bits order as its value does) above the function id.
    order: Vec<u128>,
    /// Functions seen so far (those with a `last_arrival`).
    seen_fns: usize,
    /// The popular functions (the ones set in `popular`).
    popular_ids: Vec<u32>,
}

impl ChRlu {
    /// The balancer with its parameters (see the module docs; the spec checks ranges).
    pub fn new(
        virtual_nodes: u32,
        chain_length: u32,
        load_bound: f64,
        popular_fraction: f64,
        refresh: SimDuration,
    ) -> Self {
        ChRlu {
            virtual_nodes: virtual_nodes.max(1),
            chain_length: chain_length.max(1),
            load_bound,
            popular_fraction,
            refresh,
            ring: None,
            chains: Vec::new(),
            last_arrival: Vec::new(),
            iat_s: Vec::new(),
            popular: Vec::new(),
            loadavg: Vec::new(),
            last_area: Vec::new(),
            last_read: SimTime::ZERO,
            next_tick: SimTime::ZERO + LOADAVG_TICK,
            seen: Vec::new(),
            next_refresh: SimTime::ZERO,
            arrival_rate: 1.0,
            order: Vec::new(),
            seen_fns: 0,
            popular_ids: Vec::new(),
        }
    }

    fn age_loads(&mut self, c: &ClusterView) {
        let now = c.now();
        if now < self.next_tick {
            return;
        }
        let ticks = (now - self.next_tick).as_micros() / LOADAVG_TICK.as_micros() + 1;
        self.next_tick += SimDuration(ticks * LOADAVG_TICK.as_micros());
        let decay = (-5.0f64 / 60.0)
            .exp()
            .powi(ticks.min(i32::MAX as u64) as i32);
        let span = (now - self.last_read).as_micros().max(1) as f64;
        for (i, avg) in self.loadavg.iter_mut().enumerate() {
            let area = c.worker(WorkerId(i as u32)).exec_area_us;
            let mean = (area - self.last_area[i]) as f64 / span;
            *avg = *avg * decay + mean * (1.0 - decay);
            self.last_area[i] = area;
        }
        self.last_read = now;
    }

    fn refresh(&mut self, c: &ClusterView) {
        let now = c.now();
        for (i, s) in self.seen.iter_mut().enumerate() {
            *s = self.loadavg[i] / c.worker(WorkerId(i as u32)).cores as f64;
        }
        // The ranking of the functions with an average, in one pass that also sums the
        // averages (in function order, as a sum over them in that order would).
        self.order.clear();
        let mut sum = -0.0f64;
        for (f, &v) in self.iat_s.iter().enumerate() {
            if !v.is_nan() {
                debug_assert!(v >= 0.0 && v.is_sign_positive());
                sum += v;
                self.order.push((v.to_bits() as u128) << 32 | f as u128);
            }
        }
        let known = self.order.len();
        let mean_iat = sum / known as f64;
        self.arrival_rate = 1.0 / mean_iat;
        if !self.arrival_rate.is_finite() {
            self.arrival_rate = 1.0;
        }
        let take = (self.popular_fraction * self.seen_fns as f64).round() as usize;
        // The popular set is the first `take` of a strict order (shortest average first,
        // ties by id): a selection finds the same set as the controller's full sort, in
        // linear time (a sort of every function every refresh was most of a run's time),
        // and on integer keys.
        if take > 0 && take < self.order.len() {
            self.order.select_nth_unstable(take - 1);
        }
        for &f in &self.popular_ids {
            self.popular[f as usize] = false;
        }
        self.popular_ids.clear();
        for &k in self.order.iter().take(take) {
            let f = k as u32;
            self.popular[f as usize] = true;
            self.popular_ids.push(f);
        }
        let p = self.refresh.as_micros().max(1);
        self.next_refresh = SimTime::ZERO + SimDuration((now.as_micros() / p + 1) * p);
    }
}

impl Default for ChRlu {
    fn default() -> Self {
        Self::new(3, 4, 1.4, 0.2, SimDuration::from_secs(2))
    }
}

impl LoadBalancer for ChRlu {
    fn select(&mut self, r: &RequestView, c: &ClusterView, rng: &mut PolicyRng) -> WorkerId {
        let n = c.worker_count();
        let now = c.now();
        if !matches!(&self.ring, Some(ring) if ring.workers() == n) {
            self.ring = Some(Ring::new(n, self.virtual_nodes));
            self.loadavg = vec![0.0; n];
            self.last_area = vec![0; n];
            self.seen = vec![0.0; n];
        }
        let f = r.function.index();
        if self.chains.len() <= f {
            self.chains.resize(f + 1, Vec::new());
            self.last_arrival.resize(f + 1, None);
            self.iat_s.resize(f + 1, f64::NAN);
            self.popular.resize(f + 1, false);
        }
        if r.id.is_some() {
            if let Some(last) = self.last_arrival[f] {
                let iat = (now - last).as_secs_f64();
                let avg = &mut self.iat_s[f];
                *avg = if avg.is_nan() {
                    iat
                } else {
                    *avg * 0.9 + iat * 0.1
                };
            }
            if self.last_arrival[f].is_none() {
                self.seen_fns += 1;
            }
            self.last_arrival[f] = Some(now);
        }
        self.age_loads(c);
        if now >= self.next_refresh {
            self.refresh(c);
        }
        if self.chains[f].is_empty() {
            let ring = self.ring.as_ref().expect("built above");
            self.chains[f] = ring.distinct(Ring::key(r.name), self.chain_length as usize);
        }
        let home = self.chains[f][0];
        if !self.popular[f] {
            return home;
        }
        for i in 0..self.chains[f].len() {
            let w = self.chains[f][i];
            let cores = c.worker(w).cores as f64;
            let noise = Normal::new(self.arrival_rate / cores, 0.1)
                .map(|d| d.sample(rng))
                .unwrap_or(0.0);
            if self.seen[w.index()] + noise <= self.load_bound {
                self.seen[w.index()] += noise;
                return w;
            }
        }
        home
    }
}
