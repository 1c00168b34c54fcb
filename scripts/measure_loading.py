#!/usr/bin/env python
"""Measure loading at fleet scale: export and report on 10, 100, 1,000 result files.

    .venv/bin/python scripts/measure_loading.py [--files 10 100 1000] [--report-up-to 1000]
                                                [--committed-runs 3]

The history is made of copies of a committed result file (results/amd-epyc-2cpu), each under a
new commit hash a day apart, spread over three machine folders, in a scratch folder. For each
size: ``ptbench export`` cold (no cache), warm (cache filled by the cold run), and ``ptbench
report``; wall time and peak memory (the child's maximum resident set size) of each command,
run as a user runs it. Prints a markdown table (docs/loading.md quotes it), then the time of
``ptbench report`` on the committed history (results/, read only; the cache filled by a first,
untimed run), ``--committed-runs`` times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE = "1afbe096-existing-py3.11-torch2.13.0+cpu.json"
MACHINES = ("amd-epyc-2cpu", "nvidia-h100-x1", "nvidia-h200-x1")
DAY_MS = 86_400_000


def make_history(folder: Path, files: int) -> None:
    """``files`` copies of the template, round robin over the machines, a day apart."""
    source = PROJECT / "results" / "amd-epyc-2cpu"
    data = json.loads((source / TEMPLATE).read_text())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "benchmarks.json").write_text((PROJECT / "results" / "benchmarks.json").read_text())
    for machine in MACHINES:
        (folder / machine).mkdir(parents=True, exist_ok=True)
        machine_file = json.loads((source / "machine.json").read_text())
        machine_file["machine"] = machine
        (folder / machine / "machine.json").write_text(json.dumps(machine_file))
    for index in range(files):
        machine = MACHINES[index % len(MACHINES)]
        commit = f"{index:08x}" + data["commit_hash"][8:]
        params = {**data["params"], "machine": machine}
        copy = {**data, "commit_hash": commit, "date": data["date"] + index * DAY_MS,
                "params": params}  # fmt: skip
        (folder / machine / f"{commit[:8]}-{data['env_name']}.json").write_text(json.dumps(copy))


def timed(cache: Path, *arguments: str) -> tuple[float, float, int]:
    """(wall seconds, peak resident GiB, exit status) of one ptbench command, by GNU time,
    with its parsed-results cache in ``cache``."""
    command = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "ptbench.cli", *arguments]
    environment = {**os.environ, "PTBENCH_CACHE": str(cache)}
    completed = subprocess.run(command, capture_output=True, text=True, check=False,
                               env=environment)  # fmt: skip
    seconds, kilobytes = completed.stderr.strip().splitlines()[-1].split()
    if completed.returncode != 0:
        print(completed.stderr, file=sys.stderr)
    return float(seconds), int(kilobytes) / 2**20, completed.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--report-up-to", type=int, default=1000)
    parser.add_argument("--committed-runs", type=int, default=3)
    args = parser.parse_args()
    _history_table(args.files, args.report_up_to)
    if args.committed_runs > 0:
        _committed_report(args.committed_runs)
    return 0


def _committed_report(runs: int) -> None:
    """``ptbench report`` on the committed results, warm, ``runs`` times (wall seconds)."""
    with tempfile.TemporaryDirectory(prefix="ptbench-report-") as scratch_name:
        scratch = Path(scratch_name)
        arguments = ("report", "--results", str(PROJECT / "results"), "--out", str(scratch / "r"))
        timed(scratch / "cache", *arguments)  # fills the cache: the runs below are warm
        seconds = sorted(timed(scratch / "cache", *arguments)[0] for _ in range(runs))
    files = len([p for p in (PROJECT / "results").glob("*/*.json") if p.name != "machine.json"])
    print(
        f"\nreport on the committed history ({files} result files): "
        f"{', '.join(f'{s:.1f} s' for s in seconds)} (median {seconds[len(seconds) // 2]:.1f} s)"
    )


def _history_table(sizes: list[int], report_up_to: int) -> None:
    print("| files | rows | export cold | export warm | report | peak memory (cold / warm) |")
    print("|---|---|---|---|---|---|")
    for files in sorted(sizes):
        with tempfile.TemporaryDirectory(prefix="ptbench-loading-") as scratch_name:
            scratch = Path(scratch_name)
            make_history(scratch / "results", files)
            out = scratch / "table.parquet"
            cache = scratch / "cache"  # empty: the first export is cold
            cold = timed(cache, "export", "--results", str(scratch / "results"), "--out", str(out))
            warm = timed(cache, "export", "--results", str(scratch / "results"), "--out", str(out))
            rows = _rows(out)
            report = "skipped"
            if files <= report_up_to:
                seconds, _peak, status = timed(cache, "report", "--results",
                                               str(scratch / "results"), "--out",
                                               str(scratch / "report"))  # fmt: skip
                report = f"{seconds:.1f} s" + ("" if status == 0 else f" (exit {status})")
            print(f"| {files} | {rows:,} | {cold[0]:.1f} s | {warm[0]:.1f} s | {report} "
                  f"| {cold[1]:.2f} / {warm[1]:.2f} GiB |", flush=True)  # fmt: skip


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0


if __name__ == "__main__":
    sys.exit(main())
