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
# Chromium: the tests open ptbench publish's site in a real browser. Debian's package, installed
# as root where it is missing; without root (or apt) those tests skip and say why.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
        || echo "setup: could not install chromium; the browser tests will skip"
fi
# Slurm: a test submits a real job to a single-node Slurm it starts on localhost
# (scripts/local_slurm.py). Debian's packages, as root where missing; without, it skips.
if ! command -v slurmctld >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
    && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's slurmctld, slurmd and munge for the Slurm test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 \
             && apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null 2>&1; } \
        || echo "setup: could not install Slurm; the Slurm test will skip"
fi
