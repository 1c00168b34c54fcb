#!/usr/bin/env python
"""Make a throwaway contender environment: the baseline's packages, one torch function slowed.

For measuring what ``ptbench ab`` can detect (``scripts/measure_ab.py``) and for its end-to-end
test. Never part of ptbench itself. The new virtualenv has no packages of its own: a ``.pth``
file adds every site-packages folder the baseline interpreter sees (editable installs included),
and another imports a module that wraps FUNCTION so that each call spins, after the real call,
for (FACTOR - 1) times as long as the call took: the function takes FACTOR times as long, on the
CPU (a CUDA call would need a synchronise first; this helper is for CPU measurements). With
``--extra STATEMENT``, each call also runs STATEMENT (an extra ATen operator, for ``ptbench
explain``'s test; ``--factor 1`` leaves out the spinning). With ``--round-share S``, only a
share S of processes (each of ``ptbench ab``'s rounds is a forked process) are slowed, drawn
afresh in every forked child: a disturbed round, injected.

    .venv/bin/python scripts/slowed_env.py DIR --function torch.linalg.cholesky --factor 1.25
    .venv/bin/python scripts/slowed_env.py DIR --factor 10 --round-share 0.05
    # then: ptbench ab --baseline .venv/bin/python --contender DIR/bin/python ...
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

WRAPPER = textwrap.dedent(
    '''
    """Slows {function} by a factor of {factor} in a share {share} of processes (made by
    ptbench's scripts/slowed_env.py)."""
    import importlib
    import os
    import random
    import time

    import torch  # noqa: F401  (for --extra)

    _owner_name, _attribute = {function!r}.rsplit(".", 1)
    _owner = importlib.import_module(_owner_name)
    _original = getattr(_owner, _attribute)
    _active = True


    def _draw():
        global _active
        _active = random.Random(os.urandom(8)).random() < {share}


    _draw()
    os.register_at_fork(after_in_child=_draw)


    def _slowed(*args, **kwargs):
        if not _active:
            return _original(*args, **kwargs)
        start = time.perf_counter()
        result = _original(*args, **kwargs)
        {extra}
        until = time.perf_counter() + (time.perf_counter() - start) * ({factor} - 1)
        while time.perf_counter() < until:
            pass
        return result


    setattr(_owner, _attribute, _slowed)
    '''
)


def site_folders(python: str) -> list[str]:
    """The site-packages folders ``python`` sees, in its order."""
    program = (
        "import json, site, sys; print(json.dumps([p for p in sys.path if 'site-packages' in p]))"
    )
    return json.loads(
        subprocess.run([python, "-c", program], capture_output=True, text=True, check=True).stdout
    )


def make(
    target: Path, baseline_python: str, function: str, factor: float, round_share: float = 1.0,
    extra: str = "pass",
) -> Path:
    """Create the environment in ``target``; return its Python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    lines = [
        f"import site; site.addsitedir({folder!r})" for folder in site_folders(baseline_python)
    ]
    (purelib / "ptbench_baseline_packages.pth").write_text("\n".join(lines) + "\n")
    wrapper = WRAPPER.format(function=function, factor=factor, share=round_share, extra=extra)
    (purelib / "ptbench_slowdown.py").write_text(wrapper)
    # Named to sort after the baseline's .pth, so torch is importable when it runs.
    (purelib / "zz_ptbench_slowdown.pth").write_text("import ptbench_slowdown\n")
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--baseline", default=sys.executable, help="(default: this Python)")
    parser.add_argument("--function", default="torch.linalg.cholesky")
    parser.add_argument("--factor", type=float, default=1.25)
    parser.add_argument("--round-share", type=float, default=1.0, help="(default: every process)")
    parser.add_argument("--extra", default="pass", help="a statement each call also runs, e.g. "
                        "'torch.mm(args[0], args[0])': an extra ATen operator (ptbench explain)")
    args = parser.parse_args()
    print(make(args.target, args.baseline, args.function, args.factor, args.round_share,
               args.extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
