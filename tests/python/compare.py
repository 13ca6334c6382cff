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
