"""How long a ``ptbench run`` on a device will take, before it starts, and which combinations
fit a time budget: what ``scripts/gpu/measure`` prints and runs when a GPU machine is lent for a
few minutes (docs/gpu.md).

A combination's time is predicted from its operation's work counts (FLOPs and bytes moved, the
same counts the report's throughput uses) at the device's datasheet rates (``peaks``), plus
what each asv benchmark process costs whatever it times: asv runs a combination in ``ROUNDS``
fresh processes (its default), each of which starts, builds and checks the inputs, warms up
and takes up to 5 samples of at least 10 ms. The fixed cost per process is an assumption until
a GPU run has measured it; ``measure`` prints each chunk's predicted and actual wall time, so
the first run calibrates the next.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ptbench.hardware.peaks import DATASHEETS
from ptbench.run.plan import exact_regex
from ptbench.suite.operations import OPERATIONS, CountingCase
from ptbench.suite.timing import WARMUP_SECONDS

ROUNDS = 2  # asv's default `rounds`: processes per combination
SAMPLES, SAMPLE_SECONDS, MAX_SAMPLING_SECONDS = 5, 0.010, 10.0  # asv's repeat (1, 5, 10.0)
ASV_WARMUP_SECONDS = 0.1  # asv-runner's warmup_time, on top of the suite's own warm-up
LAUNCH_SECONDS = 10e-6  # the least one call costs on a GPU (kernel launch and sync)
# Start, fork, context and input set-up of one benchmark process: on a GPU its CUDA context
# (assumed; to be replaced by the first measured figure), on a CPU measured here (smoke tier).
PROCESS_SECONDS = {"cuda": 1.5, "cpu": 0.35}
# A CPU's nominal rates for rehearsals (GFLOP/s, GB/s): a 2-core VM, not a datasheet.
CPU_RATES = {"flops": 50e9, "bytes": 10e9}
# The share of the datasheet rate an operation reaches at its large sizes: a matrix product
# most of it; a decomposition (eig, eigh, svd, solves: LAPACK-style, partly on the host) a
# sliver; memory-bound kernels most of the bandwidth. Pessimistic on purpose: a chunk that
# overruns loses its minutes.
EFFICIENCY = {"matmul": 0.6, "decomposition": 0.01, "memory": 0.6}
CHUNK_SECONDS = {"cuda": 10.0, "cpu": 6.0}  # a `ptbench run`: asv's start, discovery, imports


@dataclass(frozen=True)
class Planned:
    """One combination of a run and its predicted wall time."""

    benchmark: str
    label: str  # its params as asv prints them: "'cuda', 1024, 'float32'"
    seconds: float

    @property
    def family(self) -> str:
        return self.benchmark.split(".")[0].removeprefix("bench_")


def rates(device: str, gpu: str = "H200") -> dict[str, float]:
    """FLOP/s per dtype and bytes/s of ``device`` (the datasheet of ``gpu`` for CUDA)."""
    if device == "cpu":
        return {"flops": CPU_RATES["flops"], "bytes": CPU_RATES["bytes"]}
    sheet = DATASHEETS[gpu]
    return {**{dtype: tflops * 1e12 for dtype, tflops in sheet.items() if dtype != "copy_tbps"},
            "flops": sheet["float32"] * 1e12, "bytes": sheet["copy_tbps"] * 1e12}  # fmt: skip


def call_seconds(name: str | None, named: dict, device: str, speeds: dict[str, float]) -> float:
    """One call's time at the device's rates: its FLOPs or its bytes, whichever takes longer."""
    operation = OPERATIONS.get(name or "")
    if operation is None or "size" not in named:
        return LAUNCH_SECONDS
    case = CountingCase(device=device, size=int(named["size"]),
                        dtype=named.get("dtype") or operation.dtypes[0],
                        method=named.get("method"))  # fmt: skip
    flops = operation.flops(case) if operation.flops else 0.0
    count_bytes = operation.bytes_moved or operation.footprint_bytes
    moved = count_bytes(case)
    flop_rate = speeds.get(case.dtype, speeds["flops"]) * EFFICIENCY[_kind(operation)]
    byte_rate = speeds["bytes"] * EFFICIENCY["memory"]
    return max(flops / flop_rate, moved / byte_rate, LAUNCH_SECONDS)


def _kind(operation) -> str:
    if operation.family != "linalg":
        return "memory"
    return "matmul" if operation.name.startswith("matmul") else "decomposition"


def combination_seconds(call: float, device: str, timed: bool = True) -> float:
    """Wall time of one combination: ``ROUNDS`` processes, each with its fixed cost, the check
    and the warm-up calls, and (for a time benchmark) asv's sampling."""
    sampling = max(SAMPLES * SAMPLE_SECONDS, min(SAMPLES * call, MAX_SAMPLING_SECONDS + call))
    warmup = max(WARMUP_SECONDS + ASV_WARMUP_SECONDS, 2 * call)
    per_process = PROCESS_SECONDS[device] + 2 * call + (warmup + sampling if timed else call)
    return ROUNDS * per_process


def predict(benchmarks: list, selection: dict[str, list[str]], device: str) -> list[Planned]:
    """Every selected combination (``run.plan.select``'s answer) with its predicted time."""
    speeds = rates(device)
    planned = []
    for benchmark in benchmarks:
        chosen = set(selection.get(benchmark.name, ()))
        for values, labels in zip(
            itertools.product(*benchmark._params), itertools.product(*benchmark.params), strict=True
        ):
            label = ", ".join(labels)
            if label not in chosen:
                continue
            named = dict(zip(benchmark.param_names, values, strict=True))
            call = call_seconds(getattr(benchmark, "operation_name", None), named, device, speeds)
            timed = benchmark.name.rsplit(".", 1)[-1].startswith("time_")
            planned.append(Planned(benchmark.name, label, combination_seconds(call, device, timed)))
    return planned


def _spread(combinations: list[Planned]) -> list[Planned]:
    """A benchmark's combinations ordered so that any prefix spans its sizes: the largest (the
    regime a GPU is for), the smallest, then the ones between, halving the gaps."""
    order, seen = [], set()
    count = len(combinations)
    for depth in range(count.bit_length() + 1):
        for step in range(2**depth + 1):
            index = round((count - 1) * (1 - step / 2**depth)) if count > 1 else 0
            if index not in seen:
                seen.add(index)
                order.append(combinations[index])
    return order


def fit(
    planned: list[Planned], budget_seconds: float, device: str, longest: float = 20.0
) -> list[Planned]:
    """The combinations to run within ``budget_seconds``: one of every benchmark in turn (so
    every operation is covered before any is covered twice), each benchmark's own in
    ``_spread`` order, none predicted over ``longest`` seconds, while the predicted total (with
    ``CHUNK_SECONDS`` for each family's run on ``device``) stays within the budget."""
    affordable = [p for p in planned if p.seconds <= longest]
    queues = [_spread(list(group)) for _, group in
              itertools.groupby(affordable, key=lambda p: p.benchmark)]  # fmt: skip
    chosen, total, families = [], 0.0, set()
    for round_ in itertools.zip_longest(*queues):
        for combination in (c for c in round_ if c is not None):
            cost = combination.seconds
            cost += CHUNK_SECONDS[device] if combination.family not in families else 0.0
            if total + cost <= budget_seconds:
                chosen.append(combination)
                families.add(combination.family)
                total += cost
    return chosen


def bench_regex(combinations: list[Planned]) -> str:
    """One ``--bench`` regex that matches exactly these combinations' ``name(params)``."""
    return exact_regex([f"{c.benchmark}({c.label})" for c in combinations])


def total_seconds(combinations: list[Planned]) -> float:
    return math.fsum(c.seconds for c in combinations)


def chunk_seconds(combinations: list[Planned], device: str) -> float:
    """One ``ptbench run`` of ``combinations``: theirs and the run's own start."""
    return total_seconds(combinations) + CHUNK_SECONDS[device]
