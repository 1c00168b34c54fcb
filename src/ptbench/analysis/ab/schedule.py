"""Both sides of an A/B comparison, alternated round by round, with confirmation.

Why interleave: on a shared machine two runs of the same code minutes apart differ by up to
3x, while two processes a second apart rarely do. So the sides never run minutes apart: each
pair of rounds is one baseline and one contender process back to back, the side that goes first
alternating from pair to pair (ABBA), so that drift slows each side alike. asv's own
``--interleave-rounds`` alternates whole-suite rounds, minutes apart. A time benchmark's two
rounds go further: they take their samples alternately (``lockstep``), since this VM's
speed changes within the half second a round takes.

Why fresh workers every pass: rounds forked from one long-lived process share its memory
layout, and measured here that alone can make one process's rounds 10% slower than another's,
consistently (an A/A comparison of ``cholesky_ex`` at n = 1024: 4 of 4 pairs 1.10-1.15). So a
pass starts new workers on both sides, gives every combination one pair of rounds, and ends
them: every pair comes from its own two processes, and process-level effects become noise
that the pairs' spread measures, instead of a bias that looks like a regression.

How the budget works: every combination first gets ``INITIAL_PAIRS`` clean pairs (one a pass;
a pair that ``verdicts`` sets aside as disturbed is replaced, up to half again as many pairs).
Then ``inconclusive`` combinations get as many pairs again and are judged again (a "look"),
until each is decided, has ``MAX_PAIRS`` pairs, has had its ``LOOKS`` looks, or
``budget_seconds`` have passed since confirmation began. Each time, the budget goes to the
combinations it is guessed to decide (``affordable``: cheapest first, as many as fit in what is
left); the rest wait, so a budget that runs out leaves the hopeless ones, not the nearly decided
ones, and is not spread a pair or two thin over every combination. The error control of
``verdicts`` counts every look, so looking again never raises either error rate.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptbench.analysis.ab import protocol, verdicts
from ptbench.analysis.ab.combinations import Combination, affordable, judge_all, refinable
from ptbench.analysis.ab.lockstep import ROUND_WARMUP_SECONDS, lockstep, pair_cpu
from ptbench.core.errors import RunFailed, UsageError
from ptbench.core.progress import Progress

SIDES = ("baseline", "contender")
# How long a worker may take to answer: starting (importing torch and the suite, cold disks
# included), and one request (a round's child is killed by the worker after its own
# ROUND_TIMEOUT_SECONDS; this is that plus a margin). A side that never answers ends the run.
START_TIMEOUT_SECONDS = 180.0
REQUEST_TIMEOUT_SECONDS = 660.0


# How the workers' OpenMP threads wait between parallel regions. libgomp's default spins about
# 3 ms before sleeping: into the other side's next lockstep sample (spread 0.16-0.20). Sleeping
# at once (OMP_WAIT_POLICY=PASSIVE, ab until 2026-12-07) made every parallel region pay a
# wake-up of about 40 us on this VM: ``torch.ones(65536)`` took 46 us a call in ab's rounds and
# 4.4 us in a run's, so a kernel 1.3x slower would have read about 1.03. 10,000 spins (libgomp
# spins about 100,000 times a millisecond) keep a call's regions awake and end within about
# 0.1 ms of a sample (docs/ab.md, "OpenMP threads spin briefly"). Intel's OpenMP cannot spin
# for less than 1 ms (KMP_BLOCKTIME): it sleeps at once. A user who set any of these keeps all.
OPENMP_WAITING = {"GOMP_SPINCOUNT": "10000", "KMP_BLOCKTIME": "0"}
OPENMP_CHOICES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")

# How glibc's malloc keeps the memory of large tensors. By default it maps a block past a
# threshold afresh each time, and returns the top of its heap to the system past another,
# both moving with what the process freed before: a round process of `p.copy_(p - lr * g)` at
# 4,194,304 elements (two temporaries of 16 MB a call) either reused its heap (about 4 ms a
# call) or had the system fault in and zero 32 MB of fresh pages each call (12-20 ms), a mode
# drawn per process. Pairs of such rounds read 3x either way, and the release comparison left
# 29 of its 4,194,304-element combinations inconclusive. With the thresholds fixed (glibc's
# own ceiling for mapping, 32 MiB; the heap's top kept up to 1 GiB) the same rounds took
# 2.2-5.3 ms, every one (docs/ab.md, "The heap"). Both sides get the same, as PyTorch's own
# advice for CPU (a caching allocator, jemalloc or tcmalloc) would; a user who set any of these
# keeps theirs, and another allocator (LD_PRELOAD) ignores them.
HEAP_KEPT = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(2**30)}
HEAP_CHOICES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def worker_environment() -> dict[str, str]:
    """The environment a worker starts in: this one, with ``OPENMP_WAITING`` unless the user
    chose how OpenMP's threads wait, and ``HEAP_KEPT`` unless they chose how malloc's heap
    behaves."""
    environment = dict(os.environ)
    for chosen, settings in ((OPENMP_CHOICES, OPENMP_WAITING), (HEAP_CHOICES, HEAP_KEPT)):
        if not any(name in os.environ for name in chosen):
            environment.update(settings)
    return environment


class Worker:
    """One side's ``ptbench.analysis.ab.worker`` process, in that side's Python."""

    def __init__(self, side: str, python: str, benchmark_dir: Path, tier: str, log: Path):
        self.side, self.python, self.log = side, python, log
        self.facts: dict[str, Any] = {}
        try:
            self.process = subprocess.Popen(
                [python, "-m", "ptbench.analysis.ab.worker", str(benchmark_dir), tier],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log.open("a"),
                text=True,
                start_new_session=True,  # Ctrl-C reaches ptbench, which stops the workers
                env=worker_environment(),
            )
        except OSError as error:
            raise UsageError(
                f"--{side} {python}: cannot start it ({error.strerror}); give the path of a "
                "Python interpreter that has torch and ptbench installed"
            ) from None

    def last_words(self) -> str | None:
        """The last line the worker wrote to its log; None if it wrote nothing."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        lines = text.strip().splitlines()
        return lines[-1] if lines else None

    def ask(self, request: dict[str, Any], timeout: float = REQUEST_TIMEOUT_SECONDS):
        """The worker's reply to ``request``; RunFailed if it stops or gives no answer within
        ``timeout`` seconds (it is then killed)."""
        self.send(request)
        return self.receive(timeout)

    def send(self, request: dict[str, Any]) -> None:
        """Send ``request`` without waiting for its reply (``receive`` reads it): how both
        sides of a lockstep pair set up at once (``lockstep.OPEN_TOGETHER``)."""
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError:
            pass  # the worker stopped: receive() says so, with its last words

    def receive(self, timeout: float = REQUEST_TIMEOUT_SECONDS):
        """The reply to the request sent last (``ask``)."""
        try:
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            line = self.process.stdout.readline() if ready else None
        except OSError:
            line = ""
        if line is None:
            self.close()
            raise RunFailed(f"the {self.side} worker ({self.python}) gave no answer in "
                            f"{timeout:.0f} s (its log: {self.log})")  # fmt: skip
        if not line:
            said = self.last_words() or "no message"
            raise RunFailed(
                f"the {self.side} worker ({self.python}) stopped: {said} (its log: {self.log})"
            )
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            raise RunFailed(f"the {self.side} worker ({self.python}) answered something that is "
                            f"not ptbench's protocol: {line.strip()[:80]!r}") from None
        if not isinstance(reply, dict):
            raise RunFailed(f"the {self.side} worker answered {reply!r}, not a reply object")
        if "error" in reply:
            if reply.get("bad_input"):
                raise UsageError(reply["error"])
            raise RunFailed(f"the {self.side} worker failed: {reply['error']} (log: {self.log})")
        return reply

    def close(self) -> None:
        """Stop the worker and the round it may be forking (one process group: the worker
        leads a session of its own), so no round outlives ptbench, on Ctrl-C either."""
        if self.process.returncode is None:  # not reaped yet: its pid names its group still
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def selection(workers: list[Worker], bench: str | None, devices: list[str]):
    """(combinations, catalogue) the two sides' workers select alike: each combination a
    ``{"benchmark", "params"}``; different answers mean different ptbench versions."""
    asked = {"op": "select", "devices": devices, "bench": bench}
    chosen = [worker.ask(asked) for worker in workers]
    for worker, answer in zip(workers, chosen, strict=True):
        problem = protocol.selection_problem(answer)
        if problem:
            raise UsageError(f"--{worker.side} {worker.python}: its worker {problem}; install "
                             "the same ptbench in both environments")  # fmt: skip
    if chosen[0]["combinations"] != chosen[1]["combinations"]:
        raise UsageError(
            "the baseline and the contender select different benchmarks (different ptbench "
            "versions?); install the same ptbench in both environments"
        )
    return chosen[0]["combinations"], chosen[0]["catalogue"]


def mixed(combinations: list[Combination]) -> list[Combination]:
    """The order of the first look's passes: shuffled the same way every pass (by a checksum
    of each combination's name), not the suite's, in which the slow combinations (the
    decompositions at n = 1,024, the updates of 4,194,304 elements) come in runs. In the
    suite's order a pass's pace so far said little of its rest: the first pass's time left
    read about 40% short. A pair's two rounds run back to back, so no pair changes with it."""
    return sorted(combinations, key=lambda c: zlib.crc32(f"{c.benchmark}{c.params}".encode()))


def status_line(text: str) -> None:
    print(f"ptbench ab: {text}", file=sys.stderr, flush=True)


@dataclass
class Alternation:
    """The two environments and how to start their workers; runs passes of paired rounds."""

    pythons: tuple[str, str]
    benchmark_dir: Path
    tier: str
    logs: Path
    progress: Callable[[str], None] = status_line
    passes: int = 0
    show_progress: bool = False  # a progress bar of the pairs (ptbench ab; bisect prints steps)

    def start(self) -> list[Worker]:
        """Fresh workers on both sides (started together; each checked to answer)."""
        workers = [
            Worker(side, python, self.benchmark_dir, self.tier, self.logs / f"{side}.log")
            for side, python in zip(SIDES, self.pythons, strict=True)
        ]
        for worker in workers:
            try:
                worker.facts = worker.ask({"op": "facts"}, START_TIMEOUT_SECONDS)
                problem = protocol.facts_problem(worker.facts)
                if problem:
                    raise RunFailed(problem)
            except BaseException as failure:  # a refusal, or Ctrl-C while torch imports
                for started in workers:
                    started.close()
                if not isinstance(failure, RunFailed):
                    raise
                said = worker.last_words()  # its log is removed with the refusal
                why = said or str(failure).split(" (its log: ")[0]
                raise UsageError(
                    f"--{worker.side} {worker.python} cannot run ptbench's worker ({why}); "
                    "give a Python that has torch and ptbench"
                ) from None
        return workers

    def add_pair(self, workers: list[Worker], combination: Combination) -> None:
        """One pair of rounds; the side that goes first alternates with each pair (ABBA). A
        time benchmark's two rounds are taken in lockstep (:func:`lockstep`, without asv's
        warm-up: ``ROUND_WARMUP_SECONDS``), a track's one after the other."""
        order = (0, 1) if len(combination.rounds) % 2 == 0 else (1, 0)
        start = time.monotonic()
        if combination.benchmark.rpartition(".")[2].startswith("time_"):
            cpu = pair_cpu(len(combination.rounds))
            replies = lockstep(workers, combination, order, cpu, ROUND_WARMUP_SECONDS)
        else:
            request = {"op": "time", "benchmark": combination.benchmark,
                       "params": combination.params}  # fmt: skip
            replies = [{}, {}]
            for side in order:
                replies[side] = workers[side].ask(request)
        for side in order:
            problem = protocol.round_problem(replies[side])
            if problem:  # the round failed: its combination is not comparable, and says why
                replies[side] = {"status": "failed", "reason": f"the worker: {problem}"}
        combination.seconds += time.monotonic() - start
        combination.rounds.append((replies[0], replies[1]))

    def fill(
        self, goals: list[tuple[Combination, int]], deadline: float = float("inf"),
        label: str = "first pairs",
    ) -> None:
        """Passes of one pair per combination, each with fresh workers, until every
        combination reaches its goal of pairs or ``deadline`` passes; a progress bar of the
        pairs (``label``) with the time left."""
        needed = sum(max(goal - verdicts.clean_pairs(c.rounds), 0) for c, goal in goals)
        bar = Progress(f"ptbench ab: {label}", needed, "pairs") if self.show_progress else None
        try:
            self._passes(goals, deadline, bar)
        finally:
            if bar is not None:
                bar.close()

    def _passes(self, goals, deadline: float, bar: Progress | None) -> None:
        done = 0
        while time.monotonic() < deadline:
            behind = [combination for combination, goal in goals if combination.wants_more(goal)]
            if not behind:
                return
            workers = self.start()
            self.passes += 1
            try:
                for combination in behind:
                    if time.monotonic() > deadline:
                        return
                    self.add_pair(workers, combination)
                    done += 1
                    if bar is not None:
                        bar.update(done, combination.benchmark)
            finally:
                for worker in workers:
                    worker.close()
            if bar is None:  # the bar shows the passes' pairs
                self.progress(f"pass {self.passes}: {len(behind)} combinations")

    def refine(self, pending: list[Combination], guesses: dict, seconds_left: float):
        """The combinations to give more pairs now (:func:`affordable`)."""
        return affordable(pending, guesses, seconds_left)

    def confirm(self, combinations: list[Combination], factor: float, budget: float) -> None:
        """Double the pairs of every inconclusive combination, cheapest to decide first, and
        judge again, until none is left to refine or the budget is spent (module docstring)."""
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            pending = [c for c in combinations if refinable(c)]
            alpha = verdicts.per_test_alpha(sum(c.runs_on_both for c in combinations))
            guesses = {id(c): c.seconds_to_decide(factor, alpha) for c in pending}
            pending = sorted(pending, key=lambda c: guesses[id(c)])
            if not pending:
                return
            pending = self.refine(pending, guesses, deadline - time.monotonic())
            self.progress(f"confirming {len(pending)} inconclusive with more rounds")
            goals = [(c, min(verdicts.MAX_PAIRS, 2 * verdicts.clean_pairs(c.rounds))) for c in
                     pending]  # fmt: skip
            self.fill(goals, deadline, f"confirming {len(pending)} inconclusive")
            judge_all(combinations, factor, looked_at=pending)
