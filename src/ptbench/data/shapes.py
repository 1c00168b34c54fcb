"""The shapes of the JSON documents ptbench keeps beside the results (``ab-*.json``,
``explain-*.json``), as JSON Schema: every field report, publish, explain and merge read, with
the type ``ab`` and ``explain`` write it. ``jsonschema`` (the reference implementation of the
standard) checks a document against its shape and says where it breaks it, so a damaged
document is named in one line instead of failing somewhere downstream (a hostile pass: a
factor of ``"x"``, rounds of ``null``, a change of ``"str"`` seconds were internal errors).

Extra fields are allowed: a document written by a later ptbench may carry more.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from ptbench.core.outputs import cut
from ptbench.core.schema import MAX_FACTOR, NOT_COMPARABLE, VERDICTS

NUMBER_OR_NONE = {"type": ["number", "null"]}
TEXT = {"type": "string"}
NAME = {"type": "string", "minLength": 1}
COUNT = {"type": ["integer", "null"], "minimum": 0}
SIDES = {"type": "array", "items": TEXT, "minItems": 2, "maxItems": 2}
PARAMS = {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]}}
SETTINGS = {"type": "object", "required": ["torch"], "properties": {"torch": TEXT}}
# The model before 2026-11-30 called a pair "same" or "undecided"; its documents are judged
# again from their rounds (ab.paired).
EARLIER_VERDICTS = ("same", "undecided")

AB_PAIR = {
    "type": "object",
    "required": ["benchmark", "params", "verdict"],
    "properties": {
        "benchmark": NAME,
        "params": PARAMS,
        "verdict": {"enum": [*VERDICTS, *EARLIER_VERDICTS]},
        "note": TEXT,
        "rounds": {"type": "array", "items": {
            "type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}},
        **{key: NUMBER_OR_NONE for key in ("ratio", "ratio_low", "ratio_high", "p_value",
                                           "equivalence_low", "equivalence_high", "detectable")},
        "regression": {"type": ["boolean", "null"]},
        **{key: COUNT for key in ("pairs", "set_aside", "looks")},
    },
    "if": {"properties": {"verdict": {"const": NOT_COMPARABLE}}},
    "then": {"required": ["note"]},
}  # fmt: skip

AB = {
    "type": "object",
    "required": ["machine", "commit", "envs", "pairs", "factor"],
    "properties": {
        "machine": NAME,
        "commit": NAME,
        "envs": SIDES,
        "sequential_envs": SIDES,
        "factor": {"type": "number", "exclusiveMinimum": 1, "maximum": MAX_FACTOR},
        "baseline": SETTINGS,
        "contender": SETTINGS,
        "noise": {"type": "object"},
        "pairs": {"type": "array", "items": AB_PAIR, "minItems": 1},  # ab refuses to run none
    },
}

CHANGE = {
    "type": "object",
    "required": ["name", "kind", "baseline_seconds", "contender_seconds", "delta_seconds",
                 "calls_baseline", "calls_contender"],
    "properties": {
        "name": TEXT, "kind": TEXT, "note": TEXT,
        **{key: {"type": "number"} for key in ("baseline_seconds", "contender_seconds",
                                               "delta_seconds", "calls_baseline",
                                               "calls_contender")},
        "share": NUMBER_OR_NONE,
    },
}  # fmt: skip

EXPLAINED = {
    "type": "object",
    "required": ["benchmark", "status"],
    "properties": {
        "benchmark": NAME, "status": TEXT, "reason": TEXT,
        **{key: NUMBER_OR_NONE for key in ("ratio", "ratio_low", "ratio_high")},
        "pairs": COUNT,
        "instructions": {"type": "object"},
    },
    "if": {"properties": {"status": {"const": "ok"}}},
    "then": {
        "required": ["ratio", "baseline_seconds", "contender_seconds", "changes"],
        "properties": {
            **{key: {"type": "number"} for key in ("ratio", "baseline_seconds",
                                                   "contender_seconds")},
            "changes": {"type": "array", "items": CHANGE},
        },
    },
}  # fmt: skip

EXPLAIN = {
    "type": "object",
    "required": ["combinations", "baseline", "contender"],
    "properties": {
        "combinations": {"type": "array", "items": EXPLAINED},
        "baseline": TEXT,
        "contender": TEXT,
        "settings": {"type": "array", "items": {"type": "object"}},
    },
}


def check(document: Any, shape: dict) -> None:
    """ValueError saying where ``document`` breaks ``shape`` (the error jsonschema ranks most
    relevant), or where it holds a number no float can (an integer of 400 digits)."""
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(shape).iter_errors(
        document))  # fmt: skip
    if error is not None:
        raise ValueError(f"{_where(error.absolute_path)}{cut(error.message)}")
    huge = _first_huge(document, [])
    if huge is not None:
        raise ValueError(f"{_where(huge)}a number too large for a float")


def _where(path) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return f"at {parts}: " if parts else ""


def _first_huge(value: Any, path: list) -> list | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None if abs(value) < 2**1023 else path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
        value, list) else ()  # fmt: skip
    for key, item in items:
        found = _first_huge(item, [*path, key])
        if found is not None:
            return found
    return None
