"""``ptbench report``: the questions users bring, answered from a results folder.

Sections, each with a table and figures: what the history holds; the requested baseline vs
contender comparison; the standard questions the data can answer (CUDA over CPU, Cholesky over
LU, in place over out of place, eigh over eig); change points along commit history; scaling.
Written as ``report.md`` (figures linked, PNG and SVG in ``figures/``) and a self-contained
``report.html`` (figures embedded).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ptbench.analysis import compare, history, judgement, torch_history
from ptbench.analysis.ab import paired, verdicts
from ptbench.analysis.explain import record as explain_record
from ptbench.core import outputs, schema
from ptbench.core.names import slug
from ptbench.core.schema import DEFAULT_FACTOR, STATUS_FAILED, STATUS_OK, STATUS_SKIPPED
from ptbench.data.results import load_results
from ptbench.present import plots, rendering, tables
from ptbench.present.document import Section, to_html, to_markdown

# (title, baseline, contender, what a user learns): asked whenever the data holds both sides.
STANDARD_QUESTIONS = (
    (
        "CUDA over CPU",
        {"device": "cpu"},
        {"device": "cuda"},
        "How much faster is the GPU, by size?",
    ),
    (
        "Cholesky over LU",
        {"method": "lu"},
        {"method": "cholesky"},
        "Solving an SPD system: does Cholesky's half-the-FLOPs factorisation pay off?",
    ),
    (
        "In place over out of place",
        {"method": "out_of_place"},
        {"method": "sub_alpha"},
        "p.sub_(g, alpha=lr) against p = p - lr * g, in time and in peak memory.",
    ),
    (
        "eigh over eig",
        {"operation": "eig"},
        {"operation": "eigh"},
        "Symmetric eigensolver against the general one.",
    ),
)
SCALING = (
    ("bench_linalg.time_matmul", {"dtype": "float32"}),
    ("bench_linalg.time_solve", {"dtype": "float64", "method": "cholesky"}),
    ("bench_elementwise.time_multiply", {}),
)
TOP_CHANGES = 20
TABLE_ROWS = 60


@dataclass
class FigureFolder:
    """Where a report's figures go; each is rendered while the report goes on (see
    :class:`rendering.FigureWriter`), and ``writer.write_all`` waits for the last."""

    folder: Path
    writer: rendering.FigureWriter = field(default_factory=rendering.FigureWriter)

    def add(self, figure, name: str) -> Path:
        return self.writer.add(figure, self.folder / name)


def overview(frame: pd.DataFrame, results_dir: Path) -> Section:
    """A row per run: when, which torch, how many results, and how quiet the machine was."""
    columns = {
        "date": ("commit_date", "max"),
        "torch": ("torch", "first"),
        "ok": ("status", lambda s: int((s == STATUS_OK).sum())),
        "n_a": ("status", lambda s: int((s == STATUS_SKIPPED).sum())),
        "failed": ("status", lambda s: int((s == STATUS_FAILED).sum())),
    }
    if "noise" in frame:  # runs recorded before the noise guard have none
        columns["machine noise"] = ("noise", "first")
    runs = (
        frame.groupby(["machine", "env", "commit"], dropna=False)
        .agg(**columns)
        .reset_index()
        .sort_values("date")
    )
    runs["commit"] = runs["commit"].str[:8]
    runs["date"] = runs["date"].dt.strftime(tables.DATE_FORMAT)
    runs = runs.rename(columns={"n_a": "n/a (skipped or not run)"})
    if "machine noise" in runs:
        runs["machine noise"] = runs["machine noise"].astype(object).fillna("not recorded")
    return Section(
        "Results",
        [
            f"{len(frame)} results from `{results_dir}`: "
            f"{runs['machine'].nunique()} machine(s), {len(runs)} run(s)."
        ],
        runs,
    )


ALL_FIGURES = ("bars", "speedup", "heatmap")
FIGURE_MAKERS = {
    "bars": plots.comparison_bars,
    "speedup": plots.speedup_vs_size,
    "heatmap": plots.speedup_heatmap,
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
        statuses = result.pairs["note"].value_counts().head(3)
        section.text.append(
            "Not in these results: no combination ran on both sides ("
            + "; ".join(f"{count} pairs {note}" for note, count in statuses.items())
            + ")."
        )
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


def changes_section(frame: pd.DataFrame, figures: FigureFolder) -> Section:
    changes = history.change_points(frame)
    section = Section(
        "Change points along history",
        [
            "Steps found by asv's step detection (as `asv publish` does) in each "
            "series with 3 or more commits, kept when a Mann-Whitney U test of the "
            "samples either side gives p < 0.01."
        ],
    )
    if changes.empty:
        section.text.append("No change of 5% or more (series need at least 3 commits).")
        return section
    keys = history.series_keys(frame)
    section.table = tables.change_table(changes.head(TOP_CHANGES), "commit")
    for index, change in changes.head(3).iterrows():
        identity = {key: change[key] for key in keys if pd.notna(change[key])}
        figure = plots.history(frame, identity, changes)
        section.figures.append(figures.add(figure, f"history-{index}"))
    return section


ALONG_TORCH = (
    ("bench_linalg.time_solve", {"device": "cpu", "dtype": "float64", "method": "cholesky"}),
    ("bench_linalg.time_matmul", {"device": "cpu", "dtype": "float32"}),
)


def torch_section(frame: pd.DataFrame, figures: FigureFolder) -> Section:
    """Change points along torch versions, and a few benchmarks drawn along them."""
    changes = torch_history.change_points(frame)
    points = torch_history.along_torch(frame)
    section = Section(
        "Along torch versions",
        [
            "A line per benchmark combination, machine and torch build line (`cpu`, `cu130`, ...), "
            "ordered by torch version (PEP 440; nightlies before their release), the newest "
            "result of each version; change points by the same detector and test as along "
            "commits. Versions here: "
            + ", ".join(f"{line} {', '.join(torch_history.ordered_versions(group))}"
                        for line, group in points.groupby("torch_line")["torch_version"])
            + "."
        ],
    )  # fmt: skip
    if not changes.empty:
        section.text.append(tables.SEQUENTIAL_CAVEAT)
        section.table = tables.change_table(changes.head(TOP_CHANGES), torch_history.PUBLIC)
    else:
        section.text.append("No change of 5% or more (a line needs three torch versions or more).")
    for benchmark, where in ALONG_TORCH:
        for (machine, line), group in points[points["benchmark"] == benchmark].groupby(
            ["machine", "torch_line"]
        ):
            if group["torch_version"].nunique() < 2:
                continue
            identity = {"benchmark": benchmark, "machine": machine, "torch_line": line, **where}
            mine = changes[(changes["benchmark"] == benchmark) & (changes["machine"] == machine)]
            figure = plots.along_torch(points, identity, mine)
            section.figures.append(figures.add(figure, f"torch-{slug(benchmark)}-{line}"))
    return section


def scaling_section(frame: pd.DataFrame, figures: FigureFolder) -> Section:
    section = Section(
        "Scaling",
        [
            "Time and achieved throughput (the operation's nominal FLOP or byte count over the "
            "time) against size, latest results; a roofline per machine and device, its roofs "
            "from the machine's datasheet peaks or measured probe."
        ],
    )
    for benchmark, where in SCALING:
        rows = frame[(frame["benchmark"] == benchmark) & (frame["status"] == STATUS_OK)]
        if rows.empty:
            continue
        by = "device" if rows["device"].nunique() > 1 else "env"
        figure = plots.scaling(frame, benchmark, by=by, where=where)
        section.figures.append(figures.add(figure, f"scaling-{slug(benchmark)}"))
    newest = schema.latest(frame, by=("machine", "device"))
    for row in newest.itertuples():
        if (
            pd.isna(row.device)
            or not frame.loc[
                (frame["machine"] == row.machine) & (frame["device"] == row.device), "intensity"
            ]
            .notna()
            .any()
        ):
            continue
        figure = plots.roofline(frame, row.machine, row.env, row.device)
        section.figures.append(figures.add(figure, f"roofline-{row.machine}-{row.device}"))
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
    columns = [*keys, "ratio", "ratio_low", "ratio_high", "verdict"]
    both = sequential.pairs[columns].merge(
        interleaved.pairs[columns], on=keys, suffixes=(" sequential", " interleaved")
    )
    differ = both[both["verdict sequential"] != both["verdict interleaved"]]
    text = [
        f"The same builds run one after the other by `ptbench run` (commit {commit[:8]}), "
        f"judged by `ptbench compare`: {len(differ)} of {len(both)} pairs get another verdict "
        "from the interleaved rounds."
    ]
    table = differ.copy()
    for side in ("sequential", "interleaved"):
        table[f"ratio {side}"] = [
            tables.ratio_text(r, lo, hi)
            for r, lo, hi in zip(
                differ[f"ratio {side}"], differ[f"ratio_low {side}"],
                differ[f"ratio_high {side}"], strict=True,
            )
        ]  # fmt: skip
    table = table.drop(columns=[c for c in table if c.startswith("ratio_")])
    table = table.astype(object).where(table.notna(), "")  # absent params print empty
    return Section("Sequential against interleaved", text, table.head(TABLE_ROWS))


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
    sides = [document[side]["torch"] for side in ("baseline", "contender")]
    title = f"Interleaved A/B: torch {sides[1]} vs {sides[0]}"
    section = Section(
        title,
        [
            f"`ptbench ab` at commit {document['commit'][:8]} on {document['machine']}: "
            "rounds of the two environments alternated (ABBA), each pair judged from its "
            "paired rounds (`slower`/`faster`: family-wise 99% intervals; `equivalent`: "
            "within the factor by TOST at 5% per pair; docs/ab.md); machine noise: "
            f"{document['noise'].get('noise', 'not recorded')}.",
            tables.summary_line(result),
        ],
        tables.comparison_table(most_changed(result, TABLE_ROWS)),
    )
    for name, draw in FIGURE_MAKERS.items():
        figure = draw(result, {"torch": sides[0]}, {"torch": sides[1]})
        section.figures.append(figures.add(figure, f"{slug(title)}-{name}"))
    return section


def ab_sections(frame: pd.DataFrame, results_dir: Path, figures: FigureFolder) -> list[Section]:
    """One section per ``ptbench ab`` run in the folder, judged by its paired rounds; for a
    run recorded by an earlier judgement model, its verdicts then and now; and where the
    sequential comparison of the same builds disagreed."""
    sections = []
    for document in paired.documents(results_dir):
        result = paired.comparison(frame, document)
        section = _ab_section(document, result, figures)
        sections.append(section)
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


def build(
    results_dir: Path,
    out_dir: Path,
    baseline: dict | None = None,
    contender: dict | None = None,
    factor: float = DEFAULT_FACTOR,
) -> list[Section]:
    frame = load_results(results_dir)
    figures = FigureFolder(out_dir / "figures")
    sections = [overview(frame, results_dir), *ab_sections(frame, results_dir, figures),
                *explain_section(results_dir)]  # fmt: skip
    if baseline and contender:  # the user's own question: errors in it are the user's to fix
        sections.append(
            comparison_section(
                frame,
                f"{plots.describe(contender)} vs {plots.describe(baseline)}",
                baseline,
                contender,
                factor,
                figures,
            )
        )
    latest = schema.newest_run(frame)
    for title, base, cont, question in STANDARD_QUESTIONS:
        try:
            sections.append(
                comparison_section(
                    latest, title, base, cont, factor, figures, question, drawn=("speedup",)
                )
            )
        except compare.SelectorError as missing:
            sections.append(Section(title, [question, f"Not in these results: {missing}."]))
    # Figures are rendered by other processes while this one goes on: the section with the most
    # figures and the least arithmetic is built first, the change points (arithmetic, few
    # figures) last, so the rendering overlaps them; the document keeps its order.
    scaling = scaling_section(latest, figures)
    sections += [changes_section(frame, figures), torch_section(frame, figures), scaling]
    figures.writer.write_all()
    return sections


def write(
    results_dir: Path,
    out_dir: Path,
    baseline: dict | None = None,
    contender: dict | None = None,
    factor: float = DEFAULT_FACTOR,
) -> list[Path]:
    """Build the report; write report.md, report.html and figures/ under ``out_dir``."""
    compare.check_factor(factor)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = build(results_dir, out_dir, baseline, contender, factor)
    markdown, page = out_dir / "report.md", out_dir / "report.html"
    outputs.write_text_atomically(markdown, to_markdown(sections, out_dir))
    outputs.write_text_atomically(page, to_html(sections))
    return [markdown, page]
