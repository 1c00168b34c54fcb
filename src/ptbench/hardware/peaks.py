"""What this machine can do at best: a short probe, and datasheet peaks for common GPUs.

Facts are stored with the machine's (``machine.write``) as strings, asv's way, under keys

- ``peak_<device>_<dtype>_gflops``: best measured matmul FLOP/s (n x n @ n x n, 2n^3 FLOP);
- ``peak_<device>_copy_gbps``: measured copy bandwidth, bytes read plus written (STREAM's count);
- ``datasheet_<device>_<dtype>_gflops``, ``datasheet_<device>_copy_gbps``: the vendor's figures
  when the GPU is recognised. Efficiency is judged against the datasheet when there is one (the
  physical limit), else against the probe.

Timing uses torch.utils.benchmark's ``blocked_autorange`` (CUDA-synchronised, at the thread count
torch uses here).
"""

from __future__ import annotations

import torch
import torch.utils.benchmark as torch_benchmark

# Dense TFLOP/s and TB/s from NVIDIA's datasheets (no sparsity). float32 is the CUDA-core rate;
# tf32 the tensor-core rate a float32 matmul reaches when TF32 is allowed.
DATASHEETS: dict[str, dict[str, float]] = {
    "H200": {
        "float64": 67,
        "float32": 67,
        "tf32": 495,
        "bfloat16": 989,
        "float16": 989,
        "copy_tbps": 4.8,
    },
    "H100 PCIe": {
        "float64": 51,
        "float32": 51,
        "tf32": 378,
        "bfloat16": 756,
        "float16": 756,
        "copy_tbps": 2.0,
    },
    "H100": {
        "float64": 67,
        "float32": 67,
        "tf32": 495,
        "bfloat16": 989,
        "float16": 989,
        "copy_tbps": 3.35,
    },  # SXM5 80GB HBM3
    "A100-PCIE": {
        "float64": 19.5,
        "float32": 19.5,
        "tf32": 156,
        "bfloat16": 312,
        "float16": 312,
        "copy_tbps": 1.935,
    },
    "A100-SXM4-40GB": {
        "float64": 19.5,
        "float32": 19.5,
        "tf32": 156,
        "bfloat16": 312,
        "float16": 312,
        "copy_tbps": 1.555,
    },
    "A100": {
        "float64": 19.5,
        "float32": 19.5,
        "tf32": 156,
        "bfloat16": 312,
        "float16": 312,
        "copy_tbps": 2.039,
    },  # SXM4 80GB
    "L40S": {
        "float64": 1.4,
        "float32": 91.6,
        "tf32": 183,
        "bfloat16": 362,
        "float16": 362,
        "copy_tbps": 0.864,
    },
}
# The best of several shapes is the compute ceiling: one shape's matmul is not the most the
# machine does (time_matmul float64 at n = 1,024 read 107% of a probe of n = 1,024 alone).
PROBE_MATMUL_ORDERS = {"cpu": (512, 1024, 2048), "cuda": (4096, 8192)}
PROBE_COPY_BYTES = {"cpu": 2**28, "cuda": 2**30}
PROBE_SECONDS = 0.3


def datasheet(gpu_name: str) -> dict[str, float] | None:
    """The datasheet entry whose key appears in ``gpu_name`` (most specific first), or None."""
    for key in DATASHEETS:  # ordered: "H100 PCIe" before "H100", "A100-PCIE" before "A100"
        if key.lower() in gpu_name.lower():
            return DATASHEETS[key]
    return None


def _seconds(statement: str, **names) -> float:
    timer = torch_benchmark.Timer(
        stmt=statement, globals=names, num_threads=torch.get_num_threads()
    )
    return timer.blocked_autorange(min_run_time=PROBE_SECONDS).median


def _matmul_gflops(n: int, dtype: str, device: str) -> float:
    a = torch.rand(n, n, dtype=getattr(torch, dtype), device=device)
    b = torch.rand(n, n, dtype=getattr(torch, dtype), device=device)
    a @ b  # warm-up: handles, allocator
    return 2 * n**3 / _seconds("a @ b", a=a, b=b) / 1e9


def probe(device: str) -> dict[str, str]:
    """Measure best matmul FLOP/s per dtype (the best of ``PROBE_MATMUL_ORDERS``) and copy
    bandwidth on ``device`` (a few seconds)."""
    dtypes = ["float32", "float64"] + (["bfloat16", "float16"] if device == "cuda" else [])
    facts = {}
    for dtype in dtypes:
        best = max(_matmul_gflops(n, dtype, device) for n in PROBE_MATMUL_ORDERS[device])
        facts[f"peak_{device}_{dtype}_gflops"] = f"{best:.1f}"
    elements = PROBE_COPY_BYTES[device] // 4
    source = torch.rand(elements, device=device)
    target = torch.empty_like(source)
    seconds = _seconds("target.copy_(source)", source=source, target=target)
    facts[f"peak_{device}_copy_gbps"] = f"{2 * elements * 4 / seconds / 1e9:.1f}"
    return facts


def datasheet_facts(gpu_name: str) -> dict[str, str]:
    """Datasheet peaks for ``gpu_name`` as machine facts; empty when not recognised."""
    entry = datasheet(gpu_name)
    if entry is None:
        return {}
    facts = {
        f"datasheet_cuda_{dtype}_gflops": f"{tflops * 1000:g}"
        for dtype, tflops in entry.items()
        if dtype != "copy_tbps"
    }
    facts["datasheet_cuda_copy_gbps"] = f"{entry['copy_tbps'] * 1000:g}"
    return facts
