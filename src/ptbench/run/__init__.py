"""Running the suite: ``ptbench run`` on top of asv, the asv plugin, Slurm jobs."""
