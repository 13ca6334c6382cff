"""The torch.compile backend: Dynamo -> AOTAutograd -> import -> C++ -> runtime.

Both the forward and the backward graph go through `compile_fx_graph`. A
failure anywhere for a graph leaves that graph to eager with one warning and a
repro folder; strict mode raises instead.
"""
from __future__ import annotations

import functools
import itertools
import json
import logging
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch._decomp import core_aten_decompositions, get_decompositions
from torch._dynamo.backends.common import aot_autograd
from torch._functorch.aot_autograd import make_boxed_func
from torch._subclasses.fake_tensor import unset_fake_temporarily

from . import config
from . import dump as dumps
from .importer import import_graph
from .runtime import CompiledGraph, load_kernel_library

log = logging.getLogger("graphopt")
aten = torch.ops.aten

# Core ATen, plus the composite ops whose pieces graphopt fuses better than
# torch's single kernels run them (GELU, LayerNorm and their backwards).
DECOMPOSITIONS = {
    **core_aten_decompositions(),
    **get_decompositions([aten.gelu, aten.gelu_backward, aten.native_layer_norm,
                          aten.native_layer_norm_backward]),
}


@dataclass
class GraphStats:
    """What graphopt did with one graph (see graphopt.compiled_graphs())."""
    name: str
    aten_ops: int
    kernels: int
    steps: int
    extern_ops: list
    arena_bytes: int
    planned_bytes: int         # sum of the buffers the arena holds, without reuse
    intermediate_bytes: int    # sum of every intermediate tensor of the FX graph
    compile_seconds: float
    fallback: str | None = None
    kernel_ops: list = field(default_factory=list)


_STATS: list[GraphStats] = []
_COUNTER = itertools.count()


def compiled_graphs() -> list[GraphStats]:
    """Stats of every graph compiled in this process, oldest first."""
    return list(_STATS)


def reset_stats() -> None:
    _STATS.clear()


class GraphoptCompileError(RuntimeError):
    """Raised in strict mode when graphopt cannot compile a graph."""


def compile_fx_graph(gm: torch.fx.GraphModule, example_inputs, *, kind: str, options: config.Options):
    """AOTAutograd's fw/bw compiler: returns a boxed callable."""
    name = f"{kind}_{next(_COUNTER)}"
    start = time.perf_counter()
    imported = None
    try:
        from . import _C
        imported = import_graph(gm, name)
        artifact = _C.compile(imported.mlir, capture_passes=options.dump_dir is not None)
        plan = json.loads(artifact.plan_json)
        library = load_kernel_library(artifact.cpu_source) if plan["num_kernels"] else None
        # AOTAutograd calls compilers under its fake mode: the arena must be real.
        with unset_fake_temporarily():
            compiled = CompiledGraph(plan, library, imported.lifted_constants, name)
        if options.dump_dir:
            dumps.write_graph_dump(Path(options.dump_dir) / name, gm, imported, artifact)
    except Exception as e:  # noqa: BLE001 - any compiler failure falls back to eager
        if options.strict:
            raise GraphoptCompileError(f"graphopt failed to compile graph {name}: {e}") from e
        repro = dumps.write_repro(name, gm, imported, e, options)
        warnings.warn(f"graphopt: graph {name} runs eagerly: {type(e).__name__}: "
                      f"{str(e).strip().splitlines()[0] if str(e).strip() else ''} (repro in {repro})",
                      stacklevel=2)
        _STATS.append(GraphStats(name, sum(1 for n in gm.graph.nodes if n.op == "call_function"),
                                 0, 0, [], 0, 0, 0, time.perf_counter() - start, fallback=str(e)))
        return make_boxed_func(gm.forward)

    seconds = time.perf_counter() - start
    stats = GraphStats(
        name=name, aten_ops=imported.num_aten_ops, kernels=plan["num_kernels"],
        steps=len(plan["steps"]), extern_ops=imported.extern_ops,
        arena_bytes=plan["arena_size"], planned_bytes=plan["naive_size"],
        intermediate_bytes=imported.intermediate_bytes, compile_seconds=seconds,
        kernel_ops=[s["ops"] for s in plan["steps"] if s["kind"] == "kernel"])
    _STATS.append(stats)
    log.info("graphopt: %s: %d ATen ops -> %d kernels, %d extern, arena %d B, %.0f ms",
             name, stats.aten_ops, stats.kernels, len(stats.extern_ops), stats.arena_bytes,
             seconds * 1e3)

    mapping = imported.outputs  # FX outputs -> results; None stays None

    def run(*args):
        with torch.no_grad():
            results = compiled(*args)
        return [None if m is None else results[m] for m in mapping]
    return make_boxed_func(run)


def graphopt_backend(gm: torch.fx.GraphModule, example_inputs, options: dict | None = None, **kwargs):
    """Entry point of torch.compile(model, backend="graphopt")."""
    opts = config.Options.from_user(options)
    fw = functools.partial(compile_fx_graph, kind="forward", options=opts)
    bw = functools.partial(compile_fx_graph, kind="backward", options=opts)
    inference = functools.partial(compile_fx_graph, kind="inference", options=opts)
    return aot_autograd(fw_compiler=fw, bw_compiler=bw, inference_compiler=inference,
                        decompositions=DECOMPOSITIONS,
                        keep_inference_input_mutations=True)(gm, example_inputs)
