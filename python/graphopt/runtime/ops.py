"""The ops graphopt's passes introduce that torch runs (graphopt.extern ops
with a ``graphopt::`` callee), registered as torch ops so the executor calls
them like any ATen op."""
from __future__ import annotations

import torch

from . import native

_lib = torch.library.Library("graphopt", "DEF")
_lib.define(
    "convolution_channels_last(Tensor input, Tensor weight, Tensor? bias, SymInt[] stride, "
    "SymInt[] padding, SymInt[] dilation, bool transposed, SymInt[] output_padding, "
    "SymInt groups) -> Tensor")
_lib.define(
    "convolution_backward_channels_last(Tensor grad_output, Tensor input, Tensor weight, "
    "SymInt[]? bias_sizes, SymInt[] stride, SymInt[] padding, SymInt[] dilation, bool transposed, "
    "SymInt[] output_padding, SymInt groups, bool[3] output_mask) -> Tensor[]")
_lib.define(
    "convolution_pointwise_channels_last(Tensor input, Tensor weight, Tensor? bias, "
    "SymInt[] stride, SymInt[] padding, SymInt[] dilation, SymInt groups, Tensor? other, "
    "str unary) -> Tensor")


def _channels_last(nhwc: torch.Tensor) -> torch.Tensor:
    """The NCHW view of an [N, H, W, C] tensor, in torch's channels_last
    format (a view when `nhwc` is contiguous)."""
    return nhwc.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


def _convolution_channels_last(input, weight, bias, stride, padding, dilation, transposed,
                               output_padding, groups):
    """aten::convolution on an NHWC `input` ([N, H, W, C], contiguous), giving
    an NHWC result (graphopt-layout). The NCHW view of NHWC memory is torch's
    channels_last format, which mkldnn and cuDNN compute directly."""
    x = _channels_last(input)
    w = weight.contiguous(memory_format=torch.channels_last)
    y = torch.ops.aten.convolution.default(x, w, bias, stride, padding, dilation, transposed,
                                           output_padding, groups)
    # Contiguous NHWC when torch kept channels_last (it does for these
    # operands); otherwise a strided view the next kernel makes contiguous.
    return y.permute(0, 2, 3, 1)


_lib.impl("convolution_channels_last", _convolution_channels_last, "CompositeExplicitAutograd")


def _convolution_backward_channels_last(grad_output, input, weight, bias_sizes, stride, padding,
                                        dilation, transposed, output_padding, groups, output_mask):
    """aten::convolution_backward on NHWC `grad_output` and `input` ([N, H, W,
    C]): the gradients output_mask asks for, in its order, the input gradient
    NHWC and the weight gradient contiguous OIHW (the parameter's layout).

    The weight gradient comes from graphopt's own kernel where it applies
    (runtime/native: an AVX2 host, fp32, groups 1); mkldnn's NHWC input
    gradient is fast there and stays."""
    grad_weight = None
    if output_mask[1] and groups == 1 and not transposed:
        grad_weight = native.conv_weight_grad_nhwc(grad_output, input, list(weight.shape),
                                                   stride, padding, dilation)
    results = []
    if grad_weight is not None:
        if output_mask[0]:
            results.append(_convolution_backward_channels_last(
                grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed,
                output_padding, groups, [True, False, False])[0])
        results.append(grad_weight)
        if output_mask[2]:
            results.append(grad_output.sum((0, 1, 2)))
        return results
    w = weight.contiguous(memory_format=torch.channels_last)
    grads = torch.ops.aten.convolution_backward.default(
        _channels_last(grad_output), _channels_last(input), w, bias_sizes, stride, padding, dilation,
        transposed, output_padding, groups, output_mask)
    grad_input, grad_weight, grad_bias = grads
    if output_mask[0]:
        results.append(grad_input.permute(0, 2, 3, 1))
    if output_mask[1]:
        results.append(grad_weight.contiguous())
    if output_mask[2]:
        results.append(grad_bias)
    return results


_lib.impl("convolution_backward_channels_last", _convolution_backward_channels_last,
          "CompositeExplicitAutograd")


def _convolution_pointwise_channels_last(input, weight, bias, stride, padding, dilation, groups,
                                         other, unary):
    """relu?(conv(input, weight) + bias + other) on NHWC `input` and `other`
    ([N, H, W, C], contiguous; `other` optional), giving an NHWC result
    (graphopt-conv-epilogue). On the CPU, mkldnn applies the bias, the add
    and the ReLU as post-ops of the convolution, while the output is in
    cache; elsewhere the same math runs op by op."""
    x = _channels_last(input)
    w = weight.contiguous(memory_format=torch.channels_last)
    o = _channels_last(other) if other is not None else None
    if x.device.type == "cpu" and x.dtype == torch.float32 and torch.backends.mkldnn.is_available():
        if o is None:
            y = torch.ops.mkldnn._convolution_pointwise(x, w, bias, padding, stride, dilation, groups,
                                                       unary, [], "")
        else:
            y = torch.ops.mkldnn._convolution_pointwise.binary(
                x, o, w, bias, padding, stride, dilation, groups, "add", None,
                None if unary == "none" else unary, [], "")
    else:
        y = torch.nn.functional.conv2d(x, w, bias, stride, padding, dilation, groups)
        if o is not None:
            y = y + o
        if unary == "relu":
            y = torch.relu(y)
    return y.permute(0, 2, 3, 1)


_lib.impl("convolution_pointwise_channels_last", _convolution_pointwise_channels_last,
          "CompositeExplicitAutograd")
