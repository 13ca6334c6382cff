"""graphopt demo: train and run the transformer MLP block compiled with graphopt.

Linear(1024->4096) -> GELU -> Linear(4096->1024) -> residual -> LayerNorm,
a few AdamW steps and then inference, each compared with eager.
"""
import os
import statistics
import sys
import time

import torch
import torch.nn as nn

import graphopt

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from models import MLPBlock, twin  # noqa: E402

torch.set_num_threads(2)
BATCH, SEQ, D, HIDDEN, STEPS = 8, 128, 1024, 4096, 3


def max_diff(a, b):
    return (a - b).abs().max().item()


def main():
    eager, model = twin(MLPBlock, D, HIDDEN)
    compiled = torch.compile(model, backend="graphopt")
    opt_e = torch.optim.AdamW(eager.parameters(), lr=1e-4)
    opt_c = torch.optim.AdamW(model.parameters(), lr=1e-4)
    torch.manual_seed(0)

    print(f"graphopt {graphopt.__version__} | MLP block {D}->{HIDDEN}->{D}, input {BATCH}x{SEQ}x{D}, fp32")
    print("\ntraining (AdamW):")
    t_eager, t_compiled = [], []
    for step in range(STEPS):
        x, target = torch.randn(BATCH, SEQ, D), torch.randn(BATCH, SEQ, D)
        losses = []
        for m, opt, times in ((eager, opt_e, t_eager), (compiled, opt_c, t_compiled)):
            start = time.perf_counter()
            opt.zero_grad()
            loss = nn.functional.mse_loss(m(x), target)
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - start)
            losses.append(loss.item())
        grad_diff = max(max_diff(p.grad, q.grad) for p, q in zip(model.parameters(), eager.parameters()))
        print(f"  step {step}: loss eager {losses[0]:.6f} graphopt {losses[1]:.6f}  "
              f"max |grad diff| {grad_diff:.2e}")
    param_diff = max(max_diff(p, q) for p, q in zip(model.parameters(), eager.parameters()))
    print(f"  max |param diff| after {STEPS} steps: {param_diff:.2e}")

    print("\ninference:")
    x = torch.randn(BATCH, SEQ, D)
    with torch.no_grad():
        out_c, out_e = compiled(x), eager(x)
        print(f"  max |output diff| vs eager: {max_diff(out_c, out_e):.2e}")
        inf_e, inf_c = [], []
        for _ in range(7):  # alternate to share machine noise
            for fn, times in ((eager, inf_e), (compiled, inf_c)):
                start = time.perf_counter()
                fn(x)
                times.append(time.perf_counter() - start)

    print("\ncompiled graphs:")
    print(f"  {'graph':<14}{'ATen ops':>9}{'kernels':>9}{'extern':>8}{'arena MiB':>11}"
          f"{'no reuse MiB':>14}{'all interm. MiB':>17}{'compile ms':>12}")
    for s in graphopt.compiled_graphs():
        print(f"  {s.name:<14}{s.aten_ops:>9}{s.kernels:>9}{len(s.extern_ops):>8}"
              f"{s.arena_bytes / 2**20:>11.1f}{s.planned_bytes / 2**20:>14.1f}"
              f"{s.intermediate_bytes / 2**20:>17.1f}{s.compile_seconds * 1e3:>12.0f}")

    # The first step includes compilation; speedups use the later ones.
    train_speedup = statistics.median(t_eager[1:]) / statistics.median(t_compiled[1:])
    inf_speedup = statistics.median(e / c for e, c in zip(inf_e[1:], inf_c[1:]))
    print(f"\nmeasured speedup vs eager (median, this machine): training step {train_speedup:.2f}x, "
          f"inference {inf_speedup:.2f}x")
    print(f"(eager inference {statistics.median(inf_e) * 1e3:.0f} ms, graphopt {statistics.median(inf_c) * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
