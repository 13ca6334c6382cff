"""graphopt's C++ compiler, run in a process of its own.

The training process never loads libMLIR and libLLVM (about 80 MB of
resident memory once a graph has been compiled), and a crash in the compiler
costs one graph an eager fallback instead of the training run. The process
starts when torch.compile first hands graphopt a graph (it loads while Dynamo
and AOTAutograd trace), serves every compile of this process, and exits when
its parent does or after IDLE_SECONDS without work; the next call starts it
again (about 60 ms).

    artifact = compiler_process.compile(mlir_text, targets=[...])
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

IDLE_SECONDS = 120.0
_HEADER = struct.Struct("<Q")


class CompileError(RuntimeError):
    """The compiler rejected a module: a located MLIR diagnostic, and the pass
    that failed (`failed_pass`)."""

    def __init__(self, message: str, failed_pass: str = ""):
        super().__init__(message)
        self.failed_pass = failed_pass


class CompilerProcessError(RuntimeError):
    """The compiler process failed: it died, or raised something other than a
    CompileError."""


@dataclass(frozen=True)
class PassSnapshot:
    name: str
    ir: str


@dataclass(frozen=True)
class Artifact:
    """What graphopt._C.compile returns, as plain data."""
    optimized_ir: str
    cpu_source: str
    plan_json: str
    cuda_source: str
    cost_json: str
    cost_table: str
    passes: list = field(default_factory=list)


def _worker_command() -> list[str]:
    spec = importlib.util.find_spec("graphopt._C")
    if spec is None or not spec.origin:
        raise CompilerProcessError("graphopt's compiler extension (graphopt._C) is not built: run `make build`")
    worker = Path(__file__).with_name("_compiler_worker.py")
    # -S -E: no site-packages or PYTHON* variables; the worker needs neither.
    return [sys.executable, "-S", "-E", str(worker), spec.origin, str(IDLE_SECONDS)]


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class _Process:
    """One compiler process, one request at a time."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.owner = 0  # the pid that started it: a forked child starts its own
        self.lock = threading.Lock()

    def start(self) -> None:
        if self.proc is None or self.owner != os.getpid() or self.proc.poll() is not None:
            self.proc = subprocess.Popen(_worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         close_fds=True)
            self.owner = os.getpid()

    def stop(self) -> None:
        if self.proc is not None and self.owner == os.getpid() and self.proc.poll() is None:
            self.proc.stdin.close()  # the worker exits on end of input
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def _exchange(self, request: bytes):
        """The reply to one request, or None when the process was gone before
        it read the request (it had exited idle)."""
        proc = self.proc
        try:
            proc.stdin.write(_HEADER.pack(len(request)) + request)
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # read the exit status below
        header = proc.stdout.read(_HEADER.size)
        if len(header) == _HEADER.size:
            return pickle.loads(proc.stdout.read(_HEADER.unpack(header)[0]))
        code = proc.wait()
        if code == 0:
            return None
        raise CompilerProcessError(f"graphopt's compiler process {_describe_exit(code)}; its stderr "
                                   f"above says why (`graphopt repro` replays the graph in-process)")

    def call(self, name: str, *args, **kwargs):
        request = pickle.dumps((name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        with self.lock:
            for _ in range(2):  # a second try only after an idle exit
                self.start()
                try:
                    reply = self._exchange(request)
                except BaseException:
                    # Interrupted (Ctrl-C) or failed mid-exchange: the pipe may
                    # still hold this reply, which the next request would read.
                    self.proc.kill()
                    self.proc.wait()
                    raise
                if reply is not None:
                    break
            else:
                raise CompilerProcessError("graphopt's compiler process exited before answering, twice")
        if reply[0] == "ok":
            return reply[1]
        _, kind, message, failed_pass = reply
        if kind == "CompileError":
            raise CompileError(message, failed_pass)
        raise CompilerProcessError(f"{kind}: {message}")


_PROCESS = _Process()
atexit.register(_PROCESS.stop)


def start() -> None:
    """Starts the compiler process now, so that it has loaded by the first compile."""
    with _PROCESS.lock:
        _PROCESS.start()


def compile(mlir: str, capture_passes: bool = False, targets=()) -> Artifact:  # noqa: A001 - _C's name
    """graphopt._C.compile in the compiler process."""
    plain = _PROCESS.call("compile", mlir, capture_passes=capture_passes, targets=list(targets))
    plain["passes"] = [PassSnapshot(n, ir) for n, ir in plain["passes"]]
    return Artifact(**plain)


def builtin_targets() -> list[tuple[str, str]]:
    return _PROCESS.call("builtin_targets")


def pipeline() -> str:
    return _PROCESS.call("pipeline")
