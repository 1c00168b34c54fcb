"""The ptbench checkout a command runs in: where its asv.conf.json is, and its git commit.

No torch here, and asv only to read its config: ``ab`` and ``slurm`` need these before
anything is timed.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from ptbench.core.errors import UsageError, first_line

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
    except (OSError, ValueError, asv_util.UserError) as error:
        raise UsageError(f"{path} is not valid JSON ({first_line(error)}); fix it, or restore it "
                         "with git checkout") from None  # fmt: skip
    if not isinstance(config, dict):
        raise UsageError(f"{path} holds no JSON object; restore it with git checkout")
    return config


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
