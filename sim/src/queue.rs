//! The event queue: two timing wheels in front of a radix heap, ordered by one packed
//! `u128` key `(time, class, seq)`: events pop by time, then class, then sequence, exactly,
//! whichever level each went through.
//!
//! `time` is the instant in microseconds, `class` fixes the order of different event kinds
//! at the same instant (see [`EventClass`]), and `seq` is a global insertion counter, so
//! events of the same class at the same instant run first-in, first-out. Packing the key
//! makes each comparison a single integer compare.

use crate::time::SimTime;
use std::collections::VecDeque;

/// Same-instant order of event kinds, lowest first. The arrival and sampling classes are
/// not stored in the heap (arrivals stream from the trace, samples from a clock) but take
/// part in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum EventClass {
    /// An execution finishes: frees its slot (and maybe its instance) first, so an arrival
    /// at the same instant can reuse the instance warm.
    Completion = 0,
    /// A worker fails or is repaired: after the executions that ended at that instant,
    /// before the instances that would have become ready.
    Fault = 1,
    /// A cold start finishes.
    InstanceReady = 2,
    /// A keep-alive deadline: an instance idle since t with keep-alive T is gone for an
    /// arrival at exactly t + T (the keep-alive window is [t, t + T)).
    KeepAliveExpiry = 3,
    /// A queued request's timeout, after the completions that could have served it.
    QueueTimeout = 4,
    /// A pre-warming timer.
    Prewarm = 5,
    /// An autoscaler tick.
    Autoscale = 6,
    /// An arrival from the trace.
    Arrival = 7,
    /// An invocation submitted by an engine extension (after the trace's arrivals at the
    /// same instant).
    Injected = 8,
    /// An asynchronous event delivered again (after the new arrivals at its instant).
    Retry = 9,
    /// A time-series sample: it sees the state after everything else at its instant.
    Sample = 10,
}

const SEQ_BITS: u32 = 56;

/// The packed order key.
pub fn order_key(time: SimTime, class: EventClass, seq: u64) -> u128 {
    debug_assert!(seq < (1 << SEQ_BITS));
    ((time.as_micros() as u128) << 64) | ((class as u128) << SEQ_BITS) | seq as u128
}

/// The time part of a packed key.
pub fn key_time(key: u128) -> SimTime {
    SimTime((key >> 64) as u64)
}

#[derive(Debug, Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// Width of a wheel slot: 2^`SLOT_BITS` µs (1.024 ms).
const SLOT_BITS: u32 = 10;
/// Slots on the wheel: it holds the events of the current and the next outer slot (1 to
/// 2 s ahead), where most executions and cold starts end.
const SLOTS: usize = 2048;
/// Entries a spent slot buffer keeps room for when it returns to the ring.
const SLOT_KEEP: usize = 32;
const WORDS: usize = SLOTS / 64;
/// An outer slot spans 2^`OUTER_SHIFT` wheel slots (1.05 s); the wheel spans two.
const OUTER_SHIFT: u32 = 10;
/// Outer slots: events up to about 36 minutes ahead (keep-alive timers) wait there.
const OUTER: usize = 2048;
const OUTER_WORDS: usize = OUTER / 64;

/// A min-queue of events by `(time, class, seq)`.
///
/// Three levels. Events due within one to two seconds (an execution's end, a cold
/// start's) go on a timing wheel (Varghese & Lauck, 1987) of 1 ms slots: a push appends to
/// its slot in O(1), and a slot is sorted by full key once, when the clock reaches it (a
/// few dozen entries at tens of thousands of events per second; see `SlotSorter`).
/// Events up to about 36 minutes ahead (keep-alive timers) wait on an outer wheel of
/// 1.05 s slots, appended in O(1) too, and move onto the inner wheel a whole slot at a time
/// when it comes within reach; events further ahead wait in a radix heap and move onto the
/// outer wheel likewise. Each entry moves at most once per level. The entries of the
/// current slot, and any pushed for an instant within or before it, are kept sorted in
/// `cur`: at the back in O(1) when the key is the largest (the common case: a million
/// provisioned instances ready at time 0), by binary search otherwise. The order is
/// exactly the key's, whichever levels an entry went through.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Entries of slots up to `base`, sorted by key, smallest first.
    cur: Vec<Entry<E>>,
    /// The next entry of `cur`: those before it are spent (a plain vector and an index, so
    /// a slot's entries move in and out of `cur` without copies).
    cur_head: usize,
    /// The current slot (time >> `SLOT_BITS`).
    base: u64,
    /// Slot n after `base` and before `ring_end`, at index n % SLOTS, unsorted.
    ring: Box<[Vec<Entry<E>>; SLOTS]>,
    /// Bit per ring slot: non-empty.
    occupied: [u64; WORDS],
    /// Bit per word of `occupied`: non-zero.
    summary: u64,
    /// The first slot past the ring: the start of the second outer slot after the current
    /// one.
    ring_end: u64,
    /// Outer slot o (slots o << OUTER_SHIFT ..), ring_end >> OUTER_SHIFT <= o <
    /// that + OUTER, at index o % OUTER, unsorted.
    outer: Box<[Vec<Entry<E>>; OUTER]>,
    outer_occupied: [u64; OUTER_WORDS],
    outer_summary: u64,
    /// Entries of outer slots from there on.
    far: RadixHeap<E>,
    /// Scratch of the sort of a slot reached by the clock.
    sorter: SlotSorter<E>,
    len: usize,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            cur: Vec::new(),
            cur_head: 0,
            base: 0,
            ring: Box::new(std::array::from_fn(|_| Vec::new())),
            occupied: [0; WORDS],
            summary: 0,
            ring_end: 2 << OUTER_SHIFT,
            outer: Box::new(std::array::from_fn(|_| Vec::new())),
            outer_occupied: [0; OUTER_WORDS],
            outer_summary: 0,
            far: RadixHeap::default(),
            sorter: SlotSorter::default(),
            len: 0,
            seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time` in `class`, after every event already queued with the
    /// same instant and class. `time` must not be before the last event popped.
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, class: EventClass, event: E) {
        let key = order_key(time, class, self.seq);
        self.seq += 1;
        self.len += 1;
        let e = Entry { key, event };
        let slot = time.as_micros() >> SLOT_BITS;
        // The common case inline (an execution's end within a second or two), the others out of
        // line, so a push costs a few instructions at its call site.
        if slot > self.base && slot < self.ring_end {
            self.push_ring(slot, e);
        } else {
            self.push_other(slot, e);
        }
    }

    /// A push for the current slot (or before it) or beyond the wheel's reach.
    #[inline(never)]
    fn push_other(&mut self, slot: u64, e: Entry<E>) {
        if slot <= self.base {
            self.push_cur(e);
        } else {
            self.file_later(slot, e);
        }
    }

    /// Files `e`, due in `slot` (not before `base`), in the ring, on the outer wheel or in
    /// the radix heap.
    #[inline]
    fn file_later(&mut self, slot: u64, e: Entry<E>) {
        if slot < self.ring_end {
            self.push_ring(slot, e);
        } else if (slot >> OUTER_SHIFT) - (self.ring_end >> OUTER_SHIFT) < OUTER as u64 {
            let o = (slot >> OUTER_SHIFT) as usize % OUTER;
            self.outer[o].push(e);
            self.outer_occupied[o / 64] |= 1 << (o % 64);
            self.outer_summary |= 1 << (o / 64);
        } else {
            self.far.push(e);
        }
    }

    /// Files `e` in its sorted place among the current entries.
    #[inline]
    fn push_cur(&mut self, e: Entry<E>) {
        let live = &self.cur[self.cur_head..];
        if live.last().is_none_or(|b| b.key < e.key) {
            self.cur.push(e);
        } else {
            let at = self.cur_head + live.partition_point(|o| o.key < e.key);
            if at == self.cur_head && at > 0 {
                // Before every live entry: in the spent place just ahead of them.
                self.cur_head -= 1;
                self.cur[self.cur_head] = e;
            } else {
                self.cur.insert(at, e);
            }
        }
    }

    #[inline]
    fn push_ring(&mut self, slot: u64, e: Entry<E>) {
        let i = slot as usize % SLOTS;
        self.ring[i].push(e);
        self.occupied[i / 64] |= 1 << (i % 64);
        self.summary |= 1 << (i / 64);
    }

    /// The first non-empty ring index at or after `from`, if any.
    #[inline]
    fn occupied_from(&self, from: usize) -> Option<usize> {
        first_set(&self.occupied, self.summary, from)
    }

    /// The first outer slot with entries (an outer slot number), if any.
    fn first_outer(&self) -> Option<u64> {
        let start = self.ring_end >> OUTER_SHIFT;
        let from = start as usize % OUTER;
        let words = &self.outer_occupied;
        first_set(words, self.outer_summary, from)
            .or_else(|| first_set(words, self.outer_summary, 0))
            .map(|i| start + ((i + OUTER - from) % OUTER) as u64)
    }

    /// Moves the outer slot at index `i` onto the ring (its slots are all within the
    /// ring's reach).
    fn cascade(&mut self, i: usize) {
        if self.outer_occupied[i / 64] & (1 << (i % 64)) == 0 {
            return;
        }
        self.outer_occupied[i / 64] &= !(1 << (i % 64));
        if self.outer_occupied[i / 64] == 0 {
            self.outer_summary &= !(1 << (i / 64));
        }
        let mut moving = std::mem::take(&mut self.outer[i]);
        for e in moving.drain(..) {
            self.push_ring(far_slot(e.key), e);
        }
        // Keep the allocation for the slot's next turn.
        self.outer[i] = moving;
    }

    /// With `cur` empty and entries left: moves the clock to the next non-empty slot and
    /// sorts it into `cur`, bringing far entries that are now within reach onto the wheel.
    #[inline(never)]
    fn advance(&mut self) {
        debug_assert!(self.cur_head == self.cur.len() && self.len > 0);
        self.cur.clear();
        self.cur_head = 0;
        let from = (self.base as usize + 1) % SLOTS;
        let next = self
            .occupied_from(from)
            .or_else(|| self.occupied_from(0))
            .map(|i| self.base + 1 + ((i + SLOTS - from) % SLOTS) as u64);
        self.base = match next {
            Some(slot) => slot,
            // The ring is empty: the first outer slot with entries holds the next one (the
            // radix heap's are all later), else the radix heap.
            None => match self.first_outer() {
                Some(o) => self.outer[o as usize % OUTER]
                    .iter()
                    .map(|e| far_slot(e.key))
                    .min()
                    .expect("an occupied outer slot"),
                None => far_slot(self.far.peek_key().expect("entries left")),
            },
        };
        let ring_end = ((self.base >> OUTER_SHIFT) + 2) << OUTER_SHIFT;
        if ring_end > self.ring_end {
            // The ring now reaches further: bring the outer slots it covers onto it, and
            // the radix heap's entries the outer wheel now covers onto that. Entries move
            // in the order they were filed (so, as the sort below relies on, a slot's
            // entries of one microsecond and class stay in sequence order).
            let (old, new) = (self.ring_end >> OUTER_SHIFT, ring_end >> OUTER_SHIFT);
            self.ring_end = ring_end;
            if new - old < OUTER as u64 {
                for o in old..new {
                    self.cascade(o as usize % OUTER);
                }
            } else {
                // A jump past the whole outer wheel: every slot it holds.
                while let Some(i) = first_set(&self.outer_occupied, self.outer_summary, 0) {
                    self.cascade(i);
                }
            }
            while let Some(k) = self.far.peek_key() {
                if far_slot(k) >> OUTER_SHIFT >= new + OUTER as u64 {
                    break;
                }
                let e = self.far.pop().expect("peeked");
                self.file_later(far_slot(e.key), e);
            }
        }
        let i = self.base as usize % SLOTS;
        if self.occupied[i / 64] & (1 << (i % 64)) != 0 {
            self.occupied[i / 64] &= !(1 << (i % 64));
            if self.occupied[i / 64] == 0 {
                self.summary &= !(1 << (i / 64));
            }
            // The spent buffer goes to the ring for the slot's next turn: no larger than a
            // usual slot needs, or every slot would in time keep the largest burst the
            // current slot ever held (megabytes over 2,048 slots).
            self.cur.shrink_to(SLOT_KEEP);
            std::mem::swap(&mut self.cur, &mut self.ring[i]);
        }
        if self.cur.len() > 1 {
            self.sorter.sort(&mut self.cur);
        }
    }

    /// The key of the next event.
    pub fn peek_key(&mut self) -> Option<u128> {
        if self.cur_head == self.cur.len() {
            if self.len == 0 {
                return None;
            }
            self.advance();
        }
        self.cur.get(self.cur_head).map(|e| e.key)
    }

    /// Removes and returns the next event with its instant, `None` when the queue is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.cur_head == self.cur.len() {
            if self.len == 0 {
                return None;
            }
            self.advance();
        }
        let e = self.cur[self.cur_head];
        self.cur_head += 1;
        self.len -= 1;
        Some((key_time(e.key), e.event))
    }

    /// The event `ahead` places after the next one, if it is already in the current
    /// slot's sorted entries (for prefetching what it will touch; events pushed meanwhile
    /// may still come before it).
    #[inline(always)]
    pub fn upcoming(&self, ahead: usize) -> Option<&E> {
        self.cur.get(self.cur_head + ahead).map(|e| &e.event)
    }

    /// Events queued.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Sorts the entries of one wheel slot (all within the same 1.024 ms) by key, through
/// 8-byte sort keys: (microsecond within the slot, class, position in the slot).
///
/// Position stands for sequence: within one microsecond and class, a slot's entries are in
/// sequence order. They arrive in up to three runs, each pushed before the next: those the
/// radix heap hands over (in key order), those the outer wheel hands over (in the order
/// they reached it: the radix heap's first, then its own pushes, in push order), and the
/// pushes straight onto the wheel (in push order). An entry moves on as soon as its slot
/// comes within the next level's reach, so before any push can land there directly.
/// Sorting small integers and gathering the entries once costs a fraction of a comparison
/// sort that moves 32-byte entries. (A slot would need 2^32 entries, 128 GB of them, for
/// the position to overflow its 32 bits.)
#[derive(Debug)]
struct SlotSorter<E> {
    keys: Vec<u64>,
    /// The sorted entries, swapped with the slot's.
    out: Vec<Entry<E>>,
}

impl<E> Default for SlotSorter<E> {
    fn default() -> Self {
        SlotSorter {
            keys: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl<E: Copy> SlotSorter<E> {
    /// Sorts `cur`, whose entries all lie in one slot, by key.
    fn sort(&mut self, cur: &mut Vec<Entry<E>>) {
        let v = &cur[..];
        let mask = (1u128 << SLOT_BITS) - 1;
        self.keys.clear();
        self.keys.extend(v.iter().enumerate().map(|(j, e)| {
            // Microsecond and class: bits 64.. and 56..60 of the key.
            let us_class = ((e.key >> 64) & mask) << 4 | (e.key >> SEQ_BITS) & 0xf;
            ((us_class as u64) << 32) | j as u64
        }));
        self.keys.sort_unstable();
        self.out.clear();
        self.out
            .extend(self.keys.iter().map(|&k| v[(k & 0xffff_ffff) as usize]));
        debug_assert!(self.out.windows(2).all(|w| w[0].key < w[1].key));
        std::mem::swap(cur, &mut self.out);
    }
}

/// A min-queue of entries by key for times that only grow: the far level of [`EventQueue`].
///
/// A radix heap (Ahuja, Mehlhorn, Orlin & Tarjan, 1990) on the wheel slot of the key's time
/// (time >> `SLOT_BITS`): a discrete-event simulation pops times in non-decreasing order, so
/// an entry is filed in the bucket of the highest bit in which its slot differs from the
/// last slot popped, and a pop only re-files the entries of the lowest non-empty bucket.
/// Each entry moves a few times in its life (at most once per bit of its distance in slots)
/// instead of sifting through log n heap levels per pop; keying on the slot rather than the
/// microsecond spares the moves within a slot, which the wheel does not need (it sorts a
/// slot when the clock reaches it). The entries of the last slot popped wait in `now`,
/// sorted by their full key, so pops still come in exact key order.
#[derive(Debug)]
struct RadixHeap<E> {
    /// Entries of slot `last`, sorted by key, smallest first.
    now: VecDeque<Entry<E>>,
    /// Bucket b > 0: entries whose highest slot bit differing from `last` is bit b - 1
    /// (bucket 0 is unused: those entries are in `now`).
    buckets: Vec<Vec<Entry<E>>>,
    /// The smallest key in each bucket b > 0 (valid while the bucket is non-empty).
    bucket_min: Vec<u128>,
    /// Bit b - 1 set when bucket b > 0 is non-empty.
    nonempty: u64,
    /// The slot of the last entry popped.
    last: u64,
    scratch: Vec<Entry<E>>,
}

/// The first set bit at or after `from` in `words`, whose non-zero words are flagged in
/// `summary`, if any.
#[inline]
fn first_set(words: &[u64], summary: u64, from: usize) -> Option<usize> {
    let w = from / 64;
    let bits = words[w] & (!0u64 << (from % 64));
    if bits != 0 {
        return Some(w * 64 + bits.trailing_zeros() as usize);
    }
    let rest = summary & (!0u64).checked_shl(w as u32 + 1).unwrap_or(0);
    (rest != 0).then(|| {
        let w = rest.trailing_zeros() as usize;
        w * 64 + words[w].trailing_zeros() as usize
    })
}

/// The wheel slot of a key's time: what the radix heap orders by.
#[inline]
fn far_slot(key: u128) -> u64 {
    (key >> (64 + SLOT_BITS)) as u64
}

impl<E> Default for RadixHeap<E> {
    fn default() -> Self {
        RadixHeap {
            now: VecDeque::new(),
            buckets: (0..=64).map(|_| Vec::new()).collect(),
            bucket_min: vec![u128::MAX; 65],
            nonempty: 0,
            last: 0,
            scratch: Vec::new(),
        }
    }
}

impl<E: Copy> RadixHeap<E> {
    /// Files an entry whose time differs from `last` (bucket b > 0).
    #[inline]
    fn file_later(&mut self, e: Entry<E>, x: u64) {
        let b = 64 - x.leading_zeros() as usize;
        self.buckets[b].push(e);
        self.nonempty |= 1u64 << (b - 1);
        if e.key < self.bucket_min[b] {
            self.bucket_min[b] = e.key;
        }
    }

    /// Adds `e`, whose time is not before the last one popped.
    fn push(&mut self, e: Entry<E>) {
        let x = far_slot(e.key) ^ self.last;
        debug_assert!(far_slot(e.key) >= self.last, "an event in the past");
        if x == 0 {
            if self.now.back().is_none_or(|b| b.key < e.key) {
                self.now.push_back(e);
            } else {
                let at = self.now.partition_point(|o| o.key < e.key);
                self.now.insert(at, e);
            }
        } else {
            self.file_later(e, x);
        }
    }

    fn peek_key(&self) -> Option<u128> {
        if let Some(e) = self.now.front() {
            return Some(e.key);
        }
        if self.nonempty == 0 {
            return None;
        }
        let b = self.nonempty.trailing_zeros() as usize + 1;
        Some(self.bucket_min[b])
    }

    fn pop(&mut self) -> Option<Entry<E>> {
        if self.now.is_empty() {
            if self.nonempty == 0 {
                return None;
            }
            let b = self.nonempty.trailing_zeros() as usize + 1;
            self.last = far_slot(self.bucket_min[b]);
            self.nonempty &= !(1u64 << (b - 1));
            self.bucket_min[b] = u128::MAX;
            let mut moving =
                std::mem::replace(&mut self.buckets[b], std::mem::take(&mut self.scratch));
            for e in moving.drain(..) {
                let x = far_slot(e.key) ^ self.last;
                if x == 0 {
                    self.now.push_back(e);
                } else {
                    self.file_later(e, x);
                }
            }
            self.scratch = moving;
            if self.now.len() > 1 {
                self.now.make_contiguous().sort_unstable_by_key(|e| e.key);
            }
        }
        self.now.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn orders_by_time_then_class_then_insertion() {
        let mut q = EventQueue::new();
        let t = SimTime(10);
        q.push(t, EventClass::KeepAliveExpiry, "expiry-1");
        q.push(t, EventClass::Completion, "completion-1");
        q.push(SimTime(9), EventClass::QueueTimeout, "earlier");
        q.push(t, EventClass::KeepAliveExpiry, "expiry-2");
        q.push(t, EventClass::Completion, "completion-2");
        q.push(t, EventClass::InstanceReady, "ready");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec![
                "earlier",
                "completion-1",
                "completion-2",
                "ready",
                "expiry-1",
                "expiry-2"
            ]
        );
    }

    #[test]
    fn pops_in_key_order_for_random_pushes() {
        let mut q = EventQueue::new();
        let mut rng = crate::rng::SimRng::stream(9, "q");
        let mut expected = vec![];
        // As in a simulation, nothing is scheduled before the last instant popped.
        let mut now = 0;
        for i in 0..5_000u64 {
            let t = SimTime(now + rng.below(1_000));
            q.push(t, EventClass::Completion, i);
            expected.push((t, i));
            if i % 3 == 0 {
                expected.sort();
                let (et, ei) = expected.remove(0);
                assert_eq!(q.pop(), Some((et, ei)));
                now = et.as_micros();
            }
        }
        expected.sort();
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest, expected);
    }

    #[test]
    fn matches_a_sorted_reference_with_pushes_at_the_current_instant() {
        // Engine-like traffic: events at the current instant in any class (zero-length
        // executions, zero cold starts), near ones and far ones (keep-alive timers).
        let classes = [
            EventClass::Completion,
            EventClass::InstanceReady,
            EventClass::KeepAliveExpiry,
            EventClass::QueueTimeout,
            EventClass::Prewarm,
            EventClass::Autoscale,
            EventClass::Injected,
        ];
        let mut q = EventQueue::new();
        let mut rng = crate::rng::SimRng::stream(3, "q");
        let mut reference: Vec<u128> = vec![];
        let mut now = 0u64;
        for i in 0..20_000u64 {
            let dt = match rng.below(4) {
                0 => 0,
                1 => rng.below(100),
                2 => rng.below(1_000_000),
                _ => rng.below(1 << 40),
            };
            let class = classes[rng.below(classes.len() as u64) as usize];
            q.push(SimTime(now + dt), class, i);
            reference.push(order_key(SimTime(now + dt), class, i));
            if rng.below(2) == 0 {
                reference.sort_unstable();
                let k = reference.remove(0);
                assert_eq!(q.peek_key(), Some(k));
                let (t, seq) = q.pop().unwrap();
                assert_eq!((t, seq), (key_time(k), (k & ((1 << SEQ_BITS) - 1)) as u64));
                now = t.as_micros();
            }
        }
        reference.sort_unstable();
        for k in reference {
            assert_eq!(
                q.pop().map(|(_, seq)| seq),
                Some((k & ((1 << SEQ_BITS) - 1)) as u64)
            );
        }
        assert!(q.pop().is_none() && q.is_empty());
    }

    #[test]
    fn many_events_at_one_instant_cost_constant_time_each() {
        // A million provisioned instances become ready at time 0: each push joins the back.
        let mut q = EventQueue::new();
        let n = 1_000_000u64;
        for i in 0..n {
            q.push(SimTime::ZERO, EventClass::InstanceReady, i);
        }
        q.push(SimTime::ZERO, EventClass::Completion, n);
        assert_eq!(q.pop(), Some((SimTime::ZERO, n)));
        for i in 0..n {
            assert_eq!(q.pop(), Some((SimTime::ZERO, i)));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn a_key_below_the_last_popped_is_served_first() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), EventClass::KeepAliveExpiry, "expiry");
        q.push(SimTime(50), EventClass::Completion, "later");
        assert_eq!(q.pop(), Some((SimTime(10), "expiry")));
        // Due now, in an earlier class than the event just popped.
        q.push(SimTime(10), EventClass::Completion, "zero-length");
        q.push(SimTime(10), EventClass::InstanceReady, "zero-cold-start");
        assert_eq!(
            q.peek_key(),
            Some(order_key(SimTime(10), EventClass::Completion, 2))
        );
        assert_eq!(q.pop(), Some((SimTime(10), "zero-length")));
        assert_eq!(q.pop(), Some((SimTime(10), "zero-cold-start")));
        assert_eq!(q.pop(), Some((SimTime(50), "later")));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn arrival_key_sorts_after_heap_classes_at_the_same_instant() {
        let t = SimTime(5);
        assert!(
            order_key(t, EventClass::KeepAliveExpiry, 99) < order_key(t, EventClass::Arrival, 0)
        );
        assert!(order_key(t, EventClass::Arrival, 0) < order_key(t, EventClass::Sample, 0));
        assert!(
            order_key(t, EventClass::Sample, 0) < order_key(SimTime(6), EventClass::Completion, 0)
        );
        assert_eq!(key_time(order_key(t, EventClass::Sample, 7)), t);
    }

    #[test]
    fn an_event_pushed_after_a_peek_before_the_peeked_one_comes_first() {
        // The engine peeks (moving the wheel to the next slot), then an arrival earlier
        // than that slot schedules an event before it.
        let mut q = EventQueue::new();
        q.push(SimTime(500_000), EventClass::Completion, "next slot");
        assert_eq!(
            q.peek_key(),
            Some(order_key(SimTime(500_000), EventClass::Completion, 0))
        );
        q.push(SimTime(3), EventClass::KeepAliveExpiry, "earlier");
        q.push(SimTime(499_999), EventClass::Completion, "just before");
        q.push(
            SimTime(500_000),
            EventClass::Completion,
            "same instant, later",
        );
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec!["earlier", "just before", "next slot", "same instant, later"]
        );
    }

    #[test]
    fn matches_a_sorted_reference_around_the_wheels_reach() {
        // Times near the wheel's span (SLOTS << SLOT_BITS), past it, and wrapping the ring
        // many times: every entry comes out in key order whichever level it went through.
        let span = (SLOTS as u64) << SLOT_BITS;
        let mut q = EventQueue::new();
        let mut rng = crate::rng::SimRng::stream(11, "wheel");
        let mut reference: Vec<u128> = vec![];
        let mut now = 0u64;
        for i in 0..50_000u64 {
            let dt = match rng.below(5) {
                0 => rng.below(1 << SLOT_BITS),
                1 => span - 2 + rng.below(4),
                2 => rng.below(3 * span),
                3 => rng.below(span / 8),
                _ => rng.below(1 << 33),
            };
            q.push(SimTime(now + dt), EventClass::Completion, i);
            reference.push(order_key(SimTime(now + dt), EventClass::Completion, i));
            while rng.below(3) != 0 {
                reference.sort_unstable();
                if reference.is_empty() {
                    break;
                }
                let k = reference.remove(0);
                let (t, seq) = q.pop().unwrap();
                assert_eq!((t, seq), (key_time(k), (k & ((1 << SEQ_BITS) - 1)) as u64));
                now = t.as_micros();
            }
            assert_eq!(q.len(), reference.len());
        }
        reference.sort_unstable();
        for k in reference {
            assert_eq!(
                q.pop().map(|(_, seq)| seq),
                Some((k & ((1 << SEQ_BITS) - 1)) as u64)
            );
        }
        assert!(q.pop().is_none() && q.is_empty());
    }

    /// Every class the heap holds, in order.
    const CLASSES: [EventClass; 9] = [
        EventClass::Completion,
        EventClass::Fault,
        EventClass::InstanceReady,
        EventClass::KeepAliveExpiry,
        EventClass::QueueTimeout,
        EventClass::Prewarm,
        EventClass::Autoscale,
        EventClass::Injected,
        EventClass::Retry,
    ];

    #[derive(Debug, Clone)]
    enum Op {
        /// An event `dt` µs after the last instant popped, in `CLASSES[class]`.
        Push {
            dt: u64,
            class: usize,
        },
        /// A peek alone: it may move the wheel ahead of later pushes.
        Peek,
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        let span = (SLOTS as u64) << SLOT_BITS;
        let outer_span = (OUTER as u64) << (OUTER_SHIFT + SLOT_BITS);
        let dt = prop_oneof![
            // Ties at the current instant and a few microseconds on.
            0..4u64,
            // Within the current slot and the next few.
            0..4u64 << SLOT_BITS,
            // Around the wheel's reach.
            span - 4..span + 4,
            0..3 * span,
            // On the outer wheel and around its reach.
            0..outer_span,
            outer_span - span..outer_span + span,
            // Ties on each level: the same instant ahead, pushed again and again.
            (0..3usize).prop_map(move |k| [span + 1, outer_span / 2, 2 * outer_span][k]),
            // Far beyond it (keep-alive timers and longer).
            0..1u64 << 40,
        ];
        prop_oneof![
            4 => (dt, 0..CLASSES.len()).prop_map(|(dt, class)| Op::Push { dt, class }),
            1 => Just(Op::Peek),
            3 => Just(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Pops come in exactly the order of a binary heap on (time, class, sequence),
        /// whichever level each entry went through and however pushes, peeks and pops
        /// interleave (as in a simulation, nothing is pushed before the last instant
        /// popped).
        #[test]
        fn pops_in_the_order_of_a_binary_heap(ops in proptest::collection::vec(op(), 1..600)) {
            let mut q = EventQueue::new();
            let mut reference = BinaryHeap::new();
            let (mut now, mut seq) = (0u64, 0u64);
            let seq_of = |k: u128| (k & ((1 << SEQ_BITS) - 1)) as u64;
            for op in ops {
                match op {
                    Op::Push { dt, class } => {
                        let t = SimTime(now + dt);
                        q.push(t, CLASSES[class], seq);
                        reference.push(Reverse(order_key(t, CLASSES[class], seq)));
                        seq += 1;
                    }
                    Op::Peek => {
                        prop_assert_eq!(q.peek_key(), reference.peek().map(|r| r.0));
                    }
                    Op::Pop => {
                        let want = reference.pop().map(|r| r.0);
                        prop_assert_eq!(q.pop(), want.map(|k| (key_time(k), seq_of(k))));
                        if let Some(k) = want {
                            now = key_time(k).as_micros();
                        }
                    }
                }
                prop_assert_eq!(q.len(), reference.len());
            }
            while let Some(Reverse(k)) = reference.pop() {
                prop_assert_eq!(q.peek_key(), Some(k));
                prop_assert_eq!(q.pop(), Some((key_time(k), seq_of(k))));
            }
            prop_assert!(q.pop().is_none() && q.is_empty());
        }
    }
}
