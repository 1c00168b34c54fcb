#!/usr/bin/env python
"""How steady are ``ptbench explain``'s instruction counts? Two callgrind collections of the
same call, one after the other, for each design: 100 calls a collection with Python's hash
seed random, 100 with it fixed, and what ``explain`` counts (``instructions.CALLS``, seed
fixed). Prints each collection's instructions per call, how far the two are apart, and the
seconds each took. Needs Debian's valgrind.

    .venv/bin/python scripts/callgrind_stability.py [--bench bench_elementwise.time_sum]
                                                    [--params cpu,1024]
"""

from __future__ import annotations

import argparse
import os
import time

from ptbench.analysis.explain import instructions


def collect(name: str, params: list, calls: int, seed: str | None) -> tuple[float, float]:
    """(instructions per call, seconds) of one collection."""
    instructions.CALLS, instructions.HASH_SEED = calls, seed or "random"
    start = time.perf_counter()
    counted = instructions.count(name, params, "default")
    if counted["status"] != "ok":
        raise SystemExit(f"callgrind_stability: {counted['reason']}")
    return counted["per_call"][0], time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", default="bench_elementwise.time_sum")
    parser.add_argument("--params", default="cpu,1024")
    args = parser.parse_args()
    params = [int(part) if part.isdigit() else part for part in args.params.split(",")]
    designs = [(100, None), (100, "0"), (instructions.CALLS, instructions.HASH_SEED)]
    print("| calls | hash seed | instructions per call | apart | seconds |")
    print("|---|---|---|---|---|")
    for calls, seed in designs:
        (first, took), (second, again) = (collect(args.bench, params, calls, seed)
                                          for _ in range(2))  # fmt: skip
        print(f"| {calls} | {seed or 'random'} | {first:,.2f} and {second:,.2f} "
              f"| {abs(second - first) / first:.4%} | {took:.0f} and {again:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONHASHSEED", None)  # "random" means Python's own default
    raise SystemExit(main())
