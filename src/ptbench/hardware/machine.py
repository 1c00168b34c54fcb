"""What hardware and software stand behind a number, and what could not be learned.

asv records a machine name, OS, CPU model, core count and RAM. ptbench adds the GPUs (name,
count, memory, compute capability), the driver, CUDA runtime and cuDNN versions, the torch build
and its BLAS/LAPACK, and the settings that change results. Hardware and driver facts go into
asv's machine file (``~/.asv-machine.json``), whose extra keys asv copies into every result's
params and offers as filters in ``asv publish``'s graphs; facts of the Python environment (torch
build, BLAS, cuDNN, threads) go into each result's params (``run.environment.settings``).

Never called at import: it initialises CUDA, which asv's forkserver parent must not do.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import torch
from asv import util as asv_util
from asv.machine import Machine, MachineCollection

from ptbench.core import outputs
from ptbench.core.errors import MachineError, OutputError, first_line
from ptbench.core.names import check_machine_name, slug
from ptbench.core.outputs import cut
from ptbench.hardware import ceilings, devices, noise, peaks

NVIDIA_SMI_TIMEOUT_SECONDS = 10
# GPU facts a CPU-only machine states as absent, rather than leaving out.
NO_GPU = {
    "gpu": "none",
    "gpu_count": "0",
    "cuda_runtime": "none",
    "cudnn": "none",
    "cuda_driver": "none",
}
check_name = check_machine_name  # the rules live with the other name rules
__all__ = ["MachineError", "check_name", "collect", "default_name", "write"]


def torch_build() -> str:
    if torch.version.cuda:
        return f"cuda{torch.version.cuda}"
    if getattr(torch.version, "hip", None):
        return f"rocm{torch.version.hip}"
    return "cpu"


def blas() -> str:
    """BLAS/LAPACK torch was built with, from ``torch.__config__.show()``."""
    found = dict(re.findall(r"\b(BLAS_INFO|LAPACK_INFO)=(\w+)", torch.__config__.show()))
    return "/".join(dict.fromkeys(found.values())) or "unknown"


def driver_version() -> tuple[str | None, str | None]:
    """(driver version, None) from nvidia-smi, or (None, why it is unknown)."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None, "nvidia-smi not found on PATH"
    try:
        completed = subprocess.run(
            [executable, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            errors="replace",  # a driver's output need not be UTF-8
            timeout=NVIDIA_SMI_TIMEOUT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"nvidia-smi failed: {first_line(error)}"
    versions = sorted({line.strip() for line in completed.stdout.splitlines() if line.strip()})
    return (", ".join(versions), None) if versions else (None, "nvidia-smi printed no driver")


def _no_gpu(why: str, cuda_runtime: str = "none") -> tuple[dict[str, str], dict[str, str]]:
    """Facts of a machine torch cannot use a GPU on: stated as absent, with why."""
    return _with_driver({**NO_GPU, "cuda_runtime": cuda_runtime}, {"gpu": why})


def _with_driver(facts: dict[str, str], unknown: dict[str, str]) -> tuple[dict, dict]:
    """``facts`` with the driver version, or ``unknown`` with why it is not known."""
    driver, reason = driver_version()
    if driver:
        facts["cuda_driver"] = driver
    else:
        unknown["cuda_driver"] = reason
    return facts, unknown


def gpu_facts() -> tuple[dict[str, str], dict[str, str]]:
    """(facts, unknown) about CUDA devices as torch sees them."""
    if not torch.version.cuda:
        return _no_gpu(f"torch {torch.__version__} is a CPU-only build")
    if not torch.cuda.is_available():
        return _no_gpu("this CUDA build of torch sees no CUDA device", torch.version.cuda)
    count = torch.cuda.device_count()
    properties = [torch.cuda.get_device_properties(index) for index in range(count)]
    names = sorted({p.name for p in properties})
    facts = {
        "gpu": " + ".join(names),
        "gpu_count": str(count),
        "gpu_memory": str(properties[0].total_memory),
        "compute_capability": ", ".join(sorted({f"{p.major}.{p.minor}" for p in properties})),
        "cuda_runtime": torch.version.cuda,
        "cudnn": str(torch.backends.cudnn.version())
        if torch.backends.cudnn.is_available()
        else "none",
        "linalg_library": str(torch.backends.cuda.preferred_linalg_library()).split(".")[-1],
    }
    return _with_driver(facts, {})


def default_name(facts: dict[str, str]) -> str:
    """``nvidia-h100-80gb-hbm3-x1`` or ``amd-epyc-2cpu``: what the hardware is.

    asv's default, the host name, says nothing on a fleet of identical machines.
    """
    if facts.get("gpu", "none") != "none":
        return f"{slug(facts['gpu'])}-x{facts.get('gpu_count', 1)}"
    return f"{slug(facts.get('cpu') or 'cpu')}-{facts.get('num_cpu', os.cpu_count())}cpu"


def collect() -> dict[str, Any]:
    """Every fact ptbench can learn here, and why any other is unknown."""
    # asv's defaults, less its machine name (the host name): ptbench derives one from hardware.
    facts = {key: str(v) for key, v in Machine.get_defaults().items() if key != "machine"}
    gpu, unknown = gpu_facts()
    facts.update(gpu)
    facts.update(
        torch=torch.__version__,
        torch_git=torch.version.git_version,
        torch_build=torch_build(),
        blas=blas(),
        torch_threads=str(torch.get_num_threads()),
        float32_matmul_precision=devices.float32_matmul_precision(),
    )
    if not facts.get("cpu"):
        unknown["cpu"] = "the CPU model is not in /proc/cpuinfo or the platform module"
    return {**facts, "unknown": unknown}


# Facts of the hardware and driver: what asv's machine file holds. The rest describe the Python
# environment and go into each result's params.
MACHINE_KEYS = (
    "arch",
    "cpu",
    "num_cpu",
    "os",
    "ram",
    "gpu",
    "gpu_count",
    "gpu_memory",
    "compute_capability",
    "cuda_driver",
)


PROBE_ATTEMPTS = 3


def quietly(measure, device: str, asked: bool = True) -> dict[str, str]:
    """``measure(device)`` (a peak probe) on a quiet machine: repeated while, at its start or
    end, the load or another running process says the machine was busy (``noise.busy_reason``).
    Peaks from a busy minute (measured here: a third of the quiet ones) would make every "% of
    peak" read 3x too high, so after ``PROBE_ATTEMPTS`` a probe that was ``asked`` for
    (``machine --write --probe``) is refused, and one a run makes of its own (a machine with
    no peaks yet) is left out, with a warning: the run goes on, its "% of peak" unknown. (Not
    the calibration workload's change, which this VM's noise alone moves past its limit.)"""
    cpus = os.cpu_count() or 1
    for _attempt in range(PROBE_ATTEMPTS):
        busy = noise.busy_reason(noise.snapshot(), cpus)
        found = measure(device)
        busy = busy or noise.busy_reason(noise.snapshot(), cpus)
        if busy is None:
            return found
    if not asked:
        outputs.error_line(f"ptbench: warning: no {device} peaks recorded: the machine was busy "
                           f"through {PROBE_ATTEMPTS} probes ({busy}); run ptbench machine "
                           "--write --probe when it is quiet")  # fmt: skip
        return {}
    raise MachineError(
        f"the machine was busy through {PROBE_ATTEMPTS} probes of its {device} peaks ({busy}); "
        "nothing was recorded. Probe again when it is quiet"
    )


def peak_facts(facts: dict[str, Any], existing: dict[str, str], probe: bool) -> dict[str, str]:
    """Datasheet peaks for a recognised GPU, and the probe's measurements: taken when asked, or
    when the machine has none yet for a device it has (a few seconds)."""
    devices = ["cpu"] + (["cuda"] if facts.get("gpu", "none") != "none" else [])
    found = dict(peaks.datasheet_facts(facts["gpu"])) if "cuda" in devices else {}
    for device in devices:
        known = {k: v for k, v in existing.items() if k.startswith(f"peak_{device}_")}
        found.update(quietly(peaks.probe, device, probe) if probe or not known else known)
        kept = {k: v for k, v in existing.items() if k.startswith(ceilings.FACT_PREFIXES)
                and f"_{device}_" in k}  # fmt: skip
        has_ceilings = any(k.startswith(f"ceiling_{device}_") for k in kept)
        found.update(quietly(ceilings.probe, device, probe) if probe or not has_ceilings
                     else kept)  # fmt: skip
    return found


def _existing_entry(name: str) -> dict[str, Any]:
    """What asv's machine file already holds for ``name`` (empty when nothing)."""
    where = MachineCollection.get_machine_file_path()
    if os.path.exists(where) and not os.path.isfile(where):
        raise MachineError(f"{where} is not a file (a folder?); move it aside so asv's machine "
                           "file can be written there")  # fmt: skip
    try:
        existing = MachineCollection.load(name)
    except asv_util.UserError as error:
        if "No information stored" in str(error):
            return {}
        reason = first_line(error, "unreadable")
        raise MachineError(f"{where} is unreadable ({reason}); fix or remove it") from None
    except (ValueError, TypeError, AttributeError, KeyError, OSError, RecursionError) as error:
        raise MachineError(f"{where} is unreadable ({first_line(error)}); fix or remove it"
                           ) from None  # JSON, its shape, or nested past the parser's depth
    if not isinstance(existing, dict):
        raise MachineError(f"{where}: the entry for {name!r} is not an object; fix or remove it")
    wrong = [key for key, value in existing.items()
             if key.startswith(MEASURED) and not _is_measure(value)]  # fmt: skip
    if wrong:  # kept by --write, then read as numbers (a hostile pass: an internal error)
        raise MachineError(f"{where}: the entry for {name!r} has {wrong[0]} "
                           f"{cut(repr(existing[wrong[0]]))}, not a number; fix or remove it")
    return existing


# The measured facts of a machine entry (peaks, ceilings, caches): numbers, kept as text.
MEASURED = ("peak_", "ceiling_", "cache_", "theoretical_")


def _is_measure(value: Any) -> bool:
    try:
        number = float(value) if isinstance(value, (str, int, float)) else math.nan
    except (ValueError, OverflowError):
        return False
    return not isinstance(value, bool) and math.isfinite(number) and number >= 0


def write(
    name: str | None = None,
    facts: dict[str, Any] | None = None,
    probe: bool = False,
    results_dir: Path | None = None,
) -> tuple[str, dict]:
    """Record the machine's facts and peaks in ~/.asv-machine.json under ``name`` (default:
    derived from the hardware). Keys a user added by hand are kept; collected facts refreshed.
    """
    facts = facts or collect()
    name = check_name(name or default_name(facts))
    existing = _existing_entry(name)
    copy = None if results_dir is None else Path(results_dir) / name / "machine.json"
    if copy is not None:  # checked before anything is written, the machine file included
        outputs.check_folder_target(Path(results_dir), "--results")
        outputs.check_makeable(copy.parent, "--results")
        outputs.check_no_link_to(copy, Path(results_dir))
        if copy.exists() and not copy.is_file():
            raise MachineError(f"{copy} is not a file; move it aside")
    where = Path(MachineCollection.get_machine_file_path())
    outputs.check_writable(where.parent, where.name)  # before the probe's seconds
    entry = {
        **existing,
        **{key: facts[key] for key in MACHINE_KEYS if key in facts},
        **peak_facts(facts, existing, probe),
        "machine": name,
    }
    try:
        MachineCollection.save(name, entry)
    except OSError as error:  # a read-only HOME, a full disk
        where = MachineCollection.get_machine_file_path()
        raise OutputError(f"cannot write {where} ({error.strerror or error}); set HOME to a "
                          "folder you can write") from None  # fmt: skip
    if copy is not None:  # as asv run does: the facts beside the machine's results
        outputs.make_folder(copy.parent)
        text = json.dumps({**entry, "version": 1}, indent=4, sort_keys=True)
        outputs.write_text_atomically(copy, text)
    return name, entry
