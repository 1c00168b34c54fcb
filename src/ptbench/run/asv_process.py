"""asv itself, run as a process: a scratch config (results never land in the user's folder
directly), the ``asv run`` command line, and stopping it quietly on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from asv import util as asv_util
from asv.environment import get_env_name

from ptbench.core import outputs
from ptbench.core.errors import RunFailed
from ptbench.run.plan import RunPlan, asv_bench_regexes
from ptbench.run.project import CONFIG_NAME
from ptbench.suite.tiers import TIER_TIMING, TIER_VARIABLE

# asv run's exit statuses: 0 all ran, 2 some benchmark failed (its results are still saved);
# anything else means asv itself stopped (bad config, refused results file, interrupted).
ASV_COMPLETED = (0, 2)


def _scratch_config(project: Path, scratch: Path) -> Path:
    config = asv_util.load_json(str(project / CONFIG_NAME), js_comments=True)
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


def run_asv(command: list[str], cwd: Path, environment: dict[str, str]) -> int:
    """Run asv and return its exit status.

    asv runs in a session of its own, so Ctrl-C reaches ptbench alone: ptbench then stops asv
    and its benchmark processes quietly (SIGTERM to the group, SIGKILL after a grace period)
    and reports the interruption in one line, instead of every process printing a traceback.
    """
    process = subprocess.Popen(command, cwd=cwd, env=environment, start_new_session=True)
    try:
        return process.wait()
    except BaseException:
        for signal_number, grace_seconds in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal_number)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace_seconds)
                break
        raise


# The name asv gives this interpreter's environment with --python=same.
ASV_ENV_NAME = get_env_name("existing", sys.executable.replace(os.path.sep, "_"), {}, {})


def asv_result_path(scratch: Path, machine: str, commit: str) -> Path:
    """Where asv, run with ``scratch``'s config, writes this environment's result."""
    return scratch / "results" / machine / f"{commit[:8]}-{ASV_ENV_NAME}.json"


def invoke(plan: RunPlan, scratch: Path) -> tuple[dict, float]:
    """Run asv into ``scratch``, seeded with the earlier result so asv merges as it would its
    own; return asv's result and when the run started (ms since 1970, asv's ``started_at``)."""
    config_path = _scratch_config(plan.project, scratch)
    asv_result = asv_result_path(scratch, plan.machine, plan.commit)
    if plan.target.is_file():
        earlier = json.loads(plan.target.read_text())
        outputs.write_json_atomically(asv_result, {**earlier, "env_name": ASV_ENV_NAME})
    started_ms = time.time() * 1000
    environment = {**os.environ, TIER_VARIABLE: plan.tier}
    returncode = run_asv(_asv_command(plan, config_path), plan.project, environment)
    if returncode not in ASV_COMPLETED or not asv_result.is_file():
        raise RunFailed(
            f"asv run stopped (exit status {returncode}) before recording results; "
            f"its messages are above. Nothing was filed under {plan.results_dir}"
        )
    return json.loads(asv_result.read_text()), started_ms
