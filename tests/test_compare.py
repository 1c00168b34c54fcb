"""Comparisons: verdicts with statistics, agreement with asv compare, the null and injected
cases, selectors, exit statuses."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from asv import util as asv_util

from helpers import FIXTURE_MACHINE, fixture_runs, ptbench, scale_result
from ptbench.analysis.compare import SelectorError, compare, parse_selector
from ptbench.core.errors import UsageError
from ptbench.data.results import load_results

# A combination whose samples are tight in both fixture runs. (Some are not: time_multiply at
# 65536 ran at 6.7 us in one asv round and 8.2 us in the other, so a 20% change there is within
# the noise and rightly not significant.)
SLOWED = ("bench_linalg.time_solve", ("cpu", 64, "float64", "lu"))
SLOWED_NAME = "bench_linalg.time_solve('cpu', 64, 'float64', 'lu')"


def commits(results) -> tuple[str, str]:
    first, second = fixture_runs(results)
    return tuple(json.loads(path.read_text())["commit_hash"] for path in (first, second))


def asv_name(row) -> str:
    """``benchmark(param, ...)`` as asv prints it."""
    params = [repr(row.device), str(row.size)]
    params += [repr(value) for value in (row.dtype, row.method) if isinstance(value, str)]
    return f"{row.benchmark}({', '.join(params)})"


def verdicts(comparison) -> dict[str, str]:
    return {
        asv_name(row): row.verdict
        for row in comparison.pairs.itertuples()
        if row.verdict in ("slower", "faster")
    }


def test_back_to_back_runs_of_the_same_code_show_no_regression(results_copy):
    first, second = commits(results_copy)
    comparison = compare(load_results(results_copy), {"commit": first}, {"commit": second})
    assert comparison.regressions.empty
    assert len(comparison.pairs) >= 10
    assert 0.8 < comparison.geometric_mean < 1.25


def test_an_injected_20_percent_slowdown_is_flagged(results_copy):
    first, second = commits(results_copy)
    scale_result(fixture_runs(results_copy)[1], *SLOWED, 1.2)
    comparison = compare(load_results(results_copy), {"commit": first[:8]}, {"commit": second})
    flagged = comparison.regressions
    assert [asv_name(row) for row in flagged.itertuples()] == [SLOWED_NAME]
    row = flagged.iloc[0]
    assert row["ratio"] == pytest.approx(1.2, rel=0.3)
    assert row["ratio_low"] <= row["ratio"] <= row["ratio_high"]
    assert bool(row["significant"])
    assert comparison.pairs.iloc[0]["verdict"] == "slower"  # regressions come first


def asv_compare_changes(results, project, first: str, second: str, factor: float = 1.1) -> dict:
    """Run asv compare itself on the same files; return {benchmark(params): '+' or '-'}."""
    config = asv_util.load_json(str(project / "asv.conf.json"), js_comments=True)
    config.update(
        repo=str(project),
        results_dir=str(results),
        html_dir=str(results.parent / "h"),
        benchmark_dir=str(project / "benchmarks"),
        env_dir=str(results.parent / "e"),
    )
    path = results.parent / "asv.conf.json"
    asv_util.write_json(str(path), config)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "asv",
            "--config",
            str(path),
            "compare",
            "--factor",
            str(factor),
            "--machine",
            FIXTURE_MACHINE,
            "--no-only-changed",
            first,
            second,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
    )
    changes = {}
    for line in completed.stdout.splitlines():
        match = re.match(r"^\|\s*([+-])\s*\|.*\|\s*(bench_\S+\(.*\))\s*\|$", line)
        if match:
            changes[match.group(2)] = "slower" if match.group(1) == "+" else "faster"
    return changes


@pytest.mark.parametrize("slowdown", [None, 1.2, 0.7])
def test_agrees_with_asv_compare_on_what_changed(results_copy, project, slowdown):
    first, second = commits(results_copy)
    if slowdown:
        scale_result(fixture_runs(results_copy)[1], *SLOWED, slowdown)
    ours = verdicts(compare(load_results(results_copy), {"commit": first}, {"commit": second}))
    theirs = asv_compare_changes(results_copy, project, first, second)
    assert ours == theirs
    if slowdown:
        assert ours[SLOWED_NAME] == ("slower" if slowdown > 1 else "faster")


def test_a_parameter_pair_compares_methods(results_copy):
    frame = load_results(results_copy)
    _first, second = commits(results_copy)
    comparison = compare(
        frame, {"method": "lu", "commit": second}, {"method": "cholesky", "commit": second}
    )
    assert set(comparison.pairs["size"]) == {16, 64}
    assert set(comparison.pairs["method_baseline"]) == {"lu"}
    assert (comparison.pairs["ratio"] > 0).all()


def test_memory_is_compared_like_time(results_copy):
    frame = load_results(results_copy)
    _first, second = commits(results_copy)
    comparison = compare(
        frame, {"method": "out_of_place", "commit": second}, {"method": "isub", "commit": second}
    )
    memory = comparison.pairs[comparison.pairs["unit_baseline"] == "bytes"].iloc[0]
    assert memory["value_baseline"] == 2 * 1024 * 4 and memory["value_contender"] == 1024 * 4
    assert memory["ratio"] == 0.5


def test_failures_are_not_comparable_and_a_new_failure_is_a_regression(results_copy):
    first, second = commits(results_copy)
    path = fixture_runs(results_copy)[1]
    data = json.loads(path.read_text())
    data["results"]["bench_elementwise.time_sum"][0][2] = None  # the result of ('cpu', 1024)
    path.write_text(json.dumps(data))
    comparison = compare(load_results(results_copy), {"commit": first}, {"commit": second})
    failed = comparison.pairs[comparison.pairs["note"] == "baseline ok, contender failed"]
    assert len(failed) == 1 and failed.iloc[0]["verdict"] == "not comparable"
    assert bool(failed.iloc[0]["regression"])


@pytest.mark.parametrize(
    ("baseline", "contender", "message"),
    [
        ({"gpu": "h100"}, {"device": "cpu"}, "baseline: unknown key 'gpu'; keys: benchmark"),
        (
            {"device": "tpu"},
            {"device": "cpu"},
            "baseline: device=tpu matches nothing; available: cpu, cuda",
        ),
        ({"commit": "0000000"}, {"device": "cpu"}, "baseline: commit=0000000 matches nothing"),
    ],
)
def test_bad_selectors_say_what_is_available(results_copy, baseline, contender, message):
    with pytest.raises(SelectorError, match=re.escape(message)):
        compare(load_results(results_copy), baseline, contender)


def test_a_selector_matching_several_results_per_pair_is_ambiguous(results_copy):
    """Two torch builds at one commit: selecting by python frees env, so each side has two."""
    _first, second = fixture_runs(results_copy)
    data = json.loads(second.read_text())
    data.update(env_name="existing-py3.11-torch9.9", params={**data["params"], "torch": "9.9"})
    (second.parent / f"{data['commit_hash'][:8]}-existing-py3.11-torch9.9.json").write_text(
        json.dumps(data)
    )
    with pytest.raises(
        SelectorError,
        match=r"baseline matches several results for bench_\S+ "
        r"\(they differ in torch, env\)",
    ):
        compare(
            load_results(results_copy),
            {"python": "3.11", "method": "lu"},
            {"python": "3.11", "method": "cholesky"},
        )


def test_selector_syntax():
    assert parse_selector("commit=abc, device=cuda") == {"commit": "abc", "device": "cuda"}
    for bad in ("device", "=cuda", "device=", ""):
        with pytest.raises(SelectorError):
            parse_selector(bad)


def test_factor_must_exceed_one(results_copy):
    with pytest.raises(UsageError, match="must be a number greater than 1"):
        compare(load_results(results_copy), {"device": "cpu"}, {"device": "cuda"}, factor=0.9)


def run_compare(results, *arguments):
    return ptbench("compare", "--results", results, *arguments)


def compare_commits(results, first, second, *arguments):
    return run_compare(
        results, "--baseline", f"commit={first}", "--contender", f"commit={second}", *arguments
    )


@pytest.mark.slow
def test_exit_status_is_1_for_a_regression_0_without_2_for_bad_input(results_copy):
    first, second = commits(results_copy)
    before = {p: p.read_bytes() for p in results_copy.rglob("*") if p.is_file()}
    clean = compare_commits(results_copy, first, second)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 slower" in clean.stdout
    for arguments in (
        ["--baseline", "nokey", "--contender", "device=cpu"],
        ["--baseline", "device=cpu", "--contender", "device=cuda", "--format", "x"],
        ["--baseline", "speed=fast", "--contender", "device=cuda"],
    ):
        bad = run_compare(results_copy, *arguments)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert {p: p.read_bytes() for p in results_copy.rglob("*") if p.is_file()} == before
    scale_result(fixture_runs(results_copy)[1], *SLOWED, 1.2)
    slowed = compare_commits(
        results_copy,
        first,
        second,
        "--format",
        "json",
    )
    assert slowed.returncode == 1
    report = json.loads(slowed.stdout)
    assert report["pairs"][0]["verdict"] == "slower" and report["factor"] == 1.1
    markdown = compare_commits(
        results_copy,
        first,
        second,
        "--format",
        "markdown",
    )
    assert markdown.stdout.startswith("| benchmark")
    csv = compare_commits(
        results_copy,
        first,
        second,
        "--format",
        "csv",
    )
    assert csv.stdout.splitlines()[0].startswith("benchmark,")


def test_zero_peak_memory_compares_without_dividing_by_zero(results_copy):
    """p.sub_(...) allocates nothing: 0 -> 0 is the same, 0 -> 4096 bytes is a regression."""
    first, second = commits(results_copy)
    frame = load_results(results_copy)
    memory = frame["benchmark"] == "bench_updates.track_update_peak_bytes"
    is_first = frame["commit"] == first
    frame.loc[memory & is_first, "value"] = 0.0
    frame.loc[memory & ~is_first & (frame["method"] == "isub"), "value"] = 0.0
    comparison = compare(frame, {"commit": first}, {"commit": second})
    name = "bench_updates.track_update_peak_bytes"
    pairs = comparison.pairs[comparison.pairs["benchmark"] == name]
    by_method = dict(
        zip(pairs["method"], zip(pairs["ratio"], pairs["verdict"], strict=True), strict=True)
    )
    assert by_method["isub"] == (1.0, "equivalent")
    assert by_method["out_of_place"][0] == float("inf") and by_method["out_of_place"][1] == "slower"
    assert np.isfinite(comparison.geometric_mean)


def test_two_operations_compare_despite_different_definitions(results_copy):
    """eigh vs eig, here sum vs multiply: different benchmarks, so different asv versions."""
    _first, second = commits(results_copy)
    comparison = compare(
        load_results(results_copy),
        {"operation": "sum", "commit": second},
        {"operation": "multiply", "commit": second},
    )
    assert set(comparison.pairs["size"]) == {16, 1024, 65536}
    assert comparison.pairs["ratio"].notna().all()
    assert set(comparison.geometric_means) == {"seconds"}


def test_a_selection_that_pairs_nothing_says_why_in_a_few_lines(results_copy, capsys):
    from helpers import run_cli

    arguments = ("compare", "--results", results_copy, "--baseline", "device=cpu",
                 "--contender", "device=cuda")  # fmt: skip
    status, out, _err = run_cli(capsys, *arguments)
    lines = out.strip().splitlines()
    assert status == 0 and len(lines) <= 20
    assert lines[0].startswith("nothing to compare: none of the ")
    assert "baseline ok, contender skipped" in lines[0] and "--all lists them" in lines[0]
    status, listed, _err = run_cli(capsys, *arguments, "--all")
    assert status == 0 and listed.count("not comparable") > len(lines)


def test_a_side_that_now_fails_is_always_listed_and_the_rest_are_counted():
    import pandas as pd

    from ptbench.present import tables

    pairs = pd.DataFrame({
        "verdict": ["equivalent", "not comparable", "not comparable"],
        "regression": [False, False, True],
        "note": ["", "baseline ok, contender skipped", "baseline ok, contender failed"],
    })  # fmt: skip
    assert tables.unlisted_line(pairs) == (
        "1 pairs not comparable and not listed (1 baseline ok, contender skipped); "
        "--all lists them"
    )
    assert tables.unlisted_line(pairs.iloc[:1]) is None
