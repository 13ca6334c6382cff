"""Measured next to predicted: each compiled graph timed against eager on
this machine, step by step, for the cost model's accountability.

Graphs must be compiled with the `profile` option, which keeps their first
inputs. Eager is timed on the user's model, not per graph: the FX graph
graphopt receives is already decomposed (LayerNorm as eight ops), which is
not what eager PyTorch runs.
"""
from __future__ import annotations

import statistics
import time

import torch

from . import cost
from .backend import GraphStats


def _median_seconds(fn, repeat: int) -> float:
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    fn()
    times = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def paired(eager, compiled, warmup: int = 1, repeats: int = 20) -> dict:
    """Times two zero-argument steps alternately (so both see the same
    machine noise): {"eager_s", "compiled_s"} medians and "speedup", the
    median of the per-pair ratios."""
    eager_t, compiled_t = [], []
    for i in range(warmup + repeats):
        for step, times in ((eager, eager_t), (compiled, compiled_t)):
            start = time.perf_counter()
            step()
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return {"eager_s": statistics.median(eager_t), "compiled_s": statistics.median(compiled_t),
            "speedup": statistics.median(e / c for e, c in zip(eager_t, compiled_t))}


def copy_bandwidth(repeat: int = 10) -> float:
    """This moment's copy bandwidth: host-cpu's calibration copy, as the
    median of `repeat` runs instead of the best. Kernels are judged against
    copies timed beside them: this machine's bandwidth drifts by 2x from one
    minute to the next."""
    return cost.copy_bandwidth(lambda fn: _median_seconds(fn, repeat))


def measure_graph(stats: GraphStats, repeat: int = 20, copy_probe: bool = False) -> dict:
    """{"compiled_s", "steps": [{"index", "measured_s"}]} for one compiled
    graph: the median of `repeat` runs, and of each step. With `copy_probe`
    (CPU graphs), also "copy_bandwidth": copy_bandwidth() just before and
    just after the steps were timed, averaged."""
    if stats.runtime is None:
        raise ValueError(f"graph {stats.name} was not compiled with options={{'profile': True}} "
                         "or has not run yet")
    compiled, inputs = stats.runtime
    with torch.no_grad():
        # Inputs mutated in place (BatchNorm statistics) drift a little across
        # runs; timings do not depend on their values.
        compiled_s = _median_seconds(lambda: compiled(*inputs), repeat)
        before = copy_bandwidth() if copy_probe else None
        steps = compiled.profile(*inputs, repeat=repeat)
        after = copy_bandwidth() if copy_probe else None
    measured = {"compiled_s": compiled_s,
                "steps": [{"index": i, "measured_s": s} for i, s in enumerate(steps)]}
    if copy_probe:
        measured["copy_bandwidth"] = (before + after) / 2
    return measured


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(v):
        order = sorted(range(len(v)), key=v.__getitem__)
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r
    if len(xs) < 2:
        return float("nan")
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (vx * vy) if vx and vy else float("nan")


def mape(predicted: list[float], measured: list[float]) -> float:
    """Mean absolute percentage error of predictions against measurements."""
    return 100 * sum(abs(p - m) / abs(m) for p, m in zip(predicted, measured)) / len(measured)
