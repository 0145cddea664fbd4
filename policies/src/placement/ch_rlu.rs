//! CH-RLU: consistent hashing with random load updates (Fuerst and Sharma, "Locality-aware
//! Load-Balancing For Serverless Clusters", HPDC 2022, doi 10.1145/3502181.3531459: the
//! CH-RLU design, bounded-load consistent hashing with forwarding, plus randomness for
//! popular functions detected as in caching). The mechanics and defaults follow the authors'
//! own implementation in the Ilúvatar controller (COS-IN/iluvatar-faas,
//! `iluvatar_controller_library/src/services/load_balance/balancers/ch_rlu.rs`: `vnodes = 3`,
//! `chain_len = 4`, load per core against `bounded_ceil`, top `popular_pct` functions by
//! inter-arrival time are popular).
//!
//! **Ring and chain.** Workers sit on a hash ring with `virtual_nodes` points each
//! ([`Ring`]); a function's name hashes onto it. The function's *forwarding chain* is the
//! first `chain_length` distinct workers clockwise from its key (all workers if there are
//! fewer). Repeated instances of a function therefore land on a handful of workers, where
//! its warm instances are.
//!
//! **Load bound.** A worker is *under the bound* when its running executions per core, at
//! the instant of the placement, are at most `load_bound`:
//! `executing ≤ load_bound × cores` ([`WorkerView::executing`]; instances still in their
//! cold start do not run yet and do not count). This is the simulator's exact counterpart of
//! the per-core load average the authors' load balancers compare against their
//! `bounded_ceil`; it is an absolute bound per worker, unlike the relative bound of
//! `consistent-hashing-bounded`. A candidate must also have room (`free_mb ≥ memory_mb`).
//!
//! **Popularity.** A placement only sees instance creations, not arrivals, so popularity is
//! measured on creations (cold starts and pre-warms), which is what placement load consists
//! of. Time is cut into windows of `popularity_window_s` seconds from t = 0. At the first
//! placement of each new window, the functions with at least one creation in the previous
//! window are ranked by their number of creations there (most first, ties by lowest function
//! id); the first `round(popular_fraction × F)` of them are *popular* for the new window,
//! where F is the number of functions this policy has placed so far. (The authors rank
//! functions by mean inter-arrival time and mark the top `popular_pct`, refreshed by a
//! background thread; the window count is the same idea on the signal a placement policy
//! has.) If the previous window saw no creation at all, nothing is popular. Before the first
//! window ends, nothing is popular.
//!
//! **Decision.** Among the chain workers under the bound with room:
//! - an unpopular function takes the first in chain order (locality, as plain consistent
//!   hashing);
//! - a popular function takes one uniformly at random (one `rng.below(k)` draw from the
//!   policy's stream), spreading its load over its chain. This is the *random load update*
//!   as this simulator models it: the authors perturb each chain worker's reported load by
//!   Gaussian noise before comparing it with the bound and update their stale load copy by
//!   the same noise, which also spreads a popular function over its chain; here loads are
//!   exact and current, so the randomness is applied to the choice directly.
//!
//! If no chain worker qualifies, the first chain worker with room takes the instance anyway
//! (the authors fall back to the home worker), else the least-utilised worker of the cluster
//! with room (as `least-loaded` placement), else `None` (the engine then reclaims idle
//! instances, then queues or drops).
//!
//! Parameters: `virtual_nodes` (default 3), `chain_length` (default 4), `load_bound`
//! (running executions per core, default 1.0: a worker whose cores are all busy still
//! accepts, one with more executions than cores does not), `popular_fraction` (default 0.2,
//! in [0, 1]), `popularity_window_s` (default 60 s, > 0).
//!
//! Cost per decision: O(chain_length); plus, once per function, O(log(W·V)) and a short
//! walk of the ring to build its chain; at most once per popularity window, O(F log F) to
//! re-rank F functions; and O(log W) for the least-loaded fallback. The ring is built on
//! the first call: O(W·V·log(W·V)) once.
//!
//! [`WorkerView::executing`]: faasim_sim::WorkerView::executing

use crate::hash::Ring;
use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, SimDuration, SimTime, WorkerId};

/// `ch-rlu` placement (Fuerst and Sharma, HPDC'22): a function's instances go to the first
/// worker of its forwarding chain on a consistent-hashing ring that is under the load bound
/// (running executions per core) and has room; popular functions spread at random over
/// their chain. Parameters and defaults: `virtual_nodes` 3, `chain_length` 4, `load_bound`
/// 1.0, `popular_fraction` 0.2, `popularity_window_s` 60. O(`chain_length`) per decision;
/// once per function O(log(W·V)) to build its chain, once per popularity window
/// O(F log F) to re-rank F functions.
#[derive(Debug, Clone)]
pub struct ChRlu {
    virtual_nodes: u32,
    chain_length: u32,
    /// Running executions per core above which a worker is skipped.
    load_bound: f64,
    popular_fraction: f64,
    /// Length of a popularity window (> 0).
    popularity_window: SimDuration,
    ring: Option<Ring>,
    /// Per function: its chain (empty until its first placement).
    chains: Vec<Vec<WorkerId>>,
    /// Per function: creations in the current window.
    created: Vec<u32>,
    /// Per function: popular during the current window.
    popular: Vec<bool>,
    /// Functions placed so far.
    placed_functions: u32,
    /// End of the current window (exclusive).
    window_end: SimTime,
    ranked: Vec<(u32, u32)>,
    eligible: Vec<WorkerId>,
}

impl ChRlu {
    /// The policy with these parameters (`load_bound` in running executions per core,
    /// `popular_fraction` in [0, 1], `popularity_window` > 0). A zero `virtual_nodes` or
    /// `chain_length` is taken as 1 (the spec rejects both).
    pub fn new(
        virtual_nodes: u32,
        chain_length: u32,
        load_bound: f64,
        popular_fraction: f64,
        popularity_window: SimDuration,
    ) -> Self {
        ChRlu {
            virtual_nodes: virtual_nodes.max(1),
            chain_length: chain_length.max(1),
            load_bound,
            popular_fraction,
            popularity_window,
            ring: None,
            chains: Vec::new(),
            created: Vec::new(),
            popular: Vec::new(),
            placed_functions: 0,
            window_end: SimTime(popularity_window.as_micros()),
            ranked: Vec::new(),
            eligible: Vec::new(),
        }
    }

    /// Closes the windows that ended by `now` and ranks the last one's creations.
    fn roll_window(&mut self, now: SimTime) {
        if now < self.window_end {
            return;
        }
        let p = self.popularity_window.as_micros().max(1);
        // The window containing `now` is [new_end - p, new_end).
        let new_end = (now.as_micros() / p).saturating_add(1).saturating_mul(p);
        self.popular.iter_mut().for_each(|x| *x = false);
        // The counts cover [window_end - p, window_end): the window just before `now`'s only
        // if no empty window lies in between; otherwise that window saw no creation.
        if self.window_end.as_micros() == new_end.saturating_sub(p) {
            self.ranked.clear();
            self.ranked.extend(
                self.created
                    .iter()
                    .enumerate()
                    .filter(|&(_, &n)| n > 0)
                    .map(|(f, &n)| (n, f as u32)),
            );
            self.ranked
                .sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let k = (self.popular_fraction * self.placed_functions as f64).round() as usize;
            for &(_, f) in self.ranked.iter().take(k) {
                self.popular[f as usize] = true;
            }
        }
        self.created.iter_mut().for_each(|x| *x = 0);
        self.window_end = SimTime(new_end);
    }
}

impl Default for ChRlu {
    fn default() -> Self {
        Self::new(3, 4, 1.0, 0.2, SimDuration::from_secs(60))
    }
}

impl Placement for ChRlu {
    fn place(
        &mut self,
        f: &FunctionView,
        c: &ClusterView,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let n = c.worker_count();
        if !matches!(&self.ring, Some(r) if r.workers() == n) {
            self.ring = Some(Ring::new(n, self.virtual_nodes));
            self.chains.iter_mut().for_each(Vec::clear);
            self.placed_functions = 0;
        }
        self.roll_window(c.now());
        let fi = f.id.index();
        if self.chains.len() <= fi {
            self.chains.resize(fi + 1, Vec::new());
            self.created.resize(fi + 1, 0);
            self.popular.resize(fi + 1, false);
        }
        if self.chains[fi].is_empty() {
            let ring = self.ring.as_ref()?;
            self.chains[fi] = ring.distinct(Ring::key(f.name), self.chain_length as usize);
            self.placed_functions += 1;
        }
        self.created[fi] += 1;

        let chain = &self.chains[fi];
        self.eligible.clear();
        self.eligible.extend(chain.iter().copied().filter(|&w| {
            let v = c.worker(w);
            v.free_mb >= f.memory_mb && v.executing as f64 <= self.load_bound * v.cores as f64
        }));
        if !self.eligible.is_empty() {
            let pick = if self.popular[fi] {
                rng.below(self.eligible.len() as u64) as usize
            } else {
                0
            };
            return Some(self.eligible[pick]);
        }
        chain
            .iter()
            .copied()
            .find(|&w| c.worker(w).free_mb >= f.memory_mb)
            .or_else(|| c.least_loaded(f.memory_mb))
    }
}
