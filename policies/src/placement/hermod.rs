//! Hermod's hybrid load balancing (Kaffes, Yadwadkar, Kozyrakis, "Hermod: Principled and
//! Practical Scheduling for Serverless Functions", SoCC 2022, doi 10.1145/3542929.3563468;
//! the design section on load balancing, summarised in the abstract: Hermod "improves
//! consolidation at low load, employs least-loaded balancing at high load" and is
//! locality-aware to reduce cold starts). The concrete rules below (a server is loaded once
//! its running functions reach its cores; four priority classes) follow the reimplementation
//! in the dslab-faas simulator, `crates/dslab-faas/src/extra/hermod.rs`, which cites the
//! paper.
//!
//! Hermod's other two ingredients, early binding and processor sharing on each server, are
//! how this engine always works (a request is bound to an instance at once;
//! `cpu = "processor-sharing"`), so only the load balancing is a placement policy.
//!
//! **Load** of a worker is its running executions per core, `executing / cores`
//! ([`WorkerView::executing`]): the CPU load Hermod balances on. A worker is *below the threshold* when
//! `executing < high_load × cores`.
//!
//! **Low load** (some worker with room is below the threshold): among the workers below the
//! threshold with room for the instance, take the one with the highest priority, ties by
//! lowest id:
//! - priority 3: non-empty (hosts at least one live instance) and hosts a warm instance of
//!   the function (a ready instance with a free slot, from `c.warm_instances(f)`);
//! - priority 2: non-empty;
//! - priority 1: empty but hosting a warm instance (cannot happen here: a warm instance is
//!   a live one; kept for fidelity to the reference);
//! - priority 0: empty.
//!
//! So instances pack onto the lowest-numbered workers already in use until their cores are
//! busy, and an empty worker is opened only when every used one is loaded or full.
//! *Non-empty* counts live instances (a worker holding a starting or idle instance is in
//! use), where dslab-faas counts running invocations: here an instance still in its cold
//! start already holds memory on its worker. The warm preference rarely decides anything in
//! this engine, since routing sends a request to a warm instance before placement is asked;
//! it matters for pre-warmed instances and for routing policies that choose cold starts.
//!
//! **High load** (every worker with room is at or above the threshold): the worker with
//! room and the least load, `executing / cores` compared exactly in integers, ties by lowest
//! id. This is Hermod's "least-loaded" by running executions per core; the `least-loaded`
//! placement policy ([`LeastLoaded`](super::LeastLoaded)) ranks workers by memory
//! utilisation instead. `None` if no worker has room (the engine then reclaims idle instances, then queues
//! or drops).
//!
//! Parameters: `high_load` (running executions per core at which a worker stops taking
//! packed instances, default 1.0: cores all busy, as in dslab-faas's reimplementation; > 0).
//!
//! Cost per decision: O(W + k) for W workers and k warm instances of the function. The load
//! changes at every execution start and end, and the engine keeps no index over it (its
//! worker indexes change only when instances are created or evicted), so the policy reads
//! every worker; an engine-maintained ordered set by `executing / cores` would make it
//! O(log W + k).
//!
//! [`WorkerView::executing`]: faasim_sim::WorkerView::executing

use crate::hash::Marks;
use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId, WorkerView};

/// `hermod` placement (Kaffes, Yadwadkar, Kozyrakis, SoCC'22): pack onto workers already
/// in use while they run fewer than `high_load` executions per core, else the worker with
/// the fewest running executions per core. O(W + k) per decision for W workers and k warm
/// instances of the function.
#[derive(Debug, Clone)]
pub struct Hermod {
    /// Running executions per core at which a worker stops taking packed instances (default
    /// 1.0: all cores busy; > 0).
    pub high_load: f64,
    warm: Marks,
}

impl Hermod {
    /// The policy with threshold `high_load` (running executions per core, > 0).
    pub fn new(high_load: f64) -> Self {
        Hermod {
            high_load,
            warm: Marks::default(),
        }
    }
}

impl Default for Hermod {
    fn default() -> Self {
        Self::new(1.0)
    }
}

/// Whether `a` runs fewer executions per core than `b` (exact), ties by lowest id.
fn less_busy(a: &WorkerView, b: &WorkerView) -> bool {
    let la = a.executing as u64 * b.cores as u64;
    let lb = b.executing as u64 * a.cores as u64;
    la < lb || (la == lb && a.id < b.id)
}

impl Placement for Hermod {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        let n = c.worker_count();
        self.warm.reset(n);
        for i in c.warm_instances(f.id) {
            self.warm.insert(c.instance(i).worker);
        }
        let mut packed: Option<(u8, WorkerId)> = None;
        let mut least: Option<WorkerView> = None;
        for w in (0..n as u32).map(WorkerId) {
            let v = c.worker(w);
            if v.free_mb < f.memory_mb {
                continue;
            }
            if (v.executing as f64) < self.high_load * v.cores as f64 {
                let priority = 2 * (v.instances > 0) as u8 + self.warm.contains(w) as u8;
                match packed {
                    Some((p, _)) if p >= priority => {}
                    _ => packed = Some((priority, w)),
                }
            } else {
                match least {
                    Some(l) if !less_busy(&v, &l) => {}
                    _ => least = Some(v),
                }
            }
        }
        packed.map(|(_, w)| w).or(least.map(|l| l.id))
    }
}
