"""A pair of rounds of a time benchmark taken in lockstep: the two sides' samples alternate.

This VM's speed changes within the half second a round takes, so two rounds one after the other
see two speeds. ``schedule.Alternation.add_pair`` takes a time benchmark's pair here: each
side's worker opens a round (``worker.open_round``: set up, warmed up and calibrated as asv does),
then the two sides give one sample at a time, ABBA, then close.

Both sides' main threads run on the same CPU in a pair (``pair_cpu``), their other threads on
the other CPUs. The two vCPUs of this VM run at different speeds, changing over time; a round
process stays on the CPU it started on, so the two sides of a pair sat on different CPUs and
a single-threaded operation of microseconds read that difference: A/A pairs of the solves at
n = 16 spread 0.21 with the sides where the scheduler put them and 0.02 with both on one CPU
(docs/ab.md, "Both sides on one CPU").
"""

from __future__ import annotations

import os
import time

from ptbench.analysis.ab import protocol
from ptbench.core.outputs import cut

# Samples a side takes in a lockstep round, after the one that ends its calibration: each of
# asv's sample time (10 ms), the two sides' alternating ABBA. Measured here on a noisy day
# (docs/ab.md, "Lockstep rounds"): A/A pairs of the 14 CPU solves at n = 256 spread 0.044-0.055
# (median of 1.4826 x MAD of log ratios) in lockstep, against 0.115-0.194 for rounds taken one
# after the other, in runs alternating the two designs, at about the same wall time.
#
# The workers' OpenMP threads spin only briefly before they sleep (``schedule.OPENMP_WAITING``,
# unless the user chose): by default an idle side's threads spin on for about 3 ms after each
# sample, and the other side's next sample then took 2-30x as long (lockstep spread 0.16-0.20).
LOCKSTEP_SAMPLES = 10
# ... or fewer, once a pair's samples have taken this long: an operation of 0.1 s or more a call
# is one call a sample, and ten of them a side cost ab a third more time than rounds one after
# the other (asv takes up to five) for no steadier a pair. Fewer samples for all made pairs no
# cheaper and less steady: 4 a side within 0.5 s, or 6 within 0.3 s, cost 7-9% less a pair and
# spread 0.043-0.044 against 0.035 (25 linalg combinations, 8 A/A pairs of each design, taking
# turns pass by pass; docs/ab.md, "Both sides on one CPU").
LOCKSTEP_SECONDS = 1.0


# The pause between one side's sample and the other side's: long enough for the first side's
# OpenMP threads to stop spinning (``schedule.OPENMP_WAITING``: 10,000 spins) and sleep, so that
# they do not spin into the other side's sample on the CPUs its own threads need.
HANDOVER_SECONDS = 0.0005


# asv's warm-up in ab's lockstep rounds: none. ptbench's preparing call (inputs built, the
# call checked: ``timing.prepare``) and asv's calibration after it stay, so a round still
# starts warm. Since malloc's heap is kept (``schedule.HEAP_KEPT``) the 0.1 s warm-up no
# longer steadies a round; it only cost: A/A lockstep pairs, the two designs taking turns
# (docs/ab.md, "The warm-up, again"), of 26 float64 linalg combinations at n = 16 and 256
# spread 0.017 without it against 0.021 with it (0 against 4 of 312 rounds over twice their
# median) at 0.52 s a pair against 0.62 s, and of 64 combinations of the other families at
# 16 to 4,194,304 elements 0.022 against 0.032 (5 against 17 of 768) at 0.83 s against 0.94 s.
# With malloc's defaults, dropping it had put the Cholesky solves at n = 256 in a slow mode
# (spread 1.6-2.6, docs/ab.md, "The targets, measured"). None means the tier's warm-up.
# ptbench's own 50 ms after the checked call stays: without it too (``scripts/lockstep_probe.py``
# design ``cold``) the 120 linalg default-tier combinations cost 0.62 s a pair against 0.68 s,
# but the Cholesky solves at n = 256 fell back into their slow mode (spread 0.43-1.21 against
# 0.04-0.17; docs/ab.md, "No warm-up at all").
ROUND_WARMUP_SECONDS: float | None = 0.0


# Whether both sides' rounds set up, warm up and calibrate at the same time, each on every CPU,
# instead of one after the other (the samples taken while the other side still set up are left
# out; the lockstep samples follow once both are ready). 24% cheaper a pair of the fast
# operations, no steadier, and wider for linalg (A/A spread 0.029 against 0.021 with asv's
# warm-up, 0.017 without it: docs/ab.md, "The warm-up, again"): not taken.
OPEN_TOGETHER = False


def pair_cpu(pair_index: int) -> int | None:
    """The CPU both sides' main threads run on in a pair (``worker.pin_threads``): the allowed
    CPUs in turn, two pairs each, so that every CPU sees both orders (AB and BA). None where
    the system cannot say (not Linux): the threads stay where they are."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[(pair_index // 2) % len(cpus)]


def lockstep(workers: list, combination, order: tuple, cpu: int | None,
             warmup: float | None = None, prepare_warmup: float | None = None,
             profile: bool = False) -> list[dict]:
    """A pair of rounds taken sample by sample: both sides set up, warm up and calibrate (in
    ``order``), then, their main threads on ``cpu`` (``pair_cpu``; None: where they are), take
    their samples alternately, ABBA, so that the machine's speed, which on a shared VM changes
    from one tenth of a second to the next and from one CPU to the other, slows both alike.
    Each side's reply is a round as the ``time`` request answers it: its samples and number.
    ``warmup`` replaces asv's warm-up (seconds) in both rounds, as ab asks
    (``ROUND_WARMUP_SECONDS``); None keeps the tier's (``scripts/lockstep_probe.py``'s
    design ``warm``). ``prepare_warmup`` replaces ptbench's after the checked call (None: its
    50 ms, which ab keeps; 0: the probe's design ``cold``). With ``profile`` (``ptbench
    explain``) each side's round runs under ``torch.profiler`` and its reply is the round's
    profile, over its chunks of calls (``profiling.serve_round``).
    (A failure ends the pass, whose workers are ended with their rounds: nothing to close.)"""
    request = {"op": "open", "benchmark": combination.benchmark, "params": combination.params,
               "cpu": cpu}  # fmt: skip
    for key, value in (("warmup", warmup), ("prepare_warmup", prepare_warmup),
                       ("profile", profile or None)):  # fmt: skip
        if value is not None:
            request[key] = value
    replies = _opened(workers, request, order, OPEN_TOGETHER)
    if all(reply.get("status") == "ok" and not protocol.round_problem(reply)
           for reply in replies):  # fmt: skip  (else skipped or failed on a side: it says so)
        if OPEN_TOGETHER:  # samples taken while the other side may have been warming up
            for reply in replies:
                reply["samples"] = []
        _samples(workers, replies, order)
        if profile and all(reply.get("status") == "ok" for reply in replies):
            replies = [workers[side].ask({"op": "finish"}) for side in (0, 1)]
    for side in order:
        workers[side].ask({"op": "close"})
    return replies


def _opened(workers: list, request: dict, order: tuple, together: bool) -> list[dict]:
    """Each side's answer to ``open``: asked one after the other (in ``order``), or of both
    at once (``together``)."""
    replies = [{}, {}]
    if not together:
        for side in order:
            replies[side] = workers[side].ask(request)
        return replies
    for side in order:
        workers[side].send(request)
    for side in order:
        replies[side] = workers[side].receive()
    return replies


def _samples(workers: list, replies: list[dict], order: tuple) -> None:
    """``LOCKSTEP_SAMPLES`` more samples a side into ``replies``, the side opened last first,
    ABBA, with a pause of ``HANDOVER_SECONDS`` whenever the turn passes to the other side
    (fewer past ``LOCKSTEP_SECONDS``: an operation of half a second or more a call takes
    one more sample a side, BA, and the next pair, opened the other way round, AB)."""
    start, last = time.monotonic(), order[1]  # the side opened last samples first
    for index in range(LOCKSTEP_SAMPLES):
        if index and time.monotonic() - start > LOCKSTEP_SECONDS:
            return
        for side in order if index % 2 else order[::-1]:
            if side != last:
                time.sleep(HANDOVER_SECONDS)
            last = side
            reply = workers[side].ask({"op": "sample"})
            if reply.get("status") != "ok" or "seconds" not in reply:
                replies[side] = {"status": "failed", "reason": reply.get("reason") or
                                 f"it answered a sample with {cut(repr(reply))}"}  # fmt: skip
                return
            replies[side]["samples"].append(reply["seconds"])
