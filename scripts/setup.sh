# Shared set-up for scripts/bench and scripts/test (sourced, not run): make .venv if it is
# missing, install ptbench with its dependencies, and activate it.
#
# torch: .venv sees the system's site-packages, so a machine that already has torch (a CUDA
# build on a GPU machine) uses it as is. Where there is none, the CPU build named by
# $PTBENCH_TORCH (default 2.13.0) is installed: an unpinned `pip install torch` pulls a
# multi-GB CUDA build, which CI must never do.
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv --system-site-packages .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
if ! python -c "import torch" 2>/dev/null; then
    echo "setup: no torch found; installing the CPU build torch==${PTBENCH_TORCH:-2.13.0}"
    python -m pip install --quiet "torch==${PTBENCH_TORCH:-2.13.0}"
fi
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
