"""The ops graphopt's passes introduce that torch runs (graphopt.extern ops
with a ``graphopt::`` callee), registered as torch ops so the executor calls
them like any ATen op."""
from __future__ import annotations

import torch

_lib = torch.library.Library("graphopt", "DEF")
_lib.define(
    "convolution_channels_last(Tensor input, Tensor weight, Tensor? bias, SymInt[] stride, "
    "SymInt[] padding, SymInt[] dilation, bool transposed, SymInt[] output_padding, "
    "SymInt groups) -> Tensor")


def _convolution_channels_last(input, weight, bias, stride, padding, dilation, transposed,
                               output_padding, groups):
    """aten::convolution on an NHWC `input` ([N, H, W, C], contiguous), giving
    an NHWC result (graphopt-layout). The NCHW view of NHWC memory is torch's
    channels_last format, which mkldnn and cuDNN compute directly."""
    x = input.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    w = weight.contiguous(memory_format=torch.channels_last)
    y = torch.ops.aten.convolution.default(x, w, bias, stride, padding, dilation, transposed,
                                           output_padding, groups)
    # Contiguous NHWC when torch kept channels_last (it does for these
    # operands); otherwise a strided view the next kernel makes contiguous.
    return y.permute(0, 2, 3, 1)


_lib.impl("convolution_channels_last", _convolution_channels_last, "CompositeExplicitAutograd")
