"""Argument types and option groups the commands share.

argparse reports an argument type's ArgumentTypeError as "argument --x: <message>", one line.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ptbench.core.errors import PtbenchError
from ptbench.core.names import check_machine_name
from ptbench.core.outputs import EMPTY_FOLDER
from ptbench.core.schema import DEFAULT_FACTOR, DEVICES, factor_problem
from ptbench.suite.tiers import TIERS

FORMATS = ("table", "markdown", "csv", "json")  # tables.FORMATS, without importing pandas here


def _number(text: str) -> float:
    """``text`` as a float; NaN when it is not a number (every check then fails). Python's
    underscores between digits are not a number a person writes: ``1_1`` read as 11 made
    ``--factor 1_1`` a factor of eleven (a hostile pass)."""
    if "_" in text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def factor(text: str) -> float:
    value = _number(text)
    problem = factor_problem(value) if math.isfinite(value) else factor_problem(None)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return value


def seconds(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds, 0 or more")
    return value


def folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError(EMPTY_FOLDER.format(example="results"))
    return Path(text)


def machine_name(text: str) -> str:
    try:
        return check_machine_name(text)
    except PtbenchError as error:
        raise argparse.ArgumentTypeError(str(error)) from None

OPTIONAL_COMPARISON = " (default: none, only the usual questions)"


def add_comparison_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    add_results(parser)
    parser.add_argument("--baseline", metavar="KEY=VALUE[,...]", required=required,
                        help="which results are the baseline, e.g. torch=2.13.0+cpu"
                        + ("" if required else OPTIONAL_COMPARISON))
    parser.add_argument("--contender", metavar="KEY=VALUE[,...]", required=required,
                        help="which are the contender, e.g. torch=2.14.1+cu130"
                        + ("" if required else OPTIONAL_COMPARISON))  # fmt: skip
    add_factor(parser)


TIER_HELP = (
    "which sizes run: smoke, each benchmark's smallest; default, up to 2^22 elements or "
    "n = 1024 on the CPU (every size on CUDA); full, every size"
)
# Why each command's tier defaults as it does (``--help`` says it).
TIER_REASONS = {
    "smoke": "a first look, in about a minute",
    "default": "a comparison needs the sizes where operations differ",
}


def add_selection(parser: argparse.ArgumentParser, default_tier: str) -> None:
    """What runs: the tier's sizes, a name(params) pattern, the devices."""
    parser.add_argument(
        "--tier", default=default_tier, choices=TIERS,
        help=f"{TIER_HELP}. Here {default_tier}: {TIER_REASONS[default_tier]}",
    )  # fmt: skip
    parser.add_argument(
        "--bench", metavar="REGEX",
        help="only benchmarks whose name or name(params) matches (default: every benchmark)",
    )  # fmt: skip
    parser.add_argument(
        "--device",
        action="append",
        choices=DEVICES,
        help="repeat for both (default: every device present)",
    )


def add_factor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--factor", type=factor, default=DEFAULT_FACTOR,
        help="smallest ratio that counts as a change",
    )  # fmt: skip


def add_results(parser: argparse.ArgumentParser) -> None:
    """--results DIR, the history a command reads (results/ by default)."""
    parser.add_argument("--results", metavar="DIR", type=folder, default=Path("results"),
                        help="the results folder to read")  # fmt: skip


def add_environments(parser: argparse.ArgumentParser) -> None:
    """--baseline and --contender: two Python interpreters, each with torch and ptbench."""
    parser.add_argument("--baseline", metavar="PYTHON", required=True,
                        help="the baseline's Python interpreter (with torch and ptbench)")
    parser.add_argument("--contender", metavar="PYTHON", required=True,
                        help="the contender's Python interpreter")  # fmt: skip


def add_output(parser: argparse.ArgumentParser) -> None:
    """--format, and --all: list the pairs that are not comparable too."""
    parser.add_argument("--format", dest="output_format", default="table", choices=FORMATS,
                        help="how to print the comparison")  # fmt: skip
    parser.add_argument("--all", dest="show_all", action="store_true",
                        help="list the pairs that are not comparable too (csv and json hold "
                        "every pair)")  # fmt: skip
