"""The JSON documents ``ab``, ``explain`` and ``bisect`` keep at the top of a results folder
(``ab-*.json``, ``explain-*.json``, ``bisect-*.json``), read back for ``report`` and ``publish``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ptbench.core import schema
from ptbench.core.errors import ResultsError
from ptbench.core.outputs import cut
from ptbench.data import shapes

# What an ``ab-*.json`` must hold to be reported, published and merged.
AB_PREFIX, AB_KIND = "ab-", "ptbench ab"
AB_KEYS = ("machine", "commit", "envs", "pairs", "factor")
BISECT_PREFIX = "bisect-"  # ``ptbench bisect``'s document and its folder of steps


def ab_documents(results_dir: Path) -> list[dict]:
    """Every A/B document at the top of ``results_dir``, in name order (``read``); one whose
    ``pairs`` is not a list of pairs is not readable either."""
    return read(results_dir, AB_PREFIX, AB_KEYS, AB_KIND, _check_ab)


def _check_ab(document: dict) -> None:
    _check_ab_fields(document)
    for pair in items_with(document, "pairs", ("benchmark", "params", "verdict")):
        rounds = pair.get("rounds", [])
        if not isinstance(rounds, list) or not all(
            isinstance(r, list) and len(r) == 2 for r in rounds
        ):
            raise TypeError(f"the rounds of {pair['benchmark']} are not pairs of times")
    envs = document["envs"]
    if not (isinstance(envs, list) and len(envs) == 2 and all(isinstance(e, str) for e in envs)):
        raise TypeError("its envs are not the two sides' environment names")
    shapes.check(document, shapes.AB)  # every other field read, at once


def _check_ab_fields(document: dict) -> None:
    """The fields report, publish, explain and merge read besides the pairs, each of the type
    ``ab`` writes (a hostile pass: a factor of ``"x"``, ``[1.1]`` or 0, a noise of ``"quiet"``,
    a baseline of ``None`` were internal errors)."""
    factor = document["factor"]
    problem = None if isinstance(factor, bool) else schema.factor_problem(factor)
    if isinstance(factor, bool) or problem:
        raise ValueError(f"its factor {_shown(factor)} {problem or 'is not a number'}")
    for key in ("machine", "commit"):
        if not isinstance(document[key], str) or not document[key]:
            raise TypeError(f"its {key} {_shown(document[key])} is not a name")
    if not isinstance(document.get("noise", {}), dict):
        raise TypeError(f"its noise {_shown(document['noise'])} is not an object of facts")
    for side in ("baseline", "contender"):
        if not isinstance(document.get(side, {}), dict):
            raise TypeError(f"its {side} {_shown(document[side])} is not an object of settings")
    envs = document.get("sequential_envs", ["", ""])
    if not (isinstance(envs, list) and len(envs) == 2 and all(isinstance(e, str) for e in envs)):
        raise TypeError("its sequential_envs are not the two sides' environment names")


def _shown(value) -> str:
    return cut(json.dumps(value))


def read_bytes(path: Path) -> bytes:
    """The bytes of a file ptbench reads; one line naming it if it cannot be read or is not a
    regular file (a hostile pass: merge read a FIFO for ever, and /dev/zero until memory ran
    out)."""
    if path.exists() and not path.is_file():
        raise ResultsError(f"{path}: not a regular file (a device, a pipe or a folder); move "
                           "it out of the results folder")  # fmt: skip
    try:
        return path.read_bytes()
    except OSError as error:  # permissions, or gone since it was listed
        raise ResultsError(f"{path}: cannot be read ({error.strerror}); give ptbench read "
                           "access to every file of the results folder") from None


def utf8_named(path: Path, results_dir: Path) -> Path:
    """``path``, if its name inside the results folder is UTF-8; else one line that says which
    and what to do. (Linux hands Python a name of other bytes as lone surrogates, which no
    page, table or JSON written in UTF-8 can hold.)"""
    try:
        str(path.relative_to(results_dir)).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")  # the bytes: \\xff
        raise ResultsError(
            f"{shown}: a name that is not UTF-8; rename it in UTF-8 (asv names a machine's "
            "folder after the machine, a result after its commit and environment)"
        ) from None
    return path


def items_with(document: dict, key: str, fields: tuple[str, ...]) -> list[dict]:
    """``document[key]``, if it is a list of objects that each hold ``fields``; else KeyError
    or TypeError saying what is missing (``read`` names the document)."""
    items = document[key]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise TypeError(f"its {key} are not a list of objects")
    for item in items:
        missing = [field for field in fields if field not in item]
        if missing:
            raise KeyError(f"an entry of its {key} has no {missing[0]}")
    return items


def _check_text(document: dict) -> None:
    """JSON's escapes can spell a lone surrogate (``"\\udcff"``), which no report, page or
    figure name can encode: a hostile pass made report and publish end in an internal error,
    after rewriting an earlier report's figures."""
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("it holds text that is not Unicode (an escaped lone surrogate such "
                         "as \\udcff)") from None


def read(
    results_dir: Path, prefix: str, required: tuple[str, ...], kind: str, check=None
) -> list[dict]:
    """Every ``<prefix>*.json`` at the top of ``results_dir``, in name order, each with its
    ``path``; one that is not JSON, lacks a ``required`` key or fails ``check(document)`` (a
    KeyError, TypeError or ValueError: a hostile pass gave report an entry ``{}``) is named as
    not a readable ``kind`` document."""
    found = []
    for path in sorted(Path(results_dir).glob(f"{prefix}*.json")):
        utf8_named(path, Path(results_dir))
        if not path.is_file():  # a FIFO would block the read for ever
            raise ResultsError(f"{path}: not a regular file; a {kind} document must be one "
                               "(move it out of the results folder)")  # fmt: skip
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise TypeError("it is not a JSON object")
            _check_text(document)
            missing = [key for key in required if key not in document]
            if missing:
                raise ValueError(f"it has no {missing[0]}")
            if check is not None:
                check(document)
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as error:  # nested deep
            raise ResultsError(f"{path}: not a readable {kind} document ({error}); restore it, "
                               "or move it out of the results folder") from None
        found.append({**document, "path": str(path)})
    return found
