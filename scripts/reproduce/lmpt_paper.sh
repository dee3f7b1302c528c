#!/usr/bin/env bash
# The LMPT paper's protocol on VOC-LT or COCO-LT with your own copy of the images, in one command:
#
#   scripts/reproduce/lmpt_paper.sh MODEL_DIR IMAGE_ROOT voc|coco [OUT_DIR]
#
# MODEL_DIR: a CLIP checkpoint (the paper uses ViT-B/16: openai/clip-vit-base-patch16).
# IMAGE_ROOT: the folder the list files' paths are relative to (holding VOCdevkit/ or COCO's train2017/ val2017/).
# Imports the official long-tailed train split and the test split, evaluates zero-shot CLIP, tunes
# CoOp and LMPT with the paper's settings (csc, M = 16, SGD lr 5e-4 batch 64, 50 epochs, λ = 0.5;
# DBL μ/λ_neg 0.3/5 for VOC, 0.2/2 for COCO) and evaluates each on the test split. Prints the table
# (total / head / medium / tail mAP) and leaves JSON reports in OUT_DIR.
set -euo pipefail
model=${1:?model dir}; images=${2:?image root}; bench=${3:?voc or coco}; out=${4:-runs/$bench}
here=$(cd "$(dirname "$0")/../.." && pwd)
tagtune=${TAGTUNE:-$here/.build/release/tagtune}
annotations=${ANNOTATIONS:-$here/../shared/data/lmpt-annotations}
mkdir -p "$out"
case $bench in
  voc) mu=0.3; neg=5 ;;
  coco) mu=0.2; neg=2 ;;
  *) echo "benchmark must be voc or coco" >&2; exit 2 ;;
esac
# The images are copied into each dataset folder (datasets never read outside their own folder).
"$tagtune" import-lmpt --benchmark "$bench" --split train --annotations "$annotations" --images "$images" --out "$out/train"
"$tagtune" import-lmpt --benchmark "$bench" --split test --annotations "$annotations" --images "$images" --out "$out/test"
"$tagtune" eval --model "$model" --zero-shot --dataset "$out/test" --train-dataset "$out/train" --json > "$out/zero-shot.json"
"$tagtune" tune --model "$model" --dataset "$out/train" --out "$out/coop" --method coop --epochs 50 --replace --json > "$out/coop-train.json"
"$tagtune" eval --model "$model" --prompts "$out/coop" --dataset "$out/test" --json > "$out/coop.json"
"$tagtune" tune --model "$model" --dataset "$out/train" --out "$out/lmpt" --method lmpt --epochs 50 \
  --n-ctx 16 --lr 5e-4 --batch-size 64 --lambda 0.5 --dbl-mu "$mu" --dbl-lambda-neg "$neg" --replace --json > "$out/lmpt-train.json"
"$tagtune" eval --model "$model" --prompts "$out/lmpt" --dataset "$out/test" --json > "$out/lmpt.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print(f"{'method':<12}{'total':>8}{'head':>8}{'medium':>8}{'tail':>8}")
for name in ("zero-shot", "coop", "lmpt"):
    r = json.load(open(f"{out}/{name}.json"))
    cell = lambda v: f"{v:8.2f}" if v is not None else f"{'-':>8}"
    print(f"{name:<12}{cell(r['map'])}{cell(r['head_map'])}{cell(r['medium_map'])}{cell(r['tail_map'])}")
PY
