"""The ``ptbench`` command: a thin layer over the package.

Exit statuses are ``ptbench.core.errors``': 0 success, 1 a regression (or a failed benchmark), 2 bad
input (one line on stderr), 3 a failure that is not the input's (one line, and a log with the
details), 130 interrupted. Nothing here measures, judges or formats: it parses arguments, hands them
to the command's module (``commands/``, one per command, its parser beside its handler), and
turns errors into those statuses.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import NoReturn

from ptbench.cli.commands import (
    ab,
    bisect,
    compare,
    explain,
    export,
    machine,
    merge,
    publish,
    report,
    run,
    slurm,
)
from ptbench.core import interrupts
from ptbench.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    PtbenchError,
    described,
)
from ptbench.core.outputs import error_line

DESCRIPTION = (
    "ptbench: time PyTorch operations on CPU and CUDA with asv, and say what changed between "
    "builds, machines and commits, with statistics behind every verdict."
)


class _Formatter(argparse.HelpFormatter):
    """Every option's help ends with its default, where it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "(default" in text or default in (None, False, argparse.SUPPRESS) or not text:
            return text
        return f"{text} (default: %(default)s)"


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


# The commands, in the order ``ptbench --help`` lists them.
COMMANDS = (run, ab, bisect, explain, export, compare, machine, report, publish, merge, slurm)


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog="ptbench", description=DESCRIPTION, parents=[common],
                     formatter_class=_Formatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.add(_WithCommon(commands, common, command.handle))
    return parser

class _WithCommon:
    """``add_parser`` that gives every command the common options and its handler."""

    def __init__(self, commands, common: argparse.ArgumentParser, handle) -> None:
        self.commands, self.common, self.handle = commands, common, handle

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        parser = self.commands.add_parser(name, parents=[self.common], formatter_class=_Formatter,
                                          **kwargs)  # fmt: skip
        parser.set_defaults(handle=self.handle)
        return parser

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
    summary = described(error)
    if debug:
        sys.stderr.write(details)
        error_line(f"ptbench: internal error ({summary})")
        return EXIT_FAILED
    try:  # a log of its own: two errors in the same second never share one
        handle, name = tempfile.mkstemp(prefix=f"ptbench-error-{time.strftime('%Y%m%d-%H%M%S')}-",
                                        suffix=".log")  # fmt: skip
        log = Path(name)
        with os.fdopen(handle, "w") as stream:
            stream.write(f"ptbench {' '.join(map(ascii, argv))}\n\n{details}")
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
        return args.handle(args)
    except PtbenchError as error:
        kind = "error" if error.exit_status == EXIT_BAD_INPUT else "failed"
        error_line(f"ptbench: {kind}: {error}")
        return error.exit_status
    except KeyboardInterrupt:
        error_line("ptbench: interrupted; results/ holds only completed files")
        return EXIT_INTERRUPTED
    except SystemExit as exit_:  # argparse: --help (0) and one-line usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    except Exception as error:  # not the user's fault (unless a path given was): say so
        fault = _path_fault(error)
        if fault is None:
            return _internal_error(error, argv, debug)
        error_line(f"ptbench: error: {fault}")
        return EXIT_BAD_INPUT


# The errors of a path that cannot be used as given (a file where a folder must be, a dangling
# link, a name too long, no permission, a full or read-only disk): the input's, not ptbench's.
PATH_ERRNOS = {errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP,
               errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.ENOENT}  # fmt: skip


def _path_fault(error: Exception) -> str | None:
    """One line for an error a path caused, or None. The checks before writing catch the
    usual cases with a better sentence; this catches what slips past them (a folder that
    turned into a file in between, a link that points nowhere)."""
    if isinstance(error, OSError) and error.errno in PATH_ERRNOS and error.filename:
        return (f"{error.filename}: {error.strerror}; give a path that ptbench can read and "
                "write as the command needs")  # fmt: skip
    return None


def run() -> NoReturn:
    """The ``ptbench`` command: :func:`main`, then a hard exit. Everything is written, closed
    and flushed by then; what a normal exit adds is freeing every object of a loaded history,
    0.2-0.3 s of a command that takes seconds (mypy's ``util.hard_exit`` skips it for the same
    reason). Under a profiler or a tracer (cProfile, coverage), whose reports are written at
    exit, it exits normally. Tests and callers in Python use :func:`main`, which returns."""
    interrupts.install()  # SIGTERM ends a command as Ctrl-C does, and neither is lost
    for stream in (sys.stdout, sys.stderr):  # a name the encoding lacks (LANG=C, an emoji) is
        with contextlib.suppress(AttributeError, ValueError):  # escaped, not an internal error
            stream.reconfigure(errors="backslashreplace")
    sys.stderr = _Unfailing(sys.stderr) if sys.stderr is not None else _devnull()
    status = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, or none at all
            stream.flush()
    _remove_matplotlib_scratch()
    os._exit(status)


class _Unfailing:
    """stderr, whose lines (progress, notes, what was written) are lost, never the exit status,
    where it cannot be written: on a full disk (``2>/dev/full``) a progress line was an internal
    error after the work was done (hostile pass nine). Everything else is the stream's."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _devnull():
    """Where stderr goes when the command started without one (``2>&-``): Python then has
    ``sys.stderr = None``, and ``print(file=None)`` writes to stdout, into a JSON document."""
    return open(os.devnull, "w")  # noqa: SIM115 - for the life of the process


def _remove_matplotlib_scratch() -> None:
    """Remove the temporary folder matplotlib makes for its cache when HOME, MPLCONFIGDIR and
    XDG's folders cannot be written: it registers its removal with atexit, which a hard exit
    skips (a hostile pass found ``matplotlib-*`` folders left in TMPDIR)."""
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is None:
        return
    import shutil

    with contextlib.suppress(Exception):  # matplotlib's own choice, cached: read it, not make it
        folder = Path(matplotlib.get_configdir())
        if folder.name.startswith("matplotlib-") and folder.parent == Path(tempfile.gettempdir()):
            shutil.rmtree(folder, ignore_errors=True)



if __name__ == "__main__":
    run()
