#!/usr/bin/env python
"""Which number should stand for an ``ab`` round? Measured on the same rounds, so every
candidate sees the same machine: for each combination, ``--pairs`` A/A pairs of forked rounds
(asv-runner's ``TimeBenchmark.run`` under the default tier, as ``ptbench ab`` times them), and
the spread (1.4826 x the MAD, and the standard deviation) of the pairs' log ratios when a round
is read as the median of its samples (what ``ab`` uses), their minimum (BenchmarkTools.jl's
choice for noise that only ever adds time), their mean, or their second smallest.

    .venv/bin/python scripts/round_statistics.py [--bench REGEX] [--pairs 8]
"""

from __future__ import annotations

import numpy as np
from round_designs import BENCHMARKS, spread, time_combinations

from ptbench.analysis.ab import worker

SELECTION = (r"bench_linalg\.time_(eigh|svd|matmul|solve)\('cpu', (64|256),"
             r"|bench_updates\.time_sgd_step\('cpu', (1024|131072)\)"
             r"|bench_autograd\.time_backward\('cpu', (1024|131072),"
             r"|bench_indexing\.time_masked_select\('cpu', (1024|65536|4194304)")  # fmt: skip
STATISTICS = {
    "median (ab's)": np.median,
    "minimum": np.min,
    "mean": np.mean,
    "second smallest": lambda samples: np.sort(samples)[min(1, len(samples) - 1)],
}


def rounds(combination: dict, count: int) -> list[list[float]] | None:
    """``count`` rounds' samples, one forked process each; None if a round did not run."""
    found = []
    for _ in range(count):
        reply = worker.forked_round(BENCHMARKS, "default", combination["benchmark"],
                                    combination["params"])  # fmt: skip
        if reply["status"] != "ok":
            return None
        found.append(reply["samples"])
    return found


def spreads(samples: list[list[float]]) -> dict[str, tuple[float, float]]:
    """Per statistic: (MAD spread, SD spread) of the log ratios of consecutive rounds."""
    found = {}
    for name, statistic in STATISTICS.items():
        values = [statistic(s) for s in samples]
        found[name] = spread(np.log(np.array(values[1::2]) / np.array(values[0::2])))
    return found


def main() -> int:
    combinations, pairs = time_combinations(__doc__.split("\n\n")[0], SELECTION)
    measured = []
    for combination in combinations:
        samples = rounds(combination, 2 * pairs)
        if samples:
            measured.append(spreads(samples))
            print(combination["benchmark"], tuple(combination["params"]), flush=True)
    print(f"\n{len(measured)} combinations, {pairs} A/A pairs each, the same rounds:\n")
    print("| a round's number | median spread (MAD) | quartiles | median spread (SD) "
          "| narrower than the median's |")  # fmt: skip
    print("|---|---|---|---|---|")
    first = np.array([row[next(iter(STATISTICS))][0] for row in measured])
    for name in STATISTICS:
        mads, sds = (np.array([row[name][i] for row in measured]) for i in (0, 1))
        print(f"| {name} | {np.median(mads):.3f} | {np.quantile(mads, 0.25):.3f}-"
              f"{np.quantile(mads, 0.75):.3f} | {np.median(sds):.3f} "
              f"| {int((mads < first).sum())} of {len(mads)} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
