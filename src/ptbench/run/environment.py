"""This Python environment and machine, as a run records them: the torch build and settings
that change timings, the devices present, and the machine's facts (announced in one line).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from asv import util as asv_util

from ptbench.core import outputs
from ptbench.core.errors import UsageError
from ptbench.hardware import devices
from ptbench.hardware import machine as machine_facts


def environment_name() -> str:
    """``existing-py3.11-torch2.13.0+cpu``: the interpreter and the torch build that ran."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return asv_util.sanitize_filename(f"existing-py{python}-torch{torch.__version__}")


def default_devices() -> list[str]:
    return [device for device in devices.DEVICES if devices.is_available(device)]


def check_devices(requested: list[str] | None) -> list[str]:
    if not requested:
        return default_devices()
    for device in requested:
        try:
            devices.check_device(device)
        except ValueError as error:
            raise UsageError(str(error)) from None
        if not devices.is_available(device):
            raise UsageError(
                f"device {device!r} is not available here (torch "
                f"{torch.__version__}); available: {', '.join(default_devices())}"
            )
    return requested


def settings() -> dict[str, str]:
    """Facts of this Python environment beside every result: they change timings, so a history
    must show them. (Hardware and driver facts come from the machine file.)"""
    return {
        "torch": torch.__version__,
        "torch_build": machine_facts.torch_build(),
        "torch_cuda": torch.version.cuda or "none",
        "blas": machine_facts.blas(),
        "torch_threads": str(torch.get_num_threads()),
        "float32_matmul_precision": devices.float32_matmul_precision(),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",  # asv's form
    }


def ensure_machine(
    name: str, facts: dict, say: Callable[[str], None] = outputs.emit
) -> tuple[str, dict]:
    """Record this machine's facts in ~/.asv-machine.json (asv copies them into every result's
    params, so each result keeps the facts and peaks it was measured with); ``say`` what it is.
    Returns the name and the recorded entry."""
    name, entry = machine_facts.write(name, facts)
    ram = str(entry.get("ram", ""))
    ram = f"{int(ram) / 2**30:.0f} GiB" if ram.isdigit() else ram or "? GiB"
    gpu = entry.get("gpu", "none")
    gpus = f", {entry.get('gpu_count', 1)} x {gpu}" if gpu != "none" else ", no GPU"
    say(
        f"ptbench: machine {name}: {entry.get('cpu', '?')}, {entry.get('num_cpu', '?')} CPUs, "
        f"{ram}{gpus}"
    )
    return name, entry
