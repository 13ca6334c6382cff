"""How right is the cost model? Each workload is compiled with the host-cpu
target and timed on this machine: the whole step eager and with graphopt
(forward, plus backward for training workloads), each compiled graph, and
each step of it, next to what the model predicted.

    python benchmarks/accountability.py                  # every workload
    python benchmarks/accountability.py -w mlp --scale 0.25 --json out.json

Each workload runs in a fresh process (as a user's job would: the cost of
fresh memory, for one, depends on what the process did before). Prints, per
workload, the predicted and the measured speedup, and at the end
the mean absolute percentage error (MAPE) of the predicted speedups and of
the predicted graph times, and the Spearman rank correlation between
predicted and measured step times.
"""
from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from run import loss_of  # noqa: E402
from workloads import BY_NAME, WORKLOADS  # noqa: E402

import graphopt  # noqa: E402
from graphopt.cost import host_cpu_target  # noqa: E402
from graphopt.measure import mape, measure_graph, paired, spearman  # noqa: E402


def account(workload, scale: float, repeat: int) -> dict:
    """Predicted and measured, for one workload and each of its graphs."""
    torch._dynamo.reset()
    graphopt.reset_stats()
    model, inputs = workload.make(scale)
    eager_model = copy.deepcopy(model)
    fn = torch.compile(model, backend="graphopt", options={"targets": ["host-cpu"], "profile": True})

    def step(m):
        if workload.training:
            loss_of(m(*inputs)).backward()
        else:
            with torch.no_grad():
                m(*inputs)
    step(fn)
    graphs = []
    for stats in graphopt.compiled_graphs():
        if stats.fallback or stats.runtime is None:
            continue
        cost = stats.cost[0]
        measured = measure_graph(stats, repeat)
        steps = [(p["predicted_s"], m["measured_s"], p["name"])
                 for p, m in zip(cost["steps"], measured["steps"]) if p["launches"]]
        graphs.append({"graph": stats.name, "predicted_eager_s": cost["eager"]["time_s"],
                       "predicted_s": cost["compiled"]["time_s"], "measured_s": measured["compiled_s"],
                       "steps": steps})
    # Eager and graphopt alternate, so drifts of the machine hit both.
    timed = paired(lambda: step(eager_model), lambda: step(fn), warmup=1, repeats=repeat)
    predicted_eager = sum(g["predicted_eager_s"] for g in graphs)
    predicted = sum(g["predicted_s"] for g in graphs)
    return {"workload": workload.name, "graphs": graphs,
            "predicted_eager_s": predicted_eager, "predicted_s": predicted,
            "measured_eager_s": timed["eager_s"], "measured_s": timed["compiled_s"],
            "predicted_speedup": predicted_eager / predicted,
            "measured_speedup": timed["speedup"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", "--workloads", default=",".join(w.name for w in WORKLOADS))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("-r", "--repeat", type=int, default=20)
    p.add_argument("--json", help="write every row here")
    p.add_argument("--keep-calibration", action="store_true",
                   help="use the cached host-cpu target instead of measuring the machine again first")
    p.add_argument("--child", help=argparse.SUPPRESS)  # one workload, JSON on stdout
    args = p.parse_args()
    torch.set_num_threads(2)
    if args.child:
        print(json.dumps(account(BY_NAME[args.child], args.scale, args.repeat)))
        return
    target = host_cpu_target(refresh=not args.keep_calibration)
    print("host-cpu: " + ", ".join(f"{k} {v:.3g}" for k, v in target.items() if isinstance(v, float)))
    rows = []
    print(f"{'workload':<18} {'eager pred':>10} {'eager meas':>10} {'graphopt pred':>13} "
          f"{'graphopt meas':>13} {'speedup pred':>12} {'speedup meas':>12}   (times in ms)")
    for name in args.workloads.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", name, "--scale", str(args.scale),
                              "-r", str(args.repeat)], check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        print(f"{r['workload']:<18} {r['predicted_eager_s'] * 1e3:10.3f} {r['measured_eager_s'] * 1e3:10.3f} "
              f"{r['predicted_s'] * 1e3:13.3f} {r['measured_s'] * 1e3:13.3f} "
              f"{r['predicted_speedup']:12.2f} {r['measured_speedup']:12.2f}", flush=True)
    graphs = [g for r in rows for g in r["graphs"]]
    steps = [s for g in graphs for s in g["steps"]]
    summary = {
        "workloads": len(rows),
        "speedup_mape_pct": mape([r["predicted_speedup"] for r in rows], [r["measured_speedup"] for r in rows]),
        "graphs": len(graphs),
        "graph_time_mape_pct": mape([g["predicted_s"] for g in graphs], [g["measured_s"] for g in graphs]),
        "steps": len(steps),
        "step_time_spearman": spearman([s[0] for s in steps], [s[1] for s in steps]),
    }
    print(f"\n{summary['workloads']} workloads: predicted-speedup MAPE {summary['speedup_mape_pct']:.1f}%; "
          f"{summary['graphs']} graphs: graph-time MAPE {summary['graph_time_mape_pct']:.1f}%; "
          f"{summary['steps']} steps: step-time Spearman {summary['step_time_spearman']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
