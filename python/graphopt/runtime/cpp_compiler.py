"""Compile one graph's kernels with g++ into a shared library, cached by content hash.

The cache key covers the source, the compiler's identity and the flags, so a
library is reused only when it would be rebuilt bit for bit. Entries are
written to a temporary file and renamed into place, so concurrent processes
never load a half-written library.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import config

log = logging.getLogger("graphopt")

# -fno-math-errno lets sqrt vectorize; no -ffast-math: results must match eager.
CXXFLAGS = ["-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-std=c++17",
            "-shared", "-fPIC", "-w"]


@functools.lru_cache(maxsize=None)
def _compiler() -> tuple[str, str]:
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        raise RuntimeError("graphopt needs a C++ compiler (g++) to build its CPU kernels")
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    return cxx, version.splitlines()[0] if version else "unknown"


INCLUDE_DIR = Path(__file__).parent / "include"


@functools.lru_cache(maxsize=None)
def _headers() -> str:
    """The support headers kernels include; part of every cache key."""
    return "".join(p.read_text() for p in sorted(INCLUDE_DIR.glob("*.h")))


def cache_key(source: str) -> str:
    cxx, version = _compiler()
    h = hashlib.sha256()
    for part in (source, _headers(), cxx, version, " ".join(CXXFLAGS)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _build(source: str, target: Path) -> None:
    cxx, _ = _compiler()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        src = Path(tmp) / "kernels.cpp"
        src.write_text(source)
        out = Path(tmp) / "kernels.so"
        proc = subprocess.run([cxx, *CXXFLAGS, "-I", str(INCLUDE_DIR), str(src), "-o", str(out)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"g++ failed on graphopt's kernels:\n{proc.stderr[-4000:]}")
        os.replace(out, target)


@functools.lru_cache(maxsize=256)
def load_kernel_library(source: str) -> ctypes.CDLL:
    """The loaded library for `source`, compiled once per cache directory."""
    key = cache_key(source)
    path = config.cache_dir() / "kernels" / f"{key}.so"
    if path.exists():
        log.debug("kernel cache hit %s", path)
    else:
        log.debug("compiling kernels into %s", path)
        _build(source, path)
    return ctypes.CDLL(str(path))
