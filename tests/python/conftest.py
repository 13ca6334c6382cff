import os
import tempfile

import pytest
import torch

# Kernels compiled by the tests go to a private cache, shared by the session.
os.environ.setdefault("GRAPHOPT_CACHE_DIR", tempfile.mkdtemp(prefix="graphopt-test-cache-"))
torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    import graphopt
    torch._dynamo.reset()
    graphopt.reset_stats()
    yield
    torch._dynamo.reset()


def pytest_terminal_summary(terminalreporter):
    mod = __import__("sys").modules.get("test_opinfo")
    if mod is not None and mod.RESULTS["ops"]:
        r = mod.RESULTS
        terminalreporter.write_line(
            f"OpInfo: {r['ops']} ops, {r['samples']} samples forward, {r['backward']} backward "
            f"({'all samples' if mod.FULL else f'first {mod.SAMPLES_PER_OP} per op'})")
