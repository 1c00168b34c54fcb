"""What the values of a result file must be before anything reads them: sizes, devices,
samples and statistics (``results`` names a file that breaks one of these in one line)."""

from __future__ import annotations

import math
from typing import Any

from ptbench.core import schema
from ptbench.core.outputs import cut

SCALARS = (str, int, float, complex, bool, type(None))


def params(name: str, values: dict[str, list]) -> None:
    """The values of the parameters every figure and table reads, by parameter name; every
    value one number, text, bool or None (a hostile pass: a method of ``[1, 2]`` was an
    internal error wherever rows were grouped)."""
    for key, values_of in values.items():
        for value in values_of:
            if not isinstance(value, SCALARS):
                raise ValueError(f"{name} has {key} {cut(repr(value))}; a parameter value is a "
                                 "number, text, True, False or None")  # fmt: skip
    if "size" in values:
        sizes(name, values["size"])
    if "device" in values:
        devices(name, values["device"])


def sizes(name: str, values: list) -> None:
    """A size is a whole, positive number the table's Int64 holds (a hostile pass: 16.5 or
    1e300 was an internal error, -256 a negative GFLOP/s)."""
    for size in values:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size < 2**63:
            raise ValueError(f"{name} has size {size!r}; a size is a whole number from 1 up")


def devices(name: str, values: list) -> None:
    """A device is one the suite runs on (``schema.DEVICES``): the roofline, the peaks and the
    report's figures are drawn per device (a hostile pass: a device of 100,000 characters, or
    the number 5, was an internal error in report)."""
    for device in values:
        if not isinstance(device, str) or device not in schema.DEVICES:
            raise ValueError(f"{name} has device {device!r}; a device is one of "
                             f"{', '.join(map(repr, schema.DEVICES))}")  # fmt: skip


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def samples_and_stats(samples: Any, stat: dict, unit: str, where: str) -> None:
    """Samples: None or a list of numbers (NaN for a missing one; times positive); stats:
    numbers or None. Anything else would only fail later, deep in the statistics."""
    if samples is not None:
        if not isinstance(samples, list) or not all(is_number(s) for s in samples):
            raise ValueError(f"{where} has samples that are not a list of numbers")
        if unit == schema.SECONDS and any(s <= 0 or s == math.inf for s in samples):
            raise ValueError(f"{where} has a sample that is not a positive, finite time")
    if not isinstance(stat, dict):
        raise ValueError(f"{where} has statistics that are not an object")
    for key, value in stat.items():
        if value is not None and not is_number(value):
            raise ValueError(f"{where} has statistic {key} = {value!r}, not a number")
