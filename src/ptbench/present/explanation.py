"""``ptbench explain``'s answer as text: per combination, the profiled ratio and the largest
changes per timed call; then what differs between the two builds' settings."""

from __future__ import annotations

import json
import math

from tabulate import tabulate

from ptbench.analysis.explain import record, session
from ptbench.present import tables

SHOWN = 10  # changes per combination on the terminal; --format json has them all
SHARES_FROM = 0.05  # shares of a change smaller than this (a ratio within 5% of 1) are noise


def _micro(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f}"


def _share(share: float) -> str:
    return "" if share is None or not math.isfinite(share) else f"{share:+.0%}"


def _rows(changes: list[dict], shares: bool) -> list[list[str]]:
    return [[c["name"], c["kind"], _micro(c["baseline_seconds"]), _micro(c["contender_seconds"]),
             _micro(c["delta_seconds"]), _share(c["share"]) if shares else "",
             f"{c['calls_baseline']:g} -> {c['calls_contender']:g}", c["note"]]
            for c in changes[:SHOWN]]  # fmt: skip


HEADERS = ["operator / kernel", "kind", "baseline us", "contender us", "delta us",
           "share of change", "calls per call", ""]  # fmt: skip


CELL = 60  # characters of a setting's value on the terminal; --format json has all of it


def _cell(text: str) -> str:
    return text if len(text) <= CELL else text[: CELL - 3] + "..."


def _params(entry: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in entry.items() if k not in record.RESULT_FIELDS)


def _interval(entry: dict) -> str:
    """The pairs' 95% interval and their number (explanations recorded before it: nothing)."""
    if "ratio_low" not in entry:
        return ""
    return (f" [{entry['ratio_low']:.3f}, {entry['ratio_high']:.3f}] over {entry['pairs']} "
            "pairs")


def _combination(entry: dict, style: str) -> list[str]:
    title = f"{entry['benchmark']} ({_params(entry)})"
    if entry["status"] != "ok":
        return [f"{title}: {entry['status']}: {entry.get('reason', '')}", ""]
    head = (f"{title}: {tables.times(entry['ratio'])}{_interval(entry)} under the profiler "
            f"({_micro(entry['baseline_seconds'])} -> {_micro(entry['contender_seconds'])} us "
            "per call)")  # fmt: skip
    shares = abs(entry["ratio"] - 1) >= SHARES_FROM
    return [head, tabulate(_rows(entry["changes"], shares), HEADERS, tablefmt=style),
            *_instructions(entry.get("instructions"), style), ""]


def _instructions(counted: dict | None, style: str) -> list[str]:
    """Callgrind's instructions per call on each side and the functions that changed most."""
    if not counted:
        return []
    if counted["status"] != "ok":
        return [f"instructions: {counted['status']}: {counted.get('reason', '')}"]
    spread = counted.get("repeat_spread")
    head = (f"instructions per call (callgrind): {counted['baseline_per_call']:,.0f} -> "
            f"{counted['contender_per_call']:,.0f}, {tables.times(counted['ratio'])}"
            + (f" (repeats within {spread:.2%})" if spread is not None else ""))  # fmt: skip
    rows = [[_cell(f["function"]), f"{f['baseline']:,.0f}", f"{f['contender']:,.0f}",
             f"{f['delta']:+,.0f}"] for f in counted["functions"]]  # fmt: skip
    headers = ["function (largest changes)", "baseline", "contender", "delta"]
    return [head, tabulate(rows, headers, tablefmt=style)] if rows else [head]


def render(document: dict, output_format: str = "table") -> str:
    """The explanation as a terminal table, Markdown or JSON."""
    if output_format == "json":
        return json.dumps(tables.plain(document), indent=1)
    style = "github" if output_format == "markdown" else "simple"
    lines = [f"ptbench explain: torch {document['contender']} against {document['baseline']}, "
             f"at least {document['rounds']} profiled rounds a side (ABBA), more (up to "
             f"{max(document['rounds'], session.MOST_PAIRS)}) until the ratio's 95% interval "
             f"is within {session.PRECISION - 1:.0%} of it", ""]  # fmt: skip
    for entry in document["combinations"]:
        lines += _combination(entry, style)
    settings = document["settings"]
    if settings:
        rows = [[r["setting"], _cell(r["baseline"]), _cell(r["contender"])] for r in settings]
        lines += ["settings that differ:", tabulate(rows, ["setting", "baseline", "contender"],
                                                    tablefmt=style)]  # fmt: skip
    else:
        lines.append("settings: the two builds' configuration, threads and libraries are the same")
    return "\n".join(lines)
