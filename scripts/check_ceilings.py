#!/usr/bin/env python
"""Is every result in a history under its ceiling? (issue: no result may read "434% of peak")

Loads the history as ``ptbench`` does and judges each timed CPU result by the ceiling of the
level its working set fits in (``ptbench.hardware.ceilings``). Prints, per ceiling, how many
results were judged and the highest fraction; lists the results between 100% and 110% (noise
allows them) and above 110% (a ceiling that is wrong). Exit 1 if any is above 110%.

    .venv/bin/python scripts/check_ceilings.py [--results results] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ptbench.data.results import load_results

NOISE_ALLOWANCE = 1.10
SHOWN = ["benchmark", "size", "dtype", "method", "env", "ceiling", "fraction_of_peak"]


def judged(results: Path, device: str) -> pd.DataFrame:
    """The history's timed results on ``device`` that a ceiling judges."""
    frame = load_results(results)
    return frame[(frame["device"] == device) & frame["fraction_of_peak"].notna()]


def over(frame: pd.DataFrame, low: float, high: float = float("inf")) -> pd.DataFrame:
    rows = frame[(frame["fraction_of_peak"] > low) & (frame["fraction_of_peak"] <= high)]
    return rows[[c for c in SHOWN if c in rows]].sort_values("fraction_of_peak", ascending=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    frame = judged(args.results, args.device)
    summary = frame.groupby(frame["ceiling"].astype(str))["fraction_of_peak"].agg(["size", "max"])
    print(summary.rename(columns={"size": "results", "max": "highest"}).to_markdown())
    near, beyond = over(frame, 1.0, NOISE_ALLOWANCE), over(frame, NOISE_ALLOWANCE)
    print(f"\nbetween 100% and 110% of their ceiling: {len(near)}")
    if len(near):
        print(near.to_markdown(index=False))
    print(f"\nabove 110% of their ceiling: {len(beyond)}")
    if len(beyond):
        print(beyond.to_markdown(index=False))
    return 1 if len(beyond) else 0


if __name__ == "__main__":
    sys.exit(main())
