"""The compiler process: serves graphopt._C calls to one parent over its stdin
and stdout (see compiler_process.py). It imports nothing of graphopt or torch:
it loads the extension module from the path it is given, so it starts in
tens of milliseconds and holds only the compiler (libMLIR, libLLVM).

Messages both ways: an 8-byte little-endian length, then a pickle.
Request: (function name, args, kwargs). Reply: ("ok", result) or
("error", exception type name, message, failed pass)."""
import importlib.util
import os
import pickle
import select
import struct
import sys

_HEADER = struct.Struct("<Q")


def _load(path: str):
    spec = importlib.util.spec_from_file_location("_C", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plain(result):
    """Results as picklable data: an Artifact becomes a dict of the fields
    the binding exposes, its pass snapshots (name, ir) pairs."""
    if type(result).__name__ == "Artifact":
        plain = {f: getattr(result, f) for f in dir(type(result)) if not f.startswith("_")}
        plain["passes"] = [(s.name, s.ir) for s in result.passes]
        return plain
    return result


def _read_exactly(fd: int, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main(so_path: str, idle_seconds: float) -> int:
    compiler = _load(so_path)
    # Unbuffered reads: select() sees only what the pipe holds, not a reader's buffer.
    stdin = sys.stdin.fileno()
    # Replies go to a copy of stdout; stdout itself goes to stderr, so nothing
    # the compiler prints can corrupt a reply.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    while True:
        # Idle too long: exit, and the parent starts a new process on its next call.
        if not select.select([stdin], [], [], idle_seconds)[0]:
            return 0
        header = _read_exactly(stdin, _HEADER.size)
        if header is None:  # the parent closed the pipe
            return 0
        name, args, kwargs = pickle.loads(_read_exactly(stdin, _HEADER.unpack(header)[0]))
        try:
            reply = ("ok", _plain(getattr(compiler, name)(*args, **kwargs)))
        except Exception as e:  # noqa: BLE001 - every failure goes back to the parent
            reply = ("error", type(e).__name__, str(e), getattr(e, "failed_pass", ""))
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(_HEADER.pack(len(data)) + data)
        replies.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
