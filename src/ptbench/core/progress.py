"""Progress of a long command, on stderr: a bar on a terminal, a few plain lines elsewhere.

On a terminal this is tqdm's bar (work done, elapsed time, the time left), redrawn in place.
Anywhere else (a CI log, a pipe) a bar would be hundreds of carriage returns, so a plain line
is printed when at least ``PLAIN_EVERY_SECONDS`` and a tenth of the work have passed since the
last one, and when the work is done (unless it all took less than that): a log of a long run
stays about ten lines long, and a quick command prints none. Results
and summaries go to stdout; progress never does.
"""

from __future__ import annotations

import sys
import time

from ptbench.core import interrupts
from ptbench.core.outputs import one_line

PLAIN_EVERY_SECONDS = 15.0


def clock(seconds: float) -> str:
    """1:05, 1:02:03: a duration as a person reads it."""
    minutes, second = divmod(int(round(seconds)), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


def time_left(elapsed: float, done: float, total: float) -> str:
    """``, about 1:10 left``: the rest at the pace so far; empty before any work is done or
    after all of it. Every long command's time left is this estimate."""
    if not done or done >= total:
        return ""
    return f", about {clock(elapsed * (total - done) / done)} left"


class Progress:
    """``total`` units of work named ``what`` (``benchmarks``, ``pairs``); ``update(done)``."""

    def __init__(self, label: str, total: int, what: str, stream=None):
        self.label, self.total, self.what = label, max(total, 1), what
        self.stream = stream or sys.stderr
        self.start = self.last = time.monotonic()
        self.done, self.detail, self.shown = 0, "", 0
        self.bar = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm  # tqdm draws the terminal bar (width, rate, time left)

            self.bar = tqdm(total=self.total, desc=label, unit=f" {what}", file=self.stream,
                            leave=False, dynamic_ncols=True)  # fmt: skip

    def line(self) -> str:
        """``ptbench run: 12/38 benchmarks, 0:42 elapsed, about 1:10 left (bench_linalg...)``."""
        elapsed = time.monotonic() - self.start
        detail = f" ({self.detail})" if self.detail else ""
        return one_line(f"{self.label}: {self.done:g}/{self.total:g} {self.what}, {clock(elapsed)} "
                        f"elapsed{time_left(elapsed, self.done, self.total)}{detail}")  # fmt: skip

    def update(self, done: int, detail: str = "") -> None:
        """Work done so far (never backwards), and what is being done now. A stop asked for
        and swallowed since the last step interrupts here (:mod:`ptbench.core.interrupts`)."""
        interrupts.check()
        step, self.done = max(done - self.done, 0), max(done, self.done)
        self.detail = detail or self.detail
        if self.bar is not None:
            self.bar.set_postfix_str(self.detail, refresh=False)
            self.bar.update(step)
            return
        now = time.monotonic()
        due = now - self.last >= PLAIN_EVERY_SECONDS and self.done - self.shown >= self.total / 10
        lasted = self.shown or now - self.start >= PLAIN_EVERY_SECONDS  # a quick one says nothing
        if due or (self.done >= self.total > self.shown and lasted):
            self.last, self.shown = now, self.done
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """Remove the bar; a plain stream gets its last line if the work did not reach its
        total (an interruption, a failure)."""
        if self.bar is not None:
            self.bar.close()
        elif self.done < self.total and time.monotonic() - self.start >= PLAIN_EVERY_SECONDS:
            print(self.line(), file=self.stream, flush=True)
