"""Shapes, dtypes and values at the edges: each compiled result equals eager."""
import pytest
import torch

NAN, INF = float("nan"), float("inf")

CASES = {
    "rank0": (lambda x: (x * 2).exp(), [torch.tensor(1.5)]),
    "zero_size": (lambda x: x.exp() + 1, [torch.randn(0, 4)]),
    "int_arith": (lambda x: x * 3 + 1, [torch.arange(6).reshape(2, 3)]),
    "int_true_div": (lambda x: x / 2, [torch.arange(6)]),
    "bool_logic": (lambda x: (x > 0) & (x < 1), [torch.randn(5)]),
    "sum_all": (lambda x: x.sum(), [torch.randn(3, 4)]),
    "amax_nan": (lambda x: x.amax(1), [torch.tensor([[1.0, NAN], [2.0, 3.0]])]),
    "relu_nan": (lambda x: torch.relu(x), [torch.tensor([NAN, -1.0, 2.0])]),
    "maximum_nan": (lambda x, y: torch.maximum(x, y), [torch.tensor([NAN, 1.0]), torch.tensor([0.0, NAN])]),
    "non_contiguous_input": (lambda x: x.exp(), [torch.randn(4, 6).t()]),
    "int_sum_promotes": (lambda x: x.sum(0), [torch.arange(6, dtype=torch.int32).reshape(2, 3)]),
    "mean_keepdim": (lambda x: x.mean((0, 2), keepdim=True), [torch.randn(2, 3, 4)]),
    "infinite_constants": (lambda x: x.clamp(min=-INF) + x * INF, [torch.randn(3)]),
    "broadcast_rank3": (lambda x, y: x + y, [torch.randn(2, 1, 4), torch.randn(3, 1)]),
    "float64": (lambda x: torch.tanh(x).sum(-1), [torch.randn(3, 5, dtype=torch.float64)]),
    "returns_input": (lambda x: (x, x + 1), [torch.randn(3)]),
    "bmm_relu": (lambda a, b: torch.bmm(a, b).relu(), [torch.randn(2, 3, 4), torch.randn(2, 4, 5)]),
    "int_pow": (lambda x: x ** 2, [torch.arange(5)]),
    "size_one_dims": (lambda x: (x * x).sum(1), [torch.randn(1, 7, 1)]),
    "permute_3d": (lambda x: x.permute(2, 0, 1).exp() + 1, [torch.randn(2, 3, 4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_edge_case_matches_eager(name):
    fn, args = CASES[name]
    out = torch.compile(fn, backend="graphopt", options={"strict": True})(*args)
    torch.testing.assert_close(out, fn(*args), equal_nan=True)


def test_non_finite_constant_outside_kernels():
    # A -inf fill that feeds only an extern stays a plan constant (JSON has no inf).
    fn = lambda x: torch.cumsum(torch.full_like(x, float("-inf")), 0) + x  # noqa: E731
    x = torch.randn(4)
    torch.testing.assert_close(torch.compile(fn, backend="graphopt", options={"strict": True})(x), fn(x))
