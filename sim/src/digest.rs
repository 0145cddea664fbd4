//! Latency percentiles in bounded memory.
//!
//! A digest keeps every value exactly until it holds `exact_cap` of them, so small runs
//! (and hand-traced tests) report exact percentiles. Past that it folds them into a
//! log-linear histogram: values are bucketed by their power of two and the top `sub_bits`
//! bits below it, so a reported percentile is within 2^-sub_bits relative error (0.1% for
//! the run-wide digest, 1.6% per function) and memory no longer grows with the trace.

/// A percentile sketch of `u64` values (microseconds).
///
/// Laid out in declaration order (`repr(C)`): what [`Digest::add`] touches while values
/// are kept exactly fills the first 64 bytes, one cache line when the digest starts on
/// one (the engine's per-function figures are aligned so).
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Digest {
    sum: u128,
    count: u64,
    /// Non-zero values still to be kept exactly before the fold: one counter to test per
    /// add instead of a flag and the vector's length against the cap.
    room: usize,
    max: u64,
    exact: Vec<u64>,
    /// Zeros are counted apart (most queue delays are zero): a cheap fast path.
    zeros: u64,
    /// Bucket counts, `2^sub_bits` per power of two, grown (when `max` grows) to the
    /// bucket of the largest value seen. Empty while values are kept exactly. 32 bits: half
    /// the cache a 64-bit count would take; a count that would pass 2^32 - 1 carries into
    /// `carries`.
    buckets: Vec<u32>,
    /// Per bucket that ever filled its 32 bits, the multiples of 2^32 it carried out
    /// (sorted by bucket; `None` but in runs of billions of values in one bucket, and
    /// boxed so that the digest keeps its size: one pointer, not a vector's three words).
    #[allow(clippy::box_collection)]
    carries: Option<Box<Vec<(usize, u64)>>>,
    sub_bits: u32,
    folded: bool,
}

impl Digest {
    /// `exact_cap` values kept exactly, then `sub_bits` bits of mantissa per power of two.
    pub fn new(exact_cap: usize, sub_bits: u32) -> Self {
        Digest {
            exact: Vec::new(),
            room: exact_cap,
            sub_bits,
            buckets: Vec::new(),
            carries: None,
            folded: false,
            count: 0,
            zeros: 0,
            sum: 0,
            max: 0,
        }
    }

    /// The run-wide digest: 1 M exact values, then 0.1% relative error.
    pub fn run_wide() -> Self {
        Self::new(1 << 20, 10)
    }

    /// A per-function digest: 1 024 exact values, then 1.6% relative error.
    pub fn per_function() -> Self {
        Self::new(1 << 10, 6)
    }

    /// Values added (zeros included).
    pub fn count(&self) -> u64 {
        self.count
    }
    /// The exact sum of the values added (µs for latencies).
    pub fn sum(&self) -> u128 {
        self.sum
    }
    /// The largest value added, exact (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }
    /// The exact mean of the values added (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// Records one value; the first past `exact_cap` folds the exact values into the
    /// histogram.
    #[inline(always)]
    pub fn add(&mut self, v: u64) {
        self.count += 1;
        if v == 0 {
            self.zeros += 1;
            return;
        }
        self.sum += v as u128;
        if self.room > 0 {
            self.max = self.max.max(v);
            self.room -= 1;
            self.exact.push(v);
            return;
        }
        self.add_folded(v);
    }

    /// [`Self::add`] past the exact values: one bucket increment, the bucket array grown
    /// only when a new largest value needs it (the array always reaches `max`'s bucket).
    #[inline(always)]
    fn add_folded(&mut self, v: u64) {
        if !self.folded {
            self.fold();
        }
        if v > self.max {
            self.max = v;
            self.grow_to(v);
        }
        let b = self.bucket_of(v);
        self.count_in(b);
    }

    /// One more value in bucket `b`.
    #[inline(always)]
    fn count_in(&mut self, b: usize) {
        let (c, full) = self.buckets[b].overflowing_add(1);
        self.buckets[b] = c;
        if full {
            self.carry(b);
        }
    }

    /// Bucket `b`'s 32-bit count wrapped to 0: 2^32 more for it.
    #[cold]
    #[inline(never)]
    fn carry(&mut self, b: usize) {
        let carries = self.carries.get_or_insert_with(Box::default);
        match carries.binary_search_by_key(&b, |&(x, _)| x) {
            Ok(k) => carries[k].1 += 1,
            Err(k) => carries.insert(k, (b, 1)),
        }
    }

    /// Bucket `b`'s count.
    fn bucket_count(&self, b: usize) -> u64 {
        let carried = self.carries.as_ref().map_or(0, |c| {
            c.binary_search_by_key(&b, |&(x, _)| x)
                .map_or(0, |k| c[k].1 << 32)
        });
        self.buckets[b] as u64 + carried
    }

    /// Moves the exact values into the histogram, once.
    #[cold]
    #[inline(never)]
    fn fold(&mut self) {
        self.folded = true;
        self.grow_to(self.max);
        for x in std::mem::take(&mut self.exact) {
            let b = self.bucket_of(x);
            self.count_in(b);
        }
    }

    /// Extends the bucket array to hold `v`'s bucket.
    #[cold]
    #[inline(never)]
    fn grow_to(&mut self, v: u64) {
        let b = self.bucket_of(v);
        if b >= self.buckets.len() {
            self.buckets.resize(b + 1, 0);
        }
    }

    /// The bucket of `v`: values below 2^sub_bits have one bucket each; above, each power
    /// of two 2^e is cut into 2^sub_bits equal buckets.
    #[inline]
    fn bucket_of(&self, v: u64) -> usize {
        let sb = self.sub_bits;
        if v < (1 << sb) {
            v as usize
        } else {
            let e = 63 - v.leading_zeros(); // e >= sb
            let mantissa = (v >> (e - sb)) as usize - (1 << sb);
            ((e - sb + 1) as usize) << sb | mantissa
        }
    }

    /// The smallest value and the width of bucket `b`.
    fn bucket_range(&self, b: usize) -> (u64, u64) {
        let sb = self.sub_bits;
        let row = b >> sb;
        let mantissa = (b & ((1 << sb) - 1)) as u64;
        if row == 0 {
            (mantissa, 1)
        } else {
            let shift = row as u32 - 1;
            (((1u64 << sb) + mantissa) << shift, 1u64 << shift)
        }
    }

    /// The `q`-quantile (0..=1) by the nearest-rank method on exact values; on the
    /// histogram, the midpoint of the bucket holding that rank.
    pub fn quantile(&mut self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank <= self.zeros {
            return 0;
        }
        let rank = rank - self.zeros;
        if !self.folded {
            let k = (rank - 1) as usize;
            let (_, kth, _) = self.exact.select_nth_unstable(k);
            return *kth;
        }
        let mut seen = 0u64;
        for b in 0..self.buckets.len() {
            let c = self.bucket_count(b);
            seen += c;
            if c > 0 && seen >= rank {
                let (lo, width) = self.bucket_range(b);
                return (lo + (width - 1) / 2).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_below_cap() {
        let mut d = Digest::new(100, 4);
        for v in [5, 1, 4, 2, 3] {
            d.add(v);
        }
        assert_eq!(d.quantile(0.5), 3);
        assert_eq!(d.quantile(0.99), 5);
        assert_eq!(d.quantile(0.0), 1);
        assert_eq!(d.quantile(0.2), 1);
        assert_eq!(d.quantile(0.21), 2);
        assert_eq!(d.mean(), 3.0);
    }

    #[test]
    fn zeros_take_the_lowest_ranks() {
        let mut d = Digest::new(100, 4);
        for v in [0, 0, 0, 7, 9] {
            d.add(v);
        }
        assert_eq!(d.quantile(0.6), 0);
        assert_eq!(d.quantile(0.8), 7);
        assert_eq!(d.quantile(1.0), 9);
        assert_eq!(d.count(), 5);
    }

    #[test]
    fn histogram_error_is_bounded_by_sub_bits() {
        let mut d = Digest::new(10, 10);
        let n = 100_000u64;
        for i in 1..=n {
            d.add(i * 37);
        }
        for q in [0.5, 0.9, 0.99] {
            let exact = ((q * n as f64).ceil() as u64) * 37;
            let got = d.quantile(q) as f64;
            assert!(
                (got - exact as f64).abs() / exact as f64 <= 1.0 / 1024.0,
                "q {q}: {got} vs {exact}"
            );
        }
        assert_eq!(d.count(), n);
        assert_eq!(d.max(), n * 37);
    }

    #[test]
    fn folded_quantiles_are_the_midpoint_of_the_ranked_values_bucket() {
        // Past the exact values, the q-quantile is the midpoint of the bucket holding the
        // value of nearest rank ceil(q n) among the sorted values (at most the maximum),
        // however the values arrived: growing maxima, zeros, and a fold in the middle.
        let mut rng = crate::rng::SimRng::stream(5, "digest");
        let mut d = Digest::new(50, 4);
        let mut values = vec![];
        for i in 0..5_000u64 {
            let v = match rng.below(5) {
                0 => 0,
                1 => rng.below(20),
                2 => rng.below(1 << 20),
                _ => rng.below(1 << (i % 40 + 1)),
            };
            d.add(v);
            values.push(v);
        }
        values.sort_unstable();
        for q in [0.0, 0.1, 0.5, 0.77, 0.9, 0.99, 0.999, 1.0] {
            let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
            let v = values[rank - 1];
            let want = if v == 0 {
                0
            } else {
                let (lo, width) = d.bucket_range(d.bucket_of(v));
                (lo + (width - 1) / 2).min(d.max())
            };
            assert_eq!(d.quantile(q), want, "q {q}");
        }
        assert_eq!(d.max(), *values.last().unwrap());
        assert_eq!(d.sum(), values.iter().map(|&v| v as u128).sum::<u128>());
    }

    #[test]
    fn a_bucket_count_carries_past_32_bits() {
        // Folded from the first value; bucket b then holds 2^32 - 1 values (set by hand,
        // as 4 billion adds would be), and two more adds carry it past 32 bits.
        let mut d = Digest::new(0, 4);
        d.add(100);
        let b = d.bucket_of(100);
        d.buckets[b] = u32::MAX;
        d.add(100);
        assert_eq!(d.bucket_count(b), 1 << 32);
        d.add(100);
        assert_eq!(d.bucket_count(b), (1 << 32) + 1);
        d.add(1000);
        d.count = (1 << 32) + 2;
        // Rank ceil(0.99 n) is still among the 2^32 + 1 values in b: its midpoint. With 4
        // sub-bits, 100 = 25 x 2^2 is in the bucket [100, 104): 100 + 3/2 = 101. The last
        // rank is 1000's.
        assert_eq!(d.quantile(0.99), 101);
        let (lo, width) = d.bucket_range(d.bucket_of(1000));
        assert_eq!(d.quantile(1.0), (lo + (width - 1) / 2).min(1000));
    }
}
