"""ptbench ab: paired statistics, verdicts, the ABBA schedule with fresh workers and
confirmation, the recorded files, bad input, and real A/A and A/B runs."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import PROJECT, checksums, edit_result, fixture_runs, ptbench, run_cli
from ptbench.analysis import stats
from ptbench.analysis.ab import lockstep as ab_lockstep
from ptbench.analysis.ab import record, schedule, verdicts
from ptbench.analysis.ab.schedule import Combination
from ptbench.analysis.compare import EQUIVALENT, INCONCLUSIVE, NOT_COMPARABLE, SLOWER

sys.path.insert(0, str(PROJECT / "scripts"))
import slowed_env  # noqa: E402


def ok(*samples: float) -> dict:
    return {"status": "ok", "samples": list(samples), "number": 10}


# Paired statistics ---------------------------------------------------------------------------


def test_the_paired_estimate_is_the_geometric_mean_with_a_t_interval():
    pairs = [(1.0, 1.25), (2.0, 2.4), (1.0, 1.3), (1.0, 1.27)]
    logs = stats.paired_log_ratios(pairs)
    estimate, low, high, p_value = stats.paired_ratio(logs, alpha=0.01)
    expected = math.exp(np.mean(np.log([1.25, 1.2, 1.3, 1.27])))
    assert estimate == pytest.approx(expected)
    assert low < estimate < high and low > 1  # consistent ratios: the interval excludes 1
    assert p_value == pytest.approx(0.000887, rel=0.01)  # scipy's one-sample t, df = 3


def test_paired_ratios_skip_unusable_rounds_and_need_two_pairs():
    assert len(stats.paired_log_ratios([(1, 2), (0, 1), (1, math.nan), (2, 2)])) == 2
    assert stats.paired_ratio(stats.paired_log_ratios([(1, 2)]), 0.01) == (2.0, 0.0, math.inf, 1.0)
    estimate, low, high, p_value = stats.paired_ratio(np.log([2.0, 2.0, 2.0]), 0.01)
    assert (estimate, low, high, p_value) == pytest.approx((2.0, 2.0, 2.0, 0.0))


def test_the_family_shares_one_percent_over_pairs_and_looks():
    assert verdicts.LOOKS == 5  # 4, 8, 16, 32, 64 pairs
    assert verdicts.per_test_alpha(400) == pytest.approx(0.01 / 400 / 5)
    # TOST at 5% per pair, 3% of it at the first look, 0.5% at each later one
    spent = [verdicts.equivalence_interval_alpha(pairs) for pairs in (3, 4, 5, 8, 9, 16, 64, 99)]
    assert spent == pytest.approx([0.06, 0.06, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    assert [verdicts.look(pairs) for pairs in (1, 4, 5, 8, 9, 16, 17, 32, 33, 64, 128)] == [
        0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4]
    assert sum(verdicts.EQUIVALENCE_LOOK_SHARES) == pytest.approx(1.0)


def test_judging_rounds():
    steady = [(ok(1.0, 1.01), ok(1.5, 1.51))] * 4
    assert verdicts.judge(steady, 1.1, 0.001)["verdict"] == SLOWER
    disturbed = verdicts.judge(steady, 1.1, 0.001, disturbed="disturbed: load 5.0 on 2 CPUs")
    assert disturbed["verdict"] == INCONCLUSIVE and not disturbed["regression"]
    assert "not a regression: the run was disturbed" in disturbed["note"]
    failed = [(ok(1.0), {"status": "failed", "reason": "AssertionError: wrong"})]
    judged = verdicts.judge(failed, 1.1, 0.001)
    assert judged["verdict"] == NOT_COMPARABLE and judged["regression"]
    assert judged["note"] == "baseline ok, contender failed"
    zero = [({"status": "ok", "value": 0.0}, {"status": "ok", "value": 64.0})] * 2
    grown = verdicts.judge(zero, 1.1, 0.001)
    assert grown["ratio"] == math.inf and grown["verdict"] == SLOWER


# The schedule: ABBA, fresh workers every pass, confirmation within the budget ------------------


class FakeWorker:
    """Answers rounds with a fixed ratio and deterministic noise (30%, or 1% for "quiet"); the
    contender's rounds listed in ``SPIKES`` take 10x as long, as a disturbed round does. Logs
    what it was asked."""

    SPIKES = {"spiked": {3}}  # benchmark: which of the contender's rounds (1-based) are hit

    def __init__(self, side: str, log: list, ratio: dict[str, float], started: int):
        self.side, self.log, self.ratio, self.started = side, log, ratio, started
        self.facts = {"settings": {}, "env_name": "existing-py3.11-torch0"}

    def ask(self, request):
        name = request["benchmark"]
        self.log.append((self.started, self.side, name))
        count = sum(1 for entry in self.log if entry[1:] == (self.side, name))
        amplitude = 0.01 if name in ("quiet", "spiked") else 0.3
        wobble = 1 + amplitude * math.sin(count * 2.1 + (self.side == "contender"))
        scale = self.ratio.get(name, 1.0) if self.side == "contender" else 1.0
        if self.side == "contender" and count in self.SPIKES.get(name, ()):
            scale *= 10
        return ok(1e-3 * scale * wobble)

    def close(self):
        pass


@pytest.fixture
def fake_alternation(tmp_path, monkeypatch):
    log: list = []
    ratio = {"slowed": 1.6, "spiked": 1.3}
    alternation = schedule.Alternation(("a", "b"), tmp_path, "smoke", tmp_path, lambda line: None)

    def start(self):
        self.started = getattr(self, "started", 0) + 1
        return [FakeWorker(side, log, ratio, self.started) for side in schedule.SIDES]

    monkeypatch.setattr(schedule.Alternation, "start", start)
    return alternation, log


def test_pairs_alternate_abba_with_fresh_workers_every_pass(fake_alternation):
    alternation, log = fake_alternation
    combinations = [Combination("one", [1]), Combination("two", [2])]
    alternation.fill([(c, 4) for c in combinations])
    assert alternation.passes == 4 and all(len(c.rounds) == 4 for c in combinations)
    one = [(started, side) for started, side, name in log if name == "one"]
    assert [side for _, side in one] == [
        "baseline", "contender", "contender", "baseline",
        "baseline", "contender", "contender", "baseline",
    ]  # fmt: skip
    assert [started for started, _ in one] == [1, 1, 2, 2, 3, 3, 4, 4]  # a pair a pass


class LockstepWorker:
    """A side answering a lockstep round: ``open`` with its first sample, then ``seconds``
    per ``sample`` (the side's own, times 1.5 on the contender), failing a sample or skipping
    the round where told; it logs (side, op)."""

    def __init__(self, side: str, log: list, fail_at: int | None = None, skip: bool = False):
        self.side, self.log, self.fail_at, self.skip, self.samples = side, log, fail_at, skip, 0
        self.seconds = 1e-3 * (1.5 if side == "contender" else 1.0)

    def ask(self, request):
        self.log.append((self.side, request["op"]))
        if request["op"] == "open":
            self.cpus = [*getattr(self, "cpus", []), request["cpu"]]
            return {"status": "skipped", "reason": "no CUDA"} if self.skip else ok(self.seconds)
        if request["op"] == "sample":
            self.samples += 1
            if self.samples == self.fail_at:
                return {"status": "failed", "reason": "AssertionError: a wrong answer"}
            return {"status": "ok", "seconds": self.seconds}
        return {"status": "ok"}

    def send(self, request):  # both sides' rounds opened at once (lockstep.OPEN_TOGETHER)
        self.pending = self.ask(request)

    def receive(self):
        self.log.append((self.side, "reply"))
        return self.pending


def test_a_time_benchmark_s_rounds_alternate_sample_by_sample(tmp_path):
    """Lockstep: both sides open (ABBA from pair to pair), the side opened last samples first,
    then the samples alternate ABBA; both rounds are closed."""
    log: list = []
    workers = [LockstepWorker(side, log) for side in schedule.SIDES]
    alternation = schedule.Alternation(("a", "b"), tmp_path, "smoke", tmp_path, lambda line: None)
    combination = Combination("bench_linalg.time_solve", ["cpu", 64])
    alternation.add_pair(workers, combination)
    b, c = schedule.SIDES
    samples = [(c, "sample"), (b, "sample"), (b, "sample"), (c, "sample")] * (
        ab_lockstep.LOCKSTEP_SAMPLES // 2)
    assert log == [(b, "open"), (c, "open"), *samples, (b, "close"), (c, "close")]
    baseline, contender = combination.rounds[0]
    assert baseline["samples"] == [1e-3] * (1 + ab_lockstep.LOCKSTEP_SAMPLES)
    assert contender["samples"] == [1.5e-3] * (1 + ab_lockstep.LOCKSTEP_SAMPLES)
    log.clear()
    alternation.add_pair(workers, combination)
    assert log[:3] == [(c, "open"), (b, "open"), (b, "sample")]  # the next pair: BA


def test_the_turn_passes_after_a_pause_for_the_last_side_s_threads_to_sleep(monkeypatch):
    """Each time the other side's sample follows, ab waits HANDOVER_SECONDS first: the side
    before's OpenMP threads, spinning 10,000 times after its sample, sleep by then instead of
    spinning into the other side's sample. A side's own next sample follows at once."""
    log: list = []
    pauses: list = []
    monkeypatch.setattr(ab_lockstep.time, "sleep", lambda seconds: (
        pauses.append(seconds), log.append(("pause", seconds))))  # fmt: skip
    workers = [LockstepWorker(side, log) for side in schedule.SIDES]
    combination = Combination("bench_linalg.time_solve", ["cpu", 64])
    ab_lockstep.lockstep(workers, combination, (0, 1), None)
    steps = [entry for entry in log if entry[1] in ("sample", ab_lockstep.HANDOVER_SECONDS)]
    b, c = schedule.SIDES
    pause = ("pause", ab_lockstep.HANDOVER_SECONDS)
    assert steps[:9] == [(c, "sample"), pause, (b, "sample"), (b, "sample"), pause,
                         (c, "sample"), (c, "sample"), pause, (b, "sample")]  # fmt: skip
    assert len(pauses) == ab_lockstep.LOCKSTEP_SAMPLES  # 2 x 10 samples: the turn passes 10 times
    assert set(pauses) == {0.0005}


def test_both_sides_can_set_up_at_once_leaving_out_the_samples_taken_meanwhile(monkeypatch):
    """With OPEN_TOGETHER both rounds set up, warm up and calibrate at the same time: both
    opens are sent before either answer is read, and the samples that answered them (one side
    may have taken its own while the other still warmed up) are left out; the lockstep samples
    follow as ever."""
    monkeypatch.setattr(ab_lockstep, "OPEN_TOGETHER", True)
    monkeypatch.setattr(ab_lockstep.time, "sleep", lambda seconds: None)
    log: list = []
    workers = [LockstepWorker(side, log) for side in schedule.SIDES]
    combination = Combination("bench_linalg.time_solve", ["cpu", 64])
    baseline, contender = ab_lockstep.lockstep(workers, combination, (1, 0), None)
    b, c = schedule.SIDES
    assert log[:5] == [(c, "open"), (b, "open"), (c, "reply"), (b, "reply"), (b, "sample")]
    assert baseline["samples"] == [1e-3] * ab_lockstep.LOCKSTEP_SAMPLES
    assert contender["samples"] == [1.5e-3] * ab_lockstep.LOCKSTEP_SAMPLES
    skipped = [LockstepWorker(b, []), LockstepWorker(c, [], skip=True)]
    replies = ab_lockstep.lockstep(skipped, combination, (0, 1), None)
    assert replies[1] == {"status": "skipped", "reason": "no CUDA"}
    assert replies[0]["samples"] == [1e-3]  # not sampled on: the pair is not comparable


def test_both_sides_of_a_pair_run_on_one_cpu_each_cpu_two_pairs_in_turn(tmp_path, monkeypatch):
    """The two vCPUs here run at different speeds: a pair's two main threads share one CPU,
    and the CPUs take turns two pairs at a time, so that each sees both orders (AB, BA)."""
    monkeypatch.setattr(ab_lockstep.os, "sched_getaffinity", lambda _pid: {5, 3})
    workers = [LockstepWorker(side, []) for side in schedule.SIDES]
    alternation = schedule.Alternation(("a", "b"), tmp_path, "smoke", tmp_path, lambda line: None)
    combination = Combination("bench_linalg.time_solve", ["cpu", 16])
    for _ in range(5):
        alternation.add_pair(workers, combination)
    assert workers[0].cpus == workers[1].cpus == [3, 3, 5, 5, 3]


class SteadyTimer:
    """A timer whose calls take ``call`` seconds each on a fake clock (``clock[0]``)."""

    def __init__(self, clock: list, call: float):
        self.clock, self.call, self.numbers = clock, call, []

    def timeit(self, number):
        self.numbers.append(number)
        self.clock[0] += number * self.call
        return number * self.call


def test_a_lockstep_sample_is_asv_s_sample_time_of_calls_not_one_cold_call(monkeypatch):
    """asv stops calibrating once its warm-up time has passed; a preparing call longer than
    that left ``number`` at 1, and a lockstep sample was one call after the other side's.
    The round raises ``number`` as asv's calibration does until a sample takes asv's
    sample time (10 ms), and its first sample is the last of those blocks."""
    from ptbench.analysis.ab import worker

    clock = [0.0]
    monkeypatch.setattr(worker.time, "perf_counter", lambda: clock[0])
    timer = SteadyTimer(clock, 30e-6)
    assert worker.filled(timer, 1, 0.01) == (366, pytest.approx(366 * 30e-6))
    assert timer.numbers == [1, 10, 100, 333, 366]  # x10, x10, x3.3, then at least x1.1
    slow = SteadyTimer(clock, 0.5)
    assert worker.filled(slow, 1, 0.01) == (1, 0.5)  # a call longer than a sample: one call

    class StoppedAfterPreparing:  # asv-runner's TimeBenchmark, its calibration cut short
        sample_time, _current_params, _setups = 0.01, (), []

        def __init__(self):
            self.benchmark_timing = lambda timer, *_repeats, **_settings: ([], 1)

        def run(self, *params):
            samples, number = self.benchmark_timing(timer, 1, 10, number=0)
            return {"samples": samples, "number": number}

    timer.numbers.clear()
    chosen, number, first = worker._calibrated(StoppedAfterPreparing(), None)
    assert (chosen, number, first) == (timer, 366, pytest.approx(30e-6))


def test_a_lockstep_round_takes_the_warm_up_it_is_asked_for(monkeypatch, tmp_path):
    """ab's lockstep rounds ask for no asv warm-up (lockstep.ROUND_WARMUP_SECONDS), which an
    open request carries to the round; without one (the probe's design ``warm``) the round
    keeps the tier's. ptbench's own warm-up after the checked call stays unless asked for
    (the probe's design ``cold``)."""
    import io

    from ptbench.analysis.ab import worker
    from ptbench.suite import timing

    warmups = []
    requests = []
    monkeypatch.setattr(timing, "WARMUP_SECONDS", 0.05)  # restored after the test

    def calibrated(benchmark, cpu):
        warmups.append((benchmark.warmup_time, timing.WARMUP_SECONDS))
        return None, 1, 1e-6

    class Recording(LockstepWorker):
        def ask(self, request):
            requests.append(request)
            return super().ask(request)

    monkeypatch.setattr(worker, "_calibrated", calibrated)
    for warmup, prepare_warmup in ((None, None), (0.0, None), (0.0, 0.0)):
        replies = io.StringIO()
        worker._serve_round(PROJECT / "benchmarks", "smoke", "bench_elementwise.time_sum",
                            ["cpu", 16], io.StringIO(""), replies, None, warmup,
                            prepare_warmup)  # fmt: skip
        assert json.loads(replies.getvalue()) == {"status": "ok", "samples": [1e-6], "number": 1}
    # the smoke tier's and ptbench's, then asv's none, then neither
    assert warmups == [(0.02, 0.05), (0.0, 0.05), (0.0, 0.0)]
    workers = [Recording(side, []) for side in schedule.SIDES]
    combination = Combination("bench_linalg.time_solve", ["cpu", 16])
    ab_lockstep.lockstep(workers, combination, (0, 1), None)
    ab_lockstep.lockstep(workers, combination, (0, 1), None, 0.0)
    ab_lockstep.lockstep(workers, combination, (0, 1), None, 0.0, 0.0)
    opened = [r for r in requests if r["op"] == "open"]
    assert ["warmup" in r for r in opened] == [False, False, True, True, True, True]
    assert ["prepare_warmup" in r for r in opened] == [False] * 4 + [True, True]
    assert opened[-1]["warmup"] == opened[-1]["prepare_warmup"] == 0.0
    requests.clear()
    alternation = schedule.Alternation(("a", "b"), tmp_path, "smoke", tmp_path, lambda line: None)
    alternation.add_pair(workers, combination)
    assert ab_lockstep.ROUND_WARMUP_SECONDS == 0.0
    opened = [r for r in requests if r["op"] == "open"]
    assert [(r.get("warmup"), "prepare_warmup" in r) for r in opened] == [(0.0, False)] * 2


PIN_PROBE = """
import os, sys, threading
from ptbench.analysis.ab import worker
def mask(tid):
    with open(f"/proc/self/task/{tid}/status") as status:
        line = next(line for line in status if line.startswith("Cpus_allowed_list"))
    return line.split()[1]
stop = threading.Event()
helper = threading.Thread(target=stop.wait)
helper.start()
worker.pin_threads(int(sys.argv[1]))
print(mask(threading.get_native_id()), mask(helper.native_id))
stop.set()
"""


@pytest.mark.parametrize("where", ["first allowed", "not allowed"])
def test_a_round_moves_its_main_thread_to_the_pair_s_cpu_and_the_others_off_it(where):
    """In a child process (pinning the test's own would slow the rest of the run)."""
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed) if where == "first allowed" else max(allowed) + 1
    shown = subprocess.run([sys.executable, "-c", PIN_PROBE, str(cpu)], capture_output=True,
                           text=True, check=True).stdout.split()  # fmt: skip
    main, helper = (_cpus(listed) for listed in shown)
    if where == "not allowed":  # an unknown CPU moves nothing
        assert main == helper == allowed
    else:
        assert main == {cpu} and helper == (allowed - {cpu} or allowed)


def _cpus(listed: str) -> set[int]:
    """The CPUs of the kernel's Cpus_allowed_list ("0-3,6")."""
    cpus: set[int] = set()
    for run in listed.split(","):
        low, _, high = run.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def test_a_slow_operation_takes_fewer_lockstep_samples(tmp_path, monkeypatch):
    """Ten samples a side of an operation of 0.3 s a call made ab a third slower than rounds
    one after the other: past LOCKSTEP_SECONDS a pair takes no more samples."""
    now = [0.0]
    monkeypatch.setattr(schedule.time, "monotonic", lambda: now[0])
    log: list = []

    class Slow(LockstepWorker):
        def ask(self, request):
            now[0] += 0.3 if request["op"] == "sample" else 0.0
            return super().ask(request)

    class Slower(LockstepWorker):  # a call of 0.6 s: one more sample a side
        def ask(self, request):
            now[0] += 0.6 if request["op"] == "sample" else 0.0
            return super().ask(request)

    workers = [Slow(side, log) for side in schedule.SIDES]
    alternation = schedule.Alternation(("a", "b"), tmp_path, "smoke", tmp_path, lambda line: None)
    combination = Combination("bench_linalg.time_eig", ["cpu", 1024])
    alternation.add_pair(workers, combination)
    assert [len(reply["samples"]) for reply in combination.rounds[0]] == [3, 3]  # 1 + c b b c
    log.clear()
    workers = [Slower(side, log) for side in schedule.SIDES]
    alternation.add_pair(workers, combination)  # the next pair: BA
    assert [len(reply["samples"]) for reply in combination.rounds[1]] == [2, 2]  # 1 + b c
    assert [op for _side, op in log].count("sample") == 2


@pytest.mark.parametrize(("worker", "expected"), [
    ({"fail_at": 3}, {"status": "failed", "reason": "AssertionError: a wrong answer"}),
    ({"skip": True}, {"status": "skipped", "reason": "no CUDA"}),
])  # fmt: skip
def test_a_lockstep_round_that_fails_or_is_skipped_says_so_and_is_closed(tmp_path, worker,
                                                                         expected):  # fmt: skip
    log: list = []
    workers = [LockstepWorker("baseline", log), LockstepWorker("contender", log, **worker)]
    alternation = schedule.Alternation(("a", "b"), tmp_path, "smoke", tmp_path, lambda line: None)
    combination = Combination("bench_linalg.time_solve", ["cpu", 64])
    alternation.add_pair(workers, combination)
    baseline, contender = combination.rounds[0]
    assert contender == expected and baseline["status"] == "ok"
    assert log[-2:] == [("baseline", "close"), ("contender", "close")]
    asked = sum(1 for _side, op in log if op == "sample")
    assert asked == (0 if "skip" in worker else 5)  # c, b, b, c, then c's third failed


def test_workers_threads_spin_briefly_unless_the_user_chose(tmp_path, monkeypatch):
    """An idle side's OpenMP threads spinning 3 ms after its sample slowed the other side's
    next one 2-30x; sleeping at once made each parallel region pay a 40 us wake-up (ones at
    65,536 elements: 46 us a call instead of 4.4). ab's workers spin 10,000 times, about
    0.1 ms, unless the user chose how OpenMP waits (then all is as the user set it)."""
    seen = []

    class Started:
        def __init__(self, command, env, **_options):
            seen.append({k: env.get(k) for k in schedule.OPENMP_CHOICES})

    monkeypatch.setattr(schedule.subprocess, "Popen", Started)
    for name in schedule.OPENMP_CHOICES:
        monkeypatch.delenv(name, raising=False)
    schedule.Worker("baseline", sys.executable, tmp_path, "smoke", tmp_path / "log")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    schedule.Worker("baseline", sys.executable, tmp_path, "smoke", tmp_path / "log")
    assert seen == [
        {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "10000", "KMP_BLOCKTIME": "0"},
        {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": None, "KMP_BLOCKTIME": None},
    ]


@pytest.mark.slow
def test_a_real_worker_takes_a_round_sample_by_sample(tmp_path):
    worker = schedule.Worker("baseline", sys.executable, PROJECT / "benchmarks", "smoke",
                             tmp_path / "baseline.log")  # fmt: skip
    try:
        assert worker.ask({"op": "sample"}) == {"status": "failed", "reason": "no round is open"}
        cpu = max(os.sched_getaffinity(0))  # moves the round's main thread there
        opened = worker.ask({"op": "open", "benchmark": "bench_elementwise.time_sum",
                             "params": ["cpu", 16], "cpu": cpu})  # fmt: skip
        assert opened["status"] == "ok" and opened["number"] >= 1, opened
        assert len(opened["samples"]) == 1 and 0 < opened["samples"][0] < 1e-3
        samples = [worker.ask({"op": "sample"}) for _ in range(3)]
        assert all(s["status"] == "ok" and 0 < s["seconds"] < 1e-3 for s in samples), samples
        assert worker.ask({"op": "close"}) == {"status": "ok"}
        assert worker.ask({"op": "sample"})["reason"] == "no round is open"
        skipped = worker.ask({"op": "open", "benchmark": "bench_elementwise.time_sum",
                              "params": ["cuda", 16]})  # fmt: skip
        assert skipped["status"] in ("skipped", "failed") and skipped["reason"], skipped
    finally:
        worker.close()


def test_ab_shows_its_pairs_with_the_time_left_on_stderr(fake_alternation, capsys, monkeypatch):
    from ptbench.core import progress

    monkeypatch.setattr(progress, "PLAIN_EVERY_SECONDS", 0.0)  # a line even for a quick one
    alternation, _log = fake_alternation
    alternation.show_progress = True
    combinations = [Combination("one", [1]), Combination("two", [2])]
    alternation.fill([(c, 4) for c in combinations])
    out, err = capsys.readouterr()
    assert out == ""  # stdout is the table's (or the JSON's)
    lines = err.splitlines()  # a line a tenth of the way at most, then the last
    assert lines[-1] == "ptbench ab: first pairs: 8/8 pairs, 0:00 elapsed (two)"
    assert lines[0].startswith("ptbench ab: first pairs: 1/8 pairs, 0:00 elapsed, about ")
    assert len(lines) == 8


def test_confirmation_doubles_the_inconclusive_until_decided(fake_alternation):
    alternation, _log = fake_alternation
    slowed, quiet = Combination("slowed", [1]), Combination("quiet", [2])
    alternation.fill([(c, 4) for c in (slowed, quiet)])
    schedule.judge_all([slowed, quiet], factor=1.1)
    assert slowed.verdict["verdict"] == INCONCLUSIVE  # 4 noisy pairs: interval holds 1
    assert slowed.verdict["detectable"] > 1.6  # what these pairs could have confirmed
    assert quiet.verdict["verdict"] == EQUIVALENT and quiet.looks == 1  # decided: no more rounds
    alternation.confirm([slowed, quiet], factor=1.1, budget=60)
    assert slowed.verdict["verdict"] == SLOWER and slowed.looks >= 2
    assert len(slowed.rounds) in (8, 16, 32, 64) and len(quiet.rounds) == 4
    assert 1 / 1.1 <= quiet.verdict["equivalence_low"] <= quiet.verdict["equivalence_high"] <= 1.1


def test_a_disturbed_round_is_set_aside_and_replaced(fake_alternation):
    alternation, _log = fake_alternation
    spiked = Combination("spiked", [1])  # 1.3x slower, its contender's third round 10x
    alternation.fill([(spiked, 4)])
    assert len(spiked.rounds) == 5 and verdicts.clean_pairs(spiked.rounds) == 4
    schedule.judge_all([spiked], factor=1.1)
    assert spiked.verdict["set_aside"] == 1 and spiked.verdict["pairs"] == 4
    assert spiked.verdict["ratio"] == pytest.approx(1.3, rel=0.02)
    assert "1 disturbed pair(s) set aside" in spiked.verdict["note"]


def test_the_nearest_to_a_decision_is_refined_first():
    """A 1.3x change from 4 pairs of 5% spread: a few pairs from confirmed, because the family's
    t quantile falls fast; a 40% spread around 1: hopeless within 64 pairs."""
    alpha = verdicts.per_test_alpha(30)
    near, far, noisy = (Combination(name, [i]) for i, name in enumerate(("near", "far", "noisy")))
    for combination, centre, spread in ((near, 1.3, 0.05), (far, 1.0, 0.4), (noisy, 1.0, 0.06)):
        logs = math.log(centre) + spread * np.array([1, -1, 0.5, -0.5])
        combination.rounds = [(ok(1.0), ok(math.exp(v))) for v in logs]
        combination.seconds = 8.0  # the same cost a pair
        combination.verdict = verdicts.judge(combination.rounds, 1.1, alpha)
    assert near.verdict["verdict"] == INCONCLUSIVE  # t is about 30 at 4 pairs
    # 8 pairs would confirm it (4 more, 2 s each), and show the noisy one equivalent
    assert near.seconds_to_decide(1.1, alpha) == 4 * 2.0
    assert noisy.seconds_to_decide(1.1, alpha) == 4 * 2.0
    assert math.isinf(far.seconds_to_decide(1.1, alpha))
    assert math.isinf(Combination("unjudged", [3]).seconds_to_decide(1.1, alpha))
    # Three pairs within 1% and one off by 1.6x (under the set-aside floor): its interval says
    # hopeless, the pairs' robust spread says 8 pairs, which the trimmed interval will use.
    odd = Combination("odd", [4])
    odd.rounds = [(ok(1.0), ok(v)) for v in (1.0, 1.01, 0.99, 1.6)]
    odd.seconds, odd.verdict = 8.0, verdicts.judge(odd.rounds, 1.1, alpha)
    assert odd.verdict["verdict"] == INCONCLUSIVE and odd.verdict["equivalence_high"] > 1.5
    assert verdicts.robust_spread(odd.rounds) == pytest.approx(1.4826 * 0.01, rel=0.05)
    assert odd.seconds_to_decide(1.1, alpha) == 4 * 2.0


def test_one_pair_off_by_a_third_does_not_make_a_quiet_pair_look_hopeless():
    """An A/A run's eigh at n = 256: pairs at 1.03, 0.98, 1.35 and 1.05. The mean of the 4
    logs reads 1.09x, so near the factor that no count of pairs was guessed to decide it, and
    it kept its 4 pairs while the budget went elsewhere. Their median (1.04x) and robust
    spread (0.05) say that 16 pairs would show it equivalent."""
    alpha = verdicts.per_test_alpha(262)
    eigh = Combination("eigh", [256])
    eigh.rounds = [(ok(1.0), ok(math.exp(v))) for v in (0.027, -0.022, 0.303, 0.047)]
    eigh.seconds, eigh.verdict = 8.0, verdicts.judge(eigh.rounds, 1.1, alpha)
    assert eigh.verdict["verdict"] == INCONCLUSIVE
    assert eigh.verdict["ratio"] == pytest.approx(math.exp(0.355 / 4))  # the mean of logs
    assert verdicts.robust_centre(eigh.rounds) == pytest.approx(0.037)
    assert eigh.seconds_to_decide(1.1, alpha) == 12 * 2.0  # 16 pairs, 2 s each


def test_the_budget_goes_where_it_can_decide():
    """Refined together: the cheapest to decide, as many as their guessed seconds fit in what
    is left; none fitting, the cheapest alone; none decidable at all, every one of them."""
    cheap, dear, hopeless = (Combination(name, [i]) for i, name in
                             enumerate(("cheap", "dear", "hopeless")))  # fmt: skip
    pending = [cheap, dear, hopeless]
    guesses = {id(cheap): 10.0, id(dear): 50.0, id(hopeless): math.inf}
    assert schedule.affordable(pending, guesses, 100.0) == [cheap, dear]
    assert schedule.affordable(pending, guesses, 59.0) == [cheap]
    assert schedule.affordable(pending, guesses, 5.0) == [cheap]  # a rough guess: try it
    assert schedule.affordable([hopeless], guesses, 100.0) == [hopeless]


def test_confirmation_leaves_the_hopeless_while_a_decidable_one_waits(fake_alternation):
    """A 1.6x change in noisy pairs (a few pairs from confirmed) and a noisy A/A pair whose
    equivalence needs more pairs than the budget: the budget goes to the first."""
    alternation, _log = fake_alternation
    slowed, noisy = Combination("slowed", [1]), Combination("noisy", [2])
    alternation.fill([(c, 4) for c in (slowed, noisy)])
    schedule.judge_all([slowed, noisy], factor=1.1)
    assert [c.verdict["verdict"] for c in (slowed, noisy)] == [INCONCLUSIVE, INCONCLUSIVE]
    alpha = verdicts.per_test_alpha(2)
    assert slowed.seconds_to_decide(1.1, alpha) < noisy.seconds_to_decide(1.1, alpha)
    refined = alternation.refine([slowed, noisy], {id(slowed): 1.0, id(noisy): math.inf}, 60)
    assert refined == [slowed]
    alternation.confirm([slowed, noisy], factor=1.1, budget=60)
    assert slowed.verdict["verdict"] == SLOWER and len(noisy.rounds) > 4  # then the rest


def test_no_budget_no_confirmation(fake_alternation):
    alternation, _log = fake_alternation
    slowed = Combination("slowed", [1])
    alternation.fill([(slowed, 4)])
    schedule.judge_all([slowed], factor=1.1)
    alternation.confirm([slowed], factor=1.1, budget=0)
    assert len(slowed.rounds) == 4 and slowed.verdict["verdict"] == INCONCLUSIVE


# Recording: ordinary asv result files that ptbench compare reads ------------------------------


def test_both_sides_are_ordinary_asv_results(tmp_path):
    from ptbench.analysis.compare import compare
    from ptbench.data.results import load_results

    catalogue = json.loads((PROJECT / "tests/fixtures/results/benchmarks.json").read_text())
    combination = Combination("bench_elementwise.time_sum", ["cpu", 16])
    combination.rounds = [(ok(1.0, 2.0), ok(3.0)), (ok(4.0), ok(5.0, 6.0))]
    params = {"machine": "m", "torch": "2.0", "python": "3.11", "noise": "quiet"}
    for side, env in enumerate(("ab-baseline-x", "ab-contender-x")):
        result = record.side_result(side, params, env, "f" * 40, 1_700_000_000_000, [combination],
                                    catalogue)  # fmt: skip
        record.save(result, record.result_path(tmp_path, "m", "f" * 40, env))
    record.save_catalogue(tmp_path, {k: v for k, v in catalogue.items() if k != "version"})
    frame = load_results(tmp_path)
    sums = frame[(frame["benchmark"] == "bench_elementwise.time_sum") & (frame["status"] == "ok")]
    by_env = dict(zip(sums["env"], sums["samples"], strict=True))
    assert by_env == {"ab-baseline-x": [1.0, 2.0, 4.0], "ab-contender-x": [3.0, 5.0, 6.0]}
    assert len(frame[frame["benchmark"] == "bench_elementwise.time_sum"]) == 2 * 18  # n/a kept
    pairs = compare(frame, {"env": "ab-baseline-x"}, {"env": "ab-contender-x"}).pairs
    assert pairs.iloc[0]["ratio"] == pytest.approx(5.0 / 2.0)


def test_an_earlier_ab_run_is_never_replaced(tmp_path):
    taken = tmp_path / "m" / "x.json"
    taken.parent.mkdir()
    taken.write_text("{}")
    with pytest.raises(Exception, match="exists .an A/B run of these environments"):
        record.check_free([tmp_path / "free.json", taken])


# The command ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--baseline", "/nonexistent/python"], "--baseline /nonexistent/python: cannot start"),
        (["--budget", "-1"], "argument --budget: '-1' must be a number of seconds"),
        (["--factor", "0.5"], "argument --factor: '0.5' must be a number greater than 1"),
        (["--bench", "nothing_matches_this"], "--bench 'nothing_matches_this' matches no"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, asv_home, capsys, arguments, message):
    defaults = {"--baseline": sys.executable, "--contender": sys.executable}
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    options = [item for pair in {**defaults, **given}.items() for item in pair]
    status, out, err = run_cli(capsys, "ab", *options, "--results", tmp_path / "r")
    assert status == 2 and out == ""
    lines = [line for line in err.strip().splitlines() if line.startswith("ptbench")]
    assert len(lines) == 1 and message in lines[0], err
    assert not (tmp_path / "r").exists() or checksums(tmp_path / "r") == {}


def test_a_python_without_ptbench_is_bad_input(tmp_path, asv_home, capsys):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    status, _out, err = run_cli(
        capsys, "ab", "--baseline", sys.executable, "--contender", bare / "bin" / "python",
        "--results", tmp_path / "r",
    )  # fmt: skip
    assert status == 2
    assert "cannot run ptbench's worker (" in err and "No module named 'ptbench'" in err
    assert "give a Python that has torch and ptbench" in err


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sleep 600", "gave no answer in 3 s"),  # a side that never answers
        ("while read -r line; do echo hello; done", "not ptbench's protocol: 'hello'"),
    ],
)
def test_a_side_that_never_answers_or_babbles_ends_in_one_line(
    tmp_path, asv_home, capsys, monkeypatch, body, message
):
    import tempfile
    import time

    monkeypatch.setattr(schedule, "START_TIMEOUT_SECONDS", 3.0)
    side = tmp_path / "side"
    side.write_text(f"#!/bin/bash\n{body}\n")
    side.chmod(0o755)
    scratch = Path(tempfile.gettempdir())
    before = set(scratch.glob("ptbench-ab-*"))
    start = time.monotonic()
    status, out, err = run_cli(capsys, "ab", "--baseline", side, "--contender", sys.executable)
    assert status == 2 and out == "" and time.monotonic() - start < 60
    assert f"--baseline {side} cannot run ptbench's worker (" in err and message in err, err
    assert "its log" not in err  # removed with the refusal: not named
    assert err.count("\n") == 1
    assert set(scratch.glob("ptbench-ab-*")) == before  # no logs or results folder left


@pytest.mark.parametrize("given", [False, True])
def test_an_interrupted_ab_leaves_no_scratch_folder(tmp_path, asv_home, capsys, monkeypatch,
                                                    given):  # fmt: skip
    """A hostile pass: Ctrl-C or SIGTERM during ``ab`` left its logs folder in TMPDIR (and the
    results folder it had made when --results was not given)."""
    import tempfile

    from ptbench.analysis.ab import session as ab_session

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    started = []

    def interrupted(alternation, *_arguments):
        started.append(sorted(p.name.rsplit("-", 1)[0] for p in scratch.iterdir()))
        raise KeyboardInterrupt

    monkeypatch.setattr(ab_session, "_selected", interrupted)
    results = ["--results", tmp_path / "given"] if given else []
    status, _out, err = run_cli(capsys, "ab", "--baseline", sys.executable, "--contender",
                                sys.executable, *results)  # fmt: skip
    assert status == 130 and err.endswith("interrupted; results/ holds only completed files\n")
    made = ["ptbench-ab-logs"] + ([] if given else ["ptbench-ab-results"])
    assert started == [sorted(made)] and list(scratch.iterdir()) == []


ONE_SOLVE = r"time_solve\('cpu', 64, 'float64', '(lu|cholesky)'\)"


@pytest.mark.slow
def test_a_real_a_a_run_finds_nothing_and_writes_asv_results(tmp_path, asv_home):
    results = tmp_path / "ab"
    completed = ptbench(
        "ab", "--baseline", sys.executable, "--contender", sys.executable, "--tier", "smoke",
        "--bench", ONE_SOLVE, "--budget", "20", "--results", results, "--format", "json",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    document = json.loads(completed.stdout)
    assert {pair["method"] for pair in document["pairs"]} == {"lu", "cholesky"}
    assert all(pair["verdict"] in (EQUIVALENT, INCONCLUSIVE) for pair in document["pairs"])
    assert all(0 < pair["ratio_low"] <= pair["ratio"] <= pair["ratio_high"]
               for pair in document["pairs"])  # fmt: skip
    files = sorted(p.name for p in (results).glob("*/*-ab-*.json"))
    assert [name.split("-ab-")[1].split("-py")[0] for name in files] == ["baseline", "contender"]
    (rounds,) = results.glob("ab-*.json")
    assert all(len(pair["rounds"]) >= 4 for pair in json.loads(rounds.read_text())["pairs"])
    again = ptbench("compare", "--results", results, "--baseline", "env=" + files[0][9:-5],
                    "--contender", "env=" + files[1][9:-5])  # fmt: skip
    assert again.returncode == 0, again.stderr


def _slowdown_attempt(results, contender):
    completed = ptbench(
        "ab", "--baseline", sys.executable, "--contender", contender, "--tier", "smoke",
        "--bench", ONE_SOLVE, "--budget", "60", "--results", results, "--format", "json",
    )  # fmt: skip
    verdict = {pair["method"]: pair for pair in json.loads(completed.stdout)["pairs"]}
    (document,) = results.glob("ab-*.json")
    noise = json.loads(document.read_text())["noise"]["noise"]
    return completed, verdict["cholesky"], verdict, noise


@pytest.mark.slow
def test_a_real_slowdown_is_confirmed_and_exits_1(tmp_path, asv_home):
    """Cholesky 3x slower: confirmed, exit 1. Unless the noise guard found the run contended
    (this VM can be), when the same rounds must read inconclusive for that reason alone. A
    run whose own rounds were too noisy to confirm it (inconclusive, never equivalent) gets
    one more try: on this VM a few rounds in a hundred are 3-10x off. The timed call is the
    factorisation and a cholesky_solve, so the whole call is less than 3x slower: 2.73x on one
    day, 1.91x on another (cholesky's share of it changes with the machine)."""
    from ptbench.hardware import noise as noise_guard

    contender = slowed_env.make(tmp_path / "slowed", sys.executable, "torch.linalg.cholesky", 3.0)
    for attempt in range(2):
        completed, cholesky, verdict, noise = _slowdown_attempt(tmp_path / f"ab{attempt}",
                                                                contender)  # fmt: skip
        assert cholesky["ratio"] > 1.5 and cholesky["verdict"] in (SLOWER, INCONCLUSIVE)
        if cholesky["verdict"] == SLOWER or noise_guard.contended(noise):
            break
    if noise_guard.contended(noise):
        assert completed.returncode == 0 and cholesky["verdict"] == INCONCLUSIVE
        assert "not a regression: the run was disturbed" in cholesky["note"]
    else:
        assert completed.returncode == 1, completed.stderr[-3000:]
        assert cholesky["verdict"] == SLOWER and cholesky["regression"]
        assert cholesky["ratio_low"] > 1
    assert verdict["lu"]["verdict"] in (EQUIVALENT, INCONCLUSIVE)  # does not call cholesky
    assert not verdict["lu"]["regression"]


@pytest.mark.slow
def test_the_report_shows_an_ab_run_and_where_the_sequential_one_disagreed(tmp_path):
    """A folder with an A/B document, its two result files, and a sequential run of the same
    builds (the fixture, relabelled): the report judges by the rounds and lists disagreements."""
    import shutil

    from ptbench.present import report

    shutil.copytree(PROJECT / "tests/fixtures/results", tmp_path / "r")
    first, second = fixture_runs(tmp_path / "r")  # as if one commit ran two torch builds
    commit = json.loads(first.read_text())["commit_hash"]
    edit_result(second, lambda data: data.update(commit_hash=commit, env_name="existing-other"))
    catalogue = json.loads((tmp_path / "r/benchmarks.json").read_text())
    combination = Combination("bench_linalg.time_solve", ["cpu", 64, "float64", "lu"])
    combination.rounds = [(ok(1e-5), ok(1.5e-5 * (1 + 0.01 * i))) for i in range(6)]
    combination.verdict = verdicts.judge(combination.rounds, 1.1, 0.001)
    combination.looks = 1
    envs = ("ab-baseline-x", "ab-contender-x")
    params = {"machine": "fixture-machine", "torch": "2.13.0+cpu", "python": "3.11"}
    for side, env in enumerate(envs):
        result = record.side_result(
            side,
            {**params, "torch": ("1.0", "2.0")[side]},
            env,
            "a" * 40,
            1_800_000_000_000,
            [combination],
            catalogue,
        )
        record.save(result, record.result_path(tmp_path / "r", "fixture-machine", "a" * 40, env))
    sides = {"baseline": {"torch": "1.0"}, "contender": {"torch": "2.0"}}
    document = record.document([combination], sides, 1.1, 0.001, {"noise": "quiet"})
    sequential = [json.loads(first.read_text())["env_name"], "existing-other"]
    document.update(machine="fixture-machine", commit="a" * 40, envs=list(envs),
                    sequential_envs=sequential)  # fmt: skip
    (tmp_path / "r" / "ab-aaaaaaaa-x.json").write_text(json.dumps(document))

    sections = report.build(tmp_path / "r", tmp_path / "out")
    titles = [section.title for section in sections]
    assert "Interleaved A/B: torch 2.0 vs 1.0" in titles
    ab = sections[titles.index("Interleaved A/B: torch 2.0 vs 1.0")]
    assert list(ab.table["verdict"]) == [SLOWER]
    assert ab.table.iloc[0]["paired ratio [interval]"].startswith("1.5")
    heads = list(ab.table.columns)  # each side's median, and the paired estimate, said so
    start = heads.index("baseline (median)")
    assert heads[start : start + 3] == ["baseline (median)", "contender (median)",
                                        "paired ratio [interval]"]  # fmt: skip
    assert "machine noise: quiet" in ab.text[0]
    disagreed = sections[titles.index("Interleaved A/B: torch 2.0 vs 1.0") + 1]
    assert disagreed.title == "Sequential against interleaved"
    assert "1 of 1 pairs get another verdict" in disagreed.text[0]
    row = disagreed.table.iloc[0]
    assert (row["verdict sequential"], row["verdict interleaved"]) == (EQUIVALENT, SLOWER)


def test_sequential_against_interleaved_shows_the_interval_each_verdict_rests_on():
    """The re-recorded release report read `1.01 [0.52, 2.00] equivalent`: an equivalent pair
    beside the sequential comparison showed its regression interval, not the equivalence
    interval its verdict rests on (as every other table does)."""
    import pandas as pd

    from ptbench.present import report_comparisons

    pairs = pd.DataFrame({
        "benchmark": ["b.time_zero_grad", "b.time_zeros"], "size": [524288, 65536],
        "ratio": [1.0149, 1.25], "ratio_low": [0.5156, 1.12], "ratio_high": [1.998, 1.40],
        "equivalence_low": [0.9890, 1.13], "equivalence_high": [1.0416, 1.38],
        "verdict": [EQUIVALENT, SLOWER],
    })  # fmt: skip
    shown = report_comparisons._shown(pairs, ["benchmark", "size"])
    assert list(shown["ratio"]) == ["1.01 [0.99, 1.04]", "1.25 [1.12, 1.40]"]
    assert list(shown["verdict"]) == [EQUIVALENT, SLOWER]
    assert list(shown.columns) == ["benchmark", "size", "ratio", "verdict"]


def test_the_budget_simulation_drives_the_real_schedule():
    """scripts/simulate_budget.py: the schedule's own code on a simulated clock. Without a
    budget both policies are the first look, round for round; the clock and the schedule's
    ``time`` are its own again afterwards."""
    import simulate_budget

    (document,) = (PROJECT / "docs/ab-data/aa-linalg-2026-12-06").glob("ab-*.json")
    combos = simulate_budget.recorded(document)
    assert len(combos) == 104
    first = [simulate_budget.simulate(combos[:20], 0, 1.0, policy, 7)
             for policy in ("spread", "affordable")]  # fmt: skip
    assert first[0] == first[1] and first[0]["slower"] == 0
    assert first[0]["seconds"] > 20 * 4 * 2 * simulate_budget.ROUND_OVERHEAD_SECONDS
    assert schedule.time is __import__("time")
    assert schedule.Alternation.refine.__name__ == "refine"


@pytest.mark.parametrize(("facts", "problem"), [
    ({"settings": {"torch": "2.13.0"}, "env_name": "existing-py3.11-torch2.13.0+cpu"}, None),
    ({"settings": {"torch": "2.13.0"}, "env_name": "existing-py3.11-torch../../x"},
     "it names its environment 'existing-py3.11-torch../../x', which is not a plain file name"),
    ({"settings": {"torch": "2.13.0"}, "env_name": ""},
     "it names its environment '', which is not a plain file name"),
    ({"settings": {"torch": 5}, "env_name": "e"}, "its facts do not name its torch version"),
    ([], "its facts do not name its torch version"),
])  # fmt: skip
def test_a_worker_must_name_its_torch_and_a_plain_environment(facts, problem):
    """A hostile pass: a worker naming its environment with ``../`` made asv write the side's
    result outside the scratch folder, then an internal error; now its start is refused."""
    from ptbench.analysis.ab import protocol

    assert protocol.facts_problem(facts) == problem


@pytest.mark.parametrize(("reply", "problem"), [
    ({"status": "ok", "samples": [1e-3, 2e-3], "number": 10}, None),
    ({"status": "ok", "value": 0}, None),  # a track may read 0 (bytes)
    ({"status": "failed", "reason": "AssertionError"}, None),
    ({"status": "ok", "samples": [-1.5]}, "it answered a round with -1.5, not a time or value"),
    ({"status": "ok", "samples": [float("nan")]},
     "it answered a round with nan, not a time or value"),
    ({"status": "ok", "samples": [0.0]}, "it answered a round with a time of 0 or less"),
    ({"status": "ok", "samples": []}, "it answered a round without samples"),
    ({"status": "ok", "samples": ["1"]}, "it answered a round with '1', not a time or value"),
])  # fmt: skip
def test_a_round_a_worker_answers_must_be_a_time(reply, problem):
    """A hostile pass: negative or NaN samples were written into the results, then refused
    when read back; such a round now fails, and says why."""
    from ptbench.analysis.ab import protocol

    assert protocol.round_problem(reply) == problem
    assert protocol.selection_problem({"combinations": [{"benchmark": "b", "params": "cpu"}],
                                       "catalogue": {"b": {}}}) == (
        "selected {'benchmark': 'b', 'params': 'cpu'}, which its catalogue does not describe")


HEAP_PROBE = """
import resource, torch
p = torch.ones(4_194_304)
def step():
    return (p - 0.1 * p).sum()  # two temporaries of 16 MB, freed at once
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_workers_keep_malloc_s_heap_unless_the_user_chose(monkeypatch):
    for name in (*schedule.HEAP_CHOICES, *schedule.OPENMP_CHOICES):
        monkeypatch.delenv(name, raising=False)
    environment = schedule.worker_environment()
    assert environment["MALLOC_MMAP_THRESHOLD_"] == str(32 * 2**20)
    assert environment["MALLOC_TRIM_THRESHOLD_"] == str(2**30)
    assert environment["GOMP_SPINCOUNT"] == "10000"
    monkeypatch.setenv("MALLOC_TOP_PAD_", "0")  # the user's choice is kept, OpenMP's apart
    chosen = schedule.worker_environment()
    assert "MALLOC_MMAP_THRESHOLD_" not in chosen and chosen["MALLOC_TOP_PAD_"] == "0"
    assert chosen["GOMP_SPINCOUNT"] == "10000"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_with_the_heap_kept_a_large_temporary_reuses_its_pages(monkeypatch):
    """The slow mode of a 4,194,304-element update was the system faulting in fresh pages for
    each call's temporaries (8,192 page faults a call: 163,232 in 20 calls, in 2 of 5 processes
    here with glibc's defaults; 8,192-12,288 in the others). With HEAP_KEPT no process does:
    0-12,288 in 20 calls."""
    for name in schedule.HEAP_CHOICES:
        monkeypatch.delenv(name, raising=False)
    faults = [
        int(subprocess.run([sys.executable, "-c", HEAP_PROBE], capture_output=True, text=True,
                           check=True, env=schedule.worker_environment()).stdout)
        for _process in range(3)
    ]  # fmt: skip
    assert max(faults) < 20 * 8192 // 4, faults


def test_the_first_look_mixes_slow_and_fast_combinations_the_same_way_every_pass():
    """The first look's passes do not take the suite's order, in which the slow combinations
    come in runs (so a pass's pace so far, the time left, read short): every pass the same
    permutation, both benchmarks within the first half."""
    fast = [Combination("bench_shape.time_reshape", ["cpu", n]) for n in (16, 1024, 65536)]
    slow = [Combination("bench_linalg.time_eig", ["cpu", n, "float64"]) for n in (64, 256, 1024)]
    order = schedule.mixed(fast + slow)
    assert sorted(map(id, order)) == sorted(map(id, fast + slow))
    assert [c.params for c in order] == [c.params for c in schedule.mixed(fast + slow)]
    assert [c.params for c in order] == [c.params for c in schedule.mixed(slow + fast)]
    assert {c.benchmark for c in order[:3]} == {"bench_shape.time_reshape", "bench_linalg.time_eig"}
