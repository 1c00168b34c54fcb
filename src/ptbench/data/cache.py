"""A cache of parsed result files, so a second load reads only what changed.

Parsing an asv result file (``asv.results.Results.load``, checks, parameters) costs far more
than reading a Parquet file of the same rows. Each parsed file is kept as Parquet (pyarrow),
named by a SHA-256 of everything its rows depend on: the file's bytes, the machine folder it
lies in, the catalogue (``benchmarks.json``) it was read with, and :data:`LOADER_VERSION`. A
file that changes gets a new name, so nothing stale is ever read; entries nobody asks for any
more are simply never read again (delete the folder at will).

Where: ``$PTBENCH_CACHE``, else ``$XDG_CACHE_HOME/ptbench``, else ``~/.cache/ptbench``;
``PTBENCH_CACHE=off`` turns it off. Never inside the results folder: nothing under ``results/``
is written by a command that was not asked to write there, and the cache is never committed.
The cache is an optimisation only: when it cannot be written (read-only home, a column pyarrow
cannot store) the file is parsed as before.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ptbench.core import outputs, parallel
from ptbench.core.errors import OutputError, UsageError
from ptbench.data import documents

LOADER_VERSION = "6"  # bump whenever results.file_frame's output changes


def folder() -> Path | None:
    """The cache folder, or None when the cache is off."""
    chosen = os.environ.get("PTBENCH_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ptbench"


def catalogue_digest(catalogue: dict) -> str:
    return hashlib.sha256(json.dumps(catalogue, sort_keys=True, default=str).encode()).hexdigest()


def key(path: Path, catalogue_key: str) -> str:
    digest = hashlib.sha256(f"{LOADER_VERSION}\0{catalogue_key}\0{path.parent.name}\0".encode())
    digest.update(documents.read_bytes(path))
    return digest.hexdigest()


def _read(entries: list[Path]) -> pd.DataFrame | None:
    """Every entry in one read: pyarrow reads the files as one dataset (in order, on threads,
    their schemas unified where a run recorded more facts than another), and pandas converts
    once, not once per file. None if any entry cannot be read (a process died writing it)."""
    if not entries:
        return pd.DataFrame()
    try:
        # "permissive": a parameter that is whole in one file and has a NaN in another (int64
        # and double) becomes double, as pandas' concat of the parsed frames would make it.
        schemas = [pq.read_schema(entry) for entry in entries]
        schema = pa.unify_schemas(schemas, promote_options="permissive")
        table = pq.read_table([str(entry) for entry in entries], schema=schema)
        return table.to_pandas(types_mapper=_arrow_lists)
    except (OSError, ValueError, pa.ArrowException):
        return None


def _arrow_lists(kind: pa.DataType) -> pd.ArrowDtype | None:
    """Lists (samples) stay Arrow lists, as the loader makes them, not an array per row."""
    return pd.ArrowDtype(kind) if pa.types.is_list(kind) else None


def _write(frame: pd.DataFrame, entry: Path) -> bool:
    """Keep ``frame`` as ``entry`` (``outputs.write_atomically``: a reader sees no entry or the
    whole entry); False when it cannot be written."""
    try:
        outputs.make_folder(entry.parent)
        outputs.write_atomically(entry, lambda temporary: frame.to_parquet(temporary, index=False))
        return True
    except (OutputError, OSError, ValueError, TypeError, NotImplementedError):  # pyarrow's
        return False  # errors derive from these; the caller has the parsed frame


def _parse_and_keep(path: Path, entry: Path | None, catalogue: dict, parse) -> pd.DataFrame | None:
    """``parse`` the file and keep its rows as ``entry``: None once kept (they are read back
    with the other entries, in one read), else the rows themselves."""
    frame = parse(path, catalogue)
    if entry is not None and not frame.empty and _write(frame, entry):
        return None
    return frame


def frames(
    files: Iterable[Path], catalogue: dict, parse: Callable[[Path, dict], pd.DataFrame]
) -> list[pd.DataFrame]:
    """The rows of the files. Files not in the cache are ``parse``d and kept (see
    :func:`_keep_missing`); then every entry is read back in one go (one read and one
    conversion beat joining a frame per file). Row order across files is not kept (the loader
    sorts); within a file it is."""
    files = list(files)
    entries, unkept = _keep_missing(files, catalogue, parse)
    if entries is None:  # no cache: the parsed frames are all there is
        return unkept
    combined = _read([entry for entry in entries if entry.is_file()])
    if combined is None:  # entries that cannot be read together: parse, as without a cache
        _forget_unreadable(entries)
        return parse_all(files, [None] * len(files), catalogue, parse)
    return [combined, *unkept]


def check(files: Iterable[Path], catalogue: dict, parse: Callable[[Path, dict], pd.DataFrame]):
    """Parse every file not in the cache yet, as loading would (raising its errors), and keep
    it; read nothing back (``ptbench merge`` checks what it brings, it does not use the rows)."""
    _keep_missing(list(files), catalogue, parse)


def _keep_missing(files: list[Path], catalogue: dict, parse) -> tuple[list[Path] | None, list]:
    """(every file's cache entry, or None when the cache is off; the frames that were not kept:
    all of them without a cache). Files without an entry are parsed, in parallel when there
    are many (see :func:`parse_all`)."""
    where = folder()
    if where is None:
        return None, parse_all(files, [None] * len(files), catalogue, parse)
    results = {path.parent.parent for path in files}
    inside = next((folder for folder in results if outputs.is_inside(where, folder)), None)
    if inside is not None:
        raise UsageError(f"PTBENCH_CACHE {where} is inside the results folder {inside}, which "
                         "holds asv's result files only; set it elsewhere, or to off")  # fmt: skip
    catalogue_key = catalogue_digest(catalogue)
    entries = [where / f"{key(path, catalogue_key)}.parquet" for path in files]
    # An entry that is not a regular file (a FIFO, a device) is never read: a hostile pass's
    # FIFO there held compare and export for ever. Its file is parsed as if it had none.
    missing = [(path, entry) for path, entry in zip(files, entries, strict=True)
               if not entry.is_file()]  # fmt: skip
    parsed = parse_all([path for path, _ in missing], [entry for _, entry in missing],
                       catalogue, parse)  # fmt: skip
    return entries, [frame for frame in parsed if frame is not None]


def _forget_unreadable(entries: list[Path]) -> None:
    """Remove entries that cannot be read at all (damaged on disk), so the next load parses
    and keeps their files again; entries that are fine but disagree on a column's type stay."""
    for entry in entries:
        try:
            pq.read_schema(entry)
        except FileNotFoundError:
            continue
        except (OSError, ValueError, pa.ArrowException):
            with contextlib.suppress(OSError):
                entry.unlink()


PARALLEL_FROM = 16  # files; fewer are parsed in this process (a pool costs more than it saves)


def parse_all(
    files: list[Path], entries: list[Path | None], catalogue: dict, parse
) -> list[pd.DataFrame | None]:
    """Each file's rows, or None where they were kept as its entry (see
    :func:`_parse_and_keep`), on every CPU when there are many files (``parallel.fork_map``)."""
    job = functools.partial(_parse_and_keep, catalogue=catalogue, parse=parse)
    return parallel.fork_map(job, files, entries, worth_it=len(files) >= PARALLEL_FROM)
