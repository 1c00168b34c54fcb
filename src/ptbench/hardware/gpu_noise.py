"""How the GPUs behaved while a run measured: clocks, power, temperature and NVML's clock event
("throttle") reasons, read at the start and the end of the run beside the CPU's signals
(``noise``).

A GPU that slowed its clocks for heat or a hardware signal during a run times slower for
reasons that are not the code's, as a busy CPU does: such a run is marked disturbed, and a
disturbed run is never a confirmed regression. Running at the board's power cap is recorded but
does not disturb: a large matrix product reaches it by design on every run, so it is part of
what is measured, not noise. Read through NVML's Python bindings (``nvidia-ml-py``, the module
``pynvml``), which never create a CUDA context, so asv's forkserver stays safe; where they or a
GPU are missing, nothing is read.
"""

from __future__ import annotations

from dataclasses import dataclass

# NVML's clock event reason bits (nvml.h: nvmlClocksEventReason* / nvmlClocksThrottleReason*).
SLOWDOWNS = {
    0x08: "hardware slowdown",
    0x20: "software thermal slowdown",
    0x40: "hardware thermal slowdown",
    0x80: "hardware power brake",
}
NOTED = {0x01: "idle", 0x02: "application clocks", 0x04: "power cap", 0x10: "sync boost",
         0x100: "display clocks"}  # fmt: skip


@dataclass(frozen=True)
class GpuState:
    """One GPU at one moment."""

    sm_mhz: int
    memory_mhz: int
    power_w: float
    temperature_c: int
    reasons: int  # NVML's clock event reason bits


def _reasons(nvml, handle) -> int:
    """The clock event reasons now (NVML's newer name for the call, else the older one)."""
    newer = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
    read = newer or nvml.nvmlDeviceGetCurrentClocksThrottleReasons
    return int(read(handle))


def read() -> tuple[GpuState, ...]:
    """Every GPU's state now; empty where NVML or a GPU is missing."""
    try:
        import pynvml as nvml

        nvml.nvmlInit()
    except Exception:  # no bindings (ImportError) or no driver (NVMLError): nothing to read
        return ()
    try:
        states = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            states.append(GpuState(
                sm_mhz=int(nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)),
                memory_mhz=int(nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_MEM)),
                power_w=nvml.nvmlDeviceGetPowerUsage(handle) / 1000,
                temperature_c=int(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
                reasons=_reasons(nvml, handle),
            ))  # fmt: skip
        return tuple(states)
    except Exception:  # a GPU that stopped answering: no facts rather than a failed run
        return ()
    finally:
        nvml.nvmlShutdown()


def names(bits: int, table: dict[int, str] | None = None) -> list[str]:
    table = table if table is not None else {**NOTED, **SLOWDOWNS}
    return [name for bit, name in sorted(table.items()) if bits & bit]


def assess(before: tuple[GpuState, ...], after: tuple[GpuState, ...]) -> tuple[dict, list]:
    """(facts for a result's params, reasons the run was disturbed) from both ends of a run."""
    facts, reasons = {}, []
    for index, (start, end) in enumerate(zip(before, after, strict=False)):
        key = f"noise_gpu{index}"
        facts[f"{key}_sm_mhz"] = f"{start.sm_mhz} -> {end.sm_mhz}"
        facts[f"{key}_memory_mhz"] = f"{start.memory_mhz} -> {end.memory_mhz}"
        facts[f"{key}_power_w"] = f"{start.power_w:.0f} -> {end.power_w:.0f}"
        facts[f"{key}_temperature_c"] = f"{start.temperature_c} -> {end.temperature_c}"
        events = [", ".join(names(state.reasons)) or "none" for state in (start, end)]
        facts[f"{key}_clock_events"] = " -> ".join(events)
        for when, state in (("start", start), ("end", end)):
            slowed = names(state.reasons, SLOWDOWNS)
            if slowed:
                reasons.append(f"{when}: GPU {index} throttled ({', '.join(slowed)})")
    return facts, reasons
