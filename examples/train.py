"""Train a small transformer block with graphopt, next to eager, then write the report.

    .venv/bin/python examples/train.py [--steps 5] [--report train-report.html]

The forward and backward graphs are dumped while training; the report is built
from that dump folder (what `graphopt report DUMP_DIR` does).
"""
import argparse
import copy
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

import graphopt
from graphopt.report import Report


class Block(nn.Module):
    """Pre-LayerNorm transformer block: causal self-attention and a GELU MLP."""

    def __init__(self, d: int = 128, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (y.view(b, t, self.heads, d // self.heads).transpose(1, 2) for y in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / (d // self.heads) ** 0.5
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        attn = scores.masked_fill(mask, float("-inf")).softmax(-1) @ v
        x = x + self.proj(attn.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--report", default="train-report.html")
    args = parser.parse_args()

    torch.manual_seed(0)
    eager = Block()
    model = copy.deepcopy(eager)
    x, target = torch.randn(8, 64, 128), torch.randn(8, 64, 128)
    with tempfile.TemporaryDirectory(prefix="graphopt-train-") as dump:
        compiled = torch.compile(model, backend="graphopt", options={"dump_dir": dump})
        optimizers = [torch.optim.AdamW(m.parameters(), lr=1e-3) for m in (eager, model)]
        for step in range(args.steps):
            losses = []
            for fn, opt in zip((eager, compiled), optimizers):
                opt.zero_grad()
                loss = F.mse_loss(fn(x), target)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            print(f"step {step}: loss eager {losses[0]:.6f}  graphopt {losses[1]:.6f}")
        report = Report.from_dump(dump, target="h100-sxm", stats=graphopt.compiled_graphs())
    print()
    print(report)
    print(f"\nwrote {report.save_html(args.report)}")


if __name__ == "__main__":
    main()
