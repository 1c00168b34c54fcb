"""Other machines' results into one history (``ptbench merge``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptbench.cli.arguments import folder
from ptbench.core.errors import EXIT_OK
from ptbench.core.outputs import emit


def add(commands) -> None:
    merge = commands.add_parser(
        "merge",
        help="add other machines' results (folders or run --archive files) to one history",
        description="Add result folders, or archives written by ptbench run --archive, to "
        "--into. Checks everything first and writes nothing if any file is damaged or differs "
        "from a file of the same name already there; never overwrites; keeps one "
        "benchmarks.json (the newest suite's, older entries kept).",
    )
    merge.add_argument("sources", metavar="SRC", type=Path, nargs="+",
                       help="results folders, or archives from ptbench run --archive")
    merge.add_argument("--into", metavar="DIR", type=folder, required=True,
                       help="the history to add them to")  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from ptbench.data import merge

    done = merge.merge(args.sources, args.into)
    added = [target for _source, target in done.copies]
    machines = sorted({p.parent.name for p in added if p.parent != args.into})
    emit(f"ptbench: added {len(added)} files to {args.into}"
         + (f" (machines: {', '.join(machines)})" if machines else "")
         + f"; {len(done.same)} already there")  # fmt: skip
    if done.catalogue is not None:
        emit(f"ptbench: {args.into}/benchmarks.json: {len(done.catalogue)} benchmarks, the "
             f"newest suite's from {done.catalogue_from}")  # fmt: skip
    return EXIT_OK
