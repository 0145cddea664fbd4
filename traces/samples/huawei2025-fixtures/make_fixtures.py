#!/usr/bin/env python3
"""Writes the hand-made Huawei 2025 fixtures of this folder (NOT real data).

Every number below was made up by hand to follow the published schema
(github.com/sir-lab/data-release, README_data_release_2025.md) and the shape of the
paper's headline (Joosen et al., EuroSys'25, abstract and Fig. 11): cold starts up to
7 s in Region 1, dominated by dependency deployment and scheduling, and up to 3 s in
Region 2, dominated by pod allocation. Request times and execution times are drawn
from Python's `random` with a fixed seed, so running this script again rewrites the
same bytes.

    python3 make_fixtures.py
"""
import hashlib
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DAY30 = 30 * 86400

# Region 1: (function, pool) -> cold starts as (pod allocation, deploy code,
# deploy dependency, scheduling, other) seconds; the total is their sum.
R1 = {
    ("332", "439", "pool22-300-128"): [
        (0.0006, 0.002, 0.000, 0.905, 0.0),
        (0.0008, 0.003, 0.412, 1.210, 0.0),
        (0.0005, 0.001, 0.000, 0.640, 0.0),
        (0.0210, 0.004, 0.530, 1.920, 0.0),
        (0.0007, 0.002, 0.388, 1.050, 0.0),
    ],
    ("2067", "454", "pool22-300-128"): [
        (0.0007, 0.052, 0.000, 1.643, 0.0),
        (0.0009, 0.048, 0.953, 1.402, 0.0),
        (0.0150, 0.061, 1.180, 2.215, 0.0),
        (0.0008, 0.045, 0.000, 1.318, 0.0),
        (0.0270, 0.057, 1.044, 1.870, 0.0),
    ],
    ("84", "602", "pool26-1000-1024"): [
        (0.0154, 1.733, 0.000, 3.561, 0.0),
        (0.0162, 0.211, 1.650, 2.740, 0.0),
        (0.0148, 0.190, 2.080, 3.105, 0.050),
        (0.0410, 0.205, 1.870, 2.460, 0.0),
        (0.0155, 0.178, 0.000, 2.915, 0.0),
    ],
    ("224", "201", "pool35-6600-8192"): [
        (0.0271, 0.002, 4.322, 2.562, 0.0),
        (0.0268, 0.173, 3.900, 2.900, 0.0002),
        (0.0255, 0.150, 3.410, 2.380, 0.0),
        (0.0262, 0.160, 2.950, 2.705, 0.0),
        (0.0270, 0.145, 3.655, 2.150, 0.0),
    ],
    ("387", "134", "pool34-3400-4096"): [
        (0.0266, 0.003, 0.422, 0.997, 0.0),
        (0.0259, 0.110, 1.905, 2.240, 0.0),
        (0.0301, 0.125, 2.310, 2.530, 0.0),
        (0.0262, 0.098, 1.480, 1.930, 0.0),
        (0.0270, 0.102, 2.050, 2.410, 0.0),
    ],
    ("515", "42", "pool24-600-512"): [
        (0.0001, 0.001, 0.000, 0.544, 0.0),
        (0.0002, 0.002, 0.391, 0.870, 0.0),
        (0.0001, 0.002, 0.000, 0.610, 0.0),
        (0.0003, 0.001, 0.455, 1.120, 0.0),
        (0.0002, 0.003, 0.000, 0.702, 0.0),
    ],
}

# Region 2: pod allocation dominates. Runtime and trigger per function (Region 2 only).
R2 = {
    ("979", "1111", "pool22-300-128"): [
        (0.412, 0.213, 0.000, 0.076, 0.0),
        (1.105, 0.067, 0.000, 0.105, 0.0),
        (0.730, 0.125, 0.000, 0.110, 0.0),
        (1.520, 0.055, 0.000, 0.113, 0.0),
        (0.388, 0.074, 0.000, 0.141, 0.0),
    ],
    ("743", "418", "pool22-300-128"): [
        (0.950, 0.042, 0.000, 0.151, 0.0),
        (1.310, 0.037, 0.000, 0.164, 0.0),
        (0.620, 0.044, 0.000, 0.220, 0.0),
        (1.780, 0.039, 0.000, 0.190, 0.0),
        (0.845, 0.051, 0.000, 0.172, 0.0),
    ],
    ("167", "296", "pool22-300-128"): [
        (0.280, 0.055, 0.000, 0.113, 0.0),
        (0.910, 0.061, 0.000, 0.098, 0.0),
        (1.240, 0.058, 0.000, 0.131, 0.0),
        (0.455, 0.049, 0.000, 0.120, 0.0),
        (1.605, 0.052, 0.000, 0.109, 0.0),
    ],
    ("612", "63", "pool22-300-128"): [
        (0.602, 0.025, 0.983, 0.435, 0.0),
        (1.180, 0.028, 1.271, 0.413, 0.0),
        (0.845, 0.052, 1.217, 0.516, 0.0),
        (0.970, 0.031, 0.000, 0.402, 0.0),
        (1.350, 0.036, 0.000, 0.447, 0.0),
    ],
    ("1607", "923", "pool23-400-256"): [
        (2.310, 0.136, 0.000, 0.447, 0.0),
        (2.640, 0.120, 0.000, 0.240, 0.0),
        (1.950, 0.128, 0.000, 0.395, 0.0),
        (2.205, 0.131, 0.000, 0.370, 0.0),
        (2.480, 0.140, 0.000, 0.310, 0.0),
    ],
    ("565", "486", "pool30-1800-2048"): [
        (1.870, 0.034, 0.000, 0.871, 0.0),
        (2.150, 0.029, 0.000, 0.640, 0.0),
        (1.640, 0.031, 0.000, 0.702, 0.0),
        (2.020, 0.036, 0.000, 0.580, 0.0),
        (1.905, 0.033, 0.000, 0.655, 0.0),
    ],
}
R2_RUNTIMES = {
    ("979", "1111", "pool22-300-128"): ("100", "Python3", "workflow-S"),
    ("743", "418", "pool22-300-128"): ("100", "Node.js", "APIG-S"),
    ("167", "296", "pool22-300-128"): ("100", "Node.js", "TIMER-A"),
    ("612", "63", "pool22-300-128"): ("100", "Python3", "OBS-A"),
    ("1607", "923", "pool23-400-256"): ("125", "Custom", "OBS-A"),
    ("565", "486", "pool30-1800-2048"): ("1000", "http", "APIG-S"),
}


def request_id(*key):
    return hashlib.sha256("/".join(map(str, key)).encode()).hexdigest()


def cold_start_files(region, table, rng):
    """Two days of cold starts (29 and 30): the functions' rows spread over both."""
    rows = {29: [], 30: []}
    for (fn, user, pool), starts in table.items():
        for k, (pod, code, dep, sched, other) in enumerate(starts):
            day = 29 if k % 2 == 0 else 30
            t = day * 86400 + rng.uniform(0, 86400)
            total = pod + code + dep + sched + other
            pod_id = f"{pool}-{rng.randrange(10**7):010d}"
            rows[day].append(
                (
                    day,
                    f"{t:.3f}",
                    rng.randint(1, 4),
                    fn,
                    user,
                    request_id(region, fn, user, k),
                    f"{total:.6f}",
                    f"{pod:.6f}",
                    f"{code:.3f}",
                    f"{dep:.3f}",
                    f"{sched:.6f}",
                    pod_id,
                )
            )
    header = (
        "day,time,clusterName,funcName,userID,requestID,totalCost_cold_start,"
        "podAllocationCost,deployCodeCost,deployDependencyCost,schedulingCost,podID"
    )
    folder = os.path.join(HERE, "cold_start", region)
    os.makedirs(folder, exist_ok=True)
    for day, day_rows in rows.items():
        day_rows.sort(key=lambda r: float(r[1]))
        with open(os.path.join(folder, f"day_{day:02d}.csv"), "w") as f:
            f.write(header + "\n")
            for r in day_rows:
                f.write(",".join(map(str, r)) + "\n")


def request_file(region, table, rng, hour_s=3600):
    """One hour of day 30: each function invoked at gaps of 10 to 180 s."""
    rows = []
    for i, (fn, user, pool) in enumerate(table):
        median = [0.03, 0.12, 0.6, 1.5, 0.25, 0.05][i % 6]
        pods = [f"{pool}-{rng.randrange(10**7):010d}" for _ in range(3)]
        t = rng.uniform(0, 60)
        n = 0
        while t < hour_s:
            total = round(median * rng.lognormvariate(0, 0.4), 6)
            worker = round(rng.uniform(0.00008, 0.0006), 6)
            runtime = round(max(total - worker, 0.000001), 6)
            tw = DAY30 + t
            frontend = rng.random() < 0.8
            bus = round(rng.uniform(0.0005, 0.01), 6)
            front = round(rng.uniform(0.0003, 0.003), 6)
            row = [
                f"{tw:.3f}",
                f"{tw + 0.001:.3f}" if frontend else "",
                request_id(region, "req", fn, user, n),
                rng.randint(1, 4),
                fn,
                rng.choice(pods),
                user,
                f"{total:.6f}",
                f"{worker:.6f}",
                f"{runtime:.6f}",
                f"{total + bus + front:.6f}" if frontend else "",
                f"{front:.6f}" if frontend else "",
                f"{bus:.6f}" if frontend else "",
                "0.000016" if frontend else "",
                "0.000006" if frontend else "",
                f"{rng.uniform(0.05, 0.6):.6f}",
                f"{rng.uniform(20, 120):.6f}",
                f"{rng.randint(200, 4000)}.0" if frontend else "",
            ]
            rows.append((tw, row))
            t += rng.uniform(10, 180)
            n += 1
    rows.sort(key=lambda r: r[0])
    header = (
        "time_worker,time_frontend,requestID,clusterName,funcName,podID,userID,"
        "totalCost_worker,workerCost,runtimeCost,totalCost_frontend,frontendCost,busCost,"
        "readBodyCost,writeRspCost,cpu_usage,memory_usage,requestBodySize"
    )
    folder = os.path.join(HERE, "per_request", region)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "part_01.csv"), "w") as f:
        f.write(header + "\n")
        for _, r in rows:
            f.write(",".join(map(str, r)) + "\n")


def runtime_file():
    folder = os.path.join(HERE, "runtime_triggerType")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "df_funcID_runtime_triggerType.csv"), "w") as f:
        f.write("funcID,cpu_request,runtime,triggerType-invocationType\n")
        for (fn, user, pool), (cpu, runtime, trig) in R2_RUNTIMES.items():
            f.write(f"{fn}---{user}---{pool},{cpu},{runtime},{trig}\n")


if __name__ == "__main__":
    rng = random.Random(2025)
    cold_start_files("R1", R1, rng)
    cold_start_files("R2", R2, rng)
    request_file("R1", R1, rng)
    request_file("R2", R2, rng)
    runtime_file()
