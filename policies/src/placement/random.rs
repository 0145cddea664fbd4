//! Random placement: a worker drawn uniformly from the policy's stream; if it has no room,
//! the next worker with room after it (cyclically), so a fitting worker is always found
//! when one exists. The usual baseline of load-balancing studies (`power-of-two` with
//! `d = 1`, Mitzenmacher, TPDS 2001, but with a next-fit rather than least-loaded fallback).
//!
//! Parameters: none. Cost per decision: one `rng.below(W)` draw and O(log W).

use faasim_sim::{ClusterView, FunctionView, GpuCandidate, Placement, PolicyRng, WorkerId};

/// `random` placement: a uniformly drawn worker, or the next one with room after it
/// (cyclically); no parameters; one random draw and O(log W) per decision.
#[derive(Debug, Default, Clone)]
pub struct RandomPlacement;

impl Placement for RandomPlacement {
    fn place(
        &mut self,
        f: &FunctionView,
        c: &ClusterView,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let start = WorkerId(rng.below(c.worker_count() as u64) as u32);
        c.next_fit(start, f.memory_mb)
    }

    /// Model serving: a candidate GPU worker drawn uniformly (one draw), wherever the
    /// model resides: the baseline locality-aware placement is compared with.
    fn place_gpu(
        &mut self,
        _: &FunctionView,
        cands: &[GpuCandidate],
        _: &ClusterView,
        rng: &mut PolicyRng,
    ) -> Option<WorkerId> {
        let k = rng.below(cands.len() as u64) as usize;
        cands.get(k).map(|x| x.worker)
    }
}
