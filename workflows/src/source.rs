//! The trace as the engine sees it in a run with workflows: the workflows' functions are
//! registered first (so their engine ids are their indexes in
//! [`Workflows::functions`](crate::Workflows)), and the trace's functions are mapped onto
//! them by name.

use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, SimTime, SourceError,
};

/// A trace function that is also a workflow's function, with another memory.
#[derive(Debug, thiserror::Error)]
#[error("function `{function}`, key `memory_mb`: {trace_mb} MB in the trace but {workflow_mb} MB in the workflow states that run it; a function has one memory size (make them agree, or give the task another function name)")]
pub struct MemoryMismatch {
    /// The function.
    pub function: String,
    /// Its memory in the trace.
    pub trace_mb: u32,
    /// Its memory in the workflow definitions.
    pub workflow_mb: u32,
}

/// Wraps a trace; see the module docs.
pub struct WorkflowSource<'a> {
    inner: &'a mut dyn ArrivalSource,
    functions: Vec<FunctionSpec>,
    inner_table: FunctionTable,
    map: Vec<FunctionId>,
    started: bool,
}

impl<'a> WorkflowSource<'a> {
    /// `functions`: the workflows' functions, registered before the trace's.
    pub fn new(inner: &'a mut dyn ArrivalSource, functions: Vec<FunctionSpec>) -> Self {
        WorkflowSource {
            inner,
            functions,
            inner_table: FunctionTable::new(),
            map: Vec::new(),
            started: false,
        }
    }
}

impl ArrivalSource for WorkflowSource<'_> {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        if !self.started {
            self.started = true;
            for f in &self.functions {
                functions.push(f.clone());
            }
        }
        let a = self.inner.next_arrival(&mut self.inner_table)?;
        while self.map.len() < self.inner_table.len() {
            let spec = self.inner_table.get(FunctionId(self.map.len() as u32));
            let id = match self.functions.iter().position(|f| f.name == spec.name) {
                Some(i) => {
                    let w = self.functions[i].memory_mb;
                    if w != spec.memory_mb {
                        return Err(Box::new(MemoryMismatch {
                            function: spec.name.clone(),
                            trace_mb: spec.memory_mb,
                            workflow_mb: w,
                        }));
                    }
                    FunctionId(i as u32)
                }
                None => functions.push(spec.clone()),
            };
            self.map.push(id);
        }
        Ok(a.map(|a| Arrival {
            function: self.map[a.function.index()],
            ..a
        }))
    }

    fn horizon(&self) -> Option<SimTime> {
        self.inner.horizon()
    }

    fn tokens(&self) -> Option<faasim_sim::Tokens> {
        self.inner.tokens()
    }
}
