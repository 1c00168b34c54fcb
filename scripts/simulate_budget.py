#!/usr/bin/env python
"""How many pairs ``ptbench ab``'s schedule decides within a budget: its own code
(``Alternation.fill``, ``judge_all``, ``confirm``) driven by simulated workers on a simulated
clock, so two policies can be compared on the very same draws (docs/ab.md quotes the output).
Seeded: the same output each run.

    .venv/bin/python scripts/simulate_budget.py [--from DIR] [--budgets 0 300 600 1200]
                                                [--repetitions 5] [--change 1.0]

The combinations are those of the A/B document in ``--from`` (default: the committed release
comparison; ``docs/ab-data/aa-linalg-2026-12-06`` holds an A/A run of the linalg default tier
on a noisy day). Each keeps its own noise: its spread (the robust standard deviation of its
recorded log pair ratios) with the heavy tails ``simulate_verdicts`` draws (8% of pairs from a
25% spread, 2% off by 2-10x), and its own cost: a round is taken to last
``ROUND_OVERHEAD_SECONDS`` plus ``CALLS_A_ROUND`` calls of at least ``SAMPLE_SECONDS`` (asv's
warm-up and samples), from the median time its rounds recorded. Deterministic tracks are
decided at once, as in a real run.

``--policy`` compares ``spread`` (every inconclusive combination refined each time, the
schedule before 2026-12-06) with ``affordable`` (what ``Alternation.confirm`` does now: the
combinations the budget can decide, cheapest first).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import simulate_verdicts

from ptbench.analysis import judgement, stats
from ptbench.analysis.ab import schedule

PROJECT = Path(__file__).resolve().parents[1]
ROUND_OVERHEAD_SECONDS = 0.15  # fork, inputs, check, asv's 0.1 s warm-up (measured 0.13-0.2 s)
CALLS_A_ROUND, SAMPLE_SECONDS = 7, 0.01  # the preparing call, the check, 5 samples of >= 10 ms
FACTOR = 1.1


class Clock:
    """The simulated ``time`` module the schedule reads."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class Noise:
    """One combination's simulated rounds: its spread, its cost, a true change."""

    def __init__(self, logs: np.ndarray, seconds: float, change: float, rng):
        spread = stats.robust_spread(logs)
        self.spread, self.change, self.rng = spread, change, rng
        self.exact = bool(np.all(logs == logs[0]))  # a track: the same value every round
        self.round_seconds = ROUND_OVERHEAD_SECONDS + CALLS_A_ROUND * max(seconds, SAMPLE_SECONDS)

    def ratio(self) -> float:
        if self.exact:
            return self.change
        log = simulate_verdicts.pair_logs(self.rng, 1, max(self.spread, 1e-3), self.change, 0.0)
        return math.exp(float(log[0]))


class SimulatedWorker:
    """A side's worker: the baseline reads 1, the contender the drawn ratio; each round
    advances the clock by its combination's round."""

    def __init__(self, side: int, noises: dict, clock: Clock):
        self.side, self.noises, self.clock = side, noises, clock

    def ask(self, request: dict) -> dict:
        if request["op"] == "sample":  # a lockstep round's further samples: its drawn value
            return {"status": "ok", "seconds": self.value}
        if request["op"] == "close":
            return {"status": "ok"}
        noise = self.noises[(request["benchmark"], tuple(request["params"]))]
        self.clock.now += noise.round_seconds  # the whole round, lockstep or not
        self.value = noise.ratio() if self.side else 1.0
        return {"status": "ok", "samples": [self.value], "number": 1}

    def close(self) -> None:
        pass


class SimulatedAlternation(schedule.Alternation):
    def __init__(self, noises: dict, clock: Clock, policy: str):
        super().__init__(("a", "b"), Path("."), "default", Path("."), progress=lambda _: None)
        self.noises, self.clock, self.policy = noises, clock, policy

    def start(self):
        self.clock.now += 2.0  # both workers import torch and the suite
        return [SimulatedWorker(side, self.noises, self.clock) for side in (0, 1)]


def recorded(document: Path) -> list[tuple[str, tuple, np.ndarray, float]]:
    """(benchmark, params, log pair ratios, median seconds) of each comparable combination."""
    found = []
    for pair in json.loads(document.read_text())["pairs"]:
        rounds = pair.get("rounds") or []
        logs = stats.paired_log_ratios(rounds)
        if pair["verdict"] != judgement.NOT_COMPARABLE and len(logs) >= 4:
            track = pair["benchmark"].rsplit(".", 1)[-1].startswith("track_")  # bytes, not s
            seconds = SAMPLE_SECONDS if track else statistics.median(v for p in rounds for v in p)
            found.append((pair["benchmark"], tuple(pair["params"]), logs, seconds))
    return found


def simulate(combos, budget: float, change: float, policy: str, seed: int) -> dict:
    """One whole comparison on the simulated clock: decided share and wall seconds."""
    rng, clock = np.random.default_rng(seed), Clock()
    noises = {(b, p): Noise(logs, s, change, rng) for b, p, logs, s in combos}
    alternation = SimulatedAlternation(noises, clock, policy)
    real_time, schedule.time = schedule.time, clock
    real_policy = schedule.Alternation.refine
    if policy == "spread":
        schedule.Alternation.refine = lambda self, pending, *_: pending
    try:
        combinations = [schedule.Combination(b, list(p)) for b, p, _, _ in combos]
        alternation.fill([(c, schedule.verdicts.INITIAL_PAIRS) for c in combinations])
        schedule.judge_all(combinations, FACTOR)
        alternation.confirm(combinations, FACTOR, budget)
    finally:
        schedule.time, schedule.Alternation.refine = real_time, real_policy
    verdicts = [c.verdict["verdict"] for c in combinations]
    return {"decided": judgement.decided_share(pd.Series(verdicts)),
            "slower": verdicts.count(judgement.SLOWER), "seconds": clock.now}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=PROJECT / "results")
    parser.add_argument("--budgets", type=float, nargs="+", default=[0, 300, 600, 1200])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--change", type=float, default=1.0, help="true ratio (default 1: A/A)")
    args = parser.parse_args()
    (document,) = sorted(args.source.glob("ab-*.json"))[-1:]
    combos = recorded(document)
    print(f"{len(combos)} combinations of {document.name}; true ratio {args.change}")
    print("| budget | policy | decided (mean of repetitions) | range | slower | wall |")
    print("|---|---|---|---|---|---|")
    for budget in args.budgets:
        for policy in ("spread", "affordable"):
            runs = [simulate(combos, budget, args.change, policy, seed)
                    for seed in range(args.repetitions)]  # fmt: skip
            shares = [r["decided"] for r in runs]
            print(
                f"| {budget:g} s | {policy} | {np.mean(shares):.1%} | "
                f"{min(shares):.1%}-{max(shares):.1%} | {sum(r['slower'] for r in runs)} | "
                f"{np.mean([r['seconds'] for r in runs]) / 60:.1f} min |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
