"""graphopt.explain: compile once, report graphs, kernels, externs, costs and timings."""
import pytest
import torch

import graphopt
from graphopt.report import Report
from models import MLPBlock


def test_training_step_measured(tmp_path, capsys):
    torch.manual_seed(0)
    model = MLPBlock(32, 64)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = graphopt.explain(model, torch.randn(4, 8, 32), measure=True, backward=True)

    assert [g.name.split("_")[0] for g in report.graphs] == ["forward", "backward"]
    assert report.target == "h100-sxm" and [t.name for t in report.targets] == ["host-cpu", "h100-sxm"]
    for g in report.graphs:
        assert g.kernels and all(k.ops for k in g.kernels)
        assert set(g.costs) == {"host-cpu", "h100-sxm"} and g.compile_s > 0
        assert all("h100-sxm" in k.costs for k in g.kernels)
    m = report.measured
    assert m.eager_s > 0 and m.compiled_s > 0 and m.speedup > 0
    assert all(s.measured_s > 0 for g in report.graphs for s in g.steps)  # every step timed
    # The model is untouched: same weights, no gradients accumulated.
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())

    # Every kernel and contraction against its roofline on this machine: a
    # positive fraction (a noisy machine may beat a calibration, not by 3x).
    for g in report.graphs:
        for s in g.steps:
            if s.kind in ("kernel", "addmm", "matmul", "bmm"):
                c = s.costs["host-cpu"]
                assert c.roof_s > 0 and s.of_roof() == pytest.approx(c.roof_s / s.measured_s)
                assert 0 < s.of_roof() < 3, (s.name, s.of_roof())
                unit = "B/s" if c.bound == "memory" else "FLOP/s"
                assert s.achieved().endswith(unit), s.achieved()

    print(report)
    out = capsys.readouterr().out
    assert "measured on this machine" in out and "backward" in out
    assert "of roof" in out and "achieved" in out
    assert Report.from_json(report.to_json()) == report
    assert "Measured on this machine" in report.save_html(tmp_path / "r.html").read_text()


def test_inference_with_extern_ops(tmp_path):
    x = torch.randn(16, 32)
    report = graphopt.explain(lambda t: torch.cumsum(t, 0).relu() + t.half().float(), x,
                              target="a100-sxm-80gb")
    (graph,) = report.graphs
    assert graph.name.startswith("inference_")
    assert set(graph.costs) == {"host-cpu", "a100-sxm-80gb"} and report.target == "a100-sxm-80gb"
    reasons = {s.callee: graph.extern_reason(s) for s in graph.externs}
    assert reasons["aten::cumsum.default"] == "no native lowering"
    assert reasons["aten::_to_copy.default"] == "dtype f16 has no native kernels"
    assert "aten::cumsum.default" in str(report)
    page = report.save_html(tmp_path / "r.html").read_text()
    externs = page[page.index('<section id="externs">'):]
    assert "aten::cumsum.default" in externs and "no native lowering" in externs


def test_backward_through_inputs_leaves_them_alone():
    x = torch.randn(8, 8, requires_grad=True)
    report = graphopt.explain(lambda t: torch.tanh(t) * t, x, backward=True, target="host-cpu")
    assert [g.name.split("_")[0] for g in report.graphs] == ["forward", "backward"]
    assert [t.name for t in report.targets] == ["host-cpu"]
    assert x.grad is None


def test_backward_needs_something_that_requires_grad():
    with pytest.raises(ValueError, match="no parameter or input requires grad"):
        graphopt.explain(torch.tanh, torch.randn(4), backward=True)


def test_graph_measured_beside_a_copy():
    """measure_graph(copy_probe=True) times a 64 MiB copy before and after the
    graph's steps, so its kernels can be judged against this moment's copy
    bandwidth; the copy itself is checked against torch's own copy."""
    from graphopt.measure import copy_bandwidth, measure_graph
    compiled = torch.compile(MLPBlock(32, 64), backend="graphopt", options={"profile": True})
    with torch.no_grad():
        compiled(torch.randn(4, 8, 32))
    measured = measure_graph(graphopt.compiled_graphs()[-1], repeat=3, copy_probe=True)
    assert len(measured["steps"]) > 0 and all(s["measured_s"] > 0 for s in measured["steps"])
    # Bytes read + written per second: within a plausible range for any
    # machine (0.5 GB/s to 10 TB/s), and within 4x of a copy timed just after.
    assert 5e8 < measured["copy_bandwidth"] < 1e13
    assert 0.25 < measured["copy_bandwidth"] / copy_bandwidth(repeat=3) < 4
