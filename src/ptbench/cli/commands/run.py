"""Benchmark this environment through asv and file the results (``ptbench run``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ptbench.cli.arguments import add_selection, folder, machine_name
from ptbench.core.errors import EXIT_OK, EXIT_REGRESSION
from ptbench.core.outputs import emit


def add(commands) -> None:
    run = commands.add_parser(
        "run",
        help="benchmark this environment through asv and save the results",
        description="Benchmark the current Python environment with asv at the current commit, "
        "recording samples, into results/ (or --results DIR).",
    )
    add_selection(run, default_tier="smoke")
    run.add_argument("--results", metavar="DIR", type=folder,
                     help="results folder (default: the config's results/)")
    run.add_argument(
        "--archive", metavar="FILE", type=Path,
        help="also write what this run wrote as FILE (.tar.gz), for ptbench merge elsewhere",
    )  # fmt: skip
    run.add_argument(
        "--machine", metavar="NAME", type=machine_name, help="results folder name (hardware's)"
    )


def handle(args: argparse.Namespace) -> int:
    from ptbench.data import merge
    from ptbench.run import runner

    if args.archive is not None:
        merge.check_archive_name(args.archive)  # before minutes of benchmarking, not after
    summary = runner.run(
        tier=args.tier,
        bench=args.bench,
        results=args.results,
        device=args.device,
        machine=args.machine,
    )
    for path in summary.written:
        emit(f"ptbench: wrote {path}")
    emit(f"ptbench: {summary.timed} timed, {summary.skipped} skipped, {len(summary.failed)} failed")
    if args.archive is not None and summary.written:
        merge.archive_run(summary.written, args.archive)
        emit(f"ptbench: wrote {args.archive} (merge it with ptbench merge {args.archive} "
             "--into results/)")  # fmt: skip
    for line in summary.failure_report():
        print(line, file=sys.stderr)
    return EXIT_REGRESSION if summary.failed else EXIT_OK
