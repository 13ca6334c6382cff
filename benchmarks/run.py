"""graphopt's benchmark suite: graphopt, eager, Inductor (default and freezing)
and ONNX Runtime (inference) side by side, in one process, on the same inputs.

    python benchmarks/run.py                       # every workload, 30 rounds
    python benchmarks/run.py -w mlp,elementwise -r 10 --scale 0.25
    python benchmarks/run.py --markdown docs/benchmarks.md

Protocol (docs/benchmarks.md): fp32, 2 threads, fixed seeds; every contender's
output is checked against eager before it is timed; after warm-up, each round
runs every contender once in a shuffled order; we report the median time, the
p10-p90 spread and the median of the per-round paired ratio t_eager / t.
Cold compile runs in a fresh process with empty caches (compile + first call,
minus eager's first call); warm compile in fresh processes reusing them.
Memory, in those warm processes: the peak RSS growth over the RSS just before
the first call, during the first call (compile included) and during three
steady-state calls after it (the peak is reset in between). Warm compile and
memory are medians over --process-runs processes (3): a process's heap layout
moves its peak RSS by tens of MB from one run to the next.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from workloads import BY_NAME, WORKLOADS  # noqa: E402

INFERENCE = ["eager", "inductor", "inductor_freezing", "onnxruntime", "graphopt"]
TRAINING = ["eager", "inductor", "graphopt"]


def loss_of(out):
    return out.float().pow(2).mean()


def make_contender(kind: str, workload, model, inputs):
    """A zero-argument callable running one step of `kind` on its own model copy."""
    model = copy.deepcopy(model)
    if workload.training:
        if kind == "inductor":
            fn = torch.compile(model)
        elif kind == "graphopt":
            fn = torch.compile(model, backend="graphopt")
        else:
            fn = model
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_of(fn(*inputs))
            loss.backward()
            opt.step()
            return loss.detach()
        return step
    if kind == "eager":
        fn = model
    elif kind == "inductor":
        fn = torch.compile(model)
    elif kind == "inductor_freezing":
        fn = torch.compile(model)
        with torch._inductor.config.patch(freezing=True), torch.no_grad():
            fn(*inputs)  # freezing is decided when compiling, i.e. at the first call
    elif kind == "graphopt":
        fn = torch.compile(model, backend="graphopt")
    elif kind == "onnxruntime":
        import onnxruntime as ort
        path = Path(tempfile.mkdtemp()) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(model, inputs, str(path), dynamo=True)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]

        def run():
            out = sess.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
            return torch.from_numpy(out[0])
        return run
    else:
        raise ValueError(kind)

    def run():
        with torch.no_grad():
            return fn(*inputs)
    return run


def available(kind: str) -> bool:
    if kind == "onnxruntime":
        try:
            import onnxruntime  # noqa: F401
            import onnxscript  # noqa: F401
            return True
        except ImportError:
            return False
    return True


def steady_state(workload, scale: float, rounds: int, kinds: list[str]) -> dict:
    model, inputs = workload.make(scale)
    runs, ref = {}, None
    for kind in kinds:
        fn = make_contender(kind, workload, model, inputs)
        out = fn()
        if kind == "eager":
            ref = out
        else:  # check before timing
            ok = torch.allclose(out.float(), ref.float(), rtol=2e-3, atol=2e-3)
            if not ok:
                raise SystemExit(f"{workload.name}: {kind} disagrees with eager "
                                 f"(max diff {(out.float() - ref.float()).abs().max().item():.3g})")
        fn()  # second warm-up
        runs[kind] = fn
    times = {k: [] for k in kinds}
    order = list(kinds)
    rng = random.Random(0)
    for _ in range(rounds):
        rng.shuffle(order)
        for kind in order:
            start = time.perf_counter()
            runs[kind]()
            times[kind].append(time.perf_counter() - start)
    result = {}
    for kind in kinds:
        t = sorted(times[kind])
        ratios = [e / c for e, c in zip(times["eager"], times[kind])]
        result[kind] = {
            "median_ms": statistics.median(t) * 1e3,
            "p10_ms": t[int(0.1 * (len(t) - 1))] * 1e3,
            "p90_ms": t[int(0.9 * (len(t) - 1))] * 1e3,
            "speedup": statistics.median(ratios),
        }
    return result


def _rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process; VmHWM, unlike ru_maxrss,
    does not carry the parent's peak across fork + exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _child(args) -> None:
    """Fresh-process measurement of one contender: time of the first call
    (compile included), and the peak RSS growth over the RSS before that call,
    during it and during three steady-state calls."""
    torch.set_num_threads(2)
    workload = BY_NAME[args.child_workload]
    model, inputs = workload.make(args.scale)
    start = time.perf_counter()
    fn = make_contender(args.child_kind, workload, model, inputs)
    before = _rss_mb("VmRSS")
    fn()
    first = time.perf_counter() - start
    first_peak = _rss_mb("VmHWM") - before
    steady_peak = None
    if _reset_peak_rss():
        for _ in range(3):
            fn()
        steady_peak = _rss_mb("VmHWM") - before
    print(json.dumps({"first_call_s": first, "first_call_rss_mb": first_peak,
                      "steady_rss_mb": steady_peak}))


def fresh_process(workload: str, kind: str, scale: float, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--child-workload", workload, "--child-kind", kind,
           "--scale", str(scale)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_processes(workload: str, kind: str, scale: float, env: dict, runs: int) -> dict:
    """The median of each figure over `runs` fresh processes: a process's heap
    layout, so its peak RSS, differs from one run to the next by tens of MB."""
    results = [fresh_process(workload, kind, scale, env) for _ in range(runs)]
    ok = [r for r in results if "error" not in r]
    if not ok:
        return results[0]
    return {k: statistics.median(r[k] for r in ok) if ok[0][k] is not None else None for k in ok[0]}


def compile_times(workload, scale: float, kinds: list[str], runs: int) -> dict:
    """Cold compile time (first call minus eager's first call, in a fresh
    process with empty caches); warm compile time and peak RSS, medians over
    `runs` fresh processes reusing the caches."""
    eager = fresh_processes(workload.name, "eager", scale, dict(os.environ), runs)
    memory = ("first_call_rss_mb", "steady_rss_mb")
    result = {"eager": {k: eager.get(k) for k in memory}}
    base = eager.get("first_call_s", 0.0)
    for kind in kinds:
        if kind == "eager":
            continue
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, GRAPHOPT_CACHE_DIR=f"{cache}/graphopt",
                       TORCHINDUCTOR_CACHE_DIR=f"{cache}/inductor")
            cold = fresh_process(workload.name, kind, scale, env)
            warm = fresh_processes(workload.name, kind, scale, env, runs)
        result[kind] = {
            "cold_s": cold["first_call_s"] - base if "first_call_s" in cold else None,
            "warm_s": warm["first_call_s"] - base if "first_call_s" in warm else None,
            **{k: warm.get(k) for k in memory}, "error": cold.get("error")}
    return result


def machine() -> str:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, Python {platform.python_version()}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-w", "--workloads", default=",".join(w.name for w in WORKLOADS))
    p.add_argument("-r", "--rounds", type=int, default=30)
    p.add_argument("--scale", type=float, default=1.0, help="batch scale (1.0 = the public sizes)")
    p.add_argument("--no-compile", action="store_true", help="skip cold/warm compile and memory")
    p.add_argument("--process-runs", type=int, default=3,
                   help="fresh processes per contender for warm compile time and memory (median)")
    p.add_argument("--markdown", help="also write the results table to this file")
    p.add_argument("--json", help="also write raw results as JSON")
    p.add_argument("--child-workload", help=argparse.SUPPRESS)
    p.add_argument("--child-kind", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_workload:
        return _child(args)

    torch.set_num_threads(2)
    load0 = os.getloadavg()
    print(f"machine: {machine()}; load average {load0[0]:.2f}")
    rows, raw = [], {}
    missing = [k for k in INFERENCE if not available(k)]
    if missing:  # a table without a peer would overstate graphopt's lead
        print(f"warning: {', '.join(missing)} not installed: left out of the table "
              "(`make bench` installs onnxruntime and onnxscript)", file=sys.stderr)
    for name in args.workloads.split(","):
        w = BY_NAME[name]
        kinds = [k for k in (TRAINING if w.training else INFERENCE) if available(k)]
        print(f"[{name}] {w.description} ...", flush=True)
        res = steady_state(w, args.scale, args.rounds, kinds)
        comp = {} if args.no_compile else compile_times(w, args.scale, kinds, args.process_runs)
        raw[name] = {"steady": res, "compile": comp}
        for kind in kinds:
            r = res[kind]
            c = comp.get(kind, {})
            cold = f"{c['cold_s']:.1f}" if c.get("cold_s") is not None else "-"
            warm = f"{c['warm_s']:.2f}" if c.get("warm_s") is not None else "-"
            mem1, mem = (f"{c[k]:.0f}" if c.get(k) is not None else "-"
                         for k in ("first_call_rss_mb", "steady_rss_mb"))
            rows.append((name, kind, f"{r['median_ms']:.1f}", f"{r['p10_ms']:.1f}-{r['p90_ms']:.1f}",
                         f"{r['speedup']:.2f}x", cold, warm, mem1, mem))
            print(f"  {kind:<18} {r['median_ms']:9.1f} ms  [{r['p10_ms']:.1f}-{r['p90_ms']:.1f}]"
                  f"  {r['speedup']:5.2f}x eager  cold {cold} s  warm {warm} s"
                  f"  RSS +{mem1} MB first call, +{mem} MB steady", flush=True)
    load1 = os.getloadavg()
    header = ("| workload | contender | median ms | p10-p90 ms | speedup vs eager | cold compile s "
              "| warm compile s | RSS growth first call MB | RSS growth steady MB |\n"
              "|---|---|---|---|---|---|---|---|---|")
    table = "\n".join([header] + ["| " + " | ".join(r) + " |" for r in rows])
    print(f"\nload average at start {load0[0]:.2f}, at end {load1[0]:.2f}\n")
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(
            "# Benchmarks\n\n"
            "`make bench` (or `python benchmarks/run.py`) runs the suite: every contender in one\n"
            "process on the same inputs, outputs checked against eager first, then rounds in a\n"
            "shuffled order; the speedup is the median of the per-round ratio t_eager / t.\n"
            "Cold compile: a fresh process with empty caches, compile + first call minus eager's\n"
            "first call; warm: fresh processes reusing the caches. RSS growth: in those warm\n"
            "processes, the peak RSS over the RSS just before the first call, during the first\n"
            "call (compile included) and during three steady-state calls after it. Warm compile\n"
            f"and memory are medians over {args.process_runs} processes (eager's too).\n"
            "Workloads: `benchmarks/workloads.py`.\n\n"
            f"Measured with `python benchmarks/run.py -r {args.rounds} --scale {args.scale}` on "
            f"{machine()}; load average {load0[0]:.2f} at start, {load1[0]:.2f} at end.\n\n"
            f"{table}\n")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
