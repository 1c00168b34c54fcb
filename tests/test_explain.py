"""``ptbench explain``: the operator diff, the settings diff, and a contender with one known
extra ATen operator explained as such."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import PROJECT, run_cli
from ptbench.analysis.explain import diff, session


def profiled(wall: float, events: dict[str, tuple[float, float]]) -> dict:
    return {"status": "ok", "wall_seconds": wall, "calls": 10,
            "events": [{"name": name, "kind": "operator", "self_seconds": seconds, "calls": calls}
                       for name, (seconds, calls) in events.items()]}  # fmt: skip


def test_changes_are_largest_first_mark_new_operators_and_add_up_to_the_wall_change():
    baseline = diff.side_profile([
        profiled(100e-6, {"aten::add": (60e-6, 1), "aten::copy_": (20e-6, 2)}),
        profiled(110e-6, {"aten::add": (70e-6, 1), "aten::copy_": (20e-6, 2)}),
    ])  # fmt: skip
    contender = diff.side_profile([profiled(150e-6, {"aten::add": (65e-6, 1),
                                                     "aten::mm": (50e-6, 1)})])  # fmt: skip
    changes = diff.changes(baseline, contender)
    assert [c["name"] for c in changes[:2]] == ["aten::mm", "aten::copy_"]
    assert changes[0]["note"] == diff.APPEARED and changes[0]["calls_baseline"] == 0
    assert changes[1]["note"] == diff.DISAPPEARED and changes[1]["calls_baseline"] == 2
    remainder = next(c for c in changes if c["kind"] == "remainder")
    assert remainder["baseline_seconds"] == pytest.approx(105e-6 - 85e-6)
    assert sum(c["delta_seconds"] for c in changes) == pytest.approx(150e-6 - 105e-6)
    assert sum(c["share"] for c in changes) == pytest.approx(1.0)


class FakeWorker:
    """An ab worker answering lockstep profiled rounds (``open``, ``sample``, ``finish``,
    ``close``) with the given wall times, a round each, in order; ``asked``: rounds opened."""

    def __init__(self, walls: list[float]):
        self.walls, self.asked, self.opened = list(walls), 0, []

    def ask(self, request: dict) -> dict:
        if request["op"] == "open":
            self.asked += 1
            self.opened.append(request)
            return {"status": "ok", "samples": [self.walls[0]], "number": 1}
        if request["op"] == "sample":
            return {"status": "ok", "seconds": self.walls[0]}
        if request["op"] == "finish":
            return profiled(self.walls.pop(0), {"aten::eigh": (50e-6, 1)})
        return {"status": "ok"}  # close


def test_a_profiled_pair_is_taken_in_lockstep_on_one_cpu(monkeypatch):
    """As ab's pairs: each side's round profiled, their chunks of calls alternating, both
    sides' main threads on one CPU (``lockstep.pair_cpu``), the CPUs taking turns."""
    monkeypatch.setattr(session.lockstep.os, "sched_getaffinity", lambda _pid: {0, 1})
    steady = [FakeWorker([100e-6] * 6), FakeWorker([120e-6] * 6)]
    pairs = session._rounds(steady, {"benchmark": "b", "params": ["cpu"]}, 4)
    assert [b["wall_seconds"] / a["wall_seconds"] for a, b in pairs] == [pytest.approx(1.2)] * 4
    for worker in steady:
        assert [r["cpu"] for r in worker.opened] == [0, 0, 1, 1]
        assert all(r["profile"] is True for r in worker.opened)


def test_both_sides_instruction_counts_are_asked_for_before_either_is_read():
    """Two valgrind processes at once: the counting request goes to both workers, then both
    answers are read, each side's its own."""
    events = []

    class Counting:
        def __init__(self, side):
            self.side = side

        def send(self, request):
            events.append(("send", self.side, request["op"], request["benchmark"]))

        def receive(self):
            events.append(("receive", self.side))
            return {"status": "ok", "per_call": [100.0 + self.side]}

    combination = {"benchmark": "bench_elementwise.time_sum", "params": ["cpu", 1024]}
    counted = session._instructions([Counting(0), Counting(1)], combination)
    assert counted == [{"status": "ok", "per_call": [100.0]}, {"status": "ok", "per_call": [101.0]}]
    assert events == [("send", 0, "instructions", "bench_elementwise.time_sum"),
                      ("send", 1, "instructions", "bench_elementwise.time_sum"),
                      ("receive", 0), ("receive", 1)]  # fmt: skip


def test_a_profiled_round_child_answers_chunks_then_its_profile():
    """The child of a lockstep profiled round (``profiling.serve_round``), in this process: its
    first chunk with the open answer, one per ``sample``, then the profile over them all."""
    import io

    from ptbench.analysis.explain import profiling

    replies = io.StringIO()
    profiling.serve_round("smoke", "bench_elementwise.time_sum", ["cpu", 16],
                          io.StringIO("sample\nsample\nfinish\n"), replies)  # fmt: skip
    opened, *samples, profile = map(json.loads, replies.getvalue().splitlines())
    assert opened["status"] == "ok" and len(opened["samples"]) == 1 and opened["number"] >= 1
    assert [s["status"] for s in samples] == ["ok", "ok"] and all(s["seconds"] > 0 for s in samples)
    assert profile["status"] == "ok" and profile["calls"] == 3 * opened["number"]
    assert "aten::sum" in {event["name"] for event in profile["events"]}
    assert profile["wall_seconds"] > 0


def test_a_pair_with_a_disturbed_round_is_left_out_and_measured_again():
    """Found by scripts/explain_agreement.py: one baseline round 18x slow made the profiled
    ratio 0.055 where ab measured 1.04; ab's rule sets that pair aside and a fifth is taken."""
    baseline = FakeWorker([100e-6, 101e-6, 1800e-6, 99e-6, 100e-6, 100e-6])
    contender = FakeWorker([130e-6, 131e-6, 129e-6, 130e-6, 132e-6, 130e-6])
    pairs = session._rounds([baseline, contender], {"benchmark": "b", "params": []}, 4)
    assert baseline.asked == contender.asked == 5
    assert [a["wall_seconds"] for a, _b in pairs] == [100e-6, 101e-6, 99e-6, 100e-6]
    base, cont = (diff.side_profile([pair[side] for pair in pairs]) for side in (0, 1))
    assert cont["wall_seconds"] / base["wall_seconds"] == pytest.approx(1.30, abs=0.01)
    steady = [FakeWorker([100e-6] * 6), FakeWorker([120e-6] * 6)]
    assert len(session._rounds(steady, {"benchmark": "b", "params": []}, 4)) == 4
    assert steady[0].asked == 4


def test_rounds_go_on_until_the_profiled_ratio_is_known_within_five_percent_or_sixteen_pairs():
    """Pairs that spread by 0.1 (this VM on a noisy day) leave 4 pairs' ratio uncertain by
    about 15%: more are taken, at most 16 clean ones."""
    import numpy as np

    spread = np.exp(np.random.default_rng(7).normal(0, 0.1, 24))
    noisy = [FakeWorker([100e-6] * 24), FakeWorker(list(120e-6 * spread))]
    pairs = session._rounds(noisy, {"benchmark": "b", "params": []}, 4)
    assert 4 < len(pairs) <= session.MOST_PAIRS and noisy[0].asked == len(pairs)
    logs = session._logs(pairs)
    interval = session.stats.trimmed_paired_ratio(logs, session.RATIO_ALPHA)
    known = interval.high / interval.low <= session.PRECISION**2
    if known:  # it stopped as soon as it could
        assert not session._known(pairs[:-1])
    else:
        assert len(pairs) == session.MOST_PAIRS
    hopeless = [FakeWorker([200e-6] * 24), FakeWorker([200e-6, 600e-6] * 12)]
    assert len(session._rounds(hopeless, {"benchmark": "b", "params": ["cpu"]}, 4)) == 16
    counted = [FakeWorker([20e-6] * 24), FakeWorker([20e-6, 60e-6] * 12)]  # callgrind decides
    assert len(session._rounds(counted, {"benchmark": "b", "params": ["cpu"]}, 4)) == 4


def test_the_sides_weigh_every_kept_pair_alike_and_their_ratio_lies_within_its_interval():
    """Found on a loaded machine: one contender round 100x slow made `time_svd` read 10.5 with
    an interval of [0.71, 3.11], and a pair whose two rounds both ran 50x slow outweighed the
    rest. The sides come from the pairs the trimmed interval keeps, each scaled to the
    typical baseline round, so the changes still add up to the ratio."""
    import numpy as np

    noise = np.exp(np.random.default_rng(3).normal(0, 0.05, 16))
    pairs = [(profiled(1e-3, {"aten::eigh": (0.8e-3, 1)}),
              profiled(1.3e-3 * n, {"aten::eigh": (1.1e-3 * n, 1)})) for n in noise]  # fmt: skip
    pairs[5] = (pairs[5][0], profiled(130e-3, {"aten::eigh": (110e-3, 1)}))  # 100x
    pairs[9] = (profiled(50e-3, {"aten::eigh": (40e-3, 1)}),
                profiled(65e-3, {"aten::eigh": (55e-3, 1)}))  # both rounds 50x slow
    plain = [diff.side_profile([pair[side] for pair in pairs]) for side in (0, 1)]
    assert plain[1]["wall_seconds"] / plain[0]["wall_seconds"] > 2  # what it read before
    baseline, contender = session._sides(pairs)
    ratio = contender["wall_seconds"] / baseline["wall_seconds"]
    interval = session.stats.trimmed_paired_ratio(session._logs(pairs), session.RATIO_ALPHA)
    assert interval.low <= ratio <= interval.high and ratio == pytest.approx(1.3, abs=0.04)
    assert baseline["wall_seconds"] == pytest.approx(1e-3)  # the typical baseline round
    changes = diff.changes(baseline, contender)
    assert changes[0]["name"] == "aten::eigh"
    one_call = profiled(1e-3, {"aten::mm": (1e-4, 1)})
    assert all(diff.side_profile([one_call] * n)["events"][("operator", "aten::mm")][1] == 1
               for n in range(1, 33))  # exactly (the real explain test read 0.9999999999999997)
    assert sum(c["delta_seconds"] for c in changes) == pytest.approx(
        contender["wall_seconds"] - baseline["wall_seconds"])


def test_the_settings_diff_names_each_differing_value_and_config_line():
    settings = " - Build settings: BLAS_INFO=mkl, USE_CUDA={}, CXX_FLAGS= -O2 -fPIC {}"
    base = {"torch": "2.13.0", "threads": "2", "cpu_capability": "AVX512",
            "config": f"PyTorch built with:\n  - OpenMP 201511\n{settings.format(0, '-DA')}"}
    cont = {"torch": "2.14.1", "threads": "2", "cpu_capability": "AVX512",
            "config": f"PyTorch built with:\n  - OpenMP 201811\n"
                      f"{settings.format(1, '-DB -DC, CUDA_VERSION=13.0')}"}  # fmt: skip
    rows = diff.settings_diff(base, cont)
    assert {"setting": "torch", "baseline": "2.13.0", "contender": "2.14.1"} in rows
    assert [r for r in rows if r["setting"].startswith("config")] == [
        {"setting": "config: USE_CUDA", "baseline": "0", "contender": "1"},
        {"setting": "config: CXX_FLAGS", "baseline": "-DA", "contender": "-DB -DC"},
        {"setting": "config: CUDA_VERSION", "baseline": "absent", "contender": "13.0"},
        {"setting": "config", "baseline": "OpenMP 201511", "contender": "OpenMP 201811"},
    ]  # each item of the Build settings line on its own (flags: those one side alone has)
    assert not [r for r in rows if r["setting"] in ("threads", "cpu_capability")]
    assert diff.settings_diff(base, dict(base)) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give --bench REGEX or --from DIR"),
        (["--bench", "x", "--faster"], "--faster needs --from DIR"),
        (["--bench", "time_sum", "--rounds", "0"], "--rounds 0 must be 1 or more"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, arguments, message):
    status, _out, err = run_cli(capsys, "explain", "--baseline", sys.executable,
                                "--contender", sys.executable, *arguments)  # fmt: skip
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


RELAY = """import subprocess, sys, json
worker = subprocess.Popen([{python!r}, *sys.argv[1:]], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
for line in sys.stdin:
    if json.loads(line)["op"] == "settings":  # another ptbench's worker: it knows no settings
        print(json.dumps({{"error": "unknown request 'settings'"}}), flush=True)
        continue
    worker.stdin.write(line)
    worker.stdin.flush()
    print(worker.stdout.readline(), end="", flush=True)
"""


@pytest.mark.slow
def test_a_worker_that_cannot_answer_explain_is_bad_input_with_no_log_left(
    tmp_path, capsys, monkeypatch
):
    """A hostile pass: a side whose worker answered ab's requests but not explain's ended in
    an internal error (exit 3) pointing at a log folder it left in TMPDIR."""
    import tempfile

    side = tmp_path / "side"
    side.write_text(f"#!/bin/sh\nexec {sys.executable} {tmp_path / 'relay.py'} \"$@\"\n")
    side.chmod(0o755)
    (tmp_path / "relay.py").write_text(RELAY.format(python=sys.executable))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    status, out, err = run_cli(capsys, "explain", "--baseline", side, "--contender",
                               sys.executable, "--tier", "smoke", "--bench",
                               r"time_sum\('cpu', 16\)", "--out", tmp_path / "out")  # fmt: skip
    assert status == 2 and out == ""
    assert err.splitlines()[-1] == (
        f"ptbench: error: --baseline {side} cannot run ptbench's explain worker (unknown request "
        "'settings'); give a Python that has torch and this ptbench")
    assert list(scratch.iterdir()) == [] and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_an_extra_operator_in_the_contender_is_the_top_change(tmp_path):
    sys.path.insert(0, str(PROJECT / "scripts"))
    import slowed_env

    contender = slowed_env.make(tmp_path / "extra", sys.executable, "torch.linalg.cholesky",
                                1.0, extra="torch.mm(args[0], args[0])")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "ptbench.cli", "explain", "--baseline", sys.executable,
         "--contender", str(contender), "--rounds", "2", "--format", "json",
         "--bench", r"time_solve\('cpu', 256, 'float64', '(cholesky|lu)'\)"],
        cwd=PROJECT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    explained = {c["method"]: c for c in json.loads(done.stdout)["combinations"]}
    top = explained["cholesky"]["changes"][:3]  # the profiled times of others are noisy here
    (mm,) = [change for change in top if change["name"] == "aten::mm"]
    assert (mm["kind"], mm["note"], mm["calls_baseline"], mm["calls_contender"]) == (
        "operator", "appeared", 0, 1)  # fmt: skip
    assert mm["delta_seconds"] > 200e-6 and explained["cholesky"]["ratio"] > 1.3
    assert "aten::mm" not in {c["name"] for c in explained["lu"]["changes"]}


def test_from_an_ab_folder_selects_exactly_what_it_confirmed(tmp_path):
    import re

    from ptbench.analysis.ab import verdicts
    from ptbench.analysis.explain import session

    def pair(benchmark, params, verdict):
        return {"benchmark": benchmark, "params": params, "verdict": verdict}

    document = {"judgement": verdicts.JUDGEMENT_MODEL, "machine": "box", "commit": "a" * 40,
                "envs": ["a", "b"], "factor": 1.1, "pairs": [
                    pair("bench_indexing.time_masked_select", ["cpu", 4194304], "slower"),
                    pair("bench_interop.time_from_numpy", ["cpu", 4194304], "faster"),
                    pair("bench_indexing.time_masked_select", ["cpu", 1024], "equivalent"),
                ]}  # fmt: skip
    (tmp_path / "ab-x.json").write_text(json.dumps(document))
    slower = re.compile(session.confirmed_changes(tmp_path))
    assert slower.search("bench_indexing.time_masked_select('cpu', 4194304)")
    assert not slower.search("bench_indexing.time_masked_select('cpu', 1024)")
    assert not slower.search("bench_interop.time_from_numpy('cpu', 4194304)")
    both = re.compile(session.confirmed_changes(tmp_path, faster=True))
    assert both.search("bench_interop.time_from_numpy('cpu', 4194304)")
    (tmp_path / "ab-x.json").write_text(json.dumps({**document, "pairs": document["pairs"][2:]}))
    assert session.confirmed_changes(tmp_path) is None


def test_from_a_folder_without_confirmed_changes_says_so(tmp_path, capsys):
    from ptbench.analysis.ab import verdicts

    (tmp_path / "ab-x.json").write_text(json.dumps({
        "judgement": verdicts.JUDGEMENT_MODEL, "machine": "box", "commit": "a" * 40,
        "envs": ["a", "b"], "factor": 1.1, "pairs": [
            {"benchmark": "bench_linalg.time_eigh", "params": ["cpu", 64, "float64"],
             "verdict": "equivalent", "regression": False}]}))  # fmt: skip
    status, out, _err = run_cli(capsys, "explain", "--baseline", sys.executable,
                                "--contender", sys.executable, "--from", tmp_path)  # fmt: skip
    assert status == 0 and "confirmed no regression; nothing to explain" in out
    for wrong, message in ((["--rounds", "0"], "--rounds 0 must be 1 or more"),
                           (["--out", tmp_path / "ab-x.json" / "sub"], "is not a folder")):
        # a hostile pass: both were ignored where nothing was confirmed (exit 0)
        status, out, err = run_cli(capsys, "explain", "--baseline", sys.executable,
                                   "--contender", sys.executable, "--from", tmp_path, *wrong)
        assert status == 2 and out == "" and message in err and err.count("\n") == 1, err


def test_a_recorded_explanation_shows_in_the_report_and_on_the_site(results_copy, tmp_path):
    from ptbench.analysis.explain import record
    from ptbench.present import explanation, publish, report

    document = {"baseline": "2.13.0+cpu", "contender": "2.14.1+cu130", "rounds": 4,
                "settings": [], "combinations": [{
                    "benchmark": "bench_indexing.time_masked_select", "device": "cpu",
                    "size": 4194304, "status": "ok", "ratio": 1.2, "baseline_seconds": 0.02,
                    "contender_seconds": 0.024,
                    "changes": [{"name": "aten::nonzero", "kind": "operator", "note": "",
                                 "baseline_seconds": 0.015, "contender_seconds": 0.018,
                                 "delta_seconds": 0.003, "share": 0.75,
                                 "calls_baseline": 1, "calls_contender": 1}]}]}  # fmt: skip
    name = record.file_name(document)
    assert name == "explain-2-13-0-cpu-vs-2-14-1-cu130"
    (results_copy / f"{name}.json").write_text(explanation.render(document, "json"))
    report.write(results_copy, tmp_path / "report")
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Why it changed (ptbench explain)" in text
    assert "aten::nonzero +3,000.0 us" in text and "1.20x" in text
    publish.write(results_copy, tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text()
    assert "Why they changed (ptbench explain)" in index
    assert "<td>aten::nonzero +3,000.0 us</td>" in index


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_from_a_folder_without_ab_comparisons_is_bad_input(tmp_path, capsys, where):
    folder = tmp_path / where
    if where == "empty":
        folder.mkdir()
    status, out, err = run_cli(capsys, "explain", "--baseline", sys.executable,
                               "--contender", sys.executable, "--from", folder)  # fmt: skip
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "no ptbench ab comparison there (ab-*.json)" in err


def test_instruction_counts_compare_per_call_with_the_functions_that_changed_most():
    from ptbench.analysis.explain import instructions

    base = {"status": "ok", "per_call": [1000.0, 1001.0],
            "functions": {"at::native::add": 600.0, "dispatch": 300.0}}
    cont = {"status": "ok", "per_call": [1500.0, 1500.0],
            "functions": {"at::native::add": 600.0, "dispatch": 310.0, "at::extra": 480.0}}
    counted = instructions.compare(base, cont)
    assert counted["baseline_per_call"] == 1000.5 and counted["contender_per_call"] == 1500.0
    assert counted["ratio"] == pytest.approx(1500 / 1000.5)
    assert counted["repeat_spread"] == pytest.approx(1 / 1000.5)
    assert [f["function"] for f in counted["functions"]][:2] == ["at::extra", "dispatch"]
    assert counted["functions"][0] == {"function": "at::extra", "baseline": 0.0,
                                       "contender": 480.0, "delta": 480.0}  # fmt: skip
    missing = {"status": "skipped", "reason": instructions.MISSING}
    assert instructions.compare(base, missing) == {"status": "skipped",
                                                   "reason": instructions.MISSING}  # fmt: skip


def test_without_valgrind_instruction_counts_are_skipped_saying_why(monkeypatch):
    from ptbench.analysis.explain import instructions

    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    counted = instructions.count("bench_elementwise.time_sum", ["cpu", 1024], "default")
    assert counted == {"status": "skipped", "reason": instructions.MISSING}
    assert "apt-get install valgrind" in instructions.MISSING


@pytest.mark.slow
def test_instruction_counts_of_a_real_call_are_stable_and_match_across_one_build():
    """Callgrind on the suite's own call, this environment on both sides: the counts agree
    to a fraction of a percent, where wall time on this VM moves by tens of percent."""
    import shutil

    from ptbench.analysis.explain import instructions

    if shutil.which("valgrind") is None:
        pytest.skip("no valgrind: scripts/test installs Debian's valgrind as root")
    sides = [instructions.count("bench_elementwise.time_sum", ["cpu", 1024], "default")
             for _ in range(2)]  # fmt: skip
    counted = instructions.compare(*sides)
    assert counted["status"] == "ok", counted
    assert counted["baseline_per_call"] > 1000  # a torch.sum call runs thousands
    # 0.005% apart when measured (1,000 calls, hashing fixed); the issue asks for 0.1%
    assert counted["ratio"] == pytest.approx(1.0, abs=0.002)


def test_counting_fixes_the_hash_seed_and_puts_this_python_first_then_restores_both(
    monkeypatch,
):
    import os
    import sys

    from ptbench.analysis.explain import instructions

    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    with instructions._counting_environment():
        assert os.environ["PATH"] == f"{os.path.dirname(sys.executable)}{os.pathsep}/usr/bin"
        assert os.environ["PYTHONHASHSEED"] == "0"
    assert os.environ["PATH"] == "/usr/bin" and "PYTHONHASHSEED" not in os.environ
