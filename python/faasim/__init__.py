"""faasim from Python: runs, sweeps and policies written in Python.

faasim is a deterministic discrete-event simulator of serverless (FaaS) platforms, written
in Rust. This package drives the same compiled runner as the ``faasim`` command: a run of a
scenario and seed here writes the same files, byte for byte, as ``faasim run`` (but for the
``wall`` columns), and results come back as polars DataFrames.

>>> import faasim
>>> r = faasim.run("scenarios/quickstart.toml", seed=1, set={"keep_alive.ttl_s": 60},
...                out="results/ttl60")                                   # doctest: +SKIP
>>> r.summary["cold_start_ratio"]                                         # doctest: +SKIP
0.0213...
>>> r.functions.sort("cold_starts", descending=True).head()               # doctest: +SKIP

Policies written in Python subclass :class:`KeepAlive`, :class:`Placement` or
:class:`Routing` and are passed to :func:`run`; the engine calls them once per decision
(times in milliseconds)::

    class TwoMinutes(faasim.KeepAlive):
        def on_idle(self, instance, now_ms):
            return 120_000          # keep it warm 2 minutes; 0 evicts, None keeps

    faasim.run("scenarios/quickstart.toml", keep_alive=TwoMinutes())

Errors are :class:`Error` exceptions whose message is the ``faasim`` command's one line.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from . import _faasim
from ._faasim import Cluster, Error, Event, Function, Instance, Invocation, PolicyError, Worker

__version__ = _faasim.__version__

__all__ = [
    "run",
    "sweep",
    "Scenario",
    "Run",
    "Sweep",
    "KeepAlive",
    "Placement",
    "Routing",
    "Cluster",
    "Instance",
    "Worker",
    "Function",
    "Invocation",
    "Event",
    "Error",
    "PolicyError",
]

PathLike = Union[str, "os.PathLike[str]"]


def _polars():
    try:
        import polars
    except ImportError as e:  # pragma: no cover - polars is a dependency
        raise ImportError("faasim's results are polars DataFrames: pip install polars") from e
    return polars


def _read_csv(path: Path):
    pl = _polars()
    # Every column's type from the whole file, not its first rows: a function named "12"
    # beside "f3" stays a string.
    return pl.read_csv(path, infer_schema_length=None)


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


# --- policies -------------------------------------------------------------------------


class KeepAlive:
    """A keep-alive policy written in Python: how long an idle instance stays warm.

    Subclass it and define ``on_idle``; ``observe``, ``prewarm`` and ``victim_priority``
    are optional (the engine calls only the methods the subclass defines). Times are
    milliseconds of simulated time.

    >>> class Fixed(faasim.KeepAlive):
    ...     def __init__(self, ttl_ms):
    ...         self.ttl_ms = ttl_ms
    ...     def on_idle(self, instance, now_ms):
    ...         return self.ttl_ms
    >>> faasim.run("scenarios/quickstart.toml", keep_alive=Fixed(600_000))  # doctest: +SKIP
    """

    def on_idle(self, instance: Instance, now_ms: float) -> Optional[float]:
        """Called each time an instance's last running execution ends.

        Return how many ms to keep it warm (0 evicts it at once), or None to keep it until
        memory pressure reclaims it. A negative number is a :class:`PolicyError`.
        """
        raise NotImplementedError

    def observe(self, event: Event) -> None:
        """Optional: told about every arrival and eviction (``event.kind`` is
        ``"arrival"`` or ``"eviction"``), for policies that learn."""

    def prewarm(self, function: int, now_ms: float) -> Optional[float]:
        """Optional: after an eviction of ``function``'s instance, start a fresh idle
        instance of it after this many ms (pre-warming), or None."""

    def victim_priority(self, instance: Instance, now_ms: float) -> Optional[int]:
        """Optional: under memory pressure, idle instances with the lowest priority are
        reclaimed first (an int >= 0); None keeps the least-recently-used order. Defining it
        makes reclaiming visit every idle instance."""


class Placement:
    """A placement policy written in Python: the worker of each new instance.

    >>> class MostFree(faasim.Placement):
    ...     def place(self, function, cluster):
    ...         return cluster.worst_fit(function.memory_mb)
    """

    def place(self, function: Function, cluster: Cluster) -> Optional[int]:
        """Return the id of a worker with at least ``function.memory_mb`` MB free, or None
        when none fits (the engine then reclaims idle instances, else queues or drops).
        A worker that does not exist or has no room is a :class:`PolicyError`."""
        raise NotImplementedError


class Routing:
    """A routing policy written in Python: which warm instance serves a request.

    >>> class Oldest(faasim.Routing):
    ...     def route(self, invocation, cluster):
    ...         warm = cluster.warm_instances_lru(invocation.function)
    ...         return warm[0] if warm else None
    """

    def route(self, invocation: Invocation, cluster: Cluster) -> Optional[int]:
        """Return one of ``cluster.warm_instances(invocation.function)``, or None for a cold
        start. Any other instance is a :class:`PolicyError`."""
        raise NotImplementedError


_KINDS = {
    "keep_alive": (KeepAlive, "on_idle", ("observe", "prewarm", "victim_priority")),
    "placement": (Placement, "place", ()),
    "routing": (Routing, "route", ()),
}


def _defines(obj: Any, base: type, method: str) -> bool:
    """Whether ``obj``'s class defines ``method`` itself (not only the base's)."""
    fn = getattr(type(obj), method, None)
    return callable(fn) and fn is not getattr(base, method, None)


def _policy_info(kind: str, obj: Any) -> dict:
    base, required, optional = _KINDS[kind]
    cls = type(obj)
    if isinstance(obj, type):
        raise PolicyError(f"{kind}={obj.__name__}: pass an instance ({obj.__name__}()), not the class")
    if not _defines(obj, base, required):
        raise PolicyError(
            f"{kind}: {cls.__qualname__} defines no {required}() "
            f"(a {base.__name__} policy needs {required}{_SIGNATURES[required]})"
        )
    info = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    for m in optional:
        info[m] = _defines(obj, base, m)
    return info


_SIGNATURES = {
    "on_idle": "(self, instance, now_ms)",
    "place": "(self, function, cluster)",
    "route": "(self, invocation, cluster)",
}


# --- scenarios ------------------------------------------------------------------------


class Scenario:
    """A scenario to build or edit in code: the same tables and keys as a scenario file.

    >>> sc = faasim.Scenario({"name": "tiny", "trace": {"format": "synthetic",
    ...                        "functions": 5, "duration_s": 600}})
    >>> sc["cluster"] = {"workers": 2}
    >>> sc.set("keep_alive.ttl_s", 60)
    >>> r = faasim.run(sc, out="results/tiny")                        # doctest: +SKIP

    ``Scenario.from_toml(path)`` reads a file; its relative paths (traces) stay relative to
    the file's folder. A key of the wrong type or an unknown key is an :class:`Error` that
    names it, when the scenario is checked (:meth:`check`) or run.
    """

    def __init__(self, data: Mapping[str, Any], *, base_dir: PathLike = ".", source: Optional[PathLike] = None):
        if not isinstance(data, Mapping):
            raise TypeError(f"Scenario(data): expected a dict, got {type(data).__name__}")
        self.data: dict = _plain(data)
        self.base_dir = Path(base_dir)
        self.source = Path(source) if source is not None else None

    @classmethod
    def from_toml(cls, path: PathLike) -> "Scenario":
        """Reads a scenario file (TOML)."""
        import tomllib

        p = Path(path)
        try:
            with open(p, "rb") as f:
                data = tomllib.load(f)
        except OSError as e:
            raise Error(f"{p}: cannot read the scenario: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise Error(f"{p}: {e}") from None
        return cls(data, base_dir=p.parent, source=p)

    @property
    def name(self) -> str:
        return self.data.get("name", "")

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def set(self, key: str, value: Any) -> "Scenario":
        """Sets a dotted key (``"keep_alive.ttl_s"``), making tables as needed (a policy table
        made so names the default policy, as ``--set`` does); returns self."""
        parts = key.split(".")
        if len(parts) > 1 and parts[0] not in self.data:
            policy = _faasim.default_policy(parts[0])
            if policy is not None:
                self.data[parts[0]] = {"policy": policy}
        t = self.data
        for p in parts[:-1]:
            t = t.setdefault(p, {})
            if not isinstance(t, dict):
                raise Error(f"{key}: {p} is not a table")
        t[parts[-1]] = value
        return self

    def copy(self) -> "Scenario":
        """A deep copy, to vary one scenario without touching the other."""
        return Scenario(self.data, base_dir=self.base_dir, source=self.source)

    def _label(self) -> str:
        return str(self.source) if self.source is not None else "Scenario(dict)"

    def to_toml(self) -> str:
        """The scenario as TOML text (one ``dotted.key = value`` line per value)."""
        return _faasim.to_toml_text(self.data)

    def check(self) -> str:
        """Checks the scenario as a run would (types, unknown keys, ranges); returns it as
        resolved, defaults filled in, as TOML text. Raises :class:`Error` naming the key."""
        return _faasim.check_dict(self.data, self._label(), str(self.base_dir))

    def __repr__(self) -> str:
        return f"Scenario({self.data!r})"


def _plain(data: Mapping) -> dict:
    """A deep copy of nested mappings and lists as dicts and lists."""
    out = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            v = _plain(v)
        elif isinstance(v, list):
            v = [(_plain(x) if isinstance(x, Mapping) else x) for x in v]
        out[k] = v
    return out


# --- results --------------------------------------------------------------------------


class Run:
    """The result of :func:`run`: the files of its folder, read when first asked for.

    ``summary`` is the ``summary.csv`` row as a dict; ``functions``, ``timeseries`` and
    ``invocations`` are polars DataFrames (``.to_pandas()`` for pandas).
    """

    def __init__(self, info: dict):
        self.out_dir = Path(info["out_dir"])
        self.seed: int = info["seed"]
        #: Lines of things the run noticed that are probably mistakes (also in manifest.json).
        self.warnings: list = list(info["warnings"])
        #: Bad trace rows skipped with ``lenient=True``.
        self.skipped_rows: int = info["skipped_rows"]
        #: Calls made to Python policies, per method (``{"keep_alive.on_idle": 5012}``).
        self.policy_calls: dict = dict(info["policy_calls"])
        self._cache: dict = {}

    @property
    def summary(self) -> dict:
        """The ``summary.csv`` row: column name -> int, float or str."""
        if "summary" not in self._cache:
            with open(self.out_dir / "summary.csv", newline="") as f:
                row = next(csv.DictReader(f))
            self._cache["summary"] = {k: _number(v) for k, v in row.items()}
        return self._cache["summary"]

    def _frame(self, name: str):
        if name not in self._cache:
            path = self.out_dir / f"{name}.csv"
            if not path.exists():
                if name == "invocations" and (self.out_dir / "invocations.parquet").exists():
                    self._cache[name] = _polars().read_parquet(self.out_dir / "invocations.parquet")
                    return self._cache[name]
                hint = " (set [output] invocations = true)" if name == "invocations" else ""
                raise Error(f"{path}: this run wrote no {name}{hint}")
            self._cache[name] = _read_csv(path)
        return self._cache[name]

    @property
    def functions(self):
        """``functions.csv``: one row per function (polars DataFrame)."""
        return self._frame("functions")

    @property
    def timeseries(self):
        """``timeseries.csv``: the cluster at the end of each interval (polars DataFrame)."""
        return self._frame("timeseries")

    @property
    def invocations(self):
        """``invocations.csv`` (or ``.parquet``): one row per invocation, when the scenario's
        ``[output] invocations = true`` (polars DataFrame)."""
        return self._frame("invocations")

    @property
    def manifest(self) -> dict:
        """``manifest.json``: the version, the scenario as resolved, the seed, checksums."""
        with open(self.out_dir / "manifest.json") as f:
            return json.load(f)

    def __repr__(self) -> str:
        return f"Run({str(self.out_dir)!r})"


class Sweep:
    """The result of :func:`sweep`: ``summary`` (one row per run) and ``aggregate`` (one
    row per configuration, with 95% intervals), polars DataFrames."""

    def __init__(self, info: dict):
        self.out_dir = Path(info["out_dir"])
        self.name: str = info["name"]
        self.seeds: list = list(info["seeds"])
        self.planned: int = info["planned"]
        self.ran: int = info["ran"]
        self.skipped: int = info["skipped"]
        self.warnings: list = list(info["warnings"])
        self._cache: dict = {}

    def _frame(self, name: str):
        if name not in self._cache:
            self._cache[name] = _read_csv(self.out_dir / f"{name}.csv")
        return self._cache[name]

    @property
    def summary(self):
        """``summary.csv``: one row per run (polars DataFrame)."""
        return self._frame("summary")

    @property
    def aggregate(self):
        """``aggregate.csv``: one row per configuration (polars DataFrame)."""
        return self._frame("aggregate")

    def __repr__(self) -> str:
        return f"Sweep({str(self.out_dir)!r}, runs={self.planned})"


# --- entry points ---------------------------------------------------------------------


def run(
    scenario: Union[PathLike, Scenario, Mapping[str, Any]],
    *,
    seed: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    out: Optional[PathLike] = None,
    lenient: bool = False,
    keep_alive: Optional[KeepAlive] = None,
    placement: Optional[Placement] = None,
    routing: Optional[Routing] = None,
) -> Run:
    """Runs one scenario, as ``faasim run SCENARIO --seed SEED --set K=V ... --out OUT``.

    ``scenario`` is a file path, a :class:`Scenario` or a dict. ``seed`` overrides the
    scenario's; ``set`` overrides keys (``{"keep_alive.ttl_s": 60}``); ``out`` is the result
    folder (default ``results/<name>/``). ``keep_alive``, ``placement`` and ``routing`` take
    policies written in Python in place of the scenario's tables.

    >>> r = faasim.run("scenarios/quickstart.toml", seed=1)            # doctest: +SKIP
    >>> r.summary["invocations"], r.functions.height                   # doctest: +SKIP

    Raises :class:`Error` with the command's one-line message; a policy that raises stops
    the run with its own exception (and traceback), an invalid decision with
    :class:`PolicyError`; either way the run leaves no ``summary.csv``.
    """
    policies = {}
    info = {}
    for kind, obj in (("keep_alive", keep_alive), ("placement", placement), ("routing", routing)):
        if obj is not None:
            info[kind] = _policy_info(kind, obj)
            policies[kind] = obj
    common = dict(
        seed=seed,
        set=dict(set) if set is not None else None,
        out=os.fspath(out) if out is not None else None,
        lenient=lenient,
        info=info,
        **policies,
    )
    if isinstance(scenario, Scenario):
        res = _faasim.run_dict(scenario.data, scenario._label(), str(scenario.base_dir), **common)
    elif isinstance(scenario, Mapping):
        sc = Scenario(scenario)
        res = _faasim.run_dict(sc.data, sc._label(), str(sc.base_dir), **common)
    else:
        res = _faasim.run_file(os.fspath(scenario), **common)
    return Run(res)


def sweep(
    experiment: PathLike,
    *,
    jobs: Optional[int] = None,
    out: Optional[PathLike] = None,
    set: Optional[Mapping[str, Any]] = None,
    baseline: Optional[Mapping[str, Any]] = None,
    progress: bool = False,
) -> Sweep:
    """Runs an experiment, as ``faasim sweep EXPERIMENT --jobs J --out OUT``: scenarios ×
    grid × zip × replications, ``jobs`` at once (default: the cores), resuming the runs a
    previous sweep into the same folder finished.

    >>> s = faasim.sweep("experiments/keepalive-synthetic/experiment.toml", jobs=2)  # doctest: +SKIP
    >>> s.aggregate.select("keep_alive.ttl_s", "cold_start_ratio_mean")               # doctest: +SKIP
    """
    res = _faasim.sweep(
        os.fspath(experiment),
        jobs=jobs,
        out=os.fspath(out) if out is not None else None,
        set=dict(set) if set is not None else None,
        baseline=dict(baseline) if baseline is not None else None,
        progress=progress,
    )
    return Sweep(res)
