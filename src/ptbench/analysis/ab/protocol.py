"""What a worker's answers must be before ``ab`` uses them: the facts of its environment, its
selection, each round. A worker is another environment's ptbench, so its answers are input:
one that breaks these is named in one line (a hostile pass: a worker naming its environment
``../x``, selecting a benchmark its catalogue lacks, or timing a round at -1.5 s was an internal
error, or a result written and then refused)."""

from __future__ import annotations

import math
import re
from typing import Any

from ptbench.core.outputs import cut

# An environment's name becomes part of a result file's name (asv: <commit>-<env>.json).
ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,150}")


def facts_problem(facts: Any) -> str | None:
    """What is wrong with a worker's facts, or None: its environment's name must be a plain
    file name and its settings must name its torch (a hostile pass: a worker naming its
    environment ``existing-py3.11-torch../../x`` made asv write the result outside the scratch
    folder, then an internal error)."""
    settings = facts.get("settings") if isinstance(facts, dict) else None
    if not isinstance(settings, dict) or not isinstance(settings.get("torch"), str):
        return "its facts do not name its torch version"
    name = facts.get("env_name")
    if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
        return f"it names its environment {cut(repr(name))}, which is not a plain file name"
    return None


def selection_problem(answer: dict) -> str | None:
    """What is wrong with a worker's selection, or None: every combination names a benchmark
    of its catalogue with a list of parameter values (a hostile pass: one that did not was an
    internal error)."""
    combinations, catalogue = answer.get("combinations"), answer.get("catalogue")
    if not isinstance(combinations, list) or not isinstance(catalogue, dict):
        return "answered a selection without combinations and a catalogue"
    for combination in combinations:
        name = combination.get("benchmark") if isinstance(combination, dict) else None
        if not isinstance(catalogue.get(name), dict) or not isinstance(
                combination.get("params"), list):  # fmt: skip
            return f"selected {cut(repr(combination))}, which its catalogue does not describe"
    return None


def round_problem(reply: dict) -> str | None:
    """What makes a worker's answer to a round no time and no value, or None (a hostile pass:
    negative or NaN samples were written into the results, then refused when read back)."""
    if reply.get("status") != "ok":
        return None
    numbers = reply.get("samples", [reply.get("value")])
    if not isinstance(numbers, list) or not numbers:
        return "it answered a round without samples"
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not (
                0 <= number < math.inf):  # fmt: skip
            return f"it answered a round with {cut(repr(number))}, not a time or value"
    if "samples" in reply and min(numbers) <= 0:
        return "it answered a round with a time of 0 or less"
    return None
