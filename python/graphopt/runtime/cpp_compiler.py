"""Compile one graph's kernels into a shared library, cached on disk.

Three kinds of kernel source: "cpp" (the CPU kernels, g++), "cuda" (the
CUDA kernels, nvcc, for a GPU) and "cuda-emulated" (the same CUDA source as
host C++ against graphopt_simt.h, to run it on the CPU in tests).

Cache safety:
- the key hashes the source, the support headers, the compiler and its
  version, the flags and graphopt's version: a library is reused only when it
  would be rebuilt bit for bit;
- an entry is built in a temporary folder and renamed into place, under an
  exclusive lock per key, so concurrent processes build it once and never see
  a half-written file;
- each library has a SHA-256 sidecar, checked before loading: a corrupted or
  truncated entry is rebuilt;
- the cache folder is created 0700 and used only when the current user owns
  it and nobody else can write to it; a folder that is unsafe, read-only or
  full makes graphopt compile into a private temporary folder instead (one
  warning per process).
Compilers run from an argument list, never through a shell.
"""
from __future__ import annotations

import ctypes
import fcntl
import functools
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path

from .. import config
from ..progress import Progress

log = logging.getLogger("graphopt")

# -fno-math-errno lets sqrt vectorize; -fno-trapping-math lets GCC compute
# both arms of a select (graphopt_math::log's), since no kernel reads the
# floating-point exception flags. Neither changes a result; no -ffast-math,
# which would: results must match eager.
CXXFLAGS = ["-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-fno-trapping-math",
            "-std=c++17", "-shared", "-fPIC", "-w"]
# The emulation runs every CUDA thread as a coroutine: -O1 compiles fast enough.
SIMT_FLAGS = ["-O1", "-std=c++17", "-shared", "-fPIC", "-w", "-include", "graphopt_simt.h",
              "-x", "c++"]
NVCC_FLAGS = ["-O3", "-std=c++17", "--expt-relaxed-constexpr", "-shared", "-Xcompiler", "-fPIC",
              "-arch=native", "-w"]
INCLUDE_DIR = Path(__file__).parent / "include"
_warned: set = set()


def find_nvcc() -> str | None:
    """nvcc from $NVCC, PATH, /usr/local/cuda, or PyPI's nvidia-cuda-nvcc
    (which `make deps` installs where the system has none)."""
    candidates = [os.environ.get("NVCC"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"]
    try:
        import nvidia  # namespace package of NVIDIA's PyPI wheels
        candidates += sorted(str(p) for d in nvidia.__path__ for p in Path(d).glob("*/bin/nvcc"))
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def _compiler(kind: str = "cpp") -> tuple[str, str]:
    if kind == "cuda":
        cxx = find_nvcc()
        if not cxx:
            raise RuntimeError("graphopt needs nvcc to build CUDA kernels (set NVCC or install "
                               "the CUDA toolkit, or pip's nvidia-cuda-nvcc)")
    else:
        cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
        if not cxx:
            raise RuntimeError("graphopt needs a C++ compiler (g++) to build its CPU kernels")
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    return cxx, version.strip() or "unknown"  # all of it: nvcc's last line names the build


def _flags(kind: str) -> list[str]:
    return {"cpp": CXXFLAGS, "cuda-emulated": SIMT_FLAGS, "cuda": NVCC_FLAGS}[kind]


@functools.lru_cache(maxsize=None)
def _headers() -> str:
    """The support headers kernels include; part of every cache key."""
    return "".join(p.read_text() for p in sorted(INCLUDE_DIR.glob("*.h")))


def cache_key(source: str, kind: str = "cpp") -> str:
    from .. import __version__
    cxx, version = _compiler(kind)
    h = hashlib.sha256()
    for part in (source, _headers(), kind, cxx, version, " ".join(_flags(kind)), __version__):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)


def _is_private_dir(path: Path) -> bool:
    """Owned by us and writable by nobody else (so nobody can plant a library)."""
    st = path.stat()
    return st.st_uid == os.getuid() and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def kernel_dir() -> Path | None:
    """The cache's kernel folder, created 0700, or None if it cannot be used safely."""
    root = config.cache_dir()
    folder = root / "kernels"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for p in (root, folder):
            if not _is_private_dir(p):
                _warn_once(f"graphopt: cache folder {p} is writable by other users or not owned by "
                           "you; compiling kernels without caching")
                return None
        if not os.access(folder, os.W_OK):
            raise PermissionError(f"{folder} is read-only")
    except OSError as e:
        _warn_once(f"graphopt: kernel cache unusable ({e}); compiling kernels without caching")
        return None
    return folder


# Source per translation unit below which one more unit costs more than it
# saves: each parses the headers again (~0.13 s here) and the parts are
# linked (~0.02 s); a kernel of ~1000 characters takes ~0.1 s at -O3.
_SPLIT_MIN_CHARS = 3_000


def _jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def split_source(source: str, parts: int) -> list[str]:
    """The kernels of one source in up to `parts` translation units of about
    equal length, each with the source's preamble (the includes). Kernels are
    the top-level `extern "C"` functions and share nothing else."""
    marker = '\nextern "C" '
    first = source.find(marker)
    if parts < 2 or first < 0:
        return [source]
    preamble, rest = source[:first + 1], source[first + 1:]
    kernels = ['extern "C" ' + k for k in rest.split(marker[1:]) if k.strip()]
    if len(kernels) < 2:
        return [source]
    target = sum(map(len, kernels)) / min(parts, len(kernels))
    chunks, current = [], []
    for k in kernels:
        if current and sum(map(len, current)) + len(k) / 2 > target and len(chunks) + 1 < parts:
            chunks.append(current)
            current = []
        current.append(k)
    chunks.append(current)
    return [preamble + "".join(c) for c in chunks]


def _run(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _failures(jobs: list[subprocess.Popen]) -> list[str]:
    """Waits for every job (reading its pipes, so none blocks on a full one);
    the stderr of those that failed."""
    outputs = [job.communicate()[1] for job in jobs]
    return [err for job, err in zip(jobs, outputs) if job.returncode != 0]


def _compile(source: str, out: Path, kind: str = "cpp") -> None:
    """Builds `out` from `source`. CPU sources large enough are split into one
    translation unit per core, compiled in parallel and linked."""
    cxx, _ = _compiler(kind)
    suffix = ".cpp" if kind == "cpp" else ".cu"
    kernels = source.count('extern "C"')
    parts = split_source(source, min(_jobs(), len(source) // _SPLIT_MIN_CHARS)) if kind == "cpp" else [source]
    with Progress(f"compiling {kernels} {kind} kernel{'s' if kernels != 1 else ''} with {Path(cxx).name}"
                  + (f" ({len(parts)} parallel parts)" if len(parts) > 1 else "")):
        if len(parts) == 1:
            src = out.with_suffix(suffix)
            src.write_text(source)
            jobs = [_run([cxx, *_flags(kind), "-I", str(INCLUDE_DIR), str(src), "-o", str(out)])]
        else:
            jobs, objects = [], []
            for i, part in enumerate(parts):
                src, obj = out.with_name(f"{out.stem}.{i}{suffix}"), out.with_name(f"{out.stem}.{i}.o")
                src.write_text(part)
                objects.append(str(obj))
                jobs.append(_run([cxx, *_flags(kind), "-c", "-I", str(INCLUDE_DIR), str(src), "-o", str(obj)]))
        errors = _failures(jobs)
        if not errors and len(parts) > 1:
            errors = _failures([_run([cxx, "-shared", "-fopenmp", *objects, "-o", str(out)])])
    if errors:
        raise RuntimeError(f"{Path(cxx).name} failed on graphopt's {kind} kernels:\n"
                           f"{errors[0][-4000:]}")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _valid_entry(lib: Path, checksum: Path) -> bool:
    try:
        return lib.exists() and checksum.read_text().strip() == _digest(lib)
    except OSError:
        return False


def _build_entry(source: str, folder: Path, key: str, kind: str = "cpp") -> Path:
    """Builds (or finds) the cached library for `key` under a per-key lock."""
    lib, checksum = folder / f"{key}.so", folder / f"{key}.sha256"
    if _valid_entry(lib, checksum):
        log.debug("kernel cache hit %s", lib)
        return lib
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _valid_entry(lib, checksum):  # another process built it meanwhile
            return lib
        if lib.exists():
            log.warning("graphopt: cached kernel library %s failed its checksum; rebuilding", lib)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as tmp:
            out = Path(tmp) / "kernels.so"
            _compile(source, out, kind)
            digest = _digest(out)
            tmp_sum = Path(tmp) / "kernels.sha256"
            tmp_sum.write_text(digest + "\n")
            os.replace(out, lib)        # the library first, then its checksum:
            os.replace(tmp_sum, checksum)  # a reader sees a valid pair or rebuilds
    return lib


@functools.lru_cache(maxsize=256)
def load_kernel_library(source: str, kind: str = "cpp") -> ctypes.CDLL:
    """The loaded library for `source` (of `kind`), built once per cache folder."""
    key = cache_key(source, kind)
    folder = kernel_dir()
    if folder is not None:
        try:
            return ctypes.CDLL(str(_build_entry(source, folder, key, kind)))
        except OSError as e:  # full disk, permissions changed under us
            _warn_once(f"graphopt: kernel cache unusable ({e}); compiling kernels without caching")
    private = Path(tempfile.mkdtemp(prefix="graphopt-kernels-"))  # 0700 by construction
    out = private / f"{key}.so"
    _compile(source, out, kind)
    return ctypes.CDLL(str(out))


def cache_info() -> dict:
    """What the kernel cache holds."""
    folder = config.cache_dir() / "kernels"
    libs = sorted(folder.glob("*.so")) if folder.exists() else []
    return {"path": str(folder), "libraries": len(libs),
            "bytes": sum(p.stat().st_size for p in libs)}


def clear_cache() -> int:
    """Removes every cached library; returns how many there were."""
    folder = config.cache_dir() / "kernels"
    if not folder.exists():
        return 0
    count = len(list(folder.glob("*.so")))
    shutil.rmtree(folder)
    load_kernel_library.cache_clear()
    return count
