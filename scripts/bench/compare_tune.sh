#!/usr/bin/env bash
# Prompt-tuning steps side by side, in one run on the same machine and thread count:
# `tagtune bench tune` (cached features, prompts cut at EOT, input gradients only) against the
# reference LMPT step in PyTorch (image encoder every step, 77 positions) and PyTorch doing
# TagTune's algorithm (cut at EOT, cached features).
#
#   scripts/bench/compare_tune.sh [THREADS] [MODEL_DIR]     # default 2, .bench/models/vit-b-16
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}; model=${2:-.bench/models/vit-b-16}
python=${PYTHON:-/work/pyenv-dev/bin/python}
.build/release/tagtune bench tune --model "$model" --threads "$threads" --classes 20,80
"$python" scripts/bench/lmpt_reference_step.py "$model" --threads "$threads" --classes 20,80 2>/dev/null | grep '^{'
