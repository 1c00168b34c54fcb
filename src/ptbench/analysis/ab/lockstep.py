"""A pair of rounds of a time benchmark taken in lockstep: the two sides' samples alternate.

This VM's speed changes within the half second a round takes, so two rounds one after the other
see two speeds. ``schedule.Alternation.add_pair`` takes a time benchmark's pair here: each
side's worker opens a round (``worker.open_round``: set up, warmed up and calibrated as asv does),
then the two sides give one sample at a time, ABBA, then close.
"""

from __future__ import annotations

import time

from ptbench.analysis.ab import protocol
from ptbench.core.outputs import cut

# Samples a side takes in a lockstep round, after the one that ends its calibration: each of
# asv's sample time (10 ms), the two sides' alternating ABBA. Measured here on a noisy day
# (docs/ab.md, "Lockstep rounds"): A/A pairs of the 14 CPU solves at n = 256 spread 0.044-0.055
# (median of 1.4826 x MAD of log ratios) in lockstep, against 0.115-0.194 for rounds taken one
# after the other, in runs alternating the two designs, at about the same wall time.
#
# The workers' OpenMP threads wait passively (OMP_WAIT_POLICY, set for both sides, unless the
# user set it): by default an idle side's threads spin on for a while after each sample, and
# the other side's next sample then took 2-30x as long (lockstep spread 0.16-0.20 with them).
LOCKSTEP_SAMPLES = 10
# ... or fewer, two at a time, once a pair's samples have taken this long: an operation of 0.1 s
# or more a call is one call a sample, and ten of them a side cost ab a third more time than
# rounds one after the other (asv takes up to five) for no steadier a pair.
LOCKSTEP_SECONDS = 1.0


def lockstep(workers: list, combination, order: tuple) -> list[dict]:
    """A pair of rounds taken sample by sample: both sides set up, warm up and calibrate (in
    ``order``), then take their samples alternately, ABBA, so that the machine's speed, which
    on a shared VM changes from one tenth of a second to the next, slows both sides alike.
    Each side's reply is a round as the ``time`` request answers it: its samples and number.
    (A failure ends the pass, whose workers are ended with their rounds: nothing to close.)"""
    request = {"op": "open", "benchmark": combination.benchmark, "params": combination.params}
    replies = [{}, {}]
    for side in order:
        replies[side] = workers[side].ask(request)
    if all(reply.get("status") == "ok" and not protocol.round_problem(reply)
           for reply in replies):  # fmt: skip  (else skipped or failed on a side: it says so)
        _samples(workers, replies, order)
    for side in order:
        workers[side].ask({"op": "close"})
    return replies


def _samples(workers: list, replies: list[dict], order: tuple) -> None:
    """``LOCKSTEP_SAMPLES`` more samples a side into ``replies``, the side opened last first
    (fewer, an ABBA block at a time, past ``LOCKSTEP_SECONDS``)."""
    start = time.monotonic()
    for index in range(LOCKSTEP_SAMPLES):
        if index % 2 == 0 and index and time.monotonic() - start > LOCKSTEP_SECONDS:
            return
        for side in order if index % 2 else order[::-1]:
            reply = workers[side].ask({"op": "sample"})
            if reply.get("status") != "ok" or "seconds" not in reply:
                replies[side] = {"status": "failed", "reason": reply.get("reason") or
                                 f"it answered a sample with {cut(repr(reply))}"}  # fmt: skip
                return
            replies[side]["samples"].append(reply["seconds"])
