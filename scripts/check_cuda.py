#!/usr/bin/env python
"""Prove the CUDA path on a CUDA machine, then record the default tier there.

Checks, each printed as PASS or FAIL with its figures:
1. synchronised: a large matmul timed by the suite (asv-runner's own timing code) is not faster
   than the GPU's peak FLOP/s (the datasheet's, else the probe's); faster means a missing sync;
2. warm-up excluded: the suite's time for a fresh bmm is the steady-state time, far below the
   first call's (cuBLAS handle creation);
3. the launch method: `ptbench run` through asv's forkserver times a CUDA benchmark;
4. the ``_ex`` linalg variants run and pass their checks on CUDA, and a timed call of each makes
   no host sync (``torch.cuda.set_sync_debug_mode("error")``);
5. peak memory of parameter updates comes out: one temporary for p -= lr * g, none for p.sub_,
   two for p = p - lr * g;
6. TF32 (float32 precision "high") and bfloat16/float16 matmuls run faster than the CUDA cores
   could and below their tensor-core peaks, and the recorded precision setting says so.
Then (unless --checks-only) `ptbench run --tier default --device cuda` writes results.

    .venv/bin/python scripts/check_cuda.py [--results results] [--checks-only]

Exit status: 0 all passed, 1 a check failed, 2 no CUDA device here.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT / "benchmarks"
SYNC_MATMUL = (8192, "float32")
UPDATE_SIZE = 2**24
# Timing noise may put a measurement a little above a measured peak; a missing sync is orders
# of magnitude off, so a 10% margin separates the two.
PEAK_MARGIN = 1.10


def below_peak(achieved_gflops: float, peak_gflops: float) -> bool:
    """True when a measurement is physically possible (within PEAK_MARGIN of the peak)."""
    return achieved_gflops <= peak_gflops * PEAK_MARGIN


def suite_samples(name: str, params: tuple) -> list[float]:
    """Time one combination with asv-runner's TimeBenchmark, as an asv benchmark process does."""
    from ptbench.suite import declare as suite

    benchmark = suite.asv_benchmark(BENCHMARKS, name, params)
    return benchmark.run(*benchmark._current_params)["samples"]


def check_synchronised() -> tuple[bool, str]:
    from ptbench.hardware import devices, machine, peaks

    n, dtype = SYNC_MATMUL
    seconds = statistics.median(suite_samples("bench_linalg.time_matmul", ("cuda", n, dtype)))
    achieved = 2 * n**3 / seconds / 1e9
    gpu = machine.gpu_facts()[0]["gpu"]
    sheet = peaks.datasheet(gpu)
    key = "tf32" if devices.float32_matmul_is_reduced() else dtype
    if sheet:
        limit, source = sheet[key] * 1000, f"{gpu} datasheet ({key})"
    else:
        limit, source = float(peaks.probe("cuda")[f"peak_cuda_{dtype}_gflops"]), "probe"
    return below_peak(achieved, limit), (
        f"matmul n={n} {dtype}: {achieved:,.0f} GFLOP/s against a peak of {limit:,.0f} ({source})"
    )


def check_warmup_excluded() -> tuple[bool, str]:
    a = torch.rand(64, 256, 256, device="cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    torch.bmm(a, a)
    torch.cuda.synchronize()
    first = time.perf_counter() - start
    steady = statistics.median(
        suite_samples("bench_linalg.time_matmul_batched", ("cuda", 256, "float32"))
    )
    return steady < first / 2, (
        f"first bmm call {first * 1e6:,.0f} us; suite's median {steady * 1e6:,.1f} us"
    )


def check_launch_method() -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="ptbench-check-cuda-") as scratch:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "ptbench.cli",
                "run",
                "--tier",
                "smoke",
                "--device",
                "cuda",
                "--bench",
                r"time_(sum|matmul)\('cuda', (16|64)",
                "--results",
                scratch,
            ],
            capture_output=True,
            text=True,
            cwd=PROJECT,
            check=False,
        )
        summary = [line for line in completed.stdout.splitlines() if " timed, " in line]
    ok = completed.returncode == 0 and bool(summary) and not summary[0].endswith(" 0 timed")
    return ok, (summary[0] if summary else completed.stderr.strip()[-300:])


def check_ex_variants() -> tuple[bool, str]:
    from ptbench.suite import timing
    from ptbench.suite.operations import OPERATIONS

    solve = OPERATIONS["solve"]
    ran = []
    for method in ("lu_ex", "lu_factor_ex", "cholesky_ex"):
        call = timing.prepare(solve, solve.case("cuda", 1024, "float32", method), tier="full")
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")  # a host sync inside the call now raises
        try:
            call()
        except RuntimeError as error:
            return False, f"{method} synchronises with the host: {str(error).splitlines()[0]}"
        finally:
            torch.cuda.set_sync_debug_mode("default")
        ran.append(method)
    return True, f"ran, verified and free of host syncs on CUDA: {', '.join(ran)}"


def check_update_memory() -> tuple[bool, str]:
    from ptbench.suite import timing
    from ptbench.suite.operations import OPERATIONS

    update = OPERATIONS["update"]
    tensor_bytes = UPDATE_SIZE * 4
    expected = {"isub": tensor_bytes, "sub_alpha": 0, "out_of_place": 2 * tensor_bytes}
    measured = {
        method: timing.peak_bytes(
            timing.prepare(update, update.case("cuda", UPDATE_SIZE, method), tier="full"), "cuda"
        )
        for method in expected
    }
    return measured == expected, ", ".join(f"{m}: {b / 2**20:.0f} MiB" for m, b in measured.items())


def tensor_cores_engaged(achieved_gflops: float, cuda_core_gflops: float) -> bool:
    """True when a matmul ran faster than the GPU's CUDA cores could: its tensor cores did it
    (TF32 or half precision in effect, as the recorded settings say)."""
    return achieved_gflops > cuda_core_gflops * PEAK_MARGIN


def _matmul_gflops(dtype: str) -> float:
    n = SYNC_MATMUL[0]
    seconds = statistics.median(suite_samples("bench_linalg.time_matmul", ("cuda", n, dtype)))
    return 2 * n**3 / seconds / 1e9


def check_reduced_precision() -> tuple[bool, str]:
    """TF32 (float32 precision "high") and half precision reach the tensor cores, within their
    peaks, and the recorded precision setting follows what ran."""
    from ptbench.hardware import devices, machine, peaks

    sheet = peaks.datasheet(machine.gpu_facts()[0]["gpu"])
    if not sheet:
        return True, "no datasheet for this GPU: tensor-core rates not judged"
    cuda_cores = sheet["float32"] * 1000
    previous = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("high")
        recorded = devices.float32_matmul_precision()
        rates = {"tf32": _matmul_gflops("float32")}
    finally:
        torch.set_float32_matmul_precision(previous)
    rates |= {dtype: _matmul_gflops(dtype) for dtype in ("bfloat16", "float16")}
    ok = devices.float32_matmul_is_reduced(recorded) and all(
        tensor_cores_engaged(rate, cuda_cores) and below_peak(rate, sheet[key] * 1000)
        for key, rate in rates.items()
    )
    shown = ", ".join(f"{key} {rate:,.0f} GFLOP/s (peak {sheet[key] * 1000:,.0f})"
                      for key, rate in rates.items())  # fmt: skip
    return ok, f"{shown}; CUDA cores {cuda_cores:,.0f}; recorded precision {recorded!r}"


CHECKS = (
    ("timings are synchronised", check_synchronised),
    ("TF32 and half precision reach the tensor cores", check_reduced_precision),
    ("warm-up is excluded", check_warmup_excluded),
    ("forkserver launch works with CUDA", check_launch_method),
    ("_ex variants run", check_ex_variants),
    ("in-place vs out-of-place peak memory", check_update_memory),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=PROJECT / "results")
    parser.add_argument("--checks-only", action="store_true")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(
            f"check_cuda: no CUDA device here (torch {torch.__version__}); run this on a "
            "CUDA machine",
            file=sys.stderr,
        )
        return 2
    print(
        f"check_cuda: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
        f"CUDA {torch.version.cuda}"
    )
    failed = 0
    for title, check in CHECKS:
        try:
            ok, detail = check()
        except Exception as error:  # a check that crashes has failed; say how
            ok, detail = False, f"{type(error).__name__}: {error}"
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {title}: {detail}", flush=True)
    if failed or args.checks_only:
        return 1 if failed else 0
    command = [
        sys.executable,
        "-m",
        "ptbench.cli",
        "run",
        "--tier",
        "default",
        "--device",
        "cuda",
        "--results",
        str(args.results),
    ]
    return subprocess.run(command, cwd=PROJECT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
