"""One ``ptbench bisect`` session: the builds, the ends, the search, the boundary, the record.

Every step is an ordinary ``ptbench ab`` run (``analysis.ab.session``) into a folder of its own,
``<results>/bisect-<key>/<role>-<baseline>-vs-<contender>/``, so ``report``, ``publish`` and
``compare`` read any step as they read an ``ab`` run. ``<key>`` is a digest of the arguments:
a second run with the same arguments finds the finished steps and reuses them (a step is made
under a temporary name and renamed when ``ab`` has written everything, so a step interrupted
half-way is measured again, never half-read). The search's document goes beside the folder as
``<results>/bisect-<key>.json`` (``record``).

1. The ends (first against last build), on the whole selection: no confirmed regression ends
   the search (exit 0). Otherwise the regression with the largest ratio is followed.
2. The search (``search.bisect``) on that one combination alone, each step with ``--budget``
   seconds of confirmation.
3. The boundary (last good against first bad) with its own ``ab`` on the whole selection: it
   confirms the followed regression and reports what else changed at that build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ptbench.analysis import judgement
from ptbench.analysis.ab import paired
from ptbench.analysis.ab import session as ab_session
from ptbench.analysis.bisect import record, search
from ptbench.core import outputs
from ptbench.core.errors import PtbenchError, RunFailed
from ptbench.core.progress import clock, time_left
from ptbench.core.schema import DEFAULT_FACTOR
from ptbench.hardware import noise
from ptbench.run import builds as build_list
from ptbench.run.plan import exact_regex

STEP_BUDGET = 120.0  # seconds of confirmation per step: one combination decides in far less
# A slowdown in a run the noise guard found disturbed is never a regression: a step where that
# happened, or where another process's load left a pair undecided, is measured again, up to
# this many more times (a disturbed step whose pairs were decided anyway stands). The
# disturbed attempts are kept beside it as ``<step>.disturbed-<n>/`` (ab results like any).
DISTURBED_RETRIES = 2


@dataclass
class BisectRequest:
    """What the user asked for (``ptbench bisect``'s arguments)."""

    builds: list[str]
    tier: str = "default"
    bench: str | None = None
    devices: list[str] | None = None
    factor: float = DEFAULT_FACTOR
    budget_seconds: float = STEP_BUDGET
    results: Path | None = None


@dataclass
class Step:
    role: str
    baseline: int
    contender: int
    folder: Path
    pairs: list[dict]
    reused: bool
    seconds: float
    noise: str = "not recorded"  # the noise guard's verdict on the step's run

    def pair(self, tracked: dict) -> dict:
        """The judged pair of the followed combination (not comparable if it did not run)."""
        for pair in self.pairs:
            if pair["benchmark"] == tracked["benchmark"] and pair["params"] == tracked["params"]:
                return pair
        return {**tracked, "verdict": "not comparable", "note": "not in this step"}


@dataclass
class Bisection:
    request: BisectRequest
    builds: list[build_list.Build]
    results: Path
    steps: list[Step] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def root(self) -> Path:
        """Where the steps' folders go: one folder per set of arguments."""
        return self.results / f"{record.PREFIX}{self.key()}"

    def key(self) -> str:
        arguments = [[b.python for b in self.builds], self.request.tier, self.request.bench,
                     sorted(self.request.devices or []), self.request.factor,
                     self.request.budget_seconds]  # fmt: skip
        return hashlib.sha256(json.dumps(arguments).encode()).hexdigest()[:12]

    def _progress(self, baseline: int, contender: int) -> None:
        done = len(self.steps)
        total = max(search.expected_steps(len(self.builds)), done + 1)  # retries add steps
        elapsed = time.monotonic() - self.started
        measured = [s.seconds for s in self.steps if not s.reused]  # reused steps took no time
        left = time_left(sum(measured), len(measured), len(measured) + total - done)
        print(f"ptbench bisect: step {done + 1} of about {total}: "
              f"{self.builds[contender].label()} against {self.builds[baseline].label()} "
              f"({clock(elapsed)} so far{left})", file=sys.stderr, flush=True)

    def step(self, role: str, baseline: int, contender: int, bench: str | None) -> Step:
        """One ``ab`` comparison, reused if an earlier run of these arguments finished it."""
        folder = self.root / f"{role}-{baseline}-vs-{contender}"
        self._progress(baseline, contender)
        start, reused = time.monotonic(), folder.is_dir()
        if not reused:
            self._measure_until_quiet(role, folder, baseline, contender, bench)
        (document,) = paired.documents(folder)
        made = Step(role, baseline, contender, folder, paired.judged_pairs(document), reused,
                    time.monotonic() - start, document.get("noise", {}).get("noise", "not "
                    "recorded"))  # fmt: skip
        self.steps.append(made)
        return made

    def _measure_until_quiet(self, role: str, folder: Path, baseline: int, contender: int,
                             bench: str | None) -> None:  # fmt: skip
        for attempt in range(1, DISTURBED_RETRIES + 2):
            self._measure(role, folder, baseline, contender, bench)
            (document,) = paired.documents(folder)
            disturbed = document.get("noise", {}).get("noise", "")
            undecided = any(pair.get("verdict") == judgement.INCONCLUSIVE
                            for pair in paired.judged_pairs(document))  # fmt: skip
            if not (noise.contended(disturbed) and undecided) or attempt > DISTURBED_RETRIES:
                return
            print(f"ptbench bisect: step {folder.name} was {disturbed}; measuring it again",
                  file=sys.stderr, flush=True)  # fmt: skip
            kept = 1 + sum(1 for _ in folder.parent.glob(f"{folder.name}.disturbed-*"))
            folder.rename(folder.with_name(f"{folder.name}.disturbed-{kept}"))

    def _measure(self, role: str, folder: Path, baseline: int, contender: int,
                 bench: str | None) -> None:  # fmt: skip
        outputs.make_folder(folder.parent)
        scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        request = ab_session.ABRequest(
            self.builds[baseline].python, self.builds[contender].python, self.request.tier,
            bench, self.request.devices, self.request.factor, self.request.budget_seconds,
            scratch, quiet=True,
        )  # fmt: skip
        try:
            ab_session.run(request)
            scratch.rename(folder)
        except PtbenchError as error:
            if role != search.ENDS:  # the ends accepted the input: the build broke
                raise RunFailed(f"bisect step {folder.name} failed: {error}") from None
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def tracked_regression(ends: Step) -> dict | None:
    """The confirmed regression with the largest ratio at the ends; None when there is none."""
    regressions = [pair for pair in ends.pairs if pair.get("regression")]
    if not regressions:
        return None
    return max(regressions, key=lambda pair: pair.get("ratio") or 0.0)


def combination_regex(pair: dict) -> str:
    return exact_regex([f"{pair['benchmark']}({', '.join(repr(v) for v in pair['params'])})"])


def _ends(bisection: Bisection, bench: str | None) -> Step:
    """The first step; refused or interrupted, it leaves no empty folder of this bisection
    behind (a hostile pass: a worker refused at the first step left one)."""
    fresh = not bisection.root.exists()
    try:
        return bisection.step(search.ENDS, 0, len(bisection.builds) - 1, bench)
    except BaseException:
        if fresh:
            with contextlib.suppress(OSError):  # only if empty: disturbed attempts are kept
                bisection.root.rmdir()
        raise


def run(request: BisectRequest) -> dict:
    """Search the builds; the bisection document, also written beside the steps."""
    # --results is checked before the builds are, a scratch folder made only after them: a
    # refused --builds left an empty one behind (a hostile pass)
    results = ab_session.results_folder(request.results) if request.results else None
    builds = build_list.resolve(request.builds, say=outputs.error_line)
    results = results or ab_session.results_folder(None)
    bisection = Bisection(request, builds, results)
    ends = _ends(bisection, request.bench)
    tracked = tracked_regression(ends)
    boundary = None
    if tracked is not None:
        one = combination_regex(tracked)
        compare = lambda role, b, c: bisection.step(role, b, c, one).pair(tracked)  # noqa: E731
        boundary = search.bisect(len(builds), compare, tracked.get("ratio"))
        if (boundary.last_good, boundary.first_bad) != (0, len(builds) - 1):
            bisection.step(search.BOUNDARY, boundary.last_good, boundary.first_bad, request.bench)
    document = record.document(bisection, tracked, boundary)
    path = results / f"{bisection.root.name}.json"
    outputs.write_text_atomically(path, json.dumps(document, indent=1))
    document["path"] = str(path)
    return document
