"""Small models the tests and the demo share."""
import torch
import torch.nn as nn


class MLPBlock(nn.Module):
    """Linear -> GELU -> Linear, residual, LayerNorm (the transformer MLP block)."""

    def __init__(self, d: int = 1024, hidden: int = 4096):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return self.norm(x + self.fc2(nn.functional.gelu(self.fc1(x))))


def twin(model_cls, *args, seed=0):
    """Two identical instances: one for eager, one to compile."""
    torch.manual_seed(seed)
    a = model_cls(*args)
    b = model_cls(*args)
    b.load_state_dict(a.state_dict())
    return a, b
