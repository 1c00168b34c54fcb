"""The asv suite: discovery, params that never change, no CUDA at import, skips and timing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from asv_runner.benchmarks.mark import SkipNotImplemented
from asv_runner.discovery import disc_benchmarks

from ptbench.hardware import devices
from ptbench.suite import declare as suite
from ptbench.suite.operations import OPERATIONS

# Runs in a fresh interpreter: every way into CUDA raises, then the suite is imported and
# discovered as asv's forkserver does, and one CPU combination is timed by asv-runner.
NO_CUDA_PROGRAM = textwrap.dedent(
    """
    import json, os, sys
    import torch

    def forbidden(*args, **kwargs):
        raise RuntimeError("CUDA was touched at import or discovery")

    for name in ("_lazy_init", "init", "is_available", "device_count", "mem_get_info",
                 "synchronize", "current_device", "get_device_properties"):
        setattr(torch.cuda, name, forbidden)
    if hasattr(torch._C, "_cuda_getDeviceCount"):
        torch._C._cuda_getDeviceCount = forbidden

    sys.path.insert(0, os.environ["PROJECT"])
    from asv_runner.discovery import disc_benchmarks, get_benchmark_from_name
    benchmarks = list(disc_benchmarks(os.path.join(os.environ["PROJECT"], "benchmarks")))
    timed = get_benchmark_from_name(os.path.join(os.environ["PROJECT"], "benchmarks"),
                                    "bench_elementwise.time_sum-0")
    timed.do_setup()
    result = timed.do_run()
    print(json.dumps({
        "params": {b.name: b.params for b in benchmarks},
        "cuda_initialized": torch.cuda.is_initialized(),
        "samples": result["samples"],
    }))
    """
)


def run_isolated(project, **environment) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", NO_CUDA_PROGRAM],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PROJECT": str(project), **environment},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def discovered(request):
    project = request.config.rootpath
    sys.path.insert(0, str(project))
    return {b.name: b for b in disc_benchmarks(str(project / "benchmarks"))}


def test_asv_discovers_every_operation(discovered):
    timed = {b.operation_name for b in discovered.values() if b.type == "time"}
    assert timed == set(OPERATIONS)
    assert {name for name in discovered if ".track_" in name} == {
        "bench_updates.track_update_peak_bytes",
        "bench_updates.track_sgd_step_peak_bytes",
        "bench_settings.track_threads",
        "bench_settings.track_float32_matmul_allows_tf32",
    }
    assert discovered["bench_linalg.time_solve"].param_names == [
        "device",
        "size",
        "dtype",
        "method",
    ]


def test_timed_benchmarks_have_no_setup_hook_and_a_synchronised_timer(discovered):
    """Setup hooks would make asv-runner >= 0.3 time one call per sample (see suite.py)."""
    for benchmark in discovered.values():
        assert benchmark._setups == [], benchmark.name
        if benchmark.type == "time":
            assert benchmark.timer is devices.synchronized_timer


def test_function_names_match_their_module_attributes(project):
    """asv names a function benchmark by __name__ but imports it by attribute."""
    sys.path.insert(0, str(project))
    import benchmarks.bench_linalg as module

    for attribute, value in vars(module).items():
        if attribute.startswith(("time_", "track_")):
            assert value.__name__ == attribute


def test_versions_follow_the_operation_definition():
    versions = {suite.definition_version(operation) for operation in OPERATIONS.values()}
    assert len(versions) == len(OPERATIONS)


VERSIONS = """
import json, sys
if sys.argv[1] == "torch first":
    import torch
from ptbench.suite.operations import OPERATIONS  # before torch: the operations hold its stand-in
from ptbench.suite import declare as suite
print(json.dumps({name: suite.definition_version(op) for name, op in OPERATIONS.items()}))
print(json.dumps(type(sys.modules["ptbench.suite.operations.linalg"].torch).__name__))
"""


@pytest.mark.slow
def test_versions_do_not_depend_on_whether_torch_was_imported_first():
    """The operations bind torch lazily (core.lazy): the stand-in is not part of the work."""
    outputs = {
        order: subprocess.run(
            [sys.executable, "-c", VERSIONS, order], capture_output=True, text=True, check=True
        ).stdout.splitlines()  # fmt: skip
        for order in ("torch first", "operations first")
    }
    assert outputs["torch first"][0] == outputs["operations first"][0]
    assert json.loads(outputs["torch first"][0]) == {
        name: suite.definition_version(operation) for name, operation in OPERATIONS.items()
    }
    kinds = {order: json.loads(lines[1]) for order, lines in outputs.items()}
    assert kinds == {"torch first": "module", "operations first": "_Deferred"}


def test_versions_change_with_anything_that_determines_the_work(monkeypatch):
    """A new seed, a new SPD construction, a new batch size or a changed helper each change
    the work timed: asv must then stop comparing new results with old ones."""
    import dataclasses

    from ptbench.suite.operations import Case, autograd, linalg

    solve, batched, backward = (OPERATIONS[n] for n in ("solve", "matmul_batched", "backward"))
    before = {op.name: suite.definition_version(op) for op in (solve, batched, backward)}
    assert suite.definition_version(solve) == before["solve"]  # deterministic

    monkeypatch.setattr(suite, "SEED", 4321)
    assert suite.definition_version(solve) != before["solve"]
    monkeypatch.undo()

    monkeypatch.setattr(Case, "spd_matrix", lambda self, n: self.rand(n, n) + n)
    assert suite.definition_version(solve) != before["solve"]
    monkeypatch.undo()

    smaller_batch = dataclasses.replace(batched, make_inputs=linalg._matmul_inputs(batch=(32,)))
    assert suite.definition_version(smaller_batch) != before["matmul_batched"]

    monkeypatch.setattr(autograd, "_leaves", lambda case: None)  # a helper of the inputs
    assert suite.definition_version(backward) != before["backward"]
    monkeypatch.undo()
    assert suite.definition_version(backward) == before["backward"]


def test_no_cuda_at_import_or_discovery_and_params_never_change(project):
    smoke = run_isolated(project, PTBENCH_TIER="smoke")
    full = run_isolated(project, PTBENCH_TIER="full", CUDA_VISIBLE_DEVICES="")
    assert smoke["cuda_initialized"] is False
    assert smoke["params"] == full["params"]
    assert smoke["params"]["bench_linalg.time_matmul"][0] == ["'cpu'", "'cuda'"]
    assert len(smoke["samples"]) >= 2 and min(smoke["samples"]) > 0


def test_an_unavailable_combination_is_recorded_as_skipped(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    benchmark = suite.time_benchmark(OPERATIONS["sum"])
    with pytest.raises(SkipNotImplemented, match="cuda is not available"):
        benchmark("cuda", 16)


def test_a_benchmark_times_the_prepared_call_with_asv_runner(monkeypatch):
    """asv-runner's own TimeBenchmark batches calls: number > 1 for a microsecond operation."""
    from asv_runner.benchmarks.time import TimeBenchmark

    monkeypatch.setenv("PTBENCH_TIER", "smoke")
    function = suite.time_benchmark(OPERATIONS["multiply"])
    benchmark = TimeBenchmark("bench.time_multiply", function, [function])
    benchmark.set_param_idx(1)  # ('cpu', 128)
    assert benchmark.do_setup() is False
    result = benchmark.run(*benchmark._current_params)
    assert result["number"] > 10
    samples = result["samples"]
    assert len(samples) >= 2 and 0 < min(samples) <= max(samples) < 1e-3
