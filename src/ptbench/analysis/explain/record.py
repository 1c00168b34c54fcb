"""Explanations kept beside the comparisons they explain: ``explain-<baseline>-vs-<contender>.json``
in a results folder (written by ``ptbench explain --out DIR``), read by ``report`` and
``publish``."""

from __future__ import annotations

from pathlib import Path

from ptbench.core.names import slug
from ptbench.data.documents import read as read_documents

PREFIX = "explain-"


def file_name(document: dict) -> str:
    return f"{PREFIX}{slug(document['baseline'])}-vs-{slug(document['contender'])}"


def documents(results_dir: Path) -> list[dict]:
    """Every explanation at the top of ``results_dir``, in name order."""
    required = ("combinations", "baseline", "contender")
    return read_documents(results_dir, PREFIX, required, "ptbench explain")


def headline(entry: dict, most: int = 3) -> str:
    """``aten::mm +1,078.6 us (appeared), (outside ATen...) +41.7 us``: the largest changes of
    one explained combination, in a line."""
    if entry.get("status") != "ok":
        return f"{entry.get('status')}: {entry.get('reason', '')}"
    parts = []
    for change in entry["changes"][:most]:
        note = f" ({change['note']})" if change.get("note") else ""
        parts.append(f"{change['name']} {change['delta_seconds'] * 1e6:+,.1f} us{note}")
    return ", ".join(parts)
