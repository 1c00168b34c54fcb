#!/usr/bin/env python
"""A real single-node Slurm on this machine, for trying ``ptbench slurm`` and for its tests.

Starts munged (as the munge user), slurmctld and slurmd from Debian's packages with a
configuration in a scratch folder (non-default ports, state and logs there too): one node, this
host, with its CPUs, in one default partition named ``debug``. Needs root (slurmd runs jobs as
their users) and ``apt-get install slurmctld slurmd slurm-client munge``.

    sudo .venv/bin/python scripts/local_slurm.py up FOLDER    # prints: export SLURM_CONF=...
    sudo .venv/bin/python scripts/local_slurm.py down FOLDER

From Python (tests): ``with LocalSlurm(folder) as slurm: slurm.environment`` (SLURM_CONF set).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("slurmctld", "slurmd", "munged", "sbatch", "sinfo")
PARTITION = "debug"


def missing() -> str | None:
    """Why a local Slurm cannot start here, or None."""
    absent = [name for name in DAEMONS if shutil.which(name) is None
              and not Path(f"/usr/sbin/{name}").exists()]  # fmt: skip
    if absent:
        return f"not installed: {', '.join(absent)} (apt-get install slurmctld slurmd munge)"
    if os.geteuid() != 0:
        return "needs root (slurmd runs each job as its user)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configuration(folder: Path, host: str, cpus: int) -> str:
    ports = _free_port(), _free_port()
    return "\n".join([
        "ClusterName=ptbench-local", f"SlurmctldHost={host}", "SlurmUser=root",
        f"SlurmctldPort={ports[0]}", f"SlurmdPort={ports[1]}", "AuthType=auth/munge",
        f"StateSaveLocation={folder}/state", f"SlurmdSpoolDir={folder}/spool",
        f"SlurmctldPidFile={folder}/slurmctld.pid", f"SlurmdPidFile={folder}/slurmd.pid",
        f"SlurmctldLogFile={folder}/slurmctld.log", f"SlurmdLogFile={folder}/slurmd.log",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
        "SelectType=select/cons_tres", "SchedulerType=sched/builtin", "ReturnToService=2",
        "MpiDefault=none", "JobAcctGatherType=jobacct_gather/none",
        f"NodeName={host} CPUs={cpus} State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP",
    ]) + "\n"  # fmt: skip


class LocalSlurm:
    """Start on enter, stop (by PID, nothing else touched) on exit."""

    def __init__(self, folder: Path, timeout: float = 60.0) -> None:
        self.folder, self.timeout = Path(folder), timeout
        self.conf = self.folder / "slurm.conf"
        self.started_munge = False
        self.environment = {**os.environ, "SLURM_CONF": str(self.conf)}

    def __enter__(self) -> LocalSlurm:
        reason = missing()
        if reason:
            raise RuntimeError(f"no local Slurm: {reason}")
        for sub in ("state", "spool"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        host = socket.gethostname().split(".")[0]
        self.conf.write_text(configuration(self.folder, host, os.cpu_count() or 1))
        self._start_munge()
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([daemon, "-f", str(self.conf)], check=True, env=self.environment)
        self._wait_for_idle_node()
        return self

    def _start_munge(self) -> None:
        if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode == 0:
            return  # already running (the system's own): use it
        run = Path("/run/munge")
        run.mkdir(exist_ok=True)
        shutil.chown(run, "munge", "munge")
        subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
        self.started_munge = True

    def _wait_for_idle_node(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True,
                                   env=self.environment)  # fmt: skip
            if state.returncode == 0 and state.stdout.strip() in ("idle", "mix", "alloc"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the local Slurm node did not come up; see {self.folder}/*.log")

    def __exit__(self, *_exc) -> None:
        pid_files = [self.folder / f"{name}.pid" for name in ("slurmd", "slurmctld")]
        if self.started_munge:  # only the munged this started; a system one stays
            pid_files.append(Path("/run/munge/munged.pid"))
        for pid_file in pid_files:
            if pid_file.exists():
                with contextlib.suppress(ValueError, ProcessLookupError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
        time.sleep(0.5)


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("up", "down"):
        print(__doc__.strip().splitlines()[6], file=sys.stderr)
        return 2
    slurm = LocalSlurm(Path(sys.argv[2]).resolve())
    if sys.argv[1] == "up":
        slurm.__enter__()
        print(f"export SLURM_CONF={slurm.conf}")
    else:
        slurm.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
