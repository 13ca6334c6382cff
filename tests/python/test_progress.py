"""The compile progress line: shown on a terminal for slow work, silent
otherwise."""
import io
import re
import time

from graphopt.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_for_slow_work():
    out = Terminal()
    with Progress("compiling 12 cpp kernels with g++", out):
        time.sleep(0.9)
    text = out.getvalue()
    assert "\rgraphopt: compiling 12 cpp kernels with g++" in text
    assert re.search(r": done in \d+\.\d s\n$", text), text


def test_progress_silent_for_fast_work_and_pipes():
    fast, pipe = Terminal(), io.StringIO()
    with Progress("fast", fast):
        pass
    with Progress("piped", pipe):
        time.sleep(0.7)
    assert fast.getvalue() == "" and pipe.getvalue() == ""


def test_progress_reports_failure():
    out = Terminal()
    try:
        with Progress("failing", out):
            time.sleep(0.7)
            raise RuntimeError("g++ failed")
    except RuntimeError:
        pass
    assert "failing: failed in" in out.getvalue()
