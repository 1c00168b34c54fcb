"""Plots and reports: every figure written and non-empty, reports self-contained."""

from __future__ import annotations

import json

import pytest
from conftest import fixture_runs, ptbench, scale_result
from test_history import make_history

from ptbench import plots
from ptbench.compare import compare
from ptbench.history import change_points
from ptbench.results import load_results


def assert_figure_files(paths):
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "<svg" in svg.read_text()[:1000]


@pytest.fixture
def frame_and_comparison(results_copy):
    frame = load_results(results_copy)
    second = json.loads(fixture_runs(results_copy)[1].read_text())["commit_hash"]
    comparison = compare(
        frame, {"method": "lu", "commit": second}, {"method": "cholesky", "commit": second}
    )
    return frame, comparison


def test_every_plot_is_written(frame_and_comparison, tmp_path, results_copy):
    frame, comparison = frame_and_comparison
    base, cont = {"method": "lu"}, {"method": "cholesky"}
    for name, figure in [
        ("speedup", plots.speedup_vs_size(comparison, base, cont)),
        ("bars", plots.comparison_bars(comparison, base, cont)),
        ("heatmap", plots.speedup_heatmap(comparison, base, cont)),
        ("scaling", plots.scaling(frame, "bench_elementwise.time_multiply", by="commit")),
    ]:
        assert figure.axes[0].get_title(), name
        assert figure.axes[0].get_xlabel() and figure.axes[0].get_ylabel(), name
        assert_figure_files(plots.save(figure, tmp_path / name))
    make_history(results_copy, [1.0, 1.0, 1.0, 1.5, 1.5])
    frame = load_results(results_copy)
    identity = {"benchmark": "bench_elementwise.time_sum", "device": "cpu", "size": 65536}
    figure = plots.history(frame, identity, change_points(frame))
    assert any("change x1.5" in text.get_text() for text in figure.axes[0].get_legend().texts)
    assert_figure_files(plots.save(figure, tmp_path / "history"))


def test_throughput_uses_the_operations_work_counts(frame_and_comparison):
    frame, _comparison = frame_and_comparison
    row = frame[
        (frame["benchmark"] == "bench_elementwise.time_multiply") & (frame["status"] == "ok")
    ].iloc[0]
    rate, unit = plots.throughput(row)
    assert unit == "GB/s"
    assert rate == pytest.approx(3 * row["size"] * 4 / row["value"] / 1e9)


def test_report_writes_markdown_html_and_figures(results_copy, tmp_path):
    first, second = (json.loads(p.read_text())["commit_hash"] for p in fixture_runs(results_copy))
    scale_result(
        fixture_runs(results_copy)[1], "bench_linalg.time_solve", ("cpu", 64, "float64", "lu"), 1.2
    )
    out = tmp_path / "report"
    completed = ptbench(
        "report",
        "--results",
        results_copy,
        "--out",
        out,
        "--baseline",
        f"commit={first}",
        "--contender",
        f"commit={second}",
    )
    assert completed.returncode == 0, completed.stderr
    markdown = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    assert "## Cholesky over LU" in markdown and "## In place over out of place" in markdown
    assert "Not in these results" in markdown  # no CUDA in the fixture: said, not hidden
    assert "slower" in markdown
    for link in [
        line.split("(")[1].rstrip(")") for line in markdown.splitlines() if line.startswith("![")
    ]:
        assert (out / link).is_file() and (out / link).with_suffix(".svg").is_file()
    assert page.count("data:image/png;base64,") == markdown.count("![") > 3
    assert "src='figures" not in page  # self-contained


def test_report_refuses_bad_input(results_copy, tmp_path):
    for arguments in (
        ["--out", str(results_copy / "r")],
        ["--out", str(tmp_path / "r"), "--baseline", "device=cpu"],
    ):
        completed = ptbench("report", "--results", results_copy, *arguments)
        assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1


def test_labels_name_the_benchmark_and_leave_out_missing_parameters(frame_and_comparison):
    frame, _comparison = frame_and_comparison
    first, second = sorted(frame["commit"].unique())
    comparison = compare(frame, {"commit": first}, {"commit": second})
    labels = plots._line_labels(comparison.pairs, comparison.keys)
    assert {"sum", "solve lu", "update out_of_place"} <= set(labels)  # dtype does not vary
    assert not any("nan" in label for label in labels)
