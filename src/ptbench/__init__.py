"""ptbench: performance benchmarking and regression suite for PyTorch, built on asv.

The package is grouped by layer; each imports only from itself and the layers below it (the
contract in pyproject.toml, checked by ``lint-imports``). Lowest first:

- ``core``: the error hierarchy and exit statuses, shared names (statuses, units, columns, the
  factor), machine-name rules, writing only where asked, torch bound lazily;
- ``hardware``: what devices are present, the machine's facts and peaks, how quiet it was;
- ``suite``: one definition per timed operation (``operations``), the sizes each tier runs,
  verified warmed-up timing on CPU and CUDA, and the asv benchmarks (``declare``) that the
  files in ``benchmarks/`` are made of;
- ``run``: ``ptbench run`` on top of asv (plan, environment, asv's process, filing), the asv
  plugin that makes plain ``asv run`` record the same facts, and Slurm jobs;
- ``data``: asv results as one table (parsed files cached as Parquet), with achieved
  throughput; the catalogue; merging many machines' results into one history;
- ``analysis``: intervals and tests, the judgement model, comparisons, change points along
  commits and torch versions, and ``ab``: two environments interleaved round by round;
- ``present``: tables, figures, the report and the offline site (jinja2 templates);
- ``cli``: the ``ptbench`` command, one module per command, thin, on top.

Importing ptbench never initialises CUDA, so asv's forkserver can fork benchmark processes.
"""

__version__ = "0.1.0"
