//! Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent
//! Hashing with Bounded Loads", SODA 2018: bins of capacity ⌈(1+ε)·m/n⌉ for m balls in n
//! bins, each ball to the first non-full bin clockwise from its hash; the scheme behind
//! HAProxy's `hash-balance-factor`).
//!
//! Workers sit on a hash ring with `virtual_nodes` points each ([`Ring`]); a function's name
//! hashes to a key on the same ring. A new instance walks clockwise from the key and goes to
//! the first worker that is *under the bound* and has room for it. With `m` live instances
//! after this placement (the new one included) and `W` workers, the bound is the paper's
//! capacity `C = ⌈(1 + ε)·m / W⌉` and a worker is under it while its own instance count
//! after the placement would not exceed it: `instances + 1 ≤ C`. *Load* is the number of
//! live instances (starting, busy or idle) on a worker, [`WorkerView::instances`]; the
//! cluster total is [`ClusterView::live_instances`], O(1).
//!
//! Since `W·C ≥ (1 + ε)·m > m − 1`, some worker is always under the bound; memory is the only
//! reason a walk can fail. Then the policy takes the first worker on the walk with room,
//! ignoring the bound (keeping as much locality as memory allows), and returns `None` only
//! if no worker has room (the engine then reclaims idle instances, then queues or drops).
//! The bound is checked when an instance is placed; evictions elsewhere can later leave a
//! worker above the bound of the smaller `m`, as in the paper's dynamic setting where only
//! insertions move balls.
//!
//! A function's instances stay on the same worker (its successor on the ring) while that
//! worker is under the bound, which is what makes warm starts and cached images likely.
//!
//! Parameters: `virtual_nodes` (points per worker, default 100), `epsilon` (ε ≥ 0, default
//! 0.25: capacity 25% above the average).
//!
//! Cost per decision: O(log(W·V)) to find the key's successor, plus O(1) per ring point
//! walked past (workers seen before are skipped with an epoch-stamped mark); typically a few
//! points, O(W·V) in the worst case. The ring is built on the first call, when the worker
//! count is known: O(W·V·log(W·V)) once.
//!
//! [`WorkerView::instances`]: faasim_sim::WorkerView::instances

use crate::hash::{Marks, Ring};
use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

/// `consistent-hashing-bounded` placement (Mirrokni, Thorup, Zadimoghaddam, SODA'18): walk
/// the hash ring clockwise from the function's key to the first worker with room whose
/// live-instance count stays within ⌈(1 + ε)·m / W⌉, so a function's instances stay on
/// few workers (warm starts) without overloading any. Parameters and defaults:
/// `virtual_nodes` 100, `epsilon` 0.25. O(log(W·V)) plus O(1) per ring point walked.
#[derive(Debug, Clone)]
pub struct ConsistentHashingBounded {
    virtual_nodes: u32,
    epsilon: f64,
    ring: Option<Ring>,
    marks: Marks,
}

impl ConsistentHashingBounded {
    /// The policy with `virtual_nodes` ring points per worker and slack `epsilon` (≥ 0)
    /// over the average instance count. A zero `virtual_nodes` is taken as 1 (the spec
    /// rejects it).
    pub fn new(virtual_nodes: u32, epsilon: f64) -> Self {
        ConsistentHashingBounded {
            virtual_nodes: virtual_nodes.max(1),
            epsilon,
            ring: None,
            marks: Marks::default(),
        }
    }
}

impl Default for ConsistentHashingBounded {
    fn default() -> Self {
        Self::new(100, 0.25)
    }
}

/// The paper's capacity `⌈(1 + ε)·m / W⌉` for `m` balls in `W` bins (at least 1 for m ≥ 1).
pub fn capacity(epsilon: f64, m: u64, workers: usize) -> u64 {
    ((1.0 + epsilon) * m as f64 / workers as f64).ceil() as u64
}

impl Placement for ConsistentHashingBounded {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        let n = c.worker_count();
        if !matches!(&self.ring, Some(r) if r.workers() == n) {
            self.ring = Some(Ring::new(n, self.virtual_nodes));
        }
        let ring = self.ring.as_ref()?;
        let cap = capacity(self.epsilon, c.live_instances() + 1, n);
        self.marks.reset(n);
        let mut first_with_room = None;
        let mut seen = 0;
        for w in ring.clockwise(Ring::key(f.name)) {
            if !self.marks.insert(w) {
                continue;
            }
            let v = c.worker(w);
            if v.free_mb >= f.memory_mb {
                // instances + 1 <= cap: still within the bound after this placement.
                if (v.instances as u64) < cap {
                    return Some(w);
                }
                first_with_room.get_or_insert(w);
            }
            seen += 1;
            if seen == n {
                break;
            }
        }
        first_with_room
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
