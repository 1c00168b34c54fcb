#!/usr/bin/env python
"""What ``ptbench explain`` costs: issue 17's target, two combinations (about 10 us and about
10 ms, instruction counts included) explained in under 3 minutes.

Each repetition, in one go on this machine: the command itself, timed end to end (this
environment on both sides), then the two sides' callgrind collections of the 10 us combination
taken one after the other and at the same time (what ``explain`` does since 2026-12-08), each
collection in a process of its own, as explain's workers run them.

    .venv/bin/python scripts/explain_cost.py --repetitions 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAST = ("bench_elementwise.time_sum", ["cpu", 1024])
SLOW = ("bench_linalg.time_eigh", ["cpu", 256, "float64"])
SELECTION = r"time_sum\('cpu', 1024\)|time_eigh\('cpu', 256, 'float64'\)"
COUNT = ("import json, sys\n"
         "from ptbench.analysis.explain.instructions import count\n"
         "print(json.dumps(count({name!r}, {params!r}, 'default')['per_call']))")  # fmt: skip


def explained(out: Path) -> tuple[float, dict]:
    """The command's wall time and its JSON document."""
    command = [sys.executable, "-m", "ptbench.cli", "explain", "--baseline", sys.executable,
               "--contender", sys.executable, "--device", "cpu", "--bench", SELECTION,
               "--format", "json"]  # fmt: skip
    start = time.monotonic()
    with out.open("w") as stdout:
        subprocess.run(command, stdout=stdout, check=True)
    return time.monotonic() - start, json.loads(out.read_text())


def collections(together: bool) -> tuple[float, list[str]]:
    """Two callgrind collections of FAST, one after the other or at once: wall time, counts."""
    code = COUNT.format(name=FAST[0], params=FAST[1])
    start, answers = time.monotonic(), []
    if together:
        running = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                    text=True) for _ in range(2)]  # fmt: skip
        answers = [process.communicate()[0].strip() for process in running]
    else:
        for _ in range(2):
            answers.append(subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                          text=True, check=True).stdout.strip())  # fmt: skip
    return time.monotonic() - start, answers


def summary(document: dict) -> str:
    parts = []
    for entry in document["combinations"]:
        counted = entry.get("instructions") or {}
        parts.append(f"{entry['benchmark'].split('.')[-1]}: {entry.get('pairs')} pairs, "
                     f"{entry.get('baseline_seconds', 0) * 1e6:,.1f} us a call"
                     + (f", {counted['baseline_per_call']:,.1f} instructions a call"
                        if counted.get("status") == "ok" else ""))  # fmt: skip
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=2)
    args = parser.parse_args()
    print("| repetition | explain, two combinations | what it took | two collections, one after "
          "the other | at once |\n|---|---|---|---|---|", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ptbench-explain-cost-") as scratch:
        for repetition in range(1, args.repetitions + 1):
            wall, document = explained(Path(scratch) / f"explain-{repetition}.json")
            apart, _ = collections(together=False)
            together, counts = collections(together=True)
            print(f"| {repetition} | {wall:.0f} s | {summary(document)} | {apart:.0f} s | "
                  f"{together:.0f} s ({', '.join(counts)}) |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
