//! Stable hashing for the hash-based placement policies.
//!
//! Everything here is a pure function of its input, the same on every platform and Rust
//! version (unlike `std`'s `DefaultHasher`, whose output may change between releases), so a
//! scenario maps each function to the same workers everywhere.

use faasim_sim::rng::mix64;
use faasim_sim::WorkerId;

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    faasim_sim::rng::fnv1a(bytes)
}

/// A consistent-hashing ring: `virtual_nodes` points per worker, sorted by position.
///
/// Virtual node `v` of worker `w` sits at SplitMix64(w·2³² + v) ([`mix64`], a bijection, so
/// no two points collide); a function sits at [`Ring::key`] of its name. A key belongs to the
/// first point at or after it, wrapping past the largest position to the smallest
/// ("clockwise"). Lookups are a binary search, O(log(W·V)).
#[derive(Debug, Clone)]
pub struct Ring {
    workers: usize,
    points: Vec<(u64, WorkerId)>,
}

impl Ring {
    /// The ring of workers `0..workers`, `virtual_nodes` points each. O(W·V·log(W·V)).
    pub fn new(workers: usize, virtual_nodes: u32) -> Self {
        let mut points: Vec<(u64, WorkerId)> = (0..workers as u32)
            .flat_map(|w| {
                (0..virtual_nodes).map(move |v| (mix64(((w as u64) << 32) | v as u64), WorkerId(w)))
            })
            .collect();
        points.sort_unstable();
        Ring { workers, points }
    }

    /// The position of a function on the ring: SplitMix64 of the FNV-1a hash of its name.
    pub fn key(name: &str) -> u64 {
        mix64(fnv1a64(name.as_bytes()))
    }

    /// The number of workers the ring was built for.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The number of points (workers × virtual nodes).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the ring has no points (built for no workers).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Every point's worker once, clockwise from `key`'s successor (workers repeat, once
    /// per virtual node). O(log(W·V)) to start, O(1) per step.
    pub fn clockwise(&self, key: u64) -> impl Iterator<Item = WorkerId> + '_ {
        self.clockwise_from(self.successor(key))
    }

    /// The index of `key`'s successor among the points (the point at or after it, wrapping
    /// to the first): where [`Self::clockwise`] starts. O(log(W·V)).
    pub fn successor(&self, key: u64) -> usize {
        let i = self.points.partition_point(|&(p, _)| p < key);
        if i == self.points.len() {
            0
        } else {
            i
        }
    }

    /// [`Self::clockwise`] from the point at index `start` (a [`Self::successor`]). O(1) per
    /// step.
    pub fn clockwise_from(&self, start: usize) -> impl Iterator<Item = WorkerId> + '_ {
        let n = self.points.len();
        (0..n).map(move |i| self.points[(start + i) % n].1)
    }

    /// The first `k` distinct workers clockwise from `key` (all of them if `k` ≥ W).
    pub fn distinct(&self, key: u64, k: usize) -> Vec<WorkerId> {
        let k = k.min(self.workers);
        let mut out: Vec<WorkerId> = Vec::with_capacity(k);
        for w in self.clockwise(key) {
            if out.len() == k {
                break;
            }
            if !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }
}

/// Marks workers as seen during one decision without clearing a whole array each time: a
/// worker is marked when its stamp equals the current epoch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Marks {
    stamp: Vec<u32>,
    epoch: u32,
}

impl Marks {
    /// Starts a new decision over `n` workers: every worker unmarked. O(1) amortised.
    pub fn reset(&mut self, n: usize) {
        if self.stamp.len() != n {
            self.stamp = vec![0; n];
            self.epoch = 0;
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
    }

    /// Marks `w`; returns whether it was unmarked before.
    pub fn insert(&mut self, w: WorkerId) -> bool {
        let s = &mut self.stamp[w.index()];
        let fresh = *s != self.epoch;
        *s = self.epoch;
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn ring_walks_every_point_once_from_the_successor() {
        let ring = Ring::new(5, 7);
        assert_eq!(ring.len(), 35);
        let key = Ring::key("resize-image");
        let walk: Vec<WorkerId> = ring.clockwise(key).collect();
        assert_eq!(walk.len(), 35);
        for w in 0..5 {
            assert_eq!(walk.iter().filter(|x| x.0 == w).count(), 7);
        }
        // The first point is the smallest position at or after the key (or the smallest).
        let succ = ring
            .points
            .iter()
            .filter(|p| p.0 >= key)
            .min()
            .or(ring.points.iter().min())
            .unwrap();
        assert_eq!(walk[0], succ.1);
        let d = ring.distinct(key, 3);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0], walk[0]);
        assert_eq!(ring.distinct(key, 9).len(), 5);
    }

    #[test]
    fn the_successor_is_the_first_point_at_or_after_the_key_wrapping_past_the_last() {
        let ring = Ring::new(4, 3);
        let positions: Vec<u64> = ring.points.iter().map(|p| p.0).collect();
        let (first, last) = (positions[0], positions[11]);
        assert_eq!(ring.successor(0), 0);
        assert_eq!(ring.successor(first), 0);
        assert_eq!(ring.successor(first + 1), 1);
        assert_eq!(ring.successor(last), 11);
        assert_eq!(
            ring.successor(last + 1),
            0,
            "past the last point: the first"
        );
        assert_eq!(ring.successor(u64::MAX), 0);
        // From a successor, the walk goes up the positions and wraps once.
        let from: Vec<WorkerId> = ring.clockwise_from(10).collect();
        let want: Vec<WorkerId> = [10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
            .iter()
            .map(|&i| ring.points[i].1)
            .collect();
        assert_eq!(from, want);
    }

    #[test]
    fn marks_reset_between_decisions() {
        let mut m = Marks::default();
        m.reset(3);
        assert!(m.insert(WorkerId(1)));
        assert!(!m.insert(WorkerId(1)));
        m.reset(3);
        assert!(m.insert(WorkerId(1)), "a new decision starts unmarked");
    }
}
