"""Every operation's check passes on the CPU at small sizes, and catches a wrong answer."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from ptbench.suite.operations import OPERATIONS, Operation, Unsupported
from ptbench.suite.operations._base import Case
from ptbench.suite.tiers import HOST, MATRIX, VECTOR

SMALL = 1024


def small_cpu_cases(operation: Operation):
    for values in itertools.product(*operation.params):
        case = operation.case(*values)
        if case.device == "cpu" and case.size <= SMALL:
            yield case


CASES = [
    pytest.param(operation, case, id=f"{operation.name}-{case.size}-{case.dtype}-{case.method}")
    for operation in OPERATIONS.values()
    for case in small_cpu_cases(operation)
    if case.size in (min(operation.ladder.values), 64, 128)
]


def run_once(operation: Operation, case: Case):
    if operation.unsupported(case):
        pytest.skip(operation.unsupported(case))
    try:
        inputs = operation.make_inputs(case)
    except Unsupported as reason:
        pytest.skip(str(reason))
    return inputs, operation.call_for(case)(inputs)


def corrupt(result):
    """The same answer made wrong by more than any dtype's tolerance (25% and +0.5)."""
    if isinstance(result, tuple):
        return (corrupt(result[0]), *result[1:])
    if isinstance(result, torch.Tensor):
        if result.dtype in (torch.int64, torch.int32):
            return result + 1
        return result.detach() * 1.25 + 0.5
    if isinstance(result, (np.ndarray, pd.DataFrame)):
        return result * 1.25 + 0.5
    raise TypeError(type(result))


@pytest.mark.parametrize(("operation", "case"), CASES)
def test_check_passes_on_the_right_answer(operation, case):
    inputs, result = run_once(operation, case)
    operation.check(inputs, result)


@pytest.mark.parametrize(("operation", "case"), CASES)
def test_check_catches_a_wrong_answer(operation, case):
    inputs, result = run_once(operation, case)
    call = operation.call_for(case)
    if result is None:
        # Stateful operations (backward, parameter updates) change their inputs. Applying an
        # accumulating one twice is wrong; the idempotent ones get a gradient tripled.
        if operation.name in ("doubling_loop", "zero_grad"):
            inputs.x.grad.mul_(3)
        else:
            call(inputs)
    else:
        result = corrupt(result)
    with pytest.raises(AssertionError):
        operation.check(inputs, result)


def test_every_family_in_the_issue_is_covered():
    families = {operation.family for operation in OPERATIONS.values()}
    assert families == {
        "creation",
        "elementwise",
        "reduction",
        "shape",
        "indexing",
        "interop",
        "linalg",
        "autograd",
        "updates",
    }
    assert set(OPERATIONS["solve"].methods) == {
        "lu",
        "lu_ex",
        "lu_factor",
        "lu_factor_ex",
        "cholesky",
        "cholesky_ex",
        "cholesky_triangular",
    }
    assert set(OPERATIONS["update"].methods) == {
        "isub",
        "sub_alpha",
        "out_of_place",
        "copy_",
        "slice_assign",
    }
    assert set(OPERATIONS["sgd_step"].methods) == {"for_loop", "foreach", "fused"}


def test_params_are_device_then_size_then_dtype_then_method():
    solve = OPERATIONS["solve"]
    assert solve.param_names == ["device", "size", "dtype", "method"]
    assert solve.params[0] == ["cpu", "cuda"]
    assert solve.params[1] == list(MATRIX.values)
    assert OPERATIONS["sum"].param_names == ["device", "size"]
    case = solve.case("cuda", 64, "float64", "cholesky")
    assert (case.device, case.size, case.dtype, case.method) == ("cuda", 64, "float64", "cholesky")


def test_sizes_span_launch_bound_to_bandwidth_bound():
    assert VECTOR.values[0] == 16 and VECTOR.values[-1] == 2**28
    assert MATRIX.values[-1] == 8192
    ratios = {b / a for a, b in itertools.pairwise(VECTOR.values)}
    assert ratios == {8}  # log-spaced
    assert HOST.values[-1] < VECTOR.values[-1]


def test_inputs_are_reproducible():
    first = Case("cpu", 64).rand(64)
    second = Case("cpu", 64).rand(64)
    assert torch.equal(first, second)


def test_spd_matrix_is_symmetric_positive_definite():
    matrix = Case("cpu", 32, "float64").spd_matrix(32)
    assert torch.allclose(matrix, matrix.mT)
    assert torch.linalg.eigvalsh(matrix).min() >= 1 - 1e-9


def test_work_counts_follow_the_nominal_formulas():
    n = 1000.0
    assert OPERATIONS["matmul"].flops(Case("cpu", 1000)) == 2 * n**3
    lu = OPERATIONS["solve"].flops(Case("cpu", 1000, "float64", "lu"))
    cholesky = OPERATIONS["solve"].flops(Case("cpu", 1000, "float64", "cholesky"))
    assert lu == pytest.approx(2 * n**3 / 3 + 2 * n**2)
    assert cholesky == pytest.approx(n**3 / 3 + 2 * n**2)
    assert OPERATIONS["multiply"].bytes_moved(Case("cpu", 1000)) == 3 * 1000 * 4


def test_counting_work_needs_no_torch_and_counts_as_torch_does():
    """The analysis counts work with CountingCase (numpy's element sizes): the same bytes as
    Case (torch's ``element_size``) for every dtype an operation declares, and half precision."""
    from ptbench.suite.operations import CountingCase

    dtypes = {d for operation in OPERATIONS.values() for d in operation.dtypes}
    assert {"float32", "float64"} <= dtypes
    for dtype in dtypes | {"float16", "bfloat16", "complex64"}:
        assert CountingCase("cpu", 8, dtype).itemsize == Case("cpu", 8, dtype).itemsize, dtype
    for operation in OPERATIONS.values():
        for dtype, method in itertools.product(operation.dtypes, list(operation.methods) or [None]):
            real, counted = Case("cpu", 64, dtype, method), CountingCase("cpu", 64, dtype, method)
            for count in (operation.flops, operation.bytes_moved):
                if count is not None:
                    assert count(counted) == count(real), (operation.name, dtype, method)


def test_an_operation_needs_exactly_one_way_to_call_it():
    square = OPERATIONS["square"]
    with pytest.raises(TypeError, match="exactly one"):
        Operation(
            name="bad",
            family="x",
            description="",
            ladder=VECTOR,
            make_inputs=square.make_inputs,
            check=square.check,
            footprint_bytes=square.footprint_bytes,
        )


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("matmul", (64, "bfloat16")),
        ("matmul", (64, "float16")),
        ("matmul_batched", (16, "bfloat16")),
        ("to_device", (128, "pageable")),
        ("to_host", (128,)),
    ],
)
def test_checks_of_cuda_only_combinations_work_on_the_cpu(name, values):
    """The device gate is the only thing CUDA-specific: the calls and checks run on the CPU."""
    operation = OPERATIONS[name]
    case = operation.case("cpu", *values)
    assert operation.unsupported(case)
    inputs = operation.make_inputs(case)
    result = operation.call_for(case)(inputs)
    operation.check(inputs, result)
    with pytest.raises(AssertionError):
        operation.check(inputs, corrupt(result))
