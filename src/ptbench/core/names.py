"""Names safe for files and folders, and the rules a machine name must follow."""

import hashlib
import re

from ptbench.core.errors import MachineError

MACHINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MACHINE_NAME_MAX = 64
# asv's machine file keeps its format under "version"; a results folder holds benchmarks.json.
RESERVED_MACHINE_NAMES = ("version", "benchmarks.json")


def slug(text: str) -> str:
    """``"NVIDIA H100 80GB HBM3"`` -> ``"nvidia-h100-80gb-hbm3"``: lower case, runs of anything
    but letters and digits as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


PLAIN_STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,150}")


def file_stem(text: str) -> str:
    """``text`` when it can name a file as it is (letters, digits, ``._-``, no ``..``, at most
    151 characters); else its slug, cut to 80 characters, with a digest of the whole text, so
    that a name from the data (``../../x``, a slash, 10,000 characters) stays one file name."""
    if PLAIN_STEM.fullmatch(text) and ".." not in text:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug(text)[:80] or 'file'}-{digest}"


def check_machine_name(name: str) -> str:
    """``name`` if it can name a results folder and an entry of asv's machine file."""
    if not MACHINE_NAME.fullmatch(name):
        raise MachineError(
            f"machine name {name!r} cannot name a results folder; use letters, "
            "digits, '.', '_' and '-', starting with a letter or digit"
        )
    if len(name) > MACHINE_NAME_MAX:
        raise MachineError(
            f"machine name of {len(name)} characters is too long; use at most "
            f"{MACHINE_NAME_MAX}, e.g. {slug(name)[:24]!r}"
        )
    if name.lower() in RESERVED_MACHINE_NAMES:
        raise MachineError(
            f"machine name {name!r} is reserved by asv (its machine file and results folder "
            f"use it); choose another, e.g. {name}-1"
        )
    return name
