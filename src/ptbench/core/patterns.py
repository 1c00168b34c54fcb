"""Regular expressions a user gives (``--bench``) that Python's ``re`` could take for ever on.

``re`` backtracks, and cannot be interrupted (not even by Ctrl-C) while it does: a repetition of
something that itself repeats, such as ``(.+)+x``, tries every way of splitting a name among
the repetitions, 2^60 of them for a name of 60 characters that has no ``x``. ``--bench '(.+)+x'``
hung ``ptbench run`` (hostile pass seven). Such a pattern is refused before it is matched;
a bounded repetition of a few (``(\\d{1,3}\\.){3}``), a possessive one (``(a+)++``) and an
atomic group do not backtrack that way and pass.
"""

from __future__ import annotations

try:  # Python 3.11+: the parser ``re`` itself uses
    from re import _constants as constants
    from re import _parser as parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as constants  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

# A repetition of at most this many is bounded work however its body backtracks.
FEW = 16
REPEATS = (constants.MAX_REPEAT, constants.MIN_REPEAT)
# What never gives back what it matched, so an outer repetition has one way to split: atomic.
ATOMIC = getattr(constants, "ATOMIC_GROUP", None)


def nested_repetition(pattern: str) -> bool:
    """Whether ``pattern`` (a valid regular expression) repeats, more than ``FEW`` times, a
    part that itself repeats: the shape whose matching time grows exponentially."""
    return _nested(parser.parse(pattern), inside=False)


def _nested(items, inside: bool) -> bool:
    for op, argument in items:
        if op in REPEATS:
            _least, most, body = argument
            repeats = most > 1
            if repeats and inside:
                return True
            # (.*){16}Z tries about n^16 splits, (.|.)*Z 2^n: hostile pass nine hung run on both
            if most > 2 and (_unbounded_inside(body) or (most > FEW and _overlapping(body))):
                return True
            if _nested(body, inside or (repeats and most > FEW)):
                return True
        elif any(_nested(part, inside and op != ATOMIC) for part in _parts(argument)):
            return True
    return False


def _unbounded_inside(items) -> bool:
    """Whether an unbounded repetition lies anywhere in ``items`` (outside an atomic group)."""
    for op, argument in items:
        if op in REPEATS and argument[1] == constants.MAXREPEAT:
            return True
        if op != ATOMIC and any(_unbounded_inside(part) for part in _parts(argument)):
            return True
    return False


def _overlapping(items) -> bool:
    """Whether ``items`` holds an alternation two of whose branches may start alike
    (``(.|.)``, ``(\\w|\\d)``, ``(lu|lu_ex)``): repeated, it has many ways to match one name."""
    for op, argument in items:
        if op == constants.BRANCH:
            firsts = [_first(branch) for branch in argument[1]]
            if any(a is None or b is None or a == b
                   for i, a in enumerate(firsts) for b in firsts[i + 1:]):  # fmt: skip
                return True
        if any(_overlapping(part) for part in _parts(argument)):
            return True
    return False


def _first(items):
    """The literal character a branch starts with; None where it may start otherwise."""
    if not len(items):
        return None
    op, argument = items[0]
    if op == constants.LITERAL:
        return argument
    if op == constants.SUBPATTERN:
        return _first(argument[-1])
    return None


def _parts(argument) -> list:
    """The sub-patterns inside a parsed item's argument (a group's, each branch's, ...)."""
    found = []
    for value in argument if isinstance(argument, (tuple, list)) else (argument,):
        if isinstance(value, parser.SubPattern):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            found += _parts(value)
    return found
