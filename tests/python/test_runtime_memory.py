"""Memory the runtime holds: the CPU graphs one thread runs share one arena (a
training step holds the larger of its forward and backward arenas, not both;
threads do not share), and a graph frees each input at its last use."""
import copy
import threading
import weakref

import torch
import torch.nn as nn

import graphopt
from graphopt.runtime import executor


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, 8))


def _in_thread(fn):
    """fn's result, run in a new thread (so with a thread arena of its own)."""
    result = {}

    def target():
        result["value"] = fn()
    t = threading.Thread(target=target)
    t.start()
    t.join()
    return result["value"]


def test_a_training_step_holds_the_larger_arena_only():
    model, reference = _mlp(), _mlp()
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    x = torch.randn(32, 64)

    def step():
        for _ in range(2):  # the second step runs on views made by the first
            model.zero_grad(set_to_none=True)
            compiled(x).square().sum().backward()
        return executor._CPU_ARENAS.buffer.numel()

    arena = _in_thread(step)
    sizes = [g.arena_bytes for g in graphopt.compiled_graphs()]
    assert len(sizes) == 2 and min(sizes) > 0  # forward and backward each use an arena
    assert arena == max(sizes)
    reference(x).square().sum().backward()
    for p, r in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p.grad, r.grad, rtol=1e-4, atol=1e-5)


def test_threads_running_one_graph_at_once_each_get_an_arena():
    model = _mlp().eval()
    compiled = torch.compile(copy.deepcopy(model), backend="graphopt", options={"strict": True})
    inputs = [torch.randn(32, 64) + i for i in range(2)]
    with torch.no_grad():
        compiled(inputs[0])  # compile once, before the threads race
        expected = [model(x) for x in inputs]
    errors = []

    def worker(i):
        try:
            with torch.no_grad():
                for _ in range(200):
                    torch.testing.assert_close(compiled(inputs[i]), expected[i], rtol=1e-4, atol=1e-5)
        except AssertionError as e:  # reported by the main thread
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


_ALIVE_AT_PROBE = []


@torch.library.custom_op("graphopt_test::probe", mutates_args=())
def _probe(x: torch.Tensor) -> torch.Tensor:
    _ALIVE_AT_PROBE.append([r() is not None for r in _WATCHED])
    return x * 2


@_probe.register_fake
def _(x):
    return torch.empty_like(x)


_WATCHED = []


def test_a_graph_frees_each_input_at_its_last_use_and_empties_its_argument_list():
    # tanh is a's last use; the probe (an extern op) runs after it and sees a
    # gone. b is read by the last step, so it is alive at the probe.
    from torch.fx.experimental.proxy_tensor import make_fx

    from graphopt import backend, config

    def f(a, b):
        return (torch.ops.graphopt_test.probe(torch.tanh(a)) + b,)
    a, b = torch.randn(64, 64), torch.randn(64, 64)
    gm = make_fx(f)(a, b)
    run = backend.compile_fx_graph(gm, [a, b], kind="inference",
                                   options=config.Options.from_user({"strict": True}))
    args = [a.clone(), b.clone()]
    _WATCHED[:] = [weakref.ref(t) for t in args]
    _ALIVE_AT_PROBE.clear()
    (out,) = run(args)
    assert args == []
    assert _ALIVE_AT_PROBE == [[False, True]]
    assert all(r() is None for r in _WATCHED)  # nothing of the graph holds them after the call
    torch.testing.assert_close(out, f(a, b)[0])
