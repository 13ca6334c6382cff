"""Hardware targets and cost predictions.

The cost model itself is C++ (csrc/costmodel/): it prices every step of a
graph, eager and compiled, on a target. This module finds targets: the
built-in GPUs, `host-cpu` (this machine, measured once and cached), and any
target .json file a user writes for an accelerator of their own.
"""
from __future__ import annotations

import functools
import json
import os
import platform
import time
from pathlib import Path

from . import compiler_process, config

HOST_CPU = "host-cpu"
# What host-cpu's measurements are; a cached file with another number is
# measured again. 2: the NHWC convolution backward is graphopt's own op;
# 3: the small figures are timed in interleaved rounds, and the costly
# elementwise ops are priced (vector_op_flops).
CALIBRATION = 3


class TargetError(ValueError):
    """A target name that is not one, or a target file that cannot be read."""


@functools.lru_cache(maxsize=None)
def _builtin() -> dict[str, str]:
    return dict(compiler_process.builtin_targets())


def _host_cpu_path() -> Path:
    return config.cache_dir() / "targets" / f"{HOST_CPU}.json"


def _interleaved_best_seconds(probes: dict, rounds: int) -> dict:
    """Per probe (name -> (callable, inner calls)), the fastest of `rounds`
    timings of `inner` calls, the rounds running every probe once in turn: a
    roofline wants what the machine can do, not what a busy moment let it
    do. Each figure's samples are spread over the whole measurement, not
    bunched in a few milliseconds that a slow spell of a shared machine can
    cover: on the AMD VM, timed one after the other, the exp probe read 14.4
    GFLOP/s in one calibration and 21.9 in another. A batch (inner > 1, a
    probe of cache-resident data) gets an untimed call first, after whatever
    the probe before it swept through the caches."""
    for fn, _ in probes.values():
        fn()  # warm-up
    best = {name: float("inf") for name in probes}
    for _ in range(rounds):
        for name, (fn, inner) in probes.items():
            if inner > 1:
                fn()
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / inner)
    return best


def _best_seconds(fn, repeat: int, inner: int = 1) -> float:
    """The fastest of `repeat` timings of `inner` calls of one probe."""
    return _interleaved_best_seconds({"probe": (fn, inner)}, repeat)["probe"]


# Vector math as graphopt's kernels run it: per costly elementwise op, a
# one-op graphopt function over 1 MiB of f32 (cache-resident), compiled by
# graphopt's own pipeline and emitter with the kernels' flags, so the probe
# is the loop a kernel runs. exp's sets vector_flops (8 FLOPs per exp, the
# cost model's unit); the others' times relative to it are their FLOPs per
# element (vector_op_flops). The names are the cost model's
# (kPricedVectorOps, csrc/costmodel/Target.h); %x is the probe's input.
_PROBE_TYPE = "tensor<256x1024xf32>"
PRICED_OPS = {
    **{name: f"%r = graphopt.{name} %x : {_PROBE_TYPE}"
       for name in ("exp", "sigmoid", "tanh", "erf", "log", "sqrt", "rsqrt")},
    "div": f"%c = graphopt.constant dense<1.5> : tensor<f32>\n"
           f"  %r = graphopt.div %c, %x : (tensor<f32>, {_PROBE_TYPE}) -> {_PROBE_TYPE}",
    # An exponent the emitters do not turn into multiplies or roots.
    "pow": f"%c = graphopt.constant dense<1.7> : tensor<f32>\n"
           f"  %r = graphopt.pow %x, %c : ({_PROBE_TYPE}, tensor<f32>) -> {_PROBE_TYPE}",
}


def _probe_function(name: str, body: str, type_: str = _PROBE_TYPE) -> str:
    return f"func.func @probe_{name}(%x: {type_}) -> {type_} {{\n  {body}\n  return %r : {type_}\n}}"


def _vector_probes() -> dict:
    """name -> fn(in, out) for each of PRICED_OPS, over 256 x 1024 floats;
    and "call": exp over 2 x 1024, one row per thread of two (the least a
    kernel call does: the ctypes call, the OpenMP fork and join)."""
    import ctypes

    from .runtime import load_kernel_library
    functions = {name: _probe_function(name, body) for name, body in PRICED_OPS.items()}
    functions["call"] = _probe_function("call", "%r = graphopt.exp %x : tensor<2x1024xf32>",
                                        "tensor<2x1024xf32>")
    lib = load_kernel_library("\n".join(compiler_process.compile(f).cpu_source
                                         for f in functions.values()))
    probes = {}
    for name in functions:
        fn = getattr(lib, f"graphopt_probe_{name}_k0")
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        probes[name] = fn
    return probes


def _copy_probe():
    """A copy of 64 MiB of f32 into 64 MiB, far beyond the caches, and the
    bytes it reads and writes."""
    import torch
    src = torch.rand(16 << 20)
    dst = torch.empty_like(src)
    return (lambda: dst.copy_(src)), 2 * src.numel() * src.element_size()


def copy_bandwidth(seconds=None) -> float:
    """Copy bandwidth in bytes read + written per second (_copy_probe).
    `seconds(fn)` times a callable (by default the best of 7 runs)."""
    copy, nbytes = _copy_probe()
    seconds = seconds or (lambda fn: _best_seconds(fn, 7))
    return nbytes / seconds(copy)


def calibrate_host_cpu() -> dict:
    """Measures this machine in about a second (the small figures in
    interleaved rounds, _interleaved_best_seconds): copy bandwidth, GEMM FLOP/s
    (f32, bf16), the vector-math FLOP/s of graphopt's own kernels (exp over a
    cache-resident array, priced in the cost model's FLOPs per exp) and the
    FLOPs per element of the other costly ops in that unit, the
    per-op launch overhead of eager PyTorch, the least time of a graphopt
    kernel call, the first-touch rate of freshly allocated large buffers,
    and the throughput of a convolution and of its backward in each
    layout."""
    import torch

    n = 16 << 20  # 64 MiB of f32: far beyond the caches
    dst = torch.empty(n)
    probes = _vector_probes()
    small = torch.rand(256, 1024) * 4 + 0.25  # 1 MiB: stays in L2; log's and sqrt's domain
    out = torch.empty_like(small)
    one = torch.ones(1)
    tiny, tiny_out = torch.zeros(2, 1024), torch.empty(2, 1024)
    copy, copy_bytes = _copy_probe()
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    call = probes.pop("call")
    best = _interleaved_best_seconds({
        # pow is a scalar libm call, ~20x exp: fewer calls per timing.
        **{name: (functools.partial(fn, small.data_ptr(), out.data_ptr()),
                  2 if name == "pow" else 20) for name, fn in probes.items()},
        "launch": (lambda: torch.add(one, one), 200),
        "kernel_call": (lambda: call(tiny.data_ptr(), tiny_out.data_ptr()), 200),
        "copy": (copy, 1),
        "matmul": (lambda: torch.mm(a, b), 1),
        # A 64 MiB tensor is above glibc's largest mmap threshold (32 MiB):
        # each allocation maps fresh pages that the first write faults in.
        "fresh": (lambda: torch.empty(n).fill_(1.0), 1),
        "fill": (lambda: dst.fill_(1.0), 1),
    }, rounds=7)
    matmul = {"f32": 2 * 1024**3 / best["matmul"]}
    # A CPU without bf16 instructions (AVX2) multiplies bf16 at about
    # 1 GFLOP/s: 256^3 shows it in milliseconds, where 1024^3 took 15 s.
    for size in (256, 1024):
        a16, b16 = torch.rand(size, size, dtype=torch.bfloat16), torch.rand(size, size, dtype=torch.bfloat16)
        matmul["bf16"] = 2 * size**3 / _best_seconds(lambda: torch.mm(a16, b16), 5)
        if matmul["bf16"] < 20e9:
            break
    # A 3x3, 64 -> 64 channel convolution in each layout, against the f32
    # matmul: mkldnn's NCHW convolutions here reach about half of what its
    # NHWC ones do. Its backward (input and weight gradients, twice the
    # FLOPs) is measured apart, as graphopt runs it: NCHW through aten, NHWC
    # through graphopt's op, whose weight gradient is graphopt's own kernel
    # on an AVX2 CPU (mkldnn's NHWC one is slower than its NCHW one there).
    from .runtime import ops  # noqa: F401  (registers torch.ops.graphopt)
    x, w = torch.rand(8, 64, 32, 32), torch.rand(64, 64, 3, 3)
    conv_flops = 2 * x.numel() * 64 * 9
    conv = {}
    nhwc_backward = torch.ops.graphopt.convolution_backward_channels_last.default
    for layout, fmt in (("nchw", torch.contiguous_format), ("nhwc", torch.channels_last)):
        xl, wl = x.contiguous(memory_format=fmt), w.contiguous(memory_format=fmt)
        rate = conv_flops / _best_seconds(lambda: torch.conv2d(xl, wl, padding=1), 5)
        conv[layout] = rate / matmul["f32"]
        if layout == "nchw":
            backward = lambda: torch.ops.aten.convolution_backward(  # noqa: E731
                x, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, True, False])
        else:
            xh = x.permute(0, 2, 3, 1).contiguous()
            backward = lambda: nhwc_backward(  # noqa: E731
                xh, xh, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, True, False])
        rate = 2 * conv_flops / _best_seconds(backward, 3)
        conv[f"{layout}_backward"] = rate / matmul["f32"]
    return {
        "name": HOST_CPU,
        "description": f"this machine: {platform.processor() or platform.machine()}, "
                       f"{torch.get_num_threads()} threads (measured {time.strftime('%Y-%m-%d')})",
        "kind": "cpu",
        "matmul_flops": matmul,
        "convolution_efficiency": conv,
        "vector_flops": 8 * small.numel() / best["exp"],
        # (A target's prices must be positive.)
        "vector_op_flops": {name: max(0.01, round(8 * best[name] / best["exp"], 2))
                            for name in PRICED_OPS},
        "memory_bandwidth": copy_bytes / best["copy"],
        "launch_overhead_s": best["launch"],
        "kernel_call_s": best["kernel_call"],
        "fresh_alloc_bandwidth": n * 4 / max(best["fresh"] - best["fill"], 1e-9),
        "fresh_alloc_threshold": 32 << 20,
        "threads": torch.get_num_threads(),
        "calibration": CALIBRATION,
    }


def host_cpu_target(refresh: bool = False) -> dict:
    """host-cpu, measured on first use and cached (refresh=True, or deleting
    the file, measures again)."""
    import torch
    path = _host_cpu_path()
    try:
        cached = json.loads(path.read_text())
        # A file an older graphopt wrote may lack a figure or measure another
        # thing: measure again.
        if (cached.get("threads") == torch.get_num_threads() and not refresh
                and cached.get("calibration") == CALIBRATION):
            return cached
    except (OSError, ValueError):
        pass
    # The first use can be inside a compile, under AOTAutograd's fake mode:
    # the measurement needs real tensors.
    from torch._subclasses.fake_tensor import unset_fake_temporarily
    with unset_fake_temporarily(), torch.no_grad():
        target = calibrate_host_cpu()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(target, indent=2))
        tmp.replace(path)
    except OSError:
        pass  # an unwritable cache only costs a re-measurement
    return target


def target_json(name_or_path: str) -> str:
    """The JSON text of a target: a built-in name, host-cpu, or a file path."""
    if name_or_path == HOST_CPU:
        return json.dumps(host_cpu_target())
    builtin = _builtin()
    if name_or_path in builtin:
        return builtin[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".json":
        try:
            return path.read_text()
        except OSError as e:
            raise TargetError(f"cannot read target file {path}: {e.strerror}") from None
    raise TargetError(f"unknown target {name_or_path!r}; targets are "
                     f"{', '.join([HOST_CPU, *builtin])}, or a path to a target .json file")


def load_target(name_or_path: str) -> dict:
    return json.loads(target_json(name_or_path))


def list_targets() -> list[dict]:
    """Every named target: the built-in GPUs and host-cpu."""
    targets = []
    for name, text in _builtin().items():
        targets.append({"name": name, "description": json.loads(text).get("description", ""),
                        "path": "built-in"})
    cached = _host_cpu_path()
    targets.append({"name": HOST_CPU,
                    "description": "this machine, measured on first use",
                    "path": str(cached) if cached.exists() else "not measured yet"})
    return targets


def cost_table(mlir_text: str, target: str) -> str:
    """The per-kernel cost table of an imported graph (MLIR text) on a
    target, with the eager baseline and the predicted speedup."""
    return compiler_process.compile(mlir_text, targets=[target_json(target)]).cost_table


def data_parallel(step_s: float, grad_bytes: float, devices: int, link_bandwidth: float) -> dict:
    """Predicted step time on `devices` data-parallel devices: the per-device
    step, then a ring all-reduce of the gradients (2 (N-1)/N of their bytes
    over each link), not overlapped with the backward pass."""
    if devices < 1 or link_bandwidth <= 0:
        raise ValueError("devices must be >= 1 and link_bandwidth > 0")
    allreduce_s = 2 * (devices - 1) / devices * grad_bytes / link_bandwidth
    total = step_s + allreduce_s
    return {"devices": devices, "step_s": total, "allreduce_s": allreduce_s,
            "scaling_efficiency": step_s / total if total else 1.0}
