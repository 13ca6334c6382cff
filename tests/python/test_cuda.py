"""The CUDA kernels: every kernel emitted for the test models compiles with
nvcc for sm_80 and sm_90 without spills, and the same .cu source, run on the
CPU by the SIMT emulation harness (graphopt_simt.h), matches eager."""
import ctypes
import json

import pytest
import torch
import torch.nn as nn

import graphopt
from graphopt.runtime import cpp_compiler, ptxas
from models import MLPBlock, SmallResNet, gpt2, twin


class SoftmaxNorm(nn.Module):
    """Row reductions at block level: LayerNorm, softmax, log_softmax."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(96)

    def forward(self, x):
        y = self.norm(x)
        return torch.softmax(y, -1) * 2 + torch.log_softmax(y * 0.5, -1).exp() + y.sum(0)


class LongReductions(nn.Module):
    """Reductions long enough for the CUDA emitter to split across blocks:
    BatchNorm's per-channel statistics and gradients over 8 images of 32x32
    (8192 elements per channel: one block per channel, split in ranges), and
    column reductions over 8192 tokens (a Linear's bias gradient, a
    LayerNorm's weight and bias gradients summed together, a max)."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(16)
        self.proj = nn.Linear(16, 32)
        self.norm = nn.LayerNorm(32)

    def forward(self, x):
        tokens = torch.relu(self.bn(x)).flatten(2).transpose(1, 2).reshape(-1, 16)
        z = self.norm(self.proj(tokens))
        return z * z.amax(0)


def _gpt2_loss(m, ids):
    return m(input_ids=ids, labels=ids).loss


# name -> (make twin models, example batch, loss of a model on the batch)
MODELS = {
    "mlp": (lambda: twin(MLPBlock, 64, 256), lambda: (torch.randn(4, 16, 64),),
            lambda m, x: m(x).square().mean()),
    "softmax_norm": (lambda: twin(SoftmaxNorm), lambda: (torch.randn(24, 96),),
                     lambda m, x: m(x).square().sum()),
    "gpt2": (lambda: (gpt2(), gpt2()), lambda: (torch.randint(0, 256, (2, 16)),), _gpt2_loss),
    "resnet": (lambda: twin(SmallResNet), lambda: (torch.randn(2, 3, 16, 16),),
               lambda m, x: m(x).square().mean()),
    "long_reductions": (lambda: twin(LongReductions), lambda: (torch.randn(8, 16, 32, 32),),
                        lambda m, x: m(x).square().mean()),
}


def _train_step(name, kernels, dump_dir=None):
    """Loss and gradients of one step, eager and compiled with `kernels`."""
    make, batch, loss_fn = MODELS[name]
    eager, model = make()
    torch.manual_seed(0)
    inputs = batch()
    options = {"strict": True, "kernels": kernels}
    if dump_dir is not None:
        options["dump_dir"] = str(dump_dir)
    compiled = torch.compile(model, backend="graphopt", options=options)
    results = []
    for m in (eager, compiled):
        loss = loss_fn(m, *inputs)
        loss.backward()
        results.append((loss.detach(), [p.grad for p in m.parameters()]))
    return results


@pytest.mark.parametrize("name", sorted(MODELS))
def test_emulated_cuda_kernels_match_eager(name):
    (loss_e, grads_e), (loss_c, grads_c) = _train_step(name, "cuda-emulated")
    stats = graphopt.compiled_graphs()
    assert stats and all(s.fallback is None for s in stats)
    assert sum(s.kernels for s in stats) > 0, "no kernel went through the CUDA emitter"
    torch.testing.assert_close(loss_c, loss_e, rtol=1e-5, atol=1e-6)
    for i, (gc, ge) in enumerate(zip(grads_c, grads_e)):
        torch.testing.assert_close(gc, ge, rtol=1e-4, atol=1e-5, msg=lambda m: f"grad {i}: {m}")


def test_long_reductions_split_across_blocks(tmp_path):
    """The split reductions of LongReductions (checked against eager by
    test_emulated_cuda_kernels_match_eager) are there: per-output ranges
    (BatchNorm's channel sums) and column ranges (the parameter gradients)."""
    _train_step("long_reductions", "cuda-emulated", dump_dir=tmp_path)
    source = "".join(p.read_text() for p in tmp_path.glob("*/kernels.cu"))
    per_output = source.count("const int64_t o = blockIdx.x / ")
    columns = source.count(" * 32 + threadIdx.x % 32;")
    assert per_output >= 2 and columns >= 2, (per_output, columns)
    assert source.count("_partials_kernel, ") == per_output + columns


def test_cuda_launch_error_names_the_kernel():
    """A launcher's CUDA error (here: no memory for a split reduction's
    partials) becomes an exception naming the kernel, not a silent wrong
    result."""
    from graphopt.runtime.executor import CompiledGraph
    model = torch.compile(nn.Sequential(nn.Linear(8, 8), nn.GELU()), backend="graphopt",
                          options={"strict": True, "kernels": "cuda-emulated", "profile": True})
    with torch.no_grad():
        model(torch.randn(4, 8))
    compiled, inputs = graphopt.compiled_graphs()[-1].runtime
    kernels = [s["symbol"] for s in compiled.plan["steps"] if s["kind"] == "kernel"]
    assert kernels
    assert compiled(*inputs)  # the real kernels run

    class OutOfMemory:
        def __getattr__(self, symbol):
            return lambda *args: 2  # cudaErrorMemoryAllocation

    failing = CompiledGraph(compiled.plan, OutOfMemory(), name="g", kernels="cuda-emulated")
    with pytest.raises(RuntimeError, match=f"CUDA kernel {kernels[0]} failed to launch: "
                                           r"cudaError 2 \(out of memory\)"):
        failing(*inputs)


def test_emulated_bf16_kernels_match_eager():
    eager, model = twin(SoftmaxNorm)
    x = torch.randn(24, 96)
    compiled = torch.compile(model, backend="graphopt", options={"strict": True, "kernels": "cuda-emulated"})
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref = eager(x.bfloat16())
        got = compiled(x.bfloat16())
    assert got.dtype == ref.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), ref.float(), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cuda_kernels_compile_for_sm80_sm90_without_spills(name, tmp_path):
    # `make venv` installs NVIDIA's PyPI nvcc where the system has none, so a
    # missing nvcc is a broken set-up, not a reason to skip.
    assert ptxas.available(), "nvcc not found: run `make venv` (it installs nvidia-cuda-nvcc)"
    _train_step(name, "cpp", dump_dir=tmp_path)
    graphs = sorted(p for p in tmp_path.iterdir() if (p / "kernels.cu").exists())
    assert graphs, "no graph dumped CUDA kernels"
    for graph in graphs:
        plan = json.loads((graph / "plan.json").read_text())
        symbols = {s["symbol"] for s in plan["steps"] if s["kind"] == "kernel"}
        cuda = json.loads((graph / "cost.json").read_text())["cuda"]  # kept in the kernel metadata
        assert set(cuda) == {"sm_80", "sm_90"}
        for arch, kernels in cuda.items():
            assert {k.split("/")[0] for k in kernels} == symbols, f"{graph.name} {arch}: ptxas saw {sorted(kernels)}"
            for sym, st in kernels.items():
                assert st["spill_stores"] == 0 and st["spill_loads"] == 0, f"{graph.name} {arch} {sym}: {st}"
                assert 0 < st["registers"] <= 255 and st["stack_bytes"] >= 0


def test_ptxas_report_parsing():
    report = """ptxas info    : Compiling entry function '_Z21graphopt_fwd_0_k3_kernelPKfPf' for 'sm_90'
ptxas info    : Function properties for _Z21graphopt_fwd_0_k3_kernelPKfPf
    16 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads
ptxas info    : Used 40 registers, used 1 barriers, 128 bytes smem, 368 bytes cmem[0]
ptxas info    : Compiling entry function '_Z26graphopt_fwd_0_k4_vec4_kernelPKfPf' for 'sm_90'
ptxas info    : Function properties for _Z26graphopt_fwd_0_k4_vec4_kernelPKfPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 12 registers, used 0 barriers, 368 bytes cmem[0]
ptxas info    : Compiling entry function '_Z30graphopt_fwd_0_k5_partials_kernelPKfPf' for 'sm_90'
ptxas info    : Function properties for _Z30graphopt_fwd_0_k5_partials_kernelPKfPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 30 registers, used 1 barriers, 1024 bytes smem, 368 bytes cmem[0]
"""
    assert ptxas.parse_ptxas(report) == {
        "graphopt_fwd_0_k3": {"stack_bytes": 16, "spill_stores": 8, "spill_loads": 4, "registers": 40,
                              "barriers": 1, "shared_bytes": 128},
        "graphopt_fwd_0_k4/vec4": {"stack_bytes": 0, "spill_stores": 0, "spill_loads": 0, "registers": 12,
                                   "barriers": 0, "shared_bytes": 0},
        "graphopt_fwd_0_k5/partials": {"stack_bytes": 0, "spill_stores": 0, "spill_loads": 0,
                                       "registers": 30, "barriers": 1, "shared_bytes": 1024}}


# The emulator itself: shuffles, shared memory and barriers at block sizes
# that are and are not a whole number of warps' worth of work.
SIMT_PROBE = r"""
#include "graphopt_cuda.h"
__global__ void probe_kernel(const float *in, float *out, int64_t n) {
  for (int64_t o = blockIdx.x; o < 3; o += gridDim.x) {
    float acc = 0, mx = -1e30f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      acc += in[o * n + i];
      mx = in[o * n + i] > mx ? in[o * n + i] : mx;
    }
    acc = graphopt_block_reduce(acc, 0.0f, graphopt_sum());
    mx = graphopt_block_reduce(mx, -1e30f, graphopt_max());
    if (threadIdx.x == 0) { out[2 * o] = acc; out[2 * o + 1] = mx; }
  }
}
extern "C" void probe(const float *in, float *out, int64_t n, int threads, void *stream) {
  GRAPHOPT_LAUNCH(probe_kernel, 2, threads, stream, in, out, n);
}
"""


@pytest.mark.parametrize("threads,n", [(32, 7), (64, 1000), (256, 300)])
def test_simt_emulator_block_reduce(threads, n):
    lib = cpp_compiler.load_kernel_library(SIMT_PROBE, "cuda-emulated")
    lib.probe.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_void_p]
    x = torch.randn(3, n)
    out = torch.zeros(6)
    lib.probe(x.data_ptr(), out.data_ptr(), n, threads, None)
    torch.testing.assert_close(out[0::2], x.sum(1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out[1::2], x.amax(1))


# The one skip: the GPU runtime path needs a GPU, which CI machines lack; the
# same .cu source runs in CI through the SIMT emulation tests above.
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
@pytest.mark.parametrize("name", ["mlp", "softmax_norm"])
def test_cuda_kernels_on_gpu_match_eager(name):
    make, batch, loss_fn = MODELS[name]
    eager, model = make()
    eager, model = eager.cuda(), model.cuda()
    inputs = [t.cuda() for t in batch()]
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    loss_e, loss_c = loss_fn(eager, *inputs), loss_fn(compiled, *inputs)
    loss_e.backward(), loss_c.backward()
    torch.testing.assert_close(loss_c, loss_e, rtol=1e-4, atol=1e-5)
    for gc, ge in zip([p.grad for p in model.parameters()], [p.grad for p in eager.parameters()]):
        torch.testing.assert_close(gc, ge, rtol=1e-3, atol=1e-4)


VEC_GRAPH = """
func.func @vec(%x: tensor<64x32xf32>, %y: tensor<64x32xf32>) -> tensor<64x32xf32> {
  %m = graphopt.mul %x, %y : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
  %e = graphopt.exp %m : tensor<64x32xf32>
  return %e : tensor<64x32xf32>
}
"""


@pytest.mark.parametrize("offset", [0, 1], ids=["aligned-float4", "unaligned-scalar"])
def test_emulated_vec4_and_scalar_paths(offset):
    from graphopt import _C
    artifact = _C.compile(VEC_GRAPH)
    assert "graphopt_vec_k0_vec4_kernel" in artifact.cuda_source
    lib = cpp_compiler.load_kernel_library(artifact.cuda_source, "cuda-emulated")
    lib.graphopt_vec_k0.argtypes = [ctypes.c_void_p] * 4
    # offset 1: the pointers are 4-byte aligned only, the launcher must not use float4.
    x, y, out = (torch.randn(64 * 32 + 1)[offset:offset + 64 * 32] for _ in range(3))
    assert all((t.data_ptr() % 16 == 0) == (offset == 0) for t in (x, y, out))
    lib.graphopt_vec_k0(x.data_ptr(), y.data_ptr(), out.data_ptr(), None)
    torch.testing.assert_close(out, torch.exp(x * y))
