"""The kernel cache: concurrency, corruption, unusable folders, keys, clearing."""
import errno
import os
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from graphopt.runtime import cpp_compiler

SOURCE = '#include <cstdint>\nextern "C" int64_t graphopt_probe() { return 42; }\n'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHOPT_CACHE_DIR", str(tmp_path / "cache"))
    cpp_compiler.load_kernel_library.cache_clear()
    cpp_compiler._warned.clear()
    yield tmp_path / "cache"
    cpp_compiler.load_kernel_library.cache_clear()


def probe(lib):
    fn = lib.graphopt_probe
    fn.restype = __import__("ctypes").c_int64
    return fn()


def test_entry_is_private_and_checksummed(cache):
    assert probe(cpp_compiler.load_kernel_library(SOURCE)) == 42
    folder = cache / "kernels"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    key = cpp_compiler.cache_key(SOURCE)
    assert (folder / f"{key}.so").exists() and (folder / f"{key}.sha256").exists()


def _load_in_fresh_process(cache):
    script = textwrap.dedent(f"""
        from graphopt.runtime import cpp_compiler
        lib = cpp_compiler.load_kernel_library({SOURCE!r})
        lib.graphopt_probe.restype = __import__("ctypes").c_int64
        assert lib.graphopt_probe() == 42
    """)
    env = dict(os.environ, GRAPHOPT_CACHE_DIR=str(cache))
    return subprocess.Popen([sys.executable, "-c", script], env=env)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupted_entry_is_detected_and_rebuilt(cache, damage):
    # Each load runs in a fresh process: a library is never damaged while
    # mapped, and dlopen would hand back the mapping it already has.
    assert _load_in_fresh_process(cache).wait() == 0
    lib = cache / "kernels" / f"{cpp_compiler.cache_key(SOURCE)}.so"
    good = lib.read_bytes()
    lib.write_bytes(good[:100] if damage == "truncated" else bytes(len(good)))
    assert _load_in_fresh_process(cache).wait() == 0
    assert lib.read_bytes() == good  # rebuilt bit for bit


def test_concurrent_processes_build_once(cache):
    procs = [_load_in_fresh_process(cache) for _ in range(4)]
    assert [p.wait() for p in procs] == [0] * 4
    assert len(list((cache / "kernels").glob("*.so"))) == 1
    assert not list((cache / "kernels").glob(".build-*"))  # no half-written leftovers


@pytest.mark.parametrize("error", [errno.EROFS, errno.ENOSPC], ids=["read_only", "disk_full"])
def test_read_only_or_full_cache_warns_once_and_still_works(cache, monkeypatch, error):
    def failing_build(source, folder, key, kind):
        raise OSError(error, os.strerror(error))
    monkeypatch.setattr(cpp_compiler, "_build_entry", failing_build)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for extra in ("", "// second graph\n"):
            assert probe(cpp_compiler.load_kernel_library(SOURCE + extra)) == 42
    assert sum("without caching" in str(w.message) for w in caught) == 1


def test_unwritable_cache_location_warns_once_and_still_works(cache, monkeypatch):
    # A cache path under a regular file cannot be created (the same path a
    # full or read-only disk takes: an OSError from mkdir or write).
    blocker = cache.parent / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("GRAPHOPT_CACHE_DIR", str(blocker / "cache"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert probe(cpp_compiler.load_kernel_library(SOURCE)) == 42
        cpp_compiler.load_kernel_library.cache_clear()
        assert probe(cpp_compiler.load_kernel_library(SOURCE)) == 42
    assert sum("without caching" in str(w.message) for w in caught) == 1


def test_folder_writable_by_others_is_not_used(cache):
    (cache / "kernels").mkdir(parents=True)
    os.chmod(cache / "kernels", 0o777)
    with pytest.warns(UserWarning, match="writable by other users"):
        assert probe(cpp_compiler.load_kernel_library(SOURCE)) == 42
    assert not list((cache / "kernels").glob("*.so"))


def test_key_covers_source_flags_compiler_and_version(cache, monkeypatch):
    import graphopt
    base = cpp_compiler.cache_key(SOURCE)
    assert cpp_compiler.cache_key(SOURCE + " ") != base
    monkeypatch.setattr(cpp_compiler, "CXXFLAGS", cpp_compiler.CXXFLAGS + ["-DX"])
    assert cpp_compiler.cache_key(SOURCE) != base
    monkeypatch.undo()
    monkeypatch.setattr(graphopt, "__version__", "0.0.0-other")
    assert cpp_compiler.cache_key(SOURCE) != base
    cpp_compiler._compiler.cache_clear()
    monkeypatch.setattr(cpp_compiler, "_compiler", lambda kind="cpp": ("g++", "g++ (other) 1.0"))
    assert cpp_compiler.cache_key(SOURCE) != base
    monkeypatch.undo()
    cpp_compiler._compiler.cache_clear()
    # The same source built as emulated CUDA is another library.
    assert cpp_compiler.cache_key(SOURCE, "cuda-emulated") != cpp_compiler.cache_key(SOURCE)


def test_cli_cache_info_and_clear(cache):
    cpp_compiler.load_kernel_library(SOURCE)
    env = dict(os.environ, GRAPHOPT_CACHE_DIR=str(cache))
    info = subprocess.run([sys.executable, "-m", "graphopt.cli", "cache", "info"],
                          capture_output=True, text=True, env=env)
    assert info.returncode == 0 and "1 libraries" in info.stdout
    clear = subprocess.run([sys.executable, "-m", "graphopt.cli", "cache", "clear"],
                           capture_output=True, text=True, env=env)
    assert clear.returncode == 0 and "removed 1" in clear.stdout
    assert not (cache / "kernels").exists()


def test_compiler_runs_without_a_shell(cache, monkeypatch):
    calls = []
    real_popen = subprocess.Popen

    def spy(cmd, *a, **k):
        calls.append((cmd, k.get("shell", False)))
        return real_popen(cmd, *a, **k)
    monkeypatch.setattr(cpp_compiler.subprocess, "Popen", spy)
    cpp_compiler.load_kernel_library(SOURCE + "// spy\n")
    compiles = [c for c in calls if "-shared" in c[0]]
    assert compiles and all(isinstance(cmd, list) and not shell for cmd, shell in compiles)
    out_path = Path(compiles[0][0][compiles[0][0].index("-o") + 1])
    assert str(cache) in str(out_path)  # sources and libraries only inside the cache
