"""graphopt.explain: compile a model once with graphopt and report what happened.

    report = graphopt.explain(model, x, target="h100-sxm", measure=True)
    print(report)                 # graphs, kernels and their fused ops, externs, costs
    report.save_html("report.html")
"""
from __future__ import annotations

import tempfile

import torch
from torch.utils._pytree import tree_leaves

from .backend import compiled_graphs
from .cost import HOST_CPU
from .measure import measure_graph, paired
from .report import Measured, Report

WARMUP, REPEATS = 3, 10


def explain(model_or_fn, *example_inputs, target: str = "h100-sxm", measure: bool = False,
            backward: bool = False) -> Report:
    """Compiles `model_or_fn` with graphopt (dumping every graph with its costs
    for host-cpu and `target`), runs it once on `example_inputs` and returns
    the Report. backward=True also compiles the backward graph: the gradients of
    the outputs' sum with respect to every parameter and input that requires
    grad, computed with torch.autograd.grad so no `.grad` changes. measure=True
    also times eager against compiled (medians of paired runs after warm-up)
    and each step of every graph. The model itself is not changed."""
    leaves = _grad_leaves(model_or_fn, example_inputs) if backward else None
    if backward and not leaves:
        raise ValueError("explain(backward=True): no parameter or input requires grad")
    torch._dynamo.reset()  # compile afresh, so every graph is dumped
    try:
        with tempfile.TemporaryDirectory(prefix="graphopt-explain-") as dump:
            options = {"dump_dir": dump, "targets": list(dict.fromkeys([HOST_CPU, target])),
                       "profile": measure}
            compiled = _one_call(torch.compile(model_or_fn, backend="graphopt", options=options),
                                 example_inputs, leaves)
            compiled()
            measured = _measure(_one_call(model_or_fn, example_inputs, leaves), compiled) if measure else None
            report = Report.from_dump(dump, target=target, measured=measured, stats=compiled_graphs())
    finally:
        torch._dynamo.reset()
    if measure:
        _measure_steps(report)
    return report


def _grad_leaves(model_or_fn, inputs) -> list[torch.Tensor]:
    params = list(model_or_fn.parameters()) if isinstance(model_or_fn, torch.nn.Module) else []
    return [t for t in params + [a for a in tree_leaves(inputs) if isinstance(a, torch.Tensor)]
            if t.requires_grad]


def _one_call(fn, inputs, leaves):
    """A zero-argument step: inference under no_grad, or forward and the gradients
    of the outputs' sum with respect to `leaves`."""
    if leaves is None:
        def step():
            with torch.no_grad():
                return fn(*inputs)
        return step

    def step():
        outputs = [t for t in tree_leaves(fn(*inputs)) if isinstance(t, torch.Tensor) and t.requires_grad]
        return torch.autograd.grad(sum(t.sum() for t in outputs), leaves, allow_unused=True)
    return step


def _measure_steps(report: Report) -> None:
    """Each step's median time on this machine (graphopt.measure; the graphs
    were compiled with the `profile` option, which keeps their first inputs)."""
    stats = {s.name: s for s in compiled_graphs()}
    for g in report.graphs:
        for entry in measure_graph(stats[g.name])["steps"]:
            g.steps[entry["index"]].measured_s = entry["measured_s"]


def _measure(eager, compiled) -> Measured:
    """Medians of eager and compiled runs, alternated (graphopt.measure.paired)."""
    m = paired(eager, compiled, WARMUP, REPEATS)
    return Measured(m["eager_s"], m["compiled_s"], m["speedup"])
