"""Ceilings for every level of the memory hierarchy, and a compute ceiling a person can believe.

A memory-bound result is judged against the bandwidth of the level its working set fits in,
not against main memory's: an input smaller than the caches never touches main memory, so
main memory's bandwidth is no ceiling for it (it read 434% of it). This is the cache-aware
roofline (Ilic, Pratas & Sousa, *Cache-aware Roofline model*, IEEE CAL 2014), the one Intel
Advisor and NVIDIA Nsight Compute draw.

Facts, strings as asv stores params, recorded with the machine's (``machine.write``):

- ``cache_<device>_<level>_bytes``: capacity of each data-cache level, all cores together (CPU:
  ``l1``, ``l2``, ``l3`` from ``/sys/devices/system/cpu/cpu*/cache``; CUDA: ``l2``);
- ``ceiling_<device>_<level>_gbps``: the best bandwidth measured at a working set of half that
  level (``dram`` / ``hbm``: 256 MiB / 1 GiB), with torch's threads: reading (a sum over the
  same block many times, ``expand`` with stride 0, so one call streams far more than the block
  and its overhead is amortised) or copying, whichever is higher (bytes read plus written);
- ``ceiling_cpu_<level>_core_gbps``: the same with one thread (one core's share);
- ``theoretical_cpu_<dtype>_gflops``: cores x SIMD lanes x 2 (FMA) x FMA units x clock, where
  the CPU's flags and clock say them. The compute ceiling is the larger of it and the best of
  several matmul shapes (``peaks.probe``), and a result says which it was judged by.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FACT_PREFIXES = ("cache_", "ceiling_", "theoretical_")
CPU_LEVELS = ("l1", "l2", "l3")
MAIN_MEMORY = {"cpu": "dram", "cuda": "hbm"}
LEVEL_NAMES = {"l1": "L1", "l2": "L2", "l3": "L3", "dram": "DRAM", "hbm": "HBM"}
MAIN_MEMORY_BYTES = {"cpu": 2**28, "cuda": 2**30}
STREAMED_BYTES = 2**26  # what one read call streams through a cached block (64 MiB)
SYSFS = Path("/sys/devices/system/cpu")
FMA_UNITS = 2  # x86 cores with AVX2 and FMA since Haswell and Zen 2 issue two FMAs a cycle
SIZE = re.compile(r"^(\d+)\s*([KMG]?)$")


def _size(text: str) -> int:
    match = SIZE.match(text.strip().upper())
    if not match:
        return 0
    return int(match[1]) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[match[2]]


def cpu_caches(root: Path = SYSFS) -> dict[str, int]:
    """Each data-cache level's capacity for all CPUs: every distinct cache counted once (a
    cache is shared by the CPUs of its ``shared_cpu_list``). Empty where the OS does not say."""
    seen: set[tuple[str, str]] = set()
    found: dict[str, int] = {}
    for index in sorted(root.glob("cpu[0-9]*/cache/index[0-9]*")):
        try:
            level, kind, size, shared = (
                (index / name).read_text().strip()
                for name in ("level", "type", "size", "shared_cpu_list")
            )
        except OSError:
            continue
        if kind == "Instruction" or (level, shared) in seen or f"l{level}" not in CPU_LEVELS:
            continue
        seen.add((level, shared))
        found[f"l{level}"] = found.get(f"l{level}", 0) + _size(size)
    return {level: found[level] for level in CPU_LEVELS if found.get(level)}


def _cpu_flags(cpuinfo: str) -> set[str]:
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _cpu_megahertz(cpuinfo: str, root: Path = SYSFS) -> float:
    """The highest clock the OS states: cpufreq's maximum, else /proc/cpuinfo's MHz."""
    try:
        return int((root / "cpu0/cpufreq/cpuinfo_max_freq").read_text()) / 1000
    except (OSError, ValueError):
        pass
    found = [float(line.split(":")[1]) for line in cpuinfo.splitlines()
             if line.startswith("cpu MHz")]  # fmt: skip
    return max(found, default=0.0)


def theoretical(cpuinfo: str, cores: int, root: Path = SYSFS) -> dict[str, str]:
    """FMA peak per dtype from the CPU's facts; empty when its SIMD or clock is unknown."""
    flags, megahertz = _cpu_flags(cpuinfo), _cpu_megahertz(cpuinfo, root)
    if "fma" not in flags or megahertz <= 0 or cores <= 0:
        return {}
    bits = 512 if "avx512f" in flags else 256 if "avx2" in flags else 128
    facts = {}
    for dtype, size in (("float32", 32), ("float64", 64)):
        flops_per_cycle = (bits // size) * 2 * FMA_UNITS
        peak = cores * flops_per_cycle * megahertz / 1e3
        facts[f"theoretical_cpu_{dtype}_gflops"] = f"{peak:.1f}"
    return facts


def cpu_theoretical() -> dict[str, str]:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    return theoretical(cpuinfo, len(os.sched_getaffinity(0)))


def level_of(footprint: float, capacities: dict[str, float], device: str) -> str:
    """The smallest level ``footprint`` bytes fit in: the first cache at least that large, else
    main memory."""
    for level, capacity in capacities.items():
        if footprint <= capacity:
            return level
    return MAIN_MEMORY[device]


def _seconds(statement: str, threads: int, **names) -> float:
    import torch.utils.benchmark as torch_benchmark

    from ptbench.hardware.peaks import PROBE_SECONDS

    timer = torch_benchmark.Timer(stmt=statement, globals=names, num_threads=threads)
    return timer.blocked_autorange(min_run_time=PROBE_SECONDS / 2).median


def bandwidth(block_bytes: int, device: str, threads: int) -> float:
    """GB/s at a working set of ``block_bytes``: the better of streaming reads over the block
    (a stride-0 ``expand``: one call reads it many times) and a copy within it."""
    import torch

    elements = max(block_bytes // 4, 256)
    block = torch.rand(elements, device=device)
    repeats = max(1, STREAMED_BYTES // (elements * 4))
    streamed = block.expand(repeats, elements)
    reading = repeats * elements * 4 / _seconds("streamed.sum()", threads, streamed=streamed)
    source, target = block[: elements // 2], torch.empty(elements // 2, device=device)
    copying = 2 * (elements // 2) * 4 / _seconds("target.copy_(source)", threads,
                                                 source=source, target=target)  # fmt: skip
    return max(reading, copying) / 1e9


def cpu_ceilings(caches: dict[str, int], threads: int) -> dict[str, str]:
    """Each CPU level's ceiling with ``threads`` threads and with one (``_core``)."""
    facts = {f"cache_cpu_{level}_bytes": str(size) for level, size in caches.items()}
    blocks = {**{level: size // 2 for level, size in caches.items()}, "dram":
              MAIN_MEMORY_BYTES["cpu"]}  # fmt: skip
    for level, block in blocks.items():
        facts[f"ceiling_cpu_{level}_gbps"] = f"{bandwidth(block, 'cpu', threads):.1f}"
        core_block = block if level == "dram" else max(block // max(threads, 1), 1024)
        facts[f"ceiling_cpu_{level}_core_gbps"] = f"{bandwidth(core_block, 'cpu', 1):.1f}"
    return {**facts, **cpu_theoretical()}


def cuda_ceilings() -> dict[str, str]:
    """The GPU's L2 (its size from the device) and HBM ceilings."""
    import torch

    l2 = int(getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 0) or 0)
    facts = {}
    if l2:
        facts["cache_cuda_l2_bytes"] = str(l2)
        facts["ceiling_cuda_l2_gbps"] = f"{bandwidth(l2 // 2, 'cuda', 1):.1f}"
    facts["ceiling_cuda_hbm_gbps"] = f"{bandwidth(MAIN_MEMORY_BYTES['cuda'], 'cuda', 1):.1f}"
    return facts


def probe(device: str) -> dict[str, str]:
    """Every memory level's ceiling on ``device`` (and the CPU's FMA peak)."""
    import torch

    if device == "cuda":
        return cuda_ceilings()
    return cpu_ceilings(cpu_caches(), torch.get_num_threads())


def _bytes(size: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size:g} B"


def describe(entry: dict) -> list[str]:
    """One line per ceiling recorded in a machine entry: what ``machine --write`` prints."""
    lines = []
    for device in ("cpu", "cuda"):
        for level in (*CPU_LEVELS, MAIN_MEMORY[device]):
            value = entry.get(f"ceiling_{device}_{level}_gbps")
            if value is None:
                continue
            size = entry.get(f"cache_{device}_{level}_bytes")
            where = f" ({_bytes(float(size))})" if size else ""
            core = entry.get(f"ceiling_{device}_{level}_core_gbps")
            one = f", one core {core} GB/s" if core else ""
            lines.append(f"{device} {LEVEL_NAMES[level]}{where}: {value} GB/s{one}")
        for dtype in ("float32", "float64"):
            measured = entry.get(f"peak_{device}_{dtype}_gflops")
            computed = entry.get(f"theoretical_{device}_{dtype}_gflops")
            if measured or computed:
                lines.append(f"{device} {dtype} compute: {measured or '?'} GFLOP/s measured "
                             f"(best matmul), {computed or 'unknown'} from the CPU's facts")
    return lines
