"""The cost of a keep-alive policy written in Python: decisions per second.

Runs the quickstart scenario (one hour, 72 k invocations) with faasim's fixed keep-alive
(Rust) and with the same policy written in Python, and reports the Python calls made and
what they cost. Run from the repository root: python python/examples/decisions_per_second.py
"""

import time

import faasim

SCENARIO = "scenarios/quickstart.toml"


class Fixed(faasim.KeepAlive):
    def on_idle(self, instance, now_ms):
        return 600_000


class FixedLearning(Fixed):
    """The same decisions, and told about every arrival and eviction."""

    def observe(self, event):
        pass


def best_of(n, f):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = f()
        times.append(time.perf_counter() - t)
    return min(times), r


rust_s, rust = best_of(3, lambda: faasim.run(SCENARIO, out="results/decisions/rust"))
for policy in (Fixed(), FixedLearning()):
    py_s, py = best_of(3, lambda: faasim.run(SCENARIO, keep_alive=policy, out="results/decisions/python"))
    calls = sum(py.policy_calls.values())
    assert py.summary["cold_starts"] == rust.summary["cold_starts"]
    extra = py_s - rust_s
    print(
        f"{type(policy).__name__}: {py.policy_calls}; run {py_s:.3f} s against {rust_s:.3f} s in Rust: "
        f"{calls / extra:,.0f} Python calls/s ({extra / calls * 1e6:.2f} us each)"
    )
