"""asv results history as one tidy pandas DataFrame.

A row per benchmark x parameter combination x machine x commit x environment. Files are read
with asv's own ``Results.load`` (format versions, stats and samples as asv understands them);
parameter names and units come from ``benchmarks.json``. Skipped (NaN) and failed (null) entries
are kept, with ``status`` saying which.
"""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from asv.results import Results

from ptbench.efficiency import add_efficiency
from ptbench.errors import InputError

# Facts about the run (machine, software), as opposed to a benchmark's own parameters.
RUN_KEYS = (
    # the run
    "machine", "commit", "env",
    # the Python environment (ptbench run records these in each result's params)
    "torch", "torch_build", "torch_cuda", "blas", "python", "torch_threads",
    "float32_matmul_precision",
    # the machine (asv's machine file, extended by `ptbench machine`)
    "cpu", "num_cpu", "ram", "arch", "os", "gpu", "gpu_count", "gpu_memory",
    "compute_capability", "cuda_driver",
)  # fmt: skip
STATUS_OK, STATUS_SKIPPED, STATUS_FAILED = "ok", "skipped", "failed"
SUITE_PARAMS = ("device", "size", "dtype", "method")  # ptbench's params, in its order


class ResultsError(InputError):
    """Results that cannot be read; the message names the file or folder."""


def _parse_param(text: str) -> Any:
    """asv stores param values as their repr ("'cpu'", "1024"); give back the value."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _benchmark_catalogue(results_dir: Path) -> dict[str, dict]:
    path = results_dir / "benchmarks.json"
    if not path.is_file():
        return {}
    try:
        catalogue = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: not a readable asv benchmarks.json ({error})") from None
    return {name: entry for name, entry in catalogue.items() if isinstance(entry, dict)}


def result_files(results_dir: Path) -> list[Path]:
    """Every asv result file under ``results_dir`` (``<machine>/<commit>-<env>.json``)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ResultsError(f"results folder {results_dir} does not exist")
    files = sorted(path for path in results_dir.glob("*/*.json") if path.name != "machine.json")
    if not files:
        raise ResultsError(
            f"no asv result files in {results_dir} (expected "
            "<machine>/<commit>-<env>.json); run `ptbench run` first"
        )
    return files


def _load(path: Path) -> Results:
    try:
        return Results.load(str(path), machine_name=path.parent.name)
    except Exception as error:  # asv raises UserError, ValueError, KeyError... on bad files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ResultsError(f"{path}: not a readable asv result file ({reason})") from None


def _status(value: Any) -> str:
    if value is None:
        return STATUS_FAILED
    if isinstance(value, float) and np.isnan(value):
        return STATUS_SKIPPED
    return STATUS_OK


def _machine_file_facts(folder: Path) -> dict[str, str]:
    """The machine's facts as asv last stored them beside its results (machine.json)."""
    path = folder / "machine.json"
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: not a readable asv machine file ({error})") from None
    return {key: str(value) for key, value in data.items() if key != "version"}


def _run_facts(result: Results, path: Path, machine_facts: dict[str, str]) -> dict[str, Any]:
    # A result's own params win; the machine file fills in facts recorded after it (peaks).
    facts = {**machine_facts, **{key: str(value) for key, value in result.params.items()}}
    facts.update(
        machine=path.parent.name,
        commit=result.commit_hash,
        env=result.env_name,
        commit_date=pd.to_datetime(result.date, unit="ms", utc=True),
    )
    return facts


def load_results(results_dir: Path | str) -> pd.DataFrame:
    """All results under ``results_dir`` as a tidy DataFrame (see module docstring)."""
    results_dir = Path(results_dir)
    catalogue = _benchmark_catalogue(results_dir)
    rows: list[dict[str, Any]] = []
    run_fact_keys: set[str] = set()
    machine_files: dict[Path, dict[str, str]] = {}
    for path in result_files(results_dir):
        result = _load(path)
        if path.parent not in machine_files:
            machine_files[path.parent] = _machine_file_facts(path.parent)
        facts = _run_facts(result, path, machine_files[path.parent])
        run_fact_keys |= set(facts) - {"commit_date"}
        for name in result.get_all_result_keys():
            rows.extend(_benchmark_rows(result, name, catalogue.get(name, {}), facts))
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise ResultsError(f"the result files in {results_dir} hold no benchmark results")
    if "size" in frame:
        frame["size"] = pd.to_numeric(frame["size"], errors="coerce").astype("Int64")
    frame = frame.sort_values(
        ["benchmark", "machine", "commit_date", "env"], kind="stable", ignore_index=True
    )
    # Which columns are benchmark parameters, and which describe the run; pandas keeps attrs
    # through filtering.
    names = frame["benchmark"].unique()
    found = {key for name in names for key in _param_names(catalogue, name, frame)}
    frame.attrs["param_keys"] = [key for key in SUITE_PARAMS if key in found] + sorted(
        found - set(SUITE_PARAMS)
    )
    frame.attrs["run_keys"] = [
        key for key in frame.columns if key in RUN_KEYS or key in run_fact_keys
    ]
    return add_efficiency(frame)


def _param_names(catalogue: dict, name: str, frame_or_count) -> list[str]:
    """Parameter names from benchmarks.json; ``param0``... for a benchmark it does not list."""
    names = catalogue.get(name, {}).get("param_names")
    if names:
        return list(names)
    if isinstance(frame_or_count, int):
        return [f"param{index}" for index in range(frame_or_count)]
    return [
        column
        for column in frame_or_count.columns
        if column.startswith("param")
        and frame_or_count.loc[frame_or_count["benchmark"] == name, column].notna().any()
    ]


def _benchmark_rows(result: Results, name: str, entry: dict, facts: dict) -> list[dict]:
    params = result.get_result_params(name)
    values = result.get_result_value(name, params)
    stats = result.get_result_stats(name, params)
    samples = result.get_result_samples(name, params)
    names = _param_names({name: entry}, name, len(params))
    combinations = list(itertools.product(*params))
    rows = []
    for index, combination in enumerate(combinations):
        value = values[index]
        stat = stats[index] or {}
        row = {
            "benchmark": name,
            "operation": name.rsplit(".", 1)[-1].split("_", 1)[-1],
            "kind": entry.get("type", name.rsplit(".", 1)[-1].split("_", 1)[0]),
            "unit": entry.get("unit", "seconds" if ".time_" in name else ""),
            "version": result.benchmark_version.get(name),
            **{key: _parse_param(text) for key, text in zip(names, combination, strict=True)},
            "value": np.nan if value is None else float(value),
            "status": _status(value),
            "ci_99_low": stat.get("ci_99_a"),
            "ci_99_high": stat.get("ci_99_b"),
            "q_25": stat.get("q_25"),
            "q_75": stat.get("q_75"),
            "repeat": stat.get("repeat"),
            "number": stat.get("number"),
            "samples": samples[index],
            **facts,
        }
        rows.append(row)
    return rows
