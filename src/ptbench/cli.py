"""The ``ptbench`` command: a thin layer over the package.

Exit statuses are ``ptbench.errors``': 0 success, 1 a regression (or a failed benchmark), 2 bad
input (one line on stderr), 3 a failure that is not the input's (one line, and a log with the
details), 130 interrupted. Nothing here measures, judges or formats: it parses arguments, calls
one module per command, and turns errors into those statuses.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import NoReturn

from ptbench.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REGRESSION,
    PtbenchError,
    UsageError,
)
from ptbench.names import check_machine_name
from ptbench.outputs import emit, error_line
from ptbench.schema import DEVICES
from ptbench.tiers import TIERS

FORMATS = ("table", "markdown", "csv", "json")  # tables.FORMATS, without importing pandas here


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage too; keep it to one line
        error_line(f"{self.prog}: error: {message} (see {self.prog} --help)")
        self.exit(EXIT_BAD_INPUT)


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", help="print the traceback of an internal error"
    )
    return common


# Argument types: argparse reports their ArgumentTypeError as "argument --x: <message>".


def _number(text: str) -> float:
    """``text`` as a float; NaN when it is not a number (every check then fails)."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def factor(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and 1 < value <= 1000):
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a number greater than 1 and at most 1000 (e.g. 1.1 for 10%)"
        )
    return value


def folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a folder, e.g. results")
    return Path(text)


def machine_name(text: str) -> str:
    try:
        return check_machine_name(text)
    except PtbenchError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_comparison_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--results", metavar="DIR", type=folder, default=Path("results"))
    parser.add_argument("--baseline", metavar="KEY=VALUE[,...]", required=required)
    parser.add_argument("--contender", metavar="KEY=VALUE[,...]", required=required)
    parser.add_argument(
        "--factor", type=factor, default=1.1, help="smallest ratio that counts as a change (1.1)"
    )


def _add_selection(parser: argparse.ArgumentParser, default_tier: str) -> None:
    """What runs: the tier's sizes, a name(params) pattern, the devices."""
    parser.add_argument(
        "--tier", default=default_tier, choices=TIERS, help=f"which sizes run ({default_tier})"
    )
    parser.add_argument(
        "--bench", metavar="REGEX", help="only benchmarks whose name or name(params) matches"
    )
    parser.add_argument(
        "--device",
        action="append",
        choices=DEVICES,
        help="repeat for both (default: every device present)",
    )


def _add_run(commands) -> None:
    run = commands.add_parser(
        "run",
        help="benchmark this environment through asv and save the results",
        description="Benchmark the current Python environment with asv at the current commit, "
        "recording samples, into results/ (or --results DIR).",
    )
    _add_selection(run, default_tier="smoke")
    run.add_argument("--results", metavar="DIR", type=folder, help="results folder (results/)")
    run.add_argument(
        "--archive", metavar="FILE", type=Path,
        help="also write what this run wrote as FILE (.tar.gz), for ptbench merge elsewhere",
    )  # fmt: skip
    run.add_argument(
        "--machine", metavar="NAME", type=machine_name, help="results folder name (hardware's)"
    )


def _add_export(commands) -> None:
    export = commands.add_parser(
        "export",
        help="write every result as one table",
        description="Write every result under --results as one tidy "
        "table: CSV, Parquet or JSON by the file's suffix.",
    )
    export.add_argument("--results", metavar="DIR", type=folder, default=Path("results"))
    export.add_argument("--out", metavar="FILE", type=Path, required=True)


def _add_compare(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="compare a baseline with a contender, with statistics",
        description="Pair baseline and contender results on every key but the selected ones and "
        "judge each pair: faster/slower needs the ratio past --factor and significance "
        "(Mann-Whitney U as asv compare). Exit status 1 when anything got significantly slower.",
    )
    _add_comparison_arguments(compare, required=True)
    compare.add_argument("--format", dest="output_format", default="table", choices=FORMATS)


def _add_machine(commands) -> None:
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
    machine.add_argument("--machine", metavar="NAME", type=machine_name)
    machine.add_argument(
        "--results", metavar="DIR", type=folder, help="with --write: refresh DIR/<machine>/"
    )


def _add_report(commands) -> None:
    report = commands.add_parser(
        "report",
        help="write report.md and report.html with tables and figures",
        description="Answer the usual questions from a results folder: the comparison asked "
        "for, CUDA over CPU, Cholesky over LU, in place over out of place, eigh over eig, "
        "change points along history, scaling. Writes report.md, report.html and figures/.",
    )
    report.add_argument("--out", metavar="DIR", type=folder, required=True)
    _add_comparison_arguments(report, required=False)


def _add_publish(commands) -> None:
    publish = commands.add_parser(
        "publish",
        help="write a static site of the history that works offline",
        description="Write a static site: an index (confirmed regressions and change points "
        "first), a page per benchmark with graphs along torch versions, run date, suite commit "
        "or size, and machine against machine. Nothing on it is fetched from the network: open "
        "OUT/index.html from disk or serve the folder.",
    )
    publish.add_argument("--results", metavar="DIR", type=folder, default=Path("results"))
    publish.add_argument("--out", metavar="DIR", type=folder, required=True)


def _add_merge(commands) -> None:
    merge = commands.add_parser(
        "merge",
        help="add other machines' results (folders or run --archive files) to one history",
        description="Add result folders, or archives written by ptbench run --archive, to "
        "--into. Checks everything first and writes nothing if any file is damaged or differs "
        "from a file of the same name already there; never overwrites; keeps one "
        "benchmarks.json (the newest suite's, older entries kept).",
    )
    merge.add_argument("sources", metavar="SRC", type=Path, nargs="+")
    merge.add_argument("--into", metavar="DIR", type=folder, required=True)


def _add_slurm(commands) -> None:
    slurm = commands.add_parser(
        "slurm",
        help="run the suite across a Slurm cluster, one job per machine type",
        description="Write one job script per --type NAME=PARTITION[:GRES] (a whole node, "
        "exclusive) that runs ptbench run and archives what it recorded under --collect (on a "
        "filesystem the nodes share), and submit them with sbatch. With --wait, wait for the "
        "jobs and, with --merge-into, merge their archives. Exit 1 if a job found a benchmark "
        "failing its check.",
    )
    slurm.add_argument("--type", dest="types", action="append", required=True,
                       metavar="NAME=PARTITION[:GRES]")  # fmt: skip
    slurm.add_argument("--collect", metavar="DIR", type=folder, required=True)
    _add_selection(slurm, default_tier="default")
    slurm.add_argument("--time", default="04:00:00", help="each job's limit (04:00:00)")
    slurm.add_argument("--wait", action="store_true", help="wait for the jobs to end")
    slurm.add_argument("--merge-into", metavar="DIR", type=folder,
                       help="with --wait: merge the archives into DIR")  # fmt: skip
    slurm.add_argument("--dry-run", action="store_true", help="write the scripts; submit nothing")


def seconds(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds, 0 or more")
    return value


def _add_ab(commands) -> None:
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
    ab.add_argument("--baseline", metavar="PYTHON", required=True)
    ab.add_argument("--contender", metavar="PYTHON", required=True)
    _add_selection(ab, default_tier="default")
    ab.add_argument(
        "--factor", type=factor, default=1.1, help="smallest ratio that counts as a change (1.1)"
    )
    ab.add_argument(
        "--budget",
        type=seconds,
        default=600.0,
        metavar="SECONDS",
        help="time for deciding inconclusive pairs with more rounds (600)",
    )
    ab.add_argument("--results", metavar="DIR", type=folder, help="(default: a new scratch folder)")
    ab.add_argument("--format", dest="output_format", default="table", choices=FORMATS)


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog="ptbench", description=__doc__.splitlines()[0], parents=[common])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (
        _add_run,
        _add_ab,
        _add_export,
        _add_compare,
        _add_machine,
        _add_report,
        _add_publish,
        _add_merge,
        _add_slurm,
    ):
        add(_WithCommon(commands, common))
    return parser


class _WithCommon:
    """``add_parser`` that gives every command the common options."""

    def __init__(self, commands, common: argparse.ArgumentParser) -> None:
        self.commands, self.common = commands, common

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        return self.commands.add_parser(name, parents=[self.common], **kwargs)


def _report(args: argparse.Namespace) -> int:
    from ptbench import compare, outputs, report

    if (args.baseline is None) != (args.contender is None):
        raise UsageError("give --baseline and --contender together, or neither")
    outputs.check_outside(args.out, args.results, "--out")
    outputs.check_folder_target(args.out, "--out")
    baseline = compare.parse_selector(args.baseline) if args.baseline else None
    contender = compare.parse_selector(args.contender) if args.contender else None
    for path in report.write(args.results, args.out, baseline, contender, args.factor):
        emit(f"ptbench: wrote {path}")
    return EXIT_OK


def _publish(args: argparse.Namespace) -> int:
    from ptbench import outputs, publish

    outputs.check_outside(args.out, args.results, "--out")
    outputs.check_folder_target(args.out, "--out")
    written = publish.write(args.results, args.out)
    emit(f"ptbench: wrote {len(written)} pages into {args.out}; open {written[0]}")
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    from ptbench import merge

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


def _slurm(args: argparse.Namespace) -> int:
    from ptbench import merge, runner, slurm

    if args.merge_into is not None and not args.wait:
        raise UsageError("--merge-into needs --wait (the archives exist once the jobs end)")
    devices = [part for device in args.device or [] for part in ("--device", device)]
    selection = ["--tier", args.tier, *(["--bench", args.bench] if args.bench else []), *devices]
    request = slurm.Request(
        types=tuple(slurm.parse_type(text) for text in args.types),
        collect=args.collect.resolve(), project=runner.find_project(),
        run_arguments=tuple(selection), time=args.time,
    )  # fmt: skip
    slurm.check(request)
    paths = slurm.write_scripts(request)
    if args.dry_run:
        for path in paths:
            emit(f"ptbench: wrote {path}; submit it with: sbatch {path}")
        return EXIT_OK
    submitted = slurm.submit(paths, args.wait)
    for path, status, text in submitted:
        emit(f"ptbench: {path.stem}: job {text.splitlines()[0] if text else '?'}, exit {status}")
    status = slurm.outcome(submitted, args.wait)
    archives = sorted((request.collect / "archives").glob("*.tar.gz"))
    if args.merge_into is not None and archives:
        done = merge.merge(archives, args.merge_into)
        emit(f"ptbench: merged {len(done.copies)} files into {args.merge_into}")
    elif not args.wait:
        emit(f"ptbench: when the jobs end: ptbench merge {request.collect}/archives/*.tar.gz "
             "--into results/")  # fmt: skip
    return status


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
    emit(json.dumps({**facts, "machine": name}, indent=1, sort_keys=True))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from ptbench import outputs, results, tables

    outputs.check_outside(args.out, args.results, "--out")
    outputs.check_file_target(args.out, "--out")
    tables.check_export_suffix(args.out)
    frame = results.load_results(args.results)
    outputs.write_atomically(args.out, lambda temporary: tables.export(frame, temporary, args.out))
    emit(f"ptbench: wrote {len(frame)} rows to {args.out}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from ptbench import compare, results, tables

    baseline = compare.parse_selector(args.baseline)
    contender = compare.parse_selector(args.contender)
    frame = results.load_results(args.results)
    comparison = compare.compare(frame, baseline, contender, args.factor)
    status = EXIT_REGRESSION if len(comparison.regressions) else EXIT_OK
    emit(tables.render(comparison, args.output_format))
    return status


def _run(args: argparse.Namespace) -> int:
    from ptbench import merge, runner

    if args.archive is not None:
        merge.check_archive_name(args.archive)  # before minutes of benchmarking, not after
    summary = runner.run(
        tier=args.tier,
        bench=args.bench,
        results=args.results,
        device=args.device,
        machine=args.machine,
    )
    for path in summary.written:
        emit(f"ptbench: wrote {path}")
    emit(f"ptbench: {summary.timed} timed, {summary.skipped} skipped, {len(summary.failed)} failed")
    if args.archive is not None and summary.written:
        results_dir = summary.written[0].parent.parent  # <results>/<machine>/<file>
        catalogue = results_dir / "benchmarks.json"  # merge needs it, even if unchanged
        files = [*summary.written, *([catalogue] if catalogue.is_file() else [])]
        merge.write_archive(files, results_dir, args.archive)
        emit(f"ptbench: wrote {args.archive} (merge it with ptbench merge {args.archive} "
             "--into results/)")  # fmt: skip
    for line in summary.failure_report():
        print(line, file=sys.stderr)
    return EXIT_REGRESSION if summary.failed else EXIT_OK


def _ab(args: argparse.Namespace) -> int:
    from ptbench import tables
    from ptbench.ab import session

    request = session.Request(
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
    emit(tables.render(comparison, args.output_format))
    return status


COMMANDS = {
    "run": _run,
    "ab": _ab,
    "machine": _machine,
    "export": _export,
    "compare": _compare,
    "report": _report,
    "publish": _publish,
    "merge": _merge,
    "slurm": _slurm,
}


def _undecodable(argv: list[str]) -> str | None:
    """The first argument that is not valid UTF-8 (Python keeps such bytes as surrogates)."""
    for argument in argv:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            return argument
    return None


def _internal_error(error: BaseException, argv: list[str], debug: bool) -> int:
    """One line on stderr and the traceback in a log (or on stderr with --debug); status 3."""
    details = "".join(traceback.format_exception(error))
    text = str(error).strip()
    summary = f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
    if debug:
        sys.stderr.write(details)
        error_line(f"ptbench: internal error ({summary})")
        return EXIT_FAILED
    log = Path(tempfile.gettempdir()) / f"ptbench-error-{time.strftime('%Y%m%d-%H%M%S')}.log"
    try:
        log.write_text(f"ptbench {' '.join(map(ascii, argv))}\n\n{details}")
        where = f"details in {log}"
    except OSError:
        where = "no log could be written"
    error_line(
        f"ptbench: internal error ({summary}); {where}; rerun with --debug for the traceback"
    )
    return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    bad = _undecodable(argv)
    if bad is not None:
        error_line(f"ptbench: error: argument {ascii(bad)} is not valid UTF-8 text")
        return EXIT_BAD_INPUT
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except PtbenchError as error:
        kind = "error" if error.exit_status == EXIT_BAD_INPUT else "failed"
        error_line(f"ptbench: {kind}: {error}")
        return error.exit_status
    except KeyboardInterrupt:
        error_line("ptbench: interrupted; results/ holds only completed files")
        return EXIT_INTERRUPTED
    except SystemExit as exit_:  # argparse: --help (0) and one-line usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    except Exception as error:  # not the user's fault: say so, keep the details
        return _internal_error(error, argv, debug)


def run() -> NoReturn:
    """The ``ptbench`` command: :func:`main`, then a hard exit. Everything is written, closed
    and flushed by then; what a normal exit adds is freeing every object of a loaded history,
    0.2-0.3 s of a command that takes seconds (mypy's ``util.hard_exit`` skips it for the same
    reason). Under a profiler or a tracer (cProfile, coverage), whose reports are written at
    exit, it exits normally. Tests and callers in Python use :func:`main`, which returns."""
    status = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: already reported
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    run()
