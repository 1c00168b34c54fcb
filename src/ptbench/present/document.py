"""A report as a document: titled sections of paragraphs, a table and figures (rendered while
the report goes on: ``FigureFolder``), and its two
renderings, ``report.md`` (figures linked) and a self-contained ``report.html`` (figures
embedded; ``templates/report.html``). ``report`` decides what the sections say.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ptbench.core.names import file_stem
from ptbench.present import html, rendering


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    figures: list[Path] = field(default_factory=list)  # PNGs; an SVG sits beside each


def to_markdown(sections: list[Section], out_dir: Path) -> str:
    lines = ["# ptbench report", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        # a paragraph's lines (a summary's counts, one a line) stay lines: a hard break each
        lines += [paragraph.replace("\n", "  \n") + "\n" for paragraph in section.text if paragraph]
        if section.table is not None and not section.table.empty:
            lines += [section.table.to_markdown(index=False), ""]
        for figure in section.figures:
            relative = figure.relative_to(out_dir).as_posix()
            lines += [f"![{figure.stem}]({relative})", ""]
    return "\n".join(lines)


def to_html(sections: list[Section]) -> str:
    """report.html (``templates/report.html``), each figure embedded as a PNG."""
    shown = [
        {
            "title": section.title,
            "text": section.text,
            "table": html.trusted(section.table.to_html(index=False, na_rep="n/a", border=0))
            if section.table is not None and not section.table.empty
            else None,
            "figures": [
                {"name": figure.stem, "data": base64.b64encode(figure.read_bytes()).decode()}
                for figure in section.figures
            ],
        }
        for section in sections
    ]
    return html.render("report.html", sections=shown)


@dataclass
class FigureFolder:
    """Where a report's figures go; each is rendered while the report goes on (see
    :class:`rendering.FigureWriter`), and ``writer.write_all`` waits for the last."""

    folder: Path
    writer: rendering.FigureWriter = field(default_factory=rendering.FigureWriter)

    def add(self, figure, name: str) -> Path:
        """Render ``figure`` as ``name``.png and .svg in the folder; a name made from the data
        (a torch version of ``../../x``) becomes a plain file name first."""
        return self.writer.add(figure, self.folder / file_stem(name))
