"""Achieved throughput and fraction of the hardware's peak, for every timed result.

Work counts come from each operation's definition (nominal FLOPs for compute-bound operations,
bytes read plus written for memory-bound ones); peaks from the facts recorded in the result itself
(``peaks``): the datasheet's when the GPU is recognised, else the measured probe's.
"""

from __future__ import annotations

import math

import pandas as pd

from ptbench import schema
from ptbench.devices import float32_matmul_is_reduced
from ptbench.operations import OPERATIONS, Case

COLUMNS = ("achieved", "achieved_unit", "intensity", "peak", "peak_source", "fraction_of_peak")
_EMPTY = (math.nan, "", math.nan, math.nan, "", math.nan)


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
        try:
            number = float(value) if isinstance(value, str) else math.nan
        except ValueError:
            number = math.nan
        if number > 0 and math.isfinite(number):
            return number, "datasheet" if source == "datasheet" else "measured"
    return math.nan, ""


def _peak_key(case: Case, precision: object) -> str:
    """Which peak a compute-bound result is judged against: TF32 for a float32 CUDA matmul
    that was allowed reduced precision, else its dtype's."""
    reduced = isinstance(precision, str) and float32_matmul_is_reduced(precision)
    return "tf32" if case.dtype == "float32" and case.device == "cuda" and reduced else case.dtype


def row_efficiency(row: pd.Series) -> tuple:
    """The ``COLUMNS`` values for one result row (NaN where they do not apply)."""
    operation = OPERATIONS.get(row.get("operation"))
    seconds = row.get("value")
    if (
        operation is None
        or row.get("unit") != schema.SECONDS
        or row.get("status") != schema.STATUS_OK
        or pd.isna(row.get("size"))
        or not seconds > 0
    ):
        return _EMPTY
    case = _case(row, operation.dtypes)
    flops = operation.flops(case) if operation.flops else math.nan
    moved = operation.bytes_moved(case) if operation.bytes_moved else math.nan
    intensity = flops / moved if moved else math.nan
    if operation.bound == "compute":
        achieved, unit = flops / seconds / 1e9, "GFLOP/s"
        what = _peak_key(case, row.get("float32_matmul_precision"))
    elif not math.isnan(moved) and moved:
        achieved, unit, what = moved / seconds / 1e9, "GB/s", "copy"
    else:
        return (math.nan, "", intensity, math.nan, "", math.nan)
    limit, source = peak(row, case.device, what)
    return (achieved, unit, intensity, limit, source, achieved / limit if limit else math.nan)


def add_efficiency(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``COLUMNS`` added."""
    values = [row_efficiency(row) for _, row in frame.iterrows()]
    extra = pd.DataFrame(values, columns=list(COLUMNS), index=frame.index)
    return pd.concat([frame, extra], axis=1)
