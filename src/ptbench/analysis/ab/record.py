"""Both sides of an A/B comparison as ordinary asv result files, and the comparison itself.

Each side becomes ``<results>/<machine>/<commit>-ab-<side>-py<X.Y>-torch<version>.json``, made
with asv's own ``Results`` and ``BenchmarkResult`` (so ``ptbench compare``, ``ptbench report``
and ``asv publish`` read it like any run): for each combination that ran, the samples of all its
rounds pooled and asv's statistics of them (``compute_stats``, as asv computes them); n/a for
every other combination. The side is part of the environment's name, so an A/A comparison of
one environment still gives two files, and an A/B run never merges into a ``ptbench run``.

The paired verdicts, with every round's value, go beside them as
``<results>/ab-<commit>-<baseline env>-vs-<contender env>.json``: the results folder's top
level, where asv and ``ptbench`` look for no result files.
"""

from __future__ import annotations

import itertools
import math
import shutil
import statistics
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from asv.results import Results, get_filename
from asv.runner import BenchmarkResult

from ptbench.analysis.ab.verdicts import EQUIVALENCE_ALPHA, JUDGEMENT_MODEL, round_value
from ptbench.core import outputs, schema
from ptbench.core.errors import UsageError
from ptbench.data import catalogue as catalogue_file


def env_name(side: str, existing_env_name: str) -> str:
    """``existing-py3.11-torch2.13.0+cpu`` -> ``ab-baseline-py3.11-torch2.13.0+cpu``."""
    return f"{schema.AB_ENV_PREFIX}{side}-{existing_env_name.removeprefix('existing-')}"


def result_path(results_dir: Path, machine: str, commit: str, env: str) -> Path:
    """Where asv's ``Results.save`` puts this side's file."""
    return results_dir / get_filename(machine, commit, env)


def document_path(results_dir: Path, commit: str, envs: tuple[str, str]) -> Path:
    return results_dir / f"ab-{commit[:8]}-{envs[0]}-vs-{envs[1]}.json"


def check_free(paths: list[Path]) -> None:
    """Refuse before anything runs to replace an earlier A/B run's files."""
    for path in paths:
        if path.exists():
            raise UsageError(
                f"{path} exists (an A/B run of these environments at this commit); give "
                "another --results folder or move it aside"
            )


def _entry(replies: list[dict]) -> tuple[Any, list | None, int | None]:
    """(value, pooled samples, number) of one side of one combination, as asv stores them."""
    statuses = {reply["status"] for reply in replies}
    if "failed" in statuses:
        return None, None, None
    if "skipped" in statuses or not replies:
        return math.nan, None, None
    if "samples" in replies[0]:
        samples = [s for reply in replies for s in reply["samples"]]
        number = int(statistics.median(reply["number"] for reply in replies))
        return statistics.median(samples), samples, number
    return statistics.median(round_value(reply) for reply in replies), None, None


def _benchmark_result(entry: dict, combinations: list, side: int) -> BenchmarkResult:
    labels = [tuple(combo) for combo in itertools.product(*entry["params"])]
    values: list[Any] = [math.nan] * len(labels)
    samples: list[Any] = [None] * len(labels)
    numbers: list[Any] = [None] * len(labels)
    for combination in combinations:
        index = labels.index(tuple(repr(value) for value in combination.params))
        replies = [pair[side] for pair in combination.rounds]
        values[index], samples[index], numbers[index] = _entry(replies)
    return BenchmarkResult(values, samples, numbers, errcode=0, stderr="", profile=None)


def side_result(
    side: int, params: dict, env: str, commit: str, date_ms: int, combinations, catalogue
) -> Results:
    """One side's asv Results: every benchmark with a selected combination."""
    results = Results(
        params=params,
        requirements={"torch": params["torch"]},
        commit_hash=commit,
        date=date_ms,
        python=params["python"],
        env_name=env,
        env_vars={},
    )
    started = datetime.now(timezone.utc)
    for name, group in itertools.groupby(combinations, key=lambda c: c.benchmark):
        entry = catalogue[name]
        result = _benchmark_result(entry, list(group), side)
        results.add_result(entry, result, started_at=started, record_samples=True)
    return results


def save(results: Results, target: Path) -> None:
    """asv's own file format, written under a temporary name and renamed into place."""
    with tempfile.TemporaryDirectory(prefix="ptbench-ab-") as scratch:
        results.save(scratch)
        (written,) = Path(scratch).glob("*/*.json")
        outputs.make_folder(target.parent)
        outputs.write_atomically(target, lambda temporary: shutil.copyfile(written, temporary))


def save_catalogue(results_dir: Path, catalogue: dict) -> Path:
    """benchmarks.json, as ``ptbench run`` leaves it: the current suite's catalogue."""
    return catalogue_file.write(results_dir, catalogue)


def document(combinations, settings: dict, factor: float, alpha: float, noise: dict) -> dict:
    """The comparison with every round: what the verdicts were made from."""
    return {
        "judgement": JUDGEMENT_MODEL,
        "factor": factor,
        "alpha_per_pair": alpha,
        "equivalence_alpha_per_pair": EQUIVALENCE_ALPHA,
        "noise": noise,
        "baseline": settings["baseline"],
        "contender": settings["contender"],
        "pairs": [
            {
                "benchmark": combination.benchmark,
                "params": combination.params,
                **combination.verdict,
                "looks": combination.looks,
                "rounds": [
                    [round_value(base), round_value(cont)] for base, cont in combination.rounds
                ],
            }
            for combination in combinations
        ],
    }
