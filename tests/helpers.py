"""What the tests share besides fixtures: the fixture results, editing result files, running
the command line. Imported as ``from helpers import ...`` (pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
FIXTURE_RESULTS = PROJECT / "tests" / "fixtures" / "results"
FIXTURE_MACHINE = "fixture-machine"


def fixture_runs(results: Path) -> list[Path]:
    """The fixture's result files, oldest commit first."""
    import json

    files = sorted(
        (results / FIXTURE_MACHINE).glob("*-existing-*.json"),
        key=lambda path: json.loads(path.read_text())["date"],
    )
    assert len(files) == 2, files
    return files


def scale_result(path: Path, benchmark: str, combination: tuple, factor: float) -> None:
    """Multiply one combination's value, interval, quartiles and samples by ``factor``."""
    import itertools
    import json

    data = json.loads(path.read_text())
    columns = data["result_columns"]
    row = dict(zip(columns, data["results"][benchmark], strict=False))
    labels = [tuple(c) for c in itertools.product(*row["params"])]
    index = labels.index(tuple(repr(v) for v in combination))
    for column in ("result", "stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75"):
        if row.get(column) is not None and row[column][index] is not None:
            row[column][index] *= factor
    if row.get("samples") and row["samples"][index]:
        row["samples"][index] = [sample * factor for sample in row["samples"][index]]
    data["results"][benchmark] = [row.get(column) for column in columns]
    path.write_text(json.dumps(data))


def ptbench(*arguments: str):
    """Run the ptbench command line in a fresh process; returns the CompletedProcess."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "ptbench.cli", *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
    )


def run_cli(capsys, *arguments) -> tuple[int, str, str]:
    """Run ``ptbench.cli.main`` in this process; returns (exit status, stdout, stderr).

    Fast enough for property tests; an exception that escapes main fails the test, which is
    the point (main must turn every error into one line and an exit status)."""
    from ptbench import cli

    capsys.readouterr()
    status = cli.main([str(argument) for argument in arguments])
    out, err = capsys.readouterr()
    return status, out, err


def checksums(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (names included) with a hash of its bytes."""
    import hashlib

    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    } | {str(path.relative_to(folder)) + "/": "" for path in folder.rglob("*") if path.is_dir()}


def edit_result(path: Path, change) -> None:
    """Load a result file's JSON, let ``change(data)`` edit it in place, write it back."""
    import json

    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def assert_peaks_recorded(params: dict, stderr: str, device: str = "cpu") -> None:
    """A real run records the machine's measured peaks with each result, unless the machine
    was busy through every probe: then it must have said so and recorded none (a busy
    minute's peaks read a third of the quiet ones), never stored them."""
    key = f"peak_{device}_copy_gbps"
    if key in params:
        assert float(params[key]) > 0
    else:
        assert f"ptbench: warning: no {device} peaks recorded: the machine was busy" in stderr
        assert not any(name.startswith(f"peak_{device}_") for name in params)
