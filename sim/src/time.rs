//! Integer simulation time. One tick is one microsecond; nothing in the engine is a float.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, in microseconds since the start of the run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

/// Microseconds (µs, one tick) per millisecond.
pub const MICROS_PER_MS: u64 = 1_000;
/// Microseconds (µs, one tick) per second.
pub const MICROS_PER_S: u64 = 1_000_000;

/// The longest span a run may simulate: 100 years (365.25-day years) in microseconds.
///
/// Every instant a trace gives, every duration and cold start, and the clock itself are
/// checked against it, so time arithmetic can never overflow (`u64` microseconds hold
/// about 5,800 such spans) and a typo such as a timestamp in nanoseconds is an error, not a
/// run that writes time-series rows until the disk is full.
pub const TIME_LIMIT: SimTime = SimTime(3_155_760_000_000_000);

impl SimTime {
    /// Time zero, the start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant (a sentinel for "never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `ms` milliseconds after the start of the run.
    pub fn from_ms(ms: u64) -> Self {
        SimTime(ms * MICROS_PER_MS)
    }
    /// The instant `s` seconds after the start of the run.
    pub fn from_secs(s: u64) -> Self {
        SimTime(s * MICROS_PER_S)
    }
    /// Microseconds since the start of the run.
    pub fn as_micros(self) -> u64 {
        self.0
    }
    /// Milliseconds since the start of the run, as a float (for output only).
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_MS as f64
    }
    /// Seconds since the start of the run, as a float (for output only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_S as f64
    }
    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span (a sentinel for "forever").
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `us` microseconds.
    pub fn from_micros(us: u64) -> Self {
        SimDuration(us)
    }
    /// A span of `ms` milliseconds.
    pub fn from_ms(ms: u64) -> Self {
        SimDuration(ms * MICROS_PER_MS)
    }
    /// A span of `s` seconds.
    pub fn from_secs(s: u64) -> Self {
        SimDuration(s * MICROS_PER_S)
    }
    /// Converts float milliseconds (as found in trace files and scenario files) to whole
    /// microseconds, rounding to nearest. Returns `None` for NaN, infinite, negative or
    /// out-of-range values, so callers can report the bad input.
    pub fn try_from_ms_f64(ms: f64) -> Option<Self> {
        if !ms.is_finite() || ms < 0.0 {
            return None;
        }
        let us = (ms * MICROS_PER_MS as f64).round();
        if us >= u64::MAX as f64 / 2.0 {
            return None;
        }
        Some(SimDuration(us as u64))
    }
    /// The span in microseconds.
    pub fn as_micros(self) -> u64 {
        self.0
    }
    /// The span in milliseconds, as a float (for output only).
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_MS as f64
    }
    /// The span in seconds, as a float (for output only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_S as f64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, other: SimTime) -> SimDuration {
        self.since(other)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}ms", self.as_ms_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_conversion_rounds_to_nearest_microsecond_and_rejects_bad_values() {
        assert_eq!(
            SimDuration::try_from_ms_f64(1.0004),
            Some(SimDuration(1000))
        );
        assert_eq!(
            SimDuration::try_from_ms_f64(1.0005),
            Some(SimDuration(1001))
        );
        assert_eq!(SimDuration::try_from_ms_f64(0.0), Some(SimDuration(0)));
        assert_eq!(SimDuration::try_from_ms_f64(-0.1), None);
        assert_eq!(SimDuration::try_from_ms_f64(f64::NAN), None);
        assert_eq!(SimDuration::try_from_ms_f64(f64::INFINITY), None);
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime(5) - SimTime(7), SimDuration::ZERO);
        assert_eq!(SimTime::MAX + SimDuration(1), SimTime::MAX);
        assert_eq!(
            SimTime::from_secs(2) - SimTime::from_ms(500),
            SimDuration(1_500_000)
        );
    }
}
