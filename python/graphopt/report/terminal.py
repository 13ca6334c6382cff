"""print(report): the graphs, then each graph's kernels and extern ops, as
compact fixed-width tables."""
from __future__ import annotations

from . import fmt
from .model import COMPUTE_KINDS, Report


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> list[str]:
    """The first `text_columns` columns left-aligned, the numbers right-aligned."""
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  " + "  ".join(c.ljust(w) if i < text_columns else c.rjust(w)
                                for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line(header)] + [line(r) for r in rows]


def render(report: Report) -> str:
    t = report.target
    kernels = sum(len(g.kernels) for g in report.graphs)
    externs = sum(len(g.externs) for g in report.graphs)
    out = [f"graphopt: {fmt.plural(len(report.graphs), 'graph')}, "
           f"{fmt.plural(sum(g.aten_ops for g in report.graphs), 'ATen op')} -> "
           f"{fmt.plural(kernels, 'kernel')}, {fmt.plural(externs, 'extern op')}"]

    # Without cost data (no target) the cost columns are left out.
    cost_header = ["eager*", "graphopt*", "speedup*"] if t else []
    rows = []
    for g in report.graphs:
        c = g.costs.get(t)
        costs = [fmt.seconds(c.eager.time_s), fmt.seconds(c.compiled.time_s),
                 fmt.ratio(c.predicted_speedup)] if c else ["-"] * len(cost_header)
        rows.append([g.name, str(g.aten_ops), str(len(g.kernels)), str(len(g.externs)),
                     fmt.nbytes(g.arena_size), fmt.nbytes(g.naive_size), fmt.seconds(g.compile_s), *costs])
    out += ["", *_table(["graph", "ATen ops", "kernels", "extern", "arena", "no reuse", "compile",
                         *cost_header], rows)]
    if report.targets:
        described = next(x for x in report.targets if x.name == t)
        out.append(f"* predicted for {t} ({described.description}); all targets: " + ", ".join(
            f"{x.name} {fmt.speedup(*report.totals(x.name))}" for x in report.targets))
    else:
        out.append("* no cost data (no cost.json in the dump)")
    if report.measured:
        m = report.measured
        out.append(f"measured on this machine: eager {fmt.seconds(m.eager_s)}, "
                   f"graphopt {fmt.seconds(m.compiled_s)}, {fmt.ratio(m.speedup)}")
    for f in report.failures:
        out.append(f"{f.graph} fell back to eager: {fmt.first_line(f.error)} "
                   f"(repro: graphopt repro {f.folder})")

    cost_header = ["bound", "FLOPs", "bytes", "predicted"] if t else []
    for g in report.graphs:
        steps = [s for s in g.steps if s.kind in COMPUTE_KINDS]
        # Measured on this machine (explain(measure=True)): the time, the
        # throughput in the unit of the step's host-cpu bound, and the share
        # of the roofline that is.
        measured = any(s.of_roof() is not None for s in steps)
        measured_header = ["measured", "achieved", "of roof"] if measured else []
        rows = []
        for s in steps:
            c = s.costs.get(t)
            costs = [c.bound, fmt.count(c.flops), fmt.nbytes(c.bytes_read + c.bytes_written),
                     fmt.seconds(c.predicted_s)] if c else ["-"] * len(cost_header)
            roof = s.of_roof()
            here = [fmt.seconds(s.measured_s), s.achieved(),
                    "-" if roof is None else f"{roof:.0%}"] if measured else []
            rows.append([str(s.index), s.name, fmt.ops_summary(s.ops) if s.ops else "-", *costs, *here])
        out += ["", f"{g.name}: kernels and contractions",
                *_table(["step", "name", "fused ops", *cost_header, *measured_header], rows, 4)]
        if measured:
            out.append("  measured, achieved, of roof: on this machine (host-cpu); achieved is bytes/s or "
                       "FLOP/s by the step's bound here, of roof is max(FLOPs / peak, bytes / copy "
                       "bandwidth) over the measured time")
        if g.externs:
            out += [f"{g.name}: extern ops (run by torch)",
                    *_table(["step", "op", "reason"],
                            [[str(s.index), s.name, g.extern_reason(s)] for s in g.externs], 3)]
    return "\n".join(out)
