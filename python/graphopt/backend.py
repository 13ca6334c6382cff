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
from torch._decomp import _core_aten_decompositions_post_autograd, get_decompositions
from torch._dynamo.backends.common import aot_autograd
from torch._functorch.aot_autograd import make_boxed_func
from torch._prims_common import make_contiguous_strides_for
from torch._subclasses.fake_tensor import unset_fake_temporarily

from . import compiler_process, config
from .cost import TargetError
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


def _batch_norm_no_training(input, weight, bias, running_mean, running_var, momentum, eps):
    """Eval-mode BatchNorm as elementwise ops that fuse with their neighbours
    (the ReLU, the residual add). torch's own decomposition of this op goes
    through a non-functional one AOTAutograd rejects."""
    shape = [1, -1] + [1] * (input.dim() - 2)
    x = input.float() if input.dtype in (torch.bfloat16, torch.float16) else input
    out = (x - running_mean.view(shape)) * torch.rsqrt(running_var.view(shape) + eps)
    if weight is not None:
        out = out * weight.view(shape)
    if bias is not None:
        out = out + bias.view(shape)
    return out.to(input.dtype), input.new_zeros((0,)), input.new_zeros((0,))


# Core ATen without its entries for CompositeImplicitAutograd ops, which
# core_aten_decompositions() lists for torch.export: AOTAutograd's tracer
# decomposes those ops itself, and listing all of them (every namespace's)
# costs 0.15 s per process.
CORE_DECOMPOSITIONS = _core_aten_decompositions_post_autograd()
DECOMPOSITIONS = {**CORE_DECOMPOSITIONS, **get_decompositions(EXTRA_DECOMPOSITIONS),
                  aten._native_batch_norm_legit_no_training.default: _batch_norm_no_training}


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
    cost: list = field(default_factory=list)  # per target, see docs/cost-model.md
    # With the `profile` option: (CompiledGraph, copies of its first inputs)
    # for graphopt.measure.
    runtime: tuple | None = field(default=None, repr=False, compare=False)

    def predicted_speedup(self, target: str | None = None) -> float | None:
        for c in self.cost:
            if target is None or c["target"]["name"] == target:
                return c["predicted_speedup"]
        return None


_STATS: list[GraphStats] = []
_COUNTER = itertools.count()


def compiled_graphs() -> list[GraphStats]:
    """Stats of every graph compiled in this process, oldest first."""
    return list(_STATS)


def reset_stats() -> None:
    _STATS.clear()


class GraphoptCompileError(RuntimeError):
    """Raised in strict mode when graphopt cannot compile a graph."""


class GraphoptVerifyError(AssertionError):
    """GRAPHOPT_VERIFY=1: a compiled graph's output differs from eager."""


@functools.lru_cache(maxsize=None)
def _target_json(name: str) -> str:
    from .cost import target_json
    return target_json(name)


# Ops whose eager re-run draws new random numbers: their graphs are not verified.
_RANDOM_OPS = {"rand", "randn", "rand_like", "randn_like", "randint", "randint_like", "randperm",
               "bernoulli", "native_dropout", "normal", "uniform", "exponential", "multinomial"}


def _tolerance(dtype: torch.dtype) -> tuple[float, float]:
    if dtype in (torch.bfloat16, torch.float16):
        return 2e-2, 2e-2
    if dtype == torch.float32:
        return 1e-4, 1e-5
    return 1e-10, 1e-12


def _verifier(gm: torch.fx.GraphModule, name: str, mode: str):
    """Compares a compiled graph's outputs (and input mutations) with an eager
    run of the same graph on cloned inputs."""
    if any(getattr(n.target, "_overloadpacket", None) is not None and
           n.target._overloadpacket.__name__ in _RANDOM_OPS for n in gm.graph.nodes):
        log.info("graphopt: %s draws random numbers; GRAPHOPT_VERIFY skips it", name)
        return None

    def check(args, clones, results):
        with torch.no_grad():
            expected = gm(*clones)
        pairs = [(f"output {i}", r, e) for i, (r, e) in enumerate(zip(results, expected))]
        pairs += [(f"input {i} (mutated in place)", a, c) for i, (a, c) in enumerate(zip(args, clones))
                  if isinstance(a, torch.Tensor)]
        for what, got, want in pairs:
            if not isinstance(got, torch.Tensor) or not isinstance(want, torch.Tensor):
                continue
            if got.shape != want.shape or got.dtype != want.dtype:
                problem = f"{tuple(got.shape)} {got.dtype} vs eager {tuple(want.shape)} {want.dtype}"
            elif got.dtype.is_floating_point or got.dtype.is_complex:
                rtol, atol = _tolerance(got.dtype)
                if torch.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
                    continue
                err = (got.double() - want.double()).abs().nan_to_num(float("inf")).max().item()
                problem = f"max abs error {err:.3g} (rtol {rtol}, atol {atol})"
            elif torch.equal(got, want):
                continue
            else:
                problem = f"{int((got != want).sum())} of {got.numel()} elements differ"
            message = (f"graphopt verify: graph {name}, {what} {tuple(got.shape)} {got.dtype} "
                       f"differs from eager: {problem}")
            if mode == "warn":
                warnings.warn(message, stacklevel=3)
            else:
                raise GraphoptVerifyError(message)
    return check


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
        return fn(list(args))


def _kernel_kind(gm: torch.fx.GraphModule, options: config.Options) -> tuple[str, str]:
    """Which kernels run the graph, and the device of its arena."""
    devices = {v.device for n in gm.graph.nodes if n.op == "placeholder"
               for v in [n.meta.get("val")] if isinstance(v, torch.Tensor)}
    cuda = next((d for d in devices if d.type == "cuda"), None)
    if options.kernels == "auto":
        return ("cuda", str(cuda)) if cuda is not None else ("cpp", "cpu")
    if options.kernels == "cuda" and cuda is None:
        raise RuntimeError("graphopt option kernels='cuda' needs the graph's tensors on a CUDA device")
    if options.kernels != "cuda" and cuda is not None:
        raise RuntimeError(f"graphopt option kernels={options.kernels!r} runs on the CPU, but the graph's "
                           f"tensors are on {cuda}")
    return options.kernels, str(cuda) if options.kernels == "cuda" else "cpu"


def _cuda_stats(cuda_source: str) -> dict | None:
    """ptxas register/spill/stack use per kernel for sm_80 and sm_90, for
    cost.json; None when nvcc is not installed."""
    from .runtime import ptxas
    if not ptxas.available():
        return None
    try:
        return ptxas.ptxas_stats(cuda_source)
    except RuntimeError as e:
        log.warning("graphopt: %s", e)
        return None


def _saved_outputs(gm: torch.fx.GraphModule, kind: str) -> frozenset:
    """A training forward graph's outputs that only its backward graph reads
    (the activations AOTAutograd saves for it), from the metadata AOTAutograd
    publishes while it compiles the forward graph."""
    if kind != "forward":
        return frozenset()
    context = torch._guards.TracingContext.try_get()
    try:
        saved = context.fw_metadata.tensors_saved_for_backwards_slice
    except (AttributeError, AssertionError):
        return frozenset()
    outputs = gm.graph.output_node().args[0]
    return frozenset(range(len(outputs) if isinstance(outputs, (list, tuple)) else 1)[saved])


def _memory_order(t: torch.Tensor) -> tuple | None:
    """The dims of a dense, non-contiguous tensor in memory order, outermost
    first (t.permute(order) is contiguous), or None."""
    if t.dim() < 2 or t.is_contiguous():
        return None
    order = tuple(sorted(range(t.dim()), key=lambda d: -t.stride(d)))  # stable: ties keep order
    return order if t.permute(order).is_contiguous() else None


def _permuted_inputs(example_inputs) -> dict:
    """Inputs laid out as a contiguous tensor with its dims permuted: a
    backward graph's saved activations that its forward graph returned as
    views (NHWC activations as NCHW views, attention's k^T as the transposed
    view of a copy of k; AOTAutograd gives the backward compiler example
    inputs with the strides the forward reported), or a user's transposed
    input. {placeholder index: memory order}."""
    permuted = {}
    for i, t in enumerate(example_inputs):
        order = _memory_order(t) if isinstance(t, torch.Tensor) else None
        if order is not None:
            permuted[i] = order
    return permuted


def _report_output_strides(plan: dict, mapping: list) -> None:
    """Tells AOTAutograd the strides of the outputs that leave as permuted
    views of memory the graph wrote (graphopt-layout's saved activations:
    NHWC as NCHW views, k^T as a transposed view): it gives them to the
    backward compiler's example inputs. Other outputs keep their traced
    strides (None)."""
    context = torch._guards.TracingContext.try_get()
    if context is None or context.output_strides is None:
        return
    producers = {o: step for step in plan["steps"] for o in step["outputs"]}

    def dense(value) -> bool:  # contiguous memory the graph wrote
        step = producers.get(value)
        return step is not None and (
            step["kind"] == "kernel"
            or (step["kind"] == "extern" and step["callee"].startswith("graphopt::convolution"))
            or (step["kind"] == "reshape" and dense(step["inputs"][0])))

    strides, known = [], False
    for m in mapping:
        step = producers.get(plan["outputs"][m]) if not isinstance(m, tuple) else None
        if step is not None and step["kind"] == "permute" and dense(step["inputs"][0]):
            contiguous = make_contiguous_strides_for(plan["values"][step["inputs"][0]]["shape"])
            strides.append(tuple(contiguous[p] for p in step["perm"]))
            known = True
        else:
            strides.append(None)
    if known:
        context.output_strides.extend(strides)


def compile_fx_graph(gm: torch.fx.GraphModule, example_inputs, *, kind: str, options: config.Options):
    """AOTAutograd's fw/bw compiler: returns a boxed callable."""
    if _is_symbolic(gm):
        return make_boxed_func(ShapeSpecializedGraph(gm, kind, options))
    return _compile_static(gm, kind, options, permuted_inputs=_permuted_inputs(example_inputs),
                           saved_outputs=_saved_outputs(gm, kind))


def _compile_static(gm: torch.fx.GraphModule, kind: str, options: config.Options, *,
                    permuted_inputs=None, saved_outputs=frozenset()):
    """Compiles a graph with static shapes; returns a boxed callable (one
    argument, the list of inputs, which it empties). permuted_inputs and
    saved_outputs: see import_graph."""
    name = f"{kind}_{next(_COUNTER)}"
    start = time.perf_counter()
    imported = None
    try:
        targets = [_target_json(t) for t in options.targets]
        kernels, device = _kernel_kind(gm, options)
        imported = import_graph(gm, name, permuted_inputs=permuted_inputs, saved_outputs=saved_outputs,
                                kernels="cpp" if kernels == "cpp" else "cuda")
        artifact = compiler_process.compile(imported.mlir, capture_passes=options.dump_dir is not None,
                                            targets=targets)
        plan = json.loads(artifact.plan_json)
        source = artifact.cpu_source if kernels == "cpp" else artifact.cuda_source
        library = load_kernel_library(source, kernels) if plan["num_kernels"] else None
        # AOTAutograd calls compilers under its fake mode: the arena must be real.
        with unset_fake_temporarily():
            compiled = CompiledGraph(plan, library, imported.lifted_constants, name, kernels, device,
                                     saves_activations=bool(saved_outputs))
        if saved_outputs:
            _report_output_strides(plan, imported.outputs)
        if options.dump_dir:
            dumps.write_graph_dump(Path(options.dump_dir) / name, gm, imported, artifact,
                                   _cuda_stats(artifact.cuda_source) if plan["num_kernels"] else None)
    except Exception as e:  # noqa: BLE001 - any compiler failure falls back to eager
        if isinstance(e, TargetError):  # the user's error, not the compiler's
            raise
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
        kernel_ops=[s["ops"] for s in plan["steps"] if s["kind"] == "kernel"],
        cost=json.loads(artifact.cost_json))
    _STATS.append(stats)
    speedup = "".join(f", predicted {c['predicted_speedup']:.2f}x on {c['target']['name']}"
                      for c in stats.cost[:1])
    log.info("graphopt: %s: %d ATen ops -> %d kernels, %d extern ops, arena %d B, compiled in %.0f ms%s",
             name, stats.aten_ops, stats.kernels, len(stats.extern_ops), stats.arena_bytes,
             seconds * 1e3, speedup)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("graphopt: %s: pipeline %s", name, compiler_process.pipeline())
        for i, ops in enumerate(stats.kernel_ops):
            log.debug("graphopt: %s: kernel %d fuses %s", name, i, ", ".join(ops))
        for extern in stats.extern_ops:
            log.debug("graphopt: %s: extern op %s (no native lowering)", name, extern)
        log.debug("graphopt: %s: predicted cost\n%s", name, artifact.cost_table)
    verify = _verifier(gm, name, options.verify) if options.verify else None

    mapping = imported.outputs  # FX outputs -> results, or ("const", value)
    positions = imported.arg_positions  # FX inputs that are MLIR arguments
    permuted_args = imported.permuted_args  # arguments taken in memory order

    def run(args: list):
        # AOTAutograd's boxed convention: run takes over the argument list and
        # empties it, so that a backward graph frees each saved activation
        # after its last use instead of holding all of them to the end.
        kept = list(args) if verify else None  # the verifier reads them after the call
        clones = [a.clone() if isinstance(a, torch.Tensor) else a for a in args] if verify else None
        inputs = [args[i] for i in positions]
        args.clear()
        for k, order in permuted_args:  # a view: contiguous when laid out as compiled
            inputs[k] = inputs[k].permute(order)
        if options.profile and stats.runtime is None:
            stats.runtime = (compiled, [a.detach().clone() for a in inputs])
        with torch.no_grad():
            results = compiled.run_owned(inputs)
        outputs = [m[1] if isinstance(m, tuple) else results[m] for m in mapping]
        if verify:
            verify(kept, clones, outputs)
        return outputs
    run._boxed_call = True
    return run


def graphopt_backend(gm: torch.fx.GraphModule, example_inputs, options: dict | None = None, **kwargs):
    """Entry point of torch.compile(model, backend="graphopt")."""
    opts = config.Options.from_user(options)
    compiler_process.start()  # it loads while AOTAutograd traces
    fw = functools.partial(compile_fx_graph, kind="forward", options=opts)
    bw = functools.partial(compile_fx_graph, kind="backward", options=opts)
    inference = functools.partial(compile_fx_graph, kind="inference", options=opts)
    return aot_autograd(fw_compiler=fw, bw_compiler=bw, inference_compiler=inference,
                        decompositions=DECOMPOSITIONS,
                        keep_inference_input_mutations=True)(gm, example_inputs)
