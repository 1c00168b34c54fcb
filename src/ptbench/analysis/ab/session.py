"""One ``ptbench ab`` session: check the input, alternate the sides, judge, record.

Everything that can be checked is checked before the first round (the interpreters, the
selection, the result files this run will write), so bad input costs seconds, not minutes, and
leaves the results folder as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ptbench.analysis import compare
from ptbench.analysis.ab import paired, record, schedule, verdicts
from ptbench.core import outputs
from ptbench.core.errors import InputError
from ptbench.core.outputs import check_folder_target
from ptbench.core.schema import DEFAULT_FACTOR
from ptbench.hardware import machine as machine_facts
from ptbench.hardware import noise
from ptbench.run import environment
from ptbench.run import project as checkout


@dataclass
class ABRequest:
    """What the user asked for (``ptbench ab``'s arguments)."""

    baseline: str
    contender: str
    tier: str = "default"
    bench: str | None = None
    devices: list[str] | None = None
    factor: float = DEFAULT_FACTOR
    budget_seconds: float = 600.0
    results: Path | None = None
    initial_pairs: int = verdicts.INITIAL_PAIRS
    quiet: bool = False  # no line per pass (bisect prints one per step instead); warnings stay


@dataclass
class Outcome:
    project: Path
    results_dir: Path
    machine: str
    commit: str
    envs: tuple[str, str]
    combinations: list[schedule.Combination]
    noise: dict[str, str]
    written: list[Path] = field(default_factory=list)
    document: Path | None = None  # the paired verdicts, with every round


def results_folder(results: Path | None) -> Path:
    """--results, or a new scratch folder (printed, kept) when not given."""
    if results is None:
        return Path(tempfile.mkdtemp(prefix="ptbench-ab-results-"))
    check_folder_target(outputs.check_named(results, "--results", "ab-results"), "--results")
    return results


def _combinations(workers: list[schedule.Worker], request: ABRequest, devices: list[str]):
    chosen, catalogue = schedule.selection(workers, request.bench, devices)
    return [schedule.Combination(c["benchmark"], c["params"]) for c in chosen], catalogue


def _measure(alternation, combinations, request: ABRequest) -> dict[str, str]:
    """The initial pairs, a first judgement, confirmation; the run's noise facts."""
    before = noise.snapshot()
    busy = noise.busy_reason(before, os.cpu_count() or 1)
    if busy:
        schedule.status_line(
            f"warning: the machine is busy ({busy}); verdicts may stay inconclusive"
        )
    alternation.fill([(c, request.initial_pairs) for c in schedule.mixed(combinations)])
    schedule.judge_all(combinations, request.factor)
    alternation.confirm(combinations, request.factor, request.budget_seconds)
    facts = noise.assess(before, noise.snapshot())
    disturbed = facts[noise.VERDICT_KEY] if noise.contended(facts[noise.VERDICT_KEY]) else None
    schedule.judge_all(combinations, request.factor, disturbed, looked_at=[])
    return facts


def _record(outcome: Outcome, sides: list[dict], catalogue, machine_entry, factor: float) -> None:
    date_ms = checkout.commit_date_ms(outcome.project, outcome.commit)
    for side, facts in enumerate(sides):
        params = {**machine_entry, **facts["settings"], **outcome.noise}
        result = record.side_result(
            side, params, outcome.envs[side], outcome.commit, date_ms,
            outcome.combinations, catalogue,
        )  # fmt: skip
        target = record.result_path(
            outcome.results_dir, outcome.machine, outcome.commit, outcome.envs[side]
        )
        record.save(result, target)
        outcome.written.append(target)
    outcome.written.append(record.save_catalogue(outcome.results_dir, catalogue))
    settings = {side: f["settings"] for side, f in zip(schedule.SIDES, sides, strict=True)}
    alpha = verdicts.per_test_alpha(sum(c.runs_on_both for c in outcome.combinations))
    document = record.document(outcome.combinations, settings, factor, alpha, outcome.noise)
    document.update(
        machine=outcome.machine,
        commit=outcome.commit,
        envs=list(outcome.envs),
        sequential_envs=[facts["env_name"] for facts in sides],  # what `ptbench run` names them
    )
    path = record.document_path(outcome.results_dir, outcome.commit, outcome.envs)
    outputs.write_text_atomically(path, json.dumps(document, indent=1))
    outcome.written.append(path)
    outcome.document = path


def _selected(alternation, request: ABRequest, devices, where: tuple):
    """(each side's facts, the envs' names, the combinations, asv's catalogue), from workers
    started once to select; refused (bad input: an interpreter, a pattern, files of an earlier
    run in the way) before the first round."""
    results_dir, machine, commit = where
    workers = alternation.start()
    try:
        combinations, catalogue = _combinations(workers, request, devices)
    finally:
        for worker in workers:
            worker.close()
    sides = [worker.facts for worker in workers]
    envs = tuple(record.env_name(side, facts["env_name"])
                 for side, facts in zip(schedule.SIDES, sides, strict=True))  # fmt: skip
    targets = [record.result_path(results_dir, machine, commit, env) for env in envs]
    for target in targets:
        outputs.check_no_link_to(target, results_dir)
    record.check_free([*targets, record.document_path(results_dir, commit, envs)])
    return sides, envs, combinations, catalogue


def run(request: ABRequest) -> Outcome:
    """Alternate the two environments over the selection and record what was found. Refused
    (bad input) or interrupted, it leaves no scratch folder behind: its logs, and the results
    folder it made when none was given (a hostile pass found both after Ctrl-C)."""
    results_dir = results_folder(request.results)
    logs = Path(tempfile.mkdtemp(prefix="ptbench-ab-logs-"))
    try:
        return _run(request, results_dir, logs)
    except (InputError, KeyboardInterrupt):
        for folder in [logs, *([results_dir] if request.results is None else [])]:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _run(request: ABRequest, results_dir: Path, logs: Path) -> Outcome:
    project = checkout.find_project()
    commit = checkout.current_commit(project)
    devices = environment.check_devices(request.devices)
    facts = machine_facts.collect()
    machine = machine_facts.default_name(facts)
    pythons = (request.baseline, request.contender)
    progress = (lambda _line: None) if request.quiet else schedule.status_line
    alternation = schedule.Alternation(pythons, project / "benchmarks", request.tier, logs,
                                       progress, show_progress=not request.quiet)  # fmt: skip
    sides, envs, combinations, catalogue = _selected(
        alternation, request, devices, (results_dir, machine, commit)
    )
    say = (lambda _line: None) if request.quiet else outputs.error_line
    machine, entry = environment.ensure_machine(machine, facts, say=say)
    progress(
        f"{len(combinations)} combinations, {request.initial_pairs} pairs of rounds each, "
        f"then confirmation for up to {request.budget_seconds:g} s; logs in {logs}"
    )
    outcome = Outcome(project, results_dir, machine, commit, envs, combinations, {})
    outcome.noise = _measure(alternation, combinations, request)
    _record(outcome, sides, catalogue, entry, request.factor)
    return outcome


def comparison(outcome: Outcome) -> compare.Comparison:
    """The recorded sides paired as ``ptbench compare`` pairs them, judged by the rounds."""
    from ptbench.data.results import load_results

    document = json.loads(outcome.document.read_text(encoding="utf-8"))
    return paired.comparison(load_results(outcome.results_dir), document)
