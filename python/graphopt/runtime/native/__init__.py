"""graphopt's hand-written CPU kernels for ops it otherwise leaves to torch.

They are C++ in csrc/native, built with the package into
libgraphopt_native.so (next to graphopt._C) and loaded here with ctypes.

conv_weight_grad.cpp: the weight gradient of a 2-D convolution on NHWC data
(AVX2 + FMA). Used on hosts whose best vector ISA torch reports as AVX2,
where it runs at about twice mkldnn's NHWC weight gradient (see
docs/benchmarks.md); elsewhere mkldnn's own kernels stay.
GRAPHOPT_CONV_WEIGHT_GRAD=native|torch overrides the choice (native on a CPU
without AVX2 still leaves the gradient to torch).
"""
from __future__ import annotations

import ctypes
import functools
import importlib.util
import warnings
from pathlib import Path

import torch

from ... import config

LIBRARY = "libgraphopt_native.so"


def library_path() -> Path | None:
    """Where the package installed the native kernels (beside graphopt._C,
    found without loading it)."""
    spec = importlib.util.find_spec("graphopt._C")
    return Path(spec.origin).with_name(LIBRARY) if spec and spec.origin else None


def conv_weight_grad_enabled() -> bool:
    choice = config.conv_weight_grad()
    if choice == "auto":
        return _cpu_capability() == "AVX2"
    return choice == "native"


@functools.lru_cache(maxsize=None)
def _cpu_capability() -> str:
    return torch.backends.cpu.get_cpu_capability()


@functools.lru_cache(maxsize=None)
def _conv_weight_grad_fn():
    """The C entry point, or None (with a warning where the kernel was asked
    for): a CPU without AVX2 and FMA, a library built without the kernel
    (not x86-64), or a missing library."""
    if _cpu_capability() not in ("AVX2", "AVX512"):
        if config.conv_weight_grad() == "native":
            warnings.warn(f"graphopt: GRAPHOPT_CONV_WEIGHT_GRAD=native needs AVX2 and FMA; this CPU's "
                          f"best vector ISA is {_cpu_capability()}: the convolution weight gradient "
                          f"uses torch's", stacklevel=2)
        return None
    path = library_path()
    try:
        if path is None:
            raise OSError("graphopt._C is not installed")
        lib = ctypes.CDLL(str(path))
    except OSError as e:  # an incomplete install: torch's kernel still works
        warnings.warn(f"graphopt: cannot load its native kernels ({path}: {e}); the convolution "
                      f"weight gradient uses torch's", stacklevel=2)
        return None
    if not lib.graphopt_conv_weight_grad_native():
        warnings.warn(f"graphopt: {path} has no convolution weight-gradient kernel for this CPU; "
                      f"the gradient uses torch's", stacklevel=2)
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
