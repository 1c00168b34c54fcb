"""Instruction counts of one combination, in one environment: callgrind through
``torch.utils.benchmark`` (``Timer.collect_callgrind``), with Debian's ``valgrind``.

For operations of tens of microseconds, wall time on a shared VM moves by 10% from round to
round, where the instructions a call executes hardly move at all: callgrind counts them
almost deterministically (measured here: 0.005% between two collections of ``torch.sum`` at
1,024 elements, where its wall time spread over 61% in 12 rounds; docs/explain.md). So
``ptbench explain`` counts them for CPU combinations under ``UNDER_SECONDS``: instructions per
call on each side, and the functions whose counts changed most (denoised, with file paths
standardised so two builds' functions match by name).

The counted statement is the suite's own prepared call (``prepared_call``: inputs built and
checked as a timed round builds them), run by ``torch.utils.benchmark`` in a subprocess under
valgrind (no baseline collection of an empty statement: it would double the time, for the
few instructions of one Python call).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

UNDER_SECONDS = 100e-6  # combinations faster than this get instruction counts
# Calls counted per collection: a collection's one-time work (the first calls' allocations)
# is spread over them. 100 calls put two collections 0.04-1.1% apart; 1,000, with Python's
# string hashing fixed, 0.0003-0.005% (docs/explain.md), for a few seconds more under valgrind.
CALLS = 1000
HASH_SEED = "0"  # PYTHONHASHSEED: both sides' dictionaries probe alike, collection after collection
REPEATS = 1  # collections a side: valgrind importing torch takes minutes here (docs/explain.md)
TOP_FUNCTIONS = 200  # functions a side reports, by count: enough to match across builds
MISSING = "valgrind is not installed (Debian: apt-get install valgrind); no instruction counts"


def prepared_call(name: str, params: list, tier: str):
    """The suite's call of one combination, ready to time (``suite.timing.prepare``)."""
    from ptbench.analysis.explain import profiling

    call, _device = profiling._prepared(name, params, tier)
    return call


def count(name: str, params: list, tier: str) -> dict[str, Any]:
    """``{"status": "ok", "per_call": [per repeat], "functions": {name: per call}}``, or a
    skip saying why (no valgrind, not on the CPU)."""
    if shutil.which("valgrind") is None:
        return {"status": "skipped", "reason": MISSING}
    if params and params[0] != "cpu":
        return {"status": "skipped", "reason": "callgrind counts CPU instructions only"}
    from torch.utils.benchmark import Timer

    setup = ("from ptbench.analysis.explain.instructions import prepared_call, instrument\n"
             f"call = prepared_call({name!r}, {list(params)!r}, {tier!r})\n"
             "instrument()")  # fmt: skip
    with _counting_environment(shutil.which("valgrind")):
        stats = Timer("call()", setup=setup).collect_callgrind(CALLS, repeats=REPEATS,
                                                               collect_baseline=False)
    per_call = [run.counts(denoise=True) / CALLS for run in stats]
    functions = stats[0].as_standardized().stats(inclusive=False).denoise()
    top = sorted(functions, key=lambda entry: -abs(entry.count))[:TOP_FUNCTIONS]
    return {"status": "ok", "per_call": per_call,
            "functions": {entry.function: entry.count / CALLS for entry in top}}  # fmt: skip


def instrument() -> None:
    """In the counting process, once torch, the suite and the inputs are loaded: switch
    callgrind's instrumentation on (the shim started it off)."""
    import subprocess

    subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


# torch.utils.benchmark starts valgrind with --instr-atstart=yes, so torch's import runs
# instrumented: minutes here. This shim, first on PATH, starts it uninstrumented instead, and
# ``instrument`` switches it on before the counted loop (collection is toggled around that
# loop either way). A torch that words its command otherwise is passed through unchanged.
SHIM = """#!/bin/sh
for argument do
  shift
  [ "$argument" = --instr-atstart=yes ] && argument=--instr-atstart=no
  set -- "$@" "$argument"
done
exec {valgrind} "$@"
"""


@contextlib.contextmanager
def _counting_environment(valgrind: str | None = None):
    """For as long as the counting takes: the valgrind shim (if ``valgrind`` is given) and
    this interpreter's folder first on PATH (torch runs "python" from PATH under valgrind, and
    checks it is this one), and a fixed hash seed (the counting process inherits the
    environment)."""
    before = {name: os.environ.get(name) for name in ("PATH", "PYTHONHASHSEED")}
    shim = tempfile.mkdtemp(prefix="ptbench-valgrind-") if valgrind else None
    if shim:
        (Path(shim) / "valgrind").write_text(SHIM.format(valgrind=shlex.quote(valgrind)))
        (Path(shim) / "valgrind").chmod(0o755)
    first = [shim] if shim else []
    os.environ["PATH"] = os.pathsep.join([*first, os.path.dirname(sys.executable),
                                          before["PATH"] or ""])  # fmt: skip
    os.environ["PYTHONHASHSEED"] = HASH_SEED
    try:
        yield
    finally:
        if shim:
            shutil.rmtree(shim, ignore_errors=True)
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def compare(baseline: dict[str, Any], contender: dict[str, Any], most: int = 10) -> dict:
    """Both sides' counts as ``explain --format json`` records them: instructions per call on
    each side (the mean of the repeats), their ratio, how far a side's repeats differ (its
    ``spread``, relative), and the ``most`` functions whose counts per call changed most."""
    if baseline.get("status") != "ok" or contender.get("status") != "ok":
        skipped = baseline if baseline.get("status") != "ok" else contender
        return {"status": skipped.get("status", "failed"), "reason": skipped.get("reason", "")}
    sides = [sum(side["per_call"]) / len(side["per_call"]) for side in (baseline, contender)]
    spread = max(_spread(side["per_call"]) for side in (baseline, contender))
    spread = spread if max(len(baseline["per_call"]), len(contender["per_call"])) > 1 else None
    names = set(baseline["functions"]) | set(contender["functions"])
    deltas = [{"function": name, "baseline": baseline["functions"].get(name, 0.0),
               "contender": contender["functions"].get(name, 0.0)} for name in names]  # fmt: skip
    for entry in deltas:
        entry["delta"] = entry["contender"] - entry["baseline"]
    deltas.sort(key=lambda entry: -abs(entry["delta"]))
    return {"status": "ok", "baseline_per_call": sides[0], "contender_per_call": sides[1],
            "ratio": sides[1] / sides[0] if sides[0] else float("nan"),
            "repeat_spread": spread, "functions": deltas[:most]}  # fmt: skip


def _spread(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return (max(values) - min(values)) / mean if mean else 0.0
