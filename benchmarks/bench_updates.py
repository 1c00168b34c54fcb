"""Parameter updates, in place versus out of place, timed and with the memory each allocates."""

from ptbench.suite import declare
from ptbench.suite.operations import updates

time_update = declare.time_benchmark(updates.UPDATE)
track_update_peak_bytes = declare.peak_memory_benchmark(updates.UPDATE)
time_sgd_step = declare.time_benchmark(updates.SGD_STEP)
track_sgd_step_peak_bytes = declare.peak_memory_benchmark(updates.SGD_STEP)
