"""``ptbench bisect``: the first bad build among many, with ``ab`` as the oracle (search: the
pure search; session: the steps, run and kept as ``ab`` results; record: the document)."""
