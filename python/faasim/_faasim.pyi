"""Type hints of faasim's compiled module (faasim._faasim). Use it through ``faasim``."""

from typing import Any, Mapping, Optional

__version__: str

class Error(Exception):
    """A faasim error; the message is the faasim command's one line."""

class PolicyError(Error):
    """A policy written in Python lacks a method or returned a decision faasim cannot apply."""

class Instance:
    """An instance, as a keep-alive or routing policy sees it. Times in ms."""
    id: int
    function: int
    worker: int
    memory_mb: int
    created_at_ms: float
    ready_at_ms: float
    last_used_ms: float
    idle_since_ms: float
    first_idle_at_ms: Optional[float]
    executions: int
    active: int

class Worker:
    """A worker's capacity and load, MB and counts."""
    id: int
    memory_mb: int
    used_mb: int
    free_mb: int
    idle_mb: int
    cores: int
    instances: int
    executing: int
    assigned: int
    queued: int

class Function:
    """The function that needs a new instance."""
    id: int
    name: str
    memory_mb: int

class Invocation:
    """The invocation being routed."""
    id: int
    function: int
    arrival_ms: float

class Event:
    """An arrival or an eviction, for KeepAlive.observe."""
    kind: str
    function: int
    time_ms: float
    instance: Optional[int]

class Cluster:
    """The cluster during one placement or routing call (not a copy: valid only during the
    call that received it)."""
    @property
    def now_ms(self) -> float: ...
    def worker_count(self) -> int: ...
    def instance_concurrency(self) -> int: ...
    def live_instances(self) -> int: ...
    def worker(self, id: int) -> Worker: ...
    def workers(self) -> list[Worker]: ...
    def instance(self, id: int) -> Optional[Instance]: ...
    def warm_instances(self, function: int) -> list[int]: ...
    def warm_instances_lru(self, function: int) -> list[int]: ...
    def first_fit(self, mb: int) -> Optional[int]: ...
    def next_fit(self, start: int, mb: int) -> Optional[int]: ...
    def best_fit(self, mb: int) -> Optional[int]: ...
    def worst_fit(self, mb: int) -> Optional[int]: ...
    def least_loaded(self, mb: int) -> Optional[int]: ...
    def workers_by_load(self) -> list[int]: ...
    def has_warm_on(self, function: int, worker: int) -> bool: ...
    def routing_scope(self) -> Optional[int]: ...
    def random(self) -> float: ...
    def randbelow(self, n: int) -> int: ...

def run_file(
    path: str,
    seed: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    out: Optional[str] = None,
    lenient: bool = False,
    keep_alive: Any = None,
    placement: Any = None,
    routing: Any = None,
    info: Optional[dict] = None,
) -> dict: ...
def run_dict(
    data: dict,
    label: str,
    base_dir: str,
    seed: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    out: Optional[str] = None,
    lenient: bool = False,
    keep_alive: Any = None,
    placement: Any = None,
    routing: Any = None,
    info: Optional[dict] = None,
) -> dict: ...
def check_dict(data: dict, label: str, base_dir: str) -> str: ...
def to_toml_text(data: dict) -> str: ...
def default_policy(table: str) -> Optional[str]: ...
def sweep(
    experiment: str,
    jobs: Optional[int] = None,
    out: Optional[str] = None,
    set: Optional[Mapping[str, Any]] = None,
    baseline: Optional[Mapping[str, Any]] = None,
    progress: bool = False,
) -> dict: ...
