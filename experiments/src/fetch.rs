//! `faasim trace fetch`: downloads the public traces from where their publishers put them,
//! checks them, unpacks them, and says which `[trace]` table reads them.
//!
//! Every file is downloaded into a staging folder inside `--out`
//! (`DIR/.faasim-fetch/`, as `NAME.part`) and resumed from where it stopped (an HTTP
//! `Range` request) when the command is run again. A file is checked against the SHA-256
//! recorded here when the publisher gives one (or when the file sits in a repository whose
//! history pins it); otherwise the checksum of the first download is written beside the
//! data (`NAME.sha256`, the format of `sha256sum`) and later downloads are checked against
//! it. Archives are unpacked in Rust (`.tar.xz`: `lzma-rs` and `tar`; `.zip`: `zip`). The
//! dataset's files appear in `DIR` only when all of them are downloaded, checked and
//! unpacked: a wrong checksum, a truncated archive or a server error leaves nothing in
//! `DIR` but the staging folder (what a resume needs; a file that failed its checksum or
//! would not unpack is removed from it too).

use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// The staging folder inside `--out`.
pub const STAGING: &str = ".faasim-fetch";

/// How a downloaded file is unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// Kept as it is.
    None,
    /// A tar archive compressed with xz.
    TarXz,
    /// A zip archive.
    Zip,
    /// A RAR archive: kept as it is (no RAR decoder in pure Rust that faasim trusts; the
    /// message says how to unpack it).
    Rar,
}

/// One file of a dataset.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    /// Where the publisher serves it.
    pub url: String,
    /// Its name in `--out`.
    pub name: String,
    /// The SHA-256 recorded here (hex), when known.
    pub sha256: Option<String>,
    /// How to unpack it.
    pub archive: Archive,
}

/// A public dataset `faasim trace fetch` knows.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The name on the command line.
    pub name: &'static str,
    /// What it is and where it comes from (licence, paper to cite).
    pub about: &'static str,
    /// Its files.
    pub files: Vec<RemoteFile>,
}

fn file(url: &str, name: &str, sha256: Option<&str>, archive: Archive) -> RemoteFile {
    RemoteFile {
        url: url.to_owned(),
        name: name.to_owned(),
        sha256: sha256.map(str::to_owned),
        archive,
    }
}

/// A Google Drive file of the SIR lab's release, by its id: the direct download (the
/// `confirm` parameter skips the page Drive shows before large files).
fn drive(id: &str, name: &str, archive: Archive) -> RemoteFile {
    file(
        &format!("https://drive.usercontent.google.com/download?id={id}&export=download&confirm=t"),
        name,
        None,
        archive,
    )
}

/// The datasets, with their official locations: the Azure Public Dataset
/// (github.com/Azure/AzurePublicDataset: `AzureFunctionsDataset2019.md`,
/// `AzureFunctionsInvocationTrace2021.md`, `AzureLLMInferenceDataset2023.md`) and the SIR
/// lab's release of the Huawei traces (github.com/sir-lab/data-release:
/// `README_data_release_2023.md`, `README_data_release_2025.md`).
pub fn datasets() -> Vec<Dataset> {
    const AZ: &str = "https://github.com/Azure/AzurePublicDataset/raw/master/data";
    vec![
        Dataset {
            name: "azure2019",
            about: "Azure Functions 2019 (Shahrad et al., ATC'20), 14 days, CC-BY-4.0; Microsoft publishes no checksum",
            files: vec![file(
                "https://azurepublicdatasettraces.blob.core.windows.net/azurepublicdatasetv2/azurefunctions_dataset2019/azurefunctions-dataset2019.tar.xz",
                "azurefunctions-dataset2019.tar.xz",
                None,
                Archive::TarXz,
            )],
        },
        Dataset {
            name: "azure2021",
            about: "Azure Functions invocation trace 2021 (Zhang et al., SOSP'21), 14 days, CC-BY-4.0; a RAR5 archive",
            files: vec![file(
                &format!("{AZ}/AzureFunctionsInvocationTraceForTwoWeeksJan2021.rar"),
                "AzureFunctionsInvocationTraceForTwoWeeksJan2021.rar",
                None,
                Archive::Rar,
            )],
        },
        Dataset {
            name: "azure-llm-2023",
            about: "Azure LLM inference 2023 (Patel et al., Splitwise, ISCA'24), CC-BY-4.0; checksums of the files at the repository's commit b469a113",
            files: vec![
                file(
                    &format!("{AZ}/AzureLLMInferenceTrace_code.csv"),
                    "AzureLLMInferenceTrace_code.csv",
                    Some("54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6"),
                    Archive::None,
                ),
                file(
                    &format!("{AZ}/AzureLLMInferenceTrace_conv.csv"),
                    "AzureLLMInferenceTrace_conv.csv",
                    Some("2f1e5b666d4e3055fdbba98598ce2ec307767b9064e03e2fa46676dbcc7d0bf8"),
                    Archive::None,
                ),
            ],
        },
        Dataset {
            name: "huawei2023",
            about: "Huawei Cloud 2023 (Joosen et al., SoCC'23), requests per minute of the public (26 days, 5,093 functions) and private (235 days, 200 functions) clouds, CC-BY-4.0; the SIR lab publishes no checksum",
            files: vec![
                drive("1RfkSxt9TddpOHiybEJFwUXfWqpsJyqSK", "huawei2023-public-requests-minute.zip", Archive::Zip),
                drive("1W9dQvqRGylfUeHJcYqWwJrpYHIsYCVq_", "huawei2023-private-requests-minute.zip", Archive::Zip),
            ],
        },
        Dataset {
            name: "huawei2025",
            about: "Huawei Cloud 2025 (Joosen et al., EuroSys'25), cold-start events of 5 regions over 31 days and region 5's requests, CC-BY-4.0; the SIR lab publishes no checksum",
            files: vec![
                drive("1mMQtfZNtg-EPmGmGYuOzC5KPbZoXRd8e", "huawei2025-region1-cold-starts.zip", Archive::Zip),
                drive("1qjnBBH_yEOnxAG5vFPQwx6xyITZrrP8L", "huawei2025-region2-cold-starts.zip", Archive::Zip),
                drive("1WlUk-tQLao6mU0FoMx9YO2-HIMevEDjX", "huawei2025-region3-cold-starts.zip", Archive::Zip),
                drive("1YywoClXTZ1Q0jKfB2Y3Hgu0xh0lrDoBZ", "huawei2025-region4-cold-starts.zip", Archive::Zip),
                drive("1ah7nj5fyedMpOeaFgNVA7oMx3815D8BZ", "huawei2025-region5-cold-starts.zip", Archive::Zip),
                drive("102AFIHkEQHuvG8-hZeWHVFqXeeI-a8xS", "huawei2025-region5-requests.zip", Archive::Zip),
            ],
        },
    ]
}

/// The dataset named `name`, or an error listing the names.
pub fn dataset(name: &str) -> Result<Dataset, FetchError> {
    let all = datasets();
    let names: Vec<&str> = all.iter().map(|d| d.name).collect();
    all.into_iter().find(|d| d.name == name).ok_or_else(|| {
        FetchError::Other(format!(
            "unknown dataset `{name}`; the datasets are: {}",
            names.join(", ")
        ))
    })
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The download failed: an HTTP error status, a broken connection.
    #[error("{url}: {message}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The file's SHA-256 is not the recorded one.
    #[error("{name}: SHA-256 {got}, expected {expected} ({source_of_expected}); the file was removed, run the command again to download it anew")]
    Checksum {
        /// The file.
        name: String,
        /// Its checksum.
        got: String,
        /// The recorded one.
        expected: String,
        /// Where the recorded one comes from.
        source_of_expected: String,
    },
    /// An archive could not be unpacked (truncated, corrupt).
    #[error("{name}: cannot unpack the archive ({message}); the file was removed, run the command again to download it anew")]
    Unpack {
        /// The archive.
        name: String,
        /// What the decoder said.
        message: String,
    },
    /// Anything else (a bad name or option).
    #[error("{0}")]
    Other(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Options of a fetch.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Fetch from a mirror instead: `MIRROR/HOST/PATH` for `https://HOST/PATH`.
    pub mirror: Option<String>,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

/// What a fetch did.
#[derive(Debug, Clone, Default)]
pub struct FetchReport {
    /// One line per file: downloaded, resumed, already there; the checksum and its origin.
    pub lines: Vec<String>,
    /// The files now in `--out`, relative to it, sorted.
    pub files: Vec<PathBuf>,
}

/// The URL a file is fetched from, with a mirror.
fn source_url(url: &str, mirror: Option<&str>) -> String {
    match mirror {
        None => url.to_owned(),
        Some(m) => {
            let rest = url.split_once("://").map_or(url, |(_, r)| r);
            format!("{}/{rest}", m.trim_end_matches('/'))
        }
    }
}

fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut f = BufReader::new(File::open(path).map_err(io_err(path))?);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Downloads `url` into `part`, appending to what it holds (a `Range` request); returns
/// whether it resumed.
fn download(url: &str, part: &Path, progress: bool, label: &str) -> Result<bool, FetchError> {
    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .user_agent(concat!("faasim/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let dl_err = |message: String| FetchError::Download {
        url: url.to_owned(),
        message,
    };
    let mut req = agent.get(url);
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
    }
    let mut resp = req.call().map_err(|e| dl_err(e.to_string()))?;
    let status = resp.status().as_u16();
    let resumed = match status {
        206 => true,
        200 => false,
        // The part already holds the whole file (or more): start again.
        416 => {
            fs::remove_file(part).map_err(io_err(part))?;
            return download(url, part, progress, label);
        }
        s => {
            let reason = resp.status().canonical_reason().unwrap_or("");
            return Err(dl_err(format!("the server answered {s} {reason}")));
        }
    };
    if resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"))
    {
        return Err(dl_err(
            "the server sent a web page instead of the data (a sign-in or confirmation page?)"
                .into(),
        ));
    }
    let length = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let start = if resumed { have } else { 0 };
    let mut out = fs::OpenOptions::new()
        .create(true)
        .append(resumed)
        .write(true)
        .truncate(!resumed)
        .open(part)
        .map_err(io_err(part))?;
    let bar = if progress {
        let b = match length {
            Some(l) => indicatif::ProgressBar::new(start + l),
            None => indicatif::ProgressBar::no_length(),
        };
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.set_message(label.to_owned());
        b.set_position(start);
        Some(b)
    } else {
        None
    };
    let mut reader = resp.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.flush().map_err(io_err(part))?;
                if let Some(b) = &bar {
                    b.abandon();
                }
                let got = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
                return Err(dl_err(format!(
                    "the download stopped after {got} bytes ({e}); run the command again to resume it"
                )));
            }
        };
        out.write_all(&buf[..n]).map_err(io_err(part))?;
        if let Some(b) = &bar {
            b.inc(n as u64);
        }
    }
    out.sync_all().map_err(io_err(part))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(resumed)
}

/// Unpacks `archive` into `into` (made empty first).
fn unpack(kind: Archive, archive: &Path, into: &Path) -> Result<(), String> {
    if into.exists() {
        fs::remove_dir_all(into).map_err(|e| e.to_string())?;
    }
    fs::create_dir_all(into).map_err(|e| e.to_string())?;
    match kind {
        Archive::None | Archive::Rar => Ok(()),
        Archive::TarXz => {
            // xz into a temporary .tar beside the archive, then the tar: lzma-rs decodes a
            // whole stream from a reader to a writer.
            let tar_path = into.with_extension("tar");
            let decoded = (|| {
                let mut input = BufReader::new(File::open(archive).map_err(|e| e.to_string())?);
                let mut output =
                    io::BufWriter::new(File::create(&tar_path).map_err(|e| e.to_string())?);
                lzma_rs::xz_decompress(&mut input, &mut output).map_err(|e| format!("xz: {e}"))?;
                output.flush().map_err(|e| e.to_string())
            })();
            if let Err(e) = decoded {
                let _ = fs::remove_file(&tar_path);
                return Err(e);
            }
            let result = (|| {
                let f = File::open(&tar_path).map_err(|e| e.to_string())?;
                let mut t = tar::Archive::new(BufReader::new(f));
                for entry in t.entries().map_err(|e| format!("tar: {e}"))? {
                    let mut entry = entry.map_err(|e| format!("tar: {e}"))?;
                    // `unpack_in` refuses paths that leave `into`.
                    entry.unpack_in(into).map_err(|e| format!("tar: {e}"))?;
                }
                Ok(())
            })();
            let _ = fs::remove_file(&tar_path);
            result
        }
        Archive::Zip => {
            let f = File::open(archive).map_err(|e| e.to_string())?;
            let mut z = zip::ZipArchive::new(BufReader::new(f)).map_err(|e| format!("zip: {e}"))?;
            for i in 0..z.len() {
                let mut entry = z.by_index(i).map_err(|e| format!("zip: {e}"))?;
                let Some(rel) = entry.enclosed_name() else {
                    return Err(format!("zip: entry {:?} leaves the folder", entry.name()));
                };
                let path = into.join(rel);
                if entry.is_dir() {
                    fs::create_dir_all(&path).map_err(|e| e.to_string())?;
                    continue;
                }
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                let mut out = File::create(&path).map_err(|e| e.to_string())?;
                io::copy(&mut entry, &mut out).map_err(|e| format!("zip: {e}"))?;
            }
            Ok(())
        }
    }
}

/// Moves every entry of `from` into `to` (replacing what has the same name).
fn move_entries(from: &Path, to: &Path) -> Result<(), FetchError> {
    for e in fs::read_dir(from).map_err(io_err(from))? {
        let e = e.map_err(io_err(from))?;
        let target = to.join(e.file_name());
        if target.is_dir() {
            fs::remove_dir_all(&target).map_err(io_err(&target))?;
        } else if target.exists() {
            fs::remove_file(&target).map_err(io_err(&target))?;
        }
        fs::rename(e.path(), &target).map_err(io_err(&target))?;
    }
    Ok(())
}

/// The recorded checksum in a `NAME.sha256` file (`HEX  NAME`).
fn read_recorded(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let hex = text.split_whitespace().next()?.to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// Fetches `d` into `out`. See the module docs.
pub fn fetch(d: &Dataset, out: &Path, opts: &FetchOptions) -> Result<FetchReport, FetchError> {
    if out.is_file() {
        return Err(FetchError::Other(format!(
            "output path {} is a file, expected a directory",
            out.display()
        )));
    }
    let staging = out.join(STAGING);
    fs::create_dir_all(&staging).map_err(io_err(&staging))?;
    let mut report = FetchReport::default();
    // 1. Every file downloaded and checked, in the staging folder.
    for f in &d.files {
        let final_path = out.join(&f.name);
        let record_path = out.join(format!("{}.sha256", f.name));
        let staged = staging.join(&f.name);
        let recorded_here = read_recorded(&record_path);
        let expected = f
            .sha256
            .clone()
            .map(|h| (h, "recorded in faasim".to_owned()))
            .or_else(|| {
                recorded_here.clone().map(|h| {
                    (
                        h,
                        format!(
                            "recorded on the first download in {}",
                            record_path.display()
                        ),
                    )
                })
            });
        // Already fetched and intact: nothing to do.
        if final_path.is_file() {
            if let Some((h, _)) = &expected {
                if sha256_file(&final_path)? == *h {
                    report
                        .lines
                        .push(format!("{}: already there, SHA-256 {h} checked", f.name));
                    continue;
                }
            }
        }
        if !staged.is_file() {
            let part = staging.join(format!("{}.part", f.name));
            let url = source_url(&f.url, opts.mirror.as_deref());
            let resumed = download(&url, &part, opts.progress, &f.name)?;
            fs::rename(&part, &staged).map_err(io_err(&staged))?;
            report.lines.push(format!(
                "{}: {} from {url}",
                f.name,
                if resumed { "resumed" } else { "downloaded" }
            ));
        }
        let got = sha256_file(&staged)?;
        match &expected {
            Some((h, origin)) if *h != got => {
                let _ = fs::remove_file(&staged);
                return Err(FetchError::Checksum {
                    name: f.name.clone(),
                    got,
                    expected: h.clone(),
                    source_of_expected: origin.clone(),
                });
            }
            Some((h, origin)) => report.lines.push(format!("{}: SHA-256 {h} checked ({origin})", f.name)),
            None => report.lines.push(format!(
                "{}: SHA-256 {got} (the publisher gives none: recorded in {}.sha256, and checked on later fetches)",
                f.name, f.name
            )),
        }
    }
    // 2. Archives unpacked into the staging folder.
    let unpacked = staging.join("unpacked");
    if unpacked.exists() {
        fs::remove_dir_all(&unpacked).map_err(io_err(&unpacked))?;
    }
    fs::create_dir_all(&unpacked).map_err(io_err(&unpacked))?;
    for f in &d.files {
        let staged = staging.join(&f.name);
        if !staged.is_file() || matches!(f.archive, Archive::None | Archive::Rar) {
            continue;
        }
        let into = staging.join(format!("{}.d", f.name));
        if let Err(message) = unpack(f.archive, &staged, &into) {
            let _ = fs::remove_dir_all(&into);
            let _ = fs::remove_dir_all(&unpacked);
            let _ = fs::remove_file(&staged);
            return Err(FetchError::Unpack {
                name: f.name.clone(),
                message,
            });
        }
        move_entries(&into, &unpacked)?;
        fs::remove_dir_all(&into).map_err(io_err(&into))?;
        report.lines.push(format!("{}: unpacked", f.name));
    }
    // 3. Into `out`: the unpacked files, then the downloaded ones and their checksums.
    move_entries(&unpacked, out)?;
    for f in &d.files {
        let staged = staging.join(&f.name);
        if !staged.is_file() {
            continue;
        }
        let sum = sha256_file(&staged)?;
        let record_path = out.join(format!("{}.sha256", f.name));
        let tmp = staging.join(format!("{}.sha256", f.name));
        fs::write(&tmp, format!("{sum}  {}\n", f.name)).map_err(io_err(&tmp))?;
        fs::rename(&staged, out.join(&f.name)).map_err(io_err(out))?;
        fs::rename(&tmp, &record_path).map_err(io_err(&record_path))?;
    }
    fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    let mut files = vec![];
    list_files(out, out, &mut files).map_err(io_err(out))?;
    files.sort();
    report.files = files;
    Ok(report)
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            list_files(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_owned());
        }
    }
    Ok(())
}

/// TOML text of a path list (`"a"` or `["a", "b"]`).
fn toml_paths(paths: &[PathBuf]) -> String {
    let quoted: Vec<String> = paths
        .iter()
        .map(|p| toml::Value::String(p.display().to_string()).to_string())
        .collect();
    if quoted.len() == 1 {
        quoted[0].clone()
    } else {
        format!("[\n  {},\n]", quoted.join(",\n  "))
    }
}

/// The files of `files` (relative to `out`) whose name starts with `prefix` and ends with
/// `suffix`, sorted, as paths under `out`.
fn matching(out: &Path, files: &[PathBuf], prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .map(|p| out.join(p))
        .collect();
    v.sort();
    v
}

/// The scenario `[trace]` table that reads what `fetch` put in `out`, or what is missing
/// for one; paths as given in `out` (relative to where the command ran).
pub fn trace_table(d: &Dataset, out: &Path, files: &[PathBuf]) -> String {
    match d.name {
        "azure2019" => {
            let inv = matching(out, files, "invocations_per_function_md.anon.d", ".csv");
            let dur = matching(out, files, "function_durations_percentiles.anon.d", ".csv");
            let mem = matching(out, files, "app_memory_percentiles.anon.d", ".csv");
            if inv.is_empty() || dur.is_empty() {
                return format!(
                    "# {}: no invocations_per_function_md.anon.dNN.csv and function_durations_percentiles.anon.dNN.csv files found; the archive's layout has changed",
                    out.display()
                );
            }
            format!(
                "[trace]\nformat = \"azure2019\"\ninvocations = {}\ndurations = {}\nmemory = {}\n",
                toml_paths(&inv),
                toml_paths(&dur),
                toml_paths(&mem)
            )
        }
        "azure2021" => {
            let rar = out.join("AzureFunctionsInvocationTraceForTwoWeeksJan2021.rar");
            format!(
                "# faasim does not unpack RAR5 archives (no decoder in pure Rust it trusts): unpack\n# {} with `unrar x` or 7-Zip (`7z x`) into {}, then:\n[trace]\nformat = \"azure2021\"\npath = {}\n",
                rar.display(),
                out.display(),
                toml::Value::String(
                    out.join("AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt")
                        .display()
                        .to_string()
                )
            )
        }
        "azure-llm-2023" => {
            let conv = out.join("AzureLLMInferenceTrace_conv.csv");
            let code = out.join("AzureLLMInferenceTrace_code.csv");
            format!(
                "[trace]\nformat = \"azure-llm-2023\"\npath = {}   # or {}\n",
                toml::Value::String(conv.display().to_string()),
                toml::Value::String(code.display().to_string())
            )
        }
        "huawei2023" => {
            let day = |p: &PathBuf| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("day_") && n.ends_with(".csv"))
            };
            let mut public: Vec<PathBuf> = files
                .iter()
                .filter(|p| day(p) && p.to_string_lossy().contains("public"))
                .map(|p| out.join(p))
                .collect();
            public.sort();
            let mut all: Vec<PathBuf> = files
                .iter()
                .filter(|p| day(p))
                .map(|p| out.join(p))
                .collect();
            all.sort();
            let days = if public.is_empty() { all } else { public };
            if days.is_empty() {
                return format!(
                    "# {}: no day_NNN.csv request files found; the archives' layout has changed",
                    out.display()
                );
            }
            format!(
                "# The release gives request counts only: durations and memory are yours to choose.\n[trace]\nformat = \"huawei2023\"\npath = {}\nduration_ms = {{ dist = \"lognormal\", median_ms = 100, sigma = 1.0 }}\nmemory_mb = 256\n",
                toml_paths(&days)
            )
        }
        "huawei2025" => {
            let csvs = |word: &str| {
                let mut v: Vec<PathBuf> = files
                    .iter()
                    .filter(|p| {
                        let s = p.to_string_lossy().to_ascii_lowercase();
                        s.ends_with(".csv") && s.contains(word)
                    })
                    .map(|p| out.join(p))
                    .collect();
                v.sort();
                v
            };
            let (requests, cold) = (csvs("request"), csvs("cold"));
            if requests.is_empty() || cold.is_empty() {
                return format!(
                    "# {}: no request or cold-start CSV files found; the archives' layout has changed",
                    out.display()
                );
            }
            format!(
                "[trace]\nformat = \"huawei2025\"\npath = {}\n\n[platform]\ncold_start_ms = {{ from = \"huawei2025-cold-starts\", path = {}, by = \"function\" }}\n",
                toml_paths(&requests),
                toml_paths(&cold)
            )
        }
        _ => format!(
            "# faasim does not read the {} formats yet; the files are in {}",
            d.name,
            out.display()
        ),
    }
}

#[cfg(test)]
mod tests;
