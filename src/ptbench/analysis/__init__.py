"""What the results say: statistics, the judgement model, comparisons, change points, and
``ab`` (two environments interleaved round by round)."""
