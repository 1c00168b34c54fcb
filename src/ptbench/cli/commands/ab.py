"""Two Python environments interleaved round by round, with confirmation (``ptbench ab``)."""

from __future__ import annotations

import argparse
import sys

from ptbench.cli.arguments import (
    add_environments,
    add_factor,
    add_output,
    add_selection,
    folder,
    seconds,
)
from ptbench.core.errors import EXIT_OK, EXIT_REGRESSION
from ptbench.core.outputs import emit


def add(commands) -> None:
    ab = commands.add_parser(
        "ab",
        help="compare two Python environments, interleaved round by round, with confirmation",
        description="Time the selection in two environments (each PYTHON must have torch and "
        "ptbench), alternating the sides round by round (ABBA), each round a fresh process "
        "with the suite's own timing. Each pair is slower or faster (confirmed, with family-wise "
        "error control), equivalent (within --factor, at most a 5% chance of being wrong) or "
        "inconclusive (with the change it could have detected); inconclusive pairs get more "
        "rounds within --budget. Writes both sides as asv result files into --results. Exit "
        "status 1 only for a confirmed regression.",
    )
    add_environments(ab)
    add_selection(ab, default_tier="default")
    add_factor(ab)
    ab.add_argument(
        "--budget",
        type=seconds,
        default=600.0,
        metavar="SECONDS",
        help="time for deciding inconclusive pairs with more rounds",
    )
    ab.add_argument("--results", metavar="DIR", type=folder,
                    help="where both sides' results go (default: a new scratch folder)")
    add_output(ab)


def handle(args: argparse.Namespace) -> int:
    from ptbench.analysis.ab import session
    from ptbench.present import tables

    request = session.ABRequest(
        baseline=args.baseline,
        contender=args.contender,
        tier=args.tier,
        bench=args.bench,
        devices=args.device,
        factor=args.factor,
        budget_seconds=args.budget,
        results=args.results,
    )
    outcome = session.run(request)
    for path in outcome.written:
        print(f"ptbench: wrote {path}", file=sys.stderr)
    comparison = session.comparison(outcome)
    status = EXIT_REGRESSION if len(comparison.regressions) else EXIT_OK
    emit(tables.render(comparison, args.output_format, args.show_all))
    return status
