"""Linear algebra: matmul, solving SPD systems by LU versus Cholesky, eig, eigh, svd, svdvals.

Checks are randomized: ``M @ v`` against a product of factors for a random probe ``v`` costs
O(n^2) on the host, so an n = 8192 result is verified in well under a second.
FLOP counts are nominal (LAPACK Working Note 41; Golub & Van Loan), for throughput plots.
"""

from __future__ import annotations

import numpy as np

from ptbench.core import lazy
from ptbench.suite.operations._base import (
    Case,
    Inputs,
    Operation,
    assert_relative_error,
    cubic,
    host,
    matrix_bytes,
    probe_vector,
    tolerance,
)
from ptbench.suite.tiers import BATCHED_MATRIX, MATRIX

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor

BATCH = 64
HALF_PRECISION = ("bfloat16", "float16")
RIGHT_HAND_SIDES = 1


def _half_precision_on_cuda_only(case: Case) -> str | None:
    if case.dtype in HALF_PRECISION and case.device == "cpu":
        return f"{case.dtype} matmul is timed on CUDA only (CPU kernels are not tuned for it)"
    return None


# Matmul -----------------------------------------------------------------------------------


def _matmul_inputs(batch: tuple[int, ...]):
    def make_inputs(case: Case) -> Inputs:
        shape = (*batch, case.size, case.size)
        return Inputs(a=case.rand(*shape), b=case.rand(*shape))

    return make_inputs


def _check_matmul(inputs: Inputs, result: torch.Tensor) -> None:
    """Freivalds: (A @ B) v == A @ (B @ v), with the right side in float64 numpy."""
    v = probe_vector(inputs.a.shape[-1])
    expected = host(inputs.a) @ (host(inputs.b) @ v)
    assert_relative_error(host(result) @ v, expected, tolerance(inputs.a.dtype), "matmul")


MATMUL = Operation(
    name="matmul",
    family="linalg",
    description="a @ b, square n x n",
    ladder=MATRIX,
    dtypes=("float32", "float64", *HALF_PRECISION),
    make_inputs=_matmul_inputs(batch=()),
    call=lambda x: x.a @ x.b,
    check=_check_matmul,
    unsupported=_half_precision_on_cuda_only,
    flops=cubic(2),
    bound="compute",
    bytes_moved=matrix_bytes(3),
    footprint_bytes=matrix_bytes(3),
)
MATMUL_BATCHED = Operation(
    name="matmul_batched",
    family="linalg",
    description=f"torch.matmul of two ({BATCH}, n, n) batches",
    ladder=BATCHED_MATRIX,
    dtypes=MATMUL.dtypes,
    make_inputs=_matmul_inputs(batch=(BATCH,)),
    call=lambda x: torch.matmul(x.a, x.b),
    check=_check_matmul,
    unsupported=_half_precision_on_cuda_only,
    flops=lambda case: BATCH * cubic(2)(case),
    bound="compute",
    bytes_moved=matrix_bytes(3, batch=BATCH),
    footprint_bytes=matrix_bytes(3, batch=BATCH),
)


# Solving A x = b for symmetric positive-definite A ----------------------------------------


def _solve_inputs(case: Case) -> Inputs:
    return Inputs(a=case.spd_matrix(case.size), b=case.rand(case.size, RIGHT_HAND_SIDES))


def _lu_factor_solve(x: Inputs) -> torch.Tensor:
    lu, pivots = torch.linalg.lu_factor(x.a)
    return torch.linalg.lu_solve(lu, pivots, x.b)


def _lu_factor_ex_solve(x: Inputs) -> torch.Tensor:
    lu, pivots, _info = torch.linalg.lu_factor_ex(x.a)
    return torch.linalg.lu_solve(lu, pivots, x.b)


def _cholesky_solve(x: Inputs) -> torch.Tensor:
    return torch.cholesky_solve(x.b, torch.linalg.cholesky(x.a))


def _cholesky_ex_solve(x: Inputs) -> torch.Tensor:
    factor, _info = torch.linalg.cholesky_ex(x.a)
    return torch.cholesky_solve(x.b, factor)


def _cholesky_triangular_solve(x: Inputs) -> torch.Tensor:
    factor = torch.linalg.cholesky(x.a)
    y = torch.linalg.solve_triangular(factor, x.b, upper=False)
    return torch.linalg.solve_triangular(factor.mH, y, upper=True)


SOLVE_METHODS = {
    "lu": lambda x: torch.linalg.solve(x.a, x.b),
    # The _ex variants skip the error check, so they do not wait for the device (no host sync).
    "lu_ex": lambda x: torch.linalg.solve_ex(x.a, x.b)[0],
    "lu_factor": _lu_factor_solve,
    "lu_factor_ex": _lu_factor_ex_solve,
    "cholesky": _cholesky_solve,
    "cholesky_ex": _cholesky_ex_solve,
    "cholesky_triangular": _cholesky_triangular_solve,
}


def _solve_flops(case: Case) -> float:
    n = float(case.size)
    factor = n**3 / 3 if case.method.startswith("cholesky") else 2 * n**3 / 3
    return factor + 2 * n**2 * RIGHT_HAND_SIDES


def _check_solve(inputs: Inputs, result: torch.Tensor) -> None:
    """Backward-stable residual: ||A x - b|| <= tol * (||A|| ||x|| + ||b||)."""
    a, b, x = host(inputs.a), host(inputs.b), host(result)
    residual = np.linalg.norm(a @ x - b)
    scale = np.linalg.norm(a) * np.linalg.norm(x) + np.linalg.norm(b)
    limit = tolerance(inputs.a.dtype)
    assert residual <= limit * scale, f"solve: residual {residual:.3g} > {limit * scale:.3g}"


SOLVE = Operation(
    name="solve",
    family="linalg",
    description="solve A x = b (SPD A, one right-hand side) by LU or Cholesky",
    ladder=MATRIX,
    dtypes=("float32", "float64"),
    make_inputs=_solve_inputs,
    methods=SOLVE_METHODS,
    check=_check_solve,
    flops=_solve_flops,
    bound="compute",
    bytes_moved=matrix_bytes(2),
    footprint_bytes=matrix_bytes(3),
)


# Decompositions ---------------------------------------------------------------------------


def _check_eigenpairs(
    a: np.ndarray, values: np.ndarray, vectors: np.ndarray, limit: float, what: str
) -> None:
    """A (V u) == V (w * u) for a random u: every eigenpair, weighted at random, in O(n^2)."""
    u = probe_vector(a.shape[0])
    assert_relative_error(a @ (vectors @ u), vectors @ (values[:, None] * u), limit, what)


def _check_eig(inputs: Inputs, result) -> None:
    values, vectors = result
    _check_eigenpairs(
        host(inputs.a), host(values), host(vectors), 100 * tolerance(inputs.a.dtype), "eig"
    )


def _check_eigh(inputs: Inputs, result) -> None:
    values, vectors = result
    a, w, v = host(inputs.a), host(values), host(vectors)
    limit = 100 * tolerance(inputs.a.dtype)
    _check_eigenpairs(a, w, v, limit, "eigh")
    u = probe_vector(a.shape[0])
    assert_relative_error(v.T @ (v @ u), u, limit, "eigh eigenvectors orthonormal")
    assert np.all(np.diff(w) >= 0), "eigh: eigenvalues not ascending"


def _check_svd(inputs: Inputs, result) -> None:
    u_factor, singular, vh = (host(t) for t in result)
    a, probe = host(inputs.a), probe_vector(inputs.a.shape[0])
    reconstructed = u_factor @ (singular[:, None] * (vh @ probe))
    assert_relative_error(reconstructed, a @ probe, 100 * tolerance(inputs.a.dtype), "svd")


def _check_svdvals(inputs: Inputs, result: torch.Tensor) -> None:
    """sum(s^2) == ||A||_F^2, s descending and non-negative: invariants numpy computes in O(n^2)."""
    singular, a = host(result), host(inputs.a)
    assert np.all(singular >= 0) and np.all(np.diff(singular) <= 0), "svdvals: not sorted >= 0"
    assert_relative_error(
        np.sum(singular**2), np.sum(a**2), 10 * tolerance(inputs.a.dtype), "svdvals Frobenius norm"
    )


def _general_inputs(case: Case) -> Inputs:
    return Inputs(a=case.rand(case.size, case.size))


def _symmetric_inputs(case: Case) -> Inputs:
    return Inputs(a=case.spd_matrix(case.size))


DECOMPOSITION_DTYPES = ("float32", "float64")
EIG = Operation(
    name="eig",
    family="linalg",
    description="torch.linalg.eig of a general n x n matrix (complex eigenvectors)",
    ladder=MATRIX,
    dtypes=DECOMPOSITION_DTYPES,
    make_inputs=_general_inputs,
    call=lambda x: torch.linalg.eig(x.a),
    check=_check_eig,
    flops=cubic(25),
    bound="compute",
    footprint_bytes=matrix_bytes(6),
)
EIGH = Operation(
    name="eigh",
    family="linalg",
    description="torch.linalg.eigh of a symmetric n x n matrix (values and vectors)",
    ladder=MATRIX,
    dtypes=DECOMPOSITION_DTYPES,
    make_inputs=_symmetric_inputs,
    call=lambda x: torch.linalg.eigh(x.a),
    check=_check_eigh,
    flops=cubic(9),
    bound="compute",
    footprint_bytes=matrix_bytes(4),
)
SVD = Operation(
    name="svd",
    family="linalg",
    description="torch.linalg.svd(a, full_matrices=False) of an n x n matrix",
    ladder=MATRIX,
    dtypes=DECOMPOSITION_DTYPES,
    make_inputs=_general_inputs,
    call=lambda x: torch.linalg.svd(x.a, full_matrices=False),
    check=_check_svd,
    flops=cubic(22),
    bound="compute",
    footprint_bytes=matrix_bytes(5),
)
SVDVALS = Operation(
    name="svdvals",
    family="linalg",
    description="torch.linalg.svdvals of an n x n matrix (singular values only)",
    ladder=MATRIX,
    dtypes=DECOMPOSITION_DTYPES,
    make_inputs=_general_inputs,
    call=lambda x: torch.linalg.svdvals(x.a),
    check=_check_svdvals,
    flops=cubic(8 / 3),
    bound="compute",
    footprint_bytes=matrix_bytes(3),
)


OPERATIONS = (MATMUL, MATMUL_BATCHED, SOLVE, EIG, EIGH, SVD, SVDVALS)
