"""The `graphopt` command (docs/cli.md).

    graphopt report DUMP_DIR [-o report.html] [--target NAME]
    graphopt cost FILE.mlir --target h100-sxm
    graphopt targets
    graphopt bench [benchmarks/run.py arguments]
    graphopt cache info|clear
    graphopt repro DIR

A user error (a missing folder, an unknown target, ...) prints one line to
stderr and exits with 2.
"""
from __future__ import annotations

import argparse
import json
import runpy
import subprocess
import sys
import time
from pathlib import Path

from .report.fmt import first_line


class CliError(Exception):
    """A one-line error for the user; exit status 2."""


def _report(args) -> int:
    from .report import Report
    report = Report.from_dump(args.dump_dir, target=args.target)
    print(report)
    print(f"\nwrote {report.save_html(args.output)}")
    return 0


def _cost(args) -> int:
    from . import cost
    try:
        text = Path(args.file).read_text()
    except OSError as e:
        raise CliError(f"cannot read {args.file}: {e.strerror}") from None
    print(cost.cost_table(text, args.target).rstrip("\n"))
    return 0


def _targets(args) -> int:
    from . import cost
    targets = cost.list_targets()
    width = max(len(t["name"]) for t in targets)
    for t in targets:
        print(f"{t['name']:<{width}}  {t['description']}  ({t['path']})")
    return 0


def _cache(args) -> int:
    from .runtime import cpp_compiler
    if args.action == "info":
        info = cpp_compiler.cache_info()
        print(f"kernel cache: {info['path']}")
        print(f"  {info['libraries']} libraries, {info['bytes'] / 2**20:.1f} MiB")
    else:
        removed = cpp_compiler.clear_cache()
        print(f"removed {removed} cached kernel libraries")
    return 0


def _repro(args) -> int:
    """Compiles a failure folder's imported.mlir again, kernels included."""
    from . import _C
    from .runtime import load_kernel_library
    folder = Path(args.dir)
    info_path, mlir = folder / "repro.json", folder / "imported.mlir"
    if not info_path.exists():
        raise CliError(f"{folder} is not a repro folder (no repro.json)")
    info = json.loads(info_path.read_text())
    graph = info.get("graph", folder.name)
    if not mlir.exists():
        raise CliError(f"{folder} has no imported.mlir: graph {graph} failed before import "
                       f"({info.get('error', '?')})")
    where = f" in {info['failed_pass']}" if info.get("failed_pass") else ""
    print(f"graph {graph} failed{where}: {first_line(info.get('error', '?'))}")
    try:
        artifact = _C.compile(mlir.read_text())
        kernels = json.loads(artifact.plan_json)["num_kernels"]
        if kernels:
            load_kernel_library(artifact.cpu_source)
    except Exception as e:  # noqa: BLE001 - whatever failed is the failure being reproduced
        where = f" in {e.failed_pass}" if getattr(e, "failed_pass", "") else ""
        print(f"still fails{where}:\n{str(e).strip()}")
        return 1
    print(f"now compiles: {kernels} kernels")
    return 0


def _checkout() -> Path:
    """The source checkout this package runs from (an editable install)."""
    return Path(__file__).resolve().parents[2]


def _bench(args) -> int:
    """Runs benchmarks/run.py with the given arguments, its output as it comes,
    and a progress line per workload it starts."""
    run_py = _checkout() / "benchmarks" / "run.py"
    if not run_py.exists():
        raise CliError(f"no benchmark suite at {run_py}: it ships with the source checkout, "
                       "not with an installed wheel")
    suite_args = args.suite_args[1:] if args.suite_args[:1] == ["--"] else args.suite_args
    names = _workload_names(run_py.parent, suite_args)
    start, started = time.monotonic(), 0
    proc = subprocess.Popen([sys.executable, "-u", str(run_py), *suite_args], stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    for line in proc.stdout:
        # run.py prints "[workload] description ..." as it starts each workload.
        if any(line.startswith(f"[{name}] ") for name in names):
            started += 1
            print(f"graphopt bench: workload {started}/{len(names)}, "
                  f"{time.monotonic() - start:.0f} s elapsed", flush=True)
        print(line, end="", flush=True)
    return proc.wait()


def _workload_names(folder: Path, suite_args: list[str]) -> list[str]:
    """The workloads the suite will run: those of -w/--workloads, else all of
    benchmarks/workloads.py."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-w", "--workloads")
    chosen = parser.parse_known_args(suite_args)[0].workloads
    if chosen:
        return chosen.split(",")
    return [w.name for w in runpy.run_path(str(folder / "workloads.py"))["WORKLOADS"]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphopt", description="graphopt, a graph compiler for PyTorch")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("report", help="an HTML report of a dump folder (GRAPHOPT_DUMP_DIR)",
                       description="Prints what graphopt did with each graph of a dump folder and "
                                   "writes one self-contained HTML page: summary, roofline, fusion, "
                                   "memory plan, kernels, extern ops.")
    p.add_argument("dump_dir", help="a dump folder (or one graph's subfolder)")
    p.add_argument("-o", "--output", default="report.html", help="the HTML file (default: report.html)")
    p.add_argument("--target", help="the target whose costs to show (default: the first in cost.json)")
    p.set_defaults(run=_report)

    p = sub.add_parser("cost", help="the cost model's per-kernel table of an MLIR file",
                       description="Compiles an imported graph (imported.mlir of a dump) and prints "
                                   "each step's predicted FLOPs, bytes and time on a target, with the "
                                   "eager baseline.")
    p.add_argument("file", help="an MLIR file in the graphopt dialect")
    p.add_argument("--target", default="h100-sxm", help="a target name or .json file (default: h100-sxm)")
    p.set_defaults(run=_cost)

    p = sub.add_parser("targets", help="the hardware targets of the cost model",
                       description="Lists the targets the cost model knows: built-in GPUs and host-cpu.")
    p.set_defaults(run=_targets)

    p = sub.add_parser("bench", help="the benchmark suite (benchmarks/run.py) with progress",
                       usage="%(prog)s [-h] [-- ] [RUN_PY_ARGUMENTS ...]",
                       description="Runs benchmarks/run.py of the source checkout; every other argument "
                                   "goes to it (graphopt bench -- --help shows them).")
    p.set_defaults(run=_bench)

    p = sub.add_parser("cache", help="inspect or clear the kernel cache (GRAPHOPT_CACHE_DIR)",
                       description="info: where the kernel cache is and what it holds; "
                                   "clear: delete every cached kernel library.")
    p.add_argument("action", choices=["info", "clear"])
    p.set_defaults(run=_cache)

    p = sub.add_parser("repro", help="re-run the compile of a dumped failure",
                       description="Compiles a failure folder's imported.mlir again. Exit status 1 if it "
                                   "still fails (the diagnostic is printed), 0 if it now compiles.")
    p.add_argument("dir", help="a <graph>-failure-<time> folder (repro.json, imported.mlir)")
    p.set_defaults(run=_repro)
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        args.suite_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return args.run(args)
    except (CliError, OSError, ValueError, RuntimeError) as e:
        # User errors (missing files, unknown targets, bad dumps) as one line, no traceback.
        print(f"graphopt {args.command}: error: {first_line(str(e)) or type(e).__name__}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
