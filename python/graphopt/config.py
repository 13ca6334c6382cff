"""graphopt's settings: environment variables and torch.compile options, validated."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def cache_dir() -> Path:
    """Where compiled kernel libraries live (GRAPHOPT_CACHE_DIR)."""
    env = os.environ.get("GRAPHOPT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graphopt"


class InvalidOptionError(ValueError):
    """An unknown graphopt option or a bad value."""


def _option_error(message: str) -> Exception:
    """A ValueError that torch.compile lets through unwrapped (Dynamo re-raises
    ShortenTraceback as is instead of turning it into BackendCompilerFailed)."""
    try:
        from torch._dynamo.exc import ShortenTraceback
    except ImportError:  # pragma: no cover - torch always has it at the pinned version
        return InvalidOptionError(message)

    class GraphoptOptionError(ShortenTraceback, InvalidOptionError):
        def __init__(self, msg):
            ShortenTraceback.__init__(self, msg, first_useful_frame=None)

    GraphoptOptionError.__name__ = "InvalidOptionError"
    return GraphoptOptionError(message)


@dataclass(frozen=True)
class Options:
    """Options of one torch.compile(..., backend="graphopt", options={...}) call.

    strict: raise on any compiler error instead of running the graph eagerly.
    dump_dir: write per-graph artifacts (FX graph, MLIR per pass, kernels, plan).
    """

    strict: bool = False
    dump_dir: str | None = None

    @staticmethod
    def from_user(options: dict | None) -> "Options":
        options = dict(options or {})
        valid = {f.name: f for f in fields(Options)}
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise _option_error(
                f"unknown graphopt option(s) {unknown}; valid options are {sorted(valid)}")
        if "strict" in options and not isinstance(options["strict"], bool):
            raise _option_error(f"graphopt option 'strict' must be a bool, got {options['strict']!r}; "
                                f"valid options are {sorted(valid)}")
        if options.get("dump_dir") is not None and not isinstance(options["dump_dir"], (str, os.PathLike)):
            raise _option_error(f"graphopt option 'dump_dir' must be a path, got {options['dump_dir']!r}; "
                                f"valid options are {sorted(valid)}")
        merged = {
            "strict": _env_flag("GRAPHOPT_STRICT"),
            "dump_dir": os.environ.get("GRAPHOPT_DUMP_DIR") or None,
        }
        merged.update(options)
        if merged["dump_dir"] is not None:
            merged["dump_dir"] = str(merged["dump_dir"])
        return Options(**merged)
