#!/usr/bin/env python
"""Which round design gives ``ptbench ab`` the narrowest A/A pairs for its cost? Measured in
one run, the designs interleaved combination by combination (ABBA), so a drift of the machine
reaches every design alike.

A round is what ``ptbench ab`` times: one forked process, asv-runner's ``TimeBenchmark.run``.
The designs cross two settings: torch's own thread count or one thread (what
operator_benchmark's ``--omp-num-threads 1`` and ``torch.utils.benchmark`` default to), and
asv's default samples (up to 5) or up to 20 within a quarter of a second. For each combination
and design: ``--pairs`` A/A pairs (two rounds of the same environment), their spread (1.4826 x
the MAD, and the standard deviation, of the log pair ratios) and the seconds a round took.

    .venv/bin/python scripts/round_designs.py [--bench REGEX] [--pairs 8]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ptbench.analysis.ab import worker
from ptbench.suite import declare as suite

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SELECTION = (r"bench_linalg\.time_(eigh|svd|matmul)\('cpu', (64|256),"
             r"|bench_updates\.time_sgd_step\('cpu', (1024|131072)\)"
             r"|bench_autograd\.time_backward\('cpu', (1024|131072),")  # fmt: skip
# name: (threads or None for torch's own, asv's repeat attribute or None for asv's default)
DESIGNS = {
    "threads default, asv samples": (None, None),
    "1 thread, asv samples": (1, None),
    "threads default, up to 20 samples": (None, (5, 20, 0.25)),
    "1 thread, up to 20 samples": (1, (5, 20, 0.25)),
}


def one_round(combination: dict, threads: int | None, repeat) -> dict:
    """One forked round of ``combination`` under a design; its samples and wall seconds."""

    def run() -> dict:
        import torch

        if threads:
            torch.set_num_threads(threads)
        benchmark = suite.asv_benchmark(BENCHMARKS, combination["benchmark"],
                                        tuple(combination["params"]))  # fmt: skip
        if repeat:
            benchmark.repeat = repeat
        try:
            return {"status": "ok", "samples": benchmark.run(*benchmark._current_params)["samples"]}
        except Exception as error:  # a skip or a failed check: the combination is left out
            return {"status": "failed", "reason": str(error)}

    start = time.perf_counter()
    reply = worker.forked(run)
    return {**reply, "wall": time.perf_counter() - start}


def measure(combination: dict, pairs: int) -> dict | None:
    """Per design: (MAD spread, SD spread, seconds a round); None if a round failed."""
    logs, walls = {name: [] for name in DESIGNS}, {name: [] for name in DESIGNS}
    for index in range(pairs):
        order = list(DESIGNS) if index % 2 == 0 else list(DESIGNS)[::-1]
        for name in order:
            a, b = (one_round(combination, *DESIGNS[name]) for _ in range(2))
            if "failed" in (a["status"], b["status"]):
                return None
            logs[name].append(np.log(np.median(b["samples"]) / np.median(a["samples"])))
            walls[name] += [a["wall"], b["wall"]]
    return {name: (*spread(values), float(np.mean(walls[name]))) for name, values in logs.items()}


def spread(logs) -> tuple[float, float]:
    """(1.4826 x the MAD, the standard deviation) of log pair ratios."""
    x = np.asarray(logs, dtype=float)
    return 1.4826 * float(np.median(np.abs(x - np.median(x)))), float(np.std(x, ddof=1))


def time_combinations(description: str, default_bench: str) -> tuple[list[dict], int]:
    """The CPU time combinations ``--bench`` selects in the default tier, and ``--pairs``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bench", default=default_bench)
    parser.add_argument("--pairs", type=int, default=8)
    args = parser.parse_args()
    combinations, _ = worker.select_combinations(BENCHMARKS, "default", ["cpu"], args.bench)
    return [c for c in combinations if ".time_" in c["benchmark"]], args.pairs


def main() -> int:
    combinations, pairs = time_combinations(__doc__.split("\n\n")[0], SELECTION)
    measured = []
    for combination in combinations:
        result = measure(combination, pairs)
        if result:
            measured.append(result)
            print(combination["benchmark"], tuple(combination["params"]), flush=True)
    print(f"\n{len(measured)} combinations, {pairs} A/A pairs each, designs interleaved:\n")
    print("| design | median spread (MAD) | median spread (SD) | round | narrower than the first |")
    print("|---|---|---|---|---|")
    first = np.array([row[next(iter(DESIGNS))][0] for row in measured])
    for name in DESIGNS:
        mads, sds, walls = (np.array([row[name][i] for row in measured]) for i in range(3))
        print(f"| {name} | {np.median(mads):.3f} | {np.median(sds):.3f} | {walls.mean():.2f} s "
              f"| {int((mads < first).sum())} of {len(mads)} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
