"""The report of a dump folder: HTML checked in headless Chromium, JSON, terminal."""
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch

from graphopt.report import DumpError, Report
from graphopt.report.model import COMPUTE_KINDS
from models import MLPBlock

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "data" / "mlp_dump"  # a real dump, plus measured times in forward_0
ARTIFACTS = ROOT / "build" / "test-artifacts"
SECTIONS = ["summary", "roofline", "fusion", "memory", "kernels", "externs"]


@pytest.fixture(scope="module")
def mlp_dump(tmp_path_factory):
    """A fresh dump of a small MLP block, forward and backward."""
    folder = tmp_path_factory.mktemp("dump")
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.compile(MLPBlock(32, 64), backend="graphopt", options={"dump_dir": str(folder)})
    model(torch.randn(4, 8, 32)).sum().backward()
    torch._dynamo.reset()
    return folder


def chromium(tmp_path, *args) -> str:
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
        capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


class Elements(HTMLParser):
    """Every element of a page as (tag, attributes, ids of its open ancestors)."""
    VOID = {"meta", "br", "hr", "img", "input", "link", "wbr"}

    def __init__(self, text: str):
        super().__init__()
        self.elements, self.open = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, [a.get("id") for _, a in self.open]))
        if tag not in self.VOID:
            self.open.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), [a.get("id") for _, a in self.open]))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def find(self, tag, cls=None, inside=None):
        return [(t, a) for t, a, ancestors in self.elements
                if t == tag and (cls is None or cls in a.get("class", "").split())
                and (inside is None or inside in ancestors)]


def expected_points(folder: Path, target: str) -> int:
    """Kernels and contractions that cost.json prices for `target`, from the raw files."""
    count = 0
    for plan_path in folder.glob("*/plan.json"):
        steps = json.loads(plan_path.read_text())["steps"]
        cost_path = plan_path.with_name("cost.json")
        if not cost_path.exists():
            continue
        for entry in json.loads(cost_path.read_text())["targets"]:
            if entry["target"]["name"] == target:
                count += sum(1 for s in entry["steps"] if steps[s["index"]]["kind"] in COMPUTE_KINDS)
    return count


def arena_buffers(folder: Path) -> int:
    return sum(1 for p in folder.glob("*/plan.json")
               for v in json.loads(p.read_text())["values"] if v["storage"] == "arena")


def render_dom(tmp_path, folder: Path, target=None) -> tuple[Report, Elements, str]:
    report = Report.from_dump(folder, target=target)
    page = report.save_html(tmp_path / "report.html")
    return report, Elements(chromium(tmp_path, "--dump-dom", page.as_uri())), page.read_text()


def test_real_dump_in_chromium(tmp_path, mlp_dump):
    report, dom, _ = render_dom(tmp_path, mlp_dump, "h100-sxm")
    assert [g.name.split("_")[0] for g in report.graphs] == ["forward", "backward"]
    ids = [a.get("id") for t, a in dom.find("section")]
    assert ids == SECTIONS
    points = dom.find("circle", "kernel-point", inside="roofline")
    assert len(points) == expected_points(mlp_dump, "h100-sxm") > 0
    assert len(dom.find("title", inside="roofline")) >= len(points)  # one tooltip per circle
    assert len(dom.find("rect", "buffer", inside="memory")) == arena_buffers(mlp_dump) > 0
    kernels = sum(len(g.kernels) for g in report.graphs)
    sources = sum(json.loads((d / "plan.json").read_text())["num_kernels"]
                  * len(list(d.glob("kernels.c*"))) for d in mlp_dump.iterdir())
    assert len(dom.find("details", inside="kernels")) == sources  # each kernel's C++ (and CUDA)
    assert len(dom.find("tr", inside="kernels")) == sum(len(g.steps) + 1 for g in report.graphs)
    assert len(dom.find("tr", inside="fusion")) == kernels + len(report.graphs)


def test_screenshot(tmp_path, mlp_dump):
    page = Report.from_dump(mlp_dump, target="h100-sxm").save_html(tmp_path / "report.html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_fixture_measured_times_and_registers(tmp_path):
    report, dom, text = render_dom(tmp_path, FIXTURE, "h100-sxm")
    forward = report.graphs[0]
    assert forward.measured.speedup == pytest.approx(1.7)
    assert all(s.measured_s for s in forward.steps if s.kind in COMPUTE_KINDS)
    registers = json.loads((FIXTURE / "forward_0" / "cost.json").read_text())["cuda"]["sm_90"]
    assert forward.kernels[0].cuda["sm_90"] == registers[forward.kernels[0].symbol]
    assert len(dom.find("circle", "kernel-point")) == expected_points(FIXTURE, "h100-sxm")
    assert "measured 4 µs" in text  # step 4's tooltip
    # Measured times are this machine's: they place points on host-cpu's roofline only.
    assert "attained from the measured time" not in text
    on_host = Report.from_dump(FIXTURE, target="host-cpu").save_html(tmp_path / "host.html").read_text()
    assert on_host.count("attained from the measured time") == sum(
        1 for s in forward.steps if s.kind in COMPUTE_KINDS)  # forward_0's, all measured
    assert f"sm_90: {registers[forward.kernels[0].symbol]['registers']}" in text
    assert forward.kernels[0].cuda["sm_90 vec4"] == registers[forward.kernels[0].symbol + "/vec4"]


def test_without_cost_json(tmp_path):
    dump = tmp_path / "dump"
    shutil.copytree(FIXTURE, dump, ignore=shutil.ignore_patterns("cost.json"))
    report, dom, text = render_dom(tmp_path, dump)
    assert report.target is None and report.targets == []
    assert dom.find("circle", "kernel-point") == []
    assert len(dom.find("rect", "buffer")) == arena_buffers(dump)
    for section in ("summary", "roofline"):
        assert [a for t, a in dom.find("p", "empty", inside=section)], section
    assert "no cost data" in text and "no cost data" in str(report)


def test_page_is_self_contained_and_escaped(tmp_path):
    dump = tmp_path / "dump"
    shutil.copytree(FIXTURE, dump)
    plan_path = dump / "forward_0" / "plan.json"
    plan = json.loads(plan_path.read_text())
    plan["steps"][4]["loc"] = 'loc("<img src=x onerror=alert(1)>.py":3:0)'
    plan["steps"][4]["ops"].append("<script>alert(1)</script>")
    plan_path.write_text(json.dumps(plan))
    _, dom, text = render_dom(tmp_path, dump)
    assert dom.find("script") == [] and dom.find("img") == []
    assert "&lt;img src=x onerror=alert(1)&gt;.py:3" in text and "&lt;script&gt;alert(1)" in text
    assert "for (int64_t o = 0; o &lt; 32; ++o)" in text  # kernel source is text, not markup
    assert not any(a.get("src") or a.get("href") for _, a, _ in dom.elements)
    assert "<link" not in text and "@import" not in text


def test_graph_that_fell_back(tmp_path):
    dump = shutil.copytree(FIXTURE, tmp_path / "dump")
    failure = dump / "backward_2-failure-20260101-000000"
    failure.mkdir()
    (failure / "repro.json").write_text(json.dumps(
        {"graph": "backward_2", "error": "pass 'graphopt-fuse' failed:\nloc(x): error: <bad>",
         "failed_pass": "graphopt-fuse"}))
    report = Report.from_dump(dump)
    assert [g.name for g in report.graphs] == ["forward_0", "backward_1"]
    assert "backward_2 fell back to eager: pass 'graphopt-fuse' failed: loc(x): error: <bad>" in str(report)
    assert "error: &lt;bad&gt;" in report.save_html(tmp_path / "r.html").read_text()


def test_json_round_trip():
    report = Report.from_dump(FIXTURE, target="a100-sxm-80gb")
    text = report.to_json()
    again = Report.from_json(text)
    assert again == report
    assert again.graphs[0].steps[4].costs["h100-sxm"] == report.graphs[0].steps[4].costs["h100-sxm"]
    assert json.loads(text)["target"] == "a100-sxm-80gb"


def test_print(capsys):
    report = Report.from_dump(FIXTURE, target="h100-sxm")
    print(report)
    out = capsys.readouterr().out
    assert "2 graphs, 64 ATen ops -> 14 kernels, 0 extern ops" in out
    assert "predicted for h100-sxm" in out
    for g in report.graphs:
        assert f"{g.name}: kernels and contractions" in out
        for k in g.kernels:
            assert k.symbol in out
    assert out.count("\n") < 60  # compact


def test_errors(tmp_path):
    with pytest.raises(DumpError, match="is not a folder"):
        Report.from_dump(tmp_path / "missing")
    with pytest.raises(DumpError, match="no compiled graph"):
        Report.from_dump(tmp_path)
    with pytest.raises(DumpError, match="no cost data for target 'tpu'"):
        Report.from_dump(FIXTURE, target="tpu")
    bad = tmp_path / "forward_0"
    bad.mkdir()
    (bad / "plan.json").write_text('{"values": []}')
    with pytest.raises(DumpError, match="not a launch plan"):
        Report.from_dump(tmp_path)
