"""History along torch's own versions: the regression graph a PyTorch performance engineer reads.

asv orders history by this repository's commits, but what changes between runs is usually torch:
releases and nightlies benchmarked at one suite commit. Here a *series* is one benchmark and
parameter combination on one machine with one torch *build line*, and its points are ordered by
torch version.

- **Build line**: the local version label of the wheel (``cpu``, ``cu130``, ``rocm6.4``),
  else the ``torch_build`` run fact ``ptbench run`` records (``cuda13.0`` becomes ``cu130``),
  else ``torch_cuda`` (``none``: ``cpu``). A CPU wheel and a CUDA wheel of one release are
  different builds (different libraries, compilers and flags), so they are different lines.
- **Order**: PEP 440 (``packaging.version``), which puts nightlies ``2.15.0.dev20261101``
  before ``2.15.0`` and by date among themselves, and ``2.9.0`` before ``2.10.0``.
- **A point per version**: the newest result (by commit date) of that torch version; the suite
  commit and environment it came from travel with it.

Change points along torch versions come from the same detector as along commits
(:func:`ptbench.analysis.history.change_points`, asv's step detection and a Mann-Whitney test).
"""

from __future__ import annotations

import re

import pandas as pd
from packaging.version import InvalidVersion, Version

from ptbench.analysis import history
from ptbench.core.schema import runs_only, timed

LINE, PUBLIC, ORDER = "torch_line", "torch_version", "torch_order"
SERIES_KEYS = ("machine", LINE)


def build_line(version: str, torch_build: object = None, torch_cuda: object = None) -> str:
    """``2.14.1+cu130`` -> ``cu130``; ``2.13.0`` with ``torch_build`` ``cpu`` -> ``cpu``."""
    _public, _plus, label = str(version).partition("+")
    if label:
        return label
    build = str(torch_build) if isinstance(torch_build, str) else ""
    cuda = re.fullmatch(r"cuda(\d+)\.(\d+)", build)
    if cuda:
        return f"cu{cuda[1]}{cuda[2]}"
    if build:
        return build
    if isinstance(torch_cuda, str) and torch_cuda not in ("", "none"):
        return "cu" + torch_cuda.replace(".", "")
    return "cpu" if torch_cuda == "none" else "unknown"


def public_version(version: str) -> str:
    """The version without its local label: ``2.14.1+cu130`` -> ``2.14.1``."""
    return str(version).partition("+")[0]


def version_key(version: str) -> tuple:
    """A sort key in PEP 440 order; a version packaging cannot parse sorts last, by text."""
    try:
        return (0, Version(public_version(version)), "")
    except (InvalidVersion, ValueError):  # ValueError: a number of over 4,300 digits
        return (1, Version("0"), str(version))


def ordered_versions(versions) -> list[str]:
    """Distinct public versions, oldest first."""
    return sorted({public_version(v) for v in versions if isinstance(v, str)}, key=version_key)


def with_lines(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the build line, public version and version rank of each row's torch."""
    facts = [frame.get(column, pd.Series(None, index=frame.index)) for column in
             ("torch", "torch_build", "torch_cuda")]  # fmt: skip
    out = frame.copy()
    out[LINE] = [build_line(*row) for row in zip(*facts, strict=True)]
    out[PUBLIC] = [public_version(v) for v in facts[0]]
    rank = {version: index for index, version in enumerate(ordered_versions(out[PUBLIC]))}
    out[ORDER] = out[PUBLIC].map(rank)
    out.attrs = frame.attrs
    return out


def series_keys(frame: pd.DataFrame) -> list[str]:
    return ["benchmark", *frame.attrs.get("param_keys", []), *SERIES_KEYS]


def along_torch(frame: pd.DataFrame) -> pd.DataFrame:
    """One point per series and torch version (the newest result of it), oldest version first:
    of ``ptbench run``'s results only (an ab side's rounds time something else:
    ``schema.AB_ENV_PREFIX``)."""
    points = with_lines(timed(runs_only(frame)))
    keys = [key for key in (*series_keys(points), PUBLIC) if key in points]
    points = points.sort_values("commit_date", kind="stable").drop_duplicates(keys, keep="last")
    points = points.sort_values([ORDER, "commit_date"], kind="stable", ignore_index=True)
    points.attrs = frame.attrs
    return points


def change_points(frame: pd.DataFrame, threshold: float = 0.05) -> pd.DataFrame:
    """Significant steps along torch versions in every series with at least three versions:
    ``torch_version`` is the first version at the new level, ``previous_torch_version`` the
    last before it."""
    points = along_torch(frame)
    keys = [key for key in series_keys(points) if key in points]
    return history.change_points(points, threshold, keys=keys, order=ORDER, at=PUBLIC)
