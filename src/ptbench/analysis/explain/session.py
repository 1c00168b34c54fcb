"""One ``ptbench explain`` session: both environments' workers (``ab``'s), the selection, the
profiled rounds in ABBA order, and what changed.

Each combination gets ``rounds`` profiled rounds a side, alternating which side goes first
(ABBA), each round a fresh forked process on the suite's prepared inputs, outside any timed
sample, a pair's two rounds taken in lockstep on one CPU as ``ab``'s are; the sides' settings
are read once.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ptbench.analysis import stats
from ptbench.analysis.ab import lockstep, paired, schedule, verdicts
from ptbench.analysis.explain import diff, instructions
from ptbench.core import outputs
from ptbench.core.errors import InputError, RunFailed, UsageError
from ptbench.core.progress import clock, time_left
from ptbench.core.schema import FASTER, SLOWER
from ptbench.run import environment
from ptbench.run import project as checkout
from ptbench.run.plan import exact_regex

ROUNDS = 4  # profiled rounds a side at least: two ABBA quads
MOST_PAIRS = 16  # ... and more, up to this, until the profiled ratio is known within PRECISION
PRECISION = 1.05  # the pairs' 95% interval within a factor of 1.05 of the ratio either way
RATIO_ALPHA = 0.05


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


def _settings(worker: schedule.Worker) -> dict:
    """A side's settings: the first request only explain makes, so a worker that cannot
    answer it is not this ptbench's (bad input, as ab's start refuses one; a hostile pass: an
    internal error pointing at a log)."""
    try:
        reply = worker.ask({"op": "settings"})
    except RunFailed as failure:
        said = str(failure).split(" (log: ")[0].split(" (its log: ")[0]
        reply = {"error": said.removeprefix(f"the {worker.side} worker failed: ")}
    if isinstance(reply.get("torch"), str):
        return reply
    why = reply.get("error") or f"its settings {outputs.cut(repr(reply))} name no torch"
    raise UsageError(f"--{worker.side} {worker.python} cannot run ptbench's explain worker "
                     f"({why}); give a Python that has torch and this ptbench")  # fmt: skip


def _rounds(workers, combination: dict, count: int) -> list[tuple[dict, dict]]:
    """Clean pairs of profiled rounds, each taken in lockstep (``lockstep.lockstep``: the two
    sides' chunks of calls alternating ABBA, both on one CPU, as ab's pairs; rounds one after
    the other spread 0.13-0.23 here, profiled or not: docs/explain.md), the pairs in ABBA
    order: ``count`` at least, then more until the profiled
    ratio's 95% interval lies within ``PRECISION`` of it, or ``MOST_PAIRS``. A pair holding a
    disturbed round (ab's rule, ``verdicts.set_aside``, on the pairs' wall-time ratios) is left
    out and measured again, up to half again as many pairs, as ``ab`` replaces it. Measured
    (scripts/explain_agreement.py): with 4 pairs, one round slowed 10-20x decided a side's mean,
    and on a day whose pairs spread by 0.1 the profiled ratio missed ab's by 16-20%."""
    most = max(count, MOST_PAIRS)
    pairs: list[tuple[dict, dict]] = []
    wanted = schedule.Combination(combination["benchmark"], combination["params"])
    while len(pairs) < most + most // 2:
        order = (0, 1) if len(pairs) % 2 == 0 else (1, 0)
        cpu = lockstep.pair_cpu(len(pairs))
        replies = lockstep.lockstep(workers, wanted, order, cpu, profile=True)
        pairs.append((replies[0], replies[1]))
        kept = _kept(pairs)
        if len(kept) >= count and (
            len(kept) >= most or _known(kept) or _counted(kept, combination)
        ):
            break
    return kept


def _counted(pairs: list[tuple[dict, dict]], combination: dict) -> bool:
    """Whether instruction counts will judge the combination (a CPU call under 100 us, whose
    profiled time is mostly the profiler's: more rounds would not make it say more)."""
    if _failed(pairs) or "cpu" not in combination["params"]:
        return False
    return diff.side_profile([a for a, _b in pairs])["wall_seconds"] < instructions.UNDER_SECONDS


def _kept(pairs: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
    """The pairs that are not set aside; all of them while a round failed (explain_one says)."""
    if _failed(pairs):
        return pairs
    aside = verdicts.set_aside(_logs(pairs))
    return [pair for pair, out in zip(pairs, aside, strict=True) if not out]


def _failed(pairs: list[tuple[dict, dict]]) -> list[dict]:
    return [r for pair in pairs for r in pair if r.get("status") != "ok"]


def _logs(pairs: list[tuple[dict, dict]]) -> np.ndarray:
    return np.log([b["wall_seconds"] / a["wall_seconds"] for a, b in pairs])  # both > 0


def _known(pairs: list[tuple[dict, dict]]) -> bool:
    """A failed round ends the measuring; else whether the ratio is known within PRECISION."""
    if _failed(pairs):
        return True
    interval = stats.trimmed_paired_ratio(_logs(pairs), RATIO_ALPHA)
    return interval.high / interval.low <= PRECISION**2


def _sides(pairs: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """Both sides' profiles, from the pairs the trimmed interval keeps (the same cut by log
    ratio), each pair's two rounds scaled so its baseline round takes the typical (median)
    time: every pair weighs alike, so the ratio is the mean of the kept pairs' ratios and lies
    with the interval, and the changes still add up to it. Measured on a loaded machine
    (scripts/explain_agreement.py): with plain means over every pair, one contender round 100x
    slow made `time_svd` at n = 64 read 10.5 [0.71, 3.11], and a pair whose two rounds both
    ran 50x slow outweighed fifteen others."""
    order = np.argsort(_logs(pairs), kind="stable")
    cut = int(stats.TRIM * len(pairs)) if len(pairs) >= stats.TRIM_FROM else 0
    core = [pairs[i] for i in sorted(order[cut : len(pairs) - cut])]
    typical = float(np.median([a["wall_seconds"] for a, _b in core]))
    scaled = [[diff.scaled(r, typical / a["wall_seconds"]) for r in (a, b)] for a, b in core]
    return tuple(diff.side_profile([pair[side] for pair in scaled]) for side in (0, 1))


def explain_one(workers, combination: dict, names: list[str], count: int) -> dict[str, Any]:
    """What changed in one combination, as ``--format json`` records it."""
    entry = {"benchmark": combination["benchmark"],
             **dict(zip(names, combination["params"], strict=True))}  # fmt: skip
    pairs = _rounds(workers, combination, count)
    failed = _failed(pairs)
    if failed:
        return {**entry, "status": failed[0]["status"], "reason": failed[0].get("reason", "")}
    baseline, contender = _sides(pairs)
    interval = stats.trimmed_paired_ratio(_logs(pairs), RATIO_ALPHA)
    found = {**entry, "status": "ok",
             "ratio": contender["wall_seconds"] / baseline["wall_seconds"],
             "ratio_low": interval.low, "ratio_high": interval.high, "pairs": len(pairs),
             "baseline_seconds": baseline["wall_seconds"],
             "contender_seconds": contender["wall_seconds"],
             "changes": diff.changes(baseline, contender)}  # fmt: skip
    if _counted(pairs, combination):
        found["instructions"] = instructions.compare(*_instructions(workers, combination))
    return found


def _instructions(workers, combination: dict) -> list[dict]:
    """Both sides' instruction counts, collected at the same time: a count does not depend on
    what else the machine runs (callgrind runs the program on its own simulated CPU), and each
    collection is one valgrind process, so on two CPUs the pair costs what one does (about
    45-50 s here, docs/explain.md)."""
    request = {"op": "instructions", **combination}
    for worker in workers:
        worker.send(request)
    return [worker.receive() for worker in workers]


def run(request: ExplainRequest) -> dict[str, Any]:
    """Profile the selection in both environments; the explanation document."""
    project = checkout.find_project()
    devices = environment.check_devices(request.devices)
    logs = Path(tempfile.mkdtemp(prefix="ptbench-explain-logs-"))
    try:
        return _explain_all(request, project, devices, logs)
    except (InputError, KeyboardInterrupt):  # refused or interrupted: nothing to read in them
        shutil.rmtree(logs, ignore_errors=True)
        raise


def _explain_all(request: ExplainRequest, project: Path, devices: list[str], logs: Path):
    pythons = (request.baseline, request.contender)
    workers = schedule.Alternation(pythons, project / "benchmarks", request.tier, logs).start()
    try:
        combinations, catalogue = _selection(workers, request, devices)
        settings = [_settings(worker) for worker in workers]
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
