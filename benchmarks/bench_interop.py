"""NumPy and pandas interop; host<->device copies (skipped without an accelerator)."""

from ptbench import suite
from ptbench.operations import interop

time_from_numpy = suite.time_benchmark(interop.FROM_NUMPY)
time_to_numpy = suite.time_benchmark(interop.TO_NUMPY)
time_tensor_from_dataframe = suite.time_benchmark(interop.TENSOR_FROM_DATAFRAME)
time_dataframe_from_tensor = suite.time_benchmark(interop.DATAFRAME_FROM_TENSOR)
time_to_device = suite.time_benchmark(interop.TO_DEVICE)
time_to_host = suite.time_benchmark(interop.TO_HOST)
