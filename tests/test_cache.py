"""The cache of parsed result files: the same table warm as cold, nothing stale, never in
results/, and parsing many files in parallel gives the serial answer."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from helpers import FIXTURE_MACHINE, checksums, fixture_runs, scale_result
from ptbench.data import cache
from ptbench.data.results import load_results

SUM = "bench_elementwise.time_sum"


def sum_value(frame: pd.DataFrame, commit: str) -> float:
    rows = frame[(frame["benchmark"] == SUM) & (frame["size"] == 65536)
                 & (frame["commit"] == commit)]  # fmt: skip
    return float(rows["value"].iloc[0])


def test_a_warm_load_is_the_cold_load(results_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("PTBENCH_CACHE", str(tmp_path / "cache"))
    before = checksums(results_copy)
    cold = load_results(results_copy)
    entries = sorted((tmp_path / "cache").glob("*.parquet"))
    assert len(entries) == 2  # one per result file
    warm = load_results(results_copy)
    pd.testing.assert_frame_equal(cold, warm)
    assert checksums(results_copy) == before  # the cache lives elsewhere


def test_a_changed_file_is_parsed_again(results_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("PTBENCH_CACHE", str(tmp_path / "cache"))
    _first, second = fixture_runs(results_copy)
    commit = json.loads(second.read_text())["commit_hash"]
    before = sum_value(load_results(results_copy), commit)
    scale_result(second, SUM, ("cpu", 65536), 2.0)
    assert sum_value(load_results(results_copy), commit) == 2.0 * before


def test_the_cache_can_be_off_or_unwritable(results_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("PTBENCH_CACHE", "off")
    assert cache.folder() is None
    expected = load_results(results_copy)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("PTBENCH_CACHE", str(blocker / "cache"))
    pd.testing.assert_frame_equal(load_results(results_copy), expected)


def test_many_files_parse_in_parallel_to_the_serial_answer(results_copy, tmp_path, monkeypatch):
    _first, template = fixture_runs(results_copy)
    data = json.loads(template.read_text())
    copies = cache.PARALLEL_FROM + 2  # with the fixture's two: parsed by a pool of processes
    for index in range(copies):
        commit = f"{index:08x}" + data["commit_hash"][8:]
        copy = {**data, "commit_hash": commit, "date": data["date"] + index * 1000}
        path = results_copy / FIXTURE_MACHINE / f"{commit[:8]}-{data['env_name']}.json"
        path.write_text(json.dumps(copy))
    monkeypatch.setenv("PTBENCH_CACHE", "off")
    parallel = load_results(results_copy)
    monkeypatch.setattr(cache, "PARALLEL_FROM", 10_000)
    pd.testing.assert_frame_equal(parallel, load_results(results_copy))
    assert parallel["commit"].nunique() == copies + 2


def test_run_facts_are_categoricals_even_where_a_file_lacks_one(results_copy, monkeypatch):
    from helpers import edit_result

    monkeypatch.setenv("PTBENCH_CACHE", "off")
    first, _second = fixture_runs(results_copy)
    edit_result(first, lambda data: data["params"].update(noise="quiet"))  # only this file
    frame = load_results(results_copy)
    assert frame["noise"].dtype == "category" and frame["machine"].dtype == "category"
    by_commit = frame.groupby("commit", observed=True)["noise"].first()
    assert by_commit.dropna().to_dict() == {json.loads(first.read_text())["commit_hash"]: "quiet"}
    assert frame["noise"].isna().sum() == len(frame) / 2  # the other run recorded none


def test_a_warm_load_parses_nothing_even_where_files_disagree_on_a_type(
    results_copy, tmp_path, monkeypatch
):
    """A run with a parameterless track has NaN sizes (double) where the other run's are whole
    (int64): the entries are still read back together, not parsed again."""
    from helpers import edit_result
    from ptbench.data import results

    first, _second = fixture_runs(results_copy)

    def add_track(data):
        row = {"result": [2.0], "params": []}
        data["results"]["bench_settings.track_threads"] = [
            row.get(column) for column in data["result_columns"]
        ]

    edit_result(first, add_track)
    monkeypatch.setenv("PTBENCH_CACHE", str(tmp_path / "cache"))
    cold = load_results(results_copy)
    assert cold.loc[cold["benchmark"] == "bench_settings.track_threads", "size"].isna().all()

    def parse(path, catalogue):
        raise AssertionError(f"{path.name} was parsed again")

    monkeypatch.setattr(results, "file_frame", parse)
    pd.testing.assert_frame_equal(load_results(results_copy), cold)


@pytest.mark.slow
def test_loading_and_reporting_never_import_torch(results_copy, tmp_path):
    """The operations bind torch lazily (ptbench.core.lazy): work counts, statistics and figures run
    without it, and without scipy.stats, in a fresh interpreter as a user's command would."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ptbench.present import report\n"
        f"report.write(Path({str(results_copy)!r}), Path({str(tmp_path / 'report')!r}))\n"
        "print(sorted(m for m in ('torch', 'scipy.stats') if m in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               check=True, env={**os.environ, "PTBENCH_CACHE": "off"})  # fmt: skip
    assert completed.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "report" / "report.html").is_file()


def test_a_damaged_entry_is_parsed_again_and_replaced(results_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("PTBENCH_CACHE", str(tmp_path / "cache"))
    expected = load_results(results_copy)
    damaged = sorted((tmp_path / "cache").glob("*.parquet"))[0]
    damaged.write_bytes(b"not parquet")
    pd.testing.assert_frame_equal(load_results(results_copy), expected)  # parsed, not read
    assert not damaged.exists()  # forgotten: the next load keeps the file's rows again
    pd.testing.assert_frame_equal(load_results(results_copy), expected)
    assert damaged.exists() and damaged.read_bytes()[:4] == b"PAR1"
