//! The Huawei Cloud public release of 2025 (Joosen et al., "Serverless Cold Starts and
//! Where to Find Them", EuroSys'25): every cold start of 31 days in five regions with its
//! parts, the requests of day 30, and the runtime and trigger of each function of Region 2.
//!
//! **Schema.** From the release's `README_data_release_2025.md` in
//! github.com/sir-lab/data-release (file last changed in commit
//! `d1947af52c4f2a71819d15637e3a3e0b730bf44f`, 2025-11-20; read at commit `84a9d77`) and its
//! notebook `src/demo_cold_start.ipynb`, which shows the column order and sample rows.
//! **No real row of this release is available to this project**: the readers are tested on
//! hand-made fixtures written from that schema (`traces/samples/huawei2025-fixtures/`, with a
//! README saying so). Columns are found by header name, in any order; other columns are
//! ignored. Everything the release gives in seconds becomes whole microseconds (rounded to
//! nearest) once, here.
//!
//! ## The cold-start table ([`ColdStartTable`])
//! One CSV file per day and region (`cold_start/R1/*.csv` in the notebook), one row per cold
//! start: `day, time, clusterName, funcName, userID, requestID, totalCost_cold_start,
//! podAllocationCost, deployCodeCost, deployDependencyCost, schedulingCost, podID`. Read here:
//!
//! - the function, `funcName---userID---poolName`: the release's own function identifier
//!   (`funcID` of its runtime table and time series), `funcName` and `userID` whole numbers,
//!   the pool the first three `-`-separated fields of `podID`;
//! - the pod pool from `podID` (`pool24-600-512-0000577863`: pool 24, CPU limit 600
//!   millicores, memory limit 512 MB, pod 577863);
//! - the parts, seconds >= 0: `podAllocationCost` (take a pod from the pool, or start one),
//!   `deployCodeCost` (download, extract and deploy the code), `deployDependencyCost` (fetch
//!   and load dependencies), `schedulingCost` (networking, routing and scheduling), and
//!   `other` = `totalCost_cold_start` minus those four: the release says the total "should be
//!   used as the cold start time", and its example row's parts add up to it exactly. A row
//!   whose four parts add up to more than its total (rounding of the published decimals) has
//!   `other` = 0 and its cold start is the sum of its parts.
//!
//! `day`, `time`, `clusterName` and `requestID` are not needed and not read; rows may come in
//! any order. The table is read whole ([`ColdStartTable::read`], 48 bytes a cold start) since
//! it is a distribution to draw from, not a stream to replay.
//!
//! ## The runtime and trigger table ([`RuntimeTable`])
//! Region 2 only (`runtime_triggerType/df_funcID_runtime_triggerType.csv`): `funcID,
//! cpu_request, runtime, triggerType-invocationType`, one row per function. The last column
//! is the trigger and the invocation type joined by `-` (`workflow-S`, `TIMER-A`,
//! `unknown-unknown`): `S` synchronous, `A` asynchronous (the paper's Fig. 14 legend), kept as
//! [`InvocationType`] for whoever needs it. `cpu_request` (millicores) may be empty.
//!
//! ## The request table: `[trace] format = "huawei2025"` ([`Huawei2025Spec`])
//! Day 30 of each region (`per_request/R1/*.csv`, in parts), one row per request:
//! `time_worker, time_frontend, requestID, clusterName, funcName, podID, userID,
//! totalCost_worker, workerCost, runtimeCost, totalCost_frontend, frontendCost, busCost,
//! readBodyCost, writeRspCost, cpu_usage, memory_usage, requestBodySize`. Read here:
//!
//! - the arrival: `time_worker`, seconds since the start of the release (day 0), kept as it
//!   is (so day 30 starts at 2,592,000 s: `[sample] from_s = 2592000` replays it from 0). The
//!   release calls it the "worker timestamp" without saying whether it is taken when the
//!   request reaches the worker or when it leaves; faasim takes it as the arrival. Rows must
//!   be in time order, across the files in the order given (as the notebook's sorted file
//!   names are);
//! - the execution time: `totalCost_worker` ("total time spent in function worker pod", the
//!   default) or `runtimeCost` ("time spent in runtime", `duration = "runtime"`), seconds;
//! - the function, as in the cold-start table (`funcName---userID---poolName`), and its
//!   memory: the pool's memory limit, which is what a pod of it reserves (the per-request
//!   `memory_usage` is what the pod used, averaged over the request, and is not read);
//! - with `runtimes = "df_funcID_runtime_triggerType.csv"`, each function's runtime, trigger
//!   and invocation type ([`Huawei2025Source::function_info`]; the trigger also through
//!   [`TraceInfo::trigger_of`]). The user id is the function's app for statistics.
//!
//! ```toml
//! [trace]
//! format = "huawei2025"
//! path = ["per_request/R2/part_01.csv", "per_request/R2/part_02.csv"]
//! duration = "worker"          # optional: "worker" (totalCost_worker) or "runtime" (runtimeCost)
//! runtimes = "runtime_triggerType/df_funcID_runtime_triggerType.csv"   # optional
//! ```
//!
//! Rows are streamed (one at a time). An empty `time_frontend` (the release leaves it empty
//! for many rows) does not matter: it is not read. The checksum is the file's SHA-256, or the
//! SHA-256 of the files' digests in the order given. Lenient mode skips and counts a row
//! with a bad field; a row earlier than the one before stays an error.
//!
//! ## The files of the release
//! [`FILES`] lists every file the release links to, with its table, region, part and
//! address, for tools that fetch them.

use crate::common::PathList;
use crate::error::TraceError;
use crate::rows::{combined_digest, count, seconds_field, shown_text, Rows, Skipped, Unit};
use crate::{spec_error, TraceInfo};
use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, SimDuration, SimTime,
    SourceError,
};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

const FORMAT: &str = "huawei2025";

/// Where the release is published.
pub const RELEASE_REPOSITORY: &str = "github.com/sir-lab/data-release";
/// The release's description, with the schema and the download links.
pub const RELEASE_README: &str = "README_data_release_2025.md";
/// The commit that last changed [`RELEASE_README`] when [`FILES`] was copied from it.
pub const RELEASE_COMMIT: &str = "d1947af52c4f2a71819d15637e3a3e0b730bf44f";

/// A table of the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseTable {
    /// Every cold start of 31 days, per region ([`ColdStartTable`]).
    ColdStarts,
    /// The requests of day 30, per region, in parts (`format = "huawei2025"`).
    Requests,
    /// Runtime, trigger and invocation type per function, Region 2 ([`RuntimeTable`]).
    Runtimes,
    /// Per-minute quantiles of every metric per function (not read by faasim).
    Quantiles,
}

impl ReleaseTable {
    /// The folder the release's notebook reads this table's CSV files from, under its
    /// `datasets/cold_start_dataset/` (`cold_start/R1`, `per_request/R1`, ...).
    pub fn folder(self, region: u8) -> String {
        match self {
            ReleaseTable::ColdStarts => format!("cold_start/R{region}"),
            ReleaseTable::Requests => format!("per_request/R{region}"),
            ReleaseTable::Runtimes => "runtime_triggerType".into(),
            ReleaseTable::Quantiles => format!("quantiles/R{region}"),
        }
    }
}

/// One download of the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Which table it holds (or a part of).
    pub table: ReleaseTable,
    /// The region, 1 to 5.
    pub region: u8,
    /// The part, from 1 (the request tables of regions 1 to 4 come in parts).
    pub part: u8,
    /// The address [`RELEASE_README`] links to.
    pub url: &'static str,
}

impl ReleaseFile {
    /// A name for the download: `cold_start_R1`, `per_request_R1_part07`,
    /// `runtime_triggerType_R2`, `quantiles_R3`.
    pub fn name(&self) -> String {
        let r = self.region;
        match self.table {
            ReleaseTable::ColdStarts => format!("cold_start_R{r}"),
            ReleaseTable::Requests => format!("per_request_R{r}_part{:02}", self.part),
            ReleaseTable::Runtimes => format!("runtime_triggerType_R{r}"),
            ReleaseTable::Quantiles => format!("quantiles_R{r}"),
        }
    }
}

const fn file(table: ReleaseTable, region: u8, part: u8, url: &'static str) -> ReleaseFile {
    ReleaseFile {
        table,
        region,
        part,
        url,
    }
}

/// Every file [`RELEASE_README`] links to (at [`RELEASE_COMMIT`]), in its order: the cold
/// starts of regions 1 to 5, the request tables (20, 10, 5, 2 and 1 parts), the runtime table
/// of Region 2, and the quantile time series.
pub const FILES: &[ReleaseFile] = &[
    file(
        ReleaseTable::ColdStarts,
        1,
        1,
        "https://drive.google.com/file/d/1mMQtfZNtg-EPmGmGYuOzC5KPbZoXRd8e/view?usp=drive_link",
    ),
    file(
        ReleaseTable::ColdStarts,
        2,
        1,
        "https://drive.google.com/file/d/1qjnBBH_yEOnxAG5vFPQwx6xyITZrrP8L/view?usp=drive_link",
    ),
    file(
        ReleaseTable::ColdStarts,
        3,
        1,
        "https://drive.google.com/file/d/1WlUk-tQLao6mU0FoMx9YO2-HIMevEDjX/view?usp=drive_link",
    ),
    file(
        ReleaseTable::ColdStarts,
        4,
        1,
        "https://drive.google.com/file/d/1YywoClXTZ1Q0jKfB2Y3Hgu0xh0lrDoBZ/view?usp=drive_link",
    ),
    file(
        ReleaseTable::ColdStarts,
        5,
        1,
        "https://drive.google.com/file/d/1ah7nj5fyedMpOeaFgNVA7oMx3815D8BZ/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        1,
        "https://drive.google.com/file/d/1o0xBCshTLnposeLmEzyoWn4xiqRERsmS/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        2,
        "https://drive.google.com/file/d/101CKU4xeJWlmzxWc96RHs4llstnGnKSm/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        3,
        "https://drive.google.com/file/d/16fNuon4FMD2QNq5S0egYWKxjkzp5lgGb/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        4,
        "https://drive.google.com/file/d/1h-e9P2pEf9NUjv99YZLxN3ZWtwQ1rjuP/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        5,
        "https://drive.google.com/file/d/1n4xMD5Z1EmL0ALU6D9JNZz3XGaHqtNCT/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        6,
        "https://drive.google.com/file/d/1zn7aHFOppEltS76jHDNWWcol5zKwjDrc/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        7,
        "https://drive.google.com/file/d/16_usg9vZpoQjzUa92RZqdZkQD05YKD5E/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        8,
        "https://drive.google.com/file/d/1Ujo--ZO-jaF6lY9kMTmW8SPoOHh-8_NN/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        9,
        "https://drive.google.com/file/d/1oSN7QEopQZVUNbf0wSI19Gofz-FijfQ1/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        10,
        "https://drive.google.com/file/d/1_kAOnjD4X4ZXPAtfe3k6MOT71a4Vv953/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        11,
        "https://drive.google.com/file/d/16DN7Kfw901_7BsT1SGf_schmDDXKCGBl/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        12,
        "https://drive.google.com/file/d/1tlyXZ8YrzN3hFnZ3sZm3IxFsIlnyRFNI/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        13,
        "https://drive.google.com/file/d/1eNdNmlI8764bNlMbo4_2ImlbJO52DWHg/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        14,
        "https://drive.google.com/file/d/1zAQSWkd69GzGkxaG6Z4go0d72oeUKZZz/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        15,
        "https://drive.google.com/file/d/1UhOBGYkntbPcLlEB3SPfLrn3aCkuqrrr/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        16,
        "https://drive.google.com/file/d/1n0gNdAuFgJHQWtR30uSEU28Ccl_TYBP8/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        17,
        "https://drive.google.com/file/d/1mJHff0ZaErn4qK0q9aHrfme9QhzU9352/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        18,
        "https://drive.google.com/file/d/135Sn5elbnDZxtxplKSlobolDUO7aOhK1/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        19,
        "https://drive.google.com/file/d/17BVGWjJaZvrZkMpqiRRgMLmPxfR_UQVH/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        1,
        20,
        "https://drive.google.com/file/d/1GPC8s9TvhLEFbm09pPnJacxqN2vhSEeC/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        1,
        "https://drive.google.com/file/d/1clZwg5z6vAIF38K3NSkAxuzASsa5GN4B/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        2,
        "https://drive.google.com/file/d/1S-MpmXdRSxiADKMXKlDnVdHM5Hlw2cKv/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        3,
        "https://drive.google.com/file/d/1o4_KES_thVoC-P98uneeVbGrQH1G3VqM/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        4,
        "https://drive.google.com/file/d/1jcFk5XBhmkwiz9EH8c69WW0BGDJ1UFeQ/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        5,
        "https://drive.google.com/file/d/1PqeJp9DrpkD3UHHbvizPOCfNGptpRgBI/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        6,
        "https://drive.google.com/file/d/1eT9n9yQZUeKFAyIblS0ks1XqQ_g2OJZl/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        7,
        "https://drive.google.com/file/d/1SG7tHcuflIE-EE8AoAp99aMVqEF0vJL8/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        8,
        "https://drive.google.com/file/d/1mCFakKPn8crcNrzFjmBttIJY7-TW3c3r/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        9,
        "https://drive.google.com/file/d/1lW4N3SrN_z5BgjkHjU2QtDolROs8YhP5/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        2,
        10,
        "https://drive.google.com/file/d/1TBD_1GysKZyGUaFll0qUz5FPR1gVjX0B/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        3,
        1,
        "https://drive.google.com/file/d/1MxtVaHCpIdKIVk9Rz-0ySBoscXrziuP2/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        3,
        2,
        "https://drive.google.com/file/d/1w4Zrwp_8L60TgqreBi6p0pr_sp2QmBJ2/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        3,
        3,
        "https://drive.google.com/file/d/1KoHz5IGQuLkjtUKUlm_xAOk-wmVot6vV/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        3,
        4,
        "https://drive.google.com/file/d/1ll08z7HqaHNuyjiwbeVcS3pqKOg_0naD/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        3,
        5,
        "https://drive.google.com/file/d/1dgMkKTLOEDigx7-HAHdOuIF5P9d2FZon/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        4,
        1,
        "https://drive.google.com/file/d/195kYupynaq2wAz2LIDFBYLX11QXx-Yuw/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        4,
        2,
        "https://drive.google.com/file/d/1uGoaXPEvOoCehVgHt-3cIX_QMc5qKBJ6/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Requests,
        5,
        1,
        "https://drive.google.com/file/d/102AFIHkEQHuvG8-hZeWHVFqXeeI-a8xS/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Runtimes,
        2,
        1,
        "https://drive.google.com/file/d/1dUg_yxeLR5OyldivPZGW5djYF31166EG/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Quantiles,
        1,
        1,
        "https://drive.google.com/file/d/1XMSCDTRSEhJRSHA2gLuRM_WEYuuXVyWJ/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Quantiles,
        2,
        1,
        "https://drive.google.com/file/d/1iZk-n_5IT7j3M_pHpRzhwSPTuJ2vxvlR/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Quantiles,
        3,
        1,
        "https://drive.google.com/file/d/1xDPmacasZqVB_lM5UwJSiRKRNjg-ImvD/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Quantiles,
        4,
        1,
        "https://drive.google.com/file/d/1KNDZ1rHEvcfdp92xklmJFlLUPxFbQ75N/view?usp=drive_link",
    ),
    file(
        ReleaseTable::Quantiles,
        5,
        1,
        "https://drive.google.com/file/d/1BxLz8ETUHZXbxr8PkDRFDwnBjLtCfidR/view?usp=drive_link",
    ),
];

const FUNC_NAME: &str = "funcName";
const USER_ID: &str = "userID";
const POD_ID: &str = "podID";
const TOTAL_COLD_START: &str = "totalCost_cold_start";
const PART_COLUMNS: [&str; 4] = [
    "podAllocationCost",
    "deployCodeCost",
    "deployDependencyCost",
    "schedulingCost",
];
const FUNC_ID: &str = "funcID";
const CPU_REQUEST: &str = "cpu_request";
const RUNTIME: &str = "runtime";
const TRIGGER: &str = "triggerType-invocationType";
const TIME_WORKER: &str = "time_worker";
const TOTAL_WORKER: &str = "totalCost_worker";
const RUNTIME_COST: &str = "runtimeCost";

/// The parts of a cold start, in the order of [`ColdStart::parts_us`]: `podAllocationCost`,
/// `deployCodeCost`, `deployDependencyCost`, `schedulingCost`, and what the total has beyond
/// them.
pub const PARTS: [&str; 5] = [
    "pod_allocation",
    "deploy_code",
    "deploy_dependency",
    "scheduling",
    "other",
];

const POD_EXPECTED: &str =
    "a pod ID poolNN-<CPU limit, millicores>-<memory limit, MB>-<pod number>, such as \
     pool22-300-128-0000618412";

/// A pod pool: pods of one CPU and memory limit (`pool22-300-128`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// The pool's name, `poolNN-CPU-MEM`.
    pub name: String,
    /// The CPU limit of its pods, millicores.
    pub cpu_millicores: u32,
    /// The memory limit of its pods, MB.
    pub memory_mb: u32,
}

/// The pool named `poolNN-CPU-MEM`, or `None` if `name` is not one (CPU and memory whole
/// numbers > 0).
pub fn parse_pool(name: &str) -> Option<Pool> {
    let mut f = name.split('-');
    let (id, cpu, mem) = (f.next()?, f.next()?, f.next()?);
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
            .filter(|&v| v > 0)
    };
    let pool_number = id.strip_prefix("pool")?;
    if f.next().is_some()
        || pool_number.is_empty()
        || !pool_number.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(Pool {
        name: name.to_owned(),
        cpu_millicores: number(cpu)?,
        memory_mb: number(mem)?,
    })
}

/// The pool of a pod: the first three `-`-separated fields of its ID
/// (`pool22-300-128-0000618412` is in `pool22-300-128`), followed by a pod number.
pub fn pool_of_pod(pod_id: &str) -> Option<Pool> {
    let (pool, pod) = pod_id.rsplit_once('-')?;
    if pod.is_empty() || !pod.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    parse_pool(pool)
}

/// The parts of a function identifier `funcName---userID---poolName`, or `None` if `id` is
/// not one.
pub fn parse_func_id(id: &str) -> Option<(&str, &str, Pool)> {
    let mut f = id.split("---");
    let (name, user, pool) = (f.next()?, f.next()?, f.next()?);
    if f.next().is_some() || name.is_empty() || user.is_empty() {
        return None;
    }
    Some((name, user, parse_pool(pool)?))
}

/// One cold start of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColdStart {
    /// The function, an index into [`ColdStartTable::functions`].
    pub function: u32,
    /// Its pool, an index into [`ColdStartTable::pools`].
    pub pool: u32,
    /// The parts, µs, in the order of [`PARTS`].
    pub parts_us: [u64; 5],
}

impl ColdStart {
    /// The cold start: the sum of its parts, µs.
    pub fn total_us(&self) -> u64 {
        self.parts_us.iter().sum()
    }
}

/// The cold starts of one or more files of the release's cold-start table; see the
/// [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct ColdStartTable {
    /// The functions (`funcName---userID---poolName`), in order of first appearance.
    pub functions: Vec<String>,
    /// The pools, in order of first appearance.
    pub pools: Vec<Pool>,
    /// The cold starts, in file and row order.
    pub starts: Vec<ColdStart>,
    function_ids: FxHashMap<String, u32>,
    pool_ids: FxHashMap<String, u32>,
}

impl ColdStartTable {
    /// Reads every file in order.
    pub fn read(paths: &[PathBuf]) -> Result<Self, TraceError> {
        let mut t = ColdStartTable::default();
        for path in paths {
            t.read_file(path)?;
        }
        Ok(t)
    }

    /// The index of the function `name` (`funcName---userID---poolName`), if it has a row.
    pub fn function(&self, name: &str) -> Option<u32> {
        self.function_ids.get(name).copied()
    }

    /// The index of the pool `name`, if a row has it.
    pub fn pool(&self, name: &str) -> Option<u32> {
        self.pool_ids.get(name).copied()
    }

    fn read_file(&mut self, path: &Path) -> Result<(), TraceError> {
        let mut rows = Rows::open(path)?;
        rows.require_header(
            "funcName, userID, podID, totalCost_cold_start, podAllocationCost, deployCodeCost, \
             deployDependencyCost, schedulingCost",
        )?;
        let h = rows.columns();
        let (name_col, user_col, pod_col) = (
            h.required(FUNC_NAME)?,
            h.required(USER_ID)?,
            h.required(POD_ID)?,
        );
        let total_col = h.required(TOTAL_COLD_START)?;
        let mut part_cols = [0; 4];
        for (c, name) in part_cols.iter_mut().zip(PART_COLUMNS) {
            *c = h.required(name)?;
        }
        let mut key = String::new();
        while rows.advance()? {
            let rec = rows.record();
            let seconds = |col: usize, name: &'static str| {
                seconds_field(&rec[col]).map_err(|e| {
                    rows.bad_time(name, "a number of seconds >= 0", &rec[col], e, Unit::S)
                })
            };
            let total = seconds(total_col, TOTAL_COLD_START)?;
            let mut parts = [0u64; 5];
            for i in 0..4 {
                parts[i] = seconds(part_cols[i], PART_COLUMNS[i])?;
            }
            // No overflow: each part is at most 100 years of µs.
            let four: u64 = parts[..4].iter().sum();
            parts[4] = total.saturating_sub(four);
            let (name, user) = function_fields(&rows, name_col, user_col)?;
            let pod = std::str::from_utf8(rec[pod_col].trim_ascii()).ok();
            let pool = pod
                .and_then(pool_of_pod)
                .ok_or_else(|| rows.bad(POD_ID, POD_EXPECTED, &rec[pod_col]))?;
            key.clear();
            let _ = write!(key, "{name}---{user}---{}", pool.name);
            let pool_id = match self.pool_ids.get(pool.name.as_str()) {
                Some(&p) => p,
                None => {
                    let p = self.pools.len() as u32;
                    self.pool_ids.insert(pool.name.clone(), p);
                    self.pools.push(pool);
                    p
                }
            };
            let function = match self.function_ids.get(key.as_str()) {
                Some(&f) => f,
                None => {
                    let f = self.functions.len() as u32;
                    self.function_ids.insert(key.clone(), f);
                    self.functions.push(key.clone());
                    f
                }
            };
            self.starts.push(ColdStart {
                function,
                pool: pool_id,
                parts_us: parts,
            });
        }
        Ok(())
    }
}

/// `funcName` and `userID` of the record just read: whole numbers (pandas may write them
/// as `12.0`).
fn function_fields<R: std::io::Read>(
    rows: &Rows<R>,
    name_col: usize,
    user_col: usize,
) -> Result<(u64, u64), TraceError> {
    let rec = rows.record();
    let name = count(&rec[name_col]).ok_or_else(|| {
        rows.bad(
            FUNC_NAME,
            "a function number (a whole number >= 0)",
            &rec[name_col],
        )
    })?;
    let user = count(&rec[user_col]).ok_or_else(|| {
        rows.bad(
            USER_ID,
            "a user number (a whole number >= 0)",
            &rec[user_col],
        )
    })?;
    Ok((name, user))
}

/// How a function is invoked, from the release's `triggerType-invocationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InvocationType {
    /// `S`: the caller waits for the result.
    Sync,
    /// `A`: the event is queued and the caller does not wait.
    Async,
    /// Anything else (`unknown`).
    Unknown,
}

/// A function's row of the runtime table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// The runtime language as written (`Python3`, `Node.js`, `Custom`, `http`, ...).
    pub runtime: String,
    /// The trigger (`APIG`, `TIMER`, `OBS`, `workflow`, `unknown`, ...).
    pub trigger: String,
    /// Synchronous or asynchronous.
    pub invocation: InvocationType,
    /// The CPU initially requested, millicores (`None` where the cell is empty).
    pub cpu_request_millicores: Option<u32>,
}

/// The release's runtime and trigger table, by function; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct RuntimeTable {
    functions: FxHashMap<String, FunctionInfo>,
}

impl RuntimeTable {
    /// Reads the table at `path`.
    pub fn read(path: &Path) -> Result<Self, TraceError> {
        let mut rows = Rows::open(path)?;
        rows.require_header("funcID, cpu_request, runtime, triggerType-invocationType")?;
        let h = rows.columns();
        let (id_col, runtime_col, trigger_col) = (
            h.required(FUNC_ID)?,
            h.required(RUNTIME)?,
            h.required(TRIGGER)?,
        );
        let cpu_col = h.find(CPU_REQUEST)?;
        let mut functions: FxHashMap<String, FunctionInfo> = FxHashMap::default();
        let mut first_line: FxHashMap<String, u64> = FxHashMap::default();
        while rows.advance()? {
            let rec = rows.record();
            let id = std::str::from_utf8(rec[id_col].trim_ascii())
                .ok()
                .filter(|s| parse_func_id(s).is_some())
                .ok_or_else(|| {
                    rows.bad(
                        FUNC_ID,
                        "a function ID funcName---userID---poolName, such as \
                         400---418---pool22-300-128",
                        &rec[id_col],
                    )
                })?;
            let text = |col: usize, name: &'static str, expected: &'static str| {
                std::str::from_utf8(rec[col].trim_ascii())
                    .ok()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| rows.bad(name, expected, &rec[col]))
            };
            let runtime = text(runtime_col, RUNTIME, "a runtime name, such as Python3")?;
            let both = text(
                trigger_col,
                TRIGGER,
                "a trigger and an invocation type, such as APIG-S or TIMER-A",
            )?;
            let (trigger, invocation) = match both.rsplit_once('-') {
                Some((t, "S")) => (t.to_owned(), InvocationType::Sync),
                Some((t, "A")) => (t.to_owned(), InvocationType::Async),
                Some((t, _)) => (t.to_owned(), InvocationType::Unknown),
                None => (both.clone(), InvocationType::Unknown),
            };
            let cpu_request_millicores = match cpu_col {
                Some(c) if !rec[c].trim_ascii().is_empty() => Some(
                    count(&rec[c])
                        .and_then(|v| u32::try_from(v).ok())
                        .ok_or_else(|| {
                            rows.bad(
                                CPU_REQUEST,
                                "millicores (a whole number >= 0) or an empty cell",
                                &rec[c],
                            )
                        })?,
                ),
                _ => None,
            };
            if let Some(&first) = first_line.get(id) {
                return Err(TraceError::Duplicate {
                    path: rows.path().to_owned(),
                    line: rows.line(),
                    first_line: first,
                    what: "function",
                    key: id.to_owned(),
                });
            }
            first_line.insert(id.to_owned(), rows.line());
            functions.insert(
                id.to_owned(),
                FunctionInfo {
                    runtime,
                    trigger,
                    invocation,
                    cpu_request_millicores,
                },
            );
        }
        Ok(RuntimeTable { functions })
    }

    /// The row of function `id` (`funcName---userID---poolName`).
    pub fn get(&self, id: &str) -> Option<&FunctionInfo> {
        self.functions.get(id)
    }

    /// Every function, sorted by identifier.
    pub fn functions(&self) -> Vec<(&str, &FunctionInfo)> {
        let mut v: Vec<_> = self
            .functions
            .iter()
            .map(|(k, i)| (k.as_str(), i))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// The number of functions.
    pub fn len(&self) -> usize {
        self.functions.len()
    }

    /// Whether the table has no function.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }
}

/// Which column of the request table is the execution time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurationColumn {
    /// `totalCost_worker`: the time the request spent in the function's pod (the default).
    #[default]
    Worker,
    /// `runtimeCost`: the time spent in the language runtime alone.
    Runtime,
}

impl DurationColumn {
    fn column(self) -> &'static str {
        match self {
            DurationColumn::Worker => TOTAL_WORKER,
            DurationColumn::Runtime => RUNTIME_COST,
        }
    }
}

/// The `[trace]` table of `format = "huawei2025"`; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Huawei2025Spec {
    /// The request files, read one after the other.
    pub path: PathList,
    /// The execution-time column (default `worker`, `totalCost_worker`).
    #[serde(default)]
    pub duration: DurationColumn,
    /// The runtime and trigger table, to know each function's runtime, trigger and
    /// invocation type (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtimes: Option<PathBuf>,
}

impl Huawei2025Spec {
    /// Checks the parameters, naming the first bad key.
    pub fn validate(&self) -> Result<(), TraceError> {
        if self.path.is_empty() {
            return Err(spec_error(FORMAT, "path", "must name at least one file"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    time: usize,
    name: usize,
    user: usize,
    pod: usize,
    duration: usize,
}

#[derive(Debug)]
struct Function {
    id: FunctionId,
    user: u64,
    info: Option<FunctionInfo>,
}

/// A streaming replay of the release's request tables; see the [module docs](self).
#[derive(Debug)]
pub struct Huawei2025Source {
    files: Vec<Rows<File>>,
    columns: Vec<Columns>,
    current: usize,
    duration: DurationColumn,
    runtimes: Option<RuntimeTable>,
    /// By identifier (`funcName---userID---poolName`).
    ids: FxHashMap<String, usize>,
    functions: Vec<Function>,
    /// Engine id → index in `functions`.
    by_engine_id: FxHashMap<u32, usize>,
    key: String,
    /// The previous row's time (µs) and its text, for order errors.
    previous: (u64, String),
    skipped: Skipped,
}

impl Huawei2025Source {
    /// Opens every file `spec` names (relative paths resolved against `base_dir`), reads
    /// their headers and the runtime table if given.
    pub fn open(spec: &Huawei2025Spec, base_dir: &Path) -> Result<Self, TraceError> {
        Self::open_lenient(spec, base_dir, false)
    }

    /// [`open`](Self::open), skipping and counting bad rows if `lenient`.
    pub fn open_lenient(
        spec: &Huawei2025Spec,
        base_dir: &Path,
        lenient: bool,
    ) -> Result<Self, TraceError> {
        spec.validate()?;
        let mut files = Vec::new();
        let mut columns = Vec::new();
        for path in spec.path.resolved(base_dir) {
            let rows = Rows::open(&path)?;
            rows.require_header("time_worker, funcName, userID, podID, totalCost_worker")?;
            let h = rows.columns();
            columns.push(Columns {
                time: h.required(TIME_WORKER)?,
                name: h.required(FUNC_NAME)?,
                user: h.required(USER_ID)?,
                pod: h.required(POD_ID)?,
                duration: h.required(spec.duration.column())?,
            });
            files.push(rows);
        }
        let runtimes = match &spec.runtimes {
            Some(p) => Some(RuntimeTable::read(&base_dir.join(p))?),
            None => None,
        };
        Ok(Self {
            files,
            columns,
            current: 0,
            duration: spec.duration,
            runtimes,
            ids: FxHashMap::default(),
            functions: Vec::new(),
            by_engine_id: FxHashMap::default(),
            key: String::new(),
            previous: (0, String::new()),
            skipped: Skipped::new(lenient),
        })
    }

    /// The checksum (see the [module docs](self)), once every file has been read.
    pub fn checksum_hex(&self) -> Option<String> {
        let digests: Vec<_> = self.files.iter().map(|f| f.digest()).collect();
        combined_digest(&digests)
    }

    /// How many bad rows lenient mode has skipped so far (always 0 when strict).
    pub fn skipped_rows(&self) -> u64 {
        self.skipped.rows
    }

    /// The error message of the first row lenient mode skipped.
    pub fn first_skipped(&self) -> Option<&str> {
        self.skipped.first.as_deref()
    }

    /// The runtime table's row for a function this source registered (with `runtimes`
    /// given, and the function in it).
    pub fn function_info(&self, function: FunctionId) -> Option<&FunctionInfo> {
        let i = *self.by_engine_id.get(&function.0)?;
        self.functions[i].info.as_ref()
    }

    /// A function's invocation type, when the runtime table knows it.
    pub fn invocation_of(&self, function: FunctionId) -> Option<InvocationType> {
        self.function_info(function).map(|i| i.invocation)
    }

    fn next(&mut self, functions: &mut FunctionTable) -> Result<Option<Arrival>, TraceError> {
        loop {
            let Some(rows) = self.files.get_mut(self.current) else {
                return Ok(None);
            };
            if !rows.advance_lenient(&mut self.skipped)? {
                self.current += 1;
                continue;
            }
            match self.parse_row(functions) {
                Ok(a) => return Ok(Some(a)),
                Err(e) => self.skipped.skip_or_fail(e)?,
            }
        }
    }

    /// The arrival of the record just read; nothing changes unless the row is valid.
    fn parse_row(&mut self, functions: &mut FunctionTable) -> Result<Arrival, TraceError> {
        let rows = &self.files[self.current];
        let cols = self.columns[self.current];
        let rec = rows.record();
        let raw = &rec[cols.time];
        let time = seconds_field(raw).map_err(|e| {
            rows.bad_time(
                TIME_WORKER,
                "a time in seconds >= 0 (since the start of the release)",
                raw,
                e,
                Unit::S,
            )
        })?;
        if time < self.previous.0 {
            return Err(TraceError::OutOfOrder {
                path: rows.path().to_owned(),
                line: rows.line(),
                column: TIME_WORKER.into(),
                got: shown_text(raw.trim_ascii()),
                previous: self.previous.1.clone(),
            });
        }
        let dcol = self.duration.column();
        let draw = &rec[cols.duration];
        let duration = seconds_field(draw).map_err(|e| {
            rows.bad_time(dcol, "an execution time in seconds >= 0", draw, e, Unit::S)
        })?;
        let (name, user) = function_fields(rows, cols.name, cols.user)?;
        let pool = std::str::from_utf8(rec[cols.pod].trim_ascii())
            .ok()
            .and_then(pool_of_pod)
            .ok_or_else(|| rows.bad(POD_ID, POD_EXPECTED, &rec[cols.pod]))?;
        self.key.clear();
        let _ = write!(self.key, "{name}---{user}---{}", pool.name);
        let local = match self.ids.get(self.key.as_str()) {
            Some(&i) => i,
            None => {
                let id = functions.push(FunctionSpec {
                    name: self.key.clone(),
                    memory_mb: pool.memory_mb,
                });
                let info = self
                    .runtimes
                    .as_ref()
                    .and_then(|r| r.get(&self.key))
                    .cloned();
                let i = self.functions.len();
                self.functions.push(Function { id, user, info });
                self.ids.insert(self.key.clone(), i);
                self.by_engine_id.insert(id.0, i);
                i
            }
        };
        if self.previous.0 != time || self.previous.1.is_empty() {
            self.previous = (time, shown_text(raw.trim_ascii()));
        }
        Ok(Arrival {
            time: SimTime(time),
            function: self.functions[local].id,
            duration: SimDuration(duration),
            cold_start: None,
            mode: None,
        })
    }
}

impl ArrivalSource for Huawei2025Source {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        Ok(self.next(functions)?)
    }
}

impl TraceInfo for Huawei2025Source {
    /// The user that owns the function.
    fn app_of(&self, function: FunctionId) -> Option<String> {
        let i = *self.by_engine_id.get(&function.0)?;
        Some(self.functions[i].user.to_string())
    }
    /// The trigger, from the runtime table.
    fn trigger_of(&self, function: FunctionId) -> Option<String> {
        self.function_info(function).map(|i| i.trigger.clone())
    }
}
