"""The JSON documents ``ab``, ``explain`` and ``bisect`` keep at the top of a results folder
(``ab-*.json``, ``explain-*.json``, ``bisect-*.json``), read back for ``report`` and ``publish``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ptbench.core.errors import ResultsError


def read(results_dir: Path, prefix: str, required: tuple[str, ...], kind: str) -> list[dict]:
    """Every ``<prefix>*.json`` at the top of ``results_dir``, in name order, each with its
    ``path``; one that is not JSON or lacks a ``required`` key is named as not a readable
    ``kind`` document."""
    found = []
    for path in sorted(Path(results_dir).glob(f"{prefix}*.json")):
        try:
            document = json.loads(path.read_text())
            for key in required:
                document[key]  # noqa: B018
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ResultsError(f"{path}: not a readable {kind} document ({error})") from None
        found.append({**document, "path": str(path)})
    return found
