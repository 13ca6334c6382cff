"""A seeded generator of random tensor programs for differential testing.

A program is a list of steps over a pool of values; each step picks an op and
operands whose shapes fit (identical, broadcastable, or matmul-compatible)
and appends its result. Inputs have random ranks 0-3, dims of size 0-5
(size 1 and 0 included), float32/float64/int64 dtypes, and are sometimes
non-contiguous. The same program runs eagerly and compiled; forward values
and input gradients must match.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

UNARY = {
    "exp": lambda x: torch.exp(x.clamp(max=20)),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "neg": torch.neg,
    "abs": torch.abs,
    "sqrt_abs": lambda x: torch.sqrt(x.abs() + 1e-3),
    "log1p_abs": lambda x: torch.log(x.abs() + 1),
    "erf": torch.erf,
    "square": lambda x: x * x,
    "gelu": torch.nn.functional.gelu,
    "silu": torch.nn.functional.silu,
}
BINARY = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "safe_div": lambda a, b: a / (b.abs() + 1),
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "where_gt": lambda a, b: torch.where(a > b, a, b * 0.5),
}
INT_BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul,
              "maximum": torch.maximum, "minimum": torch.minimum}
EXTERN = {  # ops graphopt has no lowering for
    "cumsum_last": lambda x: torch.cumsum(x, dim=-1) if x.dim() else x,
    "flip_first": lambda x: torch.flip(x, dims=[0]) if x.dim() else x,
}


@dataclass
class Program:
    seed: int
    inputs: list          # tensors (leaves)
    steps: list           # (name, fn, operand indices)
    outputs: list         # indices of returned values

    def __call__(self, *inputs):
        vals = list(inputs)
        for _, fn, idx in self.steps:
            vals.append(fn(*[vals[i] for i in idx]))
        return tuple(vals[i] for i in self.outputs)

    def describe(self) -> str:
        shapes = [f"{tuple(t.shape)}:{str(t.dtype).removeprefix('torch.')}"
                  f"{'' if t.is_contiguous() else ':strided'}" for t in self.inputs]
        ops = [f"v{len(self.inputs) + k} = {name}({', '.join(f'v{i}' for i in idx)})"
               for k, (name, _, idx) in enumerate(self.steps)]
        return f"seed {self.seed}: inputs {shapes}; " + "; ".join(ops) + f"; return {self.outputs}"


def _shape(rng: random.Random, rank: int) -> tuple:
    dims = []
    for _ in range(rank):
        r = rng.random()
        dims.append(0 if r < 0.04 else 1 if r < 0.25 else rng.randint(2, 5))
    return tuple(dims)


def _input(rng: random.Random, gen: torch.Generator, shape: tuple, dtype) -> torch.Tensor:
    if dtype == torch.int64:
        return torch.randint(-5, 6, shape, generator=gen)
    if len(shape) >= 2 and rng.random() < 0.3:  # non-contiguous: a transposed buffer
        t = torch.randn(shape[:-2] + (shape[-1], shape[-2]), generator=gen, dtype=dtype)
        return t.transpose(-1, -2)
    return torch.randn(shape, generator=gen, dtype=dtype)


def _broadcastable(a, b) -> bool:
    try:
        torch.broadcast_shapes(a, b)
        return True
    except RuntimeError:
        return False


def make_program(seed: int, max_steps: int = 12) -> Program:
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    dtype = rng.choices([torch.float32, torch.float64, torch.int64], weights=[7, 2, 1])[0]
    base = _shape(rng, rng.randint(0, 3))
    inputs = []
    for _ in range(rng.randint(1, 3)):
        shape = base
        if base and rng.random() < 0.4:  # broadcast partner: some dims set to 1 or dropped
            shape = tuple(1 if rng.random() < 0.4 else d for d in base)[rng.randint(0, len(base) - 1):]
        inputs.append(_input(rng, gen, shape, dtype))
    shapes = [tuple(t.shape) for t in inputs]
    steps = []
    is_float = dtype.is_floating_point

    for _ in range(rng.randint(1, max_steps)):
        n = len(shapes)
        kind = rng.choices(["unary", "binary", "reduce", "reshape", "permute", "expand",
                            "matmul", "extern"], weights=[5, 6, 2, 1, 1, 1, 1, 1])[0]
        # Mostly extend recent values, so chains get deep enough to fuse.
        a = rng.randrange(max(0, n - 3), n) if rng.random() < 0.7 else rng.randrange(n)
        sa = shapes[a]
        if kind == "unary" and is_float:
            name = rng.choice(sorted(UNARY))
            steps.append((name, UNARY[name], [a]))
            shapes.append(sa)
        elif kind == "binary":
            table = BINARY if is_float else INT_BINARY
            partners = [i for i in range(n) if _broadcastable(sa, shapes[i])]
            b = rng.choice(partners)
            name = rng.choice(sorted(table))
            steps.append((name, table[name], [a, b]))
            shapes.append(tuple(torch.broadcast_shapes(sa, shapes[b])))
        elif kind == "reduce" and sa:
            dims = sorted(rng.sample(range(len(sa)), rng.randint(1, len(sa))))
            keep = rng.random() < 0.5
            op = rng.choice(["sum", "amax", "mean"] if is_float else ["sum", "amax"])
            if op == "amax" and any(sa[d] == 0 for d in dims):
                op = "sum"  # amax of an empty dim is an error in eager too
            fn = {"sum": lambda x, d=dims, k=keep: x.sum(d, keepdim=k),
                  "amax": lambda x, d=dims, k=keep: x.amax(d, keepdim=k),
                  "mean": lambda x, d=dims, k=keep: x.mean(d, keepdim=k)}[op]
            steps.append((f"{op}{dims}{'k' if keep else ''}", fn, [a]))
            shapes.append(tuple(1 if i in dims else s for i, s in enumerate(sa) if keep or i not in dims))
        elif kind == "reshape":
            numel = 1
            for d in sa:
                numel *= d
            target = (numel,) if rng.random() < 0.5 or numel == 0 else (1, numel)
            steps.append((f"reshape{target}", lambda x, t=target: x.reshape(t), [a]))
            shapes.append(target)
        elif kind == "permute" and len(sa) >= 2:
            perm = list(range(len(sa)))
            rng.shuffle(perm)
            steps.append((f"permute{perm}", lambda x, p=perm: x.permute(p), [a]))
            shapes.append(tuple(sa[p] for p in perm))
        elif kind == "expand" and sa and 1 in sa:
            target = tuple(rng.randint(2, 4) if d == 1 else d for d in sa)
            steps.append((f"expand{target}", lambda x, t=target: x.expand(t), [a]))
            shapes.append(target)
        elif kind == "matmul" and is_float and len(sa) == 2:
            k = sa[1]
            partners = [i for i in range(n) if len(shapes[i]) == 2 and shapes[i][0] == k]
            if partners:
                b = rng.choice(partners)
                steps.append(("mm", torch.mm, [a, b]))
                shapes.append((sa[0], shapes[b][1]))
            else:
                steps.append(("mm_t", lambda x: x @ x.t(), [a]))
                shapes.append((sa[0], sa[0]))
        elif kind == "extern" and sa:
            name = rng.choice(sorted(EXTERN))
            steps.append((name, EXTERN[name], [a]))
            shapes.append(sa)
        else:
            name = "neg" if not is_float else rng.choice(sorted(UNARY))
            steps.append((name, UNARY[name], [a]))
            shapes.append(sa)

    produced = list(range(len(inputs), len(shapes)))
    outputs = sorted(set(rng.sample(produced, min(len(produced), rng.randint(1, 2)))) | {produced[-1]})
    return Program(seed, inputs, steps, outputs)
