"""Achieved throughput and fraction of the hardware's peak, for every timed result.

Work counts come from each operation's definition (nominal FLOPs for compute-bound operations,
bytes read plus written for memory-bound ones); peaks from the machine facts stored with the
results (``peaks``): the datasheet's when the GPU is recognised, else the measured probe's.
"""

from __future__ import annotations

import math

import pandas as pd

from ptbench.operations import OPERATIONS, Case

COLUMNS = ("achieved", "achieved_unit", "intensity", "peak", "peak_source", "fraction_of_peak")


def _case(row: pd.Series, dtypes: tuple[str, ...]) -> Case:
    def text(key: str) -> str | None:
        value = row.get(key)
        return value if isinstance(value, str) else None

    return Case(
        device=text("device") or "cpu",
        size=int(row["size"]),
        dtype=text("dtype") or dtypes[0],
        method=text("method"),
    )


def peak(row: pd.Series, device: str, what: str) -> tuple[float, str]:
    """(peak, source) for ``what`` ('float32', 'copy'...) on ``device`` from the row's facts."""
    unit = "gbps" if what == "copy" else "gflops"
    for source in ("datasheet", "peak"):
        value = row.get(f"{source}_{device}_{what}_{unit}")
        if isinstance(value, str) and value:
            return float(value), "datasheet" if source == "datasheet" else "measured"
    return math.nan, ""


def row_efficiency(row: pd.Series) -> tuple:
    """The ``COLUMNS`` values for one result row (NaN where they do not apply)."""
    empty = (math.nan, "", math.nan, math.nan, "", math.nan)
    operation = OPERATIONS.get(row.get("operation"))
    if (
        operation is None
        or row.get("unit") != "seconds"
        or row.get("status") != "ok"
        or pd.isna(row.get("size"))
    ):
        return empty
    case = _case(row, operation.dtypes)
    flops = operation.flops(case) if operation.flops else math.nan
    moved = operation.bytes_moved(case) if operation.bytes_moved else math.nan
    intensity = flops / moved if moved else math.nan
    seconds = row["value"]
    if operation.bound == "compute":
        achieved, unit = flops / seconds / 1e9, "GFLOP/s"
        precision = row.get("float32_matmul_precision")
        what = (
            "tf32"
            if case.dtype == "float32" and case.device == "cuda" and precision in ("high", "medium")
            else case.dtype
        )
    elif not math.isnan(moved) and moved:
        achieved, unit, what = moved / seconds / 1e9, "GB/s", "copy"
    else:
        return (math.nan, "", intensity, math.nan, "", math.nan)
    limit, source = peak(row, case.device, what)
    return (achieved, unit, intensity, limit, source, achieved / limit if limit else math.nan)


def add_efficiency(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``COLUMNS`` added (attrs kept)."""
    values = [row_efficiency(row) for _, row in frame.iterrows()]
    extra = pd.DataFrame(values, columns=list(COLUMNS), index=frame.index)
    attrs = dict(frame.attrs)
    frame = pd.concat([frame, extra], axis=1)
    frame.attrs.update(attrs)
    return frame
