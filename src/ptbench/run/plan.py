"""What a ``ptbench run`` will do, decided and checked before anything is written: the
combinations a tier and the present devices need (passed to asv as its own ``name(param, ...)``
regexes, so skipped combinations cost no process launch), and where the result goes.
"""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from asv.results import Results

from ptbench.core import outputs, patterns
from ptbench.core.errors import ResultsError, UsageError, first_line
from ptbench.hardware import machine as machine_facts
from ptbench.run import project as checkout
from ptbench.run.environment import check_devices, environment_name
from ptbench.suite.operations import OPERATIONS
from ptbench.suite.tiers import check_tier


def discover(benchmark_dir: Path) -> list:
    """asv-runner's own discovery, in this process (imports torch, never initialises CUDA)."""
    from asv_runner.discovery import disc_benchmarks

    parent = str(benchmark_dir.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    return list(disc_benchmarks(str(benchmark_dir)))


def _combination_runs(benchmark, values: tuple, tier: str, run_devices: list[str]) -> bool:
    named = dict(zip(benchmark.param_names, values, strict=True))
    if named.get("device") not in run_devices:
        return False
    operation = OPERATIONS.get(getattr(benchmark, "operation_name", ""))
    if operation is None or "size" not in named:
        return True
    return operation.ladder.in_tier(int(named["size"]), tier, named["device"])


def bench_regex(pattern: str | None) -> re.Pattern | None:
    """``--bench`` compiled; UsageError in one line if it is not a regular expression, or one
    whose matching could take for ever (``patterns.nested_repetition``)."""
    try:
        regex = re.compile(pattern) if pattern else None
    except (re.error, OverflowError, RecursionError) as error:  # a{4294967296}, 5000 ( deep
        raise UsageError(f"--bench {pattern!r} is not a regular expression: {error}") from None
    if regex and patterns.nested_repetition(pattern):
        raise UsageError(
            f"--bench {pattern!r} repeats a part that itself repeats or can match alike in "
            "two ways (as in (a+)+ or (.|.)*), which can take exponential time on a name it "
            "does not match; repeat it once (a+, .*)"
        )
    return regex


def select(
    benchmarks: list, tier: str, run_devices: list[str], pattern: str | None = None
) -> dict[str, list[str]]:
    """Benchmark name -> the param strings (as asv prints them) of each combination to run.

    ``pattern`` is matched like asv's ``--bench``: against ``name`` and ``name(params)``.
    """
    regex = bench_regex(pattern)
    selection: dict[str, list[str]] = {}
    for benchmark in benchmarks:
        chosen = []
        for values, labels in zip(
            itertools.product(*benchmark._params), itertools.product(*benchmark.params), strict=True
        ):
            label = ", ".join(labels)
            if regex and not (
                regex.search(benchmark.name) or regex.search(f"{benchmark.name}({label})")
            ):
                continue
            if _combination_runs(benchmark, values, tier, run_devices):
                chosen.append(label)
        if chosen:
            selection[benchmark.name] = chosen
    if pattern and not selection:
        names = ", ".join(sorted(b.name for b in benchmarks)[:6])
        raise UsageError(
            f"--bench {pattern!r} matches no benchmark that runs in the {tier} tier "
            f"on {', '.join(run_devices)}; names look like: {names}, ..."
        )
    return selection


def exact_regex(names: list[str]) -> str:
    """A ``--bench`` regex that matches exactly these ``name(params)`` strings."""
    return f"^(?:{'|'.join(re.escape(name) for name in names)})$"


def asv_bench_regexes(selection: dict[str, list[str]]) -> list[str]:
    """One exact asv ``--bench`` regex per benchmark, matching only the selected combinations."""
    return [
        f"^{re.escape(name)}\\((?:{'|'.join(re.escape(label) for label in labels)})\\)$"
        for name, labels in selection.items()
    ]


@dataclass
class RunPlan:
    """What a run will do, decided and checked before anything is written."""

    project: Path
    commit: str
    tier: str
    selection: dict[str, list[str]]
    results_dir: Path
    machine: str
    machine_facts: dict
    env_name: str = field(default_factory=environment_name)

    @property
    def target(self) -> Path:
        return self.results_dir / self.machine / f"{self.commit[:8]}-{self.env_name}.json"


def results_dir_for(results: Path | None, project: Path, config: dict) -> Path:
    """Where the result goes: --results, or the config's results folder of the project."""
    if results is not None:
        outputs.check_named(results, "--results")
    results_dir = (results or project / config.get("results_dir", "results")).resolve()
    if results_dir.exists() and not results_dir.is_dir():
        raise UsageError(f"--results {results_dir} is a file; give a folder")
    return results_dir


def check_target(target: Path) -> None:
    """The earlier result this run merges into must be readable now, not after minutes of asv."""
    if target.exists() and not target.is_file():
        raise ResultsError(f"{target} is in the way of this run's result file; move it aside")
    if not target.exists():
        return
    try:
        earlier = Results.load(str(target), machine_name=target.parent.name)
        earlier.get_all_result_keys()
    except Exception as error:  # asv raises UserError, ValueError, KeyError... on bad files
        reason = first_line(error)
        raise ResultsError(
            f"{target}: this run would merge into it, but it is not a readable asv result file "
            f"({reason}); restore it or move it aside, then run again"
        ) from None


def plan(
    tier: str,
    bench: str | None,
    results: Path | None,
    device: list[str] | None,
    machine: str | None,
    project: Path | None,
) -> RunPlan:
    """Check every input and decide what runs; raises an InputError, having written nothing."""
    try:
        check_tier(tier)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if machine is not None:
        machine_facts.check_name(machine)
    project = checkout.find_project(project)
    run_devices = check_devices(device)
    commit = checkout.current_commit(project)
    config = checkout.load_config(project)
    results_dir = results_dir_for(results, project, config)
    benchmarks = discover(project / config.get("benchmark_dir", "benchmarks"))
    selection = select(benchmarks, tier, run_devices, bench)
    facts = machine_facts.collect()
    name = machine_facts.check_name(machine or machine_facts.default_name(facts))
    chosen = RunPlan(project, commit, tier, selection, results_dir, name, facts)
    outputs.check_no_link_to(chosen.target, chosen.results_dir)
    check_target(chosen.target)
    return chosen
