#!/usr/bin/env python
"""Would *duet* rounds narrow ``ptbench ab``'s pairs? An A/A measurement, both designs in turns.

docs/ab.md quotes the output (the design was tried and not adopted). Two designs of a pair,
alternated pair by pair on the same combinations in one go, so the machine's state of the day
affects both alike:

- *sequential* (what ``ptbench ab`` does): two asv benchmark processes back to back, each
  taking asv-runner's own samples (``TimeBenchmark.run``: up to 5 after a 0.1 s warm-up);
- *duet*: both processes forked and prepared first (inputs built and checked, asv's own
  calibration of ``number`` and warm-up), then their samples in turns, A B B A ..., ``--samples``
  each, with a ``--gap`` pause whenever the turn passes to the other side (OpenMP threads spin
  for a few milliseconds after a parallel region and would slow the side sampled next; 3 ms
  was too short here). After Bulej et al., *Duet benchmarking*, ICPE 2020, which runs both
  versions at once; here they take turns, so they never share the CPUs.

For each combination: the spread of the pairs' log ratios (standard deviation and 1.4826 x
MAD) and the seconds a pair took; then the medians over the combinations.

    .venv/bin/python scripts/measure_duet.py [--pairs 12] [--samples 10] [--gap 0.01]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT / "benchmarks"
COMBINATIONS = [
    ("bench_autograd.time_backward", ("cpu", 65536, "x_cubed")),
    ("bench_elementwise.time_multiply", ("cpu", 1024)),
    ("bench_elementwise.time_multiply", ("cpu", 524288)),
    *[("bench_linalg.time_matmul", ("cpu", n, "float64")) for n in (16, 64, 256)],
    *[("bench_linalg.time_solve", ("cpu", 256, "float64", m)) for m in ("lu", "cholesky")],
    *[("bench_linalg.time_eigh", ("cpu", n, "float64")) for n in (16, 64, 256)],
]


def sequential_pair(name: str, params: tuple) -> tuple[float, float]:
    """Two asv benchmark processes back to back, each its samples' median."""
    from ptbench.analysis.ab import worker
    from ptbench.suite import declare

    def one_round():
        benchmark = declare.asv_benchmark(BENCHMARKS, name, params)
        return {"samples": benchmark.run(*benchmark._current_params)["samples"]}

    first, second = (statistics.median(worker.forked(one_round)["samples"]) for _ in range(2))
    return first, second


def _serve(name: str, params: tuple, commands: int, answers: int) -> None:
    """A forked child: prepare as asv does, then one sample per byte read."""
    from ptbench.suite import declare

    benchmark = declare.asv_benchmark(BENCHMARKS, name, params)
    timer = benchmark._get_timer(*benchmark._current_params)
    _, number = benchmark.benchmark_timing(timer, 1, 1, 10.0, 0.1, 0, benchmark.min_run_count)
    os.write(answers, b"ready\n")
    while os.read(commands, 1) == b"s":
        os.write(answers, f"{timer.timeit(number) / number!r}\n".encode())
    os._exit(0)


def _child(name: str, params: tuple) -> tuple[int, int, object]:
    commands_read, commands = os.pipe()
    answers, answers_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(commands)
        os.close(answers)
        _serve(name, params, commands_read, answers_write)
    os.close(commands_read)
    os.close(answers_write)
    reader = os.fdopen(answers)
    assert reader.readline() == "ready\n"
    return pid, commands, reader


def duet_pair(name: str, params: tuple, samples: int, gap: float) -> tuple[float, float]:
    sides = [_child(name, params), _child(name, params)]
    taken: list[list[float]] = [[], []]
    previous = None
    for turn in range(2 * samples):
        side = (0, 1, 1, 0)[turn % 4]
        if side != previous:
            time.sleep(gap)
        previous = side
        _pid, commands, reader = sides[side]
        os.write(commands, b"s")
        taken[side].append(float(reader.readline()))
    for pid, commands, reader in sides:
        os.close(commands)
        reader.close()
        os.waitpid(pid, 0)
    return statistics.median(taken[0]), statistics.median(taken[1])


def spread(logs: list[float]) -> tuple[float, float]:
    values = np.asarray(logs)
    return float(np.std(values, ddof=1)), 1.4826 * float(np.median(np.abs(values - np.median(values))))


def measure(name: str, params: tuple, args) -> dict:
    logs: dict[str, list[float]] = {"sequential": [], "duet": []}
    seconds = {"sequential": 0.0, "duet": 0.0}
    for index in range(args.pairs):
        for design in ("sequential", "duet"):
            start = time.monotonic()
            pair = (sequential_pair(name, params) if design == "sequential"
                    else duet_pair(name, params, args.samples, args.gap))  # fmt: skip
            seconds[design] += time.monotonic() - start
            first, second = pair if index % 2 == 0 else pair[::-1]  # ABBA across pairs
            logs[design].append(math.log(second / first))
    return {design: (*spread(logs[design]), seconds[design] / args.pairs) for design in logs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--samples", type=int, default=10, help="a duet's samples per side")
    parser.add_argument("--gap", type=float, default=0.01, help="seconds before a turn passes")
    args = parser.parse_args()
    os.environ["PTBENCH_TIER"] = "default"
    from ptbench.run import plan

    plan.discover(BENCHMARKS)  # import torch and the suite once: every child inherits them
    print("| combination | sequential sd | sequential MAD | duet sd | duet MAD | s/pair seq | "
          "s/pair duet |\n|---|---|---|---|---|---|---|")  # fmt: skip
    rows = []
    for name, params in COMBINATIONS:
        row = measure(name, params, args)
        rows.append(row)
        (s_sd, s_mad, s_s), (d_sd, d_mad, d_s) = row["sequential"], row["duet"]
        print(f"| `{name.split('.')[1]}{params}` | {s_sd:.3f} | {s_mad:.3f} | {d_sd:.3f} | "
              f"{d_mad:.3f} | {s_s:.2f} | {d_s:.2f} |", flush=True)  # fmt: skip
    median = {d: [statistics.median(r[d][i] for r in rows) for i in range(3)] for d in rows[0]}
    print(f"\nmedians over {len(rows)} combinations, {args.pairs} pairs each: sequential sd "
          f"{median['sequential'][0]:.3f}, MAD {median['sequential'][1]:.3f}, "
          f"{median['sequential'][2]:.2f} s a pair; duet sd {median['duet'][0]:.3f}, MAD "
          f"{median['duet'][1]:.3f}, {median['duet'][2]:.2f} s a pair")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
