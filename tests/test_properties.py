"""Property-based tests of the command line's contract (issue 8), with hypothesis.

For any damaged results folder and any argument list:
- no traceback: every error ends as one line on stderr and an exit status, never an internal
  error (status 3 with "internal error");
- the status is one the command may give (export 0/2, compare 0/1/2, ...);
- nothing under the results folder changes, unless the command was asked to write there.

Examples run in this process (``cli.main``); asv is replaced by a stand-in that records nothing
(so ``run`` never benchmarks for real), the peak probe by a constant, and the report's figures
are left out (they take seconds and their inputs are what is under test here).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import FIXTURE_RESULTS, PROJECT, checksums, run_cli


# In CI the same examples every time (a failure there is reproducible); locally, new ones.
def explore(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


ALLOWED = {
    "export": {0, 2},
    "compare": {0, 1, 2},
    "report": {0, 2},
    "publish": {0, 2},
    "machine": {0, 2},
    "run": {0, 1, 2, 3},  # 3 only as "asv stopped": the stand-in records nothing
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
numbers = st.sampled_from([0.0, -1e-6, float("inf"), float("nan"), 1e-300, 1e300, None, "1us"])


@st.composite
def damages(draw):
    """One way to damage a results folder: (file, how, argument)."""
    target = draw(st.sampled_from(["result", "result", "result", "benchmarks", "machine"]))
    if target != "result":
        return target, "replace", draw(json_values)
    how = draw(st.sampled_from(["truncate", "top", "row", "cell", "value", "delete", "params"]))
    argument = {
        "truncate": st.floats(0, 1),
        "top": st.tuples(st.sampled_from(["date", "version", "commit_hash", "env_name",
                                          "params", "results", "result_columns"]), json_values),
        "row": st.tuples(st.integers(0, 12), json_values),
        "cell": st.tuples(st.integers(0, 12), st.integers(0, 40), json_values | numbers),
        "value": st.tuples(st.integers(0, 40), numbers),
        "delete": st.sampled_from(["date", "results", "result_columns", "commit_hash"]),
        "params": json_values,
    }[how]  # fmt: skip
    return "result", how, draw(argument)


def apply(folder: Path, damage: tuple) -> None:
    """Damage the folder; a file an earlier damage already broke is left as it is."""
    with contextlib.suppress(ValueError, KeyError, TypeError, IndexError, ArithmeticError):
        _apply(folder, damage)


def _apply(folder: Path, damage: tuple) -> None:
    target, how, argument = damage
    paths = {
        "benchmarks": folder / "benchmarks.json",
        "machine": folder / "fixture-machine" / "machine.json",
        "result": sorted((folder / "fixture-machine").glob("*-existing-*.json"))[0],
    }
    path = paths[target]
    if how == "replace":
        path.write_text(json.dumps(argument))
        return
    text = path.read_text()
    if how == "truncate":
        path.write_text(text[: int(len(text) * argument)])
        return
    data = json.loads(text)
    row = data["results"]["bench_elementwise.time_sum"]
    if how == "top":
        data[argument[0]] = argument[1]
    elif how == "row":
        index, value = argument
        row[index % len(row)] = value
    elif how == "cell":  # one combination's entry in one column (a sample list, a statistic)
        column, index, value = argument
        cells = row[column % len(row)]
        cells[index % len(cells)] = value
    elif how == "value":
        index, value = argument
        row[0][index % len(row[0])] = value
    elif how == "delete":
        data.pop(argument, None)
    else:
        data["params"] = argument
    path.write_text(json.dumps(data))


def compare_commits(folder: Path) -> list[str]:
    return ["compare", "--results", str(folder), "--baseline", "commit=bce5b383",
            "--contender", "commit=157a4ae7"]  # fmt: skip


def assert_contract(command: str, status: int, err: str) -> None:
    assert "internal error" not in err and "Traceback" not in err, err
    assert status in ALLOWED[command], (status, err)
    if status not in (0, 1):
        assert len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
@explore(40)
@given(damage=st.lists(damages(), min_size=1, max_size=3))
def test_damaged_results_never_crash_or_change(capsys, damage):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "results"
        shutil.copytree(FIXTURE_RESULTS, folder)
        for each in damage:
            apply(folder, each)
        before = checksums(folder)
        for arguments in (
            compare_commits(folder),
            ["export", "--results", str(folder), "--out", str(Path(scratch) / "t.json")],
            ["publish", "--results", str(folder), "--out", str(Path(scratch) / "site")],
        ):
            status, _out, err = run_cli(capsys, *arguments)
            assert_contract(arguments[0], status, err)
        assert checksums(folder) == before


@pytest.fixture
def stand_ins(monkeypatch, asv_home, tmp_path):
    """asv that records nothing, a constant peak probe, a quiet machine (the busy warnings are
    tested in test_noise; here a test running beside other work must not add lines), figures
    drawn but not rendered."""
    import matplotlib.pyplot as plt

    from ptbench.hardware import noise, peaks
    from ptbench.present import rendering
    from ptbench.run import asv_process
    from ptbench.run import project as checkout

    monkeypatch.setattr(asv_process, "run_asv", lambda command, cwd, environment, log, progress: 1)
    monkeypatch.setattr(peaks, "probe", lambda device: {f"peak_{device}_copy_gbps": "1"})
    monkeypatch.setattr(noise, "busy_reason", lambda state, cpus: None)

    def write_placeholders(writer, figure, stem):
        stem.parent.mkdir(parents=True, exist_ok=True)
        for suffix in (".png", ".svg"):
            stem.with_suffix(suffix).write_bytes(b"")
        plt.close(figure)
        return stem.with_suffix(".png")

    monkeypatch.setattr(rendering.FigureWriter, "add", write_placeholders)
    # Relative paths (--out x) land in a scratch folder, never in the checkout.
    monkeypatch.setattr(checkout, "find_project", lambda start=None: PROJECT)
    monkeypatch.chdir(tmp_path)


def words(folder: Path, scratch: Path):
    """Values an argument can take: hostile text, paths into and out of the results folder."""
    return st.sampled_from(
        [
            "", " ", "x", "=", ",", "a=b", "a=b,a=c", "commit=bce5b383", "device=cpu",
            "torch=2.13.0+cpu", "method=lu", "nan", "inf", "-1", "0", "1", "1.1", "1e309",
            "smoke", "full", "cpu", "cuda", "tpu", "json", "csv", "table", "version", "../x",
            "a" * 300, "abc\n", "(", "time_sum$", "\u00e9\u00e8", "\x00",
            str(folder), str(folder / "benchmarks.json"), str(folder / "fixture-machine"),
            str(scratch / "out.csv"), str(scratch / "out.parquet"), str(scratch / "report"),
            str(scratch / "nowhere" / "t.csv"), "/proc/x.csv", "/dev/null",
        ]
    ) | st.text(max_size=6)  # fmt: skip


OPTIONS = ["--results", "--out", "--baseline", "--contender", "--factor", "--format",
           "--tier", "--device", "--machine", "--bench", "--write", "--probe", "--debug",
           "--help"]  # fmt: skip


@st.composite
def argument_lists(draw, folder: Path, scratch: Path):
    command = draw(st.sampled_from(["export", "compare", "report", "publish", "machine", "run"]))
    arguments = [command]
    for _ in range(draw(st.integers(0, 6))):
        arguments.append(draw(st.sampled_from(OPTIONS)))
        if draw(st.booleans()):
            arguments.append(draw(words(folder, scratch)))
    return arguments


@explore(60)
@given(data=st.data())
def test_any_argument_list_keeps_the_contract(capsys, stand_ins, data):
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        folder = scratch / "results"
        shutil.copytree(FIXTURE_RESULTS, folder)
        before = checksums(folder)
        arguments = data.draw(argument_lists(folder, scratch))
        if "--help" in arguments:
            return  # argparse prints help and exits 0: nothing to check
        status, _out, err = run_cli(capsys, *arguments)
        assert_contract(arguments[0], status, err)
        if status == 3:
            assert err.startswith("ptbench: failed: asv run stopped"), err
        asked_to_write = arguments[0] == "machine" and "--write" in arguments
        if not asked_to_write:
            assert checksums(folder) == before, arguments
