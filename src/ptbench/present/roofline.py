"""The roofline figure: achieved GFLOP/s against arithmetic intensity for one machine and
device, under its compute roofs and one bandwidth roof per level of its memory hierarchy (the
cache-aware roofline: ``hardware.ceilings``), each point coloured by the level it was judged
against.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on benchmark machines or in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ptbench.core.schema import latest  # noqa: E402
from ptbench.data.efficiency import peak  # noqa: E402
from ptbench.hardware import ceilings  # noqa: E402

LEVEL_COLOURS = {"L1": "tab:green", "L2": "tab:olive", "L3": "tab:orange", "DRAM": "tab:red",
                 "HBM": "tab:red", "compute": "tab:blue", "": "tab:gray"}  # fmt: skip


def roofline(frame: pd.DataFrame, machine: str, env: str, device: str = "cpu") -> plt.Figure:
    """Achieved GFLOP/s against arithmetic intensity (FLOP per byte moved), under the machine's
    roofs: one bandwidth roof per memory level it recorded (cache-aware roofline), each dtype's
    compute peak; each point coloured by the ceiling it was judged against."""
    rows = frame[
        (frame["machine"] == machine)
        & (frame["env"] == env)
        & (frame["device"] == device)
        & frame["intensity"].notna()
        & frame["achieved"].notna()
    ]
    rows = latest(rows)
    gflops = np.where(
        rows["achieved_unit"] == "GFLOP/s", rows["achieved"], rows["achieved"] * rows["intensity"]
    )
    figure, axes = plt.subplots(figsize=(11, 6))
    ceiling = rows["ceiling"].astype(str) if "ceiling" in rows else pd.Series("", index=rows.index)
    points = pd.DataFrame({"ceiling": ceiling.to_numpy(), "x": rows["intensity"], "y": gflops})
    for level, group in points.groupby("ceiling", sort=False):
        label = f"judged by {level}" if level else "no ceiling recorded"
        axes.scatter(group["x"], group["y"], s=18, color=LEVEL_COLOURS.get(level, "tab:gray"),
                     label=label)  # fmt: skip
    # the roofs of the newest run drawn (an older combination's point keeps its own ceiling)
    newest = rows.sort_values("commit_date", kind="stable") if "commit_date" in rows else rows
    facts = newest.iloc[-1] if len(rows) else pd.Series(dtype=object)
    low, high = (rows["intensity"].min(), rows["intensity"].max()) if len(rows) else (0.1, 100)
    span = np.logspace(np.log10(low) - 0.5, np.log10(high) + 0.5, 200)
    if _roofs(axes, facts, device, span) == 0:  # say why, rather than draw points in a void
        axes.text(0.02, 0.97, f"no peaks recorded for {machine} {device}: measure them with "
                  "`ptbench machine --write --probe`", transform=axes.transAxes, va="top",
                  fontsize=8, color="#b03a2e")  # fmt: skip
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("arithmetic intensity (FLOP per byte read or written)")
    axes.set_ylabel("achieved GFLOP/s")
    axes.set_title(f"Roofline: {machine}, {device}, {env}")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the data
    figure.set_layout_engine("tight")
    return figure


def _bandwidths(facts: pd.Series, device: str) -> list[tuple[str, float, str]]:
    """(level, GB/s, source) for each memory level recorded, fastest first; the old single
    copy peak where no level was probed."""
    found = []
    for level in (*ceilings.CPU_LEVELS, ceilings.MAIN_MEMORY[device]):
        value = facts.get(f"ceiling_{device}_{level}_gbps")
        try:
            number = float(value) if isinstance(value, str) else np.nan
        except ValueError:
            number = np.nan
        if number > 0:
            found.append((ceilings.LEVEL_NAMES[level], number, "measured"))
    if not found:
        bandwidth, source = peak(facts, device, "copy")
        if bandwidth > 0:
            found.append(("DRAM", bandwidth, source))
    return sorted(found, key=lambda item: -item[1])


def _roofs(axes, facts: pd.Series, device: str, span: np.ndarray) -> int:
    """Draw the machine's roofs: each memory level's bandwidth x intensity up to the highest
    compute roof, and each dtype's compute peak. Returns how many it could draw (peaks may be
    unrecorded)."""
    ceiling = max(
        (peak(facts, device, dtype)[0] for dtype in ("float32", "float64")), default=np.inf
    )
    drawn = 0
    for level, bandwidth, source in _bandwidths(facts, device):
        axes.plot(span, np.minimum(bandwidth * span, ceiling if ceiling > 0 else np.inf),
                  color=LEVEL_COLOURS.get(level, "black"), linewidth=1.2,
                  label=f"{level} bandwidth {bandwidth:g} GB/s ({source})")  # fmt: skip
        drawn += 1
    for dtype, style in (("float32", "--"), ("float64", ":")):
        limit, source = peak(facts, device, dtype)
        if limit > 0:
            axes.axhline(limit, color="black", linestyle=style, linewidth=1,
                         label=f"{dtype} compute peak {limit:g} GFLOP/s ({source})")  # fmt: skip
            drawn += 1
    return drawn
