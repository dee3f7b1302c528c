#!/usr/bin/env bash
# The LMPT paper's Table 1 on Shapes-LT, with the Swift engine and the demo model (`make paper-table`):
#
#   scripts/reproduce/shapes_lt_table.sh [OUT_DIR]
#
# Every row is `tagtune tune` on the training split with its method's settings; each run chooses
# its epoch (and, for auto, its setting) by stratified 3-fold on the training images. Nothing looks
# at the test split until the prompt set is written; the val split is not used (177 images, 3
# positives per tail class: it cannot rank settings, see TUNING-AUDIT.md). Then each prompt set is
# scored on test, over seeds 0, 1, 2, with both metrics: mAP on the raw per-class scores (TagTune's)
# and mAP on softmax over classes (the official LMPT code's).
#
# Rows: zero-shot CLIP; CoOp with BCE and with DBL; LMPT with the paper's settings (class-specific
# contexts, DBL, λ 0.5, the official code's embedding-loss scale); LMPT with an embedding loss that
# counts (the class-sum reduction, everything else the paper's); and `auto`, the default.
# DATA=… points at another Shapes-LT sample (e.g. one made with another generator seed).
set -euo pipefail
out=${1:-runs/shapes-lt}
here=$(cd "$(dirname "$0")/../.." && pwd)
tagtune=${TAGTUNE:-$here/.build/release/tagtune}
model=${MODEL:-$here/demo/model}
data=${DATA:-$here/demo/shapes-lt}
cache=${CACHE:-$out/features}
seeds=${SEEDS:-"0 1 2"}
rows=${ROWS:-"coop_bce coop_dbl lmpt lmpt_cse auto"}
mkdir -p "$out"
[ -f "$data/test/manifest.jsonl" ] || python3 "$here/scripts/demo/make_shapes_lt.py" --out "$data"

declare -A row_args=(
  [coop_bce]="--method coop --loss bce"
  [coop_dbl]="--method coop --loss dbl"
  [lmpt]="--method lmpt"
  [lmpt_cse]="--method lmpt --cse-reduction class_sum"
  [auto]=""
)

"$tagtune" eval --model "$model" --zero-shot --dataset "$data/test" --train-dataset "$data/train" \
  --cache "$cache" --json > "$out/zero_shot.json"
for r in $rows; do
  for seed in $seeds; do
    name=$r/seed$seed
    mkdir -p "$out/$name"
    [ -f "$out/$name/test.json" ] && continue   # finished earlier (delete it to redo)
    # shellcheck disable=SC2086
    "$tagtune" tune --model "$model" --dataset "$data/train" --out "$out/$name/prompts" ${row_args[$r]} \
      --seed "$seed" --cache "$cache" --replace --json > "$out/$name/train.json.tmp" 2> "$out/$name/train.log"
    mv "$out/$name/train.json.tmp" "$out/$name/train.json"
    "$tagtune" eval --model "$model" --prompts "$out/$name/prompts" --dataset "$data/test" --cache "$cache" --json \
      > "$out/$name/test.json.tmp"
    mv "$out/$name/test.json.tmp" "$out/$name/test.json"
  done
done

python3 - "$out" $rows <<'PY' | tee "$out/table.md"
import glob, json, os, statistics as st, sys
out, rows = sys.argv[1], sys.argv[2:]
names = {"zero_shot": "Zero-shot CLIP", "coop_bce": "CoOp (BCE)", "coop_dbl": "CoOp (DBL)",
         "lmpt": "LMPT, the paper's settings", "lmpt_cse": "LMPT, embedding loss that counts", "auto": "auto (the default)"}
keys = [("map", "total"), ("head_map", "head"), ("medium_map", "medium"), ("tail_map", "tail")]

def cells(reports, part=None):
    values = []
    for k, _ in keys:
        xs = [(r[part] if part else r)[k] for r in reports]
        values.append(f"{st.mean(xs):.1f} ± {st.stdev(xs):.1f}" if len(xs) > 1 else f"{xs[0]:.1f}")
    return values

zs = json.load(open(f"{out}/zero_shot.json"))
print("| method | " + " | ".join(k[1] for k in keys) + " | softmax: " + " | ".join(k[1] for k in keys) + " | seconds |")
print("|---|" + "---:|" * (2 * len(keys) + 1))
print(f"| {names['zero_shot']} | " + " | ".join(cells([zs])) + " | " + " | ".join(cells([zs], "softmax")) + " | – |")
for r in rows:
    tests = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/{r}/seed*/test.json"))]
    trains = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/{r}/seed*/train.json"))]
    if not tests:
        continue
    seconds = st.mean(t["seconds"] for t in trains)
    print(f"| {names[r]} | " + " | ".join(cells(tests)) + " | " + " | ".join(cells(tests, "softmax")) + f" | {seconds:.0f} |")
print()
print(f"Shapes-LT test, {len(tests)} seeds (mean ± sample std), percent. Each run chose its epoch"
      " (and auto its setting) by stratified 3-fold on the training split; test was read only to score.")
for r in rows:
    for f in sorted(glob.glob(f"{out}/{r}/seed*/train.json")):
        train = json.load(open(f))
        sel = train.get("selection") or {}
        try:
            scoring = json.load(open(os.path.join(train["prompt_set"], "prompt_set.json")))["scoring"]
        except (KeyError, OSError):
            scoring = {}
        chosen = (sel.get("candidates") or [{}])[sel.get("chosen", 0)] if sel else {}
        h = chosen.get("hyperparameters", {})
        print(f"- {names[r]}, {f.split('/')[-2]}: {chosen.get('change', '?')} — context {h.get('context')}, loss {h.get('loss')}, "
              f"lr {h.get('learning_rate')}, β {h.get('cse_weight')} ({h.get('cse_reduction')}), κ {h.get('prior_weight')}, "
              f"{sel.get('epochs')} epochs; {len(sel.get('candidates', []))} setting(s) tried; served with zero-shot weight "
              f"{scoring.get('zero_shot_weight', 0)}, normalisation {scoring.get('normalization', 'none')}")
PY
