"""report.save_html: one self-contained page (inline CSS and SVG, no scripts,
nothing fetched). Every piece of text from the dump is escaped; the sections
have stable ids: summary, roofline, fusion, memory, kernels, externs."""
from __future__ import annotations

from html import escape

from . import fmt, svg
from .model import Graph, Report, Step

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 0; } h2 { border-bottom: 1px solid #ccc; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub, .note, .empty { color: #666; } .empty { font-style: italic; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.type { white-space: nowrap; }
code, pre, .name { font-family: ui-monospace, monospace; font-size: 12px; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; max-width: 720px; }
.op { display: inline-block; background: #e8f0fb; border-radius: 3px; padding: 0 5px; margin: 1px; font-size: 12px; }
.op.constant { background: #eee; color: #777; }
svg { background: #fff; border: 1px solid #ddd; display: block; margin: 8px 0; }
svg .grid { stroke: #eee; } svg .tick { font-size: 11px; fill: #555; } svg .axis { font-size: 12px; fill: #333; }
svg .legend { font-size: 12px; } svg .roof { fill: none; stroke: #333; stroke-width: 1.5; }
svg .roof-matmul { stroke-dasharray: 6 3; } svg .roof-label { font-size: 11px; fill: #333; }
svg .kernel-point { stroke: #fff; stroke-width: 1; opacity: .85; }
svg .arena { fill: #fafafa; stroke: #ccc; } svg .buffer { stroke: #fff; stroke-width: .5; opacity: .8; }
"""


class Raw(str):
    """Markup that goes into the page as is; every other string is escaped."""


def _text(x) -> str:
    return x if isinstance(x, Raw) else escape(str(x))


def _table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> Raw:
    """Columns whose index is in `numeric` are right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{_text(c)}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return Raw(f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
               f'<tbody>{body}</tbody></table></div>')


def _p(text, cls: str = "") -> Raw:
    return Raw(f'<p{f" class={cls}" if cls else ""}>{_text(text)}</p>')


def _section(id_: str, title: str, parts: list) -> str:
    return f'<section id="{id_}"><h2>{escape(title)}</h2>' + "".join(map(_text, parts)) + "</section>"


def _name(text: str) -> Raw:
    """A graph, kernel or op name, in monospace."""
    return Raw(f'<span class="name">{escape(text)}</span>')


def _ops(ops: list[str]) -> Raw:
    return Raw("".join(f'<span class="op{" constant" if op == "constant" else ""}">{escape(op)}</span>'
                       for op in ops))


def _summary(report: Report) -> str:
    kernels = sum(len(g.kernels) for g in report.graphs)
    contractions = sum(len(g.contractions) for g in report.graphs)
    arena, naive = sum(g.arena_size for g in report.graphs), sum(g.naive_size for g in report.graphs)
    parts = [_p(f"{fmt.plural(len(report.graphs), 'graph')}: "
                f"{fmt.plural(sum(g.aten_ops for g in report.graphs), 'ATen op')} → "
                f"{fmt.plural(kernels, 'fused kernel')} and {fmt.plural(contractions, 'contraction')}, "
                f"{fmt.plural(sum(len(g.externs) for g in report.graphs), 'extern op')}. "
                f"Arena {fmt.nbytes(arena)}, "
                f"{fmt.nbytes(naive)} without buffer reuse"
                + (f" ({1 - arena / naive:.0%} less)." if naive else "."))]
    parts.append(_table(
        ["graph", "ATen ops", "kernels", "contractions", "extern ops", "steps", "arena", "no reuse",
         "compile", "measured speedup"],
        [[_name(g.name), g.aten_ops, len(g.kernels),
          len(g.contractions), len(g.externs), len(g.steps),
          fmt.nbytes(g.arena_size), fmt.nbytes(g.naive_size), fmt.seconds(g.compile_s),
          fmt.ratio(g.measured.speedup) if g.measured else "-"] for g in report.graphs],
        numeric=set(range(1, 10))))
    if report.targets:
        rows = []
        for t in report.targets:
            eager, compiled = report.totals(t.name)
            mfu = compiled.flops / (compiled.time_s * t.peak_flops_matmul) if compiled.time_s else None
            rows.append([Raw(f"<b>{escape(t.name)}</b>" if t.name == report.target else escape(t.name)),
                         t.description, fmt.seconds(eager.time_s), fmt.seconds(compiled.time_s),
                         fmt.speedup(eager, compiled), "-" if mfu is None else f"{mfu:.2%}",
                         f"{eager.launches} → {compiled.launches}"])
        parts += [Raw("<h3>Predicted by the cost model</h3>"),
                  _table(["target", "description", "eager", "graphopt", "speedup", "MFU", "launches"], rows,
                         numeric={2, 3, 4, 5, 6})]
    else:
        parts.append(_p("no cost data (the dump has no cost.json)", "empty"))
    if report.measured:
        m = report.measured
        parts.append(_p(f"Measured on this machine (median of paired runs): eager {fmt.seconds(m.eager_s)}, "
                        f"graphopt {fmt.seconds(m.compiled_s)}, speedup {fmt.ratio(m.speedup)}."))
    for f in report.failures:
        parts.append(_p(f"{f.graph} fell back to eager: {f.error.strip()} (repro in {f.folder})", "note"))
    return _section("summary", "Summary", parts)


def _roofline(report: Report) -> str:
    if not report.targets:
        return _section("roofline", "Roofline", [_p("no cost data (the dump has no cost.json)", "empty")])
    target = next(t for t in report.targets if t.name == report.target)
    return _section("roofline", f"Roofline: {target.name}", [
        _p(f"{target.description}. Each circle is a kernel or contraction at its arithmetic intensity "
           "and attained FLOP/s (from the predicted time; on host-cpu from the time measured on this "
           "machine where there is one); hover for details.",
           "note"),
        Raw(svg.roofline(report))])


def _fusion(report: Report) -> str:
    parts = []
    for g in report.graphs:
        rows = [[_name(s.name), sum(1 for o in s.ops if o != "constant"), _ops(s.ops),
                 _types(g, s.outputs), s.where] for s in g.kernels]
        parts += [Raw(f"<h3>{escape(g.name)}</h3>"),
                  _table(["kernel", "ops", "fused ops, in order", "output", "from"], rows, {1})
                  if rows else _p("no fused kernels", "empty")]
    return _section("fusion", "Fusion: the ops in each kernel", parts)


def _memory(report: Report) -> str:
    parts = [_p("Each rectangle is a buffer of the graph's arena: it spans the steps from the one that "
                "writes it to the last one that reads it (through views), at its offset.", "note")]
    for g in report.graphs:
        buffers = sum(1 for v in g.values if v.storage == "arena")
        parts += [Raw(f"<h3>{escape(g.name)}</h3>"),
                  _p(f"arena {fmt.nbytes(g.arena_size)} for {buffers} buffers; "
                     f"{fmt.nbytes(g.naive_size)} without reuse")]
        parts.append(Raw(svg.arena_timeline(g)) if buffers else _p("no arena buffers", "empty"))
    return _section("memory", "Memory plan", parts)


def _types(g: Graph, values: list[int]) -> Raw:
    return Raw("<br>".join(f'<span class="type">{escape(g.values[v].type)}</span>' for v in values))


def _source(step: Step) -> Raw:
    return Raw("".join(f"<details><summary>{escape(lang)}</summary><pre>{escape(code)}</pre></details>"
                       for lang, code in step.source.items()))


def _kernel_rows(report: Report, g: Graph) -> list[list]:
    rows = []
    for s in g.steps:
        c = s.costs.get(report.target)
        cost = ([c.bound, fmt.count(c.flops), fmt.nbytes(c.bytes_read + c.bytes_written),
                 f"{c.intensity:.3g}", fmt.seconds(c.predicted_s)] if c else ["-"] * 5)
        registers = ", ".join(f"{arch}: {info.get('registers', '?')}" for arch, info in sorted(s.cuda.items()))
        rows.append([s.index, s.kind, _name((s.kernel or s.symbol or s.callee or "")
                           + (f" (runs {s.shares})" if s.shares else "")),
                     fmt.ops_summary(s.ops) if s.ops else "", _types(g, s.outputs), s.where, *cost,
                     fmt.seconds(s.measured_s), registers, _source(s)])
    return rows


def _kernels(report: Report) -> str:
    header = ["step", "kind", "name", "fused ops", "outputs", "from", "bound", "FLOPs", "bytes",
              "FLOP/B", "predicted", "measured", "registers", "source"]
    parts = [_p(f"Every step of the launch plan; costs for {report.target}." if report.target
                else "Every step of the launch plan; no cost data.", "note")]
    for g in report.graphs:
        parts += [Raw(f"<h3>{escape(g.name)}</h3>"),
                  _table(header, _kernel_rows(report, g), {0, 7, 8, 9, 10, 11})]
    return _section("kernels", "Kernels and steps", parts)


def _externs(report: Report) -> str:
    rows = [[g.name, s.index, _name(s.name), g.extern_reason(s),
             _types(g, s.inputs), _types(g, s.outputs), s.where] for g in report.graphs for s in g.externs]
    return _section("externs", "Extern ops (run by torch)", [
        _table(["graph", "step", "op", "reason", "inputs", "outputs", "from"], rows, {1}) if rows
        else _p("none: every ATen op has a native lowering", "empty")])


def render(report: Report) -> str:
    target = next((t for t in report.targets if t.name == report.target), None)
    subtitle = f"costs for {target.name}: {target.description}" if target else "no cost data"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>graphopt report</title>", f"<style>{CSS}</style></head><body>",
        f'<h1>graphopt report</h1><p class="sub">{escape(subtitle)}</p>',
        _summary(report), _roofline(report), _fusion(report), _memory(report), _kernels(report),
        _externs(report), "</body></html>", ""])
