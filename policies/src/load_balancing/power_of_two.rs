//! Power-of-d-choices load balancing (Mitzenmacher, "The Power of Two Choices in Randomized
//! Load Balancing", IEEE TPDS 12(10), 2001): each request samples `d` workers uniformly
//! (with replacement, `d` draws of `rng.below(W)`) and goes to the one with the fewest
//! requests in flight ([`WorkerView::assigned`]), ties to the first sampled. With d = 2 the
//! maximum load falls from Θ(log n / log log n) to Θ(log log n) over random choice.
//!
//! Parameters: `d` (default 2, >= 1). Cost per decision: O(d).
//!
//! [`WorkerView::assigned`]: faasim_sim::WorkerView::assigned

use faasim_sim::{ClusterView, FunctionId, LoadBalancer, PolicyRng, RequestView, WorkerId};

/// `power-of-two` load balancing: the least loaded of `d` uniformly sampled workers. O(d).
#[derive(Debug, Clone)]
pub struct PowerOfTwoBalancer {
    /// Workers sampled per request (>= 1).
    pub d: u32,
}

impl LoadBalancer for PowerOfTwoBalancer {
    fn select(&mut self, _: &RequestView, c: &ClusterView, rng: &mut PolicyRng) -> WorkerId {
        self.pick(c, rng)
    }

    fn guesses(&self) -> bool {
        true
    }

    /// The pick `ahead` calls on, from a copy of the stream and today's loads: exact in
    /// its draws, a guess only where the loads change in between.
    fn likely_worker(
        &self,
        ahead: u32,
        _: FunctionId,
        c: &ClusterView,
        rng: &PolicyRng,
    ) -> Option<WorkerId> {
        Some(self.pick(c, &mut rng.after_draws(ahead * self.d.max(1))))
    }
}

impl PowerOfTwoBalancer {
    /// The least loaded of `d` workers drawn uniformly (the first drawn among equals).
    fn pick(&self, c: &ClusterView, rng: &mut PolicyRng) -> WorkerId {
        let n = c.worker_count() as u64;
        let mut best: Option<(u32, WorkerId)> = None;
        for _ in 0..self.d.max(1) {
            let w = WorkerId(rng.below(n) as u32);
            let load = c.worker(w).assigned;
            if best.is_none_or(|(l, _)| load < l) {
                best = Some((load, w));
            }
        }
        best.map_or(WorkerId(0), |(_, w)| w)
    }
}
