"""Comparing compiled results with eager ones, with float64 as the arbiter
where eager itself carries rounding noise beyond the tolerance."""
import torch
from torch.utils._pytree import tree_flatten, tree_map


def to64(tree):
    """A copy with floating tensors in float64 (requires_grad kept)."""
    def conv(t):
        if isinstance(t, torch.Tensor):
            c = t.detach().clone()
            if c.is_floating_point():
                c = c.double()
            return c.requires_grad_(t.requires_grad)
        return t
    return tree_map(conv, tree)


def check(got, ref, exact, what, rtol=1e-5, atol=1e-5):
    """graphopt must match eager; where it does not, it must be at least as
    close to the float64 result (`exact()`, computed lazily) as eager is."""
    try:
        torch.testing.assert_close(got, ref, rtol=rtol, atol=atol, equal_nan=True)
        return
    except AssertionError as mismatch:
        reference = exact()
        for g, r, e in zip(tree_flatten(got)[0], tree_flatten(ref)[0], tree_flatten(reference)[0]):
            if not isinstance(g, torch.Tensor) or not g.is_floating_point():
                torch.testing.assert_close(g, r, msg=lambda m: f"{what}: {m}")
                continue
            err_g = (g.double() - e).abs().nan_to_num(0.0)
            err_r = (r.double() - e).abs().nan_to_num(0.0)
            worse = err_g > 2 * err_r + atol + rtol * e.abs()
            assert not worse.any(), (
                f"{what}: graphopt is further from float64 than eager: max |graphopt - f64| "
                f"{err_g.max().item():.3g}, max |eager - f64| {err_r.max().item():.3g}\n{mismatch}")


def outputs_and_grads(fn, inputs, seed):
    """fn(*inputs), and the gradients of a seeded random weighting of its
    floating outputs with respect to the inputs that require grad (None when
    there are none)."""
    out = fn(*inputs)
    outs = [o for o in tree_flatten(out)[0]
            if isinstance(o, torch.Tensor) and o.is_floating_point() and o.requires_grad]
    leaves = [t for t in tree_flatten(inputs)[0] if isinstance(t, torch.Tensor) and t.requires_grad]
    if not outs or not leaves:
        return out, None
    g = torch.Generator().manual_seed(seed)
    weights = [torch.randn(o.shape, generator=g, dtype=torch.float64).to(o.dtype) for o in outs]
    loss = sum((o * w).sum() for o, w in zip(outs, weights))
    return out, torch.autograd.grad(loss, leaves, allow_unused=True)
