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


KERNEL_KINDS = ("auto", "cpp", "cuda", "cuda-emulated")


class InvalidOptionError(ValueError):
    """An unknown graphopt option or a bad value."""


CONV_WEIGHT_GRAD_CHOICES = ("auto", "native", "torch")


def conv_weight_grad() -> str:
    """Who computes a channels-last convolution's weight gradient on the CPU
    (GRAPHOPT_CONV_WEIGHT_GRAD): "auto", "native" (graphopt's AVX2 kernel) or
    "torch" (mkldnn). Read at each call, so it can change between steps."""
    choice = os.environ.get("GRAPHOPT_CONV_WEIGHT_GRAD", "auto").strip().lower() or "auto"
    if choice not in CONV_WEIGHT_GRAD_CHOICES:
        raise InvalidOptionError(f"GRAPHOPT_CONV_WEIGHT_GRAD must be auto, native or torch, "
                                 f"got {choice!r}")
    return choice


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
    dump_dir: write per-graph artifacts (FX graph, MLIR per pass, kernels, plan,
        cost.json).
    targets: hardware targets the cost model predicts for (names or .json
        paths; GRAPHOPT_TARGETS=a,b). Default: h100-sxm, and when dumping
        also host-cpu and a100-sxm-80gb.
    verify: also run every compiled graph eagerly and compare (GRAPHOPT_VERIFY=1
        raises on a mismatch, GRAPHOPT_VERIFY=warn warns).
    kernels: which kernels run (GRAPHOPT_KERNELS): "auto" (CUDA for graphs on
        a CUDA device, else C++), "cpp", "cuda", or "cuda-emulated" (the CUDA
        source run on the CPU by the SIMT emulation harness; for tests).
    profile: keep each graph's first inputs so graphopt.measure can time the
        graph and its steps against eager (explain(measure=True), benchmarks).
    """

    strict: bool = False
    dump_dir: str | None = None
    targets: tuple = ()
    verify: str = ""
    kernels: str = "auto"
    profile: bool = False

    @staticmethod
    def from_user(options: dict | None) -> "Options":
        options = dict(options or {})
        valid = {f.name: f for f in fields(Options)}
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise _option_error(
                f"unknown graphopt option(s) {unknown}; valid options are {sorted(valid)}")
        for flag in ("strict", "profile"):
            if flag in options and not isinstance(options[flag], bool):
                raise _option_error(f"graphopt option '{flag}' must be a bool, got {options[flag]!r}; "
                                    f"valid options are {sorted(valid)}")
        if options.get("dump_dir") is not None and not isinstance(options["dump_dir"], (str, os.PathLike)):
            raise _option_error(f"graphopt option 'dump_dir' must be a path, got {options['dump_dir']!r}; "
                                f"valid options are {sorted(valid)}")
        targets = options.get("targets")
        if targets is not None and (isinstance(targets, str) or not all(
                isinstance(t, (str, os.PathLike)) for t in targets)):
            raise _option_error(f"graphopt option 'targets' must be a list of target names or paths, "
                                f"got {targets!r}; valid options are {sorted(valid)}")
        verify = options.get("verify")
        if verify is not None and verify not in (True, False, "raise", "warn"):
            raise _option_error(f"graphopt option 'verify' must be True, False, 'raise' or 'warn', "
                                f"got {verify!r}; valid options are {sorted(valid)}")
        kernels = options.get("kernels")
        if kernels is not None and kernels not in KERNEL_KINDS:
            raise _option_error(f"graphopt option 'kernels' must be one of {list(KERNEL_KINDS)}, "
                                f"got {kernels!r}; valid options are {sorted(valid)}")
        env_kernels = os.environ.get("GRAPHOPT_KERNELS", "auto").strip() or "auto"
        if env_kernels not in KERNEL_KINDS:
            raise _option_error(f"GRAPHOPT_KERNELS must be one of {list(KERNEL_KINDS)}, got {env_kernels!r}")
        env_verify = os.environ.get("GRAPHOPT_VERIFY", "").strip().lower()
        env_targets = [t for t in os.environ.get("GRAPHOPT_TARGETS", "").split(",") if t.strip()]
        merged = {
            "strict": _env_flag("GRAPHOPT_STRICT"),
            "dump_dir": os.environ.get("GRAPHOPT_DUMP_DIR") or None,
            "targets": env_targets,
            "kernels": env_kernels,
            "verify": "warn" if env_verify == "warn" else "raise" if _env_flag("GRAPHOPT_VERIFY") else "",
        }
        merged.update({k: v for k, v in options.items() if v is not None})
        if merged["dump_dir"] is not None:
            merged["dump_dir"] = str(merged["dump_dir"])
        merged["verify"] = {True: "raise", False: ""}.get(merged["verify"], merged["verify"])
        if not merged["targets"]:
            merged["targets"] = (["host-cpu", "h100-sxm", "a100-sxm-80gb"] if merged["dump_dir"]
                                 else ["h100-sxm"])
        merged["targets"] = tuple(str(t).strip() for t in merged["targets"])
        return Options(**merged)
