"""Tensor creation: from a Python list, zeros, ones, rand, arange with a step."""

from ptbench.suite import declare
from ptbench.suite.operations import creation

time_tensor_from_list = declare.time_benchmark(creation.TENSOR_FROM_LIST)
time_zeros = declare.time_benchmark(creation.ZEROS)
time_ones = declare.time_benchmark(creation.ONES)
time_rand = declare.time_benchmark(creation.RAND)
time_arange = declare.time_benchmark(creation.ARANGE)
