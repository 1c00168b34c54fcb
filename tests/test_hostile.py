"""Hostile input, damaged history and interrupted runs (issue 8): each case gets one line on
stderr that says what is wrong and what would be right, the right exit status, and leaves the
results folder exactly as it was."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import (
    FIXTURE_MACHINE,
    FIXTURE_RESULTS,
    PROJECT,
    checksums,
    edit_result,
    fixture_runs,
    run_cli,
)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def commits(results: Path) -> tuple[str, str]:
    return tuple(json.loads(path.read_text())["commit_hash"] for path in fixture_runs(results))


def compare_arguments(results: Path, *more: str) -> list[str]:
    first, second = commits(results)
    return ["compare", "--results", results, "--baseline", f"commit={first}",
            "--contender", f"commit={second}", *more]  # fmt: skip


# Data safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["result", "benchmarks.json", "machine.json"])
def test_export_never_writes_into_the_results_folder(results_copy, capsys, target):
    paths = {
        "result": fixture_runs(results_copy)[0],
        "benchmarks.json": results_copy / "benchmarks.json",
        "machine.json": results_copy / FIXTURE_MACHINE / "machine.json",
    }
    before = checksums(results_copy)
    status, out, err = run_cli(capsys, "export", "--results", results_copy, "--out", paths[target])
    assert status == 2 and out == ""
    assert "is inside --results" in one_line(err) and "write it elsewhere" in err
    assert checksums(results_copy) == before


def test_peaks_come_from_each_result_never_from_the_rewritable_machine_file(results_copy):
    """machine.json is rewritten by every asv run; a result keeps the peaks it was judged by."""
    from ptbench.data.results import load_results

    first, second = fixture_runs(results_copy)
    ceilings = {"cache_cpu_l3_bytes": "1024", "ceiling_cpu_l3_gbps": "90",
                "ceiling_cpu_dram_gbps": "40"}  # fmt: skip
    edit_result(first, lambda data: data["params"].update(ceilings))
    machine_file = results_copy / FIXTURE_MACHINE / "machine.json"
    edit_result(machine_file, lambda data: data.update(ceiling_cpu_dram_gbps="10",
                                                        ceiling_cpu_l3_gbps="10"))  # fmt: skip
    frame = load_results(results_copy)
    rows = frame[(frame["operation"] == "multiply") & (frame["status"] == "ok")]
    own = rows[rows["commit"] == json.loads(first.read_text())["commit_hash"]]
    other = rows[rows["commit"] == json.loads(second.read_text())["commit_hash"]]
    by_level = dict(zip(own["ceiling"].astype(str), own["peak"], strict=True))
    assert by_level == {"L3": 90, "DRAM": 40} and (own["peak_source"] == "measured").all()
    assert other["peak"].isna().all() and other["fraction_of_peak"].isna().all()


def test_an_empty_results_argument_is_refused_everywhere(capsys, tmp_path):
    for command in (
        ["export", "--results", "", "--out", tmp_path / "t.csv"],
        ["compare", "--results", "", "--baseline", "a=b", "--contender", "a=c"],
        ["report", "--results", "", "--out", tmp_path / "r"],
        ["report", "--results", tmp_path, "--out", ""],
    ):
        status, _out, err = run_cli(capsys, *command)
        assert status == 2 and "is empty; give a folder" in one_line(err)
    assert list(tmp_path.iterdir()) == []


# Damaged history: one line naming the file, exit 2 ------------------------------------------


def damage_row(data):
    data["results"]["bench_elementwise.time_sum"] = [1, 2]


def zero_time(data):
    data["results"]["bench_elementwise.time_sum"][0][0] = 0.0


def negative_time(data):
    data["results"]["bench_elementwise.time_sum"][0][0] = -1e-6


def infinite_time(data):
    data["results"]["bench_elementwise.time_sum"][0][0] = float("inf")


def too_few_values(data):
    row = data["results"]["bench_elementwise.time_sum"]
    row[0] = row[0][:5]  # its params still list every combination


def version_not_text(data):
    row = data["results"]["bench_elementwise.time_sum"]
    row[data["result_columns"].index("version")] = []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (damage_row, "damaged asv result file"),
        (zero_time, "has seconds 0.0; it must be positive and finite"),
        (negative_time, "has seconds -1e-06; it must be positive and finite"),
        (infinite_time, "has seconds inf; it must be positive and finite"),
        (version_not_text, "damaged asv result file (version [] is not text)"),
        (too_few_values, "bench_elementwise.time_sum holds 5 values for 18 parameter combinations"),
        (lambda data: data.update(date="yesterday"), "date 'yesterday' is not a time in ms"),
        (lambda data: data.update(params=[]), "not a readable asv result file"),
        (lambda data: data.clear(), "not a readable asv result file (No version specified"),
        (lambda data: data.update(version=1), "stored in an old file format"),
    ],
)
def test_a_damaged_result_file_is_named_in_one_line(results_copy, capsys, damage, message):
    first = fixture_runs(results_copy)[0]
    comparison = compare_arguments(results_copy)
    edit_result(first, damage)
    before = checksums(results_copy)
    for command in (
        comparison,
        ["export", "--results", results_copy, "--out", results_copy.parent / "t.csv"],
    ):
        status, out, err = run_cli(capsys, *command)
        assert status == 2 and out == ""
        line = one_line(err)
        assert str(first) in line and message.replace("in ms", "in milliseconds") in line
    assert checksums(results_copy) == before
    assert not (results_copy.parent / "t.csv").exists()


def test_damaged_shared_files(results_copy, capsys):
    (results_copy / FIXTURE_MACHINE / "machine.json").write_text("[1, 2]")
    out = results_copy.parent / "t.csv"
    status, _out, err = run_cli(capsys, "export", "--results", results_copy, "--out", out)
    assert status == 0, err  # machine.json is not read: results carry their own facts
    (results_copy / "benchmarks.json").write_text("[]")
    status, _out, err = run_cli(capsys, "export", "--results", results_copy, "--out", out)
    assert status == 2
    assert "benchmarks.json: holds a list, not asv's benchmark catalogue" in one_line(err)


def test_results_from_before_a_new_parameter_still_load(results_copy):
    """The suite gained a ``layout`` parameter after these results were recorded."""
    from ptbench.data.results import load_results

    def add_parameter(catalogue):
        entry = catalogue["bench_elementwise.time_sum"]
        entry["param_names"].insert(1, "layout")
        entry["params"].insert(1, ["'contiguous'", "'strided'"])

    edit_result(results_copy / "benchmarks.json", add_parameter)
    frame = load_results(results_copy)
    sums = frame[frame["benchmark"] == "bench_elementwise.time_sum"]
    assert "layout" in frame.columns and sums["layout"].isna().all()
    assert set(sums["device"]) == {"cpu", "cuda"} and 1024 in set(sums["size"])
    assert (sums["status"] == "ok").sum() > 0
    assert "layout" in frame.attrs["param_keys"]


# Output: pipes, full disks, folders and files --------------------------------------------------


def test_a_closed_pipe_ends_output_quietly_with_the_comparisons_status(results_copy):
    command = [sys.executable, "-m", "ptbench.cli", *map(str, compare_arguments(results_copy))]
    with subprocess.Popen(
        [*command, "--format", "csv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout.readline().startswith(b"benchmark,")
        process.stdout.close()  # `| head -1`
        stderr = process.stderr.read()
        status = process.wait()
    assert status == 0 and stderr == b""


def _rename_benchmark(results: Path, old: str, new: str) -> None:
    """``old`` called ``new`` in the catalogue and in every result file."""
    catalogue = json.loads((results / "benchmarks.json").read_text())
    catalogue[new] = {**catalogue.pop(old), "name": new}
    (results / "benchmarks.json").write_text(json.dumps(catalogue))
    for path in fixture_runs(results):
        edit_result(path, lambda data: data["results"].update({new: data["results"].pop(old)}))


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_names_a_terminal_cannot_show_are_escaped_not_an_internal_error(results_copy, encoding):
    """A hostile pass: with LANG=C (an ASCII stdout) or PYTHONIOENCODING=latin-1, a benchmark
    named ``bench_ü.time_😀`` stopped ``compare`` with an internal error (UnicodeEncodeError)."""
    _rename_benchmark(results_copy, "bench_elementwise.time_multiply", "bench_ü.time_😀")
    command = [sys.executable, "-m", "ptbench.cli", *map(str, compare_arguments(results_copy))]
    completed = subprocess.run(command, capture_output=True, check=False,
                               env={**os.environ, "PYTHONIOENCODING": encoding})  # fmt: skip
    assert completed.returncode in (0, 1), completed.stderr.decode(errors="replace")
    shown = "bench_\\xfc.time_\\U0001f600" if encoding == "ascii" else "bench_\xfc.time_\\U0001f600"
    assert shown.encode("latin-1") in completed.stdout and b"internal error" not in completed.stderr


DEEP = "/".join(["d"] * 1500)  # 3,000 characters: a legal path, deeper than Python's recursion


def test_a_path_1500_folders_deep_is_made_as_any_other(results_copy, capsys, tmp_path,
                                                       monkeypatch):  # fmt: skip
    """A hostile pass: pathlib makes each missing parent in a nested call, so writing to a
    path 1,500 folders deep was an internal error (RecursionError) in merge, report, publish,
    machine, slurm and the cache (``PTBENCH_CACHE``)."""
    cache, into = tmp_path / "cache" / DEEP, tmp_path / "into" / DEEP
    monkeypatch.setenv("PTBENCH_CACHE", str(cache))
    try:
        status, _out, err = run_cli(capsys, *compare_arguments(results_copy))
        assert status in (0, 1), err
        assert len(list(cache.glob("*.parquet"))) == 2
        status, _out, err = run_cli(capsys, "merge", results_copy, "--into", into)
        assert status == 0, err
        assert sorted(p.name for p in (into / FIXTURE_MACHINE).glob("*.json")) == sorted(
            p.name for p in (results_copy / FIXTURE_MACHINE).glob("*.json"))
    finally:  # pytest's own clean-up (shutil.rmtree, recursive in Python 3.11) could not
        for deepest in (cache, into):
            _remove_chain(deepest, tmp_path)


def _remove_chain(deepest: Path, top: Path) -> None:
    """``deepest`` and every folder above it up to ``top``, without recursion."""
    import shutil

    shutil.rmtree(deepest, ignore_errors=True)
    for parent in deepest.parents:
        if parent == top:
            return
        with contextlib.suppress(OSError):
            parent.rmdir()


def test_no_stdout_at_all_or_a_full_stderr_never_changes_the_status(results_copy):
    """Started with its stdout closed (``>&-``): no traceback, the comparison's own status. Bad
    input with stderr on a full disk: still 2 (the line is lost, never the status)."""
    command = [sys.executable, "-m", "ptbench.cli", *map(str, compare_arguments(results_copy))]
    closed = subprocess.run(command, stderr=subprocess.PIPE, text=True, check=False,
                            preexec_fn=lambda: os.close(1))  # fmt: skip
    assert closed.returncode == 0 and closed.stderr == ""
    with open("/dev/full", "w") as full:
        refused = subprocess.run(
            [sys.executable, "-m", "ptbench.cli", "export", "--results", "/nonexistent", "--out",
             str(results_copy.parent / "t.csv")],
            stdout=subprocess.PIPE, stderr=full, check=False,
        )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == b""


def test_a_full_disk_on_stdout_is_one_line_exit_2(results_copy):
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "ptbench.cli", *map(str, compare_arguments(results_copy))],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert completed.returncode == 2
    assert one_line(completed.stderr) == (
        "ptbench: error: cannot write to standard output (No space left on device)"
    )


def test_arguments_that_are_not_utf8_are_refused():
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ptbench.cli",
            "compare",
            "--baseline",
            b"torch=\xff\xfe",
            "--contender",
            "torch=2",
        ],  # fmt: skip
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.decode() == (
        "ptbench: error: argument 'torch=\\udcff\\udcfe' is not valid UTF-8 text\n"
    )


@pytest.mark.parametrize(
    "command",
    [["export", "--out", "{tmp}/t.csv"], ["report", "--out", "{tmp}/r"],
     ["publish", "--out", "{tmp}/s"], ["compare", "--baseline", "method=lu", "--contender",
     "method=cholesky"], ["merge", "{results}", "--into", "{tmp}/m"]],
)  # fmt: skip
def test_a_folder_name_that_is_not_utf8_is_named_in_one_line(results_copy, capsys, tmp_path,
                                                             command):  # fmt: skip
    """Linux allows any bytes in a name; Python sees lone surrogates that no UTF-8 page or
    table can hold. Every reader refuses such a folder by its bytes, never with a traceback."""
    (machine,) = [path for path in results_copy.iterdir() if path.is_dir()]
    os.rename(bytes(machine), bytes(machine.parent) + b"/box-\xff")
    before = checksums(results_copy)
    arguments = [part.format(tmp=tmp_path, results=results_copy) for part in command]
    options = [] if command[0] == "merge" else ["--results", results_copy]
    status, out, err = run_cli(capsys, *arguments, *options)
    assert status == 2 and out == "", err
    assert err.count("\n") == 1 and "/box-\\xff/" in err and "a name that is not UTF-8" in err
    assert checksums(results_copy) == before


def _without_root_reading(command: list) -> list:
    """``command`` as a process that permission bits apply to: root reads anything, so as
    root it runs without the capabilities that bypass them (util-linux's setpriv)."""
    if os.geteuid() != 0:
        return command
    import shutil

    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a file cannot be made unreadable")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]


@pytest.mark.parametrize(
    "command",
    [["export", "--out", "{tmp}/t.csv", "--results", "{results}"],
     ["merge", "{results}", "--into", "{tmp}/m"]],
)  # fmt: skip
def test_an_unreadable_result_file_is_named_in_one_line(results_copy, tmp_path, command):
    unreadable = sorted(p for p in results_copy.glob("*/*.json") if p.name != "machine.json")[0]
    unreadable.chmod(0)
    arguments = [part.format(tmp=tmp_path, results=results_copy) for part in command]
    completed = subprocess.run(
        _without_root_reading([sys.executable, "-m", "ptbench.cli", *arguments]),
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "PTBENCH_CACHE": str(tmp_path / "cache")},
    )  # fmt: skip
    unreadable.chmod(0o644)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr == (f"ptbench: error: {unreadable}: cannot be read (Permission "
                                "denied); give ptbench read access to every file of the "
                                "results folder\n")  # fmt: skip
    assert not (tmp_path / "t.csv").exists() and not list((tmp_path / "m").rglob("*.json"))


def test_export_and_report_targets_of_the_wrong_kind(results_copy, capsys, tmp_path):
    folder_named_csv = tmp_path / "x.csv"
    folder_named_csv.mkdir()
    a_file = tmp_path / "report.txt"
    a_file.write_text("keep me")
    cases = [
        (["export", "--out", folder_named_csv], "x.csv is a folder; give a file name"),
        (["export", "--out", tmp_path / "no" / "t.csv"], "does not exist; create it first"),
        (["export", "--out", "/proc/ptbench.csv"], "cannot write /proc/ptbench.csv"),
        (["export", "--out", tmp_path / "t.xlsx"], "use a file ending in .csv, .parquet, .json"),
        (["report", "--out", a_file], "report.txt is a file; give a folder"),
    ]
    before = checksums(results_copy)
    for arguments, message in cases:
        status, _out, err = run_cli(capsys, *arguments, "--results", results_copy)
        assert status == 2 and message in one_line(err), err
    assert a_file.read_text() == "keep me" and checksums(results_copy) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt", "results", "x.csv"]


def test_a_device_or_a_pipe_is_never_replaced_nor_read(results_copy, capsys, tmp_path):
    """export --out a FIFO (as root, /dev/null would be replaced by a CSV): refused; a FIFO
    where an ab document or the catalogue should be: refused in one line, never a hang."""
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    status, _out, err = run_cli(capsys, "export", "--out", pipe, "--results", results_copy)
    assert status == 2 and "pipe.csv is not a regular file (a device or a pipe)" in err
    assert pipe.is_fifo()
    os.mkfifo(results_copy / "ab-fifo.json")
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out",
                                tmp_path / "report")  # fmt: skip
    assert status == 2 and "ab-fifo.json: not a regular file; a ptbench ab document" in err, err
    (results_copy / "ab-fifo.json").unlink()
    (results_copy / "benchmarks.json").unlink()
    os.mkfifo(results_copy / "benchmarks.json")
    status, _out, err = run_cli(capsys, "export", "--out", tmp_path / "t.csv", "--results",
                                results_copy)  # fmt: skip
    assert status == 2 and "benchmarks.json: not a regular file" in err, err


def test_a_malformed_asv_config_is_bad_input_named(tmp_path, monkeypatch, capsys):
    (tmp_path / "asv.conf.json").write_text('{"version": 1, "repo": ')
    for command in (["init", "-q"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                                     "--allow-empty", "-m", "x"]):  # fmt: skip
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True)
    monkeypatch.chdir(tmp_path)
    status, _out, err = run_cli(capsys, "run", "--results", tmp_path / "r", "--bench", "x")
    assert status == 2 and f"{tmp_path / 'asv.conf.json'} is not valid JSON (" in err, err
    assert not (tmp_path / "r").exists()


# Silent nonsense, made loud ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--factor", "inf"], "argument --factor: 'inf' must be a number greater than 1"),
        (["--factor", "nan"], "argument --factor: 'nan' must be a number greater than 1"),
        (["--factor", "1"], "argument --factor: '1' must be a number greater than 1"),
        (["--factor", "x"], "argument --factor: 'x' must be a number greater than 1"),
        (["--factor", "1_1"], "argument --factor: '1_1' must be a number greater than 1"),
        (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
    ],
)
def test_bad_options_of_compare(results_copy, capsys, arguments, message):
    status, out, err = run_cli(capsys, *compare_arguments(results_copy), *arguments)
    assert status == 2 and out == "" and message in one_line(err)


def test_report_refuses_a_factor_that_is_not_a_number(results_copy, capsys, tmp_path):
    status, _out, err = run_cli(
        capsys, "report", "--results", results_copy, "--out", tmp_path / "r", "--factor", "nan"
    )
    assert status == 2 and "'nan' must be a number greater than 1" in one_line(err)
    assert not (tmp_path / "r").exists()


def test_a_key_given_twice_in_a_selector_is_refused(results_copy, capsys):
    status, _out, err = run_cli(
        capsys, "compare", "--results", results_copy, "--baseline", "torch=A,torch=B",
        "--contender", "torch=C",
    )  # fmt: skip
    assert status == 2
    assert one_line(err) == (
        "ptbench: error: selector 'torch=A,torch=B' gives torch twice ('A' and 'B'); "
        "give each key once"
    )


def test_json_output_is_strict_json(results_copy, capsys):
    """A memory pair from 0 bytes has an infinite ratio: JSON has no Infinity, so it is null."""
    arguments = compare_arguments(results_copy, "--format", "json")

    def no_memory_in_the_baseline(data):
        row = data["results"]["bench_updates.track_update_peak_bytes"]
        row[0] = [0.0 if value else value for value in row[0]]

    edit_result(fixture_runs(results_copy)[0], no_memory_in_the_baseline)
    status, out, _err = run_cli(capsys, *arguments)

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    document = json.loads(out, parse_constant=refuse)
    grown = [p for p in document["pairs"] if p["note"] == "baseline was zero"]
    assert status == 1 and grown and all(p["ratio"] is None for p in grown)


# Failures that are not the input's: exit 3 and a log; Ctrl-C: 130 ------------------------------


def test_an_internal_error_is_one_line_with_a_log_never_exit_1(results_copy, capsys, monkeypatch):
    from ptbench.analysis import compare

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(compare, "compare", broken)
    status, _out, err = run_cli(capsys, *compare_arguments(results_copy))
    line = one_line(err)
    assert status == 3
    assert line.startswith("ptbench: internal error (ZeroDivisionError: division by zero); ")
    assert line.endswith("; rerun with --debug for the traceback")
    log = Path(line.split("details in ")[1].split(";")[0])
    assert "Traceback" in log.read_text() and "broken" in log.read_text()
    status, _out, err = run_cli(capsys, "--debug", *compare_arguments(results_copy))
    assert status == 3 and "Traceback (most recent call last)" in err


def test_ctrl_c_is_one_line_and_exit_130(results_copy, capsys, monkeypatch):
    from ptbench.data import results

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "load_results", interrupted)
    before = checksums(results_copy)
    status, out, err = run_cli(capsys, *compare_arguments(results_copy))
    assert status == 130 and out == ""
    assert one_line(err) == "ptbench: interrupted; results/ holds only completed files"
    assert checksums(results_copy) == before


@pytest.mark.slow
def test_ctrl_c_during_a_real_run_keeps_the_results_folder(tmp_path, asv_home):
    results = tmp_path / "results"
    results.mkdir()
    (results / "kept.txt").write_text("kept")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ptbench.cli",
            "run",
            "--results",
            str(results),
            "--machine",
            "interrupted",
            "--bench",
            "time_solve",
            "--tier",
            "default",  # a minute of work: Ctrl-C lands while asv is still at it
        ],  # fmt: skip
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A shell that starts the tests in the background (nohup ... &) leaves SIGINT ignored,
        # and children inherit that: give this one Ctrl-C back, as a terminal would have it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt once asv is timing benchmarks (its forkserver is running), not
    # after a guessed number of seconds: waiting for a line of asv's output was flaky when it
    # came late, in one block.
    assert _wait_for_descendant(process, "run_server"), "asv never started its benchmarks"
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err[-2000:]
    assert (
        err.strip().splitlines()[-1] == "ptbench: interrupted; results/ holds only completed files"
    )
    assert "Traceback" not in err
    assert checksums(results) == {"kept.txt": checksums(results)["kept.txt"]}



def _descendants(root: int, word: str) -> list[int]:
    """The pids of ``root``'s descendants whose command line holds ``word``."""
    return [pid for pid, command in _descendant_table(root).items() if word in command]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.parametrize("when", [2, 3])  # worker processes seen: starting, or in a round
def test_ctrl_c_during_a_real_ab_stops_both_workers_and_writes_nothing(tmp_path, asv_home, when):
    """Ctrl-C while the workers import torch, or while one forks a round: exit 130 in one
    line; the workers and their rounds (in sessions of their own, out of the terminal's
    reach) stopped by ptbench; nothing in --results. (Found: a Ctrl-C during the start left
    both workers running.)"""
    results = tmp_path / "results"
    results.mkdir()
    (results / "kept.txt").write_text("kept")
    process = subprocess.Popen(
        [sys.executable, "-m", "ptbench.cli", "ab", "--baseline", sys.executable, "--contender",
         sys.executable, "--bench", "time_solve", "--device", "cpu", "--results", str(results)],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline, workers = time.monotonic() + 120, []
    while time.monotonic() < deadline and len(workers) < when:  # a round: a worker's child
        workers = _descendants(process.pid, "ptbench.analysis.ab.worker")
        time.sleep(0.05)
    assert len(workers) >= when, "the workers never got that far"
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1].startswith("ptbench: interrupted"), err[-2000:]
    assert "Traceback" not in err
    time.sleep(0.5)  # an orphan is reaped by init
    assert [pid for pid in workers if _running(pid)] == []
    assert checksums(results) == {"kept.txt": checksums(results)["kept.txt"]}


def _descendant_commands(root: int) -> list[str]:
    """The command lines of ``root``'s descendants (Linux /proc; asv runs in a session of its
    own, so the tree, not the session, holds it)."""
    return list(_descendant_table(root).values())


def _descendant_table(root: int) -> dict[int, str]:
    """``{pid: command line}`` of ``root``'s descendants, nearest first."""
    parents, commands = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # state ppid ...
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            commands[pid] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError, UnicodeDecodeError):
            continue  # a process that ended while being read
    found, frontier = {}, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier}
        found |= {pid: commands[pid] for pid in frontier if pid in commands}
    return found


def _wait_for_descendant(process, word: str, at_most: float = 120.0) -> bool:
    """Wait (up to ``at_most`` s) until a descendant of ``process`` runs ``word``; False if
    ``process`` ended first or it never appeared."""
    deadline = time.monotonic() + at_most
    while time.monotonic() < deadline and process.poll() is None:
        if any(word in command for command in _descendant_commands(process.pid)):
            return True
        time.sleep(0.1)
    return False

def test_machine_states_what_a_cpu_only_machine_lacks(monkeypatch):
    import torch

    from ptbench.hardware import machine

    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setenv("PATH", "/nonexistent")
    facts = machine.collect()
    assert (facts["gpu"], facts["gpu_count"]) == ("none", "0")
    assert (facts["cuda_runtime"], facts["cudnn"], facts["cuda_driver"]) == ("none",) * 3
    assert facts["unknown"]["gpu"].endswith("is a CPU-only build")
    assert facts["unknown"]["cuda_driver"] == "nvidia-smi not found on PATH"


def test_machine_write_refuses_asvs_reserved_name(asv_home, capsys):
    status, out, err = run_cli(capsys, "machine", "--write", "--machine", "version")
    assert status == 2 and out == ""
    assert "machine name 'version' is reserved by asv" in one_line(err)
    assert not (asv_home / ".asv-machine.json").exists()


def test_files_written_atomically_keep_the_usual_permissions(tmp_path):
    from ptbench.core import outputs

    new, kept = tmp_path / "new.md", tmp_path / "kept.md"
    kept.write_text("old")
    kept.chmod(0o640)
    outputs.write_text_atomically(new, "text")
    outputs.write_text_atomically(kept, "text")
    umask = os.umask(0)
    os.umask(umask)
    assert new.stat().st_mode & 0o777 == 0o666 & ~umask
    assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == "text"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.md", "new.md"]


def _truncated_archive(results, tmp_path):
    import tarfile

    with tarfile.open(tmp_path / "whole.tar.gz", "w:gz") as tar:
        tar.add(results, arcname="results")
    (tmp_path / "cut.tar.gz").write_bytes((tmp_path / "whole.tar.gz").read_bytes()[:500])
    return ["merge", tmp_path / "cut.tar.gz", "--into", tmp_path / "m"], "not a readable results"


def _huge_value(results, tmp_path):
    path = sorted(p for p in results.glob("*/*.json") if p.name != "machine.json")[0]
    data = json.loads(path.read_text())
    key = next(iter(data["results"]))
    data["results"][key][0] = [10**400] * len(data["results"][key][0])
    path.write_text(json.dumps(data))
    return ["export", "--out", tmp_path / "t.csv", "--results", results], "int too large"


def _into_a_file(results, tmp_path):
    (tmp_path / "afile").write_text("")
    return ["merge", results, "--into", tmp_path / "afile"], "afile: File exists"


def _out_under_a_file(results, tmp_path):
    (tmp_path / "afile").write_text("")
    return (["publish", "--results", results, "--out", tmp_path / "afile" / "site"],
            "Not a directory")  # fmt: skip


def _linked_assets(results, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "ptbench-site.js").write_text("theirs")  # looks like a site
    (tmp_path / "site" / "assets").symlink_to(tmp_path / "elsewhere")
    return ["publish", "--results", results, "--out", tmp_path / "site"], "assets is a link"


def _linked_figures(results, tmp_path):
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "report.md").write_text("an earlier report")
    (tmp_path / "rep" / "figures").symlink_to(tmp_path / "elsewhere")
    return ["report", "--results", results, "--out", tmp_path / "rep"], "figures is a link"


@pytest.mark.parametrize("case", [_truncated_archive, _huge_value, _into_a_file,
                                  _out_under_a_file, _linked_assets, _linked_figures])  # fmt: skip
def test_what_a_hostile_pass_found_is_bad_input_in_one_line(results_copy, capsys, tmp_path,
                                                           case):  # fmt: skip
    """Found by a hostile pass of 570 cases: each was an internal error, or wrote outside
    --out through a link."""
    arguments, message = case(results_copy, tmp_path)
    status, _out, err = run_cli(capsys, *arguments)
    assert status == 2 and err.count("\n") == 1 and message in err, err
    elsewhere = tmp_path / "elsewhere"
    assert not elsewhere.exists() or [(p.name, p.read_text()) for p in elsewhere.iterdir()] in (
        [], [("ptbench-site.js", "theirs")])


def test_report_and_publish_never_scatter_pages_among_other_files(results_copy, capsys,
                                                                  tmp_path):  # fmt: skip
    """publish --out / was accepted (a hostile pass): pages, assets/ and benchmarks/ would have
    landed among the folder's own files. A folder that holds files but no earlier output is
    refused; an earlier output is updated; a refusal leaves no folder it made."""
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("mine")
    for command, marker in (("publish", "assets/ptbench-site.js"), ("report", "report.md")):
        status, _out, err = run_cli(capsys, command, "--results", results_copy, "--out",
                                    tmp_path / "home")  # fmt: skip
        assert status == 2 and err == (
            f"ptbench: error: --out {tmp_path / 'home'} holds other files and no {marker} of an "
            "earlier output; give a new or empty folder, or an earlier one to update\n")
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["notes.txt"]
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out",
                                tmp_path / "new" / "rep", "--baseline", "torch=nope",
                                "--contender", "torch=2.13.0+cpu")  # fmt: skip
    assert status == 2 and "torch=nope matches nothing" in err
    assert not (tmp_path / "new").exists()
    for _ in range(2):  # the second time over the first site: updated
        status, _out, err = run_cli(capsys, "publish", "--results", results_copy, "--out",
                                    tmp_path / "site")  # fmt: skip
        assert status == 0, err


def test_a_machine_folder_that_is_a_link_is_never_written_through(results_copy, capsys,
                                                                  tmp_path, asv_home):  # fmt: skip
    """A hostile pass: merge, ab and machine --write wrote into the folder a link inside
    --results (or --into) pointed at, outside it."""
    victim = tmp_path / "victim"
    victim.mkdir()
    into = tmp_path / "into"
    into.mkdir()
    (into / FIXTURE_MACHINE).symlink_to(victim)
    status, _out, err = run_cli(capsys, "merge", results_copy, "--into", into)
    assert status == 2 and one_line(err) == (
        f"ptbench: error: --into {into}: {FIXTURE_MACHINE} is a link; ptbench writes only "
        "inside --into, so remove the link or give another folder")
    (into / "bench-01").symlink_to(victim)
    status, _out, err = run_cli(capsys, "machine", "--write", "--machine", "bench-01",
                                "--results", into)  # fmt: skip
    assert status == 2 and one_line(err).startswith(f"ptbench: error: --results {into}: "
                                                    "bench-01 is a link; ptbench writes only")
    assert list(victim.iterdir()) == [] and not (asv_home / ".asv-machine.json").exists()


def test_slurm_replaces_a_link_where_its_script_goes_never_writes_through_it(tmp_path, capsys):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "cpu.sbatch").symlink_to(tmp_path / "victim.txt")
    status, _out, err = run_cli(capsys, "slurm", "--type", "cpu=batch", "--collect", tmp_path,
                                "--dry-run")  # fmt: skip
    assert (status, err) == (0, "")
    assert not (tmp_path / "jobs" / "cpu.sbatch").is_symlink()
    assert not (tmp_path / "victim.txt").exists()


def test_a_driver_that_prints_bytes_that_are_not_utf8_is_read_anyway(tmp_path, monkeypatch):
    from ptbench.hardware import machine

    smi = tmp_path / "nvidia-smi"
    smi.write_bytes(b"#!/bin/sh\nprintf '550.1\\377\\n'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    version, why = machine.driver_version()
    assert why is None and version.startswith("550.1")


@pytest.mark.parametrize("label", ["../../../../escape/pwn", "a\u0000b", "L" * 300])
def test_a_torch_version_from_the_data_never_names_a_file_outside_the_report(
    results_copy, capsys, tmp_path, label
):
    """A hostile pass: a torch version of 2.14.0+../../x wrote x.png outside --out; one with a
    NUL was a traceback from a figure child; one of 300 characters a file name too long."""
    from helpers import edit_result, fixture_runs

    for path, version in zip(fixture_runs(results_copy), ("2.13.0", "2.14.0"), strict=True):
        def relabel(data, version=version):
            data["params"]["torch"] = data["requirements"]["torch"] = f"{version}+{label}"

        edit_result(path, relabel)
    out = tmp_path / "deep" / "er" / "rep"
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out", out)
    assert status == 0, err
    written = [p for p in tmp_path.rglob("*") if p.is_file()
               and not p.resolve().is_relative_to(results_copy.resolve())]  # fmt: skip
    assert written and all(p.resolve().is_relative_to(out.resolve()) for p in written)
    assert any(p.name.startswith("torch-") for p in (out / "figures").iterdir())


def test_links_inside_an_earlier_report_or_site_are_replaced_never_written_through(
    results_copy, capsys, tmp_path
):
    """A hostile pass: a figure of an earlier report, a site's stylesheet, a site's bisect/
    folder replaced by links: the next report or publish wrote into their targets."""
    victim = tmp_path / "victim"
    victim.write_text("mine")
    out = tmp_path / "rep"
    assert run_cli(capsys, "report", "--results", results_copy, "--out", out)[0] == 0
    figure = sorted((out / "figures").glob("*.png"))[0]
    figure.unlink()
    figure.symlink_to(victim)
    site = tmp_path / "site"
    assert run_cli(capsys, "publish", "--results", results_copy, "--out", site)[0] == 0
    (site / "assets" / "ptbench-site.css").unlink()
    (site / "assets" / "ptbench-site.css").symlink_to(victim)
    assert run_cli(capsys, "report", "--results", results_copy, "--out", out)[0] == 0
    assert run_cli(capsys, "publish", "--results", results_copy, "--out", site)[0] == 0
    assert victim.read_text() == "mine"
    assert not figure.is_symlink() and not (site / "assets" / "ptbench-site.css").is_symlink()
    (site / "bisect").symlink_to(tmp_path)
    status, _out, err = run_cli(capsys, "publish", "--results", results_copy, "--out", site)
    assert status == 2 and "bisect is a link" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "--bench", "a{4294967296}"], "--bench 'a{4294967296}' is not a regular exp"),
        (["run", "--bench", "(" * 5000 + ")" * 5000], "is not a regular expression"),
        (["slurm", "--type", "g=part:gpu:\u0668", "--dry-run"],
         "--type 'g=part:gpu:\u0668': give NAME=PARTITION or NAME=PARTITION:GRES, e.g."),
    ],
)
def test_patterns_that_break_the_regex_engine_are_bad_input(capsys, tmp_path, arguments,
                                                            message):  # fmt: skip
    """OverflowError and RecursionError from re.compile were internal errors; a GRES count in
    Arabic-Indic digits was written into the job script, for sbatch to refuse."""
    status, _out, err = run_cli(capsys, *arguments, "--collect" if arguments[0] == "slurm"
                                else "--results", tmp_path / "x")  # fmt: skip
    assert status == 2 and message in err and err.count("\n") == 1, err


def test_slurm_keeps_a_pattern_that_starts_with_a_dash_and_refuses_linked_folders(
    capsys, tmp_path
):
    status, _out, err = run_cli(capsys, "slurm", "--type", "cpu=compute", "--collect",
                                tmp_path / "c", "--bench=-?time_sum$", "--dry-run")  # fmt: skip
    assert status == 0, err
    script = (tmp_path / "c" / "jobs" / "cpu.sbatch").read_text()
    assert "--bench=-?time_sum$" in script.replace("'", "")
    (tmp_path / "d").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "d" / "jobs").symlink_to(tmp_path / "elsewhere")
    status, _out, err = run_cli(capsys, "slurm", "--type", "a=b", "--collect", tmp_path / "d",
                                "--dry-run")  # fmt: skip
    assert status == 2 and "jobs is a link" in err and not list((tmp_path / "elsewhere").iterdir())


TWO_BUILDS = [{"index": 0, "torch": "2.13.0"}, {"index": 1, "torch": "2.14.0"}]
AB_FIELDS = {"machine": "m", "commit": "c", "envs": ["a", "b"], "factor": 1.1,
             "pairs": [{"benchmark": "b", "params": [], "verdict": "equivalent"}],
             "baseline": {"torch": "2.13.0"}, "contender": {"torch": "2.14.0"}}
ENDS_STEP = {"role": "ends", "baseline": 0, "contender": 1, "verdicts": {"equivalent": 1},
             "reused": False, "noise": "quiet"}


@pytest.mark.parametrize(
    ("name", "document", "message"),
    [
        ("explain-a-vs-b.json", {"combinations": [{}], "baseline": "a", "contender": "b"},
         "not a readable ptbench explain document ('an entry of its combinations has no "
         "benchmark')"),
        ("explain-a-vs-b.json", {"combinations": [{"benchmark": "x", "status": "ok"}],
                                 "baseline": "a", "contender": "b"},
         "('the explained x has no ratio')"),
        ("bisect-x.json", {"builds": [], "steps": [], "first_bad": None},
         "not a readable ptbench bisect document (it has no tracked)"),
        ("bisect-x.json", {"builds": [], "steps": [], "first_bad": None, "tracked": []},
         "(its builds are not a list of builds)"),
        ("bisect-x.json", {"builds": TWO_BUILDS, "steps": [], "first_bad": None,
                           "tracked": None, "factor": 1.1},
         "(it has no steps, where ptbench bisect records at least the ends)"),
        ("bisect-x.json", {"builds": TWO_BUILDS, "steps": [ENDS_STEP], "first_bad": None,
                           "tracked": {"benchmark": "b", "params": []}, "factor": 1.1},
         "(it follows a regression but names no last good build and candidates)"),
        ("bisect-x.json", {"builds": TWO_BUILDS, "steps": [{**ENDS_STEP, "contender": 5}],
                           "first_bad": None, "tracked": None, "factor": 1.1},
         "(a step names a build it does not list, or has no verdicts)"),
        ("ab-x.json", {**AB_FIELDS, "pairs": [{}]},
         "not a readable ptbench ab document ('an entry of its pairs has no benchmark')"),
        # a fifth hostile pass: each of these was an internal error in report or publish
        ("bisect-x.json", {"builds": TWO_BUILDS, "steps": [ENDS_STEP], "first_bad": None,
                           "tracked": None, "factor": 0},
         "(its factor 0 is not a number above 1, at most 1000)"),
        *[("bisect-x.json", {"builds": TWO_BUILDS, "steps": [{**ENDS_STEP, "ratio": ratio}],
                             "first_bad": None, "tracked": None, "factor": 1.1},
           "(a step has a ratio or interval that is not a positive number)")
          for ratio in (-2.0, float("inf"), 10**400)],
        ("bisect-x.json", {"builds": [*TWO_BUILDS[:1], {"index": 10**400, "torch": "2.14"}],
                           "steps": [ENDS_STEP], "first_bad": None, "tracked": None,
                           "factor": 1.1},
         "(its builds are not a list of builds)"),
        ("ab-x.json", {**AB_FIELDS, "factor": "x"},
         '(its factor "x" must be a number greater than 1 and at most'),
        ("ab-x.json", {**AB_FIELDS, "factor": [1.1]}, "(its factor [1.1] must be a number"),
        ("ab-x.json", {**AB_FIELDS, "factor": True}, "(its factor true is not a number)"),
        ("ab-x.json", {**AB_FIELDS, "factor": 1e308}, "(its factor 1e+308 must be a number"),
        ("ab-x.json", {**AB_FIELDS, "noise": "quiet"},
         '(its noise "quiet" is not an object of facts)'),
        ("ab-x.json", {**AB_FIELDS, "baseline": None},
         "(its baseline null is not an object of settings)"),
        ("ab-x.json", {**AB_FIELDS, "contender": {"torch": 2.14}},
         "(at contender.torch: 2.14 is not of type 'string')"),
        ("ab-x.json", {**AB_FIELDS, "pairs": [{"benchmark": "b", "params": [], "verdict": "same",
                                               "rounds": [[1e-3, None]]}]},
         "(at pairs[0].rounds[0][1]: None is not of type 'number')"),
        ("ab-x.json", {**AB_FIELDS, "machine": ["m"]}, '(its machine ["m"] is not a name)'),
        ("ab-x.json", [AB_FIELDS], "(it is not a JSON object)"),
        # a ninth: an escaped lone surrogate was an internal error after figures were written
        ("explain-a-vs-b.json", {"combinations": [], "baseline": "a", "contender": "b\udcff"},
         "(it holds text that is not Unicode (an escaped lone surrogate such as \\udcff))"),
        ("ab-x.json", {**AB_FIELDS, "pairs": [{"benchmark": "b", "params": [],
                                               "verdict": "equivalent", "note": "\ud800"}]},
         "(it holds text that is not Unicode"),
    ],
)  # fmt: skip
def test_a_damaged_document_beside_the_results_is_named_in_one_line(
    results_copy, capsys, tmp_path, name, document, message
):
    """A hostile pass: report and publish gave KeyError or IndexError (exit 3) on these (a
    bisection with two builds, ``steps: []`` and ``tracked: null`` among them: bisect writes
    its document only when the search is done, so it is damaged, not a bisection under way)."""
    (results_copy / name).write_text(json.dumps(document))
    before = checksums(results_copy)
    for command in ("report", "publish"):
        status, _out, err = run_cli(capsys, command, "--results", results_copy, "--out",
                                    tmp_path / command)  # fmt: skip
        assert status == 2 and message in err and name in err and err.count("\n") == 1, err
        assert err.endswith("; restore it, or move it out of the results folder\n"), err
        assert not (tmp_path / command).exists()
    assert checksums(results_copy) == before


@pytest.mark.parametrize("size", ["16.5", "1e300", "-256", "10**30", "'big'"])
def test_a_size_that_is_no_whole_positive_number_is_named(results_copy, capsys, tmp_path,
                                                          size):  # fmt: skip
    """A hostile pass: such sizes gave internal errors in export and compare (the table's
    sizes are Int64), or a negative achieved GFLOP/s."""
    from helpers import edit_result, fixture_runs

    value = str(10**30) if size == "10**30" else size
    first, _second = fixture_runs(results_copy)

    def resize(data):
        data["results"]["bench_elementwise.time_sum"][1][1][0] = value

    edit_result(first, resize)
    status, _out, err = run_cli(capsys, "export", "--results", results_copy, "--out",
                                tmp_path / "t.csv")  # fmt: skip
    assert status == 2 and err.count("\n") == 1, err
    assert f"{first}: damaged asv result file (bench_elementwise.time_sum has size" in err


# A second hostile pass ----------------------------------------------------------------------


def _device(value):
    def change(data):
        data["results"]["bench_elementwise.time_sum"][1][0][0] = value

    return change


def _out(tmp_path: Path, command: str) -> Path:
    """Where ``command`` writes: a table for export, a folder for the others."""
    return tmp_path / ("t.csv" if command == "export" else command)


@pytest.mark.parametrize(("value", "shown"), [
    (repr("x" * 100_000), "has device '" + "x" * 55 + "[99,927 characters cut]" + "x" * 18 + "';"),
    ("5", "has device 5;"),
], ids=["100k-characters", "a-number"])  # fmt: skip
def test_a_device_that_is_no_device_is_named_in_one_line(results_copy, capsys, tmp_path, value,
                                                         shown):  # fmt: skip
    """A hostile pass: a device of 100,000 characters was a figure child's "cannot log-scale"
    traceback (exit 3) in report, the number 5 a KeyError: the suite runs on cpu and cuda
    only, so any other device is a damaged result file, named, with the value cut short."""
    first, _second = fixture_runs(results_copy)
    edit_result(first, _device(value))
    before = checksums(results_copy)
    for command in ("report", "publish", "export"):
        out = _out(tmp_path, command)
        status, _output, err = run_cli(capsys, command, "--results", results_copy, "--out", out)
        assert status == 2 and one_line(err).startswith(
            f"ptbench: error: {first}: damaged asv result file (bench_elementwise.time_sum "
            f"{shown}"), err
        assert "a device is one of 'cpu', 'cuda'); restore it" in err and len(err) < 500
        assert not out.exists()
    assert checksums(results_copy) == before


def test_a_value_given_at_length_is_cut_short_in_the_error_line(results_copy, capsys):
    """A hostile pass: a selector of 100,000 characters was echoed whole in its error line."""
    status, out, err = run_cli(capsys, "compare", "--results", results_copy, "--baseline",
                               "torch=" + "x" * 100_000, "--contender", "torch=2.13.0+cpu")
    assert status == 2 and out == ""
    assert one_line(err) == ("ptbench: error: baseline: torch=" + "x" * 50 + "[99,930 characters"
                             " cut]" + "x" * 20 + " matches nothing; available: 2.13.0+cpu")
    status, _out, err = run_cli(capsys, "compare", "--results", results_copy, "--format",
                                "y" * 5000)  # fmt: skip
    assert status == 2 and "characters cut]" in one_line(err) and len(err) < 400, err


def test_paths_in_error_lines_stay_whole_and_parts_too_long_for_any_file_are_cut():
    from ptbench.core.outputs import capped

    path = "/home/someone/work/ptbench/results/amd-epyc-2cpu/" + "a" * 40 + "-existing.json:"
    assert capped(f"{path} damaged") == f"{path} damaged"
    long_part = capped(f"/tmp/{'y' * 300}/z.json: bad")
    assert long_part == f"/tmp/{'y' * 56}[224 characters cut]{'y' * 20}/z.json: bad"
    assert len(capped("/a" * 50_000)) < 220  # a whole path: PATH_SHOWN


def test_a_folder_named_like_a_result_file_is_named_in_one_line(results_copy, capsys,
                                                                tmp_path):  # fmt: skip
    """A hostile pass: results/<machine>/x.json being a folder was skipped silently, where a
    FIFO or a dangling link there is named."""
    folder = results_copy / FIXTURE_MACHINE / "x.json"
    folder.mkdir()
    before = checksums(results_copy)
    message = (f"ptbench: error: {folder}: a folder among the result files; move it out of the "
               "results folder\n")
    for command in ("report", "publish", "export"):
        status, _output, err = run_cli(capsys, command, "--results", results_copy, "--out",
                                       _out(tmp_path, command))  # fmt: skip
        assert (status, err) == (2, message) and not _out(tmp_path, command).exists()
    for merged in (["merge", results_copy, "--into", tmp_path / "m"],  # a source, a target
                   ["merge", FIXTURE_RESULTS, "--into", results_copy]):  # fmt: skip
        status, _output, err = run_cli(capsys, *merged)
        assert (status, err) == (2, message) and not (tmp_path / "m").exists()
    assert checksums(results_copy) == before


def test_publish_says_a_bisection_is_no_history_and_where_its_results_are(capsys, tmp_path):
    """A hostile pass: publish on a folder holding only a bisection said "no asv result
    files"; it says what is there and what publish needs, and writes nothing."""
    results = tmp_path / "r"
    (results / "bisect-x" / "ends-0-vs-1").mkdir(parents=True)
    step = results / "bisect-x" / "ends-0-vs-1"
    needs = f"ptbench: error: no asv result files in {results}, which this command needs " \
            "(<machine>/<commit>-<env>.json): it holds ptbench bisect's "  # fmt: skip
    status, _out, err = run_cli(capsys, "publish", "--results", results, "--out", tmp_path / "s")
    assert (status, err) == (2, f"{needs}bisect-x/ instead; each step's results are an ab "
                                f"results folder, e.g. --results {step}\n")  # fmt: skip
    (results / "bisect-x.json").write_text("{}")
    status, _out, err = run_cli(capsys, "publish", "--results", results, "--out", tmp_path / "s")
    assert (status, err) == (2, f"{needs}bisect-x.json, bisect-x/ instead; `ptbench report "
                                f"--results {results}` shows the bisection; each step's results "
                                f"are an ab results folder, e.g. --results {step}\n")  # fmt: skip
    assert not (tmp_path / "s").exists()


# A fifth hostile pass -----------------------------------------------------------------------


def _run_param_named_size(data):
    data["params"]["size"] = "x"


def _a_list_for_a_device(data):
    data["results"]["bench_elementwise.time_sum"][1][0][0] = "[1, 2]"


def _three_thousand_by_three_thousand(data):
    data["results"]["bench_elementwise.time_sum"][1] = [
        ["'cpu'"] * 3000, [str(size) for size in range(1, 3001)]]


@pytest.mark.parametrize(("damage", "message"), [
    (_run_param_named_size, "a run param is named 'size', like a column every result row has"),
    (_a_list_for_a_device, "bench_elementwise.time_sum has device [1, 2]; a parameter value is "
                           "a number, text, True, False or None"),
    (_three_thousand_by_three_thousand, "bench_elementwise.time_sum holds 18 values for "
                                        "9,000,000 parameter combinations"),
], ids=["run-param-named-like-a-column", "a-list-as-a-value", "3000-by-3000-values"])  # fmt: skip
def test_result_files_of_new_damaged_shapes_are_named_in_one_line(results_copy, capsys, tmp_path,
                                                                  damage, message):  # fmt: skip
    """A fifth hostile pass: a run param named like a column (size, value, method) and a
    parameter value that is a list were internal errors wherever rows were grouped, and
    parameter lists of 3,000 values each made asv build 9 million combinations (killed after
    140 s) before the count of values was checked."""
    first, _second = fixture_runs(results_copy)
    edit_result(first, damage)
    before = checksums(results_copy)
    status, _out, err = run_cli(capsys, "export", "--results", results_copy, "--out",
                                tmp_path / "t.csv")  # fmt: skip
    assert status == 2 and err.count("\n") == 1, err
    assert f"{first}: damaged asv result file ({message}); restore it" in err
    assert checksums(results_copy) == before and not (tmp_path / "t.csv").exists()


def _torch_of_20000_digits(first, _second):
    edit_result(first, lambda data: data["params"].update(torch="9" * 20000))


def _one_time_of_1e308_seconds(_first, second):
    def huge(data):
        values = data["results"]["bench_elementwise.time_sum"][0]
        values[next(i for i, value in enumerate(values) if value is not None)] = 1e308

    edit_result(second, huge)


def test_figures_draw_only_ratios_a_log_axis_can_show_with_their_inverse():
    """The ratio a time of 1e308 s gives against a microsecond has an infinite inverse (the
    speedup), which made the figure's axis limits infinite in the hostile pass's report."""
    from types import SimpleNamespace

    import pandas as pd

    from ptbench.present import plots

    ratios = [1.2, 1e-310, float("inf"), 0.0, float("nan"), 1e305, 0.5]
    drawn = plots._comparable(SimpleNamespace(pairs=pd.DataFrame({"ratio": ratios})))
    assert drawn["ratio"].tolist() == [1.2, 0.5]


@pytest.mark.parametrize("damage", [_torch_of_20000_digits, _one_time_of_1e308_seconds])
def test_report_draws_odd_but_valid_values_without_an_internal_error(results_copy, capsys,
                                                                     tmp_path, damage):  # fmt: skip
    """A fifth hostile pass: a torch version of 20,000 digits broke the version order (Python's
    4,300-digit limit on int()), and a time of 1e308 s made the comparison figure's axis
    limits infinite: both internal errors in report."""
    first, second = fixture_runs(results_copy)
    commit = json.loads(first.read_text())["commit_hash"]
    edit_result(second, lambda data: data.update(  # another build of that commit: compared
        commit_hash=commit, params={**data["params"], "torch": "2.14.1+cpu"}))
    damage(first, second)
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out",
                                tmp_path / "rep")  # fmt: skip
    assert status == 0, err
    assert (tmp_path / "rep" / "report.md").read_text().startswith("# ")


@pytest.mark.slow
def test_sigterm_during_a_report_cleans_up_as_ctrl_c_does(tmp_path):
    """A hostile pass: a report killed with SIGTERM (a scheduler's, a kill) left its
    half-written folder and its figure processes behind; it now ends as Ctrl-C does."""
    import shutil

    results = tmp_path / "results"
    shutil.copytree(PROJECT / "results", results)
    out = tmp_path / "rep"
    command = [sys.executable, "-m", "ptbench.cli", "report", "--results", results, "--out", out]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out / "figures").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the report drew no figure in 120 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "ptbench: interrupted; results/ holds only completed files"
    assert "Traceback" not in err and not out.exists()


@pytest.mark.slow
def test_a_report_refused_for_a_damaged_document_leaves_the_earlier_one_as_it_was(
    capsys, tmp_path
):
    """A hostile pass: a damaged explanation was refused only after the new A/B figures had
    replaced the earlier report's (and a half-written .part was left among them)."""
    import shutil

    results_copy = tmp_path / "results"  # the committed history: it holds an A/B comparison
    shutil.copytree(PROJECT / "results", results_copy)
    out = tmp_path / "rep"
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out", out)
    assert status == 0, err
    earlier = checksums(out)
    (results_copy / "explain-zz.json").write_text("{x")
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out", out)
    assert status == 2 and err.count("\n") == 1 and "explain-zz.json: not a readable" in err
    assert checksums(out) == earlier
