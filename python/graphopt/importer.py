"""FX graph (from AOTAutograd) -> MLIR text in the graphopt dialect.

Each call_function node maps, by its ATen overload, to a small handler that
prints graphopt ops (`lowerings.py`; the types and literals it prints are in
`mlir_text.py`). Shapes and dtypes come from the fake tensors in
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

from .lowerings import HANDLERS, op_name, supported_ops  # noqa: F401 (public here too)
from .mlir_text import NATIVE_DTYPES, Unsupported, V, literal, mlir_dtype, tensor_type  # noqa: F401


def _static_shape(t) -> tuple:
    shape = []
    for d in t.shape:
        if not isinstance(d, int):
            raise Unsupported(f"symbolic size {d} (graphopt specializes on static shapes)")
        shape.append(d)
    return tuple(shape)


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
    # (argument, order): func arguments that are a permuted input's memory
    # (a channels-last NCHW input as [N, H, W, C]): the caller passes
    # input.permute(order).
    permuted_args: list = field(default_factory=list)
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
    def __init__(self, gm: torch.fx.GraphModule, name: str, permuted_inputs: dict,
                 saved_outputs: frozenset, kernels: str | None):
        self.gm = gm
        self.name = name
        self.permuted_inputs = permuted_inputs
        self.saved_outputs = saved_outputs
        self.kernels = kernels
        self.p = _Printer()
        self.env: dict[torch.fx.Node, object] = {}

    # ---- small builders -------------------------------------------------------------
    def constant(self, value, shape, dtype) -> V:
        return self.p.op(
            f"graphopt.constant dense<{literal(value, dtype)}> : {tensor_type(shape, dtype)}",
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

    def slice(self, x: V, dim: int, start: int, size: int) -> V:
        """`graphopt.slice`: elements [start, start + size) of `dim` (a view)."""
        rank = len(x.shape)
        dim %= rank
        shape = x.shape[:dim] + (size,) + x.shape[dim + 1:]
        if shape == x.shape:
            return x
        offsets = ", ".join(str(start if d == dim else 0) for d in range(rank))
        return self.p.op(f"graphopt.slice {x.name} [{offsets}] : {x.type} to "
                         f"{tensor_type(shape, x.dtype)}", shape, x.dtype)

    def slices(self, x: V, dim: int, sizes) -> tuple:
        """Consecutive boxes of `sizes` along `dim` (aten.split)."""
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        return tuple(self.slice(x, dim, start, size) for start, size in zip(starts, sizes))

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
        args, positions, permuted_args, saved = [], [], [], []
        lifted = []
        placeholder_index = -1
        num_aten, inter_bytes, externs = 0, 0, []
        # A run of consecutive nodes from one eager op is one group (seq_nr
        # alone does not tell two ops apart under no_grad).
        previous, group = None, 0
        # An input the graph updates (aten.copy_ into it) is written in place
        # by the kernel computing its value: it keeps its own layout.
        updated = {n.args[0] for n in self.gm.graph.nodes
                   if n.op == "call_function" and n.target is torch.ops.aten.copy_.default}
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
                shape = _static_shape(val)
                order = None if node in updated else self.permuted_inputs.get(placeholder_index)
                if order is not None and len(order) == len(shape):
                    permuted_args.append((len(args), tuple(order)))
                    shape = tuple(shape[d] for d in order)
                else:
                    order = None
                v = V(f"%arg{len(args)}", shape, val.dtype)
                mlir_dtype(v.dtype)
                args.append(v)
                positions.append(placeholder_index)
                self.env[node] = self.permute(v, tuple(order.index(d) for d in range(len(order)))) if order else v
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
                    externs.append(op_name(node.target))
                self.env[node] = result
            elif node.op == "output":
                outs, mapping = [], []
                results = node.args[0]
                for i, o in enumerate(results if isinstance(results, (list, tuple)) else [results]):
                    if o is None or isinstance(o, (int, float, bool)):
                        mapping.append(("const", o))  # e.g. a size saved for backward
                        continue
                    v = self.env.get(o) if isinstance(o, torch.fx.Node) else None
                    if not isinstance(v, V):
                        raise Unsupported(f"graph output {o} is not a tensor")
                    if i in self.saved_outputs:
                        saved.append(len(outs))
                    mapping.append(len(outs))
                    outs.append(v)
                self.p.lines.append(
                    f"    return {', '.join(o.name for o in outs)}"
                    f"{' : ' + ', '.join(o.type for o in outs) if outs else ''}")
            else:
                raise Unsupported(f"FX node kind {node.op}")

        sig = ", ".join(f"{a.name}: {a.type}" for a in args)
        rets = ", ".join(o.type for o in outs)
        # Results only the backward graph reads: graphopt-layout may leave them
        # NHWC. Where the kernels run: graphopt-layout's choices depend on it.
        attrs = []
        if saved:
            attrs.append(f"graphopt.saved_results = array<i64: {', '.join(map(str, saved))}>")
        if self.kernels:
            attrs.append(f'graphopt.kernels = "{self.kernels}"')
        attrs = f" attributes {{{', '.join(attrs)}}}" if attrs else ""
        text = "\n".join([
            "module {",
            f"  func.func @{self.name}({sig}) -> ({rets}){attrs} {{",
            *self.p.lines,
            "  }",
            "}",
            "",
        ])
        return ImportedGraph(mlir=text, name=self.name, outputs=mapping, lifted_constants=lifted,
                             arg_positions=positions, permuted_args=permuted_args, num_aten_ops=num_aten,
                             intermediate_bytes=inter_bytes, extern_ops=externs)

    # ---- lowering -------------------------------------------------------------------
    def lower(self, node: torch.fx.Node):
        handler = HANDLERS.get(node.target)
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
            raise Unsupported(f"{node.name} ({op_name(node.target)}) returns non-tensors")
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
            f"    {name}{count} = graphopt.extern {_mlir_string(op_name(node.target))}"
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


def import_graph(gm: torch.fx.GraphModule, name: str = "graph", *,
                 permuted_inputs=None, saved_outputs=frozenset(),
                 kernels: str | None = None) -> ImportedGraph:
    """Imports an AOTAutograd FX graph; raises Unsupported for graphs it cannot express.

    permuted_inputs: {placeholder index: memory order} for inputs that
    arrive as permuted views of contiguous memory (a training forward
    graph's saved activations, as graphopt left them: NHWC as NCHW views):
    they become arguments of the memory's shape ([N, H, W, C]), permuted
    back by a graphopt.permute. saved_outputs: output indices that
    only the backward graph reads (graphopt.saved_results). kernels: "cpp"
    or "cuda", where the graph's kernels will run (graphopt.kernels)."""
    return Importer(gm, name, dict(permuted_inputs or {}), frozenset(saved_outputs), kernels).run()
