#!/usr/bin/env python
"""Measure what ``ptbench bisect`` promises: seven builds, the regression from the fifth on,
found in at most 6 comparisons within 10 minutes for an operation of about 1 ms.

The builds are synthetic (``scripts/slowed_env.py``): this environment four times, then three
times with FUNCTION slowed by FACTOR. ``ptbench bisect`` runs as a user runs it, and the script
prints the steps it took, where it landed, and its wall time (a markdown row for docs).

    .venv/bin/python scripts/measure_bisect.py [--factor 1.5] [--first-bad 4] [--builds 7]
        [--bench REGEX] [--function torch.linalg.cholesky] [--budget 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import slowed_env

PROJECT = Path(__file__).resolve().parents[1]
BENCH = r"^bench_linalg\.time_solve\('cpu', 256, 'float64', 'cholesky'\)$"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=7)
    parser.add_argument("--first-bad", type=int, default=4, help="0-based (4: the fifth)")
    parser.add_argument("--factor", type=float, default=1.5)
    parser.add_argument("--function", default="torch.linalg.cholesky")
    parser.add_argument("--bench", default=BENCH)
    parser.add_argument("--budget", default="60")
    parser.add_argument("--keep", type=Path, help="keep the results here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ptbench-measure-bisect-"))
    slowed = slowed_env.make(scratch / "slowed", sys.executable, args.function, args.factor)
    pythons = [sys.executable if i < args.first_bad else str(slowed) for i in range(args.builds)]
    results = args.keep or scratch / "results"
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "ptbench.cli", "bisect", "--builds", *pythons, "--bench",
         args.bench, "--budget", args.budget, "--results", str(results), "--format", "json"],
        cwd=PROJECT, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        print(completed.stderr[-3000:], file=sys.stderr)
        return completed.returncode
    document = json.loads(completed.stdout)
    steps = document["steps"]
    followed = sum(1 for s in steps if s.get("verdict") is not None)
    found = document["first_bad"]["index"] if document["first_bad"] else document["candidates"]
    print("| builds | first bad (injected) | found | comparisons | steps | boundary | exit | "
          "wall |\n|---|---|---|---|---|---|---|---|")
    boundary = document["boundary"] or {}
    taken = ", ".join(f"{s['role']} {s['baseline']}-{s['contender']} {s.get('verdict')}"
                      for s in steps)  # fmt: skip
    print(f"| {args.builds} | {args.first_bad} ({args.function} {args.factor:g}x) | {found} | "
          f"{followed} | {taken} | "
          f"{boundary.get('ratio', float('nan')):.3f} [{boundary.get('ratio_low', 0):.3f}, "
          f"{boundary.get('ratio_high', 0):.3f}] | {completed.returncode} | {wall:.0f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
