"""Baseline versus contender along any axis, with statistics: one mechanism for every question.

A selector is ``KEY=VALUE[,KEY=VALUE]``. KEY is a run-level key (``commit``, ``machine``,
``env``, ``torch``...) or a benchmark parameter (``device``, ``method``, ``dtype``...). Rows of
the two sides are matched on every other key, so ``device=cpu`` vs ``device=cuda`` compares CUDA
with the CPU for each benchmark, size, commit and machine, and ``commit=a`` vs ``commit=b``
compares two commits benchmark by benchmark.

Each pair is judged by ``analysis.judgement``, the model ``ptbench ab`` shares. ``slower`` and
``faster`` need the ratio past ``factor``, the 99% interval wholly on that side of 1, and
statistical significance decided as ``asv compare`` decides it (``asv._stats.is_different``,
through ``stats.is_different``, which makes the same decisions faster: Mann-Whitney U at
p < 0.002 on the recorded samples, else non-overlap of the 99% intervals). ``equivalent`` needs
the same 99% interval inside [1/factor, factor]: stricter than ``ab``'s per-pair 5%, because the
samples of one run cannot see how far the next run drifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ptbench.analysis import judgement, stats
from ptbench.core.errors import SelectorError, UsageError
from ptbench.core.outputs import cut
from ptbench.core.schema import (  # noqa: F401 - the verdicts, re-exported for callers
    BYTES,
    COMPARED_UNITS,
    DEFAULT_FACTOR,
    EQUIVALENT,
    FASTER,
    INCONCLUSIVE,
    NOT_COMPARABLE,
    SECONDS,
    SLOWER,
    STATUS_OK,
    STATUS_SKIPPED,
    VERDICTS,
    factor_problem,
)
from ptbench.hardware import noise

__all__ = ["COMPARED_UNITS", "Comparison", "SelectorError", "check_factor", "compare"]


def check_factor(factor: float) -> float:
    """``factor`` if it can tell a change from none: finite and greater than 1."""
    problem = factor_problem(factor)
    if problem:
        raise UsageError(f"--factor {factor} {problem}")
    return float(factor)


def parse_selector(text: str) -> dict[str, str]:
    """``"commit=abc,device=cuda"`` -> ``{"commit": "abc", "device": "cuda"}``."""
    selector: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, equals, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key or not value:
            raise SelectorError(f"selector part {part!r} is not KEY=VALUE")
        if key in selector:
            raise SelectorError(
                f"selector {text!r} gives {key} twice ({selector[key]!r} and {value!r}); "
                "give each key once"
            )
        selector[key] = value
    if not selector:
        raise SelectorError(f"selector {text!r} is empty; give KEY=VALUE[,KEY=VALUE]")
    return selector


def selectable_keys(frame: pd.DataFrame) -> list[str]:
    """Benchmark parameters and run-level keys present in ``frame`` (as loaded)."""
    return ["benchmark", "operation", *frame.attrs["param_keys"], *frame.attrs["run_keys"]]


# The machine's measured facts (peaks, ceilings, caches, noise): keys one can select on, but
# thirty of them made the line naming an unknown key 740 characters long (a hostile pass).
MEASURED_FACTS = ("peak_", "ceiling_", "cache_", "theoretical_", "noise")


def _listed(keys: list[str]) -> str:
    shown = [key for key in keys if not key.startswith(MEASURED_FACTS)]
    hidden = sorted({p for key in keys for p in MEASURED_FACTS if key.startswith(p)})
    more = f", and {len(keys) - len(shown)} measured facts of the machine " + (
        f"({', '.join(p.rstrip('_') + '*' for p in hidden)})") if hidden else ""  # fmt: skip
    return ", ".join(shown) + more


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
            raise SelectorError(f"{side}: unknown key {cut(key)!r}; keys: {_listed(keys)}")
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
    paired: bool = False  # judged from paired rounds (ptbench ab): the ratio is the paired estimate

    @property
    def geometric_mean(self) -> float:
        """The time ratios' geometric mean (the only unit's, for a memory-only comparison)."""
        means = self.geometric_means
        return means.get(SECONDS, next(iter(means.values()), math.nan))

    @property
    def regressions(self) -> pd.DataFrame:
        return self.pairs[self.pairs["regression"]]


def _check_unambiguous(frame: pd.DataFrame, rows: pd.DataFrame, keys: list[str], side: str):
    duplicated = rows[rows.duplicated(keys, keep=False)]
    if duplicated.empty:
        return
    varying = [
        column
        for column in selectable_keys(frame)
        if column not in keys and duplicated.groupby(keys, dropna=False)[column].nunique().max() > 1
    ]
    example = duplicated.iloc[0]
    raise SelectorError(
        f"{side} matches several results for {example['benchmark']} (they differ in "
        f"{', '.join(varying) or 'commit date'}); add one of those keys to both selectors"
    )


def pair(
    frame: pd.DataFrame, baseline: dict[str, str], contender: dict[str, str]
) -> tuple[pd.DataFrame, list[str], int]:
    """Rows of the two sides matched on every key but the selected ones: (pairs, with columns
    suffixed ``_baseline`` and ``_contender``; the keys matched on; the number of pairs skipped
    on both sides, which are left out)."""
    frame = frame[frame["unit"].isin(COMPARED_UNITS)]
    base = select(frame, baseline, "baseline")
    cont = select(frame, contender, "contender")
    keys = match_keys(frame, set(baseline) | set(contender))
    _check_unambiguous(frame, base, keys, "baseline")
    _check_unambiguous(frame, cont, keys, "contender")
    pairs = base.merge(cont, on=keys, how="inner", suffixes=("_baseline", "_contender"))
    if "benchmark" not in keys:  # operation vs operation: name each pair by its contender
        pairs.insert(0, "benchmark", pairs["benchmark_contender"])
    # Skipped on both sides (n/a, n/a): nothing ran, nothing to judge.
    both_skipped = (pairs["status_baseline"] == STATUS_SKIPPED) & (
        pairs["status_contender"] == STATUS_SKIPPED
    )
    pairs = pairs[~both_skipped]
    if pairs.empty:
        raise SelectorError(
            "baseline and contender share no benchmark results to pair "
            f"(paired on {', '.join(keys)})"
        )
    return pairs, keys, int(both_skipped.sum())


order_pairs = judgement.order  # one ordering for every comparison


def geometric_means(pairs: pd.DataFrame) -> dict[str, float]:
    """Per unit, the geometric mean ratio over pairs with a positive, finite ratio."""
    ratios = pairs["ratio"]
    judged = pairs[np.isfinite(ratios) & (ratios > 0) & (pairs["verdict"] != NOT_COMPARABLE)]
    return {
        unit: float(np.exp(np.log(group["ratio"]).mean()))  # scipy.stats.gmean's definition
        for unit, group in judged.groupby("unit_baseline", sort=True)
    }


def compare(
    frame: pd.DataFrame,
    baseline: dict[str, str],
    contender: dict[str, str],
    factor: float = DEFAULT_FACTOR,
) -> Comparison:
    """Pair baseline and contender rows and judge each pair (see module docstring)."""
    check_factor(factor)
    pairs, keys, skipped_pairs = pair(frame, baseline, contender)
    judged = pd.DataFrame(
        [_judge(row, factor) for row in pairs.itertuples(index=False)], index=pairs.index
    )
    pairs = order_pairs(pd.concat([pairs, judged], axis=1))
    return Comparison(pairs, geometric_means(pairs), factor, keys, skipped_pairs)


def _stats(row, side: str) -> dict | None:
    low, high = getattr(row, f"ci_99_low_{side}"), getattr(row, f"ci_99_high_{side}")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return None
    return {"ci_99_a": low, "ci_99_b": high, "repeat": getattr(row, f"repeat_{side}")}


def _samples(row, side: str) -> list[float] | None:
    samples = getattr(row, f"samples_{side}")
    return list(samples) if isinstance(samples, (list, tuple, np.ndarray)) else None


def _interval_and_significance(row, ratio: float) -> tuple[tuple[float, float], bool, str]:
    """The ratio's 99% interval and asv compare's significance decision for one pair."""
    base_stats, cont_stats = _stats(row, "baseline"), _stats(row, "contender")
    base_samples, cont_samples = _samples(row, "baseline"), _samples(row, "contender")
    if base_samples and cont_samples:
        interval = stats.ratio_interval_from_samples(base_samples, cont_samples)
    elif base_stats and cont_stats:
        interval = stats.ratio_interval_from_bounds(
            (base_stats["ci_99_a"], base_stats["ci_99_b"]),
            (cont_stats["ci_99_a"], cont_stats["ci_99_b"]),
        )
    else:  # nothing to judge a change or an equivalence on: inconclusive, whatever the ratio
        return (math.nan, math.nan), True, "no statistics recorded"
    # asv compare skips the test when either side has a single sample (repeat == 1).
    testable = bool(base_stats and cont_stats) and 1 not in (
        base_stats["repeat"],
        cont_stats["repeat"],
    )
    significant = not testable or stats.is_different(
        base_samples, cont_samples, base_stats, cont_stats
    )
    return stats.enclose(ratio, interval), bool(significant), ""


def _disturbed(row) -> str | None:
    """The noise verdict of whichever side's run was disturbed, or None."""
    for side in ("baseline", "contender"):
        verdict = getattr(row, f"{noise.VERDICT_KEY}_{side}", None)
        if noise.is_disturbed(verdict):
            return f"{side}: {verdict.split(': ', 1)[-1]}"
    return None


def _judge(row, factor: float) -> dict:
    """Ratio, its 99% interval, significance and verdict for one pair (module docstring)."""
    base_status, cont_status = row.status_baseline, row.status_contender
    if base_status != STATUS_OK or cont_status != STATUS_OK:
        return {**judgement.not_comparable(base_status, cont_status).record(), "significant": False}
    # The same benchmark with another definition (asv's version) measures something else.
    # Different benchmarks (eig vs eigh) always differ in version; that is the point there.
    same_benchmark = "benchmark_baseline" not in row._fields  # paired on the benchmark
    if same_benchmark and row.version_baseline != row.version_contender:
        changed = judgement.not_comparable(base_status, cont_status, "benchmark definition changed")
        return {**changed.record(), "significant": False}
    base, cont = row.value_baseline, row.value_contender
    if base == 0 or cont == 0:
        zero = judgement.from_zero(base, cont, factor)
        return {**zero.record(), "significant": zero.verdict in (SLOWER, FASTER)}
    ratio = cont / base
    interval, significant, note = _interval_and_significance(row, ratio)
    if note and row.unit_baseline == BYTES:  # peak memory is exact: no samples, no spread
        interval, note = (ratio, ratio), ""
    judged = judgement.judge(
        ratio, interval, interval, factor, note=note, significant=significant,
        disturbed=_disturbed(row),
    )  # fmt: skip
    return {**judged.record(), "significant": judged.verdict in (SLOWER, FASTER)}
