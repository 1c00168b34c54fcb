"""Verdicts from paired rounds: the estimate, its interval, and family-wise error control.

Each combination has rounds in pairs, one baseline and one contender process back to back (in
ABBA order, so linear drift cancels over two pairs). Its estimate is the geometric mean of the
pairs' contender/baseline ratios; its interval and p-value are Student's t on their logs
(``stats.paired_ratio``).

False alarms are controlled over the whole family: with ``m`` pairs compared and up to ``LOOKS``
looks at each (confirmation adds rounds and looks again), every interval is a
``1 - FAMILY_ALPHA / (m * LOOKS)`` interval (Bonferroni). All printed intervals then hold
together with probability at least 99%, through any number of confirmation rounds, so the
chance that a run reports even one false regression is at most 1%. Holm's step-down procedure
rejects a little more when many pairs change, but its decisions cannot be written as intervals,
and a verdict must never contradict the interval printed beside it; Benjamini-Hochberg controls
the share of false alarms rather than their chance, which a CI gate that fails a build on one
regression cannot use.

A verdict (the issue's rules): ``slower`` when the estimate is above ``factor`` and the whole
interval above 1; ``faster`` mirrored; ``undecided`` when the estimate is past the factor but the
interval still holds 1 (these get more rounds); otherwise ``same``. A pair from a run the noise
guard found disturbed is never a regression: ``slower`` becomes ``undecided``.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ptbench import stats
from ptbench.compare import FASTER, NOT_COMPARABLE, SAME, SLOWER, UNDECIDED
from ptbench.schema import STATUS_FAILED, STATUS_OK, STATUS_SKIPPED

FAMILY_ALPHA = 0.01
INITIAL_PAIRS = 4  # two ABBA passes
MAX_PAIRS = 64  # confirmation doubles the pairs: 4, 8, 16, 32, 64
LOOKS = 1 + int(math.log2(MAX_PAIRS // INITIAL_PAIRS))


def per_test_alpha(compared: int) -> float:
    """The error rate each interval is built for, so the family's is FAMILY_ALPHA."""
    return FAMILY_ALPHA / max(compared, 1) / LOOKS


def round_value(reply: dict[str, Any]) -> float:
    """One round's number: the median of its samples (a time), or its value (a track)."""
    if "samples" in reply:
        samples = [s for s in reply["samples"] if s is not None and s == s]
        return statistics.median(samples) if samples else math.nan
    return float(reply.get("value", math.nan))


def decide(estimate: float, low: float, high: float, factor: float) -> str:
    if estimate > factor:
        return SLOWER if low > 1 else UNDECIDED
    if estimate < 1 / factor:
        return FASTER if high < 1 else UNDECIDED
    return SAME


def _statuses(rounds: list[tuple[dict, dict]]) -> tuple[str, str]:
    """Each side's status: failed if any round failed, skipped if any was, else ok."""
    result = []
    for side in (0, 1):
        found = {pair[side]["status"] for pair in rounds}
        status = next((s for s in (STATUS_FAILED, STATUS_SKIPPED) if s in found), STATUS_OK)
        result.append(status if found else STATUS_SKIPPED)
    return result[0], result[1]


def _verdict(estimate, low, high, p_value, verdict, note, pairs) -> dict[str, Any]:
    return {
        "ratio": estimate,
        "ratio_low": low,
        "ratio_high": high,
        "p_value": p_value,
        "verdict": verdict,
        "note": note,
        "regression": verdict == SLOWER,
        "pairs": pairs,
    }


def _with_zero(values: list[tuple[float, float]], factor: float) -> dict[str, Any]:
    """Peak bytes where a side allocates nothing: no ratio of logs; the medians decide."""
    base = statistics.median(v[0] for v in values)
    cont = statistics.median(v[1] for v in values)
    ratio = 1.0 if base == cont else math.inf if base == 0 else cont / base
    verdict = SLOWER if ratio > factor else FASTER if ratio < 1 / factor else SAME
    return _verdict(ratio, ratio, ratio, math.nan, verdict, "a side allocates nothing", len(values))


def judge(
    rounds: list[tuple[dict, dict]], factor: float, alpha: float, disturbed: str | None = None
) -> dict[str, Any]:
    """The verdict of one combination from its paired rounds (see the module docstring)."""
    base_status, cont_status = _statuses(rounds)
    if base_status != STATUS_OK or cont_status != STATUS_OK:
        result = _verdict(
            math.nan, math.nan, math.nan, math.nan, NOT_COMPARABLE,
            f"baseline {base_status}, contender {cont_status}", len(rounds),
        )  # fmt: skip
        result["regression"] = base_status == STATUS_OK and cont_status == STATUS_FAILED
        return result
    values = [(round_value(a), round_value(b)) for a, b in rounds]
    if any(v == 0 for pair in values for v in pair):
        return _with_zero(values, factor)
    estimate, low, high, p_value = stats.paired_ratio(stats.paired_log_ratios(values), alpha)
    verdict, note = decide(estimate, low, high, factor), ""
    if verdict == UNDECIDED:
        note = "interval holds 1: more rounds needed"
    if verdict == SLOWER and disturbed:
        verdict, note = UNDECIDED, f"not a regression: the run was {disturbed}"
    return _verdict(estimate, low, high, p_value, verdict, note, len(values))
