"""--bench patterns whose matching could take for ever are refused before they are matched."""

from __future__ import annotations

import pytest

from ptbench.core.errors import UsageError
from ptbench.core.patterns import nested_repetition
from ptbench.run import plan


@pytest.mark.parametrize("pattern", [r"(.+)+x", r"(a*)*", r"(?:\w+\s?)+$", r"(a|b+)+c",
                                     r"(x+x+)+y", r"(?=(a+)+)b", r"((.)+)+q",
                                     # hostile pass nine: each hung ptbench run
                                     r"(.|.)*Z", r"(\w|\w)*!", r"(.*){16}Z"])  # fmt: skip
def test_a_repetition_of_a_repetition_is_found(pattern):
    assert nested_repetition(pattern)


@pytest.mark.parametrize("pattern", [r"^bench_linalg\.", r"time_(solve|eig)\(.*float64",
                                     r"(\d{1,3}\.){3}", r"(a+)++", r"(?>a+)+", r"(ab)+",
                                     r"((a)+){2}", r"cholesky|lu", r"(foo|bar)*", r"(.*){2}x",
                                     r"(ab|ac)*", r"(?>.*)*x",
                                     r"time_(eigh|svd)\('cpu', (64|256)"])  # fmt: skip
def test_patterns_that_match_in_bounded_time_pass(pattern):
    assert not nested_repetition(pattern)


def test_bench_refuses_it_in_one_line_naming_the_pattern():
    with pytest.raises(UsageError) as refused:
        plan.bench_regex(r"(.+)+x")
    assert str(refused.value) == (
        "--bench '(.+)+x' repeats a part that itself repeats or can match alike in two ways "
        "(as in (a+)+ or (.|.)*), which can take exponential time on a name it does not match; "
        "repeat it once (a+, .*)"
    )
    assert plan.bench_regex(r"time_solve\(.*256").pattern == r"time_solve\(.*256"
