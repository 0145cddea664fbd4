//! Per-function settings: what a scenario's `[functions."NAME"]` tables override for one
//! function (and `[functions."*"]` for every function) of what is otherwise scenario-wide.
//!
//! Settings resolve once, when the engine registers a function, into plain per-function
//! state indexed by `FunctionId`: no name is looked up per event. Precedence, most specific
//! first: the function's own entry, then the `"*"` entry, then the scenario-wide value (and,
//! for cold starts, a name in [`EngineConfig::cold_start_per_function`](crate::EngineConfig)
//! comes between the function's own entry and `"*"`).

use crate::dist::DistSpec;
use crate::provider::InvocationMode;
use crate::start::FunctionSnapshot;
use crate::time::SimDuration;

/// What one `[functions."NAME"]` (or `"*"`) entry sets; `None` leaves the wider value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionOverrides {
    /// Memory of one instance, MB, replacing what the trace gives.
    pub memory_mb: Option<u32>,
    /// Cold-start latency of a new instance of this function.
    pub cold_start: Option<DistSpec>,
    /// An execution still running this long after it started is killed (outcome
    /// `timed-out`, billed up to the timeout). None: no timeout (AWS Lambda allows at most
    /// [`LAMBDA_MAX_TIMEOUT`](crate::provider::LAMBDA_MAX_TIMEOUT)).
    pub timeout: Option<SimDuration>,
    /// The probability that an execution fails at its end (billed in full), drawn from the
    /// function's own stream.
    pub error_rate: Option<f64>,
    /// Executions of this function admitted at once, taken out of the account's concurrency
    /// (AWS's reserved concurrency).
    pub reserved_concurrency: Option<u32>,
    /// How the function is invoked (a trace's `mode` column overrides it per invocation).
    pub invocation: Option<InvocationMode>,
    /// Snapshot restores of this function (merged field by field with wider entries).
    pub snapshot: Option<FunctionSnapshot>,
    /// The model the function serves (a name of `ServingConfig::models`): its instances
    /// run on GPU workers and load that model when they start.
    pub model: Option<String>,
    /// The function's latency objective: a completion within it counts towards the run's
    /// SLO attainment.
    pub slo: Option<SimDuration>,
}

impl FunctionOverrides {
    /// These settings, with what they leave unset taken from `wider`.
    pub fn or(&self, wider: &FunctionOverrides) -> FunctionOverrides {
        FunctionOverrides {
            memory_mb: self.memory_mb.or(wider.memory_mb),
            cold_start: self.cold_start.clone().or_else(|| wider.cold_start.clone()),
            timeout: self.timeout.or(wider.timeout),
            error_rate: self.error_rate.or(wider.error_rate),
            reserved_concurrency: self.reserved_concurrency.or(wider.reserved_concurrency),
            invocation: self.invocation.or(wider.invocation),
            snapshot: match (&self.snapshot, &wider.snapshot) {
                (Some(own), Some(w)) => Some(own.or(w)),
                (own, w) => own.clone().or_else(|| w.clone()),
            },
            model: self.model.clone().or_else(|| wider.model.clone()),
            slo: self.slo.or(wider.slo),
        }
    }

    /// Checks every value set, naming the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if self.memory_mb == Some(0) {
            return Err("`memory_mb` must be at least 1".into());
        }
        if let Some(spec) = &self.cold_start {
            spec.validate()
                .map_err(|e| format!("`cold_start_ms`: {e}"))?;
        }
        if self.timeout == Some(SimDuration::ZERO) {
            return Err("`timeout_s` must be > 0".into());
        }
        if let Some(p) = self.error_rate.filter(|p| !(0.0..=1.0).contains(p)) {
            return Err(format!(
                "`error_rate` must be a probability in [0, 1], got {p}"
            ));
        }
        if let Some(s) = &self.snapshot {
            s.validate()?;
        }
        if self.model.as_deref() == Some("") {
            return Err("`model` must name a model".into());
        }
        if self.slo == Some(SimDuration::ZERO) {
            return Err("`slo_ms` must be more than 0".into());
        }
        Ok(())
    }
}

/// Every per-function entry of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionSettings {
    /// `[functions."*"]`: the default for every function.
    pub all: FunctionOverrides,
    /// `[functions."NAME"]` entries, by function name (names unique).
    pub named: Vec<(String, FunctionOverrides)>,
}

impl FunctionSettings {
    /// Whether nothing is overridden (the engine then skips resolution entirely).
    pub fn is_empty(&self) -> bool {
        self.all == FunctionOverrides::default() && self.named.is_empty()
    }

    /// The entry of `name` (its position in `named`, if it has one) merged over `"*"`.
    pub fn resolve(&self, name: &str) -> (Option<usize>, FunctionOverrides) {
        match self.named.iter().position(|(n, _)| n == name) {
            Some(p) => (Some(p), self.named[p].1.or(&self.all)),
            None => (None, self.all.clone()),
        }
    }

    /// Checks every entry, naming the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        self.all
            .validate()
            .map_err(|e| format!("functions.\"*\": {e}"))?;
        for (i, (name, o)) in self.named.iter().enumerate() {
            if name == "*" {
                return Err("functions: the entry `*` belongs in `all`".into());
            }
            if self.named[..i].iter().any(|(n, _)| n == name) {
                return Err(format!("functions.\"{name}\" is given twice"));
            }
            o.validate()
                .map_err(|e| format!("functions.\"{name}\": {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(mb: u32) -> FunctionOverrides {
        FunctionOverrides {
            memory_mb: Some(mb),
            ..Default::default()
        }
    }

    #[test]
    fn the_named_entry_wins_over_the_wildcard_field_by_field() {
        let s = FunctionSettings {
            all: FunctionOverrides {
                memory_mb: Some(256),
                cold_start: Some(DistSpec::Constant { value_ms: 300.0 }),
                error_rate: Some(0.5),
                ..Default::default()
            },
            named: vec![("a".into(), mem(1024)), ("b".into(), Default::default())],
        };
        let (at, a) = s.resolve("a");
        assert_eq!(at, Some(0));
        assert_eq!(a.memory_mb, Some(1024));
        // `a` sets no cold start: the wildcard's stays.
        assert_eq!(a.cold_start, Some(DistSpec::Constant { value_ms: 300.0 }));
        assert_eq!(s.resolve("b"), (Some(1), s.all.clone()));
        assert_eq!(s.resolve("c"), (None, s.all.clone()));
        assert!(!s.is_empty());
        assert!(FunctionSettings::default().is_empty());
    }

    #[test]
    fn bad_entries_are_named() {
        let s = FunctionSettings {
            all: Default::default(),
            named: vec![("a".into(), mem(0))],
        };
        assert_eq!(
            s.validate().unwrap_err(),
            "functions.\"a\": `memory_mb` must be at least 1"
        );
        let s = FunctionSettings {
            all: Default::default(),
            named: vec![("a".into(), mem(1)), ("a".into(), mem(2))],
        };
        assert_eq!(s.validate().unwrap_err(), "functions.\"a\" is given twice");
    }
}
