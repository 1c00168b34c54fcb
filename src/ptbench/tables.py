"""Presenting comparisons and tables: formatting only, never measuring or judging."""

from __future__ import annotations

import json
import math

import pandas as pd

from ptbench.compare import Comparison

FORMATS = ("table", "markdown", "csv", "json")
UNIT_WORDS = {"seconds": "time", "bytes": "peak memory"}
_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))
_BYTE_UNITS = ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "B"))


def format_value(value: float, unit: str) -> str:
    """12.3us, 4.00MiB: a value in the unit a person reads."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    scales = _TIME_UNITS if unit == "seconds" else _BYTE_UNITS if unit == "bytes" else None
    if scales is None:
        return f"{value:g} {unit}".strip()
    for scale, suffix in scales:
        if abs(value) >= scale or scale == scales[-1][0]:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:g}"


def _ratio_text(row: pd.Series) -> str:
    if math.isnan(row["ratio"]):
        return "n/a"
    if math.isinf(row["ratio"]):
        return "inf"
    if math.isnan(row["ratio_low"]):
        return f"{row['ratio']:.2f}"
    return f"{row['ratio']:.2f} [{row['ratio_low']:.2f}, {row['ratio_high']:.2f}]"


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """One readable row per pair: identity, both values, ratio [99% interval], verdict."""
    pairs = comparison.pairs
    identity = [
        key
        for key in dict.fromkeys(["benchmark", *comparison.keys])
        if key not in ("machine", "commit", "env") and key in pairs and pairs[key].notna().any()
    ]
    table = pairs[identity].astype(object).where(pairs[identity].notna(), "")
    table["baseline"] = [
        format_value(v, u)
        for v, u in zip(pairs["value_baseline"], pairs["unit_baseline"], strict=True)
    ]
    table["contender"] = [
        format_value(v, u)
        for v, u in zip(pairs["value_contender"], pairs["unit_contender"], strict=True)
    ]
    table["ratio [99% CI]"] = pairs.apply(_ratio_text, axis=1)
    if pairs["fraction_of_peak_contender"].notna().any():
        table["% of peak"] = [
            f"{b:.0%} -> {c:.0%}" if pd.notna(b) and pd.notna(c) else ""
            for b, c in zip(
                pairs["fraction_of_peak_baseline"], pairs["fraction_of_peak_contender"], strict=True
            )
        ]
    table["verdict"] = pairs["verdict"]
    table["note"] = pairs["note"]
    return table


def summary_line(comparison: Comparison) -> str:
    counts = comparison.pairs["verdict"].value_counts()
    parts = [f"{counts.get(v, 0)} {v}" for v in ("slower", "faster", "same", "not comparable")]
    means = (
        ", ".join(
            f"{UNIT_WORDS.get(unit, unit)} {mean:.3f}"
            for unit, mean in comparison.geometric_means.items()
        )
        or "n/a"
    )
    return (
        f"{len(comparison.pairs)} pairs: {', '.join(parts)}; geometric mean ratio "
        f"(contender / baseline) {means}; factor {comparison.factor:g}; "
        f"{comparison.skipped_pairs} pairs skipped on both sides"
    )


def render(comparison: Comparison, output_format: str = "table") -> str:
    if output_format == "json":
        columns = [c for c in comparison.pairs.columns if not c.startswith("samples")]
        records = json.loads(comparison.pairs[columns].to_json(orient="records", date_format="iso"))
        return json.dumps(
            {
                "factor": comparison.factor,
                "geometric_means": comparison.geometric_means,
                "matched_on": comparison.keys,
                "pairs": records,
            },
            indent=1,
        )
    if output_format == "csv":
        columns = [c for c in comparison.pairs.columns if not c.startswith("samples")]
        return comparison.pairs[columns].to_csv(index=False)
    table = comparison_table(comparison)
    style = "github" if output_format == "markdown" else "simple"
    return table.to_markdown(index=False, tablefmt=style) + "\n\n" + summary_line(comparison)


def export(frame: pd.DataFrame, path) -> None:
    """Write the results table as CSV, Parquet or JSON, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".csv":
        flat = frame.assign(samples=frame["samples"].map(json.dumps))
        flat.to_csv(path, index=False)
    elif suffix == ".json":
        frame.to_json(path, orient="records", date_format="iso", indent=1)
    else:
        raise ValueError(f"cannot export to {path.name!r}: use a .csv, .parquet or .json file")
