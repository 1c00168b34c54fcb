"""Indexing and masking: slicing, boolean-mask selection, torch.where in both forms."""

from __future__ import annotations

import numpy as np

from ptbench.core import lazy
from ptbench.suite.operations._base import Case, Inputs, Operation, assert_close, host, vector_bytes
from ptbench.suite.tiers import VECTOR

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor


def _masked_inputs(case: Case) -> Inputs:
    x = case.rand(case.size)
    return Inputs(x=x, y=case.rand(case.size), mask=x > 0.5)


def _check_where_indices(inputs: Inputs, result: tuple[torch.Tensor, ...]) -> None:
    (indices,) = result
    assert_close(indices, np.nonzero(host(inputs.mask))[0], rtol=0, atol=0, what="where(cond)")


SLICE = Operation(
    name="slice",
    family="indexing",
    description="x[n // 4 : 3 * n // 4 : 2] (a strided view)",
    ladder=VECTOR,
    make_inputs=lambda case: Inputs(x=case.rand(case.size), n=case.size),
    call=lambda x: x.x[x.n // 4 : 3 * x.n // 4 : 2],
    check=lambda x, out: assert_close(out, host(x.x)[x.n // 4 : 3 * x.n // 4 : 2], rtol=0),
    footprint_bytes=vector_bytes(1),
)
MASKED_SELECT = Operation(
    name="masked_select",
    family="indexing",
    description="x[x > 0.5] (boolean mask, about half selected)",
    ladder=VECTOR,
    make_inputs=_masked_inputs,
    call=lambda x: x.x[x.mask],
    check=lambda x, out: assert_close(out, host(x.x)[host(x.mask)], rtol=0),
    bytes_moved=lambda case: case.size * (case.itemsize + 1) + case.size * case.itemsize / 2,
    footprint_bytes=vector_bytes(3),
)
WHERE_INDICES = Operation(
    name="where_indices",
    family="indexing",
    description="torch.where(cond): indices of the true elements (about half)",
    ladder=VECTOR,
    make_inputs=_masked_inputs,
    call=lambda x: torch.where(x.mask),
    check=_check_where_indices,
    bytes_moved=lambda case: case.size * (1 + 8 / 2),
    footprint_bytes=lambda case: case.size * (case.itemsize + 1 + 8),
)
WHERE_SELECT = Operation(
    name="where_select",
    family="indexing",
    description="torch.where(cond, x, y)",
    ladder=VECTOR,
    make_inputs=_masked_inputs,
    call=lambda x: torch.where(x.mask, x.x, x.y),
    check=lambda x, out: assert_close(out, np.where(host(x.mask), host(x.x), host(x.y)), rtol=0),
    bytes_moved=lambda case: case.size * (3 * case.itemsize + 1),
    footprint_bytes=vector_bytes(4),
)


OPERATIONS = (SLICE, MASKED_SELECT, WHERE_INDICES, WHERE_SELECT)
