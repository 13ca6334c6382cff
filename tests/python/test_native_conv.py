"""graphopt's own NHWC convolution weight gradient (runtime/native) against
torch's, in float64, on the shapes that reach each of its code paths; and the
channels-last backward op that uses it."""
import ctypes
import platform

import pytest
import torch
import torch.nn as nn

import graphopt.runtime.ops  # registers torch.ops.graphopt
from graphopt.runtime import native

NHWC_BACKWARD = torch.ops.graphopt.convolution_backward_channels_last.default


@pytest.fixture
def forced(monkeypatch):
    """The native kernel on, whatever this host's ISA; skips where the
    library has no native kernel (a CPU without AVX2 and FMA)."""
    monkeypatch.setenv("GRAPHOPT_CONV_WEIGHT_GRAD", "native")
    if native._conv_weight_grad_fn() is None:
        pytest.skip("this CPU has no AVX2/FMA: graphopt keeps torch's weight gradient")


def _reference(x, dy, w, stride, padding, dilation):
    return torch.ops.aten.convolution_backward(
        dy.double(), x.double(), w.double(), None, stride, padding, dilation, False, [0, 0], 1,
        [False, True, False])[1]


# (batch, Ci, Co, H, W, kernel, stride, padding, dilation). Ci covers every
# tile width (6 and remainders 1..5), Co both vector widths (16, and a
# trailing 8), small W makes a chunk span several rows and the thread split
# cut an image.
SHAPES = [
    (2, 64, 64, 9, 9, (3, 3), (1, 1), (1, 1), (1, 1)),
    (3, 7, 24, 11, 10, (3, 3), (2, 2), (1, 1), (1, 1)),
    (2, 3, 64, 16, 16, (7, 7), (2, 2), (3, 3), (1, 1)),
    (2, 64, 16, 8, 8, (1, 1), (1, 1), (0, 0), (1, 1)),
    (1, 13, 40, 10, 12, (3, 3), (1, 1), (2, 2), (2, 2)),
    (5, 6, 8, 5, 7, (5, 3), (1, 2), (0, 1), (1, 1)),
    (4, 2, 16, 3, 3, (3, 3), (1, 1), (1, 1), (1, 1)),
    (2, 1, 8, 6, 6, (2, 2), (2, 2), (0, 0), (1, 1)),
    (2, 8, 16, 40, 20, (3, 3), (1, 1), (1, 1), (1, 1)),   # several chunks per image
    (1, 5, 8, 3, 300, (3, 3), (1, 1), (1, 1), (1, 1)),    # a row longer than a chunk
    (2, 7, 16, 13, 11, (3, 3), (3, 2), (1, 2), (2, 1)),   # unequal stride and dilation
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:5])) + f"-k{s[5]}s{s[6]}p{s[7]}d{s[8]}")
@pytest.mark.parametrize("threads, partial_bytes", [(1, None), (2, None), (3, None), (2, 1), (3, 1)],
                         ids=["1", "2", "3", "2-split-channels", "3-split-channels"])
def test_weight_gradient_matches_torch(forced, shape, threads, partial_bytes):
    """partial_bytes 1: no room for a private dW per thread, so the threads
    split the output channels (one row group when there are enough tiles)."""
    n, ci, co, h, wd, k, stride, padding, dilation = shape
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, ci, h, wd, generator=g)
    w = torch.randn(co, ci, *k, generator=g)
    dy = torch.randn(torch.conv2d(x, w, None, stride, padding, dilation).shape, generator=g)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        got = native.conv_weight_grad_nhwc(dy.permute(0, 2, 3, 1), x.permute(0, 2, 3, 1),
                                           list(w.shape), stride, padding, dilation,
                                           max_partial_bytes=partial_bytes or native.MAX_PARTIAL_BYTES)
    finally:
        torch.set_num_threads(before)
    ref = _reference(x, dy, w, list(stride), list(padding), list(dilation))
    assert got is not None and got.shape == w.shape and got.is_contiguous()
    torch.testing.assert_close(got.double(), ref, rtol=1e-5, atol=1e-5 * ref.abs().max().item())


@pytest.mark.parametrize("case", [
    ("Co not a multiple of 8", (2, 5, 5, 12), (2, 5, 5, 8), [12, 8, 3, 3], [1, 1], [1, 1], [1, 1]),
    ("float64", (2, 5, 5, 16), (2, 5, 5, 8), [16, 8, 3, 3], [1, 1], [1, 1], [1, 1]),
    ("grad_output taller than the convolution gives", (2, 9, 5, 16), (2, 5, 5, 8), [16, 8, 3, 3],
     [1, 1], [1, 1], [1, 1]),
    ("a negative dilation", (2, 5, 5, 16), (2, 5, 5, 8), [16, 8, 3, 3], [1, 1], [1, 1], [-1, -1]),
    ("a zero stride", (2, 5, 5, 16), (2, 5, 5, 8), [16, 8, 3, 3], [0, 1], [1, 1], [1, 1]),
    ("another batch", (3, 5, 5, 16), (2, 5, 5, 8), [16, 8, 3, 3], [1, 1], [1, 1], [1, 1]),
], ids=lambda c: c[0])
def test_what_it_does_not_handle_goes_to_torch(forced, case):
    _, dy_shape, x_shape, w_shape, stride, padding, dilation = case
    dtype = torch.float64 if case[0] == "float64" else torch.float32
    assert native.conv_weight_grad_nhwc(torch.randn(dy_shape, dtype=dtype), torch.randn(x_shape, dtype=dtype),
                                        w_shape, stride, padding, dilation) is None


def test_a_bad_setting_is_named(monkeypatch):
    monkeypatch.setenv("GRAPHOPT_CONV_WEIGHT_GRAD", "fast")
    with pytest.raises(ValueError, match="GRAPHOPT_CONV_WEIGHT_GRAD"):
        native.conv_weight_grad_enabled()


@pytest.mark.parametrize("mask", [[True, True, True], [False, True, False], [True, True, False],
                                  [True, False, False], [False, True, True]])
@pytest.mark.parametrize("setting", ["native", "torch"])
def test_channels_last_backward_op_matches_aten(monkeypatch, mask, setting):
    monkeypatch.setenv("GRAPHOPT_CONV_WEIGHT_GRAD", setting)
    g = torch.Generator().manual_seed(1)
    x, w = torch.randn(2, 16, 12, 12, generator=g), torch.randn(32, 16, 3, 3, generator=g)
    dy = torch.randn(2, 32, 6, 6, generator=g)
    args = ([32], [2, 2], [1, 1], [1, 1], False, [0, 0], 1, mask)
    ref = [r for r in torch.ops.aten.convolution_backward(dy, x, w, *args) if r is not None]
    got = NHWC_BACKWARD(dy.permute(0, 2, 3, 1).contiguous(), x.permute(0, 2, 3, 1).contiguous(), w,
                        *args)
    assert len(got) == sum(mask)
    if mask[0]:
        got[0] = got[0].permute(0, 3, 1, 2)  # the input gradient comes back NHWC
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_compiled_training_step_takes_the_native_weight_gradient(forced, monkeypatch):
    """A conv net's compiled backward computes its weight gradients with the
    native kernel (counted), and they equal eager's."""
    calls = []
    real = native.conv_weight_grad_nhwc

    def counting(*args):
        out = real(*args)
        calls.append(out is not None)
        return out
    monkeypatch.setattr(native, "conv_weight_grad_nhwc", counting)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
    x = torch.randn(4, 3, 16, 16)
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    compiled(x).square().mean().backward()
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x).square().mean().backward()
    assert calls == [True, True]
    for a, p in zip(got, model.parameters()):
        torch.testing.assert_close(a, p.grad, rtol=1e-4, atol=1e-5)


def test_a_missing_library_warns_and_leaves_the_gradient_to_torch(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHOPT_CONV_WEIGHT_GRAD", "native")
    monkeypatch.setattr(native, "_cpu_capability", lambda: "AVX2")  # any host reaches the load
    monkeypatch.setattr(native, "library_path", lambda: tmp_path / native.LIBRARY)
    native._conv_weight_grad_fn.cache_clear()
    try:
        x, dy = torch.randn(2, 5, 5, 8), torch.randn(2, 5, 5, 16)
        with pytest.warns(UserWarning, match="cannot load its native kernels.*libgraphopt_native.so"):
            assert native.conv_weight_grad_nhwc(dy, x, [16, 8, 3, 3], [1, 1], [1, 1], [1, 1]) is None
        w = torch.randn(16, 8, 3, 3)
        got = NHWC_BACKWARD(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                            [False, True, False])[0]
        ref = torch.ops.aten.convolution_backward(dy.permute(0, 3, 1, 2), x.permute(0, 3, 1, 2), w, None,
                                                  [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                                  [False, True, False])[1]
        torch.testing.assert_close(got, ref)
    finally:
        native._conv_weight_grad_fn.cache_clear()


@pytest.mark.parametrize("capability", ["DEFAULT", "SVE256"])
def test_a_cpu_without_avx2_never_loads_the_kernel(monkeypatch, capability):
    """Forced on a CPU without AVX2 (an AVX2 instruction there would be
    SIGILL): a warning, torch's gradient, and the library left unopened."""
    def no_load(*args):
        raise AssertionError("the library was opened")
    monkeypatch.setenv("GRAPHOPT_CONV_WEIGHT_GRAD", "native")
    monkeypatch.setattr(native, "_cpu_capability", lambda: capability)
    monkeypatch.setattr(native.ctypes, "CDLL", no_load)
    native._conv_weight_grad_fn.cache_clear()
    try:
        x, dy = torch.randn(2, 5, 5, 8), torch.randn(2, 5, 5, 16)
        with pytest.warns(UserWarning, match=f"needs AVX2 and FMA.*{capability}"):
            assert native.conv_weight_grad_nhwc(dy, x, [16, 8, 3, 3], [1, 1], [1, 1], [1, 1]) is None
    finally:
        native._conv_weight_grad_fn.cache_clear()


def test_the_package_installs_the_native_library():
    """Built with _C (csrc/native), not at run time: no compile in a step."""
    path = native.library_path()
    assert path is not None and path.is_file(), path
    lib = ctypes.CDLL(str(path))
    avx2 = platform.machine() in ("x86_64", "AMD64") and native._cpu_capability() in ("AVX2", "AVX512")
    assert lib.graphopt_conv_weight_grad_native() == (1 if avx2 else 0)


@pytest.mark.parametrize("n, h, w", [(2, 0, 5), (2, 5, 0), (0, 5, 5)])
def test_empty_output_gives_a_zero_gradient(forced, n, h, w):
    x, dy = torch.randn(n, h, w, 8), torch.randn(n, h, w, 16)
    out = torch.full((16, 8, 1, 1), float("nan"))
    got = native.conv_weight_grad_nhwc(dy, x, [16, 8, 1, 1], [1, 1], [0, 0], [1, 1], out=out)
    assert got is out and torch.equal(out, torch.zeros(16, 8, 1, 1))
