"""One side of an A/B comparison: runs in that side's Python environment, times what it is told.

Started by ``ptbench ab`` as ``PYTHON -m ptbench.analysis.ab.worker BENCHMARK_DIR TIER``. It
imports torch and the suite once and never touches CUDA (as asv's forkserver), then answers
requests, one JSON object a line on stdin, one a line on stdout:

- ``{"op": "facts"}``: this environment's torch build and settings, as ``ptbench run`` records;
- ``{"op": "select", "devices": [...], "bench": REGEX or null}``: the combinations the tier runs,
  and asv's catalogue entry of every benchmark (what ``benchmarks.json`` holds);
- ``{"op": "instructions", ...}`` and ``{"op": "settings"}``: for ``ptbench explain`` (whose
  profiled rounds are lockstep rounds, below), a combination's
  callgrind instruction counts (``analysis.explain.instructions``) and the build's settings;
- ``{"op": "open", "benchmark": NAME, "params": [...], "cpu": C}``, then ``{"op": "sample"}``
  as often as asked, then ``{"op": "close"}``: one round of a time benchmark taken sample by
  sample, so that the controller can alternate the two sides' samples (``lockstep.lockstep``).
  A forked child sets up, warms up and calibrates as asv-runner's ``TimeBenchmark.run`` does,
  moves its main thread to CPU ``C`` and its other threads to the other CPUs (``pin_threads``;
  without ``cpu`` nothing moves), and answers ``open`` with its first sample there and
  ``number``, and each ``sample`` with ``{"status": "ok", "seconds": S}`` (one sample of
  ``number`` calls, per call). Optional: ``"warmup"`` replaces the tier's asv warm-up (ab asks
  for none), ``"prepare_warmup"`` ptbench's own after the checked call
  (``timing.WARMUP_SECONDS``; ab keeps it: ``scripts/lockstep_probe.py``'s design ``cold``).
  With ``"profile": true`` (``ptbench explain``) the round is profiled: its child prepares the
  call, moves to ``C`` and starts ``torch.profiler``; each ``sample`` is a chunk of calls under
  it, and ``{"op": "finish"}`` before ``close`` answers the round's profile, as ``profile``.
- ``{"op": "time", "benchmark": NAME, "params": [...]}``: one round. A forked child builds, checks
  and warms up the inputs and times them with asv-runner's own ``TimeBenchmark.run`` under the
  tier's attributes, its warm-up included: exactly one asv benchmark process. (ab's lockstep
  rounds take no asv warm-up, ``lockstep.ROUND_WARMUP_SECONDS``; a track's round is this one.)
  Answers ``{"status": "ok", "samples": [...], "number": N}`` (a time), ``{"status": "ok",
  "value": V}`` (a track), or ``{"status": "skipped" or "failed", "reason": ...}``.

A fresh process per round samples the process-to-process variation (memory layout, allocator
state) that a single long-lived process would keep, and that would then read as a difference
between the sides.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ptbench.core.errors import InputError, first_line

ROUND_TIMEOUT_SECONDS = 600


def catalogue_entry(benchmark) -> dict[str, Any]:
    """asv's description of a benchmark, filtered as asv-runner's ``list_benchmarks`` does."""
    return {
        key: value
        for key, value in benchmark.__dict__.items()
        if isinstance(value, (str, int, float, list, dict, bool)) and not key.startswith("_")
    }


def select_combinations(benchmark_dir: Path, tier: str, devices: list[str], bench: str | None):
    """(combinations, catalogue): every selected (benchmark, param values, unit) of a compared
    unit, and asv's catalogue entry of every benchmark of the suite."""
    from ptbench.core.schema import COMPARED_UNITS
    from ptbench.run import plan

    benchmarks = plan.discover(benchmark_dir)
    selection = plan.select(benchmarks, tier, devices, bench)
    combinations = []
    for benchmark in benchmarks:
        chosen = set(selection.get(benchmark.name, ()))
        unit = getattr(benchmark, "unit", "")
        if not chosen or unit not in COMPARED_UNITS:
            continue
        for values, labels in zip(
            itertools.product(*benchmark._params), itertools.product(*benchmark.params), strict=True
        ):
            if ", ".join(labels) in chosen:
                combinations.append({"benchmark": benchmark.name, "params": list(values)})
    return combinations, {b.name: catalogue_entry(b) for b in benchmarks}


def time_round(benchmark_dir: Path, tier: str, name: str, params: list) -> dict[str, Any]:
    """One asv round of one combination, in this process (the forked child)."""
    from asv_runner.benchmarks.mark import SkipNotImplemented

    from ptbench.suite import declare as suite
    from ptbench.suite.tiers import TIER_TIMING

    try:
        benchmark = suite.asv_benchmark(benchmark_dir, name, tuple(params))
        for key, value in TIER_TIMING[tier].items():
            setattr(benchmark, key, value)
        if benchmark.type == "time":
            result = benchmark.run(*benchmark._current_params)
            return {"status": "ok", "samples": result["samples"], "number": result["number"]}
        return {"status": "ok", "value": float(benchmark.run(*benchmark._current_params))}
    except SkipNotImplemented as reason:
        return {"status": "skipped", "reason": str(reason)}
    except Exception as error:  # a wrong answer (AssertionError) or a crash: the round failed
        return {"status": "failed", "reason": f"{type(error).__name__}: {first_line(error, '')}"}


def _read_reply(read_fd: int, child: int, timeout: float) -> dict[str, Any]:
    chunks = []
    while True:
        ready, _, _ = select.select([read_fd], [], [], timeout)
        if not ready:
            os.kill(child, signal.SIGKILL)
            return {"status": "failed", "reason": f"timed out after {timeout:.0f} s"}
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        return {"status": "failed", "reason": "the benchmark process died without an answer"}


def forked(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run()`` in a forked child, as asv's forkserver runs each benchmark process."""
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its prints go to stderr, never into the protocol on stdout
        os.close(read_fd)
        os.dup2(2, 1)
        reply = run()
        os.write(write_fd, json.dumps(reply).encode())
        os._exit(0)
    os.close(write_fd)
    try:
        return _read_reply(read_fd, child, ROUND_TIMEOUT_SECONDS)
    finally:
        os.close(read_fd)
        os.waitpid(child, 0)


def forked_round(benchmark_dir: Path, tier: str, name: str, params: list) -> dict[str, Any]:
    """``time_round`` in a forked child."""
    return forked(lambda: time_round(benchmark_dir, tier, name, params))


# A lockstep round (``open``, ``sample``, ``close``): the one child this worker holds open.
_OPEN: dict[str, Any] = {}


def _calibrated(benchmark, cpu: int | None) -> tuple[Any, int, float]:
    """asv-runner's own timer of a time benchmark, warmed up and with its ``number`` chosen by
    ``TimeBenchmark.run`` (its warm-up, calibration and, with setup hooks, the timer that
    re-runs them between calls), stopped before its first sample; then moved to ``cpu``
    (``pin_threads``) and its first sample taken there: (timer, number, sample). (A call past
    asv's ``max_time`` ends asv's calibration with its one sample, as asv would.)"""
    chosen: dict[str, Any] = {}
    timing = benchmark.benchmark_timing

    def calibration(timer, _min_repeat, _max_repeat, **settings):
        chosen["timer"] = timer
        return timing(timer, 0, 0, **settings)

    benchmark.benchmark_timing = calibration
    result = benchmark.run(*benchmark._current_params)
    pin_threads(cpu)
    timer, number = chosen["timer"], result["number"]
    if result["samples"]:
        return timer, number, result["samples"][0]
    if getattr(benchmark, "_setups", None):  # asv times one call a sample with setup hooks
        return timer, number, timer.timeit(number) / number
    number, seconds = filled(timer, number, benchmark.sample_time)
    return timer, number, seconds / number


def filled(timer, number: int, sample_time: float) -> tuple[int, float]:
    """(number, seconds): ``number`` raised, as asv's calibration raises it, until ``number``
    calls take at least ``sample_time``, and the seconds the last ``number`` calls took (the
    round's first sample). asv stops calibrating once its warm-up time has passed, so a
    preparing call longer than that (building and checking an optimizer's step) left ``number``
    at 1: a lockstep sample was then one call of 50 us, taken right after the other side's,
    and read a cold call, 1.5-6x a run's (docs/ab.md, "A sample of one cold call")."""
    while True:
        start = time.perf_counter()
        timer.timeit(number)
        seconds = time.perf_counter() - start
        if seconds >= sample_time:
            return number, seconds
        grow = min(10.0, max(1.1, sample_time / max(seconds, 1e-9)))
        number = max(number + 1, int(grow * number))


def pin_threads(cpu: int | None) -> None:
    """Run this (the main) thread on ``cpu`` alone from now on, and every other thread of the
    process (OpenMP's, BLAS's: started by the warm-up) on the other CPUs, so that a parallel
    region's helpers never wait for the CPU of the thread that started it."""
    if cpu is None:
        return
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed:
        return
    others = allowed - {cpu}
    if others:
        for thread in os.listdir("/proc/self/task"):
            if int(thread) != threading.get_native_id():
                with contextlib.suppress(OSError):  # a thread that ended meanwhile
                    os.sched_setaffinity(int(thread), others)
    os.sched_setaffinity(0, {cpu})  # Linux: pid 0 is the calling thread, not the process


def _round_benchmark(benchmark_dir: Path, tier: str, name: str, params: list,
                     warmup: float | None, prepare_warmup: float | None):
    """asv's benchmark of one combination, with the tier's attributes and, where given, asv's
    warm-up (``warmup``) and ptbench's after the checked call (``prepare_warmup``: this process
    is a round's child, whose setting ends with it) replaced."""
    from ptbench.suite import declare as suite
    from ptbench.suite import timing
    from ptbench.suite.tiers import TIER_TIMING

    if prepare_warmup is not None:
        timing.WARMUP_SECONDS = prepare_warmup
    benchmark = suite.asv_benchmark(benchmark_dir, name, tuple(params))
    for key, value in TIER_TIMING[tier].items():
        setattr(benchmark, key, value)
    if warmup is not None:
        benchmark.warmup_time = warmup
    return benchmark


def say(replies, reply: dict) -> None:
    """One answer of a round's child to the controller: a JSON line, flushed."""
    replies.write(json.dumps(reply) + "\n")
    replies.flush()


def round_failure(error: Exception, skip: type) -> dict[str, Any]:
    """A round child's answer to ``error``: skipped (``skip``: the combination cannot run
    here, and says why), else failed (a wrong answer, AssertionError, or a crash)."""
    if isinstance(error, skip):
        return {"status": "skipped", "reason": str(error)}
    return {"status": "failed", "reason": f"{type(error).__name__}: {first_line(error, '')}"}


def _serve_round(benchmark_dir: Path, tier: str, name: str, params: list, commands, replies,
                 cpu: int | None = None, warmup: float | None = None,
                 prepare_warmup: float | None = None):
    """The child of a lockstep round: set up, warm up and calibrate as asv does (its threads
    start on every CPU), move to ``cpu`` (``pin_threads``), then one sample of ``number`` calls
    per ``sample`` command, until ``close`` (or the pipe closes). ``warmup`` and
    ``prepare_warmup``, where given, replace the warm-ups (``_round_benchmark``)."""
    from asv_runner.benchmarks.mark import SkipNotImplemented

    try:
        benchmark = _round_benchmark(benchmark_dir, tier, name, params, warmup, prepare_warmup)
        timer, number, first = _calibrated(benchmark, cpu)
        say(replies, {"status": "ok", "samples": [first], "number": number})
        for command in commands:
            if command.strip() != "sample":
                return
            say(replies, {"status": "ok", "seconds": timer.timeit(number) / number})
    except Exception as error:
        say(replies, round_failure(error, SkipNotImplemented))


def open_round(benchmark_dir: Path, tier: str, name: str, params: list, cpu: int | None = None,
               warmup: float | None = None, prepare_warmup: float | None = None,
               profile: bool = False) -> dict[str, Any]:
    """Fork the child of a lockstep round; its first answer (set up and calibrated: one sample,
    and asv's ``number``; or skipped, or failed). With ``profile``, a profiled round
    (``profiling.serve_round``), whose ``number`` is the calls of a chunk."""
    close_round()
    commands_read, commands_write = os.pipe()
    replies_read, replies_write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its prints go to stderr, never into the protocol on stdout
        os.close(commands_write)
        os.close(replies_read)
        os.dup2(2, 1)
        with os.fdopen(commands_read) as commands, os.fdopen(replies_write, "w") as replies:
            if profile:
                from ptbench.analysis.explain import profiling

                profiling.serve_round(tier, name, params, commands, replies, cpu)
            else:
                _serve_round(benchmark_dir, tier, name, params, commands, replies, cpu, warmup,
                             prepare_warmup)
        os._exit(0)
    os.close(commands_read)
    os.close(replies_write)
    _OPEN.update(pid=child, commands=os.fdopen(commands_write, "w"),
                 replies=os.fdopen(replies_read))  # fmt: skip
    return _round_answer()


def sample_round(command: str = "sample") -> dict[str, Any]:
    """One more sample of the open round: ``{"status": "ok", "seconds": ...}``; or, of a
    profiled round, ``finish``: its profile."""
    if not _OPEN:
        return {"status": "failed", "reason": "no round is open"}
    try:
        _OPEN["commands"].write(f"{command}\n")
        _OPEN["commands"].flush()
    except OSError:  # the child ended (it failed, or was killed)
        return {"status": "failed", "reason": "the benchmark process died without an answer"}
    return _round_answer()


def _round_answer() -> dict[str, Any]:
    """The open round child's next line, or failed (and the child ended) after a timeout."""
    ready, _, _ = select.select([_OPEN["replies"]], [], [], ROUND_TIMEOUT_SECONDS)
    line = _OPEN["replies"].readline() if ready else None
    if line is None:
        os.kill(_OPEN["pid"], signal.SIGKILL)
        return {"status": "failed", "reason": f"timed out after {ROUND_TIMEOUT_SECONDS:.0f} s"}
    try:
        return json.loads(line)
    except ValueError:
        return {"status": "failed", "reason": "the benchmark process died without an answer"}


def close_round() -> dict[str, Any]:
    """End the open round's child (its teardown is the process's end, as asv's)."""
    if _OPEN:
        with contextlib.suppress(OSError):
            _OPEN["commands"].close()
        _OPEN["replies"].close()
        os.waitpid(_OPEN["pid"], 0)
        _OPEN.clear()
    return {"status": "ok"}


def facts() -> dict[str, Any]:
    from ptbench.run import environment

    return {"settings": environment.settings(), "env_name": environment.environment_name()}


def handle(request: dict, benchmark_dir: Path, tier: str) -> dict[str, Any]:
    if request["op"] == "facts":
        return facts()
    if request["op"] == "select":
        combinations, catalogue = select_combinations(
            benchmark_dir, tier, request["devices"], request.get("bench")
        )
        return {"combinations": combinations, "catalogue": catalogue}
    if request["op"] == "time":
        return forked_round(benchmark_dir, tier, request["benchmark"], request["params"])
    if request["op"] == "open":
        return open_round(benchmark_dir, tier, request["benchmark"], request["params"],
                          request.get("cpu"), request.get("warmup"), request.get("prepare_warmup"),
                          bool(request.get("profile")))
    if request["op"] in ("sample", "finish"):
        return sample_round(request["op"])
    if request["op"] == "close":
        return close_round()
    if request["op"] == "instructions":
        from ptbench.analysis.explain import instructions

        return instructions.count(request["benchmark"], request["params"], tier)
    if request["op"] == "settings":
        from ptbench.analysis.explain import profiling

        return profiling.settings()
    return {"error": f"unknown request {request['op']!r}"}


def main(argv: list[str] | None = None) -> int:
    benchmark_dir, tier = argv or sys.argv[1:3]
    os.environ["PTBENCH_TIER"] = tier
    from ptbench.run import plan

    plan.discover(Path(benchmark_dir))  # import the suite once: forked rounds inherit it
    protocol = sys.stdout
    sys.stdout = sys.stderr  # anything else printed goes to stderr
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line), Path(benchmark_dir), tier)
        except InputError as error:  # e.g. a --bench pattern that matches nothing
            reply = {"error": str(error), "bad_input": True}
        except Exception as error:  # reported to the controller, which decides what it means
            reply = {"error": f"{type(error).__name__}: {error}"}
        protocol.write(json.dumps(reply) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
