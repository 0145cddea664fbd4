//! What the engine replays: a table of functions and a time-ordered stream of arrivals.
//!
//! Arrivals are pulled one at a time from an [`ArrivalSource`] and merged with the event
//! heap, so the heap never holds the trace. A source may discover functions as it reads
//! (a streaming CSV reader does): it appends them to the [`FunctionTable`] it is handed
//! before returning an arrival that names them.

use crate::ids::FunctionId;
use crate::provider::InvocationMode;
use crate::time::{SimDuration, SimTime};
use std::error::Error;

/// A deployable function (or application, when apps are the unit of deployment).
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// The function's name as the trace gives it (unique within a run).
    pub name: String,
    /// Memory of one instance, in MB.
    pub memory_mb: u32,
}

/// Functions known so far, indexed by `FunctionId` in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct FunctionTable {
    functions: Vec<FunctionSpec>,
}

impl FunctionTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a function and returns its id (the next index).
    pub fn push(&mut self, spec: FunctionSpec) -> FunctionId {
        let id = FunctionId(self.functions.len() as u32);
        self.functions.push(spec);
        id
    }
    /// Sets the memory of `id` (a per-function setting overriding the trace's).
    pub(crate) fn set_memory(&mut self, id: FunctionId, memory_mb: u32) {
        self.functions[id.index()].memory_mb = memory_mb;
    }
    /// Functions known so far.
    pub fn len(&self) -> usize {
        self.functions.len()
    }
    /// Whether no function is known yet.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }
    /// The function `id`; panics if the table does not hold it.
    pub fn get(&self, id: FunctionId) -> &FunctionSpec {
        &self.functions[id.index()]
    }
    /// The functions with their ids, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FunctionId, &FunctionSpec)> {
        self.functions
            .iter()
            .enumerate()
            .map(|(i, f)| (FunctionId(i as u32), f))
    }
}

/// One invocation as the trace gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// When the request arrives.
    pub time: SimTime,
    /// The function invoked (an id in the source's [`FunctionTable`]).
    pub function: FunctionId,
    /// Execution time on an uncontended core.
    pub duration: SimDuration,
    /// A cold-start latency given by the trace for this invocation, overriding the model
    /// if this invocation causes a cold start.
    pub cold_start: Option<SimDuration>,
    /// How this invocation is made, when the trace says (a `mode` column); `None` takes the
    /// function's setting (`[functions."NAME"] invocation`, synchronous by default).
    pub mode: Option<InvocationMode>,
}

/// Errors a source reports (a bad row, an I/O failure); the engine stops and passes it on.
pub type SourceError = Box<dyn Error + Send + Sync + 'static>;

/// A time-ordered stream of arrivals.
pub trait ArrivalSource {
    /// The next arrival, in non-decreasing time order, or `None` at the end.
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError>;

    /// Appends up to `max` (at least 1) next arrivals to `out` and returns how many (0 at
    /// the end): what as many calls of [`next_arrival`](Self::next_arrival) would return,
    /// with one call's overhead. The functions this call registers must be exactly those the
    /// first of those calls would: a source ends the batch before an arrival whose own call
    /// would register a function, so the engine, which registers new functions after each
    /// call, does so at the same point of the run. The default takes one arrival. A source
    /// with [`tokens`](Self::tokens) must keep the default (tokens are per call).
    fn next_arrivals(
        &mut self,
        functions: &mut FunctionTable,
        out: &mut Vec<Arrival>,
        max: usize,
    ) -> Result<usize, SourceError> {
        let _ = max;
        Ok(match self.next_arrival(functions)? {
            Some(a) => {
                out.push(a);
                1
            }
            None => 0,
        })
    }

    /// The nominal end of the workload, if it has one (a generator's length): where a run
    /// with [`RunEnd::Horizon`](crate::RunEnd::Horizon) and no instant of its own stops.
    /// Arrivals at or after it are outside the run; timers up to it still fire.
    fn horizon(&self) -> Option<SimTime> {
        None
    }

    /// The token counts of the arrival the last `next_arrival` returned, for sources that
    /// have them (LLM traces); model serving reads them for models with a token model.
    fn tokens(&self) -> Option<crate::models::Tokens> {
        None
    }
}

/// A source over arrivals held in memory: for tests, examples and pre-generated benchmarks.
#[derive(Debug, Clone)]
pub struct VecSource {
    functions: Vec<FunctionSpec>,
    arrivals: std::vec::IntoIter<Arrival>,
    horizon: Option<SimTime>,
}

impl VecSource {
    /// `arrivals` must be sorted by time and name functions by their index in `functions`.
    pub fn new(functions: Vec<FunctionSpec>, arrivals: Vec<Arrival>) -> Self {
        Self {
            functions,
            arrivals: arrivals.into_iter(),
            horizon: None,
        }
    }
    /// Registers every function at the first call (so any batch may be whole).
    fn register(&mut self, functions: &mut FunctionTable) {
        if functions.is_empty() {
            for f in self.functions.drain(..) {
                functions.push(f);
            }
        }
    }
    /// The same source with a nominal end (see [`ArrivalSource::horizon`]).
    pub fn with_horizon(mut self, horizon: SimTime) -> Self {
        self.horizon = Some(horizon);
        self
    }
}

impl ArrivalSource for VecSource {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        self.register(functions);
        Ok(self.arrivals.next())
    }
    fn next_arrivals(
        &mut self,
        functions: &mut FunctionTable,
        out: &mut Vec<Arrival>,
        max: usize,
    ) -> Result<usize, SourceError> {
        self.register(functions);
        let before = out.len();
        out.extend(self.arrivals.by_ref().take(max.max(1)));
        Ok(out.len() - before)
    }
    fn horizon(&self) -> Option<SimTime> {
        self.horizon
    }
}
