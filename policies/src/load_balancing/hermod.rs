//! Hermod's load balancing (Kaffes, Yadwadkar, Kozyrakis, "Hermod: Principled and Practical
//! Scheduling for Serverless Functions", SoCC 2022, doi 10.1145/3542929.3563468: "improves
//! consolidation at low load, employs least-loaded balancing at high load", locality-aware).
//! The concrete rules follow the reimplementation in the dslab-faas simulator, which cites
//! the paper (osukhoroslov/dslab at a6c155e, `crates/dslab-faas/src/extra/hermod.rs`,
//! `HermodScheduler::select_host`, and `scheduler.rs`, `LeastLoadedScheduler`), with the
//! options of its scheduling experiment (`examples/faas-scheduling-experiment/config.yaml`:
//! `prefer_warm=false, use_invocation_count=true, avoid_queueing=true`).
//!
//! Hermod's other ingredients, early binding and processor sharing on each server, are how
//! the engine works (a request is bound at once; `cpu = "processor-sharing"`).
//!
//! **Load** of a worker is its requests (`load = "requests"`, dslab's invocation count:
//! running plus queued there, [`WorkerView::assigned`]) or its running executions
//! (`load = "executing"`, dslab's CPU load with one core per execution). A worker is *below
//! the threshold* while its load is below its cores.
//!
//! **Low load** (some worker is below the threshold): among the workers below it, the one
//! with the highest priority, ties by lowest id:
//! - 3: non-empty (it has requests: running or queued) and holds a warm instance of the
//!   function (ready, with a free slot);
//! - 2: non-empty, no warm instance, and (with `avoid_queueing`) room for a new instance
//!   (free memory plus its idle instances' memory);
//! - 1: empty, with a warm instance;
//! - 0: empty, no warm instance, and (with `avoid_queueing`) room.
//!
//! So requests pack onto the lowest-numbered busy workers until their cores are taken, and
//! an empty worker is opened only when no busy one qualifies.
//!
//! **High load** (no worker qualifies): dslab's least-loaded choice: the worker with the
//! lowest load, preferring (with `avoid_queueing`) workers where the request would not queue
//! (a warm instance or room) and (with `prefer_warm`) breaking load ties toward a worker with
//! a warm instance; ties by lowest id. The request goes there even without a warm instance
//! or room (it then starts an instance or queues there). dslab compares the no-queueing
//! token and the load with a disjunction (`token > best || load < best`), which lets a lower
//! load beat the token; here the token strictly comes first, as its doc comment ("strictly
//! prefer hosts where the request won't get queued") says.
//!
//! Parameters: `load` (`"requests"`), `prefer_warm` (false), `avoid_queueing` (true). Cost
//! per decision: O(W), one O(1) warm-instance lookup per worker.
//!
//! [`WorkerView::assigned`]: faasim_sim::WorkerView::assigned

use faasim_sim::{ClusterView, LoadBalancer, PolicyRng, RequestView, WorkerId, WorkerView};
use serde::{Deserialize, Serialize};

/// What Hermod's load counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HermodLoad {
    /// Requests on the worker, running or queued (the default).
    Requests,
    /// Running executions.
    Executing,
}

/// `hermod` load balancing (Kaffes et al., SoCC'22, as in dslab-faas): pack onto busy
/// workers below their cores, else least loaded. O(W) per decision.
#[derive(Debug, Clone)]
pub struct Hermod {
    load: HermodLoad,
    prefer_warm: bool,
    avoid_queueing: bool,
}

impl Hermod {
    /// The balancer with its options (see the module docs).
    pub fn new(load: HermodLoad, prefer_warm: bool, avoid_queueing: bool) -> Self {
        Hermod {
            load,
            prefer_warm,
            avoid_queueing,
        }
    }

    fn load_of(&self, v: &WorkerView) -> u32 {
        match self.load {
            HermodLoad::Requests => v.assigned,
            HermodLoad::Executing => v.executing,
        }
    }
}

impl Default for Hermod {
    fn default() -> Self {
        Self::new(HermodLoad::Requests, false, true)
    }
}

impl LoadBalancer for Hermod {
    fn select(&mut self, r: &RequestView, c: &ClusterView, _: &mut PolicyRng) -> WorkerId {
        let mut best: Option<(i32, WorkerId)> = None;
        for i in 0..c.worker_count() {
            let w = WorkerId(i as u32);
            let v = c.worker(w);
            if self.load_of(&v) >= v.cores {
                continue;
            }
            // Only a strictly higher priority replaces the best so far: skip the warm
            // lookup where it cannot, and stop at the first worker of the highest (the
            // same choice as the full scan).
            let best_p = best.map_or(-1, |(p, _)| p);
            if best_p >= if v.assigned > 0 { 3 } else { 1 } {
                continue;
            }
            let warm = c.has_warm_on(r.function, w);
            let room = !self.avoid_queueing || v.free_mb + v.idle_mb >= r.memory_mb;
            let priority = match (v.assigned > 0, warm, room) {
                (true, true, _) => 3,
                (true, false, true) => 2,
                (false, true, _) => 1,
                (false, false, true) => 0,
                _ => continue,
            };
            if best.is_none_or(|(p, _)| priority > p) {
                best = Some((priority, w));
                if priority == 3 {
                    break;
                }
            }
        }
        if let Some((_, w)) = best {
            return w;
        }
        // High load: least loaded, no-queueing first, warm on ties if asked.
        let mut pick = (WorkerId(0), (false, u32::MAX), false);
        for i in 0..c.worker_count() {
            let w = WorkerId(i as u32);
            let v = c.worker(w);
            let warm = c.has_warm_on(r.function, w);
            let token = self.avoid_queueing && (warm || v.free_mb + v.idle_mb >= r.memory_mb);
            let load = self.load_of(&v);
            let (best_token, best_load) = pick.1;
            let better = (token && !best_token) || (token == best_token && load < best_load);
            let tie_warm =
                token == best_token && load == best_load && self.prefer_warm && !pick.2 && warm;
            if better || tie_warm {
                pick = (w, (token, load), self.prefer_warm && warm);
            }
        }
        pick.0
    }
}
