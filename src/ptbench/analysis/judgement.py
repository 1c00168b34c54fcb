"""One judgement model for every comparison: what a pair's data know, and nothing more.

``ptbench compare`` (two runs, independent samples) and ``ptbench ab`` (paired rounds) measure
differently but judge alike. Each gives this module a ratio (contender / baseline) and two
intervals for it; this module turns them into one of four verdicts, and holds the rules every
comparison shares: a disturbed run never gates, a zero baseline, a side that failed, the order
pairs are shown in.

- ``slower`` / ``faster``: the ratio beyond ``factor`` and the *regression interval* wholly on
  that side of 1. That interval holds at the level the caller controls for the whole family
  (a false ``slower`` fails somebody's build), so these are the claims a gate may act on.
- ``equivalent``: the *equivalence interval* wholly inside [1/factor, factor]. A ``1 - 2a``
  interval inside the margins is exactly Schuirmann's two one-sided tests at level ``a`` each
  (TOST: Schuirmann, J. Pharmacokinet. Biopharm. 15, 1987): the pair changed by less than the
  factor, with at most an ``a`` chance of saying so when it did not.
- ``inconclusive``: neither. The data cannot tell; ``detectable`` says how large a change they
  could have confirmed (so "inconclusive, could see 1.8x" reads as what it is).
- ``not comparable``: skipped or failed on a side; a combination that ran and now fails is a
  regression, as ``asv continuous`` counts it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ptbench.core.schema import (
    EQUIVALENT,
    FASTER,
    INCONCLUSIVE,
    NOT_COMPARABLE,
    SLOWER,
    STATUS_FAILED,
    STATUS_OK,
)

# The order pairs are listed in everywhere: confirmed changes first, then what the data could
# not decide (never hidden among the passes), then the rest.
ORDER = (SLOWER, FASTER, INCONCLUSIVE, NOT_COMPARABLE, EQUIVALENT)
NAN = math.nan
# What a slowdown from a run the noise guard found disturbed says instead of "slower".
DISTURBED_NOTE = "not a regression: the run was disturbed"


@dataclass(frozen=True)
class Judgement:
    """A pair's verdict with what it rests on (the fields are ``schema.JUDGEMENT_COLUMNS``)."""

    ratio: float
    ratio_low: float
    ratio_high: float
    equivalence_low: float
    equivalence_high: float
    detectable: float
    p_value: float
    verdict: str
    note: str = ""
    regression: bool = False
    pairs: int | None = None
    set_aside: int = 0

    def record(self) -> dict:
        return asdict(self)


def decide(ratio: float, interval: tuple, equivalence: tuple, factor: float) -> str:
    """The verdict (module docstring); an unknown (NaN) interval proves nothing either way."""
    low, high = interval
    if ratio > factor and low > 1:
        return SLOWER
    if ratio < 1 / factor and high < 1:
        return FASTER
    eq_low, eq_high = equivalence
    if eq_low >= 1 / factor and eq_high <= factor:
        return EQUIVALENT
    return INCONCLUSIVE


def detectable_change(interval: tuple, factor: float) -> float:
    """The smallest change (a ratio >= 1, either way) these data could have confirmed: an
    estimate must pass the factor and its interval clear 1, and the interval's half-width in
    logs is ``sqrt(high / low)``. Infinite when the interval is unbounded or unknown."""
    low, high = interval
    if not (low > 0 and math.isfinite(high)):
        return math.inf
    return max(factor, math.sqrt(high / low))


def judge(
    ratio: float,
    interval: tuple,
    equivalence: tuple,
    factor: float,
    *,
    p_value: float = NAN,
    note: str = "",
    significant: bool = True,
    disturbed: str | None = None,
    pairs: int | None = None,
    set_aside: int = 0,
) -> Judgement:
    """The judgement of one comparable pair, with the noise guard applied. ``significant``:
    False when a test the caller also requires (asv's, for two runs) did not reject, so no
    change is confirmed whatever the interval says. ``note``: the caller's own remark, kept
    after the verdict's reasons."""
    verdict, reasons = decide(ratio, interval, equivalence, factor), []
    if verdict in (SLOWER, FASTER) and not significant:
        verdict = INCONCLUSIVE
        reasons.append("not significant (asv's Mann-Whitney U test)")
    elif verdict == INCONCLUSIVE:
        reasons.append(_why_inconclusive(ratio, interval, factor))
    if disturbed and verdict == SLOWER:  # the noise guard: a busy machine's slowdown never gates
        verdict = INCONCLUSIVE
        reasons.append(f"{DISTURBED_NOTE} ({disturbed})")
    return Judgement(
        ratio, *interval, *equivalence, detectable_change(interval, factor), p_value, verdict,
        "; ".join(filter(None, [*reasons, note])), verdict == SLOWER, pairs, set_aside,
    )  # fmt: skip


def _why_inconclusive(ratio: float, interval: tuple, factor: float) -> str:
    low, high = interval
    if math.isnan(low):
        return ""  # the caller says why there is no interval
    if (ratio > factor and low <= 1) or (ratio < 1 / factor and high >= 1):
        return "past the factor, but the interval holds 1"
    if about_the_factor(ratio, low, high, factor):
        return f"interval wholly {'above' if low > 1 else 'below'} 1 and past the factor: " \
            "a change of about the factor"
    return "interval reaches past the factor"


def about_the_factor(ratio, low, high, factor: float):
    """Whether an inconclusive pair's change lies near the factor: its estimate within the
    factor and its regression interval wholly on one side of 1. Neither verdict can be true of
    such a pair's interval however many pairs it takes, when its true ratio is the factor
    (docs/ab.md, "What the release's inconclusive pairs are"). Scalars or pandas Series."""
    return (ratio >= 1 / factor) & (ratio <= factor) & ((low > 1) | (high < 1))


def not_comparable(base_status: str, cont_status: str, note: str = "", pairs=None) -> Judgement:
    """A side skipped or failed; working before and failing now is a regression."""
    return Judgement(
        NAN, NAN, NAN, NAN, NAN, NAN, NAN, NOT_COMPARABLE,
        note or f"baseline {base_status}, contender {cont_status}",
        base_status == STATUS_OK and cont_status == STATUS_FAILED, pairs,
    )  # fmt: skip


def from_zero(baseline: float, contender: float, factor: float, pairs=None) -> Judgement:
    """A side measured zero (peak bytes of an in-place update): no ratio of logs, and the values
    are exact (memory is deterministic). 0 -> 0 is equivalent; 0 -> more is a regression."""
    ratio = 1.0 if baseline == contender else math.inf if baseline == 0 else contender / baseline
    note = "baseline was zero" if baseline == 0 and contender != 0 else "a side allocates nothing"
    return judge(ratio, (ratio, ratio), (ratio, ratio), factor, note=note, pairs=pairs)


def order(pairs: pd.DataFrame) -> pd.DataFrame:
    """``pairs`` in :data:`ORDER`, the largest change (either way) first within each verdict."""
    rank = pairs["verdict"].map({verdict: index for index, verdict in enumerate(ORDER)})
    ratios = pairs["ratio"].astype(float)
    distance = np.abs(np.log(ratios.where(ratios > 0)))
    ordered = pairs.assign(_rank=rank, _distance=-distance.fillna(0))
    ordered = ordered.sort_values(["_rank", "_distance"], kind="stable")
    return ordered.drop(columns=["_rank", "_distance"]).reset_index(drop=True)


def counts(verdicts: pd.Series) -> dict[str, int]:
    """How many pairs got each verdict, in :data:`ORDER` (zeros included)."""
    found = verdicts.value_counts()
    return {verdict: int(found.get(verdict, 0)) for verdict in ORDER}


def decided_share(verdicts: pd.Series) -> float:
    """The share of comparable pairs that got a verdict other than inconclusive."""
    comparable = verdicts[verdicts != NOT_COMPARABLE]
    return float((comparable != INCONCLUSIVE).mean()) if len(comparable) else math.nan
