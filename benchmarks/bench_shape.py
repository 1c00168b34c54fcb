"""Shape manipulation: reshape, flatten (contiguous and non-contiguous), cat, stack."""

from ptbench.suite import declare
from ptbench.suite.operations import shape

time_reshape = declare.time_benchmark(shape.RESHAPE)
time_flatten = declare.time_benchmark(shape.FLATTEN)
time_cat = declare.time_benchmark(shape.CAT)
time_stack = declare.time_benchmark(shape.STACK)
