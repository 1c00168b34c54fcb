"""One way to spread independent work over the CPUs: forked worker processes.

Forked workers inherit the parent's imported modules (nothing is imported again); the work and
its answers are pickled. When the caller says the work is small (a pool costs more than it
saves on a little work), or with one CPU, or where ``fork`` does not exist (Windows, macOS'
default), the work runs here, in order. Either way the answers come back in the order of the
inputs, and an exception in a worker is raised here, as the serial loop would raise it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

MAX_WORKERS = 8


def fork_map(function: Callable, *inputs: Sequence, worth_it: bool) -> list[Any]:
    """``[function(*arguments) for arguments in zip(*inputs)]``, on every CPU when the caller
    finds the work ``worth_it``."""
    count = len(inputs[0]) if inputs else 0
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if not worth_it or workers < 2 or "fork" not in mp.get_all_start_methods():
        return [function(*arguments) for arguments in zip(*inputs, strict=True)]
    chunk = max(1, count // (workers * 4))  # a few chunks a worker: balanced, few messages
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        return list(pool.map(function, *inputs, chunksize=chunk))
