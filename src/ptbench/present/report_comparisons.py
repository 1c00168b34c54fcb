"""The report's comparison sections: a baseline against a contender as asked, and each
interleaved ``ptbench ab`` run with its verdicts (then and now), where the sequential runs of
the same builds disagreed, and what ``ptbench explain`` found. ``report`` puts them in order.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from ptbench.analysis import compare, judgement
from ptbench.analysis.ab import paired, verdicts
from ptbench.analysis.explain import record as explain_record
from ptbench.core import schema
from ptbench.core.names import slug
from ptbench.core.schema import FASTER, SLOWER
from ptbench.present import plots, tables
from ptbench.present.document import FigureFolder, Section

TABLE_ROWS = 60


ALL_FIGURES = ("bars", "speedup", "heatmap")


FIGURE_MAKERS = {
    "bars": plots.comparison_bars,
    "speedup": plots.speedup_vs_size,
    "heatmap": plots.ratio_heatmap,
}


def most_changed(result: compare.Comparison, rows: int) -> compare.Comparison:
    """The comparison cut to ``rows`` pairs in the one order every comparison uses
    (``judgement.order``: slower, faster, inconclusive, not comparable, equivalent)."""
    return dataclasses.replace(result, pairs=judgement.order(result.pairs).head(rows))


def comparison_section(
    frame: pd.DataFrame,
    title: str,
    baseline: dict,
    contender: dict,
    factor: float,
    figures: FigureFolder,
    question: str = "",
    drawn: tuple[str, ...] = ALL_FIGURES,
) -> Section:
    result = compare.compare(frame, baseline, contender, factor)
    section = Section(title, [question] if question else [])
    if not result.pairs["ratio"].notna().any():
        section.text.append("Not in these results: no combination ran on both sides ("
                            f"{tables.commonest_notes(result.pairs, 'pairs ')}).")
        return section
    section.text.append(tables.summary_line(result))
    section.table = tables.comparison_table(most_changed(result, TABLE_ROWS))
    if len(result.pairs) > TABLE_ROWS:
        section.text.append(
            f"{TABLE_ROWS} of {len(result.pairs)} pairs: confirmed changes first, then the "
            "inconclusive, each by the size of its change; `ptbench compare` lists all."
        )
    if "size" not in result.keys:  # pictures by size need sizes to pair on
        drawn = tuple(name for name in drawn if name == "bars")
    if result.pairs["ratio"].notna().any():
        for name in drawn:
            figure = FIGURE_MAKERS[name](result, baseline, contender)
            section.figures.append(figures.add(figure, f"{slug(title)}-{name}"))
    return section


def _sequential(frame: pd.DataFrame, document: dict) -> dict[str, str] | None:
    """The newest commit on the document's machine where the same two torch builds were run
    one after the other by ``ptbench run`` (environments ``existing-...``), if any."""
    envs = document.get("sequential_envs")
    if not envs:
        return None
    rows = frame[(frame["machine"] == document["machine"]) & frame["env"].isin(envs)]
    both = rows.groupby("commit")["env"].nunique()
    commits = both[both == 2].index
    if commits.empty:
        return None
    return rows[rows["commit"].isin(commits)].sort_values("commit_date")["commit"].iloc[-1]


def _disagreements(frame, document, interleaved: compare.Comparison) -> Section | None:
    """Where the sequential comparison of the same builds said something else."""
    commit = _sequential(frame, document)
    if commit is None:
        return None
    base_env, cont_env = document["sequential_envs"]
    sequential = compare.compare(
        frame, {"env": base_env, "commit": commit}, {"env": cont_env, "commit": commit},
        document["factor"],
    )  # fmt: skip
    keys = [key for key in ("benchmark", *frame.attrs["param_keys"]) if key in sequential.pairs]
    shown = [_shown(sequential.pairs, keys), _shown(interleaved.pairs, keys)]
    both = shown[0].merge(shown[1], on=keys, suffixes=(" sequential", " interleaved"))
    differ = both[both["verdict sequential"] != both["verdict interleaved"]]
    text = [
        f"The same builds run one after the other by `ptbench run` (commit {commit[:8]}), "
        f"judged by `ptbench compare`: {len(differ)} of {len(both)} pairs get another verdict "
        "from the interleaved rounds."
    ]
    table = differ.astype(object).where(differ.notna(), "")  # absent params print empty
    return Section("Sequential against interleaved", text, table.head(TABLE_ROWS))


def _shown(pairs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each pair's keys, ratio with the interval its verdict rests on (``equivalent``: the
    equivalence interval, ``tables.shown_interval``), and verdict."""
    ratios = pairs.apply(tables.shown_ratio_text, axis=1) if len(pairs) else ""
    return pairs[keys].assign(ratio=ratios, verdict=pairs["verdict"])


def _rejudged(document: dict) -> tuple[str, pd.DataFrame] | None:
    """For a document recorded by an earlier judgement model: what the current one reads in
    the same rounds, as a table of recorded verdict against current verdict."""
    if document.get("judgement") == verdicts.JUDGEMENT_MODEL:
        return None
    now = [pair["verdict"] for pair in paired.judged_pairs(document)]
    then = [pair["verdict"] for pair in document["pairs"]]
    table = pd.crosstab(pd.Series(then, name="recorded"), pd.Series(now, name="now"))
    table = table.reset_index().rename_axis(columns=None)
    text = (
        "These rounds were recorded by an earlier judgement model (verdicts `same` and "
        "`undecided`) and are judged again by the current one (docs/ab.md): a `same` whose "
        "interval spanned far past the factor is now `inconclusive`, and says what change it "
        "could have detected. The table counts the pairs by both verdicts."
    )
    return text, table


def _ab_section(document: dict, result: compare.Comparison, figures: FigureFolder) -> Section:
    sides = [document.get(side, {}).get("torch", side) for side in ("baseline", "contender")]
    title = f"Interleaved A/B: torch {sides[1]} vs {sides[0]}"
    section = Section(
        title,
        [
            f"`ptbench ab` at commit {document['commit'][:8]} on {document['machine']}: "
            "rounds of the two environments alternated (ABBA), each pair judged from its "
            "paired rounds (`slower`/`faster`: family-wise 99% intervals; `equivalent`: "
            "within the factor by TOST at 5% per pair; docs/ab.md); machine noise: "
            f"{document.get('noise', {}).get('noise', 'not recorded')}.",
            tables.summary_line(result),
        ],
        tables.comparison_table(most_changed(result, TABLE_ROWS)),
    )
    for name, draw in FIGURE_MAKERS.items():
        figure = draw(result, {"torch": sides[0]}, {"torch": sides[1]})
        section.figures.append(figures.add(figure, f"{slug(title)}-{name}"))
    return section


def _by_comparison(frame: pd.DataFrame, documents: list[dict]) -> list[list[dict]]:
    """The A/B documents grouped by what they compare (machine and both torch builds), each
    group oldest first (by the date of the commit it was recorded at)."""
    groups: dict[tuple, list[dict]] = {}
    for document in documents:
        key = (document["machine"], document.get("baseline", {}).get("torch"),
               document.get("contender", {}).get("torch"))  # fmt: skip
        groups.setdefault(key, []).append(document)
    dates = frame.groupby("commit", observed=True)["commit_date"].max()
    return [sorted(group, key=lambda d: dates.get(d["commit"], pd.NaT)) for group in
            groups.values()]  # fmt: skip


def _rerecorded(previous: dict, newest: dict) -> Section:
    """What changed when a comparison was recorded again: both read by the current model,
    pair by pair, the previous verdict against the new one, and the pairs a decision moved."""
    then = {(p["benchmark"], tuple(p["params"])): p for p in paired.judged_pairs(previous)}
    now = {(p["benchmark"], tuple(p["params"])): p for p in paired.judged_pairs(newest)}
    both = [key for key in now if key in then]
    table = pd.crosstab(pd.Series([then[k]["verdict"] for k in both], name="previous"),
                        pd.Series([now[k]["verdict"] for k in both], name="re-recorded"))
    decided = {SLOWER, FASTER}
    moved = [f"`{k[0].split('.')[-1]}{tuple(k[1])}`: {then[k]['verdict']} "
             f"{tables.times(then[k]['ratio'])} -> {now[k]['verdict']} "
             f"{tables.times(now[k]['ratio'])}" for k in both
             if then[k]["verdict"] != now[k]["verdict"]
             and decided & {then[k]["verdict"], now[k]["verdict"]}]  # fmt: skip
    shares = [judgement.decided_share(pd.Series([p["verdict"] for p in d.values()]))
              for d in (then, now)]  # fmt: skip
    text = [
        f"Recorded again at commit {newest['commit'][:8]} (previous: {previous['commit'][:8]}),"
        f" with the current schedule; both read by the current judgement model. Decided: "
        f"{shares[0]:.0%} of comparable pairs before, {shares[1]:.0%} now. The table counts "
        f"the {len(both)} pairs in both by their two verdicts.",
        "Changes confirmed in only one of the two: " + ("; ".join(moved) if moved else "none"),
    ]
    return Section(f"Interleaved A/B: torch {newest['contender']['torch']} vs "
                   f"{newest['baseline']['torch']}, re-recorded", text,
                   table.reset_index().rename_axis(columns=None))  # fmt: skip


def ab_sections(frame: pd.DataFrame, results_dir: Path, figures: FigureFolder) -> list[Section]:
    """A section per comparison ``ptbench ab`` recorded in the folder, from its newest run,
    judged by its paired rounds; for a comparison recorded more than once, what changed
    against the previous run; for a run recorded by an earlier judgement model, its verdicts
    then and now; and where the sequential comparison of the same builds disagreed."""
    sections = []
    for group in _by_comparison(frame, paired.documents(results_dir)):
        document = group[-1]
        result = paired.comparison(frame, document)
        section = _ab_section(document, result, figures)
        sections.append(section)
        if len(group) > 1:
            sections.append(_rerecorded(group[-2], document))
        rejudged = _rejudged(document)
        if rejudged is not None:
            sections.append(Section(f"{section.title}: verdicts, recorded against now",
                                    [rejudged[0]], rejudged[1]))  # fmt: skip
        disagreement = _disagreements(frame, document, result)
        if disagreement:
            sections.append(disagreement)
    return sections


def explain_section(results_dir: Path) -> list[Section]:
    """What ``ptbench explain`` found, where explanations were recorded beside the comparisons
    (``explain-*.json``): per combination, the profiled ratio and its largest changes."""
    rows = [
        {"contender vs baseline": f"{doc['contender']} vs {doc['baseline']}",
         "benchmark": entry["benchmark"],
         "params": ", ".join(str(entry[k]) for k in schema.SUITE_PARAMS if k in entry),
         "ratio (profiled)": tables.times(entry["ratio"]) if entry.get("ratio") else "n/a",
         "largest changes per call": explain_record.headline(entry)}
        for doc in explain_record.documents(results_dir) for entry in doc["combinations"]
    ]  # fmt: skip
    if not rows:
        return []
    text = ("Each combination profiled with torch.profiler in both builds (ptbench explain): the "
            "ATen operators whose self time per call changed most, and the time outside ATen.")
    return [Section("Why it changed (ptbench explain)", [text], pd.DataFrame(rows))]
