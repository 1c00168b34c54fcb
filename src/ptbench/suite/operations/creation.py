"""Tensor creation: from a Python list, zeros, ones, rand, arange with a step."""

from __future__ import annotations

import numpy as np

from ptbench.core import lazy
from ptbench.suite.operations._base import (
    SEED,
    Case,
    Inputs,
    Operation,
    assert_close,
    per_element,
    vector_bytes,
)
from ptbench.suite.tiers import HOST, VECTOR

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor

ARANGE_STEP = 0.5


def _list_inputs(case: Case) -> Inputs:
    values = np.random.default_rng(SEED).random(case.size, dtype=np.float32)
    return Inputs(values=values.tolist(), expected=values, device=case.device)


def _size_inputs(case: Case) -> Inputs:
    return Inputs(n=case.size, device=case.device)


def _check_rand(inputs: Inputs, result: torch.Tensor) -> None:
    values = result.cpu().numpy()
    assert values.shape == (inputs.n,), f"rand: shape {values.shape} != ({inputs.n},)"
    assert values.min() >= 0.0 and values.max() < 1.0, "rand: values outside [0, 1)"
    # The mean of n uniforms is within 6 standard errors of 1/2 except with negligible odds.
    standard_error = (1 / 12 / inputs.n) ** 0.5
    assert abs(values.mean() - 0.5) < 6 * standard_error, f"rand: mean {values.mean():.4f}"


TENSOR_FROM_LIST = Operation(
    name="tensor_from_list",
    family="creation",
    description="torch.tensor(list_of_floats, device=device)",
    ladder=HOST,
    make_inputs=_list_inputs,
    call=lambda x: torch.tensor(x.values, device=x.device),
    check=lambda x, out: assert_close(out, x.expected, rtol=0, atol=0),
    bytes_moved=vector_bytes(1),
    footprint_bytes=lambda case: case.size * (case.itemsize + 32),  # + a Python float each
)
ZEROS = Operation(
    name="zeros",
    family="creation",
    description="torch.zeros(n, device=device)",
    ladder=VECTOR,
    make_inputs=_size_inputs,
    call=lambda x: torch.zeros(x.n, device=x.device),
    check=lambda x, out: assert_close(out, np.zeros(x.n), rtol=0, atol=0),
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)
ONES = Operation(
    name="ones",
    family="creation",
    description="torch.ones(n, device=device)",
    ladder=VECTOR,
    make_inputs=_size_inputs,
    call=lambda x: torch.ones(x.n, device=x.device),
    check=lambda x, out: assert_close(out, np.ones(x.n), rtol=0, atol=0),
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)
RAND = Operation(
    name="rand",
    family="creation",
    description="torch.rand(n, device=device)",
    ladder=VECTOR,
    make_inputs=_size_inputs,
    call=lambda x: torch.rand(x.n, device=x.device),
    check=_check_rand,
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)
ARANGE = Operation(
    name="arange",
    family="creation",
    description=f"torch.arange(0, n * {ARANGE_STEP}, {ARANGE_STEP}, device=device)",
    ladder=VECTOR,
    make_inputs=_size_inputs,
    call=lambda x: torch.arange(0, x.n * ARANGE_STEP, ARANGE_STEP, device=x.device),
    check=lambda x, out: assert_close(out, np.arange(x.n) * ARANGE_STEP, rtol=0, atol=0),
    flops=per_element(1),
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)


OPERATIONS = (TENSOR_FROM_LIST, ZEROS, ONES, RAND, ARANGE)
