"""Progress of long commands: a bar on a terminal, a few plain lines with the time left elsewhere,
always on stderr; asv's own progress read from its output."""

from __future__ import annotations

import io
import signal
import sys

import pytest

from ptbench.core import interrupts, progress
from ptbench.core.progress import Progress, clock, time_left


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake_clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progress.time, "monotonic", fake)
    return fake


def test_durations_read_as_clocks():
    assert [clock(s) for s in (0, 59.6, 65, 3723)] == ["0:00", "1:00", "1:05", "1:02:03"]


def test_time_left_is_the_rest_at_the_pace_so_far():
    assert time_left(60, 2, 6) == ", about 2:00 left"  # 30 s a unit, 4 to go
    assert time_left(0, 0, 6) == ""  # nothing done: no pace yet
    assert time_left(90, 6, 6) == ""  # all done


def test_a_plain_stream_gets_a_line_every_15_seconds_and_at_the_end(fake_clock):
    stream = io.StringIO()
    bar = Progress("ptbench run", 4, "benchmarks", stream=stream)
    bar.update(1, "bench_linalg.time_eigh")
    assert stream.getvalue() == ""  # 0 s in: nothing yet
    fake_clock.now += 20
    bar.update(2, "bench_linalg.time_svd")
    fake_clock.now += 1
    bar.update(3)
    fake_clock.now += 9
    bar.update(4, "bench_shape.time_flatten")
    bar.close()
    assert stream.getvalue().splitlines() == [
        "ptbench run: 2/4 benchmarks, 0:20 elapsed, about 0:20 left (bench_linalg.time_svd)",
        "ptbench run: 4/4 benchmarks, 0:30 elapsed (bench_shape.time_flatten)",
    ]


def test_a_quick_command_prints_no_progress_at_all(fake_clock):
    stream = io.StringIO()
    bar = Progress("ptbench report", 6, "steps", stream=stream)
    for step in range(1, 7):
        fake_clock.now += 1
        bar.update(step)
    bar.close()
    assert stream.getvalue() == ""  # 6 s in all: under the 15 s of a plain line


def test_an_interrupted_run_says_how_far_it_got(fake_clock):
    stream = io.StringIO()
    bar = Progress("ptbench run", 10, "benchmarks", stream=stream)
    fake_clock.now += 16
    bar.update(1)
    fake_clock.now += 4
    bar.update(2)  # 4 s after the last line: none
    bar.close()
    assert stream.getvalue().splitlines()[-1] == (
        "ptbench run: 2/10 benchmarks, 0:20 elapsed, about 1:20 left"
    )


def test_a_terminal_gets_tqdm_s_bar():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progress("ptbench run", 3, "benchmarks", stream=stream)
    bar.update(2, "bench_linalg.time_eigh")
    bar.bar.refresh()  # tqdm redraws at most every 0.1 s by itself
    bar.close()
    drawn = stream.getvalue()
    assert "\r" in drawn and "ptbench run" in drawn and "2/3" in drawn
    assert "bench_linalg.time_eigh" in drawn


def test_asv_s_output_goes_to_the_log_and_its_progress_is_read(tmp_path):
    from ptbench.run import asv_process

    asv_output = [
        "· Discovering benchmarks\n",
        "[ 0.00%] ·· Benchmarking existing-py_usr_bin_python\n",
        "[25.00%] ··· Running (bench_linalg.time_eigh--).\n",
        "[ 62.50%] ··· bench_shape.time_flatten                          ok\n",
        "[ 62.50%] ··· ======== ====== \n",
    ]

    class Process:
        stdout = iter(asv_output)

    seen = []
    log = tmp_path / "run.log"
    with log.open("w") as sink:
        asv_process._follow(Process(), sink, lambda fraction, name: seen.append((fraction, name)))
    assert seen == [(0.25, "bench_linalg.time_eigh"), (0.625, "bench_shape.time_flatten")]
    assert log.read_text() == "".join(asv_output)
    assert asv_process.last_words(log) == "bench_shape.time_flatten ok"  # not its table rule


@pytest.fixture
def handlers():
    """Signal handlers and the unraisable hook as they were, and no stop remembered, after."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    hook = sys.unraisablehook
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    sys.unraisablehook = hook
    interrupts._REQUESTED.clear()


def test_a_stop_python_swallowed_interrupts_at_the_next_step(handlers):
    """A hostile pass: SIGTERM while a report forked a figure process landed in an at-fork
    hook, where Python prints "Exception ignored" and goes on; the report finished, exit 0."""
    printed = []
    sys.unraisablehook = printed.append  # what Python would print
    interrupts.install()

    class Finalised:
        def __del__(self):
            interrupts.stop(signal.SIGTERM)  # as if the signal arrived in a finaliser

    Finalised()
    assert interrupts.requested() and printed == []  # swallowed, and not printed
    bar = Progress("ptbench report", 6, "steps", stream=io.StringIO())
    with pytest.raises(KeyboardInterrupt):
        bar.update(5, "figures")
    assert bar.done == 0


def test_an_exception_python_ignores_is_still_printed_when_no_stop_was_asked(handlers):
    printed = []
    sys.unraisablehook = printed.append
    interrupts.install()

    class Finalised:
        def __del__(self):
            raise ValueError("a finaliser's own error")

    Finalised()
    assert [str(each.exc_value) for each in printed] == ["a finaliser's own error"]
    assert not interrupts.requested()
    assert signal.getsignal(signal.SIGTERM) is interrupts.stop
