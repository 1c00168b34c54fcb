"""Preparing a verified, warmed-up call, and measuring it (time and peak memory) on CPU and CUDA.

``prepare`` is what every timed benchmark runs once before timing: decide whether the
combination can run here (device, tier, memory, CPU work budget), build the inputs, call once and
check the answer against an independent reference, then warm up. A wrong answer raises
AssertionError, so asv records a failure instead of a time.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ptbench.hardware import devices
from ptbench.suite.operations import Case, Operation, Unsupported
from ptbench.suite.tiers import current_tier

# A CPU combination whose nominal work exceeds this is skipped: at the ~100 GFLOP/s of a small
# server it would take over 10 s a call, i.e. minutes per benchmark (eig of n = 4096, say).
CPU_MAX_FLOPS = 1e12
# Leave headroom for the allocator, the reference check and other processes.
MEMORY_HEADROOM = 0.7
WARMUP_SECONDS = 0.05


def skip_reason(operation: Operation, case: Case, tier: str | None = None) -> str | None:
    """Why ``case`` cannot or should not run in this process, or None when it can.

    Checks go cheapest first, so a tier skip never touches the device.
    """
    tier = tier or current_tier()
    if not operation.ladder.in_tier(case.size, tier, case.device):
        return f"size {case.size} is outside the {tier} tier on {case.device}"
    reason = operation.unsupported(case)
    if reason:
        return reason
    if case.device == "cpu" and operation.flops and operation.flops(case) > CPU_MAX_FLOPS:
        return f"{operation.flops(case):.1e} FLOP a call is too slow for a CPU benchmark"
    if not devices.is_available(case.device):
        return f"{case.device} is not available on this machine"
    needed = operation.footprint_bytes(case)
    free = devices.free_memory_bytes(case.device)
    if needed > MEMORY_HEADROOM * free:
        return f"needs about {needed / 2**30:.2f} GiB, {free / 2**30:.2f} GiB free on {case.device}"
    return None


def prepare(operation: Operation, case: Case, tier: str | None = None) -> Callable[[], Any]:
    """Build inputs, verify one call, warm up; return the zero-argument call to time.

    Raises :class:`Unsupported` with the reason when the combination is skipped.
    """
    reason = skip_reason(operation, case, tier)
    if reason:
        raise Unsupported(reason)
    inputs = operation.make_inputs(case)
    call = operation.call_for(case)
    # Warm-up, from the checked call on: the first cuBLAS/cuSOLVER call creates handles and the
    # caching allocator its blocks; none of that belongs in a sample. A checked call of 50 ms
    # or more is the whole warm-up (an eig at n = 1,024 on the CPU: 1.7 s a call, which every
    # round of ``ptbench ab`` paid again).
    deadline = time.perf_counter() + WARMUP_SECONDS
    result = call(inputs)
    devices.synchronize(case.device)
    operation.check(inputs, result)
    del result

    def timed_call() -> Any:
        return call(inputs)

    while time.perf_counter() < deadline:
        timed_call()
        devices.synchronize(case.device)
    return timed_call


class _LiveTensorBytes(TorchDispatchMode):
    """Counts the bytes of tensors created by every aten op dispatched, and their peak while alive.

    The CPU allocator keeps no statistics (and the profiler misses large allocations), so on the
    CPU this is ptbench's measured equivalent of ``torch.cuda.max_memory_allocated``: storage
    created by the operations themselves, excluding kernel-internal scratch space.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._counted: set[int] = set()

    def _release(self, key: int, nbytes: int) -> None:
        self.live -= nbytes
        self._counted.discard(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        # Outputs that share an input's storage (in-place ops, views) allocate nothing.
        existing = {tensor.untyped_storage()._cdata for tensor in _tensors(args, kwargs)}
        for tensor in _tensors(out):
            storage = tensor.untyped_storage()
            key, nbytes = storage._cdata, storage.nbytes()
            if key in existing or key in self._counted or nbytes == 0:
                continue
            self._counted.add(key)
            self.live += nbytes
            self.peak = max(self.peak, self.live)
            weakref.finalize(tensor, self._release, key, nbytes)
        return out


def _tensors(*trees: Any) -> list[torch.Tensor]:
    leaves = torch.utils._pytree.tree_leaves(trees)
    return [leaf for leaf in leaves if isinstance(leaf, torch.Tensor)]


def peak_bytes(call: Callable[[], Any], device: str) -> int:
    """Peak bytes of memory allocated while ``call`` runs, above what was allocated before."""
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        call()
        torch.cuda.synchronize()
        return int(torch.cuda.max_memory_allocated() - before)
    with _LiveTensorBytes() as counter:
        call()
    return int(counter.peak)
