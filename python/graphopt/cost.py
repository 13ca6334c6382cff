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
# measured again. 2: the NHWC convolution backward is graphopt's own op.
CALIBRATION = 2


class TargetError(ValueError):
    """A target name that is not one, or a target file that cannot be read."""


@functools.lru_cache(maxsize=None)
def _builtin() -> dict[str, str]:
    return dict(compiler_process.builtin_targets())


def _host_cpu_path() -> Path:
    return config.cache_dir() / "targets" / f"{HOST_CPU}.json"


def _best_seconds(fn, repeat: int, inner: int = 1) -> float:
    """The fastest of `repeat` timings of `inner` calls: a roofline wants what
    the machine can do, not what a busy moment let it do."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


# Vector math as graphopt's kernels run it: an exp loop emitted the way the
# CPU emitter writes kernels, compiled with the same flags.
_VECTOR_PROBE = r"""
#include <cstdint>
#include "graphopt_kernel_math.h"
extern "C" void graphopt_probe_exp(const float *__restrict in, float *__restrict out, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < n / 1024; ++o)
    for (int64_t i = 0; i < 1024; ++i)
      out[o * 1024 + i] = graphopt_math::exp(in[o * 1024 + i]);
}
"""


def _vector_probe():
    import ctypes

    from .runtime import load_kernel_library
    probe = load_kernel_library(_VECTOR_PROBE).graphopt_probe_exp
    probe.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    return probe


def _kernel_call_seconds() -> float:
    """The least time a graphopt kernel can take here: a ctypes call into a
    kernel library whose OpenMP loop has two chunks of work, one per thread
    of two (the fork and join), on 8 KiB. A kernel whose roofline time is
    below it is bound by the call, not by memory bandwidth."""
    import torch
    probe = _vector_probe()
    x, y = torch.zeros(2048), torch.empty(2048)
    return _best_seconds(lambda: probe(x.data_ptr(), y.data_ptr(), x.numel()), 7, inner=200)


def copy_bandwidth(seconds=None) -> float:
    """Copy bandwidth in bytes read + written per second: 64 MiB of f32 copied
    into 64 MiB, far beyond the caches. `seconds(fn)` times a callable (by
    default the best of 7 runs)."""
    import torch
    src = torch.rand(16 << 20)
    dst = torch.empty_like(src)
    seconds = seconds or (lambda fn: _best_seconds(fn, 7))
    return 2 * src.numel() * src.element_size() / seconds(lambda: dst.copy_(src))


def calibrate_host_cpu() -> dict:
    """Measures this machine in about a second: copy bandwidth, GEMM FLOP/s
    (f32, bf16), the vector-math FLOP/s of graphopt's own kernels (exp over a
    cache-resident array, priced in the cost model's FLOPs per exp), the
    per-op launch overhead of eager PyTorch, the least time of a graphopt
    kernel call, the first-touch rate of freshly allocated large buffers,
    and the throughput of a convolution and of its backward in each
    layout."""
    import torch

    n = 16 << 20  # 64 MiB of f32: far beyond the caches
    dst = torch.empty(n)
    matmul = {}
    for name, dtype in (("f32", torch.float32), ("bf16", torch.bfloat16)):
        # A CPU without bf16 instructions (AVX2) multiplies bf16 at about
        # 1 GFLOP/s: 256^3 shows it in milliseconds, where 1024^3 took 15 s.
        for size in (256, 1024):
            a, b = torch.rand(size, size, dtype=dtype), torch.rand(size, size, dtype=dtype)
            matmul[name] = 2 * size**3 / _best_seconds(lambda: torch.mm(a, b), 5)
            if matmul[name] < 20e9:
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
    probe = _vector_probe()
    small = torch.rand(256 << 10) * 10 - 5  # 1 MiB: stays in L2
    out = torch.empty_like(small)
    exp_s = _best_seconds(lambda: probe(small.data_ptr(), out.data_ptr(), small.numel()), 7, inner=20)
    one = torch.ones(1)
    launch_s = _best_seconds(lambda: torch.add(one, one), 7, inner=200)
    # A 64 MiB tensor is above glibc's largest mmap threshold (32 MiB): each
    # allocation maps fresh pages that the first write faults in.
    fresh_s = _best_seconds(lambda: torch.empty(n).fill_(1.0), 5)
    fill_s = _best_seconds(lambda: dst.fill_(1.0), 5)
    return {
        "name": HOST_CPU,
        "description": f"this machine: {platform.processor() or platform.machine()}, "
                       f"{torch.get_num_threads()} threads (measured {time.strftime('%Y-%m-%d')})",
        "kind": "cpu",
        "matmul_flops": matmul,
        "convolution_efficiency": conv,
        "vector_flops": 8 * small.numel() / exp_s,
        "memory_bandwidth": copy_bandwidth(),
        "launch_overhead_s": launch_s,
        "kernel_call_s": _kernel_call_seconds(),
        "fresh_alloc_bandwidth": n * 4 / max(fresh_s - fill_s, 1e-9),
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
