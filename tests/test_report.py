"""Plots and reports: every figure written and non-empty, reports self-contained."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from helpers import fixture_runs, ptbench, scale_result
from ptbench.analysis.compare import compare
from ptbench.analysis.history import change_points
from ptbench.data.results import load_results
from ptbench.present import plots, rendering, roofline
from test_history import make_history


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


def test_log_axes_are_labelled_with_plain_text_powers(tmp_path):
    """Powers as matplotlib writes them (10^-2, 2^5, 3x10^-1), in Unicode, not mathtext."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([4, 2**20], [0.05, 0.5])
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_ylim(0.15, 0.5)  # under a decade: matplotlib labels minor ticks too
    rendering.save(figure, tmp_path / "powers")
    x_labels = [label.get_text() for label in axes.get_xticklabels()]
    y_labels = [label.get_text() for label in axes.get_yticklabels(minor=True)]
    assert {"2³", "2¹¹", "2¹⁹"} <= set(x_labels)
    assert {"2×10⁻¹", "3×10⁻¹", "4×10⁻¹"} <= set(y_labels)
    assert not any("$" in label for label in x_labels + y_labels)
    formatter = rendering.PlainPowers(plt.matplotlib.ticker.FuncFormatter(lambda x, pos: "1 s"))
    assert formatter(1.0) == "1 s"  # not a power: as it was


def test_every_plot_is_written(frame_and_comparison, tmp_path, results_copy):
    frame, comparison = frame_and_comparison
    base, cont = {"method": "lu"}, {"method": "cholesky"}
    for name, figure in [
        ("speedup", plots.speedup_vs_size(comparison, base, cont)),
        ("bars", plots.comparison_bars(comparison, base, cont)),
        ("heatmap", plots.ratio_heatmap(comparison, base, cont)),
        ("scaling", plots.scaling(frame, "bench_elementwise.time_multiply", by="commit")),
    ]:
        assert figure.axes[0].get_title(), name
        assert figure.axes[0].get_xlabel() and figure.axes[0].get_ylabel(), name
        assert_figure_files(rendering.save(figure, tmp_path / name))
    make_history(results_copy, [1.0, 1.0, 1.0, 1.5, 1.5])
    frame = load_results(results_copy)
    identity = {"benchmark": "bench_elementwise.time_sum", "device": "cpu", "size": 65536}
    figure = plots.history(frame, identity, change_points(frame))
    assert any("change x1.5" in text.get_text() for text in figure.axes[0].get_legend().texts)
    assert_figure_files(rendering.save(figure, tmp_path / "history"))


def test_the_heatmap_shows_the_tables_ratio_and_no_blank_rows(frame_and_comparison):
    import numpy as np

    _frame, comparison = frame_and_comparison
    figure = plots.ratio_heatmap(comparison, {"method": "lu"}, {"method": "cholesky"})
    panels = [axes for axes in figure.axes if axes.images]
    grids = [np.asarray(axes.images[0].get_array(), dtype=float) for axes in panels]
    for values in grids:
        assert not np.isnan(values).all(axis=1).any() and not np.isnan(values).all(axis=0).any()
    values = np.concatenate([grid.ravel() for grid in grids])
    pairs = comparison.pairs.dropna(subset=["ratio"])
    median = pairs.groupby(["benchmark", "size"])["ratio"].median()
    assert np.sort(values[~np.isnan(values)]) == pytest.approx(np.sort(median.to_numpy()))
    scale = figure.axes[len(panels)]  # the colour bar: one label, saying what the colours are
    assert scale.get_ylabel() == "ratio: contender / baseline time (> 1: contender slower)"
    assert not [label for label in scale.get_yticklabels(minor=True) if label.get_text()]


def test_operations_on_different_ladders_get_their_own_panel_with_no_blank_cells():
    """Elements (2^4, 2^7, ...) and matrix orders (16, 64, ...) never share a size axis: one
    panel each, every cell filled, one colour scale."""
    import numpy as np

    from ptbench.analysis.compare import Comparison

    rows = [("bench_elementwise.time_sum", size, 1.2) for size in (16, 128, 1024)]
    rows += [("bench_linalg.time_matmul", size, 0.8) for size in (64, 256)]
    rows += [("bench_updates.track_update_peak_bytes", size, 1.0) for size in (16, 128, 1024)]
    pairs = pd.DataFrame(rows, columns=["benchmark", "size", "ratio"])  # as ab's pairs: no op
    comparison = Comparison(pairs, {"seconds": 1.0}, 1.1, ["benchmark", "size"], 0)
    figure = plots.ratio_heatmap(comparison, {"torch": "a"}, {"torch": "b"})
    panels = [axes for axes in figure.axes if axes.images]
    assert [axes.get_xlabel() for axes in panels] == ["size (elements)", "size (matrix order)"]
    assert [[label.get_text() for label in axes.get_xticklabels()] for axes in panels] == [
        ["16", "128", "1024"], ["64", "256"]]  # fmt: skip
    for axes in panels:
        assert not np.isnan(np.asarray(axes.images[0].get_array(), dtype=float)).any()
    assert len(figure.axes) == len(panels) + 1  # a single colour bar


def test_whiskers_past_the_axis_end_in_an_arrowhead(frame_and_comparison):
    import dataclasses

    _frame, comparison = frame_and_comparison
    pairs = comparison.pairs.copy()
    wide = pairs.index[0]
    pairs.loc[wide, ["verdict", "ratio", "ratio_low", "ratio_high"]] = ["inconclusive", 1.05,
                                                                         1e-3, 8645.0]  # fmt: skip
    figure = plots.comparison_bars(dataclasses.replace(comparison, pairs=pairs), {}, {})
    low, high = figure.axes[0].get_xlim()
    heads = {line.get_marker(): list(line.get_xdata()) for line in figure.axes[0].lines
             if line.get_marker() in ("<", ">")}  # fmt: skip
    assert heads["<"] == [pytest.approx(low)] and heads[">"] == [pytest.approx(high)]


def test_every_result_gets_throughput_from_its_work_counts(frame_and_comparison):
    frame, _comparison = frame_and_comparison
    row = frame[
        (frame["benchmark"] == "bench_elementwise.time_multiply") & (frame["status"] == "ok")
    ].iloc[0]
    assert row["achieved_unit"] == "GB/s"
    assert row["achieved"] == pytest.approx(3 * row["size"] * 4 / row["value"] / 1e9)
    assert row["intensity"] == pytest.approx(1 / 12)  # one FLOP per 12 bytes
    solve = frame[
        (frame["benchmark"] == "bench_linalg.time_solve")
        & (frame["size"] == 64)
        & (frame["method"] == "cholesky")
        & (frame["status"] == "ok")
    ].iloc[0]
    assert solve["achieved_unit"] == "GFLOP/s"
    assert solve["achieved"] == pytest.approx((64**3 / 3 + 2 * 64**2) / solve["value"] / 1e9)


def test_fraction_of_peak_uses_the_datasheet_before_the_probe(frame_and_comparison):
    from ptbench.data.efficiency import add_efficiency

    frame, _comparison = frame_and_comparison
    rows = frame[
        frame["benchmark"].isin(["bench_linalg.time_solve", "bench_elementwise.time_multiply"])
        & (frame["status"] == "ok")
    ].drop(
        columns=[
            "peak",
            "fraction_of_peak",
            "peak_source",
            "ceiling",
            "achieved",
            "achieved_unit",
            "intensity",
        ]
    )
    rows = rows.assign(
        peak_cpu_float64_gflops="100", datasheet_cpu_float64_gflops="120", peak_cpu_copy_gbps="40",
        cache_cpu_l3_bytes="1024", ceiling_cpu_l3_gbps="90", ceiling_cpu_dram_gbps="40",
        datasheet_cpu_copy_gbps="50",
    )  # fmt: skip
    judged = add_efficiency(rows)
    solve = judged[judged["operation"] == "solve"].iloc[0]
    assert solve["peak"] == 120 and solve["peak_source"] == "datasheet"
    assert solve["fraction_of_peak"] == pytest.approx(solve["achieved"] / 120)
    multiply = judged[(judged["operation"] == "multiply") & (judged["size"] > 1024 / 12)]
    assert set(multiply["peak"]) == {50} and set(multiply["peak_source"]) == {"datasheet"}
    assert set(multiply["ceiling"]) == {"DRAM"}  # past the (made-up) 1 KiB cache


def test_roofline_draws_points_under_the_roofs(frame_and_comparison, tmp_path):
    frame, _comparison = frame_and_comparison
    frame = frame.assign(
        peak_cpu_float32_gflops="200", peak_cpu_float64_gflops="80", peak_cpu_copy_gbps="30"
    )
    row = frame.iloc[0]
    figure = roofline.roofline(frame, row["machine"], row["env"], "cpu")
    axes = figure.axes[0]
    labels = [text.get_text() for text in axes.get_legend().texts]
    assert "DRAM bandwidth 30 GB/s (measured)" in labels  # no level probed: the copy peak
    assert "float64 compute peak 80 GFLOP/s (measured)" in labels
    assert {"judged by compute", "no ceiling recorded"} <= set(labels)
    assert axes.get_xscale() == "log" and "intensity" in axes.get_xlabel()
    assert_figure_files(rendering.save(figure, tmp_path / "roofline"))


def test_a_roofline_without_peaks_says_how_to_measure_them(frame_and_comparison):
    frame, _comparison = frame_and_comparison  # the fixture's results carry no peaks
    row = frame.iloc[0]
    axes = roofline.roofline(frame, row["machine"], row["env"], "cpu").axes[0]
    notes = [text.get_text() for text in axes.texts]
    assert notes == [
        f"no peaks recorded for {row['machine']} cpu: measure them with "
        "`ptbench machine --write --probe`"
    ]
    labels = [text.get_text() for text in axes.get_legend().texts]
    assert not any("peak" in label or "bandwidth" in label for label in labels)


@pytest.mark.slow
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


def test_the_report_table_shows_every_significant_change_first(results_copy):
    from ptbench.present.report_comparisons import most_changed

    first, second = (json.loads(p.read_text())["commit_hash"] for p in fixture_runs(results_copy))
    scale_result(
        fixture_runs(results_copy)[1], "bench_linalg.time_solve", ("cpu", 64, "float64", "lu"), 1.2
    )
    scale_result(
        fixture_runs(results_copy)[1], "bench_linalg.time_solve", ("cpu", 16, "float64", "lu"), 0.7
    )
    comparison = compare(load_results(results_copy), {"commit": first}, {"commit": second})
    shown = most_changed(comparison, 3).pairs
    assert list(shown["verdict"][:2]) == ["slower", "faster"]
    assert len(shown) == 3


def test_the_overview_says_which_runs_recorded_no_noise_facts(results_copy):
    from helpers import edit_result, fixture_runs
    from ptbench.data.results import load_results
    from ptbench.present import report

    first, _second = fixture_runs(results_copy)
    edit_result(first, lambda data: data["params"].update(noise="quiet"))
    frame = load_results(results_copy)
    assert frame["machine"].dtype == "category"  # run facts: a byte a cell, not a string
    runs = report.overview(frame, results_copy).table
    assert sorted(runs["machine noise"]) == ["not recorded", "quiet"]


def test_a_standard_question_without_its_side_says_so_as_the_questions_own():
    """Nobody gave a --baseline: the message names the question's side, not the user's."""
    from ptbench.analysis.compare import SelectorError
    from ptbench.present import report

    missing = SelectorError("baseline: method=out_of_place matches nothing; available: lu, qr")
    text = report._unasked(missing, {"method": "out_of_place"}, {"method": "isub"})
    assert text == "no results for its baseline, method=out_of_place (these results have: lu, qr)"


@pytest.mark.parametrize("happening", ["full disk", "ctrl-c"])
def test_a_full_disk_or_ctrl_c_while_figures_render_is_one_line(
    results_copy, tmp_path, capfd, monkeypatch, happening
):
    """Figures render in forked children: what goes wrong there reaches the user as one line
    (exit 2, or 130 for Ctrl-C), never as a traceback from each child."""
    import errno
    import os
    import signal

    from helpers import run_cli
    from ptbench.present import rendering

    def failing(figure, path, bbox="tight"):
        if happening == "ctrl-c":
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rendering, "_render", failing)
    status, out, err = run_cli(capfd, "report", "--results", results_copy, "--out", tmp_path / "r")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    if happening == "ctrl-c":
        assert status == 130 and "interrupted" in err
    else:
        assert status == 2 and "(No space left on device)" in err and "cannot write" in err


def test_a_comparison_recorded_again_says_what_changed_against_the_previous_run():
    from ptbench.analysis.ab import verdicts
    from ptbench.present import report_comparisons

    def document(commit: str, verdict_of: dict) -> dict:
        pairs = [{"benchmark": f"bench_x.time_{name}", "params": ["cpu", 64], "verdict": verdict,
                  "ratio": ratio} for name, (verdict, ratio) in verdict_of.items()]  # fmt: skip
        return {"commit": commit * 40, "judgement": verdicts.JUDGEMENT_MODEL, "pairs": pairs,
                "baseline": {"torch": "2.13.0+cpu"}, "contender": {"torch": "2.14.1+cu130"}}

    previous = document("a", {"sum": ("inconclusive", 1.3), "eig": ("equivalent", 1.0),
                              "svd": ("slower", 1.25)})  # fmt: skip
    newest = document("b", {"sum": ("slower", 1.28), "eig": ("equivalent", 1.01),
                            "svd": ("slower", 1.21)})  # fmt: skip
    section = report_comparisons._rerecorded(previous, newest)
    assert section.title == "Interleaved A/B: torch 2.14.1+cu130 vs 2.13.0+cpu, re-recorded"
    assert "Decided: 67% of comparable pairs before, 100% now" in section.text[0]
    assert section.text[1] == ("Changes confirmed in only one of the two: "
                               "`time_sum('cpu', 64)`: inconclusive 1.30x -> slower 1.28x")
    counts = section.table.set_index("previous")
    assert counts.loc["inconclusive", "slower"] == 1 and counts.loc["slower", "slower"] == 1


def test_a_failed_report_leaves_no_figure_rendering_behind(tmp_path, monkeypatch):
    """A hostile pass: a report refused after its first figures had been handed to forked
    children left them running (``ptbench`` exits without multiprocessing's clean-up), so they
    could write figures after the command had cleaned up and exited."""
    import matplotlib.pyplot as plt

    def slow(figure, paths):  # a figure that takes a minute to render
        time.sleep(60)
        paths[0].write_text("written after the report ended")

    monkeypatch.setattr(rendering, "_render_both", slow)
    writer = rendering.FigureWriter()
    if not writer.forking:
        pytest.skip("figures are rendered in forked children only with fork and 2+ CPUs")
    figure, _axes = plt.subplots()
    writer.add(figure, tmp_path / "late")
    (child, _path), = writer.running
    assert child.is_alive()
    writer.stop()
    assert writer.running == [] and not child.is_alive() and child.exitcode != 0
    assert list(tmp_path.iterdir()) == []


def test_a_figure_is_never_written_through_a_link_at_its_temporary_name(tmp_path):
    """A link planted at a figure's temporary name (``.NAME.part``) in an earlier output
    folder is removed, not written through: the file it points at keeps its bytes."""
    import matplotlib.pyplot as plt

    victim = tmp_path / "result.json"
    victim.write_text('{"kept": true}')
    out = tmp_path / "figures"
    out.mkdir()
    (out / ".speedup.png.part").symlink_to(victim)
    figure = plt.figure()
    rendering._render(figure, out / "speedup.png")
    plt.close(figure)
    assert victim.read_text() == '{"kept": true}'
    assert (out / "speedup.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in out.iterdir()) == ["speedup.png"]


def test_a_summarys_lines_stay_lines_in_both_renderings(tmp_path):
    # the A/B summary is one paragraph of lines (counts, factor, what inconclusive means):
    # rendered as one run-on paragraph, its sentences ran together
    from ptbench.present import document

    sections = [document.Section("A/B", ["415 pairs: 2 slower\nfactor 1.1", "<b>one</b>"])]
    markdown = document.to_markdown(sections, tmp_path)
    assert "415 pairs: 2 slower  \nfactor 1.1\n" in markdown
    page = document.to_html(sections)
    assert "<p>415 pairs: 2 slower<br>\nfactor 1.1</p>" in page
    assert "<p>&lt;b&gt;one&lt;/b&gt;</p>" in page  # still escaped
