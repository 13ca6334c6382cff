"""How right is the cost model? Each workload is compiled with the host-cpu
target and timed on this machine: the whole step eager and with graphopt
(forward, plus backward for training workloads), each compiled graph, and
each step of it, next to what the model predicted.

    python benchmarks/accountability.py                  # every workload
    python benchmarks/accountability.py -w mlp --scale 0.25 --json out.json
    python benchmarks/accountability.py --kernels       # and every step vs its roof

Each workload runs in a fresh process (as a user's job would: the cost of
fresh memory, for one, depends on what the process did before). Prints, per
workload, the predicted and the measured speedup, and at the end
the mean absolute percentage error (MAPE) of the predicted speedups and of
the predicted graph times, and the Spearman rank correlation between
predicted and measured step times. Last, each step against its roofline on
this machine (the cost model's max(FLOPs / peak, bytes / copy bandwidth) over
the measured time): how many memory-bound kernels reach 70% of copy bandwidth,
in all and among those whose roofline time is above the least time a kernel
call takes here (the others move a few KB: their time is the call's). Copy
bandwidth is taken twice: the calibration's at the start, and copies timed
just before and after each graph's kernels (this machine's bandwidth drifts
by 2x over minutes, so the second is the fair roof).
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
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
        measured = measure_graph(stats, repeat, copy_probe=True)
        steps = [{"name": p["name"], "kind": p["kind"], "bound": p["bound"], "flops": p["flops"],
                  "bytes": p["bytes_read"] + p["bytes_written"], "roof_s": p["roof_s"],
                  "predicted_s": p["predicted_s"], "measured_s": m["measured_s"]}
                 for p, m in zip(cost["steps"], measured["steps"]) if p["launches"]]
        graphs.append({"graph": stats.name, "predicted_eager_s": cost["eager"]["time_s"],
                       "predicted_s": cost["compiled"]["time_s"], "measured_s": measured["compiled_s"],
                       "copy_bandwidth": measured["copy_bandwidth"], "steps": steps})
    # Eager and graphopt alternate, so drifts of the machine hit both.
    timed = paired(lambda: step(eager_model), lambda: step(fn), warmup=1, repeats=repeat)
    predicted_eager = sum(g["predicted_eager_s"] for g in graphs)
    predicted = sum(g["predicted_s"] for g in graphs)
    return {"workload": workload.name, "graphs": graphs,
            "predicted_eager_s": predicted_eager, "predicted_s": predicted,
            "measured_eager_s": timed["eager_s"], "measured_s": timed["compiled_s"],
            "predicted_speedup": predicted_eager / predicted,
            "measured_speedup": timed["speedup"]}


def roof_report(rows: list[dict], target: dict, every: bool) -> dict:
    """Each kernel's measured time against its roofline on this machine
    (bytes / copy bandwidth when memory-bound, FLOPs / graphopt's vector-math
    rate when compute-bound; contractions against GEMM FLOP/s). A
    memory-bound kernel is judged against two copy bandwidths: the
    calibration's, measured once at the start, and the copies timed just
    before and after its own graph's steps (`of_copy`), which this machine's
    drift makes the fair one. Prints the memory-bound kernels' summary, and
    with `every` one line per step."""
    print(f"\nKernels against the roof (copy {target['memory_bandwidth'] / 1e9:.1f} GB/s at calibration, "
          f"vector math {target['vector_flops'] / 1e9:.1f} GFLOP/s, "
          f"GEMM f32 {target['matmul_flops']['f32'] / 1e9:.0f} GFLOP/s):")
    memory = []
    for r in rows:
        for g in r["graphs"]:
            for s in g["steps"]:
                s["of_roof"] = s["roof_s"] / s["measured_s"] if s["measured_s"] > 0 else 0.0
                paired = s["bound"] == "memory" and s["measured_s"] > 0
                s["of_copy"] = s["bytes"] / g["copy_bandwidth"] / s["measured_s"] if paired else None
                if every:
                    unit = (f"{s['bytes'] / s['measured_s'] / 1e9:7.1f} GB/s" if s["bound"] == "memory"
                            else f"{s['flops'] / s['measured_s'] / 1e9:7.1f} GFLOP/s")
                    beside = (f"  {s['of_copy']:6.0%} of a copy beside it ({g['copy_bandwidth'] / 1e9:.1f} GB/s)"
                              if s["of_copy"] is not None else "")
                    print(f"  {r['workload']:<17} {s['name']:<36} {s['kind']:<7} {s['bound']:<8}"
                          f" {s['measured_s'] * 1e3:9.3f} ms {unit:>16} {s['of_roof']:6.0%} of roof{beside}")
                if s["kind"] == "kernel" and s["bound"] == "memory":
                    memory.append(s)
    if not memory:
        return {}

    def at_least_70pct(kernels: list[dict], key: str) -> tuple[int, float]:
        """How many of `kernels` reach 70% of their roof, and their share of the time."""
        fast = [s for s in kernels if s[key] >= 0.7]
        return len(fast), sum(s["measured_s"] for s in fast) / sum(s["measured_s"] for s in kernels)

    time = sum(s["measured_s"] for s in memory)
    summary = {"kernels": len(memory)}
    call_s = target["kernel_call_s"]
    streaming = [s for s in memory if s["roof_s"] >= call_s]
    called = [s for s in memory if s["roof_s"] < call_s]
    copies = sorted({g["copy_bandwidth"] for r in rows for g in r["graphs"]})
    for key, label in (("of_roof", f"the calibration's {target['memory_bandwidth'] / 1e9:.1f} GB/s"),
                       ("of_copy", f"copies timed beside each graph "
                                   f"({copies[0] / 1e9:.1f}-{copies[-1] / 1e9:.1f} GB/s)")):
        count, share = at_least_70pct(memory, key)
        median = statistics.median(s[key] for s in memory)
        print(f"memory-bound kernels: {len(memory)}; against {label}: {count} at >= 70% "
              f"({share:.0%} of their time), median {median:.0%}")
        summary[key] = {"at_least_70pct": count, "time_at_least_70pct": share, "median": median}
        if streaming:
            count, share = at_least_70pct(streaming, key)
            summary[key]["above_call_floor_at_least_70pct"] = count
            print(f"  of the {len(streaming)} with a roofline time above the {call_s * 1e6:.1f} us a kernel "
                  f"call takes here: {count} at >= 70% ({share:.0%} of their time)")
    summary["time_weighted_of_roof"] = sum(s["roof_s"] for s in memory) / time
    summary.update({"kernel_call_s": call_s, "above_call_floor": len(streaming),
                    "call_bound": len(called), "call_bound_s": sum(s["measured_s"] for s in called)})
    if called:
        print(f"  the other {len(called)} move too few bytes to be bound by bandwidth: "
              f"{summary['call_bound_s'] * 1e3:.2f} ms in all, median "
              f"{statistics.median(s['measured_s'] for s in called) * 1e6:.0f} us each, which is the "
              "executor's dispatch (Python, ctypes, OpenMP fork) more than the loop")
    # Time lost: the measured time beyond a copy's of the same bytes.
    slowest = sorted(memory, key=lambda s: s["measured_s"] * (1 - s["of_copy"]), reverse=True)[:5]
    print("furthest below a copy beside them: " + "; ".join(
        f"{s['name']} {s['measured_s'] * 1e3:.2f} ms at {s['of_copy']:.0%}" for s in slowest))
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", "--workloads", default=",".join(w.name for w in WORKLOADS))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("-r", "--repeat", type=int, default=20)
    p.add_argument("--json", help="write every row here")
    p.add_argument("--kernels", action="store_true", help="print every step against its roofline")
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
        "step_time_spearman": spearman([s["predicted_s"] for s in steps], [s["measured_s"] for s in steps]),
    }
    print(f"\n{summary['workloads']} workloads: predicted-speedup MAPE {summary['speedup_mape_pct']:.1f}%; "
          f"{summary['graphs']} graphs: graph-time MAPE {summary['graph_time_mape_pct']:.1f}%; "
          f"{summary['steps']} steps: step-time Spearman {summary['step_time_spearman']:.3f}")
    summary["memory_bound_kernels"] = roof_report(rows, target, args.kernels)
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
