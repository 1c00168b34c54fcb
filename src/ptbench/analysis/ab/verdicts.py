"""Verdicts from paired rounds: set disturbed rounds aside, then two intervals, then one verdict.

Each combination has rounds in pairs, one baseline and one contender process back to back (in
ABBA order, so linear drift cancels over two pairs). Its judgement (docs/ab.md says why each
choice, with the figures that decided it):

1. **Disturbed rounds are set aside.** A pair whose log ratio is far from its siblings'
   (``stats.disturbed_rounds``: more than 5 robust standard deviations and more than 2x from
   the median, at most a quarter of the pairs) holds a round that something else on the machine
   slowed; it is kept in the document, left out of the estimate, and the schedule measures a
   replacement pair. One 10x round among eight no longer turns a 1.3x regression into nothing.
2. **Estimate and intervals:** below 8 pairs, the mean of the remaining pairs' log ratios with
   Student's t (``stats.paired_ratio``; Kalibera & Jones, ISMM 2013). From 8 pairs on, pairs
   off by 10-90% (a quarter of them on a noisy day here) must not inflate the spread several
   times over: the 15%-trimmed mean's Tukey-McLaughlin (Yuen) t interval
   (``stats.trimmed_paired_ratio``) is the equivalence interval, and the regression interval
   is that one and Student's together, each at half the error rate, intersected
   (``stats.combined_paired_ratio``), so quiet pairs keep Student's degrees of freedom where a
   family's tiny error rate makes each one count. Judged on real rounds, a noisy day's and a
   quiet day's, this decides and confirms the most (``scripts/verdicts_on_rounds.py``,
   docs/ab.md).
3. **Two error rates, one for each claim** (``analysis.judgement`` turns them into verdicts):
   - ``slower``/``faster`` fail a build: the *regression interval* is a ``1 - FAMILY_ALPHA /
     (m * LOOKS)`` interval (Bonferroni over the ``m`` comparable pairs and every look that
     confirmation takes), so the chance of even one false regression in a comparison is at most
     1%, however many rounds confirmation adds;
   - ``equivalent`` misses a regression when wrong: the *equivalence interval* is a
     ``1 - 2 * alpha_k`` interval at look ``k`` (TOST at ``alpha_k``), where the looks' rates
     ``EQUIVALENCE_ALPHA * EQUIVALENCE_LOOK_SHARES`` add up to 5% per pair (Bonferroni with
     weights fixed in advance), so a pair that changed by more than the factor is called
     equivalent at most 5% of the time. The first look, where most pairs are decided since
     both sides of a pair share a CPU, gets 3% of it (a 94% interval), each later look 0.5%
     (99%): ``equivalence_interval_alpha``.
4. A pair from a run the noise guard found contended (other work on the CPUs, hypervisor
   steal, a throttled GPU: ``noise.contended``) is never a regression (``judgement``); a
   calibration workload that changed from start to end alone is recorded, not held against the
   pairs, whose back-to-back rounds cancel such drift.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
from scipy.special import stdtrit

from ptbench.analysis import judgement, stats
from ptbench.core.schema import STATUS_FAILED, STATUS_OK, STATUS_SKIPPED

# The judgement model a document's verdicts come from; documents of an earlier model (1: verdicts
# "same" and "undecided", before ``ptbench.analysis.judgement``; 2: the trimmed interval alone,
# from 16 pairs; 3: the equivalence error rate split equally over the looks) are judged again
# from their rounds.
JUDGEMENT_MODEL = 4
FAMILY_ALPHA = 0.01  # the chance of any false slower/faster in one comparison
EQUIVALENCE_ALPHA = 0.05  # per pair: the chance of "equivalent" for a pair that changed
INITIAL_PAIRS = 4  # two ABBA quads
MAX_PAIRS = 64  # confirmation doubles the pairs: 4, 8, 16, 32, 64
LOOKS = 1 + int(math.log2(MAX_PAIRS // INITIAL_PAIRS))
# Disturbed rounds (stats.disturbed_rounds): how far from the siblings, and how many at most.
OUTLIER_SIGMAS, OUTLIER_FLOOR, OUTLIER_SHARE = 5.0, 2.0, 0.25


NO_USABLE_PAIR = "no pair has a positive, finite time on both sides"


def per_test_alpha(compared: int) -> float:
    """The error rate each regression interval is built for, so the family's is FAMILY_ALPHA."""
    return FAMILY_ALPHA / max(compared, 1) / LOOKS


# How EQUIVALENCE_ALPHA is spent over the looks (4, 8, 16, 32, 64 pairs). Judging the A/A runs
# of 2026-12-07 again at their first 4 pairs, an equal split (a 98% interval at each look)
# found 75 of 104 linalg pairs equivalent, 3% at the first look 93 (docs/ab.md, "Both sides on
# one CPU"); the later looks, which now decide a few pairs in ten, pay with intervals a sixth
# wider at 8 pairs (t of 3.5 against 3.0).
EQUIVALENCE_LOOK_SHARES = (0.6, 0.1, 0.1, 0.1, 0.1)


def look(pairs: int) -> int:
    """Which look (0 to LOOKS - 1) a judgement of ``pairs`` kept pairs is: the first count of
    the schedule (4, 8, 16, ...) that is not below it."""
    doublings = math.ceil(math.log2(max(pairs, 1) / INITIAL_PAIRS))
    return min(max(doublings, 0), LOOKS - 1)


def equivalence_interval_alpha(pairs: int) -> float:
    """The two-sided error rate of the equivalence interval of ``pairs`` kept pairs: TOST at
    its look's share of ``EQUIVALENCE_ALPHA`` (module docstring, point 3)."""
    return 2 * EQUIVALENCE_ALPHA * EQUIVALENCE_LOOK_SHARES[look(pairs)]


def half_width_per_spread(pairs: int, alpha: float, halved: bool = True) -> float:
    """About how wide (in logs, per unit of spread) a ``1 - alpha`` interval from ``pairs``
    pairs is: Student's t quantile over the root of the pairs, at half the error rate from
    ``stats.BOTH_FROM`` pairs on when ``halved`` (as the regression interval is built). What
    guesses how many pairs an interval needs to become narrow enough (``schedule``)."""
    if pairs < 2:
        return math.inf
    level = alpha / 2 if halved and pairs >= stats.BOTH_FROM else alpha
    return float(stdtrit(pairs - 1, 1 - level / 2)) / math.sqrt(pairs)


def round_value(reply: dict[str, Any]) -> float:
    """One round's number: the median of its samples (a time), or its value (a track)."""
    if "samples" in reply:
        samples = [s for s in reply["samples"] if s is not None and s == s]
        return statistics.median(samples) if samples else math.nan
    return float(reply.get("value", math.nan))


def _statuses(rounds: list[tuple[dict, dict]]) -> tuple[str, str]:
    """Each side's status: failed if any round failed, skipped if any was, else ok."""
    result = []
    for side in (0, 1):
        found = {pair[side]["status"] for pair in rounds}
        status = next((s for s in (STATUS_FAILED, STATUS_SKIPPED) if s in found), STATUS_OK)
        result.append(status if found else STATUS_SKIPPED)
    return result[0], result[1]


def set_aside(log_ratios: np.ndarray) -> np.ndarray:
    """Which pairs hold a disturbed round (module docstring, point 1)."""
    return stats.disturbed_rounds(log_ratios, OUTLIER_SIGMAS, OUTLIER_FLOOR, OUTLIER_SHARE)


def values(rounds: list[tuple[dict, dict]]) -> list[tuple[float, float]]:
    return [(round_value(a), round_value(b)) for a, b in rounds]


def kept_logs(rounds: list[tuple[dict, dict]]) -> np.ndarray:
    """The log ratios of the pairs usable on both sides and not set aside."""
    logs = stats.paired_log_ratios(values(rounds))
    return logs[~set_aside(logs)]


def robust_spread(rounds: list[tuple[dict, dict]]) -> float:
    """``stats.robust_spread`` of the log ratios of the pairs not set aside; 0 with fewer than
    2 of them."""
    kept = kept_logs(rounds)
    if len(kept) < 2:
        return 0.0
    return stats.robust_spread(kept)


def robust_centre(rounds: list[tuple[dict, dict]]) -> float:
    """The median log ratio of the pairs not set aside (NaN without any): where the pairs
    sit, which one pair off by 1.3x under the set-aside floor does not move as it moves the
    mean of 4 (``schedule``'s guess of what more pairs would decide)."""
    kept = kept_logs(rounds)
    return float(np.median(kept)) if len(kept) else math.nan


def clean_pairs(rounds: list[tuple[dict, dict]]) -> int:
    """Pairs that count towards a goal: usable on both sides and not set aside."""
    return len(kept_logs(rounds))


def regression_interval(log_ratios: np.ndarray, alpha: float) -> stats.PairedRatio:
    """The estimate and the ``1 - alpha`` interval a regression is judged on (point 2)."""
    return stats.combined_paired_ratio(log_ratios, alpha)


def equivalence_interval(log_ratios: np.ndarray) -> stats.PairedRatio:
    """The interval equivalence is judged on (point 2)."""
    return stats.trimmed_paired_ratio(
        log_ratios, equivalence_interval_alpha(len(log_ratios)), stats.TRIM, stats.BOTH_FROM
    )


def judge(
    rounds: list[tuple[dict, dict]], factor: float, alpha: float, disturbed: str | None = None
) -> dict[str, Any]:
    """The judgement of one combination from its paired rounds (see the module docstring),
    as the document records it (``schema.JUDGEMENT_COLUMNS``)."""
    base_status, cont_status = _statuses(rounds)
    if base_status != STATUS_OK or cont_status != STATUS_OK:
        return judgement.not_comparable(base_status, cont_status, pairs=len(rounds)).record()
    measured = values(rounds)
    if any(v == 0 for pair in measured for v in pair):
        base = statistics.median(v[0] for v in measured)
        cont = statistics.median(v[1] for v in measured)
        return judgement.from_zero(base, cont, factor, pairs=len(measured)).record()
    logs = stats.paired_log_ratios(measured)
    aside = set_aside(logs)
    kept = logs[~aside]
    regression, equivalence = regression_interval(kept, alpha), equivalence_interval(kept)
    note = f"{int(aside.sum())} disturbed pair(s) set aside" if aside.any() else ""
    if not len(kept):
        note = NO_USABLE_PAIR
    return judgement.judge(
        regression.estimate, (regression.low, regression.high),
        (equivalence.low, equivalence.high), factor, p_value=regression.p_value, note=note,
        disturbed=disturbed, pairs=len(kept), set_aside=int(aside.sum()),
    ).record()  # fmt: skip
