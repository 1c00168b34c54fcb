"""The scripts a person runs: what they can show without a GPU."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys

import pytest
import torch

from helpers import PROJECT


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, PROJECT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_check_cuda_says_plainly_when_there_is_no_gpu():
    completed = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "check_cuda.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "no CUDA device here" in completed.stderr


def test_a_matmul_faster_than_the_peak_means_a_missing_sync():
    check_cuda = load_script("check_cuda")
    h100_float32 = 67_000  # GFLOP/s
    assert check_cuda.below_peak(60_000, h100_float32)
    assert check_cuda.below_peak(70_000, h100_float32)  # within timing noise of the peak
    assert not check_cuda.below_peak(2_000_000, h100_float32)  # kernels queued, not run


def test_check_cuda_times_through_asv_runner_like_the_suite():
    """The suite-side timing the CUDA checks rely on, run here on the CPU."""
    check_cuda = load_script("check_cuda")
    samples = check_cuda.suite_samples("bench_elementwise.time_sum", ("cpu", 1024))
    assert len(samples) >= 1 and all(s > 0 and math.isfinite(s) for s in samples)


def test_tensor_cores_are_engaged_only_past_the_cuda_cores_peak():
    check_cuda = load_script("check_cuda")
    h200_float32 = 67_000  # GFLOP/s on CUDA cores; TF32 tensor cores reach 495,000
    assert check_cuda.tensor_cores_engaged(300_000, h200_float32)
    assert not check_cuda.tensor_cores_engaged(60_000, h200_float32)  # TF32 not in effect
    assert not check_cuda.tensor_cores_engaged(70_000, h200_float32)  # within noise of the peak
