"""``ptbench merge``: other machines' results into one history, never overwriting."""

from __future__ import annotations

import io
import json
import shutil
import tarfile

import pytest

from helpers import FIXTURE_MACHINE, FIXTURE_RESULTS, checksums, run_cli
from ptbench.data import merge
from ptbench.data.results import load_results


def machine_folder(tmp_path, name: str):
    """A results folder holding the fixture's runs as machine ``name``."""
    folder = tmp_path / f"from-{name}"
    shutil.copytree(FIXTURE_RESULTS, folder)
    (folder / FIXTURE_MACHINE).rename(folder / name)
    for path in (folder / name).glob("*.json"):
        data = json.loads(path.read_text())
        if "params" in data:
            data["params"]["machine"] = name
        else:
            data["machine"] = name
        path.write_text(json.dumps(data))
    return folder


def test_two_machines_merge_into_a_new_history(tmp_path, capsys):
    first, second = machine_folder(tmp_path, "box-a"), machine_folder(tmp_path, "box-b")
    target = tmp_path / "history"
    status, out, err = run_cli(capsys, "merge", first, second, "--into", target)
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == (
        f"ptbench: added 6 files to {target} (machines: box-a, box-b); 0 already there"
    )
    assert "history/benchmarks.json: 40 benchmarks, the newest suite's from" in out
    frame = load_results(target)
    assert sorted(frame["machine"].unique()) == ["box-a", "box-b"]
    assert len(frame) == 2 * len(load_results(FIXTURE_RESULTS))


def test_merging_again_adds_nothing_and_changes_nothing(tmp_path, capsys):
    source, target = machine_folder(tmp_path, "box-a"), tmp_path / "history"
    run_cli(capsys, "merge", source, "--into", target)
    before = checksums(target)
    status, out, _err = run_cli(capsys, "merge", source, "--into", target)
    assert status == 0
    assert out.strip() == f"ptbench: added 0 files to {target}; 3 already there"
    assert checksums(target) == before


def test_a_different_file_of_the_same_name_refuses_the_whole_merge(tmp_path, capsys):
    source, target = machine_folder(tmp_path, "box-a"), tmp_path / "history"
    run_cli(capsys, "merge", source, "--into", target)
    other = machine_folder(tmp_path / "other", "box-a")  # same machine name, new result too
    changed = sorted((other / "box-a").glob("*-existing-*.json"))[0]
    changed.write_text(changed.read_text().replace('"date": ', '"date": 1'))
    fresh = other / "box-a" / "0badcafe-existing-py3.11-torch2.13.0+cpu.json"
    shutil.copyfile(sorted((other / "box-a").glob("*-existing-*.json"))[1], fresh)
    before = checksums(target)
    status, _out, err = run_cli(capsys, "merge", other, "--into", target)
    assert status == 2
    assert err.startswith(f"ptbench: error: {target / 'box-a' / changed.name} exists and differs")
    assert "nothing was merged" in err and err.count("\n") == 1
    assert checksums(target) == before  # not even the new, harmless file


def test_a_damaged_result_is_refused_before_anything_is_written(tmp_path, capsys):
    source, target = machine_folder(tmp_path, "box-a"), tmp_path / "history"
    damaged = sorted((source / "box-a").glob("*-existing-*.json"))[0]
    damaged.write_text(damaged.read_text()[:200])
    status, _out, err = run_cli(capsys, "merge", source, "--into", target)
    assert status == 2
    assert err.startswith("ptbench: error: nothing was merged: ") and damaged.name in err
    assert not target.exists()  # a refusal leaves no --into it made (a hostile pass)
    target.mkdir()
    assert run_cli(capsys, "merge", source, "--into", target)[0] == 2 and target.is_dir()


def test_the_catalogue_is_the_newest_suites_and_keeps_older_entries(tmp_path, capsys):
    old, new = machine_folder(tmp_path, "old-box"), machine_folder(tmp_path, "new-box")
    catalogue = json.loads((old / "benchmarks.json").read_text())
    catalogue["bench_gone.time_removed"] = {"name": "bench_gone.time_removed", "version": "1"}
    (old / "benchmarks.json").write_text(json.dumps(catalogue))
    newer = json.loads((new / "benchmarks.json").read_text())
    newer["bench_elementwise.time_sum"]["version"] = "changed"
    (new / "benchmarks.json").write_text(json.dumps(newer))
    for path in (new / "new-box").glob("*-existing-*.json"):  # new-box ran later
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "date": data["date"] + 86_400_000}))
    target = tmp_path / "history"
    status, out, _err = run_cli(capsys, "merge", old, new, "--into", target)
    assert status == 0 and f"the newest suite's from {new}" in out
    merged = json.loads((target / "benchmarks.json").read_text())
    assert merged["bench_elementwise.time_sum"]["version"] == "changed"
    assert "bench_gone.time_removed" in merged and merged["version"] == 2


def test_a_newer_catalogue_that_would_leave_the_history_unreadable_is_refused(tmp_path,
                                                                             capsys):  # fmt: skip
    """A hostile pass: a newer suite whose entry names fewer parameters than the target's own
    results hold merged with exit 0, and the target no longer loaded."""
    target, new = machine_folder(tmp_path, "old-box"), machine_folder(tmp_path, "new-box")
    sum_name = "bench_elementwise.time_sum"
    for path in (new / "new-box").glob("*-existing-*.json"):  # ran later, without time_sum
        data = json.loads(path.read_text())
        del data["results"][sum_name]
        path.write_text(json.dumps({**data, "date": data["date"] + 86_400_000}))
    newer = json.loads((new / "benchmarks.json").read_text())
    newer[sum_name].update(param_names=["device"], params=newer[sum_name]["params"][:1])
    (new / "benchmarks.json").write_text(json.dumps(newer))
    before = checksums(target)
    status, _out, err = run_cli(capsys, "merge", new, "--into", target)
    assert status == 2 and err.startswith("ptbench: error: nothing was merged: ")
    assert f"{sum_name} holds 2 lists of parameter values where benchmarks.json names 1" in err
    assert checksums(target) == before and len(load_results(target)) > 0


def test_an_archive_from_run_merges_like_its_folder(tmp_path, capsys):
    source = machine_folder(tmp_path, "box-a")
    files = [*sorted((source / "box-a").glob("*.json")), source / "benchmarks.json"]
    archive = tmp_path / "box-a.tar.gz"
    merge.write_archive(files, source, archive)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames())[0] == "results/benchmarks.json"
    status, out, _err = run_cli(capsys, "merge", archive, "--into", tmp_path / "history")
    assert status == 0 and "added 3 files" in out
    assert checksums(tmp_path / "history" / "box-a") == checksums(source / "box-a")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "not a readable ptbench ab document"),
        (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "pairs"}),
         "not a readable ptbench ab document (it has no pairs)"),
        (lambda text: json.dumps({**json.loads(text), "pairs": {"a": 1}}),
         "its pairs are not a list of objects"),
    ],
)  # fmt: skip
def test_a_damaged_ab_document_refuses_the_merge(tmp_path, capsys, damage, message):
    source, target = machine_folder(tmp_path, "box-a"), tmp_path / "history"
    document = {"machine": "box-a", "commit": "a" * 40, "envs": ["x", "y"], "factor": 1.1,
                "pairs": [{"benchmark": "b", "params": [], "verdict": "equivalent"}]}
    (source / "ab-aaaaaaaa-x-vs-y.json").write_text(damage(json.dumps(document)))
    status, _out, err = run_cli(capsys, "merge", source, "--into", target)
    assert status == 2 and err.startswith("ptbench: error: nothing was merged: ")
    assert "ab-aaaaaaaa-x-vs-y.json" in err and message in err, err
    assert not list(target.rglob("*.json"))


def test_a_folder_is_never_merged_into_itself(tmp_path, capsys):
    source = machine_folder(tmp_path, "box-a")
    before = checksums(source)
    for into, inputs in ((source / "merged", [source]), (tmp_path, [source])):
        status, _out, err = run_cli(capsys, "merge", *inputs, "--into", into)
        assert status == 2 and "overlap (one holds the other)" in err, err
    assert checksums(source) == before and not (source / "merged").exists()


def test_a_damaged_file_in_an_archive_is_named_in_the_archive(tmp_path, capsys):
    source = machine_folder(tmp_path, "box-a")
    damaged = sorted((source / "box-a").glob("*-existing-*.json"))[0]
    damaged.write_text(damaged.read_text()[:200])
    files = [*sorted((source / "box-a").glob("*.json")), source / "benchmarks.json"]
    archive = tmp_path / "box-a.tar.gz"
    merge.write_archive(files, source, archive)
    status, _out, err = run_cli(capsys, "merge", archive, "--into", tmp_path / "history")
    assert status == 2 and "ptbench-merge-" not in err  # not a temporary folder, gone by now
    assert f"{archive}:results/box-a/{damaged.name}" in err


def test_an_archive_reaching_out_of_its_folder_is_refused(tmp_path, capsys):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("../../escaped.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    status, _out, err = run_cli(capsys, "merge", archive, "--into", tmp_path / "history")
    assert status == 2 and "not a readable results archive" in err
    assert not (tmp_path.parent / "escaped.json").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "--archive", "out.zip"], "--archive out.zip: name it *.tar.gz (or .tgz, .tar)"),
        (["merge", "nowhere", "--into", "h"], "nowhere: neither a results folder nor an archive"),
    ],
)
def test_bad_merge_and_archive_arguments_get_one_line(tmp_path, capsys, monkeypatch, arguments,
                                                      message):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    status, _out, err = run_cli(capsys, *arguments)
    assert status == 2 and message in err and err.count("\n") == 1


def test_an_archive_is_named_as_given_when_its_catalogue_is_taken(tmp_path, capsys):
    """A hostile pass: the success message named the temporary folder the archive was unpacked
    into (gone by then) as where the catalogue came from."""
    source = machine_folder(tmp_path, "box-a")
    archive = tmp_path / "box-a.tar.gz"
    merge.write_archive([*sorted((source / "box-a").glob("*.json")), source / "benchmarks.json"],
                        source, archive)  # fmt: skip
    target = tmp_path / "history"
    status, out, err = run_cli(capsys, "merge", archive, "--into", target)
    assert (status, err) == (0, "")
    assert out.splitlines()[1] == (f"ptbench: {target}/benchmarks.json: 40 benchmarks, the "
                                   f"newest suite's from {archive}:results")  # fmt: skip


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_a_source_whose_catalogue_describes_other_benchmarks_is_refused(tmp_path, capsys,
                                                                        packed):  # fmt: skip
    """A hostile pass: a source whose benchmarks.json described only other benchmarks than its
    results merged with exit 0, and those results were then left out of every load."""
    target = machine_folder(tmp_path, "box-b")
    source = machine_folder(tmp_path, "box-a")
    catalogue = json.loads((source / "benchmarks.json").read_text())
    renamed = {f"other_{name}" if name != "version" else name: entry
               for name, entry in catalogue.items()}  # fmt: skip
    (source / "benchmarks.json").write_text(json.dumps(renamed))
    given, shown = source, source
    if packed:
        given = tmp_path / "box-a.tar.gz"
        merge.write_archive([*sorted((source / "box-a").glob("*.json")),
                             source / "benchmarks.json"], source, given)  # fmt: skip
        shown = f"{given}:results"
    first = sorted((source / "box-a").glob("*-existing-*.json"))[0].name
    before = checksums(target)
    for into in (target, tmp_path / "new"):
        status, out, err = run_cli(capsys, "merge", given, "--into", into)
        assert (status, out) == (2, "")
        assert err == (
            f"ptbench: error: nothing was merged: {shown}/box-a/{first}: none of its 5 "
            "benchmarks (e.g. bench_elementwise.time_multiply) is described by "
            f"{shown}/benchmarks.json, so its results would be left out of the history; give "
            "the benchmarks.json they were run with (ptbench run writes it beside them)\n")
    assert checksums(target) == before and not (tmp_path / "new").exists()
