"""An asv plugin: plain ``asv run`` records what ``ptbench run`` records.

``asv.conf.json`` names it (``"plugins": [".ptbench.run.asv_plugin"]``); asv imports the module at
start and calls :func:`setup` (``asv.plugin_manager``). Without it, ``asv run`` labels results
with the matrix's requirement string (``2.13.0`` where pip installed ``2.13.0+cpu``), records no
CUDA, BLAS or thread facts, keeps no samples (so no Mann-Whitney test and no Moses interval),
and names the machine after the host. With it:

- **the machine** gets the name ``ptbench machine`` gives (``amd-epyc-2cpu``,
  ``nvidia-h100-80gb-hbm3-x1``), with its facts and peaks recorded in ``~/.asv-machine.json`` by
  ``ptbench machine --write`` (asv copies them into every result), unless ``--machine`` names
  one;
- **each environment's facts** (``ptbench.run.environment.settings``: torch with its build label,
  torch_build, torch_cuda, blas, threads, float32 matmul precision) are read by running Python
  in that environment and written into the result's params, as ``ptbench run`` does;
- **samples** are always recorded (``record_samples``), as ``asv continuous`` does;
- **how quiet the machine was** (``ptbench.hardware.noise``) is recorded for each environment's run.

It patches two names in asv (``Machine.get_unique_machine_name`` and the ``run_benchmarks``
that ``asv.commands.run`` calls), checked against asv 0.6.6; nothing else changes.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys

from asv.commands import run as asv_run
from asv.machine import Machine

from ptbench.hardware import noise

FACTS_PROGRAM = (
    "import json; from ptbench.run import environment; "
    "print(json.dumps(environment.settings()))"
)


@functools.lru_cache(maxsize=1)
def machine_name() -> str:
    """ptbench's name for this machine, recorded (with facts and peaks) in asv's machine file
    by ``ptbench machine --write`` in a child process (it imports torch; asv need not)."""
    completed = subprocess.run(
        [sys.executable, "-m", "ptbench.cli", "machine", "--write"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise RuntimeError(f"ptbench machine --write failed: {completed.stderr.strip()}")
    sys.stderr.write(completed.stderr)  # its warnings (no peaks: the machine was busy) are asv's
    return json.loads(completed.stdout)["machine"]


def environment_facts(env) -> dict[str, str]:
    """The torch, BLAS and settings facts of the environment asv is about to file results for."""
    output = env.run(["-c", FACTS_PROGRAM])
    return json.loads(output.strip().splitlines()[-1])


def run_benchmarks(original, benchmarks, env, results=None, **kwargs):
    """asv's ``run_benchmarks``, always recording samples, then adding the environment's facts
    and the machine's quiet to the results asv is about to save."""
    kwargs["record_samples"] = True
    before = noise.snapshot()
    outcome = original(benchmarks, env, results=results, **kwargs)
    if results is not None:
        results.params.update(environment_facts(env))
        results.params.update(noise.assess(before, noise.snapshot()))
    return outcome


def setup() -> None:
    """Called by asv's plugin manager when it loads this module."""
    Machine.get_unique_machine_name = classmethod(lambda cls: machine_name())
    original = asv_run.run_benchmarks
    if getattr(original, "ptbench", False):
        return
    patched = functools.partial(run_benchmarks, original)
    patched.ptbench = True
    asv_run.run_benchmarks = patched
