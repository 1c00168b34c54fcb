"""Preparing calls (skips, checks, warm-up), the synchronised timer and peak-memory counts."""

from __future__ import annotations

import pytest
import torch

from ptbench.hardware import devices
from ptbench.suite import timing
from ptbench.suite.operations import OPERATIONS, Unsupported


def test_prepare_returns_a_verified_call():
    operation = OPERATIONS["multiply"]
    call = timing.prepare(operation, operation.case("cpu", 128), tier="smoke")
    torch.testing.assert_close(call(), call())
    assert call().shape == (128,)


def test_a_wrong_answer_fails_preparation():
    operation = OPERATIONS["sum"]
    broken = type(operation)(**{**operation.__dict__, "call": lambda x: x.x.sum() * 1.01})
    with pytest.raises(AssertionError):
        timing.prepare(broken, broken.case("cpu", 128), tier="smoke")


@pytest.mark.parametrize(("seconds_a_call", "calls"), [(0.02, 3), (0.06, 1)])
def test_the_warm_up_runs_50_ms_from_the_checked_call_on(monkeypatch, seconds_a_call, calls):
    """A call quicker than the warm-up is repeated until 50 ms have passed since the checked
    call began; a slower one is the whole warm-up (an eig at n = 1,024 took 1.7 s a call, and
    every round of ``ptbench ab`` paid one more)."""
    now, made = [0.0], []
    monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])

    def timed(inputs):
        now[0] += seconds_a_call
        made.append(now[0])
        return inputs.x.sum()

    operation = OPERATIONS["sum"]
    clocked = type(operation)(**{**operation.__dict__, "call": timed})
    timing.prepare(clocked, clocked.case("cpu", 128), tier="smoke")
    assert timing.WARMUP_SECONDS == 0.05 and len(made) == calls


def test_sizes_outside_the_tier_are_skipped_with_a_reason():
    operation = OPERATIONS["sum"]
    with pytest.raises(Unsupported, match="outside the smoke tier"):
        timing.prepare(operation, operation.case("cpu", 2**22), tier="smoke")
    assert timing.skip_reason(operation, operation.case("cpu", 2**22), tier="default") is None


def test_the_tier_comes_from_the_environment(monkeypatch):
    operation = OPERATIONS["sum"]
    monkeypatch.setenv("PTBENCH_TIER", "smoke")
    assert "smoke tier" in timing.skip_reason(operation, operation.case("cpu", 2**22))
    monkeypatch.setenv("PTBENCH_TIER", "huge")
    with pytest.raises(ValueError, match="unknown tier 'huge'"):
        timing.skip_reason(operation, operation.case("cpu", 16))


def test_missing_cuda_is_a_skip(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    operation = OPERATIONS["sum"]
    assert timing.skip_reason(operation, operation.case("cuda", 16), tier="full") == (
        "cuda is not available on this machine"
    )


def test_a_combination_too_big_for_free_memory_is_skipped_not_run(monkeypatch):
    """CUDA present but nearly full: the skip happens before any allocation."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (2 * 2**30, 80 * 2**30))
    operation = OPERATIONS["multiply"]
    reason = timing.skip_reason(operation, operation.case("cuda", 2**28), tier="full")
    assert reason == "needs about 4.00 GiB, 2.00 GiB free on cuda"
    assert timing.skip_reason(operation, operation.case("cuda", 2**25), tier="full") is None


def test_slow_cpu_combinations_are_skipped():
    eig = OPERATIONS["eig"]
    reason = timing.skip_reason(eig, eig.case("cpu", 4096, "float64"), tier="full")
    assert "too slow for a CPU" in reason
    assert timing.skip_reason(eig, eig.case("cpu", 1024, "float64"), tier="full") is None


def test_unsupported_combinations_say_why():
    matmul = OPERATIONS["matmul"]
    reason = timing.skip_reason(matmul, matmul.case("cpu", 64, "bfloat16"), tier="full")
    assert reason.startswith("bfloat16 matmul is timed on CUDA only")


def test_the_timer_syncs_only_when_cuda_is_initialised(monkeypatch):
    syncs = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: syncs.append(1))
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    devices.synchronized_timer()
    assert syncs == []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(devices.time, "perf_counter", lambda: 42.5)
    assert devices.synchronized_timer() == 42.5  # perf_counter's reading, after the sync
    assert syncs == [1]


@pytest.mark.parametrize(
    ("method", "temporaries"),
    [("isub", 1), ("sub_alpha", 0), ("out_of_place", 2), ("copy_", 2), ("slice_assign", 2)],
)
def test_peak_bytes_of_parameter_updates_on_the_cpu(method, temporaries):
    """p -= lr * g makes one temporary (lr * g); p - lr * g makes two; sub_ makes none."""
    operation = OPERATIONS["update"]
    size = 2**16
    call = timing.prepare(operation, operation.case("cpu", size, method), tier="full")
    assert timing.peak_bytes(call, "cpu") == temporaries * size * 4


def test_peak_bytes_on_cuda_reads_the_allocator(monkeypatch):
    allocated = {"now": 1000, "peak": 1000}

    def allocate():
        allocated["peak"] = allocated["now"] + 4096

    for name, value in [
        ("synchronize", lambda: None),
        ("reset_peak_memory_stats", lambda: None),
        ("memory_allocated", lambda: allocated["now"]),
        ("max_memory_allocated", lambda: allocated["peak"]),
    ]:
        monkeypatch.setattr(torch.cuda, name, value)
    assert timing.peak_bytes(allocate, "cuda") == 4096
