"""analysis.stats against asv: the same significance decisions and critical values, computed once
per pair of sample sizes instead of on every test."""

from __future__ import annotations

import math

import pytest
from asv import _stats as asv_stats
from hypothesis import given, settings
from hypothesis import strategies as st

from ptbench.analysis import stats

# Times on a coarse grid (ties happen, as with a coarse timer), some sides above asv's exact
# limit of 20 samples; NaN marks a missing sample, as asv records it.
TIMES = st.integers(1, 12).map(lambda tick: tick * 1e-6)
SAMPLES = st.lists(TIMES | st.just(math.nan), min_size=1, max_size=24)
INTERVALS = st.tuples(TIMES, TIMES).map(sorted)


@settings(max_examples=300, deadline=None)
@given(SAMPLES, SAMPLES)
def test_mann_whitney_u_is_asvs(x, y):
    x = [value for value in x if not math.isnan(value)] or [1e-6]
    y = [value for value in y if not math.isnan(value)] or [2e-6]
    assert stats.mann_whitney_u(x, y) == asv_stats.mann_whitney_u(x, y)


@settings(max_examples=300, deadline=None)
@given(SAMPLES | st.none(), SAMPLES | st.none(), INTERVALS, INTERVALS)
def test_is_different_is_asvs_decision(samples_a, samples_b, interval_a, interval_b):
    stats_a = {"ci_99_a": interval_a[0], "ci_99_b": interval_a[1]}
    stats_b = {"ci_99_a": interval_b[0], "ci_99_b": interval_b[1]}
    ours = stats.is_different(samples_a, samples_b, stats_a, stats_b)
    assert ours == asv_stats.is_different(samples_a, samples_b, stats_a, stats_b)


def test_a_clear_shift_is_different_and_equal_samples_are_not():
    fast, slow = [1e-6 + i * 1e-9 for i in range(10)], [2e-6 + i * 1e-9 for i in range(10)]
    no_interval = {"ci_99_a": 0.0, "ci_99_b": 1.0}
    assert stats.is_different(fast, slow, no_interval, no_interval)
    assert not stats.is_different(fast, list(fast), no_interval, no_interval)
    assert stats.mann_whitney_u(fast, slow) == (0, pytest.approx(2 / math.comb(20, 10)))


def _moses_rank_by_asvs_loop(m: int, n: int, confidence: float) -> int:
    tail, k = (1 - confidence) / 2, 0
    while k < m * n // 2 and asv_stats.mann_whitney_u_cdf(m, n, k, {}) <= tail:
        k += 1
    return k


@pytest.mark.slow
@pytest.mark.parametrize("confidence", [0.99, 0.95])
def test_moses_critical_values_are_asvs_law(confidence):
    for m in range(1, 21):
        for n in range(1, 21, 3):
            expected = _moses_rank_by_asvs_loop(m, n, confidence)
            assert stats._moses_rank(m, n, confidence) == expected, (m, n)
    # Independently: P(U <= 16) <= 0.005 < P(U <= 17) for 10 and 10 samples, from counting
    # the subsets of ranks 1..20 of size 10 by their sum (U = rank sum - 55).
    counts = _rank_sum_counts(10, 10)
    cdf = [sum(counts[: u + 1]) / math.comb(20, 10) for u in range(101)]
    assert cdf[16] <= 0.005 < cdf[17] and stats._moses_rank(10, 10, 0.99) == 17


def _rank_sum_counts(m: int, n: int) -> list[int]:
    """How many ways U = 0, 1, ... m*n arises: size-m subsets of 1..m+n by rank sum."""
    ways = [[0] * (m * (m + n) + 1) for _ in range(m + 1)]  # ways[size][sum]
    ways[0][0] = 1
    for rank in range(1, m + n + 1):
        for size in range(min(rank, m), 0, -1):
            for total in range(len(ways[0]) - 1, rank - 1, -1):
                ways[size][total] += ways[size - 1][total - rank]
    smallest = m * (m + 1) // 2
    return ways[m][smallest : smallest + m * n + 1]


def test_paired_log_ratios_stay_finite_where_the_quotient_would_not():
    """A hostile pass: rounds of 1e-300 and 1e300 made a quotient of 0 (a log of -inf) and
    numpy's warnings on stderr; the difference of logs is exact and finite."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        logs = stats.paired_log_ratios([(1e300, 1e-300), (1e-3, 2e-3), (0.0, 1.0),
                                        (float("nan"), 1.0)])  # fmt: skip
    assert logs == pytest.approx([-1381.551055796, 0.693147181])
