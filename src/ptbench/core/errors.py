"""One error hierarchy, and the exit statuses every ``ptbench`` command shares.

Exit statuses (asv's and Unix conventions; CI gates on them):

- 0: success, no regression;
- 1: a comparison found a regression, or a benchmark failed its check;
- 2: bad input (an argument, a selector, a results folder, a place to write): one line on stderr;
- 3: ptbench or a tool it drives (asv) failed, through no fault of the input: one line on
  stderr pointing at the log that holds the details;
- 130: interrupted (Ctrl-C).

An error never exits 1: a crash must not read as "something regressed".
"""

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130


class PtbenchError(Exception):
    """Every error ptbench raises on purpose; ``exit_status`` says how the command ends."""

    exit_status = EXIT_FAILED


class InputError(PtbenchError):
    """Input the user must fix (an argument, a selector, a results folder, a machine file).

    Raised before anything is written, so nothing under results/ is changed or lost.
    """

    exit_status = EXIT_BAD_INPUT


class UsageError(InputError):
    """An argument that is malformed or out of range."""


class ResultsError(InputError):
    """Results that cannot be read; the message names the file or folder."""


class SelectorError(InputError):
    """A selector that is malformed, names an unknown key, or matches nothing or too much."""


class MachineError(InputError):
    """A machine name or machine file the user must fix."""


class OutputError(InputError):
    """A place to write (a file, a folder, standard output) that cannot take the output."""


class RunFailed(PtbenchError):
    """asv (or a benchmark process) failed in a way the input does not explain."""


def first_line(error: BaseException, empty: str | None = None) -> str:
    """The first line of ``error``'s message: what a one-line report quotes. An error without
    a message reads as ``empty``, or its type's name when ``empty`` is not given."""
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return type(error).__name__ if empty is None else empty


def described(error: BaseException) -> str:
    """``TypeName: first line`` (or ``TypeName`` for an error without a message)."""
    line = first_line(error, "")
    return f"{type(error).__name__}: {line}" if line else type(error).__name__
