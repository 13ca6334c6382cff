"""FX -> MLIR: op mapping, type promotion, externs, locations, and that the
C++ side accepts what the importer prints."""
import pytest
import torch
from torch.fx.experimental.proxy_tensor import make_fx

from graphopt import _C
from graphopt.importer import Unsupported, import_graph, supported_ops


def trace(fn, *args):
    return make_fx(fn, tracing_mode="fake")(*args)


def test_elementwise_chain_maps_op_by_op():
    gm = trace(lambda x, y: torch.tanh(x * y + 1.0).exp(), torch.randn(4, 8), torch.randn(8))
    g = import_graph(gm, "chain")
    for op in ("graphopt.mul", "graphopt.add", "graphopt.tanh", "graphopt.exp"):
        assert op in g.mlir, g.mlir
    assert "func.func @chain(%arg0: tensor<4x8xf32>, %arg1: tensor<8xf32>)" in g.mlir
    assert g.num_aten_ops == 4 and g.extern_ops == []
    _C.compile(g.mlir)  # parses and verifies


def test_scalar_and_int_promotion_become_casts():
    gm = trace(lambda x, i: x + i, torch.randn(3), torch.arange(3))
    g = import_graph(gm)
    assert "graphopt.cast" in g.mlir and "tensor<3xi64> to tensor<3xf32>" in g.mlir
    _C.compile(g.mlir)


def test_comparison_and_where():
    gm = trace(lambda x: torch.where(x > 0, x, x * 0.1), torch.randn(5))
    g = import_graph(gm)
    assert 'graphopt.cmp "gt"' in g.mlir and "graphopt.where" in g.mlir
    _C.compile(g.mlir)


def test_unknown_op_becomes_extern_with_its_arguments():
    gm = trace(lambda x: torch.cumsum(x, dim=1) + 1, torch.randn(2, 3))
    g = import_graph(gm)
    assert 'graphopt.extern "aten::cumsum.default"' in g.mlir
    assert g.extern_ops == ["aten::cumsum.default"]
    assert '\\"t\\": 0' in g.mlir and "1" in g.mlir
    _C.compile(g.mlir)


def test_reductions_and_mean():
    gm = trace(lambda x: x.sum(dim=1, keepdim=True) + x.mean(dim=0) + x.amax(dim=1, keepdim=True),
               torch.randn(4, 4))
    g = import_graph(gm)
    assert "graphopt.reduce_sum" in g.mlir and "graphopt.reduce_max" in g.mlir
    assert "keepdim" in g.mlir
    _C.compile(g.mlir)


def test_matmul_family():
    gm = trace(lambda a, b, c: torch.addmm(c, a, b) + torch.mm(a, b),
               torch.randn(4, 8), torch.randn(8, 3), torch.randn(3))
    g = import_graph(gm)
    assert "graphopt.addmm" in g.mlir and "graphopt.matmul" in g.mlir
    _C.compile(g.mlir)


def test_locations_come_from_the_stack_trace():
    def f(x):
        return x.exp()
    gm = torch.fx.symbolic_trace(lambda x: x.exp())
    gm = trace(f, torch.randn(2))
    for n in gm.graph.nodes:
        if n.op == "call_function":
            n.meta["stack_trace"] = '  File "/models/net.py", line 42, in forward\n    return x.exp()\n'
    g = import_graph(gm)
    assert 'loc("exp"("/models/net.py":42:0))' in g.mlir


def test_unsupported_dtype_op_is_extern_not_wrong():
    gm = trace(lambda x: x * 2, torch.randn(3, dtype=torch.float16))
    g = import_graph(gm)
    assert "graphopt.extern" in g.mlir and "f16" in g.mlir


def test_non_tensor_input_is_rejected():
    gm = torch.fx.symbolic_trace(lambda x, n: x * n)
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            node.meta["val"] = 3
    with pytest.raises(Unsupported, match="not a tensor"):
        import_graph(gm)


def test_verifier_errors_are_located():
    bad = """module {
  func.func @g(%a: tensor<4xf32>, %b: tensor<3xf32>) -> tensor<4xf32> {
    %0 = graphopt.add %a, %b : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32> loc("add_1"("/m.py":7:0))
    return %0 : tensor<4xf32>
  }
}"""
    with pytest.raises(_C.CompileError, match=r"add_1 \(/m.py:7:0\): error: .*operand shapes do not broadcast"):
        _C.compile(bad)


def test_supported_ops_lists_the_mlp_ops():
    ops = supported_ops()
    for name in ("aten::addmm.default", "aten::mul.Tensor", "aten::erf.default",
                 "aten::sum.dim_IntList", "aten::var_mean.correction"):
        assert name in ops


def test_ops_doc_is_current():
    from pathlib import Path
    from graphopt.ops_doc import render
    doc = Path(__file__).resolve().parents[2] / "docs" / "ops.md"
    assert doc.read_text() == render(), "docs/ops.md is stale: run `make docs`"


def test_slicing_ops_become_slices_not_externs():
    def fn(x):
        a, b, c = x.split([4, 4, 8], dim=-1)
        first, second = x.chunk(2, dim=0)
        return (a * 2, b.exp(), c[:, 1:-1], x[:, 3], x.narrow(1, 2, 5), first + second,
                *x.unbind(0)[:2])
    g = import_graph(trace(fn, torch.randn(6, 16)), "slices")
    assert g.extern_ops == [], g.mlir
    assert "graphopt.slice %arg0 [0, 4] : tensor<6x16xf32> to tensor<6x4xf32>" in g.mlir
    assert "graphopt.slice %arg0 [0, 3] : tensor<6x16xf32> to tensor<6x1xf32>" in g.mlir  # x[:, 3]
    assert "[3, 0] : tensor<6x16xf32> to tensor<3x16xf32>" in g.mlir  # chunk's second half
    _C.compile(g.mlir)


def test_strided_slice_stays_an_extern():
    g = import_graph(trace(lambda x: x[:, ::2] + 1, torch.randn(4, 8)), "strided")
    assert g.extern_ops == ["aten::slice.Tensor"] and "graphopt.slice" not in g.mlir
    _C.compile(g.mlir)
