"""Elementwise arithmetic and reductions: x ** 2, x * y, sum, mean."""

from __future__ import annotations

from ptbench.core import lazy
from ptbench.suite.operations._base import (
    Case,
    Inputs,
    Operation,
    assert_close,
    host,
    per_element,
    tolerance,
    vector_bytes,
)
from ptbench.suite.tiers import VECTOR

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor


def _one_vector(case: Case) -> Inputs:
    return Inputs(x=case.rand(case.size))


def _two_vectors(case: Case) -> Inputs:
    return Inputs(x=case.rand(case.size), y=case.rand(case.size))


def _check_reduction(reference):
    """Compare a float32 reduction with numpy's in float64 (pairwise summation error ~ eps)."""

    def check(inputs: Inputs, result: torch.Tensor) -> None:
        assert_close(result, reference(host(inputs.x)), rtol=tolerance(inputs.x.dtype))

    return check


SQUARE = Operation(
    name="square",
    family="elementwise",
    description="x ** 2",
    ladder=VECTOR,
    make_inputs=_one_vector,
    call=lambda x: x.x**2,
    check=lambda x, out: assert_close(out, host(x.x) ** 2, rtol=1e-6),
    flops=per_element(1),
    bytes_moved=vector_bytes(2),
    footprint_bytes=vector_bytes(3),
)
MULTIPLY = Operation(
    name="multiply",
    family="elementwise",
    description="x * y",
    ladder=VECTOR,
    make_inputs=_two_vectors,
    call=lambda x: x.x * x.y,
    check=lambda x, out: assert_close(out, host(x.x) * host(x.y), rtol=1e-6),
    flops=per_element(1),
    bytes_moved=vector_bytes(3),
    footprint_bytes=vector_bytes(4),
)
SUM = Operation(
    name="sum",
    family="reduction",
    description="x.sum()",
    ladder=VECTOR,
    make_inputs=_one_vector,
    call=lambda x: x.x.sum(),
    check=_check_reduction(lambda values: values.sum()),
    flops=per_element(1),
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)
MEAN = Operation(
    name="mean",
    family="reduction",
    description="x.mean()",
    ladder=VECTOR,
    make_inputs=_one_vector,
    call=lambda x: x.x.mean(),
    check=_check_reduction(lambda values: values.mean()),
    flops=per_element(1),
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)


OPERATIONS = (SQUARE, MULTIPLY, SUM, MEAN)
