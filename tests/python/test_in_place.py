"""Pointwise kernels write in place of an input that dies there
(graphopt-plan-memory): an MLP's GELU overwrites the first Linear's output,
so the arena holds one hidden activation, not two, and values still match;
a kernel computing a graph input's new value writes it over the input."""
import copy
import json

import pytest
import torch
import torch.nn as nn

import graphopt


def compiled(fn):
    return torch.compile(fn, backend="graphopt", options={"strict": True})


def test_gelu_overwrites_the_linear_output_it_reads():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 64)).eval()
    x = torch.randn(32, 64)
    graphopt.reset_stats()
    with torch.no_grad():
        y = compiled(model)(x)
        torch.testing.assert_close(y, model(x), rtol=1e-5, atol=1e-5)
    (stats,) = graphopt.compiled_graphs()
    hidden = 32 * 256 * 4
    assert stats.planned_bytes == 2 * hidden  # the Linear's output and GELU's
    assert stats.arena_bytes == hidden        # one buffer: GELU wrote over the Linear's


def test_in_place_only_where_the_input_dies_and_values_hold_over_calls(tmp_path):
    # h feeds two kernels: the sigmoid cannot overwrite it (the tanh reads it
    # later), the tanh can; the arena is reused across calls.
    def f(a, b):
        h = a @ b
        return torch.sigmoid(h) @ b + torch.tanh(h * 2) @ b

    # Over 4096 elements: graphopt-fuse-siblings would merge tinier kernels.
    a, b = torch.randn(96, 64), torch.randn(64, 64)
    c = torch.compile(f, backend="graphopt", options={"strict": True, "dump_dir": str(tmp_path)})
    for i in range(3):
        ai = a + i
        torch.testing.assert_close(c(ai, b), f(ai, b), rtol=1e-4, atol=1e-5)
    kernels = [line for line in next(tmp_path.glob("*/optimized.mlir")).read_text().splitlines()
               if "graphopt.kernel(" in line]
    assert len(kernels) == 3, kernels  # sigmoid, tanh(2h), the final add
    assert "graphopt.in_place" not in kernels[0]
    assert "graphopt.in_place = array<i64: 0>" in kernels[1]


def test_training_through_in_place_kernels_matches_eager():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 128), nn.GELU(), nn.Linear(128, 128), nn.SiLU(),
                          nn.Linear(128, 8))
    eager = copy.deepcopy(model)
    c = compiled(model)
    x = torch.randn(16, 32)
    for m in (c, eager):
        m(x).pow(2).mean().backward()
    for (name, p), q in zip(model.named_parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=lambda m: f"{name}: {m}")


def _copy_steps(folder) -> int:
    plan = json.loads(next(folder.glob("*/plan.json")).read_text())
    return sum(1 for s in plan["steps"] if s["kind"] == "extern" and "copy_" in s["callee"])


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_updated_inputs_are_written_in_place_by_their_kernel(tmp_path, layout):
    # An input the graph updates (a BatchNorm's running statistics) gets its
    # new value from the kernel computing it, with no aten::copy_ after; an
    # input not laid out densely gets its value through a buffer of its own.
    def update(x, running, steps):
        running.mul_(0.9).add_(x.mean(0), alpha=0.1)
        steps.add_(1)
        return x * 2

    x = torch.randn(32, 16)
    base = torch.randn(16, 4) if layout == "transposed" else torch.randn(4, 16)
    running = base.t() if layout == "transposed" else base
    x = x.view(8, 4, 16)
    ref_running, ref_steps = running.clone(), torch.tensor(3)
    steps = ref_steps.clone()
    c = torch.compile(update, backend="graphopt", options={"strict": True, "dump_dir": str(tmp_path)})
    for _ in range(3):
        torch.testing.assert_close(c(x, running, steps), update(x, ref_running, ref_steps))
        torch.testing.assert_close(running, ref_running, rtol=1e-6, atol=1e-6)
        assert steps.item() == ref_steps.item()
    assert _copy_steps(tmp_path) == 0
