"""``ptbench report``: the questions users bring, answered from a results folder.

Sections, each with a table and figures: what the history holds; the requested baseline vs
contender comparison; the standard questions the data can answer (CUDA over CPU, Cholesky over
LU, in place over out of place, eigh over eig); change points along commit history; scaling.
Written as ``report.md`` (figures linked, PNG and SVG in ``figures/``) and a self-contained
``report.html`` (figures embedded).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ptbench.analysis import compare, history, torch_history
from ptbench.analysis.explain import record as explain_record
from ptbench.core import outputs, schema
from ptbench.core.names import slug
from ptbench.core.progress import Progress
from ptbench.core.schema import DEFAULT_FACTOR, STATUS_FAILED, STATUS_OK, STATUS_SKIPPED
from ptbench.data.documents import ab_documents
from ptbench.data.results import listed, load_results
from ptbench.present import bisection, plots, roofline, tables
from ptbench.present.document import FigureFolder, Section, to_html, to_markdown
from ptbench.present.report_comparisons import ab_sections, comparison_section, explain_section

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
            "time) against size, latest results; a roofline per machine and device, with one "
            "roof per level of the memory hierarchy and the compute peaks (the machine's "
            "datasheet, else its probe), each point coloured by the ceiling it was judged "
            "against."
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
        figure = roofline.roofline(frame, row.machine, row.env, row.device)
        section.figures.append(figures.add(figure, f"roofline-{row.machine}-{row.device}"))
    return section


def build(
    results_dir: Path,
    out_dir: Path,
    baseline: dict | None = None,
    contender: dict | None = None,
    factor: float = DEFAULT_FACTOR,
) -> list[Section]:
    outputs.check_no_links(out_dir, ("figures",))
    _check_documents(Path(results_dir))
    figures = FigureFolder(out_dir / "figures")
    if not listed(Path(results_dir)) and bisection.documents(results_dir):
        return _bisections_only(results_dir, figures)
    bar = Progress("ptbench report", REPORT_STEPS, "steps")
    try:
        return _build(results_dir, figures, (baseline, contender), factor, bar)
    except BaseException:  # a refusal, a failure, Ctrl-C: no figure is written after it
        figures.writer.stop()
        raise
    finally:
        bar.close()


def _check_documents(results_dir: Path) -> None:
    """Every document beside the results read before the first figure is drawn, so a damaged
    one refuses the report before it touches an earlier output (a hostile pass: a damaged
    explanation was refused after the A/B figures had replaced the earlier report's)."""
    ab_documents(results_dir)
    explain_record.documents(results_dir)
    bisection.documents(results_dir)


REPORT_STEPS = 6  # loading, recorded comparisons, the user's and standard questions, history,
# scaling, figures: each a progress step (a history of a thousand files takes minutes)


def _build(results_dir: Path, figures: FigureFolder, asked: tuple, factor: float, bar):
    baseline, contender = asked
    frame = load_results(results_dir)
    bar.update(1, "recorded comparisons")
    sections = [overview(frame, results_dir), *ab_sections(frame, results_dir, figures),
                *explain_section(results_dir),
                *bisection.sections(results_dir, figures)]  # fmt: skip
    bar.update(2, "questions")
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
    sections += standard_sections(latest, factor, figures)
    bar.update(3, "history")
    # Figures are rendered by other processes while this one goes on: the section with the most
    # figures and the least arithmetic is built first, the change points (arithmetic, few
    # figures) last, so the rendering overlaps them; the document keeps its order.
    scaling = scaling_section(latest, figures)
    bar.update(4, "change points")
    sections += [changes_section(frame, figures), torch_section(frame, figures), scaling]
    bar.update(5, "figures")
    figures.writer.write_all()
    bar.update(6)
    return sections


def standard_sections(latest: pd.DataFrame, factor: float, figures: FigureFolder) -> list:
    """The questions every report answers of the newest runs, or says they cannot be."""
    sections = []
    for title, base, cont, question in STANDARD_QUESTIONS:
        try:
            sections.append(
                comparison_section(
                    latest, title, base, cont, factor, figures, question, drawn=("speedup",)
                )
            )
        except compare.SelectorError as missing:
            sections.append(Section(title, [question, f"Not in these results: "
                                                      f"{_unasked(missing, base, cont)}."]))
    return sections


def _unasked(missing: compare.SelectorError, base: dict, cont: dict) -> str:
    """A standard question's missing side, named as the question's (the user gave no
    ``--baseline``), not as if the user's own selector had matched nothing."""
    text = str(missing)
    for side, chosen in (("baseline", base), ("contender", cont)):
        if text.startswith(f"{side}: "):
            _, _, available = text.partition("; available: ")
            there = f" (these results have: {available})" if available else ""
            return f"no results for its {side}, {plots.describe(chosen)}{there}"
    return text


def _bisections_only(results_dir: Path, figures: FigureFolder) -> list[Section]:
    """A folder that ``ptbench bisect`` alone wrote: its bisections (each step's own results
    are an ab results folder beneath, which ``report --results`` reads as it reads any)."""
    sections = bisection.sections(results_dir, figures)
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
    markdown, page = out_dir / "report.md", out_dir / "report.html"
    outputs.check_file_targets(out_dir, (markdown.name, page.name))
    with outputs.new_folder(out_dir):
        sections = build(results_dir, out_dir, baseline, contender, factor)
        outputs.write_text_atomically(markdown, to_markdown(sections, out_dir))
        outputs.write_text_atomically(page, to_html(sections))
    return [markdown, page]
