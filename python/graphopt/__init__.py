"""graphopt: a graph compiler for PyTorch training.

    model = torch.compile(model, backend="graphopt")
"""
from .backend import GraphoptCompileError, compiled_graphs, graphopt_backend, reset_stats

__version__ = "0.1.0"
__all__ = ["graphopt_backend", "compiled_graphs", "reset_stats", "GraphoptCompileError", "__version__"]
