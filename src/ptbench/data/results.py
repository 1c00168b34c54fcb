"""asv results history as one tidy pandas DataFrame.

A row per benchmark x parameter combination x machine x commit x environment. Files are read
with asv's own ``Results.load`` (format versions, stats and samples as asv understands them);
parameter names and units come from ``benchmarks.json``. Skipped (NaN) and failed (null) entries
are kept, with ``status`` saying which.

Every fact a row is judged by (machine, torch build, peaks) comes from its own result file:
``machine.json`` beside the results is rewritten by every asv run, so reading peaks from it
would silently change the "% of peak" of older results.

A file that cannot be read, or that holds an impossible value (a time of zero, negative or
infinite seconds), is bad input: :class:`ResultsError` names the file and what is wrong with it.
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from asv.results import Results
from pandas.api.types import union_categoricals

from ptbench.core import outputs, schema
from ptbench.core.errors import ResultsError, first_line
from ptbench.core.outputs import cut
from ptbench.data import cache, checks
from ptbench.data import catalogue as catalogue_file
from ptbench.data.documents import BISECT_PREFIX, utf8_named
from ptbench.data.efficiency import COLUMNS as EFFICIENCY_COLUMNS
from ptbench.data.efficiency import add_efficiency

# Re-exported: the names of statuses and run keys that callers have always read from here.
STATUS_OK, STATUS_SKIPPED, STATUS_FAILED = schema.STATUSES
RUN_KEYS, SUITE_PARAMS = schema.RUN_KEYS, schema.SUITE_PARAMS
__all__ = ["ResultsError", "load_results", "result_files", "listed", "check_results_dir"]


def check_results_dir(results_dir: Path | str) -> Path:
    """``results_dir`` as a Path, refusing an empty name (which would mean the current folder)."""
    return outputs.check_named(results_dir, "--results")


@functools.lru_cache(maxsize=4096)  # the same few hundred values recur in every file
def _parse_param(text: Any) -> Any:
    """asv stores param values as their repr ("'cpu'", "1024"); give back the value."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        return text


def benchmark_catalogue(results_dir: Path) -> dict[str, dict]:
    """``benchmarks.json``'s entries (:func:`ptbench.data.catalogue.read`)."""
    return catalogue_file.read(results_dir)


def result_files(results_dir: Path) -> list[Path]:
    """Every asv result file under ``results_dir`` (``<machine>/<commit>-<env>.json``);
    ResultsError when there is none."""
    results_dir = check_results_dir(results_dir)
    if results_dir.exists() and not results_dir.is_dir():
        raise ResultsError(
            f"--results {results_dir} is a file; give the results folder (the one holding "
            "benchmarks.json and a folder per machine)"
        )
    if not results_dir.is_dir():
        raise ResultsError(f"results folder {results_dir} does not exist")
    files = listed(results_dir)
    if not files:
        raise ResultsError(f"no asv result files in {results_dir}, which this command needs "
                           f"(<machine>/<commit>-<env>.json){_what_else(results_dir)}")  # fmt: skip
    return files


def listed(results_dir: Path) -> list[Path]:
    """The result files of the folder ``results_dir``, none or more. Whatever sits where a
    result file goes and cannot be read as one (a link to nothing, a FIFO, a device, a folder)
    is named: loading without it would quietly drop a run, and a FIFO would block for ever."""
    unreadable = [folder for folder in results_dir.glob("*/") if not _listable(folder)]
    if unreadable:  # glob skips it, and with it a machine's whole history (a hostile pass)
        raise ResultsError(f"{unreadable[0]}: a machine's folder that cannot be read; give "
                           "ptbench read access to every folder of the results folder")
    found = [p for p in results_dir.glob("*/*.json") if p.name != "machine.json"]
    dangling = [path for path in found if path.is_symlink() and not path.exists()]
    if dangling:
        raise ResultsError(f"{dangling[0]}: a link to {os.readlink(dangling[0])}, which does "
                           "not exist; restore what it points to, or remove the link")
    odd = [path for path in found if path.exists() and not path.is_file()]
    if odd:
        kind = "a folder" if odd[0].is_dir() else "not a regular file (a device or a pipe)"
        raise ResultsError(f"{odd[0]}: {kind} among the result files; move it out of the "
                           "results folder")  # fmt: skip
    return sorted(utf8_named(path, results_dir) for path in found)


def _listable(folder: Path) -> bool:
    try:
        with os.scandir(folder):
            return True
    except OSError:
        return False


def _what_else(results_dir: Path) -> str:
    """What a folder without result files holds instead, when it is ``ptbench bisect``'s
    output, and where the results it needs are; else how to make some."""
    bisected = sorted(p.name + ("/" if p.is_dir() else "")
                      for p in results_dir.glob(f"{BISECT_PREFIX}*"))  # fmt: skip
    if not bisected:
        return "; run `ptbench run` first"
    steps = sorted(p for p in results_dir.glob(f"{BISECT_PREFIX}*/*") if p.is_dir())
    shown = ", ".join(bisected[:3]) + (f" and {len(bisected) - 3} more" if bisected[3:] else "")
    where = (f"; each step's results are an ab results folder, e.g. --results {steps[0]}"
             if steps else "")  # fmt: skip
    report = (f"; `ptbench report --results {results_dir}` shows the bisection"
              if any(name.endswith(".json") for name in bisected) else "")  # fmt: skip
    return f": it holds ptbench bisect's {shown} instead{report}{where}"


def _load(path: Path) -> Results:
    try:
        return Results.load(str(path), machine_name=path.parent.name)
    except Exception as error:  # asv raises UserError, ValueError, KeyError... on bad files
        said = first_line(error)  # asv names the file again ("No version specified in PATH.")
        for name in dict.fromkeys((str(path.absolute()), str(path))):
            said = said.replace(name, "the file")
        raise ResultsError(f"{path}: not a readable asv result file ({said})") from None


def _status(value: Any) -> str:
    if value is None:
        return STATUS_FAILED
    if isinstance(value, float) and np.isnan(value):
        return STATUS_SKIPPED
    return STATUS_OK


def _commit_date(result: Results) -> pd.Timestamp:
    date = result.date
    if isinstance(date, bool) or not isinstance(date, (int, float)) or not math.isfinite(date):
        raise ValueError(f"date {date!r} is not a time in milliseconds since 1970")
    return pd.to_datetime(date, unit="ms", utc=True)


def _run_facts(result: Results, path: Path, columns: set[str]) -> dict[str, Any]:
    """The run's params (asv's machine and environment facts, ptbench's noise and peaks) as
    text, with where it ran; ValueError for a param named like a column of the rows."""
    if not isinstance(result.commit_hash, str) or not isinstance(result.env_name, str):
        raise ValueError("commit_hash and env_name must be strings")
    clash = sorted(set(map(str, result.params)) & columns)
    if clash:
        raise ValueError(f"a run param is named {cut(clash[0])!r}, like a column every result "
                         "row has")  # fmt: skip
    facts = {key: str(value) for key, value in result.params.items()}
    facts.update(
        machine=path.parent.name,
        commit=result.commit_hash,
        env=result.env_name,
        commit_date=_commit_date(result),
    )
    return facts


def _check_value(value: Any, unit: str, where: str) -> None:
    """Refuse a number no benchmark can produce: bad input, named, rather than a wrong answer."""
    if _status(value) != STATUS_OK:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} has value {value!r}, not a number")
    if not math.isfinite(value) or value < 0 or (unit == schema.SECONDS and value == 0):
        need = "positive" if unit == schema.SECONDS else "non-negative"
        raise ValueError(f"{where} has {unit or 'value'} {value!r}; it must be {need} and finite")


# Each row's samples: one Arrow list of float64 (None where none were recorded), not a Python
# list of Python floats per row: an eighth of the memory, and the cache stores and reads it as is.
SAMPLES = pd.ArrowDtype(pa.list_(pa.float64()))

# Row columns that take a few dozen values in a million rows: categoricals (a byte a row; sorting
# and grouping compare codes, not strings), as the run facts are.
ROW_CATEGORIES = ("benchmark", "operation", "kind", "unit", "version", "status")

STAT_COLUMNS = {"ci_99_low": "ci_99_a", "ci_99_high": "ci_99_b", "q_25": "q_25",
                "q_75": "q_75", "repeat": "repeat", "number": "number"}  # fmt: skip


def _float(value: Any) -> float:
    return np.nan if value is None else float(value)


def _benchmark_columns(result: Results, name: str, entry: dict) -> dict[str, list]:
    """One benchmark's rows in a result file, as columns: parameters parsed once per value
    (not once per row), every value and its samples checked."""
    params = result.get_result_params(name)
    raw = getattr(result, "_results", {}).get(name)  # asv pads missing values with None
    expected = math.prod(len(values_of) for values_of in params)  # before asv makes them all:
    if isinstance(raw, list) and len(raw) != expected:  # 3,000 by 3,000 values hung (hostile)
        raise ValueError(f"{name} holds {len(raw)} values for {expected:,} "
                         "parameter combinations")  # fmt: skip
    values = result.get_result_value(name, params)
    stats = [stat or {} for stat in result.get_result_stats(name, params)]
    samples = result.get_result_samples(name, params)
    try:
        names = catalogue_file.param_names(entry, params)
    except catalogue_file.CatalogueMismatch as error:
        raise catalogue_file.CatalogueMismatch(f"{name} {error}") from None
    unit = entry.get("unit", schema.SECONDS if ".time_" in name else "")
    parsed = [[_parse_param(text) for text in values_of] for values_of in params]
    checks.params(name, dict(zip(names, parsed, strict=False)))
    combinations = list(itertools.product(*parsed))
    for index, combination in enumerate(combinations):
        where = f"{name}({', '.join(map(repr, combination))})"
        _check_value(values[index], unit, where)
        checks.samples_and_stats(samples[index], stats[index], unit, where)
    count = len(combinations)
    columns = {
        "benchmark": [name] * count,
        "operation": [schema.operation_name(name)] * count,
        "kind": [entry.get("type", schema.benchmark_kind(name))] * count,
        "unit": [unit] * count,
        "version": [result.benchmark_version.get(name)] * count,
        **{key: [c[i] for c in combinations] for i, key in enumerate(names)},
        "value": [np.nan if value is None else float(value) for value in values[:count]],
        "status": [_status(value) for value in values[:count]],
        **{column: [_float(stat.get(key)) for stat in stats[:count]]
           for column, key in STAT_COLUMNS.items()},
        "samples": list(samples[:count]),
    }  # fmt: skip
    return columns


def row_columns(catalogue: dict[str, dict]) -> set[str]:
    """The columns a result row has, whatever its benchmark: what a run param may not be
    named."""
    params = {str(name) for entry in catalogue.values() if isinstance(entry, dict)
              for name in entry.get("param_names") or () if isinstance(name, str)}  # fmt: skip
    return params | schema.ROW_COLUMNS | set(EFFICIENCY_COLUMNS)


def file_frame(path: Path, catalogue: dict[str, dict]) -> pd.DataFrame:
    """Every row of one result file, with the run's facts as columns; ResultsError, naming the
    file, if it is damaged."""
    result = _load(path)
    try:
        facts = _run_facts(result, path, row_columns(catalogue))
        parts = [
            _benchmark_columns(result, name, catalogue.get(name, {}))
            for name in result.get_all_result_keys()
        ]
        return _one_frame(parts, facts)
    except catalogue_file.CatalogueMismatch as error:
        raise ResultsError(f"{path}: {error}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as error:
        raise ResultsError(
            f"{path}: damaged asv result file ({first_line(error)}); restore it from version "
            "control or move it out of the results folder"
        ) from None


def _one_frame(parts: list[dict[str, list]], facts: dict[str, Any]) -> pd.DataFrame:
    """The benchmarks' columns joined into one frame (one construction per file, not one per
    benchmark: pandas' per-frame cost dominated loading), with the run's facts."""
    rows = sum(len(part["benchmark"]) for part in parts)
    if rows == 0:
        return pd.DataFrame()
    names = list(dict.fromkeys(name for part in parts for name in part))
    columns = {
        name: [v for part in parts
               for v in part.get(name, itertools.repeat(None, len(part["benchmark"])))]
        for name in names
    }  # fmt: skip
    frame = pd.DataFrame({
        **columns,
        **{name: _categorical(columns[name], name) for name in ROW_CATEGORIES},
        "samples": pd.array(columns["samples"], dtype=SAMPLES),
    })  # fmt: skip
    for key, value in facts.items():  # one value a file: a categorical, a byte a row
        frame[key] = (
            pd.Categorical.from_codes(np.zeros(rows, dtype=np.int8), categories=[value])
            if isinstance(value, str)
            else value
        )
    return frame


def _categorical(values: list, name: str) -> pd.Categorical:
    """Text values (None where missing) as a categorical of text; ValueError for anything else
    (a damaged file's version that is a list, say)."""
    wrong = [value for value in values if value is not None and not isinstance(value, str)]
    if wrong:
        raise ValueError(f"{name} {wrong[0]!r} is not text")
    present = sorted({value for value in values if value is not None})
    return pd.Categorical(values, categories=pd.Index(present, dtype="str"))


def _lexical(frame: pd.DataFrame) -> pd.DataFrame:
    """Every categorical's categories in text order, so that sorting and grouping by one orders
    as its text would, whichever order the files (or the cache) met the values in."""
    for column in frame.columns:
        values = frame[column]
        categorical = isinstance(values.dtype, pd.CategoricalDtype)
        if categorical and not values.cat.categories.is_monotonic_increasing:
            frame[column] = values.cat.reorder_categories(values.cat.categories.sort_values())
    return frame


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Files' frames as one: the categorical run facts joined with ``union_categoricals``
    (``pd.concat`` would turn categoricals with different categories back into strings, and
    hold them all at once), the other columns by ``pd.concat``."""
    categorical = list(dict.fromkeys(
        column for frame in frames for column in frame.columns
        if isinstance(frame[column].dtype, pd.CategoricalDtype)
    ))  # fmt: skip
    plain = pd.concat([frame.drop(columns=[c for c in categorical if c in frame])
                       for frame in frames], ignore_index=True)  # fmt: skip
    for column in categorical:
        kind = next(f[column].cat.categories.dtype for f in frames if column in f)
        none = pd.Index([], dtype=kind)  # a file recorded before this fact existed
        pieces = [
            frame[column].array if column in frame
            else pd.Categorical.from_codes(np.full(len(frame), -1, dtype=np.int8), categories=none)
            for frame in frames
        ]  # fmt: skip
        plain[column] = union_categoricals(pieces)
    return plain[list(dict.fromkeys(column for frame in frames for column in frame.columns))]


def _with_param_columns(frame: pd.DataFrame, catalogue: dict[str, dict]) -> tuple:
    """``frame`` with a column for every parameter its benchmarks have now (empty for results
    recorded before a parameter existed), and the parameter names in the suite's order."""
    present = set(frame["benchmark"].unique())
    found = {
        key
        for name, entry in catalogue.items()
        if name in present
        for key in entry.get("param_names") or []
    }
    found |= {column for column in frame.columns if catalogue_file.UNNAMED.fullmatch(column)}
    missing = sorted(found - set(frame.columns))
    if missing:
        frame = frame.assign(**dict.fromkeys(missing, np.nan))
    suite = [key for key in SUITE_PARAMS if key in found]
    return frame, suite + sorted(found - set(SUITE_PARAMS))


def load_results(results_dir: Path | str) -> pd.DataFrame:
    """All results under ``results_dir`` as a tidy DataFrame (see module docstring).

    ``frame.attrs`` names the columns that are benchmark parameters (``param_keys``) and those
    that describe the run (``run_keys``); pandas keeps attrs through filtering.
    """
    results_dir = check_results_dir(results_dir)
    files = result_files(results_dir)
    catalogue = catalogue_file.described(results_dir)
    frames = [part for part in cache.frames(files, catalogue, file_frame) if not part.empty]
    frame = _lexical(concat(frames)) if frames else pd.DataFrame()
    if frame.empty:
        raise ResultsError(f"the result files in {results_dir} hold no benchmark results")
    return _tidy(catalogue_file.known(frame, catalogue, results_dir), catalogue)


def load_file(path: Path, results_dir: Path | str) -> pd.DataFrame:
    """One result file's rows (a run just filed), tidied as :func:`load_results` tidies a
    history: parameters as columns, efficiency added."""
    results_dir = check_results_dir(results_dir)
    catalogue = catalogue_file.described(results_dir)
    frame = catalogue_file.known(_lexical(file_frame(path, catalogue)), catalogue, results_dir)
    return _tidy(frame, catalogue)


def _tidy(frame: pd.DataFrame, catalogue: dict[str, dict]) -> pd.DataFrame:
    if "size" in frame:
        frame["size"] = pd.to_numeric(frame["size"], errors="coerce").astype("Int64")
    frame = frame.sort_values(
        ["benchmark", "machine", "commit_date", "commit", "env"], kind="stable", ignore_index=True
    )
    frame, param_keys = _with_param_columns(add_efficiency(frame), catalogue)
    frame.attrs["param_keys"] = param_keys
    frame.attrs["run_keys"] = [
        key
        for key in frame.columns
        if key not in schema.ROW_COLUMNS and key not in param_keys and key not in EFFICIENCY_COLUMNS
    ]
    return frame

