"""Change points along history, found by asv's step detection."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import FIXTURE_MACHINE, fixture_runs, scale_result
from ptbench.analysis.history import change_points
from ptbench.data.results import load_results


def make_history(results, factors: list[float]) -> list[str]:
    """Copies of the fixture's second run at new commits, one per factor, time_sum scaled."""
    _first, template = fixture_runs(results)
    data = json.loads(template.read_text())
    commits = []
    for index, factor in enumerate(factors):
        commit = f"{index + 1:02x}" * 20
        copy = dict(data, commit_hash=commit, date=data["date"] + (index + 1) * 3_600_000)
        path = results / FIXTURE_MACHINE / f"{commit[:8]}-{data['env_name']}.json"
        path.write_text(json.dumps(copy))
        scale_result(path, "bench_elementwise.time_sum", ("cpu", 65536), factor)
        commits.append(commit)
    return commits


def test_a_step_up_is_found_at_the_commit_where_it_began(results_copy):
    commits = make_history(results_copy, [1.0, 1.0, 1.0, 1.5, 1.5, 1.5])
    changes = change_points(load_results(results_copy))
    step = changes[
        (changes["benchmark"] == "bench_elementwise.time_sum") & (changes["size"] == 65536)
    ]
    assert len(step) == 1
    row = step.iloc[0]
    assert row["commit"] == commits[3] and row["previous_commit"] == commits[2]
    assert row["direction"] == "regression" and row["change"] == pytest.approx(1.5, rel=0.05)
    assert row["p_value"] < 1e-3


def test_a_flat_history_has_no_change_points(results_copy):
    make_history(results_copy, [1.0] * 5)
    changes = change_points(load_results(results_copy))
    assert "bench_elementwise.time_sum" in set(load_results(results_copy)["benchmark"])
    sums = changes[changes["benchmark"] == "bench_elementwise.time_sum"]
    assert sums.empty


def test_two_commits_are_too_few_for_a_history(results_copy):
    changes = change_points(load_results(results_copy))
    assert changes.empty and "p_value" in changes.columns


def test_many_series_are_searched_in_parallel_to_the_serial_answer(results_copy, monkeypatch):
    """From history.PARALLEL_FROM points, asv's detector runs in forked workers: the same
    change points, in the same order, as one process finds."""
    from ptbench.analysis import history

    make_history(results_copy, [1.0, 1.0, 1.0, 1.5, 1.5, 1.5])
    frame = load_results(results_copy)
    monkeypatch.setattr(history, "PARALLEL_FROM", 10**9)
    serial = change_points(frame)
    monkeypatch.setattr(history, "PARALLEL_FROM", 2)
    calls, real_map = [], history.parallel.fork_map

    def recorded(*arguments, worth_it):
        calls.append(worth_it)
        return real_map(*arguments, worth_it=worth_it)

    monkeypatch.setattr(history.parallel, "fork_map", recorded)
    parallel = change_points(frame)
    assert calls == [True]  # the series went to the pool
    pd.testing.assert_frame_equal(parallel, serial)
    assert not serial.empty
