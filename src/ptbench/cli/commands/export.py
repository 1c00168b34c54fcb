"""Every result as one table (``ptbench export``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptbench.cli.arguments import add_results
from ptbench.core.errors import EXIT_OK
from ptbench.core.outputs import emit


def add(commands) -> None:
    export = commands.add_parser(
        "export",
        help="write every result as one table",
        description="Write every result under --results as one tidy "
        "table: CSV, Parquet or JSON by the file's suffix.",
    )
    add_results(export)
    export.add_argument("--out", metavar="FILE", type=Path, required=True,
                        help="the table to write: .csv, .parquet or .json")  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from ptbench.core import outputs
    from ptbench.data import results
    from ptbench.present import tables

    outputs.check_outside(args.out, args.results, "--out")
    outputs.check_file_target(args.out, "--out")
    tables.check_export_suffix(args.out)
    frame = results.load_results(args.results)
    outputs.write_atomically(args.out, lambda temporary: tables.export(frame, temporary, args.out))
    emit(f"ptbench: wrote {len(frame)} rows to {args.out}")
    return EXIT_OK
