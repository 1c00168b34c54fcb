"""Turns operations into asv benchmarks: the only module that knows asv's conventions.

Timing design (see docs/timing.md). asv-runner >= 0.3 re-runs ``setup`` before every sample
and times one call per sample whenever a benchmark has a setup hook (asv#966). ptbench's
benchmarks therefore have no setup hook: the first call of each process builds, checks and warms
up the inputs (``timing.prepare``) and caches them, and asv keeps its classic timeit batching,
``number`` calls timed as one block between two reads of ``timer``. ``timer`` is
``devices.synchronized_timer``, so on CUDA a block ends only when its kernels have finished, with
one sync per block (as torch.utils.benchmark's ``blocked_autorange`` does).

asv's calibration run absorbs the first (preparing) call, which is never a sample. A combination
that cannot run raises asv-runner's ``SkipNotImplemented`` there, which asv records as NaN
(shown as n/a), exactly as a ``NotImplementedError`` from ``setup`` would be.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from asv_runner.benchmarks.mark import SkipNotImplemented

from ptbench.core.schema import BYTES
from ptbench.hardware import devices
from ptbench.suite import timing
from ptbench.suite.operations import PEAK_BYTES_SUFFIX, Case, Operation, Unsupported
from ptbench.suite.operations._base import SEED

# Per combination: preparation (inputs of up to a few GiB, a host-side check) plus asv's samples.
TIMEOUT_SECONDS = 300


def _prepared_call(operation: Operation) -> Callable[[tuple], Callable[[], Any]]:
    """A per-process cache of prepared calls, keyed by param values."""
    prepared: dict[tuple, Callable[[], Any]] = {}

    def get(param_values: tuple) -> Callable[[], Any]:
        try:
            return prepared[param_values]
        except KeyError:
            pass
        case = operation.case(*param_values)
        try:
            call = timing.prepare(operation, case)
        except Unsupported as reason:
            print(f"ptbench: skipped {operation.name}{param_values}: {reason}", file=sys.stderr)
            raise SkipNotImplemented(str(reason)) from None
        prepared[param_values] = call
        return call

    return get


def asv_benchmark(benchmark_dir: Path, name: str, params: tuple):
    """asv-runner's benchmark object for one combination, set up as an asv benchmark process
    sets it up; ``.run(*params)`` then times it with asv-runner's own code. For scripts that
    compare the suite's timing with another (scripts/check_timing.py, scripts/check_cuda.py).
    """
    from asv_runner.discovery import get_benchmark_from_name

    if str(benchmark_dir.parent) not in sys.path:
        sys.path.insert(0, str(benchmark_dir.parent))
    probe = get_benchmark_from_name(str(benchmark_dir), name)
    index = list(itertools.product(*probe._params)).index(params)
    benchmark = get_benchmark_from_name(str(benchmark_dir), f"{name}-{index}")
    if benchmark.do_setup():
        raise SkipNotImplemented(f"{name}{params} is skipped here")
    return benchmark


def _is_ours(value: Any) -> bool:
    return (getattr(value, "__module__", None) or "").startswith("ptbench")


def _describe(value: Any, seen: set[int]) -> list[str]:
    """Deterministic text for ``value`` as the work depends on it: ptbench's own functions and
    classes by their source (and, recursively, what they read), constants by their value."""
    if isinstance(value, (int, float, str, bool, type(None))):
        return [repr(value)]
    if isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [part for item in items for part in _describe(item, seen)]
    if isinstance(value, dict):
        return [
            part
            for key in sorted(value, key=repr)
            for part in [repr(key), *_describe(value[key], seen)]
        ]
    if isinstance(value, types.ModuleType):  # torch, numpy, or torch's stand-in (ptbench.core.lazy)
        return []
    if not (_is_ours(value) or isinstance(value, property)) or id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, property):
        return _describe(value.fget, seen)
    if inspect.isclass(value):  # its methods (as they are now) and class constants
        return [value.__qualname__] + [
            part
            for name, member in sorted(vars(value).items())
            if not name.startswith("__")
            for part in [name, *_describe(member, seen)]
        ]
    parts = [inspect.getsource(value)]
    reached = inspect.getclosurevars(value)
    for name, item in sorted({**reached.globals, **reached.nonlocals}.items()):
        parts += [name, *_describe(item, seen)]
    return parts


def definition_version(operation: Operation) -> str:
    """A hash of everything that determines the work timed (not the check).

    The benchmark functions are generated, so asv's default version (a hash of their source)
    would never change. This one hashes the source of the operation's input builder and calls
    and, followed through ``inspect.getclosurevars``, of every ptbench function and constant
    they reach (batch sizes, helper functions, factories' arguments), plus the ``Case`` class
    and ``SEED`` behind every input, and the params. It changes when the work does, which is
    when asv must stop comparing new results with old ones.
    """
    seen: set[int] = set()
    calls = list(operation.methods.values()) if operation.methods else [operation.call]
    parts = [repr(operation.params), f"SEED={SEED}", *_describe(Case, seen)]
    for function in (operation.make_inputs, *calls):
        parts += _describe(function, seen)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _declare(benchmark: Callable, name: str, operation: Operation) -> Callable:
    benchmark.__name__ = benchmark.__qualname__ = name
    benchmark.__doc__ = f"{operation.family}: {operation.description}"
    benchmark.params = operation.params
    benchmark.param_names = operation.param_names
    benchmark.version = definition_version(operation)
    benchmark.timeout = TIMEOUT_SECONDS
    benchmark.operation_name = operation.name
    return benchmark


def time_benchmark(operation: Operation) -> Callable:
    """The asv ``time_<operation>`` benchmark: seconds per call."""
    get_call = _prepared_call(operation)

    def benchmark(*param_values: Any) -> None:
        get_call(param_values)()

    benchmark.timer = devices.synchronized_timer
    # The prepared call itself, so scripts/check_timing.py times exactly what asv times.
    benchmark.prepared_call = get_call
    return _declare(benchmark, f"time_{operation.name}", operation)


def peak_memory_benchmark(operation: Operation) -> Callable:
    """The asv ``track_<operation>_peak_bytes`` benchmark: memory one call allocates at its peak.

    CUDA: ``torch.cuda.max_memory_allocated``; CPU: ``timing.peak_bytes``' dispatch-level count.
    """
    get_call = _prepared_call(operation)

    def benchmark(*param_values: Any) -> int:
        call = get_call(param_values)
        return timing.peak_bytes(call, operation.case(*param_values).device)

    benchmark.unit = BYTES
    return _declare(benchmark, f"track_{operation.name}{PEAK_BYTES_SUFFIX}", operation)


def _setting_benchmark(name: str, unit: str, read: Callable[[str], float], doc: str) -> Callable:
    def benchmark(device: str) -> float:
        if not devices.is_available(device):
            raise SkipNotImplemented(f"{device} is not available on this machine")
        return read(device)

    benchmark.__name__ = benchmark.__qualname__ = name
    benchmark.__doc__ = doc
    benchmark.params = [list(devices.DEVICES)]
    benchmark.param_names = ["device"]
    benchmark.unit = unit
    return benchmark


# Settings that change results, recorded beside them (also in each result file's params by
# ``ptbench run``), so a history shows when they changed.
track_threads = _setting_benchmark(
    "track_threads",
    "threads",
    lambda device: torch.get_num_threads(),
    "torch.get_num_threads() in the benchmark process (CPU kernels' parallelism)",
)
track_float32_matmul_allows_tf32 = _setting_benchmark(
    "track_float32_matmul_allows_tf32",
    "flag",
    lambda device: float(devices.float32_matmul_is_reduced()),
    "1 when float32 matmul may use reduced precision (TF32 or bfloat16), else 0",
)
