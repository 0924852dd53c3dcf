#!/usr/bin/env bash
# Create a separate virtualenv holding the reference implementation (Sacred 0.8.7)
# so the benchmarks in bench/ can run the same workload with it and print the ratio.
#
# Usage: bash bench/setup_sacred_venv.sh [VENV_DIR]   (default /tmp/sacred-venv)
# The bench scripts find it through --sacred-python, $SACRED_PYTHON, or this default path.
set -euo pipefail

venv="${1:-/tmp/sacred-venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# numpy: Sacred probes it for seeding; psutil is not needed (peak RSS comes from resource).
"$venv/bin/python" -m pip install --quiet "sacred==0.8.7" numpy pymongo
# Sacred's other observers, for the parity tests of tests/observers_extra/
"$venv/bin/python" -m pip install --quiet tinydb tinydb-serialization hashfs SQLAlchemy boto3 requests
"$venv/bin/python" -c "import sacred; print('sacred', sacred.__version__, 'ready in $venv')"
