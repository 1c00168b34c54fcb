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
        help="also write what this run wrote as FILE (.tar.gz), for ptbench merge elsewhere "
        "(default: no archive)",
    )  # fmt: skip
    run.add_argument(
        "--machine", metavar="NAME", type=machine_name,
        help="results folder name (default: one that says what the hardware is)",
    )  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from ptbench.data import merge
    from ptbench.run import runner

    if args.archive is not None:  # before minutes of benchmarking, not after
        from ptbench.run import plan, project

        merge.check_archive_name(args.archive)
        where = project.find_project()
        results_dir = plan.results_dir_for(args.results, where, project.load_config(where))
        merge.check_archive_name(args.archive, results_dir)
    summary = runner.run(
        tier=args.tier,
        bench=args.bench,
        results=args.results,
        device=args.device,
        machine=args.machine,
    )
    for path in summary.written:
        emit(f"ptbench: wrote {path}")
    if args.archive is not None and summary.written:
        merge.archive_run(summary.written, args.archive)
        emit(f"ptbench: wrote {args.archive} (merge it with ptbench merge {args.archive} "
             "--into results/)")  # fmt: skip
    _summary(summary)
    for line in summary.failure_report():
        print(line, file=sys.stderr)
    return EXIT_REGRESSION if summary.failed else EXIT_OK


def _summary(summary) -> None:
    """The headline numbers of what was filed, the counts, and where asv's tables are."""
    from ptbench.data import results
    from ptbench.present import run_summary

    table = run_summary.render(results.load_file(summary.written[0], summary.written[0].parents[1]))
    if table:
        emit("\nlargest size of each operation that ran (time a call; % of peak: its ceiling)")
        emit(table + "\n")
    emit(f"ptbench: {summary.timed} timed, {summary.skipped} skipped, {len(summary.failed)} failed")
    if summary.log is not None:
        emit(f"ptbench: asv's own tables (every size) and the skip reasons: {summary.log}")
