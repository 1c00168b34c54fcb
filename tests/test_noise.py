"""The noise guard: how quiet the machine was, recorded with results, and never a regression
from a disturbed run."""

from __future__ import annotations

from helpers import edit_result, fixture_runs, scale_result
from ptbench.analysis.compare import INCONCLUSIVE, compare
from ptbench.data.results import load_results
from ptbench.hardware import noise


def state(seconds=0.0, load=0.5, steal=1000, calibration=0.010) -> noise.Snapshot:
    return noise.Snapshot(seconds, load, steal, calibration)


def test_a_quiet_run():
    facts = noise.assess(state(), state(seconds=100, steal=1010), cpus=2)
    assert facts["noise"] == "quiet"
    assert facts["noise_steal_share"] == "0.0005"  # 10 ticks of 100 s x 2 CPUs x 100 ticks/s
    assert facts["noise_calibration_change"] == "+0.000"


def test_each_signal_marks_a_run_disturbed():
    busy = noise.assess(state(load=3.5), state(seconds=10, load=0.2), cpus=2)
    assert busy["noise"] == "disturbed: start: load 3.5 on 2 CPUs"
    stolen = noise.assess(state(), state(seconds=10, steal=1400), cpus=2)
    assert stolen["noise"] == "disturbed: hypervisor steal 20% of CPU time"
    slowed = noise.assess(state(), state(seconds=10, calibration=0.015), cpus=2)
    assert slowed["noise"] == "disturbed: calibration workload +50% from start to end"
    assert noise.is_disturbed(slowed["noise"]) and not noise.is_disturbed("quiet")


def test_one_other_cpu_bound_process_is_enough_to_disturb_a_run():
    """Measured for real: a busy loop beside this process, on a machine whose load average
    would still read under its cores plus one."""
    import subprocess
    import sys
    import time

    quiet = noise.others_running()
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        busy = noise.others_running()
    finally:
        spinner.kill()
        spinner.wait()
    assert busy >= quiet + 1 and busy >= 1
    crowded = noise.Snapshot(0.0, 0.5, 1000, 0.010, others=busy)
    facts = noise.assess(crowded, state(seconds=10), cpus=2)
    assert facts["noise"] == f"disturbed: start: {busy:g} other process(es) running on 2 CPUs"
    assert facts["noise_others_before"] == f"{busy:g}" and facts["noise_others_after"] == "0"


def test_steal_is_the_eighth_value_of_proc_stat_or_unknown(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text("cpu  1153502 5745 152127 880478 2887 0 1875 1621 0 0\ncpu0 1 2 3\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(
        stat if path == "/proc/stat" else path, *a, **k))  # fmt: skip
    assert noise._steal_ticks() == 1621
    stat.write_text("intr 5 6\n")  # not the cpu line: unknown, never a made-up number
    assert noise._steal_ticks() == -1


def test_the_machine_is_read_for_real():
    now = noise.snapshot()
    assert now.load >= 0 and now.calibration_seconds > 0
    assert isinstance(now.steal_ticks, int)


def test_compare_never_calls_a_disturbed_run_a_regression(results_copy):
    import json

    first, second = fixture_runs(results_copy)
    base, cont = (json.loads(path.read_text())["commit_hash"] for path in (first, second))
    scale_result(second, "bench_linalg.time_solve", ("cpu", 64, "float64", "lu"), 1.5)
    before = compare(load_results(results_copy), {"commit": base}, {"commit": cont})
    assert len(before.regressions) == 1
    edit_result(second, lambda data: data["params"].update(noise="disturbed: load 5.0 on 2 CPUs"))
    judged = compare(load_results(results_copy), {"commit": base}, {"commit": cont})
    assert judged.regressions.empty
    (row,) = judged.pairs[judged.pairs["note"].str.contains("disturbed")].itertuples()
    assert row.verdict == INCONCLUSIVE
    assert row.note == "not a regression: the run was disturbed (contender: load 5.0 on 2 CPUs)"
    assert row.ratio > 1.4


class FakeNvml:
    """pynvml's calls that gpu_noise makes, answering with one GPU's readings."""

    NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0

    def __init__(self, sm=1980, reasons=0x0, power_mw=350_000, temperature=45):
        self.sm, self.reasons, self.power_mw, self.temperature = sm, reasons, power_mw, temperature
        self.shut = False

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shut = True

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, index):
        return ("gpu", index)

    def nvmlDeviceGetClockInfo(self, handle, clock):
        return self.sm if clock == self.NVML_CLOCK_SM else 3201

    def nvmlDeviceGetPowerUsage(self, handle):
        return self.power_mw

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return self.temperature

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle):  # the older name only
        return self.reasons


def gpu_state(monkeypatch, fake):
    import sys

    from ptbench.hardware import gpu_noise

    monkeypatch.setitem(sys.modules, "pynvml", fake)
    return gpu_noise.read()


def test_a_gpu_that_throttled_for_heat_disturbs_the_run(monkeypatch):
    start = gpu_state(monkeypatch, FakeNvml())
    end = gpu_state(monkeypatch, FakeNvml(sm=1410, reasons=0x20 | 0x04, temperature=88))
    facts = noise.assess(noise.Snapshot(0.0, 0.5, 1000, 0.010, start),
                         noise.Snapshot(10.0, 0.5, 1000, 0.010, end), cpus=2)  # fmt: skip
    assert facts["noise"] == "disturbed: end: GPU 0 throttled (software thermal slowdown)"
    assert facts["noise_gpu0_sm_mhz"] == "1980 -> 1410"
    assert facts["noise_gpu0_temperature_c"] == "45 -> 88"
    assert facts["noise_gpu0_power_w"] == "350 -> 350"
    assert facts["noise_gpu0_clock_events"] == "none -> power cap, software thermal slowdown"


def test_a_gpu_at_its_power_cap_is_recorded_and_still_quiet(monkeypatch):
    start = gpu_state(monkeypatch, FakeNvml(reasons=0x04))
    end = gpu_state(monkeypatch, FakeNvml(reasons=0x04 | 0x01))
    facts = noise.assess(noise.Snapshot(0.0, 0.5, 1000, 0.010, start),
                         noise.Snapshot(10.0, 0.5, 1000, 0.010, end), cpus=2)  # fmt: skip
    assert facts["noise"] == "quiet"
    assert facts["noise_gpu0_clock_events"] == "power cap -> idle, power cap"


def test_no_nvml_means_no_gpu_facts(monkeypatch):
    import sys

    from ptbench.hardware import gpu_noise

    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails, as on a CPU machine
    assert gpu_noise.read() == ()
    facts = noise.assess(state(), state(seconds=10), cpus=2)
    assert not any(key.startswith("noise_gpu") for key in facts) and facts["noise"] == "quiet"


def test_a_hardware_thermal_slowdown_disturbs_the_run_as_a_busy_cpu_does(monkeypatch):
    start = gpu_state(monkeypatch, FakeNvml())
    end = gpu_state(monkeypatch, FakeNvml(reasons=0x40))
    facts = noise.assess(noise.Snapshot(0.0, 0.5, 1000, 0.010, start),
                         noise.Snapshot(10.0, 0.5, 1000, 0.010, end), cpus=2)  # fmt: skip
    verdict = facts["noise"]
    assert noise.is_disturbed(verdict) and "hardware thermal slowdown" in verdict


def test_only_contention_withholds_a_paired_regression():
    """ab's rounds back to back cancel a machine that slowed from start to end (all a
    calibration change says); other work on the CPUs, steal or throttling withhold it."""
    from ptbench.analysis.ab import paired

    calibration = "disturbed: calibration workload -42% from start to end"
    assert noise.is_disturbed(calibration) and not noise.contended(calibration)
    assert noise.contended("disturbed: end: load 3.2 on 2 CPUs")
    assert noise.contended(f"disturbed: hypervisor steal 20% of CPU time; {calibration[11:]}")
    assert not noise.contended("quiet") and not noise.contended(None)
    slowed = [[1e-3, 1.3e-3 * (1 + 0.005 * (i % 3))] for i in range(8)]
    document = {"factor": 1.1, "noise": {"noise": calibration},
                "pairs": [{"benchmark": "b", "params": [1], "verdict": "same", "rounds": slowed,
                           "note": ""}]}  # fmt: skip
    (pair,) = paired.judged_pairs(document)
    assert pair["verdict"] == "slower" and pair["regression"]
    document["noise"]["noise"] = "disturbed: start: load 3.5 on 2 CPUs"
    (pair,) = paired.judged_pairs(document)
    assert pair["verdict"] == "inconclusive" and "the run was disturbed" in pair["note"]
