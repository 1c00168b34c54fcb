"""The definition every operation shares: inputs, the timed call, the check, the work counts.

An operation is defined once. The asv suite reads ``params``/``param_names`` and times ``call``;
the tests run ``check`` against deliberately wrong answers; the analysis reads ``flops`` and
``bytes_moved`` to turn times into throughput.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ptbench.core import lazy
from ptbench.hardware.devices import DEVICES, float32_matmul_is_reduced
from ptbench.suite.tiers import Ladder

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor

# One seed for every input, so every run times the same data (as pandas' asv_bench does).
SEED = 1234
# Element sizes numpy does not know (the other dtypes' are numpy's).
ITEMSIZES = {"bfloat16": 2}

Inputs = SimpleNamespace
Call = Callable[[Inputs], Any]


class Unsupported(Exception):
    """This combination cannot run here; the message says why (recorded by asv as a skip)."""


@dataclass
class Case:
    """One combination of an operation's parameters, with a seeded source of random inputs."""

    device: str
    size: int
    dtype: str = "float32"
    method: str | None = None
    _generator: torch.Generator | None = field(default=None, repr=False)

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    @property
    def itemsize(self) -> int:
        return torch.empty((), dtype=self.torch_dtype).element_size()

    def rand(self, *shape: int, dtype: str | None = None) -> torch.Tensor:
        """Uniform [0, 1) numbers, made on the device (no host round trip for 1 GiB inputs)."""
        if self._generator is None:
            self._generator = torch.Generator(device=self.device).manual_seed(SEED)
        torch_dtype = getattr(torch, dtype) if dtype else self.torch_dtype
        return torch.rand(shape, generator=self._generator, device=self.device, dtype=torch_dtype)

    def spd_matrix(self, n: int) -> torch.Tensor:
        """A well-conditioned symmetric positive-definite matrix (eigenvalues in [1, ~1 + n/3])."""
        m = self.rand(n, n, dtype="float64")
        spd = m @ m.mT / n + torch.eye(n, dtype=torch.float64, device=self.device)
        return spd.to(self.torch_dtype)


@dataclass
class CountingCase(Case):
    """A Case for counting work only (loading results, where torch is never imported): its
    element size from numpy, which torch's equals (tested). ``Case`` itself is left as it was:
    its source is part of every benchmark's version (``suite.definition_version``), and a new
    version would hide a benchmark's history from asv."""

    @property
    def itemsize(self) -> int:
        return ITEMSIZES.get(self.dtype) or np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class Operation:
    """One timed PyTorch operation and everything needed to time it honestly.

    Give either ``call`` (one way to do it) or ``methods`` (alternatives that compute the same
    answer, e.g. LU vs Cholesky solves: they become the ``method`` parameter, so results can be
    compared method against method). ``make_inputs`` may raise :class:`Unsupported`.
    ``check(inputs, result)`` raises AssertionError unless ``result`` (the return value of the
    call, run once on fresh inputs) matches an independent reference (numpy, scipy, a residual).
    """

    name: str
    family: str
    description: str
    ladder: Ladder
    make_inputs: Callable[[Case], Inputs]
    check: Callable[[Inputs, Any], None]
    footprint_bytes: Callable[[Case], float]
    call: Call | None = None
    methods: Mapping[str, Call] = field(default_factory=dict)
    dtypes: tuple[str, ...] = ("float32",)
    flops: Callable[[Case], float] | None = None
    bytes_moved: Callable[[Case], float] | None = None
    unsupported: Callable[[Case], str | None] = lambda case: None
    # What limits it at large sizes: "compute" (judged against peak FLOP/s, from ``flops``) or
    # "memory" (against copy bandwidth, from ``bytes_moved``).
    bound: str = "memory"

    def __post_init__(self) -> None:
        if (self.call is None) == (not self.methods):
            raise TypeError(f"{self.name}: give exactly one of call= or methods=")
        if self.bound == "compute" and self.flops is None:
            raise TypeError(f"{self.name}: a compute-bound operation needs flops=")

    @property
    def param_names(self) -> list[str]:
        names = ["device", "size"]
        if len(self.dtypes) > 1:
            names.append("dtype")
        if self.methods:
            names.append("method")
        return names

    @property
    def params(self) -> list[list]:
        params: list[list] = [list(DEVICES), list(self.ladder.values)]
        if len(self.dtypes) > 1:
            params.append(list(self.dtypes))
        if self.methods:
            params.append(list(self.methods))
        return params

    def case(self, *param_values: Any) -> Case:
        """The Case for one tuple of param values, in ``param_names`` order."""
        values = dict(zip(self.param_names, param_values, strict=True))
        return Case(
            device=values["device"],
            size=int(values["size"]),
            dtype=values.get("dtype", self.dtypes[0]),
            method=values.get("method"),
        )

    def call_for(self, case: Case) -> Call:
        return self.methods[case.method] if self.methods else self.call


# Work counts and footprints shared by many operations --------------------------------------


def per_element(count: float) -> Callable[[Case], float]:
    """``count`` per element of the input (FLOPs per element, or tensors' worth of bytes)."""
    return lambda case: count * case.size


def vector_bytes(tensors: float) -> Callable[[Case], float]:
    """Bytes of ``tensors`` vectors of ``case.size`` elements."""
    return lambda case: tensors * case.size * case.itemsize


def matrix_bytes(matrices: float, batch: int = 1) -> Callable[[Case], float]:
    """Bytes of ``matrices`` square matrices of order ``case.size`` (each a batch of ``batch``)."""
    return lambda case: matrices * batch * case.size**2 * case.itemsize


def cubic(coefficient: float) -> Callable[[Case], float]:
    """Nominal FLOPs ``coefficient * n**3`` (LAPACK Working Note 41, Golub & Van Loan)."""
    return lambda case: coefficient * float(case.size) ** 3


# Checks ------------------------------------------------------------------------------------


def host(tensor: torch.Tensor) -> np.ndarray:
    """A float64 (or complex128) numpy copy of ``tensor``, for references computed on the host."""
    tensor = tensor.detach().cpu()
    if tensor.is_complex():
        return tensor.to(torch.complex128).numpy()
    if tensor.dtype == torch.bool:
        return tensor.numpy()
    return tensor.to(torch.float64).numpy()


def tolerance(dtype: torch.dtype) -> float:
    """Relative tolerance for results computed in ``dtype`` (a few units of its last place)."""
    if dtype in (torch.float16, torch.bfloat16):
        return 3e-2
    if dtype == torch.float32:
        # TF32 (when the user allows it on CUDA) keeps 10 mantissa bits.
        return 1e-2 if float32_matmul_is_reduced() else 1e-4
    return 1e-10


def assert_close(
    actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6, what: str = "result"
) -> None:
    """numpy's assert_allclose on host copies, with shapes compared first."""
    actual = host(actual) if isinstance(actual, torch.Tensor) else np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} != expected {expected.shape}"
    )
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def assert_relative_error(
    actual: np.ndarray, expected: np.ndarray, limit: float, what: str
) -> None:
    """||actual - expected|| / ||expected|| <= limit (norms are 2-norms over all entries)."""
    scale = np.linalg.norm(expected)
    error = np.linalg.norm(actual - expected) / (scale if scale else 1.0)
    assert math.isfinite(error) and error <= limit, (
        f"{what}: relative error {error:.3g} exceeds {limit:.3g}"
    )


def probe_vector(n: int, columns: int = 1) -> np.ndarray:
    """Random float64 vectors for randomized (Freivalds-style) checks of n x n results.

    Comparing ``M @ v`` with a reference computed as a product of factors costs O(n^2) instead of
    the O(n^3) of rebuilding M, so checks stay cheap at n = 8192.
    """
    return np.random.default_rng(SEED).standard_normal((n, columns))
