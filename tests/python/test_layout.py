"""graphopt-layout end to end: 2-D convolutions run channels-last, the
BatchNorm/ReLU/residual kernels between them work on NHWC, and what the caller
gets is what eager gives: the same values, contiguous NCHW outputs."""
import copy

import torch
import torch.nn as nn

import graphopt
from compare import check


class Block(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.c1, self.b1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        self.head = nn.Linear(c, 5)

    def forward(self, x):
        x = self.stem(x)
        y = torch.relu(self.b1(self.c1(x)))
        y = torch.relu(self.b2(self.c2(y)) + x)
        return self.head(y.mean((2, 3))), y


def _model():
    torch.manual_seed(0)
    m = Block()
    for bn in (m.stem[1], m.b1, m.b2):  # non-trivial running statistics
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    return m


def _steps(stats):
    return [(s["kind"], s["name"]) for s in stats.cost[0]["steps"]]


def test_eval_convolutions_run_channels_last_with_nhwc_kernels_between():
    m = _model().eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        logits, act = torch.compile(m, backend="graphopt", options={"strict": True})(x)
        ref_logits, ref_act = m(x)
    torch.testing.assert_close(logits, ref_logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(act, ref_act, rtol=1e-4, atol=1e-5)
    # The returned activation is contiguous NCHW, like eager's: views work.
    assert act.is_contiguous() and act.view(2, -1).shape == (2, 8 * 16 * 16)
    steps = _steps(graphopt.compiled_graphs()[-1])
    convs = [n for k, n in steps if k == "extern"]
    # graphopt-conv-epilogue: BatchNorm folded into the weights and bias, the
    # residual add and ReLU run inside each call.
    assert convs == ["graphopt::convolution_pointwise_channels_last.default"] * 3
    # One permute into NHWC (the graph input); the NHWC -> NCHW permutes
    # between convolutions cancelled. What remains is the returned
    # activation's, read by the kernel that writes it as NCHW.
    assert sum(1 for k, n in steps if n == "permute") <= 2
    # No kernel passes over a convolution's output between two calls: the one
    # full-size kernel is the returned activation's NCHW copy. The others
    # are small: BatchNorm's per-channel scales and shifts, the scaled
    # filters, the pooling.
    full = act.numel() * act.element_size()
    kernels = [s for s in graphopt.compiled_graphs()[-1].cost[0]["steps"] if s["kind"] == "kernel"]
    assert [s["bytes_written"] for s in kernels].count(full) == 1
    assert all(s["bytes_written"] < full / 2 for s in kernels if s["bytes_written"] != full)
    assert len(kernels) <= 5


def _train_step(m, x):
    logits, act = m(x)
    (logits.sum() + act.mean()).backward()
    return logits, [p.grad for p in m.parameters()], list(m.buffers())


def test_training_step_matches_eager_with_channels_last_convolutions():
    x = torch.randn(2, 3, 16, 16)
    m = _model().train()
    got = _train_step(torch.compile(m, backend="graphopt", options={"strict": True}), x)
    ref = _train_step(_model().train(), x)
    # c2's bias feeds a training BatchNorm, so its true gradient is 0 and
    # eager's is rounding noise: float64 arbitrates.
    exact = lambda: _train_step(_model().train().double(), x.double())  # noqa: E731
    check(got, ref, exact, "conv net training step", rtol=1e-4, atol=1e-5)
    # Both graphs run every convolution channels-last. The forward graph
    # returns the activations backward needs as NCHW views of NHWC memory
    # (only the activation the caller gets is copied to NCHW), and the
    # backward graph takes them as NHWC arguments: no layout copy at the
    # boundary, and no NHWC <-> NCHW permute between the convolutions.
    forward, backward = graphopt.compiled_graphs()[-2:]
    assert forward.name.startswith("forward") and backward.name.startswith("backward")
    fw_convs = [n for k, n in _steps(forward) if k == "extern"]
    bw_convs = [n for k, n in _steps(backward) if k == "extern"]
    assert fw_convs == ["graphopt::convolution_channels_last.default"] * 3
    assert bw_convs == ["graphopt::convolution_backward_channels_last.default"] * 3
    # The forward graph copies no saved activation back to NCHW: its one
    # copy kernel writes the activation the caller gets.
    copies = [ops for ops in forward.kernel_ops if set(ops) <= {"permute", "cast"}]
    assert copies == [["permute", "cast"]], forward.kernel_ops


def test_saved_activations_cross_to_backward_in_nhwc():
    """The forward graph's saved activations leave with channels-last strides,
    and the backward graph's example inputs carry them (AOTAutograd restrides
    them from the strides graphopt reports)."""
    x = torch.randn(2, 3, 16, 16)
    m = _model().train()
    compiled = torch.compile(m, backend="graphopt", options={"strict": True})
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        logits, act = compiled(x)
    (logits.sum() + act.mean()).backward()
    nhwc = [t for t in saved if t.dim() == 4 and t.shape[1] == 8 and not t.is_contiguous()
            and t.is_contiguous(memory_format=torch.channels_last)]
    assert len(nhwc) >= 6, [(tuple(t.shape), t.stride()) for t in saved]
    # The returned activation is eager's contiguous NCHW all the same.
    assert act.is_contiguous()


def test_nhwc_argument_given_an_nchw_tensor_is_still_correct():
    """A backward graph compiled for a channels-last saved activation computes
    the same values when the tensor arrives in another layout (the forward
    graph fell back to eager, say): the view is strided and the kernels copy
    it, slower but not wrong."""
    from torch.fx.experimental.proxy_tensor import make_fx
    from graphopt import backend, config

    def grads(dy, x, w):
        gi, gw, _ = torch.ops.aten.convolution_backward(dy, x, w, [0], [1, 1], [1, 1], [1, 1], False,
                                                        [0, 0], 1, [True, True, False])
        return (gi * x).sum((0, 2, 3)), gw

    dy, x, w = torch.randn(2, 8, 6, 6), torch.randn(2, 8, 6, 6), torch.randn(8, 8, 3, 3)
    gm = make_fx(grads)(dy, x, w)
    run = backend._compile_static(gm, "backward", config.Options.from_user({"strict": True}),
                                  permuted_inputs={1: (0, 2, 3, 1)})
    steps = [n for k, n in _steps(graphopt.compiled_graphs()[-1]) if k == "extern"]
    assert steps == ["graphopt::convolution_backward_channels_last.default"]
    expected = grads(dy, x, w)
    for layout in (torch.channels_last, torch.contiguous_format):
        got = run([dy, x.contiguous(memory_format=layout), w])
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4)


def test_training_graphs_for_cuda_kernels_stay_nchw():
    """Graphs whose kernels run on CUDA (here the CUDA source, emulated on
    the CPU) keep training NCHW: the CUDA emitter's per-channel sums of NHWC
    data are slow, so neither the saved activations nor convolution_backward
    change layout. The step still matches eager."""
    x = torch.randn(2, 3, 8, 8)
    m = _model().train()
    got = _train_step(torch.compile(m, backend="graphopt",
                                    options={"strict": True, "kernels": "cuda-emulated"}), x)
    ref = _train_step(_model().train(), x)
    exact = lambda: _train_step(_model().train().double(), x.double())  # noqa: E731
    check(got, ref, exact, "conv net training step, CUDA kernels", rtol=1e-4, atol=1e-5)
    forward, backward = graphopt.compiled_graphs()[-2:]
    assert [n for k, n in _steps(backward) if k == "extern"] == \
        ["aten::convolution_backward.default"] * 3
    assert not any("channels_last" in n for _, n in _steps(forward))


class StridedGroups(nn.Module):
    """Epilogues of convolutions with a stride, no padding, groups and a bias
    of their own: a BatchNorm after a grouped strided convolution, a ReLU
    after a plain one, and a division by a scalar."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 8, 3, stride=2, padding=0, groups=2)
        self.bn = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 6, 1, stride=1, padding=1, dilation=1)

    def forward(self, x):
        y = torch.relu(self.bn(self.c1(x)))
        return torch.relu(self.c2(y) / 3.0)


def test_convolution_epilogues_with_stride_groups_and_bias():
    torch.manual_seed(0)
    m = StridedGroups().eval()
    m.bn.running_mean.uniform_(-0.5, 0.5)
    m.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 4, 11, 9)
    with torch.no_grad():
        got = torch.compile(m, backend="graphopt", options={"strict": True})(x)
        ref = m(x)
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)
    convs = [n for k, n in _steps(graphopt.compiled_graphs()[-1]) if k == "extern"]
    assert convs == ["graphopt::convolution_pointwise_channels_last.default"] * 2


def test_training_convolutions_carry_their_bias_and_relu():
    """Without BatchNorm, a training forward's convolution + bias + ReLU is one
    mkldnn call too; the backward graph's gradients match eager's."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    eager = copy.deepcopy(m)
    x = torch.randn(4, 3, 12, 12)
    torch.compile(m, backend="graphopt", options={"strict": True})(x).square().sum().backward()
    eager(x).square().sum().backward()
    for p, q in zip(m.parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5)
    forward = next(s for s in graphopt.compiled_graphs() if s.name.startswith("forward"))
    convs = [n for k, n in _steps(forward) if k == "extern"]
    assert convs == ["graphopt::convolution_pointwise_channels_last.default"] * 2
