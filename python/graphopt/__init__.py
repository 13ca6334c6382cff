"""graphopt: a graph compiler for PyTorch training.

    model = torch.compile(model, backend="graphopt")
"""
import logging as _logging
import os as _os

from .backend import (GraphoptCompileError, GraphoptVerifyError, compiled_graphs, graphopt_backend,
                      reset_stats)
from .explain import explain

# GRAPHOPT_LOG=info|debug: graphopt's log lines on stderr without configuring logging.
if _os.environ.get("GRAPHOPT_LOG"):
    _level = getattr(_logging, _os.environ["GRAPHOPT_LOG"].strip().upper(), None)
    if not isinstance(_level, int):
        raise ValueError(f"GRAPHOPT_LOG={_os.environ['GRAPHOPT_LOG']!r}: use debug, info, warning or error")
    _handler = _logging.StreamHandler()
    _handler.setFormatter(_logging.Formatter("%(levelname)s %(message)s"))
    _logging.getLogger("graphopt").addHandler(_handler)
    _logging.getLogger("graphopt").setLevel(_level)

__version__ = "0.1.0"
__all__ = ["graphopt_backend", "compiled_graphs", "reset_stats", "GraphoptCompileError", "GraphoptVerifyError",
           "__version__"]
