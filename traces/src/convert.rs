//! Conversion of any opened trace to the canonical CSV format (`faasim trace convert`).
//!
//! The output has the header `timestamp_ms,function,duration_ms,memory_mb,cold_start_ms` and
//! one row per arrival, in the source's order. Times are written as **exact** decimal
//! milliseconds from the integer microseconds (`1234567` µs → `1234.567`, trailing zeros of
//! the fraction dropped, `1234000` µs → `1234`), so reading the file back with the CSV
//! reader gives the very same microseconds. `memory_mb` is the function's memory as
//! registered. `cold_start_ms` is empty unless the source gives a per-invocation cold start
//! (only CSV traces do); it is always written so that such traces round-trip too. Function
//! names are quoted when they need it (a comma, a quote, a line break). A trace that says how
//! each invocation is made (a `mode` column) is converted with [`convert_to_csv_with`], which
//! adds the `mode` column (`sync`, `async`, or empty for the function's setting);
//! [`convert_to_csv`] refuses such a trace rather than drop its modes.

use crate::error::TraceError;
use faasim_sim::{ArrivalSource, FunctionId, FunctionTable, SourceError};
use std::io::{BufWriter, Write};

/// Writes every arrival of `source` to `out` as a canonical CSV trace and returns the number
/// of rows written (the header excluded). A reader error of this crate comes back as itself;
/// any other source error as [`TraceError::Source`]; a write error as
/// [`TraceError::Write`].
pub fn convert_to_csv(source: &mut dyn ArrivalSource, out: impl Write) -> Result<u64, TraceError> {
    convert_to_csv_with(source, out, false)
}

/// [`convert_to_csv`], with a last `mode` column when `modes` (a trace whose rows say how
/// each invocation is made). Without it, an arrival that carries a mode is an error.
pub fn convert_to_csv_with(
    source: &mut dyn ArrivalSource,
    out: impl Write,
    modes: bool,
) -> Result<u64, TraceError> {
    let write_err = |source| TraceError::Write { source };
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let header: &[u8] = match modes {
        true => b"timestamp_ms,function,duration_ms,memory_mb,cold_start_ms,mode\n",
        false => b"timestamp_ms,function,duration_ms,memory_mb,cold_start_ms\n",
    };
    out.write_all(header).map_err(write_err)?;
    let mut table = FunctionTable::new();
    // Per function: its name as a CSV field, and its memory, ready to copy.
    let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut line = Vec::with_capacity(256);
    let mut rows = 0u64;
    loop {
        let arrival = match source.next_arrival(&mut table) {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => return Err(source_error(e)),
        };
        while fields.len() < table.len() {
            let f = table.get(FunctionId(fields.len() as u32));
            let mut name = Vec::with_capacity(f.name.len() + 2);
            push_field(&mut name, &f.name);
            let mut memory = Vec::with_capacity(10);
            push_u64(&mut memory, u64::from(f.memory_mb));
            fields.push((name, memory));
        }
        let Some((name, memory)) = fields.get(arrival.function.index()) else {
            return Err(TraceError::Source(
                format!(
                    "the source returned function {} before registering it",
                    arrival.function.0
                )
                .into(),
            ));
        };
        line.clear();
        push_ms(&mut line, arrival.time.0);
        line.push(b',');
        line.extend_from_slice(name);
        line.push(b',');
        push_ms(&mut line, arrival.duration.0);
        line.push(b',');
        line.extend_from_slice(memory);
        line.push(b',');
        if let Some(c) = arrival.cold_start {
            push_ms(&mut line, c.0);
        }
        match (modes, arrival.mode) {
            (true, m) => {
                line.push(b',');
                line.extend_from_slice(m.map_or("", |m| m.as_str()).as_bytes());
            }
            (false, Some(_)) => {
                return Err(TraceError::Source(
                    "the trace says how each invocation is made (a mode column): convert it \
                     with its modes"
                        .into(),
                ))
            }
            (false, None) => {}
        }
        line.push(b'\n');
        out.write_all(&line).map_err(write_err)?;
        rows += 1;
    }
    out.flush().map_err(write_err)?;
    Ok(rows)
}

/// A source error as a [`TraceError`]: itself if it is one, else [`TraceError::Source`].
pub(crate) fn source_error(e: SourceError) -> TraceError {
    match e.downcast::<TraceError>() {
        Ok(t) => *t,
        Err(e) => TraceError::Source(e),
    }
}

/// A CSV field: as is, or quoted with inner quotes doubled if it holds a comma, a quote or a
/// line break.
fn push_field(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Microseconds as exact decimal milliseconds, without trailing zeros in the fraction.
pub(crate) fn push_ms(out: &mut Vec<u8>, us: u64) {
    push_u64(out, us / 1000);
    let frac = us % 1000;
    if frac != 0 {
        out.push(b'.');
        let digits = [
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ];
        // frac != 0, so some digit is not zero and the loop stops at 1 at the latest.
        let mut keep = 3;
        while digits[keep - 1] == b'0' {
            keep -= 1;
        }
        out.extend_from_slice(&digits[..keep]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(us: u64) -> String {
        let mut v = Vec::new();
        push_ms(&mut v, us);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn milliseconds_are_exact_decimals() {
        assert_eq!(ms(0), "0");
        assert_eq!(ms(1), "0.001");
        assert_eq!(ms(10), "0.01");
        assert_eq!(ms(100), "0.1");
        assert_eq!(ms(1_234_567), "1234.567");
        assert_eq!(ms(1_234_000), "1234");
        assert_eq!(ms(1_234_500), "1234.5");
        assert_eq!(ms(u64::MAX), "18446744073709551.615");
        for us in [0u64, 1, 999, 1000, 1001, 123_456_789, 86_400_000_000] {
            let back: f64 = ms(us).parse().unwrap();
            assert_eq!((back * 1000.0).round() as u64, us);
        }
    }

    #[test]
    fn invocation_modes_round_trip_or_are_refused() {
        let text = "timestamp_ms,function,duration_ms,memory_mb,mode\n\
                    0,f,1,128,async\n1,f,2,128,\n2,f,3,128,sync\n";
        fn read(t: &str) -> crate::csv::CsvSource<&[u8]> {
            crate::csv::CsvSource::from_reader(t.as_bytes(), "t.csv").unwrap()
        }
        let mut out = Vec::new();
        assert_eq!(
            convert_to_csv_with(&mut read(text), &mut out, true).unwrap(),
            3
        );
        let converted = String::from_utf8(out).unwrap();
        assert_eq!(
            converted,
            "timestamp_ms,function,duration_ms,memory_mb,cold_start_ms,mode\n\
             0,f,1,128,,async\n1,f,2,128,,\n2,f,3,128,,sync\n"
        );
        // Read back: the same arrivals, modes included.
        let mut table = faasim_sim::FunctionTable::new();
        let (mut a, mut b) = (read(text), read(&converted));
        let mut t2 = faasim_sim::FunctionTable::new();
        while let Some(x) = a.next_arrival(&mut table).unwrap() {
            assert_eq!(Some(x), b.next_arrival(&mut t2).unwrap());
        }
        let e = convert_to_csv(&mut read(text), Vec::new()).unwrap_err();
        assert!(e.to_string().contains("mode column"), "{e}");
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut v = Vec::new();
        push_field(&mut v, "plain");
        push_field(&mut v, "a,b");
        push_field(&mut v, "say \"hi\"");
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "plain\"a,b\"\"say \"\"hi\"\"\""
        );
    }
}
