"""Changing shapes: correct results, bounded recompiles, dynamic=True."""
import warnings

import pytest
import torch
import torch.nn as nn

import graphopt
from graphopt import backend


def mlp():
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16), nn.LayerNorm(16))
    b = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16), nn.LayerNorm(16))
    b.load_state_dict(a.state_dict())
    return a, b


@pytest.mark.parametrize("dynamic", [None, True], ids=["automatic", "dynamic_true"])
def test_changing_batch_and_sequence_sizes(dynamic):
    eager, model = mlp()
    compiled = torch.compile(model, backend="graphopt", dynamic=dynamic, options={"strict": True})
    shapes = [(2, 4), (3, 4), (5, 6), (3, 4), (7, 1)]
    for b, t in shapes:
        x = torch.randn(b, t, 16)
        y, y_ref = compiled(x), eager(x)
        torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
        y.sum().backward()
        y_ref.sum().backward()
    for p, q in zip(model.parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-5)
    stats = graphopt.compiled_graphs()
    assert all(s.fallback is None for s in stats)
    # dynamic=True: one symbolic graph, one compile per distinct shape ((3, 4)
    # once). Automatic: Dynamo first specializes, then makes the batch dim and
    # later the sequence dim symbolic; each symbolic graph compiles the shapes
    # it sees, so a shape seen again by a newer graph compiles once more.
    distinct = len(set(shapes))
    bound = distinct if dynamic else distinct + 1
    forwards = sum(s.name.startswith("forward") for s in stats)
    assert distinct <= forwards <= bound
    assert sum(s.name.startswith("backward") for s in stats) == forwards


def test_shape_variants_are_bounded(monkeypatch):
    monkeypatch.setattr(backend, "MAX_SHAPE_VARIANTS", 2)
    fn = torch.compile(lambda x: torch.tanh(x) * 2, backend="graphopt", dynamic=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(2, 7):
            x = torch.randn(n)
            torch.testing.assert_close(fn(x), torch.tanh(x) * 2)
    assert len(graphopt.compiled_graphs()) == 2
    assert sum("new shapes run eagerly" in str(w.message) for w in caught) == 1
