"""What the cost model predicts for the suite's workloads on other hardware:
per workload and target, the eager and graphopt step time, the predicted
speedup, MFU, and a data-parallel what-if for the training workloads.

    python benchmarks/predict.py                           # h100-sxm, a100-sxm-80gb
    python benchmarks/predict.py -t my-accelerator.json --devices 8 --markdown out.md

Nothing is timed: the workloads are compiled once (their shapes at --scale)
and priced by the C++ cost model.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from run import loss_of  # noqa: E402
from workloads import BY_NAME, WORKLOADS  # noqa: E402

import graphopt  # noqa: E402
from graphopt.cost import data_parallel, load_target  # noqa: E402


def predict(workload, scale: float, targets: list[str], devices: int) -> list[dict]:
    torch._dynamo.reset()
    graphopt.reset_stats()
    model, inputs = workload.make(scale)
    fn = torch.compile(model, backend="graphopt", options={"targets": targets, "strict": True})
    if workload.training:
        loss_of(fn(*inputs)).backward()
    else:
        with torch.no_grad():
            fn(*inputs)
    grad_bytes = sum(p.numel() * p.element_size() for p in model.parameters()) if workload.training else 0
    rows = []
    for t in targets:
        costs = [c for s in graphopt.compiled_graphs() for c in s.cost if c["target"]["name"] == load_target(t)["name"]]
        eager = sum(c["eager"]["time_s"] for c in costs)
        compiled = sum(c["compiled"]["time_s"] for c in costs)
        flops = sum(c["compiled"]["flops"] for c in costs)
        peak = costs[0]["target"]["peak_flops_matmul"]
        row = {"workload": workload.name, "target": costs[0]["target"]["name"], "eager_s": eager,
               "compiled_s": compiled, "speedup": eager / compiled, "mfu": flops / (compiled * peak),
               "launches": (sum(c["eager"]["launches"] for c in costs),
                            sum(c["compiled"]["launches"] for c in costs))}
        link = costs[0]["target"].get("interconnect_bandwidth") or 0
        if workload.training and link > 0:
            row["data_parallel"] = data_parallel(compiled, grad_bytes, devices, link)
        rows.append(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", "--workloads", default=",".join(w.name for w in WORKLOADS))
    p.add_argument("-t", "--targets", default="h100-sxm,a100-sxm-80gb")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--devices", type=int, default=8, help="data-parallel what-if for training workloads")
    p.add_argument("--markdown", help="write the table here")
    args = p.parse_args()
    lines = [f"| workload | target | eager (us) | graphopt (us) | predicted speedup | MFU | launches eager -> graphopt "
             f"| {args.devices}-device data-parallel step (us), efficiency |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in args.workloads.split(","):
        for r in predict(BY_NAME[name], args.scale, args.targets.split(","), args.devices):
            dp = r.get("data_parallel")
            dp_text = f"{dp['step_s'] * 1e6:.0f}, {100 * dp['scaling_efficiency']:.0f}%" if dp else "–"
            lines.append(f"| {r['workload']} | {r['target']} | {r['eager_s'] * 1e6:.0f} | {r['compiled_s'] * 1e6:.0f} "
                         f"| {r['speedup']:.2f}x | {100 * r['mfu']:.1f}% | {r['launches'][0]} -> {r['launches'][1]} "
                         f"| {dp_text} |")
            print(lines[-1], flush=True)
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
