"""The search itself, apart from how a step is measured: a binary search over builds ordered
oldest first, where build 0 is known good and the last build known bad (the ends' comparison
confirmed it), and each step's ``ab`` verdict says which side of the change a build lies on.

A step compares the middle build with the first build. ``slower`` puts it among the bad builds;
``equivalent`` or ``faster`` among the good; so does an interval wholly on one side of the
geometric middle of 1 and the ends' ratio (a 3x regression needs no equivalence within 1.1 to
tell 1.0x [0.8, 1.3] from 3x). A step the rounds cannot decide gets a second comparison with
fresh rounds, against the known-bad build: ``equivalent`` to it is bad, and the bad build
``slower`` than it is good (or, again, its interval on one side of the middle). A build
neither comparison decides is set aside, as ``git bisect skip`` does, and the search goes on
with a neighbour; so a noisy step never sends the search the wrong way silently, and the answer
can be a range ("the first bad build is one of 4, 5") when the set-aside builds lie at the
boundary.

With one change between the ends that takes ceil(log2(n - 1)) steps for ``n`` builds, plus a
second comparison for each undecided one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ptbench.core.schema import EQUIVALENT, FASTER, SLOWER

GOOD, BAD, UNDECIDED = "good", "bad", "undecided"
# What each step is; a step's folder and the document name it.
ENDS, MIDDLE, AGAINST_BAD, BOUNDARY = "ends", "middle", "against-bad", "boundary"

# compare(role, baseline, contender) -> the tracked combination's judged pair (ab's fields)
Compare = Callable[[str, int, int], dict]


@dataclass
class Boundary:
    """Where the search ended: ``last_good`` and ``first_bad`` adjacent, unless builds between
    them were ``undecided`` (then the first bad build is one of those or ``first_bad``)."""

    last_good: int
    first_bad: int
    undecided: list[int] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.undecided


def _side_of(pair: dict, midpoint: float | None) -> int:
    """-1 when the pair's interval lies wholly below ``midpoint``, +1 wholly above, else 0.
    The equivalence interval (``1 - 2 * 0.05 / looks``) where the pair has one: deciding which
    end a build is like is not a claim that fails a build, and the boundary's own ``ab``
    checks the whole path at the family-wise level."""
    low = pair.get("equivalence_low", pair.get("ratio_low"))
    high = pair.get("equivalence_high", pair.get("ratio_high"))
    if midpoint is None or low is None or high is None or math.isnan(low) or math.isnan(high):
        return 0
    return -1 if high < midpoint else 1 if low > midpoint else 0


def against_first(pair: dict, midpoint: float | None = None) -> str:
    """The middle build (contender) against the first, known-good build (baseline). Beyond
    the verdict: an interval wholly below the geometric middle of 1 and the ends' ratio is
    nearer the good end (good), wholly above it nearer the bad end (bad)."""
    if pair["verdict"] == SLOWER:
        return BAD
    if pair["verdict"] in (EQUIVALENT, FASTER):
        return GOOD
    return {-1: GOOD, 1: BAD}.get(_side_of(pair, midpoint), UNDECIDED)


def against_bad(pair: dict, midpoint: float | None = None) -> str:
    """The known-bad build (contender) against the middle build (baseline)."""
    if pair["verdict"] == EQUIVALENT:
        return BAD
    if pair["verdict"] == SLOWER:
        return GOOD
    return {-1: BAD, 1: GOOD}.get(_side_of(pair, midpoint), UNDECIDED)


def middle(low: int, high: int, undecided: set[int]) -> int | None:
    """The build nearest the middle of (low, high) not yet set aside; None when none is left."""
    left = [index for index in range(low + 1, high) if index not in undecided]
    centre = (low + high) / 2
    return min(left, key=lambda index: (abs(index - centre), index)) if left else None


def classify(compare: Compare, build: int, known_bad: int, midpoint: float | None) -> str:
    """Which side of the change ``build`` lies on, from one step or, if undecided, two."""
    state = against_first(compare(MIDDLE, 0, build), midpoint)
    if state == UNDECIDED:
        state = against_bad(compare(AGAINST_BAD, build, known_bad), midpoint)
    return state


def bisect(count: int, compare: Compare, ends_ratio: float | None = None) -> Boundary:
    """Search builds ``0 .. count - 1`` (0 good, the last bad) for the first bad one;
    ``ends_ratio`` (the last build's ratio to the first) places the middle between them."""
    midpoint = ends_ratio**0.5 if ends_ratio and ends_ratio > 1 else None
    low, high, undecided = 0, count - 1, set()
    while (build := middle(low, high, undecided)) is not None:
        state = classify(compare, build, high, midpoint)
        if state == BAD:
            high = build
        elif state == GOOD:
            low = build
        else:
            undecided.add(build)
    return Boundary(low, high, sorted(index for index in undecided if low < index < high))


def expected_steps(count: int) -> int:
    """About how many comparisons a search of ``count`` builds takes: the ends, the halvings
    and the boundary's own (for a progress line's "about N")."""
    halvings = max(count - 2, 0).bit_length()
    return 1 + halvings + (1 if count > 2 else 0)
