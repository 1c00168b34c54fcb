#!/usr/bin/env python
"""Is it the profiler, or the rounds? A/A rounds of one combination as ``ptbench explain``
took them until 2026-12-08 (a fresh forked process each, one after the other, no CPU chosen;
now in lockstep, as ab's): in each, the calls of a profiled round are timed once without
``torch.profiler`` and once under it.

Prints, for each, the median time per call, the spread of the rounds (1.4826 x MAD of their
logs) and of A/A pairs of consecutive rounds (what decides how many pairs explain needs).

    .venv/bin/python scripts/profile_noise.py bench_linalg.time_eigh '["cpu", 64, "float64"]'
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from ptbench.analysis.ab import schedule, worker
from ptbench.analysis.explain import profiling

# Set once this script has started again in the environment ab's and explain's workers get.
STARTED = "PTBENCH_PROFILE_NOISE_STARTED"


def one_round(name: str, params: list) -> dict:
    """In a forked child: the prepared call's profiled round's calls, timed plain, then
    profiled."""
    from torch.profiler import ProfilerActivity, profile

    call, device = profiling._prepared(name, params, "default")
    calls = profiling._calls(call, device, 0.2)  # a profiled round before lockstep: 0.2 s
    start = time.perf_counter()
    for _ in range(calls):
        call()
    plain = (time.perf_counter() - start) / calls
    with profile(activities=[ProfilerActivity.CPU]):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        profiled = (time.perf_counter() - start) / calls
    return {"plain": plain, "profiled": profiled}


def spread(logs: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(logs - np.median(logs))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark")
    parser.add_argument("params", type=json.loads, help="a JSON list, as ab's documents hold")
    parser.add_argument("--rounds", type=int, default=16)
    args = parser.parse_args()
    if os.environ.get(STARTED) != "1":  # malloc and OpenMP read these at start: start again
        environment = {**schedule.worker_environment(), STARTED: "1"}
        os.execve(sys.executable, [sys.executable, *sys.argv], environment)
    rounds = [worker.forked(lambda: one_round(args.benchmark, args.params))
              for _ in range(args.rounds)]  # fmt: skip
    for key in ("plain", "profiled"):
        logs = np.log([found[key] for found in rounds])
        pairs = logs[1::2] - logs[0::2]
        print(f"{key:8s}: {math.exp(np.median(logs)) * 1e6:9.1f} us a call, rounds spread "
              f"{spread(logs):.3f}, A/A pairs spread {spread(pairs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
