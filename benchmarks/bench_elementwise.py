"""Elementwise arithmetic and reductions."""

from ptbench.suite import declare
from ptbench.suite.operations import elementwise

time_square = declare.time_benchmark(elementwise.SQUARE)
time_multiply = declare.time_benchmark(elementwise.MULTIPLY)
time_sum = declare.time_benchmark(elementwise.SUM)
time_mean = declare.time_benchmark(elementwise.MEAN)
