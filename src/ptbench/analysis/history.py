"""Change points along commit history, found by asv's own step detection.

For each benchmark x parameter combination x machine x environment, the values ordered by commit
date go to ``asv.step_detect.detect_steps`` with ``asv._stats.get_weight`` weights (the inverse
width of each 99% interval), exactly as ``asv publish`` draws its regression graphs. Each step
larger than ``threshold`` becomes a change point: the commit where the new level began, its
``change`` (after / before) and a confidence, the Mann-Whitney U p-value of the raw samples
pooled on either side (missing when samples were not recorded): asv's test, the one ``ptbench
compare`` and ``asv compare`` use (``stats.mann_whitney_u``).

A step whose test gives p >= ``p_threshold`` is not reported: the detector fits noise too. Two
back-to-back runs that differ by a process-to-process 26% at p = 0.27 are not a change point.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from asv import _stats as asv_stats
from asv import step_detect

from ptbench.analysis import stats
from ptbench.core import parallel
from ptbench.core.schema import SERIES_RUN_KEYS, timed

SERIES_KEYS = SERIES_RUN_KEYS


def _weight(low: float, high: float) -> float | None:
    if pd.isna(low) or pd.isna(high):
        return None
    return asv_stats.get_weight({"ci_99_a": low, "ci_99_b": high})


def _pooled(samples: pd.Series) -> list[float]:
    pooled = []
    for values in samples:
        if not isinstance(values, (list, tuple, np.ndarray)):  # None, NA or NaN
            return []  # one commit without samples: no test on this side
        pooled += [v for v in values if v is not None and not math.isnan(v)]
    return pooled


def series_keys(frame: pd.DataFrame) -> list[str]:
    return ["benchmark", *frame.attrs.get("param_keys", []), *SERIES_KEYS]


# What :func:`_steps` reads of each point, besides its order and position.
STEP_COLUMNS = ("value", "ci_99_low", "ci_99_high", "samples", "unit")
# Points from which asv's step detection (pure Python: 10 ms for a series of 333 points) runs
# on every CPU: a year of nightly runs has hundreds of thousands; below this, a pool costs more
# than it saves.
PARALLEL_FROM = 20_000


def change_points(
    frame: pd.DataFrame,
    threshold: float = 0.05,
    p_threshold: float = 0.01,
    *,
    keys: list[str] | None = None,
    order: str = "commit_date",
    at: str = "commit",
) -> pd.DataFrame:
    """Every significant step of relative size >= ``threshold`` in every series with at least
    3 distinct ``at`` values (see the module docstring). A series is a group of ``keys``
    (benchmark, params, machine, environment by default), its points ordered by ``order``;
    ``at`` names where the new level began (a commit; ``torch_history`` passes the torch
    version) and ``previous_<at>`` the last point before it."""
    keys = keys or series_keys(frame)
    grouped = _long_series(frame, keys, order, at)
    detected = parallel.fork_map(
        step_detect.detect_steps,
        [series["value"].tolist() for _, series in grouped],
        [_weights(series) for _, series in grouped],
        worth_it=sum(len(series) for _, series in grouped) >= PARALLEL_FROM,
    )
    rows = [
        {**dict(zip(keys, identity, strict=True)), **step}
        for (identity, series), steps in zip(grouped, detected, strict=True)
        for step in _steps(series, steps, threshold, p_threshold, order, at)
    ]
    columns = [*keys, "unit", "direction", "change", "before", "after", at, order,
               f"previous_{at}", "p_value"]  # fmt: skip
    changes = pd.DataFrame(rows, columns=columns)
    return changes.sort_values("change", ascending=False, ignore_index=True)


def _long_series(frame: pd.DataFrame, keys: list[str], order: str, at: str) -> list[tuple]:
    """(identity, points in ``order``) of each series with 3 or more ``at`` values: only the
    columns a step reads, without the table's attrs (pandas copies them into every group), the
    short series dropped before grouping (a history has thousands of series)."""
    measured = timed(frame)[list(dict.fromkeys([*keys, order, at, *STEP_COLUMNS]))]
    measured.attrs = {}
    groups = measured.groupby(keys, dropna=False, sort=False, observed=True)
    measured = measured[groups[at].transform("nunique") >= 3]
    if measured.empty:
        return []
    # One stable sort by (series, order) and slices, not a sort per series: the same points in
    # the same order (groups numbered by first appearance, as groupby iterates them).
    series_id = measured.groupby(keys, dropna=False, sort=False, observed=True).ngroup()
    positions = np.lexsort((measured[order].to_numpy(), series_id.to_numpy()))
    measured, series_id = measured.iloc[positions], series_id.to_numpy()[positions]
    starts = np.flatnonzero(np.diff(series_id, prepend=-1))
    ends = [*starts[1:], len(measured)]
    identities = measured[keys].iloc[starts].itertuples(index=False, name=None)
    return [
        (identity, measured.iloc[start:end])
        for identity, start, end in zip(identities, starts, ends, strict=True)
    ]


def _weights(series: pd.DataFrame) -> list[float | None]:
    return [
        _weight(*bounds) for bounds in zip(series["ci_99_low"], series["ci_99_high"], strict=True)
    ]


def _steps(
    series: pd.DataFrame, steps: list, threshold: float, p_threshold: float, order: str, at: str
):
    """Of the ``steps`` asv's detector found in one ordered series, those that pass both
    thresholds."""
    for before, after in zip(steps, steps[1:], strict=False):
        change = after[2] / before[2]
        if abs(change - 1) < threshold:
            continue
        left, right = series.iloc[before[0] : before[1]], series.iloc[after[0] : after[1]]
        samples_before, samples_after = _pooled(left["samples"]), _pooled(right["samples"])
        p_value = (
            stats.mann_whitney_u(samples_before, samples_after)[1]
            if samples_before and samples_after
            else np.nan
        )
        if p_value >= p_threshold:  # NaN (no samples) compares False: kept, untested
            continue
        yield {
            "unit": series["unit"].iloc[0],
            "direction": "regression" if change > 1 else "improvement",
            "change": change,
            "before": before[2],
            "after": after[2],
            at: series[at].iloc[after[0]],
            order: series[order].iloc[after[0]],
            f"previous_{at}": series[at].iloc[before[1] - 1],
            "p_value": p_value,
        }
