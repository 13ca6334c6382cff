"""Every `graphopt` command, through graphopt.cli.main and once as the installed script."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graphopt import cli

FIXTURE = Path(__file__).parent / "data" / "mlp_dump"
COMMANDS = ["report", "cost", "targets", "bench", "cache", "repro"]
# A module the verifier rejects (operands that do not broadcast).
BAD_MLIR = """module {
  func.func @forward_7(%a: tensor<4x8xf32>, %b: tensor<3xf32>) -> tensor<4x8xf32> {
    %0 = graphopt.add %a, %b : (tensor<4x8xf32>, tensor<3xf32>) -> tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}
"""


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fails(capsys, *argv) -> str:
    """The error of a command that must fail as a user error: exit 2, one line, no traceback."""
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_installed_script_help():
    script = Path(sys.executable).parent / "graphopt"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_each_command(capsys, command):
    with pytest.raises(SystemExit) as e:
        cli.main([command, "--help"])
    assert e.value.code == 0
    assert f"usage: graphopt {command}" in capsys.readouterr().out


def test_report(capsys, tmp_path):
    out_file = tmp_path / "r.html"
    code, out, _ = run(capsys, "report", str(FIXTURE), "-o", str(out_file), "--target", "a100-sxm-80gb")
    assert code == 0
    assert f"wrote {out_file}" in out and "predicted for a100-sxm-80gb" in out
    page = out_file.read_text()
    assert 'id="roofline"' in page and "Roofline: a100-sxm-80gb" in page


def test_report_errors(capsys, tmp_path):
    assert "is not a folder" in fails(capsys, "report", str(tmp_path / "missing"))
    assert "no compiled graph" in fails(capsys, "report", str(tmp_path))
    assert "no cost data for target 'tpu-v9'" in fails(capsys, "report", str(FIXTURE), "--target", "tpu-v9")


def test_cost(capsys):
    from graphopt import _C
    mlir = FIXTURE / "forward_0" / "imported.mlir"
    # The kernels of today's compiler, not of the fixture's (fusion changes).
    plan = json.loads(_C.compile(mlir.read_text()).plan_json)
    code, out, _ = run(capsys, "cost", str(mlir), "--target", "h100-sxm")
    assert code == 0
    assert "h100-sxm" in out and "predicted speedup" in out
    for step in plan["steps"]:
        if step["kind"] == "kernel":
            assert step["name"] in out


def test_cost_errors(capsys, tmp_path):
    mlir = str(FIXTURE / "forward_0" / "imported.mlir")
    assert "unknown target 'tpu-v9'" in fails(capsys, "cost", mlir, "--target", "tpu-v9")
    assert "cannot read" in fails(capsys, "cost", str(tmp_path / "none.mlir"))
    bad = tmp_path / "bad.mlir"
    bad.write_text(BAD_MLIR)
    assert "operand shapes do not broadcast" in fails(capsys, "cost", str(bad))


def test_targets(capsys):
    code, out, _ = run(capsys, "targets")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"h100-sxm", "a100-sxm-80gb", "host-cpu"} <= set(names)


def test_cache(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHOPT_CACHE_DIR", str(tmp_path))
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "lib.so").write_bytes(b"\0" * 2048)
    code, out, _ = run(capsys, "cache", "info")
    assert code == 0 and f"kernel cache: {tmp_path / 'kernels'}" in out and "1 libraries" in out
    code, out, _ = run(capsys, "cache", "clear")
    assert code == 0 and "removed 1 cached kernel libraries" in out
    assert not list((tmp_path / "kernels").glob("*.so"))


def repro_folder(tmp_path, mlir: str | None) -> Path:
    """A failure folder as graphopt's backend writes it."""
    folder = tmp_path / "forward_7-failure-20260101-000000"
    folder.mkdir()
    info = {"graph": "forward_7", "error": "pass 'graphopt-fuse' failed:\nsomething",
            "failed_pass": "graphopt-fuse"}
    if mlir is not None:
        (folder / "imported.mlir").write_text(mlir)
        info["command"] = f"graphopt-opt --graphopt-pipeline {folder / 'imported.mlir'}"
    (folder / "repro.json").write_text(json.dumps(info))
    return folder


def test_repro_still_fails(capsys, tmp_path):
    code, out, _ = run(capsys, "repro", str(repro_folder(tmp_path, BAD_MLIR)))
    assert code == 1
    assert "graph forward_7 failed in graphopt-fuse" in out
    assert "still fails in parse" in out and "operand shapes do not broadcast: [4, 8] vs [3]" in out


def test_repro_now_compiles(capsys, tmp_path):
    mlir = (FIXTURE / "forward_0" / "imported.mlir").read_text()
    code, out, _ = run(capsys, "repro", str(repro_folder(tmp_path, mlir)))
    assert code == 0 and re.search(r"now compiles: \d+ kernels", out)


def test_repro_errors(capsys, tmp_path):
    assert "not a repro folder" in fails(capsys, "repro", str(tmp_path))
    assert "failed before import" in fails(capsys, "repro", str(repro_folder(tmp_path, None)))


def fake_checkout(tmp_path) -> Path:
    """A checkout whose benchmarks/run.py prints like the real one and echoes its arguments."""
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "workloads.py").write_text(
        "class W:\n    def __init__(self, name): self.name = name\n"
        "WORKLOADS = [W('mlp'), W('elementwise'), W('norm_heavy')]\n")
    (bench / "run.py").write_text(
        "import sys\nprint('machine: fake')\nprint('args', sys.argv[1:])\n"
        "for name in ('mlp', 'elementwise'):\n    print(f'[{name}] a workload ...')\n"
        "    print('[torch.onnx] exporting ...')\n")
    return tmp_path


def test_bench_runs_the_suite_with_progress(capsys, tmp_path, monkeypatch):
    checkout = fake_checkout(tmp_path)
    monkeypatch.setattr(cli, "_checkout", lambda: checkout)
    code, out, _ = run(capsys, "bench", "-r", "3", "--scale", "0.1")
    assert code == 0
    assert "args ['-r', '3', '--scale', '0.1']" in out
    progress = [line for line in out.splitlines() if line.startswith("graphopt bench: workload")]
    assert [p.split(",")[0] for p in progress] == ["graphopt bench: workload 1/3",
                                                   "graphopt bench: workload 2/3"]
    code, out, _ = run(capsys, "bench", "-w", "mlp,elementwise")
    assert code == 0 and "workload 2/2" in out


def test_bench_passes_help_to_the_real_suite(capsys):
    code, out, _ = run(capsys, "bench", "--", "--help")
    assert code == 0
    assert "--workloads" in out and "--rounds" in out  # benchmarks/run.py's own options


def test_bench_without_the_suite(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "_checkout", lambda: tmp_path)
    assert str(tmp_path / "benchmarks" / "run.py") in fails(capsys, "bench")


def test_unknown_arguments(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["targets", "--bogus"])
    assert e.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_report_of_one_graph_folder(capsys, tmp_path):
    code, out, _ = run(capsys, "report", str(FIXTURE / "forward_0"), "-o", str(tmp_path / "one.html"))
    assert code == 0 and "1 graph, 21 ATen ops -> 8 kernels" in out
