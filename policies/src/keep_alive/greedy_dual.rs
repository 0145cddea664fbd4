//! Caching keep-alive: Fuerst & Sharma, "FaasCache: Keeping Serverless Computing Alive
//! with Greedy-Dual Caching", ASPLOS'21, §4 (Greedy-Dual keep-alive, and the other caching
//! policies the paper relates it to and compares it with), and the FaasCache simulator
//! (github.com/aFuerst/faascache-sim, commit 25110b6f378cdc0384adc712d7885509ecd1450e,
//! `code/split/LambdaScheduler.py`: `calc_priority`, `runActivation`, `Eviction`).
//!
//! Keep-alive as caching: an idle instance stays warm as long as memory lasts
//! (`KeepForever`); when a new instance does not fit, the engine reclaims idle instances in
//! increasing order of the priority this policy gives them (`victim_priority`; ties by
//! lowest instance id; see the sim crate docs for how the worker is chosen). The family:
//!
//! | policy | priority (lowest evicted first) |
//! |---|---|
//! | `greedy-dual` | Clock + Frequency × Cost / Size |
//! | `landlord` | Clock + Cost / Size (credit reset to the cost at each use) |
//! | `lru` | time of last use |
//! | `lfu` | Frequency |
//! | `size` | − Size (largest instance first) |
//!
//! ## Definitions
//! - **Size**: the instance's memory, MB.
//! - **Cost**: what a cold start costs over a warm start. FaasCache's Cost is a function's
//!   cold (first) run time minus its warm run time (`run_time - warm_time`), that is its
//!   initialisation overhead; faasim models that overhead explicitly as the cold-start
//!   latency, so Cost is the mean, over the function's instances seen so far, of
//!   `ready_at − created_at` (each instance counted once, when it first becomes idle). No
//!   warm time is subtracted: faasim's cold-start latency already excludes the execution.
//!   With one cold-start distribution for every function, Cost is the same for all and the
//!   policy ranks by Clock + Frequency / Size alone: `faasim run` warns about that (give
//!   per-function cold starts, `[platform.function_cold_start_ms]` or a trace's
//!   `cold_start_ms` column).
//! - **Frequency**: as in FaasCache's simulator, the sum over the function's live instances
//!   of the invocations dispatched to each (`Container::run` counts an activation when it
//!   starts): an invocation counts from its arrival (faasim's policy is told of it then,
//!   before it is routed), it drops by an instance's count when that instance is evicted,
//!   and is 0 once all of the function's instances are gone. (A request that is dropped is
//!   counted too: the policy is not told of drops; FaasCache's simulator does not run it.
//!   A request that waits in faasim's queue is counted at its arrival, not when it is
//!   dispatched; FaasCache's simulator has no queue.)
//! - **Priority update**: FaasCache recomputes a function's priority at each activation,
//!   hit or miss (`runActivation`: `c.run()`, then `calc_priority` with the current Clock),
//!   and gives it to all the function's instances. faasim does the same at each arrival
//!   (`observe(Arrival)`), with the Clock of that moment; when the arrival's cold start
//!   reclaims memory (evictions at the same instant, right after it), the Clock those
//!   evictions raise is used instead, as FaasCache computes a miss's priority after
//!   `Eviction`. The priority is not recomputed when the execution ends, except that the
//!   first idle time of a new instance teaches the function's Cost: the priority is then
//!   re-evaluated with the Clock of the dispatch, so that it never starts at the bare
//!   Clock. (Until this rule, faasim recomputed at the end of each execution, with the
//!   Clock of that later moment.)
//! - **Clock**: raised to the priority of each instance evicted under memory pressure
//!   (`observe(Eviction)`; the evicted instance's priority is its function's stored
//!   priority). It never decreases (the engine evicts on one worker at a time, so a victim can
//!   rank below an earlier one on another worker); FaasCache sets it to the largest priority
//!   of each eviction batch.
//! - **Landlord** (Young, "On-line file caching", Algorithmica 2002; as FaasCache §4 uses it): each instance holds a credit, reset to its Cost at
//!   each use; an eviction charges every instance rent δ × Size, with δ the smallest
//!   credit/Size, and evicts those left with none. With credits normalised by Size this is a
//!   uniform decrease, which an offset represents exactly: the stored priority
//!   Clock + Cost/Size minus the current Clock is the remaining credit per MB. So Landlord is
//!   Greedy-Dual with Frequency ≡ 1 (FaasCache's artifact charges the rent to every
//!   container explicitly; the order is the same).
//!
//! ## Integer priorities
//! The trait's priorities are `u64`. With Cost in milliseconds and Size in MB, the float
//! priority scaled by 10⁶ is Frequency × Cost (ns) / Size (MB): computed exactly in integers
//! (`u128`, floored, saturating at `u64::MAX`), Clock included. One unit is one nanosecond
//! of cold start per MB. `lru` uses microseconds since the start of the run;
//! `size` uses `u32::MAX − memory_mb`.
//!
//! ## Parameters
//! None.
//!
//! ## Cost per decision
//! `on_idle`, `victim_priority`, `observe`: O(1). Reclaiming asks for the priority of every
//! idle instance, so one reclaim costs O(idle instances · log) in the engine. Memory: a few
//! words per function and per instance slot.

use faasim_sim::{FunctionId, InstanceView, KeepAlive, KeepAliveDecision, Observation, SimTime};

/// Which priority a [`CachingKeepAlive`] ranks idle instances by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    /// `greedy-dual`: Clock + Frequency × Cost / Size (FaasCache's policy).
    GreedyDual,
    /// `landlord`: Clock + Cost / Size, i.e. Greedy-Dual with Frequency 1 (Young 2002).
    Landlord,
    /// `lru`: time of last use, least recently used evicted first.
    Lru,
    /// `lfu`: the function's Frequency, least frequently used evicted first.
    Lfu,
    /// `size`: memory (MB), largest instance evicted first.
    Size,
}

#[derive(Debug, Clone, Copy, Default)]
struct FnState {
    /// Executions of live instances reported by `on_idle`.
    frequency: u64,
    /// Arrivals not yet reported by an `on_idle` (dispatched, or about to be).
    pending: u64,
    init_us_sum: u128,
    init_count: u64,
    memory_mb: u32,
    priority: u64,
    /// The Clock of the function's latest dispatch.
    dispatch_clock: u64,
}

/// One instance slot: the function of the instance in it, and its executions when last seen.
#[derive(Debug, Clone, Copy)]
struct Slot {
    function: FunctionId,
    executions: u64,
}

/// Keep-alive as caching (see the module docs); `rank` picks the policy of the family.
#[derive(Debug, Clone)]
pub struct CachingKeepAlive {
    rank: Rank,
    clock: u64,
    fns: Vec<FnState>,
    slots: Vec<Option<Slot>>,
    /// The latest arrival: evictions at its instant are its cold start's reclaim.
    last_arrival: Option<(FunctionId, SimTime)>,
}

impl CachingKeepAlive {
    /// The policy of the family that ranks by `rank`, with Clock 0 and nothing observed.
    pub fn new(rank: Rank) -> Self {
        CachingKeepAlive {
            rank,
            clock: 0,
            fns: Vec::new(),
            slots: Vec::new(),
            last_arrival: None,
        }
    }

    fn state(&mut self, f: FunctionId) -> &mut FnState {
        if f.index() >= self.fns.len() {
            self.fns.resize_with(f.index() + 1, FnState::default);
        }
        &mut self.fns[f.index()]
    }

    /// The Clock (in priority units).
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// `f`'s Frequency: invocations dispatched to its live instances (counted from their
    /// arrival).
    pub fn frequency(&self, f: FunctionId) -> u64 {
        self.fns
            .get(f.index())
            .map_or(0, |s| s.frequency + s.pending)
    }

    /// `f`'s Cost: its mean observed cold-start latency, nanoseconds (0 before any).
    pub fn cost_ns(&self, f: FunctionId) -> u64 {
        self.fns.get(f.index()).map_or(0, |s| {
            if s.init_count == 0 {
                0
            } else {
                (s.init_us_sum * 1_000 / s.init_count as u128).min(u64::MAX as u128) as u64
            }
        })
    }

    /// `f`'s stored Greedy-Dual (or Landlord) priority, as of its last dispatch.
    pub fn priority(&self, f: FunctionId) -> u64 {
        self.fns.get(f.index()).map_or(0, |s| s.priority)
    }

    /// `f`'s priority with the Clock `clock` (the Clock of its dispatch).
    fn recompute(&mut self, f: FunctionId, clock: u64) {
        let cost = self.cost_ns(f) as u128;
        let rank = self.rank;
        let st = self.state(f);
        let freq = match rank {
            Rank::Landlord => 1,
            _ => (st.frequency + st.pending) as u128,
        };
        let value = freq * cost / st.memory_mb.max(1) as u128;
        st.priority = (clock as u128 + value).min(u64::MAX as u128) as u64;
        st.dispatch_clock = clock;
    }

    fn ranks_by_cost(&self) -> bool {
        matches!(self.rank, Rank::GreedyDual | Rank::Landlord)
    }
}

impl KeepAlive for CachingKeepAlive {
    fn on_idle(&mut self, i: &InstanceView, _now: SimTime) -> KeepAliveDecision {
        let f = i.function;
        let idx = i.id.index();
        if idx >= self.slots.len() {
            self.slots.resize(idx + 1, None);
        }
        let mut new_instance = false;
        let seen = match self.slots[idx] {
            Some(s) if s.function == f && s.executions <= i.executions => s.executions,
            other => {
                new_instance = true;
                // A new occupant of the slot (its predecessor's eviction was observed and
                // cleared the slot; this also covers one that was not).
                if let Some(old) = other {
                    let o = self.state(old.function);
                    o.frequency = o.frequency.saturating_sub(old.executions);
                }
                // First time this instance becomes idle: learn its cold start.
                let st = self.state(f);
                st.init_us_sum += (i.ready_at - i.created_at).as_micros() as u128;
                st.init_count += 1;
                0
            }
        };
        let st = self.state(f);
        st.memory_mb = i.memory_mb;
        let served = i.executions.saturating_sub(seen);
        st.frequency += served;
        st.pending = st.pending.saturating_sub(served);
        let clock = st.dispatch_clock;
        self.slots[idx] = Some(Slot {
            function: f,
            executions: i.executions,
        });
        // What the dispatch could not know yet (this instance's cold start, which enters
        // the Cost; the Size of a function seen for the first time): re-evaluated with the
        // Clock of the dispatch.
        if new_instance {
            self.recompute(f, clock);
        }
        KeepAliveDecision::KeepForever
    }

    fn victim_priority(&mut self, i: &InstanceView, _now: SimTime) -> Option<u64> {
        Some(match self.rank {
            Rank::GreedyDual | Rank::Landlord => self.priority(i.function),
            Rank::Lru => i.last_used.as_micros(),
            Rank::Lfu => self.frequency(i.function),
            Rank::Size => (u32::MAX - i.memory_mb) as u64,
        })
    }

    fn observe(&mut self, ev: &Observation) {
        if let Observation::Arrival { function, time } = *ev {
            self.last_arrival = Some((function, time));
            self.state(function).pending += 1;
            if self.ranks_by_cost() {
                self.recompute(function, self.clock);
            }
        }
        if let Observation::Eviction {
            instance,
            function,
            time,
        } = *ev
        {
            if let Some(slot) = self.slots.get_mut(instance.index()).and_then(Option::take) {
                let st = self.state(slot.function);
                st.frequency = st.frequency.saturating_sub(slot.executions);
            }
            if self.ranks_by_cost() {
                self.clock = self.clock.max(self.priority(function));
                // The reclaim of the latest arrival's cold start: FaasCache computes a miss's
                // priority after `Eviction` has raised the Clock.
                if let Some((f, at)) = self.last_arrival {
                    if at == time {
                        self.recompute(f, self.clock);
                    }
                }
            }
        }
    }
}
