"""A dump folder as data classes: what the terminal table and the HTML page show,
and what Report.to_json / Report.from_json round-trip.

A dump folder (torch.compile(..., options={"dump_dir": D})) holds one subfolder
per compiled graph (plan.json, kernels.cpp, fx_graph.txt, optional kernels.cu
and cost.json) and one `<graph>-failure-<time>` folder per graph that fell back
to eager (repro.json).
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from ..cost import HOST_CPU
from ..mlir_text import NATIVE_DTYPES, mlir_dtype
from . import fmt

DTYPE_BYTES = {"f64": 8, "f32": 4, "f16": 2, "bf16": 2, "i64": 8, "i32": 4, "i16": 2,
               "i8": 1, "ui8": 1, "i1": 1, "complex<f32>": 8, "complex<f64>": 16}
CONTRACTION_KINDS = ("matmul", "bmm", "addmm")
# Steps that launch work of their own: the roofline's points.
COMPUTE_KINDS = ("kernel", *CONTRACTION_KINDS)
# Steps whose output aliases their input.
VIEW_KINDS = ("reshape", "permute", "broadcast", "slice")
SOURCES = {"kernels.cpp": "C++", "kernels.cu": "CUDA"}
NATIVE_DTYPES_MLIR = {mlir_dtype(d) for d in NATIVE_DTYPES}


class DumpError(ValueError):
    """A dump folder that cannot be read, or a target it has no cost data for."""


@dataclass
class Value:
    id: int
    storage: str  # input, arena, fresh, view, extern, constant
    shape: list[int]
    dtype: str
    offset: int | None = None  # arena values only

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * DTYPE_BYTES[self.dtype]

    @property
    def type(self) -> str:
        return f"{self.dtype}[{', '.join(map(str, self.shape))}]"


@dataclass
class StepCost:
    flops: float
    bytes_read: float
    bytes_written: float
    intensity: float  # FLOPs per byte moved
    bound: str  # memory or compute
    predicted_s: float
    # The roofline alone, max(FLOPs / peak, bytes / bandwidth): no launch
    # overhead, no first touch (absent from older dumps).
    roof_s: float = 0.0


@dataclass
class Step:
    index: int
    kind: str
    inputs: list[int]
    outputs: list[int]
    loc: str = ""
    symbol: str | None = None  # kernels: the function that runs it
    ops: list[str] = field(default_factory=list)  # kernels: the ops fused into it
    callee: str | None = None  # externs: aten::op.overload
    source: dict[str, str] = field(default_factory=dict)  # kernels: language -> function
    costs: dict[str, StepCost] = field(default_factory=dict)  # by target name
    measured_s: float | None = None
    # By "sm_90" or "sm_90 vec4" (a variant; "partials": a split reduction's
    # first kernel): registers, spills, stack bytes.
    cuda: dict[str, dict] = field(default_factory=dict)
    # Kernels: the kernel's own name, which the cost model reports; kernels
    # with the same code run one function (symbol). Older dumps: the symbol.
    kernel: str | None = None

    @property
    def name(self) -> str:
        return self.kernel or self.symbol or self.callee or self.kind

    @property
    def shares(self) -> str | None:
        """The function this kernel runs when it is another kernel's (the
        same code), else None."""
        return self.symbol if self.kernel and self.symbol != self.kernel else None

    def of_roof(self) -> float | None:
        """The roofline time on this machine (host-cpu) over the measured time:
        1.0 runs at the bound, 0.5 takes twice as long. None unless measured
        and priced on host-cpu."""
        c = self.costs.get(HOST_CPU)
        if c is None or not c.roof_s or not self.measured_s:
            return None
        return c.roof_s / self.measured_s

    def achieved(self) -> str:
        """Measured throughput in the unit of the host-cpu bound: bandwidth
        for memory-bound steps, FLOP/s for compute-bound ones."""
        c = self.costs.get(HOST_CPU)
        if c is None or not self.measured_s:
            return "-"
        if c.bound == "memory":
            return fmt.bandwidth((c.bytes_read + c.bytes_written) / self.measured_s)
        return fmt.rate(c.flops / self.measured_s)

    @property
    def where(self) -> str:
        """file:line of the user's code the step comes from."""
        m = re.search(r'"([^"]+)":(\d+)', self.loc)
        return f"{Path(m.group(1)).name}:{m.group(2)}" if m else ""


@dataclass
class Target:
    name: str
    description: str
    peak_flops_matmul: float
    peak_flops_vector: float
    memory_bandwidth: float  # bytes/s
    launch_overhead_s: float


@dataclass
class Totals:
    time_s: float
    flops: float
    bytes: float
    launches: int


@dataclass
class GraphCost:
    """One graph on one target, as the cost model predicts it."""
    target: Target
    eager: Totals
    compiled: Totals
    predicted_speedup: float
    mfu: float


@dataclass
class Measured:
    eager_s: float
    compiled_s: float
    speedup: float


@dataclass
class Failure:
    """A graph that fell back to eager, from its repro folder."""
    graph: str
    error: str
    folder: str


@dataclass
class Graph:
    name: str
    values: list[Value]
    steps: list[Step]
    arena_size: int
    naive_size: int  # the arena's buffers side by side, without reuse
    aten_ops: int
    costs: dict[str, GraphCost] = field(default_factory=dict)  # by target name
    measured: Measured | None = None
    compile_s: float | None = None

    @property
    def kernels(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "kernel"]

    @property
    def contractions(self) -> list[Step]:
        return [s for s in self.steps if s.kind in CONTRACTION_KINDS]

    @property
    def externs(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "extern"]

    def extern_reason(self, step: Step) -> str:
        foreign = sorted({self.values[v].dtype for v in step.inputs + step.outputs} - NATIVE_DTYPES_MLIR)
        return f"dtype {', '.join(foreign)} has no native kernels" if foreign else "no native lowering"

    def buffer_lifetimes(self) -> list[tuple[Value, int, int]]:
        """Each arena buffer with the first and last step that touches it, through views too."""
        alias: dict[int, int] = {}
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for s in self.steps:
            if s.kind in VIEW_KINDS:
                alias[s.outputs[0]] = alias.get(s.inputs[0], s.inputs[0])
            for v in s.inputs + s.outputs:
                root = alias.get(v, v)
                first.setdefault(root, s.index)
                last[root] = s.index
        return [(v, first.get(v.id, 0), last.get(v.id, 0)) for v in self.values if v.storage == "arena"]


@dataclass
class Report:
    graphs: list[Graph]
    target: str | None  # the target whose costs the roofline and the tables show
    failures: list[Failure] = field(default_factory=list)
    measured: Measured | None = None  # the whole model, from explain(measure=True)

    @staticmethod
    def from_dump(folder: str | Path, target: str | None = None, measured: Measured | None = None,
                  stats: typing.Iterable = ()) -> "Report":
        """Loads a dump folder (or one graph's subfolder). `target` defaults to the
        first target of the first cost.json. `stats`, the graphs this process
        compiled (graphopt.compiled_graphs()), adds their compile times."""
        folder = Path(folder)
        if not folder.is_dir():
            raise DumpError(f"{folder} is not a folder")
        subdirs = [folder] if (folder / "plan.json").exists() else sorted(
            (d for d in folder.iterdir() if d.is_dir()), key=_compile_order)
        graphs = [_load_graph(d) for d in subdirs if (d / "plan.json").exists()]
        failures = [_load_failure(d) for d in subdirs if (d / "repro.json").exists()]
        if not graphs and not failures:
            raise DumpError(f"{folder} holds no compiled graph (no */plan.json)")
        known = list(dict.fromkeys(t for g in graphs for t in g.costs))
        if target is None and known:
            target = known[0]
        elif target is not None and known and target not in known:
            raise DumpError(f"no cost data for target {target!r} in {folder} (it has {', '.join(known)})")
        seconds = {s.name: s.compile_seconds for s in stats}
        for g in graphs:
            g.compile_s = seconds.get(g.name)
        return Report(graphs, target, failures, measured)

    @property
    def targets(self) -> list[Target]:
        """Every target some graph has costs for, in cost.json order."""
        found = {name: c.target for g in self.graphs for name, c in g.costs.items()}
        return list(found.values())

    def totals(self, target: str) -> tuple[Totals, Totals] | None:
        """Predicted eager and compiled totals on `target`, summed over the graphs."""
        costs = [g.costs[target] for g in self.graphs if target in g.costs]
        if not costs:
            return None

        def add(side: str) -> Totals:
            parts = [getattr(c, side) for c in costs]
            return Totals(sum(p.time_s for p in parts), sum(p.flops for p in parts),
                          sum(p.bytes for p in parts), sum(p.launches for p in parts))
        return add("eager"), add("compiled")

    # The renderers import this module: imported here, not at the top.
    def __str__(self) -> str:
        from .terminal import render
        return render(self)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @staticmethod
    def from_json(text: str) -> "Report":
        return _build(Report, json.loads(text))

    def save_html(self, path: str | Path) -> Path:
        from .html import render
        path = Path(path)
        path.write_text(render(self), encoding="utf-8")
        return path


def _compile_order(folder: Path):
    """forward_0, backward_1, ...: graphs in the order they were compiled."""
    m = re.match(r"[a-z]+_(\d+)", folder.name)
    return (int(m.group(1)) if m else math.inf, folder.name)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DumpError(f"cannot read {path}: {e}") from e


def _functions(source: str) -> dict[str, str]:
    """The top-level functions of a kernels file by name, as the emitters write
    them: a header line at column 0 ending in '{', a body up to the first '}' at
    column 0. The name is the first called-looking word not starting with '__'
    (skips __launch_bounds__)."""
    functions = {}
    for m in re.finditer(r'^(?:extern "C"|__global__)[^\n]*\{$.*?^\}$', source, re.M | re.S):
        header = m.group(0).split("\n", 1)[0]
        name = next((n for n in re.findall(r"(\w+)\(", header) if not n.startswith("__")), None)
        if name:
            functions[name] = m.group(0)
    return functions


def _kernel_source(functions: dict[str, str], symbol: str) -> str:
    """The kernel `symbol` and its helpers (the CUDA `<symbol>_kernel` its launcher calls)."""
    return "\n\n".join(code for name, code in functions.items()
                        if name == symbol or name.startswith(symbol + "_"))


def _load_graph(folder: Path) -> Graph:
    plan = _read_json(folder / "plan.json")
    sources = {lang: _functions((folder / f).read_text())
               for f, lang in SOURCES.items() if (folder / f).exists()}
    fx = folder / "fx_graph.txt"
    try:
        values = [Value(v["id"], v["storage"], v["shape"], v["dtype"], v.get("offset"))
                  for v in plan["values"]]
        steps = [Step(i, s["kind"], s["inputs"], s["outputs"], s.get("loc", ""), s.get("symbol"),
                      s.get("ops", []), s.get("callee"),
                      {lang: code for lang, fns in sources.items()
                       if s.get("symbol") and (code := _kernel_source(fns, s["symbol"]))},
                      kernel=s.get("name"))
                 for i, s in enumerate(plan["steps"])]
        graph = Graph(folder.name, values, steps, plan["arena_size"], plan["naive_size"],
                      # one `= torch.ops.<ns>.<op>` line per ATen op node of the FX graph
                      len(re.findall(r"= torch\.ops\.", fx.read_text())) if fx.exists() else 0)
    except (KeyError, TypeError, IndexError) as e:
        raise DumpError(f"{folder / 'plan.json'} is not a launch plan ({type(e).__name__}: {e})") from e
    if (folder / "cost.json").exists():
        _attach_costs(graph, _read_json(folder / "cost.json"), folder / "cost.json")
    return graph


def _attach_costs(graph: Graph, cost: dict, path: Path) -> None:
    try:
        for entry in cost["targets"]:
            target = _pick(Target, entry["target"])
            graph.costs[target.name] = GraphCost(target, _pick(Totals, entry["eager"]),
                                                 _pick(Totals, entry["compiled"]),
                                                 entry["predicted_speedup"], entry["mfu"])
            for s in entry["steps"]:
                graph.steps[s["index"]].costs[target.name] = _pick(StepCost, s)
        if "measured" in cost:
            m = cost["measured"]
            graph.measured = Measured(m["eager_s"], m["compiled_s"], m["speedup"])
            for s in m.get("steps", []):
                graph.steps[s["index"]].measured_s = s["measured_s"]
        # Per arch, by kernel symbol, and by "<symbol>/<variant>" for variants (vec4,
        # partials).
        for arch, kernels in cost.get("cuda", {}).items():
            for step in graph.kernels:
                for key, stats in kernels.items():
                    symbol, _, variant = key.partition("/")
                    if symbol == step.symbol:
                        step.cuda[f"{arch} {variant}".strip()] = stats
    except (KeyError, TypeError, IndexError) as e:
        raise DumpError(f"{path} does not match the cost.json schema ({type(e).__name__}: {e})") from e


def _pick(cls, data: dict):
    """An instance of dataclass `cls` from the keys of `data` it has fields for
    (cost.json carries more than the report shows)."""
    return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


def _load_failure(folder: Path) -> Failure:
    info = _read_json(folder / "repro.json")
    return Failure(info.get("graph", folder.name), info.get("error", ""), str(folder))


def _build(tp, data):
    """A value of type `tp` (a dataclass above, list[...], dict[str, ...], X | None)
    rebuilt from what dataclasses.asdict wrote."""
    if data is None:
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return _build(next(a for a in args if a is not type(None)), data)
    if origin is list:
        return [_build(args[0], x) for x in data]
    if origin is dict:
        return {k: _build(args[1], v) for k, v in data.items()}
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _build(hints[f.name], data[f.name]) for f in dataclasses.fields(tp)})
    return data
