"""Plain ``asv run`` records what ``ptbench run`` records, through ptbench's asv plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from asv import util as asv_util
from asv.commands import run as asv_run
from asv.machine import Machine
from asv.results import Results

from helpers import PROJECT, assert_peaks_recorded
from ptbench.hardware import noise
from ptbench.run import asv_plugin


class FakeEnvironment:
    """An asv environment whose Python prints the facts ptbench asks for."""

    def __init__(self, facts: dict) -> None:
        self.facts, self.commands = facts, []

    def run(self, arguments):
        self.commands.append(arguments)
        return "a warning line first\n" + json.dumps(self.facts) + "\n"


def empty_results() -> Results:
    return Results({"machine": "m", "torch": "2.13.0"}, {"torch": "2.13.0"}, "a" * 40, 0,
                   "3.11", "virtualenv-py3.11-torch2.13.0", {})  # fmt: skip


def test_the_wrapped_run_records_samples_facts_and_noise():
    calls = []

    def original(benchmarks, env, results=None, **kwargs):
        calls.append(kwargs)
        return "asv's outcome"

    facts = {"torch": "2.13.0+cpu", "torch_build": "cpu", "blas": "mkl", "torch_threads": "2"}
    env, results = FakeEnvironment(facts), empty_results()
    outcome = asv_plugin.run_benchmarks(original, ["b"], env, results=results,
                                        record_samples=False, quick=True)  # fmt: skip
    assert outcome == "asv's outcome"
    assert calls == [{"record_samples": True, "quick": True}]
    assert env.commands == [["-c", asv_plugin.FACTS_PROGRAM]]
    assert results.params["torch"] == "2.13.0+cpu"  # the build pip installed, not the pin
    assert results.params["blas"] == "mkl" and results.params["machine"] == "m"
    verdict = results.params[noise.VERDICT_KEY]
    assert verdict == "quiet" or verdict.startswith("disturbed: ")


def test_the_facts_program_prints_this_environments_settings():
    completed = subprocess.run([sys.executable, "-c", asv_plugin.FACTS_PROGRAM],
                               capture_output=True, text=True, check=True)  # fmt: skip
    facts = json.loads(completed.stdout)
    assert facts["torch"] == torch.__version__
    assert facts["torch_cuda"] == (torch.version.cuda or "none")


def test_setup_patches_asv_once(monkeypatch):
    monkeypatch.setattr(asv_run, "run_benchmarks", asv_run.run_benchmarks)
    monkeypatch.setattr(Machine, "get_unique_machine_name", Machine.get_unique_machine_name)
    original = asv_run.run_benchmarks
    asv_plugin.setup()
    asv_plugin.setup()  # asv may load plugins twice: still one wrapper
    assert asv_run.run_benchmarks.func is asv_plugin.run_benchmarks
    assert asv_run.run_benchmarks.args == (original,)
    monkeypatch.setattr(asv_plugin, "machine_name", lambda: "amd-epyc-2cpu")
    assert Machine.get_unique_machine_name() == "amd-epyc-2cpu"


def test_the_config_loads_the_plugin_and_pins_only_torch():
    config = asv_util.load_json(str(PROJECT / "asv.conf.json"), js_comments=True)
    assert config["plugins"] == [".ptbench.run.asv_plugin"]
    assert list(config["matrix"]["req"]) == ["torch"]  # no empty pins in env names


@pytest.mark.slow
def test_plain_asv_run_records_what_ptbench_run_records(tmp_path, asv_home):
    config = asv_util.load_json(str(PROJECT / "asv.conf.json"), js_comments=True)
    config.update(repo=str(PROJECT), benchmark_dir=str(PROJECT / "benchmarks"), matrix={},
                  results_dir=str(tmp_path / "results"), env_dir=str(tmp_path / "env"),
                  html_dir=str(tmp_path / "html"))  # fmt: skip
    asv_util.write_json(str(tmp_path / "asv.conf.json"), config)
    commit = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    completed = subprocess.run(
        [sys.executable, "-m", "asv", "run", "--config", str(tmp_path / "asv.conf.json"),
         "--python=same", "--set-commit-hash", commit, "--bench", "time_sum"],
        cwd=PROJECT, capture_output=True, text=True, check=False,
        env={**os.environ, "PTBENCH_TIER": "smoke"},  # HOME: asv_home, private
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    expected = json.loads(
        subprocess.run(
            [sys.executable, "-m", "ptbench.cli", "machine"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    (path,) = (tmp_path / "results" / expected["machine"]).glob(f"{commit[:8]}-*.json")
    data = json.loads(path.read_text())
    assert data["params"]["torch"] == torch.__version__
    assert data["params"]["torch_build"] == expected["torch_build"]
    assert_peaks_recorded(data["params"], completed.stderr)
    verdict = data["params"][noise.VERDICT_KEY]  # "quiet", or "disturbed: <why>"
    assert verdict == "quiet" or verdict.startswith("disturbed: ")
    row = dict(zip(data["result_columns"], data["results"]["bench_elementwise.time_sum"],
                   strict=False))  # fmt: skip
    assert row["samples"] and all(len(samples) >= 4 for samples in row["samples"][:2])
