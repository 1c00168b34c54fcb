"""Tensor creation: from a Python list, zeros, ones, rand, arange with a step."""

from ptbench import suite
from ptbench.operations import creation

time_tensor_from_list = suite.time_benchmark(creation.TENSOR_FROM_LIST)
time_zeros = suite.time_benchmark(creation.ZEROS)
time_ones = suite.time_benchmark(creation.ONES)
time_rand = suite.time_benchmark(creation.RAND)
time_arange = suite.time_benchmark(creation.ARANGE)
