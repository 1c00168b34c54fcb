"""The lowest layer: errors and exit statuses, shared names, names of machines, writing only
where asked, torch bound lazily, work on every CPU. Imports nothing else of ptbench."""
