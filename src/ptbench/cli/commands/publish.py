"""The offline static site (``ptbench publish``)."""

from __future__ import annotations

import argparse

from ptbench.cli.arguments import add_results, folder
from ptbench.core.errors import EXIT_OK
from ptbench.core.outputs import emit


def add(commands) -> None:
    publish = commands.add_parser(
        "publish",
        help="write a static site of the history that works offline",
        description="Write a static site: an index (confirmed regressions and change points "
        "first), a page per benchmark with graphs along torch versions, run date, suite commit "
        "or size, and machine against machine. Nothing on it is fetched from the network: open "
        "OUT/index.html from disk or serve the folder.",
    )
    add_results(publish)
    publish.add_argument("--out", metavar="DIR", type=folder, required=True,
                         help="where the site goes (open DIR/index.html)")  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from ptbench.core import outputs
    from ptbench.present import publish

    outputs.check_outside(args.out, args.results, "--out")
    outputs.check_folder_target(args.out, "--out", marker=publish.SITE_MARKER)
    written = publish.write(args.results, args.out)
    emit(f"ptbench: wrote {len(written)} pages into {args.out}; open {written[0]}")
    return EXIT_OK
