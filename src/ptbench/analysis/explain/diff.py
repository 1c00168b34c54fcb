"""Comparing two sides' profiles and settings: what changed, by how much, in which order.

Each side's profile is the mean over its rounds of each event's self time and calls per timed
call. The changes are every operator's (and kernel's) difference, plus the *remainder*: the
wall time per call that no ATen operator accounts for (Python, the dispatcher, the profiler's
own cost), so that on the CPU the changes add up to the change of the profiled wall time.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

REMAINDER = "(outside ATen: Python, dispatch, profiler)"
APPEARED, DISAPPEARED = "appeared", "disappeared"


def scaled(profiled: dict[str, Any], factor: float) -> dict[str, Any]:
    """A profiled round with its wall time and every event's self time times ``factor`` (its
    calls as they were)."""
    events = [{**event, "self_seconds": event["self_seconds"] * factor}
              for event in profiled["events"]]  # fmt: skip
    return {**profiled, "wall_seconds": profiled["wall_seconds"] * factor, "events": events}


def side_profile(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One side: mean wall time per call, and each (kind, name)'s mean self time and calls."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for profiled in rounds:
        for event in profiled["events"]:
            entry = totals[(event["kind"], event["name"])]
            entry[0] += event["self_seconds"]
            entry[1] += event["calls"]
    means = {key: [seconds / len(rounds), calls / len(rounds)]  # summed, then divided: one
             for key, (seconds, calls) in totals.items()}  # call in 12 rounds reads 1, exactly
    wall = statistics.fmean(profiled["wall_seconds"] for profiled in rounds)
    return {"wall_seconds": wall, "events": means}


def _remainder(profile: dict[str, Any]) -> float:
    operators = sum(s for (kind, _), (s, _c) in profile["events"].items() if kind == "operator")
    return profile["wall_seconds"] - operators


def changes(baseline: dict[str, Any], contender: dict[str, Any]) -> list[dict[str, Any]]:
    """Every event's change per timed call, largest first, with the remainder among them."""
    found = []
    for key in sorted(set(baseline["events"]) | set(contender["events"])):
        base, cont = baseline["events"].get(key), contender["events"].get(key)
        found.append({
            "name": key[1], "kind": key[0],
            "baseline_seconds": base[0] if base else 0.0,
            "contender_seconds": cont[0] if cont else 0.0,
            "calls_baseline": base[1] if base else 0.0,
            "calls_contender": cont[1] if cont else 0.0,
            "note": APPEARED if base is None else DISAPPEARED if cont is None else "",
        })  # fmt: skip
    found.append({"name": REMAINDER, "kind": "remainder",
                  "baseline_seconds": _remainder(baseline),
                  "contender_seconds": _remainder(contender),
                  "calls_baseline": 1.0, "calls_contender": 1.0, "note": ""})  # fmt: skip
    for change in found:
        change["delta_seconds"] = change["contender_seconds"] - change["baseline_seconds"]
    total = contender["wall_seconds"] - baseline["wall_seconds"]
    for change in found:
        change["share"] = change["delta_seconds"] / total if total else float("nan")
    return sorted(found, key=lambda c: -abs(c["delta_seconds"]))


def settings_diff(baseline: dict[str, str], contender: dict[str, str]) -> list[dict[str, str]]:
    """What differs between two builds' settings: a row per differing value, and for the long
    texts (``torch.__config__``'s) a row per differing line."""
    rows = []
    for key in sorted(set(baseline) | set(contender)):
        base, cont = str(baseline.get(key, "absent")), str(contender.get(key, "absent"))
        if base == cont:
            continue
        if "\n" in base or "\n" in cont:
            rows += _line_changes(key, base, cont)
        else:
            rows.append({"setting": key, "baseline": base, "contender": cont})
    return rows


def _entries(text: str) -> list[str]:
    """The lines of a long text, with a line of ``KEY=VALUE, KEY=VALUE`` items (``Build
    settings: ...``) split into one entry per item, so a diff names the items that changed."""
    found = []
    for line in text.strip().splitlines():
        line = line.strip().removeprefix("- ").strip()
        head, _, rest = line.partition(": ")
        if rest and "=" in rest and ", " in rest:
            found += [f"{head}: {item.strip()}" for item in rest.split(", ") if item.strip()]
        else:
            found.append(line)
    return found


def _by_name(entries: list[str]) -> dict[str, str]:
    return {entry.split("=", 1)[0]: entry.split("=", 1)[1] for entry in entries if "=" in entry}


def _values(base: str, cont: str) -> dict[str, str]:
    """Both values; for two lists of flags (``CXX_FLAGS``), only the flags each side alone
    has."""
    if " " not in base.strip() or " " not in cont.strip():
        return {"baseline": base.strip(), "contender": cont.strip()}
    before, after = base.split(), cont.split()
    return {"baseline": " ".join(f for f in before if f not in after) or "(no others)",
            "contender": " ".join(f for f in after if f not in before) or "(no others)"}


def _line_changes(key: str, base: str, cont: str) -> list[dict[str, str]]:
    """A row per item whose value differs (``Build settings: USE_CUDA``: 0 against 1), then a
    row per other line that is on one side only."""
    before, after = _entries(base), _entries(cont)
    named_before, named_after = _by_name(before), _by_name(after)
    rows = [{"setting": f"{key}: {name.split(': ', 1)[-1]}",
             **_values(named_before.get(name, "absent"), named_after.get(name, "absent"))}
            for name in dict.fromkeys([*named_before, *named_after])
            if named_before.get(name) != named_after.get(name)]  # fmt: skip
    removed = [e for e in before if "=" not in e and e not in after]
    added = [e for e in after if "=" not in e and e not in before]
    for index in range(max(len(removed), len(added))):
        rows.append({"setting": key,
                     "baseline": removed[index] if index < len(removed) else "",
                     "contender": added[index] if index < len(added) else ""})  # fmt: skip
    return rows
