"""Parameter updates, in place versus out of place, timed and with the memory each allocates."""

from ptbench import suite
from ptbench.operations import updates

time_update = suite.time_benchmark(updates.UPDATE)
track_update_peak_bytes = suite.peak_memory_benchmark(updates.UPDATE)
time_sgd_step = suite.time_benchmark(updates.SGD_STEP)
track_sgd_step_peak_bytes = suite.peak_memory_benchmark(updates.SGD_STEP)
