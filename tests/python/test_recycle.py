"""Large graph outputs, and a training forward's saved activations, are
reused once the caller has let go of them (a fresh 64 MB buffer page-faults
on every call), and never while anything still references them: a variable,
a view, a numpy array, autograd."""
import weakref

import torch

N = 1 << 23  # 32 MB of f32: at the reuse threshold


def compiled(fn):
    return torch.compile(fn, backend="graphopt", options={"strict": True})


def f(x):
    return torch.sigmoid(x) * 2 + 1


def test_dropped_outputs_are_reused_and_correct():
    c = compiled(f)
    x = torch.randn(N)
    first = weakref.ref(c(x))
    assert first() is not None  # kept for reuse, not freed
    for i in range(6):
        xi = x + i
        y = c(xi)
        assert y is first()
        torch.testing.assert_close(y, f(xi))
        del y


def test_loop_holding_the_previous_output_alternates_two_buffers():
    c = compiled(f)
    x = torch.randn(N)
    y = c(x)
    ptrs = []
    for i in range(6):
        y = c(x + i)  # the previous y is alive while this call runs
        ptrs.append(y.data_ptr())
    assert len(set(ptrs)) == 2
    torch.testing.assert_close(y, f(x + 5))


def test_held_outputs_views_and_numpy_arrays_are_never_overwritten():
    c = compiled(f)
    x = torch.randn(N)
    held = c(x)
    view = c(x + 1)[10:]
    array = c(x + 2).numpy()
    detached = c(x + 3).detach()
    for i in range(4, 8):
        c(x + i)
    torch.testing.assert_close(held, f(x))
    torch.testing.assert_close(view, f(x + 1)[10:])
    torch.testing.assert_close(torch.from_numpy(array), f(x + 2))
    torch.testing.assert_close(detached, f(x + 3))


def test_outputs_saved_for_backward_survive_later_calls():
    lin = torch.nn.Linear(64, 8192)
    model = lambda x: torch.tanh(lin(x)).sum()  # noqa: E731
    c = compiled(model)
    x1, x2 = torch.randn(1024, 64), torch.randn(1024, 64)  # tanh's output, saved: 32 MB
    loss1 = c(x1)
    loss2 = c(x2)  # the forward again before the first backward
    loss1.backward()
    g1 = lin.weight.grad.clone()
    lin.weight.grad = None
    loss2.backward()
    g2 = lin.weight.grad.clone()
    lin.weight.grad = None
    model(x1).backward()
    torch.testing.assert_close(g1, lin.weight.grad, rtol=1e-4, atol=1e-5)
    lin.weight.grad = None
    model(x2).backward()
    torch.testing.assert_close(g2, lin.weight.grad, rtol=1e-4, atol=1e-5)


def test_training_forward_rewrites_its_saved_activations_in_place_each_step():
    # Below 32 MB, but saved for backward: the backward frees all of them at
    # once and glibc hands the memory back to the OS, so the next step's
    # forward would page-fault fresh buffers. graphopt keeps them: here the
    # caller takes what glibc freed, and the forward still gets its buffer.
    lin = torch.nn.Linear(64, 512)
    model = lambda x: torch.tanh(lin(x)).sum()  # noqa: E731
    c = compiled(model)
    x = torch.randn(1024, 64)  # tanh's output, saved: 2 MB
    ptrs, held = [], []

    def pack(t):
        if t.shape == (1024, 512):
            ptrs.append(t.data_ptr())
        return t
    for i in range(4):
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = c(x + i)
        loss.backward()
        got = lin.weight.grad.clone()
        lin.weight.grad = None
        model(x + i).backward()
        torch.testing.assert_close(got, lin.weight.grad, rtol=1e-4, atol=1e-5)
        lin.weight.grad = None
        held.append(torch.ones(1024, 512))
    assert len(ptrs) == 4 and len(set(ptrs)) == 1, ptrs
