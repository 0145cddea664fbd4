//! Power-of-d-choices placement (Mitzenmacher, "The Power of Two Choices in Randomized Load
//! Balancing", IEEE TPDS 12(10), 2001: each arrival goes to the least loaded of `d` servers
//! chosen independently and uniformly at random, which for d ≥ 2 cuts the maximum load
//! exponentially compared with d = 1).
//!
//! Draw `d` workers uniformly **with replacement** from the policy's random stream (as in the
//! paper; one draw of `rng.below(W)` each, so a run always consumes exactly `d` numbers per
//! decision). Among the sampled workers with room for the instance, take the least loaded:
//! *load* is memory utilisation `used_mb / memory_mb` (memory held by instances, starting,
//! busy or idle, over capacity), compared exactly by cross-multiplication in integers; ties
//! go to the lowest worker id. If none of the `d` has room, fall back to the least-loaded
//! worker of the whole cluster that fits (as `least-loaded` placement does), or `None` if
//! no worker fits (the engine then reclaims idle instances, then queues or drops).
//!
//! Parameters: `d` (default 2; `d = 1` is random placement with a least-loaded fallback,
//! `d ≥ 1` required).
//!
//! Cost per decision: O(d), plus O(log W) for the fallback when no sampled worker fits.

use faasim_sim::{
    ClusterView, FunctionView, GpuCandidate, Placement, PolicyRng, WorkerId, WorkerView,
};

/// `power-of-two` placement (Mitzenmacher, TPDS 2001): the least memory-utilised of `d`
/// workers drawn uniformly with replacement, falling back to the cluster's least-utilised
/// worker with room. O(d) per decision (O(log W) more for the fallback).
#[derive(Debug, Clone)]
pub struct PowerOfTwo {
    /// Workers sampled per decision (default 2, >= 1); exactly `d` random draws each.
    pub d: u32,
}

impl Default for PowerOfTwo {
    fn default() -> Self {
        PowerOfTwo { d: 2 }
    }
}

/// Whether `a` is less loaded than `b`: lower memory utilisation (`used_mb / memory_mb`,
/// compared exactly in integers), ties by lowest id. The order of `least-loaded`
/// placement.
pub fn less_loaded(a: &WorkerView, b: &WorkerView) -> bool {
    let la = a.used_mb as u64 * b.memory_mb as u64;
    let lb = b.used_mb as u64 * a.memory_mb as u64;
    la < lb || (la == lb && a.id < b.id)
}

/// The least-loaded of `sampled` with at least `mb` free (see [`less_loaded`]).
pub fn choose(sampled: impl IntoIterator<Item = WorkerView>, mb: u32) -> Option<WorkerId> {
    sampled
        .into_iter()
        .filter(|w| w.free_mb >= mb)
        .fold(None::<WorkerView>, |best, w| match best {
            Some(b) if !less_loaded(&w, &b) => Some(b),
            _ => Some(w),
        })
        .map(|w| w.id)
}

impl Placement for PowerOfTwo {
    fn place(
        &mut self,
        f: &FunctionView,
        c: &ClusterView,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let n = c.worker_count() as u64;
        // `choose` folds over every draw, so the stream advances by exactly `d`.
        let sampled = (0..self.d).map(|_| c.worker(WorkerId(rng.below(n) as u32)));
        choose(sampled, f.memory_mb).or_else(|| c.least_loaded(f.memory_mb))
    }

    /// Model serving: the least GPU-utilised of `d` candidate GPU workers drawn uniformly
    /// with replacement (exactly `d` draws), ties to the lowest id.
    fn place_gpu(
        &mut self,
        _: &FunctionView,
        cands: &[GpuCandidate],
        _: &ClusterView,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let n = cands.len() as u64;
        let sampled: Vec<GpuCandidate> =
            (0..self.d).map(|_| cands[rng.below(n) as usize]).collect();
        super::least_gpu_loaded(sampled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: u32, used_mb: u32, memory_mb: u32) -> WorkerView {
        WorkerView {
            id: WorkerId(id),
            memory_mb,
            used_mb,
            free_mb: memory_mb - used_mb,
            idle_mb: 0,
            cores: 1,
            instances: 0,
            executing: 0,
            exec_area_us: 0,
            assigned: 0,
            assigned_mb: 0,
            queued: 0,
            reserved_cpu_mb: 0,
        }
    }

    #[test]
    fn picks_the_less_utilised_of_the_pair() {
        assert_eq!(
            choose([w(3, 600, 1000), w(1, 200, 1000)], 100),
            Some(WorkerId(1))
        );
        assert_eq!(
            choose([w(1, 200, 1000), w(3, 600, 1000)], 100),
            Some(WorkerId(1))
        );
        // Utilisation, not absolute memory: 1000/4000 = 25% beats 300/1000 = 30%.
        assert_eq!(
            choose([w(0, 300, 1000), w(5, 1000, 4000)], 100),
            Some(WorkerId(5))
        );
    }

    #[test]
    fn ties_go_to_the_lowest_id_and_full_workers_are_skipped() {
        assert_eq!(
            choose([w(4, 500, 1000), w(2, 500, 1000)], 100),
            Some(WorkerId(2))
        );
        // The less loaded one has no room for 600 MB: take the other.
        assert_eq!(choose([w(0, 500, 1000), w(1, 0, 500)], 600), None);
        assert_eq!(
            choose([w(0, 300, 1000), w(1, 0, 500)], 600),
            Some(WorkerId(0))
        );
        // The same worker drawn twice.
        assert_eq!(choose([w(7, 10, 100), w(7, 10, 100)], 5), Some(WorkerId(7)));
    }
}
