"""Stopping a command on request: Ctrl-C (SIGINT) and SIGTERM (a job scheduler's, a ``kill``).

Both raise ``KeyboardInterrupt`` where the command happens to be, so what it was writing is
cleaned up and it exits 130. Python cannot raise it everywhere: a signal that arrives while
the interpreter runs a hook whose exceptions it ignores (an at-fork hook of ``logging``, a
finaliser) is printed as "Exception ignored in ..." and swallowed, and the command went on to
finish and exit 0 (a hostile pass: SIGTERM while a report forked a figure process). So the
request is also remembered: :func:`check`, called at every progress step, raises it again, and
the swallowed exception is not printed.
"""

from __future__ import annotations

import signal
import sys

_REQUESTED: list[int] = []  # the signals received, in order


def stop(signum: int, _frame=None) -> None:
    """The handler of SIGINT and SIGTERM: remember the request, then interrupt."""
    _REQUESTED.append(signum)
    raise KeyboardInterrupt


def requested() -> bool:
    """Whether a stop was asked for since :func:`install`."""
    return bool(_REQUESTED)


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a stop was asked for (its first one may have been
    swallowed where Python ignores exceptions)."""
    if _REQUESTED:
        raise KeyboardInterrupt


def install() -> None:
    """Handle SIGINT and SIGTERM with :func:`stop`; an interrupt Python swallowed is not
    printed (``sys.unraisablehook``), since :func:`check` raises it again."""
    _REQUESTED.clear()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not (_REQUESTED and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            previous(unraisable)

    sys.unraisablehook = hook
