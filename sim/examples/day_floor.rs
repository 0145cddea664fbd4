//! A floor for the engine's cost on the 1,000-function day: a loop that simulates that day's
//! setting (100 workers of 64 GB, first-fit placement, a 600 s fixed keep-alive, 1 s cold
//! starts, the CPU ignored, the most recently used warm instance) and nothing else, to show
//! how many instructions the request path itself needs once the general engine's bookkeeping
//! is set aside: `cargo run --release -p faasim-sim --example day_floor -- target/peer-cases/azure-day-1000.csv`
//! (the canonical CSV that `scripts/peer-figures azure-day-1000` writes).
//!
//! It does not use the engine (its lists and loop are its own, so that a test can hold the
//! engine to it). It keeps the engine's latency digests (per function and run-wide), idle and
//! billed memory-time and per-function counts, and no invocation state, event counts, time
//! series or per-event integrals. It prints the cold starts and percentiles, which equal
//! `faasim run`'s on the same file (`tests/suite/floor.rs` holds the engine to it), so the
//! floor is the same simulation. The rows are parsed before the clock starts.

use faasim_sim::digest::Digest;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

const NIL: u32 = u32::MAX;
const KEEP_ALIVE_US: u64 = 600_000_000;
const COLD_START_US: u64 = 1_000_000;
/// The day's cluster: 100 workers of 64 GB.
const WORKERS: usize = 100;
const WORKER_MB: u64 = 65_536;

/// One row of the canonical CSV: arrival (µs), function, duration (µs), memory (MB).
pub type Row = (u64, u32, u64, u32);

#[derive(Clone, Copy)]
struct Instance {
    function: u32,
    worker: u32,
    memory_mb: u32,
    idle_since: u64,
    /// Its first execution, the one that waited for its cold start, has not ended yet.
    starting: bool,
    /// Links in the function's available list (most recently used at the tail).
    avail: Links,
    /// Links in the cluster-wide idle list (in order of idleness, so of expiry).
    idle: Links,
}

#[derive(Clone, Copy)]
struct Links {
    prev: u32,
    next: u32,
}

const UNLINKED: Links = Links {
    prev: NIL,
    next: NIL,
};

#[derive(Clone, Copy)]
struct Ends {
    head: u32,
    tail: u32,
}

const EMPTY: Ends = Ends {
    head: NIL,
    tail: NIL,
};

/// Which of an instance's two lists.
#[derive(Clone, Copy)]
enum List {
    Avail,
    Idle,
}

fn links(i: &mut Instance, list: List) -> &mut Links {
    match list {
        List::Avail => &mut i.avail,
        List::Idle => &mut i.idle,
    }
}

/// A function's figures, as the engine's `functions.csv` has them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FunctionFigures {
    pub invocations: u64,
    pub completed: u64,
    pub cold_starts: u64,
    /// Billed MB-ms: each execution's duration rounded up to a whole millisecond.
    pub mb_ms: u64,
    pub idle_mb_us: u128,
    pub instances_created: u64,
}

/// The simulation's state and the figures it keeps.
pub struct Floor {
    instances: Vec<Instance>,
    free_slots: Vec<u32>,
    avail: Vec<Ends>,
    idle: Ends,
    worker_mb: u64,
    used_mb: Vec<u64>,
    /// Executions' ends: (end, instance, arrival).
    ends: BinaryHeap<Reverse<(u64, u32, u64)>>,
    /// Latencies per function and run-wide, in the engine's digests.
    pub function_latency: Vec<Digest>,
    pub latency: Digest,
    pub functions: Vec<FunctionFigures>,
    pub evictions: u64,
}

impl Floor {
    /// `functions` numbered from 0, on `workers` workers of `worker_mb` MB each.
    pub fn new(functions: usize, workers: usize, worker_mb: u64) -> Self {
        Floor {
            instances: Vec::new(),
            free_slots: Vec::new(),
            avail: vec![EMPTY; functions],
            idle: EMPTY,
            worker_mb,
            used_mb: vec![0; workers],
            ends: BinaryHeap::new(),
            function_latency: (0..functions).map(|_| Digest::per_function()).collect(),
            latency: Digest::run_wide(),
            functions: vec![FunctionFigures::default(); functions],
            evictions: 0,
        }
    }

    /// Completed invocations that waited for a cold start.
    pub fn cold_starts(&self) -> u64 {
        self.functions.iter().map(|f| f.cold_starts).sum()
    }

    /// Idle memory of all instances, MB x microseconds.
    pub fn idle_mb_us(&self) -> u128 {
        self.functions.iter().map(|f| f.idle_mb_us).sum()
    }

    /// The billed MB-ms: each execution's duration rounded up to a whole millisecond.
    pub fn billed_mb_ms(&self) -> u64 {
        self.functions.iter().map(|f| f.mb_ms).sum()
    }

    #[inline(always)]
    fn push_back(&mut self, list: List, ends: Option<usize>, i: u32) {
        let e = match ends {
            Some(f) => &mut self.avail[f],
            None => &mut self.idle,
        };
        let tail = e.tail;
        *links(&mut self.instances[i as usize], list) = Links {
            prev: tail,
            next: NIL,
        };
        if tail == NIL {
            e.head = i;
        } else {
            links(&mut self.instances[tail as usize], list).next = i;
        }
        e.tail = i;
    }

    #[inline(always)]
    fn remove(&mut self, list: List, ends: Option<usize>, i: u32) {
        let Links { prev, next } = *links(&mut self.instances[i as usize], list);
        let e = match ends {
            Some(f) => &mut self.avail[f],
            None => &mut self.idle,
        };
        if prev == NIL {
            e.head = next;
        } else {
            links(&mut self.instances[prev as usize], list).next = next;
        }
        if next == NIL {
            e.tail = prev;
        } else {
            links(&mut self.instances[next as usize], list).prev = prev;
        }
    }

    /// Evicts the idle instances whose keep-alive has ended by `t`: the idle list is in
    /// order of idleness, so of expiry, and no timer is needed.
    #[inline(always)]
    fn expire(&mut self, t: u64) {
        while self.idle.head != NIL {
            let i = self.idle.head;
            let expiry = self.instances[i as usize].idle_since + KEEP_ALIVE_US;
            if expiry > t {
                return;
            }
            self.evict(i, expiry);
        }
    }

    #[inline(never)]
    fn evict(&mut self, i: u32, now: u64) {
        let inst = self.instances[i as usize];
        self.remove(List::Idle, None, i);
        self.remove(List::Avail, Some(inst.function as usize), i);
        let idle = u128::from(inst.memory_mb) * u128::from(now - inst.idle_since);
        self.functions[inst.function as usize].idle_mb_us += idle;
        self.used_mb[inst.worker as usize] -= u64::from(inst.memory_mb);
        self.free_slots.push(i);
        self.evictions += 1;
    }

    #[inline(always)]
    fn complete(&mut self, end: u64, i: u32, arrival: u64) {
        let inst = &mut self.instances[i as usize];
        inst.idle_since = end;
        let cold = std::mem::take(&mut inst.starting);
        let f = inst.function as usize;
        let figures = &mut self.functions[f];
        figures.completed += 1;
        figures.cold_starts += u64::from(cold);
        self.function_latency[f].add(end - arrival);
        self.latency.add(end - arrival);
        self.push_back(List::Avail, Some(f), i);
        self.push_back(List::Idle, None, i);
    }

    #[inline(always)]
    fn arrive(&mut self, (t, f, duration, mb): Row) -> Result<(), String> {
        let figures = &mut self.functions[f as usize];
        figures.invocations += 1;
        figures.mb_ms += duration.div_ceil(1000) * u64::from(mb);
        let warm = self.avail[f as usize].tail;
        if warm == NIL {
            return self.cold_start((t, f, duration, mb));
        }
        self.remove(List::Avail, Some(f as usize), warm);
        self.remove(List::Idle, None, warm);
        let inst = self.instances[warm as usize];
        let idle = u128::from(inst.memory_mb) * u128::from(t - inst.idle_since);
        self.functions[f as usize].idle_mb_us += idle;
        self.ends.push(Reverse((t + duration, warm, t)));
        Ok(())
    }

    #[inline(never)]
    fn cold_start(&mut self, (t, f, duration, mb): Row) -> Result<(), String> {
        let fits = |&w: &usize| self.used_mb[w] + u64::from(mb) <= self.worker_mb;
        let Some(w) = (0..self.used_mb.len()).find(fits) else {
            return Err(format!(
                "no worker has {mb} MB free at {t} µs: this floor does not queue"
            ));
        };
        self.used_mb[w] += u64::from(mb);
        let inst = Instance {
            function: f,
            worker: w as u32,
            memory_mb: mb,
            idle_since: t,
            starting: true,
            avail: UNLINKED,
            idle: UNLINKED,
        };
        let i = match self.free_slots.pop() {
            Some(i) => {
                self.instances[i as usize] = inst;
                i
            }
            None => {
                self.instances.push(inst);
                (self.instances.len() - 1) as u32
            }
        };
        self.functions[f as usize].instances_created += 1;
        self.ends
            .push(Reverse((t + COLD_START_US + duration, i, t)));
        Ok(())
    }
}

/// Milliseconds as written (`12.5`) to whole microseconds.
fn micros(field: &str) -> Option<u64> {
    let ms: f64 = field.trim().parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| (ms * 1000.0).round() as u64)
}

/// The canonical CSV's rows, functions numbered in order of first appearance.
fn read(path: &str) -> Result<(Vec<Row>, usize), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut names: HashMap<&str, u32> = HashMap::new();
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let bad = |what: &str| format!("{path}, line {}: {what}", n + 1);
        let mut fields = line.split(',');
        let mut next = |name: &str| fields.next().ok_or_else(|| bad(&format!("no {name}")));
        let t = micros(next("timestamp_ms")?)
            .ok_or_else(|| bad("timestamp_ms: expected milliseconds"))?;
        let name = next("function")?;
        let duration = micros(next("duration_ms")?)
            .ok_or_else(|| bad("duration_ms: expected milliseconds"))?;
        let mb: u32 = next("memory_mb")?
            .trim()
            .parse()
            .map_err(|_| bad("memory_mb: expected whole megabytes"))?;
        let fresh = names.len() as u32;
        let f = *names.entry(name).or_insert(fresh);
        rows.push((t, f, duration, mb));
    }
    if let Some(n) = rows.windows(2).position(|w| w[1].0 < w[0].0) {
        // Row n + 1 (0-based) is on line n + 3: the header, then 1-based lines.
        return Err(format!(
            "{path}, line {}: timestamp_ms: expected rows in time order",
            n + 3
        ));
    }
    Ok((rows, names.len()))
}

/// Runs the rows (in time order) to the end: faasim's same-instant order, executions' ends
/// first, then keep-alives' ends (an instance idle since t is gone for an arrival at exactly
/// t + 600 s), then arrivals.
#[inline(never)]
pub fn simulate(floor: &mut Floor, rows: &[Row]) -> Result<(), String> {
    for &row in rows {
        while let Some(&Reverse((end, i, arrival))) = floor.ends.peek() {
            if end > row.0 {
                break;
            }
            floor.ends.pop();
            floor.expire(end.saturating_sub(1));
            floor.complete(end, i, arrival);
        }
        floor.expire(row.0);
        floor.arrive(row)?;
    }
    while let Some(Reverse((end, i, arrival))) = floor.ends.pop() {
        floor.expire(end.saturating_sub(1));
        floor.complete(end, i, arrival);
    }
    floor.expire(u64::MAX);
    Ok(())
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: day_floor CANONICAL.csv");
        std::process::exit(2);
    };
    let (rows, functions) = read(&path).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    let mut floor = Floor::new(functions, WORKERS, WORKER_MB);
    let started = std::time::Instant::now();
    if let Err(e) = simulate(&mut floor, &rows) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    let wall = started.elapsed().as_secs_f64();
    let billed = floor.billed_mb_ms();
    println!(
        "{} invocations, {} cold starts, {} evictions, latency p50 {} ms p99 {} ms, {billed} billed MB-ms, {:.0} idle GB-s: {wall:.3} s, {:.2} M invocations/s",
        rows.len(),
        floor.cold_starts(),
        floor.evictions,
        floor.latency.quantile(0.5) as f64 / 1000.0,
        floor.latency.quantile(0.99) as f64 / 1000.0,
        floor.idle_mb_us() as f64 / 1024.0 / 1e6,
        rows.len() as f64 / wall / 1e6
    );
}
