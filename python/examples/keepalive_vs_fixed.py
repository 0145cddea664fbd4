# %% [markdown]
# # A keep-alive policy in Python against fixed keep-alive, on a real Azure 2019 sample
#
# A notebook-style script (each `# %%` is a cell in VS Code or Jupyter's "percent" format;
# `python python/examples/keepalive_vs_fixed.py` from the repository root runs it whole).
# It writes `results/python-example/keepalive.png`.
#
# The trace: 500 real functions of the Azure Functions 2019 trace over 8 hours
# (`traces/samples/azure2019-sample-500-min480-959`, 3.0 M invocations), on a cluster large
# enough that memory never runs out, and with a function either loaded or not (one instance
# serves all of its concurrent invocations), as in Shahrad et al.'s keep-alive study.

# %%
import faasim
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SAMPLE = "traces/samples/azure2019-sample-500-min480-959"
scenario = faasim.Scenario(
    {
        "name": "python-example",
        "trace": {
            "format": "azure2019",
            "invocations": f"{SAMPLE}/invocations.csv",
            "durations": f"{SAMPLE}/durations.csv",
            "memory": f"{SAMPLE}/memory.csv",
            "unit": "function",
        },
        "cluster": {"workers": 16, "worker_memory_mb": 262144, "worker_cores": 64},
        "platform": {"instance_concurrency": 100000, "cold_start_ms": "firecracker", "cpu": "ignore"},
        "output": {"timeseries_interval_s": 600},
    }
)


# %% [markdown]
# ## The policy: keep an idle function as long as twice its typical gap between arrivals
#
# An exponentially weighted mean of each function's inter-arrival gaps (learnt in `observe`),
# times two, within 1 and 60 minutes. Twenty lines.

# %%
class TwiceTheGap(faasim.KeepAlive):
    def __init__(self, weight=0.2, low_ms=60_000, high_ms=3_600_000):
        self.weight, self.low_ms, self.high_ms = weight, low_ms, high_ms
        self.last = {}  # function -> last arrival, ms
        self.gap = {}  # function -> weighted mean gap, ms

    def observe(self, event):
        if event.kind != "arrival":
            return
        f, t = event.function, event.time_ms
        if f in self.last:
            g = t - self.last[f]
            self.gap[f] = g if f not in self.gap else (1 - self.weight) * self.gap[f] + self.weight * g
        self.last[f] = t

    def on_idle(self, instance, now_ms):
        gap = self.gap.get(instance.function, self.high_ms)
        return min(max(2 * gap, self.low_ms), self.high_ms)


# %% [markdown]
# ## Runs: the policy, and fixed keep-alive of 5 to 60 minutes (faasim's own, in Rust)

# %%
runs = {}
for minutes in (5, 10, 20, 30, 60):
    runs[f"fixed {minutes} min"] = faasim.run(
        scenario, set={"keep_alive.ttl_s": minutes * 60}, out=f"results/python-example/fixed-{minutes}"
    )
runs["twice the gap"] = faasim.run(scenario, keep_alive=TwiceTheGap(), out="results/python-example/twice-the-gap")

for name, r in runs.items():
    s = r.summary
    print(
        f"{name:>14}: cold starts {s['cold_starts']:>6}  cold-start ratio {s['cold_start_ratio']:.5f}  "
        f"idle memory {s['wasted_memory_gb_s'] / 1e6:6.2f} M GB-s  ({s['wall_s']:.1f} s)"
    )
calls = runs["twice the gap"].policy_calls
print("Python calls:", calls)

# %% [markdown]
# ## The trade-off: cold starts against idle memory
#
# A policy beats fixed keep-alive where its point lies below and left of the fixed line.
# Per function, the 75th percentile of cold-start ratios says how the unlucky functions fare.

# %%
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
fixed = [(n, r) for n, r in runs.items() if n.startswith("fixed")]
ax.plot(
    [r.summary["wasted_memory_gb_s"] / 1e6 for _, r in fixed],
    [r.summary["cold_starts"] for _, r in fixed],
    "o-",
    color="tab:blue",
    label="fixed keep-alive",
)
for n, r in fixed:
    ax.annotate(n.removeprefix("fixed "), (r.summary["wasted_memory_gb_s"] / 1e6, r.summary["cold_starts"]),
                textcoords="offset points", xytext=(4, 4), fontsize=8)
mine = runs["twice the gap"].summary
ax.plot(mine["wasted_memory_gb_s"] / 1e6, mine["cold_starts"], "*", ms=14, color="tab:red", label="twice the gap (Python)")
ax.set_xlabel("idle memory (M GB-s)")
ax.set_ylabel("cold starts")
ax.set_title("cold starts against idle memory")
ax.legend()

names = list(runs)
p75 = [runs[n].functions["cold_start_ratio"].quantile(0.75) for n in names]
ax2.barh(names, p75, color=["tab:red" if n == "twice the gap" else "tab:blue" for n in names])
ax2.set_xlabel("75th percentile of per-function cold-start ratio")
ax2.set_title("the unlucky functions")
fig.tight_layout()
fig.savefig("results/python-example/keepalive.png", dpi=120)
print("figure: results/python-example/keepalive.png")
