"""How right is the cost model? Each workload's graphs are compiled with the
host-cpu target, then timed on this machine, graph by graph (eager vs
graphopt) and step by step, next to what the model predicted.

    python benchmarks/accountability.py                  # every workload
    python benchmarks/accountability.py -w mlp --scale 0.25 --json out.json

Prints, per graph, the predicted and the measured speedup, and at the end the
mean absolute percentage error (MAPE) of the predicted speedups and the
Spearman rank correlation between predicted and measured step times.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from run import loss_of  # noqa: E402
from workloads import BY_NAME, WORKLOADS  # noqa: E402

import graphopt  # noqa: E402
from graphopt.measure import mape, measure_graph, spearman  # noqa: E402


def account(workload, scale: float, repeat: int) -> list[dict]:
    """One row per graph of the workload: predicted and measured."""
    torch._dynamo.reset()
    graphopt.reset_stats()
    model, inputs = workload.make(scale)
    fn = torch.compile(model, backend="graphopt", options={"targets": ["host-cpu"], "profile": True})
    if workload.training:
        loss_of(fn(*inputs)).backward()
    else:
        with torch.no_grad():
            fn(*inputs)
    rows = []
    for stats in graphopt.compiled_graphs():
        if stats.fallback or stats.runtime is None:
            continue
        cost = stats.cost[0]
        measured = measure_graph(stats, repeat)
        steps = [(p["predicted_s"], m["measured_s"], p["name"])
                 for p, m in zip(cost["steps"], measured["steps"]) if p["launches"]]
        rows.append({"workload": workload.name, "graph": stats.name,
                     "predicted_speedup": cost["predicted_speedup"],
                     "measured_speedup": measured["speedup"],
                     "predicted_eager_s": cost["eager"]["time_s"], "measured_eager_s": measured["eager_s"],
                     "predicted_s": cost["compiled"]["time_s"], "measured_s": measured["compiled_s"],
                     "steps": steps})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", "--workloads", default=",".join(w.name for w in WORKLOADS))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("-r", "--repeat", type=int, default=20)
    p.add_argument("--json", help="write every row here")
    args = p.parse_args()
    torch.set_num_threads(2)
    rows = []
    print(f"{'workload':<18} {'graph':<13} {'pred eager':>10} {'meas eager':>10} {'pred':>9} "
          f"{'meas':>9} {'pred x':>7} {'meas x':>7}   (times in ms)")
    for name in args.workloads.split(","):
        for r in account(BY_NAME[name], args.scale, args.repeat):
            rows.append(r)
            print(f"{r['workload']:<18} {r['graph']:<13} {r['predicted_eager_s'] * 1e3:10.3f} "
                  f"{r['measured_eager_s'] * 1e3:10.3f} {r['predicted_s'] * 1e3:9.3f} "
                  f"{r['measured_s'] * 1e3:9.3f} {r['predicted_speedup']:7.2f} {r['measured_speedup']:7.2f}",
                  flush=True)
    steps = [s for r in rows for s in r["steps"]]
    summary = {
        "graphs": len(rows),
        "speedup_mape_pct": mape([r["predicted_speedup"] for r in rows], [r["measured_speedup"] for r in rows]),
        "graph_time_mape_pct": mape([r["predicted_s"] for r in rows], [r["measured_s"] for r in rows]),
        "steps": len(steps),
        "step_time_spearman": spearman([s[0] for s in steps], [s[1] for s in steps]),
    }
    print(f"\n{summary['graphs']} graphs: predicted-speedup MAPE {summary['speedup_mape_pct']:.1f}%, "
          f"graph-time MAPE {summary['graph_time_mape_pct']:.1f}%; {summary['steps']} steps: "
          f"step-time Spearman {summary['step_time_spearman']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
