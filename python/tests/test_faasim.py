"""faasim from Python: the same runs as the command, results as DataFrames, policies written
in Python, and errors that name what is wrong.

Run from the repository root after installing the package (README, "Three commands"):
``pytest python/tests``. The command's binary (target/release/faasim) is compared with.
"""

import csv
import io
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

import faasim

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = "scenarios/quickstart.toml"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    # Scenario paths as the README gives them, relative to the repository.
    monkeypatch.chdir(ROOT)


def faasim_bin() -> str:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    exe = os.environ.get("FAASIM_BIN", str(target / "release" / "faasim"))
    assert Path(exe).is_file(), f"{exe}: build it first (cargo build --release)"
    return exe


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([faasim_bin(), *args], capture_output=True, text=True, cwd=ROOT)


def summary_without_wall(path: Path) -> list:
    rows = list(csv.reader(open(path, newline="")))
    keep = [i for i, h in enumerate(rows[0]) if "wall" not in h]
    return [[r[i] for i in keep] for r in rows]


def same_run(a: Path, b: Path, files=("functions.csv", "timeseries.csv", "manifest.json")):
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert summary_without_wall(a / "summary.csv") == summary_without_wall(b / "summary.csv")


# --- the same runs as the command ---------------------------------------------------------


def test_a_python_run_writes_the_files_the_command_writes(tmp_path):
    p = cli("run", QUICKSTART, "--seed", "3", "--set", "output.invocations=true", "--set",
            "keep_alive.ttl_s=60", "--out", str(tmp_path / "cli"), "-q")
    assert p.returncode == 0, p.stderr
    r = faasim.run(QUICKSTART, seed=3, set={"output.invocations": True, "keep_alive.ttl_s": 60},
                   out=tmp_path / "py")
    files = ("functions.csv", "timeseries.csv", "invocations.csv", "manifest.json")
    same_run(tmp_path / "cli", tmp_path / "py", files)
    # The same scenario read into a Scenario object and edited in code: the same bytes too
    # (manifest.json names the file it came from and holds the scenario as resolved).
    sc = faasim.Scenario.from_toml(QUICKSTART)
    sc.set("output.invocations", True)
    sc["keep_alive"]["ttl_s"] = 60
    faasim.run(sc, seed=3, out=tmp_path / "sc")
    same_run(tmp_path / "cli", tmp_path / "sc", files)
    # The results as the files hold them.
    s = r.summary
    assert s["scenario"] == "quickstart" and s["seed"] == 3
    assert isinstance(s["invocations"], int) and isinstance(s["cold_start_ratio"], float)
    assert r.functions["invocations"].sum() == s["invocations"]
    assert r.timeseries["arrivals"].sum() == s["invocations"]
    assert r.invocations.height == s["invocations"]
    assert r.invocations.filter(pl.col("cold_start")).height == s["cold_starts"]
    assert r.manifest["seed"] == 3
    assert r.policy_calls == {}


def test_errors_carry_the_commands_one_line(tmp_path):
    p = cli("run", "scenarios/nope.toml", "--out", str(tmp_path / "x"))
    with pytest.raises(faasim.Error) as e:
        faasim.run("scenarios/nope.toml", out=tmp_path / "x")
    assert p.returncode != 0 and p.stderr.strip() == f"error: {e.value}"
    p = cli("run", QUICKSTART, "--set", 'cluster.workers="ten"', "--out", str(tmp_path / "y"))
    with pytest.raises(faasim.Error) as e:
        faasim.run(QUICKSTART, set={"cluster.workers": "ten"}, out=tmp_path / "y")
    assert p.stderr.strip() == f"error: {e.value}"
    assert "after --set: invalid type: string \"ten\"" in str(e.value)
    assert not (tmp_path / "y" / "summary.csv").exists()


# --- scenarios in code --------------------------------------------------------------------


def tiny(**extra) -> faasim.Scenario:
    data = {
        "name": "tiny",
        "trace": {"format": "synthetic", "functions": 5, "duration_s": 600, "rate_per_s": 2},
        "cluster": {"workers": 2},
    }
    data.update(extra)
    return faasim.Scenario(data)


def test_scenario_dicts_name_the_key_at_fault():
    with pytest.raises(faasim.Error, match=r"^Scenario\(dict\): cluster\.workers: invalid type: string \"ten\", expected u32"):
        tiny(cluster={"workers": "ten"}).check()
    with pytest.raises(faasim.Error, match=r"unknown field `ttl`"):
        tiny(keep_alive={"policy": "fixed", "ttl": 5}).check()
    with pytest.raises(faasim.Error, match=r"^Scenario\(dict\): keep_alive\.ttl_s: None is not a scenario value"):
        tiny(keep_alive={"policy": "fixed", "ttl_s": None}).check()
    with pytest.raises(faasim.Error, match=r"trace\.functions: expected a bool, int, float, str, list or dict, got object"):
        faasim.Scenario({"name": "x", "trace": {"format": "synthetic", "functions": object()}}).check()
    resolved = tiny().set("keep_alive.ttl_s", 60).check()
    assert "ttl_s = 60" in resolved and "worker_memory_mb = 16384" in resolved


def test_a_dict_run_leaves_no_summary_when_its_scenario_is_wrong(tmp_path):
    with pytest.raises(faasim.Error, match="cluster.workers"):
        faasim.run(tiny(cluster={"workers": -1}), out=tmp_path)
    assert not (tmp_path / "summary.csv").exists()


# --- policies written in Python -----------------------------------------------------------

# One function, 100 ms executions, a constant 500 ms cold start, arrivals at 0, 1 s and 5 s.
# With a 2 s keep-alive, worked out by hand:
#   t=0     cold start, ready at 500, runs to 600; idle at 600: kept until 2600
#   t=1000  warm (600 <= 1000 < 2600), runs to 1100; idle at 1100: kept until 3100
#   t=3100  expires (evicted)
#   t=5000  cold start, ready at 5500, runs to 5600; idle at 5600: kept until 7600, evicted
# so 3 completed, 2 cold starts, 2 instances, latencies 600, 100, 600 ms, the run ends at 7.6 s.
HAND_TRACE = "timestamp_ms,function,duration_ms,memory_mb\n0,f,100,128\n1000,f,100,128\n5000,f,100,128\n"


def hand_scenario(tmp_path: Path) -> faasim.Scenario:
    (tmp_path / "hand.csv").write_text(HAND_TRACE)
    return faasim.Scenario(
        {
            "name": "hand",
            "trace": {"format": "csv", "path": "hand.csv"},
            "cluster": {"workers": 1, "worker_memory_mb": 1024},
            "platform": {"cold_start_ms": 500},
        },
        base_dir=tmp_path,
    )


class TwoSeconds(faasim.KeepAlive):
    def __init__(self):
        self.idle = []
        self.events = []

    def on_idle(self, instance, now_ms):
        self.idle.append((instance.executions, instance.idle_since_ms, now_ms, instance.created_at_ms))
        return 2000

    def observe(self, event):
        self.events.append((event.kind, event.function, event.time_ms, event.instance))


def test_a_python_keep_alive_decides_as_worked_out_by_hand(tmp_path):
    policy = TwoSeconds()
    r = faasim.run(hand_scenario(tmp_path), keep_alive=policy, out=tmp_path / "out")
    s = r.summary
    assert (s["completed"], s["cold_starts"], s["instances_created"]) == (3, 2, 2)
    assert s["latency_mean_ms"] == pytest.approx((600 + 100 + 600) / 3)
    assert s["sim_end_s"] == pytest.approx(7.6)
    assert s["evictions_expired"] == 2
    # (executions, idle since, now, created at): the first instance twice, then the second.
    assert policy.idle == [(1, 600.0, 600.0, 0.0), (2, 1100.0, 1100.0, 0.0), (1, 5600.0, 5600.0, 5000.0)]
    assert policy.events == [
        ("arrival", 0, 0.0, None),
        ("arrival", 0, 1000.0, None),
        ("eviction", 0, 3100.0, 0),
        ("arrival", 0, 5000.0, None),
        ("eviction", 0, 7600.0, 0),
    ]
    assert r.policy_calls == {"keep_alive.on_idle": 3, "keep_alive.observe": 5}
    assert r.manifest["code_policies"] == [["keep_alive", "python:test_faasim.TwoSeconds"]]


def test_none_keeps_and_zero_evicts(tmp_path):
    class Forever(faasim.KeepAlive):
        def on_idle(self, instance, now_ms):
            return None

    class Never(faasim.KeepAlive):
        def on_idle(self, instance, now_ms):
            return 0

    # Kept: one cold start, the run ends at the last completion (nothing expires).
    s = faasim.run(hand_scenario(tmp_path), keep_alive=Forever(), out=tmp_path / "a").summary
    assert (s["cold_starts"], s["sim_end_s"]) == (1, pytest.approx(5.1))
    # Evicted at once: every arrival is a cold start.
    s = faasim.run(hand_scenario(tmp_path), keep_alive=Never(), out=tmp_path / "b").summary
    assert s["cold_starts"] == 3


class Ttl(faasim.KeepAlive):
    def __init__(self, ms):
        self.ms = ms

    def on_idle(self, instance, now_ms):
        return self.ms


class FirstFit(faasim.Placement):
    def place(self, function, cluster):
        return cluster.first_fit(function.memory_mb)


class MostRecent(faasim.Routing):
    def route(self, invocation, cluster):
        warm = cluster.warm_instances(invocation.function)
        return warm[0] if warm else None


def test_python_policies_equal_the_rust_ones_they_mirror(tmp_path):
    # A Python policy making the same decisions as a built-in one gives the same bytes.
    faasim.run(QUICKSTART, set={"keep_alive.ttl_s": 120, "placement.policy": "first-fit"}, out=tmp_path / "rust")
    r = faasim.run(QUICKSTART, keep_alive=Ttl(120_000), placement=FirstFit(), routing=MostRecent(),
                   out=tmp_path / "py")
    a, b = tmp_path / "rust", tmp_path / "py"
    for f in ("functions.csv", "timeseries.csv"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert summary_without_wall(a / "summary.csv") == summary_without_wall(b / "summary.csv")
    calls = r.policy_calls
    assert calls["keep_alive.on_idle"] == r.summary["completed"]
    # Placement is asked once per instance made, and again for a request that found no room.
    assert calls["placement.place"] >= r.summary["instances_created"]


def test_a_policy_that_raises_stops_the_run_with_its_traceback(tmp_path):
    class Boom(faasim.KeepAlive):
        def on_idle(self, instance, now_ms):
            if now_ms > 1000:
                raise ValueError("boom at %.0f" % now_ms)
            return 2000

    with pytest.raises(ValueError, match="boom at 1100") as e:
        faasim.run(hand_scenario(tmp_path), keep_alive=Boom(), out=tmp_path / "out")
    assert any(entry.name == "on_idle" for entry in e.traceback)
    assert "Boom.on_idle, at 1100 ms of simulated time" in e.value.__notes__[0]
    assert not (tmp_path / "out" / "summary.csv").exists()


@pytest.mark.parametrize(
    "returned, message",
    [
        (-5, r"Neg\.on_idle returned -5 \(int\): a negative time: a keep-alive is ms >= 0"),
        ("soon", r"Neg\.on_idle returned 'soon' \(str\), expected a number of ms or None"),
        (float("nan"), r"Neg\.on_idle returned nan \(float\): not a finite number of ms"),
    ],
)
def test_an_invalid_keep_alive_is_a_policy_error(tmp_path, returned, message):
    class Neg(faasim.KeepAlive):
        def on_idle(self, instance, now_ms):
            return returned

    with pytest.raises(faasim.PolicyError, match=message):
        faasim.run(hand_scenario(tmp_path), keep_alive=Neg(), out=tmp_path / "out")
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_a_worker_that_does_not_exist_is_a_policy_error(tmp_path):
    class Far(faasim.Placement):
        def place(self, function, cluster):
            return 99

    with pytest.raises(faasim.PolicyError, match=r"Far\.place returned worker 99, which does not exist: the cluster has 4 workers \(0 to 3\)"):
        faasim.run(QUICKSTART, placement=Far(), out=tmp_path / "out")
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_routing_to_an_instance_that_is_not_warm_is_a_policy_error(tmp_path):
    class Wrong(faasim.Routing):
        def route(self, invocation, cluster):
            return 12345

    with pytest.raises(faasim.PolicyError, match=r"Wrong\.route returned instance 12345, which is not a warm instance"):
        faasim.run(QUICKSTART, routing=Wrong(), out=tmp_path / "out")


def test_a_policy_missing_its_method_is_named(tmp_path):
    class Empty(faasim.KeepAlive):
        pass

    with pytest.raises(faasim.PolicyError, match=r"keep_alive: .*Empty defines no on_idle\(\) \(a KeepAlive policy needs on_idle\(self, instance, now_ms\)\)"):
        faasim.run(hand_scenario(tmp_path), keep_alive=Empty(), out=tmp_path / "out")
    with pytest.raises(faasim.PolicyError, match=r"pass an instance"):
        faasim.run(hand_scenario(tmp_path), keep_alive=TwoSeconds, out=tmp_path / "out")


def test_a_cluster_view_is_valid_only_during_its_call(tmp_path):
    kept = []

    class Keeper(faasim.Placement):
        def place(self, function, cluster):
            kept.append(cluster)
            assert cluster.worker_count() == 4
            w = cluster.worker(0)
            assert w.memory_mb == 16384 and w.free_mb <= w.memory_mb
            with pytest.raises(IndexError, match="worker 4 does not exist"):
                cluster.worker(4)
            assert cluster.instance(10**6) is None
            assert 0.0 <= cluster.random() < 1.0
            return cluster.least_loaded(function.memory_mb)

    faasim.run(QUICKSTART, placement=Keeper(), out=tmp_path / "out")
    with pytest.raises(RuntimeError, match="valid only during the call that received it"):
        kept[0].worker_count()


def test_policy_random_draws_are_seeded(tmp_path):
    class Random(faasim.Placement):
        def place(self, function, cluster):
            fits = [w.id for w in cluster.workers() if w.free_mb >= function.memory_mb]
            return fits[cluster.randbelow(len(fits))] if fits else None

    a = faasim.run(QUICKSTART, placement=Random(), seed=5, out=tmp_path / "a")
    b = faasim.run(QUICKSTART, placement=Random(), seed=5, out=tmp_path / "b")
    assert (tmp_path / "a" / "timeseries.csv").read_bytes() == (tmp_path / "b" / "timeseries.csv").read_bytes()
    assert a.summary["instances_created"] == b.summary["instances_created"]


# --- sweeps -------------------------------------------------------------------------------


def test_a_sweep_returns_its_tables(tmp_path):
    (tmp_path / "base.toml").write_text(
        'name = "ka"\n[trace]\nformat = "synthetic"\nfunctions = 5\nduration_s = 600\nrate_per_s = 2\n'
    )
    (tmp_path / "experiment.toml").write_text(
        '[experiment]\nname = "ka"\nscenario = "base.toml"\nseeds = [1, 2]\n[grid]\n"keep_alive.ttl_s" = [10, 600]\n'
    )
    s = faasim.sweep(tmp_path / "experiment.toml", jobs=2, out=tmp_path / "out")
    assert (s.planned, s.ran, s.seeds) == (4, 4, [1, 2])
    assert s.summary.height == 4 and s.aggregate.height == 2
    # Run 0 is the scenario with the first seed: what faasim.run of it writes.
    r = faasim.run(tmp_path / "base.toml", seed=1, set={"keep_alive.ttl_s": 10}, out=tmp_path / "one")
    row = s.summary.filter((pl.col("seed") == 1) & (pl.col("keep_alive.ttl_s") == 10)).row(0, named=True)
    assert row["cold_starts"] == r.summary["cold_starts"]
    # A longer keep-alive never has more cold starts on the same invocations.
    by_ttl = dict(zip(s.aggregate["keep_alive.ttl_s"], s.aggregate["cold_start_ratio_mean"]))
    assert by_ttl[600] <= by_ttl[10]
