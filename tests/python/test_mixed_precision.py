"""torch.autocast("cpu", dtype=torch.bfloat16) training compiles natively and
matches eager-with-autocast within bf16 tolerance. Kernels load bf16, compute
in float and round once when storing, so fused chains are at least as
accurate as eager, which rounds after every op."""
import pytest
import torch

import graphopt
from models import MLPBlock, gpt2, twin

BF16_RTOL = 1.6e-2  # torch.testing's default for bfloat16


def relative_norm_error(got, ref):
    return ((got - ref).norm() / ref.norm().clamp_min(1e-12)).item()


def autocast_steps(eager, model, batches, loss_fn, steps):
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    opt_e = torch.optim.AdamW(eager.parameters(), lr=1e-3)
    opt_c = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for step in range(steps):
        losses = []
        for m, opt in ((eager, opt_e), (compiled, opt_c)):
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = loss_fn(m, batches[step])
            loss.backward()
            losses.append(loss.item())
            if m is compiled:
                grad_errors = [relative_norm_error(p.grad, q.grad)
                               for p, q in zip(model.parameters(), eager.parameters())]
            opt.step()
        assert losses[1] == pytest.approx(losses[0], rel=BF16_RTOL), f"step {step}: {losses}"
        assert max(grad_errors) < 2 * BF16_RTOL, f"step {step}: gradient errors {max(grad_errors):.3g}"


def test_mlp_block_autocast_bf16():
    eager, model = twin(MLPBlock, 64, 256)
    g = torch.Generator().manual_seed(3)
    batches = [torch.randn(4, 16, 64, generator=g) for _ in range(5)]
    autocast_steps(eager, model, batches, lambda m, x: (m(x).float() ** 2).mean(), 5)
    stats = graphopt.compiled_graphs()
    # bf16 elementwise work is fused natively, not left to torch.
    assert all(s.extern_ops == [] for s in stats), [s.extern_ops for s in stats]
    assert all(0 < s.kernels < s.aten_ops for s in stats)


def test_gpt2_autocast_bf16():
    eager, model = gpt2(), gpt2()
    g = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, 256, (2, 32), generator=g) for _ in range(5)]
    autocast_steps(eager, model, batches, lambda m, ids: m(input_ids=ids, labels=ids).loss, 5)


def test_bf16_kernel_rounds_like_torch():
    # An explicit cast to bf16 inside a fused kernel rounds to nearest even.
    fn = lambda x: (x.to(torch.bfloat16).float() * 3).exp()  # noqa: E731
    x = torch.randn(1000) * 4
    torch.testing.assert_close(torch.compile(fn, backend="graphopt", options={"strict": True})(x), fn(x))
