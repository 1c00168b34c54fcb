"""Writing where the user asked, and nowhere else.

- Output files and folders are checked before any work: never inside ``--results`` (that
  folder holds asv's files only), never a folder where a file is wanted or the reverse.
- Files are written to a temporary name beside the target and renamed into place, so an
  interrupted or failed write leaves the old file (or none), never half a file.
- Standard output: a reader that goes away (``ptbench compare | head -1``) ends the output
  quietly; a stdout that cannot be written (a full disk) is reported in one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ptbench.core.errors import OutputError, UsageError, first_line


def resolved(path: Path | str, flag: str = "") -> Path:
    """``path`` with its links resolved; a loop of symbolic links is bad input, named."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError) as error:  # RuntimeError: Python < 3.13's "Symlink loop"
        name = f"{flag} {path}".strip()
        raise UsageError(f"{name}: cannot follow its links ({first_line(error)}); give a "
                         "path without a loop of symbolic links") from None  # fmt: skip


def is_inside(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or lies under it (links resolved)."""
    path, folder = resolved(path), resolved(folder)
    return path == folder or path.is_relative_to(folder)


def check_no_links(out: Path, names: tuple[str, ...], flag: str = "--out") -> None:
    """Refuse a folder ptbench writes into under ``out`` that is a link: what it holds would
    land wherever the link points, outside ``out``."""
    for name in names:
        check_no_link_to(out / name, out, flag)


def check_no_link_to(path: Path, root: Path, flag: str = "--results") -> None:
    """Refuse writing ``path`` under ``root`` through a link (a machine's folder that is a
    symlink): what it holds would land wherever the link points, outside ``root`` (a hostile
    pass: merge, ab and machine --write wrote into the folder a link pointed at)."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            raise OutputError(f"{flag} {root}: {current.relative_to(root)} is a link; ptbench "
                              f"writes only inside {flag}, so remove the link or give another "
                              "folder")  # fmt: skip


def check_outside(out: Path, results: Path, flag: str) -> None:
    if is_inside(out, results):
        raise OutputError(
            f"{flag} {out} is inside --results {results}, which holds asv's result files "
            "only; write it elsewhere"
        )


def check_file_target(out: Path, flag: str) -> None:
    """``out`` can become a file: not a folder, and its folder exists."""
    resolved(out, flag)
    if out.is_dir():
        raise OutputError(f"{flag} {out} is a folder; give a file name inside it instead")
    if out.exists() and not out.is_file():
        raise OutputError(f"{flag} {out} is not a regular file (a device or a pipe); give the "
                          "name of a file to write")  # fmt: skip
    if not out.parent.is_dir():
        raise OutputError(f"{flag} {out}: folder {out.parent} does not exist; create it first")


# An empty folder name (an unset shell variable) would mean the current folder: refused everywhere.
EMPTY_FOLDER = "is empty; give a folder, e.g. {example}"


def check_named(path: Path | str, flag: str, example: str = "results") -> Path:
    """``path`` as a Path, unless it is empty text (the one rule for an empty --results)."""
    if str(path).strip() == "":
        raise UsageError(f"{flag} " + EMPTY_FOLDER.format(example=f"{flag} {example}"))
    resolved(path, flag)
    return Path(path)


def check_folder_target(out: Path, flag: str, marker: str | None = None) -> None:
    """``out`` can become (or already is) a folder. With ``marker`` (a file every earlier
    output of this command holds): a folder that holds other things is refused, so that
    ``publish --out /`` or ``report --out ~`` never scatters pages among someone's files."""
    resolved(out, flag)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{flag} {out} is a file; give a folder (it is created if missing)")
    if marker and out.is_dir() and any(out.iterdir()) and not (out / marker).is_file():
        raise OutputError(f"{flag} {out} holds other files and no {marker} of an earlier "
                          "output; give a new or empty folder, or an earlier one to update")


def check_makeable(folder: Path, flag: str) -> None:
    """``folder`` is a folder, or can be made: the nearest part of it that exists is a folder,
    and no part is a link to nothing (checked before a command writes elsewhere first)."""
    for part in (folder, *folder.parents):
        if part.is_symlink() and not part.exists():
            raise OutputError(f"{flag} {folder}: {part} is a link to nothing; remove it or give "
                              "another folder")  # fmt: skip
        if part.exists():
            if not part.is_dir():
                raise OutputError(f"{flag} {folder}: {part} is not a folder; give a folder "
                                  "that is, or that can be made")  # fmt: skip
            return


def check_writable(folder: Path, what: str) -> None:
    """A file can be made in ``folder``: tried with a temporary file, removed at once (a
    read-only HOME was found only after a 40 s probe, a hostile pass)."""
    try:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=".ptbench-check-")
        os.close(descriptor)
        os.unlink(name)
    except OSError as error:
        raise OutputError(f"cannot write {what} in {folder} ({_reason(error)}); give a folder "
                          "you can write (for asv's machine file: set HOME)") from None


def make_folder(folder: Path) -> None:
    """``folder.mkdir(parents=True, exist_ok=True)``, one missing folder after another:
    pathlib makes each missing parent in a nested call, so a path 1,500 folders deep was an
    internal error (RecursionError) in every command that writes (a hostile pass)."""
    missing = [folder]  # up to the first that exists (a file there: ENOTDIR, as pathlib says)
    while not missing[-1].exists() and missing[-1] != missing[-1].parent:
        missing.append(missing[-1].parent)
    for each in reversed(missing[:-1]):
        each.mkdir(exist_ok=True)
    if len(missing) == 1:  # it exists: a folder, or a file (pathlib's FileExistsError)
        folder.mkdir(exist_ok=True)


@contextlib.contextmanager
def new_folder(out: Path, flag: str = "--out"):
    """Make ``out`` (and its parents) if missing, and hold it for this command alone
    (``exclusive``); if what follows fails, remove what this made, so that a refusal (a
    selector that matches nothing) leaves no empty folder behind. A second command into the
    same folder is refused before it removes anything (a hostile pass: a refused report
    removed the folder a concurrent report was writing)."""
    missing = [folder for folder in (out, *out.parents) if not folder.exists()]
    with exclusive(out, flag):
        try:
            yield out
        except BaseException:
            if missing:  # out's contents, then each parent made for it (deepest first)
                shutil.rmtree(missing[0], ignore_errors=True)
                for parent in missing[1:]:
                    with contextlib.suppress(OSError):
                        parent.rmdir()
            raise


def check_file_targets(out: Path, names: tuple[str, ...], flag: str = "--out") -> None:
    """Each fixed file a command writes under ``out`` is a regular file or absent: checked
    before anything is written (a hostile pass: a report whose report.html was a FIFO was
    refused after it had rewritten the figures)."""
    for name in names:
        target = out / name
        if target.exists() and not target.is_file():
            raise OutputError(f"{flag} {out}: {name} is not a regular file (a folder, a device "
                              "or a pipe); move it away or give another folder")  # fmt: skip


@contextlib.contextmanager
def exclusive(folder: Path, flag: str = "--results"):
    """Hold ``folder`` (made if missing) for this command alone while it writes there: a
    second ``run`` or ``merge`` into it is refused in one line instead of losing one run's
    results to the other's. An advisory ``flock`` on the folder itself, so no lock file is
    left behind; the kernel releases it when the command ends, however it ends."""
    import fcntl

    make_folder(folder)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise UsageError(f"another ptbench command is writing into {flag} {folder}; wait for it "
                         "to finish, or give another folder") from None  # fmt: skip
    try:
        yield folder
    finally:
        os.close(descriptor)


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def _mode_for(path: Path) -> int:
    """The permissions ``path`` has, or those a new file gets (mkstemp's are owner-only)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary)`` and rename the temporary file to ``path``; on any failure the
    temporary file is removed and ``path`` is as it was. The file keeps ``path``'s permissions
    (a new one gets the usual ones). Only a regular file (or none) is ever replaced: a device
    or a pipe at ``path`` is refused."""
    if path.exists() and not path.is_file():
        raise OutputError(f"cannot write {path}: it is not a regular file (a device or a pipe)")
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"cannot write {path} ({_reason(error)})") from None
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(f"cannot write {path} ({_reason(error)})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_text_atomically(path: Path, text: str) -> None:
    """``text`` as UTF-8 in any locale (a hostile pass: LC_ALL=C without UTF-8 mode made
    publish an internal error writing plotly.js)."""
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_json_atomically(path: Path, data: dict) -> None:
    """``data`` as JSON (indent 1, sorted keys: asv's compact result form), atomically, its
    folder made if missing."""
    make_folder(path.parent)
    write_text_atomically(path, json.dumps(data, indent=1, sort_keys=True))


def one_line(text: str) -> str:
    """``text`` with control characters (newlines, carriage returns...) escaped, so a message
    that quotes what the user typed stays one line on a terminal and in a log."""
    return "".join(
        character
        if character.isprintable() or character == " "
        else character.encode("unicode_escape", "backslashreplace").decode("ascii")
        for character in text
    )


# An error line quotes what the user gave (a selector, a name, a value read from a file): a run
# of text without spaces longer than WORD_SHOWN is cut to its start and end, so a value of
# 100,000 characters reads as a line, not a screenful. A path is cut part by part (a folder or
# file name past WORD_SHOWN), and as a whole past PATH_SHOWN, so ordinary paths stay whole (a
# line naming two paths 1,500 folders deep was 858 characters long with 400).
# Past WORD_SHOWN a value with spaces in it ("w w w ...", quoted at length) is still a line of
# hundreds of characters: the text outside a line's paths is cut to TEXT_SHOWN, from its longest
# run of words without a "/" (the value, where there is one), keeping that run's start and end;
# the paths stay whole, since a line that names two paths of a test's temporary folder is 530
# characters long, and cutting inside a path breaks the command it shows. A line still past
# LINE_SHOWN then keeps its start and its last LINE_TAIL characters: the advice at its end.
WORD_SHOWN, PATH_SHOWN, TAIL_SHOWN = 100, 200, 20
TEXT_SHOWN, LINE_SHOWN, LINE_TAIL = 320, 1000, 160
CUT_NOTE = " characters cut]"
LONG_WORD = re.compile(rf"\S{{{WORD_SHOWN + 1},}}")
PATH_WORD = re.compile(r"\S*/\S*")
WORDS_RUN = re.compile(r"[^\s/]+(?:\s+[^\s/]+)*")


def cut(text: str, limit: int = WORD_SHOWN, tail: int = TAIL_SHOWN) -> str:
    """``text`` if it has at most ``limit`` characters; else its start and its last ``tail``
    characters (a closing quote, the end of a file name) around a note of how many were cut,
    about ``limit`` characters in all."""
    if len(text) <= limit:
        return text
    head = limit - tail - 24  # what the note takes, about
    return f"{text[:head]}[{len(text) - head - tail:,}{CUT_NOTE}{text[-tail:]}"


def _shortened(word: str) -> str:
    if "/" in word:
        word = "/".join(cut(part) for part in word.split("/"))
        return cut(word, PATH_SHOWN)
    return cut(word)


def _text_cut(text: str) -> str:
    """``text`` with its longest runs of words that are not paths cut, one after the other,
    until what lies outside its paths is about ``TEXT_SHOWN`` characters (a value with spaces
    may be named twice, or a path hold two folder names with spaces)."""
    for _ in range(8):
        excess = len(PATH_WORD.sub("", text)) - TEXT_SHOWN
        runs = [found for found in WORDS_RUN.finditer(text) if CUT_NOTE not in found.group()]
        if excess <= 0 or not runs:
            return text
        longest = max(runs, key=lambda found: len(found.group()))
        run = longest.group()
        tail = min(LINE_TAIL, len(run) // 2, max(len(run) // 5, 100))
        shortened = cut(run, max(len(run) - excess, tail + 48), tail)
        if shortened == run:
            return text
        text = text[: longest.start()] + shortened + text[longest.end() :]
    return text


def capped(text: str) -> str:
    """``text`` with every over-long run of text without spaces cut (``WORD_SHOWN``), then its
    longest run of words (a value with spaces) cut to keep the text outside its paths about
    ``TEXT_SHOWN`` characters, and the whole cut to about ``LINE_SHOWN``, keeping its start
    and end."""
    shortened = LONG_WORD.sub(lambda found: _shortened(found.group()), text)
    return cut(_text_cut(shortened), LINE_SHOWN, LINE_TAIL)


def error_line(text: str) -> None:
    """Print ``text`` as one line on stderr, an over-long value in it cut (``capped``). A
    stderr that cannot be written (a full disk, a closed descriptor) loses the line, never the
    exit status: nothing else could report it."""
    with contextlib.suppress(OSError, ValueError):
        print(capped(one_line(text)), file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so nothing more (not even the flush at exit) fails."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def emit(text: str) -> None:
    """Print ``text`` on stdout. A closed pipe ends the output quietly (the reader has what it
    wanted); any other failure to write is an OutputError."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        _silence_stdout()
    except OSError as error:
        _silence_stdout()
        raise OutputError(f"cannot write to standard output ({_reason(error)})") from None
