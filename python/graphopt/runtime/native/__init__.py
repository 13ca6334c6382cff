"""graphopt's hand-written CPU kernels for ops it otherwise leaves to torch.

Each is a C++ file here, compiled for the host (-march=native) on first use
through the same cached build as the generated kernels. A plan that will
need one (runtime/ops.py's `prepare`: a training forward with channels-last
convolutions, or a plan calling the op) starts the build in the background
when it is loaded, so the compile overlaps the rest of the first call.

conv_weight_grad.cpp: the weight gradient of a 2-D convolution on NHWC data
(AVX2 + FMA). Used on hosts whose best vector ISA torch reports as AVX2,
where it runs at about twice mkldnn's NHWC weight gradient (see
docs/benchmarks.md); elsewhere mkldnn's own kernels stay.
GRAPHOPT_CONV_WEIGHT_GRAD=native|torch overrides the choice.
"""
from __future__ import annotations

import ctypes
import functools
import os
import threading
import warnings
from concurrent.futures import Future
from pathlib import Path

import torch

from ... import config

_HERE = Path(__file__).parent
_lock = threading.Lock()
_builds: dict[str, Future] = {}


def _forget_builds() -> None:
    """In a forked child: a build another thread was running does not exist
    there, and its lock may be held; start over."""
    global _lock
    _lock = threading.Lock()
    _builds.clear()


os.register_at_fork(after_in_child=_forget_builds)


def _load(name: str) -> ctypes.CDLL:
    from ..cpp_compiler import load_kernel_library
    return load_kernel_library((_HERE / f"{name}.cpp").read_text())


def _build(name: str) -> Future:
    """The (possibly running) build of `name`.cpp, started at most once."""
    with _lock:
        future = _builds.get(name)
        if future is None:
            future = _builds[name] = Future()

            def work():
                try:
                    future.set_result(_load(name))
                except BaseException as e:  # reported to whoever waits on it
                    future.set_exception(e)
            threading.Thread(target=work, name=f"graphopt-build-{name}", daemon=True).start()
        return future


def prepare_conv_weight_grad() -> None:
    """Starts building the weight-gradient kernel if this host will use it."""
    if conv_weight_grad_enabled():
        _build("conv_weight_grad")


def conv_weight_grad_enabled() -> bool:
    choice = config.conv_weight_grad()
    if choice == "auto":
        return _host_is_avx2()
    return choice == "native"


@functools.lru_cache(maxsize=None)
def _host_is_avx2() -> bool:
    return torch.backends.cpu.get_cpu_capability() == "AVX2"


@functools.lru_cache(maxsize=None)
def _conv_weight_grad_fn():
    """The C entry point, or None where the library has no native kernel
    (a host without AVX2 and FMA)."""
    try:
        lib = _build("conv_weight_grad").result()
    except Exception as e:  # no compiler, a full disk: torch's kernel still works
        warnings.warn(f"graphopt: could not build its convolution weight-gradient kernel; "
                      f"using torch's ({e})", stacklevel=2)
        return None
    if not lib.graphopt_conv_weight_grad_native():
        return None
    fn = lib.graphopt_conv_weight_grad_nhwc
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int64] * 15 + [ctypes.c_int, ctypes.c_int64]
    return fn


def _applies(grad_output, input, weight_shape, stride, padding, dilation) -> bool:
    """Whether the kernel computes this gradient: fp32 CPU tensors, groups 1
    (Ci matches), Co a multiple of 8, and grad_output's size the one the
    convolution gives (the kernel trusts it)."""
    if not (input.device.type == grad_output.device.type == "cpu"
            and input.dtype == grad_output.dtype == torch.float32
            and input.dim() == grad_output.dim() == len(weight_shape) == 4
            and len(stride) == len(padding) == len(dilation) == 2
            and min(stride) >= 1 and min(dilation) >= 1 and min(padding) >= 0
            and weight_shape[0] % 8 == 0 and weight_shape[0] == grad_output.shape[3]
            and weight_shape[1] == input.shape[3] and input.shape[0] == grad_output.shape[0]):
        return False
    for d in range(2):
        size = input.shape[1 + d] + 2 * padding[d] - dilation[d] * (weight_shape[2 + d] - 1) - 1
        if grad_output.shape[1 + d] != (size // stride[d] + 1 if size >= 0 else 0):
            return False
    return True


# Each thread group sums its rows into a private weight gradient; past this
# much memory for them (many threads, large layers), threads split the
# output channels instead.
MAX_PARTIAL_BYTES = 64 << 20


def conv_weight_grad_nhwc(grad_output: torch.Tensor, input: torch.Tensor, weight_shape,
                          stride, padding, dilation, out: torch.Tensor | None = None,
                          max_partial_bytes: int = MAX_PARTIAL_BYTES) -> torch.Tensor | None:
    """The OIHW weight gradient of conv2d(input, weight, stride, padding,
    dilation, groups=1) from NHWC `grad_output` [N, Ho, Wo, Co] and `input`
    [N, H, W, Ci] (into `out`, a contiguous fp32 CPU tensor, if given), or
    None where the native kernel does not apply (then the caller uses torch):
    see `_applies`, or a host that keeps mkldnn's kernel."""
    if not (_applies(grad_output, input, weight_shape, stride, padding, dilation)
            and conv_weight_grad_enabled()):
        return None
    fn = _conv_weight_grad_fn()
    if fn is None:
        return None
    x, dy = input.contiguous(), grad_output.contiguous()
    n, h, w, ci = x.shape
    _, ho, wo, co = dy.shape
    if out is None:
        out = torch.empty(weight_shape, dtype=torch.float32, device="cpu")
    elif not (out.shape == tuple(weight_shape) and out.is_contiguous() and out.device.type == "cpu"
              and out.dtype == torch.float32):
        raise ValueError(f"out must be a contiguous fp32 CPU tensor of shape {list(weight_shape)}, "
                         f"got {out.dtype} {list(out.shape)} on {out.device}")
    status = fn(x.data_ptr(), dy.data_ptr(), out.data_ptr(), n, h, w, ci, ho, wo, co,
                weight_shape[2], weight_shape[3], stride[0], stride[1], padding[0], padding[1],
                dilation[0], dilation[1], torch.get_num_threads(), max_partial_bytes)
    if status != 0:
        shapes = f"input {list(x.shape)}, grad_output {list(dy.shape)}, weight {list(weight_shape)}"
        if status == -2:
            raise MemoryError(f"graphopt's conv weight-gradient kernel ran out of memory ({shapes})")
        raise RuntimeError(f"graphopt's conv weight-gradient kernel rejected {shapes}")
    return out
