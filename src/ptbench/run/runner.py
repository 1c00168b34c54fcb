"""``ptbench run``: benchmark the current environment through asv and file the results.

asv does the discovery, timing, statistics and result files. ptbench adds what asv cannot know,
one job per module of this layer:

- ``plan``: which combinations a tier and the present devices need, and the checks that come
  before anything is written;
- ``environment``: the settings that change results (threads, float32 matmul precision, CUDA
  version) and the machine's facts;
- ``asv_process``: asv itself, into a scratch folder;
- ``filing``: a result name that says which torch ran, filed under ``results/``, merged by asv
  itself with the earlier result of the same machine, commit and environment and never touching
  any other file;
- ``project``: the checkout and its git commit.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from ptbench.core import outputs
from ptbench.core.progress import Progress
from ptbench.hardware import noise
from ptbench.run.asv_process import invoke
from ptbench.run.environment import ensure_machine
from ptbench.run.filing import RunSummary, file
from ptbench.run.plan import plan


def run(
    tier: str = "smoke",
    bench: str | None = None,
    results: Path | None = None,
    device: list[str] | None = None,
    machine: str | None = None,
    project: Path | None = None,
) -> RunSummary:
    """Run the suite through asv; return what was written. Bad input raises an InputError before
    anything is written; asv stopping raises RunFailed with nothing filed."""
    chosen = plan(tier, bench, results, device, machine, project)
    chosen.machine, _entry = ensure_machine(chosen.machine, chosen.machine_facts)
    before = noise.snapshot()
    busy = noise.busy_reason(before, os.cpu_count() or 1)
    if busy:
        print(
            f"ptbench: warning: the machine is busy ({busy}); results are marked disturbed "
            "if it stays so, and compare never calls them regressions",
            file=sys.stderr,
            flush=True,
        )
    with outputs.exclusive(chosen.results_dir), \
            tempfile.TemporaryDirectory(prefix="ptbench-run-") as scratch_name:
        scratch, log = Path(scratch_name), new_log()
        bar = Progress("ptbench run", len(chosen.selection), "benchmarks")
        try:
            result, started_ms = invoke(
                chosen, scratch, log,
                lambda fraction, name: bar.update(round(fraction * len(chosen.selection)), name),
            )  # fmt: skip
        finally:
            bar.close()
        noise_facts = noise.assess(before, noise.snapshot())
        return file(chosen, result, started_ms, scratch, noise_facts, log)


def new_log() -> Path:
    """A new file for asv's whole output (its tables of every size, the benchmarks' messages),
    in the temporary folder, never under ``results/``; named by the time it was started."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    handle, name = tempfile.mkstemp(prefix=f"ptbench-run-{stamp}-", suffix=".log")
    os.close(handle)
    return Path(name)
