"""ptbench: performance benchmarking and regression suite for PyTorch, built on asv.

Layers, each importing only the ones above it in this list:

- ``devices``, ``tiers``: what hardware is present and which sizes a run covers;
- ``operations``: one definition per timed operation (inputs, call, check, work counts);
- ``timing``: preparing a verified, warmed-up call and timing it correctly on CPU and CUDA;
- ``suite``: turns operations into asv benchmarks (read by ``benchmarks/``);
- ``runner``, ``cli``: ``ptbench run`` on top of asv.

Importing ptbench never initialises CUDA, so asv's forkserver can fork benchmark processes.
"""

__version__ = "0.1.0"
