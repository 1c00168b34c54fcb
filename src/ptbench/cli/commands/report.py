"""report.md and report.html with tables and figures (``ptbench report``)."""

from __future__ import annotations

import argparse

from ptbench.cli.arguments import add_comparison_arguments, folder
from ptbench.core.errors import EXIT_OK, UsageError
from ptbench.core.outputs import emit


def add(commands) -> None:
    report = commands.add_parser(
        "report",
        help="write report.md and report.html with tables and figures",
        description="Answer the usual questions from a results folder: the comparison asked "
        "for, CUDA over CPU, Cholesky over LU, in place over out of place, eigh over eig, "
        "change points along history, scaling. Writes report.md, report.html and figures/.",
    )
    report.add_argument("--out", metavar="DIR", type=folder, required=True,
                        help="where report.md, report.html and figures/ go")  # fmt: skip
    add_comparison_arguments(report, required=False)


def handle(args: argparse.Namespace) -> int:
    from ptbench.analysis import compare
    from ptbench.core import outputs
    from ptbench.present import report

    if (args.baseline is None) != (args.contender is None):
        raise UsageError("give --baseline and --contender together, or neither")
    outputs.check_outside(args.out, args.results, "--out")
    outputs.check_folder_target(args.out, "--out", marker="report.md")
    baseline = compare.parse_selector(args.baseline) if args.baseline else None
    contender = compare.parse_selector(args.contender) if args.contender else None
    for path in report.write(args.results, args.out, baseline, contender, args.factor):
        emit(f"ptbench: wrote {path}")
    return EXIT_OK
