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
    explain.add_argument("--from", dest="from_dir", metavar="DIR", type=folder,
                         help="explain what the ptbench ab comparisons in DIR confirmed slower "
                         "(instead of --bench)")
    explain.add_argument("--faster", action="store_true",
                         help="with --from: the confirmed improvements too")
    explain.add_argument("--rounds", type=int, default=4,
                         help="profiled rounds a side at least, alternating which goes first; "
                         "more, up to 16, until the profiled ratio's 95%% interval is within 5%% "
                         "of it (default: 4)")
    explain.add_argument("--format", dest="output_format", default="table", choices=FORMATS,
                         help="how to print the explanation")
    explain.add_argument("--out", metavar="DIR", type=folder,
                         help="also write explain-<baseline>-vs-<contender>.json and .md into "
                         "DIR; beside ab-*.json, report and publish show them (default: "
                         "print only)")  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from ptbench.analysis.explain import session
    from ptbench.core import outputs
    from ptbench.present import explanation

    if (args.bench is None) == (args.from_dir is None):
        raise UsageError("give --bench REGEX or --from DIR (an ab results folder), one of them: "
                         "explain profiles a few combinations, e.g. --bench time_masked_select")
    if args.faster and args.from_dir is None:
        raise UsageError("--faster needs --from DIR (the improvements an ab run confirmed)")
    if args.rounds < 1:
        raise UsageError(f"--rounds {args.rounds} must be 1 or more (4 by default)")
    if args.out is not None:  # before any profiling: a hostile pass found it out after 66 s
        outputs.check_folder_target(args.out, "--out")
        outputs.check_makeable(args.out, "--out")
    if args.from_dir is not None:
        args.bench = session.confirmed_changes(args.from_dir, args.faster)
        if args.bench is None:
            emit(f"ptbench explain: the ab comparisons in {args.from_dir} confirmed no "
                 f"{'change' if args.faster else 'regression'}; nothing to explain")
            return EXIT_OK
    document = session.run(session.ExplainRequest(
        baseline=args.baseline, contender=args.contender, tier=args.tier, bench=args.bench,
        devices=args.device, rounds=args.rounds,
    ))  # fmt: skip
    if args.out is not None:
        _write(args.out, document)
    emit(explanation.render(document, args.output_format))
    return EXIT_OK


def _write(out: Path, document: dict) -> None:
    from ptbench.analysis.explain import record
    from ptbench.core import outputs
    from ptbench.present import explanation

    outputs.make_folder(out)
    stem = out / record.file_name(document)
    for suffix, output_format in ((".json", "json"), (".md", "markdown")):
        path = stem.with_name(stem.name + suffix)
        outputs.write_text_atomically(path, explanation.render(document, output_format))
        print(f"ptbench: wrote {path}", file=sys.stderr)
