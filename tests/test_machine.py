"""Machine facts: collected with and without a GPU, nvidia-smi or a CUDA build; recorded where
asv keeps them."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
import torch

from helpers import ptbench
from ptbench.hardware import machine

H100 = SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=85_520_809_984, major=9, minor=0)


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch):
    """The machine quiet at every probe, whatever else this VM runs: a probe is repeated when
    it is busy (``machine.quietly``), which the tests of a busy machine ask for themselves."""
    from ptbench.hardware import noise

    quiet = noise.Snapshot(0.0, 0.5, 1000, 0.010, others=0.0)
    monkeypatch.setattr(noise, "snapshot", lambda: quiet)


@pytest.fixture
def cuda_machine(monkeypatch):
    """A CUDA build of torch that sees two H100s (simulated on the CPU)."""
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: H100)
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91002)
    monkeypatch.setattr(
        torch.backends.cuda, "preferred_linalg_library", lambda: "_LinalgBackend.Cusolver"
    )


def fake_nvidia_smi(tmp_path, monkeypatch, script: str) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    executable = folder / "nvidia-smi"
    executable.write_text(f"#!/bin/sh\n{script}\n")
    executable.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_a_cpu_only_build_says_why_there_is_no_gpu(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    facts = machine.collect()
    assert facts["gpu"] == "none" and facts["torch_build"] == "cpu"
    assert facts["unknown"]["gpu"] == f"torch {torch.__version__} is a CPU-only build"
    assert facts["torch"] == torch.__version__ and facts["torch_git"] == torch.version.git_version
    assert facts["num_cpu"] == str(os.cpu_count())
    assert facts["blas"] in ("mkl", "open", "openblas", "unknown") or "/" in facts["blas"]
    assert machine.default_name(facts).endswith(f"-{os.cpu_count()}cpu")


def test_a_cuda_build_without_a_device(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    facts = machine.collect()
    assert facts["gpu"] == "none" and facts["torch_build"] == "cuda12.8"
    assert facts["unknown"]["gpu"] == "this CUDA build of torch sees no CUDA device"


def test_gpus_without_nvidia_smi(cuda_machine, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    facts = machine.collect()
    assert facts["gpu"] == "NVIDIA H100 80GB HBM3" and facts["gpu_count"] == "2"
    assert facts["compute_capability"] == "9.0" and facts["gpu_memory"] == "85520809984"
    assert facts["cuda_runtime"] == "12.8" and facts["cudnn"] == "91002"
    assert facts["linalg_library"] == "Cusolver"
    assert "cuda_driver" not in facts
    assert facts["unknown"] == {"cuda_driver": "nvidia-smi not found on PATH"}
    assert machine.default_name(facts) == "nvidia-h100-80gb-hbm3-x2"


def test_the_driver_comes_from_nvidia_smi(cuda_machine, tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path, monkeypatch, "echo 570.86.15; echo 570.86.15")
    facts = machine.collect()
    assert facts["cuda_driver"] == "570.86.15" and "cuda_driver" not in facts["unknown"]


def test_a_failing_nvidia_smi_is_reported_not_fatal(cuda_machine, tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path, monkeypatch, "echo 'NVIDIA-SMI has failed' >&2; exit 9")
    facts = machine.collect()
    assert facts["unknown"]["cuda_driver"].startswith("nvidia-smi failed")


def test_write_records_hardware_facts_and_keeps_keys_added_by_hand(
    asv_home, cuda_machine, monkeypatch
):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(machine.peaks, "probe", lambda device: {f"peak_{device}_copy_gbps": "9"})
    monkeypatch.setattr(machine.ceilings, "probe",
                        lambda device: {f"ceiling_{device}_l2_gbps": "99"})  # fmt: skip
    path = asv_home / ".asv-machine.json"
    path.write_text(json.dumps({"version": 1, "nvidia-h100-80gb-hbm3-x2": {"rack": "4"}}))
    name, entry = machine.write()
    assert name == "nvidia-h100-80gb-hbm3-x2"
    stored = json.loads(path.read_text())[name]
    assert stored == entry
    assert stored["rack"] == "4" and stored["gpu"] == "NVIDIA H100 80GB HBM3"
    assert stored["machine"] == name and stored["gpu_count"] == "2"
    assert "torch" not in stored  # the environment's facts belong to each result
    assert stored["peak_cuda_copy_gbps"] == "9" and stored["datasheet_cuda_copy_gbps"] == "3350"
    assert stored["ceiling_cuda_l2_gbps"] == stored["ceiling_cpu_l2_gbps"] == "99"


@pytest.mark.slow
def test_the_command_prints_json_and_rejects_bad_input(asv_home):
    shown = ptbench("machine")
    assert shown.returncode == 0
    facts = json.loads(shown.stdout)
    assert facts["machine"] == machine.default_name(facts) and "unknown" in facts
    assert not (asv_home / ".asv-machine.json").exists()  # printing writes nothing
    written = ptbench("machine", "--write", "--machine", "bench-01")
    assert written.returncode == 0 and "bench-01" in json.loads(
        (asv_home / ".asv-machine.json").read_text()
    )
    bad_name = ptbench("machine", "--write", "--machine", "../escape")
    assert bad_name.returncode == 2 and "cannot name a results folder" in bad_name.stderr
    (asv_home / ".asv-machine.json").write_text("{broken")
    unreadable = ptbench("machine", "--write")
    assert unreadable.returncode == 2 and "is unreadable" in unreadable.stderr
    assert len(unreadable.stderr.strip().splitlines()) == 1
    assert (asv_home / ".asv-machine.json").read_text() == "{broken"


def test_peaks_come_from_the_datasheet_and_the_probe(cuda_machine, monkeypatch):
    from ptbench.hardware import ceilings, peaks

    probed = []
    monkeypatch.setattr(
        peaks,
        "probe",
        lambda device: probed.append(device) or {f"peak_{device}_float32_gflops": "1.0"},
    )
    monkeypatch.setattr(ceilings, "probe", lambda device: {f"ceiling_{device}_l2_gbps": "9.0"})
    facts = {"gpu": "NVIDIA H100 80GB HBM3"}
    found = machine.peak_facts(facts, existing={}, probe=False)
    assert probed == ["cpu", "cuda"]  # nothing known yet: probe both devices
    assert found["datasheet_cuda_bfloat16_gflops"] == "989000"
    assert found["datasheet_cuda_copy_gbps"] == "3350"
    probed.clear()
    again = machine.peak_facts(facts, existing=found, probe=False)
    assert probed == [] and again == found  # known peaks are kept, not re-measured
    machine.peak_facts(facts, existing=found, probe=True)
    assert probed == ["cpu", "cuda"]


def test_datasheets_match_the_most_specific_name():
    from ptbench.hardware import peaks

    assert peaks.datasheet("NVIDIA H100 PCIe")["copy_tbps"] == 2.0
    assert peaks.datasheet("NVIDIA H100 80GB HBM3")["copy_tbps"] == 3.35
    assert peaks.datasheet("NVIDIA H200")["copy_tbps"] == 4.8
    assert peaks.datasheet("NVIDIA A100-SXM4-40GB")["copy_tbps"] == 1.555
    assert peaks.datasheet("Tesla T4") is None


def test_the_probe_measures_this_cpu():
    from ptbench.hardware import peaks

    measured = peaks.probe("cpu")
    assert set(measured) == {
        "peak_cpu_float32_gflops",
        "peak_cpu_float64_gflops",
        "peak_cpu_copy_gbps",
    }
    assert all(float(value) > 0 for value in measured.values())


def test_peaks_are_never_taken_from_a_busy_minute(monkeypatch):
    """The probe is repeated while another process runs beside it, and refused after three
    tries: peaks from a busy minute would make every "% of peak" read too high."""
    from ptbench.hardware import noise

    calls = []
    crowded = noise.Snapshot(0.0, 0.5, 1000, 0.010, others=1.0)
    quiet = noise.Snapshot(0.0, 0.5, 1000, 0.010, others=0.0)
    states = iter([crowded, quiet, quiet, quiet])  # busy at the first probe's start only
    monkeypatch.setattr(noise, "snapshot", lambda: next(states))
    found = machine.quietly(lambda device: calls.append(device) or {"peak": "1"}, "cpu")
    assert found == {"peak": "1"} and calls == ["cpu", "cpu"]
    monkeypatch.setattr(noise, "snapshot", lambda: crowded)
    with pytest.raises(machine.MachineError) as refused:
        machine.quietly(lambda device: calls.append(device) or {}, "cpu")
    assert str(refused.value).startswith("the machine was busy through 3 probes of its cpu "
                                         "peaks (1 other process(es) running on ")
    assert len(calls) == 2 + 3
    assert machine.quietly(lambda device: {"peak": "1"}, "cpu", asked=False) == {}  # a run's own


def test_machine_write_refuses_what_it_cannot_write_before_writing_anything(
    asv_home, tmp_path, capsys, monkeypatch
):
    from helpers import run_cli

    monkeypatch.setattr(machine, "peak_facts", lambda facts, existing, probe: {})
    a_file = tmp_path / "results-file"
    a_file.write_text("keep me")
    status, _out, err = run_cli(capsys, "machine", "--write", "--results", a_file)
    assert status == 2 and "is a file; give a folder" in err
    assert not (asv_home / ".asv-machine.json").exists()  # refused before it was written
    (asv_home / ".asv-machine.json").mkdir()
    status, _out, err = run_cli(capsys, "machine", "--write")
    assert status == 2 and ".asv-machine.json is not a file (a folder?); move it aside" in err
    assert a_file.read_text() == "keep me"


@pytest.mark.parametrize(("text", "message"), [
    (json.dumps({"hm": {"machine": "hm", "cache_cpu_l1_bytes": "abc"}, "version": 1}),
     "the entry for 'hm' has cache_cpu_l1_bytes 'abc', not a number; fix or remove it"),
    (json.dumps({"hm": {"machine": "hm", "peak_cpu_float64_gflops": [1]}, "version": 1}),
     "the entry for 'hm' has peak_cpu_float64_gflops [1], not a number; fix or remove it"),
    ("[" * 100_000 + "]" * 100_000, ".asv-machine.json is unreadable (maximum recursion depth"),
], ids=["text", "a-list", "nested-past-the-parser"])  # fmt: skip
def test_machine_write_names_a_machine_file_it_cannot_keep_in_one_line(asv_home, capsys, text,
                                                                       message):  # fmt: skip
    """A hostile pass: measured facts that are not numbers were kept by --write and then an
    internal error when it described the ceilings; JSON nested past the parser's depth was a
    RecursionError."""
    from helpers import run_cli

    (asv_home / ".asv-machine.json").write_text(text)
    status, _out, err = run_cli(capsys, "machine", "--write", "--machine", "hm")
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert (asv_home / ".asv-machine.json").read_text() == text  # left as it was
