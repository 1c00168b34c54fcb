"""Which devices exist, how much memory they have free, and how to wait for them.

Nothing here runs at import time: asv's forkserver imports the suite once and forks a process per
benchmark, and a CUDA context (even ``torch.cuda.is_available()``, which initialises the driver)
created before the fork is unusable in the child.
"""

from __future__ import annotations

import os
import time

from ptbench.core import lazy
from ptbench.core.schema import DEVICES

torch = lazy.module("torch", globals())  # imported on first use: loading results runs no tensor


def check_device(device: str) -> str:
    """Return ``device`` if ptbench knows it, else raise ValueError naming the known ones."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of: {', '.join(DEVICES)}")
    return device


def is_available(device: str) -> bool:
    """True when ``device`` can run tensors in this process (initialises the CUDA driver)."""
    check_device(device)
    if device == "cpu":
        return True
    return torch.cuda.is_available()


def free_memory_bytes(device: str) -> int:
    """Bytes a new allocation on ``device`` can use now."""
    if check_device(device) == "cuda":
        free, _total = torch.cuda.mem_get_info()
        return int(free)
    return host_available_bytes()


def host_available_bytes() -> int:
    """MemAvailable from /proc/meminfo (what the kernel can give without swapping)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def synchronize(device: str) -> None:
    """Block until all queued work on ``device`` is done (no-op on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


def synchronized_timer() -> float:
    """A ``timeit``-compatible clock that first waits for queued CUDA work.

    The same definition as torch.utils.benchmark's CUDA timer. asv calls it at both ends of a
    block of ``number`` calls, so one sync covers the block. It syncs only when this process has
    initialised CUDA (each asv benchmark process runs one device), so CPU timings pay nothing.
    """
    if torch.cuda.is_initialized():
        torch.cuda.synchronize()
    return time.perf_counter()


def float32_matmul_precision() -> str:
    """torch's float32 matmul precision now: ``highest``, ``high`` or ``medium``.

    torch keeps one setting behind both APIs: ``torch.backends.cuda.matmul.allow_tf32 = True``
    reads back as ``high``, and ``set_float32_matmul_precision("high")`` allows TF32.
    """
    return torch.get_float32_matmul_precision()


def float32_matmul_is_reduced(precision: str | None = None) -> bool:
    """True when float32 matmul may use reduced precision (TF32, or bfloat16 passes) under
    ``precision`` (a recorded setting; the current one when None). The one place ptbench
    decides it: for tolerances, the settings track, the peak a result is judged against."""
    return (precision or float32_matmul_precision()) in ("high", "medium")
