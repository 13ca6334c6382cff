"""ATen overload -> graphopt ops: one handler per overload, registered with
`_handles`. A handler gets the importer, the node's (result shape, dtype)
and the ATen arguments (tensors as V), prints graphopt ops through the
importer's builders and returns the result V (a tuple for several), or None
to leave the node to torch as an extern op.
"""
from __future__ import annotations

import math

import torch

from .mlir_text import V, literal

aten = torch.ops.aten

HANDLERS: dict = {}


def _handles(*overloads):
    def register(fn):
        for o in overloads:
            HANDLERS[o] = fn
        return fn
    return register


def _simple_binary(kind):
    def h(im, out, a, b, alpha=1):
        shape, dtype = out
        if alpha != 1:
            b = im.binary("mul", b, alpha, dtype)
        return im.binary(kind, a, b, dtype, shape)
    return h


for _kind, _ops in {
    "add": (aten.add.Tensor, aten.add.Scalar),
    "sub": (aten.sub.Tensor, aten.sub.Scalar),
    "mul": (aten.mul.Tensor, aten.mul.Scalar),
    "max": (aten.maximum.default,),
    "min": (aten.minimum.default,),
    "pow": (aten.pow.Tensor_Tensor, aten.pow.Tensor_Scalar),
}.items():
    _handles(*_ops)(_simple_binary(_kind))


@_handles(aten.div.Tensor, aten.div.Scalar)
def _div(im, out, a, b):
    shape, dtype = out
    if not dtype.is_floating_point:
        return None
    return im.binary("div", a, b, dtype, shape)


@_handles(aten.rsub.Scalar, aten.rsub.Tensor)
def _rsub(im, out, a, b, alpha=1):
    shape, dtype = out
    if alpha != 1:
        a = im.binary("mul", a, alpha, dtype)
    return im.binary("sub", b, a, dtype, shape)


@_handles(aten.pow.Scalar)
def _pow_scalar(im, out, a, b):
    return im.binary("pow", a, b, out[1], out[0])


@_handles(aten.reciprocal.default)
def _reciprocal(im, out, x):
    return im.binary("div", 1.0, x, out[1], out[0])


for _kind, _op in {
    "neg": aten.neg.default, "abs": aten.abs.default, "relu": aten.relu.default,
    "exp": aten.exp.default, "log": aten.log.default, "tanh": aten.tanh.default,
    "erf": aten.erf.default, "sqrt": aten.sqrt.default, "rsqrt": aten.rsqrt.default,
    "sigmoid": aten.sigmoid.default,
}.items():
    _handles(_op)(lambda im, out, x, _k=_kind: im.unary(_k, x, out[1]))


def _clamp_bounds(im, out, x, lo, hi):
    shape, dtype = out
    y = im.cast(x, dtype)
    if lo is not None:
        y = im.binary("max", y, lo, dtype, shape)
    if hi is not None:
        y = im.binary("min", y, hi, dtype, shape)
    return y


_handles(aten.clamp.default)(lambda im, out, x, lo=None, hi=None: _clamp_bounds(im, out, x, lo, hi))
_handles(aten.clamp_min.default)(lambda im, out, x, lo: _clamp_bounds(im, out, x, lo, None))
_handles(aten.clamp_max.default)(lambda im, out, x, hi: _clamp_bounds(im, out, x, None, hi))

for _pred in ("eq", "ne", "lt", "le", "gt", "ge"):
    _handles(getattr(aten, _pred).Tensor, getattr(aten, _pred).Scalar)(
        lambda im, out, a, b, _p=_pred: im.compare(_p, a, b))


def _truth(im, x) -> V:
    """x != 0 as a bool tensor (Python scalars become rank-0 constants)."""
    if isinstance(x, V) and x.dtype == torch.bool:
        return x
    return im.compare("ne", x, False if isinstance(x, bool) else 0)


@_handles(aten.logical_and.default, aten.bitwise_and.Tensor)
def _and(im, out, a, b):
    if out[1] != torch.bool:
        return None  # integer bitwise ops run through torch
    return im.binary("mul", _truth(im, a), _truth(im, b), torch.bool, out[0])


@_handles(aten.logical_or.default, aten.bitwise_or.Tensor)
def _or(im, out, a, b):
    if out[1] != torch.bool:
        return None
    return im.binary("max", _truth(im, a), _truth(im, b), torch.bool, out[0])


@_handles(aten.logical_xor.default, aten.bitwise_xor.Tensor)
def _xor(im, out, a, b):
    if out[1] != torch.bool:
        return None
    return im.compare("ne", _truth(im, a), _truth(im, b))


@_handles(aten.logical_not.default, aten.bitwise_not.default)
def _not(im, out, x):
    if out[1] != torch.bool:
        return None
    return im.compare("eq", _truth(im, x), False)


@_handles(aten.where.self)
def _where(im, out, c, a, b):
    return im.where(c, a, b, out[1], out[0])


@_handles(aten._to_copy.default)
def _to_copy(im, out, x, dtype=None, layout=None, device=None, pin_memory=None,
             non_blocking=False, memory_format=None):
    if device is not None and torch.device(device).type != "cpu":
        return None
    shape, odtype = out
    y = im.cast(x, odtype)
    return im.copy(x) if y is x else y  # a copy that keeps the dtype: still a new tensor


@_handles(aten.clone.default, aten.lift_fresh_copy.default)
def _clone(im, out, x, memory_format=None):
    return im.copy(x)


@_handles(aten.alias.default, aten.detach.default)
def _alias(im, out, x):
    return x


@_handles(aten.view.default, aten._unsafe_view.default, aten.reshape.default,
          aten.squeeze.dim, aten.squeeze.dims, aten.squeeze.default, aten.unsqueeze.default,
          aten.flatten.using_ints)
def _view(im, out, x, *_, **__):
    return im.reshape(x, out[0])


@_handles(aten.permute.default)
def _permute(im, out, x, dims):
    return im.permute(x, dims)


@_handles(aten.t.default)
def _t(im, out, x):
    return im.permute(x, [1, 0]) if len(x.shape) == 2 else x


@_handles(aten.transpose.int)
def _transpose(im, out, x, d0, d1):
    rank = len(x.shape)
    if rank == 0:
        return x
    perm = list(range(rank))
    d0, d1 = d0 % rank, d1 % rank
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return im.permute(x, perm)


@_handles(aten.slice.Tensor)
def _slice(im, out, x, dim=0, start=None, end=None, step=1):
    if step != 1 or not x.shape:
        return None  # a strided slice stays an extern
    start, end, _ = slice(start, end).indices(x.shape[dim])
    return im.slice(x, dim, start, max(end - start, 0))


@_handles(aten.split_with_sizes.default)
def _split_with_sizes(im, out, x, sizes, dim=0):
    return im.slices(x, dim, sizes)


@_handles(aten.split.Tensor)
def _split(im, out, x, split_size, dim=0):
    n = x.shape[dim % len(x.shape)]
    sizes = [min(split_size, n - s) for s in range(0, n, split_size)] if split_size else []
    return im.slices(x, dim, sizes or [n])  # an empty dim splits into one empty box


@_handles(aten.select.int)
def _select(im, out, x, dim, index):
    return im.reshape(im.slice(x, dim, index % x.shape[dim], 1), out[0])


@_handles(aten.unbind.int)
def _unbind(im, out, x, dim=0):
    dim %= len(x.shape)
    rest = x.shape[:dim] + x.shape[dim + 1:]
    return tuple(im.reshape(box, rest) for box in im.slices(x, dim, [1] * x.shape[dim]))


@_handles(aten.expand.default)
def _expand(im, out, x, sizes, implicit=False):
    return im.broadcast(x, out[0])


@_handles(aten.sum.dim_IntList, aten.sum.default)
def _sum(im, out, x, dims=None, keepdim=False, dtype=None):
    return im.reduce("sum", im.cast(x, out[1]), dims, keepdim)


@_handles(aten.amax.default)
def _amax(im, out, x, dims=(), keepdim=False):
    if x.dtype == torch.bool:
        return None
    return im.reduce("max", x, dims, keepdim)


@_handles(aten.max.default)
def _max_all(im, out, x):
    if x.dtype == torch.bool:
        return None
    return im.reduce("max", x, None, False)


def _count(shape, dims) -> int:
    """How many elements a reduction over `dims` (None or [] = all) combines."""
    rank = len(shape)
    if rank == 0:
        return 1
    dims = {d % rank for d in dims} if dims else set(range(rank))
    return math.prod(shape[d] for d in dims)


@_handles(aten.mean.dim, aten.mean.default)
def _mean(im, out, x, dims=None, keepdim=False, dtype=None):
    shape, odtype = out
    if not odtype.is_floating_point:
        return None
    s = im.reduce("sum", im.cast(x, odtype), dims, keepdim)
    return im.binary("div", s, float(_count(x.shape, dims)), odtype, shape)


def _var(im, x, dims, correction, keepdim, dtype):
    x = im.cast(x, dtype)
    n = _count(x.shape, dims)
    mean_k = im.binary("div", im.reduce("sum", x, dims, True), float(n), dtype)
    d = im.binary("sub", x, mean_k, dtype)
    ss = im.reduce("sum", im.binary("mul", d, d, dtype), dims, keepdim)
    var = im.binary("div", ss, float(max(n - correction, 0)), dtype)
    mean = mean_k if keepdim else im.reshape(mean_k, var.shape)
    return var, mean


@_handles(aten.var_mean.correction)
def _var_mean(im, out, x, dims=None, correction=None, keepdim=False):
    if not x.dtype.is_floating_point:
        return None
    return _var(im, x, dims, 1 if correction is None else correction, keepdim, x.dtype)


@_handles(aten.var.correction)
def _var_only(im, out, x, dims=None, correction=None, keepdim=False):
    if not x.dtype.is_floating_point:
        return None
    return _var(im, x, dims, 1 if correction is None else correction, keepdim, x.dtype)[0]


def _float_matmul(fn):
    def h(im, out, *args, **kwargs):
        tensors = [a for a in args if isinstance(a, V)]
        if any(not t.dtype.is_floating_point or t.dtype != out[1] for t in tensors):
            return None
        return fn(im, out, *args, **kwargs)
    return h


@_handles(aten.mm.default)
@_float_matmul
def _mm(im, out, a, b):
    return im.matmul("matmul", [a, b], out[0], out[1])


@_handles(aten.bmm.default)
@_float_matmul
def _bmm(im, out, a, b):
    return im.matmul("bmm", [a, b], out[0], out[1])


@_handles(aten.addmm.default)
@_float_matmul
def _addmm(im, out, bias, a, b, beta=1, alpha=1):
    attrs = ""
    if beta != 1 or alpha != 1:
        attrs = f" {{beta = {literal(beta, torch.float64)} : f64, alpha = {literal(alpha, torch.float64)} : f64}}"
    return im.matmul("addmm", [bias, a, b], out[0], out[1], attrs)


@_handles(aten.full.default, aten.scalar_tensor.default)
def _full(im, out, *args, **kwargs):
    value = args[1] if len(args) > 1 else args[0]
    if isinstance(value, V):
        return None
    return im.constant(value, out[0], out[1])


@_handles(aten.full_like.default)
def _full_like(im, out, x, value, **kwargs):
    return im.constant(value, out[0], out[1])


@_handles(aten.zeros_like.default, aten.zeros.default)
def _zeros(im, out, *args, **kwargs):
    return im.constant(0, out[0], out[1])


@_handles(aten.ones_like.default, aten.ones.default)
def _ones(im, out, *args, **kwargs):
    return im.constant(1, out[0], out[1])


def op_name(target) -> str:
    return f"{target._schema.name}.{target._overloadname}"


def supported_ops() -> list[str]:
    """The ATen overloads graphopt lowers natively (everything else is extern)."""
    return sorted(op_name(o) for o in HANDLERS)
