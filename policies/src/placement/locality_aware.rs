//! Locality-aware placement for model serving: ServerlessLLM's startup-time-optimized model
//! scheduling (Fu et al., "ServerlessLLM: Low-Latency Serverless Inference for Large
//! Language Models", OSDI'24, §6), as its scheduler implements it
//! (`ServerlessLLM/ServerlessLLM`, `sllm/serve/schedulers/storage_aware_scheduler.py`, commit
//! 3382d165: `schedule` and `_get_model_loading_time`).
//!
//! For every server with enough free GPUs the scheduler estimates the model's loading time
//! where it is: `size / pcie_bandwidth` when the checkpoint is in the server's pinned DRAM
//! pool, else `node_waiting_time + size / disk_bandwidth`, where `node_waiting_time` is what
//! the loading tasks already queued on that server still take; it sorts the options by
//! `(latency, node_id)` and takes the first. Here each [`GpuCandidate`] carries that
//! estimate: `queue` (the wait for the worker's loading link, zero from DRAM) plus `load`
//! (the transfer from the fastest tier holding the model: DRAM, SSD or remote storage,
//! sequential or pipelined as the worker loads); the policy takes the smallest, ties to the
//! lowest worker id.
//!
//! Knowing differences: ServerlessLLM's code skips servers without a local checkpoint
//! (downloads are "difficult to estimate"); the paper's estimator covers remote storage and
//! so does this one, with the worker's `storage_mb_per_s`. Live migration of running
//! inferences (§5, `enable_migration`) is not modelled: with no GPU free anywhere the engine
//! offers the workers where evicting an idle instance frees one, and the policy takes the
//! best of those by the same estimate (the evicted instance is that worker's least recently
//! used idle one). For functions that serve no model it places as `least-loaded` does (the
//! paper schedules models only).
//!
//! Parameters: none. Cost per decision: O(W) over the candidate GPU workers (the engine
//! builds the candidates, O(W × models cached per worker)); O(log W) for other functions.

use faasim_sim::{ClusterView, FunctionView, GpuCandidate, Placement, PolicyRng, WorkerId};

/// `locality-aware` placement (ServerlessLLM, OSDI'24 §6): the GPU worker with the least
/// estimated queueing plus loading time for the model, ties to the lowest id; functions
/// without a model go to the least memory-utilised worker. No parameters.
#[derive(Debug, Default, Clone)]
pub struct LocalityAware;

impl Placement for LocalityAware {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        c.least_loaded(f.memory_mb)
    }

    fn place_gpu(
        &mut self,
        _: &FunctionView,
        cands: &[GpuCandidate],
        _: &ClusterView,
        _: &mut PolicyRng,
    ) -> Option<WorkerId> {
        choose(cands)
    }
}

/// The candidate with the least estimated queueing plus loading time, ties to the lowest
/// worker id (ServerlessLLM's sort by `(latency, node_id)`).
pub fn choose(cands: &[GpuCandidate]) -> Option<WorkerId> {
    cands
        .iter()
        .min_by_key(|x| (x.startup(), x.worker))
        .map(|x| x.worker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_sim::{SimDuration, Tier};

    fn cand(w: u32, tier: Tier, queue_ms: u64, load_ms: u64) -> GpuCandidate {
        GpuCandidate {
            worker: WorkerId(w),
            gpus: 4,
            free_gpus: 1,
            tier,
            queue: SimDuration::from_ms(queue_ms),
            load: SimDuration::from_ms(load_ms),
            reclaim: false,
        }
    }

    /// ServerlessLLM's example (§6): a checkpoint in one server's DRAM loads faster there
    /// than from another server's SSD, unless that server's queue of loads is long; here
    /// worker 2 has the model in DRAM (0.5 s), worker 1 on SSD behind 3 s of queued loads
    /// (3 + 4 s), worker 0 only remotely (10 s).
    #[test]
    fn takes_the_least_queueing_plus_loading_time() {
        let c = [
            cand(0, Tier::Remote, 0, 10_000),
            cand(1, Tier::Ssd, 3_000, 4_000),
            cand(2, Tier::Dram, 0, 500),
        ];
        assert_eq!(choose(&c), Some(WorkerId(2)));
        // With the DRAM copy gone, SSD behind its queue (7 s) still beats remote (10 s).
        assert_eq!(choose(&c[..2]), Some(WorkerId(1)));
        // Equal estimates: the lowest id.
        let tie = [
            cand(3, Tier::Ssd, 0, 4_000),
            cand(1, Tier::Ssd, 1_000, 3_000),
        ];
        assert_eq!(choose(&tie), Some(WorkerId(1)));
    }
}
