#!/usr/bin/env python
"""How long does `ptbench report` take on a history of a few thousand result rows?

Builds a history in a temporary folder from the result files under results/: each file copied
to ``--commits`` synthetic commits an hour apart (values untouched), so the history has
commits x files x combinations rows. Then times the `ptbench report` command (a fresh process,
imports included) with a baseline/contender comparison of the first and last commit.
Target (issue 3): at most 10 s for a few thousand rows.

    .venv/bin/python scripts/time_report.py [--commits 3] [--results results]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ptbench.data.results import load_results, result_files


def build_history(source: Path, target: Path, commits: int) -> list[str]:
    hashes = [f"{index + 1:08x}" * 5 for index in range(commits)]
    for shared in source.glob("*.json"):
        (target / shared.name).write_bytes(shared.read_bytes())
    for path in result_files(source):
        data = json.loads(path.read_text())
        folder = target / path.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        machine_file = path.parent / "machine.json"
        if machine_file.is_file():
            (folder / "machine.json").write_bytes(machine_file.read_bytes())
        for index, commit in enumerate(hashes):
            copy = dict(data, commit_hash=commit, date=data["date"] + index * 3_600_000)
            (folder / f"{commit[:8]}-{data['env_name']}.json").write_text(json.dumps(copy))
    return hashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=3)
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ptbench-time-report-") as scratch:
        history = Path(scratch) / "results"
        history.mkdir()
        hashes = build_history(args.results, history, args.commits)
        rows = len(load_results(history))
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ptbench.cli",
                "report",
                "--results",
                str(history),
                "--out",
                str(Path(scratch) / "report"),
                "--baseline",
                f"commit={hashes[0]}",
                "--contender",
                f"commit={hashes[-1]}",
            ],
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - start
    print(f"ptbench report: {rows} result rows, {args.commits} commits: {seconds:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
