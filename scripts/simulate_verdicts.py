#!/usr/bin/env python
"""Simulate ``ptbench ab``'s judgement on rounds drawn like this machine's, to check its error
rates and choose its constants (docs/ab.md quotes the output). Seeded: the same output each run.

    .venv/bin/python scripts/simulate_verdicts.py [--combinations 2000] [--results results]

The noise of each simulated combination: its spread is drawn from the spreads of the committed
release comparison's combinations (the robust standard deviation of each one's log pair
ratios), and its pairs are heavy-tailed as measured there: 8% of pairs from a 25% spread and 2%
off by 2-10x either way (in the committed rounds, one pair in ten is off its combination's
median by more than 1.34x and one in a hundred by more than 3.8x). Each combination then goes
through ``ptbench ab``'s schedule: ``INITIAL_PAIRS`` clean pairs, a look, and doubling while
inconclusive, replacing the pairs set aside, up to ``MAX_PAIRS`` (``ab.schedule``'s rule).

Scenarios: A/A (no change); a change exactly at the factor (where "equivalent" is wrong, so it
must stay under 5%); 1.3x; 1.05x with ``--factor 1.03``; and A/A with one contender round in
twenty slowed 10x.

``--coverage`` instead checks the intervals themselves: how often a 99.8% interval misses the
true ratio, as a multiple of the 0.2% it may, for the candidates docs/ab.md compares (set-aside
floor 1.25 or 2; 20% or 15% trimming; Student's and the trimmed interval together), on normal
and heavy-tailed noise of A/A pairs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from ptbench.analysis import judgement, stats
from ptbench.analysis.ab import verdicts

PROJECT = Path(__file__).resolve().parents[1]
COMPARED = 415  # comparable pairs in the committed release comparison: the family's size


def spreads(results: Path) -> np.ndarray:
    """The robust standard deviation of each committed combination's log pair ratios."""
    found = []
    for path in sorted(results.glob("ab-*.json")):
        for pair in json.loads(path.read_text())["pairs"]:
            logs = stats.paired_log_ratios(pair.get("rounds", []))
            if len(logs) >= 4:
                found.append(stats.robust_spread(logs))
    return np.maximum(np.asarray(found), 1e-3)


def pair_logs(rng, count: int, spread: float, change: float, slowed_share: float) -> np.ndarray:
    """``count`` log pair ratios: the change, the core noise, the heavy tails, and contender
    rounds slowed 10x with probability ``slowed_share``."""
    logs = np.log(change) + rng.normal(0, spread, count)
    kind = rng.random(count)
    logs = np.where(kind < 0.08, np.log(change) + rng.normal(0, 0.25, count), logs)
    far = rng.choice([-1, 1], count) * np.log(rng.uniform(2, 10, count))
    logs = np.where(kind > 0.98, np.log(change) + far, logs)
    return logs + np.where(rng.random(count) < slowed_share, np.log(10), 0)


def replies(logs: np.ndarray) -> list[tuple[dict, dict]]:
    return [({"status": "ok", "value": 1.0}, {"status": "ok", "value": math.exp(v)}) for v in logs]


def schedule(rng, spread: float, change: float, factor: float, slowed: float) -> dict:
    """One combination through the schedule: clean pairs to each goal, a look at each."""
    rounds: list = []
    goal, verdict = verdicts.INITIAL_PAIRS, {}
    alpha = verdicts.per_test_alpha(COMPARED)
    for _look in range(verdicts.LOOKS):
        while verdicts.clean_pairs(rounds) < goal and len(rounds) < goal + goal // 2:
            rounds += replies(pair_logs(rng, 1, spread, change, slowed))
        verdict = verdicts.judge(rounds, factor, alpha)
        if verdict["verdict"] != judgement.INCONCLUSIVE or goal >= verdicts.MAX_PAIRS:
            break
        goal = min(verdicts.MAX_PAIRS, 2 * goal)
    return {**verdict, "rounds_taken": len(rounds)}


SCENARIOS = (  # name, true change, factor, share of contender rounds slowed 10x
    ("A/A", 1.0, 1.1, 0.0),
    ("change at the factor (1.10)", 1.1, 1.1, 0.0),
    ("1.3x", 1.3, 1.1, 0.0),
    ("1.05x, --factor 1.03", 1.05, 1.03, 0.0),
    ("A/A, 1 round in 20 slowed 10x", 1.0, 1.1, 0.05),
)


COVERAGE_CANDIDATES = (  # name, set-aside floor, trimmed share, trim from (pairs)
    ("mean of logs, floor 1.25", 1.25, 0.0, 10**9),
    ("mean of logs, floor 2", 2.0, 0.0, 10**9),
    ("20% trimmed from 5 pairs, floor 2", 2.0, 0.2, 5),
    ("15% trimmed from 8 pairs, floor 2", 2.0, 0.15, 8),
    ("Student's and 15% trimmed together from 8, floor 2 (chosen)", 2.0, None, 8),
)
NOISES = {
    "normal 0.1": lambda rng, n: rng.normal(0, 0.1, n),
    "heavy (15% at 0.5)": lambda rng, n: np.where(
        rng.random(n) < 0.15, rng.normal(0, 0.5, n), rng.normal(0, 0.05, n)
    ),
    "a noisy day (25% off by 1.15-2x)": lambda rng, n: np.where(
        rng.random(n) < 0.25,
        rng.choice([-1, 1], n) * rng.uniform(0.15, 0.7, n),
        rng.normal(0, 0.03, n),
    ),
}


def miss_ratio(rng, noise, count, floor, trim, trim_from, draws, alpha=0.002) -> float:
    """How often the 1 - alpha interval misses the true ratio (1), over alpha."""
    missed = 0
    for _ in range(draws):
        logs = noise(rng, count)
        aside = stats.disturbed_rounds(logs, verdicts.OUTLIER_SIGMAS, floor, 0.25)
        kept = logs[~aside]
        if trim is None:  # what verdicts.judge does
            _, low, high, _ = stats.combined_paired_ratio(kept, alpha)
        elif trim and len(kept) >= trim_from:
            _, low, high, _ = stats.trimmed_paired_ratio(kept, alpha, trim, trim_from)
        else:
            _, low, high, _ = stats.paired_ratio(kept, alpha)
        missed += not low <= 1 <= high
    return missed / draws / alpha


def coverage(draws: int) -> None:
    counts = (4, 5, 8, 10, 16, 32)
    print("| candidate | noise | " + " | ".join(f"{n} pairs" for n in counts) + " |")
    print("|---|---|" + "---|" * len(counts))
    for name, floor, trim, trim_from in COVERAGE_CANDIDATES:
        for noise_name, noise in NOISES.items():
            rng = np.random.default_rng(3)
            ratios = [miss_ratio(rng, noise, n, floor, trim, trim_from, draws) for n in counts]
            print(f"| {name} | {noise_name} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |",
                  flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--combinations", type=int, default=2000)
    parser.add_argument("--results", type=Path, default=PROJECT / "results")
    parser.add_argument("--coverage", action="store_true", help="check the intervals instead")
    parser.add_argument("--draws", type=int, default=20000, help="per cell of --coverage")
    args = parser.parse_args()
    if args.coverage:
        coverage(args.draws)
        return 0
    observed = spreads(args.results)
    print(f"spreads of {len(observed)} committed combinations: median {np.median(observed):.3f}")
    print("| scenario | slower | faster | equivalent | inconclusive | median pairs | mean pairs |")
    print("|---|---|---|---|---|---|---|")
    for name, change, factor, slowed in SCENARIOS:
        rng = np.random.default_rng(20261201)
        runs = [
            schedule(rng, float(rng.choice(observed)), change, factor, slowed)
            for _ in range(args.combinations)
        ]
        shares = {v: sum(r["verdict"] == v for r in runs) / len(runs) for v in judgement.ORDER}
        taken = [r["rounds_taken"] for r in runs]
        print(
            f"| {name} | {shares['slower']:.2%} | {shares['faster']:.2%} | "
            f"{shares['equivalent']:.1%} | {shares['inconclusive']:.1%} | "
            f"{np.median(taken):.0f} | {np.mean(taken):.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
