"""Indexing and masking: slices, boolean masks, torch.where."""

from ptbench.suite import declare
from ptbench.suite.operations import indexing

time_slice = declare.time_benchmark(indexing.SLICE)
time_masked_select = declare.time_benchmark(indexing.MASKED_SELECT)
time_where_indices = declare.time_benchmark(indexing.WHERE_INDICES)
time_where_select = declare.time_benchmark(indexing.WHERE_SELECT)
