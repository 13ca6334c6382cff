"""Execute a launch plan: fused kernels through ctypes, contractions, views
and extern ops through torch, intermediates in an arena.

Kernels come from one of three libraries with the same C signatures: the CPU
kernels, the CUDA launchers (an extra stream argument, torch's current
stream) or the CUDA launchers emulated on the CPU (the stream is ignored)."""
from __future__ import annotations

import ctypes
import json
import sys
import threading
import time

import torch

from graphopt.runtime import ops as _graphopt_ops  # noqa: F401  (registers graphopt:: ops)

_DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16,
           "bf16": torch.bfloat16, "i64": torch.int64, "i32": torch.int32,
           "i16": torch.int16, "i8": torch.int8, "ui8": torch.uint8, "i1": torch.bool,
           "complex<f32>": torch.complex64, "complex<f64>": torch.complex128}


def _torch_dtype(name: str) -> torch.dtype:
    return _DTYPES[name]


def _decode(x, tensors):
    """Rebuilds an extern op's arguments from the JSON the importer wrote."""
    if isinstance(x, list):
        return [_decode(y, tensors) for y in x]
    if isinstance(x, dict):
        if "t" in x:
            return tensors[x["t"]]
        if "dtype" in x:
            return getattr(torch, x["dtype"])
        if "device" in x:
            return torch.device(x["device"])
        if "layout" in x:
            return getattr(torch, x["layout"])
        if "memory_format" in x:
            return getattr(torch, x["memory_format"])
        if "float" in x:
            return float(x["float"])
        return {k: _decode(v, tensors) for k, v in x.items()}
    return x


def _resolve_op(callee: str):
    qualified, overload = callee.rsplit(".", 1)
    namespace, name = qualified.split("::")
    return getattr(getattr(getattr(torch.ops, namespace), name), overload)


class _CpuArenas(threading.local):
    """One arena buffer per thread, shared by every CPU graph that thread runs.
    A graph's arena holds only values that die inside one call (graph outputs
    are never in it), and a thread runs one graph at a time, so the forward and
    backward graphs of a training step, or the graphs of a model split by graph
    breaks, need the largest arena among them, not their sum. CUDA graphs keep
    an arena each: kernels of different streams could overlap in time."""

    def __init__(self):
        self.buffer = torch.empty(0, dtype=torch.uint8)

    def at_least(self, nbytes: int) -> torch.Tensor:
        if self.buffer.numel() < nbytes:
            self.buffer = torch.empty(nbytes, dtype=torch.uint8)
        return self.buffer


_CPU_ARENAS = _CpuArenas()


class CompiledGraph:
    """A callable running one planned graph. Arena views are made when a
    thread first runs the graph (again only when its thread's arena has grown)
    and start each call's value list; each call only fills them. Graph
    outputs are fresh tensors, or large ones the caller no longer references
    (_Recycler)."""

    def __init__(self, plan: dict, library: ctypes.CDLL | None, lifted_constants=(),
                 name: str = "graph", kernels: str = "cpp", device: str = "cpu",
                 saves_activations: bool = False):
        self.name = name
        # A training forward's outputs are mostly activations saved for the
        # backward graph, all freed by it at once (_Recycler.SAVED_MIN_BYTES).
        self.saves_activations = saves_activations
        self.plan = plan
        self.values = plan["values"]
        self.lifted = list(lifted_constants)
        self.kernels, self.device = kernels, torch.device(device)
        self.arena_size = max(plan["arena_size"], 1)
        self.local = threading.local()  # arena: the buffer views (one per value) lie in
        self.cuda_arena = None if self.device.type == "cpu" else \
            torch.empty(self.arena_size, dtype=torch.uint8, device=self.device)
        self.steps = [self._make_step(s, library) for s in plan["steps"]]
        self.input_ids = plan["inputs"]
        self.output_ids = plan["outputs"]
        self.dead_after = self._dead_after(plan["steps"])

    def _dead_after(self, steps: list) -> list[tuple[int, ...]]:
        """Per step, the values nothing reads after it: the executor drops its
        references there, so an input it was handed (a saved activation in a
        backward graph) or an extern's result is freed when eager would free
        it, not when the graph returns. (A view keeps its base alive.)"""
        last = {v: -1 for v in self.input_ids}
        for i, step in enumerate(steps):
            for v in (*step["inputs"], *step["outputs"]):
                last[v] = i
        for v in self.output_ids:
            last.pop(v, None)
        dead = [[] for _ in steps]
        for v, i in last.items():
            if i >= 0:
                dead[i].append(v)
        return [tuple(d) for d in dead]

    def _arena_views(self) -> list:
        """The arena value views in this thread's arena, None for other values."""
        local = self.local
        arena = self.cuda_arena if self.cuda_arena is not None else _CPU_ARENAS.at_least(self.arena_size)
        if getattr(local, "arena", None) is not arena:
            views = [None] * len(self.values)
            for vid, v in enumerate(self.values):
                if v["storage"] == "arena":
                    dtype = _torch_dtype(v["dtype"])
                    nbytes = dtype.itemsize * int(torch.Size(v["shape"]).numel())
                    views[vid] = arena[v["offset"]: v["offset"] + nbytes].view(dtype).view(v["shape"])
            local.arena, local.views = arena, views
        return local.views

    # Each step becomes a closure over the env list; no per-call planning.
    def _buffer(self, vid: int):
        """(A maker of value vid's buffer from the env, whether the buffer is
        reused across calls.) Arena values are in the env from the start."""
        v = self.values[vid]
        dtype, shape = _torch_dtype(v["dtype"]), v["shape"]
        if v["storage"] == "arena":
            return (lambda env: env[vid]), True
        if v["storage"] == "input":
            # The kernel writes the input's new value over it (a BatchNorm's
            # running statistics); one not laid out densely gets a buffer of
            # its own, copied over it after the kernel.
            of = v["of"]
            return (lambda env: env[of] if env[of].is_contiguous()
                    else torch.empty(shape, dtype=dtype, device=self.device)), True
        nbytes = dtype.itemsize * int(torch.Size(shape).numel())
        recycle_bytes = _Recycler.SAVED_MIN_BYTES if self.saves_activations else _Recycler.MIN_BYTES
        if self.device.type == "cpu" and nbytes >= recycle_bytes:
            recycler = _Recycler(shape, dtype, self.device)
            return (lambda env: recycler()), True
        return (lambda env: torch.empty(shape, dtype=dtype, device=self.device)), False

    def _stream(self) -> list:
        """The launchers' trailing stream argument, if they take one."""
        if self.kernels == "cuda":
            return [ctypes.c_void_p(torch.cuda.current_stream(self.device).cuda_stream)]
        return [None] if self.kernels == "cuda-emulated" else []

    def _make_step(self, step: dict, library):
        ins, outs, kind = step["inputs"], step["outputs"], step["kind"]
        if kind == "kernel":
            fn = getattr(library, step["symbol"])
            fn.argtypes = [ctypes.c_void_p] * (len(ins) + len(outs) + len(self._stream()))
            # CUDA launchers return the launches' CUDA error (0: accepted).
            cuda = self.kernels != "cpp"
            fn.restype = ctypes.c_int if cuda else None
            symbol = step["symbol"]
            makers = [self._buffer(o)[0] for o in outs]
            updates = [(k, self.values[o]["of"]) for k, o in enumerate(outs)
                       if self.values[o]["storage"] == "input"]

            def run(env):
                args = [env[i] if env[i].is_contiguous() else env[i].contiguous() for i in ins]
                results = [m(env) for m in makers]
                error = fn(*[t.data_ptr() for t in args], *[t.data_ptr() for t in results],
                           *self._stream())
                if cuda and error:
                    raise _LaunchError(symbol, error)
                for k, of in updates:
                    if results[k] is not env[of]:
                        env[of].copy_(results[k])
                for o, r in zip(outs, results):
                    env[o] = r
            return run
        if kind in ("matmul", "bmm", "addmm"):
            out = outs[0]
            # torch.mm(..., out=) into the arena or a reused output buffer.
            make, into = self._buffer(out)
            if kind == "addmm":
                beta, alpha = step["beta"], step["alpha"]
                op = lambda a, o=None: torch.addmm(*a, beta=beta, alpha=alpha, out=o)
            else:
                f = torch.mm if kind == "matmul" else torch.bmm
                op = lambda a, o=None: f(*a, out=o)

            def run(env):
                env[out] = op([env[i] for i in ins], make(env) if into else None)
            return run
        if kind == "reshape":
            shape = step["shape"]
            return lambda env: env.__setitem__(outs[0], env[ins[0]].reshape(shape))
        if kind == "permute":
            perm = step["perm"]
            return lambda env: env.__setitem__(outs[0], env[ins[0]].permute(perm))
        if kind == "broadcast":
            shape = step["shape"]
            return lambda env: env.__setitem__(outs[0], env[ins[0]].expand(shape))
        if kind == "slice":
            box = tuple(slice(o, o + s) for o, s in zip(step["offsets"], step["shape"]))
            return lambda env: env.__setitem__(outs[0], env[ins[0]][box])
        if kind == "constant":
            v = self.values[outs[0]]
            dtype, shape, value = _torch_dtype(v["dtype"]), v["shape"], step["value"]
            value = float(value) if isinstance(value, str) else value  # "inf", "-inf", "nan"
            return lambda env: env.__setitem__(outs[0], torch.full(shape, value, dtype=dtype,
                                                                   device=self.device))
        if kind == "extern":
            op = _resolve_op(step["callee"])
            payload = json.loads(step["args"])

            def run(env):
                tensors = [env[i] for i in ins]
                kwargs = {k: _decode(v, tensors) for k, v in payload["kwargs"].items()}
                result = op(*_decode(payload["args"], tensors), **kwargs)
                if len(outs) == 1 and isinstance(result, torch.Tensor):
                    env[outs[0]] = result
                else:
                    flat = [r for r in _flatten(result) if r is not None]
                    for o, r in zip(outs, flat):
                        env[o] = r
            return run
        raise ValueError(f"graph {self.name}: unknown step kind {kind!r}")

    def _env(self, inputs: list) -> list:
        """The value list of one call. It takes over the references in
        `inputs`, which it empties."""
        env = list(self._arena_views())
        if len(inputs) + len(self.lifted) != len(self.input_ids):
            raise ValueError(f"graph {self.name} expects {len(self.input_ids) - len(self.lifted)} inputs, "
                             f"got {len(inputs)}")
        inputs.extend(self.lifted)
        for vid, t in zip(self.input_ids, inputs):
            env[vid] = t
        inputs.clear()
        return env

    def __call__(self, *args):
        return self.run_owned(list(args))

    def run_owned(self, inputs: list) -> list:
        """Runs the graph on `inputs`, emptying the list: with the caller's
        references gone, each input is freed after its last use."""
        env = self._env(inputs)
        for step, dead in zip(self.steps, self.dead_after):
            step(env)
            for v in dead:
                env[v] = None
        return [env[o] for o in self.output_ids]

    def profile(self, *args, repeat: int = 10) -> list[float]:
        """The median seconds of each step over `repeat` runs of the graph."""
        times = [[] for _ in self.steps]
        sync = torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        for _ in range(repeat + 1):  # the first run warms caches up
            env = self._env(list(args))
            for i, step in enumerate(self.steps):
                sync()
                start = time.perf_counter()
                step(env)
                sync()
                times[i].append(time.perf_counter() - start)
        return [sorted(t[1:])[len(t[1:]) // 2] for t in times]


class _LaunchError(RuntimeError):
    """A CUDA launcher's error, named after its kernel."""
    # The cudaError_t values a launch itself can return.
    NAMES = {1: "invalid value", 2: "out of memory", 9: "invalid configuration",
             98: "invalid device function", 209: "no kernel image for this device"}

    def __init__(self, symbol: str, error: int):
        name = self.NAMES.get(error, "see cudaError_t")
        super().__init__(f"graphopt: CUDA kernel {symbol} failed to launch: "
                         f"cudaError {error} ({name})")


class _Recycler:
    """Fresh output buffers (graph outputs outside the arena), reused once
    the caller has let go of them. A large fresh CPU buffer is mapped anew
    by the OS on every call and page-faults on first touch (about 17 ms per
    64 MB here); an output whose tensor, TensorImpl and storage nothing else
    references (no caller variable, view, autograd save or numpy array) is
    overwritten instead. Two per output: a loop `y = f(x)` still holds the
    previous `y` while the next call runs.

    From 32 MB: glibc maps blocks that large anew (its mmap threshold grows
    up to 32 MB) and serves smaller ones from its heap, which reuses freed
    memory without new page faults. But not at the end of a training step:
    the backward graph frees every saved activation, the heap's top becomes
    free, and glibc returns it to the OS (its trim threshold is twice the
    mmap threshold). The next forward graph page-faults its saved outputs
    again: resnet_train's normalization kernels, writing 16 MB each, took 8
    ms at 20% of copy bandwidth, 1.4 ms with glibc's trimming off. So a
    forward graph that saves activations recycles outputs from 1 MB."""
    MIN_BYTES = 32 << 20
    SAVED_MIN_BYTES = 1 << 20
    SLOTS = 2

    def __init__(self, shape, dtype, device):
        self.shape, self.dtype, self.device = shape, dtype, device
        self.pool: list[torch.Tensor] = []
        self.lock = threading.Lock()

    def __call__(self) -> torch.Tensor:
        with self.lock:  # two threads must not both take one free buffer
            for i in range(len(self.pool)):
                if _unreferenced(self.pool, i):
                    t = self.pool[i]
                    return t  # t keeps it referenced once the lock is released
            t = torch.empty(self.shape, dtype=self.dtype, device=self.device)
            if len(self.pool) < self.SLOTS:
                self.pool.append(t)
            return t


# The references _unreferenced itself holds: the pool's and getrefcount's
# argument for the tensor; the temporary UntypedStorage's for the storage.
_OWN_TENSOR_REFS, _OWN_STORAGE_REFS = 2, 2


def _unreferenced(pool: list, i: int) -> bool:
    return (sys.getrefcount(pool[i]) == _OWN_TENSOR_REFS and pool[i]._use_count() == 1
            and torch._C._storage_Use_Count(pool[i].untyped_storage()._cdata)
            == _OWN_STORAGE_REFS)


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flatten(y)
    else:
        yield x
