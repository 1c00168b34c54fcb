"""Shape manipulation: reshape, flatten (contiguous and non-contiguous), cat, stack."""

from ptbench import suite
from ptbench.operations import shape

time_reshape = suite.time_benchmark(shape.RESHAPE)
time_flatten = suite.time_benchmark(shape.FLATTEN)
time_cat = suite.time_benchmark(shape.CAT)
time_stack = suite.time_benchmark(shape.STACK)
