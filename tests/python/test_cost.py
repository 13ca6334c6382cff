"""The cost model seen from Python: targets, cost.json, the eager baseline,
GRAPHOPT_VERIFY and the log line."""
import json
import os
import subprocess
import sys
import warnings

import pytest
import torch
import torch.nn as nn

import graphopt
from graphopt import cost
from graphopt.runtime import executor


def _linear_norm():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64))


def test_eager_baseline_counts_a_decomposed_layer_norm_as_one_kernel():
    model, x = _linear_norm().eval(), torch.randn(32, 64)
    with torch.no_grad():
        torch.compile(model, backend="graphopt", options={"strict": True})(x)
    (stats,) = graphopt.compiled_graphs()
    (h100,) = stats.cost
    assert h100["target"]["name"] == "h100-sxm"
    # addmm + one LayerNorm, as eager runs them; graphopt: addmm + one fused kernel.
    assert h100["eager"]["launches"] == 2
    assert h100["compiled"]["launches"] == 2
    assert h100["eager"]["flops"] >= 2 * 32 * 64 * 64
    assert h100["predicted_speedup"] == pytest.approx(h100["eager"]["time_s"] / h100["compiled"]["time_s"])
    assert stats.predicted_speedup("h100-sxm") == h100["predicted_speedup"]


def test_cost_json_in_the_dump_matches_the_plan(tmp_path):
    model, x = _linear_norm(), torch.randn(32, 64, requires_grad=True)
    f = torch.compile(model, backend="graphopt", options={"dump_dir": str(tmp_path), "strict": True})
    f(x).sum().backward()
    folders = sorted(tmp_path.iterdir())
    assert [f.name.split("_")[0] for f in folders] == ["backward", "forward"]
    for folder in folders:
        graph = folder.name
        plan = json.loads((folder / "plan.json").read_text())
        data = json.loads((folder / "cost.json").read_text())
        assert data["graph"] == graph
        assert [t["target"]["name"] for t in data["targets"]] == ["host-cpu", "h100-sxm", "a100-sxm-80gb"]
        functions = {s["symbol"] for s in plan["steps"] if s["kind"] == "kernel"}
        assert (folder / "kernels.cu").read_text().count("__global__") >= len(functions)
        for t in data["targets"]:
            assert [s["index"] for s in t["steps"]] == list(range(len(plan["steps"])))
            for step, planned in zip(t["steps"], plan["steps"]):
                if planned["kind"] == "kernel":
                    assert step["name"] == planned["name"] and step["ops"] == planned["ops"]
                    assert step["launches"] and step["predicted_s"] > 0 and step["bound"] in ("memory", "compute")
                    assert step["intensity"] == pytest.approx(step["flops"] / (step["bytes_read"] + step["bytes_written"]))
            assert 0 < t["mfu"] < 1 and t["compiled"]["time_s"] > 0


def test_a_user_target_file(tmp_path):
    chip = {"name": "my-chip", "matmul_flops": {"f32": 1e12}, "vector_flops": 1e11,
            "memory_bandwidth": 1e11, "launch_overhead_s": 1e-5}
    path = tmp_path / "my-chip.json"
    path.write_text(json.dumps(chip))
    model, x = _linear_norm().eval(), torch.randn(32, 64)
    with torch.no_grad():
        torch.compile(model, backend="graphopt", options={"targets": [str(path)], "strict": True})(x)
    (c,) = graphopt.compiled_graphs()[0].cost
    assert c["target"]["name"] == "my-chip" and c["target"]["launch_overhead_s"] == 1e-5
    # Two launches at 10 us each bound the compiled time from below.
    assert c["compiled"]["time_s"] >= 2e-5


def test_bad_targets_are_errors_that_name_the_choices(tmp_path):
    with pytest.raises(ValueError, match="unknown target 'tpu9'.*h100-sxm"):
        cost.target_json("tpu9")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "matmul_flops": {"f32": 1e12}, "vector_flops": 0,
                               "memory_bandwidth": 1e11}))
    from graphopt import _C
    with pytest.raises(_C.CompileError, match="field 'vector_flops' must be positive"):
        _C.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }",
                   targets=[bad.read_text()])
    bad.write_text(json.dumps({"name": "bad", "matmul_flops": {"f32": 1e12}, "vector_flops": 1e11,
                               "memory_bandwidth": 1e11, "vector_op_flops": {"cosh": 3}}))
    with pytest.raises(_C.CompileError, match=r"field 'vector_op_flops.cosh' must be a positive number "
                                              r"of FLOPs per element for one of exp, sigmoid, .*pow"):
        _C.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }",
                   targets=[bad.read_text()])
    bad.write_text(json.dumps({"name": "bad", "matmul_flops": {"f32": 1e12}, "vector_flops": 1e11,
                               "memory_bandwidth": 1e11, "vector_op_flops": 3}))
    with pytest.raises(_C.CompileError, match="field 'vector_op_flops' must map op names"):
        _C.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }",
                   targets=[bad.read_text()])
    with pytest.raises(ValueError, match="targets"):
        torch.compile(nn.Linear(2, 2), backend="graphopt", options={"targets": "h100-sxm"})(torch.randn(1, 2))


def test_every_op_host_cpu_prices_is_one_the_cost_model_takes():
    """cost.PRICED_OPS (Python, measured) against kPricedVectorOps (C++,
    accepted): a name only the Python side knew would make every host-cpu
    target invalid."""
    from graphopt import _C
    chip = {"name": "all-priced", "kind": "cpu", "matmul_flops": {"f32": 1e11}, "vector_flops": 1e10,
            "memory_bandwidth": 1e10, "vector_op_flops": {op: 3.0 for op in cost.PRICED_OPS}}
    artifact = _C.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }",
                          targets=[json.dumps(chip)])
    assert json.loads(artifact.cost_json)[0]["target"]["name"] == "all-priced"


def test_host_cpu_is_measured_once_and_cached():
    target = cost.host_cpu_target()
    for field in ("vector_flops", "memory_bandwidth", "launch_overhead_s", "kernel_call_s",
                  "fresh_alloc_bandwidth"):
        assert target[field] > 0, field
    # A kernel call (ctypes, an OpenMP fork and join) takes microseconds.
    assert target["kernel_call_s"] < 1e-3
    assert target["matmul_flops"]["f32"] > 1e9
    # A convolution's throughput per layout, relative to the GEMM's: which
    # layout wins depends on the machine (and a busy one moves both).
    conv = target["convolution_efficiency"]
    assert set(conv) == {"nchw", "nhwc", "nchw_backward", "nhwc_backward"}, conv
    assert all(0.05 < v < 5 for v in conv.values()), conv
    # The costly elementwise ops in exp's unit (8), each measured: every one
    # priced, log (a polynomial and more) above exp, pow (a scalar libm call,
    # not vectorized) far above it.
    ops = target["vector_op_flops"]
    assert set(ops) == set(cost.PRICED_OPS) and ops["exp"] == 8, ops
    assert all(v > 0 for v in ops.values()) and ops["log"] > 8 and ops["pow"] > 4 * 8, ops
    assert cost.host_cpu_target() == target  # from the cache file
    assert any(t["name"] == "host-cpu" for t in cost.list_targets())


def test_host_cpu_file_of_an_older_calibration_is_measured_again():
    target = cost.host_cpu_target()
    stale = dict(target, calibration=cost.CALIBRATION - 1, memory_bandwidth=1.0)
    cost._host_cpu_path().write_text(json.dumps(stale))
    fresh = cost.host_cpu_target()
    assert fresh["calibration"] == cost.CALIBRATION and fresh["memory_bandwidth"] > 1e9


def test_data_parallel_what_if():
    one = cost.data_parallel(1e-3, 4e8, 1, 4e11)
    assert one["allreduce_s"] == 0 and one["scaling_efficiency"] == 1
    eight = cost.data_parallel(1e-3, 4e8, 8, 4e11)
    assert eight["allreduce_s"] == pytest.approx(2 * 7 / 8 * 4e8 / 4e11)
    assert eight["step_s"] == pytest.approx(1e-3 + eight["allreduce_s"])
    with pytest.raises(ValueError):
        cost.data_parallel(1e-3, 4e8, 0, 4e11)


def _broken_outputs(monkeypatch):
    """Every compiled graph returns its first output plus one."""
    original = executor.CompiledGraph.run_owned

    def wrong(self, inputs):
        out = original(self, inputs)
        return [out[0] + 1, *out[1:]]
    monkeypatch.setattr(executor.CompiledGraph, "run_owned", wrong)


def test_verify_passes_when_graphopt_matches_eager():
    model, x = _linear_norm(), torch.randn(8, 64, requires_grad=True)
    torch.compile(model, backend="graphopt", options={"verify": True})(x).sum().backward()
    assert graphopt.compiled_graphs()


def test_verify_raises_naming_graph_output_and_error(monkeypatch):
    _broken_outputs(monkeypatch)
    model, x = _linear_norm().eval(), torch.randn(8, 64)
    with torch.no_grad(), pytest.raises(graphopt.GraphoptVerifyError,
                                        match=r"graph inference_\d+, output 0 \(8, 64\) torch.float32 "
                                              r"differs from eager: max abs error 1"):
        torch.compile(model, backend="graphopt", options={"verify": True})(x)


def test_verify_warn_mode_from_the_environment(monkeypatch):
    _broken_outputs(monkeypatch)
    monkeypatch.setenv("GRAPHOPT_VERIFY", "warn")
    model, x = _linear_norm().eval(), torch.randn(8, 64)
    with warnings.catch_warnings(record=True) as caught, torch.no_grad():
        warnings.simplefilter("always")
        torch.compile(model, backend="graphopt")(x)
    assert any("differs from eager" in str(w.message) for w in caught)


def test_verify_skips_graphs_that_draw_random_numbers(caplog):
    model = nn.Sequential(nn.Linear(16, 16), nn.Dropout(0.5))
    x = torch.randn(4, 16)
    with caplog.at_level("INFO", logger="graphopt"):
        torch.compile(model, backend="graphopt", options={"verify": True})(x)
    assert "draws random numbers" in caplog.text


def test_graphopt_log_info_prints_one_line_per_graph():
    code = ("import torch, graphopt\n"
            "m = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU())\n"
            "torch.compile(m, backend='graphopt')(torch.randn(2, 8, requires_grad=True)).sum().backward()\n")
    env = dict(os.environ, GRAPHOPT_LOG="info")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("INFO graphopt: ")]
    assert len(lines) == 2, proc.stderr
    assert "forward_0: " in lines[0] and "backward_1: " in lines[1]
    assert all("ATen ops ->" in line and "compiled in" in line and "predicted" in line for line in lines)


def test_graphopt_log_rejects_a_bad_level():
    env = dict(os.environ, GRAPHOPT_LOG="chatty")
    proc = subprocess.run([sys.executable, "-c", "import graphopt"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "GRAPHOPT_LOG='chatty'" in proc.stderr


def test_first_touch_is_charged_to_extern_results_not_to_reused_kernel_outputs(tmp_path):
    # torch allocates a convolution's result on every call; graphopt's kernel
    # writes its output into a buffer the runtime reuses (executor._Recycler).
    target = tmp_path / "cpu.json"
    target.write_text(json.dumps({
        "name": "test-cpu", "matmul_flops": {"f32": 1e11}, "vector_flops": 1e11,
        "memory_bandwidth": 2e10, "fresh_alloc_bandwidth": 4e9,
        "fresh_alloc_threshold": 1 << 20}))
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU()).eval()
    with torch.no_grad():
        torch.compile(m, backend="graphopt", options={"targets": [str(target)]})(
            torch.randn(8, 3, 64, 64))
    steps = graphopt.compiled_graphs()[-1].cost[0]["steps"]
    fresh = {s["kind"]: s["fresh_bytes"] for s in steps if s["kind"] in ("extern", "kernel")}
    assert fresh == {"extern": 8 * 16 * 64 * 64 * 4, "kernel": 0}
