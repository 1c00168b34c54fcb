"""One ``ptbench explain`` session: both environments' workers (``ab``'s), the selection, the
profiled rounds in ABBA order, and what changed.

Each combination gets ``rounds`` profiled rounds a side, alternating which side goes first
(ABBA), each round a fresh forked process on the suite's prepared inputs, outside any timed
sample; the sides' settings are read once.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptbench.analysis.ab import paired, schedule
from ptbench.analysis.explain import diff, instructions
from ptbench.core.errors import UsageError
from ptbench.core.progress import clock, time_left
from ptbench.core.schema import FASTER, SLOWER
from ptbench.run import environment
from ptbench.run import project as checkout
from ptbench.run.plan import exact_regex

ROUNDS = 4  # profiled rounds a side: two ABBA quads


@dataclass
class ExplainRequest:
    """What the user asked for (``ptbench explain``'s arguments)."""

    baseline: str
    contender: str
    tier: str = "default"
    bench: str | None = None
    devices: list[str] | None = None
    rounds: int = ROUNDS


def confirmed_changes(results_dir: Path, faster: bool = False) -> str | None:
    """A ``--bench`` regex matching exactly the combinations that the ``ab`` documents in
    ``results_dir`` confirmed slower (and faster, with ``faster``); None when there are none."""
    documents = paired.documents(results_dir) if Path(results_dir).is_dir() else []
    if not documents:
        raise UsageError(f"--from {results_dir}: no ptbench ab comparison there (ab-*.json); "
                         "give the --results folder of a ptbench ab run")
    wanted = {SLOWER, FASTER} if faster else {SLOWER}
    found = sorted({
        f"{pair['benchmark']}({', '.join(repr(value) for value in pair['params'])})"
        for document in documents
        for pair in paired.judged_pairs(document) if pair["verdict"] in wanted
    })  # fmt: skip
    return exact_regex(found) if found else None


def _selection(workers: list[schedule.Worker], request: ExplainRequest, devices: list[str]):
    chosen, catalogue = schedule.selection(workers, request.bench, devices)
    timed = [c for c in chosen if ".time_" in c["benchmark"]]
    if not timed:
        raise UsageError(f"--bench {request.bench!r} selects no time benchmark; explain "
                         "compares where time goes (e.g. --bench time_masked_select)")
    return timed, catalogue


def _rounds(workers, combination: dict, count: int) -> tuple[list, list]:
    sides: tuple[list, list] = ([], [])
    request = {"op": "profile", **combination}
    for index in range(count):
        for side in (0, 1) if index % 2 == 0 else (1, 0):
            sides[side].append(workers[side].ask(request))
    return sides


def explain_one(workers, combination: dict, names: list[str], count: int) -> dict[str, Any]:
    """What changed in one combination, as ``--format json`` records it."""
    entry = {"benchmark": combination["benchmark"],
             **dict(zip(names, combination["params"], strict=True))}  # fmt: skip
    base, cont = _rounds(workers, combination, count)
    failed = [r for r in base + cont if r.get("status") != "ok"]
    if failed:
        return {**entry, "status": failed[0]["status"], "reason": failed[0].get("reason", "")}
    baseline, contender = diff.side_profile(base), diff.side_profile(cont)
    found = {**entry, "status": "ok",
             "ratio": contender["wall_seconds"] / baseline["wall_seconds"],
             "baseline_seconds": baseline["wall_seconds"],
             "contender_seconds": contender["wall_seconds"],
             "changes": diff.changes(baseline, contender)}  # fmt: skip
    if baseline["wall_seconds"] < instructions.UNDER_SECONDS and "cpu" in combination["params"]:
        counted = [worker.ask({"op": "instructions", **combination}) for worker in workers]
        found["instructions"] = instructions.compare(*counted)
    return found


def run(request: ExplainRequest) -> dict[str, Any]:
    """Profile the selection in both environments; the explanation document."""
    project = checkout.find_project()
    devices = environment.check_devices(request.devices)
    logs = Path(tempfile.mkdtemp(prefix="ptbench-explain-logs-"))
    pythons = (request.baseline, request.contender)
    workers = schedule.Alternation(pythons, project / "benchmarks", request.tier, logs).start()
    try:
        combinations, catalogue = _selection(workers, request, devices)
        settings = [worker.ask({"op": "settings"}) for worker in workers]
        explained, start = [], time.monotonic()
        for index, combination in enumerate(combinations, 1):
            elapsed = time.monotonic() - start
            left = time_left(elapsed, index - 1, len(combinations))
            print(f"ptbench explain: {index} of {len(combinations)}: {combination['benchmark']}"
                  f"{tuple(combination['params'])} ({clock(elapsed)} so far{left})",
                  file=sys.stderr, flush=True)  # fmt: skip
            names = catalogue[combination["benchmark"]]["param_names"]
            explained.append(explain_one(workers, combination, names, request.rounds))
    finally:
        for worker in workers:
            worker.close()
    return {"baseline": settings[0]["torch"], "contender": settings[1]["torch"],
            "rounds": request.rounds, "combinations": explained,
            "settings": diff.settings_diff(settings[0], settings[1])}  # fmt: skip
