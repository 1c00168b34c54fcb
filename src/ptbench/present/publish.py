"""``ptbench publish``: a static site of the history that works offline.

asv's own pages load jQuery, flot and bootstrap from CDNs, so on a GPU machine without internet
they draw nothing. This site makes no request outside its folder: every page is HTML with its
data inline, and the graphs are drawn by plotly.js, copied from the ``plotly`` Python wheel
(which ships it: ``plotly.offline.get_plotlyjs``) into ``assets/``, with ptbench's small
``ptbench-site.js`` for the controls. It opens from ``file://`` or any static server.

- ``index.html``: confirmed regressions (``ptbench ab``) and change points (along torch versions
  and along suite commits) first, the latest run per machine, links to every benchmark.
- ``benchmarks/<benchmark>.html``: one graph, x-axis chosen among torch version, run date,
  suite commit and size; filters for machine, device, dtype, method, size and torch build line;
  hover with value and 99% interval; change points marked; legend beside the plot.
- ``hardware.html``: machine against machine for the same torch build.

The data shape each page embeds is documented in ``assets/ptbench-site.js``.
"""

from __future__ import annotations

import json
import math
import shutil
from importlib import resources
from pathlib import Path

import pandas as pd

from ptbench.analysis import history, torch_history
from ptbench.analysis.ab import paired
from ptbench.analysis.explain import record as explain_record
from ptbench.core import outputs
from ptbench.core.errors import OutputError
from ptbench.core.schema import latest, timed
from ptbench.data.results import load_results
from ptbench.present import bisection, tables
from ptbench.present.html import trusted
from ptbench.present.publish_pages import benchmark_file, hardware_page, index_page, page

ASSETS = ("ptbench-site.js", "ptbench-site.css")
POINT_COLUMNS = ("machine", "env", "torch", "commit", "value", "ci_99_low", "ci_99_high")


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _param(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def points(rows: pd.DataFrame, param_keys: list[str]) -> list[dict]:
    """The rows of one benchmark as the JSON points its page draws."""
    lines = torch_history.with_lines(rows)
    out = []
    for row in lines.itertuples(index=False):
        facts = row._asdict()
        out.append(
            {
                "params": {key: _param(facts[key]) for key in param_keys if key in facts},
                **{key: facts[key] for key in ("machine", "env", "torch", "unit")},
                "line": facts[torch_history.LINE],
                "version": facts[torch_history.PUBLIC],
                "order": int(facts[torch_history.ORDER]),
                "commit": str(facts["commit"])[:8],
                "date": facts["commit_date"].isoformat(),
                "value": float(facts["value"]),
                "low": _number(facts["ci_99_low"]),
                "high": _number(facts["ci_99_high"]),
            }
        )
    return out


def _change_marks(changes: pd.DataFrame, param_keys: list[str], at: str) -> list[dict]:
    """Change points as the page marks them: which series, and where the new level began."""
    marks = []
    for row in changes.to_dict("records"):
        params = {key: _param(row[key]) for key in param_keys if key in row}
        marks.append(
            {
                "params": params,
                "machine": row["machine"],
                "series": row.get("env") or row.get(torch_history.LINE),
                "axis": "torch" if at == torch_history.PUBLIC else "commit",
                "at": str(row[at])[:8] if at == "commit" else str(row[at]),
                "change": float(row["change"]),
            }
        )
    return marks


def page_data(frame: pd.DataFrame, benchmark: str, changes: dict[str, pd.DataFrame]) -> dict:
    """Everything one benchmark page draws, as a JSON-ready dict."""
    rows = frame[frame["benchmark"] == benchmark]
    param_keys = [key for key in frame.attrs["param_keys"] if rows[key].notna().any()]
    marks = []
    for at, found in changes.items():
        mine = found[found["benchmark"] == benchmark]
        marks += _change_marks(mine, param_keys, at)
    return {
        "benchmark": benchmark,
        "unit": rows["unit"].iloc[0],
        "param_keys": param_keys,
        "versions": torch_history.ordered_versions(rows["torch"]),
        "points": points(rows, param_keys),
        "changes": marks,
    }


def all_changes(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Change points along torch versions and along suite commits, keyed by what ``at`` is."""
    return {
        torch_history.PUBLIC: torch_history.change_points(frame),
        "commit": history.change_points(frame),
    }


SITE_FOLDERS = ("assets", "benchmarks", "roofline", "bisect")  # what a site holds besides its pages
SITE_MARKER = "assets/ptbench-site.js"  # every site holds it: an --out without it is not one


def copy_assets(out_dir: Path) -> None:
    """ptbench's script and style, and plotly.js from the plotly wheel, into ``assets/``."""
    import plotly.offline

    folder = out_dir / "assets"
    outputs.make_folder(folder)
    for name in ASSETS:
        source = resources.files("ptbench.present") / "assets" / name
        with resources.as_file(source) as path:  # renamed into place: a link is replaced
            outputs.write_atomically(folder / name, lambda target: shutil.copyfile(path, target))
    outputs.write_text_atomically(folder / "plotly.min.js", plotly.offline.get_plotlyjs())


def inline_json(data) -> str:
    """JSON safe inside a ``<script>`` element (no ``</`` can end it early)."""
    text = json.dumps(tables.plain(data), allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/")


def rooflines(frame: pd.DataFrame, out_dir: Path) -> list[dict[str, str]]:
    """The report's roofline (one roof per memory level, each point coloured by the level it
    was judged against) for each machine and device's newest results, as SVGs in
    ``out_dir``/roofline/; what the hardware page shows of each."""
    from ptbench.core.names import slug
    from ptbench.present import rendering, roofline

    drawn = []
    newest = latest(frame[frame["intensity"].notna()], by=("machine", "device"))
    for row in newest.itertuples():
        stem = slug(f"{row.machine}-{row.device}")
        figure = roofline.roofline(frame, row.machine, row.env, row.device)
        rendering.save(figure, out_dir / "roofline" / stem)
        drawn.append({"src": f"roofline/{stem}.svg",
                      "title": f"{row.machine}, {row.device}, {row.env}"})  # fmt: skip
    return drawn


def write(results_dir: Path, out_dir: Path) -> list[Path]:
    """Build the site from ``results_dir`` into ``out_dir``; the pages written, index first."""
    frame = timed(load_results(results_dir))
    outputs.check_file_targets(out_dir, ("index.html", "hardware.html", SITE_MARKER))
    with outputs.new_folder(out_dir):
        return _write_site(results_dir, out_dir, frame)


def _write_site(results_dir: Path, out_dir: Path, frame: pd.DataFrame) -> list[Path]:
    outputs.check_no_links(out_dir, SITE_FOLDERS)
    (out_dir / "benchmarks").mkdir(exist_ok=True)
    copy_assets(out_dir)
    changes = all_changes(frame)
    written = [out_dir / "index.html", out_dir / "hardware.html"]
    documents = paired.documents(results_dir)
    explanations = explain_record.documents(results_dir)
    bisected = bisection.site_rows(bisection.documents(results_dir), out_dir)
    outputs.write_text_atomically(written[0], index_page(frame, changes, documents, explanations,
                                                         bisected))  # fmt: skip
    outputs.write_text_atomically(written[1], hardware_page(frame, rooflines(frame, out_dir)))
    for benchmark in sorted(frame["benchmark"].unique()):
        data = page_data(frame, benchmark, changes)
        path = out_dir / benchmark_file(benchmark)
        if not outputs.is_inside(path, out_dir / "benchmarks"):  # checked, not assumed
            raise OutputError(f"benchmark {benchmark!r} would be written outside {out_dir}")
        text = page("benchmark.html", benchmark, depth=1, script=True,
                    data=trusted(inline_json(data)))  # fmt: skip
        outputs.write_text_atomically(path, text)
        written.append(path)
    return written
