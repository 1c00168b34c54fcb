"""Names every layer shares: result statuses, units, the columns of the results table, and the
few helpers that read those columns the same way everywhere.

Nothing here imports torch or asv: the results table's shape is known before anything runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# The devices ptbench times on; a benchmark's ``device`` parameter takes these values.
DEVICES: tuple[str, ...] = ("cpu", "cuda")
# A combination's status in a result file: asv stores a number, NaN (skipped) or null (failed).
STATUS_OK, STATUS_SKIPPED, STATUS_FAILED = "ok", "skipped", "failed"
STATUSES = (STATUS_OK, STATUS_SKIPPED, STATUS_FAILED)

# A comparison's verdict on one combination (contender against baseline), from one judgement
# model (``ptbench.analysis.judgement``) for ``compare`` and ``ab`` alike:
# - SLOWER / FASTER: a change beyond the factor, the interval wholly on that side of 1;
# - EQUIVALENT: the whole equivalence interval inside [1/factor, factor];
# - INCONCLUSIVE: neither; the data could not tell (the pair says what change it could detect);
# - NOT_COMPARABLE: skipped or failed on a side.
FASTER, SLOWER, NOT_COMPARABLE = "faster", "slower", "not comparable"
EQUIVALENT, INCONCLUSIVE = "equivalent", "inconclusive"
VERDICTS = (SLOWER, FASTER, INCONCLUSIVE, EQUIVALENT, NOT_COMPARABLE)
# What a pair's judgement adds to it: the columns of every comparison table and document.
# ``ratio_low``/``ratio_high``: the interval regression claims are judged on; ``equivalence_low``/
# ``equivalence_high``: the one equivalence is judged on; ``detectable``: the smallest change
# (as a ratio, >= 1) that these data could have confirmed; ``set_aside``: disturbed rounds left
# out of the estimate.
# --factor: the smallest ratio that counts as a change, for every comparison.
DEFAULT_FACTOR = 1.1
MAX_FACTOR = 1000.0  # above this it is no longer a threshold for a change; it is a typo


def factor_problem(factor: object) -> str | None:
    """What is wrong with ``factor`` as a --factor (None when nothing): the one rule ``compare``,
    ``report``, ``ab`` and the command line check."""
    if isinstance(factor, (int, float)) and 1 < factor <= MAX_FACTOR:
        return None
    return f"must be a number greater than 1 and at most {MAX_FACTOR:g} (e.g. 1.1 for 10%)"


JUDGEMENT_COLUMNS = (
    "ratio", "ratio_low", "ratio_high", "equivalence_low", "equivalence_high", "detectable",
    "p_value", "verdict", "note", "regression", "pairs", "set_aside",
)  # fmt: skip

# Units of asv benchmarks: ``time_*`` in seconds, ptbench's peak-memory tracks in bytes.
SECONDS, BYTES = "seconds", "bytes"
# Where a bigger value is worse, so contender/baseline > 1 is a regression; other units
# (settings tracks: threads, flag) are recorded but never judged.
COMPARED_UNITS = (SECONDS, BYTES)
UNIT_WORDS = {SECONDS: "time", BYTES: "peak memory"}
UNIT_AXIS_LABELS = {SECONDS: "time per call (s)", BYTES: "peak memory (bytes)"}
TIME_SCALES = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))
BYTE_SCALES = ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "B"))

# ptbench's benchmark parameters, in the order its operations declare them.
SUITE_PARAMS = ("device", "size", "dtype", "method")
# Facts about the run (machine, software), as opposed to a benchmark's own parameters.
RUN_KEYS = (
    # the run
    "machine", "commit", "env",
    # the Python environment (ptbench run records these in each result's params)
    "torch", "torch_build", "torch_cuda", "blas", "python", "torch_threads",
    "float32_matmul_precision",
    # the machine (asv's machine file, extended by `ptbench machine`)
    "cpu", "num_cpu", "ram", "arch", "os", "gpu", "gpu_count", "gpu_memory",
    "compute_capability", "cuda_driver",
)  # fmt: skip
# Columns every row has that are neither parameters nor facts of the run.
ROW_COLUMNS = {
    "benchmark", "operation", "kind", "unit", "version", "value", "status", "ci_99_low",
    "ci_99_high", "q_25", "q_75", "repeat", "number", "samples", "commit_date",
}  # fmt: skip
# The keys that tell one run's series from another's (a history line, a "latest" result).
SERIES_RUN_KEYS = ("machine", "env")
# ``ptbench ab`` (and bisect's steps) write each side's rounds as an asv result of an environment
# named ``ab-<side>-...``: paired rounds, in lockstep on one CPU, whose times are the pair's and
# not what ``ptbench run`` measures (until 2026-12-07 its workers' OpenMP threads slept at once:
# a fused SGD step on 8,192 elements took 0.77 ms a call in ab's rounds, 0.064 ms in a run's).
# History along torch versions, which joins runs of one build line, leaves them out
# (``runs_only``).
AB_ENV_PREFIX = "ab-"
# What identifies a result row apart from the run: which benchmark, which combination.
IDENTITY = ("benchmark", *SUITE_PARAMS)


def operation_name(benchmark: str) -> str:
    """``bench_linalg.time_solve`` -> ``solve``; ``...track_update_peak_bytes`` ->
    ``update_peak_bytes``: the benchmark's name without its module and asv kind prefix."""
    return benchmark.rsplit(".", 1)[-1].split("_", 1)[-1]


def benchmark_kind(benchmark: str) -> str:
    """``time``, ``track``, ``mem``...: asv's kind, from the function name's prefix."""
    return benchmark.rsplit(".", 1)[-1].split("_", 1)[0]


def latest(rows: pd.DataFrame, by: tuple[str, ...] = (*IDENTITY, *SERIES_RUN_KEYS)) -> pd.DataFrame:
    """The newest result (by commit date) of each combination of the ``by`` columns present."""
    keys = [key for key in by if key in rows]
    return rows.sort_values("commit_date", kind="stable").drop_duplicates(keys, keep="last")


def timed(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows that were measured and can be judged: status ok, in a compared unit (time or
    peak memory; settings tracks are recorded, never judged)."""
    return rows[(rows["status"] == STATUS_OK) & rows["unit"].isin(COMPARED_UNITS)]


def runs_only(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows ``ptbench run`` (or ``asv run``) recorded: not an ab side's (``AB_ENV_PREFIX``)."""
    if "env" not in rows:
        return rows
    return rows[~rows["env"].astype(str).str.startswith(AB_ENV_PREFIX)]


def newest_run(rows: pd.DataFrame) -> pd.DataFrame:
    """Every row of each machine and environment's newest commit (by commit date): one whole
    run per series, so its rows still pair with each other (CUDA with CPU, LU with Cholesky)."""
    newest = rows.groupby(list(SERIES_RUN_KEYS))["commit_date"].transform("max")
    return rows[rows["commit_date"] == newest]
