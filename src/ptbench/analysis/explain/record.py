"""Explanations kept beside the comparisons they explain: ``explain-<baseline>-vs-<contender>.json``
in a results folder (written by ``ptbench explain --out DIR``), read by ``report`` and
``publish``."""

from __future__ import annotations

from pathlib import Path

from ptbench.core.names import slug
from ptbench.data import shapes
from ptbench.data.documents import items_with
from ptbench.data.documents import read as read_documents

PREFIX = "explain-"
# What an explained combination records besides its parameters (by name).
RESULT_FIELDS = ("benchmark", "status", "reason", "ratio", "ratio_low", "ratio_high", "pairs",
                 "baseline_seconds", "contender_seconds", "changes", "instructions")  # fmt: skip


def file_name(document: dict) -> str:
    return f"{PREFIX}{slug(document['baseline'])}-vs-{slug(document['contender'])}"


def documents(results_dir: Path) -> list[dict]:
    """Every explanation at the top of ``results_dir``, in name order."""
    required = ("combinations", "baseline", "contender")
    return read_documents(results_dir, PREFIX, required, "ptbench explain", _check)


OK_FIELDS = ("ratio", "baseline_seconds", "contender_seconds", "changes")
CHANGE_FIELDS = ("name", "kind", "baseline_seconds", "contender_seconds", "delta_seconds",
                 "calls_baseline", "calls_contender")  # fmt: skip


def _check(document: dict) -> None:
    """The shape report and publish read (``documents.read`` names a document without it)."""
    for entry in items_with(document, "combinations", ("benchmark", "status")):
        if entry["status"] == "ok":
            missing = [field for field in OK_FIELDS if field not in entry]
            if missing:
                raise KeyError(f"the explained {entry['benchmark']} has no {missing[0]}")
            items_with(entry, "changes", CHANGE_FIELDS)
    shapes.check(document, shapes.EXPLAIN)  # every other field read, at once


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
