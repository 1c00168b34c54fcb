"""``ptbench merge``: many machines' results into one history, safely.

A fleet runs the suite on many machines; each writes its own results folder (or, with
``ptbench run --archive``, a ``.tar.gz`` of exactly what it wrote). ``merge`` adds them to one
results folder:

- **plan first, then write**: every source is read and checked (each result file must load,
  as ``ptbench export`` would load it) before anything is written; any problem refuses the
  whole merge, so a merge is never half done;
- **never overwrite**: a file that already exists with the same bytes is skipped; one with
  different bytes is a conflict, named, and the merge is refused (two machines given the same
  name, or a result rewritten after it was copied: a person must decide);
- **one catalogue**: ``benchmarks.json`` becomes the newest suite's (the catalogue of the
  source whose newest result is the latest), keeping entries only older suites had, so every
  older result still loads; ``machine.json`` (asv's, rewritten by every run) is copied only
  where the target has none: each result carries its own facts;
- archives are unpacked with tarfile's ``data`` filter (no absolute paths, no ``..``, no
  links out of the folder).
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ptbench.core import outputs
from ptbench.core.errors import InputError, ResultsError
from ptbench.data import cache, documents
from ptbench.data import catalogue as catalogue_file
from ptbench.data.catalogue import CATALOGUE, MACHINE_FILE
from ptbench.data.results import benchmark_catalogue, file_frame, listed, result_files

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class MergeConflict(InputError):
    """A file in a source differs from the file of the same name already in the target."""


@dataclass
class MergePlan:
    copies: list[tuple[Path, Path]] = field(default_factory=list)  # (source file, target)
    same: list[Path] = field(default_factory=list)  # already there, same bytes
    catalogue: dict | None = None  # the merged benchmarks.json, when it changes
    catalogue_from: str = ""


def check_archive_name(path: Path, results_dir: Path | None = None) -> None:
    """``--archive``: a .tar.gz that can be written, outside the results folder (when known)."""
    if not path.name.endswith(ARCHIVE_SUFFIXES):
        raise InputError(f"--archive {path}: name it *.tar.gz (or .tgz, .tar)")
    outputs.check_file_target(path, "--archive")
    if results_dir is not None:
        outputs.check_outside(path, results_dir, "--archive")


def write_archive(files: list[Path], results_dir: Path, archive: Path) -> None:
    """A ``.tar.gz`` of ``files`` (under ``results_dir``) as a results folder named
    ``results/``: what ``merge`` takes on the machine that gathers the fleet's runs."""
    mode = "w:gz" if archive.name.endswith((".tar.gz", ".tgz")) else "w"

    def write(temporary: Path) -> None:
        with tarfile.open(temporary, mode) as tar:
            for path in sorted(set(files)):
                tar.add(path, arcname=str(Path("results") / path.relative_to(results_dir)))

    outputs.write_atomically(archive, write)


def archive_run(written: list[Path], archive: Path) -> None:
    """The files one run wrote (``<results>/<machine>/<file>`` first), with the results folder's
    catalogue, which ``merge`` needs even when the run left it unchanged, as ``archive``."""
    results_dir = written[0].parent.parent
    catalogue = results_dir / CATALOGUE
    write_archive([*written, *([catalogue] if catalogue.is_file() else [])], results_dir, archive)


def _is_archive(path: Path) -> bool:
    return path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES)


def unpack(archive: Path, into: Path) -> Path:
    """Extract ``archive`` under ``into``; the results folder inside it."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")  # refuses paths out of ``into``
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:  # EOFError: cut short
        raise InputError(
            f"{archive}: not a readable results archive ({type(error).__name__}: not a .tar.gz, "
            "or damaged); give a .tar.gz written by ptbench run --archive, or a results folder"
        ) from None
    found = [p.parent for p in into.rglob(CATALOGUE)]
    if len(found) != 1:
        raise InputError(
            f"{archive}: holds {len(found)} results folders (with a "
            f"{CATALOGUE}); an archive from ptbench run --archive holds one"
        )
    return found[0]


def _incoming(source: Path) -> list[Path]:
    """The files of one results folder that a merge carries, relative to it."""
    if not (source / CATALOGUE).is_file():
        raise InputError(f"{source}: no {CATALOGUE}; give a results folder or an archive "
                         "written by ptbench run --archive")  # fmt: skip
    files = [path.relative_to(source) for path in result_files(source)]
    files += [p.relative_to(source) for p in source.glob(f"*/{MACHINE_FILE}")]
    files += [p.relative_to(source) for p in source.glob("ab-*.json")]
    return sorted(files)


DATE = re.compile(rb'"date":\s*(\d+)')


def _files(folder: Path) -> list[Path]:
    """The result files of ``folder``; none (not an error) for a new, empty target, but a
    folder, a pipe or a dangling link where a result file goes is named (``listed``)."""
    return listed(folder) if folder.is_dir() else []


def _newest_result_ms(folder: Path) -> float:
    """The date of the newest result in ``folder``. asv writes keys sorted, so ``date`` is in
    the first few hundred bytes: read those, not whole files (a fleet's target holds
    thousands)."""
    dates = []
    for path in _files(folder):
        with path.open("rb") as handle:
            found = DATE.search(handle.read(512))
        if found:
            dates.append(float(found[1]))
    return max(dates, default=float("-inf"))


def merged_catalogue(folders: list[Path]) -> tuple[dict, Path]:
    """The newest suite's catalogue, plus entries only older catalogues have; and its folder."""
    newest = {folder: _newest_result_ms(folder) for folder in folders
              if (folder / CATALOGUE).is_file()}  # fmt: skip
    merged: dict = {}
    for folder in sorted(newest, key=newest.get):  # oldest first: newer entries win
        merged.update(benchmark_catalogue(folder))
    return merged, max(newest, key=newest.get)


def plan(sources: list[Path], target: Path) -> MergePlan:
    """What a merge of ``sources`` into ``target`` would do; InputError if it must not."""
    chosen = MergePlan()
    claimed: dict[Path, Path] = {}
    for source in sources:
        try:  # an A/B document must read as report and publish will read it
            documents.ab_documents(source)
        except ResultsError as error:
            raise InputError(f"nothing was merged: {error}") from None
        for relative in _incoming(source):
            outputs.check_no_link_to(target / relative, target, "--into")
            _place(chosen, claimed, source / relative, target / relative)
    catalogue, newest = merged_catalogue([target, *sources])
    if catalogue != benchmark_catalogue(target):
        chosen.catalogue, chosen.catalogue_from = catalogue, str(newest)
    results = [s for s, _t in chosen.copies if s.parent.parent in sources
               and s.name != MACHINE_FILE]  # fmt: skip
    if results and not catalogue:
        raise InputError("nothing was merged: no source has a benchmarks.json that describes "
                         "a benchmark, so no result's parameters could be named")  # fmt: skip
    # Every result must load as export will load it (and is then in the cache): the incoming
    # ones and, when the catalogue changes, the target's own (a newer suite's entry naming
    # fewer parameters would leave the target's history unreadable: a hostile pass).
    kept = _files(target)
    try:
        cache.check(results + (kept if chosen.catalogue else []), catalogue, file_frame)
    except ResultsError as error:
        raise InputError(f"nothing was merged: {error}") from None
    own = {source: benchmark_catalogue(source) for source in sources}
    for path in results:
        _check_described(path, own[path.parent.parent])
    return chosen


def _check_described(path: Path, catalogue: dict) -> None:
    """A result none of whose benchmarks its own folder's catalogue describes: that catalogue
    is not the one it was run with, so its parameters cannot be named and it would be left out
    of every load (a hostile pass: such a source merged with exit 0): refused, named."""
    try:
        names = list(json.loads(documents.read_bytes(path)).get("results") or {})
    except (ValueError, AttributeError, TypeError, RecursionError):  # named by the load above
        return
    if names and not any(name in catalogue for name in names):
        raise InputError(
            f"nothing was merged: {path}: none of its {len(names)} benchmarks (e.g. "
            f"{names[0]}) is described by {path.parent.parent / CATALOGUE}, so its results "
            f"would be left out of the history; give the {CATALOGUE} they were run with "
            "(ptbench run writes it beside them)"
        )


def _place(chosen: MergePlan, claimed: dict[Path, Path], source_file: Path, target_file: Path):
    data = documents.read_bytes(source_file)
    if target_file in claimed:  # two sources bring the same name
        if documents.read_bytes(claimed[target_file]) != data:
            raise MergeConflict(f"{claimed[target_file]} and {source_file} are different files "
                                f"for {target_file}; nothing was merged")  # fmt: skip
        return
    claimed[target_file] = source_file
    if not target_file.exists():
        chosen.copies.append((source_file, target_file))
    elif documents.read_bytes(target_file) == data:
        chosen.same.append(target_file)
    elif target_file.name != MACHINE_FILE:  # asv's machine file: the target's stays
        raise MergeConflict(
            f"{target_file} exists and differs from {source_file}; nothing was "
            "merged (rename the machine, or remove one of them yourself)"
        )


def apply(chosen: MergePlan, target: Path) -> None:
    """Write what ``plan`` decided: new files (atomically), then the catalogue."""
    for source_file, target_file in chosen.copies:
        outputs.make_folder(target_file.parent)
        outputs.write_atomically(target_file, lambda temporary, s=source_file:
                                 shutil.copyfile(s, temporary))  # fmt: skip
    if chosen.catalogue is not None:
        catalogue_file.write(target, chosen.catalogue)


def check_apart(sources: list[Path], target: Path) -> None:
    """No source inside the target nor the target inside a source: merging a folder into
    itself would copy it into itself and leave it unloadable."""
    for source in sources:
        if source.is_dir() and (outputs.is_inside(target, source) or
                                outputs.is_inside(source, target)):  # fmt: skip
            raise InputError(f"--into {target} and {source} overlap (one holds the other); "
                             "merge into a folder outside every source")  # fmt: skip


def merge(sources: list[Path], target: Path) -> MergePlan:
    """Merge result folders and archives into ``target``; what was done. A refusal names a
    file inside an archive as ``ARCHIVE:results/...``, not by the temporary folder it was
    unpacked into (gone by the time anyone reads the message)."""
    check_apart(sources, target)
    with tempfile.TemporaryDirectory(prefix="ptbench-merge-") as scratch:
        folders, unpacked = [], {}
        for index, source in enumerate(sources):
            if _is_archive(source):
                folder = unpack(source, Path(scratch) / str(index))
                unpacked[str(folder)] = f"{source}:{folder.relative_to(Path(scratch) / str(index))}"
                folders.append(folder)
            elif source.is_dir():
                folders.append(source)
            else:
                raise InputError(f"{source}: neither a results folder nor an archive "
                                 f"({', '.join(ARCHIVE_SUFFIXES)})")  # fmt: skip
        with outputs.new_folder(target, "--into"):
            try:
                chosen = plan(folders, target)
            except InputError as error:
                raise type(error)(_as_given(str(error), unpacked)) from None
            apply(chosen, target)
    chosen.catalogue_from = _as_given(chosen.catalogue_from, unpacked)
    return chosen


def _as_given(text: str, unpacked: dict[str, str]) -> str:
    """``text`` with each unpacked archive's temporary folder named as ``ARCHIVE:results``:
    what the user gave, not a folder that is gone by the time anyone reads the message."""
    for folder, name in unpacked.items():
        text = text.replace(folder, name)
    return text
