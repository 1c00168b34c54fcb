"""asv itself, run as a process: a scratch config (results never land in the user's folder
directly), the ``asv run`` command line, and stopping it quietly on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from asv import util as asv_util
from asv.environment import get_env_name

from ptbench.core import outputs
from ptbench.core.errors import RunFailed
from ptbench.run.plan import RunPlan, asv_bench_regexes
from ptbench.run.project import CONFIG_NAME, load_config
from ptbench.suite.tiers import TIER_TIMING, TIER_VARIABLE

# asv run's exit statuses: 0 all ran, 2 some benchmark failed (its results are still saved);
# anything else means asv itself stopped (bad config, refused results file, interrupted).
ASV_COMPLETED = (0, 2)


def _scratch_config(project: Path, scratch: Path) -> Path:
    config = load_config(project)
    config["repo"] = str(project)
    config["benchmark_dir"] = str(project / config.get("benchmark_dir", "benchmarks"))
    config["env_dir"] = str(scratch / "env")
    config["results_dir"] = str(scratch / "results")
    config["html_dir"] = str(scratch / "html")
    # The matrix describes the environments plain `asv run` builds. For --python=same asv still
    # expands it, benchmarking the one interpreter once per entry and labelling it with the
    # matrix's torch version, not the installed one.
    config["matrix"] = {}
    config["plugins"] = []  # ptbench.run.asv_plugin is for plain asv run; ptbench run files its own
    path = scratch / CONFIG_NAME
    asv_util.write_json(str(path), config)
    return path


def _asv_command(plan: RunPlan, config_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "asv",
        "--config",
        str(config_path),
        "run",
        "--python=same",
        "--set-commit-hash",
        plan.commit,
        "--record-samples",
        "--machine",
        plan.machine,
        "--launch-method",
        "forkserver",
        "--show-stderr",
        *(f"--bench={regex}" for regex in asv_bench_regexes(plan.selection)),
        *(
            f"--attribute={key}={value!r}".replace(" ", "")
            for key, value in TIER_TIMING[plan.tier].items()
        ),
    ]


# asv's progress prefix and the benchmark a line is about: "[ 12.50%] ··· bench_linalg.time_eigh".
_PREFIX = re.compile(r"^\[\s*\d+(?:\.\d+)?%\]\s*")
_ASV_LINE = re.compile(r"^\[\s*(\d+(?:\.\d+)?)%\]\s+[·.]+\s+(?:Running \()?(bench_\w+\.\w+)")


def _follow(process: subprocess.Popen, log: TextIO, progress: Callable[[float, str], None]):
    """Copy asv's output into ``log``, telling ``progress`` how far asv is (a fraction) and on
    which benchmark, from asv's own progress prefix."""
    for line in process.stdout:
        log.write(line)
        found = _ASV_LINE.match(line)
        if found:
            progress(float(found.group(1)) / 100, found.group(2))
    log.flush()


def run_asv(
    command: list[str], cwd: Path, environment: dict[str, str], log: Path,
    progress: Callable[[float, str], None] = lambda fraction, name: None,
) -> int:
    """Run asv, its output into ``log`` (a person reads ptbench's summary, not asv's tables of
    every size), and return its exit status.

    asv runs in a session of its own, so Ctrl-C reaches ptbench alone: ptbench then stops asv
    and its benchmark processes quietly (SIGTERM to the group, SIGKILL after a grace period)
    and reports the interruption in one line, instead of every process printing a traceback.
    """
    with log.open("a", encoding="utf-8", errors="replace") as sink:
        process = subprocess.Popen(
            command, cwd=cwd, env=environment, start_new_session=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
        )  # fmt: skip
        try:
            _follow(process, sink, progress)
            return process.wait()
        except BaseException:
            for signal_number, grace_seconds in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal_number)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=grace_seconds)
                    break
            raise


def last_words(log: Path) -> str:
    """The last line of asv's output that says something (for a one-line failure)."""
    lines = log.read_text(errors="replace").splitlines()
    text = [" ".join(_PREFIX.sub("", line).lstrip("·. ").split()) for line in lines]
    said = [line for line in text if line and not set(line) <= set("=-·. ")]
    return said[-1] if said else "no output"


# The name asv gives this interpreter's environment with --python=same.
ASV_ENV_NAME = get_env_name("existing", sys.executable.replace(os.path.sep, "_"), {}, {})


def asv_result_path(scratch: Path, machine: str, commit: str) -> Path:
    """Where asv, run with ``scratch``'s config, writes this environment's result."""
    return scratch / "results" / machine / f"{commit[:8]}-{ASV_ENV_NAME}.json"


def invoke(
    plan: RunPlan, scratch: Path, log: Path, progress: Callable[[float, str], None]
) -> tuple[dict, float]:
    """Run asv into ``scratch`` (its output into ``log``), seeded with the earlier result so
    asv merges as it would its own; return asv's result and when the run started (ms since
    1970, asv's ``started_at``)."""
    config_path = _scratch_config(plan.project, scratch)
    asv_result = asv_result_path(scratch, plan.machine, plan.commit)
    if plan.target.is_file():
        earlier = json.loads(plan.target.read_text(encoding="utf-8"))
        outputs.write_json_atomically(asv_result, {**earlier, "env_name": ASV_ENV_NAME})
    started_ms = time.time() * 1000
    private = scratch / "tmp"  # asv's own temporary files (its forkserver's) go with scratch
    private.mkdir(exist_ok=True)
    environment = {**os.environ, TIER_VARIABLE: plan.tier, "TMPDIR": str(private)}
    returncode = run_asv(_asv_command(plan, config_path), plan.project, environment, log,
                         progress)  # fmt: skip
    if returncode not in ASV_COMPLETED or not asv_result.is_file():
        raise RunFailed(
            f"asv run stopped (exit status {returncode}) before recording results: "
            f"{last_words(log)} (its whole output: {log}). Nothing was filed under "
            f"{plan.results_dir}"
        )
    return json.loads(asv_result.read_text(encoding="utf-8")), started_ms
