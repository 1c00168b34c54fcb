"""Loading asv results into one table, exporting it, and refusing bad result folders."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from helpers import FIXTURE_MACHINE, fixture_runs
from ptbench.data.results import ResultsError, load_results


def test_every_combination_of_every_file_becomes_a_row(results_copy):
    frame = load_results(results_copy)
    first, second = fixture_runs(results_copy)
    expected = 0
    for path in (first, second):
        data = json.loads(path.read_text())
        for row in data["results"].values():
            params = dict(zip(data["result_columns"], row, strict=False))["params"]
            expected += math.prod(len(p) for p in params) if params else 1
    assert len(frame) == expected
    assert set(frame["machine"]) == {FIXTURE_MACHINE}
    assert frame["commit"].nunique() == 2


def test_columns_hold_params_stats_samples_and_run_facts(results_copy):
    frame = load_results(results_copy)
    assert frame.attrs["param_keys"][:2] == ["device", "size"]
    sums = frame[
        (frame["benchmark"] == "bench_elementwise.time_sum")
        & (frame["size"] == 1024)
        & (frame["device"] == "cpu")
    ]
    assert len(sums) == 2 and (sums["status"] == "ok").all()
    row = sums.iloc[0]
    assert row["unit"] == "seconds" and 0 < row["value"] < 1e-3
    assert row["ci_99_low"] <= row["value"] <= row["ci_99_high"]
    assert row["q_25"] <= row["value"] <= row["q_75"]
    assert len(row["samples"]) >= 5 and min(row["samples"]) > 0
    assert row["torch"].startswith("2.") and row["env"].startswith("existing-py3")
    assert isinstance(row["commit_date"], pd.Timestamp)
    assert pd.api.types.is_integer_dtype(frame["size"])


def test_skipped_and_failed_entries_are_kept_and_marked(results_copy):
    first, _second = fixture_runs(results_copy)
    data = json.loads(first.read_text())
    row = data["results"]["bench_elementwise.time_sum"]
    row[0][0] = None  # ('cpu', 16) failed
    first.write_text(json.dumps(data))
    frame = load_results(results_copy)
    sums = frame[frame["benchmark"] == "bench_elementwise.time_sum"]
    assert (sums["status"] == "failed").sum() == 1
    cuda = sums[sums["device"] == "cuda"]
    assert len(cuda) > 0 and (cuda["status"] == "skipped").all() and cuda["value"].isna().all()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "not a readable asv result file"),
        (lambda text: json.dumps({"version": 99}), "not a readable asv result file"),
        (lambda text: "", "not a readable asv result file"),
    ],
)
def test_a_bad_result_file_is_named(results_copy, damage, message):
    first, _second = fixture_runs(results_copy)
    first.write_text(damage(first.read_text()))
    with pytest.raises(ResultsError, match=message) as error:
        load_results(results_copy)
    assert first.name in str(error.value)


def test_missing_and_empty_folders_are_errors(tmp_path):
    with pytest.raises(ResultsError, match="does not exist"):
        load_results(tmp_path / "nowhere")
    (tmp_path / "empty" / "machine").mkdir(parents=True)
    with pytest.raises(ResultsError, match="no asv result files"):
        load_results(tmp_path / "empty")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_export_writes_the_table_by_suffix(results_copy, tmp_path, suffix):
    out = tmp_path / f"table{suffix}"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ptbench.cli",
            "export",
            "--results",
            str(results_copy),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    reader = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".json": pd.read_json}[suffix]
    exported = reader(out)
    assert len(exported) == len(load_results(results_copy))
    assert {"benchmark", "device", "size", "value", "status", "samples"} <= set(exported.columns)


def test_bad_export_and_bad_results_exit_2_and_change_nothing(results_copy, tmp_path):
    before = {p: p.read_bytes() for p in results_copy.rglob("*") if p.is_file()}
    for arguments in (
        ["export", "--results", str(results_copy), "--out", str(tmp_path / "t.xlsx")],
        ["export", "--results", str(tmp_path / "nowhere"), "--out", str(tmp_path / "t.csv")],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "ptbench.cli", *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 2
        assert len(completed.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in results_copy.rglob("*") if p.is_file()} == before


def test_the_committed_history_is_tracked_and_carries_its_own_peaks(project):
    """results/ is committed, .gitignore must not hide any of it; and each committed result
    holds the peaks it was judged against, so its % of peak never moves."""
    tracked = subprocess.run(
        ["git", "-C", str(project), "ls-files", "results"], capture_output=True, text=True
    ).stdout.split()
    assert "results/benchmarks.json" in tracked and len(tracked) >= 4
    ignored = subprocess.run(
        ["git", "-C", str(project), "check-ignore", "--no-index", *tracked],
        capture_output=True,
        text=True,
    )
    assert ignored.stdout == "", f"ignored by .gitignore: {ignored.stdout}"
    frame = load_results(project / "results")
    matmul = frame[(frame["operation"] == "matmul") & (frame["status"] == "ok")]
    assert len(matmul) > 0
    assert matmul["peak"].notna().all()
    sequential = matmul[matmul["commit"].str.startswith("1afbe096")]  # the releases, run in turn
    assert set(sequential["peak"]) == {184.8, 83.2}  # float32 and float64, as measured then
    assert set(sequential["peak_source"]) == {"measured"}  # recorded before the FMA peak
    assert set(matmul["peak_source"]) <= {"measured", "computed"}
