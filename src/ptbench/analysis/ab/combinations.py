"""What ``ab`` knows of each combination, and which to give more pairs: its paired rounds,
its verdict, a guess of the seconds that would decide it (``Combination.seconds_to_decide``),
the choice of what the budget can decide (``affordable``) and judging them all at a look
(``judge_all``). ``schedule`` runs the rounds; this module decides nothing about processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ptbench.analysis.ab import verdicts
from ptbench.core.schema import INCONCLUSIVE


@dataclass
class Combination:
    """One benchmark x params, and its paired rounds: (baseline reply, contender reply)."""

    benchmark: str
    params: list
    rounds: list[tuple[dict, dict]] = field(default_factory=list)
    looks: int = 0
    verdict: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of its rounds so far

    @property
    def runs_on_both(self) -> bool:
        return all(reply["status"] == "ok" for pair in self.rounds for reply in pair)

    def wants_more(self, goal: int) -> bool:
        """Below ``goal`` clean pairs (with room for replacing disturbed ones), and not
        skipped or failed on a side (no ratio to refine)."""
        if not self.rounds:
            return True
        if not self.runs_on_both or len(self.rounds) >= goal + goal // 2:
            return False
        return verdicts.clean_pairs(self.rounds) < goal

    def seconds_to_decide(self, factor: float, alpha: float) -> float:
        """A guess at the seconds of rounds that would decide it: the fewest pairs (doubling,
        as confirmation does) at which an interval as wide as its spread says would clear 1
        (the regression interval, when the pairs' median is past the factor) or fit inside the
        factor (the equivalence interval, when it is not), times the seconds a pair takes;
        the spread is the interval's or the pairs' robust one, the smaller. The t quantile
        falls fast with the pairs (about 30 at 4 pairs, 8 at 8, for a family of
        30), so a regression is often only a few pairs from confirmed. Infinite if no count up
        to ``MAX_PAIRS`` would do."""
        judged, pairs = self.verdict, verdicts.clean_pairs(self.rounds)
        ratio = judged.get("ratio")
        if pairs < 2 or not (isinstance(ratio, float) and ratio > 0 and math.isfinite(ratio)):
            return math.inf
        # Where more pairs will centre: the pairs' median, not the estimate of 4 pairs that
        # one pair off by 1.3x drags past the factor (an A/A run's eigh read [0.03, -0.02,
        # 0.30, 0.05]: a mean of 1.09x, "never decidable", left at 4 pairs while the budget
        # went to 32 pairs of a bimodal one).
        distance = abs(verdicts.robust_centre(self.rounds))
        route = "ratio" if distance > math.log(factor) else "equivalence"
        level = (lambda _pairs: alpha) if route == "ratio" else verdicts.equivalence_interval_alpha
        low, high = judged[f"{route}_low"], judged[f"{route}_high"]
        room = distance if route == "ratio" else math.log(factor) - distance
        if not (low > 0 and math.isfinite(high) and room > 0):
            return math.inf
        halved = route == "ratio"  # the regression interval is two, each at half the rate
        width = math.log(high / low) / 2
        spread = width / verdicts.half_width_per_spread(pairs, level(pairs), halved)
        # A pair off by tens of percent widens the interval of 4 pairs far more than the
        # trimmed interval of 8 or more will be: the pairs' robust spread, if smaller.
        spread = min(spread, verdicts.robust_spread(self.rounds) or spread)
        goal = pairs
        while goal < verdicts.MAX_PAIRS:
            goal = min(verdicts.MAX_PAIRS, 2 * goal)
            if spread * verdicts.half_width_per_spread(goal, level(goal), halved) < room:
                return (goal - pairs) * self.seconds / max(len(self.rounds), 1)
        return math.inf


def affordable(pending: list[Combination], guesses: dict, seconds_left: float):
    """Which of ``pending`` (cheapest to decide first) to refine now: those whose guessed
    seconds to a decision fit, together, in what is left of the budget. Spreading the budget
    over every inconclusive combination gave each a pair or two and decided few; spending it
    where it can decide decides more (``scripts/simulate_budget.py``, docs/ab.md). When none
    fits, the cheapest alone (the guess is rough); when no count of pairs is guessed to decide
    any of them, all of them, so the budget still narrows what each could detect."""
    chosen, planned = [], 0.0
    for combination in pending:
        planned += guesses[id(combination)]
        if planned > seconds_left:
            break
        chosen.append(combination)
    if chosen:
        return chosen
    return pending[:1] if math.isfinite(guesses[id(pending[0])]) else pending


def refinable(combination: Combination) -> bool:
    """Inconclusive, run on both sides, and with pairs and looks left to give it."""
    return (
        combination.verdict.get("verdict") == INCONCLUSIVE
        and combination.runs_on_both
        and len(combination.rounds) < verdicts.MAX_PAIRS
        and combination.looks < verdicts.LOOKS
    )


def judge_all(
    combinations: list[Combination],
    factor: float,
    disturbed: str | None = None,
    looked_at: list[Combination] | None = None,
) -> None:
    """Judge every combination at the family's per-test level; ``looked_at`` (default: all)
    are those with new rounds since their last judgement: a look each."""
    alpha = verdicts.per_test_alpha(sum(c.runs_on_both for c in combinations))
    for combination in looked_at if looked_at is not None else combinations:
        combination.looks += 1
    for combination in combinations:
        combination.verdict = verdicts.judge(combination.rounds, factor, alpha, disturbed)
