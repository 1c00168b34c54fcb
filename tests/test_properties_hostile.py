"""Property-based tests for the commands issue 23 names: ``ab``'s judgement, ``merge`` and
``slurm --dry-run``, with hypothesis (``test_properties.py`` covers the others).

- ab: whatever its rounds hold (zeros, NaN, infinities, failures, one wild round), a pair's
  verdict is one of the model's and never claims more than its interval; the verdict does not
  depend on the order of the pairs, and swapping the sides mirrors it.
- merge: whatever damage a source holds, the merge exits 0 or 2 in one line, and nothing already
  in the history is lost or rewritten (on 2, nothing at all changes).
- slurm --dry-run: whatever the type names, partitions and selection, it exits 0 or 2 in one
  line, submits nothing, and every script it writes is valid bash.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from helpers import FIXTURE_RESULTS, checksums, run_cli
from ptbench.analysis.ab import verdicts
from ptbench.core.schema import EQUIVALENT, FASTER, INCONCLUSIVE, NOT_COMPARABLE, SLOWER
from test_merge import machine_folder
from test_properties import apply, damages, explore

FACTOR = 1.1
ALPHA = verdicts.per_test_alpha(400)
MIRROR = {SLOWER: FASTER, FASTER: SLOWER}

positive = st.floats(1e-7, 10.0)
hostile = positive | st.sampled_from([0.0, math.nan, math.inf, -1e-6, 1e300])
ALWAYS_OK = st.just("ok")


def reply(samples: list, status: str = "ok") -> dict:
    return {"status": status, "samples": samples} if status == "ok" else {"status": status}


@st.composite
def rounds(draw, values=hostile, statuses=ALWAYS_OK):
    """A combination's rounds: ``(baseline reply, contender reply)`` pairs."""
    count = draw(st.integers(1, 40))
    base = draw(st.lists(st.lists(values, min_size=1, max_size=5), min_size=count,
                         max_size=count))  # fmt: skip
    cont = draw(st.lists(st.lists(values, min_size=1, max_size=5), min_size=count,
                         max_size=count))  # fmt: skip
    status = draw(st.lists(statuses, min_size=count * 2, max_size=count * 2))
    return [(reply(a, status[2 * i]), reply(b, status[2 * i + 1]))
            for i, (a, b) in enumerate(zip(base, cont, strict=True))]  # fmt: skip


def assert_claims_no_more_than_its_interval(judged: dict) -> None:
    verdict, ratio = judged["verdict"], judged["ratio"]
    assert verdict in (SLOWER, FASTER, EQUIVALENT, INCONCLUSIVE, NOT_COMPARABLE), judged
    # A regression is a confirmed slower, or a combination that ran before and fails now.
    newly_failing = verdict == NOT_COMPARABLE and judged["note"].endswith(", contender failed")
    assert judged["regression"] == (verdict == SLOWER or newly_failing and "baseline ok" in
                                    judged["note"]), judged  # fmt: skip
    if verdict == SLOWER:
        assert ratio > FACTOR and judged["ratio_low"] > 1, judged
    if verdict == FASTER:
        assert ratio < 1 / FACTOR and judged["ratio_high"] < 1, judged
    if verdict == EQUIVALENT:
        assert 1 / FACTOR <= judged["equivalence_low"] <= judged["equivalence_high"] <= FACTOR
    if verdict == INCONCLUSIVE:
        assert judged["detectable"] >= FACTOR and judged["note"], judged


@explore(300)
@given(rounds(statuses=st.sampled_from(["ok"] * 8 + ["failed", "skipped"])))
def test_any_rounds_give_a_verdict_no_stronger_than_its_interval(paired_rounds):
    assert_claims_no_more_than_its_interval(verdicts.judge(paired_rounds, FACTOR, ALPHA))


@explore(200)
@given(rounds(values=positive), st.randoms(use_true_random=False))
def test_the_verdict_is_the_same_in_any_order_and_mirrored_with_the_sides(paired_rounds, rng):
    judged = verdicts.judge(paired_rounds, FACTOR, ALPHA)
    shuffled = list(paired_rounds)
    rng.shuffle(shuffled)
    again = verdicts.judge(shuffled, FACTOR, ALPHA)
    assert again["verdict"] == judged["verdict"]
    assert math.isclose(again["ratio"], judged["ratio"], rel_tol=1e-9)
    swapped = verdicts.judge([(b, a) for a, b in paired_rounds], FACTOR, ALPHA)
    assert swapped["verdict"] == MIRROR.get(judged["verdict"], judged["verdict"])
    assert math.isclose(swapped["ratio"] * judged["ratio"], 1.0, rel_tol=1e-9)


@explore(100)
@given(st.lists(st.floats(0.9, 1.1), min_size=8, max_size=32), st.integers(0, 31),
       st.floats(3.0, 10.0), st.booleans())  # fmt: skip
def test_one_wild_round_never_turns_a_clear_slowdown_into_anything_else(noise, where, wild,
                                                                         too_fast):  # fmt: skip
    """Pairs that read 1.3x within a few percent, and one contender round 3-10x too fast or
    too slow: still confirmed slower (the wild pair is set aside)."""
    pairs = [(reply([1.0]), reply([1.3 * (1 + (n - 1) / 10)])) for n in noise]
    where %= len(pairs)
    pairs[where] = (reply([1.0]), reply([1.3 * (1 / wild if too_fast else wild)]))
    judged = verdicts.judge(pairs, FACTOR, verdicts.per_test_alpha(1))
    assert judged["verdict"] == SLOWER and judged["set_aside"] == 1, judged




@explore(30)
@given(damage=st.lists(damages(), min_size=1, max_size=3))
def test_a_damaged_source_never_costs_the_history_anything(capsys, damage):
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        target = root / "history"
        shutil.copytree(FIXTURE_RESULTS, target)
        source = machine_folder(root, "other-box")  # a second machine: new files to add
        for one in damage:
            apply(source, one)
        before = checksums(target)
        status, _out, err = run_cli(capsys, "merge", source, "--into", target)
        assert status in (0, 2), err
        assert "Traceback" not in err and "internal error" not in err
        after = checksums(target)
        if status == 2:
            assert err.count("\n") == 1 and after == before, err
        kept = {name: digest for name, digest in after.items() if name in before}
        # Everything already there is still there, byte for byte (the catalogue merges).
        assert {k: v for k, v in kept.items() if not k.endswith("benchmarks.json")} == {
            k: v for k, v in before.items() if not k.endswith("benchmarks.json")}  # fmt: skip


names = st.text(st.sampled_from("abcxyz019-_.$`'\" ;\n#/\\*"), min_size=1, max_size=8)


@explore(60)
@given(types=st.lists(st.tuples(names, names, names | st.none()), min_size=1, max_size=3),
       bench=names | st.none(), tier=st.sampled_from(["smoke", "default", "full"]))  # fmt: skip
def test_any_dry_run_writes_valid_bash_or_refuses_in_one_line(capsys, types, bench, tier):
    with tempfile.TemporaryDirectory() as scratch:
        collect = Path(scratch) / "collect"
        arguments = ["slurm", "--collect", collect, "--dry-run", "--tier", tier]
        for name, partition, gres in types:
            arguments += ["--type", f"{name}={partition}" + (f":{gres}" if gres else "")]
        if bench is not None:
            arguments += ["--bench", bench]
        status, _out, err = run_cli(capsys, *arguments)
        assert status in (0, 2), err
        assert "Traceback" not in err and "internal error" not in err
        if status == 2:
            assert err.count("\n") == 1 and not collect.exists(), err
            return
        scripts = sorted((collect / "jobs").glob("*.sbatch"))
        assert len(scripts) == len(types)
        for script in scripts:
            parsed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
            assert parsed.returncode == 0, (script.read_text(), parsed.stderr)
