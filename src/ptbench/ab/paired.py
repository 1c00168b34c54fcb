"""An A/B run's verdicts beside its recorded results: the comparison tables and reports show.

The recorded sides are paired exactly as ``ptbench compare`` pairs any two environments (so the
table has the same columns: values, % of peak, ...), and each pair takes its ratio, interval
and verdict from the paired rounds, as the A/B document (``ab-*.json``) records them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ptbench import compare
from ptbench.errors import ResultsError

# The judgement of a pair, as the document holds it, that replaces compare's own.
JUDGED = ("ratio", "ratio_low", "ratio_high", "p_value", "verdict", "note", "regression", "pairs")


def documents(results_dir: Path) -> list[dict]:
    """Every A/B document at the top of ``results_dir``, oldest first."""
    found = []
    for path in sorted(Path(results_dir).glob("ab-*.json")):
        try:
            document = json.loads(path.read_text())
            document["machine"], document["commit"], document["envs"]  # noqa: B018
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ResultsError(f"{path}: not a readable ptbench ab document ({error})") from None
        found.append({**document, "path": str(path)})
    return found


def _param_tuple(row: pd.Series, names: list[str]) -> tuple:
    return tuple(
        int(row[name]) if name == "size" else row[name] for name in names if pd.notna(row[name])
    )


def comparison(frame: pd.DataFrame, document: dict) -> compare.Comparison:
    """The document's two environments paired in ``frame``, judged by the paired rounds."""
    where = {"machine": document["machine"], "commit": document["commit"]}
    baseline_env, contender_env = document["envs"]
    pairs, keys, _ = compare.pair(
        frame, {**where, "env": baseline_env}, {**where, "env": contender_env}
    )
    judged = pd.DataFrame(
        [
            {"benchmark": p["benchmark"], "_params": tuple(p["params"]),
             **{key: p.get(key) for key in JUDGED}}
            for p in document["pairs"]
        ]
    )  # fmt: skip
    names = frame.attrs["param_keys"]
    pairs = pairs.assign(_params=[_param_tuple(row, names) for _, row in pairs.iterrows()])
    pairs = pairs.merge(judged, on=["benchmark", "_params"], how="inner").drop(columns="_params")
    pairs["significant"] = pairs["verdict"].isin([compare.SLOWER, compare.FASTER])
    pairs = compare.order_pairs(pairs)
    skipped = sum(
        1 for p in document["pairs"] if p["verdict"] == compare.NOT_COMPARABLE
        and p["note"] == "baseline skipped, contender skipped"
    )  # fmt: skip
    means = compare.geometric_means(pairs)
    return compare.Comparison(pairs, means, document["factor"], keys, skipped)
