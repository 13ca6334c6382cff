"""Number formatting shared by the terminal table and the HTML page."""
from __future__ import annotations

from collections import Counter


def _scaled(x: float, base: float, prefixes: str) -> tuple[float, str]:
    i = 0
    while abs(x) >= base and i < len(prefixes) - 1:
        x /= base
        i += 1
    return x, prefixes[i].strip()


def _three_digits(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def count(x: float) -> str:
    """FLOPs and other counts: 10.2K, 3.4M."""
    v, p = _scaled(x, 1000, " KMGTPE")
    return _three_digits(v) + p


def nbytes(n: float) -> str:
    v, p = _scaled(n, 1024, " KMGTP")
    return f"{_three_digits(v)} {p}iB" if p else f"{n:.0f} B"


def seconds(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= scale:
            return f"{_three_digits(s / scale)} {unit}"
    return f"{_three_digits(s / 1e-9)} ns"


def rate(flops_per_s: float) -> str:
    v, p = _scaled(flops_per_s, 1000, " KMGTPE")
    return f"{_three_digits(v)} {p}FLOP/s"


def bandwidth(bytes_per_s: float) -> str:
    v, p = _scaled(bytes_per_s, 1000, " KMGTP")
    return f"{_three_digits(v)} {p}B/s"


def ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def speedup(eager, compiled) -> str:
    """Predicted speedup from two model.Totals."""
    return ratio(eager.time_s / compiled.time_s if compiled.time_s else None)


def first_line(message: str) -> str:
    """A message's first line, with the next one when the first only introduces
    it ("parsing the imported module failed:" + the diagnostic)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()] or [""]
    return " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def ops_summary(ops: list[str]) -> str:
    """A kernel's fused ops, in first-seen order, repeats counted and constants left out:
    'mul×4 erf add'."""
    counts = Counter(op for op in ops if op != "constant")
    return " ".join(op if n == 1 else f"{op}×{n}" for op, n in counts.items()) or "constant"
