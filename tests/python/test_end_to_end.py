"""torch.compile(backend="graphopt") against eager: forward, backward,
training, fusion counts, fallback, options and dumps."""
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import graphopt
from models import MLPBlock, twin

TOL = dict(rtol=1e-5, atol=1e-5)


def grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def test_mlp_forward_and_gradients_match_eager_with_fewer_kernels():
    eager, model = twin(MLPBlock, 256, 1024)
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    x = torch.randn(4, 32, 256)
    y, y_ref = compiled(x), eager(x)
    torch.testing.assert_close(y, y_ref, **TOL)
    (y * y).mean().backward()
    (y_ref * y_ref).mean().backward()
    g, g_ref = grads(model), grads(eager)
    for name in g_ref:
        torch.testing.assert_close(g[name], g_ref[name], **TOL, msg=lambda m: f"{name}: {m}")

    stats = graphopt.compiled_graphs()
    assert [s.name.split("_")[0] for s in stats] == ["forward", "backward"]
    for s in stats:
        assert s.fallback is None
        assert 0 < s.kernels < s.aten_ops, s
        assert s.extern_ops == []
        assert s.arena_bytes <= s.planned_bytes


def test_training_steps_match_eager():
    eager, model = twin(MLPBlock, 64, 128)
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    opt_e = torch.optim.AdamW(eager.parameters(), lr=1e-3)
    opt_c = torch.optim.AdamW(model.parameters(), lr=1e-3)
    torch.manual_seed(1)
    for _ in range(5):
        x, target = torch.randn(8, 16, 64), torch.randn(8, 16, 64)
        for m, opt in ((eager, opt_e), (compiled, opt_c)):
            opt.zero_grad()
            loss = nn.functional.mse_loss(m(x), target)
            loss.backward()
            opt.step()
            if m is eager:
                loss_e = loss.item()
            else:
                loss_c = loss.item()
        assert loss_c == pytest.approx(loss_e, rel=1e-5)
    for p, q in zip(model.parameters(), eager.parameters()):
        torch.testing.assert_close(p, q, **TOL)


def test_inference_under_no_grad():
    eager, model = twin(MLPBlock, 64, 128)
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    x = torch.randn(2, 8, 64)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), eager(x), **TOL)
    assert graphopt.compiled_graphs()[0].name.startswith("inference")


ELEMENTWISE = [
    lambda x, y: torch.sigmoid(x) * torch.tanh(y) - x.exp().clamp(max=10),
    lambda x, y: torch.relu(x - y) / (y.abs() + 1) + torch.sqrt(x.abs()),
    lambda x, y: torch.where(x > y, x.pow(2), -y) + torch.maximum(x, y) - torch.minimum(x, y),
    lambda x, y: torch.rsqrt(x * x + 1) * torch.log(y.abs() + 1) + torch.erf(x),
    lambda x, y: x.sum(-1, keepdim=True) * y + x.amax(0) - y.mean(),
    lambda x, y: torch.softmax(x, dim=-1) * y,
    lambda x, y: x.t() @ y + x.transpose(0, 1).sum(),
    lambda x, y: (x.unsqueeze(0) * y.unsqueeze(1)).reshape(-1, 16).var(dim=0),
]


def check_forward_and_backward(fn):
    """fn of two 16x16 inputs, compiled strictly, against eager: the output
    and the gradients of a random weighting of it."""
    x = torch.randn(16, 16, requires_grad=True)
    y = torch.randn(16, 16, requires_grad=True)
    x2, y2 = x.detach().clone().requires_grad_(), y.detach().clone().requires_grad_()
    out = torch.compile(fn, backend="graphopt", options={"strict": True})(x2, y2)
    ref = fn(x, y)
    torch.testing.assert_close(out, ref, **TOL)
    w = torch.randn_like(ref)
    (out * w).sum().backward()
    (ref * w).sum().backward()
    torch.testing.assert_close(x2.grad, x.grad, **TOL)
    torch.testing.assert_close(y2.grad, y.grad, **TOL)


@pytest.mark.parametrize("fn", ELEMENTWISE, ids=[f"graph{i}" for i in range(len(ELEMENTWISE))])
def test_op_mix_forward_and_backward(fn):
    check_forward_and_backward(fn)


def test_extern_ops_run_through_torch():
    fn = lambda x: torch.cumsum(x.exp(), dim=0) * 2  # noqa: E731
    x = torch.randn(8, 4)
    torch.testing.assert_close(torch.compile(fn, backend="graphopt")(x), fn(x), **TOL)
    assert "aten::cumsum.default" in graphopt.compiled_graphs()[0].extern_ops


def test_compiler_failure_falls_back_with_warning_and_repro(tmp_path, monkeypatch):
    from graphopt import compiler_process

    def broken(*a, **k):
        raise RuntimeError("injected failure")
    monkeypatch.setattr(compiler_process, "compile", broken)
    fn = lambda x: x.exp() + 1  # noqa: E731
    x = torch.randn(4)
    with pytest.warns(UserWarning, match=r"graphopt: graph inference_\d+ runs eagerly: RuntimeError: injected failure"):
        out = torch.compile(fn, backend="graphopt", options={"dump_dir": str(tmp_path)})(x)
    torch.testing.assert_close(out, fn(x))
    repro = next(tmp_path.glob("*-failure-*"))
    assert (repro / "imported.mlir").exists()
    assert "graphopt-opt --graphopt-pipeline" in (repro / "repro.sh").read_text()
    assert json.loads((repro / "repro.json").read_text())["error"] == "injected failure"


def test_strict_mode_raises(monkeypatch):
    from graphopt import compiler_process
    monkeypatch.setattr(compiler_process, "compile", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(Exception, match="boom"):
        torch.compile(lambda x: x + 1, backend="graphopt", options={"strict": True})(torch.randn(2))


def test_bad_option_value_is_a_value_error():
    with pytest.raises(ValueError, match=r"'strict' must be a bool, got 'yes'"):
        torch.compile(lambda x: x + 1, backend="graphopt", options={"strict": "yes"})(torch.randn(2))


def test_strict_from_environment(monkeypatch):
    from graphopt.config import Options
    monkeypatch.setenv("GRAPHOPT_STRICT", "1")
    assert Options.from_user(None).strict is True


def test_unknown_option_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown graphopt option\(s\) \['fast'\]; valid options are \['dump_dir', 'kernels', 'profile', 'strict', 'targets', 'verify'\]"):
        torch.compile(lambda x: x + 1, backend="graphopt", options={"fast": True})(torch.randn(2))


def test_dump_dir_has_every_stage(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHOPT_DUMP_DIR", str(tmp_path))
    eager, model = twin(MLPBlock, 32, 64)
    y = torch.compile(model, backend="graphopt")(torch.randn(2, 4, 32))
    y.sum().backward()
    graphs = [st.name for st in graphopt.compiled_graphs()]
    assert [g.split("_")[0] for g in graphs] == ["forward", "backward"]
    for graph in graphs:
        d = tmp_path / graph
        names = {p.name for p in d.iterdir()}
        for expected in ("fx_graph.txt", "imported.mlir", "optimized.mlir", "kernels.cpp", "plan.json"):
            assert expected in names, (graph, names)
        passes = sorted(n for n in names if n.startswith("after-"))
        assert any("graphopt-fuse" in n for n in passes) and any("graphopt-plan-memory" in n for n in passes)
        assert "graphopt.kernel(" in (d / "optimized.mlir").read_text()
        assert 'extern "C" void' in (d / "kernels.cpp").read_text()
        plan = json.loads((d / "plan.json").read_text())
        assert plan["num_kernels"] > 0 and plan["steps"]


def test_dumped_mlir_replays_in_graphopt_opt(tmp_path, monkeypatch):
    tool = os.environ.get("GRAPHOPT_OPT", "build/dev/csrc/tools/graphopt-opt")
    assert Path(tool).exists(), f"{tool} is not built (run make build)"
    monkeypatch.setenv("GRAPHOPT_DUMP_DIR", str(tmp_path))
    torch.compile(lambda x: torch.tanh(x) * 2, backend="graphopt")(torch.randn(8))
    folder = tmp_path / graphopt.compiled_graphs()[0].name
    out = subprocess.run([tool, "--graphopt-pipeline", str(folder / "imported.mlir")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (folder / "optimized.mlir").read_text().strip()


def test_kernel_cache_reuses_libraries(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHOPT_CACHE_DIR", str(tmp_path))
    from graphopt.runtime import cpp_compiler
    cpp_compiler.load_kernel_library.cache_clear()
    fn = lambda x: x.exp() * 3 - 1  # noqa: E731
    torch.compile(fn, backend="graphopt")(torch.randn(4))
    libs = list((tmp_path / "kernels").glob("*.so"))
    assert len(libs) == 1
    mtime = libs[0].stat().st_mtime_ns
    torch._dynamo.reset()
    cpp_compiler.load_kernel_library.cache_clear()
    torch.compile(fn, backend="graphopt")(torch.randn(4))
    assert libs[0].stat().st_mtime_ns == mtime


class SpectralHead(nn.Module):
    """Uses an op graphopt has no lowering for (rfft, complex tensors)."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 16)

    def forward(self, x):
        f = torch.fft.rfft(self.proj(x), dim=-1)
        return (f.abs() ** 2).sum(-1) + torch.tanh(x).mean(-1)


def test_unknown_ops_like_rfft_compile_and_match():
    eager, model = twin(SpectralHead)
    x = torch.randn(4, 16)
    out = torch.compile(model, backend="graphopt", options={"strict": True})(x)
    ref = eager(x)
    torch.testing.assert_close(out, ref, **TOL)
    out.sum().backward()
    ref.sum().backward()
    for p, q in zip(model.parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, **TOL)
    forward = graphopt.compiled_graphs()[0]
    assert "aten::_fft_r2c.default" in forward.extern_ops and forward.kernels > 0


def test_repro_replays_a_real_compiler_error(tmp_path, monkeypatch):
    # Corrupt the imported IR (a result type that contradicts its uses): the C++ side
    # reports the located error, the graph runs eagerly, and the repro's
    # graphopt-opt command fails the same way.
    from graphopt import backend as be
    real_import = be.import_graph

    def corrupting_import(gm, name, **layouts):
        g = real_import(gm, name, **layouts)
        g.mlir = g.mlir.replace("tensor<8xf32>) -> tensor<8xf32>", "tensor<8xf32>) -> tensor<9xf32>", 1)
        return g
    monkeypatch.setattr(be, "import_graph", corrupting_import)
    fn = lambda x: x.exp() + x  # noqa: E731
    x = torch.randn(8)
    with pytest.warns(UserWarning, match=r"runs eagerly: CompileError: parsing the imported module failed"):
        out = torch.compile(fn, backend="graphopt", options={"dump_dir": str(tmp_path)})(x)
    torch.testing.assert_close(out, fn(x))
    repro = next(tmp_path.glob("*-failure-*"))
    info = json.loads((repro / "repro.json").read_text())
    assert info["failed_pass"] == "parse"
    assert "graph.mlir:5:" in info["error"] and "expects different type than prior uses" in info["error"]
    tool = os.environ.get("GRAPHOPT_OPT", "build/dev/csrc/tools/graphopt-opt")
    cmd = info["command"].replace("graphopt-opt", tool, 1).split()
    replay = subprocess.run(cmd, capture_output=True, text=True)
    assert replay.returncode == 1 and "expects different type than prior uses" in replay.stderr


def test_eval_batch_norm_fuses_with_its_relu():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU()).eval()
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
        x = torch.randn(2, 3, 16, 16)
        got = torch.compile(model, backend="graphopt", options={"strict": True})(x)
        torch.testing.assert_close(got, model(x), rtol=1e-5, atol=1e-5)
    (stats,) = graphopt.compiled_graphs()
    assert stats.extern_ops == ["aten::convolution.default"]
    assert stats.kernels == 1
    assert {"rsqrt", "relu"} <= set(stats.kernel_ops[0])


def test_training_batch_norm_sums_take_their_epilogues():
    """A training BatchNorm's per-channel sums run with the pointwise ops of
    their result in the same kernel (mean = sum / N; var / N and rsqrt;
    the backward's sum * (1/N)), instead of a tiny kernel each, and the
    tiny per-channel kernels share one; outputs, gradients and running
    statistics still match eager."""
    eager, model = twin(lambda: nn.BatchNorm2d(8).train())
    x = torch.randn(4, 8, 16, 16)
    xe, xc = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = torch.compile(model, backend="graphopt", options={"strict": True})(xc)
    ref = eager(xe)
    torch.testing.assert_close(out, ref, **TOL)
    (out * ref.detach()).sum().backward()
    (ref * ref.detach()).sum().backward()
    torch.testing.assert_close(xc.grad, xe.grad, **TOL)
    for p, q in zip(model.parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, **TOL)
    for b, c in zip(model.buffers(), eager.buffers()):
        torch.testing.assert_close(b, c, **TOL)
    forward, backward = graphopt.compiled_graphs()
    # The variance's kernel: x - mean squared, summed, then var and rstd.
    assert ["constant", "div", "sub", "mul", "reduce_sum", "div", "constant", "add", "rsqrt"] \
        in forward.kernel_ops, forward.kernel_ops
    # The backward's two sums (dy, dy * x_hat) share one kernel, which reads
    # dy once, with their epilogues and the other per-channel kernels
    # (graphopt-fuse-siblings): the sums' kernel and the input gradient's.
    (sums,) = [ops for ops in backward.kernel_ops if "reduce_sum" in ops]
    assert sums.count("reduce_sum") == 2, sums
    # The forward's two running-statistic updates share a kernel too.
    assert ["constant", "mul", "constant", "mul", "add",
            "constant", "mul", "mul", "mul", "add"] in forward.kernel_ops, forward.kernel_ops
    # Before: 8 forward and 7 backward kernels.
    assert (forward.kernels, backward.kernels) == (5, 2)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1, -2, -0.5, 1.7])
def test_pow_by_a_constant_matches_eager(exponent, tmp_path):
    # torch computes x^2, x^3, sqrt and reciprocals without pow; so do the
    # kernels, bit for bit equal to eager on the multiplies and 1/x (eager's
    # vectorized sqrt is 1 ulp off a correctly rounded one on a few elements).
    fn = lambda x: (x.abs() + 0.1).pow(exponent) * 2  # noqa: E731
    x = torch.randn(64, 256)
    out = torch.compile(fn, backend="graphopt", options={"strict": True, "dump_dir": str(tmp_path)})(x)
    exact = exponent in (2, 3, -1)
    torch.testing.assert_close(out, fn(x), **({"rtol": 0, "atol": 0} if exact else TOL))
    source = next(tmp_path.glob("*/kernels.cpp")).read_text()
    assert ("graphopt_math::pow" in source) == (exponent == 1.7)


SLICING = [
    lambda x, y: torch.cat([a.exp() * b for a, b in zip(x.split(4, -1), y.chunk(4, -1))], -1),
    lambda x, y: x[:, 2:10] * y[:, -8:] + x[:, 5].unsqueeze(1) + y[3:11].sum(0)[:8],
    lambda x, y: (x.view(16, 4, 4)[:, 1:3] * y.view(16, 4, 4)[:, :2]).transpose(1, 2).sum(-1),
    lambda x, y: torch.stack(x.unbind(0)[::3]) + y.narrow(0, 4, 6),
]


@pytest.mark.parametrize("fn", SLICING, ids=[f"graph{i}" for i in range(len(SLICING))])
def test_slices_forward_and_backward(fn):
    check_forward_and_backward(fn)
    # Forward slices are views; their gradients (slice_scatter, cat) are still externs.
    forward = [g for g in graphopt.compiled_graphs() if g.name.startswith("forward")]
    assert forward and not any("slice" in e or "split" in e for g in forward for e in g.extern_ops)


def test_attention_head_split_reads_the_projection_in_place():
    """q, k, v = qkv(x).split(d, -1), each viewed as heads and transposed:
    each head-split kernel reads its third of the projection's output,
    instead of the runtime copying the third to a contiguous tensor first."""
    b, t, d, h = 2, 16, 32, 4
    proj = nn.Linear(d, 3 * d)

    def attention(x):
        q, k, v = proj(x).split(d, dim=-1)
        q, k, v = (z.view(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))
        return torch.softmax(q @ k.transpose(-2, -1), -1) @ v

    x = torch.randn(b, t, d)
    with torch.no_grad():
        out = torch.compile(attention, backend="graphopt", options={"strict": True})(x)
        torch.testing.assert_close(out, attention(x), **TOL)
    (graph,) = graphopt.compiled_graphs()
    assert graph.extern_ops == []
    # The three head-split kernels read the projection output through a slice.
    slicing = [ops for ops in graph.kernel_ops if ops[0] == "slice"]
    assert len(slicing) == 3, graph.kernel_ops
    # k is copied like q and v, along its rows (one permute: the head split);
    # q @ k^T reads the copy through a transposed view (graphopt-layout).
    assert all(ops == ["slice", "permute", "cast"] for ops in slicing), graph.kernel_ops


def test_attention_training_saves_k_transposed_as_a_view(tmp_path):
    """Training attention: k^T, made contiguous for q @ k^T, is also saved for
    the backward graph. The forward copies k along its rows like q and v and
    returns k^T as a transposed view of that copy; the backward graph takes
    that memory as an argument of k's shape (graphopt reports the view's
    strides to AOTAutograd), and no kernel copies k across its rows. The
    gradients match eager's."""
    b, t, d, h = 2, 16, 32, 4
    torch.manual_seed(0)
    proj = nn.Linear(d, 3 * d)

    def attention(x):
        q, k, v = proj(x).split(d, dim=-1)
        q, k, v = (z.view(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))
        return (torch.softmax(q @ k.transpose(-2, -1), -1) @ v).sum()

    x = torch.randn(b, t, d, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    compiled = torch.compile(attention, backend="graphopt",
                             options={"strict": True, "dump_dir": str(tmp_path)})
    out = compiled(x2)
    out.backward()
    ref = attention(x)
    grads = torch.autograd.grad(ref, [x, *proj.parameters()])
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(x2.grad, grads[0], **TOL)
    for p, g in zip(proj.parameters(), grads[1:]):
        torch.testing.assert_close(p.grad, g, **TOL)
    forward = next(g for g in graphopt.compiled_graphs() if g.name.startswith("forward"))
    slicing = [ops for ops in forward.kernel_ops if ops[0] == "slice"]
    assert len(slicing) == 3 and all(ops == ["slice", "permute", "cast"] for ops in slicing), \
        forward.kernel_ops
    backward = next(tmp_path.glob("backward_*"))
    signature = (backward / "imported.mlir").read_text().splitlines()[1]
    heads = b * h
    assert f"tensor<{heads}x{t}x{d // h}xf32>" in signature
    assert f"tensor<{heads}x{d // h}x{t}xf32>" not in signature, signature


def test_repeated_layers_share_kernel_functions(tmp_path):
    """Four identical blocks (a model's repeated layers): their kernels have
    the same code, so the library holds one function per distinct kernel
    and the plan calls it once per block, each time with that block's
    buffers; the results and gradients still match eager."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.norm = nn.Linear(16, 16), nn.LayerNorm(16)

        def forward(self, x):
            return x + torch.tanh(self.norm(self.lin(x)))

    model = nn.Sequential(*[Block() for _ in range(4)])
    compiled = torch.compile(model, backend="graphopt", options={"strict": True, "dump_dir": str(tmp_path)})
    x = torch.randn(8, 16, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    out, ref = compiled(x2), model(x)
    torch.testing.assert_close(out, ref, **TOL)
    w = torch.randn_like(ref)
    params = list(model.parameters())
    grads = torch.autograd.grad((out * w).sum(), [x2, *params])
    torch.testing.assert_close(grads, torch.autograd.grad((ref * w).sum(), [x, *params]), **TOL)
    for folder in sorted(tmp_path.iterdir()):
        plan = json.loads((folder / "plan.json").read_text())
        kernels = [s for s in plan["steps"] if s["kind"] == "kernel"]
        names, symbols = [k["name"] for k in kernels], [k["symbol"] for k in kernels]
        assert len(set(names)) == len(kernels), folder.name
        assert len(kernels) >= 4 and len(set(symbols)) * 2 <= len(kernels), (folder.name, symbols)
        assert set(symbols) <= set(names)  # each function is named after the first kernel it runs
        source = (folder / "kernels.cpp").read_text()
        assert source.count('extern "C"') == len(set(symbols)), folder.name
