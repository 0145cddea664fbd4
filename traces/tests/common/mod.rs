//! Helpers shared by the trace tests: fixture and sample paths, draining a source,
//! and stand-in policies for runs through the engine (every request a cold start on the
//! first worker that fits, instances evicted at once).

#![allow(dead_code)]

use faasim_sim::{
    Arrival, ArrivalSource, ClusterView, FunctionTable, FunctionView, InstanceView, InvocationView,
    KeepAlive, KeepAliveDecision, Placement, Policies, PolicyRng, Route, Routing, SimTime,
    WorkerId,
};
use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A folder of the real trace samples the repository ships (`traces/samples/`). Panics,
/// naming the path, when it is missing: the tests that need a sample fail without it.
pub fn sample(folder: &str) -> PathBuf {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/samples")).join(folder);
    assert!(
        dir.is_dir(),
        "the trace sample {} is missing (it ships with the repository)",
        dir.display()
    );
    dir
}

pub fn drain(source: &mut dyn ArrivalSource) -> (Vec<Arrival>, FunctionTable) {
    let mut table = FunctionTable::new();
    let mut out = Vec::new();
    while let Some(a) = source.next_arrival(&mut table).unwrap() {
        out.push(a);
    }
    (out, table)
}

pub struct FirstFit;
impl Placement for FirstFit {
    fn place(
        &mut self,
        f: &FunctionView<'_>,
        c: &ClusterView<'_>,
        _: &mut PolicyRng,
    ) -> Option<WorkerId> {
        c.first_fit(f.memory_mb)
    }
}

pub struct AlwaysCold;
impl Routing for AlwaysCold {
    fn route(&mut self, _: &InvocationView, _: &ClusterView<'_>, _: &mut PolicyRng) -> Route {
        Route::Cold
    }
}

pub struct EvictNow;
impl KeepAlive for EvictNow {
    fn on_idle(&mut self, _: &InstanceView, _: SimTime) -> KeepAliveDecision {
        KeepAliveDecision::EvictNow
    }
}

/// The stand-in policies together.
pub fn stand_in_policies() -> Policies {
    Policies {
        placement: Box::new(FirstFit),
        routing: Box::new(AlwaysCold),
        keep_alive: Box::new(EvictNow),
        load_balancer: None,
    }
}
