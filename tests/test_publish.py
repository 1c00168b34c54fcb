"""History along torch versions, and ``ptbench publish``'s offline site (in a real browser)."""

from __future__ import annotations

import json
import re

import pytest

import browser
from helpers import FIXTURE_MACHINE, checksums, run_cli, scale_result
from ptbench.analysis import torch_history
from ptbench.data.results import load_results
from ptbench.present import publish

SUM = "bench_elementwise.time_sum"


def fixture_runs_of(results) -> list:
    """The fixture's own two runs (torch 2.13.0+cpu), oldest first, beside any copies."""
    files = (results / FIXTURE_MACHINE).glob("*-existing-py3.11-torch2.13.0+cpu.json")
    return sorted(files, key=lambda path: json.loads(path.read_text())["date"])


def make_releases(results, releases: list[tuple[str, float]], machine=FIXTURE_MACHINE,
                  kind: str = "existing") -> None:
    """Copies of the fixture's second run, one per (torch version, factor), all at one suite
    commit, each as its own environment (``kind``: ``existing``, as ptbench run names it, or
    ``ab-contender``, an ab side's); time_sum at 65536 elements scaled by the factor."""
    fixture = [path for path in fixture_runs_of(results) if path.name.endswith("+cpu.json")]
    data = json.loads(fixture[-1].read_text())
    (results / machine).mkdir(exist_ok=True)
    for index, (version, factor) in enumerate(releases):
        env = f"{kind}-py3.11-torch{version}"
        params = dict(data["params"], torch=version, machine=machine)
        copy = dict(data, env_name=env, params=params, date=data["date"] + index * 60_000)
        path = results / machine / f"{data['commit_hash'][:8]}-{env}.json"
        path.write_text(json.dumps(copy))
        scale_result(path, SUM, ("cpu", 65536), factor)


@pytest.mark.parametrize(
    ("version", "build", "cuda", "line"),
    [
        ("2.14.1+cu130", None, None, "cu130"),
        ("2.13.0+cpu", "cpu", "none", "cpu"),
        ("2.13.0", "cuda12.8", "12.8", "cu128"),  # plain asv run: no local label
        ("2.13.0", None, "13.0", "cu130"),
        ("2.13.0", None, "none", "cpu"),
        ("2.13.0", "rocm6.4", None, "rocm6.4"),
        ("2.13.0", None, None, "unknown"),
    ],
)
def test_build_line_reads_the_label_then_the_run_facts(version, build, cuda, line):
    assert torch_history.build_line(version, build, cuda) == line


def test_torch_versions_sort_by_pep_440_with_nightlies_before_their_release():
    versions = ["2.10.0", "2.9.1+cu128", "2.15.0", "2.15.0.dev20261102", "2.15.0.dev20261030"]
    assert torch_history.ordered_versions(versions) == [
        "2.9.1", "2.10.0", "2.15.0.dev20261030", "2.15.0.dev20261102", "2.15.0",
    ]  # fmt: skip


def test_a_line_along_torch_versions_keeps_the_newest_result_of_each(results_copy):
    make_releases(results_copy, [("2.12.1+cu130", 1.0), ("2.14.0+cu130", 1.0)])
    frame = load_results(results_copy)
    points = torch_history.along_torch(frame)
    line = points[(points["benchmark"] == SUM) & (points["size"] == 65536)]
    # the fixture's two 2.13.0+cpu runs make one point on the cpu line, the newest
    assert line.groupby("torch_line")["torch_version"].apply(list).to_dict() == {
        "cpu": ["2.13.0"], "cu130": ["2.12.1", "2.14.0"],
    }  # fmt: skip
    newest = frame[(frame["benchmark"] == SUM) & (frame["size"] == 65536)
                   & (frame["torch"] == "2.13.0+cpu")]["commit_date"].max()  # fmt: skip
    assert line[line["torch_line"] == "cpu"]["commit_date"].iloc[0] == newest


def test_a_step_between_releases_is_a_change_point_at_the_first_slow_version(results_copy):
    make_releases(results_copy, [("2.11.0+cu130", 1.0), ("2.12.1+cu130", 1.0),
                                 ("2.14.0+cu130", 1.6), ("2.14.1+cu130", 1.6)])  # fmt: skip
    changes = torch_history.change_points(load_results(results_copy))
    step = changes[(changes["benchmark"] == SUM) & (changes["size"] == 65536)]
    assert len(step) == 1, changes[["benchmark", "size", "torch_version", "change"]]
    row = step.iloc[0]
    assert (row["torch_line"], row["previous_torch_version"], row["torch_version"]) == (
        "cu130", "2.12.1", "2.14.0",
    )  # fmt: skip
    assert row["direction"] == "regression" and row["change"] == pytest.approx(1.6, rel=0.05)


def test_an_ab_side_s_rounds_are_no_point_along_torch_versions(results_copy):
    """ab's rounds (lockstep, OpenMP threads waiting passively) time a fused SGD step at 8,192
    elements 12x slower than a run does, on both sides alike: the re-recorded release made
    12x "regressions" from 2.14.0 to 2.14.1 along torch versions until its sides were left out."""
    make_releases(results_copy, [("2.11.0+cu130", 1.0), ("2.12.1+cu130", 1.0),
                                 ("2.14.0+cu130", 1.0)])  # fmt: skip
    make_releases(results_copy, [("2.14.1+cu130", 12.0)], kind="ab-contender")
    frame = load_results(results_copy)
    assert (frame["env"] == "ab-contender-py3.11-torch2.14.1+cu130").any()
    points = torch_history.along_torch(frame)
    line = points[(points["benchmark"] == SUM) & (points["size"] == 65536)]
    assert list(line[line["torch_line"] == "cu130"]["torch_version"]) == [
        "2.11.0", "2.12.1", "2.14.0"]  # fmt: skip
    changes = torch_history.change_points(frame)
    assert changes[(changes["benchmark"] == SUM) & (changes["size"] == 65536)].empty


def test_publish_writes_the_site_and_never_touches_results(results_copy, tmp_path, capsys):
    make_releases(results_copy, [("2.12.1+cu130", 1.0), ("2.14.0+cu130", 1.0)])
    before = checksums(results_copy)
    out = tmp_path / "site"
    status, stdout, stderr = run_cli(capsys, "publish", "--results", results_copy, "--out", out)
    assert (status, stderr) == (0, "")
    assert stdout.startswith(f"ptbench: wrote {2 + 5} pages into {out}")  # 5 benchmarks
    assert checksums(results_copy) == before
    page = (out / "benchmarks" / f"{SUM}.html").read_text()
    data = json.loads(re.search(r'<script id="data"[^>]*>(.*?)</script>', page, re.S)[1])
    assert data["versions"] == ["2.12.1", "2.13.0", "2.14.0"]
    assert {p["line"] for p in data["points"]} == {"cpu", "cu130"}
    assert data["param_keys"] == ["device", "size"]
    # every URL a page names is a file inside the site
    for html_file in out.rglob("*.html"):
        for url in re.findall(r'(?:src|href)="([^"]+)"', html_file.read_text()):
            assert not re.match(r"[a-z]+:", url), f"{html_file.name} names {url}"
            assert (html_file.parent / url.split("?")[0]).resolve().is_file(), url


@pytest.mark.parametrize(
    "name", ["../../escaped.time_x", "bench_x/../../../escaped.time_x", "b.time_" + "b" * 10_000]
)
def test_a_benchmark_name_from_the_data_never_writes_outside_the_site(
    results_copy, tmp_path, capsys, name
):
    from helpers import edit_result, fixture_runs

    def rename(data):
        data["results"][name] = data["results"].pop(SUM)

    for path in fixture_runs(results_copy):
        edit_result(path, rename)
    catalogue = json.loads((results_copy / "benchmarks.json").read_text())
    catalogue[name] = {**catalogue.pop(SUM), "name": name}  # else it is left out, unnamed
    (results_copy / "benchmarks.json").write_text(json.dumps(catalogue))
    out = tmp_path / "site" / "inner"
    status, _stdout, stderr = run_cli(capsys, "publish", "--results", results_copy, "--out", out)
    assert (status, stderr) == (0, "")
    inside = {p.resolve() for p in out.rglob("*") if p.is_file()}
    outside = {p for p in tmp_path.rglob("*") if p.is_file() and p.resolve() not in inside
               and not p.resolve().is_relative_to(results_copy.resolve())}  # fmt: skip
    assert outside == set()
    pages = [p.name for p in (out / "benchmarks").iterdir()]
    assert len(pages) == 5 and all(len(page) < 120 for page in pages)  # one per benchmark
    index = (out / "index.html").read_text()
    assert all(f'href="benchmarks/{page}' in index for page in pages)  # linked as written


def test_publish_refuses_an_out_inside_results(results_copy, capsys):
    status, _out, err = run_cli(capsys, "publish", "--results", results_copy,
                                "--out", results_copy / "site")  # fmt: skip
    assert status == 2
    assert "is inside --results" in err and err.count("\n") == 1


def test_the_hardware_page_compares_two_machines_on_the_same_build(results_copy, tmp_path):
    make_releases(results_copy, [("2.14.0+cu130", 1.0)])
    make_releases(results_copy, [("2.14.0+cu130", 0.5)], machine="other-machine")
    frame = publish.timed(load_results(results_copy))
    from ptbench.present.publish_pages import machine_ratios

    ratios = machine_ratios(frame, FIXTURE_MACHINE, "other-machine")
    assert set(ratios["torch"]) == {"2.14.0+cu130"}  # the only build both machines ran
    sums = ratios.set_index("benchmark").loc[SUM]
    assert sums["combinations"] >= 2
    # one of its sizes is twice as fast on the other machine, the rest equal
    assert sums["ratio"] == pytest.approx(0.5 ** (1 / sums["combinations"]), rel=1e-6)


@pytest.fixture(scope="module")
def chromium():
    if browser.find_chromium() is None:
        pytest.skip("no Chromium: scripts/test installs Debian's chromium as root")
    with browser.Browser() as opened:
        yield opened


def test_a_benchmark_page_draws_points_and_a_filter_changes_them(chromium, results_copy, tmp_path):
    make_releases(results_copy, [("2.12.1+cu130", 1.0), ("2.14.0+cu130", 1.0)])
    out = tmp_path / "site"
    publish.write(results_copy, out)
    chromium.requests.clear()
    chromium.open((out / "benchmarks" / f"{SUM}.html").as_uri() + "?x=torch")
    drawn = int(chromium.wait_until("document.body.dataset.points"))
    markers = chromium.evaluate("document.querySelectorAll('.scatterlayer .point').length")
    assert drawn > 0 and markers >= drawn  # points drawn as SVG markers, not only counted
    chromium.evaluate(
        "(() => { const s = document.getElementById('control-line'); s.value = 'cpu';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    fewer = int(chromium.evaluate("document.body.dataset.points"))
    assert 0 < fewer < drawn
    assert chromium.evaluate("document.querySelectorAll('.scatterlayer .trace').length") > 0
    assert [url for url in chromium.requests if not url.startswith("file://")] == []
    assert any(url.endswith("assets/plotly.min.js") for url in chromium.requests)


def test_a_page_of_many_lines_opens_with_at_most_12_and_widens_on_request(chromium, tmp_path):
    from helpers import PROJECT

    out = tmp_path / "site"
    publish.write(PROJECT / "results", out)  # the committed history: 112 lines of time_solve
    chromium.open((out / "benchmarks" / "bench_linalg.time_solve.html").as_uri())
    drawn = int(chromium.wait_until("document.body.dataset.points"))
    assert 0 < int(chromium.evaluate("document.body.dataset.lines")) <= 12
    note = chromium.evaluate("document.getElementById('graph-note').textContent")
    assert "preselected, to draw at most 12 lines: choose \"all\" to widen)" in note, note
    narrowed = chromium.evaluate(
        "[...document.querySelectorAll('.controls select')].filter(s => s.name !== 'x'"
        " && s.value !== 'all').map(s => s.name)"
    )
    assert narrowed  # the controls show what was preselected
    chromium.evaluate(
        "(() => { for (const s of document.querySelectorAll('.controls select')) {"
        " if (s.name !== 'x') { s.value = 'all'; s.dispatchEvent(new Event('change')); } } })()"
    )
    assert int(chromium.evaluate("document.body.dataset.lines")) > 12
    assert int(chromium.evaluate("document.body.dataset.points")) > drawn
    assert "preselected" not in chromium.evaluate(
        "document.getElementById('graph-note').textContent"
    )


def test_the_index_page_loads_offline_and_links_every_benchmark(chromium, results_copy, tmp_path):
    out = tmp_path / "site"
    publish.write(results_copy, out)
    chromium.requests.clear()
    chromium.open((out / "index.html").as_uri())
    links = chromium.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
    assert sum("/benchmarks/" in link for link in links) >= 5
    assert [url for url in chromium.requests if not url.startswith("file://")] == []


@pytest.mark.slow
def test_the_report_draws_lines_along_torch_versions_with_their_change_points(
    results_copy, tmp_path
):
    from ptbench.present import report

    make_releases(results_copy, [("2.11.0+cu130", 1.0), ("2.12.1+cu130", 1.0),
                                 ("2.14.0+cu130", 1.6), ("2.14.1+cu130", 1.6)])  # fmt: skip
    report.write(results_copy, tmp_path / "report")
    text = (tmp_path / "report" / "report.md").read_text()
    section = text.split("## Along torch versions", 1)[1].split("\n## ", 1)[0]
    assert "Versions here: cpu 2.13.0, cu130 2.11.0, 2.12.1, 2.14.0, 2.14.1." in section
    row = next(line for line in section.splitlines() if line.startswith(f"| {SUM}"))
    assert "| 2.12.1 -> 2.14.0 |" in row and "x1.60 (regression)" in row
    assert "Confirm one with `ptbench ab` (interleaved, paired)" in section
