"""Hostile or unusual input at the Python API: each case is either correct or
an explicit error/fallback, never a wrong result."""
import pytest
import torch

import graphopt

NAN, INF = float("nan"), float("inf")


def compiled(fn):
    return torch.compile(fn, backend="graphopt", options={"strict": True})


def test_complex_tensors_run_through_torch():
    fn = lambda z, w: (z * w + 1).abs() + torch.view_as_real(z).sum(-1)  # noqa: E731
    z = torch.randn(4, 3, dtype=torch.complex64)
    w = torch.randn(4, 3, dtype=torch.complex64)
    torch.testing.assert_close(compiled(fn)(z, w), fn(z, w))
    assert graphopt.compiled_graphs()[0].extern_ops


def test_int8_wraps_like_torch():
    fn = lambda x: (x + 100) * 3 - x  # noqa: E731
    x = torch.arange(-128, 128, dtype=torch.int8)
    torch.testing.assert_close(compiled(fn)(x), fn(x))
    assert graphopt.compiled_graphs()[0].kernels == 1


def test_float16_is_correct_through_externs():
    fn = lambda x: torch.tanh(x) * 2  # noqa: E731
    x = torch.randn(64, dtype=torch.float16)
    torch.testing.assert_close(compiled(fn)(x), fn(x))


def test_nan_and_inf_propagate_like_eager():
    x = torch.tensor([[NAN, 1.0, -INF, 2.0], [INF, 0.0, 3.0, -1.0], [1.0, 2.0, 3.0, 4.0]])

    def fn(x):
        return (torch.softmax(x, -1), torch.exp(x), torch.nn.functional.layer_norm(x, (4,)),
                torch.relu(x), x.amax(-1), torch.sigmoid(x), torch.erf(x), torch.tanh(x))
    for got, ref in zip(compiled(fn)(x), fn(x)):
        torch.testing.assert_close(got, ref, equal_nan=True)


def test_nan_and_inf_propagate_through_lane_reductions():
    # Rows of 37: a max reduces in 16-wide lanes (two strips) plus a remainder
    # of 5; a NaN in a strip, in the remainder, and rows of all -inf and +inf.
    x = torch.randn(6, 37)
    x[0, 3] = NAN
    x[1, 35] = NAN
    x[2, :] = -INF
    x[3, 20] = INF
    x[4, 36] = 50.0  # the max in the remainder

    def fn(x):
        return torch.softmax(x, -1), x.amax(-1), torch.log_softmax(x * 2, -1)
    for got, ref in zip(compiled(fn)(x), fn(x)):
        torch.testing.assert_close(got, ref, equal_nan=True)


def test_aliasing_outputs_keep_eager_semantics():
    fn = lambda x: (x.view(-1), x.t(), x + 1, x)  # noqa: E731
    x = torch.randn(3, 4)
    got, ref = compiled(fn)(x), fn(x)
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r)
    # Views of the input are views, as in eager: writing through them is seen.
    assert got[0].data_ptr() == x.data_ptr()
    assert got[1].data_ptr() == x.data_ptr()
    assert got[3].data_ptr() == x.data_ptr()
    got[0][0] = 123.0
    assert x[0, 0].item() == 123.0


def test_inputs_mutated_in_place():
    def fn(x, y):
        x.add_(1)
        y.mul_(torch.sigmoid(x))
        return x * y
    x, y = torch.randn(5), torch.randn(5)
    x2, y2 = x.clone(), y.clone()
    out = compiled(fn)(x2, y2)
    ref = fn(x, y)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(x2, x)
    torch.testing.assert_close(y2, y)


def test_more_than_2_to_the_31_elements():
    # 65537 x 32769 uint8 = 2,147,581,953 elements: past int32 indexing. The
    # kernel's int64 index math must write every element, the last included.
    a = torch.arange(65537, dtype=torch.int64).remainder(251).to(torch.uint8).reshape(-1, 1)
    b = torch.arange(32769, dtype=torch.int64).remainder(241).to(torch.uint8).reshape(1, -1)
    out = compiled(lambda a, b: a * 3 + b)(a, b)
    assert out.shape == (65537, 32769) and out.numel() > 2**31
    for i, j in [(0, 0), (65536, 32768), (40000, 12345), (65536, 0), (0, 32768)]:
        expected = (int(a[i, 0]) * 3 + int(b[0, j])) % 256
        assert int(out[i, j]) == expected, (i, j)
    del out


def test_bad_option_types_are_rejected_before_compiling():
    with pytest.raises(ValueError, match="'dump_dir' must be a path"):
        compiled_fn = torch.compile(lambda x: x + 1, backend="graphopt", options={"dump_dir": 3})
        compiled_fn(torch.randn(2))
