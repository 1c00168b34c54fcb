#!/usr/bin/env python
"""Measure what ``ptbench ab`` promises: A/A false alarms, power against known slowdowns, cost.

Every figure comes from ``ptbench ab`` (and ``ptbench run``) run as a user runs them, on this
machine, in one go; nothing is compared across days. Prints a markdown summary (docs/ab.md
quotes it).

    .venv/bin/python scripts/measure_ab.py aa     [--repetitions 3]
    .venv/bin/python scripts/measure_ab.py power  [--factors 1.10 1.25] [--trials 3]
    .venv/bin/python scripts/measure_ab.py cost

- aa: both sides this environment, default tier of linalg, autograd and updates on the CPU.
  Expect 0 confirmed regressions; reports the share of pairs called slower or faster.
- power: the contender is a throwaway environment with ``torch.linalg.eigh`` slowed by each
  factor (``scripts/slowed_env.py``); the float64 decompositions at n = 64 and 256. ``time_eigh``
  is one call of the slowed function, so its ratio should come out at the factor; ``time_eig``,
  ``time_svd`` and ``time_svdvals`` do not call it and must never be flagged. Judged with
  ``--factor 1.05``: a 10% slowdown is what a user who asks for 5% sensitivity wants caught.
- cost: wall time of ``ptbench ab`` on the linalg default tier (without and with confirmation)
  against two ``ptbench run``s of the same selection one after the other.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import slowed_env

PROJECT = Path(__file__).resolve().parents[1]
AA_SELECTION = r"^bench_(linalg|autograd|updates)\."
POWER_SELECTION = r"time_(eigh|eig|svd|svdvals)\('cpu', (64|256), 'float64'\)"
SLOWED = "torch.linalg.eigh"
CALLS_SLOWED = "bench_linalg.time_eigh"
POWER_FACTOR = 1.05
COST_SELECTION = r"^bench_linalg\."
JUDGED_ABOVE_SECONDS = 100e-6


def ptbench(*arguments: str) -> tuple[int, float]:
    """Run the ptbench command; (exit status, wall seconds). Its output goes to the log."""
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "ptbench.cli", *map(str, arguments)],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
        check=False,
    )
    return completed.returncode, time.perf_counter() - start


def ab(
    baseline: str, contender: str, selection: str, results: Path, budget: float, *options: str
) -> dict:
    """One ``ptbench ab`` run; its document, with the exit status and wall time added."""
    status, seconds = ptbench(
        "ab", "--baseline", baseline, "--contender", contender, "--bench", selection,
        "--device", "cpu", "--budget", budget, "--results", results, *options,
    )  # fmt: skip
    (path,) = results.glob("ab-*.json")
    return {**json.loads(path.read_text()), "status": status, "seconds": seconds}


def judged(document: dict) -> list[dict]:
    return [pair for pair in document["pairs"] if pair["verdict"] != "not comparable"]


def count(pairs: list[dict], verdict: str) -> int:
    return sum(pair["verdict"] == verdict for pair in pairs)


def measure_aa(repetitions: int, budget: float, scratch: Path) -> None:
    print("| repetition | pairs | slower | faster | undecided | exit | wall | noise |")
    print("|---|---|---|---|---|---|---|---|")
    alarms = compared = 0
    for repetition in range(1, repetitions + 1):
        document = ab(sys.executable, sys.executable, AA_SELECTION, scratch / f"aa{repetition}",
                      budget)  # fmt: skip
        pairs = judged(document)
        slower, faster = count(pairs, "slower"), count(pairs, "faster")
        alarms, compared = alarms + slower + faster, compared + len(pairs)
        print(
            f"| {repetition} | {len(pairs)} | {slower} | {faster} | {count(pairs, 'undecided')} "
            f"| {document['status']} | {document['seconds']:.0f} s | {document['noise']['noise']} |"
        )
    print(f"\nPer-pair false-alarm rate: {alarms} of {compared} = {alarms / compared:.4f}")


def _size(pair: dict) -> int:
    return pair["params"][1]


def measure_power(factors: list[float], trials: int, budget: float, scratch: Path) -> None:
    print("| injected | trial | eigh flagged | eigh >= 100 us flagged | eigh estimates "
          "(n = 64, 256) | others flagged | exit | wall |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for factor in factors:
        contender = slowed_env.make(scratch / f"slowed-{factor}", sys.executable, SLOWED, factor)
        for trial in range(1, trials + 1):
            results = scratch / f"power-{factor}-{trial}"
            document = ab(sys.executable, str(contender), POWER_SELECTION, results, budget,
                          "--factor", str(POWER_FACTOR))  # fmt: skip
            calls = sorted(
                (p for p in document["pairs"] if p["benchmark"] == CALLS_SLOWED), key=_size
            )
            others = [p for p in document["pairs"] if p["benchmark"] != CALLS_SLOWED]
            long = [p for p in calls if _baseline_seconds(p) >= JUDGED_ABOVE_SECONDS]
            estimates = ", ".join(
                f"{p['ratio']:.3f} [{p['ratio_low']:.2f}, {p['ratio_high']:.2f}]" for p in calls
            )
            print(
                f"| {factor} | {trial} | {count(calls, 'slower')} of {len(calls)} "
                f"| {count(long, 'slower')} of {len(long)} | {estimates} "
                f"| {count(others, 'slower') + count(others, 'faster')} of {len(others)} "
                f"| {document['status']} | {document['seconds']:.0f} s |",
                flush=True,
            )


def _baseline_seconds(pair: dict) -> float:
    return statistics.median(base for base, _cont in pair["rounds"])


def measure_cost(scratch: Path) -> None:
    sequential = 0.0
    for run in (1, 2):
        status, seconds = ptbench(
            "run", "--tier", "default", "--bench", COST_SELECTION, "--device", "cpu",
            "--results", scratch / f"run{run}",
        )  # fmt: skip
        sequential += seconds
        print(f"ptbench run #{run}: {seconds:.0f} s (exit {status})")
    for budget in (0, 600):
        document = ab(sys.executable, sys.executable, COST_SELECTION,
                      scratch / f"cost-ab-{budget}", budget)  # fmt: skip
        print(
            f"ptbench ab --budget {budget}: {document['seconds']:.0f} s, "
            f"{document['seconds'] / sequential:.2f}x the two sequential runs ({sequential:.0f} s)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["aa", "power", "cost"])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--factors", type=float, nargs="+", default=[1.10, 1.25])
    parser.add_argument("--budget", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ptbench-measure-ab-") as scratch_name:
        scratch = Path(scratch_name)
        if args.what == "aa":
            measure_aa(args.repetitions, args.budget, scratch)
        elif args.what == "power":
            measure_power(args.factors, args.trials, args.budget, scratch)
        else:
            measure_cost(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
