//! The event queue: a binary heap ordered by one packed `u128` key `(time, class, seq)`.
//!
//! `time` is the instant in microseconds, `class` fixes the order of different event kinds
//! at the same instant (see [`EventClass`]), and `seq` is a global insertion counter, so
//! events of the same class at the same instant run first-in, first-out. Packing the key
//! makes each comparison a single integer compare.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// Same-instant order of event kinds, lowest first. The arrival and sampling classes are
/// not stored in the heap (arrivals stream from the trace, samples from a clock) but take
/// part in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum EventClass {
    /// An execution finishes: frees its slot (and maybe its instance) first, so an arrival
    /// at the same instant can reuse the instance warm.
    Completion = 0,
    /// A cold start finishes.
    InstanceReady = 1,
    /// A keep-alive deadline: an instance idle since t with keep-alive T is gone for an
    /// arrival at exactly t + T (the keep-alive window is [t, t + T)).
    KeepAliveExpiry = 2,
    /// A queued request's timeout, after the completions that could have served it.
    QueueTimeout = 3,
    /// A pre-warming timer.
    Prewarm = 4,
    /// An arrival from the trace.
    Arrival = 5,
    /// A time-series sample: it sees the state after everything else at its instant.
    Sample = 6,
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

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.key.cmp(&o.key)
    }
}

/// A min-queue of events by `(time, class, seq)`.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, time: SimTime, class: EventClass, event: E) {
        let key = order_key(time, class, self.seq);
        self.seq += 1;
        self.heap.push(Reverse(Entry { key, event }));
    }
    /// The key of the next event.
    pub fn peek_key(&self) -> Option<u128> {
        self.heap.peek().map(|e| e.0.key)
    }
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|Reverse(e)| (key_time(e.key), e.event))
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
