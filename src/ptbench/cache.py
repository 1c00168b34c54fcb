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
import hashlib
import itertools
import json
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

LOADER_VERSION = "2"  # bump whenever results.file_frame's output changes


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
    digest.update(path.read_bytes())
    return digest.hexdigest()


def _read(entries: list[Path]) -> pd.DataFrame | None:
    """Every entry in one read: pyarrow reads the files as one dataset (in order, on threads,
    their schemas unified where a run recorded more facts than another), and pandas converts
    once, not once per file. None if any entry cannot be read (a process died writing it)."""
    if not entries:
        return None
    try:
        schema = pa.unify_schemas([pq.read_schema(entry) for entry in entries])
        frame = pd.read_parquet([str(entry) for entry in entries], schema=schema)
    except (OSError, ValueError, pa.ArrowException):
        return None
    # Parquet gives samples back as arrays; the loader's rows hold lists (or None).
    frame["samples"] = [None if s is None else s.tolist() for s in frame["samples"]]
    return frame


def _write(frame: pd.DataFrame, entry: Path) -> None:
    temporary = entry.with_name(f"{entry.name}.{os.getpid()}.partial")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(temporary, index=False)
        temporary.replace(entry)  # atomic: a reader sees no entry or the whole entry
    except (OSError, ValueError, TypeError, NotImplementedError):  # pyarrow's errors derive
        with contextlib.suppress(OSError):  # from these; the caller has the parsed frame
            temporary.unlink(missing_ok=True)


def frames(
    files: Iterable[Path], catalogue: dict, parse: Callable[[Path, dict], pd.DataFrame]
) -> list[pd.DataFrame]:
    """The rows of the files: those in the cache read back in one go, the others ``parse``d (in
    parallel when there are many, see :func:`parse_all`) and kept for next time. Row order
    across files is not kept (the loader sorts); within a file it is."""
    where = folder()
    catalogue_key = catalogue_digest(catalogue)
    files = list(files)
    entries = [where / f"{key(path, catalogue_key)}.parquet" if where else None for path in files]
    cached = [entry for entry in entries if entry is not None and entry.exists()]
    combined = _read(cached)
    if combined is None:
        cached = []
    read = set(cached)
    missing = [(path, entry) for path, entry in zip(files, entries, strict=True)
               if entry is None or entry not in read]  # fmt: skip
    parsed = parse_all([path for path, _entry in missing], catalogue, parse)
    for (_path, entry), frame in zip(missing, parsed, strict=True):
        if entry is not None and not frame.empty:
            _write(frame, entry)
    return [*([combined] if combined is not None else []), *parsed]


PARALLEL_FROM = 16  # files; fewer are parsed in this process (a pool costs more than it saves)


def parse_all(files: list[Path], catalogue: dict, parse) -> list[pd.DataFrame]:
    """``parse`` of every file, on every CPU when there are many. Worker processes are forked
    (the parent's modules are already imported); an error in one is raised here, as the
    serial loop would raise it."""
    workers = min(os.cpu_count() or 1, 8)
    if len(files) < PARALLEL_FROM or workers < 2 or "fork" not in mp.get_all_start_methods():
        return [parse(path, catalogue) for path in files]
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        return list(pool.map(parse, files, itertools.repeat(catalogue), chunksize=8))
