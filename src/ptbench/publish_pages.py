"""The HTML of ``ptbench publish``'s pages: the frame around every page, the index and the
hardware page. Data in, text out; :mod:`ptbench.publish` decides what goes where and writes."""

from __future__ import annotations

import itertools
import json
import math
from html import escape
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from ptbench import judgement, tables, torch_history
from ptbench.ab import paired
from ptbench.schema import INCONCLUSIVE, SLOWER, SUITE_PARAMS, latest, newest_run

SITE_TITLE = "ptbench"


def page(title: str, body: str, depth: int = 0, script: bool = False) -> str:
    """A whole page; ``depth`` is how many folders below the site's root it lies."""
    root = "../" * depth
    scripts = (
        f'<script src="{root}assets/plotly.min.js"></script>'
        f'<script src="{root}assets/ptbench-site.js"></script>'
        if script
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - {SITE_TITLE}</title>
<link rel="stylesheet" href="{root}assets/ptbench-site.css">{scripts}
</head><body>
<nav><a href="{root}index.html">{SITE_TITLE}</a> <a href="{root}hardware.html">hardware</a></nav>
<main><h1>{title}</h1>
{body}
</main></body></html>
"""


def table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    """An HTML table of already-escaped cells, or ``empty`` (a sentence) when there are none."""
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def link(benchmark: str, query: dict, text: str, depth: int = 0) -> str:
    clean = {k: v for k, v in query.items() if v is not None and not _missing(v)}
    suffix = f"?{urlencode(clean)}" if clean else ""
    href = f"{'../' * depth}benchmarks/{escape(benchmark)}.html{escape(suffix)}"
    return f'<a href="{href}">{escape(text)}</a>'


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
                escape(" ".join(str(p) for p in pair["params"])),
                escape(tables.ratio_text(pair["ratio"], *shown)),
                escape(f"{_side(document['contender'])} vs {_side(document['baseline'])}"),
                escape(document["machine"]),
            ]  # fmt: skip
            if verdict == INCONCLUSIVE:
                row.insert(3, escape(tables.detectable_text(verdict, pair.get("detectable"))))
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
            escape(f"{_side(document['contender'])} vs {_side(document['baseline'])}"),
            escape(document["machine"]),
            *(escape(str(counts[verdict])) for verdict in judgement.ORDER),
            escape(f"{decided:.0%}" if decided == decided else "n/a"),
        ])  # fmt: skip
    return rows


def _side(side) -> str:
    """An A/B side in a few words: its torch build (the document holds all its facts)."""
    return f"torch {side['torch']}" if isinstance(side, dict) and "torch" in side else str(side)


INCONCLUSIVE_NOTE = (
    '<p class="note">Neither a confirmed change nor shown equivalent within the factor: these '
    "are not passes. <em>could detect</em> is the smallest change the rounds could have "
    "confirmed; more rounds (<code>ptbench ab --budget</code>) narrow it.</p>"
)

SEQUENTIAL_CAVEAT = (
    '<p class="note">Found in runs taken one after another: a machine that drifts between '
    "runs looks the same. Confirm one with <code>ptbench ab</code> (interleaved, paired) before "
    "acting on it.</p>"
)


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
            escape(params_text(row)),
            escape(f"{row['change']:.2f}x ({row['direction']})"),
            escape(where),
            escape(f"{row['machine']} / {row.get('env') or row.get(torch_history.LINE)}"),
        ])  # fmt: skip
    return rows


def latest_runs(frame: pd.DataFrame) -> list[list[str]]:
    """A row per machine and environment: its newest run."""
    runs = newest_run(frame).groupby(["machine", "env"], dropna=False)
    rows = []
    for (machine, env), run in runs:
        noise = run["noise"].iloc[0] if "noise" in run else None
        rows.append([
            escape(machine), escape(env), escape(str(run["torch"].iloc[0])),
            escape(str(run["commit"].iloc[0])[:8]),
            escape(run["commit_date"].max().strftime("%Y-%m-%d %H:%M")),
            escape(str(len(run))),
            escape("not recorded" if _missing(noise) or noise is None else str(noise)),
        ])  # fmt: skip
    return sorted(rows, key=lambda row: row[4], reverse=True)


def index_page(frame: pd.DataFrame, changes: dict[str, pd.DataFrame], documents) -> str:
    ab_heads = ["benchmark", "params", "ratio [interval]", "contender vs baseline", "machine"]
    unknown_heads = [*ab_heads[:3], "could detect", *ab_heads[3:]]
    summary_heads = ["contender vs baseline", "machine", *judgement.ORDER, "decided"]
    change_heads = ["benchmark", "params", "change", "where", "machine / series"]
    benchmarks = sorted(frame["benchmark"].unique())
    items = "".join(f"<li>{link(b, {}, b)}</li>" for b in benchmarks)
    body = "\n".join([
        "<h2>Confirmed regressions (ptbench ab)</h2>",
        table(ab_heads, ab_rows(documents), "No ptbench ab comparison confirmed a regression."),
        "<h2>A/B comparisons: what each decided</h2>",
        table(summary_heads, ab_summary_rows(documents), "No ptbench ab comparison here."),
        "<h2>Inconclusive (ptbench ab): the rounds could not tell</h2>",
        INCONCLUSIVE_NOTE,
        table(unknown_heads, ab_rows(documents, INCONCLUSIVE),
              "Every pair of every ptbench ab comparison was decided."),
        "<h2>Change points along torch versions</h2>",
        SEQUENTIAL_CAVEAT,
        table(change_heads, change_rows(changes[torch_history.PUBLIC], torch_history.PUBLIC,
                                        "torch"),
              "No change point: a series needs results for three torch versions or more."),
        "<h2>Change points along suite commits</h2>",
        SEQUENTIAL_CAVEAT,
        table(change_heads, change_rows(changes["commit"], "commit", "commit"),
              "No change point: a series needs results at three suite commits or more."),
        "<h2>Latest run per machine</h2>",
        table(["machine", "environment", "torch", "commit", "date", "results", "noise"],
              latest_runs(frame), "No results."),
        f"<h2>Benchmarks ({len(benchmarks)})</h2><ul class=\"columns\">{items}</ul>",
    ])  # fmt: skip
    return page("Benchmark history", body)


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


def hardware_page(frame: pd.DataFrame) -> str:
    machines = sorted(frame["machine"].unique())
    if len(machines) < 2:
        only = escape(", ".join(machines) or "none")
        body = (
            f"<p>These results hold one machine ({only}). Add another machine's results "
            "(the same suite run there, with the same torch build) and publish again: this "
            "page then compares every pair of machines, benchmark by benchmark.</p>"
        )
        return page("Hardware", body)
    sections = [
        _pair_section(frame, first, second) for first, second in itertools.combinations(machines, 2)
    ]
    return page("Hardware", "\n".join(sections), script=True)


def _pair_section(frame: pd.DataFrame, first: str, second: str) -> str:
    ratios = machine_ratios(frame, first, second)
    rows = [
        [link(r["benchmark"], {}, r["benchmark"]), escape(r["torch"]),
         escape(f"{1 / r['ratio']:.2f}x"), escape(str(r["combinations"]))]
        for r in ratios.sort_values("ratio").to_dict("records")
    ]  # fmt: skip
    heads = ["benchmark", "torch build", f"speedup of {escape(second)} over {escape(first)}",
             "combinations"]  # fmt: skip
    chart = {"first": first, "second": second, "rows": ratios.to_dict("records")}
    return "\n".join([
        f"<h2>{escape(second)} against {escape(first)}</h2>",
        f'<div class="hardware-chart" data-chart="{escape(_json(chart))}"></div>',
        table(heads, rows, "No benchmark ran on both machines with the same torch build."),
    ])  # fmt: skip


def _json(data) -> str:
    return json.dumps(tables.plain(data), allow_nan=False)
