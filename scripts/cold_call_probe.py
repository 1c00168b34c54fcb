#!/usr/bin/env python
"""What a lockstep sample reads when asv's calibration left ``number`` at 1: one call, after a
pause as long as the other side's sample. Measured in one process, as ab's worker measures.

For each combination: asv's own round (``worker.forked_round``: samples back to back), then
lockstep rounds (``worker.open_round`` and ``sample_round``, 10 samples) with the samples 0,
0.5 ms (ab's pause when the turn passes) and 10 ms (the other side's sample) apart, first with
``number`` as asv's calibration left it (ab until 2026-12-07), then raised until a sample takes
asv's sample time (``worker.filled``, ab now). Prints each design's round medians, us a call.

    .venv/bin/python scripts/cold_call_probe.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT / "benchmarks"
COMBINATIONS = [
    ("bench_updates.time_sgd_step", ["cpu", 16, "fused"]),
    ("bench_updates.time_sgd_step", ["cpu", 16, "for_loop"]),
    ("bench_linalg.time_solve", ["cpu", 64, "float64", "lu"]),
]
PAUSES = (0.0, 0.0005, 0.01)


def as_asv_left_it(timer, number: int, _sample_time: float) -> tuple[int, float]:
    """``worker.filled`` as it was: asv's ``number``, one sample of it."""
    start = time.perf_counter()
    timer.timeit(number)
    return number, time.perf_counter() - start


def lockstep_round(worker, name: str, params: list, pause: float) -> tuple[float, int]:
    """(median sample, number) of one round of 10 samples ``pause`` seconds apart."""
    first = worker.open_round(BENCHMARKS, "default", name, params)
    samples = list(first["samples"])
    for _ in range(10):
        time.sleep(pause)
        samples.append(worker.sample_round()["seconds"])
    worker.close_round()
    return statistics.median(samples), first["number"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["PTBENCH_TIER"] = "default"
    from ptbench.analysis.ab import worker
    from ptbench.run import plan

    plan.discover(BENCHMARKS)  # as the worker does: forked rounds inherit the suite
    filled = worker.filled
    for name, params in COMBINATIONS:
        label = f"{name.rpartition('.')[2]}{tuple(params)}"
        asv = [statistics.median(worker.forked_round(BENCHMARKS, "default", name, params)
                                 ["samples"]) for _ in range(args.rounds)]  # fmt: skip
        print(f"{label}: asv's own round {' '.join(f'{v * 1e6:.0f}' for v in asv)} us")
        for fill, how in ((as_asv_left_it, "number as asv left it"), (filled, "number filled")):
            worker.filled = fill
            for pause in PAUSES:
                rounds = [lockstep_round(worker, name, params, pause) for _ in range(args.rounds)]
                print(f"    {how}, samples {pause * 1e3:g} ms apart: "
                      f"{' '.join(f'{v * 1e6:.0f}' for v, _ in rounds)} us "
                      f"(number {', '.join(str(n) for _, n in rounds)})", flush=True)  # fmt: skip
        worker.filled = filled
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
