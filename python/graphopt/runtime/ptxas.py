"""Register, spill and stack use of emitted CUDA kernels, as ptxas reports it.

`nvcc -arch=sm_XX -Xptxas -v -c` compiles a graph's .cu for one GPU
generation; its report is parsed per kernel and cached on disk by content
hash, so a second compile of the same graph costs nothing.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import config
from .cpp_compiler import INCLUDE_DIR, _compiler, _headers, find_nvcc

ARCHS = ("sm_80", "sm_90")
NVCC_CHECK_FLAGS = ["-std=c++17", "--expt-relaxed-constexpr", "-O3", "-Xptxas", "-v", "-c"]

_ENTRY = re.compile(r"Compiling entry function '(\w+)' for '(\w+)'")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers(?:, used (\d+) barriers)?(?:, (\d+) bytes smem)?")
_SYMBOL = re.compile(r"(graphopt_\w+?_k\d+)(?:_(vec4|partials))?_kernel")


def parse_ptxas(report: str) -> dict[str, dict]:
    """Per kernel symbol (`<symbol>/vec4` for a kernel's float4 variant,
    `<symbol>/partials` for the first kernel of a split reduction):
    registers, spill_stores, spill_loads, stack_bytes, shared_bytes, barriers."""
    stats: dict[str, dict] = {}
    current = None
    for line in report.splitlines():
        if m := _ENTRY.search(line):
            sym = _SYMBOL.search(m.group(1))
            name = sym.group(1) + (f"/{sym.group(2)}" if sym.group(2) else "") if sym else m.group(1)
            current = stats.setdefault(name, {})
        elif current is None:
            continue
        elif m := _FRAME.search(line):
            current.update(stack_bytes=int(m[1]), spill_stores=int(m[2]), spill_loads=int(m[3]))
        elif m := _USED.search(line):
            current.update(registers=int(m[1]), barriers=int(m[2] or 0), shared_bytes=int(m[3] or 0))
    return stats


def _compile_report(source: str, arch: str) -> str:
    nvcc, _ = _compiler("cuda")
    with tempfile.TemporaryDirectory(prefix="graphopt-ptxas-") as tmp:
        src = Path(tmp) / "kernels.cu"
        src.write_text(source)
        proc = subprocess.run([nvcc, *NVCC_CHECK_FLAGS, f"-arch={arch}", "-I", str(INCLUDE_DIR),
                               str(src), "-o", str(Path(tmp) / "kernels.o")],
                              capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nvcc -arch={arch} failed on graphopt's CUDA kernels:\n{proc.stderr[-4000:]}")
    return proc.stdout + proc.stderr


def ptxas_stats(source: str, archs=ARCHS) -> dict[str, dict[str, dict]]:
    """{arch: {kernel symbol: stats}} for each arch, compiled in parallel."""
    nvcc, version = _compiler("cuda")
    key = hashlib.sha256("\0".join([source, _headers(), version, " ".join(NVCC_CHECK_FLAGS)])
                         .encode()).hexdigest()[:32]
    folder = config.cache_dir() / "ptxas"
    result, missing = {}, []
    for arch in archs:
        try:
            result[arch] = json.loads((folder / f"{key}-{arch}.json").read_text())
        except (OSError, ValueError):
            missing.append(arch)
    with ThreadPoolExecutor(max_workers=len(missing) or 1) as pool:
        reports = dict(zip(missing, pool.map(lambda a: _compile_report(source, a), missing)))
    for arch, report in reports.items():
        result[arch] = parse_ptxas(report)
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            (folder / f"{key}-{arch}.json").write_text(json.dumps(result[arch]))
        except OSError:
            pass  # a cache that cannot be written only costs a recompile
    return {arch: result[arch] for arch in archs}


def available() -> bool:
    return find_nvcc() is not None
