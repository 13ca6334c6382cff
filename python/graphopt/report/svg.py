"""The report's two plots as inline SVG: the roofline of the chosen target and
each graph's arena timeline."""
from __future__ import annotations

import math
from html import escape

from ..cost import HOST_CPU
from . import fmt
from .model import COMPUTE_KINDS, Graph, Report

WIDTH, LEFT, RIGHT, TOP, BOTTOM = 760, 90, 20, 16, 44
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def graph_color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


class _LogAxis:
    """Maps values to pixels on a log scale spanning whole decades around `values`."""

    def __init__(self, values, lo_px: float, hi_px: float):
        logs = [math.log10(v) for v in values if v > 0]
        self.lo, self.hi = math.floor(min(logs)), math.ceil(max(logs))
        if self.hi - self.lo < 2:
            self.lo, self.hi = self.lo - 1, self.hi + 1
        self.lo_px, self.hi_px = lo_px, hi_px

    def __call__(self, v: float) -> float:
        t = (math.log10(v) - self.lo) / (self.hi - self.lo) if v > 0 else 0.0
        return self.lo_px + min(max(t, 0.0), 1.0) * (self.hi_px - self.lo_px)

    def decades(self):
        return [10.0 ** k for k in range(self.lo, self.hi + 1)]


def _svg(height: int, label: str, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}">'
            + "".join(parts) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "middle", cls: str = "tick",
          vertical: bool = False) -> str:
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if vertical else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}"{turn}>'
            f'{escape(text)}</text>')


def roofline(report: Report) -> str:
    """Each kernel and contraction of every graph at (FLOPs per byte, attained
    FLOP/s), under the target's memory slope and its vector and matmul peaks.
    Attained uses the predicted time, or on host-cpu the time measured on this
    machine where there is one: a measurement belongs on its own machine's roofline."""
    t = report.target
    target = next(x for x in report.targets if x.name == t)
    here = t == HOST_CPU
    bw = target.memory_bandwidth
    points = []  # (graph number, graph, step, cost, seconds, attained FLOP/s)
    for i, g in enumerate(report.graphs):
        for s in g.steps:
            c = s.costs.get(t)
            if s.kind in COMPUTE_KINDS and c:
                seconds = s.measured_s if here and s.measured_s else c.predicted_s
                points.append((i, g, s, c, seconds, c.flops / seconds if seconds else 0.0))
    peaks = [target.peak_flops_vector, target.peak_flops_matmul]
    height = 440
    x = _LogAxis([p[3].intensity for p in points] + [r / bw for r in peaks] + [r / bw * 10 for r in peaks],
                 LEFT, WIDTH - RIGHT)
    y = _LogAxis([p[5] for p in points] + [r * 2 for r in peaks], height - BOTTOM, TOP)
    x0, x1 = 10.0 ** x.lo, 10.0 ** x.hi
    parts = ['<defs><clipPath id="roofline-area">'
             f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{height - TOP - BOTTOM}"/>'
             '</clipPath></defs>']
    for v in x.decades():
        parts += [f'<line class="grid" x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{TOP}" y2="{height - BOTTOM}"/>',
                  _text(x(v), height - BOTTOM + 16, fmt.count(v))]
    for v in y.decades():
        parts += [f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>',
                  _text(LEFT - 6, y(v) + 4, fmt.rate(v), "end")]
    parts += [_text((LEFT + WIDTH - RIGHT) / 2, height - 6, "arithmetic intensity (FLOPs per byte moved)",
                    cls="axis"),
              _text(14, TOP + (height - TOP - BOTTOM) / 2, "attained FLOP/s", cls="axis", vertical=True)]
    # One roof per distinct peak: on many GPUs the f32 matmul and vector peaks are equal.
    roofs: dict[float, list[str]] = {}
    for name, peak in (("vector", target.peak_flops_vector), ("matmul", target.peak_flops_matmul)):
        roofs.setdefault(peak, []).append(name)
    for peak, names in roofs.items():
        line = [(x0, bw * x0), (peak / bw, peak), (x1, peak)]
        parts.append(f'<polyline class="roof roof-{"-".join(names)}" clip-path="url(#roofline-area)" points="'
                     + " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in line) + '"/>')
        parts.append(_text(WIDTH - RIGHT - 4, y(peak) - 5, f"{' = '.join(names)} peak {fmt.rate(peak)}",
                           "end", "roof-label"))
    parts.append(_text(x(x0) + 6, y(bw * x0) - 8, f"memory {fmt.bandwidth(bw)}", "start", "roof-label"))
    for i, g, s, c, seconds, flops_per_s in points:
        tip = (f"{g.name} step {s.index} {s.name}"
               + (f" [{fmt.ops_summary(s.ops)}]" if s.ops else "")
               + f": {c.intensity:.3g} FLOP/B, {fmt.rate(flops_per_s)}, {c.bound}-bound, "
               + f"predicted {fmt.seconds(c.predicted_s)}"
               + (f", measured {fmt.seconds(s.measured_s)}" if s.measured_s else "")
               + f"; attained from the {'measured' if seconds != c.predicted_s else 'predicted'} time")
        parts.append(f'<circle class="kernel-point" data-graph="{escape(g.name)}" data-step="{s.index}" '
                     f'cx="{x(c.intensity):.1f}" cy="{y(flops_per_s):.1f}" r="5" '
                     f'fill="{graph_color(i)}"><title>{escape(tip)}</title></circle>')
    for i, g in enumerate(report.graphs):
        parts += [f'<rect x="{LEFT + 10}" y="{TOP + 8 + 16 * i}" width="10" height="10" '
                  f'fill="{graph_color(i)}"/>',
                  _text(LEFT + 26, TOP + 17 + 16 * i, g.name, "start", "legend")]
    return _svg(height, f"roofline of {t}", parts)


def arena_timeline(graph: Graph) -> str:
    """One rectangle per arena buffer: x spans the steps it lives over, y its bytes
    in the arena (offset 0 at the top)."""
    height, steps, size = 240, max(len(graph.steps), 1), max(graph.arena_size, 1)

    def x(step):
        return LEFT + step / steps * (WIDTH - LEFT - RIGHT)

    def y(offset):
        return TOP + offset / size * (height - TOP - BOTTOM)

    parts = [f'<rect class="arena" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
             f'height="{height - TOP - BOTTOM}"/>']
    every = max(1, math.ceil(steps / 12))
    for k in range(0, steps + 1, every):
        parts.append(_text(x(k), height - BOTTOM + 16, str(k)))
    for offset in (0, size / 2, size):
        parts.append(_text(LEFT - 6, y(offset) + 4, fmt.nbytes(offset), "end"))
    parts.append(_text((LEFT + WIDTH - RIGHT) / 2, height - 6, "step", cls="axis"))
    for n, (v, first, last) in enumerate(graph.buffer_lifetimes()):
        tip = (f"value {v.id} {v.type}: {fmt.nbytes(v.nbytes)} at offset {v.offset}, "
               f"steps {first}-{last}")
        parts.append(f'<rect class="buffer" data-value="{v.id}" x="{x(first):.1f}" y="{y(v.offset):.1f}" '
                     f'width="{x(last + 1) - x(first):.1f}" '
                     f'height="{max(y(v.offset + v.nbytes) - y(v.offset), 1.0):.1f}" '
                     f'fill="{graph_color(n)}"><title>{escape(tip)}</title></rect>')
    return _svg(height, f"arena timeline of {graph.name}", parts)
