"""The first bad build among many, with ``ab`` as the oracle (``ptbench bisect``)."""

from __future__ import annotations

import argparse
import sys

from ptbench.cli.arguments import add_factor, add_selection, folder, seconds
from ptbench.core.errors import EXIT_OK, EXIT_REGRESSION
from ptbench.core.outputs import emit


def add(commands) -> None:
    bisect = commands.add_parser(
        "bisect",
        help="find the first bad build among many, each step a ptbench ab comparison",
        description="Confirm a regression between the first and the last of the builds "
        "(oldest first) with ptbench ab, then bisect them on the regression with the largest "
        "ratio: each step compares the middle build with the first, and a step the rounds "
        "cannot decide is compared with the known-bad build too, or set aside for a neighbour. "
        "The boundary (last good against first bad) gets its own ab on the whole selection. "
        "Every step is an ordinary ab results folder under --results/bisect-<key>/; a second "
        "run with the same arguments reuses the finished steps. Exit status 1 when a first bad "
        "build is found, 0 when the ends show no regression, 2 for bad input, 3 if a step fails.",
    )
    bisect.add_argument(
        "--builds", nargs="+", required=True, metavar="BUILD",
        help="oldest first; each a Python with torch and ptbench, a torch requirement "
        "(torch==2.14.0), a torch wheel, or a folder of torch wheels (one build per wheel, "
        "ordered by version); requirements and wheels get cached virtualenvs "
        "($PTBENCH_BUILDS, else ~/.cache/ptbench/builds)",
    )  # fmt: skip
    add_selection(bisect, default_tier="default")
    add_factor(bisect)
    bisect.add_argument("--budget", type=seconds, default=120.0, metavar="SECONDS",
                        help="per step: time for deciding inconclusive pairs with more rounds")
    bisect.add_argument("--results", metavar="DIR", type=folder,
                        help="where the steps and the bisect-<key>.json document go (default: "
                        "a new scratch folder); give the same folder to resume")  # fmt: skip
    bisect.add_argument("--format", dest="output_format", default="table",
                        choices=("table", "markdown", "json"), help="how to print the bisection")


def handle(args: argparse.Namespace) -> int:
    from ptbench.analysis.bisect import session
    from ptbench.present import bisection

    document = session.run(session.BisectRequest(
        builds=args.builds, tier=args.tier, bench=args.bench, devices=args.device,
        factor=args.factor, budget_seconds=args.budget, results=args.results,
    ))  # fmt: skip
    print(f"ptbench: wrote {document['path']}", file=sys.stderr)
    emit(bisection.render(document, args.output_format))
    return EXIT_REGRESSION if document["tracked"] is not None else EXIT_OK
