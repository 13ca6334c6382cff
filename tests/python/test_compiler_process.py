"""The C++ compiler runs in a process of its own (graphopt.compiler_process):
the training process never maps libMLIR or libLLVM, a compiler crash costs
one graph an eager fallback, and an idle compiler process exits and comes back."""
import json
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import graphopt
from graphopt import compiler_process


@pytest.fixture
def own_process(monkeypatch):
    """A compiler process of this test's own; the next test starts a fresh one."""
    compiler_process._PROCESS.stop()
    yield compiler_process._PROCESS
    compiler_process._PROCESS.stop()


def test_training_process_never_maps_the_compiler_libraries():
    script = textwrap.dedent("""
        import json, torch, graphopt
        model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 4))
        x = torch.randn(8, 16)
        loss = torch.compile(model, backend="graphopt", options={"strict": True})(x).sum()
        loss.backward()
        maps = open("/proc/self/maps").read()
        print(json.dumps({"kernels": [g.kernels for g in graphopt.compiled_graphs()],
                          "mlir": "libMLIR" in maps, "llvm": "libLLVM" in maps}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(result["kernels"]) == 2 and all(k > 0 for k in result["kernels"])  # forward, backward
    assert result == {**result, "mlir": False, "llvm": False}


def test_a_compile_error_comes_back_located_with_its_pass(own_process):
    with pytest.raises(compiler_process.CompileError, match=r"error: .*expected") as info:
        compiler_process.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : }")
    assert info.value.failed_pass == "parse"
    # The process survives a rejected module and goes on serving.
    assert "graphopt-fuse" in compiler_process.pipeline()


def test_a_crashing_compiler_process_costs_one_graph_an_eager_fallback(own_process, monkeypatch):
    crash = "import os, signal; os.read(0, 8); os.kill(os.getpid(), signal.SIGSEGV)"
    monkeypatch.setattr(compiler_process, "_worker_command", lambda: [sys.executable, "-c", crash])
    fn = lambda x: torch.tanh(x) * 3  # noqa: E731
    x = torch.randn(16)
    with pytest.warns(UserWarning, match=r"runs eagerly: CompilerProcessError: graphopt's compiler process "
                                         r"killed by SIGSEGV"):
        out = torch.compile(fn, backend="graphopt")(x)
    torch.testing.assert_close(out, fn(x))
    (stats,) = graphopt.compiled_graphs()
    assert "SIGSEGV" in stats.fallback
    # The next graph gets a new, working process.
    monkeypatch.undo()
    torch._dynamo.reset()
    out = torch.compile(fn, backend="graphopt", options={"strict": True})(x)
    torch.testing.assert_close(out, fn(x))


def test_an_idle_compiler_process_exits_and_the_next_compile_starts_another(own_process, monkeypatch):
    monkeypatch.setattr(compiler_process, "IDLE_SECONDS", 0.2)
    compiler_process.pipeline()
    first = own_process.proc
    deadline = time.monotonic() + 30
    while first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.returncode == 0
    assert "graphopt-plan-memory" in compiler_process.pipeline()
    assert own_process.proc is not first and own_process.proc.poll() is None


def test_artifacts_match_the_in_process_compiler():
    from graphopt import _C
    mlir = textwrap.dedent("""
        func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
          %0 = graphopt.exp %x : tensor<4x8xf32>
          return %0 : tensor<4x8xf32>
        }""")
    local = _C.compile(mlir, capture_passes=True)
    remote = compiler_process.compile(mlir, capture_passes=True)
    for f in ("optimized_ir", "cpu_source", "plan_json", "cuda_source", "cost_json", "cost_table"):
        assert getattr(remote, f) == getattr(local, f), f
    assert [(p.name, p.ir) for p in remote.passes] == [(p.name, p.ir) for p in local.passes]
    assert len(remote.passes) > 3


def test_an_interrupted_exchange_leaves_no_stale_reply_behind(own_process):
    compiler_process.pipeline()
    first = own_process.proc

    class Interrupted:
        def __init__(self, stream):
            self.stream = stream

        def read(self, n):
            raise KeyboardInterrupt  # Ctrl-C while the compiler works
    first.stdout = Interrupted(first.stdout)
    with pytest.raises(KeyboardInterrupt):
        compiler_process.builtin_targets()
    assert first.poll() is not None  # the process that owed a reply is gone
    # The next call gets its own answer, not the interrupted one's.
    assert "graphopt-fuse" in compiler_process.pipeline()
