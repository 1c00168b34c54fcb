"""ptbench bisect: the search on a scripted oracle, the builds it accepts and refuses, a session
on a stand-in for ab (steps, resumption, the document, the report), and real bisections of
synthetic builds (this environment, some with cholesky slowed)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from helpers import PROJECT, ptbench, run_cli
from ptbench.analysis import judgement
from ptbench.analysis.ab import session as ab_session
from ptbench.analysis.ab import verdicts
from ptbench.analysis.bisect import search
from ptbench.analysis.bisect import session as bisect_session
from ptbench.core.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_REGRESSION, UsageError
from ptbench.core.schema import EQUIVALENT, FASTER, INCONCLUSIVE, SLOWER
from ptbench.run import builds

sys.path.insert(0, str(PROJECT / "scripts"))
import slowed_env  # noqa: E402

# The search on a scripted oracle -----------------------------------------------------------


def scripted(first_bad: int, undecided=(), stubborn=()):
    """An oracle for builds 0..n-1 whose first bad build is ``first_bad``: ``undecided``
    builds are inconclusive against the first build, ``stubborn`` ones against both."""
    calls = []

    def compare(role, baseline, contender):
        calls.append((role, baseline, contender))
        if role == search.MIDDLE:
            if contender in undecided or contender in stubborn:
                return {"verdict": INCONCLUSIVE}
            return {"verdict": SLOWER if contender >= first_bad else EQUIVALENT}
        assert role == search.AGAINST_BAD and contender > baseline
        if baseline in stubborn:
            return {"verdict": INCONCLUSIVE}
        return {"verdict": EQUIVALENT if baseline >= first_bad else SLOWER}

    return compare, calls


@pytest.mark.parametrize("count", range(2, 18))
def test_the_search_finds_every_first_bad_build_in_log2_steps(count):
    for first_bad in range(1, count):
        compare, calls = scripted(first_bad)
        boundary = search.bisect(count, compare)
        assert (boundary.last_good, boundary.first_bad, boundary.exact) == (
            first_bad - 1, first_bad, True)  # fmt: skip
        assert len(calls) <= math.ceil(math.log2(count - 1))
        assert all(baseline == 0 for _role, baseline, _contender in calls)


def test_seven_builds_with_the_fifth_bad_take_four_comparisons_with_the_ends():
    compare, calls = scripted(4)
    assert search.bisect(7, compare).first_bad == 4
    assert [c for _r, _b, c in calls] == [3, 4]  # then the ends and the boundary: 4 in all
    assert search.expected_steps(7) == 5


def test_an_undecided_step_is_compared_with_the_bad_build_and_then_decides():
    compare, calls = scripted(4, undecided={3})
    boundary = search.bisect(7, compare)
    assert (boundary.first_bad, boundary.exact) == (4, True)
    assert calls[:2] == [(search.MIDDLE, 0, 3), (search.AGAINST_BAD, 3, 6)]


def test_a_build_neither_comparison_decides_is_set_aside_for_a_neighbour():
    compare, calls = scripted(5, stubborn={3})
    boundary = search.bisect(7, compare)
    assert (boundary.last_good, boundary.first_bad, boundary.exact) == (4, 5, True)
    assert calls == [(search.MIDDLE, 0, 3), (search.AGAINST_BAD, 3, 6), (search.MIDDLE, 0, 2),
                     (search.MIDDLE, 0, 4), (search.MIDDLE, 0, 5)]  # fmt: skip


def test_an_undecided_build_at_the_boundary_gives_a_range_not_a_guess():
    compare, _calls = scripted(3, stubborn={3})
    boundary = search.bisect(5, compare)
    assert (boundary.last_good, boundary.first_bad, boundary.undecided) == (2, 4, [3])
    assert not boundary.exact


def test_an_inconclusive_interval_on_one_side_of_the_middle_decides():
    """Ends 3x apart: the middle is sqrt(3) = 1.73. 1.0x [0.8, 1.3] is a good build, 2.9x
    [2.0, 4.1] a bad one, without equivalence within 1.1 or a family-wise slower."""
    near_one = {"verdict": INCONCLUSIVE, "equivalence_low": 0.8, "equivalence_high": 1.3}
    near_three = {"verdict": INCONCLUSIVE, "equivalence_low": 2.0, "equivalence_high": 4.1}
    across = {"verdict": INCONCLUSIVE, "equivalence_low": 1.2, "equivalence_high": 2.2}
    middle = 3**0.5
    assert search.against_first(near_one, middle) == search.GOOD
    assert search.against_first(near_three, middle) == search.BAD
    assert search.against_first(across, middle) == search.UNDECIDED
    assert search.against_first(near_one) == search.UNDECIDED  # no ends' ratio: verdicts only
    assert search.against_bad(near_three, middle) == search.GOOD  # the bad build 2.9x slower
    assert search.against_bad(near_one, middle) == search.BAD


def test_the_verdicts_read_the_right_way_round():
    assert search.against_first({"verdict": SLOWER}) == search.BAD
    assert search.against_first({"verdict": FASTER}) == search.GOOD
    assert search.against_first({"verdict": "not comparable"}) == search.UNDECIDED
    assert search.against_bad({"verdict": EQUIVALENT}) == search.BAD
    assert search.against_bad({"verdict": SLOWER}) == search.GOOD  # the bad build is slower
    assert search.against_bad({"verdict": FASTER}) == search.UNDECIDED


# Builds --------------------------------------------------------------------------------------


def wheel_names(folder: Path, *versions: str) -> None:
    """Torch wheels of these versions and a numpy one, each as small as a wheel can be (a zip
    archive with its .dist-info/WHEEL): what ``install_spec`` checks before pip is run."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, version in [*(("torch", v) for v in versions), ("numpy", "2.1.0")]:
        path = folder / f"{name}-{version}-cp312-cp312-manylinux_2_28_x86_64.whl"
        with zipfile.ZipFile(path, "w") as wheel:
            wheel.writestr(f"{name}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\n")


def test_a_folder_of_nightlies_is_one_build_per_wheel_in_version_order(tmp_path):
    wheel_names(tmp_path / "n", "2.6.0", "2.6.0.dev20241002", "2.6.0.dev20241001", "2.5.1")
    specs = builds.install_spec(str(tmp_path / "n"))
    names = [Path(spec[0]).name.split("-")[1] for spec in specs]
    assert names == ["2.5.1", "2.6.0.dev20241001", "2.6.0.dev20241002", "2.6.0"]
    assert all(spec[1:] == ["--no-index", "--find-links", str((tmp_path / "n").resolve())]
               for spec in specs)  # fmt: skip


def test_requirements_wheels_and_pythons_are_told_apart(tmp_path):
    assert builds.install_spec("torch==2.14.0") == [["torch==2.14.0"]]
    assert builds.install_spec(sys.executable) == []
    wheel_names(tmp_path, "2.14.1")
    (wheel,) = tmp_path.glob("torch-*.whl")
    assert builds.install_spec(str(wheel)) == [[str(wheel.resolve())]]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("numpy==2.0", "is not a Python, a torch requirement, a wheel or a folder of wheels"),
        ("/nowhere/python", "is not a Python, a torch requirement"),
        ("missing-2.0.whl", "no such wheel"),
    ],
)
def test_what_is_not_a_build_is_refused_in_one_line(given, message):
    with pytest.raises(UsageError, match=message) as raised:
        builds.install_spec(given)
    assert "give a Python with torch and ptbench, a torch requirement" in str(raised.value)


def test_a_folder_without_a_torch_wheel_is_refused(tmp_path):
    wheel_names(tmp_path)
    with pytest.raises(UsageError, match="a folder without a torch wheel"):
        builds.install_spec(str(tmp_path))


def test_builds_out_of_version_order_are_refused():
    given = [builds.Build(0, "a", "a", "2.14.0"), builds.Build(1, "b", "b", "2.13.0+cpu")]
    with pytest.raises(UsageError) as raised:
        builds.check_order(given)
    assert str(raised.value) == ("builds out of version order: build 1 (torch 2.13.0+cpu) comes "
                                 "after build 0 (torch 2.14.0); give the builds oldest first")
    builds.check_order([given[1], given[0], builds.Build(2, "c", "c", "2.14.0")])  # in order


def test_a_python_without_torch_is_bad_input_naming_the_build(tmp_path, capsys):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    status, _out, err = run_cli(capsys, "bisect", "--builds", sys.executable,
                                bare / "bin" / "python", "--results", tmp_path / "r")
    assert status == EXIT_BAD_INPUT
    assert f"build 1 ({bare / 'bin' / 'python'}): " in err
    assert "cannot import torch and ptbench (ModuleNotFoundError: No module named" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").iterdir())


def test_one_build_is_refused_leaving_no_scratch_folder(capsys, tmp_path, monkeypatch):
    """Without --results a refused --builds made and left an empty scratch folder (a hostile
    pass): the folder is made only once the builds are known."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile reads TMPDIR again
    status, _out, err = run_cli(capsys, "bisect", "--builds", sys.executable)
    assert status == EXIT_BAD_INPUT
    assert "--builds gives 1 build; bisect needs at least two, oldest first" in err
    assert list(tmp_path.iterdir()) == []


def tiny_wheel(folder: Path) -> Path:
    """A real wheel of a one-module package, made by hand (no build tools, no network)."""
    path = folder / "ptbench_probe_pkg-1.0-py3-none-any.whl"
    info = "ptbench_probe_pkg-1.0.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("ptbench_probe_pkg.py", "ANSWER = 42\n")
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: ptbench-probe-pkg\n"
                       "Version: 1.0\n")  # fmt: skip
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\n"
                       "Root-Is-Purelib: true\nTag: py3-none-any\n")  # fmt: skip
        wheel.writestr(f"{info}/RECORD", "")
    return path


@pytest.mark.slow
def test_an_environment_holds_what_was_installed_and_this_ptbench(tmp_path, monkeypatch):
    """A cached virtualenv: the wheel installed into it, this environment's packages behind it,
    made once (the second call reuses it)."""
    monkeypatch.setenv("PTBENCH_BUILDS", str(tmp_path / "builds"))
    wheel = tiny_wheel(tmp_path)
    said = []
    python = builds.environment_for([str(wheel), "--no-index"], say=said.append)
    program = "import ptbench_probe_pkg, ptbench, torch; print(ptbench_probe_pkg.ANSWER)"
    answer = subprocess.run([str(python), "-c", program], capture_output=True, text=True)
    assert answer.stdout.strip() == "42", answer.stderr
    assert python.parent.parent.parent == tmp_path / "builds" and len(said) == 1
    assert builds.environment_for([str(wheel), "--no-index"], say=said.append) == python
    assert len(said) == 1  # reused, not made again
    assert [p.name for p in (tmp_path / "builds").iterdir()] == [python.parent.parent.name]


def test_a_failed_install_leaves_no_environment_and_names_its_log(tmp_path, monkeypatch):
    """pip's own last line says why; a wheel given as a file that will not install is bad
    input (a hostile pass: a file of garbage named torch-1.0-py3-none-any.whl was exit 3)."""
    monkeypatch.setenv("PTBENCH_BUILDS", str(tmp_path / "builds"))
    with pytest.raises(builds.RunFailed, match=r"installing .* failed \(pip: ERROR: .*\); its "
                       r"output is in .*ptbench-bisect-install-"):  # fmt: skip
        builds.environment_for([str(tmp_path / "absent.whl"), "--no-index"], say=lambda _: None)
    assert list((tmp_path / "builds").iterdir()) == []
    garbage = tmp_path / "torch-1.0-py3-none-any.whl"
    garbage.write_bytes(b"PK\x03\x04garbage")
    invalid = r"installing .*any.whl --no-index failed \(pip: ERROR: Wheel 'torch' .* is invalid"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(builds.tempfile, "tempdir", str(scratch))
    with pytest.raises(builds.UsageError, match=invalid + r".*\); give a wheel that installs"):
        builds.environment_for([str(garbage), "--no-index"], say=lambda _: None)
    assert list(scratch.iterdir()) == []  # pip said why in the line: no log is left


@pytest.mark.parametrize("content", [b"PK\x03\x04garbage", b"", None])
def test_a_wheel_that_is_no_wheel_is_refused_before_an_environment_is_made(tmp_path, capsys,
                                                                          content):  # fmt: skip
    """A hostile pass: garbage named like a torch wheel, alone or in a folder of wheels, was
    refused only by pip, after a progress line, leaving pip's log in TMPDIR."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = wheels / "torch-1.0-py3-none-any.whl"
    if content is None:  # a zip archive without .dist-info/WHEEL
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("torch/__init__.py", "")
    else:
        wheel.write_bytes(content)
    for given in (wheel, wheels):
        status, out, err = run_cli(capsys, "bisect", "--builds", given, sys.executable,
                                   "--results", tmp_path / "r")  # fmt: skip
        assert status == 2 and out == "" and len(err.splitlines()) == 1
        assert err.startswith(f"ptbench: error: build {given}: {wheel} is not a wheel (a zip "
                              "archive with a .dist-info/WHEEL); give a Python with torch")
    assert not (tmp_path / "r").exists()


# A session on a stand-in for ab --------------------------------------------------------------

TRACKED = {"benchmark": "bench_linalg.time_solve", "params": ["cpu", 64, "float64", "cholesky"]}
OTHER = {"benchmark": "bench_linalg.time_solve", "params": ["cpu", 64, "float64", "lu"]}


def fake_ab(slow_from: int, other_slow_from: int | None = None):
    """``ab_session.run`` for builds named ``/fake/<i>``: the tracked combination 1.5x slower
    from build ``slow_from`` on, ``OTHER`` from ``other_slow_from``; writes the document only."""
    calls = []

    def pair(entry, baseline, contender, slow_from):
        slower = slow_from is not None and contender >= slow_from > baseline
        verdict = SLOWER if slower else EQUIVALENT
        ratio = 1.5 if slower else 1.0
        return {**entry, "verdict": verdict, "ratio": ratio, "ratio_low": ratio * 0.95,
                "ratio_high": ratio * 1.05, "regression": slower, "note": "",
                "detectable": 1.05}  # fmt: skip

    def run(request):
        baseline, contender = (int(Path(p).name) for p in (request.baseline, request.contender))
        calls.append((baseline, contender, request.bench))
        pairs = [pair(TRACKED, baseline, contender, slow_from)]
        if "lu" in (request.bench or "lu"):
            pairs.append(pair(OTHER, baseline, contender, other_slow_from))
        document = {"judgement": verdicts.JUDGEMENT_MODEL, "machine": "m", "commit": "c" * 40,
                    "envs": ["a", "b"], "factor": request.factor, "pairs": pairs}  # fmt: skip
        (request.results / "ab-cccccccc-a-vs-b.json").write_text(json.dumps(document))

    return run, calls


def fake_builds(count: int, gits=None):
    gits = gits or [f"{index:x}" * 40 for index in range(count)]
    return lambda given, say: [
        builds.Build(index, f"/fake/{index}", f"/fake/{index}", f"2.14.0.dev2026010{index}",
                     gits[index][:40])
        for index in range(count)
    ]  # fmt: skip


@pytest.fixture
def stand_in(monkeypatch):
    def install(count: int, slow_from: int, other_slow_from: int | None = None):
        run, calls = fake_ab(slow_from, other_slow_from)
        monkeypatch.setattr(ab_session, "run", run)
        monkeypatch.setattr(builds, "resolve", fake_builds(count))
        return calls

    return install


def test_a_session_finds_the_first_bad_build_and_records_every_step(tmp_path, stand_in, capsys):
    calls = stand_in(7, 4, other_slow_from=4)
    status, out, err = run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(7)],
                               "--results", tmp_path / "r", "--format", "json")  # fmt: skip
    assert status == EXIT_REGRESSION, err
    document = json.loads(out)
    assert document["first_bad"]["index"] == 4 and document["last_good"]["index"] == 3
    assert document["first_bad"]["git_version"] == "4" * 40
    assert [(s["role"], s["baseline"], s["contender"], s["verdict"]) for s in document["steps"]] \
        == [("ends", 0, 6, SLOWER), ("middle", 0, 3, EQUIVALENT), ("middle", 0, 4, SLOWER),
            ("boundary", 3, 4, SLOWER)]  # fmt: skip
    assert [bench for _b, _c, bench in calls] == [None, *[bisect_session.combination_regex(
        {**TRACKED, "params": TRACKED["params"]})] * 2, None]  # fmt: skip
    assert document["boundary"]["confirmed"] is True
    assert [p["params"][-1] for p in document["boundary"]["also_changed"]] == ["lu"]
    assert document["commits"]["compare"] == (
        f"https://github.com/pytorch/pytorch/compare/{'3' * 40}...{'4' * 40}")
    assert "step 4 of about 5:" in err and "left)" in err
    (written,) = (tmp_path / "r").glob("bisect-*.json")
    steps = sorted(p.name for p in (tmp_path / "r" / written.stem).iterdir())
    assert steps == ["boundary-3-vs-4", "ends-0-vs-6", "middle-0-vs-3", "middle-0-vs-4"]


def test_a_second_run_with_the_same_arguments_reuses_the_finished_steps(
    tmp_path, stand_in, capsys
):
    arguments = ["bisect", "--builds", *[f"/fake/{i}" for i in range(5)], "--results",
                 tmp_path / "r"]  # fmt: skip
    calls = stand_in(5, 2)
    run_cli(capsys, *arguments)
    assert len(calls) == 4
    (written,) = (tmp_path / "r").glob("bisect-*.json")
    first = json.loads(written.read_text())
    (tmp_path / "r" / written.stem / "boundary-1-vs-2").rename(tmp_path / "moved")
    status, out, _err = run_cli(capsys, *arguments)
    assert status == EXIT_REGRESSION and len(calls) == 5  # only the missing step ran again
    again = json.loads(written.read_text())
    assert [s["reused"] for s in again["steps"]] == [True, True, True, False]
    assert again["first_bad"] == first["first_bad"]
    assert ("first bad build: build 2 (torch 2.14.0.dev20260102), git 222222222222: 1.50x "
            "[1.42, 1.58] slower against build 1 (torch 2.14.0.dev20260101)") in out
    assert out.strip().splitlines()[-1].startswith("first bad build:")
    status, _out, _err = run_cli(capsys, *arguments, "--factor", "1.2")  # other arguments
    assert len(calls) == 9 and len(list((tmp_path / "r").glob("bisect-*.json"))) == 2


def test_no_regression_between_the_ends_exits_0_after_one_step(tmp_path, stand_in, capsys):
    calls = stand_in(4, slow_from=None)
    status, out, _err = run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(4)],
                                "--results", tmp_path / "r")  # fmt: skip
    assert status == EXIT_OK and len(calls) == 1
    assert out.strip().splitlines()[-1] == (
        "no regression between the ends: build 3 (torch 2.14.0.dev20260103) against build 0 "
        "(torch 2.14.0.dev20260100): 2 equivalent")


def test_inconclusive_ends_are_not_called_a_pass(tmp_path, stand_in, monkeypatch, capsys):
    stand_in(3, slow_from=None)
    real = ab_session.run

    def undecided(request):
        real(request)
        (path,) = request.results.glob("ab-*.json")
        document = json.loads(path.read_text())
        for pair in document["pairs"]:
            pair.update(verdict=INCONCLUSIVE, ratio_low=0.5, ratio_high=2.0)
        path.write_text(json.dumps(document))

    monkeypatch.setattr(ab_session, "run", undecided)
    status, out, _err = run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(3)],
                                "--results", tmp_path / "r")  # fmt: skip
    assert status == EXIT_OK
    assert out.strip().splitlines()[-1] == (
        "no regression confirmed between the ends, 2 inconclusive (the rounds could not tell; a "
        "larger --budget may decide them): build 2 (torch 2.14.0.dev20260102) against build 0 "
        "(torch 2.14.0.dev20260100): 2 inconclusive")


def disturbing(monkeypatch, times: int, why: str = "start: load 3.5 on 2 CPUs",
               undecided: bool = False):  # fmt: skip
    """Make the first ``times`` ab runs of the stand-in disturbed (``why``), with their slower
    pairs inconclusive (as ab judges a disturbed run), or all of them (``undecided``: rounds
    too noisy to decide anything)."""
    real, left = ab_session.run, [times]

    def run(request):
        real(request)
        if left[0] > 0:
            left[0] -= 1
            (path,) = request.results.glob("ab-*.json")
            document = json.loads(path.read_text())
            document["noise"] = {"noise": f"disturbed: {why}"}
            for pair in document["pairs"]:
                if undecided:
                    pair.update(verdict=INCONCLUSIVE, regression=False)
                elif pair["verdict"] == SLOWER:  # as judgement withholds it
                    note = f"{judgement.DISTURBED_NOTE} ({document['noise']['noise']})"
                    pair.update(verdict=INCONCLUSIVE, regression=False, note=note)
            path.write_text(json.dumps(document))

    monkeypatch.setattr(ab_session, "run", run)


def test_a_disturbed_step_is_measured_again_and_kept(tmp_path, stand_in, monkeypatch, capsys):
    calls = stand_in(3, 1)
    disturbing(monkeypatch, 1)
    status, _out, err = run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(3)],
                                "--results", tmp_path / "r")  # fmt: skip
    assert status == EXIT_REGRESSION
    assert "step ends-0-vs-2 was disturbed: start: load 3.5 on 2 CPUs; measuring it again" in err
    (root,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    assert sorted(p.name for p in root.iterdir()) == [
        "boundary-0-vs-1", "ends-0-vs-2", "ends-0-vs-2.disturbed-1", "middle-0-vs-1"]  # fmt: skip
    assert len(calls) == 4


@pytest.mark.parametrize(("why", "measured"), [
    ("start: 1.0 other processes running on 2 CPUs", 2),  # contended: the noise may be why
    ("calibration workload 1.40x slower from start to end", 1),  # drift, which ABBA cancels
])  # fmt: skip
def test_a_contended_step_that_decided_nothing_is_measured_again(
    tmp_path, stand_in, monkeypatch, capsys, why, measured
):
    """A real bisection under load: the ends' only pair came out inconclusive, not a withheld
    slowdown, from a run other processes shared, and the step was kept undecided."""
    calls = stand_in(2, 1)
    disturbing(monkeypatch, 1, why, undecided=True)
    status, _out, err = run_cli(capsys, "bisect", "--builds", "/fake/0", "/fake/1",
                                "--results", tmp_path / "r")  # fmt: skip
    assert len(calls) == measured
    assert status == (EXIT_REGRESSION if measured == 2 else EXIT_OK)
    again = f"step ends-0-vs-1 was disturbed: {why}; measuring it again"
    assert (again in err) == (measured == 2)


def test_a_step_disturbed_every_time_says_so_and_confirms_nothing(
    tmp_path, stand_in, monkeypatch, capsys
):
    calls = stand_in(3, 1)
    disturbing(monkeypatch, 3)
    status, out, _err = run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(3)],
                                "--results", tmp_path / "r")  # fmt: skip
    assert status == EXIT_OK and len(calls) == 1 + bisect_session.DISTURBED_RETRIES
    assert ("no regression confirmed between the ends, 1 inconclusive (the run was disturbed: "
            "start: load 3.5 on 2 CPUs)") in out


def test_a_step_that_fails_after_the_ends_is_a_failure_not_bad_input(
    tmp_path, stand_in, monkeypatch, capsys
):
    stand_in(5, 2)
    real = ab_session.run

    def breaks_later(request):
        if "cholesky" in (request.bench or ""):
            raise UsageError("--contender /fake/2 cannot run ptbench's worker (killed)")
        return real(request)

    monkeypatch.setattr(ab_session, "run", breaks_later)
    status, _out, err = run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(5)],
                                "--results", tmp_path / "r")  # fmt: skip
    assert status == 3
    assert "bisect step middle-0-vs-2 failed: --contender /fake/2 cannot run" in err
    (root,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    assert [p.name for p in root.iterdir()] == ["ends-0-vs-4"]  # no half-made step folder


@pytest.mark.parametrize("stop", [UsageError("--baseline /fake/0 cannot run ptbench's worker "
                                              "(it names its environment '../x')"),
                                   KeyboardInterrupt()])  # fmt: skip
def test_ends_refused_or_interrupted_leave_no_bisection_folder(
    tmp_path, stand_in, monkeypatch, capsys, stop
):
    """A hostile pass: a worker refused at the first step left an empty ``bisect-*`` folder
    in --results; one made by an earlier run of the same arguments is kept."""
    stand_in(3, 1)

    def refused(request):
        raise stop

    monkeypatch.setattr(ab_session, "run", refused)
    arguments = ["bisect", "--builds", *[f"/fake/{i}" for i in range(3)], "--results",
                 tmp_path / "r"]  # fmt: skip
    status, _out, err = run_cli(capsys, *arguments)
    assert status == (2 if isinstance(stop, UsageError) else 130), err
    assert list((tmp_path / "r").iterdir()) == []
    kept = tmp_path / "r" / "bisect-earlier"
    monkeypatch.setattr(bisect_session.Bisection, "root", property(lambda self: kept))
    kept.mkdir()
    assert run_cli(capsys, *arguments)[0] == status and kept.is_dir()


def test_the_report_draws_the_bisection(tmp_path, stand_in, capsys):
    stand_in(6, 3)
    run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(6)], "--results",
            tmp_path / "r")  # fmt: skip
    status, _out, err = run_cli(capsys, "report", "--results", tmp_path / "r", "--out",
                                tmp_path / "report")  # fmt: skip
    assert status == EXIT_OK, err
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Bisection (6 builds): bench_linalg.time_solve('cpu', 64, 'float64', " in text
    assert "first bad build: build 3 (torch 2.14.0.dev20260103)" in text
    (figure,) = (tmp_path / "report" / "figures").glob("bisect-*.png")
    assert figure.stat().st_size > 10_000


# Real bisections of synthetic builds ---------------------------------------------------------

CHOLESKY = r"time_solve\('cpu', 64, 'float64', 'cholesky'\)"


def _real_bisection(results: Path, pythons: list) -> tuple[subprocess.CompletedProcess, dict]:
    completed = ptbench("bisect", "--builds", *pythons, "--tier", "smoke", "--bench", CHOLESKY,
                        "--budget", "30", "--results", results, "--format", "json")  # fmt: skip
    assert completed.returncode in (EXIT_OK, EXIT_REGRESSION), completed.stderr[-3000:]
    return completed, json.loads(completed.stdout)


@pytest.mark.slow
def test_a_real_bisection_finds_the_first_slowed_build_and_resumes(tmp_path, asv_home):
    """Four builds: this environment twice, then twice with cholesky 10x slower (a clear
    change on this noisy VM). The answer is build 2, or a range ending at it if a step between
    could not be decided; never a wrong build. A step the noise guard finds disturbed is
    measured again (twice at most); ends disturbed every time confirm nothing, and say why."""
    slowed = slowed_env.make(tmp_path / "slowed", sys.executable, "torch.linalg.cholesky", 10.0)
    pythons = [sys.executable, sys.executable, slowed, slowed]
    completed, document = _real_bisection(tmp_path / "r", pythons)
    from ptbench.hardware import noise

    if noise.contended(document["steps"][0]["noise"]):  # three times in a row
        from ptbench.present import bisection

        assert completed.returncode == EXIT_OK and document["tracked"] is None
        assert "inconclusive (the run was disturbed: " in bisection.headline(document)
        assert len(list((tmp_path / "r").glob("bisect-*/ends-0-vs-3.disturbed-*"))) == 2
        return
    assert completed.returncode == EXIT_REGRESSION, completed.stderr[-3000:]
    assert document["tracked"]["params"][-1] == "cholesky"
    assert document["candidates"][-1] == 2 and document["last_good"]["index"] <= 1
    assert len(document["steps"]) <= 6
    again, second = _real_bisection(tmp_path / "r", pythons)
    assert again.returncode == EXIT_REGRESSION
    assert all(step["reused"] for step in second["steps"])
    assert second["candidates"] == document["candidates"]


@pytest.mark.slow
def test_a_real_bisection_of_unchanged_builds_finds_nothing(tmp_path, asv_home):
    completed = ptbench("bisect", "--builds", sys.executable, sys.executable, sys.executable,
                        "--tier", "smoke", "--bench", CHOLESKY, "--budget", "10",
                        "--results", tmp_path / "r")  # fmt: skip
    assert completed.returncode == EXIT_OK, completed.stderr[-3000:]
    last = completed.stdout.strip().splitlines()[-1]
    assert last.startswith(("no regression between the ends: build 2 (torch ",
                            "no regression confirmed between the ends, "))  # fmt: skip
    assert "slower" not in last


def test_a_history_with_a_bisection_shows_it_in_the_report_and_on_the_site(
    results_copy, stand_in, tmp_path, capsys
):
    """Bisect into the history folder itself: its results still load as they did, and the
    report and the site show the bisection beside them."""
    stand_in(4, 2)
    status, _out, err = run_cli(capsys, "bisect", "--builds", *[f"/fake/{i}" for i in range(4)],
                                "--results", results_copy)  # fmt: skip
    assert status == EXIT_REGRESSION, err
    status, _out, err = run_cli(capsys, "publish", "--results", results_copy, "--out",
                                tmp_path / "site")  # fmt: skip
    assert status == EXIT_OK, err
    index = (tmp_path / "site" / "index.html").read_text()
    assert "<h2>Which build brought it (ptbench bisect)</h2>" in index
    assert "first bad build: build 2 (torch 2.14.0.dev20260102), git 222222222222" in index
    (drawn,) = (tmp_path / "site" / "bisect").glob("bisect-*.svg")
    assert f'<a href="bisect/{drawn.name}">figure</a>' in index
    status, _out, err = run_cli(capsys, "report", "--results", results_copy, "--out",
                                tmp_path / "report")  # fmt: skip
    assert status == EXIT_OK, err
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Bisection (4 builds): bench_linalg.time_solve('cpu', 64, 'float64', " in text
    assert text.index("## Results") < text.index("## Bisection") < text.index("## Scaling")


@pytest.mark.parametrize("prints", ["", "[]", "not json", '{"torch": 5, "git_version": "abc"}',
                                    '{"torch": null, "git_version": "abc"}'])
def test_a_build_that_does_not_say_its_version_is_bad_input(tmp_path, prints):
    """A hostile pass: a --builds interpreter that printed nothing, "[]" or a torch of 5 was
    an internal error (or made the bisection's folder before it was refused)."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho '{prints}'\n")
    script.chmod(0o755)
    with pytest.raises(builds.UsageError, match=r"build 0 \(b\): .*/python did not say its "
                       r"torch version and git revision; give a Python with torch"):  # fmt: skip
        builds.probe(0, "b", str(script))
    assert builds._facts('noise\n{"torch": "2.14.0", "git_version": "abc"}') == {
        "torch": "2.14.0", "git_version": "abc"}


@pytest.mark.parametrize("torch", ["../../../tmp/escaped", "2.0/evil", "", ".hidden", "9" * 500])
def test_a_build_whose_torch_version_is_no_file_name_is_refused_before_any_step(
    tmp_path, capsys, torch
):
    """A hostile pass: a build that said its torch was "../../x" was refused only by the ends
    step's worker, after a progress line, leaving the bisection's folder behind."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho '{{\"torch\": \"{torch}\", \"git_version\": \"a\"}}'\n")
    script.chmod(0o755)
    status, out, err = run_cli(capsys, "bisect", "--builds", script, script, "--results",
                               tmp_path / "r")  # fmt: skip
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert f"build 0 ({script}): {script} says its torch version is " in err
    assert "which is no version; give a Python with torch" in err
    assert not (tmp_path / "r").exists()
