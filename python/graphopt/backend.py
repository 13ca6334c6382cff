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
EXTRA_DECOMPOSITIONS = [
    aten.gelu, aten.gelu_backward, aten.native_layer_norm, aten.native_layer_norm_backward,
    aten._softmax, aten._log_softmax, aten.native_batch_norm,
    aten._native_batch_norm_legit_functional, aten.native_group_norm,
    aten.hardtanh, aten.leaky_relu,
]
DECOMPOSITIONS = {**core_aten_decompositions(), **get_decompositions(EXTRA_DECOMPOSITIONS)}


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


# Distinct input shapes compiled per symbolic graph before new shapes run eagerly.
MAX_SHAPE_VARIANTS = 8


def _is_symbolic(gm: torch.fx.GraphModule) -> bool:
    for node in gm.graph.nodes:
        if node.op != "placeholder":
            continue
        val = node.meta.get("val")
        if isinstance(val, (torch.SymInt, torch.SymFloat, torch.SymBool)):
            return True
        if isinstance(val, torch.Tensor) and not all(isinstance(d, int) for d in val.shape):
            return True
    return False


class ShapeSpecializedGraph:
    """Runs a graph with symbolic shapes (automatic dynamic or dynamic=True):
    on each new input signature it re-traces the graph with those concrete
    shapes and compiles that static graph, cached; graphopt's kernels are
    static-shape code. After MAX_SHAPE_VARIANTS signatures, new ones run
    eagerly (one warning)."""

    def __init__(self, gm: torch.fx.GraphModule, kind: str, options: config.Options):
        self.gm, self.kind, self.options = gm, kind, options
        self.variants: dict = {}
        self.warned = False

    def __call__(self, *args):
        key = tuple((tuple(a.shape), a.dtype) if isinstance(a, torch.Tensor) else (type(a).__name__, a)
                    for a in args)
        fn = self.variants.get(key)
        if fn is None:
            if len(self.variants) >= MAX_SHAPE_VARIANTS:
                if not self.warned:
                    warnings.warn(f"graphopt: a {self.kind} graph saw more than {MAX_SHAPE_VARIANTS} input "
                                  "shapes; new shapes run eagerly", stacklevel=2)
                    self.warned = True
                return self.gm(*args)
            from torch.fx.experimental.proxy_tensor import make_fx
            static = make_fx(self.gm, tracing_mode="fake")(*args)
            fn = _compile_static(static, self.kind, self.options)
            self.variants[key] = fn
        return fn(*args)


def compile_fx_graph(gm: torch.fx.GraphModule, example_inputs, *, kind: str, options: config.Options):
    """AOTAutograd's fw/bw compiler: returns a boxed callable."""
    if _is_symbolic(gm):
        return make_boxed_func(ShapeSpecializedGraph(gm, kind, options))
    return make_boxed_func(_compile_static(gm, kind, options))


def _compile_static(gm: torch.fx.GraphModule, kind: str, options: config.Options):
    """Compiles a graph with static shapes; returns a plain callable."""
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
        return gm.forward

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

    mapping = imported.outputs  # FX outputs -> results, or ("const", value)
    positions = imported.arg_positions  # FX inputs that are MLIR arguments

    def run(*args):
        with torch.no_grad():
            results = compiled(*[args[i] for i in positions])
        return [m[1] if isinstance(m, tuple) else results[m] for m in mapping]
    return run


def graphopt_backend(gm: torch.fx.GraphModule, example_inputs, options: dict | None = None, **kwargs):
    """Entry point of torch.compile(model, backend="graphopt")."""
    opts = config.Options.from_user(options)
    fw = functools.partial(compile_fx_graph, kind="forward", options=opts)
    bw = functools.partial(compile_fx_graph, kind="backward", options=opts)
    inference = functools.partial(compile_fx_graph, kind="inference", options=opts)
    return aot_autograd(fw_compiler=fw, bw_compiler=bw, inference_compiler=inference,
                        decompositions=DECOMPOSITIONS,
                        keep_inference_input_mutations=True)(gm, example_inputs)
