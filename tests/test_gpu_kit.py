"""The GPU kit (scripts/gpu/): the plan that decides what a few lent minutes on a GPU time, and
the rehearsal of the one command that runs there."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from helpers import PROJECT
from ptbench.run import device_plan, plan

BENCHMARKS = PROJECT / "benchmarks"


@pytest.fixture(scope="module")
def planned():
    benchmarks = plan.discover(BENCHMARKS)
    return benchmarks, device_plan.predict(
        benchmarks, plan.select(benchmarks, "default", ["cuda"]), "cuda"
    )


def test_a_bigger_matmul_is_predicted_slower_and_every_prediction_pays_its_processes(planned):
    _benchmarks, every = planned
    matmul = {c.label: c.seconds for c in every if c.benchmark == "bench_linalg.time_matmul"}
    assert matmul["'cuda', 8192, 'float32'"] > matmul["'cuda', 1024, 'float32'"]
    floor = device_plan.ROUNDS * device_plan.PROCESS_SECONDS["cuda"]
    assert min(c.seconds for c in every) >= floor


def test_the_fit_stays_in_budget_and_covers_every_benchmark_before_any_twice(planned):
    _benchmarks, every = planned
    chosen = device_plan.fit(every, 300, "cuda")
    families = {c.family for c in chosen}
    spent = device_plan.total_seconds(chosen) + device_plan.CHUNK_SECONDS["cuda"] * len(families)
    assert spent <= 300
    counts = {}
    for combination in chosen:
        counts[combination.benchmark] = counts.get(combination.benchmark, 0) + 1
    affordable = {c.benchmark for c in every if c.seconds <= 20}
    assert set(counts) == affordable  # every benchmark that fits at all is there
    assert all(c.seconds <= 20 for c in chosen)
    assert len(device_plan.fit(every, 10_000, "cuda")) > len(chosen)


def test_a_benchmark_s_first_picks_span_its_sizes():
    combos = [device_plan.Planned("bench_x.time_y", f"'cuda', {n}", 1.0) for n in range(8)]
    first = [c.label for c in device_plan._spread(combos)[:3]]
    assert first == ["'cuda', 7", "'cuda', 0", "'cuda', 4"]
    assert sorted(device_plan._spread(combos), key=lambda c: c.label) == combos


def test_the_regex_selects_exactly_the_planned_combinations(planned):
    benchmarks, every = planned
    some = device_plan.fit(every, 120, "cuda")
    selected = plan.select(benchmarks, "default", ["cuda"], device_plan.bench_regex(some))
    assert sorted((name, label) for name, labels in selected.items() for label in labels) == \
        sorted((c.benchmark, c.label) for c in some)  # fmt: skip


def test_measure_prints_the_plan_per_chunk_before_anything_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "scripts/gpu/measure", "--out", str(tmp_path), "--plan-only",
         "--wheels", str(tmp_path / "none")],
        cwd=PROJECT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    total = re.search(r"plan: (\d+) of the (\d+) cuda combinations of the default tier, "
                      r"predicted (\d+) s", done.stdout)  # fmt: skip
    assert total and int(total[1]) > 0 and int(total[3]) <= 480
    assert "plan: linalg:" in done.stdout and "install: skipped: no wheels" in done.stdout


@pytest.mark.slow
def test_the_rehearsal_passes(tmp_path):
    done = subprocess.run([sys.executable, "scripts/gpu/rehearse"], cwd=PROJECT,
                          capture_output=True, text=True, check=False)  # fmt: skip
    last = done.stderr.strip().splitlines()[-1:] + done.stdout.strip().splitlines()[-1:]
    if done.returncode and "is the package index reachable" in done.stderr:
        pytest.skip("the package index is not reachable from here: fetch-wheels needs it")
    assert done.returncode == 0, "\n".join(last)
    assert "rehearse: PASS" in done.stdout
