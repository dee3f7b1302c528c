#!/usr/bin/env bash
# Side by side, in one run on the same machine and thread count: `tagtune bench towers`,
# PyTorch (transformers, or open_clip for an open_clip folder) and ONNX Runtime's CPU provider on the
# same random-weight checkpoints.
#
#   scripts/bench/compare_towers.sh [THREADS] [SECONDS]
#
# Needs a release build (`make release`), the checkpoints of make_random_checkpoints.py in
# .bench/models/ (rn50, the open_clip ResNet-50, is included when that folder exists), and the
# development Python (scripts/requirements-dev.txt) as $PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}; seconds=${2:-5}
python=${PYTHON:-/work/pyenv-dev/bin/python}
models=(vit-b-32 vit-b-16)
if [ -d .bench/models/rn50 ]; then models+=(rn50); fi
# The environment may pin OpenBLAS to an older core type for numpy; the peers run as configured here.
for m in "${models[@]}"; do
  echo "== $m"
  .build/release/tagtune bench towers --model ".bench/models/$m" --threads "$threads" --seconds "$seconds"
  "$python" scripts/bench/pytorch_bench.py ".bench/models/$m" --threads "$threads" --seconds "$seconds" --onnx 2>/dev/null \
    | grep '^{'
done
