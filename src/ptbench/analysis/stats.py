"""Intervals for ratios of times: what a comparison prints beside a ratio.

Two independent runs (``ptbench compare``): Moses' distribution-free interval for the shift
between two samples, on the log of the times, so it becomes an interval for the ratio
contender/baseline. It is the interval that belongs to the Mann-Whitney U test asv compare uses
(Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed., section 4.3): the
99% interval excludes 1 whenever the test rejects at p < 0.01, and asv's threshold is stricter
(p < 0.002), so a pair asv calls significant never gets an interval that contains 1. The
critical values are asv's own exact U distribution (``asv._stats.mann_whitney_u_cdf``) up to
20 samples a side, the normal approximation beyond, as asv's test does.

Without samples (results recorded without ``--record-samples``), asv's own 99% intervals of
each side are divided; asv can give a negative lower end with few samples, so ends are clamped
(a ratio interval is never negative, and low <= high always).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from asv import _stats as asv_stats
from scipy.special import stdtr, stdtrit

EXACT_UP_TO = 20  # samples a side: asv's mann_whitney_u switches to the normal law above this


def finite_positive(samples: Sequence[float] | None) -> np.ndarray:
    """The usable samples: finite and positive (asv marks missing ones as NaN)."""
    if samples is None:
        return np.empty(0)
    values = np.asarray([s for s in samples if s is not None], dtype=float)
    return values[np.isfinite(values) & (values > 0)]


@functools.cache
def _exact_u_cdf(m: int, n: int) -> np.ndarray:
    """P(U <= u) for u = 0..m*n under "no difference", samples of m and n: asv's exact law
    (``mann_whitney_u_pmf``), summed in asv's order once per pair of sizes. asv sums it again
    on every test, which made a report's comparisons take seconds."""
    memo: dict = {}
    pmf = [asv_stats.mann_whitney_u_pmf(m, n, u, memo) for u in range(m * n + 1)]
    return np.cumsum(pmf)  # sequential, as asv's loop adds: the same floats


def mann_whitney_u(x: Sequence[float], y: Sequence[float]) -> tuple[int, float]:
    """asv's ``mann_whitney_u`` (U and the two-sided p-value, ties broken the least
    significant way; exact up to 20 samples a side, normal beyond), with the exact law read
    from :func:`_exact_u_cdf` and U counted by numpy. Tested equal to asv's."""
    m, n = len(x), len(y)
    if max(m, n) > EXACT_UP_TO or not m or not n:
        return asv_stats.mann_whitney_u(x, y)
    u = int(np.greater.outer(x, y).sum())
    ties = int(np.equal.outer(x, y).sum())
    half = m * n // 2
    if u <= half and u + ties >= half:  # asv's conservative tie breaking, step for step
        ties = half - u
    ux1, ux2 = min(u, m * n - u), min(u + ties, m * n - (u + ties))
    if ux1 >= ux2:
        ux = ux1
    else:
        u, ux = u + ties, ux2
    cdf = _exact_u_cdf(m, n)
    return u, float(cdf[ux]) + (1.0 - float(cdf[max(half, m * n - ux - 1)]))


def is_different(samples_a, samples_b, stats_a: dict, stats_b: dict, p_threshold=0.002) -> bool:
    """asv compare's significance decision (``asv._stats.is_different``), step for step, with
    :func:`mann_whitney_u`: the U test when the samples are enough for it to reach
    ``p_threshold``, else "the 99% intervals do not overlap". Tested equal to asv's."""
    if samples_a is not None and samples_b is not None:
        a = [x for x in samples_a if not math.isnan(x)]
        b = [x for x in samples_b if not math.isnan(x)]
        if 1 / asv_stats.binom(len(a) + len(b), min(len(a), len(b))) < p_threshold:
            return mann_whitney_u(a, b)[1] < p_threshold
    low_a, high_a = stats_a["ci_99_a"], stats_a["ci_99_b"]
    low_b, high_b = stats_b["ci_99_a"], stats_b["ci_99_b"]
    return not (high_a >= low_b and low_a <= high_b)


def _moses_rank(m: int, n: int, confidence: float) -> int:
    """k such that [d_(k), d_(mn-k+1)] of the m*n sorted differences covers ``confidence``;
    0 when the samples are too few for any finite interval."""
    tail = (1 - confidence) / 2
    if max(m, n) <= EXACT_UP_TO:
        # The largest k <= m*n/2 with P(U <= k - 1) <= tail.
        return min(int(np.searchsorted(_exact_u_cdf(m, n), tail, side="right")), m * n // 2)
    half_width = statistics.NormalDist().inv_cdf(1 - tail) * math.sqrt(m * n * (m + n + 1) / 12)
    return max(int(math.floor(m * n / 2 - half_width)), 0)


def ratio_interval_from_samples(
    baseline: Sequence[float], contender: Sequence[float], confidence: float = 0.99
) -> tuple[float, float]:
    """Moses' interval for contender/baseline from two independent samples (see module doc).

    ``(0, inf)`` when the samples are too few for the confidence asked.
    """
    base, cont = np.log(finite_positive(baseline)), np.log(finite_positive(contender))
    if not len(base) or not len(cont):
        return 0.0, math.inf
    k = _moses_rank(len(base), len(cont), confidence)
    if k == 0:
        return 0.0, math.inf
    differences = np.sort(np.subtract.outer(cont, base).ravel())
    return float(np.exp(differences[k - 1])), float(np.exp(differences[-k]))


def ratio_interval_from_bounds(
    baseline: tuple[float, float], contender: tuple[float, float]
) -> tuple[float, float]:
    """contender/baseline interval from each side's own (low, high) interval, clamped so it is
    never negative: a lower end at or below zero makes the other end of the ratio unbounded."""
    base_low, base_high = baseline
    cont_low, cont_high = contender
    low = max(cont_low, 0.0) / base_high if base_high > 0 else 0.0
    high = cont_high / base_low if base_low > 0 else math.inf
    return (low, high) if low <= high else (high, low)


def enclose(ratio: float, interval: tuple[float, float]) -> tuple[float, float]:
    """``interval`` widened to hold ``ratio`` (the ratio of medians can sit just outside a
    rank-based interval when the samples are few and tied)."""
    low, high = interval
    return min(low, ratio), max(high, ratio)


# Paired rounds (ptbench ab) ------------------------------------------------------------------


def paired_log_ratios(pairs: Sequence[tuple[float, float]]) -> np.ndarray:
    """log(contender / baseline) of each round pair whose two values are positive and finite,
    as a difference of logs: finite even where the quotient would overflow (a hostile pass:
    rounds of 1e-300 and 1e300 made a log of 0, -inf, and numpy's warnings on stderr)."""
    values = np.asarray(pairs, dtype=float).reshape(-1, 2)
    usable = np.all(np.isfinite(values) & (values > 0), axis=1)
    return np.log(values[usable, 1]) - np.log(values[usable, 0])


def ratio_interval(mean: float, half_width: float) -> tuple[float, float]:
    """A log interval as ratios; a half-width too large for a float (a t quantile of 1e5 at
    two pairs and a family-wise level) gives 0 and infinity, not an OverflowError."""
    with np.errstate(over="ignore"):
        return float(np.exp(mean - half_width)), float(np.exp(mean + half_width))


class PairedRatio(NamedTuple):
    """A paired ratio's estimate, its interval and the p-value of "no change"."""

    estimate: float
    low: float
    high: float
    p_value: float


def paired_ratio(log_ratios: np.ndarray, alpha: float) -> PairedRatio:
    """(estimate, low, high, p): the geometric mean of the paired ratios, its two-sided
    ``1 - alpha`` interval and the p-value of "no change", from Student's t on the logs.

    Each pair's two rounds ran back to back (ABBA order), so slow drift of the machine cancels
    within a pair, and the spread of the pairs' ratios is the noise the estimate must beat
    (Kalibera & Jones, "Rigorous benchmarking in reasonable time", ISMM 2013; Bulej et al.,
    "Duet benchmarking", ICPE 2020). Fewer than two pairs: no interval, p = 1.
    """
    count = len(log_ratios)
    if count == 0:
        return PairedRatio(math.nan, math.nan, math.nan, 1.0)
    mean = float(np.mean(log_ratios))
    if count < 2:
        return PairedRatio(math.exp(mean), 0.0, math.inf, 1.0)
    error = float(np.std(log_ratios, ddof=1)) / math.sqrt(count)
    if error == 0:  # identical ratios (a deterministic track): exact
        exact = math.exp(mean)
        return PairedRatio(exact, exact, exact, 0.0 if mean else 1.0)
    # Student's t law from scipy.special (what scipy.stats.t.ppf and .sf call, without importing
    # scipy.stats: most of a report's start-up).
    half_width = float(stdtrit(count - 1, 1 - alpha / 2)) * error
    p_value = float(2 * stdtr(count - 1, -abs(mean) / error))
    return PairedRatio(math.exp(mean), *ratio_interval(mean, half_width), p_value)


MAD_TO_SD = 1.4826  # the median absolute deviation of normal data times this is its SD


def robust_spread(values: np.ndarray) -> float:
    """The normal-consistent median absolute deviation of ``values`` (Rousseeuw & Croux,
    1993): a standard deviation that a few far values do not inflate."""
    values = np.asarray(values, dtype=float)
    return MAD_TO_SD * float(np.median(np.abs(values - np.median(values))))


def disturbed_rounds(
    log_ratios: np.ndarray, sigmas: float, floor: float, most: float
) -> np.ndarray:
    """Which pairs hold a disturbed round: a pair whose log ratio lies further from the median
    of its siblings than ``sigmas`` robust standard deviations (1.4826 x the median absolute
    deviation, the normal-consistent MAD) and than ``log(floor)``; at most a share ``most`` of
    the pairs (the farthest first), so a change that really comes and goes is still seen.
    Fewer than 4 pairs: none (no median to stand on).

    One round slowed 3-10x by something else on the machine (a few in a hundred rounds here)
    would otherwise decide a mean of logs on its own (Hampel's identifier: Hampel, *J. Amer.
    Statist. Assoc.* 69, 1974; the MAD scale as in Rousseeuw & Croux, 1993)."""
    values = np.asarray(log_ratios, dtype=float)
    flagged = np.zeros(len(values), dtype=bool)
    allowed = int(most * len(values))
    if len(values) < 4 or allowed == 0:
        return flagged
    centre = float(np.median(values))
    distance = np.abs(values - centre)
    scale = MAD_TO_SD * float(np.median(distance))
    threshold = max(sigmas * scale, math.log(floor))
    farthest = np.argsort(-distance, kind="stable")[:allowed]
    flagged[farthest[distance[farthest] > threshold]] = True
    return flagged


TRIM = 0.15  # the share trimmed from each end (Wilcox recommends 20%; 15% measured safer here)
# Pairs: below this the trimmed interval alone (explain's ratio) is the plain mean of logs.
# Trimming 4-7 pairs left intervals too narrow (measured); alone, at 8 to 15 it cost 2-4
# degrees of freedom, widening 3 of the 9 confirmed changes of the committed release
# comparison past 1 (docs/ab.md). ab's verdicts use it beside Student's from BOTH_FROM pairs.
TRIM_FROM = 16


def trimmed_paired_ratio(
    log_ratios: np.ndarray, alpha: float, trim: float = TRIM, trim_from: int = TRIM_FROM
) -> PairedRatio:
    """(estimate, low, high, p) as :func:`paired_ratio`, from the ``trim``-trimmed mean of the
    logs and its Tukey-McLaughlin interval (Yuen's one-sample trimmed t: the Winsorized standard
    deviation, ``n - 2g - 1`` degrees of freedom; Wilcox, *Introduction to Robust Estimation and
    Hypothesis Testing*, 4th ed., section 4.4). The same interval as
    ``scipy.stats.mstats.trimmed_mean_ci`` (tested equal), without importing scipy.stats.

    Pairs off by 10-50% (one in ten here) inflate a plain standard deviation several times over
    while the trimmed mean's interval hardly moves; with normal noise it is about as narrow as
    Student's. Below ``trim_from`` pairs nothing is trimmed: exactly :func:`paired_ratio`."""
    values = np.sort(np.asarray(log_ratios, dtype=float))
    count = len(values)
    cut = int(math.floor(trim * count)) if count >= trim_from else 0
    if cut == 0:
        return paired_ratio(values, alpha)
    kept = values[cut : count - cut]
    winsorized = np.concatenate([[kept[0]] * cut, kept, [kept[-1]] * cut])
    mean = float(kept.mean())
    spread = float(np.std(winsorized, ddof=1))
    error = spread / ((1 - 2 * trim) * math.sqrt(count))
    freedom = len(kept) - 1
    if error == 0:
        exact = math.exp(mean)
        return PairedRatio(exact, exact, exact, 0.0 if mean else 1.0)
    half_width = float(stdtrit(freedom, 1 - alpha / 2)) * error
    p_value = float(2 * stdtr(freedom, -abs(mean) / error))
    return PairedRatio(math.exp(mean), *ratio_interval(mean, half_width), p_value)


# Pairs: from here a paired interval is Student's and the trimmed one together (below, the
# trimmed one keeps too few pairs to be trusted: docs/ab.md).
BOTH_FROM = 8


def combined_paired_ratio(log_ratios: np.ndarray, alpha: float) -> PairedRatio:
    """(estimate, low, high, p) from Student's t on the logs (:func:`paired_ratio`) and the
    15%-trimmed interval (:func:`trimmed_paired_ratio`) together, from ``BOTH_FROM`` pairs on:
    each at ``alpha / 2``, so both hold the true ratio with probability at least ``1 - alpha``
    (Bonferroni), and so does their intersection. Normal noise keeps Student's degrees of
    freedom (the trimmed interval loses two or more); pairs off by 10-90%, a quarter of them on
    a noisy day here, leave the trimmed one narrow. The estimate is the narrower interval's,
    kept inside the intersection; p is the smaller p-value doubled. Two intervals that do not
    meet (a chance of at most ``alpha``) give the span of both. Below ``BOTH_FROM`` pairs:
    exactly :func:`paired_ratio`."""
    values = np.asarray(log_ratios, dtype=float)
    if len(values) < BOTH_FROM:
        return paired_ratio(values, alpha)
    student = paired_ratio(values, alpha / 2)
    trimmed = trimmed_paired_ratio(values, alpha / 2, TRIM, BOTH_FROM)
    low, high = max(student.low, trimmed.low), min(student.high, trimmed.high)
    if low > high:
        low, high = min(student.low, trimmed.low), max(student.high, trimmed.high)
    with np.errstate(divide="ignore", invalid="ignore"):
        narrower = min((student, trimmed), key=lambda r: np.log(r.high) - np.log(r.low))
    estimate = min(max(narrower.estimate, low), high)
    return PairedRatio(estimate, low, high, min(1.0, 2 * min(student.p_value, trimmed.p_value)))
