"""Writing figures to files: PNG and SVG, laid out once, log axes labelled in plain text, and
rendered in forked processes while a report goes on computing (rendering is most of its time).
The figures themselves are ``plots``'.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on benchmark machines or in CI
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from ptbench.core import outputs  # noqa: E402
from ptbench.core.errors import OutputError  # noqa: E402


def save(figure: plt.Figure, stem: Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.svg; return both paths."""
    outputs.make_folder(stem.parent)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    _render_both(figure, paths)
    plt.close(figure)
    return paths


DPI = 110


def _render(
    figure: plt.Figure, path: Path, bbox: matplotlib.transforms.Bbox | str = "tight"
) -> None:
    """Written under a temporary name and renamed into place: an earlier report's figure that
    was replaced by a link is replaced, never written through (a hostile pass wrote a PNG into
    the link's target). Whatever already sits at the temporary name (a link planted there, the
    seventh hostile pass) is removed first, not written through either."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.unlink(missing_ok=True)
        figure.savefig(temporary, format=path.suffix[1:], dpi=DPI, bbox_inches=bbox)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class PlainPowers(matplotlib.ticker.Formatter):
    """A log axis' labels as matplotlib's ``LogFormatterSciNotation`` makes them (10^-3, 2^10,
    3x10^-1), written as plain text with Unicode superscripts (10⁻³, 2¹⁰, 3×10⁻¹) instead of
    mathtext, which matplotlib parses again on almost every draw: a sixth of a report's
    rendering. Labels it does not recognise are passed through unchanged."""

    POWER = re.compile(  # $\mathdefault{10^{-3}}$, $\mathdefault{3\times10^{-1}}$
        r"\$\\mathdefault\{(?:(?P<mantissa>[^{}]+?)\\times)?"
        r"(?P<base>\d+)\^\{(?P<exponent>-?\d+)\}\}\$"
    )
    SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

    def __init__(self, mathtext: matplotlib.ticker.Formatter) -> None:
        self.mathtext = mathtext

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.mathtext.set_axis(axis)

    def set_locs(self, locs) -> None:
        self.mathtext.set_locs(locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        label = self.mathtext(x, pos)
        power = self.POWER.fullmatch(label)
        if power is None:
            return label
        mantissa = f"{power['mantissa']}×" if power["mantissa"] else ""
        return f"{mantissa}{power['base']}{power['exponent'].translate(self.SUPERSCRIPTS)}"


def _plain_powers(figure: plt.Figure) -> None:
    """Every log axis of ``figure`` labelled by :class:`PlainPowers`."""
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                             (axis.get_minor_formatter, axis.set_minor_formatter)):  # fmt: skip
                if isinstance(get(), matplotlib.ticker.LogFormatterSciNotation):
                    put(PlainPowers(get()))


def _render_both(figure: plt.Figure, paths: list[Path]) -> None:
    """Lay ``figure`` out once (its tight layout is deferred to here, so a report's layouts run
    in parallel like its rendering), then write each of ``paths``."""
    _plain_powers(figure)
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
        figure.set_layout_engine("none")
    # What savefig's bbox_inches="tight" measures, measured once for every format.
    figure.set_dpi(DPI)
    tight = figure.get_tightbbox(figure.canvas.get_renderer())
    bbox = tight.padded(matplotlib.rcParams["savefig.pad_inches"])
    for path in paths:
        try:
            _render(figure, path, bbox)
        except OSError as error:  # a full disk, a read-only folder: one line, not a traceback
            failure = OutputError(f"cannot write {path} ({error.strerror or error})")
            failure.errno = error.errno or 0  # what a child's exit status carries to the parent
            raise failure from None


def _render_in_child(figure: plt.Figure, paths: list[Path]) -> None:
    """:func:`_render_both` in a forked child, its inherited objects frozen first: Python's
    collector then never walks the parent's heap (the loaded history), which would cost time
    and copy its pages (the use ``gc.freeze`` is documented for)."""
    for stop in (signal.SIGINT, signal.SIGTERM):  # the parent says it; stop() sends TERM
        signal.signal(stop, lambda *_: os._exit(INTERRUPTED_EXIT))
    gc.freeze()
    try:
        _render_both(figure, paths)
    except OutputError as error:  # the parent reports it: its errno as the exit status
        code = getattr(error, "errno", 0)
        os._exit(OS_ERROR_EXIT + (code if 0 < code < 60 else 0))


# A child's exit status: 64 + errno (ENOSPC 28, EROFS 30, EACCES 13...: all under 60) when it
# could not write its file, 130 when it was interrupted.
OS_ERROR_EXIT, INTERRUPTED_EXIT = 64, 130


class FigureWriter:
    """Renders each figure's PNG and SVG as soon as it is added, in a forked process, while the
    report goes on computing the next section (rendering is most of a report's time).

    A forked child inherits the finished figure without pickling and writes both files; at most
    one child per CPU runs at once. Where ``fork`` is unavailable (Windows, macOS' default) or
    there is one CPU, figures are rendered here as they are added. :meth:`write_all` waits for
    every child and raises if one failed.
    """

    def __init__(self) -> None:
        self.workers = os.cpu_count() or 1
        self.forking = self.workers > 1 and "fork" in multiprocessing.get_all_start_methods()
        self.running: list[tuple[multiprocessing.Process, Path]] = []

    def add(self, figure: plt.Figure, stem: Path) -> Path:
        """Render ``stem``.png and ``stem``.svg (now or in a child); return the PNG's path."""
        outputs.make_folder(stem.parent)
        paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
        if not self.forking:
            _render_both(figure, paths)
        else:
            self._wait(self.workers - 1)
            child = multiprocessing.get_context("fork").Process(
                target=_render_in_child, args=(figure, paths), daemon=True
            )
            child.start()
            self.running.append((child, paths[0]))
        plt.close(figure)  # a child has its own copy
        return paths[0]

    def _wait(self, at_most: int) -> None:
        """Until at most ``at_most`` children run; raise if one that ended failed."""
        while self.running:
            for child, path in [entry for entry in self.running if not entry[0].is_alive()]:
                self.running.remove((child, path))
                if child.exitcode == INTERRUPTED_EXIT:
                    raise KeyboardInterrupt
                if OS_ERROR_EXIT <= child.exitcode < OS_ERROR_EXIT + 60:
                    code = child.exitcode - OS_ERROR_EXIT
                    reason = os.strerror(code) if code else "an error writing it"
                    raise OutputError(f"cannot write {path} or its SVG ({reason})")
                if child.exitcode != 0:
                    raise RuntimeError(f"rendering {path.name} failed (exit {child.exitcode})")
            if len(self.running) <= at_most:
                return
            multiprocessing.connection.wait([child.sentinel for child, _ in self.running])

    def write_all(self) -> None:
        """Wait for every figure to be written."""
        self._wait(0)

    def stop(self) -> None:
        """End every child still rendering (the report failed): none may write a figure after
        the command has cleaned up and exited (``cli.run`` exits without multiprocessing's
        own clean-up; a hostile pass saw them outlive a refused report)."""
        for child, _path in self.running:
            child.terminate()
        for child, path in self.running:
            child.join()
            for written in (path, path.with_suffix(".svg")):  # its temporaries (_render)
                written.with_name(f".{written.name}.part").unlink(missing_ok=True)
        self.running.clear()
