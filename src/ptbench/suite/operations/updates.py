"""Parameter updates: in place versus out of place, and torch.optim.SGD implementations.

Every method computes the same new parameter, p - lr * g, so their times and the memory each
allocates (the suite's ``track_*_peak_bytes``) compare like with like.
"""

from __future__ import annotations

from ptbench.core import lazy
from ptbench.suite.operations._base import (
    Case,
    Inputs,
    Operation,
    Unsupported,
    assert_close,
    host,
    per_element,
    vector_bytes,
)
from ptbench.suite.tiers import VECTOR

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor
# (so ``torch.no_grad()`` is entered in each method's body, not applied as a decorator at import)

LEARNING_RATE = 0.01
MOMENTUM = 0.9
SGD_PARAMETERS = 16  # SGD steps over this many tensors of size / 16 elements


def _update_inputs(case: Case) -> Inputs:
    parameter = case.rand(case.size).requires_grad_()
    grad = case.rand(case.size)
    return Inputs(
        parameter=parameter,
        grad=grad,
        lr=LEARNING_RATE,
        expected=host(parameter) - LEARNING_RATE * host(grad),
    )


def _subtract_in_place(s: Inputs) -> None:
    with torch.no_grad():
        s.parameter -= s.lr * s.grad


def _sub_with_alpha(s: Inputs) -> None:
    with torch.no_grad():
        s.parameter.sub_(s.grad, alpha=s.lr)


def _out_of_place(s: Inputs) -> None:
    with torch.no_grad():
        s.parameter = s.parameter - s.lr * s.grad


def _copy_into(s: Inputs) -> None:
    with torch.no_grad():
        s.parameter.copy_(s.parameter - s.lr * s.grad)


def _assign_slice(s: Inputs) -> None:
    with torch.no_grad():
        s.parameter[:] = s.parameter - s.lr * s.grad


UPDATE = Operation(
    name="update",
    family="updates",
    description="p <- p - lr * g under torch.no_grad(), in place or out of place",
    ladder=VECTOR,
    make_inputs=_update_inputs,
    methods={
        "isub": _subtract_in_place,  # p -= lr * g
        "sub_alpha": _sub_with_alpha,  # p.sub_(g, alpha=lr)
        "out_of_place": _out_of_place,  # p = p - lr * g
        "copy_": _copy_into,  # p.copy_(p - lr * g)
        "slice_assign": _assign_slice,  # p[:] = p - lr * g
    },
    check=lambda x, _: assert_close(x.parameter, x.expected, rtol=1e-6, what="updated parameter"),
    flops=per_element(2),
    bytes_moved=vector_bytes(3),
    footprint_bytes=vector_bytes(5),
)

SGD_OPTIONS = {
    "for_loop": {"foreach": False},
    "foreach": {"foreach": True},
    "fused": {"fused": True},
}


def _sgd_inputs(case: Case) -> Inputs:
    parameters = [
        case.rand(max(case.size // SGD_PARAMETERS, 1)).requires_grad_()
        for _ in range(SGD_PARAMETERS)
    ]
    for parameter in parameters:
        parameter.grad = case.rand(*parameter.shape)
    try:
        optimizer = torch.optim.SGD(
            parameters, lr=LEARNING_RATE, momentum=MOMENTUM, **SGD_OPTIONS[case.method]
        )
    except RuntimeError as error:  # fused kernels exist only for some devices and dtypes
        raise Unsupported(f"SGD({case.method}) is not available here: {error}") from error
    # With momentum, the first step starts the buffer at g, so it moves p by lr * g.
    expected = [host(p) - LEARNING_RATE * host(p.grad) for p in parameters]
    return Inputs(optimizer=optimizer, parameters=parameters, expected=expected)


def _check_sgd(inputs: Inputs, _result: None) -> None:
    for index, (parameter, expected) in enumerate(
        zip(inputs.parameters, inputs.expected, strict=True)
    ):
        assert_close(parameter, expected, rtol=1e-6, what=f"SGD parameter {index}")


SGD_STEP = Operation(
    name="sgd_step",
    family="updates",
    description=f"torch.optim.SGD(momentum={MOMENTUM}).step() over {SGD_PARAMETERS} tensors",
    ladder=VECTOR,
    make_inputs=_sgd_inputs,
    methods={name: (lambda x: x.optimizer.step()) for name in SGD_OPTIONS},
    check=_check_sgd,
    flops=per_element(4),
    bytes_moved=vector_bytes(5),
    footprint_bytes=vector_bytes(4),
)


OPERATIONS = (UPDATE, SGD_STEP)
