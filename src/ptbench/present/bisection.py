"""``ptbench bisect``'s answer: the steps as a table, the first bad build in a line, and a
figure of the followed combination's ratio to the first build along the builds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on benchmark machines or in CI
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import pandas as pd  # noqa: E402
from tabulate import tabulate  # noqa: E402

from ptbench.core.schema import EQUIVALENT, FASTER, INCONCLUSIVE, SLOWER  # noqa: E402
from ptbench.hardware import noise  # noqa: E402
from ptbench.present import tables  # noqa: E402

HEADERS = ["step", "what", "contender", "baseline", "ratio", "interval", "verdict", ""]


def combination(entry: dict | None) -> str:
    if entry is None:
        return "none"
    return f"{entry['benchmark']}({', '.join(repr(v) for v in entry['params'])})"


def build_label(build: dict) -> str:
    return f"build {build['index']} (torch {build['torch']})"


def interval(entry: dict) -> str:
    low, high = entry.get("ratio_low"), entry.get("ratio_high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"[{low:.3g}, {high:.3g}]"


def _ratio(entry: dict) -> str:
    ratio = entry.get("ratio")
    return tables.times(ratio) if ratio is not None and math.isfinite(ratio) else "n/a"


def _step_rows(document: dict) -> list[list[str]]:
    builds = document["builds"]
    rows = []
    for number, step in enumerate(document["steps"], 1):
        verdict = step.get("verdict") or ", ".join(f"{v} {n}" for v, n in step["verdicts"].items())
        rows.append([str(number), step["role"], build_label(builds[step["contender"]]),
                     build_label(builds[step["baseline"]]), _ratio(step), interval(step),
                     verdict, "reused" if step.get("reused") else ""])  # fmt: skip
    return rows


def headline(document: dict) -> str:
    """The answer in a line."""
    builds = document["builds"]
    if document["tracked"] is None:
        return _nothing_found(document)
    boundary = document["boundary"]
    against = f"against {build_label(document['last_good'])}"
    change = f"{_ratio(boundary)} {interval(boundary)} {boundary['verdict']}".replace("  ", " ")
    if document["first_bad"] is None:
        candidates = ", ".join(str(index) for index in document["candidates"])
        return (f"the first bad build is one of builds {candidates} (the rounds could not "
                f"decide between them); {build_label(builds[document['candidates'][-1]])} is "
                f"{change} {against}")  # fmt: skip
    bad = document["first_bad"]
    confirmed = "" if boundary["confirmed"] else (
        " (not confirmed at the boundary: the change may have come in several smaller steps)")
    return (f"first bad build: {build_label(bad)}, git {bad['git_version'][:12]}: {change} "
            f"{against}{confirmed}")  # fmt: skip


def _nothing_found(document: dict) -> str:
    """The ends confirmed no regression: what they did say, inconclusive pairs not passed off
    as equivalent."""
    builds, ends = document["builds"], document["steps"][0]
    which = f"{build_label(builds[-1])} against {build_label(builds[0])}"
    counts = ", ".join(f"{count} {verdict}" for verdict, count in ends["verdicts"].items())
    undecided = ends["verdicts"].get(INCONCLUSIVE, 0)
    if not undecided:
        return f"no regression between the ends: {which}: {counts}"
    disturbed = str(ends.get("noise") or "")
    why = (f"the run was {disturbed}" if noise.contended(disturbed) else
           "the rounds could not tell; a larger --budget may decide them")  # fmt: skip
    return (f"no regression confirmed between the ends, {undecided} inconclusive ({why}): "
            f"{which}: {counts}")


def _details(document: dict) -> list[str]:
    lines = []
    commits = document.get("commits") or {}
    if commits.get("compare"):
        lines.append(f"commits between them: {commits['compare']} (or: {commits['git_log']})")
    elif commits and commits["from"] == commits["to"]:
        lines.append(f"both builds are git revision {commits['from']}: they differ in "
                     "something else (their packages, build options or environment)")
    elif commits:
        lines.append(f"git revisions: {commits['from']} .. {commits['to']}")
    also = (document.get("boundary") or {}).get("also_changed") or []
    for pair in also[:10]:
        lines.append(f"also changed at the boundary: {combination(pair)} {_ratio(pair)} "
                     f"{interval(pair)} {pair['verdict']}")  # fmt: skip
    if len(also) > 10:
        lines.append(f"... and {len(also) - 10} more (--format json lists them all)")
    return lines


def render(document: dict, output_format: str = "table") -> str:
    """The bisection as a terminal table, Markdown or JSON; the answer last."""
    if output_format == "json":
        return json.dumps(tables.plain({k: v for k, v in document.items() if k != "path"}),
                          indent=1)  # fmt: skip
    style = "github" if output_format == "markdown" else "simple"
    followed = combination(document["tracked"])
    lines = [f"ptbench bisect: {len(document['builds'])} builds, following {followed}", "",
             tabulate(_step_rows(document), HEADERS, tablefmt=style), ""]  # fmt: skip
    return "\n".join([*lines, *_details(document), headline(document)])


# How each step's point is drawn: a confirmed slowdown, a build shown unchanged (or faster), and
# what the rounds could not decide (open, never drawn like a pass).
VERDICT_STYLE = {SLOWER: ("tab:red", "o", "slower"), EQUIVALENT: ("tab:blue", "o", "equivalent"),
                 FASTER: ("tab:blue", "o", "faster"),
                 INCONCLUSIVE: ("tab:orange", "s", "inconclusive")}  # fmt: skip
NICE_RATIOS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 7,
               10, 20, 30, 50, 70, 100)  # fmt: skip


def _ratio_ticks(axes) -> None:
    """Ratio ticks a person reads (``1.25x``) on the log axis, enough of them inside its range
    (a range within one decade would otherwise have one or two)."""
    low, high = axes.get_ylim()
    ticks = [value for value in NICE_RATIOS if low <= value <= high]
    if len(ticks) > 8:
        ticks = ticks[:: len(ticks) // 8 + 1] + ([1.0] if 1.0 not in ticks[:: len(ticks) // 8 + 1]
                                                   else [])  # fmt: skip
    axes.set_yticks(sorted(set(ticks)), [f"{value:g}x" for value in sorted(set(ticks))])
    axes.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_ylim(low, high)


def _steps_against_first(axes, steps: list[dict]) -> None:
    """A point and interval for each step that compared a build with build 0."""
    seen: dict[int, int] = {}
    for step in (s for s in steps if s["baseline"] == 0 and s.get("ratio")):
        ratio, low, high = step["ratio"], step.get("ratio_low"), step.get("ratio_high")
        # a build compared with build 0 twice (a search step and the boundary): side by side
        shift = 0.12 * seen.get(step["contender"], 0)
        seen[step["contender"]] = seen.get(step["contender"], 0) + 1
        # an interval past 100x either way is drawn to 100x (the table has its ends)
        low = max(low, ratio / 100) if low and math.isfinite(low) else ratio / 100
        high = min(high, ratio * 100) if high and math.isfinite(high) else ratio * 100
        colour, marker, kind = VERDICT_STYLE.get(step.get("verdict"), VERDICT_STYLE[INCONCLUSIVE])
        axes.errorbar([step["contender"] + shift], [ratio], yerr=[[ratio - low], [high - ratio]],
                      fmt=marker, color=colour, capsize=4, markerfacecolor=colour
                      if marker == "o" else "white", label=f"{kind} (ab ratio to build 0, "
                      "interval)")  # fmt: skip


def figure(document: dict) -> plt.Figure:
    """The followed combination's ratio to the first build, for each build a step compared with
    it, with its interval, and the boundary shaded."""
    builds = document["builds"]
    figure, axes = plt.subplots(figsize=(9, 4.2))
    _steps_against_first(axes, document["steps"])
    axes.plot([0], [1.0], "D", color="grey", label="build 0 (the reference)")
    axes.axhline(1.0, color="grey", linewidth=0.8)
    factor = document["factor"]
    axes.axhspan(1 / factor, factor, color="grey", alpha=0.12, label=f"within {factor:g}x")
    if document["tracked"] is not None:
        last_good = document["last_good"]["index"]
        axes.axvspan(last_good + 0.5, document["candidates"][-1] + 0.5, color="tab:red",
                     alpha=0.08, label="first bad build")
        axes.axvline(last_good + 0.5, color="tab:red", linestyle="--", linewidth=1)
    axes.set_yscale("log")
    _ratio_ticks(axes)
    axes.set_xticks(range(len(builds)),
                    [f"{b['index']}\n{b['torch']}" for b in builds], fontsize=8)  # fmt: skip
    axes.set_xlim(-0.5, len(builds) - 0.5)
    axes.set_xlabel("build (oldest first), torch version")
    axes.set_ylabel("time ratio to build 0 (log)")
    axes.set_title(combination(document["tracked"]), fontsize=9)
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))  # one entry per kind of point
    axes.legend(unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(1.01, 1),
                fontsize=8, frameon=False)  # fmt: skip
    figure.set_layout_engine("tight")
    return figure


def step_table(document: dict) -> pd.DataFrame:
    return pd.DataFrame(_step_rows(document), columns=[h or "note" for h in HEADERS])


def documents(results_dir: Path) -> list[dict]:
    from ptbench.analysis.bisect import record

    return record.documents(results_dir)


def sections(results_dir: Path, figures) -> list:
    """One report section per ``ptbench bisect`` document at the top of ``results_dir``: the
    answer, its steps, and the ratio-to-the-first-build figure."""
    from ptbench.core.names import slug
    from ptbench.present.document import Section

    found = []
    for document in documents(results_dir):
        title = f"Bisection ({len(document['builds'])} builds): {combination(document['tracked'])}"
        text = [f"`ptbench bisect` over torch {document['builds'][0]['torch']} .. "
                f"{document['builds'][-1]['torch']}, each step a `ptbench ab` comparison "
                f"(`{Path(document['path']).stem}/`, one ab results folder per step).",
                headline(document), *_details(document)]  # fmt: skip
        section = Section(title, text, step_table(document))
        if document["tracked"] is not None:
            section.figures.append(figures.add(figure(document), slug(Path(document["path"]).stem)))
        found.append(section)
    return found


def site_rows(documents: list[dict], out_dir: Path) -> list[list]:
    """A row per bisection for the site's index: what it followed, where it landed, and its
    figure (written under ``out_dir``/bisect/, a name made safe from the document's)."""
    from ptbench.core.names import slug
    from ptbench.present import rendering
    from ptbench.present.html import Link

    rows = []
    for document in documents:
        cell = ""
        if document["tracked"] is not None:
            stem = slug(Path(document["path"]).stem)
            rendering.save(figure(document), out_dir / "bisect" / stem)
            cell = Link(f"bisect/{stem}.svg", "figure")
        rows.append([combination(document["tracked"]), str(len(document["builds"])),
                     headline(document), cell])  # fmt: skip
    return rows
