//! Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent
//! Hashing with Bounded Loads", SODA 2018: bins of capacity ⌈(1+ε)·m/n⌉ for m balls in n
//! bins, each ball to the first non-full bin clockwise from its hash), as a per-request load
//! balancer: the scheme behind HAProxy's `hash-balance-factor` and Vimeo's use of it, where
//! the balls are the requests in flight.
//!
//! Workers sit on a hash ring with `virtual_nodes` points each ([`Ring`]); a function's name
//! hashes to a key on the same ring. A request walks clockwise from the key and goes to the
//! first worker *under the bound*. With `m` units of load after this request (the request
//! included) and `W` workers, the bound is the paper's capacity `C = ⌈(1 + ε)·m / W⌉`, and a
//! worker is under it while its own load after the request would not exceed it:
//! `load + 1 ≤ C`.
//!
//! *Load* is, by default (`load = "requests"`), the requests in flight on the worker
//! ([`WorkerView::assigned`]: queued there, starting or running), as HAProxy counts active
//! connections; the cluster total is [`ClusterView::assigned_requests`], O(1). With
//! `load = "instances"` it is the live instances on the worker (starting, busy or idle),
//! so idle warm instances count too.
//!
//! Since `W·C ≥ (1 + ε)·m ≥ m`, some worker is always under the bound, so the walk always
//! ends; memory plays no part in the choice: a worker without room queues the request, as a
//! server behind such a balancer would. A function's requests stay on the same worker (its
//! successor on the ring) while that worker is under the bound, which is what makes warm
//! starts likely.
//!
//! Parameters: `virtual_nodes` (points per worker, default 100), `epsilon` (ε ≥ 0, default
//! 0.25: capacity 25% above the average), `load` (`"requests"` or `"instances"`).
//!
//! Cost per decision: O(1) per ring point walked past (workers seen before are skipped with
//! an epoch-stamped mark); typically a few points. The ring is built on the first call,
//! O(W·V·log(W·V)) once, and each function's key and successor point, O(log(W·V)), on its
//! first request.
//!
//! [`WorkerView::assigned`]: faasim_sim::WorkerView::assigned

use crate::hash::{Marks, Ring};
use faasim_sim::{ClusterView, LoadBalancer, PolicyRng, RequestView, WorkerId};
use serde::{Deserialize, Serialize};

/// What a worker's load counts (`load` of `consistent-hashing-bounded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BoundedLoad {
    /// Requests in flight on the worker (the default).
    Requests,
    /// Live instances on the worker, idle ones included.
    Instances,
}

/// `consistent-hashing-bounded` load balancing (Mirrokni, Thorup, Zadimoghaddam, SODA'18):
/// each request walks the hash ring clockwise from its function's key to the first worker
/// whose load stays within ⌈(1 + ε)·m / W⌉. Defaults: `virtual_nodes` 100, `epsilon`
/// 0.25, load = requests in flight. O(log(W·V)) plus O(1) per ring point walked.
#[derive(Debug, Clone)]
pub struct ConsistentHashingBounded {
    virtual_nodes: u32,
    epsilon: f64,
    load: BoundedLoad,
    ring: Option<Ring>,
    marks: Marks,
    /// Per function id, the index of its key's successor point on the ring (`u32::MAX`:
    /// not found yet): a function's key never moves, so it is hashed and searched once.
    starts: Vec<u32>,
}

impl ConsistentHashingBounded {
    /// The balancer with `virtual_nodes` ring points per worker (0 is taken as 1; the spec
    /// rejects it), slack `epsilon` (≥ 0) over the average load, and what load counts.
    pub fn new(virtual_nodes: u32, epsilon: f64, load: BoundedLoad) -> Self {
        ConsistentHashingBounded {
            virtual_nodes: virtual_nodes.max(1),
            epsilon,
            load,
            ring: None,
            marks: Marks::default(),
            starts: Vec::new(),
        }
    }
}

impl Default for ConsistentHashingBounded {
    fn default() -> Self {
        Self::new(100, 0.25, BoundedLoad::Requests)
    }
}

/// The paper's capacity `⌈(1 + ε)·m / W⌉` for `m` balls in `W` bins (at least 1 for m ≥ 1).
pub fn capacity(epsilon: f64, m: u64, workers: usize) -> u64 {
    ((1.0 + epsilon) * m as f64 / workers as f64).ceil() as u64
}

impl LoadBalancer for ConsistentHashingBounded {
    fn select(&mut self, r: &RequestView, c: &ClusterView, _: &mut PolicyRng) -> WorkerId {
        let n = c.worker_count();
        if !matches!(&self.ring, Some(ring) if ring.workers() == n) {
            self.ring = Some(Ring::new(n, self.virtual_nodes));
            self.starts.clear();
        }
        let ring = self.ring.as_ref().expect("built above");
        let f = r.function.index();
        if self.starts.len() <= f {
            self.starts.resize(f + 1, u32::MAX);
        }
        if self.starts[f] == u32::MAX {
            self.starts[f] = ring.successor(Ring::key(r.name)) as u32;
        }
        let start = self.starts[f] as usize;
        let total = match self.load {
            BoundedLoad::Requests => c.assigned_requests(),
            BoundedLoad::Instances => c.live_instances(),
        };
        let cap = capacity(self.epsilon, total + 1, n);
        self.marks.reset(n);
        for w in ring.clockwise_from(start) {
            if !self.marks.insert(w) {
                continue;
            }
            let v = c.worker(w);
            let load = match self.load {
                BoundedLoad::Requests => v.assigned as u64,
                BoundedLoad::Instances => v.instances as u64,
            };
            // load + 1 <= cap: still within the bound with this request.
            if load < cap {
                return w;
            }
        }
        // Unreachable while the loads add up to `total` (W·C ≥ m); the key's successor
        // otherwise.
        ring.clockwise_from(start).next().unwrap_or(WorkerId(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_the_ceiling_of_the_inflated_average() {
        assert_eq!(capacity(0.25, 1, 5), 1);
        assert_eq!(capacity(0.25, 5, 4), 2); // 1.5625
        assert_eq!(capacity(0.25, 8, 5), 2); // exactly 2.0
        assert_eq!(capacity(0.0, 9, 3), 3);
        assert_eq!(capacity(0.0, 10, 3), 4);
    }
}
