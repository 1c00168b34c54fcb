"""Tiers pick which sizes run. They never change a benchmark's params (asv keeps one
``benchmarks.json`` for every machine and run): a size outside the tier is skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TIERS: tuple[str, ...] = ("smoke", "default", "full")
TIER_VARIABLE = "PTBENCH_TIER"
# asv-runner timing attributes per tier (what asv's ``-a`` sets); params never change with the
# tier, only what runs and how long each process samples. The smoke tier takes one short round.
TIER_TIMING: dict[str, dict[str, object]] = {
    "smoke": {"rounds": 1, "repeat": (4, 6, 1.0), "warmup_time": 0.02},
    "default": {},
    "full": {},
}

def check_tier(tier: str) -> str:
    """Return ``tier`` if known, else raise ValueError naming the known ones."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of: {', '.join(TIERS)}")
    return tier


def current_tier() -> str:
    """The tier of this run: $PTBENCH_TIER, or ``default`` when unset (plain ``asv run``)."""
    return check_tier(os.environ.get(TIER_VARIABLE, "default") or "default")


@dataclass(frozen=True)
class Ladder:
    """Log-spaced sizes for one kind of input, and how far each tier climbs it.

    ``default_max`` is per device because a GPU needs large inputs to leave the
    launch-overhead-bound regime, and a CPU run of the default tier must stay short.
    """

    values: tuple[int, ...]
    unit: str
    smoke_max: int
    default_max: dict[str, int]

    def in_tier(self, size: int, tier: str, device: str) -> bool:
        if check_tier(tier) == "full":
            return True
        if tier == "smoke":
            return size <= self.smoke_max
        return size <= self.default_max.get(device, self.default_max["cpu"])


# 16 .. 2^28 elements: from launch-overhead bound to bandwidth bound on an H100 (1 GiB float32).
VECTOR = Ladder(
    values=tuple(2**k for k in range(4, 29, 3)),
    unit="elements",
    smoke_max=2**7,
    default_max={"cpu": 2**22, "cuda": 2**28},
)
# Square matrices of order 16 .. 8192.
MATRIX = Ladder(
    values=(16, 64, 256, 1024, 4096, 8192),
    unit="matrix order",
    smoke_max=64,
    default_max={"cpu": 1024, "cuda": 8192},
)
# Batched matrices: order of each of 64 matrices in the batch.
BATCHED_MATRIX = Ladder(
    values=(4, 16, 64, 256, 512),
    unit="matrix order (batch of 64)",
    smoke_max=16,
    default_max={"cpu": 256, "cuda": 512},
)
# Python lists and pandas frames: host-side conversions are slow per element; stop at 2^22.
HOST = Ladder(
    values=tuple(2**k for k in range(4, 23, 3)),
    unit="elements",
    smoke_max=2**7,
    default_max={"cpu": 2**19, "cuda": 2**19},
)
# Width of a square MLP layer (batch of 64 rows).
MLP = Ladder(
    values=(32, 128, 512, 2048, 8192),
    unit="layer width",
    smoke_max=128,
    default_max={"cpu": 2048, "cuda": 8192},
)
