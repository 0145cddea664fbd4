//! What one input may ask of faasim. A trace file or a generator's parameters beyond these
//! bounds are refused with an error naming the file and line (or the key) and the bound,
//! before anything is allocated for them or any arithmetic on them can overflow.
//!
//! | bound | value | applies to |
//! |---|---|---|
//! | [`MAX_SPAN_US`] | 100 years | every time and duration read or generated |
//! | [`MAX_RECORD_BYTES`] | 1 MiB | one CSV record (one line, or several inside quotes) |
//! | [`MAX_COUNT_PER_BIN`] | 60,000,000 | one function's count in one bin (Azure 2019, Huawei) |
//! | [`MAX_ARRIVALS_PER_BIN`] | 100,000,000 | one bin over all functions (800 MB of buffer) |
//! | [`MAX_DAYS`] | 36,525 | invocations files of one Azure 2019 trace (100 years of days) |
//! | [`MAX_GENERATED_FUNCTIONS`] | 1,000,000 | `functions` of the generators |
//! | [`MAX_EXPECTED_INVOCATIONS`] | 10¹¹ | a generator's expected number of invocations |

/// The longest span of simulated time a trace may cover, and the longest execution time it
/// may hold: 100 Julian years (3.15576·10¹⁵ µs). Simulated time is a `u64` of microseconds
/// (584,000 years); the bound leaves the engine ample headroom to add times and durations
/// without overflow, and turns a mistyped unit (a timestamp in ns read as ms) into an error
/// instead of a run that never ends.
/// The engine's own bound, [`faasim_sim::TIME_LIMIT`]: readers and engine agree on one span.
pub const MAX_SPAN_US: u64 = faasim_sim::TIME_LIMIT.0;
/// [`MAX_SPAN_US`] in milliseconds.
pub const MAX_SPAN_MS: u64 = MAX_SPAN_US / 1_000;
/// [`MAX_SPAN_US`] in seconds.
pub const MAX_SPAN_S: u64 = MAX_SPAN_US / 1_000_000;

/// The longest CSV record a reader accepts, in bytes (blank lines before it included). A
/// full Azure 2019 invocations row (three hashes and 1,440 counts) is about 10 KB and a
/// Huawei row of 5,000 functions about 40 KB; a record beyond 1 MiB means a file that is
/// not CSV text (`/dev/zero`, a binary file) or a quote that is never closed, and reading
/// stops there instead of growing a buffer without end.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

/// The most invocations one function may have in one bin: one per microsecond of a minute.
/// Larger counts are treated as bad input rather than allocated.
pub const MAX_COUNT_PER_BIN: u64 = 60_000_000;

/// The most arrivals one bin may hold over all functions (800 MB of buffer); a file asking
/// for more is treated as bad input rather than allocated. Real traces are orders of
/// magnitude below it.
pub const MAX_ARRIVALS_PER_BIN: u64 = 100_000_000;

/// The most invocations files (days) of one Azure 2019 trace: 100 years of days, so that
/// every minute of every day fits in [`MAX_SPAN_US`].
pub const MAX_DAYS: usize = 36_525;

/// The most functions a generator (`synthetic`, `azure-like`) may be asked for. Each costs
/// a few hundred bytes in the generator and the engine; the Azure 2019 trace has about
/// 50,000 functions a day, so the bound leaves twenty times that while refusing a typo
/// (10,000,000 functions for a trace of 93 invocations) that would allocate gigabytes.
pub const MAX_GENERATED_FUNCTIONS: u32 = 1_000_000;

/// The most invocations a generator's parameters may ask for on average (rate × length):
/// 10¹¹, a few days of simulation at the engine's speed, three times the 14 days of the
/// full Azure 2019 trace. More is almost surely a unit slip, and would not end in any
/// useful time.
pub const MAX_EXPECTED_INVOCATIONS: f64 = 1e11;

pub use crate::common::check_dist_span;

/// `MAX_SPAN_US` for messages: `3155760000000 ms`.
pub(crate) fn max_span_ms_text() -> String {
    format!("{MAX_SPAN_MS} ms")
}

/// `MAX_SPAN_US` for messages: `3155760000 s`.
pub(crate) fn max_span_s_text() -> String {
    format!("{MAX_SPAN_S} s")
}

/// A number for a message: as written for everyday magnitudes (`3600`, `0.25`), in
/// scientific notation beyond them (`1e300`, not three hundred digits).
pub(crate) fn show_f64(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-6..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
