//! Apache OpenWhisk's load balancer: the `ShardingContainerPoolBalancer` (apache/openwhisk at
//! 1fae641, `core/controller/src/main/scala/org/apache/openwhisk/core/loadBalancer/
//! ShardingContainerPoolBalancer.scala`: the class comment "Algorithm", `generateHash`,
//! `pairwiseCoprimeNumbersUntil` and `schedule` in its companion object, and
//! `ShardingContainerPoolBalancerState.updateInvokers`), as a per-request load balancer.
//!
//! **Invoker pool.** Ordinary (managed) actions use the first `ceil(managed_fraction × n)`
//! invokers (at least 1): OpenWhisk's `managedFraction`, 90% by default, with the remaining
//! `blackboxFraction` (10%) reserved for blackbox (Docker) actions. Traces carry no blackbox
//! actions, so the other invokers serve nothing: OpenWhisk's random choice on overload is
//! among the managed invokers too.
//!
//! **Home and step.** Each function has a *home invoker* `hash mod m` (m managed invokers)
//! and a *step size* chosen by the same hash from the step sizes of `m`:
//! `steps[hash mod steps.len()]`. The invokers are probed in the order home, home + step,
//! home + 2·step, … (mod m). The step is coprime to `m`, so the probe visits every managed
//! invoker once. [`probe_order`] is that order as a pure function.
//!
//! **Capacity** is the controller's per-invoker semaphore: the memory of the activations
//! sent to the invoker and not yet completed ([`WorkerView::assigned_mb`]) plus the
//! function's memory must not exceed the invoker's memory. Idle containers do not count:
//! the invoker evicts its own idle containers to make room (the engine does that on the
//! chosen worker), so the first probed invoker whose semaphore has room takes the request.
//!
//! **Overload.** When no managed invoker has room, OpenWhisk picks a random healthy
//! invoker (`ThreadLocalRandom`, here one `rng.below(m)` draw from the balancer's stream)
//! and force-acquires its semaphore; the request waits in that invoker's queue until its
//! container pool has room.
//!
//! Step sizes are OpenWhisk's `pairwiseCoprimeNumbersUntil(m)`: walking 1..=m, keep each
//! number coprime to `m` *and* to every number kept so far. For m = 10 that is [1, 3, 7]
//! (9 is coprime to 10 but not to 3). It matters which list is used: the step is picked by
//! index.
//!
//! Differences from OpenWhisk, forced by the model:
//! - The hash is 64-bit FNV-1a of the function's name (see [`crate::hash::fnv1a64`]), not
//!   Java's `(namespace.hashCode ^ action.hashCode).abs`: traces carry no namespaces, and
//!   the hash must be stable across platforms.
//! - One controller: OpenWhisk gives each of its controllers `userMemory / controllers` of
//!   every invoker's semaphore.
//! - Every invoker is healthy, and a request counts its function's whole memory even with
//!   instance concurrency above 1 (OpenWhisk's `NestedSemaphore` lets up to
//!   `maxConcurrent` activations share one container's memory).
//!
//! Parameters: `managed_fraction` (default 0.9, in (0, 1]). Cost per decision: O(m) in the
//! worst case (one O(1) semaphore check per probed invoker), O(1) when the home invoker has
//! room; the step sizes are computed once per run (O(m log log m), a sieve) and the hash is
//! O(length of the name).
//!
//! [`WorkerView::assigned_mb`]: faasim_sim::WorkerView::assigned_mb

use crate::hash::fnv1a64;
use faasim_sim::{ClusterView, LoadBalancer, PolicyRng, RequestView, WorkerId};

/// OpenWhisk's sharding load balancer; see the module docs.
#[derive(Debug, Clone)]
pub struct OpenWhisk {
    managed_fraction: f64,
    /// Step sizes for `m` managed invokers, computed on first use.
    steps: Vec<usize>,
    m: usize,
    n: usize,
}

impl OpenWhisk {
    /// The balancer with `managed_fraction` of the invokers serving ordinary actions.
    pub fn new(managed_fraction: f64) -> Self {
        OpenWhisk {
            managed_fraction,
            steps: Vec::new(),
            m: 0,
            n: 0,
        }
    }
}

impl Default for OpenWhisk {
    fn default() -> Self {
        Self::new(0.9)
    }
}

/// The number of managed invokers of `n`: `max(1, ceil(n × fraction))`, at most `n`.
pub fn managed_invokers(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).ceil() as usize).clamp(1, n.max(1))
}

#[cfg(test)]
fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// OpenWhisk's `pairwiseCoprimeNumbersUntil(n)`: the numbers of 1..=n coprime to `n` and to
/// each other, in increasing order. Empty for n = 0; `[1]` for n = 1.
///
/// OpenWhisk's greedy walk keeps exactly 1 and the primes below `n` that do not divide it
/// (a prime p ∤ n is coprime to n and to the smaller primes kept; a composite shares its
/// smallest prime factor q with n, or with q itself, kept earlier), so the list comes from a
/// sieve in O(n log log n) rather than the walk's O(n²/log n): a cluster of a million
/// workers gets its steps in milliseconds, not minutes.
pub fn step_sizes(n: usize) -> Vec<usize> {
    if n == 0 {
        return vec![];
    }
    let mut composite = vec![false; n + 1];
    let mut steps = vec![1];
    for p in 2..=n {
        if composite[p] {
            continue;
        }
        if !n.is_multiple_of(p) {
            steps.push(p);
        }
        let mut m = p.saturating_mul(p);
        while m <= n {
            composite[m] = true;
            m += p;
        }
    }
    steps
}

fn probe(hash: u64, n: usize, steps: &[usize]) -> impl Iterator<Item = usize> + '_ {
    let (home, step) = if n == 0 {
        (0, 0)
    } else {
        let home = (hash % n as u64) as usize;
        (home, steps[(hash % steps.len() as u64) as usize])
    };
    (0..n).map(move |i| (home + i * step) % n)
}

/// The order in which a function whose name hashes to `hash` probes `n` workers: home
/// `hash mod n`, then steps of `step_sizes(n)[hash mod step_sizes(n).len()]`. Visits each of
/// `0..n` exactly once.
pub fn probe_order(hash: u64, n: usize) -> impl Iterator<Item = usize> {
    let steps = step_sizes(n);
    probe(hash, n, &steps).collect::<Vec<_>>().into_iter()
}

impl LoadBalancer for OpenWhisk {
    fn select(&mut self, r: &RequestView, c: &ClusterView, rng: &mut PolicyRng) -> WorkerId {
        let n = c.worker_count();
        if self.n != n || self.steps.is_empty() {
            self.m = managed_invokers(n, self.managed_fraction);
            self.steps = step_sizes(self.m);
            self.n = n;
        }
        let hash = fnv1a64(r.name.as_bytes());
        let mb = r.memory_mb as u64;
        probe(hash, self.m, &self.steps)
            .map(|i| WorkerId(i as u32))
            .find(|&w| {
                let v = c.worker(w);
                v.assigned_mb + mb <= v.memory_mb as u64
            })
            .unwrap_or_else(|| WorkerId(rng.below(self.m as u64) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenWhisk's walk as written: keep each number coprime to `n` and to every one kept.
    fn step_sizes_by_walking(n: usize) -> Vec<usize> {
        let mut steps: Vec<usize> = Vec::new();
        for cur in 1..=n {
            if gcd(cur, n) == 1 && steps.iter().all(|&s| gcd(s, cur) == 1) {
                steps.push(cur);
            }
        }
        steps
    }

    #[test]
    fn the_sieve_gives_openwhisks_walk() {
        for n in 0..=1200 {
            assert_eq!(step_sizes(n), step_sizes_by_walking(n), "n = {n}");
        }
        let big = step_sizes(1_000_000);
        assert_eq!(big[..6], [1, 3, 7, 11, 13, 17]);
        assert_eq!(big.len(), 78_498 + 1 - 2); // primes below 10^6, less 2 and 5, plus 1
    }

    #[test]
    fn the_documented_example_probes_in_openwhisk_order() {
        // ShardingContainerPoolBalancer's own example: 10 invokers, hash 13 -> home 3,
        // step sizes [1, 3, 7], 13 mod 3 = 1 -> step 3.
        assert_eq!(step_sizes(10), vec![1, 3, 7]);
        let order: Vec<usize> = probe_order(13, 10).collect();
        assert_eq!(order, vec![3, 6, 9, 2, 5, 8, 1, 4, 7, 0]);
    }

    #[test]
    fn step_sizes_are_pairwise_coprime_and_coprime_to_n() {
        assert_eq!(step_sizes(0), Vec::<usize>::new());
        assert_eq!(step_sizes(1), vec![1]);
        assert_eq!(step_sizes(2), vec![1]);
        assert_eq!(step_sizes(12), vec![1, 5, 7, 11]);
        assert_eq!(step_sizes(9), vec![1, 2, 5, 7]);
        for n in 1..60 {
            let s = step_sizes(n);
            for (i, &a) in s.iter().enumerate() {
                assert_eq!(gcd(a, n), 1);
                for &b in &s[..i] {
                    assert_eq!(gcd(a, b), 1);
                }
            }
        }
    }

    #[test]
    fn ordinary_actions_use_the_first_ninety_percent() {
        // managed = max(1, ceil(n × 0.9)): 10 -> 9, 4 -> 4 (3.6 rounds up), 1 -> 1, 20 -> 18.
        assert_eq!(managed_invokers(10, 0.9), 9);
        assert_eq!(managed_invokers(4, 0.9), 4);
        assert_eq!(managed_invokers(1, 0.9), 1);
        assert_eq!(managed_invokers(20, 0.9), 18);
        assert_eq!(managed_invokers(3, 0.01), 1);
    }

    #[test]
    fn every_probe_order_is_a_permutation() {
        for n in 1..40 {
            for hash in [0u64, 1, 13, 977, u64::MAX, fnv1a64(b"thumbnail")] {
                let mut order: Vec<usize> = probe_order(hash, n).collect();
                assert_eq!(order[0], (hash % n as u64) as usize);
                order.sort_unstable();
                assert_eq!(order, (0..n).collect::<Vec<_>>(), "n {n} hash {hash}");
            }
        }
        assert_eq!(probe_order(5, 0).count(), 0);
    }
}
