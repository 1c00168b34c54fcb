"""Every timed operation, defined once, grouped by family (one module each)."""

from __future__ import annotations

from ptbench.core.schema import operation_name
from ptbench.suite.operations import (
    autograd,
    creation,
    elementwise,
    indexing,
    interop,
    linalg,
    shape,
    updates,
)
from ptbench.suite.operations._base import Case, CountingCase, Inputs, Operation, Unsupported

OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for module in (creation, elementwise, shape, indexing, interop, linalg, autograd, updates)
    for operation in module.OPERATIONS
}

PEAK_BYTES_SUFFIX = "_peak_bytes"  # track_<operation>_peak_bytes (suite.declare)


def of_benchmark(benchmark: str) -> Operation | None:
    """The operation an asv benchmark times or tracks (``bench_linalg.time_solve``,
    ``bench_updates.track_update_peak_bytes``), or None for one that is not an operation's."""
    name = operation_name(benchmark)
    return OPERATIONS.get(name) or OPERATIONS.get(name.removesuffix(PEAK_BYTES_SUFFIX))


__all__ = ["OPERATIONS", "PEAK_BYTES_SUFFIX", "Case", "CountingCase", "Inputs", "Operation",
           "Unsupported", "of_benchmark"]
