"""``ptbench ab``: interleaved A/B comparison of two Python environments on one machine.

- ``worker``: runs in each side's environment and times one round of one combination at a
  time, each round in a fresh forked process, with the suite's own asv-runner timing;
- ``schedule``: starts both workers and alternates them round by round (ABBA), then gives the
  inconclusive pairs more rounds while the budget lasts;
- ``verdicts``: disturbed rounds set aside, paired intervals for each claim, and the verdict
  (``ptbench.analysis.judgement``) of each pair;
- ``record``: both sides as ordinary asv result files, and the comparison as a document;
- ``paired``: the document's verdicts beside the recorded results, for tables and reports;
- ``session``: one ``ptbench ab`` run from its arguments to its files.
"""
