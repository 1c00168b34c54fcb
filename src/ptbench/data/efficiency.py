"""Achieved throughput and fraction of the hardware's peak, for every timed result.

Work counts come from each operation's definition (nominal FLOPs for compute-bound operations,
bytes read plus written for memory-bound ones); peaks from the facts recorded in the result itself
(``peaks``, ``ceilings``): the datasheet's when the GPU is recognised, else the measured probe's.
A memory-bound result is judged by the level of the memory hierarchy its working set (the
operation's ``footprint_bytes``) fits in, and says which (``ceiling``: L1, L2, L3, DRAM, HBM);
a compute-bound one by the larger of the best matmul measured and the FMA peak computed from
the CPU's facts (``ceiling``: compute; ``peak_source`` says which).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ptbench.core import schema
from ptbench.hardware import ceilings
from ptbench.hardware.devices import float32_matmul_is_reduced
from ptbench.suite.operations import OPERATIONS, Case, CountingCase

COLUMNS = ("achieved", "achieved_unit", "intensity", "peak", "peak_source", "ceiling",
           "fraction_of_peak")  # fmt: skip
COMPUTE = "compute"  # the ceiling of a compute-bound result; memory levels: ceilings.LEVEL_NAMES


def _case(row: pd.Series, dtypes: tuple[str, ...]) -> CountingCase:
    def text(key: str) -> str | None:
        value = row.get(key)
        return value if isinstance(value, str) else None

    return CountingCase(
        device=text("device") or "cpu",
        size=int(row["size"]),
        dtype=text("dtype") or dtypes[0],
        method=text("method"),
    )


def _declared(case: CountingCase, operation) -> bool:
    """Whether the case's device, dtype and method are ones the operation declares."""
    methods = operation.methods
    return (case.device in ceilings.MAIN_MEMORY and case.dtype in operation.dtypes
            and (case.method in methods if methods else case.method is None)
            and 0 < case.size < 2**62)  # fmt: skip


def _number(value: object) -> float:
    try:
        number = float(value) if isinstance(value, str) else math.nan
    except ValueError:
        return math.nan
    return number if number > 0 and math.isfinite(number) else math.nan


def peak(row: pd.Series, device: str, what: str) -> tuple[float, str]:
    """(peak, source) for ``what`` ('float32', 'copy'...) on ``device`` from the row's facts:
    the datasheet's, else the larger of the best matmul measured and the FMA peak computed from
    the CPU's facts (``ceilings.theoretical``), saying which."""
    unit = "gbps" if what == "copy" else "gflops"
    sheet = _number(row.get(f"datasheet_{device}_{what}_{unit}"))
    if not math.isnan(sheet):
        return sheet, "datasheet"
    measured = _number(row.get(f"peak_{device}_{what}_{unit}"))
    computed = _number(row.get(f"theoretical_{device}_{what}_{unit}"))
    if computed > measured or (math.isnan(measured) and not math.isnan(computed)):
        return computed, "computed"
    return measured, "measured" if not math.isnan(measured) else ""


def memory_ceiling(row: pd.Series, device: str, footprint: float) -> tuple[float, str, str]:
    """(ceiling, source, level) for a memory-bound result whose working set is ``footprint``
    bytes: the bandwidth of the level it fits in (cache-aware roofline, ``ceilings``). A
    result recorded before the levels were probed is judged by main memory's copy bandwidth
    only if its working set was at least as large as that probe's; else by nothing (NaN),
    rather than by a ceiling its caches exceed."""
    levels = (*ceilings.CPU_LEVELS, ceilings.MAIN_MEMORY[device])
    capacities = {level: _number(row.get(f"cache_{device}_{level}_bytes")) for level in levels}
    capacities = {level: size for level, size in capacities.items() if not math.isnan(size)}
    main = ceilings.MAIN_MEMORY[device]
    if not any(k.startswith(f"ceiling_{device}_") and isinstance(v, str) for k, v in row.items()):
        if footprint >= ceilings.MAIN_MEMORY_BYTES[device]:
            return (*peak(row, device, "copy"), ceilings.LEVEL_NAMES[main])
        return math.nan, "", ""
    level = ceilings.level_of(footprint, capacities, device)
    value = _number(row.get(f"ceiling_{device}_{level}_gbps"))
    if level == main:
        sheet = _number(row.get(f"datasheet_{device}_copy_gbps"))
        if not math.isnan(sheet):
            return sheet, "datasheet", ceilings.LEVEL_NAMES[level]
    return value, "measured" if not math.isnan(value) else "", ceilings.LEVEL_NAMES[level]


def _peak_key(case: Case, precision: object) -> str:
    """Which peak a compute-bound result is judged against: TF32 for a float32 CUDA matmul
    that was allowed reduced precision, else its dtype's."""
    reduced = isinstance(precision, str) and float32_matmul_is_reduced(precision)
    return "tf32" if case.dtype == "float32" and case.device == "cuda" and reduced else case.dtype


def work(row: pd.Series) -> tuple:
    """What one kind of row is judged by, from its operation, parameters and facts (not its
    time): (work per call, achieved unit, intensity, peak, peak source). Work is FLOPs for a
    compute-bound operation, bytes moved for a memory-bound one; NaN where nothing applies."""
    operation = OPERATIONS.get(row.get("operation"))
    if (
        operation is None
        or row.get("unit") != schema.SECONDS
        or row.get("status") != schema.STATUS_OK
        or pd.isna(row.get("size"))
    ):
        return (math.nan, "", math.nan, math.nan, "", "")
    case = _case(row, operation.dtypes)
    if not _declared(case, operation):  # a value the suite never ran (a hand-edited history)
        return (math.nan, "", math.nan, math.nan, "", "")
    flops = operation.flops(case) if operation.flops else math.nan
    moved = operation.bytes_moved(case) if operation.bytes_moved else math.nan
    intensity = flops / moved if moved else math.nan
    if operation.bound == "compute":
        what = _peak_key(case, row.get("float32_matmul_precision"))
        return (flops, "GFLOP/s", intensity, *peak(row, case.device, what), COMPUTE)
    if not math.isnan(moved) and moved:
        # The bytes a call touches are at most those it moves and at most those it holds (the
        # footprint also counts what only the check reads); the smaller can only place it in a
        # faster level, whose ceiling bounds it from above.
        working_set = min(operation.footprint_bytes(case), moved)
        return (moved, "GB/s", intensity, *memory_ceiling(row, case.device, working_set))
    return (math.nan, "", intensity, math.nan, "", "")


def _work_keys(frame: pd.DataFrame) -> list[str]:
    """The columns ``work`` reads: rows that agree on them have the same work and peak."""
    named = ["operation", "unit", "status", "device", "size", "dtype", "method",
             "float32_matmul_precision"]  # fmt: skip
    peaks = [c for c in frame.columns
             if c.startswith(("peak_", "datasheet_", *ceilings.FACT_PREFIXES))]  # fmt: skip
    return [c for c in named if c in frame] + peaks


def add_efficiency(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``COLUMNS`` added. ``work`` runs once per distinct kind of row (a
    few hundred in a history of a million rows); the division by each row's time is vectorised."""
    keys = _work_keys(frame)
    if frame.empty or not keys:
        return frame.assign(**{column: math.nan for column in COLUMNS})
    # Groups numbered in order of first appearance, so group i's first row is first[i].
    group = frame.groupby(keys, dropna=False, sort=False, observed=True).ngroup().to_numpy()
    _ids, first = np.unique(group, return_index=True)
    kinds = frame[keys].iloc[first]
    table = pd.DataFrame([work(row) for _, row in kinds.iterrows()],
                         columns=["amount", "unit", "intensity", "peak", "source",
                                  "ceiling"])  # fmt: skip
    seconds = frame["value"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        achieved = np.where(seconds > 0, table["amount"].to_numpy()[group] / seconds / 1e9, np.nan)
    measured = ~np.isnan(achieved)
    peaks = np.where(measured, table["peak"].to_numpy()[group], np.nan)
    extra = pd.DataFrame(
        {
            "achieved": achieved,
            "achieved_unit": _text(table["unit"], group, measured),
            "intensity": table["intensity"].to_numpy()[group],
            "peak": peaks,
            "peak_source": _text(table["source"], group, measured),
            "ceiling": _text(table["ceiling"], group, measured),
            "fraction_of_peak": achieved / peaks,
        },
        index=frame.index,
    )
    return pd.concat([frame, extra], axis=1)


def _text(per_kind: pd.Series, group: np.ndarray, measured: np.ndarray) -> pd.Categorical:
    """Each row's kind's text where the row was measured, else "": a categorical, built from
    codes (no string per row)."""
    categories = pd.Index(sorted({*per_kind, ""}), dtype="str")
    codes = np.where(measured, categories.get_indexer(per_kind)[group], categories.get_loc(""))
    return pd.Categorical.from_codes(codes, categories=categories)
