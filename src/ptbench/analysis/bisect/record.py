"""A bisection's document, ``<results>/bisect-<key>.json`` (``--format json`` prints it): the
builds, every step with the followed combination's ratio, interval and verdict, the first bad
build (or the range it lies in) and the commits between the boundary's builds. ``report`` and
``publish`` read it back (``documents``)."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ptbench.core import schema
from ptbench.core.outputs import cut
from ptbench.core.schema import FASTER, SLOWER
from ptbench.data.checks import is_number
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
    """The shape report and publish read (``documents.read`` names a document without it).
    ``run`` writes the document once, when the search is done, so its steps start with the
    ends: a document without steps is damaged, never a bisection still under way (that one
    has only its folder of steps). A hostile pass: ``steps: []`` was an IndexError (exit 3)."""
    builds = document["builds"]
    if not isinstance(builds, list) or not builds or not all(map(_is_build, builds)):
        raise ValueError("its builds are not a list of builds")
    steps = items_with(document, "steps", ("role", "baseline", "contender", "verdicts"))
    if not steps:
        raise ValueError("it has no steps, where ptbench bisect records at least the ends")
    for step in steps:
        if not (_is_index(step["baseline"], builds) and _is_index(step["contender"], builds)
                and isinstance(step["verdicts"], dict)):  # fmt: skip
            raise ValueError("a step names a build it does not list, or has no verdicts")
        _check_pair(step, "a step")
    _check_details(document)
    factor = document.get("factor")
    if not is_number(factor) or schema.factor_problem(factor):
        raise ValueError(f"its factor {cut(repr(factor))} is not a number above 1, at most "
                         f"{schema.MAX_FACTOR:g}")  # fmt: skip
    tracked = document["tracked"]
    if tracked is not None:
        _check_found(document, tracked, builds)


def _check_found(document: dict, tracked: Any, builds: list) -> None:
    """A followed regression comes with where it was found: the last good build, the
    candidates for the first bad one, and the boundary's comparison."""
    if not (isinstance(tracked, dict) and isinstance(tracked.get("benchmark"), str)
            and isinstance(tracked.get("params"), list)):  # fmt: skip
        raise ValueError("its tracked combination has no benchmark and params")
    candidates, boundary = document.get("candidates"), document.get("boundary")
    if not (_is_build(document.get("last_good")) and isinstance(candidates, list) and candidates
            and all(_is_index(index, builds) for index in candidates)):  # fmt: skip
        raise ValueError("it follows a regression but names no last good build and candidates")
    if not (isinstance(boundary, dict) and {"verdict", "confirmed"} <= boundary.keys()):
        raise ValueError("it follows a regression but has no boundary comparison")
    first_bad = document["first_bad"]
    if first_bad is not None and not (_is_build(first_bad)
                                      and isinstance(first_bad.get("git_version"), str)):
        raise ValueError("its first bad build is not a build")


def _check_pair(entry: dict, what: str) -> None:
    """A comparison's ratio and interval are numbers (or none), the ratio inside its interval,
    and its verdict is text (or none)."""
    numbers = [entry.get(key) for key in ("ratio_low", "ratio", "ratio_high")]
    ends = ((True, False), (False, False), (False, True))  # the interval may reach 0 and inf
    if not all(value is None or _is_ratio(value, *ends[i]) for i, value in enumerate(numbers)):
        raise ValueError(f"{what} has a ratio or interval that is not a positive number")
    if None not in numbers and not numbers[0] <= numbers[1] <= numbers[2]:
        raise ValueError(f"{what} has a ratio outside its interval")
    if not isinstance(entry.get("verdict", ""), (str, type(None))):
        raise ValueError(f"{what} has a verdict that is not text")


def _check_details(document: dict) -> None:
    """The boundary's other changes and the commits between its builds, as the report lists
    them."""
    boundary, commits = document.get("boundary"), document.get("commits")
    if boundary is not None:
        if not isinstance(boundary, dict):
            raise ValueError("its boundary is not a comparison")
        _check_pair(boundary, "its boundary")
        fields = ("benchmark", "params", "verdict")
        changed = items_with(boundary, "also_changed", fields) if "also_changed" in boundary else []
        for pair in changed:
            _check_pair(pair, "a pair that also changed")
            if not isinstance(pair["params"], list):
                raise TypeError("the params of a pair that also changed are not a list")
    if commits is not None and not (isinstance(commits, dict) and
                                    {"from", "to", "compare", "git_log"} <= commits.keys()):
        raise ValueError("its commits are not the boundary's two revisions")


def _is_build(build: Any) -> bool:
    return (isinstance(build, dict) and {"index", "torch"} <= build.keys()
            and _is_whole(build["index"]))  # fmt: skip


def _is_index(index: Any, builds: list) -> bool:
    return _is_whole(index) and 0 <= index < len(builds)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53


def _is_ratio(value: Any, zero: bool = False, infinite: bool = False) -> bool:
    """A ratio a figure can draw: a positive, finite number; an interval's low end may be 0
    and its high end infinite (a hostile pass: a ratio of -1, of infinity or of 400 digits was
    an internal error in report's figure)."""
    try:
        number = float(value) if is_number(value) else math.nan
    except OverflowError:  # an integer past float's range
        return False
    return (number > 0 or (zero and number == 0)) and (number < math.inf or infinite)

