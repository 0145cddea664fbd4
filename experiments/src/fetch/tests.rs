//! `faasim trace fetch` against a server on 127.0.0.1 (no test touches the internet): the
//! datasets' own definitions, fetched through `--mirror`, from fixture files made here or
//! taken from `traces/samples/`.

use super::*;
use std::io::{BufRead, BufReader as StdBufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does for one request.
#[derive(Clone)]
enum Reply {
    /// The bytes (206 with the rest when the request has a Range).
    Serve(Vec<u8>),
    /// Announces the whole length, sends this many bytes, closes the connection.
    Cut(Vec<u8>, usize),
    /// This status, no body.
    Status(u16),
}

/// A request the server saw: path and Range header.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves `reply(path)` for each connection until `deadline` (bounded: it stops by itself).
fn server(reply: impl Fn(&str) -> Reply + Send + 'static) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let seen: Seen = Arc::new(Mutex::new(vec![]));
    let log = seen.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match listener.accept() {
                Ok((s, _)) => handle(s, &reply, &log),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (format!("http://{addr}"), seen)
}

fn handle(stream: TcpStream, reply: &impl Fn(&str) -> Reply, seen: &Seen) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut r = StdBufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut range = None;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_owned());
            }
        }
    }
    seen.lock().unwrap().push((path.clone(), range.clone()));
    let mut s = stream;
    let from = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok());
    let _ = match reply(&path) {
        Reply::Serve(body) => match from {
            Some(f) if f < body.len() => write!(
                s,
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {f}-{}/{}\r\nConnection: close\r\n\r\n",
                body.len() - f,
                body.len() - 1,
                body.len()
            )
            .and_then(|()| s.write_all(&body[f..])),
            _ => write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .and_then(|()| s.write_all(&body)),
        },
        Reply::Cut(body, n) => write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .and_then(|()| s.write_all(&body[..n])),
        Reply::Status(code) => write!(
            s,
            "HTTP/1.1 {code} Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    };
    let _ = s.flush();
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/samples")
}

fn opts(mirror: &str) -> FetchOptions {
    FetchOptions {
        mirror: Some(mirror.to_owned()),
        progress: false,
    }
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn llm_reply(path: &str) -> Reply {
    let name = path.rsplit('/').next().unwrap();
    Reply::Serve(fs::read(samples().join("azure-llm-2023").join(name)).unwrap())
}

/// A scenario with `table` as its `[trace]`: the table parses, and the trace opens and
/// yields `n` arrivals.
fn arrivals_of(table: &str, base: &Path) -> u64 {
    let text = format!("name = \"fetched\"\n{table}");
    let path = base.join("s.toml");
    fs::write(&path, &text).unwrap();
    let loaded = crate::scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut t = loaded.open_trace(1).unwrap();
    let mut functions = faasim_sim::FunctionTable::new();
    let mut n = 0;
    while t
        .source_mut()
        .next_arrival(&mut functions)
        .unwrap()
        .is_some()
    {
        n += 1;
    }
    n
}

/// The two LLM files, checked against the SHA-256 recorded in the source (the same bytes
/// as the repository's samples), land in the folder with their `.sha256` beside them; the
/// table printed reads the conversation trace: 19,366 requests (PROVENANCE.txt's count).
/// A second fetch finds them intact and asks the server nothing.
#[test]
fn azure_llm_2023_is_fetched_and_checked_against_the_recorded_checksums() {
    let (url, seen) = server(llm_reply);
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("llm");
    let d = dataset("azure-llm-2023").unwrap();
    let r = fetch(&d, &out, &opts(&url)).unwrap();
    assert_eq!(
        entries(&out),
        [
            "AzureLLMInferenceTrace_code.csv",
            "AzureLLMInferenceTrace_code.csv.sha256",
            "AzureLLMInferenceTrace_conv.csv",
            "AzureLLMInferenceTrace_conv.csv.sha256"
        ]
    );
    assert!(
        r.lines
            .iter()
            .any(|l| l.contains("54e9a6d2") && l.contains("recorded in faasim")),
        "{:?}",
        r.lines
    );
    // The mirror keeps the host and path of the official URL.
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/github.com/Azure/AzurePublicDataset/raw/master/data/AzureLLMInferenceTrace_code.csv",
            "/github.com/Azure/AzurePublicDataset/raw/master/data/AzureLLMInferenceTrace_conv.csv"
        ]
    );
    let table = trace_table(&d, &out, &r.files);
    assert_eq!(arrivals_of(&table, t.path()), 19_366, "{table}");
    let again = fetch(&d, &out, &opts(&url)).unwrap();
    assert!(
        again.lines.iter().all(|l| l.contains("already there")),
        "{:?}",
        again.lines
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

/// A connection cut after 1,000 bytes is an error that says to run again, and leaves only
/// the staging folder (its part file holds the 1,000 bytes). The second run asks for
/// `bytes=1000-`, gets the rest (206), and the whole file passes its checksum.
#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let first = Arc::new(Mutex::new(true));
    let f = first.clone();
    let (url, seen) = server(move |path| {
        let Reply::Serve(body) = llm_reply(path) else {
            unreachable!()
        };
        let mut first = f.lock().unwrap();
        if path.ends_with("_conv.csv") && *first {
            *first = false;
            Reply::Cut(body, 1000)
        } else {
            Reply::Serve(body)
        }
    });
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("llm");
    let d = dataset("azure-llm-2023").unwrap();
    let e = fetch(&d, &out, &opts(&url)).unwrap_err().to_string();
    assert!(
        e.contains("AzureLLMInferenceTrace_conv.csv")
            && e.contains("run the command again to resume"),
        "{e}"
    );
    assert_eq!(entries(&out), [STAGING]);
    let part = out
        .join(STAGING)
        .join("AzureLLMInferenceTrace_conv.csv.part");
    assert_eq!(fs::metadata(&part).unwrap().len(), 1000);
    let r = fetch(&d, &out, &opts(&url)).unwrap();
    assert!(
        r.lines
            .iter()
            .any(|l| l.starts_with("AzureLLMInferenceTrace_conv.csv: resumed")),
        "{:?}",
        r.lines
    );
    let seen = seen.lock().unwrap();
    // code (whole), conv (cut), conv (the rest); code was complete in the staging folder.
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[2].1.as_deref(), Some("bytes=1000-"));
    assert_eq!(
        fs::read(out.join("AzureLLMInferenceTrace_conv.csv")).unwrap(),
        fs::read(samples().join("azure-llm-2023/AzureLLMInferenceTrace_conv.csv")).unwrap()
    );
    assert!(!out.join(STAGING).exists());
}

/// A file whose SHA-256 is not the recorded one is removed, and nothing lands in the folder.
#[test]
fn a_wrong_checksum_is_an_error_that_leaves_no_dataset() {
    let (url, _) = server(|path| {
        let Reply::Serve(mut body) = llm_reply(path) else {
            unreachable!()
        };
        if path.ends_with("_code.csv") {
            body[100] ^= 1;
        }
        Reply::Serve(body)
    });
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("llm");
    let e = fetch(&dataset("azure-llm-2023").unwrap(), &out, &opts(&url))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("AzureLLMInferenceTrace_code.csv: SHA-256 ")
            && e.contains("expected 54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6 (recorded in faasim)"),
        "{e}"
    );
    assert_eq!(entries(&out), [STAGING]);
    assert!(entries(&out.join(STAGING)).is_empty());
}

/// A server error names the status and leaves no dataset.
#[test]
fn a_server_error_is_an_error_that_leaves_no_dataset() {
    let (url, _) = server(|_| Reply::Status(503));
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("a");
    let e = fetch(&dataset("azure2019").unwrap(), &out, &opts(&url))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "azurefunctions-dataset2019.tar.xz: the server answered 503 Service Unavailable"
        ),
        "{e}"
    );
    assert_eq!(entries(&out), [STAGING]);
}

/// The 2019 archive's layout, made from the repository's one-function sample: a tar.xz of
/// day 1's three files under the names the published archive uses.
fn azure2019_fixture() -> Vec<u8> {
    let dir = samples().join("azure2019-sample-1");
    let mut b = tar::Builder::new(Vec::new());
    for (from, to) in [
        (
            "invocations.csv",
            "invocations_per_function_md.anon.d01.csv",
        ),
        (
            "durations.csv",
            "function_durations_percentiles.anon.d01.csv",
        ),
        ("memory.csv", "app_memory_percentiles.anon.d01.csv"),
    ] {
        let data = fs::read(dir.join(from)).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, to, data.as_slice()).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut xz = vec![];
    lzma_rs::xz_compress(&mut io::BufReader::new(tar.as_slice()), &mut xz).unwrap();
    xz
}

/// The 2019 archive is unpacked; with no published checksum, the first download's is
/// written beside it and a later download that differs is refused. The table printed
/// replays the sample's day: as many arrivals as the sample's invocation counts add up to.
#[test]
fn azure2019_is_unpacked_and_its_first_checksum_recorded_then_checked() {
    let archive = azure2019_fixture();
    let served = Arc::new(Mutex::new(archive.clone()));
    let s = served.clone();
    let (url, _) = server(move |_| Reply::Serve(s.lock().unwrap().clone()));
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("az");
    let d = dataset("azure2019").unwrap();
    let r = fetch(&d, &out, &opts(&url)).unwrap();
    assert_eq!(
        entries(&out),
        [
            "app_memory_percentiles.anon.d01.csv",
            "azurefunctions-dataset2019.tar.xz",
            "azurefunctions-dataset2019.tar.xz.sha256",
            "function_durations_percentiles.anon.d01.csv",
            "invocations_per_function_md.anon.d01.csv"
        ]
    );
    let sum = format!("{:x}", Sha256::digest(&archive));
    assert_eq!(
        fs::read_to_string(out.join("azurefunctions-dataset2019.tar.xz.sha256")).unwrap(),
        format!("{sum}  azurefunctions-dataset2019.tar.xz\n")
    );
    // The sample's per-minute counts, summed (the columns after the four id columns).
    let inv = fs::read_to_string(samples().join("azure2019-sample-1/invocations.csv")).unwrap();
    let expected: u64 = inv
        .lines()
        .skip(1)
        .flat_map(|l| {
            l.split(',')
                .skip(4)
                .map(|c| c.trim().parse::<u64>().unwrap())
        })
        .sum();
    assert!(expected > 1000, "{expected}");
    let table = trace_table(&d, &out, &r.files);
    assert_eq!(arrivals_of(&table, t.path()), expected, "{table}");
    // A later fetch of a different file (the archive removed by hand) fails the recorded
    // checksum and leaves the unpacked day as it was.
    fs::remove_file(out.join("azurefunctions-dataset2019.tar.xz")).unwrap();
    served.lock().unwrap()[40] ^= 1;
    let e = fetch(&d, &out, &opts(&url)).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "expected {sum} (recorded on the first download in"
        )),
        "{e}"
    );
    assert!(out
        .join("invocations_per_function_md.anon.d01.csv")
        .is_file());
}

/// A truncated archive (no published checksum to catch it) fails to unpack: an error
/// naming the archive, and no file of it in the folder or the staging folder.
#[test]
fn a_truncated_archive_is_an_error_that_leaves_no_dataset() {
    let mut archive = azure2019_fixture();
    archive.truncate(archive.len() / 2);
    let (url, _) = server(move |_| Reply::Serve(archive.clone()));
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("az");
    let e = fetch(&dataset("azure2019").unwrap(), &out, &opts(&url))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("azurefunctions-dataset2019.tar.xz: cannot unpack the archive (xz: "),
        "{e}"
    );
    assert_eq!(entries(&out), [STAGING]);
    assert!(
        entries(&out.join(STAGING)).is_empty(),
        "{:?}",
        entries(&out.join(STAGING))
    );
}

/// A zip release (the Huawei 2023 layout: folders of day files) is unpacked, and the table
/// reads the public cloud's days in order; the 2025 release is fetched but said to be unread.
#[test]
fn huawei_zips_are_unpacked_and_the_table_lists_the_days() {
    let zip_of = |files: &[(&str, &str)]| {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, text) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    // Two functions' per-minute counts, the published schema (a column per function).
    let public = zip_of(&[
        (
            "public_dataset/requests_minute/day_001.csv",
            "day,time,0,1\n1,86400,2,1\n1,86460,,3\n",
        ),
        (
            "public_dataset/requests_minute/day_000.csv",
            "day,time,0,1\n0,0,1,0\n0,60,0,0\n",
        ),
    ]);
    let private = zip_of(&[(
        "private_dataset/requests_minute/day_000.csv",
        "day,time,0\n0,0,5\n",
    )]);
    let (url, _) = server(move |path| {
        if path.contains("1RfkSxt9") {
            Reply::Serve(public.clone())
        } else {
            Reply::Serve(private.clone())
        }
    });
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("hw");
    let d = dataset("huawei2023").unwrap();
    let r = fetch(&d, &out, &opts(&url)).unwrap();
    let table = trace_table(&d, &out, &r.files);
    // The public cloud's two days, in order: 1 + (2 + 1 + 3) requests.
    assert_eq!(arrivals_of(&table, t.path()), 7, "{table}");
    assert!(!table.contains("private_dataset"), "{table}");
    assert!(out
        .join("private_dataset/requests_minute/day_000.csv")
        .is_file());
    let d25 = dataset("huawei2025").unwrap();
    assert!(trace_table(&d25, &out, &[]).contains("no request or cold-start CSV files found"));
    // On the release's layout (the repository's hand-made fixtures, region 1): the table
    // reads the 218 requests and draws cold starts from the cold-start days.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../traces/samples/huawei2025-fixtures")
        .canonicalize()
        .unwrap();
    let files: Vec<PathBuf> = [
        "per_request/R1/part_01.csv",
        "cold_start/R1/day_29.csv",
        "cold_start/R1/day_30.csv",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let table = trace_table(&d25, &fixtures, &files);
    assert!(
        table.contains("from = \"huawei2025-cold-starts\""),
        "{table}"
    );
    assert_eq!(arrivals_of(&table, t.path()), 218, "{table}");
    let loaded = crate::scenario::load(&t.path().join("s.toml"), &[]).unwrap();
    let cfg = loaded.engine_config(1).unwrap();
    assert!(!cfg.cold_start_per_function.is_empty());
    let e = dataset("azure2020").unwrap_err().to_string();
    assert_eq!(e, "unknown dataset `azure2020`; the datasets are: azure2019, azure2021, azure-llm-2023, huawei2023, huawei2025");
}
