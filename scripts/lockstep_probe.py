#!/usr/bin/env python
"""Rounds one after the other, or in lockstep, on one CPU or not? Measured in one go.

For each selected time combination, ``--pairs`` A/A pairs of rounds of each design, the
designs taking turns pass by pass, forwards then backwards (both sides are this Python), each
pass with fresh workers as ``ptbench ab`` starts them:

- sequential: each side's round is one ``time`` request, the baseline's then the contender's
  (ab's rounds before 2026-12-07);
- free: ``lockstep.lockstep``, the two sides' samples alternating ABBA, each side's threads
  where the scheduler put them (ab's rounds on 2026-12-07, until the afternoon);
- lockstep: ``schedule.Alternation.add_pair``, what ab does now: lockstep with both sides'
  main threads on one CPU (``lockstep.pair_cpu``) and their other threads on the others,
  without asv's warm-up (``lockstep.ROUND_WARMUP_SECONDS``);
- warm: lockstep with the tier's asv warm-up, 0.1 s (ab's until 2026-12-07, 20:45 UTC);
- nowarm: lockstep without asv's warm-up (ptbench's own 50 ms from the checked call stays),
  10 samples a side within 1 s: what ab does now, whatever ``ROUND_WARMUP_SECONDS`` says;
- nowarm5: nowarm, and 5 samples a side within 0.5 s (asv's own round takes up to 5);
- cold: nowarm without ptbench's 50 ms either (``timing.WARMUP_SECONDS``): after the checked
  call, asv's calibration is the only warm-up;
- nohandover: lockstep without the pause when the turn passes to the other side
  (``lockstep.HANDOVER_SECONDS``);
- together / apart: lockstep, the two sides' rounds setting up, warming up and calibrating
  at the same time, each on every CPU (``lockstep.OPEN_TOGETHER``), or one after the other;
- trimming: lockstep, the workers' malloc left to glibc's defaults (ab's until 2026-12-07's
  evening), instead of its thresholds fixed (``schedule.HEAP_KEPT``);
- passive: lockstep, the workers' OpenMP threads sleeping at once (``OMP_WAIT_POLICY=PASSIVE``,
  ab's until 2026-12-07), instead of spinning about 0.1 ms first (``schedule.OPENMP_WAITING``).

Prints, per design, the median over combinations of the spread of the pairs' log ratios
(1.4826 x MAD, what decides how many pairs a verdict needs), its quartiles, and the seconds a
pair took. Run it with ``OMP_WAIT_POLICY=ACTIVE`` to see lockstep with OpenMP threads spinning on.

    .venv/bin/python scripts/lockstep_probe.py [--bench REGEX] [--pairs 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ptbench.analysis import stats
from ptbench.analysis.ab import lockstep as ab_lockstep
from ptbench.analysis.ab import schedule, verdicts

PROJECT = Path(__file__).resolve().parents[1]


def sequential(alternation, workers, combination) -> None:
    """One pair of rounds, the sides one after the other (a ``time`` request each)."""
    request = {"op": "time", "benchmark": combination.benchmark, "params": combination.params}
    order = (0, 1) if len(combination.rounds) % 2 == 0 else (1, 0)
    replies = [{}, {}]
    for side in order:
        replies[side] = workers[side].ask(request)
    combination.rounds.append(tuple(replies))


def free(alternation, workers, combination) -> None:
    """Lockstep, but each side's threads stay where the scheduler put them."""
    order = (0, 1) if len(combination.rounds) % 2 == 0 else (1, 0)
    combination.rounds.append(tuple(ab_lockstep.lockstep(workers, combination, order, None)))


def lockstep(alternation, workers, combination) -> None:
    alternation.add_pair(workers, combination)


def _lockstep_with(workers, combination, samples: int, seconds: float, warmup: float,
                   prepare_warmup: float | None = None) -> None:
    """Lockstep on one CPU, as ab's, with ``samples`` a side within ``seconds``, asv's
    warm-up set to ``warmup`` seconds (None: the tier's) and ptbench's to ``prepare_warmup``
    (None: its 50 ms)."""
    order = (0, 1) if len(combination.rounds) % 2 == 0 else (1, 0)
    saved = ab_lockstep.LOCKSTEP_SAMPLES, ab_lockstep.LOCKSTEP_SECONDS
    ab_lockstep.LOCKSTEP_SAMPLES, ab_lockstep.LOCKSTEP_SECONDS = samples, seconds
    try:
        cpu = ab_lockstep.pair_cpu(len(combination.rounds))
        replies = ab_lockstep.lockstep(workers, combination, order, cpu, warmup, prepare_warmup)
        combination.rounds.append(tuple(replies))
    finally:
        ab_lockstep.LOCKSTEP_SAMPLES, ab_lockstep.LOCKSTEP_SECONDS = saved


def warm(alternation, workers, combination) -> None:
    _lockstep_with(workers, combination, 10, 1.0, None)


def nowarm(alternation, workers, combination) -> None:
    _lockstep_with(workers, combination, 10, 1.0, 0.0)


def nowarm5(alternation, workers, combination) -> None:
    _lockstep_with(workers, combination, 5, 0.5, 0.0)


def cold(alternation, workers, combination) -> None:
    _lockstep_with(workers, combination, 10, 1.0, 0.0, 0.0)


def passive(alternation, workers, combination) -> None:
    """ab's lockstep, its workers' OpenMP threads sleeping at once (``DESIGN_ENV``)."""
    alternation.add_pair(workers, combination)


def nohandover(alternation, workers, combination) -> None:
    """ab's lockstep without its pause when the turn passes (``lockstep.HANDOVER_SECONDS``)."""
    saved, ab_lockstep.HANDOVER_SECONDS = ab_lockstep.HANDOVER_SECONDS, 0.0
    try:
        alternation.add_pair(workers, combination)
    finally:
        ab_lockstep.HANDOVER_SECONDS = saved


def _opening(together: bool):
    """ab's lockstep, the two sides' rounds setting up, warming up and calibrating at the same
    time (``lockstep.OPEN_TOGETHER``), or one after the other."""

    def design(alternation, workers, combination) -> None:
        saved, ab_lockstep.OPEN_TOGETHER = ab_lockstep.OPEN_TOGETHER, together
        try:
            alternation.add_pair(workers, combination)
        finally:
            ab_lockstep.OPEN_TOGETHER = saved

    return design


DESIGNS = {"sequential": sequential, "free": free, "lockstep": lockstep, "warm": warm,
           "nowarm": nowarm, "nowarm5": nowarm5, "cold": cold, "passive": passive,
           "nohandover": nohandover,
           "together": _opening(True), "apart": _opening(False), "trimming": lockstep}  # fmt: skip
# The environment a design's workers start in, where it is not ab's (schedule.OPENMP_WAITING:
# libgomp's threads spin 10,000 times, about 0.1 ms, before they sleep).
DESIGN_ENV = {"passive": {"OMP_WAIT_POLICY": "PASSIVE"}}
# The designs whose workers start with malloc's defaults, not ``schedule.HEAP_KEPT``.
DESIGN_HEAP_DEFAULT = ("trimming",)


def started(alternation, name: str) -> list:
    """The workers of a pass of design ``name``, in its environment (``DESIGN_ENV``)."""
    saved = {key: os.environ.get(key) for key in DESIGN_ENV.get(name, {})}
    os.environ.update(DESIGN_ENV.get(name, {}))
    heap = schedule.HEAP_KEPT
    if name in DESIGN_HEAP_DEFAULT:
        schedule.HEAP_KEPT = {}
    try:
        return alternation.start()
    finally:
        schedule.HEAP_KEPT = heap
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def slow_rounds(combinations) -> tuple[int, int]:
    """(rounds over twice their combination's median, rounds): a slow mode's footprint."""
    slow = total = 0
    for combination in combinations:
        rounds = np.array(verdicts.values(combination.rounds), float).ravel()
        rounds = rounds[np.isfinite(rounds)]
        slow += int((rounds > 2 * np.median(rounds)).sum()) if len(rounds) else 0
        total += len(rounds)
    return slow, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=r"time_solve\('cpu', 256, ")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--designs", default="sequential,free,lockstep",
                        help=f"comma-separated, of {', '.join(DESIGNS)}")  # fmt: skip
    parser.add_argument("--each", action="store_true", help="print each combination's spread")
    args = parser.parse_args()
    names = args.designs.split(",")
    if not set(names) <= set(DESIGNS):
        parser.error(f"--designs: choose among {', '.join(DESIGNS)}")
    logs = Path(tempfile.mkdtemp(prefix="lockstep-probe-"))
    alternation = schedule.Alternation((sys.executable, sys.executable), PROJECT / "benchmarks",
                                       "default", logs, progress=lambda _line: None)  # fmt: skip
    workers = alternation.start()
    chosen, _catalogue = schedule.selection(workers, args.bench, ["cpu"])
    for worker in workers:
        worker.close()
    designs = {name: DESIGNS[name] for name in names}
    combos = {name: [schedule.Combination(c["benchmark"], c["params"]) for c in chosen]
              for name in designs}  # fmt: skip
    seconds = dict.fromkeys(designs, 0.0)
    turns = [name for index in range(args.pairs)
             for name in (list(designs) if index % 2 == 0 else list(designs)[::-1])]  # fmt: skip
    for name in turns:
        workers = started(alternation, name)
        try:
            for combination in combos[name]:
                start = time.monotonic()
                designs[name](alternation, workers, combination)
                seconds[name] += time.monotonic() - start
        finally:
            for worker in workers:
                worker.close()
    for name, combinations in combos.items():
        spreads = [stats.robust_spread(stats.paired_log_ratios(verdicts.values(c.rounds)))
                   for c in combinations]  # fmt: skip
        low, median, high = np.nanpercentile(spreads, [25, 50, 75])  # a side skipped: NaN
        each = seconds[name] / (args.pairs * len(combinations))
        slow, total = slow_rounds(combinations)
        print(f"{name:10s} {len(combinations)} combinations x {args.pairs} pairs: spread "
              f"{median:.3f} (quartiles {low:.3f}-{high:.3f}), {each:.2f} s a pair, "
              f"{slow} of {total} rounds over twice their median")
        for combination, spread in zip(combinations, spreads, strict=True) if args.each else ():
            rounds = np.array(verdicts.values(combination.rounds), float).ravel()
            print(f"    {spread:.3f} {np.nanmedian(rounds) * 1e6:10.1f} us "
                  f"{combination.benchmark}{tuple(combination.params)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
