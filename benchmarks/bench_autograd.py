"""Autograd: backward passes, a data-dependent loop, clearing gradients, an MLP training step."""

from ptbench.suite import declare
from ptbench.suite.operations import autograd

time_backward = declare.time_benchmark(autograd.BACKWARD)
time_doubling_loop = declare.time_benchmark(autograd.DOUBLING_LOOP)
time_zero_grad = declare.time_benchmark(autograd.ZERO_GRAD)
time_mlp_forward_backward = declare.time_benchmark(autograd.MLP_STEP)
