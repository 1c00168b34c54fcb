"""The ptbench checkout a command runs in: where its asv.conf.json is, and its git commit.

No torch here, and asv only to read its config: ``ab`` and ``slurm`` need these before
anything is timed.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from ptbench.core.errors import UsageError, first_line
from ptbench.core.outputs import cut

CONFIG_NAME = "asv.conf.json"


def find_project(start: Path | None = None) -> Path:
    """The folder holding asv.conf.json, searching upward from ``start`` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise UsageError(f"no {CONFIG_NAME} in {here} or above; run ptbench inside a ptbench checkout")


def load_config(project: Path) -> dict:
    """The checkout's asv.conf.json (comments allowed, as asv reads it); a malformed one is bad
    input, named."""
    from asv import util as asv_util

    path = project / CONFIG_NAME
    try:
        config = asv_util.load_json(str(path), js_comments=True)
    except (OSError, ValueError, RecursionError, asv_util.UserError) as error:  # nested deep
        raise UsageError(f"{path} is not valid JSON ({first_line(error)}); fix it, or restore it "
                         "with git checkout") from None  # fmt: skip
    if not isinstance(config, dict):
        raise UsageError(f"{path} holds no JSON object; restore it with git checkout")
    for key, default in FOLDER_KEYS.items():
        _check_folder_key(path, key, config.get(key, default))
    return config


# The folders of asv.conf.json that ptbench reads, with asv's defaults.
FOLDER_KEYS = {"benchmark_dir": "benchmarks", "results_dir": "results"}


def _check_folder_key(path: Path, key: str, value: object) -> None:
    """A folder named in asv.conf.json is a name of a folder (a hostile pass: a number, a list
    or a NUL there were internal errors in run), and the benchmarks' folder exists."""
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise UsageError(f"{path}: its {key} {cut(repr(value))} is not a folder's name; give "
                         f"one, e.g. \"{FOLDER_KEYS[key]}\"")  # fmt: skip
    folder = path.parent / value
    needed = key == "benchmark_dir"  # results_dir is made when missing
    if (needed or folder.exists()) and not folder.is_dir():
        raise UsageError(f"{path}: its {key} {folder} is not a folder; give the folder that "
                         f"holds the {key.split('_')[0]}s")  # fmt: skip


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
