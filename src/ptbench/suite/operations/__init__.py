"""Every timed operation, defined once, grouped by family (one module each)."""

from __future__ import annotations

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

__all__ = ["OPERATIONS", "Case", "CountingCase", "Inputs", "Operation", "Unsupported"]
