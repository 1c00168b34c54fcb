"""``ptbench slurm``: job scripts per machine type, and a real run on a local Slurm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PROJECT, run_cli
from ptbench.core.errors import InputError
from ptbench.run import slurm

sys.path.insert(0, str(PROJECT / "scripts"))
import local_slurm  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("h100=gpu-h100:gpu:1", slurm.MachineType("h100", "gpu-h100", "gpu:1")),
        ("a100=gpu:gpu:a100:4", slurm.MachineType("a100", "gpu", "gpu:a100:4")),
        ("cpu=compute", slurm.MachineType("cpu", "compute", None)),
    ],
)
def test_a_machine_type_is_name_partition_and_gres(text, expected):
    assert slurm.parse_type(text) == expected


@pytest.mark.parametrize("text", ["h100", "=gpu", "h100=", "h100=gpu:gpu", "a b=gpu", "x=y;rm"])
def test_a_malformed_machine_type_says_what_is_expected(text):
    with pytest.raises(InputError, match=r"give NAME=PARTITION or NAME=PARTITION:GRES"):
        slurm.parse_type(text)


def test_the_job_script_asks_for_a_whole_node_and_archives_its_run(tmp_path):
    request = slurm.SlurmRequest(
        types=(slurm.parse_type("h100=gpu-h100:gpu:8"),), collect=tmp_path,
        project=Path("/shared/ptbench checkout"),
        run_arguments=("--tier", "default", "--bench", "time_(matmul|solve)$"), time="02:00:00",
        python="/shared/venv/bin/python",
    )  # fmt: skip
    text = slurm.script(request, request.types[0])
    assert text.splitlines()[:8] == [
        "#!/bin/bash", "#SBATCH --job-name=ptbench-h100", "#SBATCH --partition=gpu-h100",
        "#SBATCH --gres=gpu:8", "#SBATCH --nodes=1", "#SBATCH --exclusive",
        "#SBATCH --time=02:00:00", f"#SBATCH --output={tmp_path}/logs/h100-%j.log",
    ]  # fmt: skip
    assert "cd '/shared/ptbench checkout'" in text
    assert f"collect={tmp_path}" in text.splitlines()
    assert text.splitlines()[-1] == (
        "/shared/venv/bin/python -m ptbench.cli run --tier default --bench "
        "'time_(matmul|solve)$' --results \"$collect/runs/h100-$SLURM_JOB_ID\" "
        '--archive "$collect/archives/h100-$SLURM_JOB_ID.tar.gz"'
    )


def test_hostile_values_reach_ptbench_as_they_were_given_and_run_nothing(tmp_path):
    """The generated script, run by bash with ptbench stubbed: every argument arrives intact,
    and no $(...), backtick or quote in them runs anything."""
    stub = tmp_path / "python"
    stub.write_text("#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$ARGV_FILE\"\n")
    stub.chmod(0o755)
    hostile = ["--bench", "$(touch pwned)`touch pwned2`\"; touch pwned3; echo '", "--tier", "a b"]
    collect = tmp_path / "collect"
    request = slurm.SlurmRequest(types=(slurm.parse_type("cpu=compute"),), collect=collect,
                                 project=tmp_path, run_arguments=tuple(hostile), python=str(stub))
    slurm.check(request)
    (path,) = [p for p in slurm.write_scripts(request) if p.name == "cpu.sbatch"]
    environment = {**os.environ, "SLURM_JOB_ID": "7", "ARGV_FILE": str(tmp_path / "argv")}
    subprocess.run(["bash", str(path)], cwd=tmp_path, env=environment, check=True)
    assert (tmp_path / "argv").read_text().splitlines() == [
        "-m", "ptbench.cli", "run", *hostile, "--results", f"{collect}/runs/cpu-7",
        "--archive", f"{collect}/archives/cpu-7.tar.gz",
    ]  # fmt: skip
    assert not list(tmp_path.rglob("pwned*"))


@pytest.mark.parametrize("collect", ["a b", "x$(touch pwned)", "x`id`", "x\n#SBATCH --x", 'q"'])
def test_a_collect_folder_a_job_script_cannot_carry_is_refused(tmp_path, capsys, collect):
    status, _out, err = run_cli(capsys, "slurm", "--type", "a=p", "--collect",
                                tmp_path / collect, "--dry-run")  # fmt: skip
    assert status == 2 and "a job script cannot carry it safely" in err
    assert err.count("\n") == 1 and not list(tmp_path.iterdir())


def test_a_dry_run_writes_one_script_per_type_and_submits_nothing(tmp_path, capsys):
    status, out, err = run_cli(capsys, "slurm", "--type", "h100=gpu-h100:gpu:1", "--type",
                               "cpu=compute", "--collect", tmp_path, "--dry-run")  # fmt: skip
    assert (status, err) == (0, "")
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == ["cpu.sbatch", "h100.sbatch"]
    assert f"submit it with: sbatch {tmp_path}/jobs/h100.sbatch" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--type", "a=p", "--type", "a=q"], "--type names must differ; got a, a"),
        (["--type", "a=p", "--time", "2h"], "--time '2h': give HH:MM:SS or D-HH:MM:SS"),
        (["--type", "a=p", "--merge-into", "r"], "--merge-into needs --wait"),
        # Found by a hostile pass: accepted, then refused by sbatch or run on every node.
        (["--type", "a=p", "--time", "99:99:99"], "(minutes and seconds under 60, hours under"),
        (["--type", "a=p", "--time", "2-24:00:00"], "--time '2-24:00:00': give HH:MM:SS or"),
        (["--type", "a=p", "--bench", "(", "--dry-run"],
         "--bench '(' is not a regular expression: missing ), unterminated subpattern"),
        (["--type", "a=p", "--bench", "time_nothing_at_all", "--dry-run"],
         "--bench 'time_nothing_at_all' matches no benchmark that runs in the default tier on "
         "cpu, cuda"),
    ],
)  # fmt: skip
def test_bad_slurm_requests_get_one_line(tmp_path, capsys, arguments, message):
    status, _out, err = run_cli(capsys, "slurm", "--collect", tmp_path, *arguments)
    assert status == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "jobs").exists()


def test_without_sbatch_it_says_where_to_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch on it
    status, _out, err = run_cli(capsys, "slurm", "--type", "a=p", "--collect", tmp_path)
    assert status == 2 and "sbatch not found: run ptbench slurm on a Slurm login node" in err


def test_a_slurm_that_queues_nothing_is_named_in_one_line(tmp_path, capsys, monkeypatch):
    """A hostile pass: sbatch on a machine without a Slurm controller was exit 3."""
    fake = tmp_path / "bin" / "sbatch"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'sbatch: fatal: Unable to process configuration file' >&2\n"
                    "exit 1\n")  # fmt: skip
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    status, _out, err = run_cli(capsys, "slurm", "--type", "cpu=compute", "--tier", "smoke",
                                "--bench", "time_sum", "--collect", tmp_path / "c")  # fmt: skip
    assert status == 2 and err.count("\n") == 1
    assert err == (
        "ptbench: error: sbatch queued no job (cpu.sbatch: exit status 1: sbatch: fatal: Unable "
        "to process configuration file); run ptbench slurm where Slurm accepts jobs, or submit "
        f"the scripts in {tmp_path / 'c' / 'jobs'} there yourself\n")


@pytest.fixture
def local_cluster(tmp_path):
    reason = local_slurm.missing()
    if reason:
        pytest.skip(f"no local Slurm ({reason}); scripts/test installs it as root")
    with local_slurm.LocalSlurm(tmp_path / "slurm") as cluster:
        yield cluster


@pytest.mark.slow
def test_a_real_slurm_runs_the_suite_and_the_history_gets_its_results(
    tmp_path, asv_home, local_cluster, monkeypatch, capsys
):
    monkeypatch.setenv("SLURM_CONF", str(local_cluster.conf))  # jobs inherit HOME (asv_home)
    history = tmp_path / "history"
    status, out, err = run_cli(
        capsys, "slurm", "--type", f"cpu={local_slurm.PARTITION}", "--tier", "smoke",
        "--bench", "time_sum$", "--device", "cpu", "--collect", tmp_path / "collect",
        "--wait", "--merge-into", history,
    )  # fmt: skip
    assert status == 0, err
    assert out.splitlines()[0].startswith("ptbench: cpu: job ") and "exit 0" in out
    (log,) = (tmp_path / "collect" / "logs").glob("cpu-*.log")
    assert "ptbench: 2 timed, 0 skipped, 0 failed" in log.read_text()
    (result,) = history.glob("*/*-existing-*.json")
    assert json.loads(result.read_text())["params"]["machine"] == result.parent.name
    assert (history / "benchmarks.json").is_file()
