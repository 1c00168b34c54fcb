"""Shape manipulation: reshape, flatten (contiguous and not), cat, stack."""

from __future__ import annotations

import numpy as np

from ptbench.core import lazy
from ptbench.suite.operations._base import Case, Inputs, Operation, assert_close, host, vector_bytes
from ptbench.suite.tiers import VECTOR

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor

PARTS = 4  # cat and stack join this many tensors of size / PARTS elements


def _matrix_inputs(case: Case) -> Inputs:
    # (n/4, 4) so even n = 16 has a transpose that is truly non-contiguous.
    matrix = case.rand(case.size // 4, 4)
    layouts = {"contiguous": matrix, "non_contiguous": matrix.mT}
    return Inputs(x=layouts.get(case.method, matrix))


def _parts_inputs(case: Case) -> Inputs:
    return Inputs(parts=[case.rand(case.size // PARTS) for _ in range(PARTS)])


def _flatten(inputs: Inputs) -> torch.Tensor:
    return inputs.x.flatten()


def _check_flatten(inputs: Inputs, result: torch.Tensor) -> None:
    assert_close(result, host(inputs.x).reshape(-1), rtol=0, atol=0, what="flatten")


RESHAPE = Operation(
    name="reshape",
    family="shape",
    description="x.reshape(4, -1) of a contiguous (n/4, 4) tensor (a view)",
    ladder=VECTOR,
    make_inputs=_matrix_inputs,
    call=lambda x: x.x.reshape(4, -1),
    check=lambda x, out: assert_close(out, host(x.x).reshape(4, -1), rtol=0, atol=0),
    footprint_bytes=vector_bytes(1),
)
FLATTEN = Operation(
    name="flatten",
    family="shape",
    description="x.flatten(): a view when contiguous, a copy of the transposed (4, n/4) view",
    ladder=VECTOR,
    make_inputs=_matrix_inputs,
    methods={"contiguous": _flatten, "non_contiguous": _flatten},
    check=_check_flatten,
    bytes_moved=lambda case: (
        2 * case.size * case.itemsize if case.method == "non_contiguous" else 0
    ),
    footprint_bytes=vector_bytes(2),
)
CAT = Operation(
    name="cat",
    family="shape",
    description=f"torch.cat of {PARTS} tensors of n/{PARTS} elements",
    ladder=VECTOR,
    make_inputs=_parts_inputs,
    call=lambda x: torch.cat(x.parts),
    check=lambda x, out: assert_close(out, np.concatenate([host(p) for p in x.parts]), rtol=0),
    bytes_moved=vector_bytes(2),
    footprint_bytes=vector_bytes(2),
)
STACK = Operation(
    name="stack",
    family="shape",
    description=f"torch.stack of {PARTS} tensors of n/{PARTS} elements",
    ladder=VECTOR,
    make_inputs=_parts_inputs,
    call=lambda x: torch.stack(x.parts),
    check=lambda x, out: assert_close(out, np.stack([host(p) for p in x.parts]), rtol=0),
    bytes_moved=vector_bytes(2),
    footprint_bytes=vector_bytes(2),
)


OPERATIONS = (RESHAPE, FLATTEN, CAT, STACK)
