"""Inside one environment (the ``ab`` worker's forked child): profile one combination of the
suite on its own prepared inputs, and read the build's settings.

The call is the suite's (``suite.timing.prepare``: inputs built, answer checked, warmed up);
``torch.profiler`` records it outside any timed sample. Per timed call: the wall time under the
profiler, and each ATen operator's (and, on CUDA, each kernel's) self time and number of calls.
"""

from __future__ import annotations

import os
import time
from typing import Any

MOST_CALLS = 1000
SETTING_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                     "KMP_AFFINITY", "GOMP_CPU_AFFINITY", "CUDA_VISIBLE_DEVICES",
                     "PYTORCH_CUDA_ALLOC_CONF", "TORCH_BLAS_PREFER_HIPBLASLT")  # fmt: skip


def serve_round(tier: str, name: str, params: list, commands, replies,
                cpu: int | None = None) -> None:
    """The child of a lockstep profiled round (``ptbench explain``; the ab worker forks it):
    prepared, moved to ``cpu`` (``worker.pin_threads``), profiling, and its first chunk of
    calls taken (as a round's first sample ends its calibration); then one chunk per
    ``sample`` command (its seconds per call), and the round's profile, over every chunk, on
    ``finish``."""
    from ptbench.analysis.ab.worker import pin_threads, round_failure, say
    from ptbench.suite.operations import Unsupported

    try:
        calls = ProfiledCalls(name, params, tier)
        pin_threads(cpu)
        calls.start()
        say(replies, {"status": "ok", "samples": [calls.chunk()], "number": calls.number})
        for command in map(str.strip, commands):
            if command not in ("sample", "finish"):
                return
            say(replies, {"status": "ok", "seconds": calls.chunk()} if command == "sample"
                else calls.finish())  # fmt: skip
    except Exception as error:
        say(replies, round_failure(error, Unsupported))


def _prepared(name: str, params: list, tier: str):
    from ptbench.core.schema import operation_name
    from ptbench.suite import timing
    from ptbench.suite.operations import OPERATIONS

    operation = OPERATIONS[operation_name(name)]
    case = operation.case(*params)
    return timing.prepare(operation, case, tier=tier), case.device


def _calls(call, device: str, seconds: float) -> int:
    """How many calls take about ``seconds`` (one at least, ``MOST_CALLS`` at most)."""
    from ptbench.hardware import devices

    start = time.perf_counter()
    call()
    devices.synchronize(device)
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, min(MOST_CALLS, int(seconds / once)))


# A lockstep profiled round's chunk: about this long a chunk of calls, the sides' chunks
# alternating (``lockstep.lockstep``, ``profile=True``), as ab's samples (asv's 10 ms).
CHUNK_SECONDS = 0.02


class ProfiledCalls:
    """A lockstep profiled round, in the round's child: the combination prepared, then
    ``torch.profiler`` recording from ``start`` to ``finish`` while the controller asks for
    chunks of calls, each timed (the two sides' chunks alternate, so that the machine's speed,
    which on this VM changes within a round, slows both alike)."""

    def __init__(self, name: str, params: list, tier: str):
        self.call, self.device = _prepared(name, params, tier)
        self.number = _calls(self.call, self.device, CHUNK_SECONDS)
        self.calls, self.seconds, self.profiler = 0, 0.0, None

    def start(self) -> None:
        from torch.profiler import ProfilerActivity, profile

        cuda = [ProfilerActivity.CUDA] if self.device == "cuda" else []
        self.profiler = profile(activities=[ProfilerActivity.CPU, *cuda])
        self.profiler.__enter__()

    def chunk(self) -> float:
        """``number`` calls under the profiler: seconds per call."""
        from ptbench.hardware import devices

        start = time.perf_counter()
        for _ in range(self.number):
            self.call()
        devices.synchronize(self.device)
        seconds = time.perf_counter() - start
        self.calls, self.seconds = self.calls + self.number, self.seconds + seconds
        return seconds / self.number

    def finish(self) -> dict[str, Any]:
        """The round: ``{"status": "ok", "wall_seconds", "calls", "events": [...]}``, each event
        ``{"name", "kind", "self_seconds", "calls"}`` per call, over every chunk's calls."""
        self.profiler.__exit__(None, None, None)
        calls = max(self.calls, 1)
        return {"status": "ok", "wall_seconds": self.seconds / calls, "calls": self.calls,
                "events": _events(self.profiler.key_averages(), calls, self.device)}  # fmt: skip


def _events(averages, calls: int, device: str) -> list[dict[str, Any]]:
    events = []
    for event in averages:
        if event.self_cpu_time_total > 0:
            events.append({"name": event.key, "kind": "operator",
                           "self_seconds": event.self_cpu_time_total / 1e6 / calls,
                           "calls": event.count / calls})  # fmt: skip
        device_time = getattr(event, "self_device_time_total", 0) or 0
        if device == "cuda" and device_time > 0:
            events.append({"name": event.key, "kind": "kernel",
                           "self_seconds": device_time / 1e6 / calls,
                           "calls": event.count / calls})  # fmt: skip
    return events


def settings() -> dict[str, Any]:
    """What in a build changes timings: its configuration, threading, CPU capability, the
    libraries it uses, CUDA and cuDNN, and the environment variables that steer them."""
    import torch

    facts = {
        "torch": torch.__version__,
        "config": torch.__config__.show(),
        "parallel_info": torch.__config__.parallel_info(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": str(torch.get_num_threads()),
        "interop_threads": str(torch.get_num_interop_threads()),
        "cuda": torch.version.cuda or "none",
        "cudnn": str(torch.backends.cudnn.version()) if torch.backends.cudnn.is_available()
        else "none",
    }  # fmt: skip
    facts |= {f"env {name}": os.environ.get(name, "unset") for name in SETTING_VARIABLES}
    return facts
