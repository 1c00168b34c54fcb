"""What ``ptbench run`` prints when it is done: a headline table a person reads in ten seconds.

asv prints a table of every size of every benchmark, n/a for each one outside the tier or on a
device that is not there: over a thousand lines for the smoke tier. That stays in the run's
log. The terminal gets one row per operation and device: its largest size that ran, the time
it took and, where the work is known, the share of the machine's peak it reached (and which
ceiling: compute, or the memory level its data fit in).
"""

from __future__ import annotations

import pandas as pd

from ptbench.core import schema
from ptbench.present.tables import format_value

VARIANT_KEYS = ("dtype", "method")  # shown beside the size; the slowest variant is the headline


def _at(row: pd.Series) -> str:
    """``4096 float64 cholesky``: the size and variant a headline number was measured at."""
    parts = [] if pd.isna(row.get("size")) else [str(int(row["size"]))]
    parts += [str(row[key]) for key in VARIANT_KEYS if key in row and pd.notna(row[key])]
    return " ".join(parts)


def _peak_text(row: pd.Series) -> str:
    fraction = row.get("fraction_of_peak")
    if fraction is None or pd.isna(fraction):
        return ""
    ceiling = row.get("ceiling")
    return f"{fraction:.0%}" + (f" ({ceiling})" if isinstance(ceiling, str) and ceiling else "")


def headline(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per timed benchmark and device: at its largest size that ran, the slowest of
    its variants (dtype, method), with its time and % of peak."""
    timed = frame[(frame["status"] == schema.STATUS_OK) & (frame["unit"] == schema.SECONDS)]
    if timed.empty:
        return pd.DataFrame()
    rows = []
    keys = ["benchmark", "device"] if "device" in timed else ["benchmark"]
    for _key, group in timed.groupby(keys, sort=True, observed=True):
        if "size" in group and group["size"].notna().any():
            group = group[group["size"] == group["size"].max()]
        row = group.loc[group["value"].idxmax()]
        rows.append({
            "benchmark": str(row["benchmark"]).split(".", 1)[-1],
            "device": row.get("device", ""),
            "at": _at(row),
            "time": format_value(float(row["value"]), schema.SECONDS),
            "% of peak": _peak_text(row),
        })  # fmt: skip
    table = pd.DataFrame(rows)
    return table if table["% of peak"].astype(bool).any() else table.drop(columns="% of peak")


def render(frame: pd.DataFrame) -> str:
    """The headline table as plain text (empty when nothing was timed)."""
    from tabulate import tabulate

    table = headline(frame)
    if table.empty:
        return ""
    return tabulate(table.to_numpy().tolist(), list(table.columns), tablefmt="simple",
                    disable_numparse=True)  # fmt: skip
