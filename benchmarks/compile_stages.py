"""Where a workload's compile time goes: each workload runs in a fresh
process on an empty graphopt cache (cold), then in another reusing it
(warm), and reports the import of torch._dynamo, the import of graphopt, the
first call (Dynamo's tracing, AOTAutograd, graphopt, and the step itself),
graphopt's own compile stages within it, and the C++ compiler within those.

    python benchmarks/compile_stages.py
    python benchmarks/compile_stages.py -w resnet_train,gpt2_block
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child(name: str) -> None:
    import torch
    torch.set_num_threads(2)
    sys.path.insert(0, str(Path(__file__).parent))
    from run import make_contender
    from workloads import BY_NAME
    workload = BY_NAME[name]
    model, inputs = workload.make(1.0)
    start = time.perf_counter()
    import torch._dynamo  # noqa: F401
    dynamo = time.perf_counter()
    import graphopt
    import graphopt.backend as backend
    imported = time.perf_counter()
    compiler = {"s": 0.0}
    load = backend.load_kernel_library

    def timed_load(*args, **kwargs):
        t = time.perf_counter()
        try:
            return load(*args, **kwargs)
        finally:
            compiler["s"] += time.perf_counter() - t
    backend.load_kernel_library = timed_load
    fn = make_contender("graphopt", workload, model, inputs)
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    print(json.dumps({"dynamo_import_s": dynamo - start, "graphopt_import_s": imported - dynamo,
                      "first_call_s": first,
                      "graphopt_s": sum(s.compile_seconds for s in graphopt.compiled_graphs()),
                      "cxx_s": compiler["s"]}))


def _run(name: str, cache: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True,
                         env=dict(os.environ, GRAPHOPT_CACHE_DIR=cache), check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from workloads import WORKLOADS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", "--workloads", default=",".join(w.name for w in WORKLOADS))
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args.child)
    print("| workload | import torch._dynamo s | import graphopt s | first call s (cold / warm) "
          "| graphopt's own compile s (cold / warm) | of which the C++ compiler s |")
    print("|---|---|---|---|---|---|")
    for name in args.workloads.split(","):
        with tempfile.TemporaryDirectory() as cache:
            cold, warm = _run(name, cache), _run(name, cache)
        print(f"| {name} | {cold['dynamo_import_s']:.2f} | {cold['graphopt_import_s']:.2f} "
              f"| {cold['first_call_s']:.2f} / {warm['first_call_s']:.2f} "
              f"| {cold['graphopt_s']:.2f} / {warm['graphopt_s']:.3f} | {cold['cxx_s']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
