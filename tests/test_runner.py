"""ptbench run: selection by tier and device, bad input, and real runs through asv."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import assert_peaks_recorded, ptbench, run_cli
from ptbench.core.errors import UsageError
from ptbench.run import asv_process, environment, filing, plan
from ptbench.suite.tiers import MATRIX, VECTOR


@pytest.fixture(scope="module")
def benchmarks(request):
    return plan.discover(request.config.rootpath / "benchmarks")


def sizes(labels: list[str], device: str) -> set[int]:
    return {int(label.split(", ")[1]) for label in labels if label.startswith(f"'{device}'")}


def test_smoke_selects_the_smallest_sizes_of_present_devices(benchmarks):
    selection = plan.select(benchmarks, "smoke", ["cpu"])
    assert sizes(selection["bench_elementwise.time_sum"], "cpu") == {16, 128}
    assert sizes(selection["bench_linalg.time_solve"], "cpu") == {16, 64}
    assert not any(label.startswith("'cuda'") for labels in selection.values() for label in labels)
    assert selection["bench_settings.track_threads"] == ["'cpu'"]
    assert len(selection["bench_linalg.time_solve"]) == 2 * 2 * 7  # sizes x dtypes x methods


def test_the_default_tier_climbs_further_on_cuda(benchmarks):
    selection = plan.select(benchmarks, "default", ["cpu", "cuda"])
    labels = selection["bench_elementwise.time_sum"]
    assert max(sizes(labels, "cpu")) == VECTOR.default_max["cpu"]
    assert max(sizes(labels, "cuda")) == 2**28
    assert max(sizes(selection["bench_linalg.time_eigh"], "cuda")) == MATRIX.values[-1]


def test_bench_pattern_matches_names_and_params_like_asv(benchmarks):
    selection = plan.select(benchmarks, "smoke", ["cpu"], r"time_solve\(.*cholesky_ex")
    assert list(selection) == ["bench_linalg.time_solve"]
    assert all(label.endswith("'cholesky_ex'") for label in selection["bench_linalg.time_solve"])


def test_asv_regexes_match_exactly_the_selection(benchmarks):
    selection = plan.select(benchmarks, "smoke", ["cpu"], "time_(sum|matmul)$")
    regexes = [re.compile(regex) for regex in plan.asv_bench_regexes(selection)]
    for benchmark in benchmarks:
        for labels in itertools.product(*benchmark.params):
            label = ", ".join(labels)
            matched = any(r.search(f"{benchmark.name}({label})") for r in regexes)
            assert matched == (label in selection.get(benchmark.name, [])), (benchmark.name, label)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tier", "huge"], "invalid choice: 'huge' (choose from 'smoke', 'default', 'full')"),
        (["--device", "tpu"], "invalid choice: 'tpu' (choose from 'cpu', 'cuda')"),
        (["--bench", "no_such_benchmark"], "--bench 'no_such_benchmark' matches no benchmark"),
        (["--bench", "("], "--bench '(' is not a regular expression"),
        (["--machine", "a/b"], "machine name 'a/b' cannot name a results folder"),
        (["--tier"], "argument --tier: expected one argument"),
        (["--machine", "abc\n"], "machine name 'abc\\n' cannot name a results folder"),
        (["--machine", "a" * 300], "machine name of 300 characters is too long; use at most 64"),
        (["--machine", "version"], "machine name 'version' is reserved by asv"),
        (["--results", ""], "argument --results: is empty; give a folder"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_touches_nothing(tmp_path, asv_home, arguments, message):
    results = tmp_path / "results"
    (results / "other-machine").mkdir(parents=True)
    kept = results / "other-machine" / "abcdef12-env.json"
    kept.write_text('{"kept": true}')
    completed = ptbench("run", "--results", results, *arguments)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
    assert [p.name for p in results.rglob("*")] == ["other-machine", "abcdef12-env.json"]
    assert kept.read_text() == '{"kept": true}'


def test_cuda_requested_without_cuda_is_bad_input(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UsageError, match="device 'cuda' is not available here"):
        environment.check_devices(["cuda"])


def ptbench_run(results: Path, bench: str) -> subprocess.CompletedProcess:
    return ptbench(
        "run",
        "--tier",
        "smoke",
        "--bench",
        bench,
        "--results",
        results,
        "--machine",
        "test-machine",
    )


def load_results(path: Path) -> dict[str, dict]:
    data = json.loads(path.read_text())
    return data, {
        name: dict(zip(data["result_columns"], row, strict=False))
        for name, row in data["results"].items()
    }


@pytest.mark.slow
def test_a_real_smoke_run_records_samples_and_merges_later_runs(tmp_path, asv_home):
    results = tmp_path / "results"
    elsewhere = results / "another-machine" / "0123abcd-existing-py3.11-torch1.0.json"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text("{}")

    first = ptbench_run(results, r"time_sum$|time_solve\('cpu', 16, 'float64', 'cholesky'\)")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert "ptbench: 3 timed, 0 skipped, 0 failed" in first.stdout
    (path,) = (results / "test-machine").glob("*-existing-*.json")
    assert path.name.endswith(
        f"-existing-py{sys.version_info.major}.{sys.version_info.minor}"
        f"-torch{torch.__version__}.json"
    )
    data, rows = load_results(path)
    assert data["params"]["torch"] == torch.__version__
    assert data["params"]["torch_threads"] == str(torch.get_num_threads())
    assert data["params"]["float32_matmul_precision"] == torch.get_float32_matmul_precision()
    # The peaks this result is judged against travel with it (not only in machine.json).
    assert_peaks_recorded(data["params"], first.stderr)
    sums = rows["bench_elementwise.time_sum"]
    assert [s is not None for s in sums["samples"][:2]] == [True, True]
    assert all(len(samples) >= 4 and min(samples) > 0 for samples in sums["samples"][:2])
    assert 0 < sums["result"][0] < 1e-3
    assert (results / "benchmarks.json").is_file()
    assert (results / "test-machine" / "machine.json").is_file()

    second = ptbench_run(results, r"time_mean$")
    assert second.returncode == 0, second.stderr[-2000:]
    _data, merged = load_results(path)
    assert merged["bench_elementwise.time_sum"]["result"][:2] == sums["result"][:2]
    assert merged["bench_elementwise.time_mean"]["result"][0] > 0
    assert elsewhere.read_text() == "{}"


def test_failures_name_their_combinations_and_a_lost_gpu_is_explained(tmp_path):
    """A GPU lost mid-run: its combinations fail (null), everything else is counted and kept."""
    result = {
        "result_columns": ["result", "params"],
        "results": {
            "bench_elementwise.time_sum": [
                [1e-6, None, None, float("nan")],
                [["'cpu'", "'cuda'"], ["16", "128"]],
            ]
        },
    }
    selection = {"bench_elementwise.time_sum": ["'cpu', 16", "'cuda', 16", "'cuda', 128"]}
    summary = filing.RunSummary(written=[tmp_path / "kept.json"])
    filing._count(result, selection, summary)
    assert (summary.timed, summary.skipped) == (1, 1)
    assert summary.failed == ["bench_elementwise.time_sum('cuda', 16)"]
    report = summary.failure_report()
    assert report[0] == "ptbench: failed: bench_elementwise.time_sum('cuda', 16)"
    assert "1 CUDA combinations failed" in report[1] and str(tmp_path / "kept.json") in report[1]
    assert filing.RunSummary().failure_report() == []


# Reliability: what asv did is checked, never assumed (issue 8) ---------------------------------


@pytest.fixture
def fake_asv(asv_home, monkeypatch):
    """``ptbench run`` in this process with asv replaced: the fake records a fresh
    ``time_sum`` result (merged into the seeded earlier one, as asv merges) unless told not to,
    and exits with ``.returncode``."""
    from helpers import PROJECT

    monkeypatch.chdir(PROJECT)

    class FakeAsv:
        returncode, record, calls = 0, True, 0

        def __call__(self, command, cwd, environment, log, progress):
            self.calls += 1
            log.write_text("[ 50.00%] ··· bench_elementwise.time_sum  ok\n"
                           f"asv exits with {self.returncode}\n")  # fmt: skip
            progress(0.5, "bench_elementwise.time_sum")
            option = lambda name: command[command.index(name) + 1]  # noqa: E731
            scratch = Path(option("--config")).parent
            commit = option("--set-commit-hash")
            path = asv_process.asv_result_path(scratch, option("--machine"), commit)
            if self.record:
                data = json.loads(path.read_text()) if path.is_file() else new_result(option)
                data["results"]["bench_elementwise.time_sum"] = fresh_row()
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(data))
                shutil.copyfile(PROJECT / "results" / "benchmarks.json",
                                path.parents[1] / "benchmarks.json")  # fmt: skip
            return self.returncode

    fake = FakeAsv()
    monkeypatch.setattr(asv_process, "run_asv", fake)
    return fake


def new_result(option) -> dict:
    return {
        "commit_hash": option("--set-commit-hash"),
        "env_name": asv_process.ASV_ENV_NAME,
        "date": 1_700_000_000_000,
        "params": {"machine": option("--machine")},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "result_columns": ["result", "params", "version", "started_at", "duration"],
        "results": {},
        "durations": {},
        "version": 2,
    }


def fresh_row() -> list:
    import time

    values = [1e-6, 2e-6] + [float("nan")] * (2 * len(VECTOR.values) - 2)
    params = [["'cpu'", "'cuda'"], [str(size) for size in VECTOR.values]]
    return [values, params, "v1", time.time() * 1000 + 1, 0.1]


def run_sum(results: Path, capsys, *more: str) -> tuple[int, str, str]:
    from helpers import run_cli

    return run_cli(
        capsys, "run", "--results", results, "--machine", "m", "--bench", "time_sum$", *more
    )


def test_a_run_files_what_asv_recorded(tmp_path, fake_asv, capsys):
    results = tmp_path / "results"
    status, out, err = run_sum(results, capsys)
    assert status == 0, err
    lines = out.strip().splitlines()
    assert lines[-2] == "ptbench: 2 timed, 0 skipped, 0 failed"
    log = Path(lines[-1].split(": ")[-1])  # where asv's own output went, not the terminal
    assert lines[-1].startswith("ptbench: asv's own tables (every size) and the skip reasons: ")
    assert log.read_text().startswith("[ 50.00%] ··· bench_elementwise.time_sum  ok")
    assert not log.is_relative_to(results)
    headline = lines.index("largest size of each operation that ran (time a call; % of peak: "
                           "its ceiling)")  # fmt: skip
    assert lines[headline + 3].split() == ["time_sum", "cpu", "128", "2us"]  # 128 is the largest
    assert len(lines) <= 12 and "n/a" not in out
    (target,) = (results / "m").glob("*-existing-*.json")
    params = json.loads(target.read_text())["params"]
    assert params["torch"] == torch.__version__
    assert params["noise"] == "quiet" or params["noise"].startswith("disturbed: ")
    assert float(params["noise_load_before"]) >= 0
    assert [p.name for p in (results / "m").iterdir()] == [target.name]  # no partial file


def test_an_archive_or_a_cache_inside_the_results_folder_is_refused(
    tmp_path, fake_asv, capsys, monkeypatch
):
    from helpers import run_cli

    results = tmp_path / "results"
    assert run_sum(results, capsys)[0] == 0
    status, _out, err = run_sum(results, capsys, "--archive", results / "run.tar.gz")
    assert status == 2 and f"--archive {results / 'run.tar.gz'} is inside --results" in err
    monkeypatch.setenv("PTBENCH_CACHE", str(results / "cache"))
    status, _out, err = run_cli(capsys, "export", "--results", results, "--out",
                                tmp_path / "t.csv")  # fmt: skip
    assert status == 2 and "is inside the results folder" in err and "set it elsewhere" in err
    assert not (results / "cache").exists() and not (results / "run.tar.gz").exists()


def test_a_second_run_into_the_same_results_is_refused_while_the_first_writes(
    tmp_path, fake_asv, capsys
):
    from helpers import checksums
    from ptbench.core import outputs

    results = tmp_path / "results"
    assert run_sum(results, capsys)[0] == 0
    before = checksums(results)
    with outputs.exclusive(results):  # the first run, still writing
        status, out, err = run_sum(results, capsys)
    assert status == 2 and " timed, " not in out and fake_asv.calls == 1
    assert f"another ptbench command is writing into --results {results}; wait for it" in err
    assert checksums(results) == before
    assert run_sum(results, capsys)[0] == 0  # once it is done, the next run goes ahead


def test_a_run_with_archive_writes_what_merge_takes(tmp_path, fake_asv, capsys):
    import tarfile

    from helpers import FIXTURE_RESULTS

    results, archive = tmp_path / "results", tmp_path / "run.tar.gz"
    results.mkdir()  # the fake asv writes no catalogue; a real run always has one
    (results / "benchmarks.json").write_bytes((FIXTURE_RESULTS / "benchmarks.json").read_bytes())
    status, out, err = run_sum(results, capsys, "--archive", str(archive))
    assert status == 0, err
    (target,) = (results / "m").glob("*-existing-*.json")
    assert f"ptbench: wrote {archive} (merge it with ptbench merge {archive}" in out
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
    assert f"results/m/{target.name}" in names and "results/benchmarks.json" in names
    status, out, _err = run_cli(capsys, "merge", archive, "--into", tmp_path / "history")
    assert status == 0 and (tmp_path / "history" / "m" / target.name).read_bytes() == (
        target.read_bytes()
    )


def test_asv_stopping_is_a_failure_even_with_an_earlier_result(tmp_path, fake_asv, capsys):
    from helpers import checksums

    results = tmp_path / "results"
    assert run_sum(results, capsys)[0] == 0
    before = checksums(results)
    for returncode, record in ((1, True), (-2, False), (0, False)):
        fake_asv.returncode, fake_asv.record = returncode, record
        status, out, err = run_sum(results, capsys)
        assert status == 3, (returncode, record, out, err)
        assert " timed, " not in out
        said = err.strip().splitlines()
        (line,) = [text for text in said if not text.startswith("ptbench: warning: ")]
        assert line.startswith("ptbench: failed: asv ")
        assert "(its whole output: /" in line
        assert returncode == 0 or f"asv exits with {returncode} (its whole output: " in line
        assert line.endswith(f".log). Nothing was filed under {results}")
        assert checksums(results) == before


@pytest.mark.parametrize(
    ("earlier", "message"),
    [
        ("", "not a readable asv result file (Error parsing JSON"),
        ('{"version": 2, "results": {', "not a readable asv result file (Error parsing JSON"),
        ("{}", "not a readable asv result file (No version specified"),
        ('{"version": 1}', "not a readable asv result file"),
        (None, "is in the way of this run's result file; move it aside"),
    ],
)
def test_an_unusable_earlier_result_is_refused_before_asv_runs(
    tmp_path, fake_asv, capsys, earlier, message
):
    from helpers import checksums

    results = tmp_path / "results"
    assert run_sum(results, capsys)[0] == 0
    (target,) = (results / "m").glob("*-existing-*.json")
    target.unlink()
    if earlier is None:
        target.mkdir()
    else:
        target.write_text(earlier)
    before, calls = checksums(results), fake_asv.calls
    status, _out, err = run_sum(results, capsys)
    assert status == 2 and fake_asv.calls == calls  # refused before asv ran
    (line,) = err.strip().splitlines()
    assert message in line and str(target) in line
    assert checksums(results) == before
