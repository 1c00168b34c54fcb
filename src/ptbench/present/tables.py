"""Presenting comparisons and tables: formatting only, never measuring or judging."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ptbench.analysis import judgement
from ptbench.core import schema
from ptbench.core.errors import UsageError
from ptbench.core.outputs import cut
from ptbench.core.schema import EQUIVALENT, FASTER, INCONCLUSIVE, NOT_COMPARABLE, SLOWER

if TYPE_CHECKING:  # not at run time: exporting a table needs no statistics (scipy.stats)
    from ptbench.analysis.compare import Comparison

FORMATS = ("table", "markdown", "csv", "json")
# What a verdict says of memory: "faster" means "takes less" there.
MEMORY_VERDICTS = {SLOWER: "more memory", FASTER: "less memory"}


def format_value(value: float, unit: str) -> str:
    """12.3us, 4.00MiB: a value in the unit a person reads."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    scales = {schema.SECONDS: schema.TIME_SCALES, schema.BYTES: schema.BYTE_SCALES}.get(unit)
    if scales is None:
        return f"{value:g} {unit}".strip()
    for scale, suffix in scales:
        if abs(value) >= scale or scale == scales[-1][0]:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:g}"


# How far out an interval's bound or a detectable change is shown as a number: past it, "<0.01"
# or ">100". Four pairs of a bimodal process at a family-wise level give bounds like
# [0.00, 32151023.88] and "could detect 13790375.85x" (the release comparison, 2026-12-07):
# digits that claim a precision the data do not have, where the point is "nothing".
RATIO_SHOWN_LIMIT = 100.0


def bound_text(bound: float) -> str:
    """An interval's bound, ``1.10``, or ``>100`` / ``<0.01`` past ``RATIO_SHOWN_LIMIT``."""
    if bound > RATIO_SHOWN_LIMIT:
        return f">{RATIO_SHOWN_LIMIT:g}"
    if bound < 1 / RATIO_SHOWN_LIMIT:
        return f"<{1 / RATIO_SHOWN_LIMIT:g}"
    return f"{bound:.2f}"


def ratio_text(ratio: float, low: float, high: float) -> str:
    """``1.23 [1.10, 1.38]``: a ratio and its interval, as people read them."""
    if ratio is None or math.isnan(ratio):
        return "n/a"
    if math.isinf(ratio):
        return "inf"
    if low is None or math.isnan(low):
        return f"{ratio:.2f}"
    return f"{ratio:.2f} [{bound_text(low)}, {bound_text(high)}]"


def shown_interval(row) -> tuple[float, float]:
    """The interval a verdict rests on: the equivalence interval for ``equivalent``, the
    regression interval for every other verdict (``ptbench.analysis.judgement``)."""
    if row["verdict"] == EQUIVALENT and pd.notna(row.get("equivalence_low")):
        return row["equivalence_low"], row["equivalence_high"]
    return row["ratio_low"], row["ratio_high"]


def shown_ratio_text(row: pd.Series) -> str:
    """A pair's ratio with the interval its verdict rests on (``shown_interval``)."""
    return ratio_text(row["ratio"], *shown_interval(row))


# The texts reports, the site and the terminal share.
DATE_FORMAT = "%Y-%m-%d %H:%M"
SEQUENTIAL_CAVEAT = (
    "Found in runs taken one after another: a machine that drifts between runs looks the same. "
    "Confirm one with `ptbench ab` (interleaved, paired) before acting on it."
)


def times(value: float) -> str:
    """``1.25x``: a ratio or speedup as people read it."""
    return f"{value:.2f}x"


def detectable_text(verdict: str, detectable: float) -> str:
    """For an inconclusive pair, the smallest change its data could have confirmed: ``1.83x``,
    ``over 100x`` past ``RATIO_SHOWN_LIMIT``, ``unbounded`` where no change could."""
    if verdict != INCONCLUSIVE or detectable is None or pd.isna(detectable):
        return ""
    if math.isinf(detectable):
        return "unbounded"
    return f"over {RATIO_SHOWN_LIMIT:g}x" if detectable > RATIO_SHOWN_LIMIT else times(detectable)


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """One readable row per pair: identity, both values, ratio [99% interval], verdict."""
    pairs = comparison.pairs
    identity = [
        key
        for key in dict.fromkeys(["benchmark", *comparison.keys])
        if key not in ("machine", "commit", "env") and key in pairs and pairs[key].notna().any()
    ]
    table = pairs[identity].astype(object).where(pairs[identity].notna(), "")
    for key in ("machine", "env", "commit"):  # a run key only where rows come from several runs
        if key in comparison.keys and key in pairs and pairs[key].nunique() > 1:
            table[key] = pairs[key].str[:8] if key == "commit" else pairs[key]
    heads = PAIRED_HEADS if comparison.paired else ("baseline", "contender", "ratio [interval]")
    for head, side in zip(heads, ("baseline", "contender"), strict=False):
        table[head] = [
            format_value(v, u)
            for v, u in zip(pairs[f"value_{side}"], pairs[f"unit_{side}"], strict=True)
        ]
    table[heads[2]] = pairs.apply(shown_ratio_text, axis=1)
    if pairs["fraction_of_peak_contender"].notna().any():
        ceilings = pairs.get("ceiling_contender", pd.Series("", index=pairs.index))
        table["% of peak"] = [
            f"{b:.0%} -> {c:.0%}{f' ({level})' if isinstance(level, str) and level else ''}"
            if pd.notna(b) and pd.notna(c) else ""
            for b, c, level in zip(pairs["fraction_of_peak_baseline"],
                                   pairs["fraction_of_peak_contender"], ceilings, strict=True)
        ]  # fmt: skip
    table["verdict"] = [
        MEMORY_VERDICTS.get(verdict, verdict) if unit == schema.BYTES else verdict
        for verdict, unit in zip(pairs["verdict"], pairs["unit_baseline"], strict=True)
    ]
    if (pairs["verdict"] == INCONCLUSIVE).any() and "detectable" in pairs:
        found = zip(pairs["verdict"], pairs["detectable"], strict=True)
        table["could detect"] = [detectable_text(v, d) for v, d in found]
    table["note"] = pairs["note"]
    return table


# An A/B table's values are each side's median round, its ratio the paired estimate (from each
# pair's own ratio, trimmed): the two need not agree, and the heads say which is which.
PAIRED_HEADS = ("baseline (median)", "contender (median)", "paired ratio [interval]")
PAIRED_LEGEND = (
    "paired: baseline and contender are each side's median round; the ratio is estimated from "
    "each pair's own ratio (rounds side by side), so it need not equal their quotient"
)
INTERVAL_LEGEND = (
    "intervals: slower, faster and inconclusive show the interval regressions are judged on; "
    "equivalent, the one equivalence is judged on (ptbench.analysis.judgement)"
)


def summary_line(comparison: Comparison) -> str:
    """What a person reads last: the count of each verdict (inconclusive apart from the
    passes, always) and the share decided; then the geometric means and the factor."""
    counts = judgement.counts(comparison.pairs["verdict"])
    decided = judgement.decided_share(comparison.pairs["verdict"])
    verdicts = f"{len(comparison.pairs)} pairs: " + ", ".join(
        f"{counts[verdict]} {verdict}" for verdict in judgement.ORDER
    )
    if decided == decided:  # not NaN: some pair was comparable
        verdicts += f" ({decided:.0%} of comparable pairs decided)"
    means = ", ".join(
        f"{schema.UNIT_WORDS.get(unit, unit)} {mean:.3f}"
        for unit, mean in comparison.geometric_means.items()
    )
    lines = [
        verdicts,
        f"geometric mean ratio (contender / baseline): {means or 'n/a'}; factor "
        f"{comparison.factor:g}; {comparison.skipped_pairs} pairs skipped on both sides",
    ]
    if counts[INCONCLUSIVE]:
        lines.append(
            f"{counts[INCONCLUSIVE]} inconclusive: the data cannot tell a change from none; "
            f"{_about_the_factor(comparison)}'could detect' is the smallest change they could "
            "have confirmed"
        )
    return "\n".join([*lines, INTERVAL_LEGEND, *([PAIRED_LEGEND] if comparison.paired else [])])


def _about_the_factor(comparison: Comparison) -> str:
    """``"N of them changed by about the factor; "`` where some inconclusive pairs' intervals
    lie wholly on one side of 1 (``judgement.about_the_factor``), else nothing."""
    pairs = comparison.pairs
    ratios = [pairs[key].astype(float) for key in ("ratio", "ratio_low", "ratio_high")]
    near = judgement.about_the_factor(*ratios, comparison.factor)
    found = int((near & (pairs["verdict"] == INCONCLUSIVE)).sum())
    return f"{found} of them changed by about the factor (interval wholly above or below 1); " \
        if found else ""


def change_table(changes: pd.DataFrame, at: str) -> pd.DataFrame:
    """Change points for people: where (previous -> first at the new level), the change, the
    levels either side in their unit, p; parameters a benchmark lacks print empty."""
    shown = pd.DataFrame(index=changes.index)
    skip = {"unit", "direction", "change", "before", "after", at, f"previous_{at}", "p_value",
            "commit_date", "torch_order"}  # fmt: skip
    for column in changes.columns:
        if column not in skip:
            shown[column] = changes[column].astype(object).where(changes[column].notna(), "")
    pairs = zip(changes[f"previous_{at}"], changes[at], strict=True)
    shown["where"] = [f"{str(a)[:12]} -> {str(b)[:12]}" for a, b in pairs]
    steps = zip(changes["change"], changes["direction"], strict=True)
    shown["change"] = [f"x{c:.2f} ({d})" for c, d in steps]
    for side in ("before", "after"):
        levels = zip(changes[side], changes["unit"], strict=True)
        shown[side] = [format_value(v, u) for v, u in levels]
    shown["p"] = [f"{p:.1g}" if pd.notna(p) else "untested" for p in changes["p_value"]]
    return shown


def plain(value):
    """A table cell as a JSON value: numpy scalars as Python numbers, times as ISO strings, and
    null for what is missing or not a finite number (JSON has no NaN or Infinity)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def to_json(document: dict) -> str:
    """``document`` as strict JSON (non-finite numbers as null), indented."""
    return json.dumps(plain(document), indent=1, allow_nan=False, default=str)


def pair_records(pairs: pd.DataFrame) -> list[dict]:
    """The pairs as JSON-ready records (samples left out)."""
    columns = [c for c in pairs.columns if not c.startswith("samples")]
    return plain(pairs[columns].to_dict(orient="records"))


def _unlisted(pairs: pd.DataFrame) -> pd.Series:
    """Pairs a terminal table leaves out unless asked: not comparable, and not a regression
    (a combination that ran before and fails now is always listed)."""
    return (pairs["verdict"] == NOT_COMPARABLE) & ~pairs["regression"].fillna(False).astype(bool)


def commonest_notes(pairs: pd.DataFrame, unit: str = "", most: int = 3) -> str:
    """``2490 baseline ok, contender skipped; 3 ...``: why pairs are as they are, commonest
    first (``unit``, e.g. "pairs ", after each count)."""
    counts = pairs["note"].value_counts().head(most)
    return "; ".join(f"{count} {unit}{note}" for note, count in counts.items())


def unlisted_line(pairs: pd.DataFrame) -> str | None:
    """Why pairs are missing from the table, in a line (None when none are)."""
    hidden = pairs[_unlisted(pairs)]
    if hidden.empty:
        return None
    reasons = commonest_notes(hidden)
    if len(hidden) == len(pairs):
        return (f"nothing to compare: none of the {len(pairs)} pairs ran on both sides "
                f"({reasons}); --all lists them")  # fmt: skip
    return f"{len(hidden)} pairs not comparable and not listed ({reasons}); --all lists them"


def render(comparison: Comparison, output_format: str = "table", show_all: bool = False) -> str:
    """The comparison as a terminal table, Markdown, CSV or JSON. The table and Markdown leave
    out pairs that are not comparable (unless ``show_all``), saying how many and why; CSV and
    JSON hold every pair."""
    columns = [c for c in comparison.pairs.columns if not c.startswith("samples")]
    if output_format == "json":
        return to_json(
            {
                "factor": comparison.factor,
                "geometric_means": comparison.geometric_means,
                "matched_on": comparison.keys,
                "pairs": pair_records(comparison.pairs),
            }
        )
    if output_format == "csv":
        return comparison.pairs[columns].to_csv(index=False)
    table = shown_cells(comparison_table(comparison))
    unlisted = None if show_all else unlisted_line(comparison.pairs)
    if unlisted is not None:
        table = table[~_unlisted(comparison.pairs).to_numpy()]
    style = "github" if output_format == "markdown" else "simple"
    shown = [table.to_markdown(index=False, tablefmt=style)] if len(table) else []
    return "\n\n".join([*shown, *([unlisted] if unlisted else []), summary_line(comparison)])


# A terminal or Markdown cell (a name, a parameter, a note read from a results folder) shows at
# most CELL_SHOWN characters: a name of 600 characters made rows 808 characters wide. CSV and
# JSON keep every character.
CELL_SHOWN = 120


def shown_cells(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its long text cells and headings cut (``outputs.cut``)."""
    shown = table.map(lambda cell: cut(cell, CELL_SHOWN) if isinstance(cell, str) else cell)
    return shown.rename(columns=lambda name: cut(str(name), CELL_SHOWN))


EXPORT_SUFFIXES = (".csv", ".parquet", ".json")


def check_export_suffix(path: Path) -> None:
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise UsageError(
            f"cannot export to {path.name!r}: use a file ending in {', '.join(EXPORT_SUFFIXES)}"
        )


def export(frame: pd.DataFrame, path: Path, named: Path | None = None) -> None:
    """Write the results table to ``path`` as CSV, Parquet or JSON, chosen by the suffix of
    ``named`` (default ``path``; a temporary file is written under another name)."""
    suffix = (named or path).suffix.lower()
    check_export_suffix(named or path)
    if suffix == ".parquet":
        pq.write_table(_readable_by_pandas(pa.Table.from_pandas(frame, preserve_index=False)), path)
    elif suffix == ".csv":
        samples = [json.dumps(s) if isinstance(s, list) else None for s in frame["samples"]]
        flat = frame.assign(samples=samples)
        flat.to_csv(path, index=False)
    else:  # pandas writes NaN and infinities as null: strict JSON
        frame.to_json(path, orient="records", date_format="iso", indent=1)


def _readable_by_pandas(table: pa.Table) -> pa.Table:
    """``table`` with its Arrow list columns (samples) described to pandas as plain objects:
    pandas records them as ``list<item: double>[pyarrow]``, a dtype its own ``read_parquet``
    cannot parse back, and a user's ``pd.read_parquet(export)`` must work."""
    metadata = json.loads(table.schema.metadata[b"pandas"])
    for column in metadata["columns"]:
        if str(column.get("numpy_type", "")).startswith("list<"):
            column["numpy_type"] = "object"
    return table.replace_schema_metadata({**table.schema.metadata, b"pandas": json.dumps(metadata)})
