//! Apache OpenWhisk's placement: the `ShardingContainerPoolBalancer` (OpenWhisk core
//! controller, `ShardingContainerPoolBalancer.scala`: the class comment "Algorithm", and
//! `generateHash`, `pairwiseCoprimeNumbersUntil` and `schedule` in its companion object).
//!
//! Each function has a *home invoker* `hash mod n` and a *step size* chosen by the same hash
//! from the step sizes of `n` workers: `steps[hash mod steps.len()]`. The workers are probed
//! in the order home, home + step, home + 2·step, … (mod n), and the first with capacity
//! takes the instance. The step is coprime to `n`, so the probe visits every worker exactly
//! once. [`probe_order`] is that order as a pure function.
//!
//! Step sizes are OpenWhisk's `pairwiseCoprimeNumbersUntil(n)`: walking 1..=n, keep each
//! number coprime to `n` *and* to every number kept so far. For n = 10 that is [1, 3, 7]
//! (9 is coprime to 10 but not to 3). It matters which list is used: the step is picked by
//! index.
//!
//! Differences from OpenWhisk, all forced by the model:
//! - The hash is 64-bit FNV-1a of the function's name (see [`crate::hash::fnv1a64`]), not
//!   Java's `(namespace.hashCode ^ action.hashCode).abs`: traces carry no namespaces, and
//!   the hash must be stable across platforms.
//! - *Capacity* is free memory on the worker (`free_mb >= memory_mb`), the simulator's
//!   notion of room. OpenWhisk counts the memory of in-flight activations in a per-invoker
//!   semaphore and lets the invoker evict idle containers itself; here idle instances hold
//!   memory until the engine reclaims them.
//! - When no worker has room, OpenWhisk sends the request to a random healthy invoker and
//!   over-commits it. The engine cannot over-commit memory, so this policy returns `None`:
//!   the engine then reclaims idle instances (least recently used first, on whichever worker
//!   frees enough) and, failing that, queues or drops the request.
//!
//! Parameters: none. Cost per decision: O(W) in the worst case (one O(1) check per probed
//! worker), O(1) when the home worker has room; the step sizes are computed once per run
//! (O(W log log W), a sieve) and the hash is O(length of the name).

use crate::hash::fnv1a64;
use faasim_sim::{ClusterView, FunctionView, Placement, PolicyRng, WorkerId};

/// OpenWhisk's sharding placement; see the module docs.
#[derive(Debug, Default, Clone)]
pub struct OpenWhisk {
    /// Step sizes for `n` workers, computed on first use.
    steps: Vec<usize>,
    n: usize,
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

impl Placement for OpenWhisk {
    fn place(&mut self, f: &FunctionView, c: &ClusterView, _: &mut PolicyRng) -> Option<WorkerId> {
        let n = c.worker_count();
        if self.n != n || self.steps.is_empty() {
            self.steps = step_sizes(n);
            self.n = n;
        }
        let hash = fnv1a64(f.name.as_bytes());
        probe(hash, n, &self.steps)
            .map(|i| WorkerId(i as u32))
            .find(|&w| c.worker(w).free_mb >= f.memory_mb)
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
