#!/usr/bin/env python
"""What ``ptbench ab``'s judgement makes of real A/A rounds: their own noise, no model of it.

    .venv/bin/python scripts/verdicts_on_rounds.py [--from docs/ab-data/aa16-pairs-2026-12-06]
                                                   [--candidates] [--documents DOC ...]

An A/A document (both sides one environment, rounds in ABBA pairs) is the truth "no change"
with this machine's noise exactly as it came, heavy tails, slow phases and disturbed rounds
included. Each combination's first 16 pairs are cut into sub-samples of 4, 8 and 16 pairs, and
each sub-sample is judged by ``verdicts.judge`` (set-aside rule, estimator, both intervals) as it
is, and with every contender round multiplied by 1.1 (a change exactly at the factor: there
``equivalent`` is the wrong verdict, at most 5% of the time) and by 1.3 (a regression to find).
The regression intervals are at the family's level for the document's count of combinations,
as ``ab`` builds them; "90% misses 1" is how often a plain 90% interval of the same pairs
excludes the truth (at most 10% if the interval is honest on this noise).

``--candidates`` judges the same sub-samples with the estimators docs/ab.md compares, and
counts the verdicts each gives whole recorded comparisons (``--documents``: by default the
committed release comparison, recorded on a quiet day, and this day's linalg A/A runs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ptbench.analysis import judgement, stats
from ptbench.analysis.ab import paired, verdicts

PROJECT = Path(__file__).resolve().parents[1]
PAIRS, FACTOR = 16, 1.1
DOCUMENTS = [next((PROJECT / "results").glob("ab-*.json")),
             *sorted((PROJECT / "docs/ab-data").glob("aa-linalg*/ab-*.json"))]  # fmt: skip
# --candidates: (name, the regression interval, the equivalence interval), each a function of
# the kept pairs' log ratios (and the error rate, for the regression interval).
TRIMMED_FROM_16 = stats.trimmed_paired_ratio  # trims from stats.TRIM_FROM (16) pairs


def trimmed_from_8(logs, alpha=None):
    alpha = verdicts.equivalence_interval_alpha(len(logs)) if alpha is None else alpha
    return stats.trimmed_paired_ratio(logs, alpha, stats.TRIM, stats.BOTH_FROM)


def combined(logs, alpha=None):
    alpha = verdicts.equivalence_interval_alpha(len(logs)) if alpha is None else alpha
    return stats.combined_paired_ratio(logs, alpha)


CANDIDATES = (
    ("the model: together (regression), trimmed from 8 (equivalence)",
     verdicts.regression_interval, verdicts.equivalence_interval),
    ("until 2026-12-06: trimmed from 16 (both)", TRIMMED_FROM_16,
     lambda logs: TRIMMED_FROM_16(logs, verdicts.equivalence_interval_alpha(len(logs)))),
    ("trimmed from 8 (both)", trimmed_from_8, trimmed_from_8),
    ("Student's and trimmed together (both)", combined, combined),
)  # fmt: skip


def rounds_of(document: dict) -> list[list[tuple[float, float]]]:
    """The first PAIRS pairs of each combination that has them and is not deterministic."""
    found = []
    for pair in document["pairs"]:
        rounds = [tuple(r) for r in pair.get("rounds") or []][:PAIRS]
        ratios = {b and c / b for b, c in rounds}
        if len(rounds) == PAIRS and len(ratios) > 1 and all(b and c for b, c in rounds):
            found.append(rounds)
    return found


def judged(rounds: list[tuple[float, float]], scale: float, alpha: float) -> dict:
    replies = [({"status": "ok", "value": b}, {"status": "ok", "value": c * scale})
               for b, c in rounds]  # fmt: skip
    return verdicts.judge(replies, FACTOR, alpha)


def row(combinations: list, count: int, name: str = "") -> str:
    family = verdicts.per_test_alpha(len(combinations))
    cells = {"equivalent": 0, "slower or faster": 0, "misses": 0, "wrong": 0, "found": 0}
    total = 0
    for rounds in combinations:
        for start in range(0, PAIRS, count):
            part, total = rounds[start : start + count], total + 1
            same = judged(part, 1.0, family)
            cells["equivalent"] += same["verdict"] == judgement.EQUIVALENT
            cells["slower or faster"] += same["verdict"] in (judgement.SLOWER, judgement.FASTER)
            plain = judged(part, 1.0, 0.10)
            cells["misses"] += not plain["ratio_low"] <= 1 <= plain["ratio_high"]
            cells["wrong"] += judged(part, FACTOR, family)["verdict"] == judgement.EQUIVALENT
            cells["found"] += judged(part, 1.3, family)["verdict"] == judgement.SLOWER
    shares = " | ".join(f"{value / total:.1%}" for value in cells.values())
    return f"| {name}{count} | {total} | {shares} |"


def counted(document: Path) -> str:
    """The verdicts of a whole recorded comparison, judged again from its rounds."""
    recorded = {**json.loads(document.read_text()), "judgement": None}
    found = [pair["verdict"] for pair in paired.judged_pairs(recorded)]
    return ", ".join(f"{found.count(v)} {v}" for v in judgement.ORDER if found.count(v))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path,
                        default=PROJECT / "docs/ab-data/aa16-pairs-2026-12-06")  # fmt: skip
    parser.add_argument("--documents", type=Path, nargs="+", default=DOCUMENTS)
    parser.add_argument("--candidates", action="store_true",
                        help="also judge with the estimators docs/ab.md compares")  # fmt: skip
    args = parser.parse_args()
    (path,) = sorted(args.source.glob("ab-*.json"))[-1:]
    combinations = rounds_of(json.loads(path.read_text()))
    print(f"{len(combinations)} A/A combinations with {PAIRS} pairs in {path.name}")
    print("| pairs | sub-samples | A/A equivalent | A/A slower or faster | 90% misses 1 | "
          "at 1.1x: equivalent (wrong) | 1.3x: slower |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, regression, equivalence in CANDIDATES if args.candidates else CANDIDATES[:1]:
        saved = verdicts.regression_interval, verdicts.equivalence_interval
        verdicts.regression_interval, verdicts.equivalence_interval = regression, equivalence
        try:
            for count in (4, 8, 16):
                print(row(combinations, count, f"{name}: " if args.candidates else ""), flush=True)
            for document in args.documents if args.candidates else []:
                print(f"    {document.parent.name}: {counted(document)}", flush=True)
        finally:
            verdicts.regression_interval, verdicts.equivalence_interval = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
