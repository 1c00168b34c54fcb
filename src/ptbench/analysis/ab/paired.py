"""An A/B run's verdicts beside its recorded results: the comparison tables and reports show.

The recorded sides are paired exactly as ``ptbench compare`` pairs any two environments (so the
table has the same columns: values, % of peak, ...), and each pair takes its ratio, interval
and verdict from the paired rounds, as the A/B document (``ab-*.json``) records them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ptbench.analysis import compare
from ptbench.analysis.ab import verdicts
from ptbench.core.schema import JUDGEMENT_COLUMNS, NOT_COMPARABLE
from ptbench.data.documents import ab_documents
from ptbench.hardware import noise

# The judgement of a pair, as the document holds it, that replaces compare's own.
JUDGED = JUDGEMENT_COLUMNS


def documents(results_dir: Path) -> list[dict]:
    """Every A/B document at the top of ``results_dir``, oldest first."""
    return ab_documents(results_dir)


def judged_pairs(document: dict) -> list[dict]:
    """The document's pairs, judged by the current model. A document recorded by an earlier
    model is judged again from its rounds (the rounds are the data; a verdict is what the
    model reads in them), at the family size and noise verdict the document records."""
    pairs = document["pairs"]
    if document.get("judgement") == verdicts.JUDGEMENT_MODEL:
        return pairs
    alpha = verdicts.per_test_alpha(sum(p["verdict"] != NOT_COMPARABLE for p in pairs))
    verdict = document.get("noise", {}).get(noise.VERDICT_KEY)
    disturbed = verdict if noise.contended(verdict) else None
    return [_judged_again(pair, document["factor"], alpha, disturbed) for pair in pairs]


def _judged_again(pair: dict, factor: float, alpha: float, disturbed: str | None) -> dict:
    if pair["verdict"] == NOT_COMPARABLE:  # the rounds do not keep which side failed: as recorded
        return {**{key: None for key in JUDGED}, **pair, "set_aside": 0}
    replies = [
        ({"status": "ok", "value": base}, {"status": "ok", "value": cont})
        for base, cont in pair["rounds"]
    ]
    return {**pair, **verdicts.judge(replies, factor, alpha, disturbed)}


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
            for p in judged_pairs(document)
        ]
    )  # fmt: skip
    names = frame.attrs["param_keys"]
    pairs = pairs.assign(_params=[_param_tuple(row, names) for _, row in pairs.iterrows()])
    pairs = pairs.merge(judged, on=["benchmark", "_params"], how="inner").drop(columns="_params")
    pairs["significant"] = pairs["verdict"].isin([compare.SLOWER, compare.FASTER])
    pairs["regression"] = pairs["regression"].astype(bool)
    pairs = compare.order_pairs(pairs)
    skipped = sum(
        1 for p in document["pairs"] if p["verdict"] == compare.NOT_COMPARABLE
        and p["note"] == "baseline skipped, contender skipped"
    )  # fmt: skip
    means = compare.geometric_means(pairs)
    return compare.Comparison(pairs, means, document["factor"], keys, skipped, paired=True)
