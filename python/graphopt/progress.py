"""A one-line progress indicator on a terminal for work that takes a while
(compiling a graph's kernels): nothing when stderr is not a terminal or the
work ends within half a second."""
from __future__ import annotations

import sys
import threading
import time

DELAY_S = 0.5


class Progress:
    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.shown = False
        self._done = threading.Event()
        self._thread = None

    def __enter__(self):
        self.start = time.perf_counter()
        if getattr(self.stream, "isatty", lambda: False)():
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def _tick(self):
        spinner = "|/-\\"
        i = 0
        while not self._done.wait(DELAY_S if not self.shown else 0.2):
            self.shown = True
            self.stream.write(f"\rgraphopt: {self.label} {spinner[i % 4]} "
                              f"{time.perf_counter() - self.start:5.1f} s")
            self.stream.flush()
            i += 1

    def __exit__(self, *exc):
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        if self.shown:
            status = "failed" if exc[0] else "done"
            self.stream.write(f"\rgraphopt: {self.label}: {status} in "
                              f"{time.perf_counter() - self.start:.1f} s\n")
            self.stream.flush()
        return False
