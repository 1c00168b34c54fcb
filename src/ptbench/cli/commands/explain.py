"""Which operators, kernels and settings account for a change (``ptbench explain``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ptbench.cli.arguments import FORMATS, add_environments, add_selection, folder
from ptbench.core.errors import EXIT_OK, UsageError
from ptbench.core.outputs import emit


def add(commands) -> None:
    explain = commands.add_parser(
        "explain",
        help="profile a selection in two environments: which operators and settings changed",
        description="Run each selected time benchmark under torch.profiler in both "
        "environments (each PYTHON must have torch and ptbench), alternating the sides round "
        "by round (ABBA) on the suite's own prepared inputs, and list per timed call each ATen "
        "operator's (and CUDA kernel's) self time and calls on each side, their difference and "
        "its share of the change, the time outside ATen, and the build settings that differ. "
        "Never gates: exit 0.",
    )
    add_environments(explain)
    add_selection(explain, default_tier="default")
    explain.add_argument("--rounds", type=int, default=4,
                         help="profiled rounds a side, alternating which goes first (4)")
    explain.add_argument("--format", dest="output_format", default="table", choices=FORMATS)
    explain.add_argument("--out", metavar="DIR", type=folder,
                         help="also write explain.json and explain.md into DIR")  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from ptbench.analysis.explain import session
    from ptbench.core import outputs
    from ptbench.present import explanation

    if args.bench is None:
        raise UsageError("give --bench REGEX: explain profiles a few combinations, e.g. "
                         "--bench \"time_masked_select\\('cpu', 4194304\"")
    if args.rounds < 1:
        raise UsageError(f"--rounds {args.rounds} must be 1 or more (4 by default)")
    if args.out is not None:
        outputs.check_folder_target(args.out, "--out")
    document = session.run(session.ExplainRequest(
        baseline=args.baseline, contender=args.contender, tier=args.tier, bench=args.bench,
        devices=args.device, rounds=args.rounds,
    ))  # fmt: skip
    if args.out is not None:
        _write(args.out, document)
    emit(explanation.render(document, args.output_format))
    return EXIT_OK


def _write(out: Path, document: dict) -> None:
    from ptbench.core import outputs
    from ptbench.present import explanation

    out.mkdir(parents=True, exist_ok=True)
    outputs.write_text_atomically(out / "explain.json", explanation.render(document, "json"))
    outputs.write_text_atomically(out / "explain.md", explanation.render(document, "markdown"))
    print(f"ptbench: wrote {out / 'explain.json'} and {out / 'explain.md'}", file=sys.stderr)
