"""Generated documentation stays current."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_passes_doc_is_generated_from_passes_td():
    spec = importlib.util.spec_from_file_location("passes_doc", ROOT / "passes" / "passes_doc.py")
    passes_doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(passes_doc)
    text = passes_doc.render()
    for flag in ("-graphopt-fuse", "-graphopt-plan-memory", "-graphopt-cost"):
        assert f"### `{flag}`" in text
    assert (ROOT / "docs" / "passes.md").read_text() == text, "docs/passes.md is stale: run `make docs`"
