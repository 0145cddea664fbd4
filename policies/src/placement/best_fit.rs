//! Best-fit placement: the worker whose free memory is the smallest that still fits (ties:
//! lowest id). Leaves large holes for large functions. The classic bin-packing heuristic
//! (Johnson, "Near-optimal bin packing algorithms", MIT PhD thesis, 1973).
//!
//! Parameters: none. Cost per decision: O(log W) (an ordered set of workers by free memory).

use faasim_sim::{ClusterView, FunctionView, GpuCandidate, Placement, PolicyRng, WorkerId};

/// `best-fit` placement: the worker with the least free memory (MB) that still fits the
/// instance, ties to the lowest id, so large holes stay free for large functions
/// (Johnson 1973); no parameters; O(log W) per decision.
#[derive(Debug, Default, Clone)]
pub struct BestFit;

impl Placement for BestFit {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.best_fit(f.memory_mb)
    }

    /// Model serving: the GPU worker with the fewest free GPUs, then the least free memory
    /// (packing GPUs as memory is packed), ties to the lowest id.
    fn place_gpu(
        &mut self,
        _: &FunctionView,
        cands: &[GpuCandidate],
        c: &ClusterView,
        _: &mut PolicyRng,
    ) -> Option<WorkerId> {
        cands
            .iter()
            .min_by_key(|x| (x.free_gpus, c.worker(x.worker).free_mb, x.worker))
            .map(|x| x.worker)
    }
}
