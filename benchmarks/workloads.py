"""The public workloads of graphopt's benchmark suite (see docs/benchmarks.md).

Each workload builds a model and inputs from a fixed seed and says whether it
is inference (forward under no_grad) or a training step (forward, backward,
optimizer step).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Workload:
    name: str
    description: str
    make: Callable[[float], tuple]  # scale -> (model, inputs)
    training: bool = False


class MLPBlock(nn.Module):
    def __init__(self, d=1024, hidden=4096):
        super().__init__()
        self.fc1, self.fc2, self.norm = nn.Linear(d, hidden), nn.Linear(hidden, d), nn.LayerNorm(d)

    def forward(self, x):
        return self.norm(x + self.fc2(F.gelu(self.fc1(x))))


class GPT2Block(nn.Module):
    """Pre-LN GPT-2 block; attention written with matmul/softmax and a causal mask."""

    def __init__(self, d=768, heads=12, seq=256):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.register_buffer("mask", torch.tril(torch.ones(seq, seq, dtype=torch.bool)))

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.view(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // h)
        att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(x + self.b2(self.c2(F.relu(self.b1(self.c1(x))))))


class ResNetish(nn.Module):
    def __init__(self, width=64, blocks=3, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.blocks = nn.Sequential(*[Block(width) for _ in range(blocks)])
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1).flatten(1))


class Elementwise(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x) + torch.tanh(x) * 0.5 - x.exp().clamp(max=10)


class NormHeavy(nn.Module):
    def __init__(self, d=1024):
        super().__init__()
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return F.gelu(torch.softmax(self.norm(x), dim=-1))


def _rows(n: int, scale: float) -> int:
    return max(1, int(round(n * scale)))


def _seeded(fn):
    def make(scale):
        torch.manual_seed(0)
        return fn(scale)
    return make


WORKLOADS = [
    Workload("mlp", "Linear 1024->4096, GELU, Linear 4096->1024, residual, LayerNorm; 64x128x1024",
             _seeded(lambda s: (MLPBlock(), (torch.randn(_rows(64, s), 128, 1024),)))),
    Workload("gpt2_block", "pre-LN GPT-2 block, d 768, 12 heads, seq 256, batch 4, causal",
             _seeded(lambda s: (GPT2Block(), (torch.randn(_rows(4, s), 256, 768),)))),
    Workload("gpt2_block_train", "the GPT-2 block: forward + backward + AdamW step",
             _seeded(lambda s: (GPT2Block(), (torch.randn(_rows(4, s), 256, 768),))), training=True),
    Workload("resnet_eval", "3 Conv+BN+ReLU residual blocks, 3x64x64, batch 16, eval",
             _seeded(lambda s: (ResNetish().eval(), (torch.randn(_rows(16, s), 3, 64, 64),)))),
    Workload("resnet_train", "the ResNet-style net: training step (AdamW)",
             _seeded(lambda s: (ResNetish(), (torch.randn(_rows(16, s), 3, 64, 64),))), training=True),
    Workload("elementwise", "x*sigmoid(x) + tanh(x)*0.5 - exp(x).clamp(max=10) on 4096x4096",
             _seeded(lambda s: (Elementwise(), (torch.randn(_rows(4096, s), 4096),)))),
    Workload("norm_heavy", "LayerNorm -> softmax(last dim) -> GELU on 32x512x1024",
             _seeded(lambda s: (NormHeavy(), (torch.randn(_rows(32, s), 512, 1024),)))),
]
BY_NAME = {w.name: w for w in WORKLOADS}
