"""The ``ptbench`` command: a thin layer over the package. Bad input: one line, exit status 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ptbench.tiers import TIERS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage too; keep it to one line
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ptbench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser(
        "run",
        help="benchmark this environment through asv and save the results",
        description="Benchmark the current Python environment with asv at the current commit, "
        "recording samples, into results/ (or --results DIR).",
    )
    run.add_argument(
        "--tier", default="smoke", help=f"which sizes run: {', '.join(TIERS)} (default: smoke)"
    )
    run.add_argument(
        "--bench",
        metavar="REGEX",
        help="only benchmarks whose name or name(params) matches, as asv's --bench",
    )
    run.add_argument(
        "--results",
        metavar="DIR",
        type=Path,
        help="results folder (default: the project's results/)",
    )
    run.add_argument(
        "--device",
        action="append",
        metavar="DEVICE",
        help="cpu or cuda; repeat for both (default: every device present)",
    )
    run.add_argument(
        "--machine",
        metavar="NAME",
        help="machine name for the results folder (default: asv's, the host name)",
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    from ptbench import runner

    summary = runner.run(
        tier=args.tier,
        bench=args.bench,
        results=args.results,
        device=args.device,
        machine=args.machine,
    )
    for path in summary.written:
        print(f"ptbench: wrote {path}")
    print(
        f"ptbench: {summary.timed} timed, {summary.skipped} skipped, {len(summary.failed)} failed"
    )
    if summary.failed:
        print(f"ptbench: failed: {', '.join(sorted(set(summary.failed)))}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ptbench.runner import UsageError

    try:
        return {"run": _run}[args.command](args)
    except UsageError as error:
        print(f"ptbench: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
