"""ptbench's asv suite. Each file only declares what to time; every operation is defined once in
``ptbench.suite.operations`` and turned into a benchmark by ``ptbench.suite.declare`` (see
README and docs/timing.md). Import modules, never ``time_*``/``track_*`` names: asv discovers
every function in a benchmark module whose name matches.
"""
