"""``ptbench explain``: the operator diff, the settings diff, and a contender with one known
extra ATen operator explained as such."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import PROJECT, run_cli
from ptbench.analysis.explain import diff


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


def test_the_settings_diff_names_each_differing_value_and_config_line():
    base = {"torch": "2.13.0", "threads": "2", "config": "BLAS_INFO=mkl\nUSE_CUDA=0\nCXX=g++ 11",
            "cpu_capability": "AVX512"}  # fmt: skip
    cont = {"torch": "2.14.1", "threads": "2", "config": "BLAS_INFO=mkl\nUSE_CUDA=1\nCXX=g++ 13",
            "cpu_capability": "AVX512"}  # fmt: skip
    rows = diff.settings_diff(base, cont)
    assert {"setting": "torch", "baseline": "2.13.0", "contender": "2.14.1"} in rows
    assert {"setting": "config", "baseline": "USE_CUDA=0", "contender": "USE_CUDA=1"} in rows
    assert {"setting": "config", "baseline": "CXX=g++ 11", "contender": "CXX=g++ 13"} in rows
    assert not [r for r in rows if r["setting"] in ("threads", "cpu_capability")]
    assert diff.settings_diff(base, dict(base)) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give --bench REGEX"),
        (["--bench", "time_sum", "--rounds", "0"], "--rounds 0 must be 1 or more"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, arguments, message):
    status, _out, err = run_cli(capsys, "explain", "--baseline", sys.executable,
                                "--contender", sys.executable, *arguments)  # fmt: skip
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


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
    top = explained["cholesky"]["changes"][0]
    assert (top["name"], top["kind"], top["note"]) == ("aten::mm", "operator", "appeared")
    assert top["calls_contender"] == 1 and explained["cholesky"]["ratio"] > 1.3
    assert "aten::mm" not in {c["name"] for c in explained["lu"]["changes"]}
