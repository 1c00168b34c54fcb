"""The builds ``ptbench bisect`` searches: each BUILD argument made into a Python interpreter.

A BUILD is one of:

- a Python interpreter of an environment that has torch and ptbench (as for ``ab``);
- a pip requirement for torch (``torch==2.14.0``), a wheel file, or a folder that holds one
  torch wheel (installed with its dependencies from that folder only);
- a folder of several torch wheels (nightlies): one build per wheel, ordered by version, so
  ``2.6.0.dev20241001`` comes before ``2.6.0.dev20241002`` and both before ``2.6.0``.

Requirements and wheels get a virtualenv of their own, made once and kept under
``$PTBENCH_BUILDS`` (else ``$XDG_CACHE_HOME/ptbench/builds``, else ``~/.cache/ptbench/builds``),
never in the user's own environments. The new environment holds torch and the packages pip
installs with it; a ``.pth`` file then adds this environment's site-packages *after* its own,
so it runs the current ptbench (and its dependencies) against its own torch. It is made under a
temporary name and renamed into place, so a half-made environment is never used.

Every build is then asked for its torch version and git revision (``torch.version.git_version``)
before anything is timed; one that cannot import torch and ptbench, or builds given out of
version order, are bad input.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from ptbench.core import outputs
from ptbench.core.errors import RunFailed, UsageError
from ptbench.core.outputs import cut, one_line

PROBE_SECONDS = 180.0  # importing torch cold from a network disk can take a minute
PROBE = (
    "import json, torch, ptbench; print(json.dumps({'torch': torch.__version__, "
    "'git_version': getattr(torch.version, 'git_version', None) or 'unknown'}))"
)
WHAT_A_BUILD_IS = (
    "give a Python with torch and ptbench, a torch requirement (torch==2.14.0), a torch wheel "
    "or a folder of torch wheels"
)


@dataclass(frozen=True)
class Build:
    """One build, oldest first: where it came from, the Python that runs it, what it is."""

    index: int
    given: str  # the BUILD argument (a folder of wheels gives one build per wheel)
    python: str
    torch: str = "unknown"
    git_version: str = "unknown"

    def label(self) -> str:
        return f"build {self.index} (torch {self.torch})"

    def as_dict(self) -> dict:
        return {"index": self.index, "given": self.given, "python": self.python,
                "torch": self.torch, "git_version": self.git_version}  # fmt: skip


def builds_folder() -> Path:
    chosen = os.environ.get("PTBENCH_BUILDS")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ptbench" / "builds"


def torch_wheels(folder: Path) -> list[Path]:
    """The folder's torch wheels, oldest version first."""
    found = []
    for path in folder.glob("*.whl"):
        try:
            name, version, _build, _tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        if name == "torch":
            found.append((version, path.name, path))
    return [path for _version, _name, path in sorted(found)]


def _requirement(text: str) -> Requirement | None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    return requirement if requirement.name.lower() == "torch" else None


def install_spec(given: str) -> list[list[str]]:
    """What each BUILD argument stands for: ``[]`` for a Python, else one pip argument list per
    build it gives (``["torch==2.14.0"]``, ``[wheel]``, ``[wheel, "--no-index", "--find-links",
    folder]``)."""
    path = Path(given)
    if path.is_dir():
        wheels = torch_wheels(path)
        if not wheels:
            raise UsageError(f"build {given}: a folder without a torch wheel (torch-*.whl); "
                             f"{WHAT_A_BUILD_IS}")  # fmt: skip
        for wheel in wheels:
            _check_wheel(wheel, given)
        return [[str(w.resolve()), "--no-index", "--find-links", str(path.resolve())]
                for w in wheels]  # fmt: skip
    if path.suffix == ".whl":
        if not path.is_file():
            raise UsageError(f"build {given}: no such wheel; {WHAT_A_BUILD_IS}")
        _check_wheel(path, given)
        return [[str(path.resolve())]]
    requirement = _requirement(given)
    if requirement is not None and not path.exists():
        return [[str(requirement)]]
    if (path.is_file() and os.access(path, os.X_OK)) or ("/" not in given and shutil.which(given)):
        return []
    raise UsageError(f"build {given!r} is not a Python, a torch requirement, a wheel or a "
                     f"folder of wheels; {WHAT_A_BUILD_IS}")  # fmt: skip


def _check_wheel(path: Path, given: str) -> None:
    """A wheel is a zip archive with a ``.dist-info/WHEEL`` (PEP 427), checked before any
    environment is made (a hostile pass: a file of garbage named like a wheel was refused by
    pip minutes later, after a progress line, leaving pip's log behind)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith(".dist-info/WHEEL") for name in archive.namelist()):
                return
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        pass
    raise UsageError(f"build {given}: {path} is not a wheel (a zip archive with a "
                     f".dist-info/WHEEL); {WHAT_A_BUILD_IS}")  # fmt: skip


def environment_for(pip_arguments: list[str], say=print) -> Path:
    """The cached virtualenv of one requirement or wheel (made now if missing); its Python."""
    key = hashlib.sha256(json.dumps(pip_arguments).encode()).hexdigest()[:16]
    target = builds_folder() / key
    python = target / "bin" / "python"
    if python.exists():
        return python
    outputs.make_folder(target.parent)
    say(f"ptbench bisect: making an environment for {' '.join(pip_arguments)} in {target}")
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        _make_environment(scratch, pip_arguments)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return python


def _make_environment(folder: Path, pip_arguments: list[str]) -> None:
    log = folder / "install.log"
    steps = [
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        [sys.executable, "-m", "pip", "--python", str(folder / "bin" / "python"), "install",
         "--no-input", *pip_arguments],
    ]  # fmt: skip
    for command in steps:
        with open(log, "a") as output:
            completed = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT)
        if completed.returncode != 0:
            said = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
            last = one_line(said[-1] if said else "no output")
            why = f"installing {' '.join(pip_arguments)} failed (pip: {last})"
            if any(Path(argument).exists() for argument in pip_arguments):  # the user's wheel
                raise UsageError(f"{why}; give a wheel that installs here")  # pip said why
            kept = Path(tempfile.mkstemp(prefix="ptbench-bisect-install-", suffix=".log")[1])
            shutil.copyfile(log, kept)
            raise RunFailed(f"{why}; its output is in {kept}")
    lines = [f"import site; site.addsitedir({folder!r})" for folder in _site_folders()]
    purelib = _purelib(folder / "bin" / "python")
    (purelib / "zz_ptbench_parent_environment.pth").write_text("\n".join(lines) + "\n")


def _site_folders() -> list[str]:
    """This environment's site-packages (editable installs' .pth files included)."""
    return [path for path in sys.path if path.endswith("site-packages")]


def _purelib(python: Path) -> Path:
    program = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    output = subprocess.run([str(python), "-c", program], capture_output=True, text=True,
                            check=True).stdout  # fmt: skip
    return Path(output.strip())


def probe(index: int, given: str, python: str) -> Build:
    """Ask the build for its torch version and git revision; bad input if it cannot say."""
    try:
        completed = subprocess.run([python, "-c", PROBE], capture_output=True, text=True,
                                   timeout=PROBE_SECONDS)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"build {index} ({given}): cannot run {python} ({one_line(str(error))});"
                         f" {WHAT_A_BUILD_IS}") from None  # fmt: skip
    if completed.returncode != 0:
        why = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"build {index} ({given}): {python} cannot import torch and ptbench "
                         f"({one_line(why)}); {WHAT_A_BUILD_IS}")  # fmt: skip
    facts = _facts(completed.stdout)
    if facts is None:
        raise UsageError(f"build {index} ({given}): {python} did not say its torch version "
                         f"and git revision; {WHAT_A_BUILD_IS}")  # fmt: skip
    if not VERSION.fullmatch(facts["torch"]):  # it names the build's results: a file name
        raise UsageError(f"build {index} ({given}): {python} says its torch version is "
                         f"{cut(repr(facts['torch']))}, which is no version; {WHAT_A_BUILD_IS}")
    return Build(index, given, python, facts["torch"], facts["git_version"])


# A torch version as it names an environment and its result files (2.13.0+cpu,
# 2.14.0.dev20260103+cu130): a hostile pass's build said "../../x", and bisect went on to a step.
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,100}")


def _facts(output: str) -> dict | None:
    """The probe's last line: {"torch": text, "git_version": text}; None for anything else (a
    hostile pass: a script that printed nothing, "[]" or a torch of 5 was an internal error,
    or wrote a bisection's folder before refusing)."""
    lines = output.strip().splitlines()
    try:
        facts = json.loads(lines[-1]) if lines else None
    except (ValueError, RecursionError):
        return None
    fields = ("torch", "git_version")
    if not isinstance(facts, dict) or not all(isinstance(facts.get(f), str) for f in fields):
        return None
    return facts


def check_order(builds: list[Build]) -> None:
    """Oldest first: each build's torch version no older than the one before it."""
    for before, after in zip(builds, builds[1:], strict=False):
        try:
            older = Version(after.torch) < Version(before.torch)
        except ValueError:
            continue  # a version pip cannot order: the user's order stands
        if older:
            raise UsageError(f"builds out of version order: {after.label()} comes after "
                             f"{before.label()}; give the builds oldest first")  # fmt: skip


def resolve(given: list[str], say=print) -> list[Build]:
    """Every BUILD argument as a Python that runs it, probed and checked, oldest first."""
    pythons: list[tuple[str, str]] = []
    for argument in given:
        specs = install_spec(argument)  # every argument checked before anything is installed
        pythons += [(argument, spec) for spec in specs] if specs else [(argument, None)]
    if len(pythons) < 2:
        raise UsageError(f"--builds gives {len(pythons)} build; bisect needs at least two, "
                         "oldest first")  # fmt: skip
    made = [
        (argument, argument if spec is None else str(environment_for(spec, say)))
        for argument, spec in pythons
    ]
    builds = [probe(index, argument, python) for index, (argument, python) in enumerate(made)]
    check_order(builds)
    return builds
