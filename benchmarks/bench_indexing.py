"""Indexing and masking: slices, boolean masks, torch.where."""

from ptbench import suite
from ptbench.operations import indexing

time_slice = suite.time_benchmark(indexing.SLICE)
time_masked_select = suite.time_benchmark(indexing.MASKED_SELECT)
time_where_indices = suite.time_benchmark(indexing.WHERE_INDICES)
time_where_select = suite.time_benchmark(indexing.WHERE_SELECT)
