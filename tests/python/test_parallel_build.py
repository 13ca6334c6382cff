"""A graph's CPU kernels compile as one translation unit per core when the
source is large, in parallel, and link into one library."""
import torch

from graphopt.runtime import cpp_compiler

SOURCE = """// preamble
#include <cstdint>

extern "C" void k0(float *x) { x[0] = 0; }

extern "C" void k1(float *x) { x[0] = 1; }

extern "C" void k2(float *x) { x[0] = 2; }
"""


def test_split_keeps_every_kernel_once_in_order_with_the_preamble():
    for parts in (1, 2, 3, 8):
        chunks = cpp_compiler.split_source(SOURCE, parts)
        assert len(chunks) == min(parts, 3)
        assert all(c.startswith("// preamble\n#include <cstdint>\n") for c in chunks)
        bodies = [line for c in chunks for line in c.splitlines() if line.startswith('extern "C"')]
        assert bodies == [line for line in SOURCE.splitlines() if line.startswith('extern "C"')]
    assert cpp_compiler.split_source("int x;\n", 4) == ["int x;\n"]


def test_split_build_runs_like_one_unit(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHOPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cpp_compiler, "_SPLIT_MIN_CHARS", 1)
    monkeypatch.setattr(cpp_compiler, "_jobs", lambda: 3)
    calls = []
    real_run = cpp_compiler._run
    monkeypatch.setattr(cpp_compiler, "_run", lambda argv: calls.append(argv) or real_run(argv))
    cpp_compiler.load_kernel_library.cache_clear()

    def f(x, w):
        h = torch.softmax(x @ w, dim=-1)       # a row kernel
        g = torch.nn.functional.gelu(h @ w)    # a pointwise kernel
        return torch.layer_norm(g @ w, [64])   # another row kernel

    x, w = torch.randn(32, 64), torch.randn(64, 64)
    y = torch.compile(f, backend="graphopt", options={"strict": True})(x, w)
    torch.testing.assert_close(y, f(x, w), rtol=1e-4, atol=1e-5)
    compiles = [a for a in calls if "-c" in a]
    links = [a for a in calls if "-c" not in a]
    assert len(compiles) == 3 and len(links) == 1, calls
    assert all(a[-1].endswith(".o") for a in compiles)
    cpp_compiler.load_kernel_library.cache_clear()
