#!/usr/bin/env bash
# The demo CLIP's pre-training as one GPU run (how demo/model was made; see scripts/demo/README.md):
#   1. Shapes-LT (val selects weights, test reports) and the corpus pool, on all CPU cores at once;
#   2. model variants trained side by side on the one GPU for the same time budget, each
#      keeping its weights with the best validation zero-shot mAP;
#   3. each variant's folder packed as model-NAME.tar.gz, the logs as logs.tar.gz, into $1.
# The lead compares the variants on validation only and commits the best as demo/model.
#   scripts/demo/pretrain_gpu.sh OUT_DIR
# Environment: POOL_MINUTES, TRAIN_MINUTES, PYTHON, WORK_DIR; SHAPES_ARGS and EXTRA_ARGS (appended to
# make_shapes_lt.py and to every trainer, e.g. for a quick CPU check of this script).
set -euo pipefail
out=${1:?usage: pretrain_gpu.sh OUT_DIR}
py=${PYTHON:-python3}
pool_minutes=${POOL_MINUTES:-2}
train_minutes=${TRAIN_MINUTES:-4.5}
work=${WORK_DIR:-/tmp/demo-pretrain}
export PYTHONUNBUFFERED=1
mkdir -p "$out" "$work/logs"
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)

nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
"$py" "$here/make_shapes_lt.py" --out "$work/shapes-lt" ${SHAPES_ARGS:-} > "$work/logs/shapes_lt.log" 2>&1 &
lt=$!
"$py" "$here/pretrain_clip.py" --pool-only --pool-cache "$work/pool" --pool-steps 6000 \
    --pool-minutes "$pool_minutes" --workers "$(( $(nproc) - 1 ))" 2>&1 | tee "$work/logs/pool.log"
wait $lt
echo "data ready after $(( $(date +%s) - start )) s"

common=(--pool-cache "$work/pool" --shapes-lt "$work/shapes-lt" --steps 0 --max-minutes "$train_minutes"
        --seed 0 --threads 2 --log-every 100 --eval-every 500 --warmup-steps 300)
# name | vision width, layers, patch | text width, layers | lr | batch | grey share
# (A first run trained four side by side for 2.5 min each: "A 160 5 10 128 4 1e-3 512 0.3",
# "B 192 6 8 128 4 7e-4 512 0.3", "C 192 6 8 128 4 3e-4 512 0.5" and D below; D led on validation.
# Fewer processes share the GPU better, so the second run trains two.)
variants=(
  "D 224 6 8 160 4 5e-4 1024 0.3"
  "E 256 6 8 192 4 5e-4 1024 0.3"
)
for v in "${variants[@]}"; do
  read -r name vw vl p tw tl lr bs g <<< "$v"
  "$py" "$here/pretrain_clip.py" "${common[@]}" --out "$work/model-$name" \
      --vision-width "$vw" --vision-layers "$vl" --patch "$p" --text-width "$tw" --text-layers "$tl" \
      --lr "$lr" --batch-size "$bs" --grey-share "$g" ${EXTRA_ARGS:-} > "$work/logs/train-$name.log" 2>&1 &
done
wait || true
for v in "${variants[@]}"; do
  name=${v%% *}
  echo "== $name: $(grep -E 'kept the weights|zero-shot test \(fp16' "$work/logs/train-$name.log" | tr '\n' ' ')"
  [ -f "$work/model-$name/model.safetensors" ] && tar -C "$work" -czf "$out/model-$name.tar.gz" "model-$name"
done
cp "$work"/shapes-lt/stats.json "$work/logs/shapes_lt_stats.json" 2>/dev/null || true
tar -C "$work" -czf "$out/logs.tar.gz" logs
echo "total $(( $(date +%s) - start )) s"
