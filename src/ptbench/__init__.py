"""ptbench: performance benchmarking and regression suite for PyTorch, built on asv.

Layers, each importing only the ones above it in this list:

- ``errors``, ``schema``, ``names``, ``outputs``: the error hierarchy and exit statuses; shared
  names (statuses, units, columns, devices); machine-name rules; writing only where asked;
- ``devices``, ``tiers``, ``noise``: what hardware is present, float32 matmul precision, which
  sizes a run covers, how quiet the machine was;
- ``operations``: one definition per timed operation (inputs, call, check, work counts);
- ``timing``: preparing a verified, warmed-up call and timing it correctly on CPU and CUDA;
- ``suite``: turns operations into asv benchmarks (read by ``benchmarks/``);
- ``peaks``, ``machine``: peak FLOP/s and bandwidth; the machine's hardware and software facts;
- ``runner``: ``ptbench run`` on top of asv (plan, invoke asv, file the results);
- ``asv_plugin``: loaded by asv itself (``asv.conf.json``), so plain ``asv run`` records the same
  facts and samples;
- ``efficiency``, ``cache``, ``results``: loading asv results into one table (parsed files cached
  as Parquet), with achieved throughput; ``merge``: many machines' results into one history;
  ``slurm``: one Slurm job per machine type, their archives merged;
- ``stats``, ``compare``, ``history``, ``torch_history``: ratio intervals, baseline-vs-contender
  verdicts, change points along suite commits and along torch versions (by build line);
- ``ab``: ``ptbench ab``, two environments interleaved round by round (its worker runs in each
  environment; its verdicts read ``stats`` and ``compare``);
- ``tables``, ``plots``, ``report``: presenting comparisons as text, figures and reports;
- ``publish``, ``publish_pages`` (and ``assets/``): ``ptbench publish``, the offline site;
- ``cli``: the ``ptbench`` command, thin, on top.

Importing ptbench never initialises CUDA, so asv's forkserver can fork benchmark processes.
"""

__version__ = "0.1.0"
