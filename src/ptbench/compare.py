"""Baseline versus contender along any axis, with statistics: one mechanism for every question.

A selector is ``KEY=VALUE[,KEY=VALUE]``. KEY is a run-level key (``commit``, ``machine``,
``env``, ``torch``...) or a benchmark parameter (``device``, ``method``, ``dtype``...). Rows of
the two sides are matched on every other key, so ``device=cpu`` vs ``device=cuda`` compares CUDA
with the CPU for each benchmark, size, commit and machine, and ``commit=a`` vs ``commit=b``
compares two commits benchmark by benchmark.

A pair's verdict needs both the ratio past ``factor`` and statistical significance, decided as
``asv compare`` decides it (``asv._stats.is_different``: Mann-Whitney U at p < 0.002 on the
recorded samples, else non-overlap of the 99% intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from asv import _stats as asv_stats
from scipy.stats import gmean

from ptbench.errors import InputError
from ptbench.results import STATUS_FAILED, STATUS_OK, STATUS_SKIPPED

FASTER, SLOWER, SAME, NOT_COMPARABLE = "faster", "slower", "same", "not comparable"
# Units where a bigger value is worse (times, memory); settings tracks are not compared.
COMPARED_UNITS = ("seconds", "bytes")


class SelectorError(InputError):
    """A selector that is malformed, names an unknown key, or matches nothing or too much."""


def parse_selector(text: str) -> dict[str, str]:
    """``"commit=abc,device=cuda"`` -> ``{"commit": "abc", "device": "cuda"}``."""
    selector = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, equals, value = part.partition("=")
        if not equals or not key.strip() or not value.strip():
            raise SelectorError(f"selector part {part!r} is not KEY=VALUE")
        selector[key.strip()] = value.strip()
    if not selector:
        raise SelectorError(f"selector {text!r} is empty; give KEY=VALUE[,KEY=VALUE]")
    return selector


def selectable_keys(frame: pd.DataFrame) -> list[str]:
    """Benchmark parameters and run-level keys present in ``frame`` (as loaded)."""
    return ["benchmark", "operation", *frame.attrs["param_keys"], *frame.attrs["run_keys"]]


def _matches(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    column = frame[key]
    if key == "commit":
        return column.astype(str).str.startswith(value)
    return column.astype(str) == value


def select(frame: pd.DataFrame, selector: dict[str, str], side: str) -> pd.DataFrame:
    keys = selectable_keys(frame)
    mask = pd.Series(True, index=frame.index)
    for key, value in selector.items():
        if key not in keys:
            raise SelectorError(f"{side}: unknown key {key!r}; keys: {', '.join(keys)}")
        matched = mask & _matches(frame, key, value)
        if not matched.any():
            available = sorted({str(v) for v in frame.loc[mask, key].dropna()})
            shown = ", ".join(available[:12]) + (", ..." if len(available) > 12 else "")
            raise SelectorError(f"{side}: {key}={value} matches nothing; available: {shown}")
        mask = matched
    return frame[mask]


def match_keys(frame: pd.DataFrame, selected: set[str]) -> list[str]:
    """The keys rows are paired on: benchmark, parameters, machine, commit, env, less the
    selected ones. Selecting a run-level key other than ``commit`` (torch, machine...) also frees
    ``env``: environments are named after the torch build that ran in them. Selecting
    ``operation`` frees ``benchmark``."""
    free = set(selected)
    if selected & (set(frame.attrs["run_keys"]) - {"commit"}):
        free.add("env")
    if "operation" in selected:  # eigh vs eig: different benchmarks, same parameters
        free.add("benchmark")
    keys = ["benchmark", *frame.attrs["param_keys"], "machine", "commit", "env"]
    return [key for key in keys if key not in free]


@dataclass
class Comparison:
    pairs: pd.DataFrame  # one row per matched pair, regressions first
    geometric_means: dict[str, float]  # per unit, over positive finite ratios of judged pairs
    factor: float
    keys: list[str]  # what the pairs were matched on
    skipped_pairs: int  # pairs skipped on both sides, left out of ``pairs``

    @property
    def geometric_mean(self) -> float:
        """The time ratios' geometric mean (the only unit's, for a memory-only comparison)."""
        means = self.geometric_means
        return means.get("seconds", next(iter(means.values()), math.nan))

    @property
    def regressions(self) -> pd.DataFrame:
        return self.pairs[self.pairs["regression"]]


def compare(
    frame: pd.DataFrame, baseline: dict[str, str], contender: dict[str, str], factor: float = 1.1
) -> Comparison:
    """Pair baseline and contender rows and judge each pair (see module docstring)."""
    if not factor > 1:
        raise SelectorError(f"--factor {factor} must be greater than 1 (e.g. 1.1 for 10%)")
    frame = frame[frame["unit"].isin(COMPARED_UNITS)]
    base = select(frame, baseline, "baseline")
    cont = select(frame, contender, "contender")
    keys = match_keys(frame, set(baseline) | set(contender))
    for side, rows in (("baseline", base), ("contender", cont)):
        duplicated = rows[rows.duplicated(keys, keep=False)]
        if not duplicated.empty:
            varying = [
                c
                for c in selectable_keys(frame)
                if c not in keys and duplicated.groupby(keys, dropna=False)[c].nunique().max() > 1
            ]
            example = duplicated.iloc[0]
            raise SelectorError(
                f"{side} matches several results for {example['benchmark']} (they differ in "
                f"{', '.join(varying) or 'commit date'}); add one of those keys to both selectors"
            )
    pairs = base.merge(cont, on=keys, how="inner", suffixes=("_baseline", "_contender"))
    if "benchmark" not in keys:  # operation vs operation: name each pair by its contender
        pairs.insert(0, "benchmark", pairs["benchmark_contender"])
    # Skipped on both sides (n/a, n/a): nothing ran, nothing to judge.
    both_skipped = (pairs["status_baseline"] == STATUS_SKIPPED) & (
        pairs["status_contender"] == STATUS_SKIPPED
    )
    skipped_pairs = int(both_skipped.sum())
    pairs = pairs[~both_skipped]
    if pairs.empty:
        raise SelectorError(
            "baseline and contender share no benchmark results to pair "
            f"(paired on {', '.join(keys)})"
        )
    judged = pd.DataFrame(
        [_judge(row, factor) for row in pairs.itertuples(index=False)], index=pairs.index
    )
    pairs = pd.concat([pairs, judged], axis=1)
    order = {SLOWER: 0, NOT_COMPARABLE: 2, SAME: 3, FASTER: 4}
    pairs = pairs.assign(_order=pairs["verdict"].map(order), _ratio=-pairs["ratio"].fillna(0))
    pairs = pairs.sort_values(["_order", "_ratio"], kind="stable").drop(
        columns=["_order", "_ratio"]
    )
    ratios = pairs["ratio"]
    judged_pairs = pairs[np.isfinite(ratios) & (ratios > 0) & (pairs["verdict"] != NOT_COMPARABLE)]
    geometric_means = {
        unit: float(gmean(group["ratio"]))
        for unit, group in judged_pairs.groupby("unit_baseline", sort=True)
    }
    return Comparison(pairs.reset_index(drop=True), geometric_means, factor, keys, skipped_pairs)


def _stats(row, side: str) -> dict | None:
    low, high = getattr(row, f"ci_99_low_{side}"), getattr(row, f"ci_99_high_{side}")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return None
    return {"ci_99_a": low, "ci_99_b": high, "repeat": getattr(row, f"repeat_{side}")}


def _judge(row, factor: float) -> dict:
    """Ratio, its 99% interval, significance and verdict for one pair, as asv compare judges."""
    base_status, cont_status = row.status_baseline, row.status_contender
    verdict = {
        "ratio": np.nan,
        "ratio_low": np.nan,
        "ratio_high": np.nan,
        "significant": False,
        "verdict": NOT_COMPARABLE,
        "note": "",
        "regression": False,
    }
    if base_status != STATUS_OK or cont_status != STATUS_OK:
        verdict["note"] = f"baseline {base_status}, contender {cont_status}"
        # A benchmark that worked and now fails is a regression, as asv continuous counts it.
        verdict["regression"] = base_status == STATUS_OK and cont_status == STATUS_FAILED
        return verdict
    # The same benchmark with another definition (asv's version) measures something else.
    # Different benchmarks (eig vs eigh) always differ in version; that is the point there.
    same_benchmark = "benchmark_baseline" not in row._fields  # paired on the benchmark
    if same_benchmark and row.version_baseline != row.version_contender:
        verdict["note"] = "benchmark definition changed"
        return verdict
    base, cont = row.value_baseline, row.value_contender
    if base == 0:  # peak bytes of an in-place update: 0 -> 0 is the same, 0 -> more is worse
        verdict.update(
            ratio=1.0 if cont == 0 else math.inf,
            significant=cont != 0,
            verdict=SAME if cont == 0 else SLOWER,
            regression=cont != 0,
            note="" if cont == 0 else "baseline was zero",
        )
        return verdict
    ratio = cont / base
    verdict["ratio"] = ratio
    base_stats, cont_stats = _stats(row, "baseline"), _stats(row, "contender")
    if base_stats and cont_stats:
        verdict["ratio_low"] = cont_stats["ci_99_a"] / base_stats["ci_99_b"]
        verdict["ratio_high"] = cont_stats["ci_99_b"] / base_stats["ci_99_a"]
        # asv compare skips the test when either side has a single sample (repeat == 1).
        testable = base_stats["repeat"] != 1 and cont_stats["repeat"] != 1
        significant = (not testable) or asv_stats.is_different(
            row.samples_baseline, row.samples_contender, base_stats, cont_stats
        )
    else:
        significant = True  # asv compare falls back to the factor alone without stats
        verdict["note"] = "no statistics recorded"
    verdict["significant"] = bool(significant)
    if significant and ratio > factor:
        verdict.update(verdict=SLOWER, regression=True)
    elif significant and ratio < 1 / factor:
        verdict["verdict"] = FASTER
    else:
        verdict["verdict"] = SAME
        if not significant and (ratio > factor or ratio < 1 / factor):
            verdict["note"] = "not significant"
    return verdict
