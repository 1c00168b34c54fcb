"""NumPy and pandas interop, and copies between host and device memory."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ptbench.core import lazy
from ptbench.suite.operations._base import (
    SEED,
    Case,
    Inputs,
    Operation,
    Unsupported,
    assert_close,
    host,
    vector_bytes,
)
from ptbench.suite.tiers import VECTOR

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor

COLUMNS = 8  # frames are n / 8 rows by 8 columns


def _host_array(case: Case) -> np.ndarray:
    return np.random.default_rng(SEED).random(case.size, dtype=np.float32)


def _cpu_only(case: Case) -> str | None:
    if case.device != "cpu":
        return "torch.from_numpy makes a CPU tensor; host->device copies are timed by to_device"
    return None


def _needs_accelerator(case: Case) -> str | None:
    if case.device == "cpu":
        return "a host<->device copy needs an accelerator device"
    return None


def _check_from_numpy(inputs: Inputs, result: torch.Tensor) -> None:
    assert np.shares_memory(result.numpy(), inputs.array), "from_numpy copied instead of sharing"
    assert_close(result, inputs.array, rtol=0, atol=0, what="from_numpy")


def _host_source(case: Case) -> Inputs:
    source = torch.from_numpy(_host_array(case))
    if case.method == "pinned":
        try:
            source = source.pin_memory()
        except RuntimeError as error:  # pinning needs a CUDA driver
            raise Unsupported(f"cannot pin host memory here: {error}") from error
    return Inputs(source=source, device=case.device)


def _to_device(inputs: Inputs) -> torch.Tensor:
    # non_blocking only overlaps from pinned memory; the synchronised timer still waits for it.
    return inputs.source.to(inputs.device, non_blocking=True)


def _frame_inputs(case: Case) -> Inputs:
    frame = pd.DataFrame(_host_array(case).reshape(-1, COLUMNS))
    return Inputs(frame=frame, device=case.device)


FROM_NUMPY = Operation(
    name="from_numpy",
    family="interop",
    description="torch.from_numpy(array) (shares the array's memory)",
    ladder=VECTOR,
    make_inputs=lambda case: Inputs(array=_host_array(case)),
    call=lambda x: torch.from_numpy(x.array),
    check=_check_from_numpy,
    unsupported=_cpu_only,
    footprint_bytes=vector_bytes(1),
)
TO_NUMPY = Operation(
    name="to_numpy",
    family="interop",
    description="tensor.cpu().numpy() (no copy on the CPU, a device->host copy on CUDA)",
    ladder=VECTOR,
    make_inputs=lambda case: Inputs(x=case.rand(case.size)),
    call=lambda x: x.x.cpu().numpy(),
    check=lambda x, out: assert_close(out, host(x.x), rtol=0, atol=0, what="numpy()"),
    footprint_bytes=vector_bytes(2),
)
TENSOR_FROM_DATAFRAME = Operation(
    name="tensor_from_dataframe",
    family="interop",
    description=f"torch.tensor(df.values, device=device) of an (n/{COLUMNS}, {COLUMNS}) frame",
    ladder=VECTOR,
    make_inputs=_frame_inputs,
    call=lambda x: torch.tensor(x.frame.values, device=x.device),
    check=lambda x, out: assert_close(out, x.frame.to_numpy(), rtol=0, atol=0),
    bytes_moved=vector_bytes(2),
    footprint_bytes=vector_bytes(3),
)
DATAFRAME_FROM_TENSOR = Operation(
    name="dataframe_from_tensor",
    family="interop",
    description=f"pd.DataFrame(t.cpu().numpy()) of an (n/{COLUMNS}, {COLUMNS}) tensor",
    ladder=VECTOR,
    make_inputs=lambda case: Inputs(x=case.rand(case.size // COLUMNS, COLUMNS)),
    call=lambda x: pd.DataFrame(x.x.cpu().numpy()),
    check=lambda x, out: assert_close(out.to_numpy(), host(x.x), rtol=0, atol=0),
    footprint_bytes=vector_bytes(3),
)
TO_DEVICE = Operation(
    name="to_device",
    family="interop",
    description="source.to(device, non_blocking=True) from pageable or pinned host memory",
    ladder=VECTOR,
    make_inputs=_host_source,
    methods={"pageable": _to_device, "pinned": _to_device},
    check=lambda x, out: assert_close(out, x.source.numpy(), rtol=0, atol=0, what="to(device)"),
    unsupported=_needs_accelerator,
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)
TO_HOST = Operation(
    name="to_host",
    family="interop",
    description="tensor.cpu() (a device->host copy into pageable memory)",
    ladder=VECTOR,
    make_inputs=lambda case: Inputs(x=case.rand(case.size)),
    call=lambda x: x.x.cpu(),
    check=lambda x, out: assert_close(out, host(x.x), rtol=0, atol=0, what="cpu()"),
    unsupported=_needs_accelerator,
    bytes_moved=vector_bytes(1),
    footprint_bytes=vector_bytes(2),
)

OPERATIONS = (
    FROM_NUMPY,
    TO_NUMPY,
    TENSOR_FROM_DATAFRAME,
    DATAFRAME_FROM_TENSOR,
    TO_DEVICE,
    TO_HOST,
)
