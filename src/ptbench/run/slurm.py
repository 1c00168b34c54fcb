"""``ptbench slurm``: the suite across a cluster, one Slurm job per machine type.

Each machine type is ``NAME=PARTITION[:GRES]`` (``h100=gpu-h100:gpu:1``, ``cpu=compute``). For
each, a job script is written under ``--collect`` (``jobs/NAME.sbatch``: one whole node,
``--exclusive`` because a benchmark shares its node with nobody, the GPUs asked for with
``--gres``) that runs ``ptbench run`` with the tier and selection asked for and writes what it
recorded as an archive (``archives/NAME-JOBID.tar.gz``), which ``ptbench merge`` adds to the
history. ``--collect`` must be on a filesystem the nodes share, as the project checkout is.

Slurm does the scheduling; ptbench only writes the scripts, submits them with ``sbatch`` and,
with ``--wait``, waits for them (``sbatch --wait``, which exits with the job's status) and
merges the archives. A job whose benchmark failed its check exits 1, as ``ptbench run`` does.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ptbench.core import outputs
from ptbench.core.errors import EXIT_REGRESSION, InputError, RunFailed

TYPE = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)=(?P<partition>[A-Za-z0-9._-]+)"
                  r"(?::(?P<gres>[A-Za-z0-9_]+(?::[A-Za-z0-9_.-]+)*:[0-9]+))?")  # fmt: skip
# sbatch's [D-]HH:MM:SS: minutes and seconds under 60, and hours under 24 after a day count.
FOLDERS = ("jobs", "logs", "runs", "archives")  # under --collect; a link there is refused
NAME_MAX = 255  # bytes in a file name, on Linux's filesystems
TIME = re.compile(r"([0-9]+-([01]?[0-9]|2[0-3])|[0-9]{1,3}):[0-5][0-9]:[0-5][0-9]")
# What a path may hold to go into an ``#SBATCH`` line (sbatch splits those on whitespace and
# expands % patterns) and, quoted, into the script's shell line.
PLAIN_PATH = re.compile(r"[A-Za-z0-9_./+,@=:~-]+")


@dataclass(frozen=True)
class MachineType:
    name: str
    partition: str
    gres: str | None = None


def parse_type(text: str) -> MachineType:
    found = TYPE.fullmatch(text)
    if not found:
        raise InputError(f"--type {text!r}: give NAME=PARTITION or NAME=PARTITION:GRES, e.g. "
                         "h100=gpu-h100:gpu:1 or cpu=compute")  # fmt: skip
    return MachineType(found["name"], found["partition"], found["gres"])


@dataclass(frozen=True)
class SlurmRequest:
    types: tuple[MachineType, ...]
    collect: Path
    project: Path
    run_arguments: tuple[str, ...]  # for ptbench run: --tier, --bench, --device
    time: str = "04:00:00"
    python: str = sys.executable


def check(request: SlurmRequest) -> None:
    names = [kind.name for kind in request.types]
    if len(set(names)) != len(names):
        raise InputError(f"--type names must differ; got {', '.join(names)}")
    if not TIME.fullmatch(request.time):
        raise InputError(f"--time {request.time!r}: give HH:MM:SS or D-HH:MM:SS, as sbatch does "
                         "(minutes and seconds under 60, hours under 24 after a day count)")
    if not PLAIN_PATH.fullmatch(str(request.collect)):
        raise InputError(
            f"--collect {str(request.collect)!r}: a job script cannot carry it safely (spaces, "
            "quotes, $, `, %, newlines...); give a path of letters, digits and ._-/ only"
        )
    if request.collect.exists() and not request.collect.is_dir():
        raise InputError(f"--collect {request.collect} is a file; give a folder the nodes share")
    outputs.check_no_links(request.collect, FOLDERS, "--collect")
    _check_targets(request)


def _check_targets(request: SlurmRequest) -> None:
    """What ``write_scripts`` will make can be made: checked before anything is written (a
    hostile pass: a refusal left --collect's folders behind)."""
    for sub in FOLDERS:
        folder = request.collect / sub
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--collect {request.collect}: {sub} is not a folder; move it "
                             "away or give another --collect")  # fmt: skip
    jobs = [_job_path(request, kind) for kind in request.types]
    for kind, job in zip(request.types, jobs, strict=True):
        if len(job.name.encode()) > NAME_MAX:
            raise InputError(f"--type {kind.name!r}: too long a name for a job script (at most "
                             f"{NAME_MAX - len('.sbatch')} characters)")  # fmt: skip
    outputs.check_file_targets(request.collect / "jobs", tuple(job.name for job in jobs),
                               "--collect")  # fmt: skip


def _job_path(request: SlurmRequest, kind: MachineType) -> Path:
    return request.collect / "jobs" / f"{kind.name}.sbatch"


def script(request: SlurmRequest, kind: MachineType) -> str:
    """The job script for one machine type."""
    collect = request.collect
    job = f"{kind.name}-$SLURM_JOB_ID"
    run = [request.python, "-m", "ptbench.cli", "run", *request.run_arguments]
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name=ptbench-{kind.name}",
        f"#SBATCH --partition={kind.partition}",
        *([f"#SBATCH --gres={kind.gres}"] if kind.gres else []),
        "#SBATCH --nodes=1",
        "#SBATCH --exclusive",
        f"#SBATCH --time={request.time}",
        f"#SBATCH --output={collect}/logs/{kind.name}-%j.log",  # a PLAIN_PATH (check)
        "set -euo pipefail",
        f"collect={shlex.quote(str(collect))}",
        f"cd {shlex.quote(str(request.project))}",
        " ".join(shlex.quote(part) for part in run)
        + f' --results "$collect/runs/{job}" --archive "$collect/archives/{job}.tar.gz"',
    ]
    return "\n".join(lines) + "\n"


def write_scripts(request: SlurmRequest) -> list[Path]:
    """One job script per machine type; a --collect made here is removed if writing fails."""
    with outputs.new_folder(request.collect, "--collect"):
        for sub in FOLDERS:
            outputs.make_folder(request.collect / sub)
        paths = [_job_path(request, kind) for kind in request.types]
        for path, kind in zip(paths, request.types, strict=True):
            # replaces a link, never writes through it
            outputs.write_text_atomically(path, script(request, kind))
    return paths


def _sbatch() -> str:
    found = shutil.which("sbatch")
    if found is None:
        raise InputError("sbatch not found: run ptbench slurm on a Slurm login node "
                         "(or use --dry-run to write the job scripts only)")  # fmt: skip
    return found


def submit(paths: list[Path], wait: bool) -> list[tuple[Path, int, str]]:
    """Submit each script; (script, exit status, sbatch's output). Without ``wait`` the status
    is sbatch's (0: queued); with it, each job's own (``sbatch --wait``), waited for together.
    An interrupt (Ctrl-C, SIGTERM) ends the sbatch processes still waiting and goes on (a
    hostile pass: threads waiting on ``sbatch --wait`` held ptbench after SIGINT or SIGTERM);
    the jobs stay queued, for ``squeue`` and ``scancel``."""
    sbatch = _sbatch()
    started: list[tuple[Path, subprocess.Popen]] = []
    try:
        for path in paths:
            command = [sbatch, "--parsable", *(["--wait"] if wait else []), str(path)]
            started.append((path, subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                errors="replace")))  # fmt: skip # sbatch's bytes need not be UTF-8
        return [(path, *_finished(process)) for path, process in started]
    finally:
        for _path, process in started:
            _ended(process)


def _finished(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate()
    return process.returncode, (out + err).strip()


def _ended(process: subprocess.Popen) -> None:
    """``process`` ended: asked to stop, then killed if it does not within 5 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def outcome(submitted: list[tuple[Path, int, str]], wait: bool) -> int:
    """0 when every job did its work, 1 when one found a benchmark failing its check;
    RunFailed naming the script when Slurm refused a job or a job broke; bad input when sbatch
    queued none (a hostile pass: a machine without a Slurm controller was exit 3)."""
    failed = [(path, status, text) for path, status, text in submitted
              if status not in (0, EXIT_REGRESSION) or (status and not wait)]  # fmt: skip
    if failed:
        path, status, text = failed[0]
        last = text.splitlines()[-1] if text else "no output"
        if not wait and len(failed) == len(submitted):  # nothing queued: no Slurm to take jobs
            raise InputError(f"sbatch queued no job ({path.name}: exit status {status}: {last});"
                             " run ptbench slurm where Slurm accepts jobs, or submit the "
                             f"scripts in {path.parent} there yourself")  # fmt: skip
        where = "its log under logs/" if wait else "sbatch's message above"
        raise RunFailed(f"{path.name}: exit status {status} ({last}); see {where}")
    return EXIT_REGRESSION if any(status for _p, status, _t in submitted) else 0


def archives(request: SlurmRequest) -> list[Path]:
    """The archives the jobs have written so far, in name order."""
    return sorted((request.collect / "archives").glob("*.tar.gz"))
