//! # The serverful baseline: the same trace on a fleet of VMs
//!
//! What would the workload cost on plain virtual machines? This module replays a trace on a
//! fleet of identical VMs of one instance type, priced from an instance table, with its own
//! small deterministic event loop (it shares the engine's integer time, event queue,
//! arrival sources and percentile digests, nothing else).
//!
//! ## The model
//! - A VM of `vcpus` vCPUs has `vcpus` **slots**: it runs one request per vCPU at a time, and
//!   a request runs for exactly its trace duration (the execution time on an uncontended
//!   core, as in the serverless model; a slot is a whole core, so nothing slows it down).
//!   There are no cold starts: every function is deployed on every VM. Memory is not
//!   modelled: choose a type with enough memory per vCPU for the functions. A burstable type
//!   (t2, t4g) holds its vCPU count only for a burst; the model does not throttle it.
//! - A request that finds every slot busy waits in one FIFO queue, with no timeout: every
//!   request completes. A freed slot (or a VM that becomes ready) takes the head of the queue.
//!   The backlog is held in memory (16 bytes a waiting request), so a badly undersized fleet
//!   on a long trace costs memory in proportion to its backlog.
//! - Requests go to the running VM with the lowest id that has a free slot, so load packs
//!   onto the oldest VMs and the newest ones go idle first.
//! - **Latency** is completion minus arrival (queue delay plus duration); **queue delay** is
//!   dispatch minus arrival.
//!
//! ## Fleets
//! - **`vm-static`**: `vms` VMs, running from time 0 to the end of the run. Sized from the
//!   trace with [`measure_demand`] (a sweep over start/end events of the trace itself:
//!   concurrent executions if every request ran at once) and [`Demand::fleet_size`]:
//!   `ceil(demand / vcpus)` for the peak demand or a time-weighted quantile of it. A fleet
//!   sized for the peak never queues.
//! - **`vm-autoscaled`**: starts with `initial_vms` running VMs. Every `interval` (first at
//!   `interval`) the autoscaler reads the busy slot-time of the last interval and sets
//!   `desired = ceil(busy slot-us / (interval-us x vcpus x target))`, clamped to
//!   `[min_vms, max_vms]`; it launches the missing VMs (usable after `provisioning_delay`)
//!   or stops surplus VMs: VMs still booting first (newest first), then idle running VMs
//!   (highest id first). A busy VM is never stopped, so a tick may stop fewer than asked.
//!   Ticks run while work remains (or until the source's horizon).
//!
//! ## Time and order
//! Integer microseconds. At one instant: completions, then VMs becoming ready, then the
//! arrival(s), then the autoscaler's tick, which sees the state after everything else (the
//! engine's [`EventClass`] order: `Completion`, `InstanceReady`, `Arrival`, `Sample`). Ties
//! among equals are first in, first out. Same trace, same configuration: same report.
//!
//! ## Billing
//! EC2 Linux on-demand is billed per second with a 60 s minimum: a VM that lived `t`
//! (launch to stop, provisioning delay included: billing starts when the instance runs, and
//! the delay is mostly boot and start-up inside it) costs `max(60, ceil(t / 1 s))` seconds at
//! the hourly price / 3600, in exact [`Money`]. The same rule is applied to whichever price
//! column is chosen (a reserved instance is really paid for its whole term; for a static
//! fleet that runs the whole time this is the same). The run ends at the last completion or
//! the source's horizon, whichever is later (the runner hides the horizon when the scenario
//! drains, so a trace and its conversion agree); VMs still running then are stopped and
//! billed.
//! **Utilisation** is busy slot-time over provisioned slot-time (`vcpus` x each VM's
//! lifetime, launch to stop).
//!
//! ## Instance tables
//! An [`InstanceTable`] is data: the engine reads no file. `faasim-experiments` parses
//! tables (`instance_table::parse_instance_table`) and ships the default one. It reads any CSV
//! of the shape of the EC2 table: columns by
//! header name, `api_name`, `vcpus` and `linux_on_demand_usd_per_hour` required, `name`,
//! `memory_gib`, `instance_storage`, `network`, `linux_reserved_1y_usd_per_hour`,
//! `windows_on_demand_usd_per_hour`, `windows_reserved_1y_usd_per_hour` and `note`
//! (`burstable`) optional, other columns ignored; an empty price cell means "not offered".
//! Prices are read as exact decimals. The default table is a dated snapshot: 26 types for US
//! East (N. Virginia), as listed by the EC2 instance comparison site on 2021-04-10.
//!
//! [`EventClass`]: crate::queue::EventClass

use crate::billing::Money;
use crate::digest::Digest;
use crate::queue::{order_key, EventClass, EventQueue};
use crate::time::{SimDuration, SimTime, MICROS_PER_S};
use crate::workload::{Arrival, ArrivalSource, FunctionTable, SourceError};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

/// EC2's minimum billed time per instance, seconds.
pub const VM_MIN_BILLED_S: u64 = 60;

/// One instance type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceType {
    /// The EC2 API name, e.g. `m5a.2xlarge`: the key scenarios name it by.
    pub api_name: String,
    /// The marketing name, e.g. "M5A Double Extra Large" (may be empty).
    pub name: String,
    /// vCPUs: the VM's request slots in the baseline.
    pub vcpus: u32,
    /// Memory in MiB (the table's GiB x 1024, rounded to the nearest MiB).
    pub memory_mib: u64,
    /// Local storage as the table describes it, e.g. "EBS only" (not modelled).
    pub instance_storage: String,
    /// Network performance as the table describes it (not modelled).
    pub network: String,
    /// Linux on-demand, 1e-10 USD per hour; `None` where the table leaves the cell empty.
    pub linux_on_demand: Option<u64>,
    /// Linux, 1-year reserved, 1e-10 USD per hour; `None` if not offered.
    pub linux_reserved_1y: Option<u64>,
    /// Windows on-demand, 1e-10 USD per hour; `None` if not offered.
    pub windows_on_demand: Option<u64>,
    /// Windows, 1-year reserved, 1e-10 USD per hour; `None` if not offered.
    pub windows_reserved_1y: Option<u64>,
    /// The vCPU count holds only for a burst (the table's note says `burstable`).
    pub burstable: bool,
}

/// Which of the table's hourly prices to bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PriceColumn {
    /// Linux on-demand (`linux-on-demand`, the default).
    #[default]
    #[serde(rename = "linux-on-demand")]
    LinuxOnDemand,
    /// Linux with a 1-year reservation (`linux-reserved-1y`), as an hourly rate.
    #[serde(rename = "linux-reserved-1y")]
    LinuxReserved1y,
    /// Windows on-demand (`windows-on-demand`).
    #[serde(rename = "windows-on-demand")]
    WindowsOnDemand,
    /// Windows with a 1-year reservation (`windows-reserved-1y`), as an hourly rate.
    #[serde(rename = "windows-reserved-1y")]
    WindowsReserved1y,
}

impl PriceColumn {
    /// The table column it reads.
    pub fn column(self) -> &'static str {
        match self {
            PriceColumn::LinuxOnDemand => "linux_on_demand_usd_per_hour",
            PriceColumn::LinuxReserved1y => "linux_reserved_1y_usd_per_hour",
            PriceColumn::WindowsOnDemand => "windows_on_demand_usd_per_hour",
            PriceColumn::WindowsReserved1y => "windows_reserved_1y_usd_per_hour",
        }
    }
}

impl InstanceType {
    /// The hourly price in 1e-10 USD, if the table lists one.
    pub fn price_per_hour(&self, column: PriceColumn) -> Option<u64> {
        match column {
            PriceColumn::LinuxOnDemand => self.linux_on_demand,
            PriceColumn::LinuxReserved1y => self.linux_reserved_1y,
            PriceColumn::WindowsOnDemand => self.windows_on_demand,
            PriceColumn::WindowsReserved1y => self.windows_reserved_1y,
        }
    }
}

/// A table of instance types and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceTable {
    /// The file it was read from (or the name of the built-in table).
    pub source: String,
    /// In file order.
    pub types: Vec<InstanceType>,
}

impl InstanceTable {
    /// The type named `api_name`, if the table lists it.
    pub fn get(&self, api_name: &str) -> Option<&InstanceType> {
        self.types.iter().find(|t| t.api_name == api_name)
    }

    /// The type named `api_name`, or an error naming the table and the known types.
    pub fn lookup(&self, api_name: &str) -> Result<&InstanceType, VmError> {
        self.get(api_name).ok_or_else(|| VmError::UnknownType {
            name: api_name.to_owned(),
            table: self.source.clone(),
            known: self
                .types
                .iter()
                .map(|t| t.api_name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Why a VM run could not be set up or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// The instance table has no type of that name.
    #[error("unknown instance type `{name}` in {table} (known: {known})")]
    UnknownType {
        /// The name asked for.
        name: String,
        /// The table's source.
        table: String,
        /// The table's `api_name`s, comma-separated.
        known: String,
    },
    /// The type has no price in the chosen column.
    #[error("instance type `{name}` has no `{column}` price in {table}")]
    NoPrice {
        /// The type's `api_name`.
        name: String,
        /// The missing column's header.
        column: &'static str,
        /// The table's source.
        table: String,
    },
    /// A fleet parameter out of range.
    #[error("invalid VM baseline: {field}: {message}")]
    Config {
        /// The offending field, as the scenario file names it.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A static fleet without `vms` was built without the trace's [`Demand`].
    #[error("a static fleet sized from demand needs the trace's demand (measure_demand) first")]
    DemandNeeded,
    /// The arrival source failed (a bad row, an I/O error).
    #[error(transparent)]
    Source(SourceError),
    /// The source returned arrivals out of time order.
    #[error("arrival {index} at {time} is earlier than the previous one at {previous}: the trace must be sorted by time")]
    Unsorted {
        /// Arrival index (0-based).
        index: u64,
        /// Its time.
        time: SimTime,
        /// The previous arrival's time.
        previous: SimTime,
    },
}

fn config_err(field: &'static str, message: impl Into<String>) -> VmError {
    VmError::Config {
        field,
        message: message.into(),
    }
}

/// The demand a trace places on a server: how many of its executions overlap, if each runs
/// for its trace duration from its arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    /// Microseconds spent at each number of concurrent executions (index), from the first
    /// arrival to the last end.
    pub time_at_level_us: Vec<u64>,
    /// The most executions at once (a zero-length execution counts at its instant).
    pub peak: u32,
    /// Arrivals in the trace.
    pub invocations: u64,
    /// Execution time summed, microseconds.
    pub busy_us: u128,
    /// The first arrival.
    pub start: SimTime,
    /// The last end of an execution (arrival plus duration).
    pub end: SimTime,
}

impl Demand {
    /// The time-weighted `q`-quantile of concurrency: the smallest level the trace stays at
    /// or below for a fraction `q` of its span. `q >= 1` gives the peak.
    pub fn quantile(&self, q: f64) -> u32 {
        let total: u128 = self.time_at_level_us.iter().map(|&t| t as u128).sum();
        if q >= 1.0 || total == 0 {
            return self.peak;
        }
        let need = q.max(0.0) * total as f64;
        let mut seen = 0u128;
        for (level, &t) in self.time_at_level_us.iter().enumerate() {
            seen += t as u128;
            if seen as f64 >= need {
                return level as u32;
            }
        }
        self.peak
    }

    /// Mean concurrency over the span.
    pub fn mean(&self) -> f64 {
        let span = self.end.as_micros().saturating_sub(self.start.as_micros());
        if span == 0 {
            0.0
        } else {
            self.busy_us as f64 / span as f64
        }
    }

    /// VMs of `vcpus` slots for the `q`-quantile of demand: `ceil(quantile / vcpus)`, at
    /// least 1.
    pub fn fleet_size(&self, q: f64, vcpus: u32) -> u32 {
        self.quantile(q).div_ceil(vcpus.max(1)).max(1)
    }
}

/// Pulls the next arrival, checking the order.
fn pull(
    source: &mut dyn ArrivalSource,
    functions: &mut FunctionTable,
    index: u64,
    previous: SimTime,
) -> Result<Option<Arrival>, VmError> {
    let a = source.next_arrival(functions).map_err(VmError::Source)?;
    if let Some(a) = a {
        if a.time < previous {
            return Err(VmError::Unsorted {
                index,
                time: a.time,
                previous,
            });
        }
    }
    Ok(a)
}

/// Measures the trace's demand by a sweep over start and end events (streaming: memory
/// grows with the peak, not the trace). An execution ending at the instant another starts
/// does not overlap it.
pub fn measure_demand(source: &mut dyn ArrivalSource) -> Result<Demand, VmError> {
    let mut functions = FunctionTable::new();
    let mut ends: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut d = Demand {
        time_at_level_us: vec![0],
        peak: 0,
        invocations: 0,
        busy_us: 0,
        start: SimTime::ZERO,
        end: SimTime::ZERO,
    };
    let mut last = 0u64;
    let mut previous = SimTime::ZERO;
    while let Some(a) = pull(source, &mut functions, d.invocations, previous)? {
        previous = a.time;
        let t = a.time.as_micros();
        if d.invocations == 0 {
            d.start = a.time;
            last = t;
        }
        while let Some(&Reverse(e)) = ends.peek() {
            if e > t {
                break;
            }
            ends.pop();
            d.time_at_level_us[ends.len() + 1] += e - last;
            last = e;
        }
        d.time_at_level_us[ends.len()] += t - last;
        last = t;
        let end = t.saturating_add(a.duration.as_micros());
        ends.push(Reverse(end));
        d.end = d.end.max(SimTime(end));
        if ends.len() >= d.time_at_level_us.len() {
            d.time_at_level_us.push(0);
        }
        d.peak = d.peak.max(ends.len() as u32);
        d.invocations += 1;
        d.busy_us += a.duration.as_micros() as u128;
    }
    while let Some(Reverse(e)) = ends.pop() {
        d.time_at_level_us[ends.len() + 1] += e - last;
        last = e;
    }
    while d.time_at_level_us.len() > d.peak as usize + 1 {
        d.time_at_level_us.pop();
    }
    Ok(d)
}

/// The autoscaler of a `vm-autoscaled` fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    /// From the launch decision until the VM takes requests (default 60 s).
    pub provisioning_delay: SimDuration,
    /// Between scaling decisions (default 60 s).
    pub interval: SimDuration,
    /// Target busy fraction of the fleet's slots, in millionths (default 700,000 = 0.7).
    pub target_ppm: u32,
    /// The fewest VMs (default 1); at least 1, so a request always has somewhere to go.
    pub min_vms: u32,
    /// The most VMs (default `u32::MAX`: no cap).
    pub max_vms: u32,
    /// Running at time 0 (default 1).
    pub initial_vms: u32,
}

impl Default for Autoscale {
    fn default() -> Self {
        Autoscale {
            provisioning_delay: SimDuration::from_secs(60),
            interval: SimDuration::from_secs(60),
            target_ppm: 700_000,
            min_vms: 1,
            max_vms: u32::MAX,
            initial_vms: 1,
        }
    }
}

/// How the fleet is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fleet {
    /// `vms` VMs for the whole run.
    Static {
        /// The fleet size (at least 1).
        vms: u32,
    },
    /// VMs launched and stopped by an autoscaler on utilisation.
    Autoscaled(Autoscale),
}

/// Everything a VM baseline run needs besides the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmConfig {
    /// The type of every VM of the fleet.
    pub instance: InstanceType,
    /// Which of its prices is billed.
    pub price: PriceColumn,
    /// Hourly price in 1e-10 USD (from `instance` and `price`; see [`VmConfig::new`]).
    pub price_per_hour: u64,
    /// How the fleet is sized.
    pub fleet: Fleet,
}

impl VmConfig {
    /// A configuration for `instance` billed at its `price` column; checks the fleet.
    pub fn new(
        instance: &InstanceType,
        price: PriceColumn,
        fleet: Fleet,
        table: &str,
    ) -> Result<Self, VmError> {
        let price_per_hour = instance
            .price_per_hour(price)
            .ok_or_else(|| VmError::NoPrice {
                name: instance.api_name.clone(),
                column: price.column(),
                table: table.to_owned(),
            })?;
        match fleet {
            Fleet::Static { vms: 0 } => {
                return Err(config_err("vms", "a static fleet needs at least 1 VM"));
            }
            Fleet::Static { .. } => {}
            Fleet::Autoscaled(a) => {
                if a.interval == SimDuration::ZERO {
                    return Err(config_err("interval_s", "must be > 0"));
                }
                if a.target_ppm == 0 || a.target_ppm > 1_000_000 {
                    return Err(config_err("target_utilisation", "must be in (0, 1]"));
                }
                if a.min_vms == 0 {
                    return Err(config_err("min_vms", "must be at least 1"));
                }
                if a.max_vms < a.min_vms {
                    return Err(config_err("max_vms", "must be at least min_vms"));
                }
                if a.initial_vms < a.min_vms || a.initial_vms > a.max_vms {
                    return Err(config_err(
                        "initial_vms",
                        "must lie between min_vms and max_vms",
                    ));
                }
            }
        }
        Ok(VmConfig {
            instance: instance.clone(),
            price,
            price_per_hour,
            fleet,
        })
    }
}

/// What a VM baseline run reports: the serverless run's figures where they make sense.
#[derive(Debug, Clone)]
pub struct VmReport {
    /// The instance type's `api_name`.
    pub instance_type: String,
    /// vCPUs (slots) per VM.
    pub vcpus: u32,
    /// 1e-10 USD per hour.
    pub price_per_hour: u64,
    /// Arrivals.
    pub invocations: u64,
    /// Invocations completed: every one, as the queue has no timeout.
    pub completed: u64,
    /// Completion minus arrival, µs.
    pub latency_us: Digest,
    /// Dispatch minus arrival (zero if a slot was free), µs.
    pub queue_delay_us: Digest,
    /// Longest queue of waiting requests.
    pub peak_queue: u64,
    /// VMs launched over the run, the initial ones included.
    pub vms_launched: u64,
    /// Most VMs alive (running or booting) at once.
    pub peak_vms: u32,
    /// VM lifetimes summed (launch to stop), microseconds.
    pub vm_us: u128,
    /// Billed VM-seconds (per-second rounding, 60 s minimum per VM).
    pub billed_vm_s: u128,
    /// The fleet's bill: billed VM-seconds at the hourly price / 3600.
    pub cost: Money,
    /// Slot-time spent executing requests, microseconds.
    pub busy_slot_us: u128,
    /// `vcpus` x VM lifetimes, microseconds.
    pub provisioned_slot_us: u128,
    /// The end of the run: the last completion, or the source's horizon if later.
    pub end: SimTime,
}

impl VmReport {
    /// VM lifetimes summed, hours.
    pub fn vm_hours(&self) -> f64 {
        self.vm_us as f64 / 3.6e9
    }
    /// Busy slot-time over provisioned slot-time.
    pub fn utilisation(&self) -> f64 {
        if self.provisioned_slot_us == 0 {
            0.0
        } else {
            self.busy_slot_us as f64 / self.provisioned_slot_us as f64
        }
    }
    /// The fleet's bill in USD (for output).
    pub fn cost_usd(&self) -> f64 {
        self.cost.to_usd()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VmState {
    Booting,
    Running,
    Stopped,
}

#[derive(Debug, Clone, Copy)]
struct Vm {
    launched: SimTime,
    state: VmState,
    busy: u32,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Done { vm: u32, arrival: SimTime },
    Ready { vm: u32 },
    Tick,
}

struct Sim<'a> {
    cfg: &'a VmConfig,
    vcpus: u32,
    q: EventQueue<Ev>,
    vms: Vec<Vm>,
    /// Running VMs with a free slot.
    free: BTreeSet<u32>,
    booting: BTreeSet<u32>,
    alive: u32,
    queue: VecDeque<(SimTime, SimDuration)>,
    in_flight: u64,
    busy_slots: u64,
    busy_area: u128,
    area_at_tick: u128,
    last_change: SimTime,
    r: VmReport,
}

impl Sim<'_> {
    fn advance(&mut self, now: SimTime) {
        self.busy_area += self.busy_slots as u128 * (now - self.last_change).as_micros() as u128;
        self.last_change = now;
    }

    fn launch(&mut self, now: SimTime, state: VmState) -> u32 {
        let id = self.vms.len() as u32;
        self.vms.push(Vm {
            launched: now,
            state,
            busy: 0,
        });
        match state {
            VmState::Running => {
                self.free.insert(id);
            }
            _ => {
                self.booting.insert(id);
            }
        }
        self.alive += 1;
        self.r.vms_launched += 1;
        self.r.peak_vms = self.r.peak_vms.max(self.alive);
        id
    }

    fn stop(&mut self, vm: u32, now: SimTime) {
        let v = &mut self.vms[vm as usize];
        debug_assert!(v.busy == 0 && v.state != VmState::Stopped);
        v.state = VmState::Stopped;
        self.free.remove(&vm);
        self.booting.remove(&vm);
        self.alive -= 1;
        let life = (now - v.launched).as_micros();
        let billed_s = life.div_ceil(MICROS_PER_S).max(VM_MIN_BILLED_S);
        self.r.vm_us += life as u128;
        self.r.billed_vm_s += billed_s as u128;
        self.r.provisioned_slot_us += self.vcpus as u128 * life as u128;
        self.r.cost += Money::for_seconds(billed_s as u128, self.cfg.price_per_hour);
    }

    fn dispatch(&mut self, now: SimTime, arrival: SimTime, duration: SimDuration) {
        let vm = *self.free.first().expect("dispatch needs a free slot");
        self.advance(now);
        self.busy_slots += 1;
        self.in_flight += 1;
        let v = &mut self.vms[vm as usize];
        v.busy += 1;
        if v.busy == self.vcpus {
            self.free.remove(&vm);
        }
        self.r.queue_delay_us.add((now - arrival).as_micros());
        self.r.busy_slot_us += duration.as_micros() as u128;
        self.q.push(
            now + duration,
            EventClass::Completion,
            Ev::Done { vm, arrival },
        );
    }

    fn serve_queue(&mut self, now: SimTime) {
        while !self.free.is_empty() {
            let Some((arrival, duration)) = self.queue.pop_front() else {
                return;
            };
            self.dispatch(now, arrival, duration);
        }
    }

    fn tick(&mut self, now: SimTime, a: &Autoscale) {
        self.advance(now);
        let area = self.busy_area - self.area_at_tick;
        self.area_at_tick = self.busy_area;
        let denom = a.interval.as_micros() as u128 * self.vcpus as u128 * a.target_ppm as u128;
        let desired = (area * 1_000_000).div_ceil(denom);
        let desired = desired.clamp(a.min_vms as u128, a.max_vms as u128) as u32;
        if desired > self.alive {
            for _ in 0..desired - self.alive {
                let vm = self.launch(now, VmState::Booting);
                self.q.push(
                    now + a.provisioning_delay,
                    EventClass::InstanceReady,
                    Ev::Ready { vm },
                );
            }
        } else if desired < self.alive {
            let surplus = (self.alive - desired) as usize;
            let mut victims: Vec<u32> = self.booting.iter().rev().take(surplus).copied().collect();
            let more = surplus - victims.len();
            victims.extend(
                self.free
                    .iter()
                    .rev()
                    .filter(|&&vm| self.vms[vm as usize].busy == 0)
                    .take(more),
            );
            for vm in victims {
                self.stop(vm, now);
            }
        }
    }
}

/// Replays `source` on the fleet `cfg` describes.
pub fn run_fleet(cfg: &VmConfig, source: &mut dyn ArrivalSource) -> Result<VmReport, VmError> {
    let vcpus = cfg.instance.vcpus.max(1);
    let mut s = Sim {
        cfg,
        vcpus,
        q: EventQueue::new(),
        vms: Vec::new(),
        free: BTreeSet::new(),
        booting: BTreeSet::new(),
        alive: 0,
        queue: VecDeque::new(),
        in_flight: 0,
        busy_slots: 0,
        busy_area: 0,
        area_at_tick: 0,
        last_change: SimTime::ZERO,
        r: VmReport {
            instance_type: cfg.instance.api_name.clone(),
            vcpus,
            price_per_hour: cfg.price_per_hour,
            invocations: 0,
            completed: 0,
            latency_us: Digest::run_wide(),
            queue_delay_us: Digest::run_wide(),
            peak_queue: 0,
            vms_launched: 0,
            peak_vms: 0,
            vm_us: 0,
            billed_vm_s: 0,
            cost: Money::ZERO,
            busy_slot_us: 0,
            provisioned_slot_us: 0,
            end: SimTime::ZERO,
        },
    };
    let autoscale = match cfg.fleet {
        Fleet::Static { vms } => {
            for _ in 0..vms {
                s.launch(SimTime::ZERO, VmState::Running);
            }
            None
        }
        Fleet::Autoscaled(a) => {
            for _ in 0..a.initial_vms {
                s.launch(SimTime::ZERO, VmState::Running);
            }
            s.q.push(SimTime::ZERO + a.interval, EventClass::Sample, Ev::Tick);
            Some(a)
        }
    };
    let horizon = source.horizon().unwrap_or(SimTime::ZERO);
    let mut functions = FunctionTable::new();
    let mut previous = SimTime::ZERO;
    let mut next = pull(source, &mut functions, 0, previous)?;
    let mut end = SimTime::ZERO;
    loop {
        let arrival_first = match (next, s.q.peek_key()) {
            (Some(a), Some(k)) => order_key(a.time, EventClass::Arrival, 0) < k,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if arrival_first {
            let a = next.expect("checked above");
            let now = a.time;
            s.r.invocations += 1;
            end = end.max(now);
            if s.queue.is_empty() && !s.free.is_empty() {
                s.dispatch(now, now, a.duration);
            } else {
                s.queue.push_back((now, a.duration));
                s.r.peak_queue = s.r.peak_queue.max(s.queue.len() as u64);
            }
            previous = now;
            next = pull(source, &mut functions, s.r.invocations, previous)?;
            continue;
        }
        let (now, ev) = s.q.pop().expect("peeked");
        match ev {
            Ev::Done { vm, arrival } => {
                s.advance(now);
                s.busy_slots -= 1;
                s.in_flight -= 1;
                s.vms[vm as usize].busy -= 1;
                s.free.insert(vm);
                s.r.completed += 1;
                s.r.latency_us.add((now - arrival).as_micros());
                end = end.max(now);
                s.serve_queue(now);
            }
            Ev::Ready { vm } => {
                let v = &mut s.vms[vm as usize];
                if v.state == VmState::Booting {
                    v.state = VmState::Running;
                    s.booting.remove(&vm);
                    s.free.insert(vm);
                    s.serve_queue(now);
                }
            }
            Ev::Tick => {
                let a = autoscale.expect("ticks only with an autoscaler");
                let work = next.is_some() || s.in_flight > 0 || !s.queue.is_empty();
                if work || now < horizon {
                    s.tick(now, &a);
                    s.q.push(now + a.interval, EventClass::Sample, Ev::Tick);
                }
            }
        }
    }
    let end = end.max(horizon);
    s.advance(end);
    let alive: Vec<u32> = (0..s.vms.len() as u32)
        .filter(|&vm| s.vms[vm as usize].state != VmState::Stopped)
        .collect();
    for vm in alive {
        s.stop(vm, end);
    }
    s.r.end = end;
    Ok(s.r)
}

fn sixty() -> f64 {
    60.0
}
fn one_f64() -> f64 {
    1.0
}
fn point_seven() -> f64 {
    0.7
}
fn one_u32() -> u32 {
    1
}

/// The scenario form of a VM baseline (`fleet = "vm-static"` or `"vm-autoscaled"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fleet", rename_all = "kebab-case", deny_unknown_fields)]
pub enum VmSpec {
    /// A fixed fleet: `vms` VMs, or sized from the trace for a quantile of its demand.
    VmStatic {
        /// An `api_name` of the instance table.
        instance_type: String,
        /// An instance table file of the EC2 table's shape; the built-in 2021-04-10 EC2
        /// us-east-1 table when absent. The caller reads it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance_table: Option<String>,
        /// Which hourly price to bill (default `linux-on-demand`).
        #[serde(default)]
        price: PriceColumn,
        /// A fixed fleet size; when absent the fleet is sized from the trace's demand.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vms: Option<u32>,
        /// The quantile of concurrent executions to size for (default 1 = the peak).
        #[serde(default = "one_f64")]
        demand_quantile: f64,
    },
    /// A fleet scaled on utilisation.
    VmAutoscaled {
        /// An `api_name` of the instance table.
        instance_type: String,
        /// An instance table file, as for `vm-static`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance_table: Option<String>,
        /// Which hourly price to bill (default `linux-on-demand`).
        #[serde(default)]
        price: PriceColumn,
        /// Launch to ready, seconds (default 60).
        #[serde(default = "sixty")]
        provisioning_delay_s: f64,
        /// Between scaling decisions, seconds (default 60).
        #[serde(default = "sixty")]
        interval_s: f64,
        /// Target busy fraction of the slots, in (0, 1] (default 0.7).
        #[serde(default = "point_seven")]
        target_utilisation: f64,
        /// The fewest VMs (default 1).
        #[serde(default = "one_u32")]
        min_vms: u32,
        /// The most VMs (default: no cap).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_vms: Option<u32>,
        /// VMs running at time 0 (default `min_vms`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_vms: Option<u32>,
    },
}

fn seconds(field: &'static str, s: f64) -> Result<SimDuration, VmError> {
    if !(s.is_finite() && s >= 0.0) {
        return Err(config_err(
            field,
            format!("must be a number of seconds >= 0, got {s}"),
        ));
    }
    SimDuration::try_from_ms_f64(s * 1e3)
        .ok_or_else(|| config_err(field, format!("out of range: {s}")))
}

impl VmSpec {
    /// `"vm-static"` or `"vm-autoscaled"`.
    pub fn kind(&self) -> &'static str {
        match self {
            VmSpec::VmStatic { .. } => "vm-static",
            VmSpec::VmAutoscaled { .. } => "vm-autoscaled",
        }
    }
    /// The instance type's `api_name`.
    pub fn instance_type(&self) -> &str {
        match self {
            VmSpec::VmStatic { instance_type, .. } | VmSpec::VmAutoscaled { instance_type, .. } => {
                instance_type
            }
        }
    }
    /// The instance table file to read, if not the built-in one.
    pub fn instance_table(&self) -> Option<&str> {
        match self {
            VmSpec::VmStatic { instance_table, .. }
            | VmSpec::VmAutoscaled { instance_table, .. } => instance_table.as_deref(),
        }
    }
    /// True if [`VmSpec::build`] needs the trace's [`Demand`] (a static fleet without `vms`).
    pub fn needs_demand(&self) -> bool {
        matches!(self, VmSpec::VmStatic { vms: None, .. })
    }

    /// The run configuration, with `instance_type` looked up in `table`.
    pub fn build(
        &self,
        table: &InstanceTable,
        demand: Option<&Demand>,
    ) -> Result<VmConfig, VmError> {
        let instance = table.lookup(self.instance_type())?;
        match *self {
            VmSpec::VmStatic {
                price,
                vms,
                demand_quantile,
                ..
            } => {
                if !(demand_quantile.is_finite() && demand_quantile > 0.0 && demand_quantile <= 1.0)
                {
                    return Err(config_err(
                        "demand_quantile",
                        format!("must be in (0, 1], got {demand_quantile}"),
                    ));
                }
                let vms = match (vms, demand) {
                    (Some(n), _) => n,
                    (None, Some(d)) => d.fleet_size(demand_quantile, instance.vcpus),
                    (None, None) => return Err(VmError::DemandNeeded),
                };
                VmConfig::new(instance, price, Fleet::Static { vms }, &table.source)
            }
            VmSpec::VmAutoscaled {
                price,
                provisioning_delay_s,
                interval_s,
                target_utilisation,
                min_vms,
                max_vms,
                initial_vms,
                ..
            } => {
                let t = target_utilisation;
                if !(t.is_finite() && t > 0.0 && t <= 1.0) {
                    return Err(config_err(
                        "target_utilisation",
                        format!("must be in (0, 1], got {t}"),
                    ));
                }
                let a = Autoscale {
                    provisioning_delay: seconds("provisioning_delay_s", provisioning_delay_s)?,
                    interval: seconds("interval_s", interval_s)?,
                    target_ppm: (t * 1e6).round() as u32,
                    min_vms,
                    max_vms: max_vms.unwrap_or(u32::MAX),
                    initial_vms: initial_vms.unwrap_or(min_vms),
                };
                VmConfig::new(instance, price, Fleet::Autoscaled(a), &table.source)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::usd_str_to_price_units;
    use crate::ids::FunctionId;
    use crate::workload::{FunctionSpec, VecSource};

    const S: u64 = 1_000_000;

    fn source(arrivals: &[(u64, u64)]) -> VecSource {
        VecSource::new(
            vec![FunctionSpec {
                name: "f".into(),
                memory_mb: 128,
            }],
            arrivals
                .iter()
                .map(|&(t, d)| Arrival {
                    time: SimTime(t),
                    function: FunctionId(0),
                    duration: SimDuration(d),
                    cold_start: None,
                    mode: None,
                })
                .collect(),
        )
    }

    fn instance(vcpus: u32, usd_per_hour: &str) -> InstanceType {
        InstanceType {
            api_name: "test.vm".into(),
            name: String::new(),
            vcpus,
            memory_mib: 1024,
            instance_storage: String::new(),
            network: String::new(),
            linux_on_demand: usd_str_to_price_units(usd_per_hour),
            linux_reserved_1y: None,
            windows_on_demand: None,
            windows_reserved_1y: None,
            burstable: false,
        }
    }

    fn cfg(vcpus: u32, usd_per_hour: &str, fleet: Fleet) -> VmConfig {
        VmConfig::new(
            &instance(vcpus, usd_per_hour),
            PriceColumn::LinuxOnDemand,
            fleet,
            "test",
        )
        .unwrap()
    }

    fn latencies(r: &mut VmReport) -> Vec<u64> {
        (1..=r.latency_us.count())
            .map(|k| {
                r.latency_us
                    .quantile(k as f64 / r.latency_us.count() as f64)
            })
            .collect()
    }

    #[test]
    fn demand_is_the_overlap_of_executions() {
        // [0,10) [2,5) [5,8) [5,6) [12,12): levels over time 0-2:1, 2-5:2, 5-6:3, 6-8:2,
        // 8-10:1, 10-12:0, and a zero-length execution at 12.
        let mut src = source(&[(0, 10), (2, 3), (5, 3), (5, 1), (12, 0)]);
        let d = measure_demand(&mut src).unwrap();
        assert_eq!(d.peak, 3);
        assert_eq!(d.time_at_level_us, vec![2, 4, 5, 1]);
        assert_eq!(d.invocations, 5);
        assert_eq!(d.busy_us, 17);
        assert_eq!((d.start, d.end), (SimTime(0), SimTime(12)));
        assert_eq!(d.quantile(1.0), 3);
        // At most 0 for 2 of 12 us, at most 1 for 6, at most 2 for 11.
        assert_eq!(d.quantile(0.1), 0);
        assert_eq!(d.quantile(0.5), 1);
        assert_eq!(d.quantile(0.51), 2);
        assert_eq!(d.quantile(0.95), 3);
        assert_eq!(d.fleet_size(1.0, 2), 2);
        assert_eq!(d.fleet_size(1.0, 4), 1);
        assert_eq!(d.fleet_size(0.1, 4), 1);
        // An execution that ends when the next starts does not overlap it.
        let d = measure_demand(&mut source(&[(0, 5), (5, 5), (10, 5)])).unwrap();
        assert_eq!(d.peak, 1);
        let d = measure_demand(&mut source(&[(5, 1), (3, 1)]));
        assert!(matches!(d, Err(VmError::Unsorted { index: 1, .. })));
    }

    #[test]
    fn a_static_fleet_sized_for_the_peak_never_queues() {
        // Peak 5 overlapping executions on 2-vCPU VMs: 3 VMs.
        let arrivals = [
            (0, 4 * S),
            (S, 4 * S),
            (S, 2 * S),
            (2 * S, S),
            (2 * S, 5 * S),
            (3 * S, S),
        ];
        let d = measure_demand(&mut source(&arrivals)).unwrap();
        assert_eq!(d.peak, 5);
        let vms = d.fleet_size(1.0, 2);
        assert_eq!(vms, 3);
        let mut r = run_fleet(
            &cfg(2, "0.1", Fleet::Static { vms }),
            &mut source(&arrivals),
        )
        .unwrap();
        assert_eq!(r.completed, 6);
        assert_eq!(r.queue_delay_us.max(), 0);
        assert_eq!(r.peak_queue, 0);
        assert_eq!(r.peak_vms, 3);
        // One VM fewer queues.
        let r2 = run_fleet(
            &cfg(2, "0.1", Fleet::Static { vms: 2 }),
            &mut source(&arrivals),
        )
        .unwrap();
        assert!(r2.peak_queue > 0);
        // The spec sizes the same fleet from the demand.
        let t = InstanceTable {
            source: "t".into(),
            types: vec![instance(2, "0.1")],
        };
        let spec = VmSpec::VmStatic {
            instance_type: "test.vm".into(),
            instance_table: None,
            price: PriceColumn::LinuxOnDemand,
            vms: None,
            demand_quantile: 1.0,
        };
        assert!(spec.needs_demand());
        assert!(matches!(spec.build(&t, None), Err(VmError::DemandNeeded)));
        assert_eq!(
            spec.build(&t, Some(&d)).unwrap().fleet,
            Fleet::Static { vms: 3 }
        );
        // Ends at 7 s (the arrival at 2 s runs 5 s); 3 VMs x 60 s minimum x $0.1/h.
        assert_eq!(r.end, SimTime(7 * S));
        assert_eq!(r.billed_vm_s, 180);
        assert_eq!(r.cost, Money::for_seconds(180, 1_000_000_000));
        assert_eq!(r.cost.to_usd(), 0.005);
        assert_eq!(latencies(&mut r), vec![S, S, 2 * S, 4 * S, 4 * S, 5 * S]);
        assert_eq!(r.busy_slot_us, 17 * S as u128);
        assert_eq!(r.provisioned_slot_us, 3 * 2 * 7 * S as u128);
    }

    #[test]
    fn requests_queue_fifo_when_every_slot_is_busy() {
        // One VM with 2 slots. Four requests at 0 of 10 s, 4 s, 3 s, 1 s; one at 5 s of 1 s.
        // Slots: A [0,10) and B [0,4); C waits for B: [4,7); D waits for C: [7,8);
        // E arrives at 5 s behind D and takes the slot D frees at 8 s.
        let arrivals = [(0, 10 * S), (0, 4 * S), (0, 3 * S), (0, S), (5 * S, S)];
        let mut r = run_fleet(
            &cfg(2, "0.036", Fleet::Static { vms: 1 }),
            &mut source(&arrivals),
        )
        .unwrap();
        assert_eq!(r.completed, 5);
        assert_eq!(r.peak_queue, 2);
        // Latencies: A 10, B 4, C 7, D 8, E (8..9) - 5 = 4.
        assert_eq!(latencies(&mut r), vec![4 * S, 4 * S, 7 * S, 8 * S, 10 * S]);
        // Queue delays: A 0, B 0, C 4, D 7, E 3.
        assert_eq!(r.queue_delay_us.sum(), (4 + 7 + 3) * S as u128);
        assert_eq!(r.queue_delay_us.max(), 7 * S);
        assert_eq!(r.end, SimTime(10 * S));
        // 10 s of life bills the 60 s minimum: 60 x $0.036/h / 3600 = $0.0006.
        assert_eq!(r.billed_vm_s, 60);
        assert_eq!(r.cost.to_usd(), 0.0006);
        assert_eq!(r.busy_slot_us, 19 * S as u128);
        assert_eq!(r.utilisation(), 19.0 / 20.0);
    }

    #[test]
    fn autoscaled_fleet_by_hand() {
        // 1-vCPU VMs at $0.0116/h (t2.micro), ticks every 60 s, target 0.5, delay 30 s,
        // one VM at time 0.
        //
        // t=0: A (90 s) takes VM0. t=10 s: B (100 s) queues.
        // t=60 (tick 1): busy area in (0,60] = 60 s -> desired ceil(60/(60 x 0.5)) = 2:
        //   launch VM1, ready at 90 s.
        // t=90: A ends on VM0 (latency 90 s); B takes VM0 (queue delay 80 s) until 190.
        //   VM1 becomes ready at 90 s too (after the completion): nothing waits.
        // t=120 (tick 2): busy (60,120] = 60 s -> desired 2, no change.
        // t=125: C (10 s) arrives and takes VM1 (lowest id with a free slot), ends 135.
        // t=180 (tick 3): busy (120,180] = 60 + 10 = 70 s -> ceil(70/30) = 3: launch VM2,
        //   ready at 210.
        // t=190: B ends (latency 180 s). Nothing left: the run ends at 190 s (VM2's ready
        //   event at 210 s and the tick at 240 s change nothing).
        // Bills: VM0 0..190 = 190 s; VM1 60..190 = 130 s; VM2 180..190 = 10 s -> 60 s.
        let a = Autoscale {
            provisioning_delay: SimDuration::from_secs(30),
            interval: SimDuration::from_secs(60),
            target_ppm: 500_000,
            min_vms: 1,
            max_vms: 10,
            initial_vms: 1,
        };
        let arrivals = [(0, 90 * S), (10 * S, 100 * S), (125 * S, 10 * S)];
        let mut r = run_fleet(
            &cfg(1, "0.0116", Fleet::Autoscaled(a)),
            &mut source(&arrivals),
        )
        .unwrap();
        assert_eq!(r.completed, 3);
        assert_eq!(latencies(&mut r), vec![10 * S, 90 * S, 180 * S]);
        assert_eq!(r.queue_delay_us.sum(), 80 * S as u128);
        assert_eq!(r.vms_launched, 3);
        assert_eq!(r.peak_vms, 3);
        assert_eq!(r.end, SimTime(190 * S));
        assert_eq!(r.vm_us, (190 + 130 + 10) * S as u128);
        assert_eq!(r.billed_vm_s, 190 + 130 + 60);
        // 380 s x $0.0116 / 3600 = $0.00122444...: exact as 380 x 116,000,000 / 3600 units.
        assert_eq!(r.cost, Money::for_seconds(380, 116_000_000));
        assert_eq!(
            r.cost.0 * 3600,
            Money::from_price_units(380 * 116_000_000).0
        );
        assert!((r.cost.to_usd() - 380.0 * 0.0116 / 3600.0).abs() < 1e-15);
        assert_eq!(r.busy_slot_us, 200 * S as u128);
        assert_eq!(r.provisioned_slot_us, 330 * S as u128);
    }

    #[test]
    fn autoscaler_stops_idle_vms_and_keeps_the_minimum() {
        // Three VMs at 0, no delay; one short request; ticks every 10 s with target 1.0:
        // the first tick sees 1 s busy -> desired 1: VM2 and VM1 stop at 10 s (idle,
        // highest id first). The horizon (30 s) keeps ticking; VM0 lives to 30 s.
        let a = Autoscale {
            provisioning_delay: SimDuration::ZERO,
            interval: SimDuration::from_secs(10),
            target_ppm: 1_000_000,
            min_vms: 1,
            max_vms: 5,
            initial_vms: 3,
        };
        let mut src = source(&[(0, S)]).with_horizon(SimTime(30 * S));
        let r = run_fleet(&cfg(1, "3.6", Fleet::Autoscaled(a)), &mut src).unwrap();
        assert_eq!(r.end, SimTime(30 * S));
        assert_eq!(r.vm_us, (30 + 10 + 10) * S as u128);
        assert_eq!(r.billed_vm_s, 180); // every VM bills the 60 s minimum
        assert_eq!(r.cost.to_usd(), 0.18); // 180 s at $0.001 per second
        assert_eq!(r.peak_vms, 3);
    }

    #[test]
    fn a_zero_delay_vm_serves_the_queue_at_the_tick() {
        // One 1-vCPU VM busy with A [0, 100 s); B arrives at 1 s and waits. The tick at
        // 10 s sees 10 s busy of 10 s -> desired ceil(1/0.5) = 2; the new VM is ready at
        // once and B starts at 10 s.
        let a = Autoscale {
            provisioning_delay: SimDuration::ZERO,
            interval: SimDuration::from_secs(10),
            target_ppm: 500_000,
            min_vms: 1,
            max_vms: 2,
            initial_vms: 1,
        };
        let mut r = run_fleet(
            &cfg(1, "1", Fleet::Autoscaled(a)),
            &mut source(&[(0, 100 * S), (S, 5 * S)]),
        )
        .unwrap();
        assert_eq!(latencies(&mut r), vec![14 * S, 100 * S]);
        assert_eq!(r.queue_delay_us.max(), 9 * S);
    }

    #[test]
    fn specs_check_their_parameters() {
        let t = InstanceTable {
            source: "t".into(),
            types: vec![instance(4, "0.2")],
        };
        let auto = VmSpec::VmAutoscaled {
            instance_type: "test.vm".into(),
            instance_table: None,
            price: PriceColumn::LinuxOnDemand,
            provisioning_delay_s: 60.0,
            interval_s: 60.0,
            target_utilisation: 0.7,
            min_vms: 1,
            max_vms: None,
            initial_vms: None,
        };
        let c = auto.build(&t, None).unwrap();
        assert_eq!(c.fleet, Fleet::Autoscaled(Autoscale::default()));
        assert_eq!(c.price_per_hour, 2_000_000_000);
        let bad = |spec: VmSpec| spec.build(&t, None).unwrap_err().to_string();
        let mut s = auto.clone();
        if let VmSpec::VmAutoscaled {
            target_utilisation, ..
        } = &mut s
        {
            *target_utilisation = 1.5;
        }
        assert!(bad(s).contains("target_utilisation"));
        let mut s = auto.clone();
        if let VmSpec::VmAutoscaled { interval_s, .. } = &mut s {
            *interval_s = 0.0;
        }
        assert!(bad(s).contains("interval_s"));
        let mut s = auto.clone();
        if let VmSpec::VmAutoscaled { price, .. } = &mut s {
            *price = PriceColumn::WindowsOnDemand;
        }
        assert!(bad(s).contains("no `windows_on_demand_usd_per_hour` price"));
        let mut s = auto;
        if let VmSpec::VmAutoscaled { instance_type, .. } = &mut s {
            *instance_type = "nope".into();
        }
        assert!(bad(s).contains("unknown instance type `nope`"));
    }
}
