"""``ptbench run``: benchmark the current environment through asv and file the results.

asv does the discovery, timing, statistics and result files. ptbench adds what asv cannot know:

- which combinations a tier and the present devices need, passed to asv as its own
  ``name(param, ...)`` regexes, so skipped combinations cost no process launch;
- a result name that says which torch ran: asv names an existing environment after the Python
  path (``existing-py_..._bin_python``) and stamps it with the config's matrix values, so two torch
  versions in one virtualenv would overwrite each other and be mislabelled;
- the settings that change results (threads, float32 matmul precision, CUDA version);
- safety: asv writes into a scratch folder; ptbench then files each result under ``results/``,
  merged by asv itself with the earlier result of the same machine, commit and environment and
  never touching any other file.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from asv import util as asv_util
from asv.environment import get_env_name
from asv.results import Results

from ptbench import devices, noise, outputs
from ptbench import machine as machine_facts
from ptbench.errors import ResultsError, RunFailed, UsageError
from ptbench.operations import OPERATIONS
from ptbench.tiers import TIER_TIMING, TIER_VARIABLE, check_tier

CONFIG_NAME = "asv.conf.json"

# asv run's exit statuses: 0 all ran, 2 some benchmark failed (its results are still saved);
# anything else means asv itself stopped (bad config, refused results file, interrupted).
ASV_COMPLETED = (0, 2)


@dataclass
class RunSummary:
    written: list[Path] = field(default_factory=list)
    timed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)  # name(params), as asv prints them

    def failure_report(self) -> list[str]:
        """What failed, and, when CUDA combinations did, what to do about it."""
        if not self.failed:
            return []
        lines = [f"ptbench: failed: {', '.join(self.failed)}"]
        on_cuda = [label for label in self.failed if "('cuda'" in label]
        if on_cuda:
            kept = self.written[0] if self.written else "the results folder"
            lines.append(
                f"ptbench: {len(on_cuda)} CUDA combinations failed. If the GPU was lost during "
                f"the run (nvidia-smi tells), everything that completed is kept in {kept}; "
                "rerun with --device cuda to fill in the rest"
            )
        return lines


def find_project(start: Path | None = None) -> Path:
    """The folder holding asv.conf.json, searching upward from ``start`` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise UsageError(f"no {CONFIG_NAME} in {here} or above; run ptbench inside a ptbench checkout")


def commit_date_ms(project: Path, commit: str) -> int:
    """The commit's date in milliseconds since 1970: asv's ``date`` of a result."""
    out = subprocess.run(
        ["git", "-C", str(project), "log", "-1", "--format=%ct", commit],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout.strip() or time.time()) * 1000


def current_commit(project: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(project), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        raise UsageError(
            f"{project} has no git commit to label results with; commit first ({error})"
        ) from None
    return out.stdout.strip()


def environment_name() -> str:
    """``existing-py3.11-torch2.13.0+cpu``: the interpreter and the torch build that ran."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return asv_util.sanitize_filename(f"existing-py{python}-torch{torch.__version__}")


def default_devices() -> list[str]:
    return [device for device in devices.DEVICES if devices.is_available(device)]


def check_devices(requested: list[str] | None) -> list[str]:
    if not requested:
        return default_devices()
    for device in requested:
        try:
            devices.check_device(device)
        except ValueError as error:
            raise UsageError(str(error)) from None
        if not devices.is_available(device):
            raise UsageError(
                f"device {device!r} is not available here (torch "
                f"{torch.__version__}); available: {', '.join(default_devices())}"
            )
    return requested


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


def select(
    benchmarks: list, tier: str, run_devices: list[str], pattern: str | None = None
) -> dict[str, list[str]]:
    """Benchmark name -> the param strings (as asv prints them) of each combination to run.

    ``pattern`` is matched like asv's ``--bench``: against ``name`` and ``name(params)``.
    """
    try:
        regex = re.compile(pattern) if pattern else None
    except re.error as error:
        raise UsageError(f"--bench {pattern!r} is not a regular expression: {error}") from None
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


def asv_bench_regexes(selection: dict[str, list[str]]) -> list[str]:
    """One exact asv ``--bench`` regex per benchmark, matching only the selected combinations."""
    return [
        f"^{re.escape(name)}\\((?:{'|'.join(re.escape(label) for label in labels)})\\)$"
        for name, labels in selection.items()
    ]


def ensure_machine(
    name: str, facts: dict, say: Callable[[str], None] = outputs.emit
) -> tuple[str, dict]:
    """Record this machine's facts in ~/.asv-machine.json (asv copies them into every result's
    params, so each result keeps the facts and peaks it was measured with); ``say`` what it is.
    Returns the name and the recorded entry."""
    name, entry = machine_facts.write(name, facts)
    ram = str(entry.get("ram", ""))
    ram = f"{int(ram) / 2**30:.0f} GiB" if ram.isdigit() else ram or "? GiB"
    gpu = entry.get("gpu", "none")
    gpus = f", {entry.get('gpu_count', 1)} x {gpu}" if gpu != "none" else ", no GPU"
    say(
        f"ptbench: machine {name}: {entry.get('cpu', '?')}, {entry.get('num_cpu', '?')} CPUs, "
        f"{ram}{gpus}"
    )
    return name, entry


def settings() -> dict[str, str]:
    """Facts of this Python environment beside every result: they change timings, so a history
    must show them. (Hardware and driver facts come from the machine file.)"""
    return {
        "torch": torch.__version__,
        "torch_build": machine_facts.torch_build(),
        "torch_cuda": torch.version.cuda or "none",
        "blas": machine_facts.blas(),
        "torch_threads": str(torch.get_num_threads()),
        "float32_matmul_precision": devices.float32_matmul_precision(),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",  # asv's form
    }


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
    config["plugins"] = []  # ptbench.asv_plugin is for plain asv run; ptbench run files its own
    path = scratch / CONFIG_NAME
    asv_util.write_json(str(path), config)
    return path


def _relabel(result: dict, env_name: str, facts: dict[str, str]) -> dict:
    earlier = result.get("params", {})
    result["env_name"] = env_name
    result["params"] = {**earlier, **facts}
    if noise.is_disturbed(earlier.get(noise.VERDICT_KEY)):  # merged: the worst run's verdict
        result["params"][noise.VERDICT_KEY] = earlier[noise.VERDICT_KEY]
    result["requirements"] = {"torch": facts["torch"]}
    result["python"] = f"{sys.version_info.major}.{sys.version_info.minor}"
    return result


def _count(
    result: dict, selection: dict[str, list[str]], summary: RunSummary, since_ms: float = 0
) -> None:
    """Tally the selected combinations that this run timed (``started_at`` >= ``since_ms``):
    the rest of the file is earlier runs' or n/a."""
    columns = result["result_columns"]
    for name, row in result["results"].items():
        entry = dict(zip(columns, row, strict=False))
        if name not in selection or (entry.get("started_at") or 0) < since_ms:
            continue
        values = entry["result"] if isinstance(entry["result"], list) else [entry["result"]]
        labels = [", ".join(combo) for combo in itertools.product(*entry.get("params", []))]
        selected = set(selection[name])
        for label, value in zip(labels or [""], values, strict=True):
            if labels and label not in selected:
                continue
            if value is None:
                summary.failed.append(f"{name}({label})" if label else name)
            elif value != value:  # NaN: skipped in the process (unsupported, memory)
                summary.skipped += 1
            else:
                summary.timed += 1


def _write_json_atomically(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    outputs.write_text_atomically(path, json.dumps(data, indent=1, sort_keys=True))


@dataclass
class Plan:
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


def check_results_dir(results: Path | None, project: Path, config: dict) -> Path:
    if results is not None and str(results).strip() == "":
        raise UsageError("--results is empty; give a results folder, e.g. --results results")
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
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
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
) -> Plan:
    """Check every input and decide what runs; raises an InputError, having written nothing."""
    try:
        check_tier(tier)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if machine is not None:
        machine_facts.check_name(machine)
    project = find_project(project)
    run_devices = check_devices(device)
    commit = current_commit(project)
    config = asv_util.load_json(str(project / CONFIG_NAME), js_comments=True)
    results_dir = check_results_dir(results, project, config)
    benchmarks = discover(project / config.get("benchmark_dir", "benchmarks"))
    selection = select(benchmarks, tier, run_devices, bench)
    facts = machine_facts.collect()
    name = machine_facts.check_name(machine or machine_facts.default_name(facts))
    chosen = Plan(project, commit, tier, selection, results_dir, name, facts)
    check_target(chosen.target)
    return chosen


def _asv_command(plan: Plan, config_path: Path) -> list[str]:
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


def invoke(plan: Plan, scratch: Path) -> tuple[dict, float]:
    """Run asv into ``scratch``, seeded with the earlier result so asv merges as it would its
    own; return asv's result and when the run started (ms since 1970, asv's ``started_at``)."""
    config_path = _scratch_config(plan.project, scratch)
    asv_result = asv_result_path(scratch, plan.machine, plan.commit)
    if plan.target.is_file():
        earlier = json.loads(plan.target.read_text())
        _write_json_atomically(asv_result, {**earlier, "env_name": ASV_ENV_NAME})
    started_ms = time.time() * 1000
    environment = {**os.environ, TIER_VARIABLE: plan.tier}
    returncode = run_asv(_asv_command(plan, config_path), plan.project, environment)
    if returncode not in ASV_COMPLETED or not asv_result.is_file():
        raise RunFailed(
            f"asv run stopped (exit status {returncode}) before recording results; "
            f"its messages are above. Nothing was filed under {plan.results_dir}"
        )
    return json.loads(asv_result.read_text()), started_ms


def file(
    plan: Plan, result: dict, started_ms: float, scratch: Path, quiet: dict[str, str]
) -> RunSummary:
    """File asv's result (with the environment's settings and the run's noise facts,
    ``quiet``) and the shared files under the results folder; count what ran."""
    summary = RunSummary()
    result = _relabel(result, plan.env_name, {**settings(), **quiet})
    _count(result, plan.selection, summary, since_ms=started_ms)
    if not (summary.timed or summary.skipped or summary.failed):
        raise RunFailed(
            "asv finished but recorded none of the selected benchmarks; its messages are "
            f"above. Nothing was filed under {plan.results_dir}"
        )
    _write_json_atomically(plan.target, result)
    summary.written.append(plan.target)
    for shared in ("benchmarks.json", f"{plan.machine}/machine.json"):
        source = scratch / "results" / shared
        if source.is_file():
            destination = plan.results_dir / shared
            destination.parent.mkdir(parents=True, exist_ok=True)
            outputs.write_atomically(
                destination, lambda temporary, s=source: shutil.copyfile(s, temporary)
            )
            summary.written.append(destination)
    return summary


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
    with tempfile.TemporaryDirectory(prefix="ptbench-run-") as scratch_name:
        scratch = Path(scratch_name)
        result, started_ms = invoke(chosen, scratch)
        quiet = noise.assess(before, noise.snapshot())
        return file(chosen, result, started_ms, scratch, quiet)
