"""Loading asv results into one table, exporting it, and refusing bad result folders."""

from __future__ import annotations

import json
import math
import os
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


SUM = "bench_elementwise.time_sum"


def _entry(change):
    def damage(catalogue: dict) -> dict:
        change(catalogue[SUM])
        return catalogue

    return damage


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda c: {}, "benchmarks.json is missing or describes no benchmark; it names"),
        (lambda c: {"version": 2}, "benchmarks.json is missing or describes no benchmark"),
        (lambda c: None, "benchmarks.json is missing or describes no benchmark"),
        (lambda c: {"version": 2, "bench_x.time_y": c[SUM]},
         "none of the 5 benchmarks in the result files of"),
        (_entry(lambda e: e.update(param_names=["device"])),
         f"the entry of {SUM} has 1 param_names (device) but 2 lists of params; restore"),
        (_entry(lambda e: e.update(param_names=5)),
         f"the entry of {SUM} has param_names 5, not a list of names"),
        (_entry(lambda e: e.update(params="abc")),
         f"the entry of {SUM} has params 'abc', not a list of lists of values"),
        (_entry(lambda e: e.update(param_names=["device", "device"])),
         f"the entry of {SUM} names a parameter 'device' twice or like a column of every"),
        (_entry(lambda e: e.update(param_names=["device", "value"])),
         f"the entry of {SUM} names a parameter 'value' twice or like a column of every"),
        # a fifth hostile pass: each of these was an internal error in compare or report
        *[(_entry(lambda e, name=name: e.update(param_names=["device", name])),
           f"the entry of {SUM} names a parameter {name!r} twice or like a column of every")
          for name in ("ratio", "verdict", "p_value", "intensity", "noise", "_params")],
        (_entry(lambda e: e.update(unit="furlongs")),
         f"the entry of {SUM} is a time benchmark with unit 'furlongs'; asv times in seconds"),
        (_entry(lambda e: e.update(unit=5)), f"the entry of {SUM} has a unit of 5, not text"),
        (_entry(lambda e: e.update(type=["time"])),
         f"the entry of {SUM} has a type of ['time'], not text"),
        (_entry(lambda e: e.update(param_names=["device"], params=e["params"][:1])),
         f"{SUM} holds 2 lists of parameter values where benchmarks.json names 1 (device): "
         "the catalogue is older than the result, or damaged"),
    ],
)  # fmt: skip
def test_a_damaged_or_missing_catalogue_is_named_in_one_line(results_copy, damage, message):
    """Found by a hostile pass: report on such a catalogue gave KeyError ('device') or a
    figure process's traceback; the parameters of a result are named by benchmarks.json."""
    path = results_copy / "benchmarks.json"
    catalogue = damage(json.loads(path.read_text()))
    if catalogue is None:
        path.unlink()
    else:
        path.write_text(json.dumps(catalogue))
    with pytest.raises(ResultsError) as error:
        load_results(results_copy)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_catalogue_nested_past_the_parsers_depth_is_named_in_one_line(results_copy):
    """A fifth hostile pass: 100,000 nested brackets were a RecursionError (exit 3)."""
    (results_copy / "benchmarks.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ResultsError) as error:
        load_results(results_copy)
    assert str(error.value) == (f"{results_copy / 'benchmarks.json'}: not a readable asv "
                                "benchmarks.json (maximum recursion depth exceeded while "
                                "decoding a JSON array from a unicode string)")  # fmt: skip


def test_benchmarks_missing_from_the_catalogue_are_left_out_with_a_note(results_copy, capsys):
    """As asv publish leaves out results of benchmarks benchmarks.json does not list: their
    parameters have no names (they used to become param0, param1 and break every figure)."""
    path = results_copy / "benchmarks.json"
    catalogue = json.loads(path.read_text())
    del catalogue[SUM], catalogue["bench_elementwise.time_multiply"]
    path.write_text(json.dumps(catalogue))
    frame = load_results(results_copy)
    assert SUM not in set(frame["benchmark"]) and "bench_linalg.time_solve" in set(
        frame["benchmark"])
    assert not [column for column in frame.columns if column.startswith("param")]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "ptbench: 2 benchmarks in the result files are not in benchmarks.json, so their "
        "parameters have no names: left out, as asv publish leaves them out "
        "(bench_elementwise.time_multiply, bench_elementwise.time_sum)")


def test_a_result_file_that_is_a_dangling_link_is_named(results_copy, tmp_path):
    """It was skipped without a word (a hostile pass): a run quietly missing from the history."""
    first, _second = fixture_runs(results_copy)
    first.rename(tmp_path / "moved.json")
    first.symlink_to(tmp_path / "gone.json")
    with pytest.raises(ResultsError) as error:
        load_results(results_copy)
    assert str(error.value) == (f"{first}: a link to {tmp_path / 'gone.json'}, which does not "
                                "exist; restore what it points to, or remove the link")
    first.unlink()
    os.mkfifo(first)  # skipped without a word before (a hostile pass); a read would block
    with pytest.raises(ResultsError, match="not a regular file .a device or a pipe. among"):
        load_results(results_copy)


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
