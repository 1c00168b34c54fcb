"""The asv and asv-runner names ptbench relies on beyond their documented commands, each looked
up where ptbench uses it. asv is pinned to the minor series these were read from (pyproject);
when an upgrade removes or moves one, this fails naming it, before any command does."""

from __future__ import annotations

import importlib

import pytest

# (module, attribute path): private modules (asv._stats), patched internals (the asv plugin)
# and the classes and helpers ptbench calls directly.
USED = [
    ("asv._stats", "is_different"),  # analysis.compare: asv compare's significance test
    ("asv._stats", "get_weight"),  # analysis.stats
    ("asv._stats", "mann_whitney_u"),
    ("asv._stats", "mann_whitney_u_pmf"),
    ("asv._stats", "mann_whitney_u_cdf"),
    ("asv._stats", "binom"),
    ("asv.step_detect", "detect_steps"),  # analysis.history: asv publish's change points
    ("asv.machine", "Machine.get_unique_machine_name"),  # run.asv_plugin patches it
    ("asv.machine", "Machine.get_defaults"),  # hardware.machine
    ("asv.machine", "MachineCollection.get_machine_file_path"),
    ("asv.machine", "MachineCollection.load"),
    ("asv.machine", "MachineCollection.save"),
    ("asv.commands.run", "run_benchmarks"),  # run.asv_plugin wraps it
    ("asv.environment", "get_env_name"),  # run.asv_process: --python=same's env name
    ("asv.results", "Results.load"),  # data.results, run.plan
    ("asv.results", "Results.add_result"),  # analysis.ab.record
    ("asv.results", "Results.save"),
    ("asv.results", "get_filename"),
    ("asv.runner", "BenchmarkResult"),
    ("asv.util", "load_json"),
    ("asv.util", "write_json"),
    ("asv.util", "sanitize_filename"),
    ("asv.util", "UserError"),
    ("asv_runner.discovery", "disc_benchmarks"),  # run.plan: asv-runner's own discovery
    ("asv_runner.discovery", "get_benchmark_from_name"),  # suite.declare
    ("asv_runner.benchmarks.mark", "SkipNotImplemented"),
    ("asv_runner.benchmarks.time", "TimeBenchmark.run"),  # analysis.ab.worker: one round
]


@pytest.mark.parametrize(("module", "path"), USED, ids=[f"{m}.{p}" for m, p in USED])
def test_an_asv_name_ptbench_uses_still_exists(module, path):
    found = importlib.import_module(module)
    for part in path.split("."):
        assert hasattr(found, part), (
            f"{module}.{path} is gone from this asv/asv-runner: ptbench uses it (see the comment "
            "beside it in tests/test_asv_names.py); pin the older release or port ptbench"
        )
        found = getattr(found, part)
