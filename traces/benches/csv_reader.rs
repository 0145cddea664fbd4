//! Criterion bench of the canonical CSV reader: rows parsed per second, from memory (no
//! disk in the figure), with and without the optional cold-start column.
//!
//! Run: `cargo bench -p faasim-traces --bench csv_reader`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use faasim_sim::{ArrivalSource, FunctionTable};
use faasim_traces::csv::CsvSource;
use std::fmt::Write;

/// `rows` rows over 1,000 functions, 1 ms apart, durations with decimals as real traces
/// have them; a fixed pattern so the bytes are the same on every machine.
fn canonical_csv(rows: usize, cold_column: bool) -> Vec<u8> {
    let mut s = String::with_capacity(rows * 40);
    s.push_str("timestamp_ms,function,duration_ms,memory_mb");
    s.push_str(if cold_column {
        ",cold_start_ms\n"
    } else {
        "\n"
    });
    for i in 0..rows {
        let f = (i * 7919) % 1000;
        write!(
            s,
            "{}.{:03},fn-{f},{}.{},{}",
            i,
            i % 1000,
            10 + i % 900,
            i % 10,
            128 << (f % 4)
        )
        .expect("write to a String");
        if cold_column {
            write!(s, ",{}", 250 + f % 100).expect("write to a String");
        }
        s.push('\n');
    }
    s.into_bytes()
}

fn read_all(bytes: &[u8]) -> u64 {
    let mut src = CsvSource::from_reader(bytes, "bench.csv").expect("a valid header");
    let mut table = FunctionTable::new();
    let mut sum = 0u64;
    while let Some(a) = src.next_arrival(&mut table).expect("valid rows") {
        sum = sum.wrapping_add(a.duration.as_micros());
    }
    sum
}

fn bench_csv(c: &mut Criterion) {
    let rows = 200_000;
    let mut g = c.benchmark_group("csv_reader");
    g.throughput(Throughput::Elements(rows as u64));
    g.sample_size(10);
    for (name, cold) in [("200k_rows", false), ("200k_rows_cold_start_column", true)] {
        let bytes = canonical_csv(rows, cold);
        g.bench_function(name, |b| b.iter(|| read_all(&bytes)));
    }
    g.finish();
}

criterion_group!(benches, bench_csv);
criterion_main!(benches);
