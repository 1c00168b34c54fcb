"""``benchmarks.json``: asv's catalogue of the suite (each benchmark's params, unit and version),
one file per results folder, beside the machine folders. The one place that names and writes it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ptbench.core import outputs

CATALOGUE, MACHINE_FILE = "benchmarks.json", "machine.json"
CATALOGUE_VERSION = 2  # asv's benchmarks.json format


def write(results_dir: Path, catalogue: dict) -> Path:
    """The catalogue as asv writes it (``asv.util.write_json``: indent 4, sorted keys), written
    atomically; its path."""
    path = results_dir / CATALOGUE
    document = {**catalogue, "version": CATALOGUE_VERSION}
    outputs.write_text_atomically(path, json.dumps(document, indent=4, sort_keys=True))
    return path
