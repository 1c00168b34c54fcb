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

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from asv import util as asv_util
from asv.environment import get_env_name

from ptbench import devices
from ptbench import machine as machine_facts
from ptbench.errors import InputError
from ptbench.operations import OPERATIONS
from ptbench.tiers import TIER_VARIABLE, check_tier

CONFIG_NAME = "asv.conf.json"
# Timing attributes per tier (asv -a); params never change with the tier, only what runs.
TIER_ATTRIBUTES = {
    "smoke": ["rounds=1", "repeat=(4,6,1.0)", "warmup_time=0.02"],
    "default": [],
    "full": [],
}


class UsageError(InputError):
    """Bad input from the user: reported as one line, exit status 2, nothing written."""


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


def ensure_machine(name: str | None) -> str:
    """Record this machine's facts in ~/.asv-machine.json (asv copies them into every result's
    params); print and return its name."""
    try:
        name, entry = machine_facts.write(name)
    except machine_facts.MachineError as error:
        raise UsageError(str(error)) from None
    ram = str(entry.get("ram", ""))
    ram = f"{int(ram) / 2**30:.0f} GiB" if ram.isdigit() else ram or "? GiB"
    gpu = entry.get("gpu", "none")
    gpus = f", {entry.get('gpu_count', 1)} x {gpu}" if gpu != "none" else ", no GPU"
    print(
        f"ptbench: machine {name}: {entry.get('cpu', '?')}, {entry.get('num_cpu', '?')} CPUs, "
        f"{ram}{gpus}",
        flush=True,
    )
    return name


def settings() -> dict[str, str]:
    """Facts of this Python environment beside every result: they change timings, so a history
    must show them. (Hardware and driver facts come from the machine file.)"""
    return {
        "torch": torch.__version__,
        "torch_build": machine_facts.torch_build(),
        "torch_cuda": torch.version.cuda or "none",
        "blas": machine_facts.blas(),
        "torch_threads": str(torch.get_num_threads()),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
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
    path = scratch / CONFIG_NAME
    asv_util.write_json(str(path), config)
    return path


def _relabel(result: dict, env_name: str, facts: dict[str, str]) -> dict:
    result["env_name"] = env_name
    result["params"] = {**result.get("params", {}), **facts}
    result["requirements"] = {"torch": facts["torch"]}
    result["python"] = f"{sys.version_info.major}.{sys.version_info.minor}"
    return result


def _count(result: dict, selection: dict[str, list[str]], summary: RunSummary) -> None:
    """Tally the selected combinations only: the rest of the file is earlier runs' or n/a."""
    columns = result["result_columns"]
    for name, row in result["results"].items():
        if name not in selection:
            continue
        entry = dict(zip(columns, row, strict=False))
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


def _write_atomically(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.partial")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(temporary, path)


def run(
    tier: str = "smoke",
    bench: str | None = None,
    results: Path | None = None,
    device: list[str] | None = None,
    machine: str | None = None,
    project: Path | None = None,
) -> RunSummary:
    """Run the suite through asv; return what was written. Raises UsageError on bad input."""
    try:
        check_tier(tier)
    except ValueError as error:
        raise UsageError(str(error)) from None
    project = find_project(project)
    run_devices = check_devices(device)
    commit = current_commit(project)
    config = asv_util.load_json(str(project / CONFIG_NAME), js_comments=True)
    results_dir = (results or project / config.get("results_dir", "results")).resolve()
    if results_dir.exists() and not results_dir.is_dir():
        raise UsageError(f"--results {results_dir} is a file; give a folder")
    if machine is not None:
        try:
            machine_facts.check_name(machine)
        except machine_facts.MachineError as error:
            raise UsageError(str(error)) from None
    benchmarks = discover(project / config.get("benchmark_dir", "benchmarks"))
    selection = select(benchmarks, tier, run_devices, bench)
    # Input is valid: only now write anything (the machine entry, then results).
    machine = ensure_machine(machine)
    env_name = environment_name()
    asv_env_name = get_env_name("existing", sys.executable.replace(os.path.sep, "_"), {}, {})
    target = results_dir / machine / f"{commit[:8]}-{env_name}.json"

    summary = RunSummary()
    with tempfile.TemporaryDirectory(prefix="ptbench-run-") as scratch_name:
        scratch = Path(scratch_name)
        config_path = _scratch_config(project, scratch)
        asv_result = scratch / "results" / machine / f"{commit[:8]}-{asv_env_name}.json"
        if target.is_file():  # let asv merge this run into the earlier one, as it would its own
            earlier = json.loads(target.read_text())
            _write_atomically(asv_result, {**earlier, "env_name": asv_env_name})
        command = [
            sys.executable,
            "-m",
            "asv",
            "--config",
            str(config_path),
            "run",
            "--python=same",
            "--set-commit-hash",
            commit,
            "--record-samples",
            "--machine",
            machine,
            "--launch-method",
            "forkserver",
            "--show-stderr",
            *(f"--bench={regex}" for regex in asv_bench_regexes(selection)),
            *(f"--attribute={attribute}" for attribute in TIER_ATTRIBUTES[tier]),
        ]
        environment = {**os.environ, TIER_VARIABLE: tier}
        completed = subprocess.run(command, cwd=project, env=environment, check=False)
        if not asv_result.is_file():
            raise RuntimeError(f"asv run exited {completed.returncode} and wrote no results")
        result = _relabel(json.loads(asv_result.read_text()), env_name, settings())
        _count(result, selection, summary)
        _write_atomically(target, result)
        summary.written.append(target)
        for shared in ("benchmarks.json", f"{machine}/machine.json"):
            source = scratch / "results" / shared
            if source.is_file():
                (results_dir / shared).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, results_dir / shared)
                summary.written.append(results_dir / shared)
    return summary
