//! Least-loaded placement: the worker with the lowest memory utilisation (memory held by
//! instances / capacity) that fits (ties: lowest id). Spreads instances evenly. Load is
//! measured in memory because that is what instances hold for their whole life; it changes
//! only when instances are created or evicted, so the index costs nothing per execution.
//!
//! "Least-loaded" here is a property of a **worker**: its memory utilisation,
//! `used_mb / memory_mb`. It is not what `least-loaded` *routing*
//! ([`LeastLoadedRouting`](crate::routing::LeastLoadedRouting)) means: there, load is the
//! number of running executions of one warm **instance**. The two can be combined freely.
//!
//! Source: the load-balancing baseline of sending work to the least utilised server, here
//! with memory as the utilisation (as Kubernetes' `LeastAllocated` node scoring does for
//! requested resources). The same order is the fallback of `power-of-two` and `ch-rlu`.
//!
//! Parameters: none. Cost per decision: O(log W) (an ordered set of workers by
//! utilisation) unless the least-utilised workers cannot fit the instance.

use faasim_sim::{ClusterView, FunctionView, GpuCandidate, Placement, PolicyRng, WorkerId};

/// `least-loaded` placement (the default): the worker with the lowest **memory
/// utilisation** (MB held by starting, busy and idle instances / MB of capacity) that has
/// room, ties to the lowest id. No parameters; O(log W) per decision.
///
/// Not to be confused with `least-loaded` routing,
/// [`LeastLoadedRouting`](crate::routing::LeastLoadedRouting), which picks the warm
/// instance with the fewest running executions.
#[derive(Debug, Default, Clone)]
pub struct LeastLoaded;

impl Placement for LeastLoaded {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.least_loaded(f.memory_mb)
    }

    /// Model serving: the GPU worker with the lowest GPU utilisation (GPUs taken over
    /// GPUs), ties to the lowest id.
    fn place_gpu(
        &mut self,
        _: &FunctionView,
        cands: &[GpuCandidate],
        _: &ClusterView,
        _: &mut PolicyRng,
    ) -> Option<WorkerId> {
        super::least_gpu_loaded(cands.iter().copied())
    }
}
