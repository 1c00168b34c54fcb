"""The ``ptbench`` command: a thin layer over the package. Bad input: one line, exit status 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ptbench.errors import InputError
from ptbench.tiers import TIERS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage too; keep it to one line
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_comparison_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--results", metavar="DIR", type=Path, default=Path("results"))
    parser.add_argument("--baseline", metavar="KEY=VALUE[,...]", required=required)
    parser.add_argument("--contender", metavar="KEY=VALUE[,...]", required=required)
    parser.add_argument(
        "--factor",
        type=float,
        default=1.1,
        help="smallest ratio that counts as a change (default 1.1)",
    )


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
    export = commands.add_parser(
        "export",
        help="write every result as one table",
        description="Write every result under --results as one tidy "
        "table: CSV, Parquet or JSON by the file's suffix.",
    )
    export.add_argument("--results", metavar="DIR", type=Path, default=Path("results"))
    export.add_argument("--out", metavar="FILE", type=Path, required=True)

    compare = commands.add_parser(
        "compare",
        help="compare a baseline with a contender, with statistics",
        description="Pair baseline and contender results on every key but the selected ones and "
        "judge each pair: faster/slower needs the ratio past --factor and significance "
        "(Mann-Whitney U as asv compare). Exit status 1 when anything got significantly slower.",
    )
    _add_comparison_arguments(compare, required=True)
    compare.add_argument(
        "--format",
        dest="output_format",
        default="table",
        help="table, markdown, csv or json (default table)",
    )
    machine = commands.add_parser(
        "machine",
        help="print this machine's hardware and software facts as JSON",
        description="Collect the CPU, memory, GPUs, driver, CUDA, cuDNN, torch build, BLAS and "
        "settings, saying what could not be learned. --write records the hardware facts in "
        "asv's machine file (~/.asv-machine.json), under a name that says what the hardware "
        "is unless --machine gives one; ptbench run does this itself.",
    )
    machine.add_argument("--write", action="store_true")
    machine.add_argument(
        "--probe", action="store_true", help="with --write: measure peak FLOP/s and bandwidth again"
    )
    machine.add_argument("--machine", metavar="NAME")
    machine.add_argument(
        "--results",
        metavar="DIR",
        type=Path,
        help="with --write: also refresh DIR/<machine>/machine.json",
    )
    report = commands.add_parser(
        "report",
        help="write report.md and report.html with tables and figures",
        description="Answer the usual questions from a results folder: the comparison asked "
        "for, CUDA over CPU, Cholesky over LU, in place over out of place, eigh over eig, "
        "change points along history, scaling. Writes report.md, report.html and figures/.",
    )
    report.add_argument("--out", metavar="DIR", type=Path, required=True)
    _add_comparison_arguments(report, required=False)
    return parser


def _report(args: argparse.Namespace) -> int:
    from ptbench import compare, report

    if (args.baseline is None) != (args.contender is None):
        raise UsageError("give --baseline and --contender together, or neither")
    if args.out.resolve() == (args.results.resolve()) or args.out.resolve().is_relative_to(
        args.results.resolve()
    ):
        raise UsageError(f"--out {args.out} is inside --results; write reports elsewhere")
    baseline = compare.parse_selector(args.baseline) if args.baseline else None
    contender = compare.parse_selector(args.contender) if args.contender else None
    for path in report.write(args.results, args.out, baseline, contender, args.factor):
        print(f"ptbench: wrote {path}")
    return 0


def _machine(args: argparse.Namespace) -> int:
    import json

    from ptbench import machine

    facts = machine.collect()
    name = machine.check_name(args.machine or machine.default_name(facts))
    if args.write:
        name, entry = machine.write(name, facts, probe=args.probe, results_dir=args.results)
        facts = {**facts, **{k: v for k, v in entry.items() if k.startswith(("peak_", "data"))}}
        where = machine.MachineCollection.get_machine_file_path()
        print(f"ptbench: recorded machine {name} in {where}", file=sys.stderr)
    print(json.dumps({**facts, "machine": name}, indent=1, sort_keys=True))
    return 0


def _export(args: argparse.Namespace) -> int:
    from ptbench import results, tables

    frame = results.load_results(args.results)
    if not args.out.parent.is_dir():
        raise UsageError(f"--out {args.out}: folder {args.out.parent} does not exist")
    try:
        tables.export(frame, args.out)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(f"ptbench: wrote {len(frame)} rows to {args.out}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from ptbench import compare, results, tables

    if args.output_format not in tables.FORMATS:
        raise UsageError(f"--format {args.output_format!r}: use one of {', '.join(tables.FORMATS)}")
    frame = results.load_results(args.results)
    comparison = compare.compare(
        frame,
        compare.parse_selector(args.baseline),
        compare.parse_selector(args.contender),
        args.factor,
    )
    print(tables.render(comparison, args.output_format))
    return 1 if len(comparison.regressions) else 0


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
    for line in summary.failure_report():
        print(line, file=sys.stderr)
    return 1 if summary.failed else 0


class UsageError(InputError):
    """Bad input found by the command line itself."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:
        commands = {
            "run": _run,
            "machine": _machine,
            "export": _export,
            "compare": _compare,
            "report": _report,
        }
        return commands[args.command](args)
    except InputError as error:
        print(f"ptbench: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
