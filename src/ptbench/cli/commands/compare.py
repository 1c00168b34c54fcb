"""A baseline against a contender, with statistics (``ptbench compare``)."""

from __future__ import annotations

import argparse

from ptbench.cli.arguments import add_comparison_arguments, add_output
from ptbench.core.errors import EXIT_OK, EXIT_REGRESSION
from ptbench.core.outputs import emit


def add(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="compare a baseline with a contender, with statistics",
        description="Pair baseline and contender results on every key but the selected ones and "
        "judge each pair: faster/slower needs the ratio past --factor and significance "
        "(Mann-Whitney U as asv compare). Exit status 1 when anything got significantly slower.",
    )
    add_comparison_arguments(compare, required=True)
    add_output(compare)


def handle(args: argparse.Namespace) -> int:
    from ptbench.analysis import compare
    from ptbench.data import results
    from ptbench.present import tables

    baseline = compare.parse_selector(args.baseline)
    contender = compare.parse_selector(args.contender)
    frame = results.load_results(args.results)
    comparison = compare.compare(frame, baseline, contender, args.factor)
    status = EXIT_REGRESSION if len(comparison.regressions) else EXIT_OK
    emit(tables.render(comparison, args.output_format, args.show_all))
    return status
