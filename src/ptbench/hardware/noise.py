"""How quiet the machine was while a run measured: recorded with every result.

Three signals that cost nothing to read, taken at the start and the end of a run (and, on a
GPU machine, each GPU's clocks and throttling: ``gpu_noise``):

- the load average (``/proc/loadavg``): runnable processes beyond this machine's cores mean
  benchmarks shared their CPUs;
- the processes running right now besides this one (``/proc/stat``'s ``procs_running``, the
  median of a few samples): one other CPU-bound process is enough to slow a benchmark that
  uses every core, long before the load average passes the cores;
- steal time (``/proc/stat``'s ``cpu`` line): time the hypervisor gave this VM's CPUs to
  someone else, the main source of noise on cloud machines;
- a calibration workload (a fixed pure-Python loop, best of a few): the same work taking
  longer at the end than at the start means the machine slowed down during the run.

``assess`` turns them into facts for a result's params (strings, as asv stores params) and a
verdict: ``quiet``, or ``disturbed`` with the reasons. ``compare`` and ``report`` never call a
pair from a disturbed run a regression; ``ab``'s paired rounds, only from a ``contended`` one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ptbench.hardware import gpu_noise

# A run is disturbed when, at its start or end, more processes were runnable than there are
# cores plus this margin (the benchmark process itself is one of them) ...
LOAD_MARGIN = 1.0
# ... when the hypervisor took more than this share of the CPUs' time ...
STEAL_LIMIT = 0.05
# ... or when the calibration workload took this much longer (or shorter) at the end.
CALIBRATION_LIMIT = 0.25
CALIBRATION_LOOPS = 200_000
CALIBRATION_REPEATS = 5
QUIET, DISTURBED = "quiet", "disturbed"
CALIBRATION_REASON = "calibration workload"
VERDICT_KEY = "noise"  # the params key holding the verdict; the others start with "noise_"


# ... or when, on average, at least this many other processes were running beside this one.
OTHERS_LIMIT = 1.0
OTHERS_SAMPLES, OTHERS_INTERVAL = 9, 0.02


@dataclass(frozen=True)
class Snapshot:
    """The machine's state at one moment."""

    seconds: float  # time.monotonic()
    load: float  # 1-minute load average; NaN where unknown
    steal_ticks: int  # cumulative steal time in clock ticks; -1 where unknown
    calibration_seconds: float  # best time of the calibration workload
    gpus: tuple[gpu_noise.GpuState, ...] = ()  # each GPU's clocks and throttling (gpu_noise)
    others: float = 0.0  # other processes running beside this one (median of samples)


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _steal_ticks() -> int:
    """Cumulative steal ticks of all CPUs (8th value of /proc/stat's first line), or -1."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return int(fields[8]) if fields[0] == "cpu" and len(fields) > 8 else -1
    except (OSError, ValueError, IndexError):
        return -1


def _procs_running() -> int:
    """Processes running now, this one included (/proc/stat's procs_running), or -1."""
    try:
        with open("/proc/stat") as stat:
            for line in stat:
                if line.startswith("procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return -1


def others_running(samples: int = OTHERS_SAMPLES, interval: float = OTHERS_INTERVAL) -> float:
    """The median count of other processes running beside this one over a few samples (0
    where /proc/stat cannot tell)."""
    counts = []
    for index in range(samples):
        if index:
            time.sleep(interval)
        running = _procs_running()
        if running < 0:
            return 0.0
        counts.append(running - 1)
    return float(sorted(counts)[len(counts) // 2])


def calibrate() -> float:
    """Seconds the fixed workload takes at best (about 10 ms a repeat on a 2020s core)."""
    best = float("inf")
    for _ in range(CALIBRATION_REPEATS):
        start = time.perf_counter()
        total = 0
        for value in range(CALIBRATION_LOOPS):
            total += value * value
        best = min(best, time.perf_counter() - start)
    return best


def snapshot() -> Snapshot:
    others = others_running()  # before the calibration keeps this process's own CPU busy
    return Snapshot(time.monotonic(), _load_average(), _steal_ticks(), calibrate(),
                    gpu_noise.read(), others)  # fmt: skip


def _steal_share(before: Snapshot, after: Snapshot, cpus: int) -> float:
    if before.steal_ticks < 0 or after.steal_ticks < 0:
        return float("nan")
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    elapsed = max(after.seconds - before.seconds, 1e-9) * cpus * ticks_per_second
    return (after.steal_ticks - before.steal_ticks) / elapsed


def busy_reason(state: Snapshot, cpus: int) -> str | None:
    """Why the machine is too busy to measure on, or None."""
    if state.load > cpus + LOAD_MARGIN:
        return f"load {state.load:.1f} on {cpus} CPUs"
    if state.others >= OTHERS_LIMIT:
        return f"{state.others:g} other process(es) running on {cpus} CPUs"
    return None


def assess(before: Snapshot, after: Snapshot, cpus: int | None = None) -> dict[str, str]:
    """The run's noise facts, for its result's params: loads, steal share, calibration change,
    and ``noise`` = ``quiet`` or ``disturbed: <reasons>``."""
    cpus = cpus or os.cpu_count() or 1
    steal = _steal_share(before, after, cpus)
    change = after.calibration_seconds / before.calibration_seconds - 1
    reasons = [
        f"{when} {reason}"
        for when, state in (("start:", before), ("end:", after))
        if (reason := busy_reason(state, cpus))
    ]
    if steal > STEAL_LIMIT:
        reasons.append(f"hypervisor steal {steal:.0%} of CPU time")
    if abs(change) > CALIBRATION_LIMIT:
        reasons.append(f"{CALIBRATION_REASON} {change:+.0%} from start to end")
    gpu_facts, throttled = gpu_noise.assess(before.gpus, after.gpus)
    reasons += throttled
    return {
        **gpu_facts,
        "noise_load_before": f"{before.load:.2f}",
        "noise_load_after": f"{after.load:.2f}",
        "noise_others_before": f"{before.others:g}",
        "noise_others_after": f"{after.others:g}",
        "noise_steal_share": f"{steal:.4f}",
        "noise_calibration_change": f"{change:+.3f}",
        VERDICT_KEY: f"{DISTURBED}: {'; '.join(reasons)}" if reasons else QUIET,
    }


def is_disturbed(verdict: object) -> bool:
    """True for a recorded ``noise`` verdict that says the run was disturbed."""
    return isinstance(verdict, str) and verdict.startswith(DISTURBED)


def contended(verdict: object) -> bool:
    """True for a disturbed verdict with a reason besides the calibration workload's change:
    other work shared the CPUs, the hypervisor took them, a GPU throttled. What withholds a
    paired regression (``ab``): rounds back to back in ABBA order cancel a machine that slowed
    from start to end, which is all the calibration change says, and on this VM the
    calibration loop alone moves past its limit in one run of two (docs/ab.md)."""
    if not is_disturbed(verdict):
        return False
    reasons = verdict.partition(":")[2].split(";")
    return any(not reason.strip().startswith(CALIBRATION_REASON) for reason in reasons)
