"""NumPy and pandas interop; host<->device copies (skipped without an accelerator)."""

from ptbench.suite import declare
from ptbench.suite.operations import interop

time_from_numpy = declare.time_benchmark(interop.FROM_NUMPY)
time_to_numpy = declare.time_benchmark(interop.TO_NUMPY)
time_tensor_from_dataframe = declare.time_benchmark(interop.TENSOR_FROM_DATAFRAME)
time_dataframe_from_tensor = declare.time_benchmark(interop.DATAFRAME_FROM_TENSOR)
time_to_device = declare.time_benchmark(interop.TO_DEVICE)
time_to_host = declare.time_benchmark(interop.TO_HOST)
