"""Autograd: backward of small graphs, a data-dependent loop, zeroing gradients, an MLP step."""

from __future__ import annotations

import numpy as np

from ptbench.core import lazy
from ptbench.suite.operations._base import (
    Case,
    Inputs,
    Operation,
    assert_close,
    host,
    per_element,
    vector_bytes,
)
from ptbench.suite.tiers import MLP, VECTOR

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor

MLP_BATCH = 64
LOOP_NORM_LIMIT = 1000.0

# Each loss and its analytic gradients, as functions of the host values of x and y.
LOSSES = {
    "x_squared": (lambda x, y: (x * x).sum(), lambda x, y: {"x": 2 * x}),
    "x_cubed": (lambda x, y: (x**3).sum(), lambda x, y: {"x": 3 * x**2}),
    "x_times_y": (lambda x, y: (x * y).sum(), lambda x, y: {"x": y, "y": x}),
}


def _leaves(case: Case) -> Inputs:
    x = case.rand(case.size).requires_grad_()
    y = case.rand(case.size).requires_grad_()
    return Inputs(x=x, y=y)


def _backward_inputs(case: Case) -> Inputs:
    inputs = _leaves(case)
    build_loss, _gradients = LOSSES[case.method]
    inputs.loss = build_loss(inputs.x, inputs.y)
    inputs.method = case.method
    return inputs


def _backward(inputs: Inputs) -> None:
    # retain_graph keeps the graph for the next call, so only the backward pass is timed.
    inputs.loss.backward(retain_graph=True)


def _check_backward(inputs: Inputs, _result: None) -> None:
    _loss, gradients = LOSSES[inputs.method]
    for name, expected in gradients(host(inputs.x), host(inputs.y)).items():
        assert_close(getattr(inputs, name).grad, expected, rtol=1e-5, what=f"d loss / d {name}")


BACKWARD = Operation(
    name="backward",
    family="autograd",
    description="loss.backward() of sum(x * x), sum(x ** 3) or sum(x * y) (graph prebuilt)",
    ladder=VECTOR,
    make_inputs=_backward_inputs,
    methods={name: _backward for name in LOSSES},
    check=_check_backward,
    flops=per_element(2),
    bytes_moved=vector_bytes(3),
    footprint_bytes=vector_bytes(6),
)


def _doubling_loop(inputs: Inputs) -> None:
    inputs.x.grad = None
    y = inputs.x * 2
    while y.norm() < LOOP_NORM_LIMIT:  # data-dependent: a host sync per iteration on CUDA
        y = y * 2
    y.sum().backward()


def _check_doubling_loop(inputs: Inputs, _result: None) -> None:
    x = host(inputs.x)
    factor = 2.0
    while np.linalg.norm(factor * x) < LOOP_NORM_LIMIT:
        factor *= 2
    assert_close(inputs.x.grad, np.full_like(x, factor), rtol=0, what="doubling loop gradient")


DOUBLING_LOOP = Operation(
    name="doubling_loop",
    family="autograd",
    description=f"y = 2x; while y.norm() < {LOOP_NORM_LIMIT:g}: y = 2y; y.sum().backward()",
    ladder=VECTOR,
    make_inputs=_leaves,
    call=_doubling_loop,
    check=_check_doubling_loop,
    footprint_bytes=vector_bytes(16),
)


def _zero_grad_inputs(case: Case) -> Inputs:
    inputs = _leaves(case)
    inputs.loss = (inputs.x * inputs.x).sum()
    inputs.loss.backward(retain_graph=True)  # so there is a gradient to zero
    return inputs


def _zero_then_backward(inputs: Inputs) -> None:
    inputs.x.grad.zero_()
    inputs.loss.backward(retain_graph=True)


def _none_then_backward(inputs: Inputs) -> None:
    inputs.x.grad = None
    inputs.loss.backward(retain_graph=True)


ZERO_GRAD = Operation(
    name="zero_grad",
    family="autograd",
    description="clear x.grad (grad.zero_() or grad = None), then backward of sum(x * x)",
    ladder=VECTOR,
    make_inputs=_zero_grad_inputs,
    methods={"zero_": _zero_then_backward, "set_to_none": _none_then_backward},
    # Without the clearing the gradient would accumulate to 4x.
    check=lambda x, _: assert_close(x.x.grad, 2 * host(x.x), rtol=1e-6, what="cleared gradient"),
    bytes_moved=vector_bytes(3),
    footprint_bytes=vector_bytes(6),
)


def _mlp_inputs(case: Case) -> Inputs:
    width = case.size
    layers = [
        torch.nn.Linear(width, width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, 1),
    ]
    model = torch.nn.Sequential(*layers).to(case.device)
    with torch.no_grad():
        for parameter in model.parameters():
            fan_in = parameter.shape[-1]
            parameter.copy_((case.rand(*parameter.shape) - 0.5) * (6 / fan_in) ** 0.5)
    return Inputs(model=model, x=case.rand(MLP_BATCH, width), target=case.rand(MLP_BATCH, 1))


def _mlp_step(inputs: Inputs) -> torch.Tensor:
    inputs.model.zero_grad(set_to_none=True)
    loss = torch.nn.functional.mse_loss(inputs.model(inputs.x), inputs.target)
    loss.backward()
    return loss


def _check_mlp(inputs: Inputs, loss: torch.Tensor) -> None:
    """Backpropagation written out in numpy (float64) against autograd's gradients."""
    linears = [m for m in inputs.model if isinstance(m, torch.nn.Linear)]
    weights = [(host(m.weight), host(m.bias)) for m in linears]
    activations, pre_activations = [host(inputs.x)], []
    for index, (w, b) in enumerate(weights):
        z = activations[-1] @ w.T + b
        pre_activations.append(z)
        activations.append(z if index == len(weights) - 1 else np.maximum(z, 0))
    residual = activations[-1] - host(inputs.target)
    assert_close(loss, np.mean(residual**2), rtol=1e-4, what="MLP loss")
    upstream = 2 * residual / residual.size
    for index in reversed(range(len(weights))):
        w, _b = weights[index]
        assert_close(
            linears[index].weight.grad,
            upstream.T @ activations[index],
            rtol=1e-3,
            atol=1e-6,
            what=f"MLP layer {index} weight gradient",
        )
        assert_close(
            linears[index].bias.grad,
            upstream.sum(axis=0),
            rtol=1e-3,
            atol=1e-6,
            what=f"MLP layer {index} bias gradient",
        )
        if index:
            upstream = (upstream @ w) * (pre_activations[index - 1] > 0)


def _mlp_parameters(case: Case) -> float:
    return 2 * (case.size**2 + case.size) + case.size + 1


MLP_STEP = Operation(
    name="mlp_forward_backward",
    family="autograd",
    description=f"zero_grad, MSE loss and backward of a 3-layer ReLU MLP, batch {MLP_BATCH}",
    ladder=MLP,
    make_inputs=_mlp_inputs,
    call=_mlp_step,
    check=_check_mlp,
    # forward 2 FLOPs per weight per row, backward twice that
    flops=lambda case: 6 * MLP_BATCH * _mlp_parameters(case),
    bound="compute",
    footprint_bytes=lambda case: 4 * case.itemsize * _mlp_parameters(case),
)


OPERATIONS = (BACKWARD, DOUBLING_LOOP, ZERO_GRAD, MLP_STEP)
