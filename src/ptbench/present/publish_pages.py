"""What ``ptbench publish``'s pages show: the rows of the index's tables and of the hardware
page, and the pages rendered from ``templates/site/`` (``present.html``: jinja2, autoescaped).
Data in, text out; ``publish`` decides what goes where and writes."""

from __future__ import annotations

import itertools
import json
import math
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from ptbench.analysis import judgement, torch_history
from ptbench.analysis.ab import paired
from ptbench.analysis.explain import record as explain_record
from ptbench.core.names import file_stem
from ptbench.core.schema import INCONCLUSIVE, SLOWER, SUITE_PARAMS, latest, newest_run
from ptbench.hardware import ceilings
from ptbench.present import tables
from ptbench.present.html import Link, render

SITE_TITLE = "ptbench"


def page(template: str, title: str, depth: int = 0, script: bool = False, **context) -> str:
    """A whole page from ``templates/site/<template>``; ``depth`` is how many folders below the
    site's root it lies."""
    return render(f"site/{template}", title=title, site_title=SITE_TITLE, depth=depth,
                  script=script, **context)  # fmt: skip




def benchmark_file(benchmark: str) -> str:
    """``bench_linalg.time_solve`` -> ``benchmarks/bench_linalg.time_solve.html``. A name from a
    damaged or hostile result (``../../x``, a slash, 10,000 characters) becomes a slug with a
    digest, so that every page stays inside the site's folder (``publish.write`` checks it)."""
    return f"benchmarks/{file_stem(benchmark)}.html"


def link(benchmark: str, query: dict, text: str, depth: int = 0) -> Link:
    clean = {k: v for k, v in query.items() if v is not None and not _missing(v)}
    suffix = f"?{urlencode(clean)}" if clean else ""
    return Link(f"{'../' * depth}{benchmark_file(benchmark)}{suffix}", text)


def _missing(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def params_text(row: dict) -> str:
    return " ".join(str(row[k]) for k in SUITE_PARAMS if k in row and not _missing(row[k]))


def _params_query(row: dict) -> dict:
    return {k: row[k] for k in SUITE_PARAMS if k in row and not _missing(row[k]) and k != "size"}


def ab_rows(documents: list[dict], verdict: str = SLOWER) -> list[list[str]]:
    """A row per pair with ``verdict`` in every ``ptbench ab`` document (judged by the current
    model); inconclusive rows also say what change their data could have confirmed."""
    rows = []
    for document in documents:
        for pair in paired.judged_pairs(document):
            if pair["verdict"] != verdict:
                continue
            shown = tables.shown_interval(pair)
            row = [
                link(pair["benchmark"], {"machine": document["machine"]}, pair["benchmark"]),
                " ".join(str(p) for p in pair["params"]),
                tables.ratio_text(pair["ratio"], *shown),
                f"{_side(document.get('contender', 'contender'))} vs "
                f"{_side(document.get('baseline', 'baseline'))}",
                document["machine"],
            ]  # fmt: skip
            if verdict == INCONCLUSIVE:
                row.insert(3, tables.detectable_text(verdict, pair.get("detectable")))
            rows.append(row)
    return rows


def ab_summary_rows(documents: list[dict]) -> list[list[str]]:
    """A row per ``ptbench ab`` document: how many pairs got each verdict, and the share
    decided (inconclusive counted apart, never among the passes)."""
    rows = []
    for document in documents:
        verdicts = pd.Series([pair["verdict"] for pair in paired.judged_pairs(document)])
        counts = judgement.counts(verdicts)
        decided = judgement.decided_share(verdicts)
        rows.append([
            f"{_side(document.get('contender', 'contender'))} vs "
                f"{_side(document.get('baseline', 'baseline'))}",
            document["machine"],
            *(str(counts[verdict]) for verdict in judgement.ORDER),
            f"{decided:.0%}" if decided == decided else "n/a",
        ])  # fmt: skip
    return rows


def _side(side) -> str:
    """An A/B side in a few words: its torch build (the document holds all its facts)."""
    return f"torch {side['torch']}" if isinstance(side, dict) and "torch" in side else str(side)


def change_rows(changes: pd.DataFrame, at: str, axis: str) -> list[list[str]]:
    """A row per change point, regressions first, biggest first."""
    ordered = changes.assign(regression=changes["change"] > 1).sort_values(
        ["regression", "change"], ascending=[False, False]
    )
    rows = []
    for row in ordered.to_dict("records"):
        query = {"x": axis, "machine": row["machine"], **_params_query(row)}
        where = f"{str(row[f'previous_{at}'])[:12]} -> {str(row[at])[:12]}"
        rows.append([
            link(row["benchmark"], query, row["benchmark"]),
            params_text(row),
            f"{tables.times(row['change'])} ({row['direction']})",
            where,
            f"{row['machine']} / {row.get('env') or row.get(torch_history.LINE)}",
        ])  # fmt: skip
    return rows


def latest_runs(frame: pd.DataFrame) -> list[list[str]]:
    """A row per machine and environment: its newest run."""
    runs = newest_run(frame).groupby(["machine", "env"], dropna=False)
    rows = []
    for (machine, env), run in runs:
        noise = run["noise"].iloc[0] if "noise" in run else None
        rows.append([
            machine, env, str(run["torch"].iloc[0]),
            str(run["commit"].iloc[0])[:8],
            run["commit_date"].max().strftime(tables.DATE_FORMAT),
            str(len(run)),
            "not recorded" if _missing(noise) or noise is None else str(noise),
        ])  # fmt: skip
    return sorted(rows, key=lambda row: row[4], reverse=True)


def explained_rows(explanations: list[dict]) -> list[list]:
    """A row per combination ``ptbench explain`` profiled: its largest changes per call."""
    return [
        [link(entry["benchmark"], {}, entry["benchmark"]),
         " ".join(str(entry[k]) for k in SUITE_PARAMS if k in entry),
         tables.times(entry["ratio"]) if entry.get("ratio") else "n/a",
         explain_record.headline(entry),
         f"torch {document['contender']} vs torch {document['baseline']}"]
        for document in explanations for entry in document["combinations"]
    ]  # fmt: skip


def index_page(
    frame: pd.DataFrame, changes: dict[str, pd.DataFrame], documents, explanations=(),
    bisected=(),
) -> str:
    ab_heads = ["benchmark", "params", "paired ratio [interval]", "contender vs baseline",
                "machine"]  # fmt: skip
    public = torch_history.PUBLIC
    return page(
        "index.html", "Benchmark history",
        ab_heads=ab_heads,
        unknown_heads=[*ab_heads[:3], "could detect", *ab_heads[3:]],
        summary_heads=["contender vs baseline", "machine", *judgement.ORDER, "decided"],
        change_heads=["benchmark", "params", "change", "where", "machine / series"],
        regressions=ab_rows(documents),
        explained=explained_rows(list(explanations)),
        bisected=list(bisected),
        summaries=ab_summary_rows(documents),
        inconclusive=ab_rows(documents, INCONCLUSIVE),
        along_torch=change_rows(changes[public], public, "torch"),
        along_commits=change_rows(changes["commit"], "commit", "commit"),
        latest_runs=latest_runs(frame),
        benchmarks=[link(b, {}, b) for b in sorted(frame["benchmark"].unique())],
    )  # fmt: skip


def machine_ratios(frame: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Per benchmark: geometric mean of second/first over combinations both machines ran
    with the same torch build (the newest result of each), and how many there were."""
    keys = ["benchmark", *frame.attrs["param_keys"], "torch"]
    sides = [latest(frame[frame["machine"] == m], tuple(keys)) for m in (first, second)]
    both = sides[0].merge(sides[1], on=keys, suffixes=("_a", "_b"))
    if both.empty:
        return pd.DataFrame(columns=["benchmark", "torch", "ratio", "combinations"])
    both["log_ratio"] = np.log(both["value_b"] / both["value_a"])
    grouped = both.groupby(["benchmark", "torch"])["log_ratio"].agg(["mean", "size"])
    return pd.DataFrame({
        "ratio": np.exp(grouped["mean"]), "combinations": grouped["size"],
    }).reset_index()  # fmt: skip


def hardware_page(frame: pd.DataFrame, rooflines: list[dict] = ()) -> str:
    """Every machine's ceilings and rooflines; every pair of machines, benchmark by benchmark
    (or a sentence when there is one)."""
    machines = sorted(frame["machine"].unique())
    pairs = [_pair(frame, first, second) for first, second in itertools.combinations(machines, 2)]
    return page("hardware.html", "Hardware", script=bool(pairs), machines=machines, pairs=pairs,
                ceilings=ceiling_rows(frame), rooflines=list(rooflines))  # fmt: skip


def ceiling_rows(frame: pd.DataFrame) -> list[list[str]]:
    """A row per ceiling of each machine, as its newest result recorded them."""
    rows = []
    for machine, runs in frame.groupby("machine"):
        newest = runs.sort_values("commit_date", ascending=False).iloc[0]
        facts = {key: value for key, value in newest.items()
                 if isinstance(value, str) and key.startswith(("peak_", *ceilings.FACT_PREFIXES))}
        rows += [[machine, line] for line in ceilings.describe(facts)]  # fmt: skip
    return rows


def _pair(frame: pd.DataFrame, first: str, second: str) -> dict:
    ratios = machine_ratios(frame, first, second)
    rows = [
        [link(r["benchmark"], {}, r["benchmark"]), r["torch"], tables.times(1 / r["ratio"]),
         str(r["combinations"])]
        for r in ratios.sort_values("ratio").to_dict("records")
    ]  # fmt: skip
    chart = {"first": first, "second": second, "rows": ratios.to_dict("records")}
    return {"first": first, "second": second, "chart": _json(chart), "rows": rows}


def _json(data) -> str:
    return json.dumps(tables.plain(data), allow_nan=False)
