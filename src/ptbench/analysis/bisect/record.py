"""A bisection's document, ``<results>/bisect-<key>.json`` (``--format json`` prints it): the
builds, every step with the followed combination's ratio, interval and verdict, the first bad
build (or the range it lies in) and the commits between the boundary's builds. ``report`` and
``publish`` read it back (``documents``)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ptbench.core.schema import FASTER, SLOWER
from ptbench.data.documents import items_with
from ptbench.data.documents import read as read_documents

PREFIX = "bisect-"
# search.ENDS and search.BOUNDARY: the steps on the whole selection
ENDS_OR_BOUNDARY = ("ends", "boundary")
FORMAT = 1
PAIR_FIELDS = ("ratio", "ratio_low", "ratio_high", "verdict", "note", "detectable")
GIT_HASH = re.compile(r"^[0-9a-f]{7,40}$")
UPSTREAM = "https://github.com/pytorch/pytorch"


def _pair_fields(pair: dict) -> dict:
    return {key: pair.get(key) for key in PAIR_FIELDS}


def step_entry(step, tracked: dict | None, results: Path) -> dict:
    """One step as the document lists it: which builds, the followed combination's verdict
    (at the ends of a search that found nothing: none), and every pair's verdict counted."""
    entry = {"role": step.role, "baseline": step.baseline, "contender": step.contender,
             "folder": str(step.folder.relative_to(results)), "reused": step.reused,
             "noise": step.noise,
             "verdicts": dict(Counter(pair["verdict"] for pair in step.pairs))}  # fmt: skip
    if tracked is not None:
        entry.update(_pair_fields(step.pair(tracked)))
    return entry


def commits(good: dict, bad: dict) -> dict:
    """The commits between two builds' git revisions, for the user to read."""
    ends = good["git_version"], bad["git_version"]
    known = all(GIT_HASH.match(end or "") for end in ends) and ends[0] != ends[1]
    return {"from": ends[0], "to": ends[1],
            "compare": f"{UPSTREAM}/compare/{ends[0]}...{ends[1]}" if known else None,
            "git_log": f"git log --oneline {ends[0]}..{ends[1]}" if known else None}  # fmt: skip


def _changed_elsewhere(step, tracked: dict) -> list[dict]:
    return [
        {"benchmark": pair["benchmark"], "params": pair["params"], **_pair_fields(pair)}
        for pair in step.pairs
        if pair["verdict"] in (SLOWER, FASTER)
        and (pair["benchmark"], pair["params"]) != (tracked["benchmark"], tracked["params"])
    ]


def _boundary(bisection, tracked: dict, boundary) -> dict:
    builds = [build.as_dict() for build in bisection.builds]
    pair_of = {(s.baseline, s.contender): s for s in bisection.steps if s.role in ENDS_OR_BOUNDARY}
    step = pair_of[(boundary.last_good, boundary.first_bad)]
    pair = step.pair(tracked)
    return {
        "last_good": builds[boundary.last_good],
        "first_bad": builds[boundary.first_bad] if boundary.exact else None,
        "candidates": [*boundary.undecided, boundary.first_bad],
        "boundary": {"baseline": step.baseline, "contender": step.contender,
                     **_pair_fields(pair), "confirmed": pair["verdict"] == SLOWER,
                     "also_changed": _changed_elsewhere(step, tracked)},  # fmt: skip
        "commits": commits(builds[boundary.last_good], builds[boundary.first_bad]),
    }


def document(bisection, tracked: dict | None, boundary) -> dict:
    request, results = bisection.request, bisection.results
    ends = bisection.steps[0]
    found = {"last_good": None, "first_bad": None, "candidates": [], "boundary": None,
             "commits": None}  # fmt: skip
    if tracked is not None:
        found = _boundary(bisection, tracked, boundary)
    return {
        "bisect": FORMAT,
        "bench": request.bench, "tier": request.tier, "factor": request.factor,
        "devices": request.devices, "budget_seconds": request.budget_seconds,
        "builds": [build.as_dict() for build in bisection.builds],
        "tracked": None if tracked is None else
        {"benchmark": tracked["benchmark"], "params": tracked["params"]},
        "regressed_at_ends": [
            {"benchmark": p["benchmark"], "params": p["params"], **_pair_fields(p)}
            for p in ends.pairs if p.get("regression")
        ],
        **found,
        "steps": [step_entry(step, tracked, results) for step in bisection.steps],
    }  # fmt: skip


def documents(results_dir: Path) -> list[dict]:
    """Every bisection at the top of ``results_dir``, in name order."""
    required = ("builds", "steps", "first_bad", "tracked")
    return read_documents(results_dir, PREFIX, required, "ptbench bisect", _check)


def _check(document: dict) -> None:
    """The shape report and publish read (``documents.read`` names a document without it)."""
    items_with(document, "steps", ("role", "baseline", "contender", "verdicts"))
    if not isinstance(document["builds"], list) or not document["builds"]:
        raise ValueError("its builds are not a list of builds")

