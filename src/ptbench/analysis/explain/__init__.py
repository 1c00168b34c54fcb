"""``ptbench explain``: which ATen operators, kernels and settings account for a change between
two environments (``profiling`` runs in each of them, ``diff`` compares, ``session`` alternates
the sides as ``ab`` does)."""
