"""FX graph (from AOTAutograd) -> MLIR text in the graphopt dialect.

Each call_function node maps, by its ATen overload, to a small handler that
prints graphopt ops. Shapes and dtypes come from the fake tensors in
``node.meta["val"]``; type promotion is made explicit with ``graphopt.cast``.
An overload without a handler, or one whose dtypes the kernels do not
support, becomes a ``graphopt.extern`` that torch runs. Locations come from
the node's stack trace, so diagnostics point at the user's model code.
"""
from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import dataclass, field

import torch
import torch.fx

aten = torch.ops.aten


class Unsupported(Exception):
    """The graph as a whole cannot be imported (the backend runs it eagerly)."""


_DTYPES = {
    torch.float32: "f32", torch.float64: "f64", torch.float16: "f16", torch.bfloat16: "bf16",
    torch.int64: "i64", torch.int32: "i32", torch.int16: "i16", torch.int8: "i8",
    torch.uint8: "ui8", torch.bool: "i1",
    torch.complex64: "complex<f32>", torch.complex128: "complex<f64>",
}
# Element types the kernels compute in; anything else goes through torch.
NATIVE_DTYPES = {torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.int32,
                 torch.int16, torch.int8, torch.uint8, torch.bool}


def mlir_dtype(dtype: torch.dtype) -> str:
    if dtype not in _DTYPES:
        raise Unsupported(f"dtype {dtype} has no graphopt equivalent")
    return _DTYPES[dtype]


def tensor_type(shape, dtype) -> str:
    dims = "".join(f"{d}x" for d in shape)
    return f"tensor<{dims}{mlir_dtype(dtype)}>"


@dataclass(frozen=True)
class V:
    """An SSA value of the module being printed."""
    name: str
    shape: tuple
    dtype: torch.dtype

    @property
    def type(self) -> str:
        return tensor_type(self.shape, self.dtype)


def _static_shape(t) -> tuple:
    shape = []
    for d in t.shape:
        if not isinstance(d, int):
            raise Unsupported(f"symbolic size {d} (graphopt specializes on static shapes)")
        shape.append(d)
    return tuple(shape)


def _literal(value, dtype: torch.dtype) -> str:
    """A scalar as an MLIR dense literal of `dtype`."""
    if dtype == torch.bool:
        return "true" if value else "false"
    if dtype.is_floating_point:
        value = float(value)
        if math.isfinite(value):
            return "%.17e" % value
        bits = {torch.float32: (0x7F800000, 0xFF800000, 0x7FC00000),
                torch.float64: (0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000),
                torch.float16: (0x7C00, 0xFC00, 0x7E00),
                torch.bfloat16: (0x7F80, 0xFF80, 0x7FC0)}[dtype]
        return hex(bits[2] if math.isnan(value) else bits[0] if value > 0 else bits[1])
    return str(int(value))


def _eager_op(node: torch.fx.Node) -> str | None:
    """The ATen op eager runs for this node, when a decomposition made it one
    of several nodes."""
    original = node.meta.get("original_aten")
    if original is None or original == node.target or node.op != "call_function":
        return None
    return f"{original}@{node.meta.get('seq_nr', '')}"


def _location(node: torch.fx.Node, eager_group: str | None = None) -> str:
    """The FX node's name and source line. Nodes that one ATen op was
    decomposed into also carry `eager:<group>`: the cost model counts each
    group as the one kernel eager runs for that op."""
    name = node.name.replace('"', "")
    trace = node.meta.get("stack_trace") or ""
    frames = re.findall(r'File "([^"]+)", line (\d+)', trace)
    inner = f'"{name}"'
    if frames:
        path, line = frames[-1]
        path = path.replace("\\", "/").replace('"', "")
        inner = f'"{name}"("{path}":{line}:0)'
    if eager_group is not None:
        return f'loc(fused<"eager:{eager_group}">[{inner}])'
    return f"loc({inner})"


def _mlir_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@dataclass
class ImportedGraph:
    """What the backend needs besides the MLIR text."""
    mlir: str
    name: str
    # For each FX output: index into the MLIR results, or ("const", value) for
    # outputs that are not tensors (None, or a size specialized into the graph).
    outputs: list
    lifted_constants: list = field(default_factory=list)  # tensors appended to the inputs
    arg_positions: list = field(default_factory=list)  # FX placeholders that are func arguments
    num_aten_ops: int = 0
    intermediate_bytes: int = 0
    extern_ops: list = field(default_factory=list)


class _Printer:
    def __init__(self):
        self.lines: list[str] = []
        self.counter = 0
        self.loc = 'loc(unknown)'

    def op(self, text: str, shape, dtype) -> V:
        name = f"%v{self.counter}"
        self.counter += 1
        self.lines.append(f"    {name} = {text} {self.loc}")
        return V(name, tuple(shape), dtype)


class Importer:
    def __init__(self, gm: torch.fx.GraphModule, name: str = "graph"):
        self.gm = gm
        self.name = name
        self.p = _Printer()
        self.env: dict[torch.fx.Node, object] = {}

    # ---- small builders -------------------------------------------------------------
    def constant(self, value, shape, dtype) -> V:
        return self.p.op(
            f"graphopt.constant dense<{_literal(value, dtype)}> : {tensor_type(shape, dtype)}",
            shape, dtype)

    def cast(self, x: V, dtype) -> V:
        if x.dtype == dtype:
            return x
        return self.p.op(f"graphopt.cast {x.name} : {x.type} to {tensor_type(x.shape, dtype)}",
                         x.shape, dtype)

    def copy(self, x: V) -> V:
        """A new tensor equal to x (a same-type cast is a copy, never folded)."""
        return self.p.op(f"graphopt.cast {x.name} : {x.type} to {x.type}", x.shape, x.dtype)

    def as_value(self, x, dtype) -> V:
        """A tensor operand cast to `dtype`, or a Python scalar as a rank-0 constant."""
        if isinstance(x, V):
            return self.cast(x, dtype)
        return self.constant(x, (), dtype)

    def unary(self, kind: str, x: V, dtype) -> V:
        x = self.cast(x, dtype)
        return self.p.op(f"graphopt.{kind} {x.name} : {x.type}", x.shape, dtype)

    def binary(self, kind: str, a, b, dtype, out_shape=None) -> V:
        a, b = self.as_value(a, dtype), self.as_value(b, dtype)
        shape = out_shape if out_shape is not None else torch.broadcast_shapes(a.shape, b.shape)
        out = tensor_type(shape, dtype)
        return self.p.op(f"graphopt.{kind} {a.name}, {b.name} : ({a.type}, {b.type}) -> {out}",
                         shape, dtype)

    def compare(self, pred: str, a, b) -> V:
        dtype = _promote(a, b)
        a, b = self.as_value(a, dtype), self.as_value(b, dtype)
        shape = tuple(torch.broadcast_shapes(a.shape, b.shape))
        out = tensor_type(shape, torch.bool)
        return self.p.op(
            f'graphopt.cmp "{pred}", {a.name}, {b.name} : ({a.type}, {b.type}) -> {out}',
            shape, torch.bool)

    def where(self, c, a, b, dtype, shape) -> V:
        c = self.as_value(c, torch.bool)
        a, b = self.as_value(a, dtype), self.as_value(b, dtype)
        return self.p.op(
            f"graphopt.where {c.name}, {a.name}, {b.name} : ({c.type}, {a.type}, {b.type}) -> "
            f"{tensor_type(shape, dtype)}", shape, dtype)

    def to_shape(self, kind: str, x: V, shape) -> V:
        """`graphopt.reshape` or `graphopt.broadcast` to `shape` (nothing if equal)."""
        shape = tuple(shape)
        if shape == x.shape:
            return x
        return self.p.op(f"graphopt.{kind} {x.name} : {x.type} to {tensor_type(shape, x.dtype)}",
                         shape, x.dtype)

    def reshape(self, x: V, shape) -> V:
        return self.to_shape("reshape", x, shape)

    def permute(self, x: V, perm) -> V:
        perm = [p % max(len(x.shape), 1) for p in perm]
        if perm == list(range(len(perm))):
            return x
        shape = tuple(x.shape[p] for p in perm)
        return self.p.op(
            f"graphopt.permute {x.name} [{', '.join(map(str, perm))}] : {x.type} to "
            f"{tensor_type(shape, x.dtype)}", shape, x.dtype)

    def broadcast(self, x: V, shape) -> V:
        return self.to_shape("broadcast", x, shape)

    def slice(self, x: V, offsets, shape) -> V:
        """`graphopt.slice`: the box of `shape` starting at `offsets` (a view)."""
        shape = tuple(shape)
        if shape == x.shape:
            return x
        return self.p.op(
            f"graphopt.slice {x.name} [{', '.join(map(str, offsets))}] : {x.type} to "
            f"{tensor_type(shape, x.dtype)}", shape, x.dtype)

    def slices(self, x: V, dim: int, sizes) -> tuple:
        """Consecutive boxes of `sizes` along `dim` (aten.split)."""
        rank = len(x.shape)
        dim %= rank
        out, start = [], 0
        for size in sizes:
            offsets = [start if d == dim else 0 for d in range(rank)]
            out.append(self.slice(x, offsets, x.shape[:dim] + (size,) + x.shape[dim + 1:]))
            start += size
        return tuple(out)

    def reduce(self, kind: str, x: V, dims, keepdim: bool) -> V:
        rank = len(x.shape)
        if rank == 0:
            return self.cast(x, x.dtype) if kind == "sum" else x
        dims = sorted({d % rank for d in dims}) if dims else list(range(rank))
        shape = tuple(1 if i in dims else s for i, s in enumerate(x.shape) if keepdim or i not in dims)
        kd = " keepdim" if keepdim else ""
        return self.p.op(
            f"graphopt.reduce_{kind} {x.name} [{', '.join(map(str, dims))}]{kd} : {x.type} to "
            f"{tensor_type(shape, x.dtype)}", shape, x.dtype)

    def matmul(self, kind: str, operands, shape, dtype, attrs: str = "") -> V:
        types = ", ".join(o.type for o in operands)
        names = ", ".join(o.name for o in operands)
        return self.p.op(f"graphopt.{kind} {names}{attrs} : ({types}) -> {tensor_type(shape, dtype)}",
                         shape, dtype)

    # ---- the graph ------------------------------------------------------------------
    def run(self) -> ImportedGraph:
        args, positions = [], []
        lifted = []
        placeholder_index = -1
        num_aten, inter_bytes, externs = 0, 0, []
        # A run of consecutive nodes from one eager op is one group (seq_nr
        # alone does not tell two ops apart under no_grad).
        previous, group = None, 0
        for node in self.gm.graph.nodes:
            eager_op = _eager_op(node)
            if eager_op is not None and eager_op != previous:
                group += 1
            previous = eager_op if eager_op is not None else previous if node.target is operator.getitem else None
            self.p.loc = _location(node, f"{eager_op}#{group}" if eager_op else None)
            if node.op == "placeholder":
                placeholder_index += 1
                val = node.meta.get("val")
                if not isinstance(val, torch.Tensor) and not node.users:
                    continue  # a size already specialized into the graph
                if not isinstance(val, torch.Tensor):
                    raise Unsupported(f"graph input {node.name} is not a tensor ({type(val).__name__})")
                v = V(f"%arg{len(args)}", _static_shape(val), val.dtype)
                mlir_dtype(v.dtype)
                args.append(v)
                positions.append(placeholder_index)
                self.env[node] = v
            elif node.op == "get_attr":
                t = getattr(self.gm, node.target)
                if not isinstance(t, torch.Tensor):
                    raise Unsupported(f"attribute {node.target} is not a tensor")
                lifted.append(t)
                v = V(f"%arg{len(args)}", tuple(t.shape), t.dtype)
                args.append(v)
                self.env[node] = v
            elif node.op == "call_function":
                if node.target is operator.getitem:
                    self.env[node] = self.env[node.args[0]][node.args[1]]
                    continue
                if not isinstance(node.target, torch._ops.OpOverload):
                    raise Unsupported(f"call to {node.target} is not an ATen op")
                num_aten += 1
                inter_bytes += _meta_bytes(node.meta.get("val"))
                result = self.lower(node)
                if result is None:
                    result = self.extern(node)
                    externs.append(_op_name(node.target))
                self.env[node] = result
            elif node.op == "output":
                outs, mapping = [], []
                results = node.args[0]
                for o in results if isinstance(results, (list, tuple)) else [results]:
                    if o is None or isinstance(o, (int, float, bool)):
                        mapping.append(("const", o))  # e.g. a size saved for backward
                        continue
                    v = self.env.get(o) if isinstance(o, torch.fx.Node) else None
                    if not isinstance(v, V):
                        raise Unsupported(f"graph output {o} is not a tensor")
                    mapping.append(len(outs))
                    outs.append(v)
                self.p.lines.append(
                    f"    return {', '.join(o.name for o in outs)}"
                    f"{' : ' + ', '.join(o.type for o in outs) if outs else ''}")
            else:
                raise Unsupported(f"FX node kind {node.op}")

        sig = ", ".join(f"{a.name}: {a.type}" for a in args)
        rets = ", ".join(o.type for o in outs)
        text = "\n".join([
            "module {",
            f"  func.func @{self.name}({sig}) -> ({rets}) {{",
            *self.p.lines,
            "  }",
            "}",
            "",
        ])
        return ImportedGraph(mlir=text, name=self.name, outputs=mapping, lifted_constants=lifted,
                             arg_positions=positions, num_aten_ops=num_aten,
                             intermediate_bytes=inter_bytes, extern_ops=externs)

    # ---- lowering -------------------------------------------------------------------
    def lower(self, node: torch.fx.Node):
        handler = _HANDLERS.get(node.target)
        if handler is None:
            return None
        val = node.meta.get("val")
        tensors = [a for a in _flatten((node.args, node.kwargs)) if isinstance(a, torch.fx.Node)]
        metas = [t.meta.get("val") for t in tensors] + list(_flatten(val))
        if any(isinstance(m, torch.Tensor) and m.dtype not in NATIVE_DTYPES for m in metas):
            return None
        args = _map_nodes(node.args, self.env)
        kwargs = _map_nodes(node.kwargs, self.env)
        if any(isinstance(a, (list, tuple)) and any(isinstance(x, tuple) for x in a)
               for a in args):
            return None
        out = (_static_shape(val), val.dtype) if isinstance(val, torch.Tensor) else None
        return handler(self, out, *args, **kwargs)

    def extern(self, node: torch.fx.Node):
        operands: list[V] = []

        def encode(a):
            if isinstance(a, torch.fx.Node):
                v = self.env[a]
                if not isinstance(v, V):
                    raise Unsupported(f"{node.name}: argument {a.name} is not a tensor")
                operands.append(v)
                return {"t": len(operands) - 1}
            if isinstance(a, (list, tuple)):
                return [encode(x) for x in a]
            if a is None or isinstance(a, (bool, int, float, str)):
                if isinstance(a, float) and not math.isfinite(a):
                    return {"float": repr(a)}
                return a
            if isinstance(a, torch.dtype):
                return {"dtype": str(a).removeprefix("torch.")}
            if isinstance(a, torch.device):
                return {"device": str(a)}
            if isinstance(a, torch.layout):
                return {"layout": str(a).removeprefix("torch.")}
            if isinstance(a, torch.memory_format):
                return {"memory_format": str(a).removeprefix("torch.")}
            raise Unsupported(f"{node.name}: cannot pass {type(a).__name__} to an extern op")

        payload = json.dumps({"args": encode(list(node.args)),
                              "kwargs": {k: encode(v) for k, v in node.kwargs.items()}})
        val = node.meta.get("val")
        results = list(_flatten(val)) if isinstance(val, (tuple, list)) else [val]
        if not all(r is None or isinstance(r, torch.Tensor) for r in results):
            raise Unsupported(f"{node.name} ({_op_name(node.target)}) returns non-tensors")
        # Optional results torch leaves as None (e.g. unrequested gradients)
        # are not op results; the runtime drops them the same way.
        res = [V("", _static_shape(r), r.dtype) for r in results if r is not None]
        in_types = ", ".join(o.type for o in operands)
        out_types = ", ".join(r.type for r in res)
        name = f"%v{self.p.counter}"
        self.p.counter += 1
        count = f":{len(res)}" if len(res) > 1 else ""
        fresh = ", graphopt.fresh_results" if _fresh_results(node.target) else ""
        self.p.lines.append(
            f"    {name}{count} = graphopt.extern {_mlir_string(_op_name(node.target))}"
            f"({', '.join(o.name for o in operands)}) {{args = {_mlir_string(payload)}{fresh}}} : "
            f"({in_types}) -> ({out_types}) {self.p.loc}")
        if len(res) == 0:
            return ()
        if len(res) == 1 and not isinstance(val, (tuple, list)):
            return V(name, res[0].shape, res[0].dtype)
        if len(res) == 1:
            values = iter([V(name, res[0].shape, res[0].dtype)])
        else:
            values = iter([V(f"{name}#{i}", r.shape, r.dtype) for i, r in enumerate(res)])
        return tuple(None if r is None else next(values) for r in results)


def _fresh_results(target) -> bool:
    """True if the op's schema gives none of its results an alias annotation
    (`Tensor(a)`, `Tensor(a!)`): they are new tensors, not views or updated
    inputs, so graphopt-plan-memory need not tie their storage to the
    operands'."""
    schema = getattr(target, "_schema", None)
    return schema is not None and all(r.alias_info is None for r in schema.returns)


def _op_name(target) -> str:
    return f"{target._schema.name}.{target._overloadname}"


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flatten(y)
    elif isinstance(x, dict):
        for y in x.values():
            yield from _flatten(y)
    else:
        yield x


def _map_nodes(x, env):
    if isinstance(x, torch.fx.Node):
        return env[x]
    if isinstance(x, (list, tuple)):
        return type(x)(_map_nodes(y, env) for y in x)
    if isinstance(x, dict):
        return {k: _map_nodes(v, env) for k, v in x.items()}
    return x


def _meta_bytes(val) -> int:
    return sum(t.numel() * t.element_size() for t in _flatten(val) if isinstance(t, torch.Tensor))


def _promote(a, b) -> torch.dtype:
    """torch's type promotion for two operands (tensors as V, or Python scalars)."""
    def meta(x):
        if isinstance(x, V):
            return torch.empty(x.shape, dtype=x.dtype, device="meta")
        return x
    return torch.result_type(meta(a), meta(b))


# ---- handlers: (importer, (out_shape, out_dtype), *aten args) -> V ----------------------

_HANDLERS: dict = {}


def _handles(*overloads):
    def register(fn):
        for o in overloads:
            _HANDLERS[o] = fn
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
    dim %= len(x.shape)
    start, end, _ = slice(start, end).indices(x.shape[dim])
    offsets = [start if d == dim else 0 for d in range(len(x.shape))]
    return im.slice(x, offsets, out[0])


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
    dim %= len(x.shape)
    index %= x.shape[dim]
    offsets = [index if d == dim else 0 for d in range(len(x.shape))]
    box = im.slice(x, offsets, x.shape[:dim] + (1,) + x.shape[dim + 1:])
    return im.reshape(box, out[0])


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
        attrs = f" {{beta = {_literal(beta, torch.float64)} : f64, alpha = {_literal(alpha, torch.float64)} : f64}}"
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


def import_graph(gm: torch.fx.GraphModule, name: str = "graph") -> ImportedGraph:
    """Imports an AOTAutograd FX graph; raises Unsupported for graphs it cannot express."""
    return Importer(gm, name).run()


def supported_ops() -> list[str]:
    """The ATen overloads graphopt lowers natively (everything else is extern)."""
    return sorted(_op_name(o) for o in _HANDLERS)
