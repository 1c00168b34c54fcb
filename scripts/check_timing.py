#!/usr/bin/env python
"""Does the suite time what torch.utils.benchmark times? Prints one ratio per operation.

Each case is timed two ways on the same prepared inputs (the suite's own cached call):
- through the suite: asv-runner's ``TimeBenchmark.run``, the code an asv benchmark process runs;
- with ``torch.utils.benchmark.Timer.blocked_autorange`` at the same thread count.
The two alternate, in swapped order each round, and torch.utils.benchmark gets as long a window
as the suite took in that round, so noise episodes on a shared machine (here a solve flips
between ~390 and ~600 us for tenths of a second) hit both alike.
The ratio is the suite's median over torch.utils.benchmark's median, all samples pooled.
Target: 0.9..1.1 for every operation of 20 us or more on the CPU.

    .venv/bin/python scripts/check_timing.py [--rounds 10] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.utils.benchmark as torch_benchmark

from ptbench.suite import declare as suite

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT / "benchmarks"
JUDGED_ABOVE_SECONDS = 20e-6
TARGET = (0.9, 1.1)

# (benchmark, params after the device): long enough to judge, and a few tiny ones for contrast.
CASES = [
    ("bench_elementwise.time_multiply", (524288,)),
    ("bench_elementwise.time_sum", (4194304,)),
    ("bench_shape.time_cat", (524288,)),
    ("bench_indexing.time_masked_select", (65536,)),
    ("bench_linalg.time_matmul", (256, "float32")),
    ("bench_linalg.time_solve", (256, "float64", "cholesky")),
    ("bench_linalg.time_solve", (256, "float64", "lu")),
    ("bench_linalg.time_eigh", (64, "float64")),
    ("bench_autograd.time_backward", (65536, "x_cubed")),
    ("bench_autograd.time_mlp_forward_backward", (128,)),
    ("bench_updates.time_update", (524288, "out_of_place")),
    ("bench_elementwise.time_sum", (16,)),
    ("bench_updates.time_update", (16, "sub_alpha")),
]


def time_with_suite(benchmark) -> tuple[list[float], float]:
    """The samples asv-runner records, and the wall time it took to take them."""
    start = time.perf_counter()
    samples = benchmark.run(*benchmark._current_params)["samples"]
    return samples, time.perf_counter() - start


def time_with_torch(call, min_run_time: float) -> list[float]:
    timer = torch_benchmark.Timer(
        stmt="call()", globals={"call": call}, num_threads=torch.get_num_threads()
    )
    return list(timer.blocked_autorange(min_run_time=min_run_time).times)


@dataclass
class Comparison:
    """One combination timed both ways, in equal windows (the suite's wall time per run)."""

    label: str
    benchmark: object
    call: object
    window: float
    suite_samples: list[float] = field(default_factory=list)
    torch_samples: list[float] = field(default_factory=list)

    def time_suite(self) -> None:
        samples, self.window = time_with_suite(self.benchmark)
        self.suite_samples += samples

    def time_torch(self) -> None:
        self.torch_samples += time_with_torch(self.call, self.window)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT))

    cases = []
    for name, rest in CASES:
        params = (args.device, *rest)
        benchmark = suite.asv_benchmark(BENCHMARKS, name, params)
        call = benchmark.func.prepared_call(params)  # the very call asv times
        _samples, window = time_with_suite(benchmark)  # calibration run: sets the window
        cases.append(Comparison(f"{name.split('.')[-1]}{params}", benchmark, call, window))

    for round_index in range(args.rounds):
        for case in cases:
            steps = [case.time_suite, case.time_torch]
            for step in steps if round_index % 2 == 0 else reversed(steps):
                step()

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
        f"{args.rounds} interleaved rounds"
    )
    print(f"{'operation':58} {'suite':>10} {'torch.utils':>12} {'ratio':>7}")
    judged = failed = 0
    for case in cases:
        suite_median = statistics.median(case.suite_samples)
        torch_median = statistics.median(case.torch_samples)
        ratio = suite_median / torch_median
        verdict = ""
        if torch_median >= JUDGED_ABOVE_SECONDS:
            judged += 1
            ok = TARGET[0] <= ratio <= TARGET[1]
            failed += not ok
            verdict = "ok" if ok else "OUTSIDE 0.9..1.1"
        else:
            verdict = "(under 20 us: not judged)"
        print(
            f"{case.label:58} {suite_median * 1e6:8.2f}us {torch_median * 1e6:10.2f}us "
            f"{ratio:7.3f} {verdict}"
        )
    print(
        f"{judged - failed} of {judged} operations of 20 us or more within {TARGET[0]}..{TARGET[1]}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
