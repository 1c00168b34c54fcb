#!/usr/bin/env python
"""What a parallel region's wake-up costs: small parallel operations timed in a plain process,
in the environment ``ptbench ab`` starts its workers in (``schedule.worker_environment``), and
with OpenMP's threads sleeping at once (``OMP_WAIT_POLICY=PASSIVE``, ab's until 2026-12-07),
each with its main thread where the scheduler put it and pinned as ab pins it
(``worker.pin_threads``). Each figure is a fresh process's median of 7 blocks of 200 calls, in
microseconds a call; the environments take turns, ``--repetitions`` times.

    .venv/bin/python scripts/openmp_wait_probe.py [--repetitions 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from ptbench.analysis.ab import schedule

CHILD = r"""
import json, sys, time, torch
x = torch.rand(65536)
operations = {"ones(65536)": lambda: torch.ones(65536), "square(65536)": lambda: torch.square(x),
              "sum(65536)": lambda: x.sum()}
for call in operations.values():
    for _ in range(200):
        call()
if sys.argv[1] == "pinned":
    from ptbench.analysis.ab import worker
    worker.pin_threads(min(worker.os.sched_getaffinity(0)))
times = {}
for name, call in operations.items():
    blocks = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(200):
            call()
        blocks.append((time.perf_counter() - start) / 200)
    times[name] = sorted(blocks)[3] * 1e6
print(json.dumps(times))
"""


def environments() -> dict[str, dict[str, str]]:
    plain = {k: v for k, v in os.environ.items() if k not in schedule.OPENMP_CHOICES}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(plain)
    try:
        worker = schedule.worker_environment()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {"plain": plain, "ab's workers": worker,
            "passive": {**plain, "OMP_WAIT_POLICY": "PASSIVE"}}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=2)
    args = parser.parse_args()
    for repetition in range(1, args.repetitions + 1):
        for name, env in environments().items():
            for where in ("free", "pinned"):
                child = subprocess.run([sys.executable, "-c", CHILD, where], env=env,
                                       capture_output=True, text=True, check=True)  # fmt: skip
                times = json.loads(child.stdout)
                cells = ", ".join(f"{op} {us:.1f} us" for op, us in times.items())
                print(f"{repetition} {name:13s} {where:6s} {cells}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
