"""Elementwise arithmetic and reductions."""

from ptbench import suite
from ptbench.operations import elementwise

time_square = suite.time_benchmark(elementwise.SQUARE)
time_multiply = suite.time_benchmark(elementwise.MULTIPLY)
time_sum = suite.time_benchmark(elementwise.SUM)
time_mean = suite.time_benchmark(elementwise.MEAN)
