"""Ceilings for every level of the memory hierarchy, and a compute ceiling a person can believe.

A memory-bound result is judged against the bandwidth of the level its working set fits in,
not against main memory's: an input smaller than the caches never touches main memory, so
main memory's bandwidth is no ceiling for it (it read 434% of it). This is the cache-aware
roofline (Ilic, Pratas & Sousa, *Cache-aware Roofline model*, IEEE CAL 2014), the one Intel
Advisor and NVIDIA Nsight Compute draw.

Facts, strings as asv stores params, recorded with the machine's (``machine.write``):

- ``cache_<device>_<level>_bytes``: capacity of each data-cache level, all cores together (CPU:
  ``l1``, ``l2``, ``l3`` from ``/sys/devices/system/cpu/cpu*/cache``; CUDA: ``l2``);
- ``ceiling_<device>_<level>_gbps``: the best bandwidth measured at the smallest working set
  that level judges (``probe_blocks``: twice the level below, half the first cache; main
  memory past twice the last cache), with torch's threads: reading (a sum over the same block
  many times, ``expand`` with stride 0, so one call streams far more than the block and its
  overhead is amortised) or copying, whichever is higher (bytes read plus written). A result
  is judged by the first level at least half its working set (``level_of``);
- ``ceiling_cpu_<level>_core_gbps``: the same with one thread (one core's share);
- ``theoretical_cpu_<dtype>_gflops``: cores x SIMD lanes x 2 (FMA) x FMA units x clock, where
  the CPU's flags and clock say them. The compute ceiling is the larger of it and the best of
  several matmul shapes (``peaks.probe``), and a result says which it was judged by.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

FACT_PREFIXES = ("cache_", "ceiling_", "theoretical_")
CPU_LEVELS = ("l1", "l2", "l3")
MAIN_MEMORY = {"cpu": "dram", "cuda": "hbm"}
LEVEL_NAMES = {"l1": "L1", "l2": "L2", "l3": "L3", "dram": "DRAM", "hbm": "HBM"}
MAIN_MEMORY_BYTES = {"cpu": 2**28, "cuda": 2**30}  # where no cache size is known
CACHE_MARGIN = 2  # a working set up to twice a cache is still partly served by it
SWEEPS = 3  # each level measured three times, apart; the best is its ceiling
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
    """The fastest level that can serve ``footprint`` bytes: the first cache at least half that
    large, else main memory. A working set up to ``CACHE_MARGIN`` times a cache is still partly
    served by it (caches are not strict LRU), so it is judged by that cache's ceiling, which
    bounds it from above."""
    for level, capacity in capacities.items():
        if footprint <= CACHE_MARGIN * capacity:
            return level
    return MAIN_MEMORY[device]


def probe_blocks(capacities: dict[str, int], device: str) -> dict[str, int]:
    """The working set each level's ceiling is measured at: the smallest one judged by that
    level (just past what the level below serves, ``level_of``), where that level is fastest,
    so the ceiling bounds every result judged by it. The first cache: half its size."""
    blocks, below = {}, None
    for level, capacity in capacities.items():
        blocks[level] = capacity // 2 if below is None else min(CACHE_MARGIN * below, capacity)
        below = capacity
    main = CACHE_MARGIN * below if below else MAIN_MEMORY_BYTES[device]
    blocks[MAIN_MEMORY[device]] = max(main, 2**20)
    return blocks


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


def _sweeps(blocks: dict[str, tuple[int, int]], device: str) -> dict[str, float]:
    """The best of ``SWEEPS`` sweeps over every (level, (block, threads)), each sweep taken
    apart from the others: on a shared machine one measurement can come out at half the
    level's speed, and a ceiling must not be low. Then no level is slower than the one after
    it (a faster cache that measured slower than a slower one was disturbed)."""
    best = dict.fromkeys(blocks, 0.0)
    for _sweep in range(SWEEPS):
        for key, (block, threads) in blocks.items():
            best[key] = max(best[key], bandwidth(block, device, threads))
    names = list(best)
    for index in range(len(names) - 2, -1, -1):  # fastest level first, main memory last
        below = [name for name in names[index + 1:] if name.endswith("_core") ==
                 names[index].endswith("_core")]  # fmt: skip
        if below:
            best[names[index]] = max(best[names[index]], best[below[0]])
    return best


def cpu_ceilings(caches: dict[str, int], threads: int) -> dict[str, str]:
    """Each CPU level's ceiling with ``threads`` threads and with one (``_core``)."""
    facts = {f"cache_cpu_{level}_bytes": str(size) for level, size in caches.items()}
    blocks = {}
    for level, block in probe_blocks(caches, "cpu").items():
        blocks[level] = (block, threads)
        blocks[f"{level}_core"] = (block if level == "dram" else
                                   max(block // max(threads, 1), 1024), 1)  # fmt: skip
    ordered = sorted(blocks, key=lambda key: key.endswith("_core"))  # all cores, then one
    measured = _sweeps({key: blocks[key] for key in ordered}, "cpu")
    for level in probe_blocks(caches, "cpu"):  # a small input runs on one thread: never below
        measured[level] = max(measured[level], measured[f"{level}_core"])
    for key, value in measured.items():
        facts[f"ceiling_cpu_{key}_gbps"] = f"{value:.1f}"
    return {**facts, **cpu_theoretical()}


def cuda_ceilings() -> dict[str, str]:
    """The GPU's L2 (its size from the device) and HBM ceilings."""
    import torch

    l2 = int(getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 0) or 0)
    caches = {"l2": l2} if l2 else {}
    facts = {f"cache_cuda_{level}_bytes": str(size) for level, size in caches.items()}
    blocks = {level: (block, 1) for level, block in probe_blocks(caches, "cuda").items()}
    for level, value in _sweeps(blocks, "cuda").items():
        facts[f"ceiling_cuda_{level}_gbps"] = f"{value:.1f}"
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


def _number(value) -> float | None:
    """A recorded fact as a positive number, or None (missing, or text that is no number: a
    hostile pass's result file made publish's hardware page an internal error)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number < math.inf else None


def describe(entry: dict) -> list[str]:
    """One line per ceiling recorded in a machine entry: what ``machine --write`` prints."""
    lines = []
    for device in ("cpu", "cuda"):
        for level in (*CPU_LEVELS, MAIN_MEMORY[device]):
            value = entry.get(f"ceiling_{device}_{level}_gbps")
            if value is None:
                continue
            size = _number(entry.get(f"cache_{device}_{level}_bytes"))
            where = f" ({_bytes(size)})" if size else ""  # none, or not a number: left out
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
