"""Real models train under graphopt exactly as in eager: a GPT-2-style model
from a transformers config and a ResNet-style conv net with BatchNorm, 20
AdamW steps from the same seed, losses within 1e-4 relative at every step."""
import pytest
import torch
import torch.nn as nn

import graphopt
from models import SmallResNet, gpt2, twin

STEPS = 20


def train_pair(eager, model, batches, loss_fn):
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    opt_e = torch.optim.AdamW(eager.parameters(), lr=1e-3)
    opt_c = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for step, batch in enumerate(batches):
        losses = []
        for m, opt in ((eager, opt_e), (compiled, opt_c)):
            opt.zero_grad()
            loss = loss_fn(m, batch)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[1] == pytest.approx(losses[0], rel=1e-4), f"step {step}: {losses}"
    return losses


def test_gpt2_trains_like_eager():
    eager, model = gpt2(), gpt2()
    eager.train(), model.train()
    g = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, 256, (2, 32), generator=g) for _ in range(STEPS)]
    train_pair(eager, model, batches, lambda m, ids: m(input_ids=ids, labels=ids).loss)
    # AdamW moves a parameter by up to lr per step whatever its gradient's
    # size, so where a gradient is rounding noise (~1e-9) eager's and
    # graphopt's noise can differ in sign; parameters are compared at a
    # twentieth of one step.
    for p, q in zip(model.parameters(), eager.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=5e-5)
    stats = graphopt.compiled_graphs()
    assert stats and all(s.fallback is None for s in stats)
    assert sum(s.kernels for s in stats) < sum(s.aten_ops for s in stats)


def test_resnet_with_batchnorm_trains_like_eager():
    eager, model = twin(SmallResNet)
    g = torch.Generator().manual_seed(2)
    batches = [(torch.randn(4, 3, 16, 16, generator=g), torch.randint(0, 10, (4,), generator=g))
               for _ in range(STEPS)]
    train_pair(eager, model, batches, lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1]))
    # BatchNorm running statistics are updated identically (input mutation).
    for (n, b), (_, c) in zip(model.named_buffers(), eager.named_buffers()):
        torch.testing.assert_close(b, c, rtol=1e-4, atol=1e-5, msg=lambda m: f"{n}: {m}")
    eager.eval(), model.eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(torch.compile(model, backend="graphopt")(x), eager(x),
                                   rtol=1e-4, atol=1e-5)
    assert all(s.fallback is None for s in graphopt.compiled_graphs())


def test_gpt2_with_dropout_matches_eager_under_the_same_seed():
    # Dropout runs through torch (an extern), drawing from the same RNG stream
    # in the same order as eager, so seeded runs match exactly.
    from transformers import GPT2LMHeadModel
    from models import gpt2_config
    cfg = gpt2_config()
    cfg.resid_pdrop = cfg.embd_pdrop = cfg.attn_pdrop = 0.1
    torch.manual_seed(0)
    eager = GPT2LMHeadModel(cfg)
    model = GPT2LMHeadModel(cfg)
    model.load_state_dict(eager.state_dict())
    compiled = torch.compile(model, backend="graphopt", options={"strict": True})
    ids = torch.randint(0, 256, (2, 32), generator=torch.Generator().manual_seed(5))
    for step in range(3):
        torch.manual_seed(10 + step)
        loss_e = eager(input_ids=ids, labels=ids).loss
        torch.manual_seed(10 + step)
        loss_c = compiled(input_ids=ids, labels=ids).loss
        assert loss_c.item() == pytest.approx(loss_e.item(), rel=1e-5), step
        loss_e.backward()
        loss_c.backward()
    for p, q in zip(model.parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5)
    assert any("aten::native_dropout.default" in s.extern_ops for s in graphopt.compiled_graphs())
