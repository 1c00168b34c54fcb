#!/usr/bin/env python
"""Do ``ptbench explain``'s changes add up to the ratio ``ptbench ab`` measures? Issue 17's
target: for operations over 100 us, within 10%.

For each contender, in one go: ``ptbench ab`` of this environment against it, then ``ptbench
explain`` of the same selection (both interleave the sides, ABBA). Per combination of 100 us or
more: ab's ratio with its interval and verdict; explain's ratio (the profiled wall time per
call, which the operators' changes plus the remainder outside ATen add up to, exactly, by
construction); how far the two ratios differ; and the share of ab's change (ratio - 1) that
explain's changes account for, with the top change named.

The contenders are throwaway environments (``scripts/slowed_env.py``) with one function made
1.3x slower, and optionally a real build (``--release PYTHON``, e.g. a torch 2.14.1 virtualenv,
explained on the release comparison's confirmed regressions).

    .venv/bin/python scripts/explain_agreement.py [--release PYTHON] [--budget 120]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import slowed_env

from ptbench.analysis.explain import record

PROJECT = Path(__file__).resolve().parents[1]
OVER_SECONDS = 100e-6
SLOWED = {  # function made 1.3x slower: the combinations that time it, and some that do not
    "torch.linalg.eigh": r"time_(eigh|svd)\('cpu', (64|256), 'float64'\)",
    "torch.linalg.cholesky": r"time_solve\('cpu', (256|1024), 'float64', '(cholesky|lu)'\)",
}
RELEASE = r"time_masked_select\('cpu', (65536|524288|4194304)\)"  # 2.14's confirmed regression


def ptbench(*arguments: str) -> str:
    """A ptbench command's standard output (its progress goes to stderr)."""
    completed = subprocess.run(
        [sys.executable, "-m", "ptbench.cli", *map(str, arguments)],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, check=False,
    )  # fmt: skip
    if completed.returncode not in (0, 1):
        raise SystemExit(f"ptbench {arguments[0]} exited {completed.returncode}")
    return completed.stdout


def measure(contender: str, selection: str, budget: float, scratch: Path) -> list[dict]:
    """ab, then explain, of this environment against ``contender``; the matched rows."""
    sides = ("--baseline", sys.executable, "--contender", contender, "--bench", selection,
             "--device", "cpu")  # fmt: skip
    ptbench("ab", *sides, "--budget", budget, "--results", scratch / "ab")
    (document,) = (scratch / "ab").glob("ab-*.json")
    compared = json.loads(document.read_text())
    explained = json.loads(ptbench("explain", *sides, "--format", "json"))
    pairs = {(p["benchmark"], str(p["params"])): p for p in compared["pairs"]}
    rows = []
    for entry in explained["combinations"]:
        if entry.get("status") != "ok" or entry["baseline_seconds"] < OVER_SECONDS:
            continue
        params = [v for k, v in entry.items() if k not in record.RESULT_FIELDS]
        pair = pairs.get((entry["benchmark"], str(params)))
        if pair and pair.get("ratio") is not None:
            rows.append({"entry": entry, "params": params, "pair": pair})
    return rows


def row(found: dict) -> str:
    entry, pair = found["entry"], found["pair"]
    measured, profiled = pair["ratio"], entry["ratio"]
    apart = profiled / measured - 1
    share = (profiled - 1) / (measured - 1) if abs(measured - 1) > 0.02 else math.nan
    top = entry["changes"][0]
    top_share = top["delta_seconds"] / (entry["contender_seconds"] - entry["baseline_seconds"])
    name = f"{entry['benchmark'].split('.')[-1]}{tuple(found['params'])}"
    return (f"| {name} | {entry['baseline_seconds'] * 1e6:,.0f} us | {measured:.3f} "
            f"[{pair['ratio_low']:.3f}, {pair['ratio_high']:.3f}] {pair['verdict']} "
            f"| {profiled:.3f} [{entry['ratio_low']:.3f}, {entry['ratio_high']:.3f}], "
            f"{entry['pairs']} pairs | {apart:+.1%} | {share:.0%} "
            f"| {top['name']} ({top_share:.0%}) |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", help="a real contender build's Python (optional)")
    parser.add_argument("--budget", type=float, default=120)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="explain-agreement-"))
    runs = [(f"{function} 1.3x slower", str(slowed_env.make(
        scratch / function, sys.executable, function, 1.3)), selection)
        for function, selection in SLOWED.items()]  # fmt: skip
    if args.release:
        runs.append((f"release ({args.release})", args.release, RELEASE))
    print("| combination | baseline | ab ratio [interval] verdict | explain ratio [95%] | apart "
          "| share of ab's change explained | top change (its share) |")
    print("|---|---|---|---|---|---|---|")
    apart = []
    for index, (title, contender, selection) in enumerate(runs):
        print(f"| **{title}** | | | | | | |", flush=True)
        for found in measure(contender, selection, args.budget, scratch / str(index)):
            print(row(found), flush=True)
            apart.append(abs(found["entry"]["ratio"] / found["pair"]["ratio"] - 1))
    within = sum(a <= 0.10 for a in apart)
    print(f"\n{within} of {len(apart)} combinations of {OVER_SECONDS * 1e6:.0f} us or more: "
          f"explain's ratio within 10% of ab's (largest gap {max(apart, default=0):.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
