"""Filing what asv recorded: the result relabelled with the environment that ran (asv names an
existing environment after the Python path and stamps it with the config's matrix values, so
two torch versions in one virtualenv would overwrite each other and be mislabelled), its
settings and noise facts, and the shared files, each written atomically under ``results/``.
"""

from __future__ import annotations

import itertools
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ptbench.core import outputs
from ptbench.core.errors import RunFailed
from ptbench.hardware import noise
from ptbench.run.environment import settings
from ptbench.run.plan import RunPlan


@dataclass
class RunSummary:
    written: list[Path] = field(default_factory=list)
    timed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)  # name(params), as asv prints them
    log: Path | None = None  # asv's whole output

    def failure_report(self) -> list[str]:
        """What failed, and, when CUDA combinations did, what to do about it."""
        if not self.failed:
            return []
        lines = [f"ptbench: failed: {', '.join(self.failed)}"]
        on_cuda = [label for label in self.failed if "('cuda'" in label]
        if on_cuda:
            kept = self.written[0] if self.written else "the results folder"
            lines.append(
                f"ptbench: {len(on_cuda)} CUDA combinations failed. If the GPU was lost during "
                f"the run (nvidia-smi tells), everything that completed is kept in {kept}; "
                "rerun with --device cuda to fill in the rest"
            )
        return lines


def _relabel(result: dict, env_name: str, facts: dict[str, str]) -> dict:
    earlier = result.get("params", {})
    result["env_name"] = env_name
    result["params"] = {**earlier, **facts}
    if noise.is_disturbed(earlier.get(noise.VERDICT_KEY)):  # merged: the worst run's verdict
        result["params"][noise.VERDICT_KEY] = earlier[noise.VERDICT_KEY]
    result["requirements"] = {"torch": facts["torch"]}
    result["python"] = f"{sys.version_info.major}.{sys.version_info.minor}"
    return result


def _count(
    result: dict, selection: dict[str, list[str]], summary: RunSummary, since_ms: float = 0
) -> None:
    """Tally the selected combinations that this run timed (``started_at`` >= ``since_ms``):
    the rest of the file is earlier runs' or n/a."""
    columns = result["result_columns"]
    for name, row in result["results"].items():
        entry = dict(zip(columns, row, strict=False))
        if name not in selection or (entry.get("started_at") or 0) < since_ms:
            continue
        values = entry["result"] if isinstance(entry["result"], list) else [entry["result"]]
        labels = [", ".join(combo) for combo in itertools.product(*entry.get("params", []))]
        selected = set(selection[name])
        for label, value in zip(labels or [""], values, strict=True):
            if labels and label not in selected:
                continue
            if value is None:
                summary.failed.append(f"{name}({label})" if label else name)
            elif value != value:  # NaN: skipped in the process (unsupported, memory)
                summary.skipped += 1
            else:
                summary.timed += 1


def file(
    plan: RunPlan, result: dict, started_ms: float, scratch: Path, noise_facts: dict[str, str],
    log: Path | None = None,
) -> RunSummary:
    """File asv's result (with the environment's settings and the run's noise facts,
    ``noise_facts``) and the shared files under the results folder; count what ran. ``log``
    holds asv's output."""
    summary = RunSummary(log=log)
    result = _relabel(result, plan.env_name, {**settings(), **noise_facts})
    _count(result, plan.selection, summary, since_ms=started_ms)
    if not (summary.timed or summary.skipped or summary.failed):
        raise RunFailed(
            "asv finished but recorded none of the selected benchmarks (its whole output: "
            f"{log or 'above'}). Nothing was filed under {plan.results_dir}"
        )
    outputs.write_json_atomically(plan.target, result)
    summary.written.append(plan.target)
    for shared in ("benchmarks.json", f"{plan.machine}/machine.json"):
        source = scratch / "results" / shared
        if source.is_file():
            destination = plan.results_dir / shared
            outputs.make_folder(destination.parent)
            outputs.write_atomically(
                destination, lambda temporary, s=source: shutil.copyfile(s, temporary)
            )
            summary.written.append(destination)
    return summary
