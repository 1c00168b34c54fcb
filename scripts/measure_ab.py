#!/usr/bin/env python
"""Measure what ``ptbench ab`` promises: A/A equivalence, power against known slowdowns,
robustness to disturbed rounds, cost.

Every figure comes from ``ptbench ab`` (and ``ptbench run``) run as a user runs them, on this
machine, in one go; nothing is compared across days. Prints markdown tables (docs/ab.md quotes
them); ``all`` runs every measurement one after another.

    .venv/bin/python scripts/measure_ab.py aa         [--repetitions 3] [--budget 600]
    .venv/bin/python scripts/measure_ab.py power      [--trials 5]   # or: cholesky, eigh
    .venv/bin/python scripts/measure_ab.py disturbed  [--trials 5]
    .venv/bin/python scripts/measure_ab.py cost
    .venv/bin/python scripts/measure_ab.py all

- aa: both sides this environment, default tier of linalg, autograd and updates on the CPU.
  Expect 0 slower and at least 90% of comparable pairs equivalent at --factor 1.1.
- power: throwaway contenders (``scripts/slowed_env.py``). (1) ``torch.linalg.cholesky`` 1.3x
  slower, the solves at n = 256 and 1,024: the methods that call it (``cholesky``,
  ``cholesky_triangular``) must be flagged in every trial, the others never. (2)
  ``torch.linalg.eigh`` 1.05x slower, judged with ``--factor 1.03``, the float64 decompositions
  at n = 64 and 256: ``time_eigh`` (one call of it, 100 us or more) flagged in at least 4 of 5
  trials with its estimate within 3% of 1.05; eig, svd and svdvals never.
- disturbed: the contender is this environment with one round in twenty slowed 10x (every
  ``torch.linalg.cholesky`` call of a round's process), the same solves: no pair may be flagged,
  and the verdicts must be those of the A/A run of the same selection measured before it (a
  second A/A run at the end says how many verdicts two runs without injection tell apart).
- cost: wall time of ``ptbench ab`` on the linalg default tier against two ``ptbench run``s of
  the same selection one after the other, and the share of its pairs decided.
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
SOLVES = r"time_solve\('cpu', (256|1024), "
CALLS_CHOLESKY = ("cholesky", "cholesky_triangular")
DECOMPOSITIONS = r"time_(eigh|eig|svd|svdvals)\('cpu', (64|256), 'float64'\)"
CALLS_EIGH = "bench_linalg.time_eigh"
COST_SELECTION = r"^bench_linalg\."
JUDGED_ABOVE_SECONDS = 100e-6
KEEP: Path | None = None  # --keep DIR


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
    if KEEP:  # every document, for a closer look afterwards
        KEEP.mkdir(parents=True, exist_ok=True)
        (KEEP / f"{results.name}-{path.name}").write_text(path.read_text())
    return {**json.loads(path.read_text()), "status": status, "seconds": seconds}


def comparable(document: dict) -> list[dict]:
    return [pair for pair in document["pairs"] if pair["verdict"] != "not comparable"]


def count(pairs: list[dict], verdict: str) -> int:
    return sum(pair["verdict"] == verdict for pair in pairs)


def flagged(pairs: list[dict]) -> int:
    return count(pairs, "slower") + count(pairs, "faster")


def shares(document: dict) -> str:
    """slower | faster | equivalent | inconclusive (share of comparable pairs) | decided."""
    pairs = comparable(document)
    equivalent, inconclusive = count(pairs, "equivalent"), count(pairs, "inconclusive")
    decided = 1 - inconclusive / len(pairs) if pairs else float("nan")
    return (
        f"{count(pairs, 'slower')} | {count(pairs, 'faster')} | {equivalent} "
        f"({equivalent / max(len(pairs), 1):.0%}) | {inconclusive} | {decided:.0%}"
    )


def measure_aa(repetitions: int, budget: float, scratch: Path) -> None:
    print("\n### A/A\n")
    print("| repetition | comparable pairs | slower | faster | equivalent | inconclusive | "
          "decided | rounds | exit | wall | noise |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for repetition in range(1, repetitions + 1):
        document = ab(sys.executable, sys.executable, AA_SELECTION, scratch / f"aa{repetition}",
                      budget)  # fmt: skip
        print(
            f"| {repetition} | {len(comparable(document))} | {shares(document)} "
            f"| {rounds(document)} | {document['status']} | {document['seconds']:.0f} s "
            f"| {document['noise']['noise']} |",
            flush=True,
        )


def rounds(document: dict) -> int:
    return sum(len(pair["rounds"]) for pair in document["pairs"])


def _method(pair: dict) -> str:
    return pair["params"][3]


def measure_cholesky(trials: int, budget: float, scratch: Path) -> None:
    contender = slowed_env.make(scratch / "cholesky-1.3", sys.executable,
                                "torch.linalg.cholesky", 1.3)  # fmt: skip
    print("\n### torch.linalg.cholesky 1.3x slower, solves at n = 256 and 1,024 (--factor 1.1)\n")
    print("| trial | callers flagged slower | their estimates | others flagged | exit | wall |")
    print("|---|---|---|---|---|---|")
    for trial in range(1, trials + 1):
        document = ab(sys.executable, str(contender), SOLVES, scratch / f"chol-{trial}", budget)
        calls = [p for p in document["pairs"] if _method(p) in CALLS_CHOLESKY]
        others = [p for p in comparable(document) if _method(p) not in CALLS_CHOLESKY]
        estimates = ", ".join(f"{p['ratio']:.2f}" for p in calls)
        _power_row(trial, calls, estimates, others, document)


def _power_row(trial: int, calls: list, estimates: str, others: list, document: dict) -> None:
    """trial | callers flagged slower | their estimates | others flagged | exit | wall."""
    print(
        f"| {trial} | {count(calls, 'slower')} of {len(calls)} | {estimates} "
        f"| {flagged(others)} of {len(others)} | {document['status']} "
        f"| {document['seconds']:.0f} s |",
        flush=True,
    )


def measure_eigh(trials: int, budget: float, scratch: Path) -> None:
    contender = slowed_env.make(scratch / "eigh-1.05", sys.executable, "torch.linalg.eigh", 1.05)
    print("\n### torch.linalg.eigh 1.05x slower, float64 decompositions, --factor 1.03\n")
    print("| trial | eigh >= 100 us flagged | eigh estimates (n = 64, 256) | others flagged "
          "| exit | wall |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for trial in range(1, trials + 1):
        document = ab(sys.executable, str(contender), DECOMPOSITIONS, scratch / f"eigh-{trial}",
                      budget, "--factor", "1.03")  # fmt: skip
        calls = sorted((p for p in document["pairs"] if p["benchmark"] == CALLS_EIGH),
                       key=lambda p: p["params"][1])  # fmt: skip
        long = [p for p in calls if _baseline_seconds(p) >= JUDGED_ABOVE_SECONDS]
        others = [p for p in comparable(document) if p["benchmark"] != CALLS_EIGH]
        estimates = ", ".join(
            f"{p['ratio']:.3f} [{p['ratio_low']:.3f}, {p['ratio_high']:.3f}]" for p in calls
        )
        _power_row(trial, long, estimates, others, document)


def measure_disturbed(trials: int, budget: float, scratch: Path) -> None:
    contender = slowed_env.make(scratch / "one-in-20", sys.executable, "torch.linalg.cholesky",
                                10.0, round_share=0.05)  # fmt: skip
    print("\n### One contender round in twenty 10x slower (every cholesky call in it), solves\n")
    print("| run | comparable pairs | slower | faster | equivalent | inconclusive | decided "
          "| pairs with a round set aside | verdicts unlike the A/A run | exit | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    reference = ab(sys.executable, sys.executable, SOLVES, scratch / "dist-aa", budget)
    _disturbed_row("A/A (no injection)", reference, reference)
    for trial in range(1, trials + 1):
        document = ab(sys.executable, str(contender), SOLVES, scratch / f"dist-{trial}", budget)
        _disturbed_row(f"injected {trial}", document, reference)
    # A second A/A run: how many verdicts two runs without any injection tell apart (the floor).
    again = ab(sys.executable, sys.executable, SOLVES, scratch / "dist-aa2", budget)
    _disturbed_row("A/A again (no injection)", again, reference)


def _disturbed_row(name: str, document: dict, reference: dict) -> None:
    before = {(p["benchmark"], tuple(p["params"])): p["verdict"] for p in reference["pairs"]}
    changed = sum(before.get((p["benchmark"], tuple(p["params"]))) != p["verdict"]
                  for p in document["pairs"])  # fmt: skip
    aside = sum(bool(p.get("set_aside")) for p in document["pairs"])
    print(
        f"| {name} | {len(comparable(document))} | {shares(document)} | {aside} | {changed} "
        f"| {document['status']} | {document['seconds']:.0f} s |",
        flush=True,
    )


def _baseline_seconds(pair: dict) -> float:
    return statistics.median(base for base, _cont in pair["rounds"])


def measure_cost(budget: float, scratch: Path) -> None:
    print("\n### Cost: linalg default tier\n")
    sequential = 0.0
    for run in (1, 2):
        status, seconds = ptbench(
            "run", "--tier", "default", "--bench", COST_SELECTION, "--device", "cpu",
            "--results", scratch / f"run{run}",
        )  # fmt: skip
        sequential += seconds
        print(f"- `ptbench run` #{run}: {seconds:.0f} s (exit {status})")
    document = ab(sys.executable, sys.executable, COST_SELECTION, scratch / "cost-ab", budget)
    print(
        f"- `ptbench ab --budget {budget:g}` (A/A): {document['seconds']:.0f} s, "
        f"{document['seconds'] / sequential:.2f}x the two sequential runs ({sequential:.0f} s); "
        f"slower | faster | equivalent | inconclusive | decided: {shares(document)}; "
        f"{rounds(document)} rounds",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", choices=["aa", "power", "cholesky", "eigh", "disturbed", "cost", "all"]
    )
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--budget", type=float, default=600)
    parser.add_argument("--keep", type=Path, help="copy every ab document into this folder")
    args = parser.parse_args()
    global KEEP
    KEEP = args.keep
    with tempfile.TemporaryDirectory(prefix="ptbench-measure-ab-") as scratch_name:
        scratch = Path(scratch_name)
        if args.what in ("cost", "all"):
            measure_cost(args.budget, scratch)
        if args.what in ("power", "cholesky", "all"):
            measure_cholesky(args.trials, args.budget, scratch)
        if args.what in ("power", "eigh", "all"):
            measure_eigh(args.trials, args.budget, scratch)
        if args.what in ("disturbed", "all"):
            measure_disturbed(args.trials, args.budget, scratch)
        if args.what in ("aa", "all"):
            measure_aa(args.repetitions, args.budget, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
