#!/usr/bin/env python
"""Rounds one after the other, or in lockstep? Measured on the same machine in one go.

For each selected time combination, ``--pairs`` A/A pairs of rounds of each design, the
designs alternating pair by pair (both sides are this Python), each pair from fresh workers
as ``ptbench ab`` starts them:

- sequential: each side's round is one ``time`` request, the baseline's then the contender's
  (ab's rounds before 2026-12-07);
- lockstep: ``lockstep.lockstep``, the two sides' samples alternating ABBA (ab's rounds now).

Prints, per design, the median over combinations of the spread of the pairs' log ratios
(1.4826 x MAD, what decides how many pairs a verdict needs), its quartiles, and the seconds a
pair took. Run it with ``OMP_WAIT_POLICY=ACTIVE`` to see lockstep with spinning OpenMP threads.

    .venv/bin/python scripts/lockstep_probe.py [--bench REGEX] [--pairs 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ptbench.analysis import stats
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


def lockstep(alternation, workers, combination) -> None:
    alternation.add_pair(workers, combination)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=r"time_solve\('cpu', 256, ")
    parser.add_argument("--pairs", type=int, default=8)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="lockstep-probe-"))
    alternation = schedule.Alternation((sys.executable, sys.executable), PROJECT / "benchmarks",
                                       "default", logs, progress=lambda _line: None)  # fmt: skip
    workers = alternation.start()
    chosen, _catalogue = schedule.selection(workers, args.bench, ["cpu"])
    for worker in workers:
        worker.close()
    designs = {"sequential": sequential, "lockstep": lockstep}
    combos = {name: [schedule.Combination(c["benchmark"], c["params"]) for c in chosen]
              for name in designs}  # fmt: skip
    seconds = dict.fromkeys(designs, 0.0)
    for index in range(2 * args.pairs):
        name = list(designs)[index % 2 if index // 2 % 2 == 0 else 1 - index % 2]  # ABBA
        workers = alternation.start()
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
        low, median, high = np.percentile(spreads, [25, 50, 75])
        each = seconds[name] / (args.pairs * len(combinations))
        print(f"{name:10s} {len(combinations)} combinations x {args.pairs} pairs: spread "
              f"{median:.3f} (quartiles {low:.3f}-{high:.3f}), {each:.2f} s a pair")
    return 0


if __name__ == "__main__":
    sys.exit(main())
