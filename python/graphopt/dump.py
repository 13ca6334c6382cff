"""Per-graph artifacts on disk: GRAPHOPT_DUMP_DIR dumps and failure repros."""
from __future__ import annotations

import json
import shlex
import time
import traceback
from pathlib import Path

from . import config



def write_graph_dump(folder: Path, gm, imported, artifact, cuda_stats: dict | None = None) -> Path:
    """FX graph, imported MLIR, the IR after each pass, kernels (C++ and
    CUDA), launch plan and cost.json (see docs/cost-model.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fx_graph.txt").write_text(gm.print_readable(print_output=False))
    (folder / "imported.mlir").write_text(imported.mlir)
    for i, snap in enumerate(artifact.passes):
        (folder / f"after-{i:02d}-{snap.name}.mlir").write_text(snap.ir)
    (folder / "optimized.mlir").write_text(artifact.optimized_ir)
    (folder / "kernels.cpp").write_text(artifact.cpu_source)
    (folder / "plan.json").write_text(artifact.plan_json)
    if artifact.cuda_source:
        (folder / "kernels.cu").write_text(artifact.cuda_source)
    cost = {"graph": folder.name, "targets": json.loads(artifact.cost_json or "[]")}
    if cuda_stats:
        cost["cuda"] = cuda_stats
    (folder / "cost.json").write_text(json.dumps(cost, indent=2))
    return folder


def write_repro(name: str, gm, imported, error: Exception, options: config.Options) -> Path:
    """A folder that reproduces a compiler failure: the imported MLIR, the
    failing pass, and the graphopt-opt command that replays it."""
    base = Path(options.dump_dir) if options.dump_dir else config.cache_dir() / "repro"
    folder = base / f"{name}-failure-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "fx_graph.txt").write_text(gm.print_readable(print_output=False))
        (folder / "error.txt").write_text("".join(traceback.format_exception(error)))
        failed_pass = getattr(error, "failed_pass", "")
        info = {"graph": name, "error": str(error), "failed_pass": failed_pass}
        if imported is not None:
            (folder / "imported.mlir").write_text(imported.mlir)
            cmd = ["graphopt-opt", "--graphopt-pipeline", str(folder / "imported.mlir")]
            (folder / "repro.sh").write_text("#!/bin/sh\n" + shlex.join(cmd) + "\n")
            info["command"] = shlex.join(cmd)
        (folder / "repro.json").write_text(json.dumps(info, indent=2))
    except OSError:
        pass
    return folder
