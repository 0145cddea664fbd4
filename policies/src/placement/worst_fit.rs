//! Worst-fit placement: the worker with the most free memory (ties: lowest id), if the
//! instance fits there. Spreads instances like least-loaded, but by absolute free memory
//! rather than utilisation, so on a heterogeneous cluster the big workers fill first. A
//! classic bin-packing heuristic (Johnson, "Near-optimal bin packing algorithms", MIT
//! PhD thesis, 1973); also CloudSim's `VmAllocationPolicyWorstFit`.
//!
//! Parameters: none. Cost per decision: O(log W) (an ordered set of workers by free memory).

use faasim_sim::{ClusterView, FunctionView, GpuCandidate, Placement, PolicyRng, WorkerId};

/// `worst-fit` placement: the worker with the most free memory (MB), ties to the lowest id,
/// if the instance fits there (Johnson 1973); no parameters; O(log W) per decision. Unlike
/// [`LeastLoaded`](super::LeastLoaded), it compares absolute free MB, not utilisation.
#[derive(Debug, Default, Clone)]
pub struct WorstFit;

impl Placement for WorstFit {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.worst_fit(f.memory_mb)
    }

    /// Model serving: the GPU worker with the most free GPUs, then the most free memory,
    /// ties to the lowest id.
    fn place_gpu(
        &mut self,
        _: &FunctionView,
        cands: &[GpuCandidate],
        c: &ClusterView,
        _: &mut PolicyRng,
    ) -> Option<WorkerId> {
        cands
            .iter()
            .min_by_key(|x| {
                (
                    std::cmp::Reverse((x.free_gpus, c.worker(x.worker).free_mb)),
                    x.worker,
                )
            })
            .map(|x| x.worker)
    }
}
