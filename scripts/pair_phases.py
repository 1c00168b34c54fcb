#!/usr/bin/env python
"""Where a lockstep pair's time goes: opening the rounds, their samples, closing them.

Two A/A passes of ``ptbench ab``'s pairs (``schedule.Alternation.add_pair``, both sides this
Python) over the selected combinations, each request to a worker timed: ``open`` (the fork,
the inputs, the checked call, ptbench's warm-up, asv's calibration and the first sample),
``sample`` and ``close``. Prints the totals, then the costliest combinations.

    .venv/bin/python scripts/pair_phases.py [--bench "^bench_linalg"] [--passes 2] [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

from ptbench.analysis.ab import schedule

PROJECT = Path(__file__).resolve().parents[1]


def timed(workers: list, spent: dict, current: list) -> None:
    """Wrap each worker's ``ask`` so that its seconds add up in ``spent[combination][op]``."""
    for worker in workers:

        def ask(request, asked=worker.ask):
            start = time.monotonic()
            reply = asked(request)
            spent[current[0]][request["op"]] += time.monotonic() - start
            return reply

        worker.ask = ask


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="^bench_linalg")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="pair-phases-"))
    alternation = schedule.Alternation((sys.executable, sys.executable), PROJECT / "benchmarks",
                                       "default", logs, progress=lambda _line: None)  # fmt: skip
    workers = alternation.start()
    chosen, _catalogue = schedule.selection(workers, args.bench, ["cpu"])
    spent = collections.defaultdict(lambda: collections.defaultdict(float))
    current = [""]
    timed(workers, spent, current)
    combinations = [schedule.Combination(c["benchmark"], c["params"]) for c in chosen]
    start = time.monotonic()
    try:
        for _ in range(args.passes):
            for combination in combinations:
                current[0] = f"{combination.benchmark}{tuple(combination.params)}"
                begun = time.monotonic()
                alternation.add_pair(workers, combination)
                spent[current[0]]["pair"] += time.monotonic() - begun
    finally:
        for worker in workers:
            worker.close()
    report(spent, time.monotonic() - start, args.passes * len(combinations), args)
    return 0


def report(spent: dict, seconds: float, pairs: int, args) -> None:
    total = collections.Counter()
    for phases in spent.values():
        total.update(phases)
    print(f"{len(spent)} combinations, {pairs} pairs, {seconds:.1f} s: {seconds / pairs:.3f} s "
          f"a pair; open {total['open'] / total['pair']:.0%}, samples "
          f"{total['sample'] / total['pair']:.0%}, close {total['close'] / total['pair']:.0%}")
    print("s a pair | open, s a side | samples, s a pair | combination")
    for name, phases in sorted(spent.items(), key=lambda item: -item[1]["pair"])[: args.top]:
        print(f"{phases['pair'] / args.passes:8.3f} | {phases['open'] / 2 / args.passes:14.3f} "
              f"| {phases['sample'] / args.passes:17.3f} | {name}")


if __name__ == "__main__":
    sys.exit(main())
