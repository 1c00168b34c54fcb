"""``benchmarks.json``: asv's catalogue of the suite (each benchmark's params, unit and version),
one file per results folder, beside the machine folders. The one place that names, reads and
writes it.

A result file holds each benchmark's parameter *values* but not their names: the names come
from here. So an entry must be whole (``param_names`` a list of names, one for each of
``params``' lists), and a benchmark the catalogue does not describe cannot be read: it is left
out, as ``asv publish`` leaves out results of benchmarks missing from ``benchmarks.json``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ptbench.core import outputs, schema
from ptbench.core.errors import ResultsError, first_line
from ptbench.data.efficiency import COLUMNS as EFFICIENCY

CATALOGUE, MACHINE_FILE = "benchmarks.json", "machine.json"
CATALOGUE_VERSION = 2  # asv's benchmarks.json format
# No parameter may be named like a column the rows, the run or a judgement already have (a
# hostile pass: "ratio", "verdict", "intensity" or "noise" were internal errors in compare).
RESERVED = {*schema.ROW_COLUMNS, *schema.RUN_KEYS, *schema.JUDGEMENT_COLUMNS, *EFFICIENCY}
UNNAMED = re.compile(r"param\d+")  # a parameter the catalogue has no name for (results.py)


def write(results_dir: Path, catalogue: dict) -> Path:
    """The catalogue as asv writes it (``asv.util.write_json``: indent 4, sorted keys), written
    atomically; its path."""
    path = results_dir / CATALOGUE
    document = {**catalogue, "version": CATALOGUE_VERSION}
    outputs.write_text_atomically(path, json.dumps(document, indent=4, sort_keys=True))
    return path


def read_json(path: Path, what: str) -> Any:
    """A JSON file of the results folder; ResultsError naming it if it cannot be read."""
    if path.exists() and not path.is_file():  # a FIFO would block the read for ever
        raise ResultsError(f"{path}: not a regular file; a {what} must be one (move it aside)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:  # nested deep
        raise ResultsError(f"{path}: not a readable {what} ({first_line(error)})") from None


def read(results_dir: Path) -> dict[str, dict]:
    """Benchmark name -> asv's description (params, unit, version...); {} without the file."""
    path = results_dir / CATALOGUE
    if not path.exists():
        return {}
    catalogue = read_json(path, "asv benchmarks.json")
    if not isinstance(catalogue, dict):
        raise ResultsError(
            f"{path}: holds a {type(catalogue).__name__}, not asv's benchmark catalogue "
            "(an object of benchmark names); restore it or remove it"
        )
    entries = {name: entry for name, entry in catalogue.items() if isinstance(entry, dict)}
    for name, entry in entries.items():
        problem = entry_problem(entry)
        if problem:
            raise ResultsError(
                f"{path}: the entry of {name} {problem}; restore benchmarks.json "
                "from version control, or rewrite it with `ptbench run`"
            )
    return entries


def entry_problem(entry: dict) -> str | None:
    """What makes a catalogue entry unusable for naming a result's parameters, or None."""
    names, params = entry.get("param_names", []), entry.get("params", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return f"has param_names {_short(names)}, not a list of names"
    if not isinstance(params, list) or not all(isinstance(p, list) for p in params):
        return f"has params {_short(params)}, not a list of lists of values"
    if len(names) != len(params):
        listed = ", ".join(names) or "none"
        return f"has {len(names)} param_names ({listed}) but {len(params)} lists of params"
    taken = [n for n in names if reserved(n) or names.count(n) > 1]
    if taken:  # a parameter "device" twice, or one named "value", would overwrite a column
        return (f"names a parameter {taken[0]!r} twice or like a column of every result "
                f"({', '.join(sorted(RESERVED)[:4])}...)")
    wrong = [key for key in ("unit", "type") if not isinstance(entry.get(key, ""), str)]
    if wrong:
        return f"has a {wrong[0]} of {_short(entry[wrong[0]])}, not text"
    if entry.get("type") == "time" and entry.get("unit", schema.SECONDS) != schema.SECONDS:
        return f"is a time benchmark with unit {_short(entry['unit'])}; asv times in seconds"
    return None


def reserved(name: str) -> bool:
    """Whether a parameter may not be named ``name``: a column's name, the noise guard's
    (``noise``, ``noise_*``), or one pandas and ptbench keep for themselves (``_*``)."""
    return name in RESERVED or name.startswith(("noise", "_"))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def described_only(frame: pd.DataFrame, catalogue: dict[str, dict]) -> tuple[pd.DataFrame, list]:
    """(the rows of benchmarks the catalogue describes, the names of those it does not); a
    parameter column only the left-out rows had (``param<i>``) goes with them."""
    known = frame["benchmark"].astype(str).isin(list(catalogue))
    if known.all():
        return frame, []
    left_out = sorted(set(frame.loc[~known, "benchmark"].astype(str)))
    kept = frame[known]
    unnamed = [c for c in kept.columns if UNNAMED.fullmatch(c) and kept[c].isna().all()]
    return kept.drop(columns=unnamed).reset_index(drop=True), left_out


def described(results_dir: Path) -> dict[str, dict]:
    """The catalogue's entries; ResultsError when it is missing or describes nothing."""
    catalogue = read(results_dir)
    if not catalogue:  # no benchmark's parameters can be named
        raise ResultsError(
            f"{results_dir / CATALOGUE} is missing or describes no benchmark; "
            "it names the parameters of every result: restore it, or rewrite it with `ptbench run`"
        )
    return catalogue


def known(frame: pd.DataFrame, catalogue: dict[str, dict], results_dir: Path) -> pd.DataFrame:
    """The rows of benchmarks the catalogue describes; a note on stderr for the rest."""
    frame, left_out = described_only(frame, catalogue)
    if frame.empty:
        raise ResultsError(
            f"none of the {len(left_out)} benchmarks in the result files of {results_dir} is in "
            f"its {CATALOGUE} (e.g. {left_out[0]}); restore it, or rewrite it "
            "with `ptbench run`"
        )
    if left_out:
        some = (
            f"{len(left_out)} benchmarks in the result files are"
            if len(left_out) > 1
            else ("1 benchmark in the result files is")
        )
        print(f"ptbench: {some} not in {CATALOGUE}, so their parameters have no names: left "
              f"out, as asv publish leaves them out ({', '.join(left_out[:3])})",
              file=sys.stderr)  # fmt: skip
    return frame


class CatalogueMismatch(ResultsError):
    """A result with more parameters than its catalogue entry names."""


def param_names(entry: dict, params: list) -> list[str]:
    """Names for a result's parameter lists, from ``benchmarks.json``'s entry.

    A suite that gained a parameter since a result was recorded has more names than the result
    has lists: each list is then given the first remaining name whose catalogue values it shares
    (so an old row simply has no value for the new parameter); ``param<i>`` when none fits.
    """
    names = list(entry.get("param_names") or [])
    if len(names) == len(params):
        return names
    if entry and len(names) < len(params):  # (an entry-less benchmark is left out: catalogue)
        raise CatalogueMismatch(
            f"holds {len(params)} lists of parameter values where {CATALOGUE} "
            f"names {len(names)} ({', '.join(names) or 'none'}): the catalogue is older than "
            "the result, or damaged; rewrite it with `ptbench run`, or restore it"
        )
    catalogue_values = list(entry.get("params") or [])
    chosen, start = [], 0
    for index, values in enumerate(params):
        for position in range(start, len(names)):
            known = catalogue_values[position] if position < len(catalogue_values) else []
            if set(map(str, values)) & set(map(str, known)):
                chosen.append(names[position])
                start = position + 1
                break
        else:
            chosen.append(f"param{index}")
    return chosen
