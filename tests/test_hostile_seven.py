"""Hostile pass seven (issue 23): hangs on special files, refusals that had already written,
exit 3 where the input was at fault, long lines and leftovers. Each test names what the pass
found."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers import FIXTURE_MACHINE, PROJECT, checksums, fixture_runs, run_cli

SUITE = (PROJECT / "results").resolve()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def ptbench_process(*arguments, env=None, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ptbench.cli", *map(str, arguments)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=cwd)  # fmt: skip


def finished(process: subprocess.Popen, seconds: float = 60) -> tuple[int, str, str]:
    """The process's status and output; it is killed, and the test fails, past ``seconds``."""
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"still running after {seconds} s: a hang")
    return process.returncode, out, err


# Long lines --------------------------------------------------------------------------------


def test_a_value_with_spaces_quoted_at_length_is_cut_keeping_the_advice(results_copy, capsys):
    """Pass seven: `capped` cut only runs without spaces; --factor 'a b a b ...' gave a line of
    932 characters, and a --from regex one of 3,111."""
    from ptbench.core.outputs import LINE_SHOWN

    status, out, err = run_cli(capsys, "compare", "--results", results_copy, "--factor",
                               "a b " * 1000)  # fmt: skip
    line = one_line(err)
    assert status == 2 and out == ""
    assert len(line) <= LINE_SHOWN + 10 and "characters cut]" in line, len(line)
    assert line.startswith("ptbench compare: error: argument --factor: ")
    assert line.endswith("(see ptbench compare --help)"), line


def test_a_value_with_spaces_is_cut_inside_the_line_and_paths_stay_whole():
    """Pass seven: values with spaces ("w w w ...") made lines of 550-998 characters; the text
    outside the paths is now cut from its longest run of words, and a path is never cut."""
    from ptbench.core.outputs import TEXT_SHOWN, capped

    value = "w " * 300
    line = capped(f"ptbench: error: baseline: torch={value}: give KEY=VALUE, e.g. torch=2.13.0")
    assert len(line) <= TEXT_SHOWN + 30 and "characters cut]" in line, line
    assert line.startswith("ptbench: error: baseline: torch=w w w")
    assert line.endswith("w w : give KEY=VALUE, e.g. torch=2.13.0")
    folder = "/tmp/pytest-of-root/pytest-7/test_merge_refuses_a_target_inside0/" + "s" * 90
    legit = f"ptbench merge: error: {folder}/a/results is inside {folder}/b: give --into elsewhere"
    assert len(legit) > TEXT_SHOWN and capped(legit) == legit  # two paths: nothing cut
    spaced = "r/" + "m a c h " * 30 + "/1afbe096-" + "x y " * 55 + ".json: not readable (why)"
    shown = capped(spaced)
    assert shown.count("characters cut]") == 2 and len(shown) < 400, shown
    assert shown.endswith(".json: not readable (why)")


def test_a_damaged_result_file_is_named_once(results_copy, capsys):
    """asv's own message names the file again ("No version specified in PATH."): a line with a
    long path in it was twice as long as it needed to be."""
    machine = Path(results_copy) / "m"
    machine.mkdir()
    (machine / "abc-env.json").write_text("[1]")
    status, out, err = run_cli(capsys, "compare", "--results", results_copy, "--baseline",
                               "torch=1", "--contender", "torch=2")  # fmt: skip
    line = one_line(err)
    assert status == 2 and line.count("abc-env.json") == 1, line
    assert line.endswith("abc-env.json: not a readable asv result file "
                         "(No version specified in the file.)"), line  # fmt: skip


def test_a_table_cell_read_from_a_results_folder_is_cut_in_the_terminal_only():
    from ptbench.present import tables

    name = "bench_x.time " + "w " * 300
    frame = pd.DataFrame({"benchmark": [name, "short"], "me thod " * 80: [1, 2]})
    shown = tables.shown_cells(frame)
    cut_name = shown["benchmark"][0]
    assert shown["benchmark"][1] == "short" and len(cut_name) <= tables.CELL_SHOWN
    assert cut_name.startswith("bench_x.time w w") and "characters cut]" in cut_name
    (heading,) = [column for column in shown.columns if column != "benchmark"]
    assert len(heading) <= tables.CELL_SHOWN and list(shown.iloc[:, 1]) == [1, 2]


# Special files: nothing hangs --------------------------------------------------------------


@pytest.mark.parametrize("where", ["source", "target"])
def test_merge_refuses_a_fifo_for_a_machine_file_instead_of_reading_it_for_ever(
    results_copy, tmp_path, where
):
    target = tmp_path / "into"
    shutil.copytree(results_copy, target)
    fifo = (results_copy if where == "source" else target) / FIXTURE_MACHINE / "machine.json"
    fifo.unlink()
    os.mkfifo(fifo)
    before = checksums(target) if where == "source" else None
    status, _out, err = finished(ptbench_process("merge", results_copy, "--into", target))
    assert status == 2 and one_line(err) == (
        f"ptbench: error: {fifo}: not a regular file (a device, a pipe or a folder); move it out "
        "of the results folder")
    if before is not None:
        assert checksums(target) == before


def test_a_cache_entry_that_is_a_fifo_is_parsed_around_not_read(results_copy, tmp_path):
    """Pass seven: a FIFO in PTBENCH_CACHE where an entry goes held compare and export for
    ever."""
    env = {**os.environ, "PTBENCH_CACHE": str(tmp_path / "cache")}
    first, second = fixture_runs(results_copy)
    arguments = ("export", "--results", results_copy, "--out")
    status, _out, err = finished(ptbench_process(*arguments, tmp_path / "a.csv", env=env))
    assert status == 0, err
    entries = sorted((tmp_path / "cache").glob("*.parquet"))
    assert len(entries) == 2
    for entry in entries:
        entry.unlink()
        os.mkfifo(entry)
    status, _out, err = finished(ptbench_process(*arguments, tmp_path / "b.csv", env=env))
    assert status == 0, err
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    assert all(entry.is_fifo() for entry in entries)  # refused as a target, left as it was
    assert first.exists() and second.exists()


def test_an_unreadable_machine_folder_is_named_not_left_out(results_copy, capsys, monkeypatch):
    """Pass seven: a machine's folder the user could not read was skipped by glob, and compare
    went on with the other machine's history (exit 1)."""
    hidden = results_copy / "other-machine"
    shutil.copytree(results_copy / FIXTURE_MACHINE, hidden)
    real = os.scandir

    def scandir(path="."):
        if Path(path) == hidden:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root reads a folder of mode 000 regardless
    status, _out, err = run_cli(capsys, "export", "--results", results_copy, "--out",
                                results_copy.parent / "t.csv")  # fmt: skip
    assert status == 2 and one_line(err) == (
        f"ptbench: error: {hidden}: a machine's folder that cannot be read; give ptbench read "
        "access to every folder of the results folder")


# Slurm -------------------------------------------------------------------------------------


def fake_sbatch(tmp_path: Path, body: str) -> dict:
    fake = tmp_path / "bin" / "sbatch"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text("#!/bin/sh\n" + body)
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"}


SLURM = ("slurm", "--type", "cpu=compute", "--tier", "smoke", "--bench", "time_sum")


def test_sbatch_output_that_is_not_utf8_or_is_long_is_shown_in_one_short_line(tmp_path):
    """Pass seven: sbatch bytes that are not UTF-8 were exit 3 (UnicodeDecodeError); its first
    line was printed whole (2,510 characters) with its escape characters raw."""
    env = fake_sbatch(tmp_path, "printf '42\\351\\033[31m%s\\n' \"$(head -c 3000 /dev/zero | "
                                "tr '\\0' x)\"\n")  # fmt: skip
    status, out, err = finished(ptbench_process(*SLURM, "--collect", tmp_path / "c", env=env,
                                                cwd=PROJECT))  # fmt: skip
    assert status == 0 and err == "", err
    (line,) = [line for line in out.splitlines() if line.startswith("ptbench: cpu: job ")]
    assert line.startswith("ptbench: cpu: job 42\ufffd\\x1b[31mxxx") and line.endswith(", exit 0")
    assert len(line) < 260 and "characters cut]" in line, line


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_slurm_wait_ends_on_a_signal_to_ptbench_alone(tmp_path, signum):
    """Pass seven: SIGINT or SIGTERM to ptbench (not its process group) never ended ``slurm
    --wait``: its threads waited on ``sbatch --wait`` for ever."""
    env = fake_sbatch(tmp_path, f"echo $$ > {tmp_path}/sbatch.pid\nsleep 300\n")
    process = ptbench_process(*SLURM, "--collect", tmp_path / "c", "--wait", env=env,
                              cwd=PROJECT)  # fmt: skip
    pid_file = tmp_path / "sbatch.pid"
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.send_signal(signum)
    status, _out, err = finished(process, 20)
    assert status == 130 and one_line(err) == "ptbench: interrupted; results/ holds only " \
        "completed files"  # fmt: skip
    sbatch = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the terminated sbatch is reaped by ptbench before it exits
            os.kill(sbatch, 0)
            time.sleep(0.1)


def test_slurm_refusals_are_made_before_any_folder(tmp_path, capsys, monkeypatch):
    """Pass seven: a --collect whose archives was a file, or a --type name too long for a file
    name, was refused after jobs/, logs/ and runs/ were made."""
    monkeypatch.chdir(PROJECT)
    collect = tmp_path / "c"
    collect.mkdir()
    (collect / "archives").write_text("not a folder")
    status, _out, err = run_cli(capsys, *SLURM, "--collect", collect, "--dry-run")
    assert status == 2 and one_line(err) == (
        f"ptbench: error: --collect {collect}: archives is not a folder; move it away or give "
        "another --collect")
    assert sorted(p.name for p in collect.iterdir()) == ["archives"]
    status, _out, err = run_cli(capsys, "slurm", "--type", f"{'n' * 300}=compute", "--tier",
                                "smoke", "--bench", "time_sum", "--collect", tmp_path / "new",
                                "--dry-run")  # fmt: skip
    assert status == 2 and "too long a name for a job script (at most 248 characters)" in err
    assert not (tmp_path / "new").exists()


# asv.conf.json ------------------------------------------------------------------------------


CONFIG = {"version": 1, "repo": ".", "benchmark_dir": "benchmarks", "results_dir": "results"}


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("results_dir", 5, "its results_dir 5 is not a folder's name"),
        ("results_dir", None, "its results_dir None is not a folder's name"),
        ("results_dir", ["results"], "its results_dir ['results'] is not a folder's name"),
        ("results_dir", "res\0ults", "its results_dir 'res\\x00ults' is not a folder's name"),
        ("benchmark_dir", {"a": 1}, "its benchmark_dir {'a': 1} is not a folder's name"),
        ("benchmark_dir", "nope", "is not a folder; give the folder that holds the benchmarks"),
        ("benchmark_dir", "asv.conf.json", "is not a folder; give the folder that holds the"),
    ],
)
def test_an_asv_config_folder_of_the_wrong_shape_is_bad_input(tmp_path, monkeypatch, capsys,
                                                              key, value, said):  # fmt: skip
    """Pass seven: 17 shapes of asv.conf.json (a number, a list, a NUL, a missing folder) were
    internal errors (TypeError, ValueError, ModuleNotFoundError) in run."""
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "asv.conf.json").write_text(json.dumps({**CONFIG, key: value}))
    for command in (["init", "-q"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                                     "--allow-empty", "-m", "x"]):  # fmt: skip
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True)
    monkeypatch.chdir(tmp_path)
    status, _out, err = run_cli(capsys, "run", "--tier", "smoke", "--bench", "x")
    line = one_line(err)
    assert status == 2 and line.startswith(f"ptbench: error: {tmp_path / 'asv.conf.json'}: ")
    assert said in line, line


def test_an_asv_config_nested_past_the_parser_is_bad_input(tmp_path, monkeypatch, capsys):
    (tmp_path / "asv.conf.json").write_text("[" * 100_000 + "]" * 100_000)
    subprocess.run(["git", "-C", str(tmp_path), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "--allow-empty", "-m", "x"], check=True)  # fmt: skip
    monkeypatch.chdir(tmp_path)
    status, _out, err = run_cli(capsys, "run", "--tier", "smoke", "--bench", "x")
    assert status == 2 and "asv.conf.json is not valid JSON (" in one_line(err), err


# Written before the refusal ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_machine_write_refuses_a_bad_results_folder_before_the_machine_file(
    asv_home, tmp_path, capsys, monkeypatch, kind
):
    """Pass seven: `machine --write --results R` with R/<name> a file (or R a link to nothing)
    rewrote ~/.asv-machine.json, then exited 2."""
    from ptbench.hardware import peaks

    monkeypatch.setattr(peaks, "probe", lambda *_a, **_k: pytest.fail("probed before refusing"))
    machine_file = asv_home / ".asv-machine.json"
    machine_file.write_text(json.dumps({"hm": {"machine": "hm", "peak_cpu_copy_gbps": "1"},
                                        "version": 1}))  # fmt: skip
    before = machine_file.read_text()
    results = tmp_path / "rr"
    if kind == "file":
        results.mkdir()
        (results / "hm").write_text("x")
    else:
        results.symlink_to(tmp_path / "nowhere")
    status, _out, err = run_cli(capsys, "machine", "--write", "--machine", "hm", "--results",
                                results)  # fmt: skip
    line = one_line(err)
    assert status == 2 and line.startswith(f"ptbench: error: --results {results}")
    assert ("is not a folder" if kind == "file" else "is a link to nothing") in line, line
    assert machine_file.read_text() == before


def test_machine_write_with_a_home_it_cannot_write_is_refused_before_probing(
    tmp_path, capsys, monkeypatch
):
    """Pass seven: a HOME that could not be written was found after 42 s of probing, with
    three lines on stderr."""
    from ptbench.hardware import ceilings, peaks

    home = tmp_path / "home-is-a-file"
    home.write_text("")
    monkeypatch.setenv("HOME", str(home))
    for module in (peaks, ceilings):
        monkeypatch.setattr(module, "probe", lambda *_a, **_k: pytest.fail("probed first"))
    status, _out, err = run_cli(capsys, "machine", "--write", "--machine", "hm")
    assert status == 2 and one_line(err).startswith(
        f"ptbench: error: cannot write .asv-machine.json in {home} (Not a directory); ")


def test_an_earlier_report_with_a_fifo_for_its_page_is_refused_before_any_figure(
    results_copy, tmp_path, capsys
):
    out = tmp_path / "rep"
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out", out)
    assert status == 0, err
    (out / "report.html").unlink()
    os.mkfifo(out / "report.html")
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()}
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out", out)
    assert status == 2 and one_line(err) == (
        f"ptbench: error: --out {out}: report.html is not a regular file (a folder, a device or "
        "a pipe); move it away or give another folder")
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()} == before


def test_a_second_command_into_a_folder_being_written_is_refused_and_removes_nothing(tmp_path):
    """Pass seven: a refused report removed the new folder a concurrent report was writing."""
    from ptbench.core import outputs
    from ptbench.core.errors import UsageError

    out = tmp_path / "new" / "out"
    with outputs.new_folder(out):
        (out / "report.md").write_text("the first command's")
        with pytest.raises(UsageError) as refused, outputs.new_folder(out):
            pass
        assert str(refused.value) == (f"another ptbench command is writing into --out {out}; "
                                      "wait for it to finish, or give another folder")
        assert (out / "report.md").read_text() == "the first command's"
    with pytest.raises(KeyboardInterrupt), outputs.new_folder(out):
        raise KeyboardInterrupt  # out existed before: kept
    assert (out / "report.md").is_file()


def test_an_explanation_whose_ratio_is_text_is_a_damaged_document(results_copy, tmp_path,
                                                                  capsys):  # fmt: skip
    """Pass seven: a ratio of text in an explain-*.json was exit 3 in publish (ValueError from a
    format code)."""
    (source,) = SUITE.glob("explain-*.json")
    document = json.loads(source.read_text())
    document["combinations"][0].update(status="weird", ratio="x y " * 100)
    (results_copy / source.name).write_text(json.dumps(document))
    status, _out, err = run_cli(capsys, "publish", "--results", results_copy, "--out",
                                tmp_path / "site")  # fmt: skip
    line = one_line(err)
    assert status == 2 and line.startswith(
        f"ptbench: error: {results_copy / source.name}: not a readable ptbench explain document "
        "(at combinations[0].ratio: "), line
    assert not (tmp_path / "site").exists()


def test_matplotlib_s_scratch_folder_is_removed_at_a_hard_exit(results_copy, tmp_path):
    """Pass seven: with HOME a file, matplotlib made TMPDIR/matplotlib-* for its cache and
    registered its removal with atexit, which ptbench's hard exit skipped."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    home = tmp_path / "home-file"
    home.write_text("")
    env = {key: value for key, value in os.environ.items()
           if key not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}  # fmt: skip
    env.update(HOME=str(home), TMPDIR=str(scratch))
    status, _out, err = finished(ptbench_process("report", "--results", results_copy, "--out",
                                                 tmp_path / "rep", env=env), 120)  # fmt: skip
    assert status == 0, err
    assert (tmp_path / "rep" / "report.md").is_file()
    assert [p.name for p in scratch.iterdir() if p.name.startswith("matplotlib-")] == []
