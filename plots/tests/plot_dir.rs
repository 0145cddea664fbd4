//! `plot_dir` on hand-written run and sweep directories: every figure is written as a PNG
//! of the documented size with something drawn on it and an SVG with its title; bad input
//! is an error naming the file and the column, never a panic.

use faasim_plots::{
    break_even_points, plot_dir, plot_dir_with, PlotError, PlotOptions, FIGURE_SIZE,
    TIMESERIES_SIZE,
};
use std::fs;
use std::path::{Path, PathBuf};

// Column lists exactly as in faasim-experiments' output.rs row structs.
const SUMMARY_COLS: &str = "scenario,seed,invocations,completed,dropped,cold_starts,\
cold_start_ratio,latency_mean_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms,\
queue_delay_mean_ms,instances_created,peak_instances,wasted_memory_gb_s,user_cost_usd,\
drop_ratio,dropped_timeout,latency_max_ms,queue_delay_p99_ms,cold_start_latency_mean_ms,\
peak_queue,evictions_expired,evictions_reclaimed,instance_seconds,init_memory_gb_s,\
peak_memory_mb,memory_utilisation,cpu_utilisation,billed_gb_s,request_cost_usd,\
duration_cost_usd,sim_end_s,events,wall_s,wall_invocations_per_s";

const FUNCTION_COLS: &str = "function_id,function,memory_mb,invocations,completed,dropped,\
cold_starts,cold_start_ratio,latency_mean_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms,\
instances_created,wasted_memory_gb_s,billed_gb_s,cost_usd";

const TIMESERIES_COLS: &str = "time_s,live_instances,starting_instances,busy_instances,\
idle_instances,memory_used_mb,memory_idle_mb,executing,queue_length,arrivals,cold_starts,dropped";

const INVOCATION_COLS: &str = "id,function_id,outcome,arrival_ms,start_ms,end_ms,latency_ms,\
queue_delay_ms,cold_start,init_ms,worker,instance,memory_mb,billed_ms,cost_usd";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// One summary row; `k` varies the figures a little.
fn summary_row(scenario: &str, k: f64) -> String {
    let req = 0.0002;
    let dur = 0.001 * (1.0 + k);
    format!(
        "{scenario},1,1000,990,10,{cs},{csr},50.5,20.1,120.2,300.3,1.5,{cs},12,{idle},{cost},0.01,\
         0,900.0,20.0,150.0,3,5,1,3600.5,1.25,4096,0.3,0.2,60.0,{req},{dur},3600.0,5000,0.01,100000.0",
        cs = (100.0 / (1.0 + k)) as u64,
        csr = 0.1 / (1.0 + k),
        idle = 500.0 * (1.0 + k),
        cost = req + dur,
    )
}

fn functions_csv(k: f64) -> String {
    let mut s = format!("{FUNCTION_COLS}\n");
    for f in 0..6u32 {
        let ratio = (f as f64 * 0.07 + 0.02) / (1.0 + k);
        s += &format!(
            "{f},f{f},256,100,100,0,{cs},{ratio},40.0,30.0,90.0,150.0,{cs},12.5,3.2,0.0005\n",
            cs = (ratio * 100.0) as u64
        );
    }
    // A function that completed nothing: left out of the CDF.
    s += "6,f6,128,2,0,2,0,0,0,0,0,0,0,0,0,0\n";
    s
}

fn timeseries_csv(k: f64) -> String {
    let mut s = format!("{TIMESERIES_COLS}\n");
    for i in 1..=10u32 {
        let live = 5 + (i % 4) + k as u32;
        let busy = i % 3;
        let starting = u32::from(i % 5 == 0);
        let idle = live - busy - starting;
        s += &format!(
            "{t}.0,{live},{starting},{busy},{idle},{mem},{imem},{busy},{q},20,1,0\n",
            t = i * 60,
            mem = live * 256,
            imem = idle * 256,
            q = i % 2,
        );
    }
    s
}

fn invocations_csv(k: f64) -> String {
    let mut s = format!("{INVOCATION_COLS}\n");
    for i in 0..40u32 {
        let lat = (1.0 + k) * (5.0 + (i * i) as f64 * 0.7);
        s += &format!(
            "{i},{f},completed,{a},{a},{e},{lat},0.0,{cold},0.0,0,{f},256,{b},0.000001\n",
            f = i % 6,
            a = i * 100,
            e = i as f64 * 100.0 + lat,
            cold = i % 7 == 0,
            b = lat.ceil() as u64,
        );
    }
    // Dropped invocations have no latency worth drawing.
    s += "40,1,dropped-full,4000,4000,4000,0,0,false,0,,,256,0,0\n";
    s
}

/// A run directory as `faasim run` writes it.
fn make_run(dir: &Path, scenario: &str, k: f64, invocations: bool) {
    write(
        &dir.join("summary.csv"),
        &format!("{SUMMARY_COLS}\n{}\n", summary_row(scenario, k)),
    );
    write(&dir.join("functions.csv"), &functions_csv(k));
    write(&dir.join("timeseries.csv"), &timeseries_csv(k));
    if invocations {
        write(&dir.join("invocations.csv"), &invocations_csv(k));
    }
    write(
        &dir.join("manifest.json"),
        &format!(
            r#"{{"faasim_version":"0.1.0","scenario_file":"s.toml","seed":1,
               "trace_checksum_sha256":null,"files":["summary.csv"],
               "scenario":{{"name":"{scenario}"}}}}"#
        ),
    );
}

/// A sweep directory: `keep_alive.ttl_s` in {60, 600}, 2 replications, so 4 runs. Only
/// the runs of ttl 60 wrote invocations.csv.
fn make_sweep(dir: &Path) {
    let ttls = ["60", "600"];
    let mut runs = Vec::new();
    let mut summary = format!("run_id,keep_alive.ttl_s,replication,{SUMMARY_COLS}\n");
    for (c, ttl) in ttls.iter().enumerate() {
        for r in 0..2u32 {
            let index = c * 2 + r as usize;
            let id = format!("run-{index:04}");
            let k = c as f64 + 0.1 * r as f64;
            make_run(&dir.join("runs").join(&id), "tiny-sweep", k, c == 0);
            write(&dir.join("runs").join(&id).join("DONE"), "complete\n");
            runs.push(format!(
                r#"{{"index":{index},"id":"{id}","scenario":"base.toml",
                    "params":[["keep_alive.ttl_s","{ttl}"]],"replication":{r},"seed":{s}}}"#,
                s = 1000 + index
            ));
            summary += &format!("{id},{ttl},{r},{}\n", summary_row("tiny-sweep", k));
        }
    }
    write(
        &dir.join("manifest.json"),
        &format!(
            r#"{{"faasim_version":"0.1.0","shard":null,"plan":{{"name":"tiny-sweep",
               "experiment_file":"e.toml","base_seed":1,"replications":2,
               "varied":["keep_alive.ttl_s"],"several_scenarios":false,"runs":[{}]}}}}"#,
            runs.join(",")
        ),
    );
    write(&dir.join("summary.csv"), &summary);
    write(&dir.join("aggregate.csv"), &aggregate_csv(&ttls));
}

/// `aggregate.csv` as sweep.rs writes it: key columns, `runs`, then mean, sd, ci95_lo and
/// ci95_hi of every metric but `scenario` and `seed`. The second combination has empty
/// intervals, as with a single replication.
fn aggregate_csv(ttls: &[&str]) -> String {
    let metrics: Vec<&str> = SUMMARY_COLS
        .split(',')
        .filter(|m| *m != "scenario" && *m != "seed")
        .collect();
    let mut header = vec!["keep_alive.ttl_s".to_owned(), "runs".to_owned()];
    for m in &metrics {
        for s in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            header.push(format!("{m}_{s}"));
        }
    }
    let mut out = header.join(",") + "\n";
    for (c, ttl) in ttls.iter().enumerate() {
        let k = c as f64;
        let row = summary_row("x", k);
        let values: Vec<&str> = row.split(',').skip(2).collect();
        let mut cells = vec![ttl.to_string(), "2".to_owned()];
        for v in values {
            let x: f64 = v.parse().unwrap();
            if c == 0 {
                cells.extend([
                    x.to_string(),
                    (x * 0.1).to_string(),
                    (x * 0.8 - 1e-9).to_string(),
                    (x * 1.2).to_string(),
                ]);
            } else {
                cells.extend([x.to_string(), String::new(), String::new(), String::new()]);
            }
        }
        out += &(cells.join(",") + "\n");
    }
    out
}

/// Decodes a PNG: (width, height, pixels that are not white, pixels that are coloured).
fn png_stats(path: &Path) -> (u32, u32, usize, usize) {
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{}: {:?}", path.display(), info.color_type);
    let mut ink = 0;
    let mut colour = 0;
    for px in bytes.chunks_exact(channels) {
        let (r, g, b) = (px[0] as i32, px[1] as i32, px[2] as i32);
        if (r, g, b) != (255, 255, 255) {
            ink += 1;
        }
        if (r - g).abs() > 40 || (g - b).abs() > 40 || (r - b).abs() > 40 {
            colour += 1;
        }
    }
    (info.width, info.height, ink, colour)
}

/// Checks each named figure exists as PNG and SVG, as documented.
fn check_figures(out: &Path, written: &[PathBuf], names: &[&str], title: &str) {
    let mut expected: Vec<PathBuf> = Vec::new();
    for name in names {
        expected.push(out.join(format!("{name}.png")));
        expected.push(out.join(format!("{name}.svg")));
    }
    assert_eq!(written, expected.as_slice());
    for name in names {
        let png = out.join(format!("{name}.png"));
        let svg = out.join(format!("{name}.svg"));
        assert!(fs::metadata(&png).unwrap().len() > 0);
        assert!(fs::metadata(&svg).unwrap().len() > 0);
        let (w, h, ink, colour) = png_stats(&png);
        let size = if *name == "timeseries" {
            TIMESERIES_SIZE
        } else {
            FIGURE_SIZE
        };
        assert_eq!((w, h), size, "{name}.png");
        let total = (w * h) as usize;
        assert!(ink > total / 100, "{name}.png: only {ink} drawn pixels");
        assert!(colour > 200, "{name}.png: only {colour} coloured pixels");
        let text = fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg"), "{name}.svg");
        assert!(text.contains(title), "{name}.svg lacks the title {title}");
        assert!(text.contains("<text"), "{name}.svg has no text");
    }
    // No temporary file left behind.
    for e in fs::read_dir(out).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "leftover {name}");
    }
}

#[test]
fn run_directory_gives_four_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(&run, "tiny-run", 0.0, true);
    let out = run.join("figures");
    let written = plot_dir(&run, &out).unwrap();
    check_figures(
        &out,
        &written,
        &[
            "latency_cdf",
            "cost_breakdown",
            "timeseries",
            "function_cold_start_cdf",
        ],
        "tiny-run",
    );
    let svg = fs::read_to_string(out.join("latency_cdf.svg")).unwrap();
    assert!(svg.contains("latency (ms, log scale)"));
    let svg = fs::read_to_string(out.join("cost_breakdown.svg")).unwrap();
    assert!(svg.contains("cost (USD)") && svg.contains("idle memory (GB·s)"));
    let svg = fs::read_to_string(out.join("timeseries.svg")).unwrap();
    assert!(svg.contains("time (s)") && svg.contains("memory (MB)"));
}

#[test]
fn run_without_invocations_skips_the_latency_cdf_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(&run, "tiny-run", 0.0, false);
    let out = tmp.path().join("figs");
    let report = plot_dir_with(&run, &out, &PlotOptions::default()).unwrap();
    check_figures(
        &out,
        &report.written,
        &["cost_breakdown", "timeseries", "function_cold_start_cdf"],
        "tiny-run",
    );
    assert!(report
        .skipped
        .iter()
        .any(|s| s.starts_with("latency_cdf:") && s.contains("invocations.csv")));
    assert!(report
        .skipped
        .iter()
        .any(|s| s.starts_with("cold_start_vs_idle_memory:")));
}

#[test]
fn sweep_directory_gives_seven_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    make_sweep(&sweep);
    let out = tmp.path().join("figs");
    let report = plot_dir_with(&sweep, &out, &PlotOptions::default()).unwrap();
    check_figures(
        &out,
        &report.written,
        &[
            "latency_cdf",
            "cold_start_vs_idle_memory",
            "cost_breakdown",
            "timeseries",
            "function_cold_start_cdf",
            "cost_vs_p99_latency",
            "metrics_by_parameter",
        ],
        "tiny-sweep",
    );
    // Only the break-even figure is skipped: the sweep does not vary platform.mode.
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(
        report.skipped[0].starts_with("break_even: `platform.mode` is not varied"),
        "{:?}",
        report.skipped
    );
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    for name in [
        "cold_start_vs_idle_memory",
        "cost_breakdown",
        "timeseries",
        "function_cold_start_cdf",
    ] {
        let svg = fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(svg.contains("ttl_s=60"), "{name}");
        assert!(svg.contains("ttl_s=600"), "{name}");
    }
    // Only ttl 60 wrote invocations.csv: the CDF says which configuration is missing.
    let svg = fs::read_to_string(out.join("latency_cdf.svg")).unwrap();
    assert!(svg.contains("not shown (no invocations.csv): ttl_s=600"));
    let svg = fs::read_to_string(out.join("cold_start_vs_idle_memory.svg")).unwrap();
    assert!(svg.contains("idle memory held by warm instances (GB·s)"));
    assert!(svg.contains("cold-start ratio"));
    // The swept key on the x axis of every metric's panel.
    let svg = fs::read_to_string(out.join("metrics_by_parameter.svg")).unwrap();
    for text in [
        "tiny-sweep: metrics against keep_alive.ttl_s",
        "cold-start ratio",
        "p99 latency (ms)",
        "idle memory (GB·s)",
        "user&apos;s bill (USD)",
    ] {
        assert!(
            svg.contains(text) || svg.contains(&text.replace("&apos;", "'")),
            "{text}"
        );
    }
    let svg = fs::read_to_string(out.join("cost_vs_p99_latency.svg")).unwrap();
    assert!(svg.contains("tiny-sweep: cost against p99 latency"));
}

#[test]
fn a_chosen_run_of_a_sweep_gets_the_run_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    make_sweep(&sweep);
    let out = tmp.path().join("figs");
    let options = PlotOptions {
        run: Some("run-0003".into()),
    };
    plot_dir_with(&sweep, &out, &options).unwrap();
    let svg = fs::read_to_string(out.join("timeseries.svg")).unwrap();
    assert!(svg.contains("run run-0003 (ttl_s=600)"));
    assert!(svg.contains("starting"));

    let options = PlotOptions {
        run: Some("run-9999".into()),
    };
    let err = plot_dir_with(&sweep, &tmp.path().join("figs2"), &options).unwrap_err();
    assert!(err.to_string().contains("run-9999"), "{err}");
    assert!(!tmp.path().join("figs2").exists());
}

#[test]
fn a_directory_of_neither_layout_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = plot_dir(tmp.path(), &tmp.path().join("figs")).unwrap_err();
    assert!(matches!(err, PlotError::UnknownLayout(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&tmp.path().display().to_string()), "{msg}");
    assert!(msg.contains("run directory") && msg.contains("sweep directory"));
    assert!(!tmp.path().join("figs").exists());

    // Only a summary: still neither.
    write(
        &tmp.path().join("summary.csv"),
        &format!("{SUMMARY_COLS}\n{}\n", summary_row("x", 0.0)),
    );
    let err = plot_dir(tmp.path(), &tmp.path().join("figs")).unwrap_err();
    assert!(matches!(err, PlotError::UnknownLayout(_)), "{err:?}");

    let missing = tmp.path().join("no-such-dir");
    let err = plot_dir(&missing, &tmp.path().join("figs")).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-dir"));
}

#[test]
fn a_missing_column_names_the_file_and_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(&run, "tiny-run", 0.0, true);
    let text = timeseries_csv(0.0).replace("queue_length", "queue_len");
    write(&run.join("timeseries.csv"), &text);
    let out = tmp.path().join("figs");
    let err = plot_dir(&run, &out).unwrap_err();
    match &err {
        PlotError::MissingColumn { path, column } => {
            assert!(path.ends_with("timeseries.csv"));
            assert_eq!(column, "queue_length");
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("timeseries.csv") && msg.contains("`queue_length`"),
        "{msg}"
    );
    // Nothing drawn from a partly bad directory.
    assert!(!out.exists());

    // invocations.csv without latency_ms.
    make_run(&run, "tiny-run", 0.0, true);
    let text = invocations_csv(0.0).replace("latency_ms", "latency");
    write(&run.join("invocations.csv"), &text);
    let err = plot_dir(&run, &out).unwrap_err().to_string();
    assert!(
        err.contains("invocations.csv") && err.contains("`latency_ms`"),
        "{err}"
    );

    // summary.csv without duration_cost_usd.
    make_run(&run, "tiny-run", 0.0, true);
    let text = fs::read_to_string(run.join("summary.csv"))
        .unwrap()
        .replace("duration_cost_usd", "cost_b");
    write(&run.join("summary.csv"), &text);
    let err = plot_dir(&run, &out).unwrap_err().to_string();
    assert!(
        err.contains("summary.csv") && err.contains("`duration_cost_usd`"),
        "{err}"
    );
}

#[test]
fn a_bad_value_names_the_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(&run, "tiny-run", 0.0, false);
    let mut lines: Vec<String> = functions_csv(0.0).lines().map(String::from).collect();
    // Line 3 of the file: the second function's cold_start_ratio (column 8).
    let mut cells: Vec<String> = lines[2].split(',').map(String::from).collect();
    cells[7] = "abc".into();
    lines[2] = cells.join(",");
    write(&run.join("functions.csv"), &(lines.join("\n") + "\n"));
    let err = plot_dir(&run, &tmp.path().join("figs")).unwrap_err();
    match &err {
        PlotError::BadValue {
            path, line, column, ..
        } => {
            assert!(path.ends_with("functions.csv"));
            assert_eq!(*line, 3);
            assert_eq!(column, "cold_start_ratio");
        }
        other => panic!("{other:?}"),
    }

    // A row with too few fields.
    write(
        &run.join("functions.csv"),
        &format!("{FUNCTION_COLS}\n0,f0,256\n"),
    );
    let err = plot_dir(&run, &tmp.path().join("figs"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("functions.csv") && err.contains("line 2"),
        "{err}"
    );

    // An empty summary.
    make_run(&run, "tiny-run", 0.0, false);
    write(&run.join("summary.csv"), &format!("{SUMMARY_COLS}\n"));
    let err = plot_dir(&run, &tmp.path().join("figs"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("summary.csv") && err.contains("no data row"),
        "{err}"
    );
}

#[test]
fn sweep_errors_name_aggregate_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    make_sweep(&sweep);
    let text = aggregate_csv(&["60", "600"]).replace("cold_start_ratio_ci95_hi", "x");
    write(&sweep.join("aggregate.csv"), &text);
    let err = plot_dir(&sweep, &tmp.path().join("figs")).unwrap_err();
    match &err {
        PlotError::MissingColumn { path, column } => {
            assert!(path.ends_with("aggregate.csv"));
            assert_eq!(column, "cold_start_ratio_ci95_hi");
        }
        other => panic!("{other:?}"),
    }

    // A combination of the plan with no row in aggregate.csv.
    write(&sweep.join("aggregate.csv"), &aggregate_csv(&["60", "900"]));
    let err = plot_dir(&sweep, &tmp.path().join("figs"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("aggregate.csv") && err.contains("keep_alive.ttl_s=600"),
        "{err}"
    );

    // A bad mean.
    let text = aggregate_csv(&["60", "600"]);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "wasted_memory_gb_s_mean")
        .unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[col] = "lots".into();
    lines[1] = cells.join(",");
    write(&sweep.join("aggregate.csv"), &(lines.join("\n") + "\n"));
    let err = plot_dir(&sweep, &tmp.path().join("figs")).unwrap_err();
    match &err {
        PlotError::BadValue {
            path, line, column, ..
        } => {
            assert!(path.ends_with("aggregate.csv"));
            assert_eq!(*line, 2);
            assert_eq!(column, "wasted_memory_gb_s_mean");
        }
        other => panic!("{other:?}"),
    }

    // No aggregate.csv (a shard): the run-level figures are still drawn.
    fs::remove_file(sweep.join("aggregate.csv")).unwrap();
    let report = plot_dir_with(&sweep, &tmp.path().join("figs"), &PlotOptions::default()).unwrap();
    assert_eq!(report.written.len(), 6);
    assert!(report
        .skipped
        .iter()
        .any(|s| s.starts_with("cost_breakdown:") && s.contains("aggregate.csv")));

    // A manifest whose plan is malformed.
    write(&sweep.join("manifest.json"), r#"{"plan": {"name": 3}}"#);
    let err = plot_dir(&sweep, &tmp.path().join("figs"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("manifest.json") && err.contains("not a sweep plan"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// The break-even figure

/// A sweep of the grid `keys` (key path, values), keys in the order given (the last varies
/// fastest, as in sweep.rs when the keys are given sorted), one replication per
/// combination. `f` gives the `user_cost_usd` and `latency_p99_ms` means of a combination
/// from its `(key, value)` pairs.
fn make_grid_sweep(
    dir: &Path,
    name: &str,
    keys: &[(&str, &[&str])],
    f: impl Fn(&[(&str, &str)]) -> (f64, f64),
) {
    let combos: usize = keys.iter().map(|(_, v)| v.len()).product();
    let metrics: Vec<&str> = SUMMARY_COLS
        .split(',')
        .filter(|m| *m != "scenario" && *m != "seed")
        .collect();
    let key_names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    let mut agg_header: Vec<String> = key_names.iter().map(|k| k.to_string()).collect();
    agg_header.push("runs".into());
    for m in &metrics {
        for st in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            agg_header.push(format!("{m}_{st}"));
        }
    }
    let mut aggregate = agg_header.join(",") + "\n";
    let mut summary = format!(
        "run_id,{},replication,{SUMMARY_COLS}\n",
        key_names.join(",")
    );
    let mut runs = Vec::new();
    for c in 0..combos {
        let mut rest = c;
        let mut values = vec![""; keys.len()];
        for (i, (_, vs)) in keys.iter().enumerate().rev() {
            values[i] = vs[rest % vs.len()];
            rest /= vs.len();
        }
        let params: Vec<(&str, &str)> = key_names.iter().copied().zip(values.clone()).collect();
        let (cost, p99) = f(&params);
        let id = format!("run-{c:04}");
        make_run(&dir.join("runs").join(&id), name, 0.0, true);
        write(&dir.join("runs").join(&id).join("DONE"), "complete\n");
        let params_json: Vec<String> = params
            .iter()
            .map(|(k, v)| format!(r#"["{k}","{v}"]"#))
            .collect();
        runs.push(format!(
            r#"{{"index":{c},"id":"{id}","scenario":"base.toml","params":[{}],
                "replication":0,"seed":1}}"#,
            params_json.join(",")
        ));
        summary += &format!("{id},{},0,{}\n", values.join(","), summary_row(name, 0.0));
        let row = summary_row("x", 0.0);
        let mut cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        cells.push("1".into());
        for (m, v) in metrics.iter().zip(row.split(',').skip(2)) {
            let mean = match *m {
                "user_cost_usd" => cost.to_string(),
                "latency_p99_ms" => p99.to_string(),
                _ => v.to_owned(),
            };
            cells.extend([mean, String::new(), String::new(), String::new()]);
        }
        aggregate += &(cells.join(",") + "\n");
    }
    let varied: Vec<String> = key_names.iter().map(|k| format!("\"{k}\"")).collect();
    write(
        &dir.join("manifest.json"),
        &format!(
            r#"{{"faasim_version":"0.1.0","shard":null,"plan":{{"name":"{name}",
               "experiment_file":"e.toml","base_seed":1,"replications":1,
               "varied":[{}],"several_scenarios":false,"runs":[{}]}}}}"#,
            varied.join(","),
            runs.join(",")
        ),
    );
    write(&dir.join("summary.csv"), &summary);
    write(&dir.join("aggregate.csv"), &aggregate);
}

/// The SVG has a `<text>` element holding exactly `text` (plotters writes it on a line of
/// its own).
fn svg_has_text(svg: &str, text: &str) -> bool {
    svg.lines().any(|l| l.trim() == text)
}

const MODES: &[&str] = &["serverless", "vm-autoscaled", "vm-static"];

fn param<'a>(params: &[(&str, &'a str)], key: &str) -> &'a str {
    params.iter().find(|(k, _)| *k == key).unwrap().1
}

/// Serverless costs 0.001 USD per unit of rate; vm-static a constant 0.5 USD (break-even
/// at rate 500); vm-autoscaled 0.05 * sqrt(rate) USD (break-even at rate 2500). Both are
/// straight lines in log-log space, so the interpolation is exact.
fn costs(params: &[(&str, &str)]) -> (f64, f64) {
    let rate: f64 = param(params, "trace.rate_per_s").parse().unwrap();
    match param(params, "platform.mode") {
        "serverless" => (0.001 * rate, 250.0),
        "vm-static" => (0.5, 20.0 + rate / 50.0),
        "vm-autoscaled" => (0.05 * rate.sqrt(), 40.0),
        other => panic!("{other}"),
    }
}

fn assert_rel(got: f64, want: f64) {
    assert!(
        ((got - want) / want).abs() < 1e-9,
        "got {got}, want {want} (relative error {})",
        ((got - want) / want).abs()
    );
}

#[test]
fn platform_sweep_marks_the_break_even_points() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    // A key given a single value is a constant, not a second varied key.
    make_grid_sweep(
        &sweep,
        "platform-sweep",
        &[
            ("platform.mode", MODES),
            ("trace.rate_per_s", &["10", "100", "1000", "10000"]),
            ("vm.instance_type", &["m5a.xlarge"]),
        ],
        costs,
    );

    let points = break_even_points(&sweep).unwrap();
    assert_eq!(points.len(), 2, "{points:?}");
    // VM modes in plan order.
    assert_eq!(points[0].0, "vm-autoscaled");
    assert_rel(points[0].1, 2500.0);
    assert_eq!(points[1].0, "vm-static");
    assert_rel(points[1].1, 500.0);

    let out = tmp.path().join("figs");
    let report = plot_dir_with(&sweep, &out, &PlotOptions::default()).unwrap();
    check_figures(
        &out,
        &report.written,
        &[
            "latency_cdf",
            "cold_start_vs_idle_memory",
            "cost_breakdown",
            "timeseries",
            "function_cold_start_cdf",
            "cost_vs_p99_latency",
            "break_even",
            "metrics_by_parameter",
        ],
        "platform-sweep",
    );
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(
        report.notes,
        vec![
            "break_even: serverless and vm-autoscaled cost the same at trace.rate_per_s ≈ 2500 \
             (serverless cheaper below, vm-autoscaled above)"
                .to_owned(),
            "break_even: serverless and vm-static cost the same at trace.rate_per_s ≈ 500 \
             (serverless cheaper below, vm-static above)"
                .to_owned(),
        ]
    );
    let svg = fs::read_to_string(out.join("break_even.svg")).unwrap();
    for text in [
        "platform-sweep: serverless vs VM break-even",
        "trace.rate_per_s (log scale)",
        "cost (USD, log scale)",
        "p99 latency (ms, log scale)",
        "break-even ≈ 500",
        "break-even ≈ 2500",
        "serverless",
        "vm-static",
        "vm-autoscaled",
    ] {
        assert!(
            svg_has_text(&svg, text),
            "break_even.svg lacks the text {text}"
        );
    }
    // The serverless line (tab10 blue) and the break-even lines are drawn in the bitmap.
    let decoder = png::Decoder::new(fs::File::open(out.join("break_even.png")).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let blue = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .filter(|p| (p[0], p[1], p[2]) == (31, 119, 180))
        .count();
    assert!(blue > 500, "only {blue} serverless-blue pixels");
}

#[test]
fn a_narrow_range_gets_a_linear_axis_and_the_same_break_even() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    make_grid_sweep(
        &sweep,
        "narrow",
        &[
            ("platform.mode", &["serverless", "vm-static"]),
            ("trace.rate_per_s", &["100", "200", "400", "800", "1000"]),
        ],
        costs,
    );
    let points = break_even_points(&sweep).unwrap();
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].0, "vm-static");
    assert_rel(points[0].1, 500.0);
    let out = tmp.path().join("figs");
    let report = plot_dir_with(&sweep, &out, &PlotOptions::default()).unwrap();
    assert!(report.written.contains(&out.join("break_even.png")));
    let (w, h, ink, colour) = png_stats(&out.join("break_even.png"));
    assert_eq!((w, h), FIGURE_SIZE);
    assert!(ink > (w * h) as usize / 100 && colour > 200);
    let svg = fs::read_to_string(out.join("break_even.svg")).unwrap();
    assert!(svg.contains("trace.rate_per_s"));
    assert!(!svg.contains("trace.rate_per_s (log scale)"));
    assert!(svg_has_text(&svg, "break-even ≈ 500"));
}

#[test]
fn no_crossing_and_free_tier_zeros() {
    let tmp = tempfile::tempdir().unwrap();
    // Serverless is cheaper throughout, and free (a free tier) at the lowest rate.
    let sweep = tmp.path().join("cheap");
    make_grid_sweep(
        &sweep,
        "cheap",
        &[
            ("platform.mode", &["serverless", "vm-static"]),
            ("trace.rate_per_s", &["1", "10", "100"]),
        ],
        |p| {
            let rate: f64 = param(p, "trace.rate_per_s").parse().unwrap();
            match param(p, "platform.mode") {
                "serverless" if rate < 5.0 => (0.0, 100.0),
                "serverless" => (0.001 * rate, 100.0),
                _ => (0.5, 10.0),
            }
        },
    );
    assert!(break_even_points(&sweep).unwrap().is_empty());
    let out = tmp.path().join("figs");
    let report = plot_dir_with(&sweep, &out, &PlotOptions::default()).unwrap();
    assert!(report.written.contains(&out.join("break_even.svg")));
    assert_eq!(
        report.notes,
        vec![
            "break_even: serverless is cheaper than vm-static over trace.rate_per_s = 1..100"
                .to_owned()
        ]
    );
    let svg = fs::read_to_string(out.join("break_even.svg")).unwrap();
    assert!(svg.contains("values &lt;= 0 not drawn (log axis)"));
    assert!(!svg.contains("break-even ≈"));

    // The free tier ends between rate 1 and 10 and VMs cost 0.005: the zero cost is
    // interpolated linearly in value (and in ln x).
    let sweep = tmp.path().join("free");
    make_grid_sweep(
        &sweep,
        "free",
        &[
            ("platform.mode", &["serverless", "vm-static"]),
            ("trace.rate_per_s", &["1", "10", "100"]),
        ],
        |p| {
            let rate: f64 = param(p, "trace.rate_per_s").parse().unwrap();
            match param(p, "platform.mode") {
                "serverless" if rate < 5.0 => (0.0, 100.0),
                "serverless" => (0.001 * rate, 100.0),
                _ => (0.005, 10.0),
            }
        },
    );
    let points = break_even_points(&sweep).unwrap();
    assert_eq!(points.len(), 1, "{points:?}");
    assert_rel(points[0].1, 10f64.powf(0.5));
}

#[test]
fn other_shapes_skip_the_break_even_figure_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let skipped = |dir: &Path| -> String {
        let out = dir.join("figs");
        let report = plot_dir_with(dir, &out, &PlotOptions::default()).unwrap();
        assert!(!out.join("break_even.png").exists());
        assert!(!out.join("break_even.svg").exists());
        report
            .skipped
            .into_iter()
            .find(|s| s.starts_with("break_even:"))
            .expect("a break_even note")
    };

    // A run directory.
    let run = tmp.path().join("run");
    make_run(&run, "tiny-run", 0.0, false);
    assert!(skipped(&run).contains("a sweep figure"));
    let err = break_even_points(&run).unwrap_err();
    assert!(matches!(err, PlotError::Invalid { .. }), "{err:?}");

    // A sweep of another key.
    let ttl = tmp.path().join("ttl");
    make_sweep(&ttl);
    assert!(skipped(&ttl).contains("`platform.mode` is not varied"));
    let err = break_even_points(&ttl).unwrap_err().to_string();
    assert!(
        err.contains("manifest.json") && err.contains("platform.mode"),
        "{err}"
    );

    // Two keys varied besides the mode.
    let two = tmp.path().join("two");
    make_grid_sweep(
        &two,
        "two",
        &[
            ("keep_alive.ttl_s", &["60", "600"]),
            ("platform.mode", &["serverless", "vm-static"]),
            ("trace.rate_per_s", &["10", "100"]),
        ],
        costs,
    );
    let note = skipped(&two);
    assert!(
        note.contains("2 keys are varied besides `platform.mode`")
            && note.contains("keep_alive.ttl_s, trace.rate_per_s"),
        "{note}"
    );

    // The other key is not numeric.
    let policy = tmp.path().join("policy");
    make_grid_sweep(
        &policy,
        "policy",
        &[
            ("placement.policy", &["first-fit", "least-loaded"]),
            ("platform.mode", &["serverless", "vm-static"]),
        ],
        |_| (1.0, 1.0),
    );
    let note = skipped(&policy);
    assert!(
        note.contains("`placement.policy`") && note.contains("not numeric"),
        "{note}"
    );

    // Only platform.mode varied.
    let alone = tmp.path().join("alone");
    make_grid_sweep(
        &alone,
        "alone",
        &[("platform.mode", &["serverless", "vm-static"])],
        |_| (1.0, 1.0),
    );
    assert!(skipped(&alone).contains("no key is varied besides `platform.mode`"));

    // No aggregate.csv (a shard).
    let shard = tmp.path().join("shard");
    make_grid_sweep(
        &shard,
        "shard",
        &[
            ("platform.mode", &["serverless", "vm-static"]),
            ("trace.rate_per_s", &["10", "100"]),
        ],
        costs,
    );
    fs::remove_file(shard.join("aggregate.csv")).unwrap();
    assert!(skipped(&shard).contains("aggregate.csv"));
    assert!(break_even_points(&shard).is_err());
}

#[test]
fn break_even_errors_name_aggregate_and_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    make_grid_sweep(
        &sweep,
        "platform-sweep",
        &[
            ("platform.mode", &["serverless", "vm-static"]),
            ("trace.rate_per_s", &["10", "100", "1000"]),
        ],
        costs,
    );
    let good = fs::read_to_string(sweep.join("aggregate.csv")).unwrap();

    // No p99 latency column.
    write(
        &sweep.join("aggregate.csv"),
        &good.replace("latency_p99_ms_mean", "latency_p99_mean"),
    );
    for err in [
        break_even_points(&sweep).unwrap_err(),
        plot_dir(&sweep, &tmp.path().join("figs")).unwrap_err(),
    ] {
        match &err {
            PlotError::MissingColumn { path, column } => {
                assert!(path.ends_with("aggregate.csv"));
                assert_eq!(column, "latency_p99_ms_mean");
            }
            other => panic!("{other:?}"),
        }
    }
    // Nothing drawn from a partly bad directory.
    assert!(!tmp.path().join("figs").exists());

    // A cost that is not a number.
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    let col = lines[0]
        .split(',')
        .position(|h| h == "user_cost_usd_mean")
        .unwrap();
    let mut cells: Vec<String> = lines[3].split(',').map(String::from).collect();
    cells[col] = "cheap".into();
    lines[3] = cells.join(",");
    write(&sweep.join("aggregate.csv"), &(lines.join("\n") + "\n"));
    match break_even_points(&sweep).unwrap_err() {
        PlotError::BadValue {
            path, line, column, ..
        } => {
            assert!(path.ends_with("aggregate.csv"));
            assert_eq!(line, 4);
            assert_eq!(column, "user_cost_usd_mean");
        }
        other => panic!("{other:?}"),
    }
}

// Exactly as faasim-experiments' `WorkflowRow` writes `workflows.csv`.
const WORKFLOW_COLS: &str = "workflow,orchestrator,executions,completed,failed,\
latency_mean_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms,cold_starts,tasks,\
overhead_mean_ms,critical_exec_mean_ms,critical_cold_start_mean_ms,\
critical_transition_mean_ms,critical_data_mean_ms,state_transitions,replays,bytes_moved,\
data_transfer_ms,function_cost_usd,orchestration_cost_usd,storage_cost_usd";

/// Pixels of exactly `rgb` in a PNG.
fn count_rgb(path: &Path, rgb: (u8, u8, u8)) -> usize {
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks_exact(channels)
        .filter(|px| (px[0], px[1], px[2]) == rgb)
        .count()
}

#[test]
fn a_run_with_workflows_gets_the_latency_breakdown() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(&run, "wf-run", 0.0, false);
    // `etl`: 1,500 ms end to end = 1,000 executing + 300 cold start + 50 transitions + 100
    // data along the critical path, and 50 ms elsewhere (queueing). `idle` never completed.
    write(
        &run.join("workflows.csv"),
        &format!(
            "{WORKFLOW_COLS}\n\
             etl,step-functions-standard,10,10,0,1500,1400,1900,2000,3,30,500,1000,300,50,100,30,0,1000,1000,0.001,0.00075,0.0001\n\
             idle,direct,2,0,2,0,0,0,0,0,2,0,0,0,0,0,2,0,0,0,0,0,0\n"
        ),
    );
    let out = tmp.path().join("figs");
    let report = plot_dir_with(&run, &out, &PlotOptions::default()).unwrap();
    check_figures(
        &out,
        &report.written,
        &[
            "cost_breakdown",
            "timeseries",
            "function_cold_start_cdf",
            "workflow_latency",
        ],
        "wf-run",
    );
    let svg = fs::read_to_string(out.join("workflow_latency.svg")).unwrap();
    assert!(svg_has_text(&svg, "etl") && svg_has_text(&svg, "1500 ms"));
    for text in [
        "wf-run: workflow latency breakdown",
        "end-to-end latency (ms)",
        "etl",
        "1500 ms",
        "execution",
        "cold start",
        "transitions (orchestration)",
        "data transfer",
        "other (queueing, waits)",
        "no completed execution: idle",
    ] {
        assert!(
            svg_has_text(&svg, text) || svg.contains(text),
            "workflow_latency.svg lacks {text}"
        );
    }
    // One bar: its parts are as wide as their shares, so the execution part has 1000/300
    // times the pixels of the cold-start part (the legend's two equal boxes aside; 2%
    // allows for rounding at the parts' edges).
    let png = out.join("workflow_latency.png");
    let exec = count_rgb(&png, (66, 146, 198)) as f64;
    let cold = count_rgb(&png, (253, 141, 60)) as f64;
    let data = count_rgb(&png, (44, 160, 44)) as f64;
    assert!(cold > 1000.0, "{cold}");
    let ratio = exec / cold;
    assert!((ratio / (1000.0 / 300.0) - 1.0).abs() < 0.02, "{ratio}");
    let ratio = exec / data;
    assert!((ratio / 10.0 - 1.0).abs() < 0.03, "{ratio}");

    // A run without workflows.csv leaves the figure out, and says nothing about it.
    fs::remove_file(run.join("workflows.csv")).unwrap();
    let out = tmp.path().join("plain");
    let report = plot_dir_with(&run, &out, &PlotOptions::default()).unwrap();
    assert!(!out.join("workflow_latency.png").exists());
    assert!(!report.skipped.iter().any(|s| s.contains("workflow")));
}

#[test]
fn a_bad_workflows_csv_names_the_file_and_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    make_run(&run, "wf-run", 0.0, false);
    write(
        &run.join("workflows.csv"),
        "workflow,completed,latency_mean_ms\netl,1,10\n",
    );
    let err = plot_dir(&run, &tmp.path().join("figs")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("workflows.csv") && msg.contains("critical_exec_mean_ms"),
        "{msg}"
    );
    write(
        &run.join("workflows.csv"),
        &format!("{WORKFLOW_COLS}\netl,direct,1,1,0,ten,0,0,0,0,1,0,0,0,0,0,1,0,0,0,0,0,0\n"),
    );
    let msg = plot_dir(&run, &tmp.path().join("figs"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("workflows.csv") && msg.contains("line 2") && msg.contains("latency_mean_ms"),
        "{msg}"
    );
}
