"""What graphopt did with a model, from a dump folder: a terminal table, JSON and
one self-contained HTML page (graphopt.explain, `graphopt report`)."""
from .model import DumpError, Measured, Report

__all__ = ["DumpError", "Measured", "Report"]
