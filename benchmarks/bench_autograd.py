"""Autograd: backward passes, a data-dependent loop, clearing gradients, an MLP training step."""

from ptbench import suite
from ptbench.operations import autograd

time_backward = suite.time_benchmark(autograd.BACKWARD)
time_doubling_loop = suite.time_benchmark(autograd.DOUBLING_LOOP)
time_zero_grad = suite.time_benchmark(autograd.ZERO_GRAD)
time_mlp_forward_backward = suite.time_benchmark(autograd.MLP_STEP)
